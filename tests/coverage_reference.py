"""A plain numpy implementation of ilac_plan.evaluate, written from the model functions.

It materialises the (points x cells) and (points x splits) arrays the kernel avoids and
searches every split by brute force, so it is slow and memory-hungry: for tests only.
"""

import numpy as np

from ilac_plan.model import best_pilot_capacity, crb_position, free_space
from ilac_plan.model.antenna import antenna_attenuation_db


def _col(sites, name, default):
    if name in sites.columns:
        return sites[name].to_numpy(float)
    return np.full(len(sites), default)


def _nearest_images(x, y, sx, sy, shifts):
    """Offsets (points x cells) from each cell's nearest image (first of equals)."""
    dx0 = x[:, None] - sx[None, :]
    dy0 = y[:, None] - sy[None, :]
    dx, dy, best = dx0, dy0, dx0**2 + dy0**2
    for ox, oy in shifts[1:]:
        ex, ey = dx0 - ox, dy0 - oy
        e2 = ex**2 + ey**2
        closer = e2 < best
        dx, dy, best = np.where(closer, ex, dx), np.where(closer, ey, dy), np.where(closer, e2,
                                                                                     best)
    return dx, dy


def reference_evaluate(sites, x, y, *, radio, target_error_m=None, max_capacity_loss=None,
                       schemes=("time", "frequency"), interference=False, propagation=None,
                       sector_pattern=True, ue_height_m=0.0, antenna=None, bound="paper",
                       epre="paper", dl_prs="orthogonal", wrap_shifts_m=None):
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    antenna = antenna or ("horizontal" if sector_pattern else "omni")
    model = propagation or free_space(radio.carrier_hz)
    sx, sy = sites.x_m.to_numpy(float), sites.y_m.to_numpy(float)
    az_deg = sites.azimuth_deg.to_numpy(float)
    az = np.deg2rad(az_deg)
    power = sites.power_dbm.to_numpy(float)
    default_gain = 8.0 if antenna == "3gpp" else radio.gnb_gain_db
    gain = sites.gain_dbi.to_numpy(float) if "gain_dbi" in sites else np.full(len(sites),
                                                                               default_gain)
    tilt = sites.tilt_deg.to_numpy(float) if "tilt_deg" in sites else np.zeros(len(sites))
    etilt = sites.electrical_tilt_deg.to_numpy(float) if "electrical_tilt_deg" in sites \
        else np.zeros(len(sites))
    height = sites.height_m.to_numpy(float) if "height_m" in sites else np.zeros(len(sites))
    ue_power = sites.ue_power_dbm.to_numpy(float) if "ue_power_dbm" in sites else \
        np.full(len(sites), radio.ue_power_dbm)
    spacing = sites.spacing_m.to_numpy(float) if "spacing_m" in sites else \
        np.full(len(sites), radio.antenna_spacing_m)
    n_ant = sites.n_antennas.to_numpy(float)

    shifts = np.zeros((1, 2)) if wrap_shifts_m is None else np.asarray(wrap_shifts_m, float)
    dx, dy = _nearest_images(x, y, sx, sy, shifts)
    dist = np.sqrt(dx**2 + dy**2 + (height[None, :] - ue_height_m) ** 2)
    phi = np.arctan2(dx * np.cos(az) - dy * np.sin(az), dx * np.sin(az) + dy * np.cos(az))
    rx = (power + gain + radio.ue_gain_db)[None, :] - model.path_loss_db(dist)
    rx = rx - antenna_attenuation_db(dx, dy, (ue_height_m - height)[None, :],
                                     azimuth_deg=az_deg[None, :], tilt_deg=tilt[None, :],
                                     electrical_tilt_deg=etilt[None, :], antenna=antenna,
                                     panel_rows=_col(sites, "panel_rows", 1.0)[None, :],
                                     panel_spacing_wavelengths=_col(
                                         sites, "panel_spacing_wavelengths", 0.5)[None, :])
    serving = np.argmax(rx, axis=1)
    rows = np.arange(x.size)
    rx_s = rx[rows, serving]
    snr_noint = rx_s - radio.noise_dbm
    if interference:
        lin = 10.0 ** (rx / 10.0)
        others = np.where(np.arange(len(sites))[None, :] == serving[:, None], 0.0, lin).sum(1)
        snr_db = 10 * np.log10(10.0 ** (rx_s / 10.0) / (10.0 ** (radio.noise_dbm / 10.0) + others))
    else:
        snr_db = snr_noint
    phi_s = phi[rows, serving]
    theta = np.where(phi_s > np.pi / 2, np.pi - phi_s, np.where(phi_s < -np.pi / 2, -np.pi - phi_s,
                                                                 phi_s))
    link = dict(r=dist[rows, serving], theta=theta, n=n_ant[serving],
                gamma=10.0 ** (snr_db / 10.0), snr_ul=10.0 ** ((snr_noint + ue_power[serving]
                                                               - power[serving]) / 10.0),
                spacing=spacing[serving], h=(height - ue_height_m)[serving],
                opts=dict(bound=bound, epre=epre, dl_prs=dl_prs))
    out = {"serving_cell": serving, "distance_m": link["r"], "theta_deg": np.rad2deg(theta),
           "snr_db": snr_db}
    results = []
    for name in schemes:
        cap, err, share, ok = _scheme(name, link, radio, target_error_m, max_capacity_loss)
        out[f"{name}_capacity_bps"], out[f"{name}_error_m"], out[f"{name}_loc_share"] = \
            cap, err, share
        results.append((cap, err, ok))
    best = np.full(x.size, "infeasible", dtype=object)
    for i in range(x.size):
        best_k = None
        for k, (cap, err, ok) in enumerate(results):
            if not ok[i]:
                continue
            if best_k is None:
                best_k = k
            elif max_capacity_loss is None and cap[i] > results[best_k][0][i]:
                best_k = k
            elif max_capacity_loss is not None and (
                    err[i] < results[best_k][1][i]
                    or (err[i] == results[best_k][1][i] and cap[i] > results[best_k][0][i])):
                best_k = k
        if best_k is not None:
            best[i] = schemes[best_k]
    out["best_scheme"] = best
    return out


def _crb(link, radio, b_l, tau_l):
    col = lambda v: np.asarray(v, float)[:, None]  # noqa: E731
    o = link["opts"]
    gain = np.asarray(b_l, float) / radio.bandwidth_hz if o["epre"] == "equal" else 1.0
    return crb_position(col(link["r"]), col(link["theta"]), b_l, tau_l, n_antennas=col(link["n"]),
                        snr=col(link["gamma"]) * gain, wavelength_m=radio.wavelength_m,
                        spacing_m=col(link["spacing"]), varsigma=radio.varsigma,
                        bound=o["bound"], height_diff_m=col(link["h"]), dl_prs=o["dl_prs"],
                        loc_direction="downlink",
                        subcarrier_spacing_hz=radio.subcarrier_spacing_hz)


def _capacity(link, radio, b_c, tau_c):
    cap, _ = best_pilot_capacity(b_c, tau_c, n_antennas=link["n"], snr_dl=link["gamma"],
                                 snr_ul=link["snr_ul"], n_symbols=radio.n_symbols)
    return cap


def _scheme(name, link, radio, target, budget):
    tau_t, b, rb = radio.n_symbols, radio.bandwidth_hz, radio.rb_bandwidth_hz
    n_pts = link["r"].size
    if name == "time":
        splits = np.arange(1, tau_t + 1, dtype=float)
        crb = _crb(link, radio, b, splits[None, :])
    else:
        splits = np.arange(1, radio.n_resource_blocks + 1) * rb
        if splits[-1] != b:
            splits = np.append(splits, b)
        crb = _crb(link, radio, splits[None, :], tau_t)
    if budget is None:
        t2 = (1.0 if target is None else target) ** 2
        meets = crb <= t2 * (1 + 1e-12)
        ok = meets.any(axis=1)
        j = np.argmax(meets, axis=1)
        chosen = np.where(ok, splits[j], splits[-1])
        err = np.sqrt(crb[np.arange(n_pts), np.where(ok, j, splits.size - 1)])
    else:
        if name == "time":
            full = _capacity(link, radio, b, tau_t)
            caps = np.stack([_capacity(link, radio, b, tc) for tc in range(tau_t + 1)], axis=1)
            tau_c = np.argmax(caps >= ((1.0 - budget) * full * (1 - 1e-12))[:, None], axis=1)
            chosen = (tau_t - tau_c).astype(float)
        else:
            # capacity is linear in B_C: keep (B - B_L) >= (1 - f) B, with the same slack
            splits = np.concatenate([[0.0], splits])
            keep = (b - splits) >= (1.0 - budget) * b * (1 - 1e-12)
            chosen = np.full(n_pts, splits[np.nonzero(keep)[0][-1]])
        err = np.sqrt(np.where(chosen > 0, _crb(link, radio, *(
            (b, chosen[:, None]) if name == "time" else (chosen[:, None], tau_t)))[:, 0], np.inf))
        ok = np.isfinite(err)
    if name == "time":
        cap = _capacity(link, radio, b, tau_t - chosen)
        share = chosen / tau_t
    else:
        cap = _capacity(link, radio, b - chosen, tau_t)
        share = chosen / b
    if budget is None:
        cap = np.where(ok, cap, 0.0)
        share = np.where(ok, share, 1.0)
    return cap, err, share, ok
