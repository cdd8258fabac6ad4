"""Benchmark of network positioning: ``evaluate`` with the fused bound of the K strongest
cells against the same call with the serving cell's bound, in one run.

Run:  python benchmarks/bench_network.py [--points 1000000] [--cells 128] [--k 2 4 8]

The scenario is bench_kernel's (a 10 km x 10 km grid, cells at random positions and
azimuths, free-space path loss), here with the horizontal sector pattern of ``evaluate``'s
default and the ``time`` and ``frequency`` schemes at a 1 m target. Timed, medians of
interleaved repeats on 2 threads, outputs allocated inside the call:

* serving: ``evaluate(...)`` (the baseline: the serving cell's bound);
* network K: ``evaluate(..., positioning="network", n_cells=K, capacity_gain=False)``
  (the K strongest cells found in a second pruned pass, their fused information per
  point, every split searched on it);
* network K + gain: the same with ``capacity_gain=True`` (a second, serving pass for the
  capacity gained);
* numpy reference: ``ilac_plan.network.network_bound`` (the fused bound at one split,
  chunks of points x cells) on a tenth of the points, scaled: what a careful numpy user
  would write for the bound alone, without any split search.

Target (issue 19): network K=4 at most 2x serving at 1e6 points and 128 cells.
"""

import argparse
import statistics
import time

import numpy as np

import ilac_plan as ip
from ilac_plan import kernel
from ilac_plan.network import network_bound

try:
    from bench_kernel import scenario
except ImportError:                      # run from elsewhere
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_kernel import scenario


def timed(fn, repeats):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--cells", type=int, default=128)
    ap.add_argument("--k", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    sites, x, y = scenario(args.points, args.cells)
    common = dict(target_error_m=1.0, n_threads=args.threads)
    calls = {"serving": lambda: ip.evaluate(sites, x, y, **common)}
    for k in args.k:
        calls[f"network K={k}"] = (lambda k=k: ip.evaluate(
            sites, x, y, positioning="network", n_cells=k, capacity_gain=False, **common))
    calls["network K=4 + gain"] = lambda: ip.evaluate(
        sites, x, y, positioning="network", n_cells=4, **common)
    tenth = slice(0, max(1, x.size // 10))
    calls["numpy bound K=4 (x10)"] = lambda: network_bound(
        sites, x[tenth], y[tenth], n_cells=4, n_loc_symbols=1)
    for fn in calls.values():           # warm up
        fn()
    times = {name: [] for name in calls}
    for _ in range(args.repeats):       # interleaved
        for name, fn in calls.items():
            times[name] += timed(fn, 1)
    base = statistics.median(times["serving"])
    print(f"{args.points} points, {args.cells} cells, {kernel.resolve_n_threads(args.threads)}"
          f" threads, medians of {args.repeats}")
    print(f"{'call':28s} {'time':>10s} {'vs serving':>11s}")
    for name, ts in times.items():
        t = statistics.median(ts) * (10 if name.startswith("numpy") else 1)
        print(f"{name:28s} {t * 1e3:8.1f} ms {t / base:10.2f}x")
    ratio = statistics.median(times["network K=4"]) / base if 4 in args.k else float("nan")
    print(f"network K=4 / serving = {ratio:.2f} (target <= 2: "
          f"{'met' if ratio <= 2 else 'NOT met'})")
    same = ip.evaluate(sites, x[:20000], y[:20000], positioning="network", n_cells=4, **common)
    serve = ip.evaluate(sites, x[:20000], y[:20000], **common)
    assert (same.serving_cell.values == serve.serving_cell.values).all()
    assert (same.time_loc_share.values <= serve.time_loc_share.values).all()
    return np.array([ratio])


if __name__ == "__main__":
    main()
