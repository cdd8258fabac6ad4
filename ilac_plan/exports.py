"""Outputs of a plan: regions GeoJSON, summary CSV, GeoTIFF, PNG map and manifest.

Every file is written under a temporary name and renamed (``ilac_plan._io``); a whole
``ilac-plan map`` run is staged in a hidden folder inside the output folder and its
files are moved into place only when all of them were written.
"""

import contextlib
import datetime as _dt
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import shapely

from ._io import atomic_path
from .errors import ParameterError

#: Every file ``write_outputs`` may write.
OUTPUT_FILES = ("regions.geojson", "summary.csv", "coverage.tif", "map.png", "manifest.json")
SCHEME_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
                  "#a6761d", "#1f78b4"]
INFEASIBLE_COLOUR = "#bdbdbd"


def _finite(value):
    """JSON has no inf or NaN: write them as null."""
    return value if isinstance(value, (int, str)) or (value is not None and math.isfinite(value)) \
        else None


def regions_geojson(result):
    """The regions of a :class:`~ilac_plan.planner.PlanResult` as GeoJSON (dict)."""
    return regions_geojson_from(result.regions, result.crs)


def regions_geojson_from(regions, crs):
    """A regions table (scheme, geometry, area_m2, ...) as a GeoJSON FeatureCollection.

    Coordinates are WGS 84 lon/lat when ``crs`` is set, else the plan's metres.
    """
    geoms = list(regions["geometry"])
    if crs:
        from .sites import to_lonlat

        fwd = to_lonlat(crs)
        geoms = [shapely.transform(g, lambda xy: np.column_stack(fwd(xy[:, 0], xy[:, 1])))
                 for g in geoms]
    features = []
    for geom, (_, row) in zip(geoms, regions.iterrows()):
        props = {"scheme": row["scheme"], "area_m2": _finite(row["area_m2"]),
                 "mean_capacity_bps": _finite(row["mean_capacity_bps"]),
                 "p95_error_m": _finite(row["p95_error_m"])}
        features.append({"type": "Feature", "properties": props,
                         "geometry": shapely.geometry.mapping(geom)})
    doc = {"type": "FeatureCollection", "features": features}
    if not crs:
        doc["coordinate_reference"] = "local metres (no CRS given)"
    return doc


def write_regions(result, path):
    """Write ``regions.geojson`` atomically."""
    doc = regions_geojson(result)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(doc, fh, allow_nan=False, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_summary(result, path):
    """Write ``summary.csv`` atomically."""
    with atomic_path(path) as tmp:
        result.summary.to_csv(tmp, index=False)


def band_layout(schemes, classes):
    """(name, description) of each GeoTIFF band, in order (in-memory and streamed alike)."""
    bands = [("serving_cell", "serving cell (row of the site table)"),
             ("snr_db", "SNR (SINR) [dB]"),
             ("best_scheme", "best scheme: " + ", ".join(f"{k}={s}" for k, s in enumerate(classes)))]
    for s in schemes:
        bands.append((f"{s}_capacity_bps", f"{s}: capacity [bit/s]"))
        bands.append((f"{s}_error_m", f"{s}: position error sqrt(CRB) [m]"))
    return bands


def raster_bands(result):
    """(name, float32 array, description) of each GeoTIFF band."""
    bands = []
    for name, text in band_layout(result.schemes, result.classes):
        arr = result.raster[name].astype(np.float32)
        arr[~result.mask] = np.nan
        bands.append((name, arr, text))
    return bands


def write_geotiff(result, path):
    """Write ``coverage.tif``: tiled, deflate-compressed, georeferenced, named bands."""
    try:
        import rasterio
        from rasterio.transform import Affine
    except ImportError:
        raise ParameterError("GeoTIFF output needs rasterio: pip install 'ilac-plan[raster]'") \
            from None
    bands = raster_bands(result)
    g = result.grid
    profile = {"driver": "GTiff", "height": g.ny, "width": g.nx, "count": len(bands),
               "dtype": "float32", "nodata": float("nan"), "compress": "deflate",
               "transform": Affine(g.resolution_m, 0.0, g.x0, 0.0, -g.resolution_m, g.y1)}
    if g.nx >= 256 and g.ny >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    if result.crs:
        profile["crs"] = result.crs
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            for k, (name, arr, text) in enumerate(bands, start=1):
                dst.write(arr, k)
                dst.set_band_description(k, name)
                dst.update_tags(k, description=text)


def write_png(result, path):
    """Write ``map.png``: best scheme with sites and azimuths, capacity and error panels."""
    from types import SimpleNamespace

    cap, err = result._best_values(result.mask)
    cap_map = np.full(result.mask.shape, np.nan)
    err_map = np.full(result.mask.shape, np.nan)
    cap_map[result.mask] = cap
    err_map[result.mask] = err
    view = SimpleNamespace(best_scheme=result.raster["best_scheme"], mask=result.mask,
                           capacity=cap_map, error=err_map)
    write_png_from(view, result.grid, 1, result.sites, result.crs, result.classes, path)


def write_png_from(view, grid, step, sites, crs, classes, path):
    """Draw the three map panels from (possibly decimated) rasters.

    ``view`` has ``best_scheme`` (int, -1 outside), ``mask``, ``capacity`` [bit/s] and
    ``error`` [m] of the best scheme (NaN outside); ``step`` is the decimation factor.
    """
    try:
        from matplotlib.colors import ListedColormap, LogNorm
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError:
        raise ParameterError("PNG output needs matplotlib: pip install 'ilac-plan[plot]'") \
            from None
    g = grid
    ny, nx = view.mask.shape
    extent = (g.x0, g.x0 + nx * step * g.resolution_m, g.y1 - ny * step * g.resolution_m, g.y1)
    fig = Figure(figsize=(16, 5.4), layout="constrained")
    axes = fig.subplots(1, 3)
    n_schemes = len(classes) - 1
    colours = [SCHEME_COLOURS[k % len(SCHEME_COLOURS)] for k in range(n_schemes)]
    colours.append(INFEASIBLE_COLOUR)
    best = np.ma.masked_less(view.best_scheme, 0)
    axes[0].imshow(best, extent=extent, cmap=ListedColormap(colours), vmin=-0.5,
                   vmax=len(colours) - 0.5, interpolation="nearest")
    present = set(np.unique(view.best_scheme[view.mask]).tolist())
    axes[0].legend(handles=[Patch(color=colours[k], label=name)
                            for k, name in enumerate(classes) if k in present],
                   loc="upper right", fontsize=8, framealpha=0.85)
    axes[0].set_title("best allocation scheme")
    cap_map = np.where(view.mask, view.capacity / 1e6, np.nan)
    err_map = np.where(view.mask & np.isfinite(view.error) & (view.error > 0), view.error,
                       np.nan)
    im = axes[1].imshow(cap_map, extent=extent, cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=axes[1], label="capacity left [Mbit/s]", shrink=0.85)
    axes[1].set_title("capacity with the best scheme")
    finite = err_map[np.isfinite(err_map)]
    if finite.size:   # 1st-99th percentile, so that the few pixels at the sites do not rule
        lo, hi = np.percentile(finite, [1, 99])
        norm = LogNorm(vmin=max(lo, 1e-9), vmax=max(hi, lo * 1.01, 1e-9 * 1.01))
    else:
        norm = None
    im = axes[2].imshow(err_map, extent=extent, cmap="magma_r", norm=norm,
                        interpolation="nearest")
    fig.colorbar(im, ax=axes[2], label="position error sqrt(CRB) [m]", shrink=0.85)
    axes[2].set_title("position error with the best scheme")
    sx, sy = sites["x_m"].to_numpy(), sites["y_m"].to_numpy()
    az = np.deg2rad(sites["azimuth_deg"].to_numpy())
    arrow = 0.03 * max(extent[1] - extent[0], extent[3] - extent[2])
    for ax in axes:
        ax.plot(sx, sy, "k^", ms=4 if len(sx) < 300 else 1.5)
        ax.plot(np.vstack([sx, sx + arrow * np.sin(az)]), np.vstack([sy, sy + arrow * np.cos(az)]),
                "k-", lw=0.8 if len(sx) < 300 else 0.3)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.set_xlabel("x [m]" if not crs else f"x [m, {crs}]")
        ax.set_ylabel("y [m]")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def manifest(result, scenario=None):
    """Everything needed to reproduce a map: versions, plugins, scenario, grid, time."""
    return manifest_from(result.grid, int(result.mask.sum()), result.run_time_s, result.crs,
                         result.schemes, scenario)


def manifest_from(grid, n_points, run_time_s, crs, schemes, scenario=None, streamed=False):
    from . import __version__
    from .plugins import get_registry

    g = grid
    return {
        "ilac_plan_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "run_time_s": round(run_time_s, 3),
        "scenario": scenario,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                     "error": p.error} for p in get_registry().plugins],
        "grid": {"nx": g.nx, "ny": g.ny, "resolution_m": g.resolution_m, "x0_m": g.x0,
                 "y1_m": g.y1, "n_points": n_points, "crs": crs},
        "schemes": list(schemes),
        "streamed": streamed,
    }


def write_manifest(result, path, scenario=None):
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(manifest(result, scenario), fh, indent=2, default=_json_default)


def write_outputs(result, out_dir, *, scenario=None, geotiff=None, png=None):
    """Write every output of a :class:`PlanResult` into ``out_dir``, all or nothing.

    ``geotiff`` / ``png``: True requires the extra, False skips, None writes the file
    when the extra is installed.

    Returns
    -------
    list of str
        The files written.
    """
    def fill(stage):
        write_regions(result, stage / "regions.geojson")
        write_summary(result, stage / "summary.csv")
        if wants(geotiff, "rasterio"):
            write_geotiff(result, stage / "coverage.tif")
        if wants(png, "matplotlib"):
            write_png(result, stage / "map.png")
        write_manifest(result, stage / "manifest.json", scenario)

    return staged(out_dir, fill)


def wants(flag, module):
    """Whether an optional output is written: True forces it, None means 'if installed'."""
    return bool(flag) or (flag is None and _has(module))


def staged(out_dir, fill):
    """Run ``fill(stage)`` in a hidden folder inside ``out_dir``, then move its files in.

    ``out_dir`` is created if needed (and removed again on failure if it was created
    here); outputs of earlier runs that this run did not write are removed.
    """
    out = Path(out_dir)
    created = False
    try:
        if not out.exists():
            out.mkdir()
            created = True
        elif not out.is_dir():
            raise ParameterError(f"--out {str(out)!r} exists and is not a folder")
        stage = Path(tempfile.mkdtemp(prefix=".ilac-partial-", dir=out))
    except OSError as exc:
        raise ParameterError(f"cannot write to output folder {str(out)!r}: "
                             f"{exc.strerror or exc}") from None
    try:
        fill(stage)
        names = sorted(os.listdir(stage))
        for name in names:
            os.replace(stage / name, out / name)
        for stale in set(OUTPUT_FILES) - set(names):   # skipped this time: not the old one
            with contextlib.suppress(FileNotFoundError):
                os.remove(out / stale)
        return names
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _has(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None
