"""Statistics of a plan, accumulated tile by tile in bounded memory.

Every sink (the in-memory :class:`~ilac_plan.planner.PlanResult` and the streamed
files) uses this one module, so their tables are identical, digit for digit.

Percentiles use the inverted-CDF definition (the smallest value at or below which ``q``
per cent of the planned area lies; ``q = 0`` is the minimum) on fixed histogram bins,
and report the upper edge of the bin that holds that value: relative resolution
:data:`REL_STEP` for capacity and error, 0.01 dB for SNR, 1e-5 for positioning
shares. Counts are integers and means are sums in tile order, so neither depends on
the order tiles finish in, the engine or the number of threads.

A tile's statistics (:func:`tile_statistics`) are computed where the tile is computed
(a pool thread or a Dask worker) and are small: sparse bin counts and a few sums.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Relative width of the capacity and error bins.
REL_STEP = 1e-4
#: Percentiles written to ``cdf.csv``.
CDF_PERCENTILES = tuple(range(101))


class Bins:
    """Fixed bins on a linear or log10 scale.

    Bin 0 holds values at or below ``lo`` (reported as ``under``), bins ``1..n`` hold
    ``(edge[k-1], edge[k]]`` and bin ``n + 1`` values above ``hi`` (``over``).
    """

    def __init__(self, lo, hi, step, log, under, over):
        self.lo, self.step, self.log = lo, step, log
        self.n = int(math.ceil((hi - lo) / step))
        self.size = self.n + 2
        self.under, self.over = under, over

    def index(self, values):
        """Bin of each value (int64); NaN goes to the ``under`` bin."""
        v = np.asarray(values, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.log10(v) if self.log else v.copy()
            f -= self.lo
            f *= 1.0 / self.step
            np.ceil(f, out=f)
        np.nan_to_num(f, copy=False, nan=0.0, neginf=0.0, posinf=self.n + 1)
        np.clip(f, 0, self.n + 1, out=f)
        return f.astype(np.int64)

    def value(self, k):
        """The reported value of bins ``k``: their upper edges."""
        k = np.asarray(k)
        edge = self.lo + k * self.step
        v = 10.0 ** edge if self.log else edge
        return np.where(k <= 0, self.under, np.where(k > self.n, self.over, v))


CAP = Bins(0.0, 12.0, math.log10(1 + REL_STEP), True, 0.0, np.inf)        # [bit/s]
ERR = Bins(-9.0, 7.0, math.log10(1 + REL_STEP), True, 1e-9, np.inf)       # [m]
SHARE = Bins(0.0, 1.0, 1e-5, False, 0.0, np.inf)                          # [fraction]
SNR = Bins(-150.0, 250.0, 0.01, False, -np.inf, np.inf)                   # [dB]
#: Error bins of the per-cell statistics: ERR bins merged by this factor (relative 1e-3).
CELL_ERR_MERGE = 10


CELL_ERR_SIZE = -(-(ERR.n + 1) // CELL_ERR_MERGE) + 1


def _cell_err_value(k):
    """Reported value of per-cell error bins ``k`` (ERR bins ``(k-1)M+1 .. kM``): the
    upper edge of the last."""
    return ERR.value(np.minimum(np.asarray(k) * CELL_ERR_MERGE, ERR.n + 1))


def sparse_counts(keys, size):
    """``(index, count)`` of the non-zero counts of ``keys`` in ``range(size)``."""
    if keys.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if size <= 8 * keys.size + (1 << 20):
        counts = np.bincount(keys, minlength=size)
        idx = np.flatnonzero(counts)
        return idx, counts[idx]
    idx, counts = np.unique(keys, return_counts=True)
    return idx, counts.astype(np.int64)


@dataclass
class TileStats:
    """The statistics of one tile (small: sparse counts and sums)."""

    index: int
    n_points: int
    scheme_hist: dict          # quantity -> (idx, count) over n_schemes * bins.size
    class_hist: dict           # quantity -> (idx, count) over n_classes * bins.size
    scheme_sums: np.ndarray    # (n_schemes, 2): capacity, loc share
    class_sums: np.ndarray     # (n_classes, 3): count, capacity, loc share
    cell_idx: np.ndarray       # cells served in the tile
    cell_class: np.ndarray     # (n_local, n_classes) counts
    cell_cap: np.ndarray       # (n_local,) capacity sums of the best scheme
    cell_snr: tuple            # (global key = cell * SNR.size + bin, count)
    cell_err: tuple            # (global key = cell * CELL_ERR_SIZE + bin, count)


def best_values(code, caps, errs, shares):
    """Capacity, error and positioning share of the plan at each point.

    Where a scheme is best (``code < n_schemes``) its values; where none meets the
    objective (infeasible): capacity 0, and the error and share of the scheme that
    comes closest (the lowest error).
    """
    n_s = caps.shape[0]
    idx = np.arange(code.size)
    feasible = code < n_s
    closest = np.argmin(errs, axis=0) if n_s else np.zeros(code.size, np.int64)
    k = np.where(feasible, code, closest)
    cap = np.where(feasible, caps[k, idx], 0.0)
    return cap, errs[k, idx], shares[k, idx], k


def tile_statistics(index, arrays, schemes, n_cells):
    """The :class:`TileStats` of a computed tile (``arrays`` as made by the engine)."""
    mask = arrays["mask"]
    n_s = len(schemes)
    n_c = n_s + 1
    code = arrays["best_scheme"][mask].astype(np.int64)
    cell = arrays["serving_cell"][mask].astype(np.int64)
    caps = np.stack([arrays[f"{s}_capacity_bps"][mask] for s in schemes])
    errs = np.stack([arrays[f"{s}_error_m"][mask] for s in schemes])
    shares = np.stack([arrays[f"{s}_loc_share"][mask] for s in schemes])
    n = code.size
    kb = {"capacity": CAP.index(caps), "error": ERR.index(errs), "loc_share": SHARE.index(shares)}
    sizes = {"capacity": CAP.size, "error": ERR.size, "loc_share": SHARE.size}
    offsets = np.arange(n_s, dtype=np.int64)[:, None]
    scheme_hist = {q: sparse_counts((kb[q] + offsets * sizes[q]).ravel(), n_s * sizes[q])
                   for q in kb}
    cap_b, err_b, share_b, k = best_values(code, caps, errs, shares)
    idx = np.arange(n)
    best_bins = {"capacity": np.where(code < n_s, kb["capacity"][k, idx], 0),
                 "error": kb["error"][k, idx], "loc_share": kb["loc_share"][k, idx]}
    class_hist = {q: sparse_counts(best_bins[q] + code * sizes[q], n_c * sizes[q])
                  for q in best_bins}
    scheme_sums = np.column_stack([caps.sum(axis=1, dtype=np.float64),
                                   shares.sum(axis=1, dtype=np.float64)]) if n_s else \
        np.zeros((0, 2))
    class_sums = np.column_stack([np.bincount(code, minlength=n_c).astype(np.float64),
                                  np.bincount(code, weights=cap_b, minlength=n_c),
                                  np.bincount(code, weights=share_b, minlength=n_c)])
    # per cell: local indices of the cells present in the tile
    present = np.bincount(cell, minlength=n_cells) if n else np.zeros(n_cells, np.int64)
    cell_idx = np.flatnonzero(present)
    local_of = np.zeros(n_cells, np.int64)
    local_of[cell_idx] = np.arange(cell_idx.size)
    local = local_of[cell]
    n_l = cell_idx.size
    cell_class = np.bincount(local * n_c + code, minlength=n_l * n_c).reshape(n_l, n_c)
    cell_cap = np.bincount(local, weights=cap_b, minlength=n_l)
    li, lc = sparse_counts(local * SNR.size + SNR.index(arrays["snr_db"][mask]), n_l * SNR.size)
    cell_snr = (cell_idx[li // SNR.size] * SNR.size + li % SNR.size, lc)
    eb = (best_bins["error"] + CELL_ERR_MERGE - 1) // CELL_ERR_MERGE
    li, lc = sparse_counts(local * CELL_ERR_SIZE + eb, n_l * CELL_ERR_SIZE)
    cell_err = (cell_idx[li // CELL_ERR_SIZE] * CELL_ERR_SIZE + li % CELL_ERR_SIZE, lc)
    return TileStats(index, n, scheme_hist, class_hist, scheme_sums, class_sums, cell_idx,
                     cell_class, cell_cap, cell_snr, cell_err)


class _SparseCounter:
    """Counts over a large key space, kept as sorted unique keys (compacted in batches)."""

    def __init__(self):
        self.keys = np.empty(0, np.int64)
        self.counts = np.empty(0, np.int64)
        self._pending = []
        self._n_pending = 0

    def add(self, keys, counts):
        self._pending.append((keys, counts))
        self._n_pending += keys.size
        if self._n_pending > max(1 << 22, 2 * self.keys.size):
            self._compact()

    def _compact(self):
        if not self._pending:
            return
        keys = np.concatenate([self.keys] + [k for k, _ in self._pending])
        counts = np.concatenate([self.counts] + [c for _, c in self._pending])
        self._pending, self._n_pending = [], 0
        uniq, inv = np.unique(keys, return_inverse=True)
        summed = np.zeros(uniq.size, np.int64)
        np.add.at(summed, inv, counts)
        self.keys, self.counts = uniq, summed

    def result(self):
        self._compact()
        return self.keys, self.counts


def rank_of(q, total):
    """The 1-based rank of the inverted-CDF ``q`` percentile of ``total`` values:
    ``ceil(q total / 100)``, at least 1, in integer arithmetic (q to 1e-6)."""
    micro = int(round(q * 1_000_000))
    return np.maximum(1, -(-micro * np.asarray(total, dtype=np.int64) // 100_000_000))


def _percentile_index(counts, q):
    """Index of the bin holding the inverted-CDF ``q`` percentile of 1-D ``counts``."""
    total = int(counts.sum())
    if total == 0:
        return None
    return int(np.searchsorted(np.cumsum(counts), int(rank_of(q, total))))


def _grouped_percentiles(keys, counts, size, n_groups, q):
    """Per group ``g`` (keys ``g * size + bin``, sorted): the bin of the q-th percentile."""
    group = keys // size
    out = np.full(n_groups, -1, np.int64)
    if keys.size == 0:
        return out
    csum = np.cumsum(counts)
    starts = np.searchsorted(group, np.arange(n_groups), side="left")
    stops = np.searchsorted(group, np.arange(n_groups), side="right")
    before = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
    total = np.where(stops > starts, csum[np.maximum(stops - 1, 0)] - before, 0)
    has = total > 0
    rank = rank_of(q, total)
    pos = np.searchsorted(csum, before + rank, side="left")
    out[has] = (keys[np.minimum(pos, keys.size - 1)] % size)[has]
    return out


class PlanStats:
    """The statistics of a whole plan: fold in :class:`TileStats`, then read the tables."""

    QUANTITIES = {"capacity": CAP, "error": ERR, "loc_share": SHARE}

    def __init__(self, schemes, cell_ids, site_ids, pixel_area_m2):
        self.schemes = list(schemes)
        self.classes = self.schemes + ["infeasible"]
        self.cell_ids = list(cell_ids)
        self.site_ids = list(site_ids) if site_ids is not None else None
        self.pixel_area_m2 = pixel_area_m2
        n_s, n_c = len(self.schemes), len(self.classes)
        self.scheme_hist = {q: np.zeros(n_s * b.size, np.int64) for q, b in self.QUANTITIES.items()}
        self.class_hist = {q: np.zeros(n_c * b.size, np.int64) for q, b in self.QUANTITIES.items()}
        self._sums = {}           # tile index -> (scheme_sums, class_sums, cell_idx, cell_cap)
        n_cells = len(self.cell_ids)
        self.cell_class = np.zeros((n_cells, n_c), np.int64)
        self.cell_snr = _SparseCounter()
        self.cell_err = _SparseCounter()
        self.n_points = 0

    def add(self, ts):
        """Fold in one tile's statistics (any order)."""
        self.n_points += ts.n_points
        for q in self.QUANTITIES:
            i, c = ts.scheme_hist[q]
            self.scheme_hist[q][i] += c
            i, c = ts.class_hist[q]
            self.class_hist[q][i] += c
        self._sums[ts.index] = (ts.scheme_sums, ts.class_sums, ts.cell_idx, ts.cell_cap)
        self.cell_class[ts.cell_idx] += ts.cell_class
        self.cell_snr.add(*ts.cell_snr)
        self.cell_err.add(*ts.cell_err)

    # -- sums in tile order ---------------------------------------------------------------
    def _ordered(self):
        return [self._sums[k] for k in sorted(self._sums)]

    def _scheme_sums(self):
        parts = [s[0] for s in self._ordered()]
        return np.sum(parts, axis=0) if parts else np.zeros((len(self.schemes), 2))

    def _class_sums(self):
        parts = [s[1] for s in self._ordered()]
        return np.sum(parts, axis=0) if parts else np.zeros((len(self.classes), 3))

    def _hist(self, table, q, row):
        b = self.QUANTITIES[q]
        return table[q][row * b.size:(row + 1) * b.size]

    def _pct(self, counts, q, bins):
        k = _percentile_index(counts, q)
        return float("nan") if k is None else float(bins.value(k))

    # -- tables -----------------------------------------------------------------------------
    def class_counts(self):
        """Points of each class (schemes, then infeasible)."""
        return self._class_sums()[:, 0].astype(np.int64)

    def summary(self):
        """The partition: each scheme where it is best, then ``infeasible``."""
        sums = self._class_sums()
        n = max(self.n_points, 1)
        rows = []
        for c, name in enumerate(self.classes):
            count = int(sums[c, 0])
            cap = self._hist(self.class_hist, "capacity", c)
            err = self._hist(self.class_hist, "error", c)
            rows.append({
                "scheme": name, "area_fraction": count / n,
                "mean_capacity_bps": sums[c, 1] / count if count else float("nan"),
                "p5_capacity_bps": self._pct(cap, 5, CAP),
                "median_error_m": self._pct(err, 50, ERR),
                "p95_error_m": self._pct(err, 95, ERR),
                "area_m2": count * self.pixel_area_m2,
                "mean_loc_share": sums[c, 2] / count if count else float("nan")})
        return pd.DataFrame(rows)

    def schemes_table(self):
        """Each scheme as if it were used over the whole area."""
        sums = self._scheme_sums()
        counts = self.class_counts()
        n = max(self.n_points, 1)
        rows = []
        for s, name in enumerate(self.schemes):
            cap = self._hist(self.scheme_hist, "capacity", s)
            err = self._hist(self.scheme_hist, "error", s)
            rows.append({
                "scheme": name, "best_fraction": counts[s] / n,
                "mean_capacity_bps": sums[s, 0] / n if self.n_points else float("nan"),
                "p5_capacity_bps": self._pct(cap, 5, CAP),
                "median_capacity_bps": self._pct(cap, 50, CAP),
                "median_error_m": self._pct(err, 50, ERR),
                "p95_error_m": self._pct(err, 95, ERR),
                "mean_loc_share": sums[s, 1] / n if self.n_points else float("nan")})
        return pd.DataFrame(rows)

    def cdf(self):
        """Percentiles 0..100 of capacity, error and loc share per scheme and of the plan
        (``scheme = "best"``)."""
        rows = []
        series = [(name, lambda q, s=s: self._hist(self.scheme_hist, q, s))
                  for s, name in enumerate(self.schemes)]
        series.append(("best", lambda q: sum(self._hist(self.class_hist, q, c)
                                             for c in range(len(self.classes)))))
        for name, hist in series:
            h = {q: hist(q) for q in self.QUANTITIES}
            c = {q: np.cumsum(h[q]) for q in h}
            for p in CDF_PERCENTILES:
                row = {"scheme": name, "percentile": p}
                for q, b in self.QUANTITIES.items():
                    total = int(c[q][-1])
                    if total == 0:
                        row[_COLUMN[q]] = float("nan")
                        continue
                    k = int(np.searchsorted(c[q], int(rank_of(p, total))))
                    row[_COLUMN[q]] = float(b.value(k))
                rows.append(row)
        return pd.DataFrame(rows, columns=["scheme", "percentile", "capacity_bps", "error_m",
                                           "loc_share"])

    def cells(self):
        """One row per cell id: served area, best-scheme shares, SNR, capacity, error."""
        n_cells = len(self.cell_ids)
        counts = self.cell_class.sum(axis=1)
        cap_sum = np.zeros(n_cells)
        ordered = self._ordered()
        if ordered:
            idx = np.concatenate([s[2] for s in ordered])
            val = np.concatenate([s[3] for s in ordered])
            cap_sum = np.bincount(idx, weights=val, minlength=n_cells)
        keys, cnt = self.cell_snr.result()
        snr5 = _grouped_percentiles(keys, cnt, SNR.size, n_cells, 5)
        snr50 = _grouped_percentiles(keys, cnt, SNR.size, n_cells, 50)
        keys, cnt = self.cell_err.result()
        err95 = _grouped_percentiles(keys, cnt, CELL_ERR_SIZE, n_cells, 95)
        served = counts > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            frame = {"cell_id": self.cell_ids}
            if self.site_ids is not None:
                frame["site_id"] = self.site_ids
            frame.update({
                "n_points": counts, "served_area_m2": counts * self.pixel_area_m2,
                "served_fraction": counts / max(self.n_points, 1)})
            for c, name in enumerate(self.classes):
                frame[f"{name}_share"] = np.where(served, self.cell_class[:, c] / counts, np.nan)
            frame["p5_snr_db"] = np.where(snr5 >= 0, SNR.value(np.maximum(snr5, 0)), np.nan)
            frame["median_snr_db"] = np.where(snr50 >= 0, SNR.value(np.maximum(snr50, 0)),
                                              np.nan)
            frame["mean_capacity_bps"] = np.where(served, cap_sum / counts, np.nan)
            frame["p95_error_m"] = np.where(err95 >= 0, _cell_err_value(np.maximum(err95, 0)),
                                            np.nan)
        return pd.DataFrame(frame)


_COLUMN = {"capacity": "capacity_bps", "error": "error_m", "loc_share": "loc_share"}
