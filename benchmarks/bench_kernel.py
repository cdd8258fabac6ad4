"""Benchmark of the coverage kernel: serving cell and link state for many points.

Run:  python benchmarks/bench_kernel.py [--points 1000000] [--cells 16 128 1024]

All implementations compute the same thing, side by side in one process: for every point
of a 10 km x 10 km grid, the serving cell (highest received power, free-space path loss
and the TR 38.901 sector pattern), its distance, the angle off its broadside and the SNR.

* numpy:  the straightforward version, (points x cells) arrays in chunks, one thread;
* numba:  a ``prange`` loop over points, each scanning every cell (if numba is installed);
* kernel: ``ilac_plan.evaluate(..., schemes=())``, full scan and with 2-D tile pruning,
  on 1 and 2 threads; and the whole evaluation with both schemes.

Times are the best of a few runs; the numpy time is measured on a slice of the points
and scaled (its cost is linear in the points). Ratios are the result, not seconds.
Peak memory is what the Python allocator tracks (numpy buffers) beyond the outputs.
"""

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

import ilac_plan as ip
from ilac_plan.model import free_space
from ilac_plan.model.antenna import BEAMWIDTH_DEG, FRONT_TO_BACK_DB

RADIO = ip.RadioParams()
EXTENT_M = 10_000.0


def scenario(n_points, n_cells, seed=0):
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n_points)))
    g = (np.arange(side) + 0.5) * EXTENT_M / side
    x, y = np.meshgrid(g, g)
    sites = pd.DataFrame({"x_m": rng.uniform(0, EXTENT_M, n_cells),
                          "y_m": rng.uniform(0, EXTENT_M, n_cells),
                          "azimuth_deg": rng.uniform(0, 360, n_cells),
                          "n_antennas": 8, "power_dbm": 43.0})
    return sites, x.ravel(), y.ravel()


def numpy_serving(sites, x, y, chunk=4096):
    """Straightforward numpy: every (point, cell) pair, argmax per point."""
    pl = free_space(RADIO.carrier_hz)
    sx, sy = sites.x_m.to_numpy(), sites.y_m.to_numpy()
    az = np.deg2rad(sites.azimuth_deg.to_numpy())
    ux, uy, eirp = np.sin(az), np.cos(az), sites.power_dbm.to_numpy()
    k = 12.0 / np.deg2rad(BEAMWIDTH_DEG) ** 2
    serving = np.empty(x.size, np.int64)
    snr = np.empty(x.size)
    for s in range(0, x.size, chunk):
        dx = x[s:s + chunk, None] - sx
        dy = y[s:s + chunk, None] - sy
        d = np.sqrt(dx * dx + dy * dy)
        phi = np.arctan2(dx * uy - dy * ux, dx * ux + dy * uy)
        rx = eirp - pl.path_loss_db(d) - np.minimum(k * phi * phi, FRONT_TO_BACK_DB)
        best = np.argmax(rx, axis=1)
        serving[s:s + chunk] = best
        snr[s:s + chunk] = rx[np.arange(best.size), best] - RADIO.noise_dbm
    return serving, snr


def make_numba():
    try:
        import numba
    except ImportError:
        return None
    a0 = free_space(RADIO.carrier_hz).terms[0].intercept_db
    k = 12.0 / np.deg2rad(BEAMWIDTH_DEG) ** 2
    a_max, noise = FRONT_TO_BACK_DB, RADIO.noise_dbm

    @numba.njit(parallel=True, fastmath=False, cache=False)
    def serving(x, y, sx, sy, ux, uy, eirp, out_cell, out_snr):
        for i in numba.prange(x.size):
            best, best_c = -np.inf, 0
            for c in range(sx.size):
                dx, dy = x[i] - sx[c], y[i] - sy[c]
                d = max(np.sqrt(dx * dx + dy * dy), 1.0)
                phi = np.arctan2(dx * uy[c] - dy * ux[c], dx * ux[c] + dy * uy[c])
                rx = eirp[c] - (a0 + 20.0 * np.log10(d)) - min(k * phi * phi, a_max)
                if rx > best:
                    best, best_c = rx, c
            out_cell[i] = best_c
            out_snr[i] = best - noise

    def run(sites, x, y):
        az = np.deg2rad(sites.azimuth_deg.to_numpy())
        cell, snr = np.empty(x.size, np.int64), np.empty(x.size)
        serving(x, y, sites.x_m.to_numpy(), sites.y_m.to_numpy(), np.sin(az), np.cos(az),
                sites.power_dbm.to_numpy(), cell, snr)
        return cell, snr

    return run, numba


def best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_extra_mb(fn):
    tracemalloc.start()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    outputs = out.memory_usage(deep=True).sum()
    return (peak - outputs) / 1e6, outputs / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--cells", type=int, nargs="+", default=[16, 128, 1024])
    parser.add_argument("--numpy-points", type=int, default=100_000,
                        help="points for the (slow) numpy run, scaled to --points")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    numba_run = make_numba()
    print(f"ilac_plan {ip.__version__}, {args.points} points over 10 km x 10 km; "
          f"numba {'%s' % numba_run[1].__version__ if numba_run else 'not installed'}")
    rows = []
    for n_cells in args.cells:
        sites, x, y = scenario(args.points, n_cells)
        sub = slice(0, args.numpy_points)
        t_numpy = best_time(lambda: numpy_serving(sites, x[sub], y[sub]), 1) * x.size / \
            x[sub].size

        def kern(threads, prune, schemes=()):
            return lambda: ip.evaluate(sites, x, y, schemes=schemes, n_threads=threads,
                                       prune=prune)

        ip.evaluate(sites, x[:1000], y[:1000], schemes=())  # warm-up
        t_full1 = best_time(kern(1, False), args.repeats)
        t_full2 = best_time(kern(2, False), args.repeats)
        t_prune1 = best_time(kern(1, True), args.repeats)
        t_prune2 = best_time(kern(2, True), args.repeats)
        t_all2 = best_time(kern(2, None, None), args.repeats)
        ref = ip.evaluate(sites, x[sub], y[sub], schemes=(), prune=False)
        np_cell, _ = numpy_serving(sites, x[sub], y[sub])
        agree = np.mean(ref.serving_cell.to_numpy() == np_cell)
        row = {"cells": n_cells, "numpy_s": t_numpy, "kernel_full_1t_s": t_full1,
               "kernel_full_2t_s": t_full2, "kernel_pruned_1t_s": t_prune1,
               "kernel_pruned_2t_s": t_prune2, "evaluate_2t_s": t_all2,
               "serving_agreement": agree}
        if numba_run:
            run, numba = numba_run
            numba.set_num_threads(2)
            run(sites, x[:1000], y[:1000])  # compile
            row["numba_2t_s"] = best_time(lambda: run(sites, x, y), args.repeats)
            row["numba_agreement"] = np.mean(run(sites, x[sub], y[sub])[0] == np_cell)
        row["extra_peak_mb"], row["outputs_mb"] = peak_extra_mb(kern(2, True))
        rows.append(row)
        print(f"\nS = {n_cells} cells")
        print(f"  numpy (1 thread)            {t_numpy:8.3f} s")
        if numba_run:
            print(f"  numba prange (2 threads)    {row['numba_2t_s']:8.3f} s")
        print(f"  kernel full scan, 1 thread  {t_full1:8.3f} s")
        print(f"  kernel full scan, 2 threads {t_full2:8.3f} s   {t_numpy / t_full2:7.1f}x numpy"
              + (f"   {row['numba_2t_s'] / t_full2:5.2f}x numba" if numba_run else "")
              + f"   {t_full1 / t_full2:4.2f}x 1 thread")
        print(f"  kernel pruned, 1 thread     {t_prune1:8.3f} s")
        print(f"  kernel pruned, 2 threads    {t_prune2:8.3f} s   {t_numpy / t_prune2:7.1f}x numpy"
              + (f"   {row['numba_2t_s'] / t_prune2:5.2f}x numba" if numba_run else "")
              + f"   {t_full2 / t_prune2:4.2f}x full scan   {t_prune1 / t_prune2:4.2f}x 1 thread")
        print(f"  evaluate with both schemes  {t_all2:8.3f} s (2 threads, default pruning)")
        print(f"  peak memory beyond the outputs: {row['extra_peak_mb']:.1f} MB "
              f"(outputs {row['outputs_mb']:.1f} MB); serving cell identical to numpy on "
              f"{100 * agree:.4f} % of points"
              + (f", numba {100 * row['numba_agreement']:.4f} %" if numba_run else ""))
    print("\n" + pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
