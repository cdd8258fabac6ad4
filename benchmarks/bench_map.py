"""Benchmark: everything after the kernel, as a ratio to the planning it follows.

Run:  python benchmarks/bench_map.py [--resolution-m 1] [--repeats 3]

Runs ``ilac-plan map`` on the built-in default scenario (19 three-sector sites, 500 m
ISD; 4.3 million points at 1 m) in a fresh process, ``--repeats`` times for each of the
streamed (default) and in-memory pipelines, with the default outputs (COGs, GeoPackage,
GeoJSON, tables, PNG). For each run it reports the process wall time, the planning time
the run measured itself (``manifest.json``: ``plan_time_s``, tiles computed and folded
into the statistics) and their ratio; medians over the repeats. The target of the
pipeline is a ratio of at most 1.5: writing every output costs at most half of what
planning costs.

It also prints the floor of that ratio on this machine: the fresh-process start-up a run
pays before it can plan (interpreter and the modules planning needs), plus GDAL's own
time to build the overviews of the run's ``coverage.tif`` bands and write them as a COG
with the same options (from an uncompressed staging copy, as the pipeline does), both
measured here; no pipeline that writes that COG after planning can do better.

``--baseline /path/to/other/ilac-plan`` also times another installation (say, the
release before this pipeline, installed in its own virtual environment) on the same
command, interleaved with this one, and reports the wall-time ratio.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(exe, out, resolution_m, mode):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [exe, "map", "-q", "--resolution-m", str(resolution_m), f"--{mode}", "--out",
           str(out)]
    if mode == "baseline":
        cmd = [exe, "map", "-q", "--resolution-m", str(resolution_m), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    plan = manifest.get("plan_time_s", manifest.get("run_time_s"))
    return wall, plan, manifest["grid"]["n_points"]


def startup_s(repeats):
    """Median wall time of a fresh interpreter importing what a run needs to plan [s]."""
    code = "import ilac_plan.cli, ilac_plan.planner, ilac_plan.scenario"
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cog_s(coverage_tif, work, repeats):
    """Median time of the pipeline's own COG step (:func:`ilac_plan.exports.cog_from_staging`:
    overviews, then GDAL's COG copy) for ``coverage_tif``'s bands, from an uncompressed
    staging copy as in a run [s]."""
    import rasterio

    from ilac_plan.exports import RasterWriter, cog_from_staging

    block = RasterWriter.BLOCK
    times = []
    for k in range(repeats):
        stage, final = work / f"floor{k}.tif", work / f"floor{k}.cog.tif"
        with rasterio.open(coverage_tif) as src:
            profile = {key: v for key, v in src.profile.items()
                       if key not in ("compress", "predictor", "zstd_level")}
            profile.update(driver="GTiff", tiled=True, blockxsize=block, blockysize=block,
                           interleave="band", bigtiff="IF_SAFER")
            with rasterio.open(stage, "w", **profile) as dst:
                dst.write(src.read())
        t0 = time.perf_counter()
        cog_from_staging(stage, final, block)
        times.append(time.perf_counter() - t0)
        stage.unlink()
        final.unlink()
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution-m", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default=None,
                        help="another ilac-plan executable to time on the same command")
    args = parser.parse_args()
    exe = shutil.which("ilac-plan") or sys.exit("ilac-plan is not installed")
    work = Path(tempfile.mkdtemp(prefix="ilac-bench-map-"))
    try:
        results = {}
        for k in range(args.repeats):          # interleaved, so drifts hit both modes
            for mode in ("stream", "in-memory") + (("baseline",) if args.baseline else ()):
                results.setdefault(mode, []).append(one_run(
                    args.baseline if mode == "baseline" else exe, work / mode,
                    args.resolution_m, mode))
        n = results["stream"][0][2]
        print(f"ilac-plan map, default scenario at {args.resolution_m:g} m: {n:,} points, "
              f"median of {args.repeats}")
        for mode, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            plan = statistics.median(r[1] for r in runs)
            ratio = statistics.median(r[0] / r[1] for r in runs)
            print(f"  {mode:9s} wall {wall:6.2f} s  planning {plan:6.2f} s  "
                  f"wall/planning {ratio:4.2f}  ({n / wall / 1e6:.2f} M points/s end to end)")
        plan = statistics.median(r[1] for r in results["stream"])
        start, cog = startup_s(args.repeats), cog_s(work / "stream" / "coverage.tif", work,
                                                   args.repeats)
        print(f"  floor: start-up {start:.2f} s + planning {plan:.2f} s + COG of the coverage "
              f"bands {cog:.2f} s (GDAL alone): wall/planning >= {(start + plan + cog) / plan:.2f}")
        if args.baseline:
            base = statistics.median(r[0] for r in results["baseline"])
            new = statistics.median(r[0] for r in results["stream"])
            print(f"  baseline wall / this wall: {base / new:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
