"""The network position bound at points of a site table (numpy, for studies).

:func:`network_bound` finds, at every point, the ``n_cells`` strongest cells with the same
link budget as :func:`ilac_plan.evaluate` (path-loss model, antenna pattern, heights),
gives each its SNR and its share of a positioning resource, and fuses their informations
with :func:`ilac_plan.model.network.network_information`. It materialises (points x
cells) arrays in chunks: a reference and a study tool, not the planner (the coverage
kernel still bounds each point from its serving cell).
"""

import numpy as np
import pandas as pd

from ._validate import check_choice, check_flag
from .coverage import _points, _propagation, cell_arrays, link_geometry, resolve_antenna
from .errors import ParameterError
from .limits import check_limit
from .model.antenna import antenna_attenuation_db
from .model.crb import check_bound, delay_mean_square_bandwidth_hz2
from .model.network import MEASUREMENTS, crb_from_information, network_information
from .radio import RadioParams

#: Most cells fused per point.
MAX_CELLS = 8
#: Points per chunk of the (points x cells) arrays.
CHUNK = 4096


def network_bound(sites, x_m, y_m, *, n_cells=4, measurements="toa_aoa",
                  loc_bandwidth_hz=None, n_loc_symbols=1, prs_reuse=1, radio=None,
                  propagation=None, propagation_params=None, antenna=None,
                  sector_pattern=None, ue_height_m=None, bound="paper", prs_interference=False):
    """Position bound from the ``n_cells`` strongest cells at every point.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table (see :func:`ilac_plan.coverage.cell_arrays`).
    x_m, y_m : array_like
        Points, in the sites' metres. [m]
    n_cells : int, default 4
        Cells fused per point, the strongest first (1 to 8; 1 is the serving cell's bound).
    measurements : {"toa_aoa", "tdoa", "aoa"}
        See :mod:`ilac_plan.model.network`.
    loc_bandwidth_hz : float, optional
        Bandwidth of each cell's positioning signal; default the whole band. [Hz]
    n_loc_symbols : float, default 1
        Positioning symbols of the resource, shared by the cells. [symbols]
    prs_reuse : int, default 1
        Reuse factor: each cell gets ``n_loc_symbols / prs_reuse`` symbols (1: orthogonal
        by code, every cell on every symbol).
    radio, propagation, propagation_params, antenna, sector_pattern, ue_height_m
        As in :func:`ilac_plan.evaluate`.
    prs_interference : bool, default False
        Each fused cell's PRS SINR counts every other cell on its slot (row index mod
        ``prs_reuse``) as interference.
    bound : {"paper"}
        The paper's per-cell bound (Eqs. 5-6) with its geometry (3-D range, horizontal
        angle); the achievable bound is not fused yet.

    Returns
    -------
    pandas.DataFrame
        Per point: ``serving_cell`` (row position), ``cells_used`` (cells with
        positioning information), ``serving_error_m`` (the serving cell alone) and
        ``network_error_m`` (all of them) [m], ``gain_db`` (10 log10 of their CRB ratio).
    """
    radio = RadioParams() if radio is None else radio
    if not isinstance(radio, RadioParams):
        raise ParameterError("radio must be a RadioParams")
    if check_bound(bound) != "paper":
        raise ParameterError("network_bound: bound must be 'paper' (the achievable bound is "
                             "not fused yet)")
    mode = check_choice("measurements", measurements, MEASUREMENTS)
    if isinstance(n_cells, (bool, np.bool_)) or not isinstance(n_cells, (int, np.integer)) \
            or not 1 <= n_cells <= MAX_CELLS:
        raise ParameterError(f"n_cells must be an integer from 1 to {MAX_CELLS}; got {n_cells!r}")
    if isinstance(prs_reuse, (bool, np.bool_)) or not isinstance(prs_reuse, (int, np.integer)) \
            or prs_reuse < 1:
        raise ParameterError(f"prs_reuse must be an integer >= 1; got {prs_reuse!r}")
    b_l = radio.bandwidth_hz if loc_bandwidth_hz is None else float(loc_bandwidth_hz)
    if not 0.0 < b_l <= radio.bandwidth_hz:
        raise ParameterError(f"loc_bandwidth_hz must be in (0, {radio.bandwidth_hz:g}] Hz; "
                             f"got {loc_bandwidth_hz!r}")
    tau_l = float(n_loc_symbols)
    if not 0.0 < tau_l <= radio.n_symbols:
        raise ParameterError(f"n_loc_symbols must be in (0, {radio.n_symbols}]; got "
                             f"{n_loc_symbols!r}")
    antenna = resolve_antenna(antenna, None if sector_pattern is None
                              else check_flag("sector_pattern", sector_pattern))
    ue_h = check_limit("ue_height_m", 0.0 if ue_height_m is None else ue_height_m)
    cells = cell_arrays(sites, radio, ue_h, antenna, "paper")
    model = _propagation(propagation, propagation_params, radio,
                         link_geometry(sites, cells, radio, ue_height_m))
    x, y = _points(x_m, y_m)
    k = min(int(n_cells), cells["x"].size)
    az_deg = np.rad2deg(np.arctan2(cells["ux"], cells["uy"]))
    tilt = np.rad2deg(np.arctan2(cells["sin_tilt"], cells["cos_tilt"]))
    etilt = np.rad2deg(cells["etilt"])
    beta2 = float(delay_mean_square_bandwidth_hz2(b_l, bound="paper", varsigma=radio.varsigma))
    per_cell = tau_l / prs_reuse
    out = {name: np.empty(x.size) for name in ("serving_error_m", "network_error_m")}
    serving = np.empty(x.size, np.int32)
    used = np.empty(x.size, np.int16)
    for s in range(0, x.size, CHUNK):
        px, py = x[s:s + CHUNK, None], y[s:s + CHUNK, None]
        dx, dy = px - cells["x"], py - cells["y"]
        dz = cells["dz"]
        r3 = np.sqrt(dx * dx + dy * dy + dz * dz)
        rx = cells["eirp_dbm"] - model.path_loss_db(r3) - antenna_attenuation_db(
            dx, dy, np.broadcast_to(dz, dx.shape), azimuth_deg=az_deg, tilt_deg=tilt,
            electrical_tilt_deg=etilt, antenna=antenna, panel_rows=cells["panel_m"],
            panel_spacing_wavelengths=cells["panel_spacing"])
        # the strongest first (stable: the lower index wins ties, like the kernel)
        order = np.argsort(-rx, axis=1, kind="stable")[:, :k]
        rows = np.arange(order.shape[0])[:, None]
        snr = 10.0 ** ((rx[rows, order] - radio.noise_dbm) / 10.0)
        if prs_interference:
            lin = 10.0 ** (rx / 10.0)                              # [mW]
            slot = np.arange(lin.shape[1]) % prs_reuse
            same = slot[order][:, :, None] == slot[None, None, :]   # (points, k, cells)
            rest = np.einsum("pkc,pc->pk", same.astype(np.float64), lin) - lin[rows, order]
            noise_mw = 10.0 ** (radio.noise_dbm / 10.0)
            snr = lin[rows, order] / (noise_mw + np.maximum(rest, 0.0))
        n_ant = cells["n_antennas"][order]
        j_u = cells["information"][0][order] * snr * per_cell
        j_t = 8.0 * np.pi**2 * n_ant * snr * per_cell * beta2
        # the paper's geometry: the 3-D range along the horizontal direction, h = 0
        hx, hy = dx[rows, order], dy[rows, order]
        hd = np.hypot(hx, hy)
        stretch = np.where(hd > 0, r3[rows, order] / np.where(hd > 0, hd, 1.0), 0.0)
        gx, gy = hx * stretch, hy * stretch
        ax, ay = cells["uy"][order], -cells["ux"][order]       # along each array
        kw = dict(axis_x=ax, axis_y=ay, measurements=mode)
        info = network_information(gx, gy, angle_info=j_u, delay_info_hz2=j_t, **kw)
        one = network_information(gx[:, :1], gy[:, :1], angle_info=j_u[:, :1],
                                  delay_info_hz2=j_t[:, :1], axis_x=ax[:, :1],
                                  axis_y=ay[:, :1], measurements="toa_aoa")
        out["network_error_m"][s:s + CHUNK] = np.sqrt(crb_from_information(info))
        out["serving_error_m"][s:s + CHUNK] = np.sqrt(crb_from_information(one))
        serving[s:s + CHUNK] = order[:, 0]
        used[s:s + CHUNK] = np.sum((j_u > 0) | (j_t > 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = 20.0 * np.log10(out["serving_error_m"] / out["network_error_m"])
    gain = np.where(np.isfinite(gain), gain, np.where(
        np.isinf(out["serving_error_m"]) & np.isfinite(out["network_error_m"]), np.inf, 0.0))
    return pd.DataFrame({"serving_cell": serving, "cells_used": used, **out, "gain_db": gain})
