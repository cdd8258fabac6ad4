"""Massive-MIMO downlink capacity with pilot overhead (Eq. 1) and its closed forms (Eqs. 15-18).

All equations are evaluated in nats (natural log), as in the paper; the public
functions return bit/s by default (``unit="bit"``) because the paper's Mbit/s figures
are log2 (docs/model.md, "Capacity").

Notation (Appendix A of the paper; docs/model.md, "Capacity"):

.. math::

    \\delta = \\rho_{dl}\\beta,\\quad \\alpha = 1 + (N_T + 1)\\delta,\\quad
    \\varepsilon = \\rho_{dl}/\\rho_{ul},\\quad
    \\Lambda = \\ln\\frac{\\alpha}{1 + \\delta},\\quad b^2 = \\frac{N_T\\varepsilon}{\\alpha}.
"""

from typing import NamedTuple

import numpy as np

from .._validate import check_array, check_choice
from ..errors import ParameterError
from ._docs import fill_doc

LN2 = float(np.log(2.0))


def unit_scale(unit):
    """Factor that converts nat/s into ``unit`` ("nat" -> 1, "bit" -> 1/ln 2)."""
    check_choice("unit", unit, ("bit", "nat"))
    return 1.0 if unit == "nat" else 1.0 / LN2


class ClosedFormConstants(NamedTuple):
    """The constants of the closed forms (Appendix A), arrays broadcast together.

    Attributes
    ----------
    lam : ndarray
        :math:`\\Lambda = \\ln(\\alpha/(1+\\delta))`, the spectral efficiency with perfect
        channel knowledge. [nat/s/Hz]
    alpha : ndarray
        :math:`\\alpha = 1 + (N_T+1)\\delta`.
    eps : ndarray
        :math:`\\varepsilon = \\rho_{dl}/\\rho_{ul}`.
    b_sq : ndarray
        :math:`b^2 = N_T\\varepsilon/\\alpha`, the pilot-cost constant of Eq. (16).
    """

    lam: np.ndarray
    alpha: np.ndarray
    eps: np.ndarray
    b_sq: np.ndarray


def _check_link(n_antennas, snr_dl, snr_ul, *, zero_ok=False):
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    sdl = check_array("snr_dl", snr_dl, low=0.0, low_open=not zero_ok)
    sul = check_array("snr_ul", snr_ul, low=0.0, low_open=not zero_ok)
    return n, sdl, sul


def _check_symbols(n_symbols):
    return check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")


@fill_doc
def closed_form_constants(n_antennas, snr_dl, snr_ul):
    """Constants :math:`\\Lambda, \\alpha, \\varepsilon, b^2` of the closed forms (Appendix A).

    Parameters
    ----------
    {link}

    Returns
    -------
    ClosedFormConstants
    """
    n, sdl, sul = _check_link(n_antennas, snr_dl, snr_ul)
    alpha = 1.0 + (n + 1.0) * sdl
    eps = sdl / sul
    lam = np.log1p(n * sdl / (1.0 + sdl))
    return ClosedFormConstants(lam, alpha, eps, n * eps / alpha)


@fill_doc
def mr_capacity(bandwidth_hz, n_comm_symbols, n_pilot_symbols, *, n_antennas, snr_dl, snr_ul,
             n_symbols=200, unit="bit"):
    """Downlink maximum-ratio capacity with uplink pilots, Eq. (1).

    .. math::

        C(B_C, \\tau_C) = B_C \\frac{\\tau_C - \\tau_P}{\\tau_T}
        \\ln\\left(1 + \\frac{N_T\\rho_{dl}\\nu}{1 + \\rho_{dl}\\beta}\\right),\\quad
        \\nu = \\frac{\\tau_P\\rho_{ul}\\beta^2}{1 + \\tau_P\\rho_{ul}\\beta}

    Parameters
    ----------
    bandwidth_hz : array_like
        Bandwidth given to communication :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like
        Symbols given to communication :math:`\\tau_C`, in [0, ``n_symbols``]. [symbols]
    n_pilot_symbols : array_like
        Uplink pilot symbols :math:`\\tau_P`, in [0, ``n_comm_symbols``]; real values are
        accepted so the bound of Eq. (16) can be compared for every real length. [symbols]
    {n_antennas}
    snr_dl : array_like
        Downlink received SNR per antenna :math:`\\rho_{dl}\\beta`, >= 0. [linear]
    snr_ul : array_like
        Uplink received SNR per antenna :math:`\\rho_{ul}\\beta`, >= 0. [linear]
    {n_symbols}
    {unit}

    Returns
    -------
    ndarray
        Capacity. [bit/s or nat/s]

    Raises
    ------
    ParameterError
        If an input is NaN or out of range, or if ``n_pilot_symbols > n_comm_symbols``.

    References
    ----------
    T. L. Marzetta, E. G. Larsson, H. Yang, *Fundamentals of Massive MIMO*, CUP, 2016.
    """
    scale = unit_scale(unit)
    bandwidth_hz = check_array("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    tau_t = _check_symbols(n_symbols)
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0.0, unit="symbols")
    tau_p = check_array("n_pilot_symbols", n_pilot_symbols, low=0.0, unit="symbols")
    if np.any(tau_c > tau_t):
        raise ParameterError("n_comm_symbols must be <= n_symbols")
    if np.any(tau_p > tau_c):
        raise ParameterError("n_pilot_symbols must be <= n_comm_symbols")
    n, sdl, sul = _check_link(n_antennas, snr_dl, snr_ul, zero_ok=True)
    return scale * bandwidth_hz / tau_t * _frame_efficiency(tau_c, tau_p, n, sdl, sul)


def _frame_efficiency(tau_c, tau_p, n, sdl, sul):
    """:math:`(\\tau_C - \\tau_P) \\ln(1 + N_T\\rho_{dl}\\nu/(1+\\rho_{dl}\\beta))` of Eq. (1). [nat/Hz]"""
    x = n * sdl * (tau_p * sul / (1.0 + tau_p * sul)) / (1.0 + sdl)
    return (tau_c - tau_p) * np.log1p(x)


@fill_doc
def best_pilot_capacity(bandwidth_hz, n_comm_symbols, *, n_antennas, snr_dl, snr_ul,
                        n_symbols=200, unit="bit"):
    """Eq. (1) at the best integer pilot length :math:`1 \\le \\tau_P < \\tau_C`.

    This is the *exact* capacity of the trade-off curves (docs/model.md, "Conventions that reproduce the paper"). It is
    found by brute force over every integer pilot length, which makes this the
    readable reference for the kernel's faster search.

    Parameters
    ----------
    bandwidth_hz : array_like
        Bandwidth given to communication :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like
        Symbols given to communication :math:`\\tau_C`, an integer in [0, ``n_symbols``].
    {n_antennas}
    snr_dl : array_like
        Downlink received SNR per antenna, >= 0. [linear]
    snr_ul : array_like
        Uplink received SNR per antenna, >= 0. [linear]
    {n_symbols}
    {unit}

    Returns
    -------
    capacity : ndarray
        Capacity at the best pilot length; 0 when :math:`\\tau_C \\le 1`. [bit/s or nat/s]
    n_pilot_symbols : ndarray of int
        The maximising :math:`\\tau_P` (the smallest one on a tie); equal to
        :math:`\\tau_C` when :math:`\\tau_C \\le 1` (no symbol is left for data).
    """
    tau_t = _check_symbols(n_symbols)
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0.0, integer=True,
                        unit="symbols")
    if np.any(tau_c > tau_t):
        raise ParameterError("n_comm_symbols must be <= n_symbols")
    n, sdl, sul = _check_link(n_antennas, snr_dl, snr_ul, zero_ok=True)
    bw = check_array("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    bw, tau_t, tau_c, n, sdl, sul = np.broadcast_arrays(bw, tau_t, tau_c, n, sdl, sul)
    # Every candidate pilot length k = 1 .. max(tau_C) - 1, on a leading axis.
    k = np.arange(1.0, max(float(tau_c.max(initial=0.0)), 1.0)).reshape((-1,) + (1,) * tau_c.ndim)
    short = tau_c <= 1
    if k.size == 0:
        return np.zeros(tau_c.shape), tau_c.astype(np.int64)
    efficiency = np.where(k < tau_c, _frame_efficiency(tau_c, k, n, sdl, sul), -np.inf)
    best = np.argmax(efficiency, axis=0)
    best_eff = np.take_along_axis(efficiency, best[None], axis=0)[0]
    cap = np.where(short, 0.0, bw / tau_t * best_eff)
    tau_p = np.where(short, tau_c, best + 1).astype(np.int64)
    return cap * unit_scale(unit), tau_p


@fill_doc
def capacity_bound(bandwidth_hz, n_comm_symbols, n_pilot_symbols, *, n_antennas, snr_dl,
                   snr_ul, n_symbols=200, unit="bit"):
    """Lower bound of Eq. (1) from the linearisation Eq. (15), Eq. (16).

    .. math::

        C \\ge \\frac{B_C}{\\tau_T}\\left(\\tau_C\\Lambda - \\frac{\\tau_C N_T\\varepsilon}{\\alpha\\tau_P}
        - \\tau_P\\Lambda + \\frac{N_T\\varepsilon}{\\alpha}\\right)

    The paper prints "≅"; it is a true lower bound for every real
    :math:`0 < \\tau_P \\le \\tau_C` (docs/model.md, "Capacity").

    Parameters
    ----------
    bandwidth_hz : array_like
        Bandwidth given to communication :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like
        Communication symbols :math:`\\tau_C`, in [0, ``n_symbols``]. [symbols]
    n_pilot_symbols : array_like
        Pilot symbols :math:`\\tau_P`, > 0 (real values allowed). [symbols]
    {link_frame}

    Returns
    -------
    ndarray
        The bound (it may be negative where pilots cost more than they bring). [bit/s or nat/s]
    """
    bw = check_array("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    tau_t = _check_symbols(n_symbols)
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0.0, unit="symbols")
    tau_p = check_array("n_pilot_symbols", n_pilot_symbols, low=0.0, low_open=True,
                        unit="symbols")
    k = closed_form_constants(n_antennas, snr_dl, snr_ul)
    inner = tau_c * k.lam - tau_c * k.b_sq / tau_p - tau_p * k.lam + k.b_sq
    return unit_scale(unit) * bw / tau_t * inner


@fill_doc
def optimal_pilot_length(n_comm_symbols, *, n_antennas, snr_dl, snr_ul):
    """Real pilot length that maximises the bound Eq. (16), Eq. (17).

    .. math:: \\tilde\\tau_P = \\sqrt{\\frac{\\tau_C N_T \\varepsilon}{\\alpha\\Lambda}}

    Parameters
    ----------
    n_comm_symbols : array_like
        Communication symbols :math:`\\tau_C`, >= 0. [symbols]
    {link}

    Returns
    -------
    ndarray
        :math:`\\tilde\\tau_P`; it exceeds :math:`\\tau_C` where the bound has no interior
        maximum (see :func:`capacity_closed_form`). [symbols]
    """
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0.0, unit="symbols")
    k = closed_form_constants(n_antennas, snr_dl, snr_ul)
    return np.sqrt(tau_c * k.b_sq / k.lam)


@fill_doc
def capacity_closed_form(bandwidth_hz, n_comm_symbols, *, n_antennas, snr_dl, snr_ul,
                         n_symbols=200, unit="bit"):
    """Capacity at the optimal real pilot length, Eq. (18), as a perfect square.

    .. math::

        \\tilde C(B_C, \\tau_C) = \\frac{B_C}{\\tau_T}\\left(\\tau_C\\Lambda
        - 2\\sqrt{\\frac{\\tau_C N_T\\Lambda\\varepsilon}{\\alpha}} + \\frac{N_T\\varepsilon}{\\alpha}\\right)
        = \\frac{B_C}{\\tau_T}\\left(\\sqrt{\\tau_C\\Lambda} - b\\right)^2

    Only the branch :math:`\\tau_C\\Lambda \\ge b^2` (that is :math:`\\tilde\\tau_P \\le \\tau_C`)
    is meaningful; below it the best value of Eq. (16) is 0 and so is this function
    (docs/model.md, "Capacity").

    Parameters
    ----------
    bandwidth_hz : array_like
        Bandwidth given to communication :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like
        Communication symbols :math:`\\tau_C`, in [0, ``n_symbols``] (real values allowed). [symbols]
    {link_frame}

    Returns
    -------
    ndarray
        Closed-form capacity. [bit/s or nat/s]

    Notes
    -----
    It lies below the supremum of Eq. (1) over real pilot lengths, but may exceed
    Eq. (1) at the best *integer* pilot length when :math:`\\tilde\\tau_P < 1`
    (e.g. +0.26 % for :math:`N_T = 8` at 30 dB).
    """
    bw = check_array("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    tau_t = _check_symbols(n_symbols)
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0.0, unit="symbols")
    if np.any(tau_c > tau_t):
        raise ParameterError("n_comm_symbols must be <= n_symbols")
    k = closed_form_constants(n_antennas, snr_dl, snr_ul)
    root = np.sqrt(tau_c * k.lam) - np.sqrt(k.b_sq)
    return unit_scale(unit) * bw / tau_t * np.where(root > 0.0, root * root, 0.0)


def frame_capacity_table(comm_bandwidth_hz, comm_symbols, dl_fraction, comm_power_fraction,
                         *, n_antennas, snr_dl, snr_ul, n_symbols=200):
    """Capacity of frames with both directions, every candidate at every link, by brute
    force over the pilot length (the numpy reference of the kernel's frame).

    A candidate has ``comm_symbols`` symbols ``tau_C``: a downlink part of ``D =
    round(dl_fraction tau_C)`` and an uplink part of ``U = tau_C - D`` holding the
    ``tau_P`` uplink pilots first (overflowing into the downlink part when ``tau_P > U``):

    .. math:: C = \\frac{B_C}{\\tau_T} \\max_{\\tau_P}
              [(D - (\\tau_P - U)^+) \\ln(1 + x_{dl}) + (U - \\tau_P)^+ \\ln(1 + x_{ul})]

    with Eq. (1)'s ``x`` for each direction at the data SNR times ``comm_power_fraction``
    (``dl_fraction = 1`` is Eq. 1, ``0`` its uplink counterpart).

    Parameters
    ----------
    comm_bandwidth_hz, comm_symbols, dl_fraction, comm_power_fraction : array_like
        Per candidate, shape (candidates,). [Hz, symbols, 1, 1]
    n_antennas, snr_dl, snr_ul : array_like
        Per link, shape (links,) or scalars. [1, linear, linear]
    n_symbols : int, default 200

    Returns
    -------
    ndarray of shape (candidates, links)
        [bit/s]
    """
    tau_c = np.asarray(comm_symbols, np.float64)[:, None, None]
    k = np.arange(1, int(n_symbols), dtype=np.float64)[None, None, :]
    n = np.asarray(n_antennas, np.float64)[None, ..., None]
    sdl = np.asarray(snr_dl, np.float64)[None, ..., None]
    sul = np.asarray(snr_ul, np.float64)[None, ..., None]
    power = np.asarray(comm_power_fraction, np.float64)[:, None, None]
    q = k * sul
    r = q / (1.0 + q)
    s_dl, s_ul = sdl * power, sul * power
    d = np.floor(np.asarray(dl_fraction, np.float64)[:, None, None] * tau_c + 0.5)
    u = tau_c - d
    frame = (d - np.maximum(k - u, 0.0)) * np.log1p(n * s_dl / (1 + s_dl) * r) + \
        np.maximum(u - k, 0.0) * np.log1p(n * s_ul / (1 + s_ul) * r)
    eff = np.where(k < tau_c, frame, 0.0).max(axis=2, initial=0.0)
    return np.asarray(comm_bandwidth_hz, np.float64)[:, None] / n_symbols * eff / np.log(2.0)
