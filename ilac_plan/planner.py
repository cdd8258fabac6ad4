"""The planner: a site table and a planning area in, best-scheme maps out.

:func:`plan` builds a :class:`~ilac_plan.inputs.PlanInputs` (or takes one), runs its
tiles through the pipeline (:mod:`ilac_plan.pipeline`) into memory and returns a
:class:`PlanResult`. :func:`plan_to_folder` runs the same pipeline into an output
folder, in memory or streamed tile by tile (bounded memory): the two share the
statistics, regions and writers, so their files agree.
"""

import contextlib
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .grid import GridSpec, make_tiles  # noqa: F401 - re-exported
from .inputs import PlanInputs



@dataclass(eq=False)
class PlanResult:
    """Rasters of a plan and what is derived from them.

    Attributes
    ----------
    inputs : PlanInputs
    raster : dict of ndarray
        ``(ny, nx)`` arrays: ``serving_cell`` (int32: row of the site table, -1
        outside), ``best_scheme`` (int16: index into ``classes``, -1 outside),
        ``snr_db`` [dB] and per scheme ``<s>_capacity_bps`` [bit/s], ``<s>_error_m`` [m]
        and ``<s>_loc_share``: float32 (as in the GeoTIFFs, and what every statistic is
        computed from), NaN outside the area. ``ilac_plan.evaluate`` gives float64.
    mask : ndarray of bool
        Pixels inside the planning area (minus exclusions).
    products : PlanProducts
        Statistics, region polygons and the decimated preview.
    run_time_s : float
        Planning time. [s]
    """

    inputs: PlanInputs
    raster: dict
    mask: np.ndarray
    products: object = field(repr=False)
    run_time_s: float = 0.0
    checkpoints: object = field(default=None, repr=False)

    # -- what the inputs say ---------------------------------------------------------
    @property
    def grid(self):
        return self.inputs.grid

    @property
    def schemes(self):
        return list(self.inputs.schemes)

    @property
    def classes(self):
        """Region classes: the schemes, then ``infeasible``."""
        return self.inputs.classes

    @property
    def sites(self):
        return self.inputs.sites

    @property
    def area(self):
        return self.inputs.area

    @property
    def crs(self):
        """The working CRS (None: local metres)."""
        return self.inputs.crs

    @property
    def n_points(self):
        return self.products.n_points

    # -- tables (computed once) ---------------------------------------------------------
    @cached_property
    def summary(self):
        """The partition: one row per scheme where it is best, then ``infeasible``
        (``area_fraction`` sums to 1), with statistics over each part."""
        return self.products.stats.summary()

    @cached_property
    def schemes_table(self):
        """Each scheme as if it were used over the whole area."""
        return self.products.stats.schemes_table()

    @cached_property
    def cells(self):
        """One row per cell id: served area, scheme shares, SNR, capacity, error."""
        return self.products.stats.cells()

    @cached_property
    def cdf(self):
        """Percentiles 0..100 of capacity, error and positioning share per scheme."""
        return self.products.stats.cdf()

    @cached_property
    def regions(self):
        """The best-scheme regions: a GeoDataFrame in the working CRS (geopandas, the
        ``geo`` extra; a DataFrame of shapely geometries without it), one row per class
        present with the statistics of ``summary``."""
        from .regions import regions_frame

        geoms = self.products.geometries(self.grid, len(self.classes))
        return regions_frame(geoms, self.summary, self.crs)

    # -- lookups -----------------------------------------------------------------------
    def best_scheme_at(self, x, y):
        """Best scheme name at points [m] (``None`` outside the planned pixels)."""
        row, col = self.grid.pixel_of(x, y)
        inside = (row >= 0) & (row < self.grid.ny) & (col >= 0) & (col < self.grid.nx)
        out = np.full(np.shape(x), None, dtype=object)
        codes = self.raster["best_scheme"][row[inside], col[inside]]
        out[inside] = [self.classes[c] if c >= 0 else None for c in codes]
        return out

    def to_xarray(self):
        """The rasters as an ``xarray.Dataset`` with x/y pixel-centre coordinates [m] and
        the CRS (through rioxarray when installed)."""
        import xarray as xr

        g = self.grid
        data = {name: (("y", "x"), arr) for name, arr in self.raster.items()}
        data["mask"] = (("y", "x"), self.mask)
        ds = xr.Dataset(data, coords={"x": g.x_coords(), "y": g.y_coords()})
        ds.attrs.update(title=self.inputs.name, resolution_m=g.resolution_m,
                        classes=",".join(self.classes))
        ds["best_scheme"].attrs["flag_values"] = list(range(len(self.classes)))
        ds["best_scheme"].attrs["flag_meanings"] = " ".join(self.classes)
        if self.crs:
            try:
                import rioxarray  # noqa: F401
            except ImportError:
                ds.attrs["crs"] = self.crs
            else:
                ds = ds.rio.write_crs(self.crs)
        return ds

    # -- files -----------------------------------------------------------------------
    def write(self, out_dir, formats=None, progress=False):
        """Write the outputs into ``out_dir`` (all or nothing); return the file names.

        ``formats``: keys of :data:`ilac_plan.exports.FORMATS` (default set if None).
        """
        from .exports import parse_formats, staged, write_products, write_rasters

        chosen = parse_formats(formats)

        def fill(stage):
            return write_products(self.inputs, self.products, stage, chosen, streamed=False,
                                  rasters=lambda free: write_rasters(self, stage, free),
                                  progress=progress)

        names, (_, notes) = staged(out_dir, fill, names=_output_names(chosen),
                                   protect=[s["path"] for s in self.inputs.sources])
        return names

    def to_geotiff(self, path):
        """Write ``coverage.tif`` (and ``best_scheme.tif``, ``serving_cell.tif`` beside
        it) as Cloud-Optimized GeoTIFFs; ``path`` names the coverage file."""
        import os
        import shutil
        import tempfile
        from pathlib import Path

        from .exports import write_rasters

        path = Path(path)
        folder = path.parent
        stage = Path(tempfile.mkdtemp(prefix=".ilac-tif-", dir=folder))
        try:
            names = write_rasters(self, stage)
            for name in [n for n in os.listdir(stage) if not n.startswith(".")]:
                target = path if name == "coverage.tif" else folder / name
                os.replace(stage / name, target)
            return names
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def to_file(self, path, driver="GPKG"):
        """Write the regions with an OGR driver (default GeoPackage), atomically."""
        from ._io import atomic_path

        with atomic_path(path) as tmp:
            self.regions.to_file(tmp, driver=driver, engine="pyogrio", layer="regions")

    def to_geojson(self, path):
        """Write the regions as RFC 7946 GeoJSON (WGS 84 lon/lat; needs a CRS)."""
        import os
        import tempfile
        from pathlib import Path

        from .errors import ParameterError
        from .exports import write_regions

        if not self.crs:
            raise ParameterError("to_geojson: the plan has no CRS (local metres) and GeoJSON "
                                 "is WGS 84 lon/lat; use to_file('regions.gpkg') or give a crs")
        path = Path(path)
        with tempfile.TemporaryDirectory(prefix=".ilac-", dir=path.parent) as tmp:
            write_regions(self.regions, tmp, ["geojson"], self.crs, [])
            os.replace(Path(tmp) / "regions.geojson", path)

    def plot(self, path):
        """Draw ``map.png`` (the decimated preview; needs the ``plot`` extra)."""
        from ._io import atomic_path
        from .exports import write_png

        with atomic_path(path) as tmp:
            write_png(self.products.preview, self.grid, self.sites, self.inputs, tmp)


def _check_disk(out, need):
    """Refuse a run whose rasters cannot fit on the output folder's file system."""
    import shutil

    from .errors import ParameterError

    folder = out
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if need > free:
        raise ParameterError(
            f"--out: this run writes about {need / 2**30:.2f} GiB of rasters (uncompressed "
            f"while staged) and {free / 2**30:.2f} GiB are free there (a coarser "
            "resolution_m, a smaller area, or another --out)")


def _output_names(chosen):
    """Every file name a run with the format keys ``chosen`` may write."""
    from .exports import ALWAYS, FORMATS

    return {f for k in chosen for f in FORMATS[k][0]} | set(ALWAYS)


def _inputs(sites, area, options):
    if isinstance(sites, PlanInputs):
        if area is not None or options:
            from .errors import ParameterError

            raise ParameterError("plan(inputs): give the options when building the "
                                 "PlanInputs, not with it")
        return sites
    return PlanInputs.build(sites, area, **options)


def memory_budget_bytes(max_memory_gb=None):
    """The memory bound of a run [bytes]: ``max_memory_gb`` [GiB], default
    :data:`ilac_plan.inputs.MEMORY_BUDGET_BYTES`."""
    from .inputs import MEMORY_BUDGET_BYTES
    from .limits import check_limit

    if max_memory_gb is None:
        return MEMORY_BUDGET_BYTES
    return check_limit("max_memory_gb", max_memory_gb) * 2**30


def _local_workers(engine, n_workers):
    """Tile threads of this process (the Dask engine computes tiles elsewhere)."""
    if engine == "dask":
        return 1
    return n_workers if isinstance(n_workers, int) and n_workers >= 1 else None


def _workers_within(inputs, budget, engine, n_workers):
    """The local tile threads that keep the tiles in flight within the memory bound:
    ``n_workers`` (default the CPU count), fewer when the tiles would not fit; refused
    when even one tile thread would not."""
    import os

    from .errors import ParameterError
    from .inputs import MEMORY_BASE_BYTES, TILE_BYTES_PER_PX

    if engine == "dask":
        return n_workers
    wanted = _local_workers(engine, n_workers) or os.cpu_count() or 1
    per_tile = min(inputs.tile_px ** 2, inputs.grid.nx * inputs.grid.ny) * TILE_BYTES_PER_PX
    fit = int((budget - MEMORY_BASE_BYTES) // per_tile) - 1      # workers + 1 in flight
    if fit < 1:
        raise ParameterError(
            f"tile_px {inputs.tile_px}: two tiles in flight need about "
            f"{(MEMORY_BASE_BYTES + 2 * per_tile) / 2**30:.1f} GiB, above the "
            f"{budget / 2**30:g} GiB bound (a smaller tile_px, or raise max_memory_gb)")
    if n_workers is None:
        return None if wanted <= fit else fit
    if not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1:
        return n_workers                 # refused by the engine, with its message
    return min(n_workers, fit)


def plan(sites, area=None, *, n_threads=None, engine="local", n_workers=None, scheduler=None,
         checkpoint_dir=None, progress=False, max_memory_gb=None, **options):
    """Plan a coverage area: evaluate every pixel inside it and keep the rasters.

    Parameters
    ----------
    sites : pandas.DataFrame or PlanInputs
        Site table in metres (see :mod:`ilac_plan.sites`; :func:`ilac_plan.read_sites`
        projects lon/lat tables), or inputs built already.
    area : shapely Polygon or MultiPolygon, optional
        Planning area in the sites' metres (default: around the sites).
    n_threads : int, optional
        Kernel threads with one local worker (default: all).
    engine : {"local", "dask"}, default "local"
        Where tiles run (:mod:`ilac_plan.engine`): a local thread pool, or Dask
        (``scheduler`` address, or a LocalCluster started for the run).
    n_workers : int, optional
        Local threads across tiles (default: the CPU count; each tile then uses one
        kernel thread) or LocalCluster workers (default 2).
    scheduler : str, optional
        Dask scheduler address.
    checkpoint_dir : str or os.PathLike, optional
        Keep finished tiles in ``<checkpoint_dir>/.ilac-checkpoints`` and resume from them.
    progress : bool, default False
        A tqdm progress bar over tiles.
    max_memory_gb : float, optional
        Refuse a plan whose rasters would need more memory than this [GiB] (estimated
        by :meth:`PlanInputs.memory_bytes` before anything is allocated; default 2).
        Larger plans are written to a folder in bounded memory by :func:`plan_to_folder`.
    **options
        The plan options of :meth:`PlanInputs.build` (``resolution_m``,
        ``target_error_m``, ``schemes``, ``radio``, ...; defaults in
        :data:`ilac_plan.inputs.DEFAULTS`).

    Returns
    -------
    PlanResult
    """
    from .pipeline import MemorySink, execute

    from .errors import ParameterError

    from ._validate import check_flag, check_path

    if checkpoint_dir is not None:
        check_path("checkpoint_dir", checkpoint_dir)
    check_flag("progress", progress)
    inputs = _inputs(sites, area, options)
    budget = memory_budget_bytes(max_memory_gb)
    n_workers = _workers_within(inputs, budget, engine, n_workers)
    need = inputs.memory_bytes(streamed=False, n_workers=_local_workers(engine, n_workers))
    if need > budget:
        g = inputs.grid
        raise ParameterError(
            f"plan: keeping the rasters of the {g.nx:,} x {g.ny:,} grid in memory needs about "
            f"{need / 2**30:.1f} GiB, above max_memory_gb {budget / 2**30:g}; write the plan "
            "to a folder (plan_to_folder or ilac-plan map, streamed in bounded memory), use "
            "a coarser resolution_m, or raise max_memory_gb")
    t0 = time.perf_counter()
    sink = MemorySink(inputs)
    with contextlib.ExitStack() as stack:
        if checkpoint_dir is not None:      # one run at a time on a checkpoint folder
            from ._outdir import locked

            stack.enter_context(locked(checkpoint_dir))
        products = execute(inputs, sink, n_threads=n_threads, engine=engine,
                           n_workers=n_workers, scheduler=scheduler,
                           checkpoint_dir=checkpoint_dir, progress=progress)
    return PlanResult(inputs, sink.raster, sink.mask, products, time.perf_counter() - t0,
                      products.checkpoints)


def plan_to_folder(inputs, out_dir, *, formats=None, stream=None, progress=False,
                   max_memory_gb=None, **engine):
    """Plan ``inputs`` and write the outputs into ``out_dir`` (all or nothing).

    Parameters
    ----------
    inputs : PlanInputs
    out_dir : str or os.PathLike
    formats : sequence of str, optional
        Output format keys (default set if None; see :mod:`ilac_plan.exports`).
    stream : bool, optional
        Write the rasters tile by tile as they are computed, in bounded memory; False
        keeps them in memory first (a :class:`PlanResult`) and writes them from there.
        Both give the same files. Default: in memory when the estimate
        (:meth:`PlanInputs.memory_bytes`) is within ``max_memory_gb``, else streamed.
    max_memory_gb : float, optional
        The memory bound [GiB] (default 2): ``stream=False`` above it is refused.
    **engine
        ``n_threads``, ``engine``, ``n_workers``, ``scheduler``, ``checkpoint_dir``.

    Returns
    -------
    names : list of str
        The files written.
    products : PlanProducts
    notes : list of str
        What was not written, and why.
    """
    from pathlib import Path

    from .errors import ParameterError
    from .exports import RasterWriter, parse_formats, staged, write_products, write_rasters
    from .pipeline import MemorySink, RasterFileSink, execute

    chosen = parse_formats(formats)
    out = Path(out_dir).resolve()
    budget = memory_budget_bytes(max_memory_gb)
    engine["n_workers"] = _workers_within(inputs, budget, engine.get("engine", "local"),
                                          engine.get("n_workers"))
    workers = _local_workers(engine.get("engine", "local"), engine.get("n_workers"))
    in_memory = inputs.memory_bytes(streamed=False, n_workers=workers)
    if stream is None:
        stream = in_memory > budget
    elif not stream and in_memory > budget:
        raise ParameterError(
            f"--in-memory: the rasters of the {inputs.grid.nx:,} x {inputs.grid.ny:,} grid "
            f"need about {in_memory / 2**30:.1f} GiB, above --max-memory-gb "
            f"{budget / 2**30:g}; drop --in-memory (a streamed run stays within the bound) "
            "or raise --max-memory-gb")
    # the staged rasters, and the checkpoints when they are kept in the output folder
    n_px = inputs.grid.nx * inputs.grid.ny
    need = inputs.staging_bytes() if "tif" in chosen else n_px
    if engine.get("checkpoint_dir") is not None and \
            Path(engine["checkpoint_dir"]).resolve() == out:
        need += n_px * (11 + 12 * len(inputs.schemes))
    _check_disk(out, need)
    will_write = _output_names(chosen)
    in_out = {Path(src["path"]).name for src in inputs.sources
              if Path(src["path"]).parent == out}
    # the scenario's own copy of the site table, under a name no input of this run has
    sites_name = "sites.csv" if "sites.csv" not in in_out else "plan_sites.csv"
    if sites_name in in_out:
        raise ParameterError("--out: this run's inputs are named sites.csv and plan_sites.csv "
                             "in the output folder; choose another output folder")
    will_write -= {"sites.csv", "plan_sites.csv"} - {sites_name}
    for src in inputs.sources:        # refuse before planning, not after
        path = Path(src["path"])
        if path.parent == out and path.name in will_write:
            raise ParameterError(f"--out: this run would overwrite its own input {str(path)!r}; "
                                 "choose another output folder")

    def fill(stage):
        if "png" in chosen:
            from .exports import warm_png

            warm_png()
        if stream:
            # the best-scheme layer is always staged: the regions are polygonized from it
            layers = ("coverage", "best_scheme", "serving_cell") if "tif" in chosen \
                else ("best_scheme",)
            writer = RasterWriter(stage, inputs.grid, inputs.crs, inputs.schemes,
                                  inputs.sites["cell_id"], layers=layers,
                                  network=inputs.network)
            products = execute(inputs, RasterFileSink(writer), progress=progress, **engine)
            rasters = writer.finish if "tif" in chosen else None
        else:
            sink = MemorySink(inputs)
            products = execute(inputs, sink, progress=progress, **engine)
            result = PlanResult(inputs, sink.raster, sink.mask, products, products.plan_time_s)
            rasters = lambda free: write_rasters(result, stage, free)  # noqa: E731
        files, notes = write_products(inputs, products, stage, chosen, streamed=stream,
                                      rasters=rasters, progress=progress,
                                      sites_name=sites_name)
        return products, notes

    inputs_files = [src["path"] for src in inputs.sources if src.get("path")]
    names, (products, notes) = staged(out_dir, fill, protect=inputs_files, names=will_write)
    return names, products, notes
