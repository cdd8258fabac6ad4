# cython: language_level=3
"""The paper's per-link formulas as inline C functions, shared by the kernel modules.

Each function is the scalar twin of a numpy function in ``ilac_plan.model``; the tests
check every kernel against those.
"""

from libc.math cimport INFINITY, M_PI, log1p, sqrt

cdef inline double frame_efficiency(double tau_c, double tau_p, double gain_dl, double gain_ul,
                                    double dl_fraction, double snr_pilot) noexcept nogil:
    """(tau_C - tau_P) [f ln(1 + x_dl) + (1 - f) ln(1 + x_ul)] of Eq. (1). [nat/Hz]

    x = gain q / (1 + q) with q = tau_P snr_pilot (rho nu / (rho beta) = q / (1 + q)) and
    gain = N_T s / (1 + s) for the data SNR s of each direction; f = 1 is Eq. (1), f = 0
    its uplink counterpart (Marzetta, Larsson, Yang 2016). Called with f = 1 only: frames
    with both directions (TDD, the pilots in the uplink part) are ilac_kernel.h's
    ilac_frame.
    """
    cdef double q = tau_p * snr_pilot, r = q / (1.0 + q), rate = 0.0
    if dl_fraction > 0.0:
        rate = dl_fraction * log1p(gain_dl * r)
    if dl_fraction < 1.0:
        rate = rate + (1.0 - dl_fraction) * log1p(gain_ul * r)
    return (tau_c - tau_p) * rate


cdef inline double best_pilot_efficiency_mixed(long tau_c, double n_antennas, double snr_dl,
                                               double snr_ul, double snr_pilot,
                                               double dl_fraction, long* tau_p) noexcept nogil:
    """Max of frame_efficiency over integer 1 <= tau_P < tau_C; the argmax goes to tau_p.

    (tau_C - k) and the rate are positive and concave in k, so their product is
    log-concave and the sequence is unimodal. The search starts at the real optimum of
    the bound, Eq. (17), and walks uphill to the smallest maximiser: a few evaluations.
    """
    cdef double gain_dl = n_antennas * snr_dl / (1.0 + snr_dl)
    cdef double gain_ul = n_antennas * snr_ul / (1.0 + snr_ul)
    cdef double s = snr_dl if dl_fraction >= 0.5 else snr_ul     # the dominant direction
    cdef double lam = log1p(n_antennas * s / (1.0 + s))          # Lambda
    cdef double b_sq = n_antennas * (s / snr_pilot) / (1.0 + (n_antennas + 1.0) * s)
    cdef double guess = sqrt(tau_c * b_sq / lam)                 # Eq. (17)
    cdef long k
    if tau_c <= 1:
        tau_p[0] = tau_c
        return 0.0
    if guess >= 1.0 and guess <= tau_c - 1.0:                    # false for nan too
        k = <long>(guess + 0.5)
    elif guess > tau_c - 1.0:
        k = tau_c - 1
    else:
        k = 1
    if k < tau_c - 1 and frame_efficiency(tau_c, k + 1, gain_dl, gain_ul, dl_fraction, snr_pilot) \
            > frame_efficiency(tau_c, k, gain_dl, gain_ul, dl_fraction, snr_pilot):
        k += 1
        while k < tau_c - 1 and frame_efficiency(tau_c, k + 1, gain_dl, gain_ul, dl_fraction, snr_pilot) \
                > frame_efficiency(tau_c, k, gain_dl, gain_ul, dl_fraction, snr_pilot):
            k += 1
    else:
        while k > 1 and frame_efficiency(tau_c, k - 1, gain_dl, gain_ul, dl_fraction, snr_pilot) \
                >= frame_efficiency(tau_c, k, gain_dl, gain_ul, dl_fraction, snr_pilot):
            k -= 1
    tau_p[0] = k
    return frame_efficiency(tau_c, k, gain_dl, gain_ul, dl_fraction, snr_pilot)


cdef inline double best_pilot_efficiency(long tau_c, double n_antennas, double snr_dl,
                                         double snr_ul, long* tau_p) noexcept nogil:
    """Eq. (1) (downlink data, uplink pilots) at the best integer pilot length. [nat/Hz]"""
    return best_pilot_efficiency_mixed(tau_c, n_antennas, snr_dl, snr_ul, snr_ul, 1.0, tau_p)


cdef inline double crb_position_m2(double distance_m, double cos_theta, double loc_bandwidth_hz,
                                   double n_loc_symbols, double n_antennas, double snr,
                                   double wavelength_m, double spacing_m,
                                   double varsigma) noexcept nogil:
    """CRB_L of Eqs. (4)-(7). [m^2]

    Infinite bounds where a denominator vanishes (N_T = 1, end-fire, tau_L = 0,
    B_L = 0); the AoA term is 0 at distance 0.
    """
    cdef double n = n_antennas
    cdef double toa_den = 8.0 * M_PI * M_PI * loc_bandwidth_hz * loc_bandwidth_hz \
        * (1.0 + varsigma) * snr * n * n_loc_symbols
    cdef double aoa_den = 4.0 * M_PI * M_PI * spacing_m * spacing_m * snr * cos_theta * cos_theta \
        * n * (n - 1.0) * (2.0 * n - 1.0) * n_loc_symbols
    cdef double toa, aoa
    cdef double c = 299792458.0  # speed of light [m/s]
    toa = c * c * 3.0 / toa_den if toa_den > 0.0 else INFINITY
    if distance_m == 0.0:
        aoa = 0.0
    elif aoa_den > 0.0:
        aoa = distance_m * distance_m * 3.0 * wavelength_m * wavelength_m / aoa_den
    else:
        aoa = INFINITY
    return aoa + toa

