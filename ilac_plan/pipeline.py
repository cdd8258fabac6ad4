"""One planning pipeline: tiles -> per-tile products -> sinks.

:func:`execute` runs the tiles of a :class:`~ilac_plan.inputs.PlanInputs` on the
engine (:mod:`ilac_plan.engine`: a local thread pool or Dask, with checkpoints). Where
each tile is computed, :func:`derive` turns it into its *products*: statistics
(:mod:`ilac_plan.stats`), region polygons (:mod:`ilac_plan.regions`) and a decimated
preview. The consumer folds the products into one :class:`~ilac_plan.stats.PlanStats`
and one :class:`Preview`, and hands the tile's arrays to a *sink*:

- :class:`MemorySink` keeps full-resolution rasters (for :class:`PlanResult`);
- :class:`RasterFileSink` writes them window by window into the GeoTIFFs' staging files
  (bounded memory, and the files are ready when the last tile is).

Both sinks share everything else (statistics, the polygonizer of
:mod:`ilac_plan.regions` run over their best-scheme layer, the writers of
:mod:`ilac_plan.exports`), so their tables, regions and files are identical.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
import shapely

from .errors import ParameterError

#: The preview rasters (PNG, report) have at most this many pixels a side.
PREVIEW_PX = 2000


@dataclass
class TileProducts:
    """What the consumer needs of a tile besides its arrays."""

    stats: object        # stats.TileStats
    preview: dict        # decimated arrays and their offset in the preview grid


def preview_step(grid):
    """Decimation factor of the preview: at most :data:`PREVIEW_PX` pixels a side."""
    return max(1, math.ceil(max(grid.nx, grid.ny) / PREVIEW_PX))


def derive(job, tile, arrays):
    """The products of one computed tile (run where the tile was computed)."""
    from .stats import best_values, tile_statistics

    schemes = job.options["schemes"]
    n_s = len(schemes)
    stats = tile_statistics(tile.index, arrays, schemes, job.n_sites)
    mask = arrays["mask"]
    s = job.preview_step
    r0, c0 = (-tile.row0) % s, (-tile.col0) % s
    sub = (slice(r0, None, s), slice(c0, None, s))
    m = mask[sub]
    code = arrays["best_scheme"][sub].astype(np.int64)
    caps = np.stack([arrays[f"{x}_capacity_bps"][sub] for x in schemes]).reshape(n_s, -1)
    errs = np.stack([arrays[f"{x}_error_m"][sub] for x in schemes]).reshape(n_s, -1)
    shares = np.stack([arrays[f"{x}_loc_share"][sub] for x in schemes]).reshape(n_s, -1)
    flat = np.maximum(code.ravel(), 0)
    cap, err, share, _ = best_values(flat, caps, errs, shares)
    preview = {"row": (tile.row0 + r0) // s, "col": (tile.col0 + c0) // s, "mask": m,
               "best_scheme": np.where(m, code, -1).astype(np.int16),
               "capacity_bps": np.where(m, cap.reshape(m.shape), np.nan),
               "error_m": np.where(m, err.reshape(m.shape), np.nan),
               "loc_share": np.where(m, share.reshape(m.shape), np.nan)}
    return TileProducts(stats, preview)


class Preview:
    """Decimated rasters of the plan's best scheme and its capacity, error and share."""

    def __init__(self, grid, step):
        self.step = step
        shape = (math.ceil(grid.ny / step), math.ceil(grid.nx / step))
        self.mask = np.zeros(shape, bool)
        self.best_scheme = np.full(shape, -1, np.int16)
        self.capacity_bps = np.full(shape, np.nan)
        self.error_m = np.full(shape, np.nan)
        self.loc_share = np.full(shape, np.nan)

    def add(self, p):
        nr, nc = p["mask"].shape
        win = (slice(p["row"], p["row"] + nr), slice(p["col"], p["col"] + nc))
        for name in ("mask", "best_scheme", "capacity_bps", "error_m", "loc_share"):
            getattr(self, name)[win] = p[name]


def raster_names(schemes, network=False):
    """Names of the per-pixel arrays of a plan, in band order."""
    from .exports import raster_layout

    return ["serving_cell", "best_scheme"] + [b[0] for b in raster_layout(schemes, network)]


class MemorySink:
    """Keeps every raster of the plan in memory (``(ny, nx)`` arrays)."""

    def __init__(self, inputs):
        # the tiles cover the grid exactly once, each with its outside pixels filled in
        shape = inputs.grid.shape
        self.mask = np.empty(shape, bool)
        self.raster = {"serving_cell": np.empty(shape, np.int32),
                       "best_scheme": np.empty(shape, np.int16)}
        for name in raster_names(inputs.schemes, inputs.network)[2:]:
            self.raster[name] = np.empty(shape, np.float32)

    def add(self, tile, arrays):
        win = tile.window
        self.mask[win] = arrays["mask"]
        for name, arr in self.raster.items():
            arr[win] = arrays[name]

    def close(self, ok):
        pass

    def polygonize(self, grid, n_classes):
        from .regions import best_codes_uint8, polygonize

        return polygonize(best_codes_uint8(self.raster["best_scheme"], self.mask), grid,
                          n_classes)


class RasterFileSink:
    """Writes the rasters window by window (see :class:`ilac_plan.exports.RasterWriter`)."""

    def __init__(self, writer):
        self.writer = writer

    def add(self, tile, arrays):
        self.writer.write(tile, arrays)

    def close(self, ok):
        self.writer.close(ok)

    def polygonize(self, grid, n_classes):
        return self.writer.polygonize(grid, n_classes)


@dataclass
class PlanProducts:
    """What a run gives besides the rasters: statistics, regions, preview, timing."""

    stats: object
    preview: Preview
    n_points: int
    plan_time_s: float
    checkpoints: object = None
    sink: object = None
    _geometries: dict | None = field(default=None, repr=False)

    def geometries(self, grid, n_classes):
        """The region of every class present (polygonized once, then cached)."""
        if self._geometries is None:
            self._geometries = self.sink.polygonize(grid, n_classes)
        return self._geometries


def execute(inputs, sink, *, n_threads=None, engine="local", n_workers=None, scheduler=None,
            checkpoint_dir=None, progress=False):
    """Run every tile of ``inputs`` into ``sink``; return the :class:`PlanProducts`.

    Parameters
    ----------
    inputs : PlanInputs
    sink : MemorySink or RasterFileSink
    n_threads : int, optional
        Kernel threads per tile with one local worker (default: all).
    engine, n_workers, scheduler, checkpoint_dir, progress
        As in :func:`ilac_plan.plan`.
    """
    from .engine import CheckpointStore, TileJob, make_tiles, run_tiles
    from .kernel import resolve_n_threads
    from .stats import PlanStats

    t0 = time.perf_counter()
    grid = inputs.grid
    if n_workers is not None and (not isinstance(n_workers, (int, np.integer))
                                  or isinstance(n_workers, bool) or n_workers < 1):
        from ._validate import short_repr

        raise ParameterError(f"n_workers must be an integer >= 1; got {short_repr(n_workers)}")
    step = preview_step(grid)
    job = TileJob(grid, shapely.to_wkb(inputs.area), inputs.sites, inputs.evaluate_options(),
                  resolve_n_threads(n_threads), n_sites=len(inputs.sites), preview_step=step,
                  tile_px=inputs.tile_px)
    tiles = make_tiles(grid, inputs.tile_px)
    store = CheckpointStore(checkpoint_dir, job.key(), inputs.schemes, inputs.network) \
        if checkpoint_dir is not None else None
    site_ids = inputs.sites["site_id"] if "site_id" in inputs.sites.columns else None
    stats = PlanStats(inputs.schemes, inputs.sites["cell_id"], site_ids,
                      grid.resolution_m ** 2)
    preview = Preview(grid, step)
    ok = False
    try:
        for tile, arrays, products in run_tiles(job, tiles, derive=derive, engine=engine,
                                                n_workers=n_workers, scheduler=scheduler,
                                                store=store, progress=progress):
            stats.add(products.stats)
            preview.add(products.preview)
            sink.add(tile, arrays)
        ok = True
    finally:
        sink.close(ok)
    if stats.n_points == 0:
        raise ParameterError(f"area: no pixel centre falls inside the area at resolution_m "
                             f"{grid.resolution_m:g} m (use a finer resolution)")
    return PlanProducts(stats, preview, stats.n_points, time.perf_counter() - t0, store, sink)

