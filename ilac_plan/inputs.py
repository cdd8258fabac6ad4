"""What a plan is made of: one frozen :class:`PlanInputs`, built alike by the Python API,
the TOML loader and the command line.

:data:`DEFAULTS` is the one set of defaults of a plan (``ilac_plan.plan``, scenario
files and ``ilac-plan map`` all take theirs from here). :meth:`PlanInputs.build`
validates every input once, resolves the grid, the cells (with wrap-around copies), the
area minus exclusions and the parameters of the schemes and of the propagation model
with their defaults filled in, and probes the whole chain on one point, so that a plan
never fails half-way because of its inputs.
"""

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._validate import check_choice, check_flag, check_names, short_repr
from .limits import check_limit
from .errors import ParameterError
from .grid import GridSpec
from .radio import RadioParams

#: The defaults of every plan option (API, scenario files and CLI alike).
DEFAULTS: dict[str, Any] = {
    "resolution_m": 5.0,
    "target_error_m": 0.05,
    "max_capacity_loss": None,
    "schemes": ("time", "frequency"),
    "scheme_params": {},
    "radio": RadioParams(),
    "propagation": "free_space",
    "propagation_params": {},
    "interference": False,
    "antenna": "3gpp",
    "sector_pattern": None,
    "bound": "paper",
    "epre": "paper",
    "dl_prs": "orthogonal",
    "positioning": "serving",
    "n_cells": None,
    "measurements": "toa_aoa",
    "prs_reuse": 1,
    "prs_interference": False,
    "drop_seed": None,
    "ue_height_m": 1.5,
    "wrap_around": None,
    "exclusions": (),
    "crs": None,
    "max_points": 20_000_000,
    "tile_px": 512,
    "name": "",
}


#: The documented memory bound of a run [bytes]: a plan whose in-memory rasters would
#: exceed it is streamed to disk tile by tile (``ilac-plan map``, ``plan_to_folder``), or
#: refused by :func:`ilac_plan.plan`, which keeps its rasters by nature, unless raised
#: with ``max_memory_gb``.
MEMORY_BUDGET_BYTES = 2 * 2**30
#: What a run holds whatever its grid [bytes]: interpreter, libraries, the preview
#: rasters (at most 2000 x 2000 pixels) and the statistics (measured: 0.46 GiB).
MEMORY_BASE_BYTES = 640 * 2**20
#: Working memory of a tile being computed, per pixel [bytes] (the kernel's per-point
#: arrays and the DataFrame of ``evaluate``, float64 per column, with headroom).
TILE_BYTES_PER_PX = 192
#: At most this many tiles a run (each a task, and a checkpoint file).
MAX_TILES = 200_000
#: An area farther than this from every site (and than the sites' extent and 10 pixels)
#: is refused as a likely coordinate mix-up [m].
NEAR_SITES_M = 2000.0


def _name(value):
    """The plan's name: a string (or None for none)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParameterError(f"name must be a string; got {short_repr(value)}")
    return " ".join(value.split())[:200]


def sha256_of(path):
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_projected_crs(crs, where="crs", near_lonlat=None):
    """Return ``crs`` as an authority string if it is projected and in metres, else raise.

    A geographic CRS (degrees) is refused with the UTM zone to use instead: the zone of
    ``near_lonlat`` = (lon, lat) [deg] when given.
    """
    if crs is None:
        return None
    if isinstance(crs, (bool, float)) or not (isinstance(crs, (str, int))
                                              or hasattr(crs, "to_wkt")):
        raise ParameterError(f"{where} must be a CRS name such as 'EPSG:32633'; got "
                             f"{short_repr(crs)}")
    try:
        from pyproj import CRS
    except ImportError:  # pragma: no cover - depends on the environment
        raise ParameterError(f"{where}: a CRS needs pyproj: pip install 'ilac-plan[geo]'") \
            from None
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # noqa: BLE001 - pyproj's CRSError and friends
        raise ParameterError(f"{where}: cannot use {short_repr(crs)}: "
                             f"{' '.join(str(exc).split())[:200]}") \
            from None
    if not parsed.is_projected:
        if near_lonlat is not None:
            from .sites import local_utm_crs

            zone = local_utm_crs([near_lonlat[0]], [near_lonlat[1]])
            hint = f"use the sites' UTM zone, {zone}"
        else:
            hint = ("use the sites' UTM zone (EPSG:326zz north, 327zz south; "
                    "ilac_plan.sites.local_utm_crs(lon, lat) names it)")
        raise ParameterError(
            f"{where}: {crs!r} is a geographic CRS (degrees); a plan needs a projected CRS "
            f"in metres: {hint}")
    directions = {ax.direction.lower() for ax in parsed.axis_info[:2]}
    if directions != {"east", "north"}:
        raise ParameterError(f"{where}: {crs!r} has {'/'.join(sorted(directions))} axes; a "
                             "plan needs a CRS with east and north axes (azimuths would be "
                             "mirrored), e.g. the sites' UTM zone")
    units = {ax.unit_name for ax in parsed.axis_info}
    if not units <= {"metre", "meter"}:
        raise ParameterError(f"{where}: {crs!r} is in {', '.join(sorted(units))}; a plan's "
                             "CRS must be in metres")
    auth = parsed.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else parsed.to_wkt()


def _centre_lonlat(sites, crs):
    """(lon, lat) of the sites' centre when they say it (for CRS hints), else None."""
    try:
        if "lon_deg" in sites.columns:
            return float(sites["lon_deg"].mean()), float(sites["lat_deg"].mean())
        src = sites.attrs.get("source_crs") or crs
        if src and "x_m" in sites.columns:
            from .sites import transformer

            x, y = float(sites["x_m"].mean()), float(sites["y_m"].mean())
            if src == crs:
                return None
            return transformer(src, "EPSG:4326").transform(x, y)
    except Exception:  # noqa: BLE001 - only a hint
        return None
    return None


def check_scale(crs, sites):
    """Refuse a working CRS whose scale at the sites is far from 1 (Web Mercator at
    mid latitudes): distances, areas and path losses would all be wrong."""
    try:
        from pyproj import CRS, Proj

        from .sites import local_utm_crs, transformer

        x, y = float(np.mean(sites["x_m"])), float(np.mean(sites["y_m"]))
        lon, lat = transformer(crs, "EPSG:4326").transform(x, y)
        factors = Proj(CRS.from_user_input(crs)).get_factors(lon, lat)
        scales = np.array([factors.meridional_scale, factors.parallel_scale], dtype=float)
        scale = float(scales[np.argmax(np.abs(scales - 1.0))])
        convergence = float(factors.meridian_convergence)
    except ParameterError:
        raise
    except Exception:  # noqa: BLE001 - no scale to check (custom CRS): accept
        return
    if np.isfinite(convergence) and abs(convergence) > 3.0:
        import warnings

        from .errors import IlacWarning

        warnings.warn(f"crs: azimuths are taken from grid north, and in {crs} grid north is "
                      f"{convergence:.1f} deg from true north at the sites; the sites' UTM "
                      f"zone ({local_utm_crs([lon], [lat])}) keeps that under 3 deg",
                      IlacWarning, stacklevel=3)
    if np.isfinite(scale) and abs(scale - 1.0) > 0.01:
        raise ParameterError(
            f"crs: {crs} stretches lengths by {scale:.3g}x at the sites (lat {lat:.2f}); "
            f"a plan needs a CRS true to scale there: use the sites' UTM zone, "
            f"{local_utm_crs([lon], [lat])}")


def area_in_crs(area, crs):
    """A shapely area from a GeoDataFrame or GeoSeries (reprojected to ``crs``), or the
    geometry as it is."""
    to_crs = getattr(area, "to_crs", None)
    if to_crs is None:
        return area
    import shapely

    if area.crs is not None and crs is not None:
        area = area.to_crs(crs)
    geoms = [g for g in getattr(area, "geometry", area) if g is not None and not g.is_empty]
    if not geoms:
        raise ParameterError("area: the GeoDataFrame has no geometries")
    return shapely.union_all(geoms)


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """Everything that determines a plan, validated and resolved (immutable).

    Build one with :meth:`build` (Python), :func:`ilac_plan.scenario.to_inputs` (TOML)
    or ``ilac-plan map`` (which goes through the scenario); run it with
    :func:`ilac_plan.plan`.

    Attributes
    ----------
    sites : pandas.DataFrame
        The validated site table in the working CRS's metres.
    area : shapely geometry
        The planning area minus exclusions. [m]
    grid : GridSpec
    crs : str or None
        The working CRS (projected, metres), or None for local metres.
    schemes : tuple of str
    scheme_params, propagation_params : dict
        Parameters with their defaults filled in.
    radio : RadioParams
    target_error_m, max_capacity_loss : float or None
        The objective (exactly one is set). [m], [fraction]
    propagation : str or PathLossModel
    interference : bool
    antenna : {"3gpp", "horizontal", "omni"}
        Cell antenna model (the plan default: the TR 38.901 3-D pattern).
    bound : {"paper", "achievable"}
    epre : {"paper", "equal"}
    dl_prs : {"orthogonal", "beamformed"}
    positioning : {"serving", "network"}
    n_cells : int
        Cells fused by network positioning (1 with serving-cell positioning).
    measurements : {"toa_aoa", "tdoa", "aoa"}
    prs_reuse : int
    ue_height_m : float
        UE height above ground. [m]
    wrap_around : dict or None
        ``{"isd_m", "rings"}`` of a wrapped hexagonal layout: each cell is seen once,
        through its image nearest to the point.
    tile_px, max_points : int
    name : str
        Title of the plan (scenario name).
    sources : tuple of dict
        Input files: ``role``, ``path``, ``sha256``, ``crs``.
    scenario : dict or None
        A scenario document that rebuilds these inputs (file paths absolute), when the
        inputs came from a scenario; None for tables given in Python.
    """

    sites: pd.DataFrame
    area: object
    grid: GridSpec
    crs: str | None
    schemes: tuple
    scheme_params: dict
    radio: RadioParams
    target_error_m: float | None
    max_capacity_loss: float | None
    propagation: object
    propagation_params: dict
    interference: bool
    antenna: str
    bound: str
    epre: str
    dl_prs: str
    ue_height_m: float
    wrap_around: dict | None
    tile_px: int
    max_points: int
    name: str = ""
    sources: tuple = ()
    scenario: dict | None = field(default=None, repr=False)
    positioning: str = "serving"
    n_cells: int = 1
    measurements: str = "toa_aoa"
    prs_reuse: int = 1
    prs_interference: bool = False
    drop_seed: int | None = None

    @property
    def network(self):
        """Whether the plan fuses several cells' positioning (extra bands and columns)."""
        return self.positioning == "network"

    @classmethod
    def build(cls, sites, area=None, *, sources=(), scenario=None, **options):
        """Validate and resolve a plan's inputs.

        Parameters
        ----------
        sites : pandas.DataFrame
            Site table in metres (see :mod:`ilac_plan.sites`; :func:`ilac_plan.read_sites`
            projects lon/lat tables and records their CRS in ``attrs["crs"]``).
        area : shapely Polygon or MultiPolygon, or GeoDataFrame/GeoSeries, optional
            Planning area in the working CRS (a GeoDataFrame or GeoSeries with a CRS is
            reprojected to it; its polygons are unioned); default the convex hull of the
            sites grown by half the typical site spacing.
        **options
            Any of :data:`DEFAULTS`:

            ``resolution_m`` (pixel side [m], default 5); ``target_error_m`` (RMSE bound
            sqrt(CRB) to meet [m], default 0.05) or ``max_capacity_loss`` (fraction of
            capacity that positioning may take); ``schemes`` (registered names, default
            time and frequency) and ``scheme_params`` (``{scheme: {param: value}}``);
            ``radio`` (:class:`RadioParams`, default the paper's); ``propagation``
            (registered model name, default free_space, or a PathLossModel) and
            ``propagation_params``; ``interference`` (SINR with every other cell at full
            load); ``antenna`` (``"3gpp"``, the TR 38.901 3-D pattern with the sites'
            heights and tilts, the default; ``"horizontal"`` or ``"omni"``; the older
            ``sector_pattern`` True/False means horizontal/omni); ``bound``
            (``"paper"`` or ``"achievable"``), ``epre`` (``"paper"`` or ``"equal"``),
            ``dl_prs`` (``"orthogonal"`` or ``"beamformed"``), see
            :func:`ilac_plan.evaluate`; ``ue_height_m`` (default 1.5 m);
            ``wrap_around`` (``{"isd_m", "rings"}`` of a hexagonal layout); ``exclusions`` (geometries not planned); ``crs``
            (working CRS, default the sites' ``attrs["crs"]``); ``max_points`` (refuse
            larger grids, default 2e7); ``tile_px`` (tile side, default 512); ``name``.

        Returns
        -------
        PlanInputs

        Raises
        ------
        ParameterError
            One line naming the option and its allowed range.
        """
        from .area import default_area, validate_area
        from .coverage import (DEFAULT_NETWORK_CELLS, EPRE, _network_options, check_drop_seed,
                               evaluate, resolve_antenna)
        from .model.crb import check_bound, check_dl_prs
        from .plugins import get_registry
        from .schemes import resolve_params
        from .sites import validate_sites

        unknown = sorted(set(options) - set(DEFAULTS))
        if unknown:
            raise ParameterError(f"unknown plan option {unknown[0]!r} (allowed: "
                                 f"{', '.join(DEFAULTS)})")
        opt = {**DEFAULTS, **options}
        if "max_capacity_loss" in options and options["max_capacity_loss"] is not None \
                and "target_error_m" not in options:
            opt["target_error_m"] = None
        if opt["target_error_m"] is None and opt["max_capacity_loss"] is None:
            opt["target_error_m"] = DEFAULTS["target_error_m"]
        radio = opt["radio"] if opt["radio"] is not None else RadioParams()
        if not isinstance(radio, RadioParams):
            raise ParameterError("radio must be a RadioParams")
        sites_crs = getattr(sites, "attrs", {}).get("crs")
        crs = opt["crs"] if opt["crs"] is not None else sites_crs
        crs = check_projected_crs(crs, near_lonlat=_centre_lonlat(sites, crs))
        sites = validate_sites(sites)
        if crs and sites_crs and crs != sites_crs and "x_m" in sites.columns:
            from .sites import project_sites   # the table's metres into the working CRS

            sites, _ = project_sites(sites.drop(columns=[c for c in ("lon_deg", "lat_deg")
                                                         if c in sites.columns]),
                                     crs, source_crs=sites_crs)
            sites.attrs["crs"] = crs
        if crs:
            check_scale(crs, sites)
        if "x_m" not in sites.columns:
            raise ParameterError("sites need x_m and y_m (read lon/lat tables with read_sites)")
        area = default_area(sites) if area is None else validate_area(area_in_crs(area, crs))
        exclusions = opt["exclusions"]
        if isinstance(exclusions, (str, bytes)) or not hasattr(exclusions, "__iter__"):
            exclusions = [exclusions]
        from .area import read_area

        for k, ex in enumerate(exclusions):
            ex = area_in_crs(ex, crs)
            area = area.difference(read_area(ex, name=f"exclusion {k + 1}", crs=crs))
        if area.is_empty or not area.area > 0:
            raise ParameterError("area: nothing is left to plan once the exclusions are removed")
        res = check_limit("resolution_m", opt["resolution_m"])
        xy = np.column_stack([sites["x_m"], sites["y_m"]])
        # a guard against areas and sites in different coordinates (lon/lat against metres,
        # local metres against UTM: hundreds of km apart), not against small areas among
        # the sites: "near" is within the larger of 2 km, the sites' own extent and 10 pixels
        near_m = max(NEAR_SITES_M, 10 * res, float(np.hypot(*np.ptp(xy, axis=0))))
        if shapely.distance(area, shapely.multipoints(xy)) > near_m:
            raise ParameterError(
                f"area: no site lies in or within {near_m:g} m of the planning area (are the "
                "area and the sites in the same coordinates?)")
        grid = GridSpec.covering(area.bounds, res, opt["max_points"])
        shapely.prepare(area)
        if not _some_pixel_centre_inside(area, grid):
            raise ParameterError(f"area: no pixel centre falls inside the area at resolution_m "
                                 f"{grid.resolution_m:g} m (use a finer resolution)")
        tile_px = check_limit("tile_px", opt["tile_px"])
        n_tiles = math.ceil(grid.nx / tile_px) * math.ceil(grid.ny / tile_px)
        if n_tiles > MAX_TILES:
            raise ParameterError(f"tile_px {tile_px} cuts the {grid.nx:,} x {grid.ny:,} grid "
                                 f"into {n_tiles:,} tiles; at most {MAX_TILES:,} (a larger "
                                 "tile_px or a coarser resolution_m)")
        wrap = opt["wrap_around"]
        if isinstance(wrap, np.ndarray):
            raise ParameterError("wrap_around must be {'isd_m': ..., 'rings': ...}")
        if wrap:
            if not isinstance(wrap, dict) or set(wrap) != {"isd_m", "rings"}:
                raise ParameterError("wrap_around must be {'isd_m': ..., 'rings': ...}")
            wrap = {"isd_m": check_limit("wrap_around.isd_m", wrap["isd_m"]),
                    "rings": check_limit("wrap_around.rings", wrap["rings"])}
        else:
            wrap = None
        names = check_names("schemes", opt["schemes"], allow_empty=True)
        if not names:
            raise ParameterError("schemes: a plan needs at least one allocation scheme")
        sp = {} if opt["scheme_params"] is None else opt["scheme_params"]
        if not isinstance(sp, dict) or not all(isinstance(v, dict) for v in sp.values()):
            raise ParameterError("scheme_params must be {scheme name: {parameter: value}}")
        registry = get_registry()
        extra = sorted(set(sp) - set(names))
        if extra:
            raise ParameterError(f"scheme_params names {extra[0]!r}, which is not in schemes")
        scheme_params = {n: resolve_params(registry.scheme(n), sp.get(n)) for n in names}
        propagation = opt["propagation"] if opt["propagation"] is not None else "free_space"
        pp = {} if opt["propagation_params"] is None else opt["propagation_params"]
        if not isinstance(pp, dict):
            raise ParameterError("propagation_params must be {parameter: value}")
        if not isinstance(propagation, str) and pp:
            raise ParameterError("propagation_params apply to a registered model name only")
        ue_height = check_limit("ue_height_m", opt["ue_height_m"])
        if isinstance(propagation, str):
            from .propagation import LinkGeometry

            # parameters bound to the run's geometry (gNB and UE heights, carrier) that the
            # caller did not set take the run's values, as in evaluate; written out, so that
            # the manifest and scenario.toml name what the formula used
            heights = sites["height_m"].to_numpy(np.float64) if "height_m" in sites else None
            pp = registry.model(propagation).parameter_values(
                pp, LinkGeometry(radio.carrier_hz, heights, ue_height))
        antenna = resolve_antenna(opt["antenna"] if "antenna" in options else None,
                                  opt["sector_pattern"], default=DEFAULTS["antenna"])
        _network_options(opt["positioning"], opt["n_cells"], opt["measurements"],
                         opt["prs_reuse"], opt["prs_interference"])
        network = opt["positioning"] == "network"
        inputs = cls(
            positioning=opt["positioning"],
            n_cells=(DEFAULT_NETWORK_CELLS if opt["n_cells"] is None else int(opt["n_cells"]))
            if network else 1,
            measurements=opt["measurements"], prs_reuse=int(opt["prs_reuse"]),
            prs_interference=bool(opt["prs_interference"]),
            drop_seed=None if opt["drop_seed"] is None else check_drop_seed(opt["drop_seed"]),
            sites=sites, area=area, grid=grid, crs=crs, schemes=names,
            scheme_params=scheme_params, radio=radio, target_error_m=opt["target_error_m"],
            max_capacity_loss=opt["max_capacity_loss"], propagation=propagation,
            propagation_params=pp, interference=check_flag("interference", opt["interference"]),
            antenna=antenna, bound=check_bound(opt["bound"]),
            epre=check_choice("epre", opt["epre"], EPRE), dl_prs=check_dl_prs(opt["dl_prs"]),
            ue_height_m=ue_height, wrap_around=wrap, tile_px=tile_px,
            max_points=check_limit("max_points", opt["max_points"]),
            name=_name(opt["name"]), sources=tuple(sources), scenario=scenario)
        # the whole chain once on one point, before anything is allocated
        evaluate(sites, [float(sites["x_m"].iloc[0])], [float(sites["y_m"].iloc[0])],
                 n_threads=1, **inputs.evaluate_options())
        shapely.prepare(area)
        return inputs

    def memory_bytes(self, streamed, n_workers=None):
        """An upper estimate of the run's peak memory [bytes].

        Parameters
        ----------
        streamed : bool
            True when the rasters go to disk tile by tile; False when they are kept in
            memory (a :class:`~ilac_plan.planner.PlanResult`).
        n_workers : int, optional
            Local tile threads (default: the CPU count); ``n_workers + 1`` tiles are in
            flight at a time.
        """
        import os

        n_px = self.grid.nx * self.grid.ny
        in_flight = min(math.ceil(self.grid.nx / self.tile_px)
                        * math.ceil(self.grid.ny / self.tile_px),
                        (n_workers or os.cpu_count() or 1) + 1)
        tile = in_flight * min(self.tile_px ** 2, n_px) * TILE_BYTES_PER_PX
        # a kept plan: mask, serving cell, best scheme and SNR, three float32 rasters per
        # scheme, and a quarter more for the copies the writers make of a band at a time
        # (measured: 33 B/pixel above a streamed run with two schemes, 2.7e7 pixels)
        kept = 0 if streamed else n_px * (11 + 12 * len(self.schemes)) * 5 // 4
        return MEMORY_BASE_BYTES + tile + kept

    def staging_bytes(self):
        """The uncompressed staging GeoTIFFs of a streamed run [bytes] (disk space)."""
        per_px = 4 * (1 + 3 * len(self.schemes)) + 1 + 4
        return self.grid.nx * self.grid.ny * per_px

    def evaluate_options(self):
        """The :func:`ilac_plan.evaluate` keywords of this plan (without ``n_threads``)."""
        from .layouts import wrap_shifts_m

        return dict(target_error_m=self.target_error_m,
                    max_capacity_loss=self.max_capacity_loss, schemes=list(self.schemes),
                    radio=self.radio, interference=self.interference,
                    propagation=self.propagation,
                    propagation_params=self.propagation_params or None,
                    scheme_params=self.scheme_params or None,
                    antenna=self.antenna, bound=self.bound, epre=self.epre,
                    dl_prs=self.dl_prs, ue_height_m=self.ue_height_m,
                    wrap_shifts_m=wrap_shifts_m(**self.wrap_around) if self.wrap_around
                    else None, drop_seed=self.drop_seed,
                    **(dict(positioning="network", n_cells=self.n_cells,
                                       measurements=self.measurements,
                                       prs_reuse=self.prs_reuse,
                                       prs_interference=self.prs_interference)
                                  if self.network else {}))

    @property
    def classes(self):
        """Region classes: the schemes, then ``infeasible``."""
        from .coverage import INFEASIBLE

        return list(self.schemes) + [INFEASIBLE]

    @property
    def bound_text(self):
        """The position bound and energy convention in words, for titles and reports."""
        text = "paper's CRB" if self.bound == "paper" else f"achievable CRB ({self.dl_prs} PRS)"
        return text + (", equal EPRE" if self.epre == "equal" else "")

    @property
    def objective_text(self):
        """The objective in words, for titles and reports."""
        if self.max_capacity_loss is not None:
            return f"lowest error for at most {100 * self.max_capacity_loss:g} % capacity loss"
        t = self.target_error_m
        return f"target error {t * 100:g} cm" if t < 1 else f"target error {t:g} m"

    def resolved(self):
        """Every resolved input as plain data (for the manifest)."""
        return {
            "name": self.name, "crs": self.crs,
            "objective": {"target_error_m": self.target_error_m,
                          "max_capacity_loss": self.max_capacity_loss},
            "radio": self.radio.to_dict(),
            "bound": {"bound": self.bound, "epre": self.epre, "dl_prs": self.dl_prs},
            "positioning": {"mode": self.positioning, "n_cells": self.n_cells,
                            "measurements": self.measurements, "prs_reuse": self.prs_reuse,
                            "prs_interference": self.prs_interference},
            "schemes": {n: dict(self.scheme_params.get(n, {})) for n in self.schemes},
            "propagation": {"model": self.propagation if isinstance(self.propagation, str)
                            else repr(self.propagation), "params": dict(self.propagation_params),
                            "antenna": self.antenna,
                            "interference": self.interference, "ue_height_m": self.ue_height_m,
                            "drop_seed": self.drop_seed},
            "grid": {"resolution_m": self.grid.resolution_m, "nx": self.grid.nx,
                     "ny": self.grid.ny, "x0_m": self.grid.x0, "y1_m": self.grid.y1,
                     "tile_px": self.tile_px, "max_points": self.max_points},
            "sites": {"n_cells": int(len(self.sites)), "n_sites": int(
                self.sites["site_id"].nunique()) if "site_id" in self.sites else None,
                "wrap_around": self.wrap_around},
            "area_m2": float(self.area.area),
            "sources": [dict(s) for s in self.sources],
        }


def _some_pixel_centre_inside(area, grid, chunk_rows=256):
    """Whether any pixel centre of ``grid`` lies in ``area`` (prepared): the pixels next to
    a point of the area first, then the whole grid by bands of rows (thin areas)."""
    p = area.representative_point()
    row, col = grid.pixel_of(p.x, p.y)
    rows = np.clip(np.arange(row - 1, row + 2), 0, grid.ny - 1)
    cols = np.clip(np.arange(col - 1, col + 2), 0, grid.nx - 1)
    r, c = np.meshgrid(rows, cols, indexing="ij")
    if shapely.contains_xy(area, *grid.centres(r, c)).any():
        return True
    for r0 in range(0, grid.ny, chunk_rows):
        r, c = np.meshgrid(np.arange(r0, min(grid.ny, r0 + chunk_rows)), np.arange(grid.nx),
                           indexing="ij")
        if shapely.contains_xy(area, *grid.centres(r, c)).any():
            return True
    return False


def file_source(role, path, crs=None):
    """A ``sources`` entry for an input file: absolute path, sha256 and CRS."""
    p = Path(path).resolve()
    return {"role": role, "path": str(p), "sha256": sha256_of(p), "crs": crs}

