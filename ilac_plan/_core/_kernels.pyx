# cython: language_level=3
"""Vectorized, GIL-free kernels for capacity and positioning bounds.

Arguments are marked IN or OUT; every array is C-contiguous and of the same length.
Outputs are allocated by the caller (``ilac_plan.kernel``), which also validates.
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t

from ._model cimport best_pilot_efficiency, crb_position_m2


def best_pilot_efficiency_kernel(
    const double[::1] n_comm_symbols,    # IN  tau_C, whole numbers >= 0
    const double[::1] n_antennas,        # IN  N_T >= 1
    const double[::1] snr_dl,            # IN  rho_dl beta >= 0
    const double[::1] snr_ul,            # IN  rho_ul beta >= 0
    double[::1] efficiency,              # OUT max_k (tau_C - k) ln(1 + x(k)) [nat/Hz]
    int64_t[::1] n_pilot_symbols,        # OUT argmax k
    int n_threads,
):
    """Eq. (1) at the best integer pilot length, per element (see ``_model.pxd``)."""
    cdef Py_ssize_t i, n = n_comm_symbols.shape[0]
    cdef long tau_p = 0
    with nogil:
        for i in prange(n, num_threads=n_threads, schedule="static"):
            efficiency[i] = best_pilot_efficiency(<long>n_comm_symbols[i], n_antennas[i],
                                                  snr_dl[i], snr_ul[i], &tau_p)
            n_pilot_symbols[i] = tau_p


def crb_position_kernel(
    const double[::1] distance_m,        # IN  r >= 0 [m]
    const double[::1] cos_theta,         # IN  cos of the angle off broadside (0 at end-fire)
    const double[::1] loc_bandwidth_hz,  # IN  B_L >= 0 [Hz]
    const double[::1] n_loc_symbols,     # IN  tau_L >= 0
    const double[::1] n_antennas,        # IN  N_T >= 1
    const double[::1] snr,               # IN  gamma > 0
    const double[::1] wavelength_m,      # IN  lambda > 0 [m]
    const double[::1] spacing_m,         # IN  d_A > 0 [m]
    const double[::1] varsigma,          # IN  >= 0
    double[::1] crb_m2,                  # OUT CRB_L [m^2]
    int n_threads,
):
    """Position CRB of Eqs. (4)-(7), per element."""
    cdef Py_ssize_t i, n = distance_m.shape[0]
    with nogil:
        for i in prange(n, num_threads=n_threads, schedule="static"):
            crb_m2[i] = crb_position_m2(distance_m[i], cos_theta[i], loc_bandwidth_hz[i],
                                        n_loc_symbols[i], n_antennas[i], snr[i],
                                        wavelength_m[i], spacing_m[i], varsigma[i])
