"""Benchmark of the coverage kernel against two baselines written as a careful user would.

Run:  python benchmarks/bench_kernel.py [--points 1000000] [--cells 16 128 1024]

Every implementation computes the same thing, side by side in one process, for every point
of a 10 km x 10 km grid with omnidirectional cells and free-space path loss:

* link state: the serving cell (highest received power), its distance, the angle off its
  broadside and the SNR;
* full: the link state, then the ``time`` and ``frequency`` schemes at a 1 m target (the
  fewest positioning resources meeting it, by bisection over the plan's candidate splits;
  the capacity at the best integer pilot length, from Eq. 17 and a walk) and the best
  scheme per point.

Implementations:

* numba: ``prange`` over points; the serving search in the linear domain (received
  power w_c / d^2, no log or arctan per point-cell pair); libm for the rest;
* numpy: chunks of points x cells in the linear domain, argmax, then the link state and
  the schemes vectorized over the chunk (bisection in lockstep, the pilot search on a
  window around Eq. 17 and brute force for the points outside it);
* kernel: ``ilac_plan.evaluate(..., antenna="omni")`` with its default pruning.

All run on 2 threads (numpy on one: it has no threads of its own for this) and allocate
their outputs inside the timed call. Times are medians of interleaved repeats; ratios are
the result. The arithmetic floor is the time the kernel's own operation count would take
at the machine's peak (2 vector FP operations per cycle and core, 8 doubles a vector,
divisions and square roots counted as 8 operations); fraction = floor / time.
"""

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

import ilac_plan as ip
from ilac_plan import coverage
from ilac_plan.model import free_space

RADIO = ip.RadioParams()
EXTENT_M = 10_000.0
TARGET_M = 1.0
SCHEMES = ("time", "frequency")
C_M_S = 299792458.0
LN2 = np.log(2.0)


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


def problem(sites):
    """What a user would precompute once: per-cell constants and the plans' candidates."""
    cells = coverage.cell_arrays(sites, RADIO, antenna="omni")
    model = free_space(RADIO.carrier_hz)
    a0 = model.terms[0].intercept_db
    offset, data, _ = coverage._compile_plans(coverage._schemes(SCHEMES, None), RADIO)
    rows = {name: data[k] for k, name in enumerate(coverage.KERNEL_PLAN_ROWS)}
    return {
        "sx": cells["x"], "sy": cells["y"], "ux": cells["ux"], "uy": cells["uy"],
        # received power [mW] = eirp_mw / (10^(a0/10) d^2), the free-space loss's floor
        "w": 10.0 ** ((cells["eirp_dbm"] - a0) / 10.0),
        "floor2": model.min_distance_m ** 2,
        "n_ant": cells["n_antennas"], "ang": cells["information"][0].copy(),
        "dela": cells["information"][2].copy(), "ul_gain": 10.0 ** (cells["ul_offset_db"] / 10),
        "noise_mw": 10.0 ** (RADIO.noise_dbm / 10.0), "n_sym": float(RADIO.n_symbols),
        "offset": offset.astype(np.int64), "share": rows["loc_share"],
        "bw": rows["comm_bandwidth_hz"], "tc": rows["comm_symbols"],
        "pw": rows["comm_power_fraction"], "e": rows["loc_snr_gain"] * rows["loc_symbols"],
        "beta2": rows["loc_beta2"], "t2": TARGET_M ** 2 * (1 + 1e-12),
    }


# ---- numba -------------------------------------------------------------------------------

def make_numba():
    try:
        import numba
    except ImportError:
        return None
    njit = numba.njit(parallel=True, fastmath=False, cache=False, error_model="numpy")
    inline = numba.njit(inline="always", fastmath=False, error_model="numpy")

    @inline
    def frame(tc, k, g, sp):
        q = k * sp
        return (tc - k) * np.log1p(g * q / (1.0 + q))

    @inline
    def best_pilot(tc, n, s, sp):
        if tc <= 1.0:
            return 0.0
        g = n * s / (1.0 + s)
        lam = np.log1p(g)
        guess = np.sqrt(tc * (n * (s / sp) / (1.0 + (n + 1.0) * s)) / lam)   # Eq. (17)
        k = min(max(np.floor(guess + 0.5), 1.0), tc - 1.0) if guess == guess else 1.0
        here = frame(tc, k, g, sp)
        if k < tc - 1.0 and frame(tc, k + 1.0, g, sp) > here:
            while k < tc - 1.0:
                nxt = frame(tc, k + 1.0, g, sp)
                if nxt <= here:
                    break
                k += 1.0
                here = nxt
            return here
        while k > 1.0:
            nxt = frame(tc, k - 1.0, g, sp)
            if nxt < here:
                break
            k -= 1.0
            here = nxt
        return here

    @inline
    def serve(xi, yi, sx, sy, w, floor2):
        best, bc = -1.0, 0
        for c in range(sx.size):
            dx, dy = xi - sx[c], yi - sy[c]
            p = w[c] / max(dx * dx + dy * dy, floor2)
            if p > best:
                best, bc = p, c
        return bc, best

    @njit
    def link_state(x, y, sx, sy, ux, uy, w, floor2, noise_mw, cell, dist, theta, snr):
        for i in numba.prange(x.size):
            c, p = serve(x[i], y[i], sx, sy, w, floor2)
            dx, dy = x[i] - sx[c], y[i] - sy[c]
            phi = np.arctan2(dx * uy[c] - dy * ux[c], dx * ux[c] + dy * uy[c])
            if phi > np.pi / 2:
                phi = np.pi - phi
            elif phi < -np.pi / 2:
                phi = -np.pi - phi
            cell[i] = c
            dist[i] = np.sqrt(dx * dx + dy * dy)
            theta[i] = phi * (180.0 / np.pi)
            snr[i] = 10.0 * np.log10(p / noise_mw)

    @njit
    def full(x, y, sx, sy, ux, uy, w, floor2, noise_mw, n_ant, ang, dela, ul_gain, n_sym,
             offset, share, bw, tc, pw, e, beta2, t2, cell, dist, theta, snr, cap, err, shr,
             best):
        n_plans = offset.size - 1
        for i in numba.prange(x.size):
            c, p = serve(x[i], y[i], sx, sy, w, floor2)
            dx, dy = x[i] - sx[c], y[i] - sy[c]
            fwd, crs = dx * ux[c] + dy * uy[c], dx * uy[c] - dy * ux[c]
            phi = np.arctan2(crs, fwd)
            if phi > np.pi / 2:
                phi = np.pi - phi
            elif phi < -np.pi / 2:
                phi = -np.pi - phi
            r2 = dx * dx + dy * dy
            cos_t = np.cos(phi)
            g_angle = 0.0 if r2 == 0.0 else (r2 / (cos_t * cos_t) if cos_t > 1e-12 else np.inf)
            gamma = p / noise_mw
            sp = gamma * ul_gain[c]
            cell[i], dist[i], theta[i] = c, np.sqrt(r2), phi * (180.0 / np.pi)
            snr[i] = 10.0 * np.log10(gamma)
            a = 0.0 if g_angle == 0.0 else g_angle / (gamma * ang[c])
            b = C_M_S * C_M_S / (gamma * dela[c])
            top, top_cap = -1, -np.inf
            for s in range(n_plans):
                lo, hi = offset[s], offset[s + 1] - 1
                last = hi
                ok = (a / e[last] + b / (e[last] * beta2[last])) <= t2
                if ok:
                    while lo < hi:
                        mid = lo + (hi - lo) // 2
                        if e[mid] > 0 and a / e[mid] + b / (e[mid] * beta2[mid]) <= t2:
                            hi = mid
                        else:
                            lo = mid + 1
                else:
                    lo = last
                j = lo
                crb = a / e[j] + b / (e[j] * beta2[j]) if e[j] > 0 else np.inf
                value = bw[j] / n_sym * best_pilot(tc[j], n_ant[c], gamma * pw[j], sp) / LN2
                cap[s, i] = value if ok else 0.0
                err[s, i] = np.sqrt(crb)
                shr[s, i] = share[j]
                if ok and cap[s, i] > top_cap:
                    top, top_cap = s, cap[s, i]
            best[i] = top

    def run_link(pr, x, y):
        out = (np.empty(x.size, np.int32), np.empty(x.size), np.empty(x.size), np.empty(x.size))
        link_state(x, y, pr["sx"], pr["sy"], pr["ux"], pr["uy"], pr["w"], pr["floor2"],
                   pr["noise_mw"], *out)
        return out

    def run_full(pr, x, y):
        n_p = pr["offset"].size - 1
        out = (np.empty(x.size, np.int32), np.empty(x.size), np.empty(x.size), np.empty(x.size),
               np.empty((n_p, x.size)), np.empty((n_p, x.size)), np.empty((n_p, x.size)),
               np.empty(x.size, np.int16))
        full(x, y, pr["sx"], pr["sy"], pr["ux"], pr["uy"], pr["w"], pr["floor2"],
             pr["noise_mw"], pr["n_ant"], pr["ang"], pr["dela"], pr["ul_gain"], pr["n_sym"],
             pr["offset"], pr["share"], pr["bw"], pr["tc"], pr["pw"], pr["e"], pr["beta2"],
             pr["t2"], *out)
        return out

    return run_link, run_full, numba


# ---- numpy -------------------------------------------------------------------------------

def numpy_link(pr, x, y, chunk=2048):
    """Chunks of points x cells in the linear domain; one thread."""
    n = x.size
    cell, dist = np.empty(n, np.int32), np.empty(n)
    theta, snr, gamma, g_angle = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    sx, sy, w = pr["sx"], pr["sy"], pr["w"]
    buf = np.empty((chunk, sx.size))
    tmp = np.empty((chunk, sx.size))
    for s in range(0, n, chunk):
        xs, ys = x[s:s + chunk], y[s:s + chunk]
        m = xs.size
        d2, t = buf[:m], tmp[:m]
        np.subtract.outer(xs, sx, out=d2)
        np.multiply(d2, d2, out=d2)
        np.subtract.outer(ys, sy, out=t)
        np.multiply(t, t, out=t)
        np.add(d2, t, out=d2)
        np.maximum(d2, pr["floor2"], out=d2)
        np.divide(w, d2, out=d2)
        c = np.argmax(d2, axis=1)
        p = d2[np.arange(m), c]
        dx, dy = xs - sx[c], ys - sy[c]
        ux, uy = pr["ux"][c], pr["uy"][c]
        phi = np.arctan2(dx * uy - dy * ux, dx * ux + dy * uy)
        phi = np.where(phi > np.pi / 2, np.pi - phi, np.where(phi < -np.pi / 2, -np.pi - phi, phi))
        r2 = dx * dx + dy * dy
        cos_t = np.cos(phi)
        with np.errstate(divide="ignore"):
            g_angle[s:s + m] = np.where(r2 == 0.0, 0.0, np.where(cos_t > 1e-12,
                                                                 r2 / cos_t**2, np.inf))
        cell[s:s + m], dist[s:s + m] = c, np.sqrt(r2)
        theta[s:s + m] = np.degrees(phi)
        gamma[s:s + m] = p / pr["noise_mw"]
        snr[s:s + m] = 10.0 * np.log10(gamma[s:s + m])
    return cell, dist, theta, snr, gamma, g_angle


def _numpy_best_pilot(tc, n, s, sp):
    """Eq. (1) at the best integer pilot length, vectorized: a window around Eq. (17),
    brute force where the optimum lies outside it."""
    g = n * s / (1.0 + s)
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.sqrt(tc * (n * (s / sp) / (1.0 + (n + 1.0) * s)) / np.log1p(g))
    k0 = np.clip(np.floor(np.nan_to_num(guess, nan=1.0)), 1.0, np.maximum(tc - 2.0, 1.0))
    ks = k0[:, None] + np.arange(-1.0, 3.0)[None, :]
    valid = (ks >= 1.0) & (ks <= tc[:, None] - 1.0)
    q = ks * sp[:, None]
    f = np.where(valid, (tc[:, None] - ks) * np.log1p(g[:, None] * q / (1.0 + q)), -np.inf)
    at = np.argmax(f[:, 1:3], axis=1) + 1
    rows = np.arange(tc.size)
    best = f[rows, at]
    settled = (f[rows, at - 1] < best) & (f[rows, at + 1] <= best)
    out = np.where(tc <= 1.0, 0.0, best)
    bad = np.flatnonzero(~settled & (tc > 1.0))
    if bad.size:
        kk = np.arange(1.0, tc[bad].max())[None, :]
        q = kk * sp[bad, None]
        fb = np.where(kk <= tc[bad, None] - 1.0,
                      (tc[bad, None] - kk) * np.log1p(g[bad, None] * q / (1.0 + q)), -np.inf)
        out[bad] = fb.max(axis=1)
    return out


def numpy_full(pr, x, y, chunk=65536):
    cell, dist, theta, snr, gamma, g_angle = numpy_link(pr, x, y)
    n, off = x.size, pr["offset"]
    n_p = off.size - 1
    cap, err, shr = np.empty((n_p, n)), np.empty((n_p, n)), np.empty((n_p, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(g_angle == 0.0, 0.0, g_angle / (gamma * pr["ang"][cell]))
        b = C_M_S**2 / (gamma * pr["dela"][cell])
        u = 1.0 / pr["e"]
        v = 1.0 / (pr["e"] * pr["beta2"])
    sp = gamma * pr["ul_gain"][cell]
    for s in range(n_p):
        first, last = off[s], off[s + 1] - 1
        ok = a * u[last] + b * v[last] <= pr["t2"]
        lo = np.where(ok, first, last)
        hi = np.full(n, last)
        for _ in range(int(np.ceil(np.log2(max(last - first + 1, 2))))):
            mid = lo + (hi - lo) // 2
            meets = a * u[mid] + b * v[mid] <= pr["t2"]
            active = lo < hi
            hi = np.where(active & meets, mid, hi)
            lo = np.where(active & ~meets, mid + 1, lo)
        with np.errstate(invalid="ignore"):
            err[s] = np.sqrt(np.where(pr["e"][lo] > 0, a * u[lo] + b * v[lo], np.inf))
        eff = np.empty(n)
        for c0 in range(0, n, chunk):
            sl = slice(c0, c0 + chunk)
            j = lo[sl]
            eff[sl] = _numpy_best_pilot(pr["tc"][j], pr["n_ant"][cell[sl]],
                                        gamma[sl] * pr["pw"][j], sp[sl])
        cap[s] = np.where(ok, pr["bw"][lo] / pr["n_sym"] * eff / LN2, 0.0)
        shr[s] = pr["share"][lo]
    score = np.where(cap > 0, cap, -np.inf)
    best = np.where(np.isfinite(score).any(axis=0), np.argmax(score, axis=0), -1)
    return cell, dist, theta, snr, cap, err, shr, best


# ---- the floor ---------------------------------------------------------------------------

#: Operations per point-cell pair of the linear search (2 sub, 2 mul + add, max, 2 mul,
#: compare, 3 selects), and per point of the link state and of each scheme as the kernel
#: does them (its log, exp and atan as polynomials; divisions and roots counted as 8).
OPS_PAIR = 11
OPS_LINK = 260
OPS_SCHEME = 520


def peak_ops_per_s(threads):
    mhz = 0.0
    try:
        with open("/proc/cpuinfo") as fh:
            mhz = max(float(line.split(":")[1]) for line in fh if line.startswith("cpu MHz"))
    except (OSError, ValueError):
        mhz = 3000.0
    return mhz * 1e6 * 2 * 8 * threads, mhz


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--cells", type=int, nargs="+", default=[16, 128, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    nb = make_numba()
    if nb is None:
        raise SystemExit("bench_kernel needs numba (pip install numba)")
    run_link, run_full, numba = nb
    numba.set_num_threads(args.threads)
    peak, mhz = peak_ops_per_s(args.threads)
    print(f"ilac_plan {ip.__version__}, numba {numba.__version__}, {args.points} points over "
          f"10 km x 10 km, {args.threads} threads, {os.cpu_count()} cores at {mhz:.0f} MHz")
    rows = []
    for n_cells in args.cells:
        sites, x, y = scenario(args.points, n_cells)
        pr = problem(sites)
        impl = {
            "kernel_link": lambda: ip.evaluate(sites, x, y, schemes=(), antenna="omni",
                                               n_threads=args.threads),
            "kernel_full": lambda: ip.evaluate(sites, x, y, schemes=SCHEMES, antenna="omni",
                                               target_error_m=TARGET_M, n_threads=args.threads),
            "numba_link": lambda: run_link(pr, x, y),
            "numba_full": lambda: run_full(pr, x, y),
            "numpy_link": lambda: numpy_link(pr, x, y),
            "numpy_full": lambda: numpy_full(pr, x, y),
        }
        results = {k: f() for k, f in impl.items()}      # warm-up (numba compiles) + checks
        kf, nf, npf = results["kernel_full"], results["numba_full"], results["numpy_full"]
        serving = kf.serving_cell.to_numpy()
        checks = {
            "serving = numba": np.array_equal(serving, nf[0]),
            "serving = numpy": np.array_equal(serving, npf[0]),
            "capacity ~ numba": all(np.allclose(kf[f"{s}_capacity_bps"], nf[4][k], rtol=1e-9,
                                                atol=0) for k, s in enumerate(SCHEMES)),
            "error ~ numba": all(np.allclose(kf[f"{s}_error_m"], nf[5][k], rtol=1e-9, atol=0)
                                 for k, s in enumerate(SCHEMES)),
            "capacity ~ numpy": all(np.allclose(kf[f"{s}_capacity_bps"], npf[4][k],
                                                rtol=1e-9, atol=0)
                                    for k, s in enumerate(SCHEMES)),
            "best = numba": np.array_equal(kf.best_scheme.cat.codes.to_numpy(),
                                           np.where(nf[7] < 0, len(SCHEMES), nf[7])),
        }
        times = {k: [] for k in impl}
        for _ in range(args.repeats):                    # interleaved
            for k, f in impl.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        floor_pairs = args.points * n_cells * OPS_PAIR / peak
        floor_link = args.points * OPS_LINK / peak
        floor_full = floor_link + args.points * len(SCHEMES) * OPS_SCHEME / peak
        row = {"cells": n_cells, **{f"{k}_s": v for k, v in med.items()},
               "link_vs_numba": med["numba_link"] / med["kernel_link"],
               "link_vs_numpy": med["numpy_link"] / med["kernel_link"],
               "full_vs_numba": med["numba_full"] / med["kernel_full"],
               "full_vs_numpy": med["numpy_full"] / med["kernel_full"],
               "full_over_link": med["kernel_full"] / med["kernel_link"],
               "numba_link_floor_frac": (floor_pairs + floor_link) / med["numba_link"],
               "kernel_link_per_point_floor_frac": floor_link / med["kernel_link"],
               "kernel_full_per_point_floor_frac": floor_full / med["kernel_full"],
               "checks_ok": all(checks.values())}
        rows.append(row)
        print(f"\nS = {n_cells} cells (medians of {args.repeats} interleaved repeats)")
        for k in impl:
            print(f"  {k:12s} {med[k] * 1e3:9.1f} ms")
        print(f"  link state: kernel {row['link_vs_numba']:.2f}x numba, "
              f"{row['link_vs_numpy']:.1f}x numpy; both schemes: kernel "
              f"{row['full_vs_numba']:.2f}x numba, {row['full_vs_numpy']:.1f}x numpy; "
              f"kernel full / link {row['full_over_link']:.2f}")
        print(f"  floors: numba link at {100 * row['numba_link_floor_frac']:.0f} % of its "
              f"full-scan floor ({(floor_pairs + floor_link) * 1e3:.1f} ms); kernel at "
              f"{100 * row['kernel_link_per_point_floor_frac']:.0f} % (link) and "
              f"{100 * row['kernel_full_per_point_floor_frac']:.0f} % (full) of its per-point "
              f"floor ({floor_link * 1e3:.1f} / {floor_full * 1e3:.1f} ms)")
        print("  checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in checks.items()))
    print("\n" + pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
