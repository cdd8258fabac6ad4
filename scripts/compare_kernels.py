"""Compare the coverage outputs of two installs of ilac_plan on the same scenarios.

Run:  python scripts/compare_kernels.py /path/to/old/checkout   (built in place)

Evaluates eight random scenarios (omni, horizontal and 3-D antennas, both bounds, both
objectives, interference, a two-term model; 30 to 300 cells, 10^5 points each) with the
ilac_plan on PYTHONPATH=OLD and with this one (each in its own process), then prints the
number of points whose serving cell or best scheme differ and, per column, the largest
absolute and relative difference (relative where |value| > 1e-9), and for the errors
the angle off broadside where the relative difference is largest.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np


def scenarios():
    import pandas as pd

    from ilac_plan.model import LogDistanceTerm, PathLossModel
    dual = PathLossModel("dual", (LogDistanceTerm(30.0, 22.0, 0.0, 300.0),
                                  LogDistanceTerm(-20.0, 42.0, 300.0)), min_distance_m=5.0)
    cases = [(0, 30, dict(antenna="omni")), (1, 200, dict(antenna="omni", target_error_m=0.5)),
             (2, 200, dict(antenna="horizontal")),
             (3, 60, dict(antenna="3gpp", bound="achievable")),
             (4, 60, dict(antenna="omni", max_capacity_loss=0.1)),
             (5, 40, dict(antenna="omni", interference=True)),
             (6, 40, dict(antenna="horizontal", interference=True, max_capacity_loss=0.3)),
             (7, 300, dict(antenna="omni", propagation=dual))]
    for seed, n_cells, kw in cases:
        rng = np.random.default_rng(seed)
        sites = pd.DataFrame({
            "x_m": rng.uniform(0, 5e3, n_cells), "y_m": rng.uniform(0, 5e3, n_cells),
            "azimuth_deg": rng.uniform(0, 360, n_cells),
            "n_antennas": rng.integers(1, 65, n_cells), "power_dbm": rng.uniform(0, 46, n_cells),
            "height_m": rng.uniform(0, 30, n_cells), "tilt_deg": rng.uniform(0, 10, n_cells)})
        x, y = rng.uniform(-500, 5500, 100_000), rng.uniform(-500, 5500, 100_000)
        yield seed, sites, x, y, kw


def run(path):
    import ilac_plan as ip
    out = {}
    for seed, sites, x, y, kw in scenarios():
        df = ip.evaluate(sites, x, y, ue_height_m=1.5, **kw)
        for c in df.columns:
            out[f"{seed}:{c}"] = (df[c].cat.codes.to_numpy() if c == "best_scheme"
                                  else df[c].to_numpy())
    np.savez(path, **out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        run(sys.argv[2])
        return
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, root in (("old", sys.argv[1]), ("new", None)):
            env = dict(os.environ)
            if root:
                env["PYTHONPATH"] = os.path.abspath(root)
            path = os.path.join(tmp, f"{name}.npz")
            subprocess.run([sys.executable, os.path.abspath(__file__), "--run", path],
                           check=True, env=env, cwd=tmp)
            files.append(np.load(path))
        old, new = files
        worst = {}
        for key in old.files:
            seed, col = key.split(":")
            a, b = old[key], new[key]
            if col in ("serving_cell", "best_scheme"):
                worst[col] = max(worst.get(col, (0,))[0], int((a != b).sum())),
                continue
            fin = np.isfinite(a)
            if not np.array_equal(fin, np.isfinite(b)):
                print(f"{key}: infinities differ")
            d = np.abs(a[fin] - b[fin])
            rel = np.where(np.abs(a[fin]) > 1e-9, d / np.maximum(np.abs(a[fin]), 1e-300), 0.0)
            at = float(old[f"{seed}:theta_deg"][fin][np.argmax(rel)]) if rel.size else 0.0
            w = worst.get(col, (0.0, 0.0, 0.0))
            worst[col] = (max(w[0], d.max(initial=0.0)), max(w[1], rel.max(initial=0.0)),
                          at if rel.max(initial=0.0) > w[1] else w[2])
        for col, w in sorted(worst.items()):
            if len(w) == 1:
                print(f"{col:26s} {w[0]} points differ")
            else:
                print(f"{col:26s} max abs {w[0]:.3g}, max rel {w[1]:.3g} (at {w[2]:.4f} deg)")


if __name__ == "__main__":
    main()
