"""Size and load time of the interactive report of the default scenario.

Plans the built-in default scenario (``ilac-plan map``), writes its report, and opens it
in headless Chromium (Debian's ``chromium``, through playwright) with every request that
would leave the file blocked, ``--repeats`` times, interleaved with the baseline: a
standalone Bokeh page with the same inlined library and one empty figure, the floor any
Bokeh report pays. Reported: the report's size (target < 15 MB), the time from
navigation to the document being idle with the derived layers built (target < 3 s), and
that time as a ratio to the baseline's.

    python benchmarks/bench_report.py [--repeats 5] [--out OUT_FOLDER]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def baseline_page(path):
    from bokeh.embed import file_html
    from bokeh.models import CustomJS, DataTable, Div, Select, TableColumn
    from bokeh.layouts import column
    from bokeh.document import Document
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    doc = Document()
    fig = figure(width=400, height=300)
    fig.line([0, 1], [0, 1])
    # the same bundles as the report: core, widgets, tables
    doc.add_root(column(fig, Select(options=["a"]), Div(text="x"),
                        DataTable(columns=[TableColumn(field="a")])))
    doc.js_on_event("document_ready", CustomJS(code="window.ilacReport = {ready: true};"))
    Path(path).write_text(file_html(doc, INLINE, "baseline"), encoding="utf-8")


def load_time(browser, path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(Path(path).resolve().as_uri())
    page.wait_for_function("window.ilacReport && window.ilacReport.ready", timeout=60000)
    dt = time.perf_counter() - t0
    ctx.close()
    if blocked:
        raise SystemExit(f"{path} made network requests: {blocked[:3]}")
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None, help="plan folder (default: a temporary one)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    out = Path(args.out) if args.out else work / "demo"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ilac_plan.cli", "map", "-q", "--out", str(out)],
                   check=True)
    t_map = time.perf_counter() - t0
    from ilac_plan.report import write_report

    t0 = time.perf_counter()
    report = write_report(out)
    t_write = time.perf_counter() - t0
    base = work / "baseline.html"
    baseline_page(base)
    times, floor = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox"])
        load_time(browser, report)              # warm the disk cache for both
        load_time(browser, base)
        for _ in range(args.repeats):
            times.append(load_time(browser, report))
            floor.append(load_time(browser, base))
        browser.close()
    size = report.stat().st_size / 1e6
    med, fl = statistics.median(times), statistics.median(floor)
    print(f"default scenario: map {t_map:.1f} s, report written in {t_write:.2f} s")
    print(f"report.html: {size:.2f} MB (target < 15 MB), baseline page "
          f"{base.stat().st_size / 1e6:.2f} MB")
    print(f"load to idle: median {med:.2f} s over {args.repeats} (min {min(times):.2f}, "
          f"max {max(times):.2f}; target < 3 s); baseline {fl:.2f} s; ratio {med / fl:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
