"""Benchmark: the cost of the bound, antenna and wrap-around options in the kernel.

Run:  python benchmarks/bench_bounds.py [--points 1000000] [--cells 128] [--repeats 3]

One process, one scenario (random three-sector sites with heights over 10 km x 10 km),
``ilac_plan.evaluate`` with both built-in schemes on 2 threads. Every variant is reported
as a ratio to the baseline measured in the same run: the paper's bound with the
horizontal antenna cut (what earlier releases computed). Then the 3GPP wrap-around with
interference on a 57-cell hexagonal layout: each cell through its nearest image (one
kernel cell per cell, 7 distance evaluations each) against the seven-copies layout it
replaces (399 kernel cells). Times are the best of ``--repeats`` runs.
"""

import argparse

import numpy as np
import pandas as pd
from bench_kernel import best_time     # benchmarks/ is on the path when run as a script

import ilac_plan as ip
from ilac_plan.layouts import hexagonal_layout, wrap_around, wrap_shifts_m


def scenario(n_points, n_cells, seed=0):
    rng = np.random.default_rng(seed)
    n_sites = max(1, n_cells // 3)
    sx, sy = rng.uniform(0, 1e4, n_sites), rng.uniform(0, 1e4, n_sites)
    first = rng.uniform(0, 120, n_sites)
    sites = pd.DataFrame({
        "x_m": np.repeat(sx, 3), "y_m": np.repeat(sy, 3),
        "azimuth_deg": (np.repeat(first, 3) + np.tile([0, 120, 240], n_sites)) % 360,
        "n_antennas": 8, "power_dbm": 43.0, "height_m": np.repeat(rng.uniform(15, 40, n_sites), 3),
        "electrical_tilt_deg": rng.uniform(2, 8, 3 * n_sites)})
    tilted = sites.assign(tilt_deg=rng.uniform(1, 6, 3 * n_sites))
    x, y = rng.uniform(0, 1e4, n_points), rng.uniform(0, 1e4, n_points)
    return sites, tilted, x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--cells", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sites, tilted, x, y = scenario(args.points, args.cells)
    kw = dict(target_error_m=1.0, ue_height_m=1.5, n_threads=2)
    variants = {
        "paper bound, horizontal antenna (baseline)": (sites, dict(antenna="horizontal")),
        "achievable bound, horizontal": (sites, dict(antenna="horizontal", bound="achievable")),
        "achievable, equal EPRE, beamformed": (sites, dict(antenna="horizontal",
                                                           bound="achievable", epre="equal",
                                                           dl_prs="beamformed")),
        "3gpp antenna, no mechanical tilt": (sites, dict(antenna="3gpp")),
        "3gpp antenna, mechanical tilts (coarser pruning)": (tilted, dict(antenna="3gpp")),
        "3gpp antenna + achievable bound": (tilted, dict(antenna="3gpp", bound="achievable")),
    }
    print(f"ilac_plan {ip.__version__}: {args.points} points, {len(sites)} cells, "
          "evaluate with time and frequency, 2 threads")
    ip.evaluate(sites, x[:2000], y[:2000], **kw)      # warm-up
    base = None
    for name, (table, extra) in variants.items():
        t = best_time(lambda: ip.evaluate(table, x, y, **kw, **extra), args.repeats)
        base = t if base is None else base
        print(f"  {name:<50s} {t:7.3f} s   {t / base:5.2f}x")
    hexa = hexagonal_layout(isd_m=500.0, rings=2)
    copies = wrap_around(hexa, 500.0, 2)
    shifts = wrap_shifts_m(500.0, 2)
    rng = np.random.default_rng(1)
    n = max(args.points // 4, 1000)
    hx, hy = rng.uniform(-1500, 1500, n), rng.uniform(-1500, 1500, n)
    wkw = dict(kw, interference=True)
    t_copies = best_time(lambda: ip.evaluate(copies, hx, hy, **wkw), args.repeats)
    t_near = best_time(lambda: ip.evaluate(hexa, hx, hy, wrap_shifts_m=shifts, **wkw),
                       args.repeats)
    near = ip.evaluate(hexa, hx, hy, wrap_shifts_m=shifts, **wkw)
    old = ip.evaluate(copies, hx, hy, **wkw)
    inner = np.hypot(hx, hy) < 1000.0
    print(f"wrap-around, 57 cells, interference, {n} points:")
    print(f"  seven copies (399 cells, the old way)      {t_copies:7.3f} s   1.00x")
    print(f"  nearest image (57 cells x 7 images)        {t_near:7.3f} s   "
          f"{t_near / t_copies:5.2f}x")
    print(f"  mean SINR, nearest image minus seven copies (within 1 km of the centre): "
          f"{float((near.snr_db - old.snr_db)[inner].mean()):.2f} dB")


if __name__ == "__main__":
    main()
