"""Capacity against position CRB for whole-symbol and whole-resource-block splits (Figs. 2-3).

For each number of antennas and each link (given by its SNR or its distance), every
split of the resource between communication and localization:

* ``time``: :math:`\\tau_L = 1 \\ldots \\tau_T` symbols for localization over the whole
  bandwidth; communication keeps :math:`\\tau_C = \\tau_T - \\tau_L` symbols (Def. 1-2);
* ``frequency``: :math:`B_L = k \\cdot 180` kHz for :math:`k = 1 \\ldots 111`, then the whole
  20 MHz, for localization over all symbols; communication keeps :math:`B - B_L` (Def. 3-4).

Capacity is Eq. (1) at the best integer pilot length (or Eq. (18) with
``closed_form=True``), the CRB is Eq. (7), both computed on the kernel. The readings of
docs/model.md ("Conventions that reproduce the paper") apply: the SNR of a curve is :math:`\\rho_{dl}\\beta` per antenna, the
CRB SNR :math:`\\gamma` equals it, and the distance comes from free-space path loss.
"""

import numpy as np
import pandas as pd

from . import kernel
from ._validate import check_array, check_choice, check_flag, check_names, check_scalar
from .errors import ParameterError
from .model.capacity import capacity_closed_form, frame_capacity_table
from .model.crb import check_bound, check_dl_prs, crb_position
from .model.linkbudget import distance_for_path_gain_m, free_space_path_gain, linear_to_db
from .radio import RadioParams
from .schemes import EPRE

#: Column order of the ``tradeoff`` CSV (documented in README.md; other tools read it).
TRADEOFF_COLUMNS = (
    "scheme", "n_antennas", "snr_db", "loc_symbols", "loc_bandwidth_hz",
    "capacity_bps", "crb_m2", "capacity_loss_bps", "crb_loss",
)
SCHEMES = ("time", "frequency")


def frequency_splits_hz(radio):
    """Localization bandwidths of the frequency scheme: whole resource blocks, then all of B.

    Parameters
    ----------
    radio : RadioParams

    Returns
    -------
    ndarray
        :math:`B_L = k \\cdot` ``rb_bandwidth_hz`` for k = 1 .. floor(B / RB), followed by
        ``bandwidth_hz`` when it is not a whole number of blocks. [Hz]
    """
    k = np.arange(1, radio.n_resource_blocks + 1, dtype=np.float64)
    splits = k * radio.rb_bandwidth_hz
    if splits.size == 0 or not np.isclose(splits[-1], radio.bandwidth_hz, rtol=1e-12):
        splits = np.append(splits, radio.bandwidth_hz)
    else:
        splits[-1] = radio.bandwidth_hz
    return splits


def link_geometry(radio, snr_db=None, distance_m=None):
    """Downlink SNR, uplink SNR and distance of each link, from its SNR or its distance.

    Parameters
    ----------
    radio : RadioParams
    snr_db : array_like, optional
        Received downlink SNR per antenna :math:`\\rho_{dl}\\beta`. [dB]
    distance_m : array_like, optional
        UE-gNB distance, > 0 (exactly one of ``snr_db`` and ``distance_m``). [m]

    Returns
    -------
    snr_dl, snr_ul, distance_m : ndarray
        Linear SNRs and distances [m], one per link.
    """
    if (snr_db is None) == (distance_m is None):
        raise ParameterError("give exactly one of snr_db and distance_m")
    if snr_db is not None:
        snr_db = np.atleast_1d(check_array("snr_db", snr_db, low=-50, high=100, unit="dB"))
        if snr_db.ndim > 1:
            raise ParameterError(f"snr_db must be a number or a flat list; got shape "
                                 f"{snr_db.shape}")
        beta = 10.0 ** (snr_db / 10.0) / radio.rho_dl
        distance = distance_for_path_gain_m(beta, radio.carrier_hz)
    else:
        distance = np.atleast_1d(check_array("distance_m", distance_m, low=0.0, low_open=True,
                                             unit="m"))
        if distance.ndim > 1:
            raise ParameterError(f"distance_m must be a number or a flat list; got shape "
                                 f"{distance.shape}")
        beta = free_space_path_gain(distance, radio.carrier_hz)
    return radio.rho_dl * beta, radio.rho_ul * beta, distance


def tradeoff_curves(n_antennas=(8,), snr_db=None, distance_m=None, *, radio=None,
                    theta_deg=0.0, schemes=SCHEMES, closed_form=False, n_threads=None,
                    bound="paper", epre="paper", dl_prs="orthogonal", scheme_params=None):
    """Capacity and position CRB of every split of the time, frequency or any registered
    plan-form scheme.

    Parameters
    ----------
    n_antennas : int or sequence of int, default (8,)
        Antennas :math:`N_T` of the gNB, each >= 1.
    snr_db : float or sequence of float, optional
        Received downlink SNR per antenna :math:`\\rho_{dl}\\beta`; default (10, 20, 30)
        when ``distance_m`` is not given. [dB]
    distance_m : float or sequence of float, optional
        UE-gNB distances instead of SNRs (free-space path loss). [m]
    radio : RadioParams, optional
        Radio settings; default the paper's.
    theta_deg : float, default 0
        Angle of the UE off the array broadside (the paper's omnidirectional gNB: 0). [deg]
    schemes : sequence of str
        Which splits to compute: ``"time"``, ``"frequency"`` (the paper's, Figs. 2-3) or
        any registered plan-form scheme (``ilac-plan schemes``), whose candidates are
        evaluated with the kernel's frame (docs/plugins.md, "Resource plans") at the
        best integer pilot length, by brute force.
    scheme_params : dict, optional
        ``{scheme: {parameter: value}}`` for plugin schemes.
    closed_form : bool, default False
        Capacity from Eq. (18) instead of Eq. (1) at the best integer pilot length.
    n_threads : int, optional
        Kernel threads (see :func:`ilac_plan.kernel.resolve_n_threads`).
    bound : {"paper", "achievable"}, default "paper"
        Position bound (docs/model.md, "Two bounds"); the achievable one for a downlink
        PRS to a single-antenna UE (``dl_prs``) in the plane (no heights).
    epre : {"paper", "equal"}, default "paper"
        Energy convention: under ``"equal"`` a frequency split's positioning SNR is
        :math:`\\gamma B_L/B` (the time split is unchanged).
    dl_prs : {"orthogonal", "beamformed"}, default "orthogonal"

    Returns
    -------
    pandas.DataFrame
        One row per split with the columns of :data:`TRADEOFF_COLUMNS`: capacity
        [bit/s], CRB [m^2], capacity loss against the whole resource [bit/s] and CRB
        loss as the ratio to the CRB with the whole resource. Rows with an infinite
        CRB are left out.

    Examples
    --------
    >>> df = tradeoff_curves(n_antennas=8, snr_db=15, schemes=["frequency"])
    >>> round(float(df.capacity_bps.iloc[4]) / 1e6, 1)   # 5 resource blocks for positioning
    58.8
    """
    radio = RadioParams() if radio is None else radio
    if not isinstance(radio, RadioParams):
        raise ParameterError("radio must be a RadioParams")
    schemes = list(check_names("schemes", schemes))
    if len(set(schemes)) != len(schemes):
        raise ParameterError("schemes must not repeat a name")
    closed_form = check_flag("closed_form", closed_form)
    other = [s for s in schemes if s not in SCHEMES]
    if other and closed_form:
        raise ParameterError(f"closed_form (Eq. 18) covers time and frequency only; got "
                             f"{other[0]!r}")
    from .coverage import _mapping

    scheme_params = _mapping("scheme_params", scheme_params)
    extra = sorted(set(scheme_params) - set(other))
    if extra:
        raise ParameterError(f"scheme_params names {extra[0]!r}, which is not a plugin scheme "
                             "in schemes")
    if snr_db is None and distance_m is None:
        snr_db = (10.0, 20.0, 30.0)
    n_t = np.atleast_1d(check_array("n_antennas", n_antennas, low=1, high=65536, integer=True))
    if n_t.ndim != 1:
        raise ParameterError(f"n_antennas must be a number or a flat list; got shape {n_t.shape}")
    theta = check_scalar("theta_deg", theta_deg, low=-90, high=90, unit="deg")
    snr_dl, snr_ul, dist = link_geometry(radio, snr_db, distance_m)

    tau_t, bw = radio.n_symbols, radio.bandwidth_hz
    bound = check_bound(bound)
    epre = check_choice("epre", epre, EPRE)
    dl_prs = check_dl_prs(dl_prs)
    plugin_frames = [_plan_curves(name, scheme_params.get(name), radio, n_t, snr_dl, snr_ul,
                                  dist, np.deg2rad(theta), bound, epre, dl_prs)
                     for name in other]
    schemes = [s for s in schemes if s in SCHEMES]
    if not schemes:
        frame = pd.concat(plugin_frames, ignore_index=True)
        return frame[np.isfinite(frame["crb_m2"].to_numpy())].reset_index(drop=True)
    blocks = []
    for scheme in schemes:
        if scheme == "time":
            loc_symbols = np.arange(1, tau_t + 1, dtype=np.float64)
            loc_bw = np.full(loc_symbols.shape, bw)
        else:
            loc_bw = frequency_splits_hz(radio)
            loc_symbols = np.full(loc_bw.shape, float(tau_t))
        blocks.append((scheme, loc_symbols, loc_bw))

    # Every (antennas, link, split) combination, flattened, for one kernel call each.
    rows = []
    for scheme, loc_symbols, loc_bw in blocks:
        nt_g, link_g, split_g = np.meshgrid(np.arange(n_t.size), np.arange(dist.size),
                                            np.arange(loc_symbols.size), indexing="ij")
        rows.append((scheme, n_t[nt_g.ravel()], link_g.ravel(), loc_symbols[split_g.ravel()],
                     loc_bw[split_g.ravel()]))
    scheme_col = np.concatenate([np.full(r[1].size, r[0], dtype=object) for r in rows])
    nt_col = np.concatenate([r[1] for r in rows])
    link_idx = np.concatenate([r[2] for r in rows])
    loc_symbols = np.concatenate([r[3] for r in rows])
    loc_bw = np.concatenate([r[4] for r in rows])
    sdl, sul, r = snr_dl[link_idx], snr_ul[link_idx], dist[link_idx]

    comm_symbols = tau_t - np.where(scheme_col == "time", loc_symbols, 0.0)
    comm_bw = bw - np.where(scheme_col == "frequency", loc_bw, 0.0)
    link = dict(n_antennas=nt_col, snr_dl=sdl, snr_ul=sul, n_symbols=tau_t)
    if closed_form:
        capacity = capacity_closed_form(comm_bw, comm_symbols, **link)
        full = capacity_closed_form(bw, tau_t, **link)
    else:
        capacity, _ = kernel.best_pilot_capacity(comm_bw, comm_symbols, n_threads=n_threads,
                                                 **link)
        full, _ = kernel.best_pilot_capacity(bw, tau_t, n_threads=n_threads, **link)
    theta_rad = np.deg2rad(theta)
    if bound == "paper":
        crb_args = dict(n_antennas=nt_col, wavelength_m=radio.wavelength_m,
                        spacing_m=radio.antenna_spacing_m, varsigma=radio.varsigma,
                        n_threads=n_threads)
        crb_at = kernel.crb_position
    else:
        crb_args = dict(n_antennas=nt_col, wavelength_m=radio.wavelength_m,
                        spacing_m=radio.antenna_spacing_m, bound=bound, dl_prs=dl_prs,
                        loc_direction="downlink",
                        subcarrier_spacing_hz=radio.subcarrier_spacing_hz)
        crb_at = crb_position
    share = loc_bw / bw if epre == "equal" else 1.0
    crb = crb_at(r, theta_rad, loc_bw, loc_symbols, snr=sdl * share, **crb_args)
    crb_min = crb_at(r, theta_rad, bw, tau_t, snr=sdl, **crb_args)

    with np.errstate(invalid="ignore"):  # inf/inf where the CRB is infinite: dropped below
        crb_loss = crb / crb_min
    frame = pd.DataFrame({
        "scheme": scheme_col,
        "n_antennas": nt_col.astype(np.int64),
        "snr_db": linear_to_db(sdl),
        "loc_symbols": loc_symbols.astype(np.int64),
        "loc_bandwidth_hz": loc_bw,
        "capacity_bps": capacity,
        "crb_m2": crb,
        "capacity_loss_bps": full - capacity,
        "crb_loss": crb_loss,
    }, columns=list(TRADEOFF_COLUMNS))
    frame = pd.concat([frame, *plugin_frames], ignore_index=True) if plugin_frames else frame
    return frame[np.isfinite(frame["crb_m2"].to_numpy())].reset_index(drop=True)


def _plan_curves(name, params, radio, n_t, snr_dl, snr_ul, dist, theta_rad, bound, epre,
                 dl_prs):
    """Every candidate (but the first, without positioning) of a plan-form plugin scheme
    at every (antennas, link): the kernel's frame at the best integer pilot length by
    brute force, the CRB under the bound and energy convention (LinkState)."""
    from .coverage import KERNEL_PLAN_ROWS, _compile_plans, _schemes
    from .schemes import LinkState

    chosen = _schemes([name], {name: params} if params else None)
    if chosen[0][1].form(chosen[0][2]) != "plan":
        raise ParameterError(f"tradeoff draws plan-form schemes; {name!r} is vectorized "
                             "with these parameters")
    _, data, uplink = _compile_plans(chosen, radio, bound, epre)
    row = {key: data[k][1:] for k, key in enumerate(KERNEL_PLAN_ROWS)}
    plan = chosen[0][1].plan(radio, **chosen[0][2])
    loc_bw = np.broadcast_to(np.asarray(plan.loc_bandwidth_hz, float), data.shape[1:])[1:]
    span = None if plan.loc_span_hz is None else \
        np.broadcast_to(np.asarray(plan.loc_span_hz, float), data.shape[1:])[1:]
    rms = None if plan.loc_rms_bandwidth_hz is None else \
        np.broadcast_to(np.asarray(plan.loc_rms_bandwidth_hz, float), data.shape[1:])[1:]
    loc_pow = np.broadcast_to(np.asarray(plan.loc_power_fraction, float), data.shape[1:])[1:]
    direction = "uplink" if uplink[0] else "downlink"
    tau_t = radio.n_symbols
    frames = []
    for n in n_t:
        link = LinkState(distance_m=dist, theta_rad=np.full(dist.size, theta_rad),
                         snr_dl=snr_dl, snr_ul=snr_ul, n_antennas=np.full(dist.size, float(n)),
                         spacing_m=np.full(dist.size, radio.antenna_spacing_m),
                         serving_cell=np.zeros(dist.size, np.int32),
                         height_diff_m=np.zeros(dist.size), bound=bound, epre=epre,
                         dl_prs=dl_prs)
        crb = np.stack([link.crb_position(
            radio, loc_bw[j], row["loc_symbols"][j], power_fraction=loc_pow[j],
            direction=direction, span_hz=None if span is None else span[j],
            rms_bandwidth_hz=None if rms is None else rms[j]) for j in range(loc_bw.size)])
        crb_min = link.crb_position(radio, radio.bandwidth_hz, tau_t, direction=direction)
        capacity = frame_capacity_table(
            row["comm_bandwidth_hz"], row["comm_symbols"], row["dl_fraction"],
            row["comm_power_fraction"], n_antennas=n, snr_dl=snr_dl, snr_ul=snr_ul,
            n_symbols=tau_t)
        full, _ = kernel.best_pilot_capacity(radio.bandwidth_hz, tau_t, n_antennas=n,
                                             snr_dl=snr_dl, snr_ul=snr_ul, n_symbols=tau_t)
        n_c, n_l = capacity.shape
        with np.errstate(invalid="ignore"):
            loss = crb / crb_min[None, :]
        frames.append(pd.DataFrame({      # rows by link, then split (as the built-ins)
            "scheme": name, "n_antennas": int(n),
            "snr_db": np.repeat(linear_to_db(snr_dl), n_c),
            "loc_symbols": np.tile(row["loc_symbols"], n_l).astype(np.int64),
            "loc_bandwidth_hz": np.tile(loc_bw, n_l),
            "capacity_bps": capacity.T.ravel(), "crb_m2": crb.T.ravel(),
            "capacity_loss_bps": (full[None, :] - capacity).T.ravel(),
            "crb_loss": loss.T.ravel()}, columns=list(TRADEOFF_COLUMNS)))
    return pd.concat(frames, ignore_index=True)
