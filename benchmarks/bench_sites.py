"""Benchmark: validating a site table against packing it for the kernel.

Run:  python benchmarks/bench_sites.py [--cells 100000] [--repeats 5]

``ilac_plan.sites.validate_sites`` checks every value of a table (numbers, ranges,
integers, duplicate ids, EIRP) and reports every problem together; the baseline is the
kernel's own packing of the same validated table (``ilac_plan.coverage.cell_arrays``:
typed, contiguous arrays with their range checks), the least any caller must pay.
Both are timed in the same run, interleaved; medians are reported, with their ratio.
The target: 10^5 cells in under 0.5 s.
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from ilac_plan.coverage import cell_arrays
from ilac_plan.radio import RadioParams
from ilac_plan.sites import validate_sites


def table(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "Cell ID": [f"C{i:06d}" for i in range(n)], "Site ID": [f"S{i // 3:06d}" for i in range(n)],
        "X": rng.uniform(0, 5e4, n), "Y": rng.uniform(0, 5e4, n),
        "Azimuth (deg)": rng.uniform(0, 360, n), "Antennas": rng.choice([8, 16, 32], n),
        "Tx Power (dBm)": rng.uniform(20, 46, n), "Antenna Gain (dBi)": rng.uniform(0, 18, n),
        "Antenna Height (m)": rng.uniform(10, 60, n), "Mechanical Tilt (deg)": 4.0})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    raw = table(args.cells)
    radio = RadioParams()
    clean = validate_sites(raw, warn=False)
    t_val, t_pack = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        validate_sites(raw, warn=False)
        t1 = time.perf_counter()
        cell_arrays(clean, radio)
        t2 = time.perf_counter()
        t_val.append(t1 - t0)
        t_pack.append(t2 - t1)
    v, p = statistics.median(t_val), statistics.median(t_pack)
    print(f"{args.cells:,} cells, median of {args.repeats}:")
    print(f"  validate_sites          {v * 1e3:8.1f} ms")
    print(f"  kernel packing (base)   {p * 1e3:8.1f} ms")
    print(f"  validation / packing    {v / p:8.2f}")


if __name__ == "__main__":
    main()
