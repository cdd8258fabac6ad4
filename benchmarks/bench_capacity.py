"""Benchmark: Eq. (1) at the best integer pilot length, kernel against the numpy model.

Run:  python benchmarks/bench_capacity.py [--points 200000]

Both run in this process on the same random links; the numpy model searches every pilot
length by brute force, the kernel searches the unimodal sequence. Ratios, not absolute
times, are the result.
"""

import argparse
import time

import numpy as np

from ilac_plan import kernel
from ilac_plan.model import capacity


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.points
    links = dict(n_antennas=rng.integers(1, 257, n), snr_dl=10 ** rng.uniform(-1, 4, n),
                 snr_ul=10 ** rng.uniform(-1, 4, n))
    tau_c = rng.integers(0, 201, n)
    chunk = slice(0, min(n, 20_000))  # the brute force needs (tau_C x n) memory: a slice
    small = {k: v[chunk] for k, v in links.items()}
    t_numpy = best_of(lambda: capacity.best_pilot_capacity(1e6, tau_c[chunk], **small), 1)
    t_numpy *= n / (chunk.stop - chunk.start)
    t1 = best_of(lambda: kernel.best_pilot_capacity(1e6, tau_c, n_threads=1, **links))
    t2 = best_of(lambda: kernel.best_pilot_capacity(1e6, tau_c, n_threads=2, **links))
    print(f"{n} links, best integer pilot length (Eq. 1)")
    print(f"  numpy brute force   {t_numpy:8.3f} s   1.0x")
    print(f"  kernel, 1 thread    {t1:8.3f} s   {t_numpy / t1:6.1f}x")
    print(f"  kernel, 2 threads   {t2:8.3f} s   {t_numpy / t2:6.1f}x   ({t1 / t2:.2f}x 1 thread)")


if __name__ == "__main__":
    main()
