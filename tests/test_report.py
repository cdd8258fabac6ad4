"""The interactive report and the comparison of two plans (ilac-plan report / compare).

The files are read back with rasterio and pandas; the pages are driven in a real
headless Chromium (playwright) with every request that would leave the file blocked and
recorded. Without a Chromium the browser tests are skipped, unless
``ILAC_PLAN_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
Screenshots are kept in ``ILAC_PLAN_ARTIFACTS`` (default ``test-artifacts/``).
"""

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ilac_plan.cli import cli

rasterio = pytest.importorskip("rasterio")

pytestmark = pytest.mark.slow     # browser and end-to-end plans
pytest.importorskip("bokeh")

FAST = ["--resolution-m", "20", "--tile-px", "64"]
ARTIFACTS = Path(os.environ.get("ILAC_PLAN_ARTIFACTS", "test-artifacts"))


def run(*args):
    return CliRunner().invoke(cli, list(args))


def one_line_error(res, code=2):
    assert res.exit_code == code, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ilac-plan: error: "), res.output
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """Two plans of the default layout on one grid (targets 5 cm and 3 cm), A with the
    report written by map --report."""
    root = tmp_path_factory.mktemp("plans")
    a, b = root / "a", root / "b"
    res = run("map", "-q", *FAST, "--report", "--out", str(a))
    assert res.exit_code == 0, res.output
    res = run("map", "-q", *FAST, "--target-error-m", "0.03", "--out", str(b))
    assert res.exit_code == 0, res.output
    return a, b


@pytest.fixture(scope="module")
def comparison(plans, tmp_path_factory):
    a, b = plans
    out = tmp_path_factory.mktemp("cmp") / "diff"
    res = run("compare", str(a), str(b), "--out", str(out))
    assert res.exit_code == 0, res.output
    return out


def read_band(path, name=None):
    with rasterio.open(path) as src:
        k = 1 if name is None else list(src.descriptions).index(name) + 1
        return src.read(k), src.transform


def categories(path):
    return [c.text for c in ET.parse(f"{path}.aux.xml").getroot().iter("Category")]


def best_values(folder, quantity):
    """The plan's quantity per pixel, straight from the GeoTIFFs, pixel by pixel: the
    best scheme's; where infeasible, capacity 0 and the lowest-error scheme's error and
    share (the first on a tie)."""
    folder = Path(folder)
    best, _ = read_band(folder / "best_scheme.tif")
    names = categories(folder / "best_scheme.tif")[:-1]
    bands = {(s, q): read_band(folder / "coverage.tif", f"{s}_{q}")[0]
             for s in names for q in ("capacity_bps", "error_m", "loc_share")}
    out = np.full(best.shape, np.nan, np.float32)
    for r, c in zip(*np.nonzero(best != 255)):
        k = int(best[r, c])
        if k == len(names):
            if quantity == "capacity_bps":
                out[r, c] = 0.0
                continue
            errs = [bands[(s, "error_m")][r, c] for s in names]
            k = min(range(len(names)), key=lambda j: (errs[j], j))
        out[r, c] = bands[(names[k], quantity)][r, c]
    return out


# -- files -------------------------------------------------------------------------------
def test_map_report_is_listed_and_self_contained(plans):
    a, _ = plans
    html = (a / "report.html").read_text(encoding="utf-8")
    assert "report.html" in json.loads((a / "manifest.json").read_text())["files"]
    # every script inline: no src=, no stylesheet link, no CDN
    assert "<script src" not in html.replace(" ", "").lower().replace("<script\n", "<script")
    assert "cdn.bokeh.org" not in html
    assert '<link rel="stylesheet"' not in html
    assert (a / "report.html").stat().st_size < 15e6


def test_report_from_a_copied_folder(plans, tmp_path):
    a, _ = plans
    copy = tmp_path / "copied"
    shutil.copytree(a, copy)
    (copy / "report.html").unlink()
    out = tmp_path / "elsewhere.html"
    res = run("report", str(copy), "--out", str(out))
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    # links relative to the report's folder
    assert 'href=\\"copied/coverage.tif\\"' in text


@pytest.mark.parametrize("remove", ["manifest.json", "coverage.tif", "serving_cell.tif"])
def test_report_refuses_an_incomplete_folder(plans, tmp_path, remove):
    a, _ = plans
    copy = tmp_path / "plan"
    shutil.copytree(a, copy)
    (copy / "report.html").unlink()
    (copy / remove).unlink()
    msg = one_line_error(run("report", str(copy)))
    assert remove in msg
    assert not (copy / "report.html").exists()
    assert not [p for p in copy.iterdir() if p.name.startswith(".")]


def test_report_refuses_a_missing_folder_and_a_bad_basemap(plans, tmp_path):
    a, _ = plans
    assert "no such folder" in one_line_error(run("report", str(tmp_path / "nope")))
    msg = one_line_error(run("report", str(a), "--out", str(tmp_path / "r.html"),
                             "--basemap", "tiles.example/{z}"))
    assert "--basemap" in msg
    assert not (tmp_path / "r.html").exists()


def test_report_needs_the_geotiffs():
    msg = one_line_error(run("map", "-q", *FAST, "--report", "--formats", "-tif",
                             "--out", "unused-folder"))
    assert "tif" in msg
    assert not Path("unused-folder").exists()


def test_corrupt_raster_is_one_line(plans, tmp_path):
    a, _ = plans
    copy = tmp_path / "plan"
    shutil.copytree(a, copy)
    (copy / "coverage.tif").write_bytes(b"not a tiff")
    assert "coverage.tif" in one_line_error(run("report", str(copy)))


def test_difference_rasters_equal_an_independent_difference(plans, comparison):
    a, b = plans
    for band, q in (("capacity_change_bps", "capacity_bps"), ("error_change_m", "error_m"),
                    ("loc_share_change", "loc_share")):
        got, transform = read_band(comparison / "diff.tif", band)
        want = best_values(b, q) - best_values(a, q)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0, atol=0)
    snr_a, ta = read_band(a / "coverage.tif", "snr_db")
    snr_b, _ = read_band(b / "coverage.tif", "snr_db")
    got, transform = read_band(comparison / "diff.tif", "snr_change_db")
    np.testing.assert_allclose(got, snr_b - snr_a, equal_nan=True)
    assert transform == ta
    with rasterio.open(comparison / "diff.tif") as src:
        assert src.units[0] == "bit/s" and src.crs is not None


def test_scheme_change_and_moved_area(plans, comparison):
    a, b = plans
    best_a, _ = read_band(a / "best_scheme.tif")
    best_b, _ = read_band(b / "best_scheme.tif")
    names_a, names_b = categories(a / "best_scheme.tif"), categories(b / "best_scheme.tif")
    change, _ = read_band(comparison / "scheme_change.tif")
    cats = categories(comparison / "scheme_change.tif")
    inside = (best_a != 255) & (best_b != 255)
    labels = np.array(cats)[change[inside]]
    expect = np.array([f"{names_a[i]} -> {names_b[j]}"
                       for i, j in zip(best_a[inside], best_b[inside])])
    np.testing.assert_array_equal(labels, expect)
    moved = pd.read_csv(comparison / "moved.csv")
    assert moved["n_points"].sum() == np.count_nonzero((best_a != 255) | (best_b != 255))
    np.testing.assert_allclose(moved["fraction"].sum(), 1.0)
    # one independent pair count
    n_tf = np.count_nonzero((best_a == names_a.index("time"))
                            & (best_b == names_b.index("frequency")))
    row = moved[(moved.from_scheme == "time") & (moved.to_scheme == "frequency")]
    assert n_tf > 0 and int(row["n_points"].iloc[0]) == n_tf
    flag, _ = read_band(comparison / "diff.tif", "scheme_changed")
    same = np.array([x.split(" -> ")[0] == x.split(" -> ")[1] for x in labels])
    np.testing.assert_array_equal(flag[inside] == 0, same)


def test_cell_changes(plans, comparison):
    a, b = plans
    ca, cb = pd.read_csv(a / "cells.csv"), pd.read_csv(b / "cells.csv")
    got = pd.read_csv(comparison / "cell_changes.csv").set_index("cell_id")
    m = ca.set_index("cell_id")["mean_capacity_bps"]
    n = cb.set_index("cell_id")["mean_capacity_bps"]
    np.testing.assert_allclose(got.loc[m.index, "mean_capacity_bps_change"], (n - m)[m.index])
    assert set(got.index) == set(ca["cell_id"]) | set(cb["cell_id"])


def test_compare_refuses_other_grids_unless_resampled(plans, tmp_path):
    a, _ = plans
    other = tmp_path / "coarse"
    res = run("map", "-q", "--resolution-m", "25", "--tile-px", "64", "--out", str(other))
    assert res.exit_code == 0, res.output
    out = tmp_path / "diff"
    msg = one_line_error(run("compare", str(a), str(other), "--out", str(out)))
    assert "different grids" in msg and "--resample" in msg
    assert not out.exists()
    res = run("compare", str(a), str(other), "--out", str(out), "--resample", "nearest")
    assert res.exit_code == 0, res.output
    got, transform = read_band(out / "diff.tif", "snr_change_db")
    _, ta = read_band(a / "coverage.tif")
    assert transform == ta
    # nearest: B's value at the B pixel holding each A pixel centre
    snr_a, _ = read_band(a / "coverage.tif", "snr_db")
    snr_o, to = read_band(other / "coverage.tif", "snr_db")
    r, c = 40, 60
    x, y = _pixel_centre(ta, r, c)
    cb, rb = (x - to.c) / to.a, (y - to.f) / to.e
    want = snr_o[int(rb), int(cb)] - snr_a[r, c]
    assert got[r, c] == pytest.approx(want, abs=1e-5)


def test_compare_refuses_a_folder_without_manifest(plans, tmp_path):
    a, _ = plans
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "diff"
    msg = one_line_error(run("compare", str(a), str(empty), "--out", str(out)))
    assert "B" in msg and "manifest.json" in msg
    assert not out.exists()
    msg = one_line_error(run("compare", str(a), str(a), "--out", str(a)))
    assert "overwrite" in msg


# -- in the browser ------------------------------------------------------------------------
def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("ILAC_PLAN_REQUIRE_BROWSER") == "1"
    path = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if path is None or sync_playwright is None:
        if required:
            pytest.fail("ILAC_PLAN_REQUIRE_BROWSER=1 but no chromium or playwright")
        pytest.skip("no chromium (apt-get install chromium) or playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A report opened from its file with every other request blocked and recorded."""

    def __init__(self, browser, path, wait_idle=True):
        self.ctx = browser.new_context(viewport={"width": 1450, "height": 1100})
        self.requests, self.errors = [], []

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        self.ctx.route("**/*", route)
        self.page = self.ctx.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(Path(path).resolve().as_uri())
        if wait_idle:      # the document idle (with a basemap it waits for the tiles)
            self.page.wait_for_function("window.ilacReport && window.ilacReport.ready",
                                        timeout=30000)
        else:
            self.page.wait_for_function("""() => { try {
                const d = Bokeh.documents[0];
                return !!Bokeh.index.find_one(d.get_model_by_name('map')); }
                catch (e) { return false; } }""", timeout=30000)
        self.page.wait_for_timeout(300)

    def close(self):
        self.ctx.close()

    def view_box(self, name):
        return self.page.evaluate("""(name) => {
            const m = Bokeh.documents[0].get_model_by_name(name);
            const v = Bokeh.index.find_one(m);
            const r = v.canvas_view.el.getBoundingClientRect();
            const b = v.frame.bbox;
            return [r.left + b.left, r.top + b.top, b.width, b.height]; }""", name)

    def to_screen(self, name, x, y):
        return self.page.evaluate("""([name, x, y]) => {
            const m = Bokeh.documents[0].get_model_by_name(name);
            const v = Bokeh.index.find_one(m);
            const r = v.canvas_view.el.getBoundingClientRect();
            return [r.left + v.frame.x_scale.compute(x), r.top + v.frame.y_scale.compute(y)];
            }""", [name, x, y])

    def hover(self, name, x, y):
        sx, sy = self.to_screen(name, x, y)
        self.page.mouse.move(sx, sy)
        self.page.mouse.move(sx + 0.01, sy)
        self.page.wait_for_timeout(150)
        rows = self.page.locator("table.ilac-readout tr[data-key]")
        return {rows.nth(i).get_attribute("data-key"): rows.nth(i).get_attribute("data-value")
                for i in range(rows.count())}

    def map_png(self, name):
        x, y, w, h = self.view_box(name)
        return self.page.screenshot(clip={"x": x, "y": y, "width": w, "height": h})

    #: The layer selectors in page order.
    SELECTS = {"map": 0, "map_a": 0, "map_b": 1, "map_diff": 2}

    def select_layer(self, name, title):
        self.page.locator("select").nth(self.SELECTS[name]).select_option(label=title)
        self.page.wait_for_timeout(300)

    def first_row(self, table_index):
        rows = self.page.locator(".bk-DataTable").nth(table_index).locator(".slick-row")
        best = None
        for i in range(rows.count()):
            top = rows.nth(i).evaluate("e => e.offsetTop")
            if best is None or top < best[0]:
                best = (top, rows.nth(i).locator(".slick-cell").all_inner_texts())
        return best[1]

    def click_header(self, table_index, column):
        hdr = self.page.locator(".bk-DataTable").nth(table_index).locator(
            ".slick-header-column", has_text=column).first
        hdr.scroll_into_view_if_needed()
        hdr.click()
        self.page.wait_for_timeout(200)


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.page.screenshot(path=str(path), full_page=False)
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"))
    colours = np.unique(img.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 50, f"{path} looks blank ({len(colours)} colours)"
    return path


def _pixel_centre(t, r, c):
    return t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e


def test_report_in_the_browser(plans, browser):
    a, _ = plans
    page = Page(browser, a / "report.html")
    try:
        assert page.requests == []
        assert page.errors == []
        screenshot(page, "report.png")
        # switching a layer changes the image
        before = page.map_png("map")
        page.select_layer("map", "capacity (best scheme)")
        after = page.map_png("map")
        assert before != after
        page.select_layer("map", "SNR")
        assert page.map_png("map") not in (before, after)
        # the readout at chosen pixels equals the GeoTIFF there
        with rasterio.open(a / "coverage.tif") as src:
            cov = {d: src.read(k + 1) for k, d in enumerate(src.descriptions)}
            transform, crs = src.transform, src.crs
        best, _ = read_band(a / "best_scheme.tif")
        cell, _ = read_band(a / "serving_cell.tif")
        names = categories(a / "best_scheme.tif")
        from pyproj import Transformer

        to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        inside = np.argwhere(best != 255)
        for r, c in inside[[0, len(inside) // 3, len(inside) // 2, -1]]:
            x, y = _pixel_centre(transform, r, c)
            got = page.hover("map", x, y)
            assert got["pixel"] == f"{r},{c}"
            for band, values in cov.items():
                assert np.float32(float(got[band])) == values[r, c] or (
                    np.isnan(values[r, c]) and got[band] == "NaN"), band
            assert int(got["best_scheme"]) == best[r, c]
            assert int(got["serving_cell"]) == cell[r, c]
            k = int(best[r, c])
            if k < len(names) - 1:
                s = names[k]
                assert np.float32(float(got["best_capacity_bps"])) == \
                    cov[f"{s}_capacity_bps"][r, c]
                assert np.float32(float(got["best_error_m"])) == cov[f"{s}_error_m"][r, c]
            assert float(got["x_m"]) == pytest.approx(x, abs=0.05)
            lon, lat = to_ll.transform(x, y)
            assert float(got["lon_deg"]) == pytest.approx(lon, abs=1e-6)
            assert float(got["lat_deg"]) == pytest.approx(lat, abs=1e-6)
        # an infeasible pixel: the closest scheme's error, no capacity
        r, c = np.argwhere(best == len(names) - 1)[0]
        got = page.hover("map", *_pixel_centre(transform, r, c))
        lowest = min(cov[f"{s}_error_m"][r, c] for s in names[:-1])
        assert np.float32(float(got["best_error_m"])) == lowest
        assert float(got["best_capacity_bps"]) == 0.0
        # the cells table sorts; its first row is the largest value
        cells = pd.read_csv(a / "cells.csv")
        page.click_header(2, "mean_capacity_bps")
        page.click_header(2, "mean_capacity_bps")
        top = page.first_row(2)
        assert top[0] == cells.loc[cells["mean_capacity_bps"].idxmax(), "cell_id"]
        page.click_header(2, "mean_capacity_bps")
        assert page.first_row(2)[0] == cells.loc[cells["mean_capacity_bps"].idxmin(),
                                                  "cell_id"]
        # the search box filters rows
        page.page.locator("input[placeholder='text in any column']").fill("S3C")
        page.page.wait_for_timeout(200)
        rows = page.page.locator(".bk-DataTable").nth(2).locator(".slick-row")
        texts = [rows.nth(i).locator(".slick-cell").first.inner_text()
                 for i in range(rows.count())]
        assert sorted(texts) == sorted(c for c in cells["cell_id"] if "S3C" in c)
        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def test_comparison_in_the_browser(plans, comparison, browser):
    page = Page(browser, comparison / "report.html")
    try:
        assert page.requests == [] and page.errors == []
        screenshot(page, "compare.png")
        # linked pan and zoom: zooming A zooms B and the difference map
        boxes = {n: page.page.evaluate("""(n) => {
            const f = Bokeh.documents[0].get_model_by_name(n);
            return [f.x_range.start, f.x_range.end]; }""", n) for n in ("map_b", "map_diff")}
        x, y, w, h = page.view_box("map_a")
        page.page.mouse.move(x + w / 2, y + h / 2)
        page.page.mouse.wheel(0, -400)
        page.page.wait_for_timeout(400)
        for n, (lo, hi) in boxes.items():
            lo2, hi2 = page.page.evaluate("""(n) => {
                const f = Bokeh.documents[0].get_model_by_name(n);
                return [f.x_range.start, f.x_range.end]; }""", n)
            assert hi2 - lo2 < 0.95 * (hi - lo), n
        page.page.locator(".bk-Figure").first.evaluate("e => e.scrollIntoView()")
        # the readout over the difference map equals diff.tif
        before = page.map_png("map_diff")
        page.select_layer("map_diff", "capacity change (B - A)")
        assert page.map_png("map_diff") != before
        got_band, transform = read_band(comparison / "diff.tif", "capacity_change_bps")
        change, _ = read_band(comparison / "scheme_change.tif")
        # a pixel still on screen after the zoom: the map's centre
        lo, hi = page.page.evaluate("""() => {
            const f = Bokeh.documents[0].get_model_by_name('map_diff');
            return [[f.x_range.start, f.x_range.end], [f.y_range.start, f.y_range.end]]; }""")
        cx, cy = (lo[0] + lo[1]) / 2, (hi[0] + hi[1]) / 2
        c, r = int((cx - transform.c) / transform.a), int((cy - transform.f) / transform.e)
        x, y = _pixel_centre(transform, r, c)
        got = page.hover("map_diff", x, y)
        assert got["pixel"] == f"{r},{c}"
        if np.isnan(got_band[r, c]):
            assert got["d_capacity_change_bps"] == "NaN"
        else:
            assert np.float32(float(got["d_capacity_change_bps"])) == got_band[r, c]
        assert int(got["d_scheme_change"]) == change[r, c]
        # the moved table sorts: first row the largest area
        moved = pd.read_csv(comparison / "moved.csv")
        page.click_header(0, "n_points")
        page.click_header(0, "n_points")
        top = page.first_row(0)
        i = moved["n_points"].idxmax()
        assert top[:2] == [moved.loc[i, "from_scheme"], moved.loc[i, "to_scheme"]]
        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def test_basemap_is_the_only_request(plans, browser, tmp_path):
    a, _ = plans
    out = tmp_path / "basemap.html"
    res = run("report", str(a), "--out", str(out), "--basemap",
              "https://tiles.invalid/{z}/{x}/{y}.png")
    assert res.exit_code == 0, res.output
    page = Page(browser, out, wait_idle=False)
    try:
        assert page.requests and all(u.startswith("https://tiles.invalid/")
                                     for u in page.requests)
        with rasterio.open(a / "coverage.tif") as src:
            snr, transform = src.read(1), src.transform
        best, _ = read_band(a / "best_scheme.tif")
        r, c = np.argwhere(best != 255)[len(np.argwhere(best != 255)) // 2]
        x, y = _pixel_centre(transform, r, c)
        from pyproj import Transformer

        mx, my = Transformer.from_crs("EPSG:32633", "EPSG:3857", always_xy=True).transform(x, y)
        got = page.hover("map", mx, my)
        assert float(got["x_m"]) == pytest.approx(x, abs=0.05)
        assert float(got["y_m"]) == pytest.approx(y, abs=0.05)
        # nearest reprojection: the value of one of the pixels around the cursor
        near = snr[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        assert np.float32(float(got["snr_db"])) in near
    finally:
        page.close()


def test_a_decimated_report_shows_geotiff_values(plans, browser, tmp_path):
    """Above the size budget every k-th pixel is shown, each one a GeoTIFF value."""
    from ilac_plan.report import write_report

    a, _ = plans
    out = write_report(a, tmp_path / "small.html", budget=60_000)
    text = out.read_text(encoding="utf-8")
    import re

    found = re.search(r"The map shows 1 in (\d+) pixels each way", text)
    assert found, "the page says it is decimated"
    stride = int(found.group(1))
    assert stride > 1
    page = Page(browser, out)
    try:
        assert page.errors == [] and page.requests == []
        with rasterio.open(a / "coverage.tif") as src:
            snr, transform = src.read(1), src.transform
        best, _ = read_band(a / "best_scheme.tif")
        rows, cols = np.nonzero(best[::stride, ::stride] != 255)
        k = len(rows) // 2
        r, c = rows[k] * stride, cols[k] * stride
        # the centre of the displayed (stride x stride) pixel
        x = transform.c + (c + stride / 2) * transform.a
        y = transform.f + (r + stride / 2) * transform.e
        got = page.hover("map", x, y)
        assert got["pixel"] == f"{r},{c}"
        assert np.float32(float(got["snr_db"])) == snr[r, c]
        assert int(got["best_scheme"]) == best[r, c]
    finally:
        page.close()


# -- edges found in review -------------------------------------------------------------------
def test_compare_never_writes_over_another_plan(plans, tmp_path):
    a, b = plans
    victim = tmp_path / "victim"
    shutil.copytree(b, victim)
    before = sorted(p.name for p in victim.iterdir())
    msg = one_line_error(run("compare", str(a), str(b), "--out", str(victim)))
    assert "not a comparison" in msg
    assert sorted(p.name for p in victim.iterdir()) == before


@pytest.mark.parametrize("name", ["coverage.tif", "sites.csv", "report.txt"])
def test_report_never_writes_over_a_plan_file(plans, tmp_path, name):
    a, _ = plans
    copy = tmp_path / "plan"
    shutil.copytree(a, copy)
    target = copy / name
    before = target.read_bytes() if target.exists() else None
    msg = one_line_error(run("report", str(copy), "--out", str(target)))
    assert "--out" in msg
    assert (target.read_bytes() if target.exists() else None) == before


def test_text_ids_plans_without_crs_and_missing_tables(tmp_path):
    """Cell ids that look like numbers stay text (000), a plan in local metres has no
    lon/lat in its readout, and a plan without cells.csv and cdf.csv still reports."""
    sites = tmp_path / "num.csv"
    sites.write_text("cell_id,site_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm,height_m\n"
                     "000,001,0,0,0,8,30,25\n001,001,0,0,120,8,30,25\n"
                     "002,001,0,0,240,8,30,25\n", encoding="utf-8")
    one, two = tmp_path / "one", tmp_path / "two"
    for out, extra in ((one, ["--formats", "-cdf", "-png"]), (two, ["--schemes", "time"])):
        res = run("map", "-q", "--sites", str(sites), "--resolution-m", "25", *extra,
                  "--out", str(out))
        assert res.exit_code == 0, res.output
    res = run("report", str(one))
    assert res.exit_code == 0, res.output
    html = (one / "report.html").read_text(encoding="utf-8")
    assert "Not in this plan's folder: cdf.csv" in html
    res = run("compare", str(one), str(two), "--out", str(tmp_path / "diff"))
    assert res.exit_code == 0, res.output
    cells = pd.read_csv(tmp_path / "diff" / "cell_changes.csv", dtype={"cell_id": str})
    assert sorted(cells["cell_id"]) == ["000", "001", "002"]
    # the union of both plans' columns: B planned no frequency split
    assert cells["frequency_share_b"].isna().all()
    assert cells["frequency_share_a"].notna().all()
    assert "frequency_share_change" in cells.columns


@pytest.mark.parametrize("change,where", [
    (lambda d: (d / "manifest.json").write_text(json.dumps(
        {**json.loads((d / "manifest.json").read_text()), "inputs": None})), "manifest"),
    (lambda d: pd.read_csv(d / "cdf.csv").drop(columns="percentile").to_csv(
        d / "cdf.csv", index=False), "cdf.csv"),
    (lambda d: pd.read_csv(d / "sites.csv").assign(azimuth_deg="north").to_csv(
        d / "sites.csv", index=False), "azimuth_deg"),
    (lambda d: pd.read_csv(d / "cells.csv").drop(columns="cell_id").to_csv(
        d / "cells.csv", index=False), "cells.csv"),
])
def test_malformed_plan_files_are_one_line(plans, tmp_path, change, where):
    a, _ = plans
    copy = tmp_path / "plan"
    shutil.copytree(a, copy)
    (copy / "report.html").unlink()
    change(copy)
    assert where in one_line_error(run("report", str(copy)))
    assert not (copy / "report.html").exists()


def test_infeasible_pixels_show_the_closest_scheme(plans):
    """Where no scheme meets the target, the plan's error is the lowest scheme error (as
    summary.csv and map.png); the difference rasters are defined there too."""
    from ilac_plan.planfolder import read_plan

    a, _ = plans
    plan = read_plan(a)
    infeasible = plan.best_scheme == len(plan.schemes)
    assert infeasible.any()
    errs = np.stack([plan.bands[f"{s}_error_m"] for s in plan.schemes])
    np.testing.assert_array_equal(plan.best_values("error_m")[infeasible],
                                  errs.min(axis=0)[infeasible])
    assert np.all(plan.best_values("capacity_bps")[infeasible] == 0)


def test_formats_take_several_removals_after_one_flag(tmp_path):
    out = tmp_path / "few"
    res = run("map", "-q", *FAST, "--formats", "-cells", "-cdf", "-png", "--out", str(out))
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert "coverage.tif" in names and not {"cells.csv", "cdf.csv", "map.png"} & names
