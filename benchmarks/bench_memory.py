"""Peak memory of ``ilac-plan map``, streamed and in memory, against the grid size.

    python benchmarks/bench_memory.py [--points 2e7 5e7] [--modes stream in-memory]

Each run is a fresh process on the built-in default scenario, at the resolution that
gives the asked number of pixel centres in its area; its peak resident set size is read
from ``wait4`` (the kernel's own account, children included). Reported: points, mode,
wall time, peak RSS, and bytes per point, against the documented bound of
:data:`ilac_plan.inputs.MEMORY_BUDGET_BYTES`.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

def default_area_m2():
    """The area of the default scenario's planning area [m^2]."""
    from ilac_plan.scenario import default_scenario, to_inputs

    return to_inputs(default_scenario()).area.area


def run(points, mode, area_m2, out_root, max_memory_gb=None):
    res = math.sqrt(area_m2 / points)
    out = os.path.join(out_root, f"{mode}-{points:.0e}")
    exe = shutil.which("ilac-plan") or "ilac-plan"
    args = [exe, "map", "-q", "--resolution-m", f"{res:.6f}", "--max-points",
            str(int(points * 1.6)), f"--{mode}", "--out", out]
    if max_memory_gb:
        args += ["--max-memory-gb", str(max_memory_gb)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    shutil.rmtree(out, ignore_errors=True)
    return code, err.strip(), wall, usage.ru_maxrss * 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, nargs="+", default=[2e7, 5e7])
    ap.add_argument("--modes", nargs="+", default=["stream", "in-memory"])
    ap.add_argument("--max-memory-gb", type=float, default=None,
                    help="Raise the bound, to measure in-memory runs above it.")
    args = ap.parse_args(argv)
    from ilac_plan.inputs import MEMORY_BUDGET_BYTES

    area_m2 = default_area_m2()
    print(f"budget {MEMORY_BUDGET_BYTES / 2**30:.2f} GiB; default area {area_m2:.4g} m^2")
    print(f"{'points':>10} {'mode':>10} {'wall_s':>8} {'peak_GiB':>9} {'B/point':>8}  result")
    with tempfile.TemporaryDirectory(prefix="ilac-mem-") as root:
        for n in args.points:
            for mode in args.modes:
                code, err, wall, peak = run(n, mode, area_m2, root, args.max_memory_gb)
                tail = "ok" if code == 0 else f"exit {code}: {err[-160:]}"
                print(f"{n:10.3g} {mode:>10} {wall:8.1f} {peak / 2**30:9.2f} "
                      f"{peak / n:8.1f}  {tail}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
