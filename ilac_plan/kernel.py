"""The Python edge of the compiled kernel: validation, casting, allocation, threads.

These functions have the same signatures and results as their references in
:mod:`ilac_plan.model` (to 1e-12 relative), plus ``n_threads``; they run the GIL-free
Cython loops of :mod:`ilac_plan._core`. Inputs broadcast together like numpy
arguments.
"""

import os

import numpy as np

from . import _core
from ._validate import check_array, check_scalar, short_repr
from .errors import ParameterError
from .model.capacity import _check_link, unit_scale
from .model.crb import _cos_broadside


def resolve_n_threads(n_threads=None):
    """Number of OpenMP threads to use.

    Parameters
    ----------
    n_threads : int or None
        None or -1: every thread OpenMP would use (``OMP_NUM_THREADS`` or the CPU
        count); a positive integer: that many. A serial build always uses 1.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        If ``n_threads`` is 0, below -1 or not an integer.
    """
    if n_threads is not None and (isinstance(n_threads, (bool, np.bool_, np.timedelta64))
                                  or not isinstance(n_threads, (int, np.integer))):
        raise ParameterError(f"n_threads must be a positive integer or -1 (all); got "
                             f"{short_repr(n_threads)}")
    if n_threads is None or n_threads == -1:
        return max(1, _core.max_threads()) if _core.openmp_enabled() else 1
    if n_threads < 1:
        raise ParameterError(f"n_threads must be a positive integer or -1 (all); got {n_threads!r}")
    cpus = os.cpu_count() or 1
    return int(min(n_threads, 8 * cpus)) if _core.openmp_enabled() else 1


def _flat(*arrays):
    """Broadcast the arrays; return their shape and C-contiguous float64 ravelled copies."""
    arrays = np.broadcast_arrays(*arrays)
    return arrays[0].shape, [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]


def best_pilot_capacity(bandwidth_hz, n_comm_symbols, *, n_antennas, snr_dl, snr_ul,
                        n_symbols=200, unit="bit", n_threads=None):
    """Eq. (1) at the best integer pilot length, on the kernel.

    Same as :func:`ilac_plan.model.capacity.best_pilot_capacity` (which searches every
    pilot length) but with an O(log tau_C) unimodal search per element and threads.

    Parameters
    ----------
    bandwidth_hz : array_like
        Communication bandwidth :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like
        Communication symbols :math:`\\tau_C`, an integer in [0, ``n_symbols``].
    n_antennas : array_like
        Antennas :math:`N_T`, an integer >= 1.
    snr_dl, snr_ul : array_like
        Downlink and uplink received SNR per antenna, >= 0. [linear]
    n_symbols : array_like, default 200
        Symbols per coherence interval :math:`\\tau_T`.
    unit : {"bit", "nat"}
        Capacity unit (bit/s or nat/s).
    n_threads : int, optional
        See :func:`resolve_n_threads`.

    Returns
    -------
    capacity : ndarray
        [bit/s or nat/s]
    n_pilot_symbols : ndarray of int64
        The smallest maximising pilot length (``n_comm_symbols`` when it is <= 1).
    """
    scale = unit_scale(unit)
    threads = resolve_n_threads(n_threads)
    tau_t = check_array("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0, integer=True, unit="symbols")
    if np.any(tau_c > tau_t):
        raise ParameterError("n_comm_symbols must be <= n_symbols")
    bw = check_array("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    n, sdl, sul = _check_link(n_antennas, snr_dl, snr_ul, zero_ok=True)
    shape, (bw, tau_t, tau_c, n, sdl, sul) = _flat(bw, tau_t, tau_c, n, sdl, sul)
    efficiency = np.empty_like(tau_c)
    tau_p = np.empty(tau_c.shape, dtype=np.int64)
    _core.best_pilot_efficiency_kernel(tau_c, n, sdl, sul, efficiency, tau_p, threads)
    capacity = scale * bw / tau_t * efficiency
    return capacity.reshape(shape), tau_p.reshape(shape)


def best_pilot_capacity_table(bandwidth_hz, n_comm_symbols, *, n_antennas, snr_dl, snr_ul,
                              n_symbols=200, unit="bit", n_threads=None):
    """Eq. (1) at the best integer pilot length for every point and every tau_C of a list.

    The same values as :func:`best_pilot_capacity` on the outer product of the points and
    ``n_comm_symbols``, from one upward walk of the pilot length per point (the smallest
    maximiser does not decrease with tau_C): for schemes that need many tau_C per point.

    Parameters
    ----------
    bandwidth_hz : float
        Communication bandwidth :math:`B_C`, >= 0. [Hz]
    n_comm_symbols : array_like of int
        The :math:`\tau_C` values, 1-D, each in [0, ``n_symbols``] (any order).
    n_antennas, snr_dl, snr_ul : array_like
        Per point, 1-D of one length (or scalars): antennas, downlink and uplink SNR
        [linear].
    n_symbols : int, default 200
        Symbols per coherence interval :math:`\tau_T`.
    unit : {"bit", "nat"}
    n_threads : int, optional

    Returns
    -------
    ndarray of shape (points, len(n_comm_symbols))
        [bit/s or nat/s]
    """
    scale = unit_scale(unit)
    threads = resolve_n_threads(n_threads)
    tau_t = check_scalar("n_symbols", n_symbols, low=1, integer=True, unit="symbols")
    tau_c = check_array("n_comm_symbols", n_comm_symbols, low=0, high=tau_t, integer=True,
                        unit="symbols")
    if tau_c.ndim != 1:
        raise ParameterError(f"n_comm_symbols must be 1-D; got shape {tau_c.shape}")
    bw = check_scalar("bandwidth_hz", bandwidth_hz, low=0.0, unit="Hz")
    n, sdl, sul = _check_link(n_antennas, snr_dl, snr_ul, zero_ok=True)
    n, sdl, sul = (np.ascontiguousarray(np.ravel(a), dtype=np.float64)
                   for a in np.broadcast_arrays(n, sdl, sul))
    ascending = bool(np.all(np.diff(tau_c) >= 0))
    order = None if ascending else np.argsort(tau_c, kind="stable")
    sorted_tau = np.ascontiguousarray(tau_c if ascending else tau_c[order], dtype=np.int64)
    table = np.empty((n.size, sorted_tau.size))
    _core.pilot_efficiency_table_kernel(sorted_tau, n, sdl, sul, table, threads)
    if not ascending:
        table = table[:, np.argsort(order)]
    table *= scale * bw / tau_t
    return table


def crb_position(distance_m, theta_rad, loc_bandwidth_hz, n_loc_symbols, *, n_antennas, snr,
                 wavelength_m, spacing_m=None, varsigma=1.0, n_threads=None):
    """Position CRB of Eqs. (4)-(7), on the kernel.

    Same arguments and result as :func:`ilac_plan.model.crb.crb_position`, plus
    ``n_threads`` (see :func:`resolve_n_threads`). [m^2]
    """
    threads = resolve_n_threads(n_threads)
    r = check_array("distance_m", distance_m, low=0.0, unit="m")
    cos = _cos_broadside(theta_rad)
    b_l = check_array("loc_bandwidth_hz", loc_bandwidth_hz, low=0.0, unit="Hz")
    tau_l = check_array("n_loc_symbols", n_loc_symbols, low=0.0, unit="symbols")
    n = check_array("n_antennas", n_antennas, low=1, integer=True)
    gamma = check_array("snr", snr, low=0.0, low_open=True)
    lam = check_array("wavelength_m", wavelength_m, low=0.0, low_open=True, unit="m")
    d_a = lam / 2.0 if spacing_m is None else check_array(
        "spacing_m", spacing_m, low=0.0, low_open=True, unit="m")
    vs = check_array("varsigma", varsigma, low=0.0)
    shape, flat = _flat(r, cos, b_l, tau_l, n, gamma, lam, d_a, vs)
    out = np.empty_like(flat[0])
    _core.crb_position_kernel(*flat, out, threads)
    return out.reshape(shape)
