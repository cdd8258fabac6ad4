"""Capacity loss against CRB loss: Definitions 1-4 and the corrected Theorems 1 and 2.

Definitions (computed directly from Eq. 1 or Eq. 18 and from Eq. 7):

* Definition 1, Eq. (8): time-domain capacity loss :math:`C(B,\\tau_T) - C(B,\\tau_C)`;
* Definition 2, Eq. (9): time-domain CRB loss :math:`CRB_L(B,\\tau_L)/CRB_L(B,\\tau_T)`;
* Definition 3, Eq. (11): frequency-domain capacity loss :math:`C(B,\\tau_T) - C(B_C,\\tau_T)`;
* Definition 4, Eq. (12): frequency-domain CRB loss :math:`CRB_L(B_L,\\tau_T)/CRB_L(B,\\tau_T)`;

with :math:`\\tau_C = \\tau_T - \\tau_L` and :math:`B_C = B - B_L`.

Theorems (closed forms on Eq. 18, *as corrected* in docs/model.md, "Corrections to the printed theorems"; the printed Eqs. 10,
13, 14, 20 and 22 contain typos, and tests show that they disagree with the
definitions):

* Theorem 1: Eq. (19) capacity loss of a time split, Eq. (20) the communication
  symbols left for a capacity loss, Eq. (10) the CRB loss for a capacity loss;
* Theorem 2: Eq. (21) capacity loss of a frequency split, Eqs. (14)/(22) the
  localization bandwidth for a capacity loss, Eq. (13) the CRB loss (factor
  12/8, not 12/2).

Capacity losses are in bit/s by default and in nat/s with ``unit="nat"``; the closed
forms work in nats internally.
"""

import numpy as np

from .._validate import check_array, check_choice
from ..errors import ParameterError
from ._docs import fill_doc
from .capacity import (
    best_pilot_capacity,
    capacity_closed_form,
    closed_form_constants,
    unit_scale,
)
from .crb import (
    DEFAULT_SUBCARRIER_SPACING_HZ,
    _cos_broadside,
    check_bound,
    crb_position,
    downlink_factors,
    fix_factors,
)
from .linkbudget import SPEED_OF_LIGHT_M_S

#: Relative slack accepted above the total capacity before a loss is rejected.
LOSS_TOLERANCE = 1e-12


def _capacity(bandwidth_hz, n_comm_symbols, *, closed_form, **link):
    if closed_form:
        return capacity_closed_form(bandwidth_hz, n_comm_symbols, **link)
    return best_pilot_capacity(bandwidth_hz, n_comm_symbols, **link)[0]


@fill_doc
def time_capacity_loss(n_loc_symbols, *, bandwidth_hz, n_antennas, snr_dl, snr_ul,
                       n_symbols=200, closed_form=False, unit="bit"):
    """Capacity given up by a time split, Definition 1, Eq. (8).

    Parameters
    ----------
    n_loc_symbols : array_like
        Symbols given to localization :math:`\\tau_L`, an integer in [0, ``n_symbols``]
        (any real value with ``closed_form=True``). [symbols]
    {bandwidth_hz}
    {link}
    {n_symbols}
    closed_form : bool, default False
        Use Eq. (18) instead of Eq. (1) at the best integer pilot length.
    {unit}

    Returns
    -------
    ndarray
        :math:`C(B,\\tau_T) - C(B,\\tau_T-\\tau_L)`. [bit/s or nat/s]
    """
    tau_t = check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    if np.any(tau_l > tau_t):
        raise ParameterError("n_loc_symbols must be <= n_symbols")
    link = dict(n_antennas=n_antennas, snr_dl=snr_dl, snr_ul=snr_ul, n_symbols=tau_t,
                unit=unit, closed_form=closed_form)
    return _capacity(bandwidth_hz, tau_t, **link) - _capacity(bandwidth_hz, tau_t - tau_l, **link)


@fill_doc
def frequency_capacity_loss(loc_bandwidth_hz, *, bandwidth_hz, n_antennas, snr_dl, snr_ul,
                            n_symbols=200, closed_form=False, unit="bit"):
    """Capacity given up by a frequency split, Definition 3, Eq. (11).

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Bandwidth given to localization :math:`B_L`, in [0, ``bandwidth_hz``]. [Hz]
    {bandwidth_hz}
    {link}
    {n_symbols}
    closed_form : bool, default False
        Use Eq. (18) instead of Eq. (1) at the best integer pilot length.
    {unit}

    Returns
    -------
    ndarray
        :math:`C(B,\\tau_T) - C(B - B_L,\\tau_T)`. [bit/s or nat/s]
    """
    b = check_array("bandwidth_hz", bandwidth_hz, low=0.0, low_open=True, unit="Hz")
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    if np.any(b_l > b):
        raise ParameterError("loc_bandwidth_hz must be <= bandwidth_hz")
    tau_t = check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    link = dict(n_antennas=n_antennas, snr_dl=snr_dl, snr_ul=snr_ul, n_symbols=tau_t,
                unit=unit, closed_form=closed_form)
    return _capacity(b, tau_t, **link) - _capacity(b - b_l, tau_t, **link)


def time_crb_loss(n_loc_symbols, *, n_symbols=200, **crb_args):
    """CRB loss of a time split, Definition 2, Eq. (9), as a ratio of Eq. (7) bounds.

    The ratio is :math:`\\tau_T/\\tau_L` exactly (both CRB terms scale as
    :math:`1/\\tau_L`); it is computed here from :func:`crb_position` so that the
    closed forms can be checked against it.

    Parameters
    ----------
    n_loc_symbols : array_like
        Localization symbols :math:`\\tau_L`, in [0, ``n_symbols``] (0 gives inf). [symbols]
    n_symbols : array_like, default 200
        Symbols per coherence interval :math:`\\tau_T`. [symbols]
    **crb_args
        ``distance_m``, ``theta_rad``, ``loc_bandwidth_hz`` (the full :math:`B`),
        ``n_antennas``, ``snr``, ``wavelength_m`` and optionally ``spacing_m``,
        ``varsigma``: the arguments of :func:`crb_position`.

    Returns
    -------
    ndarray
        :math:`CRB_L(B,\\tau_L)/CRB_L(B,\\tau_T)`, >= 1. [linear]
    """
    tau_t = check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    with np.errstate(invalid="ignore"):
        return _ratio(crb_position(n_loc_symbols=n_loc_symbols, **crb_args),
                      crb_position(n_loc_symbols=tau_t, **crb_args))


def frequency_crb_loss(loc_bandwidth_hz, *, bandwidth_hz, n_symbols=200, **crb_args):
    """CRB loss of a frequency split, Definition 4, Eq. (12), as a ratio of Eq. (7) bounds.

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Localization bandwidth :math:`B_L`, >= 0 (0 gives inf). [Hz]
    bandwidth_hz : array_like
        Total bandwidth :math:`B`. [Hz]
    n_symbols : array_like, default 200
        Symbols per coherence interval :math:`\\tau_T` (all used for localization). [symbols]
    **crb_args
        ``distance_m``, ``theta_rad``, ``n_antennas``, ``snr``, ``wavelength_m`` and
        optionally ``spacing_m``, ``varsigma``: the arguments of :func:`crb_position`.

    Returns
    -------
    ndarray
        :math:`CRB_L(B_L,\\tau_T)/CRB_L(B,\\tau_T)`; 1 where the AoA term is infinite
        (:math:`N_T = 1` or end-fire), the limit of the ratio. [linear]
    """
    return _ratio(
        crb_position(loc_bandwidth_hz=loc_bandwidth_hz, n_loc_symbols=n_symbols, **crb_args),
        crb_position(loc_bandwidth_hz=bandwidth_hz, n_loc_symbols=n_symbols, **crb_args))


def _ratio(num, den):
    """num/den where inf/inf is 1 (the limit when an infinite AoA term dominates both)."""
    num, den = np.broadcast_arrays(num, den)
    both_inf = np.isinf(num) & np.isinf(den)
    with np.errstate(invalid="ignore"):
        return np.where(both_inf, 1.0, num / np.where(both_inf, 1.0, den))


def _total_closed_form_nat(bandwidth_hz, n_symbols, k):
    """:math:`\\tilde C(B,\\tau_T)` of Eq. (18) in nat/s from precomputed constants."""
    root = np.sqrt(n_symbols * k.lam) - np.sqrt(k.b_sq)
    return bandwidth_hz / n_symbols * np.where(root > 0.0, root * root, 0.0)


def _loss_in_nats(capacity_loss, bandwidth_hz, n_symbols, k, unit):
    """Check 0 <= loss <= C~(B, tau_T) and return the loss and the total in nat/s."""
    loss = check_array("capacity_loss", capacity_loss, low=0.0) / unit_scale(unit)
    total = _total_closed_form_nat(bandwidth_hz, n_symbols, k)
    loss, total = np.broadcast_arrays(loss, total)
    over = loss > total * (1.0 + LOSS_TOLERANCE)
    if np.any(over):
        i = np.flatnonzero(over.ravel())[0]
        scale = unit_scale(unit)
        where = "" if loss.ndim == 0 else f" (element {i})"
        raise ParameterError(
            f"capacity_loss {loss.ravel()[i] * scale:.6g} {unit}/s exceeds the total capacity "
            f"C~(B, tau_T) = {total.ravel()[i] * scale:.6g} {unit}/s{where}; "
            "no split gives up more than everything")
    return np.minimum(loss, total), total


def _theorem_inputs(bandwidth_hz, n_symbols, n_antennas, snr_dl, snr_ul):
    b = check_array("bandwidth_hz", bandwidth_hz, low=0.0, low_open=True, unit="Hz")
    tau_t = check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    return b, tau_t, closed_form_constants(n_antennas, snr_dl, snr_ul)


@fill_doc
def time_capacity_loss_closed_form(n_loc_symbols, *, bandwidth_hz, n_antennas, snr_dl, snr_ul,
                                   n_symbols=200, unit="bit"):
    """Capacity loss of a time split from the closed form, Eq. (19) (Theorem 1).

    .. math::

        L_C^t = \\frac{B}{\\tau_T}\\left[(\\tau_T - \\tau_C)\\Lambda
        - 2(\\sqrt{\\tau_T} - \\sqrt{\\tau_C})K\\right],\\qquad K = \\sqrt{N_T\\Lambda\\varepsilon/\\alpha}

    On :math:`\\tau_C\\Lambda < b^2` (no data left after the optimal pilot) the loss is the
    whole closed-form capacity.

    Parameters
    ----------
    n_loc_symbols : array_like
        Localization symbols :math:`\\tau_L`, real in [0, ``n_symbols``]. [symbols]
    {bandwidth_hz}
    {link_frame}

    Returns
    -------
    ndarray
        :math:`L_C^t`. [bit/s or nat/s]
    """
    b, tau_t, k = _theorem_inputs(bandwidth_hz, n_symbols, n_antennas, snr_dl, snr_ul)
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    if np.any(tau_l > tau_t):
        raise ParameterError("n_loc_symbols must be <= n_symbols")
    tau_c = tau_t - tau_l
    big_k = np.sqrt(k.lam * k.b_sq)
    eq19 = b / tau_t * ((tau_t - tau_c) * k.lam - 2.0 * (np.sqrt(tau_t) - np.sqrt(tau_c)) * big_k)
    total = _total_closed_form_nat(b, tau_t, k)
    return unit_scale(unit) * np.where(tau_c * k.lam >= k.b_sq, eq19, total)


@fill_doc
def time_comm_symbols_for_capacity_loss(capacity_loss, *, bandwidth_hz, n_antennas, snr_dl,
                                        snr_ul, n_symbols=200, unit="bit"):
    """Communication symbols left for a given capacity loss, corrected Eq. (20) (Theorem 1).

    .. math::

        \\tau_C = \\left(\\frac{K + \\sqrt{K^2 - \\Lambda\\tau_T(2K/\\sqrt{\\tau_T} - \\Lambda + L_C^t/B)}}
        {\\Lambda}\\right)^2
        = \\frac{\\left(b + \\sqrt{(\\sqrt{\\tau_T\\Lambda} - b)^2 - \\tau_T L_C^t/B}\\right)^2}{\\Lambda}

    The printed Eq. (20) has a plus sign and a squared bracket under the root; with
    them :math:`L_C^t = 0` does not return :math:`\\tau_C = \\tau_T` (docs/model.md, "Corrections to the printed theorems").
    The second, equivalent form is evaluated (it has no cancellation near the total).

    Parameters
    ----------
    {capacity_loss}
    {bandwidth_hz}
    {link_frame}

    Returns
    -------
    ndarray
        Real :math:`\\tau_C` in :math:`[b^2/\\Lambda, \\tau_T]`; the localization share is
        :math:`\\tau_L = \\tau_T - \\tau_C`. [symbols]

    Raises
    ------
    ParameterError
        If the loss exceeds :math:`\\tilde C(B,\\tau_T)`.
    """
    b, tau_t, k = _theorem_inputs(bandwidth_hz, n_symbols, n_antennas, snr_dl, snr_ul)
    loss, _ = _loss_in_nats(capacity_loss, b, tau_t, k, unit)
    root_b = np.sqrt(k.b_sq)
    radicand = np.maximum((np.sqrt(tau_t * k.lam) - root_b) ** 2 - tau_t * loss / b, 0.0)
    tau_c = (root_b + np.sqrt(radicand)) ** 2 / k.lam
    return np.where(loss == 0.0, tau_t, np.minimum(tau_c, tau_t))


@fill_doc
def time_crb_loss_for_capacity_loss(capacity_loss, *, bandwidth_hz, n_antennas, snr_dl, snr_ul,
                                    n_symbols=200, unit="bit"):
    """CRB loss of the time split that gives up a capacity loss, corrected Eq. (10) (Theorem 1).

    .. math::

        L_L^t = \\frac{\\tau_T}{\\tau_T - \\left(\\frac{K + \\sqrt{K^2 + \\Lambda\\tau_T
        (\\Lambda - 2K/\\sqrt{\\tau_T} - L_C^t/B)}}{\\Lambda}\\right)^2}

    The printed Eq. (10) has :math:`+2K/\\sqrt{\\tau_T}` and no division by :math:`\\Lambda`
    (docs/model.md, "Corrections to the printed theorems").

    Parameters
    ----------
    {capacity_loss}
    {bandwidth_hz}
    {link_frame}

    Returns
    -------
    ndarray
        :math:`L_L^t = \\tau_T/\\tau_L`, in :math:`[\\tau_T/(\\tau_T - b^2/\\Lambda), \\infty]`;
        inf for a zero loss. [linear]
    """
    tau_c = time_comm_symbols_for_capacity_loss(
        capacity_loss, bandwidth_hz=bandwidth_hz, n_antennas=n_antennas, snr_dl=snr_dl,
        snr_ul=snr_ul, n_symbols=n_symbols, unit=unit)
    tau_t = np.asarray(n_symbols, np.float64)
    tau_l = np.maximum(tau_t - tau_c, 0.0)
    with np.errstate(divide="ignore"):
        return tau_t / tau_l


@fill_doc
def frequency_capacity_loss_closed_form(loc_bandwidth_hz, *, bandwidth_hz, n_antennas, snr_dl,
                                        snr_ul, n_symbols=200, unit="bit"):
    """Capacity loss of a frequency split from the closed form, corrected Eq. (21) (Theorem 2).

    .. math::

        L_C^f = \\frac{B_L}{\\tau_T}\\left(\\tau_T\\Lambda - 2\\sqrt{\\frac{\\tau_T N_T\\Lambda\\varepsilon}{\\alpha}}
        + \\frac{N_T\\varepsilon}{\\alpha}\\right)

    The printed Eq. (21) ends in :math:`N_T/\\alpha`: the :math:`\\varepsilon` is missing.

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Localization bandwidth :math:`B_L`, in [0, ``bandwidth_hz``]. [Hz]
    {bandwidth_hz}
    {link_frame}

    Returns
    -------
    ndarray
        :math:`L_C^f`. [bit/s or nat/s]
    """
    b, tau_t, k = _theorem_inputs(bandwidth_hz, n_symbols, n_antennas, snr_dl, snr_ul)
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    if np.any(b_l > b):
        raise ParameterError("loc_bandwidth_hz must be <= bandwidth_hz")
    per_hz = tau_t * k.lam - 2.0 * np.sqrt(tau_t * k.lam * k.b_sq) + k.b_sq
    per_hz = np.where(tau_t * k.lam >= k.b_sq, per_hz, 0.0)
    return unit_scale(unit) * b_l / tau_t * per_hz


@fill_doc
def frequency_loc_bandwidth_for_capacity_loss(capacity_loss, *, bandwidth_hz, n_antennas,
                                              snr_dl, snr_ul, n_symbols=200, unit="bit"):
    """Localization bandwidth that gives up a capacity loss, corrected Eqs. (14) and (22).

    .. math::

        B_L = \\frac{L_C^f\\tau_T}{\\tau_T\\Lambda - 2\\sqrt{\\tau_T N_T\\Lambda\\varepsilon/\\alpha}
        + N_T\\varepsilon/\\alpha} = \\frac{L_C^f\\tau_T}{(\\sqrt{\\tau_T\\Lambda} - b)^2}

    The printed Eq. (14) has :math:`\\varepsilon` twice under the root and the printed
    Eq. (22) lacks it in the last term (docs/model.md, "Corrections to the printed theorems").

    Parameters
    ----------
    {capacity_loss}
    {bandwidth_hz}
    {link_frame}

    Returns
    -------
    ndarray
        :math:`B_L` in [0, ``bandwidth_hz``]. [Hz]

    Raises
    ------
    ParameterError
        If the loss exceeds :math:`\\tilde C(B,\\tau_T)`.
    """
    b, tau_t, k = _theorem_inputs(bandwidth_hz, n_symbols, n_antennas, snr_dl, snr_ul)
    loss, total = _loss_in_nats(capacity_loss, b, tau_t, k, unit)
    den = tau_t * k.lam - 2.0 * np.sqrt(tau_t * k.lam * k.b_sq) + k.b_sq
    # A link with no closed-form capacity loses nothing: only a zero loss is possible.
    return np.where(total > 0.0, loss * tau_t / np.where(total > 0.0, den, 1.0), 0.0)


def frequency_crb_loss_closed_form(loc_bandwidth_hz, *, bandwidth_hz, distance_m, theta_rad,
                                   n_antennas, wavelength_m, spacing_m=None, varsigma=1.0,
                                   bound="paper", epre="paper", dl_prs="orthogonal",
                                   height_diff_m=0.0,
                                   subcarrier_spacing_hz=DEFAULT_SUBCARRIER_SPACING_HZ):
    """CRB loss of a frequency split, corrected Eq. (13) (Theorem 2), under either bound.

    ``bound="paper"``:

    .. math::

        L_L^f = \\frac{A + \\frac{3}{2B_L^2(1+\\varsigma)}}{A + \\frac{3}{2B^2(1+\\varsigma)}},\\qquad
        A = \\frac{3t^2\\lambda^2}{d_A^2\\cos^2\\theta(N_T-1)(2N_T-1)}

    The factor is 12/8 = 3/2, not the printed 12/2 (docs/model.md, "Corrections to the
    printed theorems"). ``bound="achievable"`` (docs/model.md, "Two bounds"), with
    :math:`K_L = B_L/\\Delta f` and :math:`K = B/\\Delta f` subcarriers:

    .. math::

        L_L^f = \\frac{A' + \\frac{3 g_r}{2\\Delta f^2 (K_L^2-1) f_t}}
                      {A' + \\frac{3 g_r}{2\\Delta f^2 (K^2-1) f_t}},\\qquad
        A' = \\frac{3 g_u\\lambda^2}{2 c^2 d_A^2 (N_T^2-1) f_a}

    with the geometry :math:`g_r, g_u` of :func:`~ilac_plan.model.crb.fix_factors` and the
    downlink factors :math:`f_a, f_t` of :func:`~ilac_plan.model.crb.downlink_factors`.
    Under ``epre="equal"`` the positioning SNR is :math:`\\gamma B_L/B`, which multiplies
    either loss by :math:`B/B_L`. The SNR and :math:`\\tau_T` cancel.

    Parameters
    ----------
    loc_bandwidth_hz : array_like
        Localization bandwidth :math:`B_L`, >= 0 (0 gives inf). [Hz]
    bandwidth_hz : array_like
        Total bandwidth :math:`B`, > 0. [Hz]
    distance_m : array_like
        UE-gNB distance :math:`r = ct`, >= 0. [m]
    theta_rad : array_like
        Angle off broadside, in [-pi/2, pi/2]. [rad]
    n_antennas : array_like
        Antennas :math:`N_T`, an integer >= 1.
    wavelength_m : array_like
        Carrier wavelength :math:`\\lambda`, > 0. [m]
    spacing_m : array_like, optional
        Antenna spacing :math:`d_A`; default :math:`\\lambda/2`. [m]
    varsigma : array_like, default 1
        Waveform coefficient :math:`\\varsigma`, >= 0 (paper's bound only).
    bound : {"paper", "achievable"}
    epre : {"paper", "equal"}
    dl_prs : {"orthogonal", "beamformed"}
        Downlink PRS of the achievable bound.
    height_diff_m : array_like, default 0
        Height of the array above the UE (achievable bound). [m]
    subcarrier_spacing_hz : float, default 15e3
        :math:`\\Delta f` (achievable bound). [Hz]

    Returns
    -------
    ndarray
        :math:`L_L^f`; 1 where :math:`A` is infinite (:math:`N_T = 1` or end-fire) and
        the energy convention is the paper's. [linear]
    """
    b = check_array("bandwidth_hz", bandwidth_hz, low=0.0, low_open=True, unit="Hz")
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    lam = check_array("wavelength_m", wavelength_m, low=0.0, low_open=True, unit="m")
    d_a = lam / 2.0 if spacing_m is None else check_array(
        "spacing_m", spacing_m, low=0.0, low_open=True, unit="m")
    vs = check_array("varsigma", varsigma, low=0.0)
    cos = _cos_broadside(theta_rad)
    energy = 1.0 if check_choice("epre", epre, ("paper", "equal")) == "paper" else \
        _ratio(b, b_l)
    if check_bound(bound) == "paper":
        t = r / SPEED_OF_LIGHT_M_S
        den_a = d_a**2 * cos**2 * (n - 1.0) * (2.0 * n - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_term = np.where(t > 0.0, 3.0 * t**2 * lam**2 / den_a, 0.0)
            toa_l = 3.0 / (2.0 * b_l**2 * (1.0 + vs))
        toa_full = 3.0 / (2.0 * b**2 * (1.0 + vs))
        return _times_loss(_ratio(a_term + toa_l, a_term + toa_full), energy)
    h = check_array("height_diff_m", height_diff_m, unit="m")
    df = check_array("subcarrier_spacing_hz", subcarrier_spacing_hz, low=0.0, low_open=True,
                     unit="Hz")
    theta = np.asarray(theta_rad, np.float64)
    rho = np.sqrt(np.maximum(r**2 - h**2, 0.0))
    g_r, g_u = fix_factors(rho * cos, rho * np.sin(theta), h)
    f_a, f_t = downlink_factors(n, dl_prs)
    k_l, k = np.floor(b_l / df + 0.5), np.floor(b / df + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_term = np.where(g_u > 0.0, 3.0 * g_u * lam**2 / (
            2.0 * SPEED_OF_LIGHT_M_S**2 * d_a**2 * (n**2 - 1.0) * f_a), 0.0)
        toa_l = 3.0 * g_r / (2.0 * df**2 * (k_l**2 - 1.0) * f_t)
        toa_full = 3.0 * g_r / (2.0 * df**2 * (k**2 - 1.0) * f_t)
    toa_l = np.where(k_l >= 2, toa_l, np.inf)
    return _times_loss(_ratio(a_term + toa_l, a_term + toa_full), energy)


def _times_loss(loss, energy):
    """loss * energy with inf * x = inf (no NaN from inf * 1)."""
    return np.where(np.isinf(loss), np.inf, loss * energy)


def frequency_crb_loss_for_capacity_loss(capacity_loss, *, bandwidth_hz, n_antennas, snr_dl,
                                         snr_ul, distance_m, theta_rad, wavelength_m,
                                         spacing_m=None, varsigma=1.0, n_symbols=200,
                                         unit="bit", **bound_args):
    """CRB loss of the frequency split that gives up a capacity loss (Theorem 2).

    Eq. (13) evaluated at the :math:`B_L` of Eq. (14); parameters as in
    :func:`frequency_loc_bandwidth_for_capacity_loss` and
    :func:`frequency_crb_loss_closed_form` (``bound``, ``epre``, ``dl_prs``,
    ``height_diff_m``, ``subcarrier_spacing_hz`` in ``bound_args``).

    Returns
    -------
    ndarray
        :math:`L_L^f`; inf for a zero loss. [linear]
    """
    b_l = frequency_loc_bandwidth_for_capacity_loss(
        capacity_loss, bandwidth_hz=bandwidth_hz, n_antennas=n_antennas, snr_dl=snr_dl,
        snr_ul=snr_ul, n_symbols=n_symbols, unit=unit)
    return frequency_crb_loss_closed_form(
        b_l, bandwidth_hz=bandwidth_hz, distance_m=distance_m, theta_rad=theta_rad,
        n_antennas=n_antennas, wavelength_m=wavelength_m, spacing_m=spacing_m,
        varsigma=varsigma, **bound_args)
