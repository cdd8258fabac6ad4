import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int32]

SCHEME_TIME: int
SCHEME_FREQUENCY: int
OBJECTIVE_TARGET: int
OBJECTIVE_BUDGET: int

def tile_order_kernel(
    px: _F, py: _F, x0: float, y0: float, side: float, nx: int, ny: int, order: _I
) -> None: ...
def coverage_kernel(
    px: _F, py: _F, order: _I,
    cell_x: _F, cell_y: _F, cell_ux: _F, cell_uy: _F, cell_eirp_dbm: _F, cell_dh2: _F,
    cell_n_antennas: _F, cell_spacing_m: _F, cell_ul_offset_db: _F,
    pl_a0: _F, pl_a1: _F, pl_lo2: _F, pl_hi2: _F, pl_floor2: float, pl_simple: bool,
    pattern: bool, k_pattern: float, a_max: float,
    bandwidth_hz: float, rb_hz: float, n_rb: int, n_symbols: int, varsigma: float,
    wavelength_m: float, noise_dbm: float,
    schemes: _I, objective: int, objective_value: float,
    interference: bool, prune: bool, prune_margin_db: float, block_size: int,
    n_threads: int,
    serving: _I, distance_m: _F, theta_deg: _F, snr_db: _F,
    capacity_bps: _F, error_m: _F, loc_share: _F, best: npt.NDArray[np.int8],
) -> None: ...
