"""Plans too large for memory: outputs built tile by tile (bounded memory).

:func:`stream_plan` runs the tiles (:mod:`ilac_plan.engine`) and folds each finished tile
into a :class:`StreamingOutputs`: the GeoTIFF is written window by window, the summary
and the regions' statistics are accumulated (sums for means, fine log-spaced histograms
for percentiles: exact to within one bin, 0.12 %), region polygons are made per tile
(GDAL's polygonize through rasterio when installed) and dissolved at the end, and the
PNG is drawn from a decimated copy of the rasters. Memory is bounded by the tile, the
polygons and the preview, not by the grid.
"""

import json
import math
import time

import numpy as np
import pandas as pd
import shapely

from .coverage import INFEASIBLE

#: Histogram of capacities: 0, then log10 from 1 to 1e11 bit/s.
CAP_EDGES = np.concatenate([[0.0], np.logspace(0.0, 11.0, 22001)])
#: Histogram of errors: log10 from 1e-9 to 1e7 m, then inf.
ERR_EDGES = np.concatenate([np.logspace(-9.0, 7.0, 32001), [np.inf]])
PREVIEW_PX = 1500
#: Grids with more points than this are streamed by ``ilac-plan map`` by default.
STREAM_POINTS = 20_000_000


class _Hist:
    """Counts on fixed edges; percentiles exact to within one bin (returns the bin's top).

    The edges are log-spaced (after an optional 0 edge), so a value's bin is computed
    from its logarithm instead of searched; values on an edge are then confirmed.
    """

    def __init__(self, edges):
        self.edges = edges
        self.counts = np.zeros(edges.size + 1, np.int64)
        self.zero = edges[0] == 0.0
        logs = np.log10(edges[1:] if self.zero else edges[np.isfinite(edges)])
        self.lo, self.step = logs[0], (logs[-1] - logs[0]) / (logs.size - 1)
        self.n_log = logs.size

    def add(self, values):
        v = np.asarray(values, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.ceil((np.log10(v) - self.lo) / self.step)
        k = np.clip(np.nan_to_num(k, nan=0.0, neginf=0.0, posinf=self.n_log), 0, self.n_log)
        idx = k.astype(np.int64) + (1 if self.zero else 0)
        idx = np.where(v <= (0.0 if self.zero else -np.inf), 0, idx)
        # side="left" semantics: bin i holds edges[i-1] < v <= edges[i]; fix rounding
        idx = np.minimum(idx, self.edges.size)
        top = self.edges[np.minimum(idx, self.edges.size - 1)]
        idx = np.where((idx < self.edges.size) & (v > top), idx + 1, idx)
        low = self.edges[np.maximum(idx - 1, 0)]
        idx = np.where((idx > 0) & (v <= low), idx - 1, idx)
        self.counts += np.bincount(idx, minlength=self.counts.size)

    def percentile(self, q):
        total = self.counts.sum()
        if total == 0:
            return float("nan")
        k = int(np.searchsorted(np.cumsum(self.counts), math.ceil(q / 100.0 * total)))
        k = max(k, 1) if self.edges[0] == 0.0 else k
        return float(self.edges[min(k, self.edges.size - 1)] if k < self.edges.size
                     else np.inf)


class _Stats:
    """Count, exact sum (``math.fsum`` of per-tile sums: independent of the order tiles
    finish in, so every engine gives the same digits) and histograms."""

    def __init__(self):
        self.n = 0
        self.partial_sums = []
        self.cap = _Hist(CAP_EDGES)
        self.err = _Hist(ERR_EDGES)

    def add(self, cap, err):
        self.n += cap.size
        self.partial_sums.append(float(cap.sum()))
        self.cap.add(cap)
        self.err.add(err)

    @property
    def cap_sum(self):
        return math.fsum(self.partial_sums)


class StreamingOutputs:
    """Accumulates the outputs of a plan tile by tile, then writes them."""

    def __init__(self, grid, schemes, sites, crs, stage, geotiff=True):
        self.grid, self.schemes, self.sites, self.crs = grid, list(schemes), sites, crs
        self.classes = self.schemes + [INFEASIBLE]
        self.stage = stage
        self.scheme_stats = {s: _Stats() for s in self.schemes}
        self.best_stats = _Stats()
        self.class_stats = {c: _Stats() for c in self.classes}
        self.class_count = np.zeros(len(self.classes), np.int64)
        self.n_inside = 0
        self.polygons = {c: {} for c in self.classes}   # class -> tile index -> polygons
        self.step = max(1, math.ceil(max(grid.nx, grid.ny) / PREVIEW_PX))
        shape = (math.ceil(grid.ny / self.step), math.ceil(grid.nx / self.step))
        self.preview = {"best_scheme": np.full(shape, -1, np.int16), "mask": np.zeros(shape, bool),
                        "capacity": np.full(shape, np.nan), "error": np.full(shape, np.nan)}
        self.tif = self._open_geotiff() if geotiff else None

    # -- per tile ---------------------------------------------------------------------
    def add(self, tile, arrays):
        mask = arrays["mask"]
        best = arrays["best_scheme"]
        n_s = len(self.schemes)
        inside = mask.sum()
        self.n_inside += int(inside)
        caps = np.stack([arrays[f"{s}_capacity_bps"][mask] for s in self.schemes])
        errs = np.stack([arrays[f"{s}_error_m"][mask] for s in self.schemes])
        for k, s in enumerate(self.schemes):
            self.scheme_stats[s].add(caps[k], errs[k])
        code = best[mask]
        feasible = code < n_s
        kk = np.minimum(code, n_s - 1)
        idx = np.arange(code.size)
        cap_b = np.where(feasible, caps[kk, idx], 0.0)
        err_b = np.where(feasible, errs[kk, idx], errs.min(axis=0) if n_s else np.inf)
        self.best_stats.add(cap_b, err_b)
        self.class_count += np.bincount(code, minlength=len(self.classes))
        for c in np.unique(code):
            sel = code == c
            self.class_stats[self.classes[c]].add(cap_b[sel], err_b[sel])
        self._polygonize(tile, best, mask)
        self._preview(tile, arrays, mask, best, cap_b, err_b)
        if self.tif is not None:
            self._write_window(tile, arrays, mask)

    def _polygonize(self, tile, best, mask):
        g = self.grid
        x0, _, _, y1 = tile.bbox(g)
        try:
            from rasterio.features import shapes
            from rasterio.transform import Affine
        except ImportError:
            shapes = None
        if shapes is not None:
            transform = Affine(g.resolution_m, 0.0, x0, 0.0, -g.resolution_m, y1)
            for geom, value in shapes(best, mask=mask, transform=transform, connectivity=4):
                self.polygons[self.classes[int(value)]].setdefault(tile.index, []).append(
                    shapely.geometry.shape(geom))
            return
        from .planner import run_boxes

        for c in np.unique(best[mask]):            # without GDAL: rectangles of row runs
            self.polygons[self.classes[int(c)]].setdefault(tile.index, []).extend(
                run_boxes(best == c, x0, y1, g.resolution_m))

    def _preview(self, tile, arrays, mask, best, cap_b, err_b):
        s = self.step
        r0 = (-tile.row0) % s
        c0 = (-tile.col0) % s
        sub = (slice(r0, None, s), slice(c0, None, s))
        pr = slice((tile.row0 + r0) // s, None)
        pc = slice((tile.col0 + c0) // s, None)
        m = mask[sub]
        nr, nc = m.shape
        win = (slice(pr.start, pr.start + nr), slice(pc.start, pc.start + nc))
        cap_full = np.full(mask.shape, np.nan)
        err_full = np.full(mask.shape, np.nan)
        cap_full[mask] = cap_b
        err_full[mask] = err_b
        self.preview["mask"][win] = m
        self.preview["best_scheme"][win] = best[sub]
        self.preview["capacity"][win] = cap_full[sub]
        self.preview["error"][win] = err_full[sub]

    def _open_geotiff(self):
        import rasterio
        from rasterio.transform import Affine

        g = self.grid
        from .exports import band_layout

        layout = band_layout(self.schemes, self.classes)
        self.band_names = [name for name, _ in layout]
        profile = {"driver": "GTiff", "height": g.ny, "width": g.nx,
                   "count": len(self.band_names), "dtype": "float32", "nodata": float("nan"),
                   "compress": "deflate", "zlevel": 1, "num_threads": "all_cpus",
                   "tiled": True, "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER",
                   "transform": Affine(g.resolution_m, 0.0, g.x0, 0.0, -g.resolution_m, g.y1)}
        if self.crs:
            profile["crs"] = self.crs
        self.tif_path = self.stage / "coverage.tif"
        # a bounded block cache (GDAL's default is 5 % of the RAM)
        self._env = rasterio.Env(GDAL_CACHEMAX=256)
        self._env.__enter__()
        dst = rasterio.open(self.tif_path, "w", **profile)
        for k, (name, text) in enumerate(layout, start=1):
            dst.set_band_description(k, name)
            dst.update_tags(k, description=text)
        return dst

    def _write_window(self, tile, arrays, mask):
        from rasterio.windows import Window

        win = Window(tile.col0, tile.row0, tile.ncols, tile.nrows)
        for k, name in enumerate(self.band_names, start=1):
            band = arrays[name].astype(np.float32)
            band[~mask] = np.nan
            self.tif.write(band, k, window=win)

    # -- at the end ---------------------------------------------------------------------
    def summary(self):
        n = max(self.n_inside, 1)
        rows = []
        for code, s in enumerate(self.schemes):
            st = self.scheme_stats[s]
            rows.append(self._row(s, self.class_count[code] / n, st))
        rows.append(self._row("best", self.class_count[:-1].sum() / n, self.best_stats))
        rows.append({"scheme": INFEASIBLE, "area_fraction": self.class_count[-1] / n})
        return pd.DataFrame(rows, columns=["scheme", "area_fraction", "mean_capacity_bps",
                                           "p5_capacity_bps", "median_error_m", "p95_error_m"])

    @staticmethod
    def _row(name, frac, st):
        return {"scheme": name, "area_fraction": float(frac),
                "mean_capacity_bps": st.cap_sum / max(st.n, 1),
                "p5_capacity_bps": st.cap.percentile(5), "median_error_m": st.err.percentile(50),
                "p95_error_m": st.err.percentile(95)}

    def regions(self):
        rows = []
        for c in self.classes:
            if not self.polygons[c]:
                continue
            # in tile order (the same whatever order tiles finished in), snapped to a grid
            # far below the pixel so that edges from different tiles coincide
            polys = [p for k in sorted(self.polygons[c]) for p in self.polygons[c][k]]
            geom = shapely.union_all(polys, grid_size=self.grid.resolution_m * 1e-6)
            geom = geom if geom.is_valid else shapely.make_valid(geom)
            st = self.class_stats[c]
            rows.append({"scheme": c, "geometry": geom, "area_m2": float(geom.area),
                         "mean_capacity_bps": st.cap_sum / max(st.n, 1),
                         "p95_error_m": st.err.percentile(95)})
        return pd.DataFrame(rows, columns=["scheme", "geometry", "area_m2", "mean_capacity_bps",
                                           "p95_error_m"])

    def close(self):
        if self.tif is not None:
            self.tif.close()
            self.tif = None
            self._env.__exit__(None, None, None)


def stream_to_dir(scenario, out_dir, *, geotiff=None, png=None, scenario_dict=None, **kw):
    """:func:`stream_plan` into ``out_dir`` (staged, all or nothing), with the manifest.

    Returns
    -------
    names : list of str
        Files written.
    info : dict
        What :func:`stream_plan` returns.
    """
    from .exports import manifest_from, staged, wants

    info = {}

    def fill(stage):
        info.update(stream_plan(scenario, stage, geotiff=wants(geotiff, "rasterio"),
                                png=wants(png, "matplotlib"), **kw))
        doc = manifest_from(info["grid"], info["n_points"], info["run_time_s"], info["crs"],
                            info["schemes"], scenario_dict, streamed=True)
        (stage / "manifest.json").write_text(json.dumps(doc, indent=2, default=str))

    return staged(out_dir, fill), info


def stream_plan(scenario, stage, *, geotiff=True, png=True, progress=False, n_threads=None,
                engine="local", n_workers=None, scheduler=None, checkpoint_dir=None):
    """Plan a scenario with bounded memory, writing the outputs into ``stage``.

    Returns
    -------
    dict
        ``n_points``, ``run_time_s``, ``grid``, ``crs``, ``schemes``, ``summary``.
    """
    from types import SimpleNamespace

    from .engine import CheckpointStore, TileJob, make_tiles, run_tiles
    from .exports import regions_geojson_from, write_png_from
    from .kernel import resolve_n_threads
    from .scenario import prepare

    t0 = time.perf_counter()
    prep = prepare(scenario, n_threads)
    job = TileJob(prep.grid, shapely.to_wkb(prep.area), prep.cells, prep.options,
                  resolve_n_threads(n_threads))
    tiles = make_tiles(prep.grid, prep.tile_px)
    store = CheckpointStore(checkpoint_dir, job.key()) if checkpoint_dir is not None else None
    out = StreamingOutputs(prep.grid, prep.names, prep.sites, prep.crs, stage,
                           geotiff=geotiff)
    try:
        for tile, arrays in run_tiles(job, tiles, engine=engine, n_workers=n_workers,
                                      scheduler=scheduler, store=store, progress=progress):
            out.add(tile, arrays)
    finally:
        out.close()
    summary = out.summary()
    summary.to_csv(stage / "summary.csv", index=False)
    regions = out.regions()
    with open(stage / "regions.geojson", "w") as fh:
        json.dump(regions_geojson_from(regions, prep.crs), fh, allow_nan=False)
    if png:
        view = SimpleNamespace(**out.preview)
        write_png_from(view, prep.grid, out.step, prep.sites, prep.crs, out.classes,
                       stage / "map.png")
    return {"n_points": out.n_inside, "run_time_s": time.perf_counter() - t0,
            "grid": prep.grid, "crs": prep.crs, "schemes": prep.names, "summary": summary,
            "checkpoints": store}
