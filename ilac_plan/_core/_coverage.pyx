# cython: language_level=3
"""Coverage kernel: serving cell, link state, every plan-form scheme and the best scheme.

The arrays come in through the extension types of ``_coverage.pxd`` (cells, path loss,
radio, plans, outputs), each checked once; ``coverage_kernel`` then runs, in parallel
over groups of blocks of points (``prange``), the C stages of ``ilac_kernel.h``:

1. optionally prune the cells that cannot serve any point of the group, then of each
   block (exact bounds over the bounding box, ``ilac_serving.h``);
2. each point's serving cell: loop over candidate cells, SIMD over points, without a
   log per pair where the path-loss model allows it;
3. the serving link's state, SIMD over points;
4. each plan-form scheme for the planning objective (lockstep bisection over the plan's
   candidate splits, the pilot length from Eq. 17 checked against its neighbours) and
   the best scheme, written straight into the outputs.
"""

from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY, ceil, floor, log2, pow
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc

import numpy as np


#: Objectives: meet a position-error target, or the lowest error for a capacity-loss budget.
OBJECTIVE_TARGET = ILAC_OBJECTIVE_TARGET
OBJECTIVE_BUDGET = ILAC_OBJECTIVE_BUDGET
#: Rows of ``PlanTable``'s data, in the order of the kernel's ``ILAC_ROW_*``: the first six
#: are ``ResourcePlan`` fields, the last two its ``loc_snr_gain`` and ``delay_beta2``.
PLAN_ROWS = ("loc_share", "comm_bandwidth_hz", "comm_symbols", "dl_fraction",
             "comm_power_fraction", "loc_symbols", "loc_snr_gain", "loc_beta2")
#: Serving-search modes (``CellTable(linear=...)``).
LINEAR_OFF = ILAC_LINEAR_OFF
LINEAR_ORDER = ILAC_LINEAR_ORDER
LINEAR_POWER = ILAC_LINEAR_POWER
#: Network positioning measurements (``RadioSpec(net_mode=...)``).
NET_MODES = {"toa_aoa": ILAC_NET_TOA_AOA, "tdoa": ILAC_NET_TDOA, "aoa": ILAC_NET_AOA}
#: Rows of ``Outputs(net_info=...)``: per direction (downlink, uplink) the numbers of the
#: network bound, then the on-site flag.
NET_VALUES = ("trace_a", "trace_b", "det0", "det1", "det2", "range_var")
NET_INFO_ROWS = 2 * ILAC_NET_VALUES + 1
MAX_NET = ILAC_MAX_NET

assert len(PLAN_ROWS) == ILAC_PLAN_ROWS


cdef const double *_ptr(object keep, object arr, Py_ssize_t n, str name) except NULL:
    """Pointer to a C-contiguous float64 copy (or view) of arr, kept alive in keep."""
    a = np.ascontiguousarray(arr, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != n or n < 1:
        raise ValueError(f"{name}: expected {n} values (at least 1); got shape {a.shape}")
    keep.append(a)
    cdef const double[::1] mv = a
    return &mv[0]


cdef class PathLoss:
    """A path-loss model for the kernel: up to 4 log-distance terms, or a table."""

    def __init__(self, a0, a1, lo2, hi2, double floor2, bint simple, table, double t0,
                 double inv_step, *, table_nlos=None, seed=None, double sigma_los=0.0,
                 double sigma_nlos=0.0, plos=None, double p0=0.0, double p_inv_step=1.0):
        """Terms (a0, a1, lo2, hi2), or a table; with ``seed`` a random drop: ``table``
        is the LOS loss, ``table_nlos`` the NLOS loss on the same grid, ``plos`` the LOS
        probability at ``log10(d2D^2) = p0 + k / p_inv_step`` and ``sigma_*`` the
        shadow-fading standard deviations [dB] (see ``ilac_drop_loss_db``)."""
        self._keep = []
        cdef const double *p
        for name, arr in (("a0", a0), ("a1", a1), ("lo2", lo2), ("hi2", hi2)):
            p = _ptr(self._keep, arr, 4, name)
            for t in range(4):
                if name == "a0":
                    self.c.a0[t] = p[t]
                elif name == "a1":
                    self.c.a1[t] = p[t]
                elif name == "lo2":
                    self.c.lo2[t] = p[t]
                else:
                    self.c.hi2[t] = p[t]
        tab = np.ascontiguousarray(table, dtype=np.float64)
        if tab.ndim != 1 or tab.shape[0] == 1:
            raise ValueError("table: no nodes, or 2 nodes or more")
        self.c.n_terms = 4
        self.c.simple = simple
        self.c.floor2 = floor2
        self.c.n_table = tab.shape[0]
        self.c.table = _ptr(self._keep, tab, tab.shape[0], "table") if tab.shape[0] else NULL
        self.c.t0 = t0
        self.c.inv_step = inv_step
        self.c.drop = 0
        self.c.table_nlos = NULL
        self.c.plos = NULL
        self.c.n_plos = 0
        if seed is None:
            return
        if not 0 <= seed < 2**64:
            raise ValueError("seed: an integer in [0, 2**64)")
        nl = np.ascontiguousarray(table_nlos, dtype=np.float64)
        pv = np.ascontiguousarray(plos, dtype=np.float64)
        if tab.shape[0] < 2 or nl.shape != tab.shape:
            raise ValueError("a drop needs LOS and NLOS tables of the same 2 nodes or more")
        if pv.ndim != 1 or pv.shape[0] < 2:
            raise ValueError("plos: 2 nodes or more")
        if not (sigma_los >= 0.0 and sigma_nlos >= 0.0):
            raise ValueError("sigma_los, sigma_nlos: >= 0")
        self.c.drop = 1
        self.c.simple = 0
        self.c.seed = <uint64_t>seed
        self.c.table_nlos = _ptr(self._keep, nl, nl.shape[0], "table_nlos")
        self.c.sigma_los = sigma_los
        self.c.sigma_nlos = sigma_nlos
        self.c.n_plos = pv.shape[0]
        self.c.plos = _ptr(self._keep, pv, pv.shape[0], "plos")
        self.c.p0 = p0
        self.c.p_inv_step = p_inv_step

    @property
    def drop(self):
        """True for a random drop."""
        return bool(self.c.drop)


cdef class CellTable:
    """The cells: positions, broadsides, EIRP, heights, tilts and the antenna pattern."""

    def __init__(self, *, x, y, ux, uy, eirp_dbm, dh2, dz, cos_tilt, sin_tilt, etilt,
                 int pattern, double k_pattern, double a_max, double k_vertical,
                 double sla_v, shifts, int linear=ILAC_LINEAR_OFF, weights=None,
                 double lin_margin=1.0, panel_m=None, panel_kd=None, sin_etilt=None):
        """Arrays of one value per cell; ``pattern`` 3 (3gpp with panels) also needs
        ``panel_m`` (rows, >= 1), ``panel_kd`` (pi d_V / lambda) and ``sin_etilt``."""
        self._keep = []
        cdef Py_ssize_t n = np.asarray(x).shape[0]
        if n < 1:
            raise ValueError("cells: at least one cell")
        self.c.n_cells = <int>n
        self.c.x = _ptr(self._keep, x, n, "x")
        self.c.y = _ptr(self._keep, y, n, "y")
        self.c.ux = _ptr(self._keep, ux, n, "ux")
        self.c.uy = _ptr(self._keep, uy, n, "uy")
        self.c.eirp = _ptr(self._keep, eirp_dbm, n, "eirp_dbm")
        self.c.dh2 = _ptr(self._keep, dh2, n, "dh2")
        self.c.dz = _ptr(self._keep, dz, n, "dz")
        self.c.cos_tilt = _ptr(self._keep, cos_tilt, n, "cos_tilt")
        self.c.sin_tilt = _ptr(self._keep, sin_tilt, n, "sin_tilt")
        self.c.etilt = _ptr(self._keep, etilt, n, "etilt")
        if pattern not in (0, 1, 2, 3):
            raise ValueError("pattern: 0 (omni), 1 (horizontal), 2 (3gpp) or 3 (3gpp panels)")
        self.c.pattern = pattern
        self.c.panel_m = self.c.panel_kd = self.c.sin_etilt = NULL
        if pattern == 3:
            if panel_m is None or panel_kd is None or sin_etilt is None:
                raise ValueError("pattern 3 needs panel_m, panel_kd and sin_etilt")
            if not (np.asarray(panel_m, np.float64) >= 1.0).all():
                raise ValueError("panel_m: rows >= 1")
            self.c.panel_m = _ptr(self._keep, panel_m, n, "panel_m")
            self.c.panel_kd = _ptr(self._keep, panel_kd, n, "panel_kd")
            self.c.sin_etilt = _ptr(self._keep, sin_etilt, n, "sin_etilt")
        self.c.k_pattern = k_pattern
        self.c.a_max = a_max
        self.c.k_vertical = k_vertical
        self.c.sla_v = sla_v
        sh = np.ascontiguousarray(shifts, dtype=np.float64)
        if sh.ndim != 2 or not 1 <= sh.shape[0] <= 7 or sh.shape[1] != 2:
            raise ValueError("shifts must be (1..7, 2)")
        self.c.n_shift = sh.shape[0]
        for t in range(7):
            # unused images are infinitely far: never the nearest
            self.c.shift_x[t] = sh[t, 0] if t < sh.shape[0] else INFINITY
            self.c.shift_y[t] = sh[t, 1] if t < sh.shape[0] else INFINITY
        if linear not in (ILAC_LINEAR_OFF, ILAC_LINEAR_ORDER, ILAC_LINEAR_POWER):
            raise ValueError("linear: LINEAR_OFF, LINEAR_ORDER or LINEAR_POWER")
        if linear != ILAC_LINEAR_OFF and (weights is None or pattern != 0):
            raise ValueError("the linear search needs weights and no pattern")
        self.c.linear = linear
        self.c.w = _ptr(self._keep, weights, n, "weights") if linear else NULL
        self.c.lin_margin = lin_margin

    @property
    def n_cells(self):
        return self.c.n_cells


cdef class RadioSpec:
    """Frame, noise, per-cell antennas and Fisher informations, and the objective."""

    def __init__(self, *, int n_symbols, double noise_dbm, bint interference,
                 bint horizontal_fix, n_antennas, information, ul_offset_db, int objective,
                 double objective_value, int net_k=0, int net_mode=ILAC_NET_TOA_AOA,
                 double net_scale=1.0, int net_reuse=1, bint net_prs_interference=False):
        self._keep = []
        info = np.ascontiguousarray(information, dtype=np.float64)
        cdef Py_ssize_t n = np.asarray(n_antennas).shape[0]
        if info.shape != (4, n):
            raise ValueError(f"information: expected shape (4, {n}); got {info.shape}")
        if objective not in (ILAC_OBJECTIVE_TARGET, ILAC_OBJECTIVE_BUDGET):
            raise ValueError("objective: OBJECTIVE_TARGET or OBJECTIVE_BUDGET")
        if n_symbols < 1:
            raise ValueError("n_symbols: at least 1")
        self.n_cells = <int>n
        self.c.n_symbols = n_symbols
        self.c.noise_dbm = noise_dbm
        self.c.noise_mw = pow(10.0, noise_dbm / 10.0)
        self.c.interference = interference
        self.c.horizontal_fix = horizontal_fix
        self.c.n_antennas = _ptr(self._keep, n_antennas, n, "n_antennas")
        self.c.information = _ptr(self._keep, info.ravel(), 4 * n, "information")
        self.c.ul_offset_db = _ptr(self._keep, ul_offset_db, n, "ul_offset_db")
        self.c.objective = objective
        self.c.objective_value = objective_value
        if not 0 <= net_k <= ILAC_MAX_NET:
            raise ValueError(f"net_k: 0 (serving cell) to {ILAC_MAX_NET}")
        if net_mode not in (ILAC_NET_TOA_AOA, ILAC_NET_TDOA, ILAC_NET_AOA):
            raise ValueError("net_mode: one of NET_MODES")
        if not 0.0 < net_scale <= 1.0:
            raise ValueError("net_scale: in (0, 1]")
        self.c.net_k = net_k
        self.c.net_mode = net_mode
        self.c.net_scale = net_scale
        if net_reuse < 1:
            raise ValueError("net_reuse: at least 1")
        self.c.net_reuse = net_reuse
        self.c.net_prs_interference = net_prs_interference


def _closed_form(e, beta2):
    """(affine, e0, e1, kappa) of a plan's candidates: affine when the positioning energy
    is e0 + e1 j (to 1e-12, e1 > 0, the first candidate possibly without any) at one
    beta^2, so that the target split has a closed form (the kernel checks it per point)."""
    n = e.shape[0]
    if n < 3 or not np.all(beta2 == beta2[0]) or not np.isfinite(beta2[0]) or beta2[0] <= 0:
        return 0, 0.0, 0.0, 0.0
    j = np.arange(n, dtype=np.float64)
    e1 = (e[n - 1] - e[1]) / (n - 2)
    e0 = e[1] - e1
    if not (np.isfinite(e1) and e1 > 0) or not np.allclose(e, e0 + e1 * j, rtol=1e-12, atol=0):
        return 0, 0.0, 0.0, 0.0
    return 1, float(e0), float(e1), float(1.0 / beta2[0])


cdef class PlanTable:
    """Plan-form schemes: candidate splits of each, rows named by ``PLAN_ROWS``.

    ``offset`` (n_plans + 1) delimits each plan's candidates in the columns of ``data``
    (len(PLAN_ROWS), total candidates); ``loc_uplink`` (n_plans) marks uplink sounding.
    """

    def __cinit__(self):
        self.c = NULL
        self.n_plans = 0

    def __init__(self, offset, data, loc_uplink):
        off = np.ascontiguousarray(offset, dtype=np.int64)
        dat = np.ascontiguousarray(data, dtype=np.float64)
        up = np.ascontiguousarray(loc_uplink, dtype=np.int64)
        cdef Py_ssize_t n_plans = up.shape[0], total
        if off.shape != (n_plans + 1,) or off[0] != 0 or np.any(np.diff(off) < 1):
            raise ValueError("offset: n_plans + 1 increasing offsets from 0")
        total = off[n_plans]
        if dat.shape != (ILAC_PLAN_ROWS, total):
            raise ValueError(f"data: expected shape ({ILAC_PLAN_ROWS}, {total}); got {dat.shape}")
        with np.errstate(divide="ignore"):
            e = dat[6] * dat[5]                     # loc_snr_gain * loc_symbols
            inv_e = np.ascontiguousarray(1.0 / e) if total else np.zeros(1)
            inv_eb = np.ascontiguousarray(1.0 / (e * dat[7])) if total else np.zeros(1)
        self._keep = [dat, inv_e, inv_eb]
        cdef const double[::1] ue = inv_e, ueb = inv_eb
        self.c = <ilac_plan *>malloc((n_plans + 1) * sizeof(ilac_plan))
        if self.c == NULL:
            raise MemoryError()
        self.n_plans = <int>n_plans
        cdef const double[:, ::1] mv = dat
        cdef int t, r, k
        for t in range(n_plans):
            k = <int>(off[t + 1] - off[t])
            self.c[t].n = k
            self.c[t].loc_uplink = up[t] != 0
            self.c[t].steps = <int>ceil(log2(<double>k)) if k > 1 else 0
            for r in range(ILAC_PLAN_ROWS):
                self.c[t].row[r] = &mv[r, off[t]]
            self.c[t].inv_e = &ue[off[t]]
            self.c[t].inv_eb = &ueb[off[t]]
            self.c[t].affine, self.c[t].e0, self.c[t].e1, self.c[t].kappa = _closed_form(
                e[off[t]:off[t + 1]], dat[7, off[t]:off[t + 1]])
            b2 = dat[7, off[t]:off[t + 1]]
            self.c[t].beta_const = float(b2[0]) if (np.all(b2 == b2[0]) and
                                                    np.isfinite(b2[0]) and b2[0] > 0) else 0.0
            f = dat[3, off[t]:off[t + 1]]
            self.c[t].direction = (ILAC_DIR_DOWNLINK if np.all(f == 1.0) else
                                   ILAC_DIR_UPLINK if np.all(f == 0.0) else ILAC_DIR_MIXED)

    def __dealloc__(self):
        free(self.c)


cdef class Outputs:
    """Arrays the kernel fills: link state (n), per plan (n_plans, n), best plan (n)."""

    def __init__(self, *, serving, distance_m, theta_deg, snr_db, snr_ul_db, capacity_bps,
                 error_m, loc_share, feasible, best=None, gdop=None, cells_used=None,
                 net_info=None):
        cdef int32_t[::1] s = serving
        cdef double[::1] d = distance_m, th = theta_deg, sn = snr_db, su = snr_ul_db
        cdef double[:, ::1] cap = capacity_bps, err = error_m, share = loc_share
        cdef int8_t[:, ::1] ok = feasible
        cdef int16_t[::1] bst
        cdef Py_ssize_t n = s.shape[0]
        for name, a in (("distance_m", d), ("theta_deg", th), ("snr_db", sn),
                        ("snr_ul_db", su)):
            if a.shape[0] != n:
                raise ValueError(f"{name}: expected {n} values")
        for name, a in (("capacity_bps", cap), ("error_m", err), ("loc_share", share),
                        ("feasible", ok)):
            if a.shape[1] != n or a.shape[0] != cap.shape[0]:
                raise ValueError(f"{name}: expected shape ({cap.shape[0]}, {n})")
        self._keep = [serving, distance_m, theta_deg, snr_db, snr_ul_db, capacity_bps,
                      error_m, loc_share, feasible, best]
        self.c.n_total = n
        self.c.serving = &s[0] if n else NULL
        self.c.distance_m = &d[0] if n else NULL
        self.c.theta_deg = &th[0] if n else NULL
        self.c.snr_db = &sn[0] if n else NULL
        self.c.snr_ul_db = &su[0] if n else NULL
        self.c.capacity_bps = &cap[0, 0] if n and cap.shape[0] else NULL
        self.c.error_m = &err[0, 0] if n and cap.shape[0] else NULL
        self.c.loc_share = &share[0, 0] if n and cap.shape[0] else NULL
        self.c.feasible = &ok[0, 0] if n and cap.shape[0] else NULL
        self.n_plans = cap.shape[0]
        self.c.best = NULL
        if best is not None:
            bst = best
            if bst.shape[0] != n:
                raise ValueError(f"best: expected {n} values")
            self.c.best = &bst[0] if n else NULL
        cdef double[:, ::1] gd, ni
        cdef int8_t[::1] cu
        self.c.gdop = NULL
        self.c.cells_used = NULL
        self.c.net_info = NULL
        if gdop is not None:
            gd = gdop
            if gd.shape[0] != cap.shape[0] or gd.shape[1] != n:
                raise ValueError(f"gdop: expected shape ({cap.shape[0]}, {n})")
            self.c.gdop = &gd[0, 0] if n and cap.shape[0] else NULL
        if cells_used is not None:
            cu = cells_used
            if cu.shape[0] != n:
                raise ValueError(f"cells_used: expected {n} values")
            self.c.cells_used = &cu[0] if n else NULL
        if net_info is not None:
            ni = net_info
            if ni.shape[0] != NET_INFO_ROWS or ni.shape[1] != n:
                raise ValueError(f"net_info: expected shape ({NET_INFO_ROWS}, {n})")
            self.c.net_info = &ni[0, 0] if n else NULL
        self._keep += [gdop, cells_used, net_info]


def tile_order_kernel(
    const double[::1] px, const double[::1] py,        # IN  points [m]
    double x0, double y0, double side, int nx, int ny,  # IN  tile grid
    int group,                                          # IN  tiles per side of a super-tile
    int32_t[::1] order,                                 # OUT points tile by tile
):
    """Counting sort of the points by square tile: super-tiles of group x group tiles in
    row-major order, tiles row-major inside each, points in their given order inside a
    tile. Consecutive blocks then stay compact at two scales (the kernel's groups)."""
    cdef Py_ssize_t n = px.shape[0], i, k
    cdef int nsx = (nx + group - 1) // group, nsy = (ny + group - 1) // group
    cdef Py_ssize_t n_keys = <Py_ssize_t>nsx * nsy * group * group
    if group < 1 or nx < 1 or ny < 1 or order.shape[0] != n:
        raise ValueError("tile_order_kernel: bad grid or order")
    cdef Py_ssize_t *start = <Py_ssize_t *>malloc((n_keys + 1) * sizeof(Py_ssize_t))
    if start == NULL:
        raise MemoryError()
    keys_arr = np.empty(n, np.int64)       # each point's key, computed once
    cdef int64_t[::1] keys = keys_arr
    cdef double inv_side = 1.0 / side
    with nogil:
        for k in range(n_keys + 1):
            start[k] = 0
        for i in range(n):
            keys[i] = _tile(px[i], py[i], x0, y0, inv_side, nx, ny, nsx, group)
            start[keys[i] + 1] += 1
        for k in range(n_keys):
            start[k + 1] += start[k]
        for i in range(n):
            k = keys[i]
            order[start[k]] = <int32_t>i
            start[k] += 1
    free(start)


cdef inline Py_ssize_t _tile(double x, double y, double x0, double y0, double inv_side,
                             int nx, int ny, int nsx, int group) noexcept nogil:
    cdef long ix = <long>floor((x - x0) * inv_side), iy = <long>floor((y - y0) * inv_side)
    ix = 0 if ix < 0 else (nx - 1 if ix >= nx else ix)
    iy = 0 if iy < 0 else (ny - 1 if iy >= ny else iy)
    cdef Py_ssize_t sup = <Py_ssize_t>(iy // group) * nsx + ix // group
    return (sup * group + iy % group) * group + ix % group


def coverage_kernel(
    const double[::1] px, const double[::1] py,        # IN  points [m]
    const int32_t[::1] order,                           # IN  point order (empty: as given)
    CellTable cells, PathLoss pathloss, RadioSpec radio, PlanTable plans,  # IN
    Outputs out,                                        # OUT
    bint prune, double prune_margin_db,                 # IN  pruning (never with interference)
    int block_size, int blocks_per_group, int n_threads,
):
    """Fill ``out`` for every point: groups of ``blocks_per_group`` blocks of
    ``block_size`` points run in parallel (dynamic schedule)."""
    cdef Py_ssize_t n = px.shape[0]
    if py.shape[0] != n or (order.shape[0] not in (0, n)) or out.c.n_total != n:
        raise ValueError("px, py, order and the outputs must have one entry per point")
    if out.n_plans != plans.n_plans:
        raise ValueError("the outputs need one row per plan")
    if radio.n_cells != cells.c.n_cells:
        raise ValueError("radio and cells must describe the same cells")
    if block_size < 1 or blocks_per_group < 1:
        raise ValueError("block_size and blocks_per_group must be >= 1")
    if n == 0:
        return
    cdef int64_t group = <int64_t>block_size * blocks_per_group
    cdef Py_ssize_t n_groups = (n + group - 1) // group, g
    cdef bint has_order = order.shape[0] > 0
    cdef const int32_t *order_p = &order[0] if has_order else NULL
    cdef bint do_prune = (prune and not radio.c.interference and not pathloss.c.drop
                          and cells.c.pattern != 3)
    cdef int threads = max(1, n_threads)
    # per-thread scratch, allocated once per call (with the GIL), indexed by thread id
    if (out.c.cells_used != NULL or out.c.net_info != NULL) and radio.c.net_k == 0:
        raise ValueError("cells_used and net_info need network positioning (net_k >= 1)")
    cdef size_t per_thread = ilac_scratch_bytes(block_size, cells.c.n_cells, plans.n_plans,
                                                radio.c.net_k)
    scratch_arr = np.empty(threads * per_thread, np.uint8)
    cdef unsigned char[::1] scratch = scratch_arr
    cdef char *base = <char *>&scratch[0]
    with nogil:
        for g in prange(n_groups, schedule="dynamic", num_threads=threads):
            ilac_run_group(g * group, min(n, (g + 1) * group), block_size, &px[0], &py[0],
                           order_p, &cells.c, &pathloss.c, &radio.c, plans.c, plans.n_plans,
                           do_prune, prune_margin_db, &out.c,
                           base + <size_t>threadid() * per_thread)


def drop_draws(seed, x_m, y_m, site_x_m, site_y_m):
    """The kernel's random-drop draws of the links between points and sites, broadcast
    over the arguments (``evaluate(drop_seed=seed)`` draws the same).

    Parameters
    ----------
    seed : int
        In [0, 2**64).
    x_m, y_m : array_like
        Point coordinates (keyed to the millimetre). [m]
    site_x_m, site_y_m : array_like
        Cell (site) coordinates, the original ones also under wrap-around (keyed to the
        millimetre: the sectors of a site share their draws). [m]

    Returns
    -------
    u_los : ndarray
        Uniform in (0, 1): the link is LOS when it is below the LOS probability.
    z_sf : ndarray
        Standard normal: the shadow fading in units of its standard deviation.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed < 2**64:
        raise ValueError("seed: an integer in [0, 2**64)")
    arrays = np.broadcast_arrays(*(np.asarray(v, np.float64)
                                   for v in (x_m, y_m, site_x_m, site_y_m)))
    for name, a in zip(("x_m", "y_m", "site_x_m", "site_y_m"), arrays):
        if a.size and not (np.isfinite(a).all() and np.abs(a).max() <= 1e12):
            raise ValueError(f"{name}: finite coordinates within +-1e12 m (keyed to the mm)")
    shape = arrays[0].shape
    cdef const double[::1] xv = np.ascontiguousarray(arrays[0]).ravel()
    cdef const double[::1] yv = np.ascontiguousarray(arrays[1]).ravel()
    cdef const double[::1] sxv = np.ascontiguousarray(arrays[2]).ravel()
    cdef const double[::1] syv = np.ascontiguousarray(arrays[3]).ravel()
    u = np.empty(xv.shape[0])
    z = np.empty(xv.shape[0])
    cdef double[::1] uv = u
    cdef double[::1] zv = z
    cdef uint64_t s = <uint64_t>seed, key
    cdef Py_ssize_t i
    with nogil:
        for i in range(xv.shape[0]):
            key = ilac_drop_key(s, xv[i], yv[i], sxv[i], syv[i])
            uv[i] = ilac_key_uniform(key, 0)
            zv[i] = ilac_normal_quantile(ilac_key_uniform(key, 1))
    return u.reshape(shape), z.reshape(shape)
