"""Cramer-Rao bounds of joint ToA + AoA positioning from one gNB, Eqs. (3)-(7).

Two bounds are available wherever a CRB is computed (``bound=``; docs/model.md,
"Two bounds"):

``"paper"`` (the default)
    Eqs. (5)-(7) as printed, which reproduce the paper's figures: the AoA bound of a
    known carrier phase referenced at element 0, the delay bound of a mean-square
    bandwidth :math:`(1+\\varsigma)B_L^2/3`, the 3-D distance in Eq. (7) and, for a
    downlink PRS, the receive-array bound at the per-antenna SNR.
``"achievable"``
    The bound the maximum-likelihood estimator reaches above threshold: an unknown
    carrier phase (AoA bound :math:`2(2N_T-1)/(N_T+1)` times Eq. 5); delay information
    from the PRS's actual spectrum (the centred mean-square bandwidth of its
    subcarriers, :math:`\\Delta f^2(K^2-1)/12` for K contiguous ones); the horizontal
    position fix from the 3-D geometry with both heights (:func:`fix_factors`); and for
    a downlink PRS the information a single-antenna UE receives under one total gNB
    power (:func:`downlink_factors`).

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

from .._validate import check_array, check_choice
from ..errors import ParameterError
from ._docs import fill_doc
from .linkbudget import SPEED_OF_LIGHT_M_S

BROADSIDE_TOL_RAD = 1e-12
"""Angles within this of +-90 deg are treated as end-fire, where the AoA CRB is infinite."""

BOUNDS = ("paper", "achievable")
"""The position bounds: the paper's Eqs. (5)-(7), or the achievable (ML-reachable) one."""

DL_PRS = ("orthogonal", "beamformed")
"""Downlink PRS transmit strategies of the achievable bound (:func:`downlink_factors`)."""

LOC_DIRECTIONS = ("downlink", "uplink")

DEFAULT_SUBCARRIER_SPACING_HZ = 15e3
"""Subcarrier spacing of the paper's numerology (12 per 180 kHz block). [Hz]"""


def check_bound(bound):
    """Return ``bound`` if it is one of :data:`BOUNDS`, else raise ParameterError."""
    return check_choice("bound", bound, BOUNDS)


def check_dl_prs(dl_prs):
    """Return ``dl_prs`` if it is one of :data:`DL_PRS`, else raise ParameterError."""
    return check_choice("dl_prs", dl_prs, DL_PRS)


def angle_information(n_antennas, spacing_m, wavelength_m, bound="paper"):
    """Fisher information on the ULA's spatial frequency per unit SNR and symbol.

    The array measures :math:`u = \\sin\\psi`, the sine of the angle off broadside (in
    the plane, :math:`u = \\sin\\theta`). Per unit :math:`\\gamma\\tau_L`:

    * ``"paper"``: :math:`\\frac{4\\pi^2 d_A^2}{3\\lambda^2} N_T(N_T-1)(2N_T-1)`, the
      information of Eq. (5) (phase known at element 0);
    * ``"achievable"``: :math:`\\frac{2\\pi^2 d_A^2}{3\\lambda^2} N_T(N_T^2-1)`, with the
      carrier phase unknown (the element positions centred).

    :math:`CRB_u = 1/(\\gamma\\tau_L J)` and :math:`CRB_\\theta = CRB_u/\\cos^2\\theta`.

    Returns
    -------
    ndarray
        [1/(linear SNR x symbol)]
    """
    n = np.asarray(n_antennas, np.float64)
    k = (np.pi * np.asarray(spacing_m, np.float64) / np.asarray(wavelength_m, np.float64)) ** 2
    if check_bound(bound) == "paper":
        return 4.0 * k * n * (n - 1.0) * (2.0 * n - 1.0) / 3.0
    return 2.0 * k * n * (n - 1.0) * (n + 1.0) / 3.0


def flat_rms_bandwidth_hz(loc_bandwidth_hz, subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ):
    """RMS bandwidth of a flat PRS on K = round(B_L/Delta f) contiguous subcarriers.

    .. math:: \\beta = \\Delta f\\sqrt{(K^2-1)/12}

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Occupied bandwidth :math:`B_L`, >= 0. [Hz]
    subcarrier_spacing_hz : float, default 15e3
        :math:`\\Delta f`, > 0. [Hz]

    Returns
    -------
    ndarray
        :math:`\\beta`, 0 for fewer than 2 subcarriers. [Hz]
    """
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    df = check_array("subcarrier_spacing_hz", subcarrier_spacing_hz, low=0.0, low_open=True,
                     unit="Hz")
    k = np.floor(b_l / df + 0.5)
    return df * np.sqrt(np.maximum(k * k - 1.0, 0.0) / 12.0)


def rms_bandwidth_hz(subcarrier_indices, subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ):
    """RMS bandwidth of a PRS on an arbitrary set of equally powered subcarriers.

    .. math:: \\beta^2 = \\frac{1}{K}\\sum_k (f_k - \\bar f)^2, \\quad f_k = n_k\\Delta f

    The delay information of the achievable bound is :math:`8\\pi^2\\gamma N_T\\tau_L\\beta^2`;
    a comb or any other frequency support gives its ``rms_bandwidth_hz`` this way.

    Parameters
    ----------
    subcarrier_indices : array_like of int
        Indices :math:`n_k` of the occupied subcarriers (any offset, any order).
    subcarrier_spacing_hz : float, default 15e3
        :math:`\\Delta f`, > 0. [Hz]

    Returns
    -------
    float
        :math:`\\beta`. [Hz]
    """
    idx = check_array("subcarrier_indices", subcarrier_indices, integer=True).ravel()
    df = float(check_array("subcarrier_spacing_hz", subcarrier_spacing_hz, low=0.0,
                           low_open=True, unit="Hz"))
    if idx.size == 0:
        raise ParameterError("subcarrier_indices must name at least one subcarrier")
    return df * float(np.sqrt(np.mean((idx - idx.mean()) ** 2)))


def delay_mean_square_bandwidth_hz2(loc_bandwidth_hz, *, bound="paper", varsigma=1.0,
                                    subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ,
                                    rms_bandwidth_hz=None):
    """Mean-square bandwidth :math:`\\beta^2` of the delay information. [Hz^2]

    ``"paper"``: :math:`(1+\\varsigma)B_L^2/3` (Eq. 6); ``"achievable"``: ``rms_bandwidth_hz``
    squared, or that of a flat PRS on the K contiguous subcarriers of :math:`B_L`.
    """
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    if check_bound(bound) == "paper":
        vs = check_array("varsigma", varsigma, low=0.0)
        return (1.0 + vs) * b_l**2 / 3.0
    if rms_bandwidth_hz is None:
        return flat_rms_bandwidth_hz(b_l, subcarrier_spacing_hz) ** 2
    return check_array("rms_bandwidth_hz", rms_bandwidth_hz, low=0.0, unit="Hz") ** 2


def downlink_factors(n_antennas, dl_prs="orthogonal"):
    """Fisher information of a downlink PRS relative to uplink sounding at equal SNR.

    A single-antenna UE measures the angle of departure and the delay of an
    :math:`N_T`-antenna gNB under one total transmit power (the SNR :math:`\\gamma` is
    the UE's from the whole power through one antenna's channel):

    * ``"orthogonal"``: every antenna sends its own orthogonal PRS with :math:`1/N_T` of
      the power. The UE collects the same energy as one antenna at full power, spread
      over :math:`N_T` observations: both informations are :math:`1/N_T` of the uplink
      array's. Needs no knowledge of the UE's direction.
    * ``"beamformed"``: a sum beam and a difference (monopulse) beam towards the UE's
      direction, half the power each, on orthogonal resources. The sum beam carries
      the delay information (:math:`1/2` of the uplink's: array gain :math:`N_T` at half
      the power), the difference beam the angle information (:math:`1/2`). Assumes the
      direction is known (tracking).

    Returns
    -------
    angle_factor, delay_factor : ndarray
    """
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    if check_dl_prs(dl_prs) == "orthogonal":
        return 1.0 / n, 1.0 / n
    half = np.full(n.shape, 0.5)
    return half, half.copy()


def fix_factors(broadside_m, across_m, height_diff_m):
    """Geometry of the horizontal fix from a 3-D range and a ULA angle.

    With the UE at :math:`(x, y)` in the array's horizontal frame (:math:`x` along
    the broadside, :math:`y` along the array) and a known height difference
    :math:`h`, the measurements are the range :math:`r = \\sqrt{x^2+y^2+h^2}` and
    :math:`u = y/r`. The inverse of their Fisher information mapped to :math:`(x, y)`
    has the trace

    .. math::

        CRB_L = \\underbrace{\\frac{(x^2+h^2)^2 + x^2y^2}{x^2 r^2}}_{g_r} CRB_r
              + \\underbrace{\\frac{r^2 (x^2+y^2)}{x^2}}_{g_u} CRB_u .

    For :math:`h = 0`, :math:`g_r = 1` and :math:`g_u CRB_u = r^2 CRB_\\theta`, Eq. (4).
    Below the site (:math:`x = y = 0`, :math:`h > 0`) the range says nothing about the
    horizontal position and :math:`g_r = \\infty`; at end-fire (:math:`x = 0`) both are
    infinite; on the site (:math:`r = 0`), :math:`g_r = 1, g_u = 0`.

    Parameters
    ----------
    broadside_m, across_m : array_like
        :math:`x` and :math:`y`. [m]
    height_diff_m : array_like
        :math:`h`, the array's height above the UE (either sign). [m]

    Returns
    -------
    g_range, g_angle : ndarray
        Dimensionless and [m^2].
    """
    x2 = np.asarray(broadside_m, np.float64) ** 2
    y2 = np.asarray(across_m, np.float64) ** 2
    h2 = np.asarray(height_diff_m, np.float64) ** 2
    x2, y2, h2 = np.broadcast_arrays(x2, y2, h2)
    r2 = x2 + y2 + h2
    with np.errstate(divide="ignore", invalid="ignore"):
        g_r = np.where(h2 == 0.0, 1.0, ((x2 + h2) ** 2 + x2 * y2) / (x2 * r2))
        g_u = r2 * (x2 + y2) / x2
    g_r = np.where(x2 > 0.0, g_r, np.where(r2 == 0.0, 1.0, np.where(h2 == 0.0, 1.0, np.inf)))
    g_u = np.where(x2 > 0.0, g_u, np.where(r2 == 0.0, 0.0, np.inf))
    return g_r, g_u


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
def crb_aoa(theta_rad, *, n_antennas, snr, n_loc_symbols, wavelength_m, spacing_m=None,
            bound="paper"):
    """CRB of the angle of arrival, Eq. (5), or the achievable bound.

    .. math::

        CRB_\\theta^{paper} = \\frac{3\\lambda^2}{4\\pi^2 d_A^2\\gamma\\cos^2\\theta\\,
        N_T(N_T-1)(2N_T-1)\\tau_L},\\qquad
        CRB_\\theta^{achievable} = \\frac{3\\lambda^2}{2\\pi^2 d_A^2\\gamma\\cos^2\\theta\\,
        N_T(N_T^2-1)\\tau_L}

    The achievable bound has the carrier phase unknown (docs/model.md, "Two bounds");
    it is :math:`2(2N_T-1)/(N_T+1)` times Eq. (5).

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
    bound : {"paper", "achievable"}, default "paper"

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
    if check_bound(bound) == "paper":
        den = 4.0 * np.pi**2 * d_a**2 * gamma * cos**2 * n * (n - 1.0) * (2.0 * n - 1.0) * tau_l
        return _safe_div(3.0 * lam**2, den)
    den = 2.0 * np.pi**2 * d_a**2 * gamma * cos**2 * n * (n - 1.0) * (n + 1.0) * tau_l
    return _safe_div(3.0 * lam**2, den)


def crb_toa(loc_bandwidth_hz, *, n_antennas, snr, n_loc_symbols, varsigma=1.0, bound="paper",
            subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ, rms_bandwidth_hz=None):
    """CRB of the time of arrival, Eq. (6), or the achievable bound.

    .. math::

        CRB_t = \\frac{1}{8\\pi^2\\beta^2\\gamma N_T\\tau_L},\\qquad
        \\beta^2_{paper} = \\frac{(1+\\varsigma)B_L^2}{3},\\quad
        \\beta^2_{achievable} = \\frac{1}{K}\\sum_k (f_k-\\bar f)^2

    The achievable bound takes the PRS's actual spectrum: ``rms_bandwidth_hz``
    (:math:`\\beta`) when given, else flat on the :math:`K = B_L/\\Delta f` contiguous
    subcarriers, :math:`\\beta^2 = \\Delta f^2 (K^2-1)/12`: then it is
    :math:`4(1+\\varsigma)K^2/(K^2-1)` times Eq. (6).

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
        Waveform coefficient :math:`\\varsigma`, >= 0 (the paper's Sec. IV uses 1); the
        achievable bound does not use it.
    bound : {"paper", "achievable"}, default "paper"
    subcarrier_spacing_hz : float, default 15e3
        :math:`\\Delta f` of the achievable bound's flat PRS. [Hz]
    rms_bandwidth_hz : array_like, optional
        :math:`\\beta` of the PRS's spectrum (achievable bound), e.g. from
        :func:`rms_bandwidth_hz` for a comb. [Hz]

    Returns
    -------
    ndarray
        :math:`CRB_t`. [s^2]
    """
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    gamma = check_array("snr", snr, low=0.0, low_open=True)
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    if check_bound(bound) == "paper":
        b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
        vs = check_array("varsigma", varsigma, low=0.0)
        return _safe_div(3.0, 8.0 * np.pi**2 * b_l**2 * (1.0 + vs) * gamma * n * tau_l)
    beta2 = delay_mean_square_bandwidth_hz2(
        loc_bandwidth_hz, bound=bound, subcarrier_spacing_hz=subcarrier_spacing_hz,
        rms_bandwidth_hz=rms_bandwidth_hz)
    return _safe_div(1.0, 8.0 * np.pi**2 * beta2 * gamma * n * tau_l)


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
                 wavelength_m, spacing_m=None, varsigma=1.0, bound="paper", height_diff_m=0.0,
                 loc_direction="downlink", dl_prs="orthogonal",
                 subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ, rms_bandwidth_hz=None):
    """Position CRB of joint ToA + AoA estimation, Eqs. (4) and (7), or the achievable one.

    ``"paper"``:

    .. math::

        CRB_L(B_L, \\tau_L) = CRB_x + CRB_y = c^2t^2\\,CRB_\\theta(\\tau_L) + c^2\\,CRB_t(B_L, \\tau_L)

    ``"achievable"``: :math:`g_r c^2 CRB_t + g_u CRB_u` with the geometry of
    :func:`fix_factors` (the horizontal fix, with ``height_diff_m``), the unknown-phase
    :math:`CRB_u` and the spectrum's :math:`CRB_t`, both scaled by
    :func:`downlink_factors` for a downlink PRS (docs/model.md, "Two bounds").

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
    bound : {"paper", "achievable"}, default "paper"
    height_diff_m : array_like, default 0
        Height of the array above the UE (achievable bound; ``|h| <= distance_m``). [m]
    loc_direction : {"downlink", "uplink"}, default "downlink"
        Downlink PRS or uplink sounding (achievable bound; the paper's bound is the
        receive array's either way).
    dl_prs : {"orthogonal", "beamformed"}, default "orthogonal"
        Transmit strategy of a downlink PRS (achievable bound).
    subcarrier_spacing_hz, rms_bandwidth_hz
        The PRS spectrum of the achievable bound, see :func:`crb_toa`. [Hz]

    Returns
    -------
    ndarray
        :math:`CRB_L`, the bound on the mean squared (horizontal, for the achievable
        bound) position error; its square root is the position RMSE bound [m]. [m^2]

    Examples
    --------
    >>> import numpy as np
    >>> crb = crb_position(816.8, 0.0, 20e6, 200, n_antennas=8, snr=10**1.5,
    ...                    wavelength_m=299792458 / 2.6e9)
    >>> round(float(10 * np.log10(crb)), 2)   # dB re 1 m^2, all resources
    -14.17
    """
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    if check_bound(bound) == "paper":
        aoa = crb_aoa(theta_rad, n_antennas=n_antennas, snr=snr, n_loc_symbols=n_loc_symbols,
                      wavelength_m=wavelength_m, spacing_m=spacing_m)
        toa = crb_toa(loc_bandwidth_hz, n_antennas=n_antennas, snr=snr,
                      n_loc_symbols=n_loc_symbols, varsigma=varsigma)
        return _times(r**2, aoa) + SPEED_OF_LIGHT_M_S**2 * toa
    a, c = crb_terms(r, theta_rad, n_antennas=n_antennas, snr=snr, wavelength_m=wavelength_m,
                     spacing_m=spacing_m, bound=bound, height_diff_m=height_diff_m,
                     loc_direction=loc_direction, dl_prs=dl_prs)
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    beta2 = delay_mean_square_bandwidth_hz2(
        loc_bandwidth_hz, bound=bound, subcarrier_spacing_hz=subcarrier_spacing_hz,
        rms_bandwidth_hz=rms_bandwidth_hz)
    return _safe_div(a, tau_l) + _safe_div(_times(c, _safe_div(1.0, beta2)), tau_l)


def crb_terms(distance_m, theta_rad, *, n_antennas, snr, wavelength_m, spacing_m=None,
              bound="paper", height_diff_m=0.0, loc_direction="downlink", dl_prs="orthogonal"):
    """The two terms of the position CRB per symbol, for searching splits fast.

    .. math:: CRB_L(\\beta^2, \\tau_L) = \\frac{a + c/\\beta^2}{\\tau_L}

    with :math:`\\beta^2` the mean-square bandwidth of the delay information
    (:func:`delay_mean_square_bandwidth_hz2`); :func:`crb_position` is this at the
    positioning signal's :math:`\\beta^2` and :math:`\\tau_L`.

    Parameters
    ----------
    distance_m, theta_rad, n_antennas, snr, wavelength_m, spacing_m
        As in :func:`crb_position`.
    bound, height_diff_m, loc_direction, dl_prs
        As in :func:`crb_position`.

    Returns
    -------
    a : ndarray
        The angle term for one symbol (0 on the array, inf at end-fire or one antenna).
        [m^2]
    c : ndarray
        The delay term times the mean-square bandwidth, for one symbol. [m^2 Hz^2]
    """
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    gamma = check_array("snr", snr, low=0.0, low_open=True)
    lam = check_array("wavelength_m", wavelength_m, low=0.0, low_open=True, unit="m")
    d_a = lam / 2.0 if spacing_m is None else check_array(
        "spacing_m", spacing_m, low=0.0, low_open=True, unit="m")
    cos = _cos_broadside(theta_rad)
    info_u = gamma * angle_information(n, d_a, lam, bound)
    info_t = gamma * 8.0 * np.pi**2 * n
    if check_bound(bound) == "paper":
        g_r, g_u = np.ones(np.broadcast(r, cos).shape), _safe_div(r**2, cos**2)
        g_u = np.where(r == 0.0, 0.0, g_u)
    else:
        check_choice("loc_direction", loc_direction, LOC_DIRECTIONS)
        h = check_array("height_diff_m", height_diff_m, unit="m")
        if np.any(np.abs(h) > r * (1 + 1e-12)):
            raise ParameterError("height_diff_m must not exceed distance_m in magnitude")
        rho = np.sqrt(np.maximum(r**2 - h**2, 0.0))
        g_r, g_u = fix_factors(rho * cos, rho * np.sin(np.asarray(theta_rad, np.float64)), h)
        if loc_direction == "downlink":
            f_a, f_t = downlink_factors(n, dl_prs)
            info_u, info_t = info_u * f_a, info_t * f_t
    return _times(g_u, _safe_div(1.0, info_u)), _times(
        g_r, SPEED_OF_LIGHT_M_S**2 * _safe_div(1.0, info_t))
