"""The planner: a site table and a planning area in, best-scheme maps out.

:func:`plan` lays a grid of pixel centres over the area, evaluates the points inside
(minus exclusions) tile by tile on the kernel (:func:`ilac_plan.evaluate`), and keeps
rasters of the serving cell, SNR, best scheme, and each scheme's capacity, error and
share. :class:`PlanResult` turns them into dissolved region polygons and a summary.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ._validate import check_array, check_scalar
from .area import default_area, read_area, validate_area
from .coverage import INFEASIBLE, evaluate
from .errors import ParameterError
from .layouts import wrap_around as wrap_around_copies
from .radio import RadioParams
from .sites import validate_sites

#: Default limit on the number of grid pixels of one plan.
MAX_POINTS = 20_000_000


def _percentile(values, q):
    """A percentile that is one of the values (no interpolation: inf stays inf, never NaN)."""
    return float(np.percentile(values, q, method="higher"))


def run_boxes(sel, x0, y1, resolution_m):
    """One rectangle per run of consecutive selected pixels in each row of ``sel``.

    ``(x0, y1)`` is the top-left corner of pixel (0, 0) on a north-up grid. [m]
    """
    edges = np.diff(np.pad(sel, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, stops = np.nonzero(edges == -1)
    res = resolution_m
    return shapely.box(x0 + starts * res, y1 - (rows + 1) * res, x0 + stops * res,
                       y1 - rows * res)


@dataclass(frozen=True)
class GridSpec:
    """A north-up pixel grid: pixel (row, col) has its centre at
    ``(x0 + (col + 0.5) res, y1 - (row + 0.5) res)``."""

    x0: float
    y1: float
    resolution_m: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, bounds, resolution_m, max_points=MAX_POINTS):
        """The grid of whole pixels covering ``bounds`` = (xmin, ymin, xmax, ymax)."""
        res = check_scalar("resolution_m", resolution_m, low=0.0, low_open=True,
                                high=1e5, unit="m")
        xmin, ymin, xmax, ymax = bounds
        nx = max(1, math.ceil((xmax - xmin) / res))
        ny = max(1, math.ceil((ymax - ymin) / res))
        limit = int(check_array("max_points", max_points, low=1, integer=True))
        if nx * ny > limit:
            raise ParameterError(
                f"resolution_m {res:g} m needs {nx * ny:,} grid points over the area; the limit "
                f"is max_points = {limit:,} (coarser resolution or a larger max_points)")
        return cls(float(xmin), float(ymin + ny * res), res, nx, ny)

    @property
    def transform(self):
        """GDAL geotransform order (a, b, c, d, e, f) of the affine pixel -> world map."""
        return (self.resolution_m, 0.0, self.x0, 0.0, -self.resolution_m, self.y1)

    def centres(self, rows, cols):
        """x, y of the pixel centres of the given row and column index arrays. [m]"""
        return (self.x0 + (np.asarray(cols) + 0.5) * self.resolution_m,
                self.y1 - (np.asarray(rows) + 0.5) * self.resolution_m)

    def pixel_of(self, x, y):
        """(row, col) of the pixel containing each point."""
        col = np.floor((np.asarray(x) - self.x0) / self.resolution_m).astype(np.int64)
        row = np.floor((self.y1 - np.asarray(y)) / self.resolution_m).astype(np.int64)
        return row, col


@dataclass
class PlanResult:
    """Rasters of a plan and what is derived from them.

    Attributes
    ----------
    grid : GridSpec
    schemes : list of str
    raster : dict of ndarray
        ``(ny, nx)`` arrays: ``serving_cell`` (int32, -1 outside), ``snr_db``,
        ``best_scheme`` (int16: index into ``schemes``, ``len(schemes)`` for infeasible,
        -1 outside), and ``<scheme>_capacity_bps``, ``<scheme>_error_m``,
        ``<scheme>_loc_share``; float bands are NaN outside the area (the GeoTIFF nodata).
    mask : ndarray of bool
        Pixels inside the planning area (minus exclusions).
    sites : pandas.DataFrame
    area : shapely geometry
        The planning area minus exclusions. [m]
    crs : str or None
        CRS of the metres (None: local metres without a CRS).
    run_time_s : float
    """

    grid: GridSpec
    schemes: list
    raster: dict
    mask: np.ndarray
    sites: pd.DataFrame
    area: object
    crs: str | None = None
    run_time_s: float = 0.0
    options: dict = field(default_factory=dict)
    checkpoints: object = None

    @property
    def classes(self):
        """Region classes: the schemes, then ``infeasible``."""
        return list(self.schemes) + [INFEASIBLE]

    def region_geometry(self, code):
        """Dissolved (Multi)Polygon of the pixels whose best-scheme code is ``code``."""
        sel = self.raster["best_scheme"] == code
        if not sel.any():
            return None
        g = self.grid
        boxes = run_boxes(sel, g.x0, g.y1, g.resolution_m)
        # boxes touch with T-junctions (not a noded coverage): a full union, snapped to a
        # grid far below the pixel size so that shared edges are exactly shared
        merged = shapely.union_all(boxes, grid_size=g.resolution_m * 1e-6)
        return merged if merged.is_valid else shapely.make_valid(merged)

    @property
    def regions(self):
        """One row per class present: ``scheme``, ``geometry`` (shapely, metres),
        ``area_m2``, ``mean_capacity_bps`` and ``p95_error_m`` over the region."""
        rows = []
        best = self.raster["best_scheme"]
        for code, name in enumerate(self.classes):
            geom = self.region_geometry(code)
            if geom is None:
                continue
            sel = best == code
            cap, err = self._best_values(sel)
            rows.append({"scheme": name, "geometry": geom, "area_m2": float(geom.area),
                         "mean_capacity_bps": float(cap.mean()),
                         "p95_error_m": _percentile(err, 95)})
        return pd.DataFrame(rows, columns=["scheme", "geometry", "area_m2", "mean_capacity_bps",
                                           "p95_error_m"])

    def _best_values(self, sel):
        """Capacity and error of the best scheme at the selected pixels (infeasible: 0 and
        the lowest error any scheme reaches)."""
        code = self.raster["best_scheme"][sel]
        caps = np.stack([self.raster[f"{s}_capacity_bps"][sel] for s in self.schemes])
        errs = np.stack([self.raster[f"{s}_error_m"][sel] for s in self.schemes])
        k = np.minimum(code, len(self.schemes) - 1)
        idx = np.arange(code.size)
        feasible = code < len(self.schemes)
        cap = np.where(feasible, caps[k, idx], 0.0)
        err = np.where(feasible, errs[k, idx], errs.min(axis=0))
        return cap, err

    @property
    def summary(self):
        """One row per scheme (over the whole area), then ``best`` and ``infeasible``.

        Columns: ``scheme, area_fraction`` (where the scheme is best),
        ``mean_capacity_bps, p5_capacity_bps, median_error_m, p95_error_m``.
        """
        best = self.raster["best_scheme"][self.mask]
        n = max(best.size, 1)
        rows = []

        def stats(name, frac, cap, err):
            rows.append({"scheme": name, "area_fraction": frac,
                         "mean_capacity_bps": float(np.mean(cap)),
                         "p5_capacity_bps": _percentile(cap, 5),
                         "median_error_m": _percentile(err, 50),
                         "p95_error_m": _percentile(err, 95)})

        for code, s in enumerate(self.schemes):
            stats(s, float(np.sum(best == code)) / n,
                  self.raster[f"{s}_capacity_bps"][self.mask], self.raster[f"{s}_error_m"][self.mask])
        cap, err = self._best_values(self.mask)
        stats("best", float(np.sum(best < len(self.schemes))) / n, cap, err)
        inf_sel = best == len(self.schemes)
        rows.append({"scheme": INFEASIBLE, "area_fraction": float(np.sum(inf_sel)) / n})
        return pd.DataFrame(rows, columns=["scheme", "area_fraction", "mean_capacity_bps",
                                           "p5_capacity_bps", "median_error_m", "p95_error_m"])

    def best_scheme_at(self, x, y):
        """Best scheme name at points (``None`` outside the planned pixels)."""
        row, col = self.grid.pixel_of(x, y)
        inside = (row >= 0) & (row < self.grid.ny) & (col >= 0) & (col < self.grid.nx)
        out = np.full(np.shape(x), None, dtype=object)
        codes = self.raster["best_scheme"][row[inside], col[inside]]
        out[inside] = [self.classes[c] if c >= 0 else None for c in codes]
        return out

    def to_geojson(self, path):
        """Write the regions as GeoJSON (see :func:`ilac_plan.exports.write_regions`)."""
        from .exports import write_regions

        write_regions(self, path)

    def to_geotiff(self, path):
        """Write the rasters as a GeoTIFF (needs the ``raster`` extra: rasterio)."""
        from .exports import write_geotiff

        write_geotiff(self, path)

    def plot(self, path):
        """Draw the best-scheme, capacity and error maps (needs the ``plot`` extra)."""
        from .exports import write_png

        write_png(self, path)


def setup(sites, area=None, *, resolution_m=10.0, target_error_m=None, max_capacity_loss=None,
          schemes=None, radio=None, exclusions=(), interference=False, propagation=None,
          propagation_params=None, scheme_params=None, sector_pattern=True, ue_height_m=1.5,
          wrap_around=None, crs=None, max_points=MAX_POINTS, tile_px=512, n_threads=None):
    """Validate a plan's inputs and resolve its grid, cells and options (no evaluation).

    Arguments as in :func:`plan`. Returns a namespace with ``grid``, ``names`` (schemes),
    ``sites``, ``area`` (minus exclusions), ``cells`` (with wrap-around copies),
    ``kw`` (the :func:`ilac_plan.evaluate` keywords), ``options`` (``kw`` less
    ``n_threads``), ``tile_px`` and ``crs``.
    """
    from types import SimpleNamespace

    radio = RadioParams() if radio is None else radio
    sites = validate_sites(sites)
    if "x_m" not in sites.columns:
        raise ParameterError("sites need x_m and y_m (read lon/lat tables with read_sites)")
    area = default_area(sites) if area is None else validate_area(area)
    for k, ex in enumerate(exclusions):
        area = area.difference(read_area(ex, name=f"exclusion {k + 1}"))
    if area.is_empty or not area.area > 0:
        raise ParameterError("area: nothing is left to plan once the exclusions are removed")
    if not shapely.intersects(area, shapely.multipoints(
            np.column_stack([sites["x_m"], sites["y_m"]]))):
        inside = shapely.contains_xy(area.buffer(10 * resolution_m), sites["x_m"], sites["y_m"])
        if not inside.any():
            raise ParameterError(
                "area: no site lies in or near the planning area (are the area and the sites "
                "in the same coordinates?)")
    grid = GridSpec.covering(area.bounds, resolution_m, max_points)
    tile_px = int(check_array("tile_px", tile_px, low=16, high=1 << 14, integer=True))
    cells = sites
    if wrap_around:
        cells = wrap_around_copies(sites, wrap_around["isd_m"], wrap_around["rings"])
    shapely.prepare(area)

    kw = dict(target_error_m=target_error_m, max_capacity_loss=max_capacity_loss,
              schemes=schemes, radio=radio, interference=interference,
              propagation=propagation, propagation_params=propagation_params,
              scheme_params=scheme_params, sector_pattern=sector_pattern,
              ue_height_m=ue_height_m, n_threads=n_threads)
    # validate everything once on one point before allocating the rasters
    probe = evaluate(cells, [float(sites["x_m"].iloc[0])], [float(sites["y_m"].iloc[0])], **kw)
    if "best_scheme" not in probe.columns:
        raise ParameterError("schemes: a plan needs at least one allocation scheme")
    names = list(probe["best_scheme"].cat.categories[:-1])
    options = {k: v for k, v in kw.items() if k != "n_threads"}
    return SimpleNamespace(grid=grid, names=names, sites=sites, area=area, cells=cells, kw=kw,
                           options=options, tile_px=tile_px, crs=crs)


def plan(sites, area=None, *, resolution_m=10.0, target_error_m=None, max_capacity_loss=None,
         schemes=None, radio=None, exclusions=(), interference=False, propagation=None,
         propagation_params=None, scheme_params=None, sector_pattern=True, ue_height_m=1.5,
         wrap_around=None, crs=None, max_points=MAX_POINTS, tile_px=512, n_threads=None,
         progress=False, engine="local", n_workers=None, scheduler=None, checkpoint_dir=None):
    """Plan a coverage area: evaluate every pixel inside it and keep the rasters.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table in metres (see :mod:`ilac_plan.sites`; :func:`ilac_plan.read_sites`
        projects lon/lat tables).
    area : shapely Polygon or MultiPolygon, optional
        Planning area in the sites' metres; default the convex hull of the sites grown by
        half the typical site spacing.
    resolution_m : float, default 10
        Pixel size. [m]
    target_error_m, max_capacity_loss, schemes, radio, interference, propagation,
    propagation_params, scheme_params, sector_pattern, ue_height_m, n_threads
        As in :func:`ilac_plan.evaluate`.
    exclusions : sequence of shapely geometries
        Zones inside the area that are not planned (lakes, parks, ...).
    wrap_around : dict, optional
        ``{"isd_m": ..., "rings": ...}`` of a hexagonal layout: six shifted copies of the
        sites surround it (3GPP wrap-around), so edge pixels see a full tier of cells.
    crs : str, optional
        CRS of the metres, recorded for exports (EPSG:4326 regions, GeoTIFF georeference).
    max_points : int, default 20 000 000
        Refuse grids with more pixels than this.
    tile_px : int, default 512
        Tile side in pixels; memory is bounded by the tile, not by the grid.
    progress : bool, default False
        Show a tqdm progress bar over tiles.
    engine : {"local", "dask"}, default "local"
        Where tiles run (:mod:`ilac_plan.engine`): a local thread pool, or Dask
        (``scheduler`` address, or a LocalCluster started for the run).
    n_workers : int, optional
        Local threads across tiles (default: the CPU count; each tile then uses one kernel
        thread) or LocalCluster workers (default 2).
    scheduler : str, optional
        Dask scheduler address.
    checkpoint_dir : str or os.PathLike, optional
        Keep finished tiles in ``<checkpoint_dir>/.ilac-checkpoints`` and resume from them.

    Returns
    -------
    PlanResult
    """
    t0 = time.perf_counter()
    prep = setup(sites, area, resolution_m=resolution_m, target_error_m=target_error_m,
                 max_capacity_loss=max_capacity_loss, schemes=schemes, radio=radio,
                 exclusions=exclusions, interference=interference, propagation=propagation,
                 propagation_params=propagation_params, scheme_params=scheme_params,
                 sector_pattern=sector_pattern, ue_height_m=ue_height_m,
                 wrap_around=wrap_around, crs=crs, max_points=max_points, tile_px=tile_px,
                 n_threads=n_threads)
    grid, names, sites, area, cells, kw = (prep.grid, prep.names, prep.sites, prep.area,
                                           prep.cells, prep.kw)
    shape = (grid.ny, grid.nx)
    raster = {"serving_cell": np.full(shape, -1, np.int32), "snr_db": np.full(shape, np.nan),
              "best_scheme": np.full(shape, -1, np.int16)}
    for s in names:
        for suffix in ("capacity_bps", "error_m", "loc_share"):
            raster[f"{s}_{suffix}"] = np.full(shape, np.nan)
    mask = np.zeros(shape, bool)

    from .engine import CheckpointStore, TileJob, make_tiles, run_tiles
    from .kernel import resolve_n_threads

    job = TileJob(grid, shapely.to_wkb(area), cells, prep.options, resolve_n_threads(n_threads))
    tiles = make_tiles(grid, prep.tile_px)
    store = CheckpointStore(checkpoint_dir, job.key()) if checkpoint_dir is not None else None
    for tile, arrays in run_tiles(job, tiles, engine=engine, n_workers=n_workers,
                                  scheduler=scheduler, store=store, progress=progress):
        window = (slice(tile.row0, tile.row0 + tile.nrows),
                  slice(tile.col0, tile.col0 + tile.ncols))
        mask[window] = arrays["mask"]
        for name, arr in raster.items():
            arr[window] = arrays[name]
    if not mask.any():
        raise ParameterError(f"area: no pixel centre falls inside the area at resolution_m "
                             f"{grid.resolution_m:g} m (use a finer resolution)")
    result = PlanResult(grid, names, raster, mask, sites, area, crs, time.perf_counter() - t0,
                        {k: v for k, v in kw.items() if k != "radio"})
    result.checkpoints = store
    return result
