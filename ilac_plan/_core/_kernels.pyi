import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.float64]

def best_pilot_efficiency_kernel(
    n_comm_symbols: _F,
    n_antennas: _F,
    snr_dl: _F,
    snr_ul: _F,
    efficiency: _F,
    n_pilot_symbols: npt.NDArray[np.int64],
    n_threads: int,
) -> None: ...
def crb_position_kernel(
    distance_m: _F,
    cos_theta: _F,
    loc_bandwidth_hz: _F,
    n_loc_symbols: _F,
    n_antennas: _F,
    snr: _F,
    wavelength_m: _F,
    spacing_m: _F,
    varsigma: _F,
    crb_m2: _F,
    n_threads: int,
) -> None: ...
def pilot_efficiency_table_kernel(
    n_comm_symbols: npt.NDArray[np.int64],
    n_antennas: _F,
    snr_dl: _F,
    snr_ul: _F,
    efficiency: _F,
    n_threads: int,
) -> None: ...
