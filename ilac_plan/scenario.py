"""Scenario files (TOML): radio, sites, area, grid, schemes, objective, propagation,
positioning, outputs.

Validated with pydantic: unknown keys, wrong types and out-of-range values are one-line
errors naming the key (``scenario city.toml: grid.resolution_m: Input should be greater
than 0 (got -5)``); a key without its unit suffix gets a hint (``resolution`` ->
``resolution_m``). :func:`default_scenario` is the built-in scenario of ``ilac-plan map``.

Example::

    name = "city centre"
    crs = "EPSG:32633"                  # metres of the sites and area (lon/lat are projected)

    [radio]                             # ilac_plan.RadioParams fields; defaults: the paper's
    carrier_hz = 3.5e9

    [sites]
    file = "sites.csv"                  # or [sites.hexagonal] / [sites.poisson]

    [area]
    file = "area.geojson"               # or wkt = "POLYGON ((...))"; default: around the sites
    exclusions = ["lake.geojson"]

    [grid]
    resolution_m = 5.0

    [objective]
    target_error_m = 0.5                # or max_capacity_loss = 0.05

    [schemes]
    names = ["time", "frequency", "tdd"]
    params = { tdd = { dl_fraction = 0.6 } }

    [propagation]
    model = "uma"
    params = { los = "expected", reliability = 0.95 }
    antenna = "3gpp"                    # or "horizontal", "omni"

    [positioning]
    bound = "achievable"                # or "paper" (the default)
    epre = "equal"                      # or "paper" (the default)
    dl_prs = "orthogonal"               # or "beamformed"
    mode = "network"                    # fuse the strongest cells (default "serving")
    n_cells = 4                         # 1..8
    measurements = "toa_aoa"            # or "tdoa", "aoa"
    prs_reuse = 1                       # each cell gets 1/prs_reuse of the PRS energy

    [output]
    formats = ["tif", "gpkg", "geojson", "summary", "cells", "cdf", "png"]

A scenario is data: :func:`to_inputs` turns it into a
:class:`~ilac_plan.inputs.PlanInputs` and runs nothing. The defaults of every key are
:data:`ilac_plan.inputs.DEFAULTS`.
"""

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .area import is_file
from .errors import ParameterError
from .inputs import DEFAULTS
from .limits import LIMITS, limit_field
from .radio import RadioParams

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class _Section(BaseModel):
    # strict: a TOML true is not a number, 2.5 is not a count, "5" is not a length
    model_config = ConfigDict(extra="forbid", strict=True)


class HexagonalLayout(_Section):
    isd_m: float = limit_field("isd_m", 500.0)
    origin_lonlat_deg: list[float] | None = Field(None, min_length=2, max_length=2)
    rings: int = limit_field("rings", 2)
    sectors: int = limit_field("sectors", 3)
    n_antennas: int = limit_field("n_antennas", 8)
    power_dbm: float = limit_field("power_dbm", 13.0)
    height_m: float = limit_field("height_m", 25.0)
    gain_dbi: float = limit_field("gain_dbi", 0.0)
    wrap_around: bool = False

    @model_validator(mode="after")
    def _origin_in_range(self):
        if self.origin_lonlat_deg is not None:
            for what, key, value in zip(("longitude", "latitude"), ("lon_deg", "lat_deg"),
                                        self.origin_lonlat_deg):
                lim = LIMITS[key]
                if not lim.low <= value <= lim.high:
                    raise ValueError(f"origin_lonlat_deg: {what} {value:g} outside "
                                     f"[{lim.low:g}, {lim.high:g}] {lim.unit}")
        return self


class PoissonLayout(_Section):
    density_per_km2: float = limit_field("density_per_km2")
    bounds_m: list[float] = Field(min_length=4, max_length=4)
    sectors: int = limit_field("sectors", 3)
    seed: int | None = limit_field("seed", None)
    n_antennas: int = limit_field("n_antennas", 8)
    power_dbm: float = limit_field("power_dbm", 13.0)
    height_m: float = limit_field("height_m", 25.0)


class WrapAround(_Section):
    isd_m: float = limit_field("isd_m")
    rings: int = limit_field("rings")


class SitesSection(_Section):
    file: str | None = Field(None, min_length=1)
    column_map: dict[str, str] = {}
    encoding: str | None = None
    layer: str | None = None
    hexagonal: HexagonalLayout | None = None
    poisson: PoissonLayout | None = None
    wrap_around: WrapAround | None = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("file", "hexagonal", "poisson") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of file, hexagonal, poisson; got {', '.join(given)}")
        if not given:
            self.hexagonal = HexagonalLayout()
        return self


class AreaSection(_Section):
    file: str | None = Field(None, min_length=1)
    layer: str | None = None
    wkt: str | None = None
    margin_m: float | None = limit_field("margin_m", None)
    exclusions: list[str] = []

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("file", "wkt") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("give the area as a file or as wkt, not both")
        if self.margin_m is not None and given:
            raise ValueError("margin_m grows the default area around the sites; it does "
                             "not apply to an area given as a file or wkt")
        return self


class GridSection(_Section):
    resolution_m: float = limit_field("resolution_m", DEFAULTS["resolution_m"])
    max_points: int = limit_field("max_points", DEFAULTS["max_points"])
    tile_px: int = limit_field("tile_px", DEFAULTS["tile_px"])


DEFAULT_TARGET_ERROR_M = DEFAULTS["target_error_m"]


class ObjectiveSection(_Section):
    """A position-error target (default 5 cm) or a capacity-loss budget."""

    target_error_m: float | None = limit_field("target_error_m", None)
    max_capacity_loss: float | None = limit_field("max_capacity_loss", None)

    @model_validator(mode="after")
    def _one_objective(self):
        if self.target_error_m is not None and self.max_capacity_loss is not None:
            raise ValueError("give target_error_m or max_capacity_loss, not both")
        if self.target_error_m is None and self.max_capacity_loss is None:
            self.target_error_m = DEFAULT_TARGET_ERROR_M
        return self


class SchemesSection(_Section):
    names: list[str] = list(DEFAULTS["schemes"])
    params: dict[str, dict[str, Any]] = {}


class PropagationSection(_Section):
    model: str = DEFAULTS["propagation"]
    params: dict[str, Any] = {}
    antenna: Literal["3gpp", "horizontal", "omni"] | None = None
    sector_pattern: bool | None = None
    interference: bool = DEFAULTS["interference"]
    ue_height_m: float = limit_field("ue_height_m", DEFAULTS["ue_height_m"])
    drop_seed: int | None = DEFAULTS["drop_seed"]


class PositioningSection(_Section):
    bound: Literal["paper", "achievable"] = DEFAULTS["bound"]
    epre: Literal["paper", "equal"] = DEFAULTS["epre"]
    dl_prs: Literal["orthogonal", "beamformed"] = DEFAULTS["dl_prs"]
    mode: Literal["serving", "network"] = DEFAULTS["positioning"]
    n_cells: int | None = DEFAULTS["n_cells"]
    measurements: Literal["toa_aoa", "tdoa", "aoa"] = DEFAULTS["measurements"]
    prs_reuse: int = DEFAULTS["prs_reuse"]
    prs_interference: bool = DEFAULTS["prs_interference"]


class OutputSection(_Section):
    formats: list[str] | None = None


class Scenario(_Section):
    """A validated scenario (every section has defaults: ``Scenario()`` is the built-in)."""

    name: str = ""
    crs: str | None = None
    radio: dict[str, Any] = {}
    sites: SitesSection = SitesSection()
    area: AreaSection = AreaSection()
    grid: GridSection = GridSection()
    objective: ObjectiveSection = ObjectiveSection()
    schemes: SchemesSection = SchemesSection()
    propagation: PropagationSection = PropagationSection()
    positioning: PositioningSection = PositioningSection()
    output: OutputSection = OutputSection()

    def radio_params(self):
        """The radio section as :class:`RadioParams` (ParameterError names the key)."""
        unknown = sorted(set(self.radio) - set(RadioParams.field_names()))
        if unknown:
            raise ParameterError(f"scenario: radio.{unknown[0]}: unknown key (allowed: "
                                 f"{', '.join(RadioParams.field_names())})")
        try:
            return RadioParams(**self.radio)
        except ParameterError as exc:
            raise ParameterError(f"scenario: radio.{exc}") from None


def _fields_of(model, loc):
    """The field names of the (sub)model that ``loc`` points into."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        ann = getattr(field, "annotation", None)
        for candidate in getattr(ann, "__args__", ()) + (ann,):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
        else:
            return []
    return list(model.model_fields)


def _format(exc, source):
    err = exc.errors()[0]
    loc = [p for p in err["loc"]]
    where = ".".join(str(p) for p in loc) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = _fields_of(Scenario, loc)
        key = str(loc[-1])
        hint = [f for f in allowed if f.startswith(key + "_")]
        msg = f"unknown key (did you mean {hint[0]!r}? keys carry their units)" if hint else \
            f"unknown key (allowed: {', '.join(allowed)})"
    elif "input" in err and not isinstance(err["input"], dict):
        msg = f"{msg} (got {err['input']!r})"
    return f"scenario{' ' + source if source else ''}: {where}: {msg}"


def parse_scenario(data, source=""):
    """Validate a scenario given as a dict (e.g. parsed TOML)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ParameterError(_format(exc, source)) from None


def load_scenario(path):
    """Read and validate a TOML scenario; file paths inside are relative to it.

    Returns
    -------
    Scenario
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"scenario: no such file {str(path)!r}")
    if path.stat().st_size > MAX_SCENARIO_BYTES:
        raise ParameterError(f"scenario {path.name}: larger than {MAX_SCENARIO_BYTES:,} bytes; "
                             "not a scenario file")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))      # TOML is UTF-8
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"scenario {path.name}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ParameterError(f"scenario {path.name}: invalid TOML: nested too deeply") from None
    scenario = parse_scenario(data, path.name)
    base = path.parent.resolve()
    if scenario.sites.file:
        scenario.sites.file = _beside(base, scenario.sites.file, "sites.file", path.name)
    if scenario.area.file:
        scenario.area.file = _beside(base, scenario.area.file, "area.file", path.name)
    scenario.area.exclusions = [
        _beside(base, e, f"area.exclusions[{k}]", path.name) if _looks_like_path(e) else e
        for k, e in enumerate(scenario.area.exclusions)]
    return scenario


#: Largest scenario file read. [bytes]
MAX_SCENARIO_BYTES = 1 << 20


def _looks_like_path(text):
    """A file name rather than inline WKT or GeoJSON."""
    t = text.strip()
    return bool(t) and not t.startswith(("{", "[")) and t.split("(", 1)[0].strip().upper() not in {
        "POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "POINT", "LINESTRING"}


def _beside(base, name, key, scenario_name):
    """``name`` resolved in the scenario's folder; refused when it is absolute or leads
    outside it (a scenario is data that may come from elsewhere: it names its own files)."""
    candidate = Path(name)
    if candidate.is_absolute() or candidate.drive:
        raise ParameterError(f"scenario {scenario_name}: {key} must be a path relative to the "
                             f"scenario's folder, not an absolute path (give the file with "
                             f"--sites / --area / --exclude instead)")
    resolved = (base / candidate).resolve()
    if not resolved.is_relative_to(base):
        raise ParameterError(f"scenario {scenario_name}: {key} leads outside the scenario's "
                             f"folder; keep the files beside it or give them with --sites / "
                             f"--area / --exclude")
    return str(resolved)


#: The built-in scenario of ``ilac-plan map``: the paper's radio on 19 three-sector sites
#: at 500 m ISD, centred on Berlin (Alexanderplatz) in UTM zone 33N, so that its outputs
#: are georeferenced.
DEFAULT_SCENARIO = {
    "name": "ilac_plan default: 19 three-sector sites, 500 m ISD, paper radio",
    "crs": "EPSG:32633",
    "sites": {"hexagonal": {"origin_lonlat_deg": [13.4132, 52.5219]}},
}


def default_scenario():
    """The built-in scenario (see :data:`DEFAULT_SCENARIO`)."""
    return parse_scenario(DEFAULT_SCENARIO, "(built-in)")


def _origin_m(lonlat, crs):
    """The hexagonal layout's origin in the working CRS, rounded to whole metres."""
    from .sites import _transformer, local_utm_crs

    from .inputs import check_projected_crs

    if crs is None and not -80.0 <= lonlat[1] <= 84.0:
        raise ParameterError(f"origin_lonlat_deg: latitude {lonlat[1]:g} deg is outside UTM "
                             "(-80 to 84 deg), the CRS chosen when none is given; give the "
                             "scenario a projected crs with east/north axes that covers it")
    crs = check_projected_crs(crs or local_utm_crs([lonlat[0]], [lonlat[1]]), "crs",
                              near_lonlat=lonlat)
    with np.errstate(all="ignore"):
        x, y = _transformer("EPSG:4326", crs).transform(lonlat[0], lonlat[1])
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ParameterError(f"origin_lonlat_deg: ({lonlat[0]:g}, {lonlat[1]:g}) lies outside "
                             f"the area of use of crs {crs}")
    return round(float(x)), round(float(y)), crs


def resolve_sites(scenario):
    """The site table of a scenario in metres, the CRS of those metres and its sources."""
    from .inputs import file_source
    from .layouts import hexagonal_layout, poisson_layout
    from .sites import project_sites, read_sites, validate_sites

    s = scenario.sites
    if s.file:
        sites = read_sites(s.file, crs=scenario.crs, column_map=s.column_map or None,
                           encoding=s.encoding, layer=s.layer)
        crs = sites.attrs.get("crs") or scenario.crs
        return sites, crs, [file_source("sites", s.file, sites.attrs.get("source_crs") or crs)]
    crs = scenario.crs
    if s.poisson:
        p = s.poisson.model_dump()
        sites = poisson_layout(p.pop("density_per_km2"), p.pop("bounds_m"), **p)
    else:
        h = s.hexagonal.model_dump()
        h.pop("wrap_around")
        origin = h.pop("origin_lonlat_deg")
        sites = hexagonal_layout(**h)
        if origin is not None:
            x0, y0, crs = _origin_m(origin, crs)
            sites["x_m"] += x0
            sites["y_m"] += y0
    sites, crs = project_sites(validate_sites(sites), crs)
    return sites, crs, []


def _file_crs(path, layer=None):
    """The CRS a GIS area file declares (None for WKT files or files without one)."""
    from .area import OGR_SUFFIXES

    if Path(path).suffix.lower() in (".parquet", ".geoparquet"):
        try:
            import geopandas as gpd

            crs = gpd.read_parquet(path).crs
            auth = crs.to_authority() if crs is not None else None
            return f"{auth[0]}:{auth[1]}" if auth else (crs.to_wkt() if crs else None)
        except Exception:  # noqa: BLE001 - read_area reports unreadable files
            return None
    if Path(path).suffix.lower() not in OGR_SUFFIXES:
        return None
    try:
        import pyogrio

        crs = pyogrio.read_info(path, layer=layer).get("crs")
    except Exception:  # noqa: BLE001 - read_area has reported unreadable files already
        return None
    return crs or ("EPSG:4326" if Path(path).suffix.lower() in (".geojson", ".json") else None)


def to_inputs(scenario):
    """The :class:`~ilac_plan.inputs.PlanInputs` of a validated scenario (runs nothing).

    File paths in the scenario are taken as they are (:func:`load_scenario` has made
    them relative to the scenario file); lon/lat areas are projected to the working CRS.
    """
    from .area import default_area, read_area
    from .inputs import PlanInputs, file_source

    radio = scenario.radio_params()
    sites, crs, sources = resolve_sites(scenario)
    a = scenario.area

    def no_crs_for(path, what, layer=None):
        declared = _file_crs(path, layer)
        if crs is None and declared:
            raise ParameterError(
                f"{what}: {Path(path).name} is in {declared}, but the plan has no CRS (its "
                "sites are in local metres); give the scenario a crs (--crs) that the sites "
                "are in, or give the area as WKT in the sites' metres")

    if a.file:
        no_crs_for(a.file, "area", a.layer)
        area = read_area(a.file, "area", crs=crs, layer=a.layer)
        sources.append(file_source("area", a.file, _file_crs(a.file, a.layer) or crs))
    elif a.wkt:
        area = read_area(a.wkt, "area")
    else:
        area = default_area(sites, a.margin_m)
    exclusions = []
    for k, e in enumerate(a.exclusions):
        if is_file(e):
            no_crs_for(e, f"exclusion {k + 1}")
            sources.append(file_source(f"exclusion {k + 1}", e, _file_crs(e) or crs))
        exclusions.append(read_area(e, f"exclusion {k + 1}", crs=crs))
    hexagonal = scenario.sites.hexagonal
    wrap = None
    if scenario.sites.wrap_around is not None:
        wrap = scenario.sites.wrap_around.model_dump()
    elif hexagonal is not None and hexagonal.wrap_around and not scenario.sites.file:
        wrap = {"isd_m": hexagonal.isd_m, "rings": hexagonal.rings}
    o, p, q = scenario.objective, scenario.propagation, scenario.positioning
    doc = scenario.model_dump()
    antenna = {} if p.antenna is None else {"antenna": p.antenna}
    inputs = PlanInputs.build(
        sites, area, sources=sources, scenario=doc, name=scenario.name,
        resolution_m=scenario.grid.resolution_m, target_error_m=o.target_error_m,
        max_capacity_loss=o.max_capacity_loss, schemes=scenario.schemes.names, radio=radio,
        exclusions=exclusions, interference=p.interference, propagation=p.model,
        propagation_params=p.params, scheme_params=scenario.schemes.params,
        sector_pattern=p.sector_pattern, ue_height_m=p.ue_height_m, wrap_around=wrap,
        bound=q.bound, epre=q.epre, dl_prs=q.dl_prs, positioning=q.mode,
        n_cells=q.n_cells, measurements=q.measurements, prs_reuse=q.prs_reuse,
        prs_interference=q.prs_interference, drop_seed=p.drop_seed,
        **antenna, crs=crs,
        max_points=scenario.grid.max_points, tile_px=scenario.grid.tile_px)
    # the scenario that rebuilds these inputs, with every default written out
    doc["radio"] = {k: v for k, v in radio.to_dict().items() if v is not None}
    doc["schemes"]["params"] = {k: dict(v) for k, v in inputs.scheme_params.items() if v}
    doc["propagation"]["params"] = dict(inputs.propagation_params)
    doc["propagation"]["antenna"] = inputs.antenna
    doc["propagation"]["sector_pattern"] = None
    return inputs
