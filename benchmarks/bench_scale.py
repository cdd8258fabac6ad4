"""Benchmark: a whole city at metre resolution, on one machine and on a Dask LocalCluster.

Run:  python benchmarks/bench_scale.py [--side-m 10000] [--resolution-m 1] [--engines local dask]

Plans a ``side x side`` square (default 10 km x 10 km at 1 m: 10^8 points) covered by the
default hexagonal layout (three-sector sites at 500 m, the paper's radio), with
``ilac-plan map`` in a fresh process per engine, and reports the wall time, points per
second and the peak resident memory of the process (``/usr/bin/time``; for the dask
engine the workers are separate processes, see the note printed). Outputs (GeoTIFF,
regions, summary, PNG) are written and streamed in bounded memory.
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def scenario_text(side_m, resolution_m, isd_m=500.0):
    rings = math.ceil((side_m / 2 * math.sqrt(2)) / (isd_m * math.sqrt(3) / 2)) + 1
    half = side_m / 2
    return (f'name = "bench {side_m:g} m square at {resolution_m:g} m"\n'
            f"[sites.hexagonal]\nisd_m = {isd_m}\nrings = {rings}\n"
            f'[area]\nwkt = "POLYGON (({-half} {-half}, {half} {-half}, {half} {half}, '
            f'{-half} {half}, {-half} {-half}))"\n'
            f"[grid]\nresolution_m = {resolution_m}\nmax_points = 200000000\ntile_px = 1024\n")


def run(cmd):
    timer = shutil.which("time") and Path("/usr/bin/time").exists()
    full = (["/usr/bin/time", "-f", "%e %M"] if timer else []) + cmd
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    peak_mb = None
    if timer:
        m = re.search(r"([\d.]+) (\d+)\s*$", proc.stderr.strip())
        if m:
            peak_mb = int(m.group(2)) / 1024
    return wall, peak_mb, proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side-m", type=float, default=10_000.0)
    parser.add_argument("--resolution-m", type=float, default=1.0)
    parser.add_argument("--engines", nargs="+", default=["local", "dask"])
    parser.add_argument("--workdir", default=None, help="where outputs go (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ilac-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "city.toml").write_text(scenario_text(args.side_m, args.resolution_m))
    exe = shutil.which("ilac-plan") or sys.exit("ilac-plan is not installed")
    n_points = (args.side_m / args.resolution_m) ** 2
    print(f"{n_points:.3g} points: {args.side_m:g} m square at {args.resolution_m:g} m, "
          f"{os.cpu_count()} CPUs")
    times = {}
    for engine in args.engines:
        out = work / f"out-{engine}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [exe, "map", "-q", "--scenario", str(work / "city.toml"), "--out", str(out),
               "--engine", engine, "--stream"]
        if engine == "dask":
            cmd += ["--workers", "2"]
        wall, peak, _ = run(cmd)
        times[engine] = wall
        mem = f"{peak:,.0f} MB peak RSS" if peak else "peak RSS not measured"
        extra = " (client process; 2 worker processes)" if engine == "dask" else ""
        print(f"  {engine:6s} {wall:8.1f} s  {n_points / wall / 1e6:6.2f} M points/s  "
              f"{mem}{extra}")
    if "local" in times and "dask" in times:
        print(f"  LocalCluster / local time ratio: {times['dask'] / times['local']:.2f}")
    print(f"outputs in {work}")


if __name__ == "__main__":
    main()
