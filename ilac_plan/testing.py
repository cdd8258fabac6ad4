"""Tools for plugin authors: check that a scheme behaves as the planner expects.

>>> from ilac_plan.testing import assert_scheme_conforms
>>> from ilac_plan.schemes import TimeSplit
>>> assert_scheme_conforms(TimeSplit())
"""

import contextlib

import numpy as np

from .model.capacity import frame_capacity_table
from .model.crb import crb_position
from .model.linkbudget import distance_for_path_gain_m
from .radio import RadioParams
from .schemes import (LinkState, Objective, ResourcePlan, Scheme, SchemeResult, resolve_params,
                      validate_scheme)


@contextlib.contextmanager
def registered(*plugins, autoload=False):
    """Run a block with extra plugin objects registered, then restore the registry.

    Parameters
    ----------
    *plugins : object
        Modules or objects with hook implementations (``@hookimpl`` functions).
    autoload : bool, default False
        Also load the installed entry points.

    Yields
    ------
    Registry
    """
    from .plugins import load_plugins, set_registry

    registry = load_plugins(autoload=autoload,
                            extra=[(f"test_plugin_{i}", p) for i, p in enumerate(plugins)])
    old = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(old)


def sample_links(radio, n_antennas=(2, 8, 64), snr_db=(-5.0, 10.0, 30.0),
                 theta_deg=(0.0, 40.0, -75.0), ul_offset_db=(0.0, -10.0)):
    """A grid of link states spanning antennas, SNRs, angles and UE powers.

    Distances follow from free-space path loss at each SNR (as in the paper).
    """
    grid = np.array(np.meshgrid(n_antennas, snr_db, theta_deg, ul_offset_db,
                                indexing="ij")).reshape(4, -1)
    n, snr_db_, theta, offset = grid
    snr = 10.0 ** (snr_db_ / 10.0)
    dist = distance_for_path_gain_m(snr / radio.rho_dl, radio.carrier_hz)
    return LinkState(distance_m=dist, theta_rad=np.deg2rad(theta), snr_dl=snr,
                     snr_ul=snr * 10.0 ** (offset / 10.0), n_antennas=n,
                     spacing_m=np.full(n.size, radio.antenna_spacing_m),
                     serving_cell=np.zeros(n.size, np.int64))


def _require(condition, message):
    """Raise AssertionError(message) unless condition: explicit, so that the checks hold
    under ``python -O`` too."""
    if not condition:
        raise AssertionError(message)


def plan_reference(plan, link, radio):
    """Capacity [bit/s] and CRB [m^2] of every candidate of a plan at every link.

    Plain numpy with a brute-force search of the pilot length: the reference the kernel's
    native plan evaluation is tested against.

    Returns
    -------
    capacity_bps, crb_m2 : ndarray of shape (n_candidates, n_links)
    """
    capacity = frame_capacity_table(
        plan.comm_bandwidth_hz, plan.comm_symbols, plan.dl_fraction, plan.comm_power_fraction,
        n_antennas=link.n_antennas, snr_dl=link.snr_dl, snr_ul=link.snr_ul,
        n_symbols=radio.n_symbols)
    gamma = (link.snr_ul if plan.loc_direction == "uplink" else link.snr_dl) * \
        plan.loc_power_fraction[:, None]
    with np.errstate(divide="ignore"):
        crb = np.where(gamma > 0, crb_position(
            link.distance_m, link.theta_rad, plan.loc_bandwidth_hz[:, None],
            plan.loc_symbols[:, None], n_antennas=link.n_antennas,
            snr=np.where(gamma > 0, gamma, 1.0), wavelength_m=radio.wavelength_m,
            spacing_m=link.spacing_m, varsigma=radio.varsigma), np.inf)
    return capacity, crb


def _shannon_bound(link, radio):
    """Capacity no scheme can beat: the whole band, every symbol, perfect CSI. [bit/s]"""
    snr = np.maximum(link.snr_dl, link.snr_ul)
    return radio.bandwidth_hz * np.log2(1.0 + link.n_antennas * snr)


def assert_scheme_conforms(scheme, radio=None, params=None):
    """Assert that ``scheme`` is a well-formed allocation scheme.

    Checks the declaration (name, one-line description, parameters with valid
    defaults) and then the behaviour on :func:`sample_links`:

    * plan form: the plan is valid for the radio (ranges, a first candidate without
      positioning, increasing shares) and, at every link, the CRB and the capacity do
      not increase from one candidate to the next;
    * vectorized form: results have one finite, non-negative value per point (errors
      may be infinite), shares in [0, 1], capacities below the Shannon bound of the
      whole resource (so in bit/s), feasible points meet the target, and a harder
      target or a smaller budget never gives more capacity or less error.

    Parameters
    ----------
    scheme : Scheme
    radio : RadioParams, optional
        Default the paper's settings.
    params : dict, optional
        Parameter values (default: the declared defaults).

    Raises
    ------
    AssertionError
        With a message naming the scheme and what is wrong.
    """
    radio = RadioParams() if radio is None else radio
    _require(isinstance(scheme, Scheme), f"{scheme!r} is not an ilac_plan.schemes.Scheme")
    try:
        name = validate_scheme(scheme)
        values = resolve_params(scheme, params)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"scheme declaration: {exc}") from exc
    _require("\n" not in scheme.description.strip(), f"{name}: description must be one line")
    link = sample_links(radio)
    if scheme.form(values) == "plan":
        plan = scheme.plan(radio, **values)
        _require(isinstance(plan, ResourcePlan), f"{name}: plan() must return a ResourcePlan")
        try:
            plan.validate(radio, name)
        except ValueError as exc:
            raise AssertionError(str(exc)) from exc
        capacity, crb = plan_reference(plan, link, radio)
        _require(np.all(np.isfinite(capacity)) and np.all(capacity >= 0),
                 f"{name}: capacity must be finite and >= 0 for every candidate")
        _require(not np.isnan(crb).any(), f"{name}: CRB is NaN for some candidate")
        _require(np.all(crb[1:] <= crb[:-1] * (1 + 1e-12)),
                 f"{name}: the CRB must not increase along the plan's candidates")
        _require(np.all(np.diff(capacity, axis=0) <= 1e-9 * capacity[:-1] + 1e-9),
                 f"{name}: the capacity must not increase along the plan's candidates")
        _require(np.all(capacity <= _shannon_bound(link, radio) * (1 + 1e-9)),
                 f"{name}: capacity above the Shannon bound: is it in bit/s?")
        return
    results = {}
    for objective in (Objective("target", 0.3), Objective("target", 3.0),
                      Objective("budget", 0.02), Objective("budget", 0.3)):
        res = scheme.evaluate(link, objective, radio, **values)
        _require(isinstance(res, SchemeResult),
                 f"{name}: evaluate() must return a SchemeResult")
        for field in ("capacity_bps", "error_m", "loc_share", "feasible"):
            value = np.asarray(getattr(res, field))
            _require(value.shape == (link.size,),
                     f"{name}: {field} has shape {value.shape}, expected ({link.size},)")
            _require(not np.isnan(value.astype(float)).any(), f"{name}: {field} has NaN")
        cap, err = np.asarray(res.capacity_bps, float), np.asarray(res.error_m, float)
        share, feas = np.asarray(res.loc_share, float), np.asarray(res.feasible, bool)
        _require(np.all(np.isfinite(cap) & (cap >= 0)),
                 f"{name}: capacity must be finite, >= 0")
        _require(np.all(err >= 0), f"{name}: error_m must be >= 0 (inf when unbounded)")
        _require(np.all((share >= 0) & (share <= 1)), f"{name}: loc_share must lie in [0, 1]")
        _require(np.all(cap <= _shannon_bound(link, radio) * (1 + 1e-9)),
                 f"{name}: capacity above the Shannon bound: is it in bit/s (not Mbit/s)?")
        if objective.kind == "target":
            _require(np.all(err[feas] <= objective.value * (1 + 1e-9)),
                     f"{name}: a feasible point misses the target error")
        results[(objective.kind, objective.value)] = (cap, err, feas)
    hard, easy = results[("target", 0.3)], results[("target", 3.0)]
    both = hard[2] & easy[2]
    _require(np.all(hard[0][both] <= easy[0][both] * (1 + 1e-9) + 1e-9),
             f"{name}: a harder target must not leave more capacity")
    _require(np.all(easy[2][hard[2]]), f"{name}: a point feasible for 0.3 m must be for 3 m")
    small, large = results[("budget", 0.02)], results[("budget", 0.3)]
    _require(np.all(large[1] <= small[1] * (1 + 1e-9)),
             f"{name}: a larger capacity-loss budget must not give a larger error")


def assert_model_conforms(model, radio=None, params=None):
    """Assert that ``model`` is a well-formed propagation model.

    Checks the declaration (name, one-line description, parameters with valid defaults)
    and the built :class:`~ilac_plan.model.PathLossModel` from 1 m to 100 km: finite
    losses; none below the free-space loss at 1 m less 10 dB (a loose floor that catches
    a gain, a sign or a dB/linear mix-up); no fall with distance beyond what the model
    declares (``drop_db``, which the kernel's exact pruning budgets for); and the
    kernel's coefficients (``kernel_terms``, ``kernel_table``) giving the losses of
    ``path_loss_db`` to 1e-9 dB.

    Parameters
    ----------
    model : PropagationModel
    radio : RadioParams, optional
        Default the paper's settings.
    params : dict, optional
        Parameter values (default: the declared defaults).

    Raises
    ------
    AssertionError
        With a message naming the model and what is wrong.
    """
    from .model import PathLossModel, free_space
    from .propagation import PropagationModel, validate_model

    radio = RadioParams() if radio is None else radio
    _require(isinstance(model, PropagationModel),
             f"{model!r} is not an ilac_plan.propagation.PropagationModel")
    try:
        name = validate_model(model)
        values = resolve_params(model, params)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"propagation model declaration: {exc}") from exc
    _require(bool(model.description) and "\n" not in model.description.strip(),
             f"{name}: description must be one line")
    built = model.build(radio, **values)
    _require(isinstance(built, PathLossModel),
             f"{name}: build() must return a PathLossModel, not {type(built).__name__}")
    d = np.geomspace(1.0, 1e5, 2001)
    loss = np.asarray(built.path_loss_db(d), np.float64)
    _require(np.all(np.isfinite(loss)), f"{name}: path loss is not finite at every distance")
    floor = float(np.asarray(free_space(radio.carrier_hz).path_loss_db(1.0))) - 10.0
    _require(np.all(loss >= floor),
             f"{name}: path loss {loss.min():.1f} dB is below free space at 1 m less 10 dB "
             f"({floor:.1f} dB): a gain, or dB mixed with linear?")
    drop = float(np.max(np.maximum(loss[:-1] - loss[1:], 0.0), initial=0.0))
    falls = float(np.sum(np.maximum(loss[:-1] - loss[1:], 0.0)))
    _require(falls <= built.drop_db() + 1e-6 + 1e-9 * np.abs(loss).max(),
             f"{name}: path loss falls by {falls:.3g} dB with distance (largest step "
             f"{drop:.3g} dB) but declares drop_db = {built.drop_db():.3g} dB")
    a0, a1, lo2, hi2, floor2, _ = built.kernel_terms()
    table, t0, inv_step = built.kernel_table()
    d2 = np.maximum(d * d, floor2)
    l10 = np.log10(d2)
    if table.size:
        u = (l10 - t0) * inv_step
        k = np.clip(np.floor(u), 0, table.size - 2).astype(int)
        kernel = table[k] + (u - k) * (table[k + 1] - table[k])
    else:
        use = (d2[:, None] >= lo2) & (d2[:, None] < hi2)
        kernel = np.where(use, a0 + a1 * l10[:, None], -np.inf).max(axis=1)
    _require(np.allclose(kernel, loss, rtol=0, atol=1e-9),
             f"{name}: the kernel's coefficients disagree with path_loss_db by up to "
             f"{np.abs(kernel - loss).max():.3g} dB")
