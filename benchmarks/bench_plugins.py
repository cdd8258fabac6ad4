"""Benchmark: plan-form plugin schemes run at kernel speed.

Run:  python benchmarks/bench_plugins.py [--points 1000000] [--cells 57]

Times ``ilac_plan.evaluate`` on the same points and sites with one scheme at a time: the
built-in ``time`` scheme, a third-party plan-form scheme registered in process (the time
split with half the power on positioning), and the installed first-party plugins
``uplink`` and ``tdd`` (plan form) and ``hybrid`` (vectorized, for contrast). The result
is each scheme's time as a ratio to ``time`` measured in the same run.
"""

import argparse
import time

import numpy as np
import pandas as pd

import ilac_plan as ip
from ilac_plan.hookspecs import hookimpl
from ilac_plan.plugins import get_registry
from ilac_plan.schemes import ResourcePlan, Scheme
from ilac_plan.testing import registered


class HalfPowerTime(Scheme):
    name = "half_power_time"
    description = "Time split with half the transmit power on positioning (benchmark plugin)"

    def plan(self, radio):
        k = np.arange(radio.n_symbols + 1.0)
        return ResourcePlan(loc_share=k / radio.n_symbols, comm_bandwidth_hz=radio.bandwidth_hz,
                            comm_symbols=radio.n_symbols - k,
                            loc_bandwidth_hz=radio.bandwidth_hz, loc_symbols=k,
                            loc_power_fraction=0.5)


class BenchPlugin:
    @hookimpl
    def ilac_register_schemes(self, register):
        register(HalfPowerTime())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--cells", type=int, default=57)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    sites = pd.DataFrame({"x_m": rng.uniform(0, 1e4, args.cells),
                          "y_m": rng.uniform(0, 1e4, args.cells),
                          "azimuth_deg": rng.uniform(0, 360, args.cells),
                          "n_antennas": 32, "power_dbm": 30.0})
    x, y = rng.uniform(0, 1e4, args.points), rng.uniform(0, 1e4, args.points)
    installed = get_registry().schemes
    with registered(BenchPlugin(), autoload=True) as reg:
        names = ["time", "half_power_time"] + [s for s in ("uplink", "tdd", "hybrid")
                                                if s in installed]
        times = {}
        for name in names:
            best = np.inf
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                ip.evaluate(sites, x, y, schemes=[name], target_error_m=0.5)
                best = min(best, time.perf_counter() - t0)
            times[name] = best
        print(f"{args.points} points, {args.cells} cells, target 0.5 m, 2 threads, "
              f"best of {args.repeats}")
        for name in names:
            entry = reg.schemes[name]
            print(f"  {name:16s} {entry.obj.kind:10s} {entry.plugin.distribution:24s} "
                  f"{times[name]:7.3f} s  {times[name] / times['time']:5.2f}x time")


if __name__ == "__main__":
    main()
