"""The writers of a plan's outputs, shared by the in-memory and the streamed run.

=================  ======================================================================
format key         files
=================  ======================================================================
``tif`` *          ``coverage.tif`` (float32: SNR, per scheme capacity, error, loc share),
                   ``best_scheme.tif`` (Byte, colour table, category names) and
                   ``serving_cell.tif`` (UInt16/UInt32, cell ids as category names):
                   Cloud-Optimized GeoTIFFs, deflate with a predictor, overviews
``gpkg`` *         ``regions.gpkg``: best-scheme regions in the working CRS
``geojson`` *      ``regions.geojson``: RFC 7946 (WGS 84 lon/lat, CCW outer rings, 1e-7 deg);
                   only for a plan with a CRS
``kml``            ``regions.kml``: a colour per scheme (Google Earth)
``fgb``            ``regions.fgb``: FlatGeobuf
``parquet``        ``regions.parquet``: GeoParquet
``cells`` *        ``cells.csv``: one row per cell id
``summary`` *      ``summary.csv`` (the partition) and ``schemes.csv`` (each scheme everywhere)
``cdf`` *          ``cdf.csv``: percentiles 0..100 per scheme
``png`` *          ``map.png``: best scheme, capacity, error and loc share, decimated
``html``           ``report.html``: the interactive report (:mod:`ilac_plan.report`; needs
                   ``tif``; ``map --report``)
=================  ======================================================================

``manifest.json`` and ``scenario.toml`` are always written. A GeoTIFF holds one data type
for all its bands, so the categorical layers are files of their own (integers with a
colour table), beside the continuous ``coverage.tif``.

Every file is written into a staging folder inside the output folder and moved into
place only when all of them were written (:func:`staged`).
"""

import contextlib
import datetime as _dt
import json
import math
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError

#: Output formats: key -> (files, default).
FORMATS = {
    "tif": (("coverage.tif", "best_scheme.tif", "best_scheme.tif.aux.xml", "serving_cell.tif",
             "serving_cell.tif.aux.xml"), True),
    "gpkg": (("regions.gpkg",), True),
    "geojson": (("regions.geojson",), True),
    "kml": (("regions.kml",), False),
    "fgb": (("regions.fgb",), False),
    "parquet": (("regions.parquet",), False),
    "cells": (("cells.csv",), True),
    "summary": (("summary.csv", "schemes.csv"), True),
    "cdf": (("cdf.csv",), True),
    "png": (("map.png",), True),
    "html": (("report.html",), False),
}
DEFAULT_FORMATS = tuple(k for k, (_, default) in FORMATS.items() if default)
ALWAYS = ("manifest.json", "scenario.toml", "sites.csv", "plan_sites.csv")
OUTPUT_FILES = tuple(f for files, _ in FORMATS.values() for f in files) + ALWAYS

#: Fixed colours of the schemes most plans use; other names get a colour from their name.
SCHEME_COLOURS = {"time": "#1b9e77", "frequency": "#d95f02", "uplink": "#7570b3",
                  "tdd": "#e7298a", "hybrid": "#66a61e"}
PALETTE = ["#e6ab02", "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a",
           "#ff7f00", "#b15928", "#17becf", "#8c564b", "#bcbd22"]
INFEASIBLE_COLOUR = "#bdbdbd"
#: Compression of the GeoTIFFs (with the horizontal or floating-point predictor). ZSTD
#: is read by GDAL >= 2.3 (QGIS, rasterio, ArcGIS Pro); ``gdal_translate -co
#: COMPRESS=DEFLATE`` converts for older readers.
COMPRESS, COMPRESS_LEVEL = "ZSTD", 1
#: Pixels a side of a map.png panel's raster.
PNG_PANEL_PX = 700


def scheme_colour(name):
    """The colour of a scheme (or ``infeasible``), the same whatever the scheme order."""
    if name == "infeasible":
        return INFEASIBLE_COLOUR
    return SCHEME_COLOURS.get(name) or PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def parse_formats(values):
    """The set of format keys from ``--formats`` values.

    ``["tif", "gpkg"]`` picks exactly those; ``["+kml", "-png"]`` adds to or drops from
    the default set; ``"all"`` is every format. Values may be comma-separated. None is
    the default set; a list that names no format, or leaves none, is refused.
    """
    if values is None:
        return list(DEFAULT_FORMATS)
    if isinstance(values, str):
        values = [values]
    allowed = f"allowed: {', '.join(FORMATS)}, all; or +name / -name"
    items = [v.strip() for value in values for v in str(value).split(",") if v.strip()]
    if not items:
        raise ParameterError(f"--formats: no format given ({allowed}; leave it out for the "
                             f"default set)")
    relative = [v[0] in "+-" for v in items]
    if any(relative) and not all(relative):
        raise ParameterError("--formats: give either a list of formats or +/- changes to the "
                             f"default set ({', '.join(DEFAULT_FORMATS)}), not both")
    chosen = set(DEFAULT_FORMATS) if all(relative) else set()
    for v in items:
        key = v.lstrip("+-").lower()
        if key == "all":
            chosen = set() if v.startswith("-") else set(FORMATS)
            continue
        if key not in FORMATS:
            raise ParameterError(f"--formats: unknown format {key!r} ({allowed})")
        if v.startswith("-"):
            chosen.discard(key)
        else:
            chosen.add(key)
    if not chosen:
        raise ParameterError(f"--formats: {' '.join(items)} leaves nothing to write; keep at "
                             f"least one format ({allowed})")
    if "html" in chosen and "tif" not in chosen:
        raise ParameterError("--formats: the HTML report (html, --report) is drawn from the "
                             "GeoTIFFs; keep tif")
    if "html" in chosen:
        from .report import check_bokeh

        check_bokeh()
    return [k for k in FORMATS if k in chosen]


# -- rasters ----------------------------------------------------------------------------
def raster_layout(schemes, network=False):
    """The bands of ``coverage.tif``: (name, unit, description); with network
    positioning also the cells used and each scheme's GDOP and capacity gained."""
    bands = [("snr_db", "dB", "SNR (SINR with interference) of the serving cell")]
    for s in schemes:
        bands += [(f"{s}_capacity_bps", "bit/s", f"{s}: capacity left for data"),
                  (f"{s}_error_m", "m", f"{s}: position error sqrt(CRB)"),
                  (f"{s}_loc_share", "1", f"{s}: share of the resource for positioning")]
    if network:
        bands.append(("cells_used", "1", "cells fused by network positioning"))
        for s in schemes:
            bands += [(f"{s}_gdop", "1", f"{s}: position error over the serving cell's "
                       "range error (GDOP)"),
                      (f"{s}_capacity_gain_bps", "bit/s",
                       f"{s}: capacity gained over serving-cell positioning")]
    return bands


def _rgba(hex_colour, alpha=255):
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha)


def _write_categories(path, names):
    """GDAL's PAM sidecar ``path.aux.xml`` with the band's category names."""
    import xml.etree.ElementTree as ET

    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    cats = ET.SubElement(band, "CategoryNames")
    for name in names:
        ET.SubElement(cats, "Category").text = str(name)
    ET.ElementTree(root).write(f"{path}.aux.xml", encoding="utf-8", xml_declaration=False)


class RasterWriter:
    """The plan's GeoTIFFs, written window by window, then made Cloud-Optimized.

    Tiles go into uncompressed, band-interleaved, internally tiled staging files; at
    :meth:`finish` GDAL's COG driver writes the final files (:data:`COMPRESS` with a predictor,
    overviews, IFDs first) with all CPUs.
    """

    BLOCK = 512

    def __init__(self, stage, grid, crs, schemes, cell_ids, layers=("coverage", "best_scheme",
                                                                    "serving_cell"),
                 network=False):
        try:
            import rasterio
            from rasterio.transform import Affine
        except ImportError:
            raise ParameterError("GeoTIFF output needs rasterio: pip install "
                                 "'ilac-plan[raster]' (or --formats -tif)") from None
        self.stage = Path(stage)
        self.schemes = list(schemes)
        self.cell_ids = list(cell_ids)
        self.layout = raster_layout(self.schemes, network)
        base = {"driver": "GTiff", "height": grid.ny, "width": grid.nx, "tiled": True,
                "blockxsize": self.BLOCK, "blockysize": self.BLOCK, "interleave": "band",
                "BIGTIFF": "IF_SAFER", "sparse_ok": True,
                "transform": Affine(grid.resolution_m, 0.0, grid.x0, 0.0,
                                    -grid.resolution_m, grid.y1)}
        if crs:
            base["crs"] = crs
        self.n_classes = len(self.schemes) + 1
        self.cell_dtype = "uint16" if len(self.cell_ids) < 65535 else "uint32"
        self.cell_nodata = np.iinfo(self.cell_dtype).max
        self.tmp = {name: self.stage / f".{name}.staging.tif" for name in layers}
        kinds = {"coverage": dict(count=len(self.layout), dtype="float32", nodata=float("nan")),
                 "best_scheme": dict(count=1, dtype="uint8", nodata=255),
                 "serving_cell": dict(count=1, dtype=self.cell_dtype, nodata=self.cell_nodata)}
        self.dst = {}
        try:
            with rasterio.Env(GDAL_CACHEMAX=256):     # a bounded block cache
                for name in layers:
                    self.dst[name] = rasterio.open(self.tmp[name], "w", **kinds[name], **base)
            # colour tables before any pixel (TIFF fixes the photometric tag then)
            classes = self.schemes + ["infeasible"]
            self.dst["best_scheme"].write_colormap(
                1, {k: _rgba(scheme_colour(c)) for k, c in enumerate(classes)})
            if "serving_cell" in self.dst and self.cell_dtype == "uint16":
                self.dst["serving_cell"].write_colormap(
                    1, {k: _rgba(PALETTE[k % len(PALETTE)]) for k in range(len(self.cell_ids))})
        except BaseException:
            self.close(False)
            raise

    def write(self, tile, arrays):
        """Write one tile's window of every band."""
        from rasterio.windows import Window

        win = Window(tile.col0, tile.row0, tile.ncols, tile.nrows)
        mask = arrays["mask"]
        if "coverage" in self.dst:
            out = np.empty((len(self.layout), tile.nrows, tile.ncols), np.float32)
            for k, (name, _, _) in enumerate(self.layout):
                out[k] = arrays[name]
                out[k][~mask] = np.nan
            self.dst["coverage"].write(out, window=win)
        best = np.where(mask, arrays["best_scheme"], 255).astype(np.uint8)
        self.dst["best_scheme"].write(best, 1, window=win)
        if "serving_cell" in self.dst:
            cell = np.where(mask, arrays["serving_cell"], self.cell_nodata).astype(
                self.cell_dtype)
            self.dst["serving_cell"].write(cell, 1, window=win)

    def close(self, ok):
        """Close the staging files (and remove them if the run failed)."""
        if not self.dst:
            return
        if ok and "coverage" in self.dst:
            cov = self.dst["coverage"]
            for k, (name, unit, text) in enumerate(self.layout, start=1):
                cov.set_band_description(k, name)
                cov.update_tags(k, description=text, unit=unit)
            cov.units = tuple(unit for _, unit, _ in self.layout)
        if ok and "serving_cell" in self.dst:
            classes = self.schemes + ["infeasible"]
            best = self.dst["best_scheme"]
            best.set_band_description(1, "best_scheme")
            best.update_tags(1, categories=json.dumps(classes),
                             description="best allocation scheme (category index)")
            cell = self.dst["serving_cell"]
            cell.set_band_description(1, "serving_cell")
            cell.update_tags(1, categories=json.dumps([str(c) for c in self.cell_ids]),
                             description="serving cell (index into the cell ids, "
                                         "category names)")
        for dst in self.dst.values():
            dst.close()
        self.dst = {}
        if not ok:
            for path in self.tmp.values():
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    def polygonize(self, grid, n_classes):
        """The regions, from the staging best-scheme layer (read line by line)."""
        import rasterio

        from .regions import polygonize

        with rasterio.open(self.tmp["best_scheme"]) as src:
            return polygonize(rasterio.band(src, 1), grid, n_classes)

    def finish(self, best_scheme_free=None):
        """Write the Cloud-Optimized GeoTIFFs from the staging files; return their names.

        Each through :func:`cog_from_staging`. ``best_scheme_free``: a
        ``threading.Event`` set when nothing reads the staged best-scheme layer any more
        (the polygonization); that layer is done last.
        """
        names = []
        for name in sorted(self.tmp, key=lambda n: n == "best_scheme"):
            if name == "best_scheme" and best_scheme_free is not None:
                best_scheme_free.wait()
            final = self.stage / f"{name}.tif"
            cog_from_staging(self.tmp[name], final, self.BLOCK)
            names.append(final.name)
        _write_categories(self.stage / "best_scheme.tif", self.schemes + ["infeasible"])
        _write_categories(self.stage / "serving_cell.tif", self.cell_ids)
        return names + ["best_scheme.tif.aux.xml", "serving_cell.tif.aux.xml"]


def cog_from_staging(staging, final, block=RasterWriter.BLOCK):
    """Make ``final`` a Cloud-Optimized GeoTIFF of the uncompressed, tiled ``staging``
    file: nearest-neighbour overviews, halving down to one ``block``, are built in the
    staging file (cheap there), then GDAL's COG driver copies everything with
    :data:`COMPRESS` and a predictor on all CPUs."""
    import rasterio
    import rasterio.shutil
    from rasterio.enums import Resampling

    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS", GDAL_CACHEMAX=256):
        with rasterio.open(staging, "r+") as dst:
            side = max(dst.width, dst.height)
            factors = [2 ** k for k in range(1, 32) if side / 2 ** (k - 1) > block]
            if factors:
                dst.build_overviews(factors, Resampling.nearest)
        rasterio.shutil.copy(staging, final, driver="COG", compress=COMPRESS,
                             level=COMPRESS_LEVEL, predictor="YES", blocksize=block,
                             overviews="FORCE_USE_EXISTING", num_threads="ALL_CPUS",
                             bigtiff="IF_SAFER")


def write_rasters(result, folder, best_scheme_free=None):
    """Write the GeoTIFFs of an in-memory :class:`PlanResult` into ``folder``."""
    from .grid import make_tiles

    inputs = result.inputs
    writer = RasterWriter(folder, result.grid, result.crs, result.schemes,
                          inputs.sites["cell_id"], network=inputs.network)
    ok = False
    try:
        for tile in make_tiles(result.grid, inputs.tile_px):
            win = tile.window
            arrays = {name: arr[win] for name, arr in result.raster.items()}
            arrays["mask"] = result.mask[win]
            writer.write(tile, arrays)
        ok = True
    finally:
        writer.close(ok)
    return writer.finish(best_scheme_free)


# -- vectors ---------------------------------------------------------------------------
@contextlib.contextmanager
def _fixed_ogr_date():
    """GeoPackages stamp their tables with the time of writing (``gpkg_contents``), which
    would make two runs of one scenario differ by those bytes: the stamp is
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) or else 1970-01-01."""
    import pyogrio

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        stamp = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        stamp = _dt.datetime.fromtimestamp(0, _dt.timezone.utc)
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options(
        {"OGR_CURRENT_DATE": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def write_regions(regions, folder, formats, crs, notes):
    """Write the region files of ``formats`` into ``folder``; return their names."""
    wanted = [f for f in ("gpkg", "geojson", "kml", "fgb", "parquet") if f in formats]
    if not wanted:
        return []
    if not hasattr(regions, "to_file"):      # a DataFrame: geopandas is not installed
        raise ParameterError("region files need geopandas and pyogrio: pip install "
                             "'ilac-plan[geo]'")
    gdf = regions.copy()
    for col in gdf.columns:     # JSON has no inf: infinite statistics become NULL (NaN)
        if col != gdf.geometry.name and pd.api.types.is_float_dtype(gdf[col]):
            gdf[col] = gdf[col].where(np.isfinite(gdf[col].to_numpy()), np.nan)
    folder = Path(folder)
    names = []
    with warnings.catch_warnings(), _fixed_ogr_date():
        # a plan without a CRS: local metres, said in notes
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        if "gpkg" in wanted:
            gdf.to_file(folder / "regions.gpkg", driver="GPKG", layer="regions",
                        engine="pyogrio")
            names.append("regions.gpkg")
        if "fgb" in wanted:
            gdf.to_file(folder / "regions.fgb", driver="FlatGeobuf", engine="pyogrio")
            names.append("regions.fgb")
    if "parquet" in wanted:
        try:
            gdf.to_parquet(folder / "regions.parquet")
        except ImportError:
            raise ParameterError("GeoParquet output needs pyarrow: pip install pyarrow") \
                from None
        names.append("regions.parquet")
    lonlat_formats = [f for f in ("geojson", "kml") if f in wanted]
    if lonlat_formats and not crs:
        notes.append(f"no {' or '.join(lonlat_formats)} written: the plan has no CRS (local "
                     "metres), and these formats are WGS 84 lon/lat; give the scenario a "
                     "crs, or read the sites with lon/lat")
        return names
    if lonlat_formats:
        import geopandas as gpd

        # GDAL's RFC 7946 writer cuts polygons at the antimeridian (and winds them
        # counter-clockwise); the KML is made from that file's geometries, so that a plan
        # across 180 degrees gives a valid KML too
        geojson = folder / ("regions.geojson" if "geojson" in wanted
                            else ".regions.lonlat.geojson")
        gdf.to_crs("EPSG:4326").to_file(
            geojson, driver="GeoJSON", engine="pyogrio", promote_to_multi=True,
            layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO"})
        if "geojson" in wanted:
            names.append("regions.geojson")
        if "kml" in wanted:
            ll = gpd.read_file(geojson, engine="pyogrio")
            styled = ll.assign(
                Name=ll["scheme"],
                OGR_STYLE=[f"BRUSH(fc:{scheme_colour(s)}b0);PEN(c:#303030ff,w:1px)"
                           for s in ll["scheme"]])
            styled.to_file(folder / "regions.kml", driver="LIBKML", engine="pyogrio")
            names.append("regions.kml")
        if "geojson" not in wanted:
            geojson.unlink()
    return names


# -- tables ----------------------------------------------------------------------------
def write_tables(stats, folder, formats):
    """Write the CSV tables of ``formats``; return their names."""
    folder = Path(folder)
    names = []
    tables = []
    if "summary" in formats:
        tables += [("summary.csv", stats.summary()), ("schemes.csv", stats.schemes_table())]
    if "cells" in formats:
        tables.append(("cells.csv", stats.cells()))
    if "cdf" in formats:
        tables.append(("cdf.csv", stats.cdf()))
    for name, frame in tables:
        frame.to_csv(folder / name, index=False)
        names.append(name)
    return names


# -- map ---------------------------------------------------------------------------------
#: The warm-up thread of :func:`warm_png`, joined by :func:`write_png` before it draws (so
#: that matplotlib is never used from two threads at once).
_png_warmup = None


def warm_png():
    """Pay matplotlib's one-time costs ahead of :func:`write_png` (imports, fonts, the
    mathtext parser of a log colour bar: about 0.5 s), on a daemon thread.

    Started when a run that draws ``map.png`` begins, so that these costs overlap the
    planning (whose kernel runs without the GIL) instead of following it. Returns the
    thread, or None without matplotlib (:func:`write_png` then says what to install).
    """
    global _png_warmup
    import importlib.util
    import threading

    if importlib.util.find_spec("matplotlib") is None:
        return None

    def run():
        try:
            import io

            from matplotlib.colors import LogNorm
            from matplotlib.figure import Figure
            from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar  # noqa: F401

            fig = Figure(figsize=(2, 2))
            ax = fig.subplots()
            im = ax.imshow(np.array([[0.01, 1.0]]), norm=LogNorm(0.01, 1.0))
            fig.colorbar(im, ax=ax, label="m")
            ax.set_title("warm")
            fig.savefig(io.BytesIO(), format="png", dpi=20)
        except Exception:       # noqa: BLE001 - a warm-up only; write_png reports errors
            pass

    if _png_warmup is None or not _png_warmup.is_alive():
        _png_warmup = threading.Thread(target=run, name="ilac-warm-png", daemon=True)
        _png_warmup.start()
    return _png_warmup


def write_png(preview, grid, sites, inputs, path):
    """Draw ``map.png`` from the (decimated) preview rasters.

    Four panels: best scheme (infeasible in grey), capacity, position error and
    positioning share of the plan, with the sites and their azimuths and a scale bar.
    """
    if _png_warmup is not None:
        _png_warmup.join()
    try:
        from matplotlib.collections import LineCollection
        from matplotlib.colors import ListedColormap, LogNorm
        from matplotlib.figure import Figure
        from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
    except ImportError:
        raise ParameterError("PNG output needs matplotlib: pip install 'ilac-plan[plot]' "
                             "(or --formats -png)") from None
    # no more pixels than a panel shows (matplotlib would resample them anyway)
    k = max(1, math.ceil(max(preview.mask.shape) / PNG_PANEL_PX))
    if k > 1:
        from types import SimpleNamespace

        sub = (slice(None, None, k), slice(None, None, k))
        preview = SimpleNamespace(step=preview.step * k, **{
            n: getattr(preview, n)[sub] for n in ("mask", "best_scheme", "capacity_bps",
                                                  "error_m", "loc_share")})
    step = preview.step
    res = grid.resolution_m
    ny, nx = preview.mask.shape
    extent = (grid.x0, grid.x0 + nx * step * res, grid.y1 - ny * step * res, grid.y1)
    classes = list(inputs.schemes) + ["infeasible"]
    colours = [scheme_colour(c) for c in classes]
    fig = Figure(figsize=(13, 11))
    fig.subplots_adjust(left=0.07, right=0.95, bottom=0.05, top=0.93, wspace=0.28,
                        hspace=0.18)
    axes = fig.subplots(2, 2).ravel()
    title = inputs.name or "ilac_plan"
    fig.suptitle(f"{title}: {inputs.objective_text}, {inputs.bound_text}, {res:g} m pixels"
                 + (f" (shown at {res * step:g} m)" if step > 1 else ""), fontsize=12)
    best = np.ma.masked_less(preview.best_scheme, 0)
    im = axes[0].imshow(best, extent=extent, cmap=ListedColormap(colours), vmin=-0.5,
                        vmax=len(colours) - 0.5, interpolation="nearest")
    bar_ = fig.colorbar(im, ax=axes[0], shrink=0.85, ticks=range(len(classes)))
    bar_.ax.set_yticklabels(classes)
    bar_.ax.tick_params(length=0)
    axes[0].set_title("best allocation scheme")
    infeasible = np.ma.masked_where(preview.best_scheme != len(classes) - 1,
                                    np.ones(preview.mask.shape))
    cap = np.where(preview.mask & (preview.best_scheme < len(classes) - 1),
                   preview.capacity_bps / 1e6, np.nan)
    im = axes[1].imshow(cap, extent=extent, cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=axes[1], label="capacity left for data [Mbit/s]", shrink=0.85)
    axes[1].set_title("capacity with the best scheme")
    err = np.where(preview.mask & np.isfinite(preview.error_m) & (preview.error_m > 0),
                   preview.error_m, np.nan)
    finite = err[np.isfinite(err)]
    norm = None
    if finite.size:   # 1st-99th percentile, so that the few pixels at the sites do not rule
        lo, hi = np.percentile(finite, [1, 99])
        norm = LogNorm(vmin=max(lo, 1e-9), vmax=max(hi, lo * 1.01, 1e-9 * 1.01))
    im = axes[2].imshow(err, extent=extent, cmap="magma_r", norm=norm, interpolation="nearest")
    fig.colorbar(im, ax=axes[2], label="position error sqrt(CRB) [m]", shrink=0.85)
    axes[2].set_title("position error with the best scheme")
    share = np.where(preview.mask & (preview.best_scheme < len(classes) - 1),
                     preview.loc_share, np.nan)
    im = axes[3].imshow(share, extent=extent, cmap="cividis", vmin=0.0,
                        vmax=max(float(np.nanmax(share)) if np.isfinite(share).any() else 1.0,
                                 1e-6), interpolation="nearest")
    fig.colorbar(im, ax=axes[3], label="share of the resource for positioning", shrink=0.85)
    axes[3].set_title("positioning share with the best scheme")
    for ax in axes[1:]:
        ax.imshow(infeasible, extent=extent, cmap=ListedColormap([INFEASIBLE_COLOUR]),
                  interpolation="nearest")
    sx, sy = sites["x_m"].to_numpy(), sites["y_m"].to_numpy()
    az = np.deg2rad(sites["azimuth_deg"].to_numpy())
    width = extent[1] - extent[0]
    arrow = 0.03 * max(width, extent[3] - extent[2])
    bar = 10.0 ** math.floor(math.log10(max(width / 5, 1e-9)))
    bar *= 5 if width / bar >= 25 else 2 if width / bar >= 10 else 1
    for ax in axes:
        many = len(sx) > 300
        ax.plot(sx, sy, "k^", ms=1.5 if many else 4)
        if len(sx) <= 3000:      # sector lines only where they can be seen
            segs = np.stack([np.column_stack([sx, sy]),
                             np.column_stack([sx + arrow * np.sin(az), sy + arrow * np.cos(az)])],
                            axis=1)
            ax.add_collection(LineCollection(segs, colors="k", linewidths=0.3 if many else 0.8))
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.ticklabel_format(useOffset=False, style="plain")
        ax.set_xlabel(f"x [m, {inputs.crs}]" if inputs.crs else "x [m]")
        ax.set_ylabel("y [m]")
        label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
        ax.add_artist(AnchoredSizeBar(ax.transData, bar, label, "lower left", pad=0.4,
                                      frameon=True, size_vertical=width / 300))
    fig.savefig(path, dpi=100, format="png")


# -- manifest and scenario ----------------------------------------------------------------
def _versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("ilac-plan", "numpy", "pandas", "shapely", "pluggy", "pyproj", "rasterio",
                 "geopandas", "pyogrio", "matplotlib", "dask", "distributed", "Cython"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    try:
        import rasterio

        out["GDAL"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return out


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return repr(obj)


def manifest(inputs, products, files, notes, streamed):
    """The provenance of a run: every resolved input, checksums, versions, grid, timing."""
    from .plugins import get_registry

    g = inputs.grid
    return {
        "ilac_plan_version": _versions().get("ilac-plan", "0+unknown"),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "plan_time_s": round(products.plan_time_s, 3),
        "streamed": streamed,
        "inputs": inputs.resolved(),
        "working_crs": inputs.crs,
        "grid": {"nx": g.nx, "ny": g.ny, "resolution_m": g.resolution_m, "x0_m": g.x0,
                 "y1_m": g.y1, "n_points": products.n_points, "crs": inputs.crs},
        "schemes": list(inputs.schemes),
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                     "error": p.error} for p in get_registry().plugins],
        "versions": _versions(),
        "files": sorted(files),
        "notes": list(notes),
    }


def _drop_none(obj):
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_drop_none(v) for v in obj]
    return obj


def scenario_document(inputs, folder, notes, formats=None, sites_name="sites.csv"):
    """The scenario that rebuilds ``inputs``, self-contained: it writes the validated site
    table as ``sites_name`` beside it and holds the planning area (exclusions removed) as
    WKT, so that it names no file outside its folder; None when it cannot be written."""
    if not isinstance(inputs.propagation, str):
        notes.append("no scenario.toml: the propagation model is a Python object, not a "
                     "registered name")
        return None
    import shapely

    sites = inputs.sites.drop(columns=[c for c in ("lon_deg", "lat_deg") if c in
                                       inputs.sites.columns])
    sites.to_csv(Path(folder) / sites_name, index=False, float_format="%.17g")
    doc = {"name": inputs.name, "crs": inputs.crs, "radio": inputs.radio.to_dict(),
           "sites": {"file": sites_name},
           "area": {"wkt": shapely.to_wkt(inputs.area, rounding_precision=-1, trim=True)},
           "grid": {"resolution_m": inputs.grid.resolution_m, "max_points": inputs.max_points,
                    "tile_px": inputs.tile_px},
           "objective": {"target_error_m": inputs.target_error_m,
                         "max_capacity_loss": inputs.max_capacity_loss},
           "schemes": {"names": list(inputs.schemes), "params": inputs.scheme_params},
           "propagation": {"model": inputs.propagation, "params": inputs.propagation_params,
                           "antenna": inputs.antenna,
                           "interference": inputs.interference,
                           "ue_height_m": inputs.ue_height_m,
                           "drop_seed": inputs.drop_seed},
           "positioning": {"bound": inputs.bound, "epre": inputs.epre,
                           "dl_prs": inputs.dl_prs, "mode": inputs.positioning,
                           "measurements": inputs.measurements,
                           "prs_reuse": inputs.prs_reuse,
                           "prs_interference": inputs.prs_interference}}
    if inputs.network:
        doc["positioning"]["n_cells"] = inputs.n_cells
    if inputs.wrap_around:
        doc["sites"]["wrap_around"] = dict(inputs.wrap_around)
    if formats is not None:
        doc["output"] = {"formats": list(formats)}
    return doc


def write_scenario(doc, path):
    import tomli_w

    header = ("# The scenario of this run, every default filled in: "
              "ilac-plan map --scenario scenario.toml --out OUT reproduces it.\n")
    Path(path).write_text(header + tomli_w.dumps(_drop_none(doc)), encoding="utf-8")


# -- all outputs ---------------------------------------------------------------------------
def write_products(inputs, products, folder, formats, *, streamed, rasters=None,
                   progress=False, sites_name="sites.csv"):
    """Write every output of a run into ``folder``; return ``(files, notes)``.

    ``rasters``: a callable ``rasters(best_scheme_free)`` that writes the GeoTIFFs into
    ``folder`` and returns their names (the sinks differ only in it). The GeoTIFFs are
    written on a second thread (GDAL compresses without the GIL) while this one
    polygonizes the regions, writes the tables and draws the map.
    """
    import concurrent.futures as cf
    import threading

    from .regions import regions_frame

    folder = Path(folder)
    notes, files = [], []
    vectors = [f for f in ("gpkg", "geojson", "kml", "fgb", "parquet") if f in formats]
    n_classes = len(inputs.schemes) + 1

    polygonized = threading.Event()

    def background():
        return rasters(polygonized) if "tif" in formats and rasters is not None else []

    def regions():
        try:
            geoms = products.geometries(inputs.grid, n_classes)
        finally:
            polygonized.set()
        frame = regions_frame(geoms, products.stats.summary(), inputs.crs)
        files.extend(write_regions(frame, folder, formats, inputs.crs, notes))

    def png():
        write_png(products.preview, inputs.grid, inputs.sites, inputs, folder / "map.png")
        files.append("map.png")

    def meta():
        doc = scenario_document(inputs, folder, notes, formats, sites_name)
        if doc is not None:
            write_scenario(doc, folder / "scenario.toml")
            files.append("scenario.toml")
            if (folder / sites_name).exists():
                files.append(sites_name)
        files.append("manifest.json")
        if "html" in formats:
            files.append("report.html")          # written next, from the files above
        text = json.dumps(manifest(inputs, products, files, notes, streamed), indent=2,
                          default=_json_default, allow_nan=False)
        (folder / "manifest.json").write_text(text, encoding="utf-8")

    pool = cf.ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(background)
    if not vectors:
        polygonized.set()
    steps = [("regions", regions)] if vectors else []
    steps.append(("tables", lambda: files.extend(write_tables(products.stats, folder, formats))))
    if "png" in formats:
        steps.append(("map.png", png))
    steps.append(("GeoTIFF", lambda: files.extend(pending.result())))
    steps.append(("manifest", meta))
    if "html" in formats:
        from .report import write_report

        steps.append(("report.html", lambda: write_report(folder)))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(steps), unit="output", desc="writing", leave=False)
    try:
        for label, step in steps:
            if bar is not None:
                bar.set_postfix_str(label)
            step()
            if bar is not None:
                bar.update(1)
    finally:
        polygonized.set()
        if bar is not None:
            bar.close()
        cf.wait([pending])
        pool.shutdown()
    return files, notes


def staged(out_dir, fill, protect=(), names=()):
    """Run ``fill(stage)`` in a staging folder inside ``out_dir``, then swap its files in
    as a whole (see :mod:`ilac_plan._outdir`: one run per folder, links refused, the
    previous set kept until every rename succeeded, what dead runs left cleaned up).

    ``names``: the files the run will write (checked for links before anything is
    created). Files the previous run wrote (its manifest's list) that this run did not
    write are removed; never a file in ``protect`` (the run's inputs).
    """
    from ._outdir import output_folder_run

    return output_folder_run(out_dir, fill, names=names, protect=protect)
