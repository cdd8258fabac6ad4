"""Cramer-Rao bounds of joint ToA + AoA positioning from one gNB, Eqs. (3)-(7).

The UE is at distance :math:`r = c t` and angle :math:`\\theta` off the broadside of the
gNB's uniform linear array (docs/model.md, "Positioning bound": :math:`CRB_\\theta` blows up at
:math:`\\theta = 90°`, so :math:`\\theta` is measured from broadside, not from the array
axis). The position is :math:`(x_0 + r\\cos\\theta, y_0 + r\\sin\\theta)` (Eq. 2).

Degenerate inputs give defined values, never NaN:

* :math:`N_T = 1` or :math:`|\\theta| = 90°` (to within 1e-12 rad): :math:`CRB_\\theta = \\infty`;
* :math:`\\tau_L = 0` or :math:`B_L = 0`: the corresponding bound is :math:`\\infty`;
* :math:`r = 0`: the AoA term :math:`r^2 CRB_\\theta` is 0 even when :math:`CRB_\\theta = \\infty`
  (a UE on the array is located by its range alone).
"""

import numpy as np

from .._validate import check_array
from ._docs import fill_doc
from .linkbudget import SPEED_OF_LIGHT_M_S

BROADSIDE_TOL_RAD = 1e-12
"""Angles within this of +-90 deg are treated as end-fire, where the AoA CRB is infinite."""


def _cos_broadside(theta_rad):
    theta = check_array("theta_rad", theta_rad, low=-np.pi / 2, high=np.pi / 2, unit="rad")
    cos = np.cos(theta)
    return np.where(np.pi / 2 - np.abs(theta) <= BROADSIDE_TOL_RAD, 0.0, cos)


def _safe_div(num, den):
    """num / den with x/0 = inf for x > 0 (no warnings)."""
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    out = np.full(num.shape, np.inf)
    np.divide(num, den, out=out, where=den > 0)
    return out


@fill_doc
def crb_aoa(theta_rad, *, n_antennas, snr, n_loc_symbols, wavelength_m, spacing_m=None):
    """CRB of the angle of arrival, Eq. (5).

    .. math::

        CRB_\\theta = \\frac{3\\lambda^2}{4\\pi^2 d_A^2\\gamma\\cos^2\\theta\\,
        N_T(N_T-1)(2N_T-1)\\tau_L}

    :math:`d_A` is the antenna spacing in metres (the paper's :math:`d_\\lambda`,
    docs/model.md, "Positioning bound").

    Parameters
    ----------
    theta_rad : array_like
        Angle off the array broadside, in [-pi/2, pi/2]. [rad]
    {n_antennas}
    snr : array_like
        Localization SNR :math:`\\gamma`, > 0. [linear]
    n_loc_symbols : array_like
        Localization symbols :math:`\\tau_L`, >= 0 (0 gives inf). [symbols]
    wavelength_m : array_like
        Carrier wavelength :math:`\\lambda`, > 0. [m]
    spacing_m : array_like, optional
        Antenna spacing :math:`d_A`, > 0; default :math:`\\lambda/2`. [m]

    Returns
    -------
    ndarray
        :math:`CRB_\\theta`; inf for :math:`N_T = 1`, end-fire or :math:`\\tau_L = 0`. [rad^2]
    """
    cos = _cos_broadside(theta_rad)
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    gamma = check_array("snr", snr, low=0.0, low_open=True)
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    lam = check_array("wavelength_m", wavelength_m, low=0.0, low_open=True, unit="m")
    d_a = lam / 2.0 if spacing_m is None else check_array(
        "spacing_m", spacing_m, low=0.0, low_open=True, unit="m")
    den = 4.0 * np.pi**2 * d_a**2 * gamma * cos**2 * n * (n - 1.0) * (2.0 * n - 1.0) * tau_l
    return _safe_div(3.0 * lam**2, den)


def crb_toa(loc_bandwidth_hz, *, n_antennas, snr, n_loc_symbols, varsigma=1.0):
    """CRB of the time of arrival, Eq. (6).

    .. math:: CRB_t = \\frac{3}{8\\pi^2 B_L^2 (1+\\varsigma)\\gamma N_T\\tau_L}

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Localization bandwidth :math:`B_L`, >= 0 (0 gives inf). [Hz]
    n_antennas : array_like
        Antennas :math:`N_T`, an integer >= 1.
    snr : array_like
        Localization SNR :math:`\\gamma`, > 0. [linear]
    n_loc_symbols : array_like
        Localization symbols :math:`\\tau_L`, >= 0 (0 gives inf). [symbols]
    varsigma : array_like, default 1
        Waveform coefficient :math:`\\varsigma`, >= 0 (the paper's Sec. IV uses 1).

    Returns
    -------
    ndarray
        :math:`CRB_t`. [s^2]
    """
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    gamma = check_array("snr", snr, low=0.0, low_open=True)
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    vs = check_array("varsigma", varsigma, low=0.0)
    return _safe_div(3.0, 8.0 * np.pi**2 * b_l**2 * (1.0 + vs) * gamma * n * tau_l)


def _times(weight, term):
    """weight * term, with 0 * inf taken as 0 (a zero weight removes an infinite term)."""
    weight, term = np.broadcast_arrays(np.asarray(weight, np.float64), term)
    return np.where(weight > 0.0, weight * np.where(weight > 0.0, term, 0.0), 0.0)


def crb_xy(distance_m, theta_rad, crb_theta, crb_t):
    """Per-axis position CRBs from the chain rule, Eqs. (3a) and (3b).

    .. math::

        CRB_x = c^2t^2\\sin^2\\theta\\,CRB_\\theta + c^2\\cos^2\\theta\\,CRB_t,\\qquad
        CRB_y = c^2t^2\\cos^2\\theta\\,CRB_\\theta + c^2\\sin^2\\theta\\,CRB_t

    Parameters
    ----------
    distance_m : array_like
        UE-gNB distance :math:`r = ct`, >= 0. [m]
    theta_rad : array_like
        Angle off broadside, in [-pi/2, pi/2]. [rad]
    crb_theta : array_like
        AoA bound from :func:`crb_aoa`. [rad^2]
    crb_t : array_like
        ToA bound from :func:`crb_toa`. [s^2]

    Returns
    -------
    crb_x, crb_y : ndarray
        Bounds on the x and y coordinates. [m^2]
    """
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    theta = check_array("theta_rad", theta_rad, low=-np.pi / 2, high=np.pi / 2, unit="rad")
    aoa = _times(r**2, crb_theta)
    toa = SPEED_OF_LIGHT_M_S**2 * np.asarray(crb_t, np.float64)
    sin2, cos2 = np.sin(theta) ** 2, _cos_broadside(theta) ** 2
    return _times(sin2, aoa) + _times(cos2, toa), _times(cos2, aoa) + _times(sin2, toa)


@fill_doc
def crb_position(distance_m, theta_rad, loc_bandwidth_hz, n_loc_symbols, *, n_antennas, snr,
                 wavelength_m, spacing_m=None, varsigma=1.0):
    """Position CRB of joint ToA + AoA estimation, Eqs. (4) and (7).

    .. math::

        CRB_L(B_L, \\tau_L) = CRB_x + CRB_y = c^2t^2\\,CRB_\\theta(\\tau_L) + c^2\\,CRB_t(B_L, \\tau_L)

    Parameters
    ----------
    distance_m : array_like
        UE-gNB distance :math:`r = c t`, >= 0. [m]
    theta_rad : array_like
        Angle of the UE off the array broadside, in [-pi/2, pi/2]. [rad]
    loc_bandwidth_hz : array_like
        Localization bandwidth :math:`B_L`, >= 0. [Hz]
    n_loc_symbols : array_like
        Localization symbols :math:`\\tau_L`, >= 0. [symbols]
    {n_antennas}
    snr : array_like
        Localization SNR :math:`\\gamma`, > 0 (the paper takes :math:`\\rho_{dl}\\beta`). [linear]
    wavelength_m : array_like
        Carrier wavelength :math:`\\lambda`, > 0. [m]
    spacing_m : array_like, optional
        Antenna spacing :math:`d_A`, > 0; default :math:`\\lambda/2`. [m]
    varsigma : array_like, default 1
        Waveform coefficient :math:`\\varsigma` of Eq. (6), >= 0.

    Returns
    -------
    ndarray
        :math:`CRB_L`, the bound on the mean squared position error; its square root is
        the position RMSE bound [m]. [m^2]

    Examples
    --------
    >>> import numpy as np
    >>> crb = crb_position(816.8, 0.0, 20e6, 200, n_antennas=8, snr=10**1.5,
    ...                    wavelength_m=299792458 / 2.6e9)
    >>> round(float(10 * np.log10(crb)), 2)   # dB re 1 m^2, all resources
    -14.17
    """
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    aoa = crb_aoa(theta_rad, n_antennas=n_antennas, snr=snr, n_loc_symbols=n_loc_symbols,
                  wavelength_m=wavelength_m, spacing_m=spacing_m)
    toa = crb_toa(loc_bandwidth_hz, n_antennas=n_antennas, snr=snr,
                  n_loc_symbols=n_loc_symbols, varsigma=varsigma)
    return _times(r**2, aoa) + SPEED_OF_LIGHT_M_S**2 * toa
