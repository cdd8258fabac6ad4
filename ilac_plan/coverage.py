"""Coverage evaluation: serving cell, link state and every allocation scheme per point.

:func:`evaluate` is the Python edge of the coverage kernel (``ilac_plan._core._coverage``):
it validates the site table and the points once, builds the kernel's arrays, picks the
thread count, allocates the outputs and calls the kernel without the GIL.

Model per point (see ``docs/coverage.md``):

* received power from cell c: ``power_dbm + gain_dbi + ue_gain_db - PL(d) - A(phi)``
  with the path-loss model given as data (free space by default) and the 3GPP TR 38.901
  sector pattern ``A`` (switch off with ``sector_pattern=False``);
* serving cell: the strongest; SNR = received power - noise over the whole band
  (``rho_dl * beta``); with ``interference=True`` the SINR counts every other cell at full
  load. Uplink pilots see ``ue_power_dbm`` instead of ``power_dbm`` and no interference;
* per scheme: ``time`` gives whole symbols, ``frequency`` whole resource blocks (then
  the whole band) to positioning. With a target error, the smallest split whose
  :math:`\\sqrt{CRB_L}` meets it; with a capacity-loss budget, the split with the lowest
  CRB that gives up at most that fraction of capacity. Capacity is Eq. (1) at the best
  integer pilot length, the CRB Eq. (7) with the point's SNR as :math:`\\gamma`.
"""

import numpy as np
import pandas as pd

from . import kernel
from ._core import _coverage
from ._validate import check_array, check_choice, check_flag, check_names, short_repr
from .limits import LIMITS, check_limit, range_kwargs
from .errors import ParameterError
from .model.antenna import (
    ANTENNAS,
    BEAMWIDTH_DEG,
    ELEMENT_GAIN_DBI,
    FRONT_TO_BACK_DB,
    SIDE_LOBE_DB,
    VERTICAL_BEAMWIDTH_DEG,
)
from .model.crb import angle_information, check_bound, check_dl_prs, downlink_factors
from .model.propagation import DropModel, PathLossModel
from .plugins import PluginError, get_registry, scheme_owner
from .radio import RadioParams
from .schemes import (EPRE, LinkState, NetworkBound, Objective, ResourcePlan, SchemeResult, resolve_params,
                      uplink_interference_error)

DEFAULT_SCHEMES = ("time", "frequency")
#: Rows of the kernel's plan data, in its order: ResourcePlan fields, then two it derives.
KERNEL_PLAN_ROWS = _coverage.PLAN_ROWS
#: The rows a ResourcePlan derives for the radio and the bound (the rest are its fields).
DERIVED_PLAN_ROWS = ("loc_snr_gain", "loc_beta2")
#: Kernel codes of the antenna models.
ANTENNA_CODES = {"omni": 0, "horizontal": 1, "3gpp": 2}
#: The kernel's pattern code of the 3-D pattern with vertical panels (panel_rows > 1).
PANEL_CODE = 3
REQUIRED_SITE_COLUMNS = ("x_m", "y_m", "azimuth_deg", "n_antennas", "power_dbm")
INFEASIBLE = "infeasible"
#: Points per kernel block (one thread works on one block at a time).
BLOCK_SIZE = 512
#: Tiles per side of the tile order's super-tiles; a kernel group of at most
#: TILE_GROUP**2 blocks is pruned once before its blocks are.
TILE_GROUP = 4
#: Largest spread of the linear search's weights, log10(w_max / w_min) of the finite
#: cells: beyond it the search stays in dB (no underflow).
LINEAR_MAX_DECADES = 290.0
#: Below this many cells, pruning costs more than it saves.
PRUNE_MIN_CELLS = 24
#: Slack of the pruning bounds for the rounding of the SIMD loop, plus twice the path-loss
#: model's total downward jump (see PathLossModel.drop_db). [dB]
PRUNE_MARGIN_DB = 1e-9
#: Largest coordinate magnitude accepted. [m]
MAX_COORDINATE_M = LIMITS["x_m"].high


def _column(sites, name, default=None, **rng):
    if name not in sites.columns:
        if default is None:
            raise ParameterError(
                f"sites: missing column {name!r} (required: {', '.join(REQUIRED_SITE_COLUMNS)})")
        return np.full(len(sites), float(default))
    column = sites[name]
    if isinstance(column, pd.DataFrame):
        raise ParameterError(f"sites: column {name!r} appears twice; keep one")
    if column.dtype.kind in "biufc" or column.dtype == object:
        values = column.to_numpy()        # the dtype check below refuses bool and complex
    else:
        try:       # nullable or text numbers; dates and durations are refused
            if column.dtype.kind in "mM":
                raise TypeError
            values = pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"sites.{name} must be numeric; got {column.dtype}") from None
    return check_array(f"sites.{name}", values, labels=list(sites.index), **rng)


def cell_arrays(sites, radio, ue_height_m=0.0, antenna="horizontal", bound="paper",
                dl_prs="orthogonal"):
    """Validate a site table and return the kernel's per-cell arrays.

    Parameters
    ----------
    sites : pandas.DataFrame
        One row per cell with ``x_m, y_m`` [m], ``azimuth_deg`` (broadside, clockwise
        from north) [deg], ``n_antennas``, ``power_dbm`` [dBm; -inf switches the cell
        off]; optional ``spacing_m`` [m] (default lambda/2), ``ue_power_dbm`` [dBm]
        (default ``radio.ue_power_dbm``), ``gain_dbi`` [dBi] (default
        ``radio.gnb_gain_db``, or the TR 38.901 element's 8 dBi with ``antenna="3gpp"``),
        ``height_m`` [m] (default 0), ``tilt_deg`` and ``electrical_tilt_deg``
        (downtilts, positive down, -90..90) [deg] (default 0; the 3-D pattern only),
        ``panel_rows`` (default 1) and ``panel_spacing_wavelengths`` (default 0.5): with
        the 3-D pattern a cell of M > 1 rows is a vertical panel of M TR 38.901 elements
        fed by one TXRU, its beam steered by the electrical tilt (``gain_dbi`` stays the
        element's; the array adds up to 10 log10 M dB).
    radio : RadioParams
    ue_height_m : float
        UE antenna height. [m]
    antenna : {"omni", "horizontal", "3gpp"}
    bound : {"paper", "achievable"}
    dl_prs : {"orthogonal", "beamformed"}

    Returns
    -------
    dict of ndarray
    """
    if not isinstance(sites, pd.DataFrame):
        raise ParameterError("sites must be a pandas DataFrame")
    if len(sites) == 0:
        raise ParameterError("sites: the table has no rows")
    for name in REQUIRED_SITE_COLUMNS:
        if name not in sites.columns:
            raise ParameterError(
                f"sites: missing column {name!r} (required: {', '.join(REQUIRED_SITE_COLUMNS)})")
    x = _column(sites, "x_m", **range_kwargs("x_m"))
    y = _column(sites, "y_m", **range_kwargs("y_m"))
    az = np.deg2rad(_column(sites, "azimuth_deg", **range_kwargs("azimuth_deg")))
    n_ant = _column(sites, "n_antennas", **range_kwargs("n_antennas"))
    # a switched-off cell (-inf dBm) is allowed
    power = _column(sites, "power_dbm", **{**range_kwargs("power_dbm"), "low": -np.inf},
                    allow_inf=True)
    if np.any(np.isposinf(power)):
        raise ParameterError(f"sites.power_dbm must be <= {LIMITS['power_dbm'].high:g} dBm; "
                             "got inf")
    spacing = _column(sites, "spacing_m", radio.antenna_spacing_m, **range_kwargs("spacing_m"))
    ue_power = _column(sites, "ue_power_dbm", radio.ue_power_dbm, **range_kwargs("ue_power_dbm"))
    antenna = check_choice("antenna", antenna, ANTENNAS)
    default_gain = ELEMENT_GAIN_DBI if antenna == "3gpp" else radio.gnb_gain_db
    gain = _column(sites, "gain_dbi", default_gain, **range_kwargs("gain_dbi"))
    height = _column(sites, "height_m", 0.0, **range_kwargs("height_m"))
    tilt = np.deg2rad(_column(sites, "tilt_deg", 0.0, **range_kwargs("tilt_deg")))
    etilt = np.deg2rad(_column(sites, "electrical_tilt_deg", 0.0,
                               **range_kwargs("electrical_tilt_deg")))
    panel_m = _column(sites, "panel_rows", 1, **range_kwargs("panel_rows"))
    panel_d = _column(sites, "panel_spacing_wavelengths", 0.5,
                      **range_kwargs("panel_spacing_wavelengths"))
    ue_h = check_limit("ue_height_m", ue_height_m)
    ang = angle_information(n_ant, spacing, radio.wavelength_m, check_bound(bound))
    delay = 8.0 * np.pi**2 * n_ant
    if bound == "paper":   # the receive array's bound in both directions, as printed
        information = np.stack([ang, ang, delay, delay])
    else:
        f_angle, f_delay = downlink_factors(n_ant, check_dl_prs(dl_prs))
        information = np.stack([ang * f_angle, ang, delay * f_delay, delay])
    return {
        "x": x, "y": y, "ux": np.sin(az), "uy": np.cos(az),
        "eirp_dbm": power + gain + radio.ue_gain_db,
        "dh2": (height - ue_h) ** 2, "dz": ue_h - height,
        "cos_tilt": np.cos(tilt), "sin_tilt": np.where(tilt == 0.0, 0.0, np.sin(tilt)),
        "etilt": etilt, "information": np.ascontiguousarray(information),
        "panel_m": panel_m, "panel_spacing": panel_d, "sin_etilt": np.sin(etilt),
        "n_antennas": n_ant, "spacing_m": spacing, "height_diff_m": height - ue_h,
        # rho_ul / rho_dl in dB: the UE transmits with its own power through the same gains
        "ul_offset_db": np.where(np.isfinite(power), ue_power - power, 0.0),
    }


POSITIONING = ("serving", "network")
#: Cells fused by default with positioning="network".
DEFAULT_NETWORK_CELLS = 4


def _network_options(positioning, n_cells, measurements, prs_reuse, prs_interference=False):
    """(net_k, net_mode, net_scale) of the kernel; net_k 0 is the serving cell's bound."""
    from .model.network import MEASUREMENTS
    positioning = check_choice("positioning", positioning, POSITIONING)
    mode = check_choice("measurements", measurements, MEASUREMENTS)
    prs_interference = check_flag("prs_interference", prs_interference)
    if positioning == "serving":
        for name, value, default in (("n_cells", n_cells, None), ("prs_reuse", prs_reuse, 1),
                                     ("measurements", mode, "toa_aoa"),
                                     ("prs_interference", prs_interference, False)):
            if value != default:
                raise ParameterError(f"{name} needs positioning='network' (got {value!r} "
                                     "with positioning='serving')")
        return 0, _coverage.NET_MODES["toa_aoa"], 1.0
    k = DEFAULT_NETWORK_CELLS if n_cells is None else n_cells
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) \
            or not 1 <= k <= _coverage.MAX_NET:
        raise ParameterError(f"n_cells must be an integer from 1 to {_coverage.MAX_NET}; "
                             f"got {short_repr(n_cells)}")
    if isinstance(prs_reuse, (bool, np.bool_)) or not isinstance(prs_reuse, (int, np.integer)) \
            or not 1 <= prs_reuse <= 64:
        raise ParameterError(f"prs_reuse must be an integer from 1 to 64; got "
                             f"{short_repr(prs_reuse)}")
    if k == 1 and mode == "toa_aoa" and prs_reuse == 1 and not prs_interference:
        return 0, _coverage.NET_MODES[mode], 1.0       # the serving cell's bound itself
    return int(k), _coverage.NET_MODES[mode], 1.0 / int(prs_reuse)


def _points(x_m, y_m):
    bound = dict(low=-MAX_COORDINATE_M, high=MAX_COORDINATE_M, unit="m")
    x = check_array("x_m", x_m, **bound)
    y = check_array("y_m", y_m, **bound)
    if x.shape != y.shape:
        raise ParameterError(f"x_m and y_m must have the same shape; got {x.shape} and {y.shape}")
    return np.ascontiguousarray(x.ravel()), np.ascontiguousarray(y.ravel())


def _mapping(name, value):
    """``{}`` for None, a copy of a dict, else a one-line refusal."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParameterError(f"{name} must be a dict; got {short_repr(value)}")
    return dict(value)


def _schemes(schemes, scheme_params):
    """The registered scheme objects for ``schemes``, with their validated parameters."""
    names = list(DEFAULT_SCHEMES) if schemes is None else list(check_names(
        "schemes", schemes, allow_empty=True))
    if len(set(names)) != len(names):
        raise ParameterError("schemes must not repeat a name")
    scheme_params = _mapping("scheme_params", scheme_params)
    extra = sorted(set(scheme_params) - set(names))
    if extra:
        raise ParameterError(f"scheme_params names {extra[0]!r}, which is not in schemes")
    registry = get_registry()
    chosen = [(name, registry.scheme(name)) for name in names]
    return [(name, scheme, resolve_params(scheme, scheme_params.get(name)))
            for name, scheme in chosen]


def _objective(target_error_m, max_capacity_loss):
    if target_error_m is not None and max_capacity_loss is not None:
        raise ParameterError("give target_error_m or max_capacity_loss, not both")
    if max_capacity_loss is not None:
        f = check_limit("max_capacity_loss", max_capacity_loss)
        return Objective("budget", f)
    target = 1.0 if target_error_m is None else target_error_m
    return Objective("target", check_limit("target_error_m", target))


def link_geometry(sites, cells, radio, ue_height_m):
    """The run's :class:`~ilac_plan.propagation.LinkGeometry`: the carrier, the cells'
    heights when the site table has ``height_m``, the UE height when given."""
    from .propagation import LinkGeometry

    has_heights = hasattr(sites, "__contains__") and "height_m" in sites
    ue = None if ue_height_m is None else float(ue_height_m)
    gnb = cells["height_diff_m"] + (ue or 0.0) if has_heights else None
    return LinkGeometry(radio.carrier_hz, gnb, ue)


def _propagation(propagation, propagation_params, radio, geometry=None, drop=False):
    """The run's PathLossModel, or with ``drop`` its DropModel: a model object passes
    through, a registered name is built with the run's radio and geometry."""
    kind = DropModel if drop else PathLossModel
    propagation_params = _mapping("propagation_params", propagation_params) or None
    if isinstance(propagation, kind):
        if propagation_params:
            raise ParameterError("propagation_params apply to a registered model name only")
        return propagation
    if drop and isinstance(propagation, PathLossModel):
        raise ParameterError("drop_seed needs a propagation model with a LOS probability and "
                             "shadow fading (a registered TR 38.901 scenario or a DropModel), "
                             "not a PathLossModel")
    name = "free_space" if propagation is None else propagation
    if not isinstance(name, str):
        raise ParameterError(f"propagation must be a registered model name or a {kind.__name__}")
    model = get_registry().model(name)
    build = model.drop_model if drop else model.path_loss_model
    return build(radio, propagation_params, geometry)


def check_plan_order(rows, where):
    """Refuse a plan along whose candidates the CRB or the capacity could rise at some
    link (the planner's bisection relies on both falling), naming the scheme.

    Exact conditions for every link: the positioning energy ``loc_snr_gain x
    loc_symbols`` and its product with ``loc_beta2`` must not fall (CRB = a/e + b/(e
    beta2) with a, b >= 0), and the communication bandwidth, power fraction, symbols and
    each part of the frame (``round(dl_fraction x comm_symbols)`` downlink symbols, the
    rest uplink) must not grow (Eq. 1 in each part is then no larger at any pilot length).
    """
    rtol = 1e-12
    e = rows["loc_snr_gain"] * rows["loc_symbols"]
    eb = e * rows["loc_beta2"]
    dl = np.floor(rows["dl_fraction"] * rows["comm_symbols"] + 0.5)
    checks = (("positioning energy (loc_snr_gain x loc_symbols)", e, +1),
              ("positioning energy x loc_beta2", eb, +1),
              ("comm_bandwidth_hz", rows["comm_bandwidth_hz"], -1),
              ("comm_power_fraction", rows["comm_power_fraction"], -1),
              ("comm_symbols", rows["comm_symbols"], -1),
              ("downlink symbols (round(dl_fraction x comm_symbols))", dl, -1),
              ("uplink symbols (comm_symbols minus the downlink ones)",
               rows["comm_symbols"] - dl, -1))
    for label, values, sign in checks:
        if not np.all(np.isfinite(values) | (np.isinf(values) & (values > 0))):
            raise PluginError(f"{where} returned a plan whose {label} is not finite")
        a, b = values[:-1], values[1:]
        bad = (b < a - rtol * np.abs(a)) if sign > 0 else (b > a + rtol * np.abs(a))
        if np.any(bad):
            j = int(np.argmax(bad))
            raise PluginError(
                f"{where} returned a plan whose {label} {'falls' if sign > 0 else 'grows'} "
                f"from candidate {j} to {j + 1} ({a[j]:.6g} to {b[j]:.6g}): the CRB and the "
                "capacity must not rise along the candidates (docs/plugins.md, \"Resource "
                "plans\")")


def _compile_plans(plan_schemes, radio, bound="paper", epre="paper", interference=False):
    """Concatenate the plans of plan-form schemes into the kernel's arrays.

    With ``interference`` a plan that uses the uplink (uplink data, or uplink sounding)
    is refused: only the downlink SINR counts the other cells, and an uplink left
    interference-free would win every comparison.
    """
    plans = []
    for name, scheme, params in plan_schemes:
        plugin, dist = scheme_owner(name)
        where = f"scheme {name!r} (plugin {plugin!r}, {dist})"
        try:
            plan = scheme.plan(radio, **params)
        except ParameterError:        # the user's parameters, refused by the scheme
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with its name
            raise PluginError(f"{where}: plan() raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(plan, ResourcePlan):
            raise PluginError(f"{where}: plan() returned {type(plan).__name__}, not a "
                              "ResourcePlan")
        try:
            plan.validate(radio, name, epre)
            derived = {"loc_snr_gain": plan.loc_snr_gain(radio, epre),
                       "loc_beta2": plan.delay_beta2(radio, bound)}
        except ParameterError as exc:
            raise PluginError(f"{where} returned an invalid plan: {exc}") from None
        if interference and (plan.loc_direction == "uplink"
                             or np.any(np.asarray(plan.dl_fraction) < 1.0)):
            raise uplink_interference_error(name)
        size = np.size(plan.loc_share)
        rows = {a: np.broadcast_to(np.asarray(
            derived[a] if a in DERIVED_PLAN_ROWS else getattr(plan, a), np.float64), size)
            for a in KERNEL_PLAN_ROWS}
        check_plan_order(rows, where)
        plans.append({**rows, "uplink": plan.loc_direction == "uplink"})
    sizes = [p["loc_share"].size for p in plans]
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    data = np.ascontiguousarray(np.stack([
        np.concatenate([p[a] for p in plans]) if plans else np.empty(0)
        for a in KERNEL_PLAN_ROWS]))
    uplink = np.array([p["uplink"] for p in plans], dtype=np.int32)
    return offset, data, uplink


def _run_vectorized(name, scheme, params, link, objective, radio):
    """Call a vectorized scheme and check what it returns, naming the plugin on error."""
    plugin, dist = scheme_owner(name)
    where = f"scheme {name!r} (plugin {plugin!r}, {dist})"
    try:
        result = scheme.evaluate(link, objective, radio, **params)
    except ParameterError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with its name
        raise PluginError(f"{where} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, SchemeResult):
        raise PluginError(f"{where} returned {type(result).__name__}, not a SchemeResult")
    out = {}
    for field_name in ("capacity_bps", "error_m", "loc_share", "feasible"):
        value = np.asarray(getattr(result, field_name))
        if value.shape != (link.size,):
            raise PluginError(f"{where} returned {field_name} of shape {value.shape}; expected "
                              f"({link.size},), one value per point")
        out[field_name] = value.astype(bool if field_name == "feasible" else np.float64)
        if field_name != "feasible" and np.isnan(out[field_name]).any():
            raise PluginError(f"{where} returned NaN in {field_name}")
    return out


def best_scheme_codes(capacity, error, feasible, objective):
    """Index of the best scheme per point, -1 where none is feasible.

    With a target: the feasible scheme with the most capacity (the first on ties); with
    a budget: the feasible one with the lowest error, then the most capacity.
    """
    n_s, n = capacity.shape
    if n_s == 0:
        return np.full(n, -1)
    if objective.kind == "target":
        score = np.where(feasible, capacity, -np.inf)
        best = np.argmax(score, axis=0)
    else:
        err = np.where(feasible, error, np.inf)
        lowest = err.min(axis=0)
        score = np.where(feasible & (err == lowest), capacity, -np.inf)
        best = np.argmax(score, axis=0)
    return np.where(feasible.any(axis=0), best, -1)


def tile_order(x, y, points_per_tile=BLOCK_SIZE):
    """Order points tile by tile (square tiles of about ``points_per_tile`` points).

    Consecutive kernel blocks then cover compact 2-D tiles, whose bounding boxes let
    the kernel prune distant cells; tiles come in super-tiles of ``TILE_GROUP`` x
    ``TILE_GROUP``, the kernel's groups, pruned once before their blocks. A counting sort on the kernel: the only memory it
    takes is the permutation itself (4 bytes a point) and one counter per tile.

    Returns
    -------
    ndarray of int32
        A permutation of ``range(len(x))``.
    """
    n = x.size
    x0, y0 = float(x.min()), float(y.min())
    width = max(float(x.max()) - x0, 1e-9)
    height = max(float(y.max()) - y0, 1e-9)
    side = max(np.sqrt(width * height * points_per_tile / n), 1e-9)
    nx = min(int(width / side) + 1, 1 << 15)
    ny = min(int(height / side) + 1, 1 << 15)
    order = np.empty(n, np.int32)
    _coverage.tile_order_kernel(x, y, x0, y0, side, nx, ny, TILE_GROUP, order)
    return order


def resolve_antenna(antenna, sector_pattern, default="horizontal"):
    """The antenna model from ``antenna`` and the older ``sector_pattern`` switch."""
    if sector_pattern is not None:
        if not isinstance(sector_pattern, (bool, np.bool_)):
            raise ParameterError(f"sector_pattern must be True or False; got "
                                 f"{short_repr(sector_pattern)}")
        legacy = "horizontal" if sector_pattern else "omni"
        if antenna is not None and check_choice("antenna", antenna, ANTENNAS) != legacy:
            raise ParameterError(f"antenna={antenna!r} contradicts sector_pattern="
                                 f"{sector_pattern!r}; give antenna only")
        return legacy
    return check_choice("antenna", default if antenna is None else antenna, ANTENNAS)


def _shifts(wrap_shifts_m):
    if wrap_shifts_m is None:
        return np.zeros((1, 2))
    shifts = check_array("wrap_shifts_m", wrap_shifts_m, low=-MAX_COORDINATE_M,
                         high=MAX_COORDINATE_M, unit="m")
    if shifts.ndim != 2 or shifts.shape[1] != 2 or not 1 <= shifts.shape[0] <= 7 \
            or np.any(shifts[0] != 0.0):
        raise ParameterError("wrap_shifts_m must be 1 to 7 (dx, dy) rows, the first (0, 0)")
    return np.ascontiguousarray(shifts)


def _linear_mode(cells, antenna, model, interference):
    """The serving search's mode and weights: linear (no log per pair) for a one-term
    model without a pattern, else in dB (see ilac_serving.h)."""
    a0, a1, _, _, _, simple = model.kernel_terms()
    table = model.kernel_table()[0]
    eirp = cells["eirp_dbm"]
    finite = eirp[np.isfinite(eirp)]
    slope = float(a1[0])
    if not (simple and table.size == 0 and antenna == "omni" and slope > 0.0
            and finite.size and (finite.max() - finite.min()) / slope < LINEAR_MAX_DECADES):
        return _coverage.LINEAR_OFF, None, slope
    if interference:
        if slope != 10.0:
            return _coverage.LINEAR_OFF, None, slope
        return _coverage.LINEAR_POWER, 10.0 ** ((eirp - a0[0]) / 10.0), slope
    return _coverage.LINEAR_ORDER, 10.0 ** ((eirp - finite.max()) / slope), slope


def antenna_code(cells, antenna):
    """The kernel's pattern code: ANTENNA_CODES, and 3 for the 3-D pattern with panels."""
    if antenna == "3gpp" and np.any(cells["panel_m"] > 1):
        return PANEL_CODE
    return ANTENNA_CODES[antenna]


def _cell_table(cells, antenna, pattern, shifts, model, interference, margin_db):
    """The kernel's CellTable for the arrays of :func:`cell_arrays` (``pattern``: its
    :func:`antenna_code`)."""
    linear, weights, slope = _linear_mode(cells, antenna, model, interference)
    return _coverage.CellTable(
        panel_m=cells["panel_m"], panel_kd=np.pi * cells["panel_spacing"],
        sin_etilt=cells["sin_etilt"],
        x=cells["x"], y=cells["y"], ux=cells["ux"], uy=cells["uy"], eirp_dbm=cells["eirp_dbm"],
        dh2=cells["dh2"], dz=cells["dz"], cos_tilt=cells["cos_tilt"],
        sin_tilt=cells["sin_tilt"], etilt=cells["etilt"], pattern=pattern,
        k_pattern=12.0 / np.deg2rad(BEAMWIDTH_DEG) ** 2, a_max=FRONT_TO_BACK_DB,
        k_vertical=12.0 / np.deg2rad(VERTICAL_BEAMWIDTH_DEG) ** 2, sla_v=SIDE_LOBE_DB,
        shifts=shifts, linear=linear, weights=weights,
        lin_margin=10.0 ** (-margin_db / slope) if linear else 1.0)


def _path_loss(model, seed=None):
    """The kernel's PathLoss for a PathLossModel, or for a DropModel with ``seed`` (its LOS
    table in the table's place)."""
    extra = {}
    if isinstance(model, DropModel):
        extra = dict(model.kernel_drop(), seed=seed)
        model = model.los
    a0, a1, lo2, hi2, floor2, simple = model.kernel_terms()
    table, t0, inv_step = model.kernel_table()
    return _coverage.PathLoss(a0, a1, lo2, hi2, floor2, simple, table, t0, inv_step, **extra)


#: Largest drop seed (a non-negative int64, so that TOML and JSON carry it exactly).
MAX_DROP_SEED = 2**63 - 1


def check_drop_seed(seed):
    """The drop seed as an int in [0, 2**63 - 1], or a one-line ParameterError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= int(seed) <= MAX_DROP_SEED:
        raise ParameterError(f"drop_seed must be an integer in [0, {MAX_DROP_SEED}]; "
                             f"got {seed!r}")
    return int(seed)


def evaluate(sites, x_m, y_m, *, target_error_m=None, max_capacity_loss=None, schemes=None,
             radio=None, interference=False, n_threads=None, propagation=None,
             sector_pattern=None, ue_height_m=None, prune=None, scheme_params=None,
             propagation_params=None, antenna=None, bound="paper", epre="paper",
             dl_prs="orthogonal", wrap_shifts_m=None, positioning="serving", n_cells=None,
             measurements="toa_aoa", prs_reuse=1, prs_interference=False, capacity_gain=True,
             drop_seed=None):
    """Serving cell, link state and each allocation scheme at every point.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table, one row per cell (see :func:`cell_arrays` for the columns).
    x_m, y_m : array_like
        Point coordinates, same shape (ravelled in C order), in the sites' metres. [m]
    target_error_m : float, optional
        Positioning target: the RMSE bound :math:`\\sqrt{CRB_L}` must not exceed it.
        Default 1 m when ``max_capacity_loss`` is not given. [m]
    max_capacity_loss : float, optional
        Alternative objective: the lowest CRB giving up at most this fraction (0-1) of
        the capacity.
    schemes : sequence of str, optional
        Registered allocation schemes (built-in or from plugins, see ``ilac-plan
        schemes``); default ``("time", "frequency")``. An empty sequence gives the link
        state only (no scheme columns, no ``best_scheme``).
    radio : RadioParams, optional
        Radio parameters; default the paper's.
    interference : bool, default False
        Count the other cells at full load (SINR instead of SNR).
    n_threads : int, optional
        Kernel threads (None or -1: all).
    propagation : str or PathLossModel, optional
        A registered propagation model name (default ``"free_space"``) or a model.
    sector_pattern : bool, optional
        Older switch: True is ``antenna="horizontal"``, False ``antenna="omni"``.
    ue_height_m : float, optional
        UE height, against the sites' ``height_m`` (default 0 m; ``ilac-plan map`` uses
        1.5 m). A propagation model's UE-height parameter takes it when it is given, and
        its gNB-height parameter the sites' ``height_m`` when the table has heights
        (:class:`ilac_plan.propagation.LinkGeometry`): one source of heights for the
        formula and the geometry. Without it the model keeps its own UE height. [m]
    prune : bool, optional
        Exact pruning of cells per block; default on from 24 cells (never with
        interference, which needs every cell, nor with wrap-around).
    scheme_params : dict, optional
        Parameters of the schemes, ``{scheme name: {parameter: value}}``.
    propagation_params : dict, optional
        Parameters of the registered propagation model.
    antenna : {"horizontal", "omni", "3gpp"}, default "horizontal"
        Cell antenna model (docs/coverage.md, "Antenna"): the TR 38.901 horizontal
        sector pattern around each azimuth (the default here: the paper's 2-D model with
        sectors), none, or the TR 38.901 3-D pattern with the sites' heights and
        ``tilt_deg`` / ``electrical_tilt_deg`` (the default of ``ilac-plan map``).
    bound : {"paper", "achievable"}, default "paper"
        Position bound (docs/model.md, "Two bounds"): Eqs. (5)-(7) as printed, or the
        bound an ML receiver reaches (unknown phase, the PRS's spectrum, the horizontal
        fix with both heights, a single-antenna UE for downlink PRS).
    epre : {"paper", "equal"}, default "paper"
        Energy convention (docs/model.md, "Energy per resource element").
    dl_prs : {"orthogonal", "beamformed"}, default "orthogonal"
        Downlink PRS strategy of the achievable bound.
    wrap_shifts_m : array_like of shape (k, 2), optional
        Wrap-around image offsets (:func:`ilac_plan.layouts.wrap_shifts_m`): every cell
        is seen once, through its image nearest to the point. [m]
    positioning : {"serving", "network"}, default "serving"
        Position bound of every scheme's split search (docs/model.md, "Network
        positioning"): the serving cell's (the paper's), or the fused bound of the
        ``n_cells`` strongest cells at the point (the serving cell always among them).
    n_cells : int, optional
        Cells fused by ``positioning="network"``, 1 to 8 (default 4). One cell with
        ``"toa_aoa"`` and ``prs_reuse=1`` is the serving cell's bound, computed by the
        same code (identical results).
    measurements : {"toa_aoa", "tdoa", "aoa"}, default "toa_aoa"
        Network measurements: synchronised ToA and AoA of every cell; time differences
        (the UE's clock offset unknown) and AoA; AoA only.
    prs_reuse : int, default 1
        PRS reuse factor of network positioning: each cell gets ``1 / prs_reuse`` of the
        positioning energy a scheme's split gives (its symbols or its comb of
        subcarriers; 1: every cell on every positioning element, orthogonal by code).
        Cell row ``c`` sends on slot ``c mod prs_reuse``.
    prs_interference : bool, default False
        The other cells' PRS on a cell's slot interfere with its PRS (SINR per fused
        cell); without it they are orthogonal. With ``interference=True`` every other
        cell already counts at full load.
    capacity_gain : bool, default True
        With network positioning, also plan with the serving cell's bound and report the
        capacity gained over it per scheme (a second pass of the kernel).
    drop_seed : int, optional
        A random drop instead of the deterministic planning losses: per link (point,
        cell) a LOS state drawn from the propagation model's LOS probability and a
        log-normal shadow fading with its sigma of that state
        (:class:`ilac_plan.model.DropModel`; the TR 38.901 scenario models ``uma``,
        ``umi``, ``rma``, ``inh`` have them; their ``los`` and ``reliability``
        parameters do not apply). The draws come from a counter-based generator keyed on
        (seed, the point's and the cell's positions to the millimetre), so that any
        tiling, thread count, engine or cell order gives the same drop; the sectors of a
        site share their link's draws (TR 38.901 draws large-scale parameters per UE-site
        link). In [0, 2**63 - 1]; no pruning.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``serving_cell`` (row position in ``sites``), ``distance_m``
        [m], ``theta_deg`` (off the serving broadside, folded to [-90, 90]) [deg],
        ``snr_db`` (SINR with interference) [dB]; per scheme S ``S_capacity_bps``
        [bit/s], ``S_error_m`` (:math:`\\sqrt{CRB_L}` of the chosen split) [m] and
        ``S_loc_share`` (fraction of the resource for positioning); and
        ``best_scheme``, categorical: the feasible scheme with the most capacity (target)
        or the lowest error (budget), else ``"infeasible"``. With
        ``positioning="network"`` also ``cells_used`` (cells with positioning
        information) and per scheme ``S_gdop`` (the error over the serving cell's range
        error with the same signal, a geometry factor) and, with ``capacity_gain``,
        ``S_capacity_gain_bps`` (capacity over that of serving-cell positioning) [bit/s].

    Raises
    ------
    ParameterError
        Bad input, naming the parameter (and the row of the site table).
    PluginError
        A plugin's scheme failed or returned malformed results; names the plugin.

    Notes
    -----
    Infeasible points of a scheme (target not met even with the whole resource) have
    capacity 0, the best achievable error and the plan's largest share. A cell on a
    point (d = 0) is evaluated at the model's minimum distance for path loss and angle
    0; its AoA term vanishes. ``N_T = 1``, end-fire angles and switched-off cells
    (``power_dbm = -inf``) give infinite errors, never NaN.
    """
    radio = RadioParams() if radio is None else radio
    if not isinstance(radio, RadioParams):
        raise ParameterError("radio must be a RadioParams")
    antenna = resolve_antenna(antenna, sector_pattern)
    interference = check_flag("interference", interference)
    bound = check_bound(bound)
    epre = check_choice("epre", epre, EPRE)
    dl_prs = check_dl_prs(dl_prs)
    cells = cell_arrays(sites, radio, 0.0 if ue_height_m is None else ue_height_m, antenna,
                        bound, dl_prs)
    shifts = _shifts(wrap_shifts_m)
    x, y = _points(x_m, y_m)
    if x.size >= 2**31 - 1:
        raise ParameterError("x_m: at most 2**31 - 2 points per call; evaluate in tiles")
    chosen = _schemes(schemes, scheme_params)
    objective = _objective(target_error_m, max_capacity_loss)
    drop = drop_seed is not None
    if drop:
        drop_seed = check_drop_seed(drop_seed)
    model = _propagation(propagation, propagation_params, radio,
                         link_geometry(sites, cells, radio, ue_height_m), drop=drop)
    # the LOS table stands for the model where a drop is not drawn: the search modes and
    # the pruning margin (a drop neither prunes nor searches without logs)
    terms = model.los if drop else model
    threads = kernel.resolve_n_threads(n_threads)
    plan_schemes = [c for c in chosen if c[1].form(c[2]) == "plan"]
    offset, plan_data, plan_uplink = _compile_plans(plan_schemes, radio, bound, epre,
                                                    interference)
    net_k, net_mode, net_scale = _network_options(positioning, n_cells, measurements, prs_reuse,
                                                  prs_interference)
    prs_interference = bool(prs_interference)
    capacity_gain = check_flag("capacity_gain", capacity_gain)
    n_cells = cells["x"].size
    if prune is None:
        prune = n_cells >= PRUNE_MIN_CELLS
    pattern = antenna_code(cells, antenna)
    prune = (check_flag("prune", prune) and not interference and shifts.shape[0] == 1
             and not drop and pattern != PANEL_CODE)
    order = tile_order(x, y) if prune and x.size > BLOCK_SIZE else np.empty(0, np.int32)

    n, n_p = x.size, len(plan_schemes)
    names = [c[0] for c in chosen]
    in_kernel_best = bool(names) and n_p == len(names)
    value = objective.crb_target_m2 if objective.kind == "target" else objective.value
    margin_db = PRUNE_MARGIN_DB + 2.0 * terms.drop_db()
    n_blocks = -(-n // BLOCK_SIZE)
    per_group = max(1, min(TILE_GROUP**2, n_blocks // (4 * threads))) if prune else 1
    vectorized = [c for c in chosen if c[1].form(c[2]) == "vectorized"]
    network = positioning == "network"
    table = _cell_table(cells, antenna, pattern, shifts, terms, interference, margin_db)
    path_loss = _path_loss(model, drop_seed)
    plan_table = _coverage.PlanTable(offset, plan_data, plan_uplink)

    def run(k):
        """One kernel pass: net_k = k (0: the serving cell's bound)."""
        link = {"serving": np.empty(n, np.int32), "distance": np.empty(n),
                "theta": np.empty(n), "snr": np.empty(n), "snr_ul": np.empty(n)}
        plan_out = {"capacity_bps": np.empty((n_p, n)), "error_m": np.empty((n_p, n)),
                    "loc_share": np.empty((n_p, n)), "feasible": np.empty((n_p, n), np.int8)}
        extra = {"best": np.empty(n, np.int16) if in_kernel_best else None}
        if network:
            extra["gdop"] = np.empty((n_p, n))
        if k:
            extra["cells_used"] = np.empty(n, np.int8)
            extra["net_info"] = (np.empty((_coverage.NET_INFO_ROWS, n)) if vectorized
                                 else None)
        _coverage.coverage_kernel(
            x, y, order, table, path_loss,
            _coverage.RadioSpec(
                n_symbols=radio.n_symbols, noise_dbm=radio.noise_dbm,
                interference=interference, horizontal_fix=bound == "achievable",
                n_antennas=cells["n_antennas"], information=cells["information"],
                ul_offset_db=cells["ul_offset_db"],
                objective=(_coverage.OBJECTIVE_TARGET if objective.kind == "target"
                           else _coverage.OBJECTIVE_BUDGET), objective_value=value,
                net_k=k, net_mode=net_mode, net_scale=net_scale, net_reuse=int(prs_reuse),
                net_prs_interference=prs_interference),
            plan_table,
            _coverage.Outputs(serving=link["serving"], distance_m=link["distance"],
                              theta_deg=link["theta"], snr_db=link["snr"],
                              snr_ul_db=link["snr_ul"], **extra, **plan_out),
            prune, margin_db, BLOCK_SIZE, per_group, threads)
        return link, plan_out, extra

    link, plan_out, extra = run(net_k)
    best = extra["best"]
    baseline = None
    if network and capacity_gain and names:
        baseline = run(0) if net_k else (link, plan_out, extra)

    results = {}
    for k, (name, _, _) in enumerate(plan_schemes):
        results[name] = {key: arr[k] for key, arr in plan_out.items()}
    if network:
        for k, (name, _, _) in enumerate(plan_schemes):
            results[name]["gdop"] = extra["gdop"][k]
    if vectorized:
        def link_state(pass_link, pass_extra):
            serving = pass_link["serving"]
            info = pass_extra.get("net_info")
            return LinkState(
                distance_m=pass_link["distance"], theta_rad=np.deg2rad(pass_link["theta"]),
                snr_dl=10.0 ** (pass_link["snr"] / 10.0),
                snr_ul=10.0 ** (pass_link["snr_ul"] / 10.0),
                n_antennas=cells["n_antennas"][serving], spacing_m=cells["spacing_m"][serving],
                serving_cell=serving, height_diff_m=cells["height_diff_m"][serving],
                bound=bound, epre=epre, dl_prs=dl_prs, interference=interference,
                network=None if info is None else NetworkBound.from_rows(info))

        state = link_state(link, extra)
        serving_state = None
        for name, scheme, params in vectorized:
            results[name] = _run_vectorized(name, scheme, params, state, objective, radio)
            if network:
                results[name]["gdop"] = state.gdop(radio, results[name]["error_m"])
            if baseline is not None:
                if serving_state is None:
                    serving_state = state if not net_k else link_state(baseline[0],
                                                                       baseline[2])
                results[name]["serving_capacity"] = (
                    results[name]["capacity_bps"] if serving_state is state else
                    _run_vectorized(name, scheme, params, serving_state, objective,
                                    radio)["capacity_bps"])
    if baseline is not None:
        for k, (name, _, _) in enumerate(plan_schemes):
            results[name]["serving_capacity"] = baseline[1]["capacity_bps"][k]

    columns = {"serving_cell": link["serving"], "distance_m": link["distance"],
               "theta_deg": link["theta"], "snr_db": link["snr"]}
    if network:
        columns["cells_used"] = (extra["cells_used"] if net_k else
                                 np.ones(n, np.int8))
    for name in names:
        columns[f"{name}_capacity_bps"] = results[name]["capacity_bps"]
        columns[f"{name}_error_m"] = results[name]["error_m"]
        columns[f"{name}_loc_share"] = results[name]["loc_share"]
        if network:
            columns[f"{name}_gdop"] = results[name]["gdop"]
            if baseline is not None:
                columns[f"{name}_capacity_gain_bps"] = (results[name]["capacity_bps"]
                                                        - results[name]["serving_capacity"])
    if names:
        if not in_kernel_best:   # vectorized schemes: combined here
            best = best_scheme_codes(
                np.stack([results[s]["capacity_bps"] for s in names]),
                np.stack([results[s]["error_m"] for s in names]),
                np.stack([results[s]["feasible"].astype(bool) for s in names]), objective)
        codes_out = np.where(best < 0, len(names), best).astype(np.int16, copy=False)
        columns["best_scheme"] = pd.Categorical.from_codes(codes_out, names + [INFEASIBLE])
    frame = pd.DataFrame(columns, copy=False)
    frame.attrs["crs"] = getattr(sites, "attrs", {}).get("crs")   # of the points' metres
    return frame
