"""Compare two plans: difference rasters, the area moved between schemes, per-cell changes
and a side-by-side report.

``ilac-plan compare A/ B/ --out DIFF/`` writes into DIFF (all or nothing, like ``map``):

=======================  ===================================================================
``diff.tif``             float32 Cloud-Optimized GeoTIFF on A's grid, B minus A:
                         ``capacity_change_bps``, ``error_change_m``, ``loc_share_change``
                         (of each plan's best scheme), ``snr_change_db``, and
                         ``scheme_changed`` (1 where the best scheme differs, 0 where it is
                         the same, NaN outside either plan)
``scheme_change.tif``    UInt16 categories ``"A scheme -> B scheme"`` (colour table and
                         category names; ``(outside)`` where a pixel is in one plan only)
``moved.csv``            ``from_scheme, to_scheme, n_points, area_m2, fraction``: the area
                         moved between schemes (every pair with points, unchanged included)
``cell_changes.csv``     per cell id: each numeric column of both ``cells.csv`` as
                         ``_a``, ``_b`` and ``_change`` (B - A); cells of one plan only keep
                         NaN on the other side
``report.html``          both plans' maps side by side and the difference layers, with
                         linked pan and zoom and one readout of every layer
``manifest.json``        what was compared (both manifests' names and times), the grid,
                         the resampling, the files
=======================  ===================================================================

Plans on different grids or CRSs are refused unless ``resample`` (``"nearest"`` or
``"bilinear"``) says how to bring B onto A's grid; categorical layers are always taken
nearest.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError
from .planfolder import read_plan

RESAMPLING = ("nearest", "bilinear")
OUTSIDE = "(outside)"
DIFF_BANDS = (("capacity_change_bps", "bit/s", "capacity of the best scheme, B - A"),
              ("error_change_m", "m", "position error of the best scheme, B - A"),
              ("loc_share_change", "1", "positioning share of the best scheme, B - A"),
              ("snr_change_db", "dB", "SNR of the serving cell, B - A"),
              ("scheme_changed", "1", "1 where the best scheme differs, 0 where the same"))
OUTPUT_FILES = ("diff.tif", "scheme_change.tif", "scheme_change.tif.aux.xml", "moved.csv",
                "cell_changes.csv", "report.html", "manifest.json")


def align(plan, grid, resampling):
    """Bring every raster of ``plan`` onto ``grid`` (continuous bands by ``resampling``,
    categories nearest); the plan is changed in place."""
    from rasterio.warp import Resampling, reproject

    how = getattr(Resampling, resampling)
    src_t, src_crs = plan.grid.transform, plan.grid.crs
    if not src_crs or not grid.crs:
        raise ParameterError("--resample: both plans need a CRS to be aligned")

    def warp(array, fill, method):
        dst = np.full((grid.ny, grid.nx), fill, array.dtype)
        reproject(array, dst, src_transform=src_t, src_crs=src_crs, dst_transform=grid.transform,
                  dst_crs=grid.crs, resampling=method, src_nodata=fill, dst_nodata=fill)
        return dst

    plan.bands = {k: warp(v, np.nan, how) for k, v in plan.bands.items()}
    plan.best_scheme = warp(plan.best_scheme, 255, Resampling.nearest)
    plan.serving_cell = warp(plan.serving_cell, plan.cell_nodata, Resampling.nearest)
    plan.grid = grid
    return plan


def differences(a, b):
    """The difference layers of two plans on one grid.

    Returns
    -------
    bands : dict of str -> ndarray (float32)
        :data:`DIFF_BANDS`, B - A.
    change : ndarray of uint16
        Index into ``names`` (65535 outside both plans).
    names : list of str
        ``"x -> y"`` for every pair of A's and B's categories (plus :data:`OUTSIDE`).
    """
    bands = {}
    for q, key in (("capacity_bps", "capacity_change_bps"), ("error_m", "error_change_m"),
                   ("loc_share", "loc_share_change")):
        bands[key] = (b.best_values(q) - a.best_values(q)).astype(np.float32)
    bands["snr_change_db"] = (b.bands["snr_db"] - a.bands["snr_db"]).astype(np.float32)
    ca, cb = a.classes + [OUTSIDE], b.classes + [OUTSIDE]
    ia = np.where(a.best_scheme == 255, len(ca) - 1, a.best_scheme).astype(np.int64)
    ib = np.where(b.best_scheme == 255, len(cb) - 1, b.best_scheme).astype(np.int64)
    names = [f"{x} -> {y}" for x in ca for y in cb]
    if len(names) >= 65535:
        raise ParameterError("compare: too many schemes for one category raster")
    code = ia * len(cb) + ib
    both_out = (ia == len(ca) - 1) & (ib == len(cb) - 1)
    change = np.where(both_out, 65535, code).astype(np.uint16)
    same = np.array([x == y for x in ca for y in cb])
    inside = (a.best_scheme != 255) & (b.best_scheme != 255)
    flag = np.full(code.shape, np.nan, np.float32)
    flag[inside] = (~same[code[inside]]).astype(np.float32)
    bands["scheme_changed"] = flag
    return bands, change, names


def moved_table(change, names, resolution_m):
    """``moved.csv``: points and area per (A scheme, B scheme) pair with points."""
    valid = change != 65535
    counts = np.bincount(change[valid].astype(np.int64), minlength=len(names))
    total = int(valid.sum())
    rows = []
    for k, n in enumerate(counts):
        if n:
            x, y = names[k].split(" -> ")
            rows.append({"from_scheme": x, "to_scheme": y, "n_points": int(n),
                         "area_m2": float(n) * resolution_m ** 2,
                         "fraction": float(n) / total if total else 0.0})
    return pd.DataFrame(rows, columns=["from_scheme", "to_scheme", "n_points", "area_m2",
                                       "fraction"])


def cell_changes(a_cells, b_cells):
    """``cell_changes.csv``: both plans' per-cell columns side by side and B - A."""
    key = "cell_id"
    columns = [c for c in a_cells.columns if c != key] + \
        [c for c in b_cells.columns if c != key and c not in a_cells.columns]
    # a column one plan lacks (a scheme it did not plan) is NaN on its side
    a_cells = a_cells.reindex(columns=[key] + columns)
    b_cells = b_cells.reindex(columns=[key] + columns)
    merged = pd.merge(a_cells, b_cells, on=key, how="outer", suffixes=("_a", "_b"),
                      sort=False)
    out = merged[[key]].copy()
    for c in columns:
        ca, cb = merged[f"{c}_a"], merged[f"{c}_b"]
        out[f"{c}_a"], out[f"{c}_b"] = ca, cb
        if ca.dtype.kind in "fiu" and cb.dtype.kind in "fiu":
            out[f"{c}_change"] = cb - ca
    return out


def write_cog(path, bands, grid, *, dtype, nodata, names, units=None, descriptions=None,
              colormap=None):
    """A Cloud-Optimized GeoTIFF of ``bands`` (2-D arrays) on ``grid``, with band names,
    units and descriptions; written through a staging file beside it."""
    import os

    import rasterio

    from .exports import RasterWriter, cog_from_staging

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.staging.tif")
    profile = {"driver": "GTiff", "width": grid.nx, "height": grid.ny, "count": len(bands),
               "dtype": dtype, "nodata": nodata, "transform": grid.transform, "tiled": True,
               "blockxsize": RasterWriter.BLOCK, "blockysize": RasterWriter.BLOCK}
    if grid.crs:
        profile["crs"] = grid.crs
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            if colormap:
                dst.write_colormap(1, colormap)
            for k, band in enumerate(bands, start=1):
                dst.write(band.astype(dtype, copy=False), k)
                dst.set_band_description(k, names[k - 1])
                tags = {}
                if descriptions:
                    tags["description"] = descriptions[k - 1]
                if units:
                    tags["unit"] = units[k - 1]
                if tags:
                    dst.update_tags(k, **tags)
            if units:
                dst.units = tuple(units)
        cog_from_staging(tmp, path)
    finally:
        if tmp.exists():
            os.remove(tmp)


def compare_plans(a, b, out_dir, *, resample=None, basemap=None, budget=None):
    """Compare the plans in folders ``a`` and ``b``; write the outputs into ``out_dir``.

    Parameters
    ----------
    a, b : str or os.PathLike
        Two plans' output folders (``ilac-plan map --out``).
    out_dir : str or os.PathLike
        The comparison's folder (created; its previous comparison is replaced as a whole).
    resample : {"nearest", "bilinear"}, optional
        How to bring B onto A's grid when they differ; None refuses plans on different
        grids.
    basemap : str, optional
        An XYZ tile URL template for the report (see :func:`ilac_plan.report.write_report`).
    budget : int, optional
        Raw raster bytes embedded in the report at most.

    Returns
    -------
    names : list of str
        The files written.
    """
    from . import report as rp
    from .exports import _rgba, _write_categories, staged

    if resample is not None and resample not in RESAMPLING:
        raise ParameterError(f"--resample: expected one of {', '.join(RESAMPLING)}; "
                             f"got {resample!r}")
    rp.check_basemap(basemap)
    rp.check_bokeh()
    out = Path(out_dir).resolve()
    pa, pb = read_plan(a, what="A"), read_plan(b, what="B")
    for what, p in (("A", pa), ("B", pb)):
        if p.folder.resolve() == out:
            raise ParameterError(f"--out: the comparison would overwrite plan {what} "
                                 f"({str(p.folder)!r}); choose another folder")
    previous = out / "manifest.json"
    if previous.is_file():
        try:
            kind = json.loads(previous.read_text(encoding="utf-8")).get("kind")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            kind = None
        if kind != "comparison":
            raise ParameterError(f"--out: {str(out)!r} holds another output (its "
                                 "manifest.json is not a comparison's); choose a new folder "
                                 "or a previous comparison's")
    if not pa.grid.same_as(pb.grid):
        if resample is None:
            raise ParameterError(f"A and B are on different grids (A: {pa.grid.describe()}; "
                                 f"B: {pb.grid.describe()}): --resample nearest or bilinear "
                                 "brings B onto A's grid")
        align(pb, pa.grid, resample)
    bands, change, names = differences(pa, pb)
    moved = moved_table(change, names, pa.grid.resolution_m)
    cells = None
    if "cells.csv" in pa.tables and "cells.csv" in pb.tables:
        cells = cell_changes(pa.tables["cells.csv"], pb.tables["cells.csv"])

    def fill(stage):
        stage = Path(stage)
        files = []
        write_cog(stage / "diff.tif", [bands[k] for k, _, _ in DIFF_BANDS], pa.grid,
                  dtype="float32", nodata=float("nan"), names=[k for k, _, _ in DIFF_BANDS],
                  units=[u for _, u, _ in DIFF_BANDS],
                  descriptions=[d for _, _, d in DIFF_BANDS])
        colours = {k: _rgba(_change_colour(n)) for k, n in enumerate(names)}
        write_cog(stage / "scheme_change.tif", [change], pa.grid, dtype="uint16",
                  nodata=65535, names=["scheme_change"],
                  descriptions=["best scheme in A -> best scheme in B (category index)"],
                  colormap=colours)
        _write_categories(stage / "scheme_change.tif", names)
        files += ["diff.tif", "scheme_change.tif", "scheme_change.tif.aux.xml"]
        from ._io import write_csv

        write_csv(moved, stage / "moved.csv")
        files.append("moved.csv")
        if cells is not None:
            write_csv(cells, stage / "cell_changes.csv")
            files.append("cell_changes.csv")
        doc = _manifest(pa, pb, resample, files + ["report.html", "manifest.json"])
        (stage / "manifest.json").write_text(json.dumps(doc, indent=2, allow_nan=False),
                                             encoding="utf-8")
        text = compare_report_html(pa, pb, bands, change, names, moved, cells,
                                   basemap=basemap, links_from=out,
                                   budget=budget or rp.MAX_EMBED_BYTES)
        (stage / "report.html").write_bytes(text.encode("utf-8"))
        return files + ["report.html", "manifest.json"]

    names_written, _ = staged(out, fill, names=set(OUTPUT_FILES))
    return names_written


def _change_colour(name):
    from .exports import INFEASIBLE_COLOUR, scheme_colour

    x, y = name.split(" -> ")
    if x == y:
        return "#e8e8e8"
    if y == OUTSIDE:
        return INFEASIBLE_COLOUR
    return scheme_colour(y)


def _manifest(pa, pb, resample, files):
    from .exports import _versions

    def about(p):
        m = p.manifest
        return {"folder": str(p.folder.resolve()), "name": m.get("inputs", {}).get("name"),
                "created_utc": m.get("created_utc"), "schemes": p.schemes,
                "grid": {"nx": p.grid.nx, "ny": p.grid.ny,
                         "resolution_m": p.grid.resolution_m, "x0_m": p.grid.x0_m,
                         "y1_m": p.grid.y1_m, "crs": p.grid.crs}}

    g = pa.grid
    return {"kind": "comparison", "a": about(pa), "b": about(pb), "resample": resample,
            "grid": {"nx": g.nx, "ny": g.ny, "resolution_m": g.resolution_m, "x0_m": g.x0_m,
                     "y1_m": g.y1_m, "crs": g.crs},
            "versions": _versions(), "files": sorted(files)}


def compare_report_html(pa, pb, bands, change, names, moved, cells, *, basemap=None,
                        links_from=None, budget=None):
    """The comparison report: A and B side by side, the difference layers, linked pan and
    zoom, one readout, the area moved and the per-cell changes."""
    from bokeh.layouts import column, row

    from . import report as rp

    la = rp.plan_layers(pa, "a_", "A")
    lb = rp.plan_layers(pb, "b_", "B")
    present = np.unique(change[change != 65535]).tolist()
    diff = [rp.Layer("d_scheme_change", "best scheme change (A -> B)", "", "categorical",
                     change, categories=list(names), ticks=present,
                     colours=[_change_colour(n) for n in names])]
    for key, unit, scale, title in (("capacity_change_bps", "Mbit/s", 1e-6, "capacity change"),
                                    ("error_change_m", "m", 1.0, "position error change"),
                                    ("loc_share_change", "", 1.0, "positioning share change"),
                                    ("snr_change_db", "dB", 1.0, "SNR change")):
        v = bands[key]
        finite = np.abs(v[np.isfinite(v)])
        span = float(np.percentile(finite, 99)) if finite.size else 1.0
        span = span if span > 0 else 1.0
        diff.append(rp.Layer(f"d_{key}", f"{title} (B - A)", unit, "diverging", v,
                             scale=scale, range=(-span, span)))
    every = la + lb + diff
    canvas = rp.make_canvas(pa.grid, every, basemap, budget or rp.MAX_EMBED_BYTES)
    width = 470
    fa, sa, src_a = rp.map_panel(la, canvas, f"A: {_name(pa)}", basemap=basemap,
                                 sites=pa.sites, name="map_a", width_px=width)
    fb, sb, src_b = rp.map_panel(lb, canvas, f"B: {_name(pb)}", x_range=fa.x_range,
                                 y_range=fa.y_range, basemap=basemap, sites=pb.sites,
                                 name="map_b", width_px=width)
    fd, sd, src_d = rp.map_panel(diff, canvas, "Difference (B - A)", x_range=fa.x_range,
                                 y_range=fa.y_range, basemap=basemap, sites=None,
                                 name="map_diff", width_px=width)
    readout = rp.div("<i>move the cursor over a map</i>", width=380, name="readout")
    sets = [(la, src_a), (lb, src_b), (diff, src_d)]
    cb = rp.readout_callback(readout, canvas, sets, pa.grid.crs)
    for f in (fa, fb, fd):
        f.js_on_event("mousemove", cb)
    lines = [f"A: {pa.folder} ({pa.manifest.get('created_utc', '?')}, {pa.n_points:,} points); "
             f"B: {pb.folder} ({pb.manifest.get('created_utc', '?')}, {pb.n_points:,} points)"]
    if canvas.stride > 1:
        lines.append(f"The maps show 1 in {canvas.stride} pixels each way; the GeoTIFFs "
                     "have them all.")
    parts = [rp.div(rp.header_html("ilac_plan comparison", lines), width=1400),
             row(column(sa, fa), column(sb, fb)),
             row(column(sd, fd), readout),
             rp.div("<h2 class='ilac'>Area moved between schemes</h2>", width=1100),
             rp.data_table(moved, "moved_table", height=200, width=700)]
    if cells is not None:
        parts += [rp.div("<h2 class='ilac'>Cells</h2><div class='ilac-note'>Click a header "
                         "to sort; type to filter (cell_changes.csv).</div>", width=1100),
                  rp.data_table(cells, "cells_table", height=320, width=1400, search=True,
                                fit_columns=len(cells.columns) <= 12)]
    files = ["diff.tif", "scheme_change.tif", "moved.csv"] + \
        (["cell_changes.csv"] if cells is not None else []) + ["manifest.json"]
    here = Path(links_from or ".")
    links = rp.file_links(here, files, here)
    parts.append(rp.div("<h2 class='ilac'>Files</h2>" + links, width=1100))
    return rp.render(column(*parts), "ilac_plan comparison",
                     rp.derive_callback([(la, src_a), (lb, src_b)]))


def _name(p):
    return p.manifest.get("inputs", {}).get("name") or p.folder.name
