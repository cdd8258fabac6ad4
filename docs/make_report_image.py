"""Redraw docs/images/report.png: the default scenario's report in headless Chromium,
with the readout showing the values under the cursor.

    python docs/make_report_image.py        (needs Debian's chromium and playwright)
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def main():
    from playwright.sync_api import sync_playwright

    out = Path(tempfile.mkdtemp()) / "demo"
    subprocess.run([sys.executable, "-m", "ilac_plan.cli", "map", "-q", "--report",
                    "--out", str(out)], check=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                    args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1320, "height": 860})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                   else r.abort())
        page.goto((out / "report.html").as_uri())
        page.wait_for_function("window.ilacReport && window.ilacReport.ready")
        x, y = page.evaluate("""() => {
            const v = Bokeh.index.find_one(Bokeh.documents[0].get_model_by_name('map'));
            const r = v.canvas_view.el.getBoundingClientRect();
            return [r.left + v.frame.bbox.left + 0.62 * v.frame.bbox.width,
                    r.top + v.frame.bbox.top + 0.42 * v.frame.bbox.height]; }""")
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        page.screenshot(path=str(HERE / "images" / "report.png"))
        browser.close()
    shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
