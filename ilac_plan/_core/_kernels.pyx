# cython: language_level=3
"""Vectorized, GIL-free kernels for capacity and positioning bounds.

Arguments are marked IN or OUT; every array is C-contiguous and of the same length.
Outputs are allocated by the caller (``ilac_plan.kernel``), which also validates.
"""

from cython.parallel cimport prange
from libc.math cimport log1p
from libc.stdint cimport int64_t

from ._model cimport best_pilot_efficiency, crb_position_m2, frame_efficiency


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


def pilot_efficiency_table_kernel(
    const int64_t[::1] n_comm_symbols,   # IN  tau_C values, ascending, >= 0
    const double[::1] n_antennas,        # IN  N_T >= 1, per point
    const double[::1] snr_dl,            # IN  rho_dl beta >= 0, per point
    const double[::1] snr_ul,            # IN  rho_ul beta >= 0, per point
    double[:, ::1] efficiency,           # OUT (points, tau_C values) [nat/Hz]
    int n_threads,
):
    """Eq. (1) at the best integer pilot length for every tau_C of an ascending list, per
    point. The smallest maximiser does not decrease with tau_C (F_tau'(k) = F_tau(k) +
    (tau' - tau) ln(1 + x(k)) adds an increasing term), so one upward walk per point
    serves the whole list: about k_max + len(list) evaluations instead of a search each."""
    cdef Py_ssize_t i, t, n = n_antennas.shape[0], m = n_comm_symbols.shape[0]
    cdef double gain, sp, here, nxt, tc, l_k, l_next
    cdef long k
    with nogil:
        for i in prange(n, num_threads=n_threads, schedule="static"):
            gain = n_antennas[i] * snr_dl[i] / (1.0 + snr_dl[i])
            sp = snr_ul[i]
            k = 1
            l_k = _rate(1.0, gain, sp)          # ln(1 + x(k)), cached as k walks up
            l_next = _rate(2.0, gain, sp)
            for t in range(m):
                tc = <double>n_comm_symbols[t]
                if tc <= 1.0:
                    efficiency[i, t] = 0.0
                    continue
                here = (tc - k) * l_k
                while k < tc - 1:
                    nxt = (tc - (k + 1)) * l_next
                    if not nxt > here:
                        break
                    k = k + 1
                    here = nxt
                    l_k = l_next
                    l_next = _rate(<double>(k + 1), gain, sp)
                efficiency[i, t] = here


cdef inline double _rate(double k, double gain, double snr_pilot) noexcept nogil:
    """ln(1 + gain q / (1 + q)), q = k snr_pilot: the rate factor of frame_efficiency."""
    cdef double q = k * snr_pilot
    return 1.0 * log1p(gain * (q / (1.0 + q)))
