"""Self-contained interactive HTML reports of a plan, and of the comparison of two plans.

A report is one HTML file with Bokeh's JavaScript and styles inlined (they ship inside
the ``bokeh`` Python package), so it opens by double-click with no network: a map with
switchable layers (best scheme, capacity, position error, positioning share, SNR,
serving cell, and each scheme's own layers), colour bars with units, a readout of every
layer's value and of the position (working CRS and lon/lat) under the cursor, the sites
with their sector azimuths, the summary partition, the per-cell table (sortable,
searchable), the CDFs per scheme, and the scenario and provenance from the manifest.

The report reads only the files a plan writes (:mod:`ilac_plan.planfolder`), so it can be
made later from a copied output folder. ``basemap`` adds a web tile layer (an XYZ URL
template); the map is then drawn in Web Mercator. Without it the page makes no network
request at all.

Rasters larger than :data:`MAX_EMBED_BYTES` are decimated (every k-th pixel each way,
never averaged, so every value shown is a value of the GeoTIFF); the page says so.
"""

import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ParameterError
from .planfolder import read_plan

#: Raw bytes of raster data embedded in one report, at most (base64 adds a third; Bokeh's
#: inlined JavaScript adds about 2 MB). Above it, the layers are decimated.
MAX_EMBED_BYTES = 8_500_000
#: Width of a map panel [CSS px].
MAP_WIDTH_PX = 700
#: Nodes a side of the grid that interpolates lon/lat (and, with a basemap, the working
#: CRS) in the page: bilinear between nodes, well below a millimetre over a city.
COORD_NODES = 33
TRANSPARENT = "rgba(0, 0, 0, 0)"
CELL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
                "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79"]


def check_bokeh():
    """Refuse in one line when bokeh is not installed."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        raise ParameterError("the HTML report needs bokeh: pip install 'ilac-plan[report]'") \
            from None


# -- layers -------------------------------------------------------------------------------
@dataclass
class Layer:
    """One switchable map layer.

    ``array``: 2-D, top row first (None for a layer the page derives from others:
    ``derive`` = (quantity, scheme layer keys, best-scheme key, capacity 0 where
    infeasible, the schemes' error layer keys that pick the closest scheme where
    infeasible)). ``scale`` converts the stored unit to the displayed ``unit``;
    ``ticks``: the category codes to label (default: spread over all).
    """

    key: str
    title: str
    unit: str
    kind: str                         # "linear", "log", "diverging" or "categorical"
    array: object = None
    scale: float = 1.0
    categories: list = field(default_factory=list)
    colours: list = field(default_factory=list)
    derive: tuple | None = None
    ticks: list | None = None
    range: tuple | None = None               # colour range (stored unit)


def plan_layers(plan, prefix="", label=""):
    """The map layers of a :class:`~ilac_plan.planfolder.PlanFolder`: best scheme, the best
    scheme's capacity, error and positioning share (derived in the page), SNR, serving
    cell, then every scheme's own capacity, error and share."""
    from .exports import scheme_colour

    lab = f"{label}: " if label else ""
    layers = [Layer(f"{prefix}best_scheme", f"{lab}best scheme", "", "categorical",
                    plan.best_scheme, categories=list(plan.classes),
                    colours=[scheme_colour(c) for c in plan.classes])]
    specs = (("capacity_bps", "capacity", "Mbit/s", "linear", 1e-6),
             ("error_m", "position error", "m", "log", 1.0),
             ("loc_share", "positioning share", "", "linear", 1.0))
    # one colour range per quantity, whichever scheme or the best one is shown
    spans = {}
    for q, _, _, kind, _ in specs:
        ranges = [_colour_range(plan.bands[f"{s}_{q}"], kind) for s in plan.schemes]
        spans[q] = (min((r[0] for r in ranges), default=0.0),
                    max((r[1] for r in ranges), default=1.0))
    keys = {q: [f"{prefix}{s}_{q}" for s in plan.schemes] for q, *_ in specs}
    per_scheme = [Layer(f"{prefix}{s}_{q}", f"{lab}{s}: {title}", unit, kind,
                        plan.bands[f"{s}_{q}"], scale=scale, range=spans[q])
                  for s in plan.schemes for q, title, unit, kind, scale in specs]
    for q, title, unit, kind, scale in specs:
        layers.append(Layer(f"{prefix}best_{q}", f"{lab}{title} (best scheme)", unit, kind,
                            scale=scale, range=spans[q],
                            derive=(q, keys[q], f"{prefix}best_scheme", q == "capacity_bps",
                                    keys["error_m"])))
    layers.append(Layer(f"{prefix}snr_db", f"{lab}SNR", "dB", "linear", plan.bands["snr_db"]))
    used = plan.serving_cell[plan.serving_cell != plan.cell_nodata]
    n_used = int(used.max()) + 1 if used.size else 0
    cells = list(plan.cell_ids) + [f"cell {k}" for k in range(len(plan.cell_ids), n_used)]
    layers.append(Layer(f"{prefix}serving_cell", f"{lab}serving cell", "", "categorical",
                        plan.serving_cell, categories=[str(c) for c in cells],
                        colours=[CELL_COLOURS[k % len(CELL_COLOURS)] for k in range(len(cells))]))
    return layers + per_scheme


def _colour_range(array, kind):
    v = array[np.isfinite(array)]
    if kind == "log":
        v = v[v > 0]
    if v.size == 0:
        return (1e-3, 1.0) if kind == "log" else (0.0, 1.0)
    lo, hi = (float(x) for x in np.percentile(v, [1, 99]))
    if not hi > lo:
        lo, hi = (lo * 0.5, lo * 2.0) if kind == "log" else (lo - 0.5, lo + 0.5)
    return lo, hi


# -- the canvas: plot coordinates, decimation, reprojection --------------------------------
@dataclass
class Canvas:
    """Where the layers are drawn: a north-up grid in plot coordinates (the working CRS,
    or Web Mercator with a basemap), ``stride`` source pixels per displayed pixel."""

    x0: float
    y1: float
    dx: float
    dy: float
    nx: int
    ny: int
    stride: int
    source: object                    # the plan's Grid
    plot_crs: object                  # None: the working CRS
    nodes: dict | None = None


def choose_stride(layers, budget=MAX_EMBED_BYTES):
    """The smallest stride whose decimated layers fit in ``budget`` bytes."""
    arrays = [layer.array for layer in layers if layer.array is not None]
    if not arrays:
        return 1
    per_px = sum(a.dtype.itemsize for a in arrays)
    ny, nx = arrays[0].shape
    k = 1
    while math.ceil(ny / k) * math.ceil(nx / k) * per_px > budget:
        k += 1
    return k


def make_canvas(grid, layers, basemap=None, budget=MAX_EMBED_BYTES):
    """Decimate (and with a basemap reproject) every layer's array in place; return the
    :class:`Canvas` they now sit on. Arrays become bottom row first, as Bokeh draws."""
    k = choose_stride(layers, budget)
    res = grid.resolution_m * k
    ny, nx = math.ceil(grid.ny / k), math.ceil(grid.nx / k)
    canvas = Canvas(grid.x0_m, grid.y1_m, res, res, nx, ny, k, grid, None)
    for layer in layers:
        if layer.array is not None:
            layer.array = np.ascontiguousarray(layer.array[::k, ::k][::-1])
    if basemap:
        canvas = _to_web_mercator(canvas, layers)
    canvas.nodes = _coordinate_nodes(canvas)
    return canvas


def _to_web_mercator(canvas, layers):
    if not canvas.source.crs:
        raise ParameterError("--basemap: the plan has no CRS, so it cannot be placed on web "
                             "map tiles")
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src_t = Affine(canvas.dx, 0, canvas.x0, 0, -canvas.dy, canvas.y1)
    left, top = canvas.x0, canvas.y1
    right, bottom = left + canvas.nx * canvas.dx, top - canvas.ny * canvas.dy
    dst_t, w, h = calculate_default_transform(canvas.source.crs, "EPSG:3857", canvas.nx,
                                              canvas.ny, left, bottom, right, top)
    for layer in layers:
        if layer.array is None:
            continue
        src = layer.array[::-1]
        if src.dtype.kind == "f":
            fill = np.nan
        else:
            fill = np.iinfo(src.dtype).max
        dst = np.full((h, w), fill, src.dtype)
        reproject(src, dst, src_transform=src_t, src_crs=canvas.source.crs,
                  dst_transform=dst_t, dst_crs="EPSG:3857", resampling=Resampling.nearest,
                  src_nodata=fill, dst_nodata=fill)
        layer.array = np.ascontiguousarray(dst[::-1])
    return Canvas(dst_t.c, dst_t.f, dst_t.a, -dst_t.e, w, h, canvas.stride, canvas.source,
                  "EPSG:3857")


def _coordinate_nodes(canvas):
    """Nodes over the canvas with the working-CRS position (when the plot is in another
    CRS) and lon/lat (when the plan has a CRS), for bilinear interpolation in the page."""
    n = COORD_NODES
    xs = np.linspace(canvas.x0, canvas.x0 + canvas.nx * canvas.dx, n)
    ys = np.linspace(canvas.y1 - canvas.ny * canvas.dy, canvas.y1, n)
    gx, gy = np.meshgrid(xs, ys)
    nodes = {"n": n, "x0": float(xs[0]), "y0": float(ys[0]),
             "dx": float(xs[1] - xs[0]), "dy": float(ys[1] - ys[0])}
    crs = canvas.source.crs
    if not crs:
        return nodes
    try:
        from pyproj import Transformer
    except ImportError:
        return nodes
    plot_crs = canvas.plot_crs or crs
    if canvas.plot_crs:
        wx, wy = Transformer.from_crs(plot_crs, crs, always_xy=True).transform(gx, gy)
        nodes["wx"], nodes["wy"] = _round_list(wx, 4), _round_list(wy, 4)
    lon, lat = Transformer.from_crs(plot_crs, "EPSG:4326", always_xy=True).transform(gx, gy)
    nodes["lon"], nodes["lat"] = _round_list(lon, 10), _round_list(lat, 10)
    return nodes


def _round_list(a, digits):
    return [round(float(v), digits) for v in np.ravel(a)]


def _to_plot(canvas, x, y):
    """Working-CRS positions to plot coordinates."""
    if not canvas.plot_crs:
        return np.asarray(x, float), np.asarray(y, float)
    from pyproj import Transformer

    t = Transformer.from_crs(canvas.source.crs, canvas.plot_crs, always_xy=True)
    return t.transform(np.asarray(x, float), np.asarray(y, float))


# -- Bokeh pieces ---------------------------------------------------------------------------
#: The best scheme's layers, computed in the page from each scheme's own and the codes
#: (no second copy of the data in the file). Run by whichever comes first: the document
#: becoming idle (which waits for basemap tiles), a layer switch or the readout.
_DERIVE_JS = """
if (!window.ilacDerived) window.ilacDerived = new Set();
const nd = Bokeh.require("core/util/ndarray");
for (const d of derived) {
  if (window.ilacDerived.has(d.key)) continue;
  const best = sources[d.best].data.image[0];
  const parts = d.parts.map((k) => sources[k].data.image[0]);
  const errs = d.errors.map((k) => sources[k].data.image[0]);
  const out = new Float32Array(best.length);
  const n = parts.length;
  for (let i = 0; i < best.length; i++) {
    const b = best[i];
    if (b < n) {
      out[i] = parts[b][i];
    } else if (b == n) {            // infeasible: 0 capacity; the closest scheme's values
      let k = 0;
      for (let j = 1; j < n; j++) {
        const e = errs[j][i], e0 = errs[k][i];
        if (e < e0 || (isNaN(e0) && !isNaN(e))) k = j;
      }
      out[i] = d.zero ? 0 : parts[k][i];
    } else {
      out[i] = NaN;
    }
  }
  sources[d.key].data = {image: [nd.ndarray(out, {shape: best.shape, dtype: "float32"})]};
  window.ilacDerived.add(d.key);
}
window.ilacReport = {ready: true};
"""

_SELECT_JS = """
const key = keys[titles.indexOf(cb_obj.value)];
for (const k of keys) { renderers[k].visible = (k == key); }
const s = bars[key];
bar.setv({color_mapper: s.mapper, ticker: s.ticker, formatter: s.formatter,
          major_label_overrides: s.overrides, title: s.title});
"""

_READOUT_JS = """
function interp(arr, x, y) {
  const n = nodes.n;
  const fx = (x - nodes.x0) / nodes.dx, fy = (y - nodes.y0) / nodes.dy;
  const i = Math.min(Math.max(Math.floor(fx), 0), n - 2);
  const j = Math.min(Math.max(Math.floor(fy), 0), n - 2);
  const tx = fx - i, ty = fy - j;
  const a = arr[j * n + i], b = arr[j * n + i + 1];
  const c = arr[(j + 1) * n + i], d = arr[(j + 1) * n + i + 1];
  return (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d);
}
function fmt(v, digits) {
  if (!isFinite(v)) return "no data";
  const a = Math.abs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}
function row(key, title, value, text) {
  return `<tr data-key="${key}" data-value="${value}"><th>${title}</th><td>${text}</td></tr>`;
}
const x = cb_obj.x, y = cb_obj.y;
const wx = nodes.wx ? interp(nodes.wx, x, y) : x;
const wy = nodes.wy ? interp(nodes.wy, x, y) : y;
let out = '<table class="ilac-readout">';
out += row("x_m", `x [m] (${crs})`, wx, wx.toFixed(2));
out += row("y_m", `y [m] (${crs})`, wy, wy.toFixed(2));
if (nodes.lon) {
  const lon = interp(nodes.lon, x, y), lat = interp(nodes.lat, x, y);
  out += row("lon_deg", "lon [deg]", lon, lon.toFixed(7));
  out += row("lat_deg", "lat [deg]", lat, lat.toFixed(7));
}
const j = Math.floor((x - grid.x0) / grid.dx), i = Math.floor((grid.y1 - y) / grid.dy);
if (i < 0 || j < 0 || i >= grid.ny || j >= grid.nx) {
  out += '<tr><td colspan="2"><i>outside the grid</i></td></tr>';
} else {
  if (!grid.reprojected) {
    out += row("pixel", "GeoTIFF pixel (row, col)", `${i * grid.stride},${j * grid.stride}`,
               `${i * grid.stride}, ${j * grid.stride}`);
  }
  const k = (grid.ny - 1 - i) * grid.nx + j;
  for (const m of meta) {
    const data = sources[m.key].data.image[0];
    const v = data.length > k ? data[k] : NaN;
    let text;
    if (m.categories) {
      text = (v >= 0 && v < m.categories.length) ? m.categories[v] : "no data";
    } else {
      text = fmt(v * m.scale, 4) + (m.unit && isFinite(v) ? " " + m.unit : "");
    }
    out += row(m.key, m.title, String(v), text);
  }
}
readout.text = out + "</table>";
"""


def _colour_bar_spec(layer):
    from bokeh.models import (BasicTicker, CustomJSTickFormatter, FixedTicker,
                              LinearColorMapper, LogColorMapper, LogTicker)
    from bokeh.palettes import RdBu11, Viridis256

    if layer.kind == "categorical":
        n = max(len(layer.categories), 1)
        mapper = LinearColorMapper(palette=layer.colours or ["#000000"], low=-0.5,
                                   high=n - 0.5, low_color=TRANSPARENT,
                                   high_color=TRANSPARENT, nan_color=TRANSPARENT)
        if layer.ticks is not None:
            ticks = [int(t) for t in layer.ticks][:40]
        else:
            step = max(1, math.ceil(n / 20))
            ticks = list(range(0, n, step))
        ticker = FixedTicker(ticks=ticks)
        overrides = {t: layer.categories[t] for t in ticks}
        formatter = None
    else:
        lo, hi = layer.range or _colour_range(layer.array, layer.kind)
        cls = LogColorMapper if layer.kind == "log" else LinearColorMapper
        palette = RdBu11 if layer.kind == "diverging" else Viridis256
        mapper = cls(palette=palette, low=lo, high=hi, nan_color=TRANSPARENT)
        ticker = LogTicker() if layer.kind == "log" else BasicTicker()
        overrides = {}
        formatter = CustomJSTickFormatter(args={"scale": layer.scale}, code=(
            "const v = tick * scale; return Number(v.toPrecision(3)).toString();"))
    title = layer.title + (f" [{layer.unit}]" if layer.unit else "")
    return {"mapper": mapper, "ticker": ticker, "formatter": formatter,
            "overrides": overrides, "title": title}


def map_panel(layers, canvas, title, *, x_range=None, y_range=None, basemap=None,
              sites=None, name="map", width_px=MAP_WIDTH_PX):
    """A map figure with one image renderer per layer, a layer selector and a colour bar.

    Returns ``(figure, select, sources)``; ``sources`` maps each layer key to its
    ``ColumnDataSource``.
    """
    from bokeh.models import (ColorBar, ColumnDataSource, CustomJS, Range1d, Select,
                              WMTSTileSource)
    from bokeh.plotting import figure

    width_m, height_m = canvas.nx * canvas.dx, canvas.ny * canvas.dy
    frame_w = width_px
    frame_h = int(min(max(frame_w * height_m / width_m, 260), 900))
    if x_range is None:
        # equal scale on both axes: widen the shorter extent
        scale = max(width_m / frame_w, height_m / frame_h)
        cx, cy = canvas.x0 + width_m / 2, canvas.y1 - height_m / 2
        x_range = Range1d(cx - scale * frame_w / 2, cx + scale * frame_w / 2)
        y_range = Range1d(cy - scale * frame_h / 2, cy + scale * frame_h / 2)
    fig = figure(title=title, x_range=x_range, y_range=y_range, frame_width=frame_w,
                 frame_height=frame_h, tools="pan,wheel_zoom,box_zoom,reset,save",
                 active_scroll="wheel_zoom", name=name,
                 x_axis_label="x [m]" if not canvas.plot_crs else "Web Mercator x [m]",
                 y_axis_label="y [m]" if not canvas.plot_crs else "Web Mercator y [m]")
    fig.xaxis.formatter.use_scientific = False
    fig.yaxis.formatter.use_scientific = False
    fig.grid.visible = False
    if basemap:
        fig.add_tile(WMTSTileSource(url=basemap, attribution="basemap: " + html.escape(basemap)))
    sources, renderers, bars = {}, {}, {}
    for k, layer in enumerate(layers):
        spec = _colour_bar_spec(layer)
        data = layer.array if layer.array is not None else np.full((1, 1), np.nan, np.float32)
        src = ColumnDataSource({"image": [data]}, name=f"layer:{layer.key}")
        r = fig.image(image="image", source=src, x=canvas.x0, y=canvas.y1 - height_m,
                      dw=width_m, dh=height_m, color_mapper=spec["mapper"], visible=k == 0,
                      name=f"layer:{layer.key}")
        sources[layer.key], renderers[layer.key], bars[layer.key] = src, r, spec
    first = bars[layers[0].key]
    bar = ColorBar(color_mapper=first["mapper"], ticker=first["ticker"],
                   major_label_overrides=first["overrides"], title=first["title"],
                   width=14, label_standoff=6, name="colour_bar")
    if first["formatter"] is not None:
        bar.formatter = first["formatter"]
    fig.add_layout(bar, "right")
    for spec in bars.values():       # None: keep the bar's default formatter
        if spec["formatter"] is None:
            spec["formatter"] = bar.formatter
    titles = [layer.title for layer in layers]
    select = Select(title="Layer", options=titles, value=titles[0], width=300,
                    name=f"{name}_layer")
    select.js_on_change("value", CustomJS(
        args={"keys": [layer.key for layer in layers], "titles": titles,
              "renderers": renderers, "bars": bars, "bar": bar,
              **derive_args([(layers, sources)])}, code=_DERIVE_JS + _SELECT_JS))
    if sites is not None:
        _add_sites(fig, sites, canvas)
    return fig, select, sources


def _add_sites(fig, sites, canvas):
    """Site markers, a sector line per cell along its azimuth, and a tooltip per cell."""
    from bokeh.models import ColumnDataSource, HoverTool

    x, y = _to_plot(canvas, sites["x_m"].to_numpy(float), sites["y_m"].to_numpy(float))
    az = sites["azimuth_deg"].to_numpy(float) if "azimuth_deg" in sites else \
        np.full(len(sites), np.nan)
    pts = np.unique(np.round(np.column_stack([x, y]), 3), axis=0)
    length = _sector_length(pts, canvas)
    rad = np.radians(np.where(np.isfinite(az), az, 0.0))
    tip_x = np.where(np.isfinite(az), x + length * np.sin(rad), x)
    tip_y = np.where(np.isfinite(az), y + length * np.cos(rad), y)

    def col(name, fmt="{:g}", unit=""):
        """A column as tooltip text: numbers formatted with their unit, "-" if absent."""
        if name not in sites:
            return ["-"] * len(sites)
        values = sites[name]
        if values.dtype.kind not in "fiu":
            return [str(v) if v == v else "-" for v in values]
        return [fmt.format(v) + unit if np.isfinite(v) else "-" for v in values]

    data = {"x": x, "y": y, "tip_x": tip_x, "tip_y": tip_y,
            "angle": np.radians(-np.where(np.isfinite(az), az, 0.0)),
            "cell_id": [str(c) for c in sites.get("cell_id", range(len(sites)))],
            "site_id": col("site_id", "{}"), "azimuth": col("azimuth_deg", unit=" deg"),
            "antennas": col("n_antennas", "{:.0f}"), "power": col("power_dbm", unit=" dBm"),
            "height": col("height_m", unit=" m"), "tilt": col("tilt_deg", unit=" deg"),
            "etilt": col("electrical_tilt_deg", unit=" deg")}
    src = ColumnDataSource(data, name="sites")
    fig.segment("x", "y", "tip_x", "tip_y", source=src, line_color="black", line_width=1.5)
    fig.scatter("x", "y", source=src, size=7, fill_color="white", line_color="black",
                name="site_markers")
    tips = fig.scatter("tip_x", "tip_y", source=src, marker="triangle", size=9,
                       angle="angle", fill_color="black", line_color="white",
                       name="cell_markers")
    fig.add_tools(HoverTool(renderers=[tips], tooltips=[
        ("cell", "@cell_id"), ("site", "@site_id"), ("azimuth", "@azimuth"),
        ("antennas", "@antennas"), ("power", "@power"), ("height", "@height"),
        ("tilt", "@tilt"), ("electrical tilt", "@etilt")]))


def _sector_length(pts, canvas):
    """Length of a sector line: 0.3 of the median distance to the nearest other site (at
    most a tenth of the map); a fixed share of the map for one site or many."""
    extent = min(canvas.nx * canvas.dx, canvas.ny * canvas.dy)
    if len(pts) < 2:
        return 0.05 * extent
    if len(pts) > 2000:                  # the pairwise distances would be large
        return 0.02 * extent
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    return float(min(0.3 * np.median(d.min(axis=1)), 0.1 * extent))


def readout_callback(readout, canvas, layer_sets, crs):
    """The ``CustomJS`` that fills ``readout`` with every layer's value under the cursor.

    ``layer_sets``: (layers, sources) pairs, one per map panel."""
    from bokeh.models import CustomJS

    meta, sources = [], {}
    for layers, srcs in layer_sets:
        for layer in layers:
            meta.append({"key": layer.key, "title": html.escape(layer.title),
                         "unit": layer.unit, "scale": layer.scale,
                         "categories": [html.escape(c) for c in layer.categories]
                         if layer.kind == "categorical" else None})
            sources[layer.key] = srcs[layer.key]
    grid = {"x0": canvas.x0, "y1": canvas.y1, "dx": canvas.dx, "dy": canvas.dy,
            "nx": canvas.nx, "ny": canvas.ny, "stride": canvas.stride,
            "reprojected": bool(canvas.plot_crs)}
    args = derive_args(layer_sets)
    args.update({"readout": readout, "meta": meta, "grid": grid, "nodes": canvas.nodes,
                 "crs": html.escape(str(crs or "no CRS"))})
    return CustomJS(args=args, code=_DERIVE_JS + _READOUT_JS)


def derive_args(layer_sets):
    """The arguments of :data:`_DERIVE_JS` for ``layer_sets`` ((layers, sources) pairs)."""
    derived, sources = [], {}
    for layers, srcs in layer_sets:
        sources.update(srcs)
        for layer in layers:
            if layer.derive is not None:
                _, parts, best, zero, errors = layer.derive
                derived.append({"key": layer.key, "parts": parts, "best": best, "zero": zero,
                                "errors": errors})
    return {"derived": derived, "sources": sources}


def derive_callback(layer_sets):
    """The ``CustomJS`` run when the document is idle (see :data:`_DERIVE_JS`)."""
    from bokeh.models import CustomJS

    return CustomJS(args=derive_args(layer_sets), code=_DERIVE_JS)


# -- tables, CDFs, scenario ------------------------------------------------------------------
_FORMATS = {"_bps": "0,0", "_m": "0.00000", "_fraction": "0.0000", "_share": "0.0000",
            "_db": "0.00", "_m2": "0,0"}


def data_table(frame, name, *, height=280, width=1100, search=False, fit_columns=True):
    """A sortable Bokeh ``DataTable`` of ``frame`` (and a search box filtering its rows
    on any column's text when ``search``). Returns a layout."""
    from bokeh.layouts import column
    from bokeh.models import (CDSView, ColumnDataSource, CustomJS, DataTable, IndexFilter,
                              NumberFormatter, StringFormatter, TableColumn, TextInput)

    frame = frame.reset_index(drop=True)
    src = ColumnDataSource({c: frame[c].to_numpy() for c in frame.columns}, name=f"{name}_data")
    cols = []
    for c in frame.columns:
        if frame[c].dtype.kind in "fiu":
            fmt = next((f for suffix, f in _FORMATS.items() if c.endswith(suffix)), "0.[0000]")
            cols.append(TableColumn(field=c, title=c, formatter=NumberFormatter(format=fmt)))
        else:
            cols.append(TableColumn(field=c, title=c, formatter=StringFormatter()))
    view = CDSView(filter=IndexFilter(indices=list(range(len(frame)))))
    table = DataTable(source=src, columns=cols, view=view, sortable=True, width=width,
                      height=height, index_position=None, reorderable=False, name=name,
                      fit_columns=fit_columns)
    if not search:
        return table
    box = TextInput(title="Search", placeholder="text in any column", width=300,
                    name=f"{name}_search")
    box.js_on_change("value_input", CustomJS(args={"src": src, "view": view}, code="""
const q = cb_obj.value_input.trim().toLowerCase();
const cols = Object.keys(src.data);
const n = src.get_length();
const keep = [];
for (let i = 0; i < n; i++) {
  if (!q || cols.some((c) => String(src.data[c][i]).toLowerCase().includes(q))) keep.push(i);
}
view.filter.indices = keep;
"""))
    return column(box, table)


def cdf_figures(cdf, schemes):
    """CDFs of capacity, position error and positioning share per scheme (``cdf.csv``)."""
    from bokeh.models import Legend
    from bokeh.plotting import figure

    from .exports import scheme_colour

    figs = []
    specs = (("capacity_bps", "capacity [Mbit/s]", 1e-6, "linear"),
             ("error_m", "position error [m]", 1.0, "log"),
             ("loc_share", "positioning share", 1.0, "linear"))
    for q, label, scale, axis in specs:
        if q not in cdf:
            continue
        fig = figure(title=f"CDF of {label.split(' [')[0]}", x_axis_label=label,
                     y_axis_label="fraction of points", x_axis_type=axis, width=380,
                     height=300, tools="pan,wheel_zoom,reset,save", name=f"cdf_{q}")
        items = []
        for s in schemes:
            part = cdf[cdf["scheme"] == s].sort_values("percentile")
            v = part[q].to_numpy(float) * scale
            ok = np.isfinite(v) & ((v > 0) if axis == "log" else True)
            if not ok.any():
                continue
            r = fig.line(v[ok], part["percentile"].to_numpy(float)[ok] / 100.0,
                         line_color=scheme_colour(s), line_width=2)
            items.append((s, [r]))
        if items:
            fig.add_layout(Legend(items=items, location="bottom_right"), "center")
        figs.append(fig)
    return figs


def partition_figure(summary):
    """Area share per scheme (best where), from ``summary.csv``."""
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    from .exports import scheme_colour

    names = [str(s) for s in summary["scheme"]]
    share = summary["area_fraction"].to_numpy(float)
    src = ColumnDataSource({"scheme": names, "share": share * 100.0,
                            "colour": [scheme_colour(s) for s in names]})
    fig = figure(y_range=names[::-1], width=380, height=40 + 32 * len(names),
                 title="Area where each scheme is best [%]", tools="save",
                 x_range=(0, 100), name="partition")
    fig.hbar(y="scheme", right="share", height=0.7, color="colour", source=src)
    return fig


def _kv_table(pairs):
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>"
                   for k, v in pairs)
    return f'<table class="ilac-kv">{rows}</table>'


def _text(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_text(x)}" for k, x in v.items()) or "-"
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v) or "-"
    return "-" if v is None else str(v)


_STYLE = """
.ilac-kv, .ilac-readout { border-collapse: collapse; font: 13px sans-serif; }
.ilac-kv th, .ilac-readout th { text-align: left; padding: 1px 10px 1px 0; font-weight: 600;
  vertical-align: top; white-space: nowrap; }
.ilac-kv td, .ilac-readout td { padding: 1px 0; }
.ilac-readout { min-width: 330px; }
h2.ilac { font: 600 18px sans-serif; margin: 18px 0 4px 0; }
.ilac-note { font: 13px sans-serif; }
"""


def div(text, **kwargs):
    """A Bokeh ``Div`` with the report's styles (each Div renders in a shadow root of its
    own, so page-wide CSS does not reach it)."""
    from bokeh.models import Div, InlineStyleSheet

    return Div(text=text, stylesheets=[InlineStyleSheet(css=_STYLE)], **kwargs)


def scenario_html(manifest, folder, links_from):
    """The scenario, provenance and output files of a manifest, as HTML."""
    inp = manifest.get("inputs", {})
    objective = inp.get("objective") or {}
    parts = ["<h2 class='ilac'>Scenario</h2>", _kv_table([
        ("name", inp.get("name")), ("working CRS", manifest.get("working_crs")),
        ("target error [m]", objective.get("target_error_m")),
        ("max capacity loss", objective.get("max_capacity_loss")),
        ("bound", inp.get("bound")), ("propagation", inp.get("propagation")),
        ("sites", inp.get("sites")), ("grid", inp.get("grid")),
        ("area [m2]", inp.get("area_m2")),
        ("points planned", manifest.get("grid", {}).get("n_points")),
        ("planning time [s]", manifest.get("plan_time_s")),
        ("created (UTC)", manifest.get("created_utc")),
        ("ilac_plan", manifest.get("ilac_plan_version"))])]
    parts += ["<h2 class='ilac'>Radio</h2>", _kv_table((inp.get("radio") or {}).items())]
    parts += ["<h2 class='ilac'>Schemes and parameters</h2>",
              _kv_table((inp.get("schemes") or {s: {} for s in manifest.get("schemes", [])})
                        .items())]
    plugins = [p for p in manifest.get("plugins") or [] if isinstance(p, dict)]
    parts += ["<h2 class='ilac'>Plugins</h2>", _kv_table(
        (p.get("name"), f"{p.get('distribution')} {p.get('version')}"
         + (f" (error: {p['error']})" if p.get("error") else "")) for p in plugins)]
    parts += ["<h2 class='ilac'>Versions</h2>",
              _kv_table((manifest.get("versions") or {}).items())]
    if manifest.get("notes"):
        parts += ["<h2 class='ilac'>Notes</h2><ul>"
                  + "".join(f"<li>{html.escape(str(n))}</li>" for n in manifest["notes"])
                  + "</ul>"]
    parts += ["<h2 class='ilac'>Output files</h2>", file_links(
        folder, manifest.get("files") or [], links_from)]
    return "".join(parts)


def file_links(folder, names, links_from):
    """Links to ``names`` in ``folder``, relative to the folder the report is written in."""
    items = []
    for name in names:
        path = Path(folder) / name
        try:
            href = os.path.relpath(path, links_from).replace(os.sep, "/")
        except ValueError:                     # another drive
            href = path.resolve().as_uri()
        items.append(f'<li><a href="{html.escape(href)}">{html.escape(name)}</a></li>')
    return "<ul>" + "".join(items) + "</ul>"


def header_html(title, lines):
    return (f"<h1 style='font: 600 24px sans-serif; margin: 4px 0'>{html.escape(title)}</h1>"
            + "".join(f"<div class='ilac-note'>{html.escape(t)}</div>"
                      for t in lines))


def render(root, title, on_ready):
    """The standalone HTML of a Bokeh layout, resources inlined."""
    from bokeh.document import Document
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    doc = Document()
    doc.add_root(root)
    doc.js_on_event("document_ready", on_ready)
    return file_html(doc, INLINE, title)


# -- the plan report --------------------------------------------------------------------------
def plan_report_html(plan, *, basemap=None, links_from=None, budget=MAX_EMBED_BYTES):
    """The report of a :class:`~ilac_plan.planfolder.PlanFolder` as an HTML string."""
    check_bokeh()
    from bokeh.layouts import column, row

    links_from = Path(links_from or plan.folder)
    layers = plan_layers(plan)
    canvas = make_canvas(plan.grid, layers, basemap, budget)
    name = plan.manifest.get("inputs", {}).get("name") or plan.folder.name
    fig, select, sources = map_panel(layers, canvas, "Best scheme and layers",
                                     basemap=basemap, sites=plan.sites)
    readout = div("<i>move the cursor over the map</i>", width=360, name="readout")
    fig.js_on_event("mousemove", readout_callback(readout, canvas, [(layers, sources)],
                                                  plan.grid.crs))
    n = plan.n_points
    lines = [f"{n:,} points at {plan.grid.resolution_m:g} m, {len(plan.schemes)} schemes "
             f"({', '.join(plan.schemes)}), {len(plan.cell_ids)} cells; "
             f"planned {plan.manifest.get('created_utc', '?')}"]
    if canvas.stride > 1:
        lines.append(f"The map shows 1 in {canvas.stride} pixels each way (the file holds "
                     f"at most {budget / 1e6:g} MB of raster data); the GeoTIFFs have them all.")
    if basemap:
        lines.append("Drawn in Web Mercator over the basemap (nearest-neighbour "
                     "reprojection of the plan's pixels).")
    parts = [div(header_html(f"ilac_plan report: {name}", lines), width=1100),
             row(fig, column(select, readout))]
    tables = plan.tables
    if "summary.csv" in tables:
        parts.append(div("<h2 class='ilac'>Best-scheme partition</h2><div class='ilac-note'>"
                              "Statistics of each scheme over the points "
                              "where it is best (summary.csv).</div>", width=1100))
        parts.append(row(partition_figure(tables["summary.csv"]),
                         data_table(tables["summary.csv"], "summary_table", height=150,
                                    width=720)))
    if "schemes.csv" in tables:
        parts.append(div("<h2 class='ilac'>Each scheme everywhere</h2><div class='ilac-note'>"
                              "Statistics of each scheme as if it were used "
                              "at every point (schemes.csv).</div>", width=1100))
        parts.append(data_table(tables["schemes.csv"], "schemes_table", height=120))
    if "cells.csv" in tables:
        parts.append(div("<h2 class='ilac'>Cells</h2><div class='ilac-note'>"
                              "Click a header to sort; type to filter (cells.csv).</div>",
                         width=1100))
        parts.append(data_table(tables["cells.csv"], "cells_table", height=320, search=True))
    if "cdf.csv" in tables:
        parts.append(div("<h2 class='ilac'>Distributions per scheme</h2>", width=1100))
        parts.append(row(*cdf_figures(tables["cdf.csv"], plan.schemes)))
    missing = [t for t in ("summary.csv", "schemes.csv", "cells.csv", "cdf.csv")
               if t not in tables]
    if missing:
        parts.append(div(f"<div class='ilac-note'>Not in this plan's folder: "
                              f"{html.escape(', '.join(missing))}.</div>"))
    parts.append(div(scenario_html(plan.manifest, plan.folder, links_from), width=1100))
    return render(column(*parts), f"ilac_plan report: {name}",
                  derive_callback([(layers, sources)]))


def write_report(folder, out=None, *, basemap=None, budget=MAX_EMBED_BYTES):
    """Write the interactive report of the plan in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        A plan's output folder (``ilac-plan map --out``).
    out : str or os.PathLike, optional
        The HTML file (default ``folder/report.html``). Written atomically.
    basemap : str, optional
        An XYZ tile URL template (``https://.../{z}/{x}/{y}.png``) drawn under the map;
        without it the page makes no network request.
    budget : int
        Raw raster bytes embedded at most (:data:`MAX_EMBED_BYTES`).

    Returns
    -------
    Path
        The report written.
    """
    from ._io import write_bytes

    check_basemap(basemap)
    plan = read_plan(folder)
    out = Path(out) if out is not None else Path(folder) / "report.html"
    if out.is_dir():
        raise ParameterError(f"--out: {str(out)!r} is a folder; name the HTML file")
    if out.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"--out: {str(out)!r} must name an .html file")
    files = plan.manifest.get("files") or []
    if out.resolve().parent == plan.folder.resolve() and out.name in files and \
            out.name != "report.html":
        raise ParameterError(f"--out: {str(out)!r} is one of the plan's own files; "
                             "choose another name")
    if not out.parent.is_dir():
        raise ParameterError(f"--out: no such folder {str(out.parent)!r}")
    text = plan_report_html(plan, basemap=basemap, links_from=out.parent.resolve(),
                            budget=budget)
    write_bytes(out, text.encode("utf-8"))
    return out


def check_basemap(url):
    """Refuse a basemap that is not an http(s) XYZ template."""
    if url is None:
        return
    if not (str(url).startswith(("https://", "http://")) and
            all(t in url for t in ("{x}", "{y}", "{z}"))):
        raise ParameterError(f"--basemap: expected an http(s) XYZ tile URL template with "
                             f"{{z}}, {{x}} and {{y}}, e.g. "
                             f"https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png; got {url!r}")
