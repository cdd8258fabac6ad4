# cython: language_level=3
"""Coverage kernel: serving cell, link state and every scheme for many points.

For each block of points (in parallel over blocks, ``prange``):

1. optionally prune the cells that cannot serve any point of the block (exact bounds
   over the block's bounding box, see ``ilac_serving.h``);
2. find each point's serving cell: loop over candidate cells, SIMD over points
   (``ilac_serve_block``), with the interference of all other cells when asked;
3. per point, recompute the serving link with libm (distance, angle off broadside,
   SNR or SINR) and evaluate each plan-form scheme for the planning objective: a
   bisection over the plan's candidate splits (CRB and capacity fall along them).

Arguments are marked IN or OUT; outputs are allocated by ``ilac_plan.coverage``.
"""

from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY, M_PI, atan2, ceil, cos, floor, isfinite, log, log10, pow, sqrt
from libc.stdint cimport int8_t, int32_t
from libc.stdlib cimport free, malloc

import numpy as np

from ._model cimport best_pilot_efficiency_mixed, crb_from_information


cdef extern from "ilac_serving.h" nogil:
    ctypedef struct ilac_pathloss:
        int n_terms
        int simple
        double a0[4]
        double a1[4]
        double lo2[4]
        double hi2[4]
        double floor2
        int n_table
        const double *table
        double t0
        double inv_step
    ctypedef struct ilac_cells:
        int n_cells
        const double *x
        const double *y
        const double *ux
        const double *uy
        const double *eirp
        const double *dh2
        const double *dz
        const double *cos_tilt
        const double *sin_tilt
        const double *etilt
        int pattern
        double k_pattern
        double a_max
        double k_vertical
        double sla_v
        int n_shift
        double shift_x[7]
        double shift_y[7]
    void ilac_serve_block(const double *px, const double *py, int n, const ilac_cells *cells,
                          const int32_t *cand, int n_cand, const ilac_pathloss *pl,
                          int interference, double *best_rx, double *best_idx,
                          double *best_lin, double *others)
    int ilac_prune(const ilac_cells *cells, const ilac_pathloss *pl, double x0, double x1,
                   double y0, double y1, double margin_db, double *best, int32_t *cand)
    double ilac_pathloss_db(const ilac_pathloss *pl, double d2, double log10_d2)
    double ilac_attenuation_db(const ilac_cells *cells, int c, double fwd, double crs,
                               int pattern)
    void ilac_nearest_image(const ilac_cells *cells, int c, double px, double py,
                            double *dx, double *dy)


#: Objectives: meet a position-error target, or the lowest error for a capacity-loss budget.
OBJECTIVE_TARGET = 0
OBJECTIVE_BUDGET = 1

cdef double LN2 = 0.69314718055994530942
cdef double BROADSIDE_TOL = 1e-12
#: Relative slack of the objective tests (CRB <= target^2, capacity >= (1 - f) C), so that
#: splits exactly on the boundary (common with round numbers) do not depend on rounding.
cdef double OBJECTIVE_RTOL = 1e-12


cdef struct Link:
    double n            # antennas
    double gamma        # downlink SNR or SINR (CRB SNR of a downlink PRS) [linear]
    double snr_ul       # uplink SNR at the UE's power [linear]
    double g_angle      # geometry of the angle term, r^2 / cos^2 theta (0 at r = 0) [m^2]
    double g_range      # geometry of the range term (1, or the horizontal fix's)
    double ang_dl       # angle information per unit SNR and symbol, downlink PRS
    double ang_ul       # ... uplink sounding
    double del_dl       # delay information per unit SNR, symbol and Hz^2, downlink PRS
    double del_ul       # ... uplink sounding


cdef struct Radio:
    int n_symbols


cdef struct Plan:
    int n               # candidates
    const double *share
    const double *comm_bw
    const double *comm_sym
    const double *dl_frac
    const double *comm_pow
    const double *loc_sym
    const double *loc_gain  # SNR factor of the PRS (power fraction, energy share)
    const double *loc_beta2  # mean-square bandwidth of the delay information [Hz^2]
    int loc_uplink


cdef inline double plan_crb(const Link *k, const Radio *rd, const Plan *p, int j) noexcept nogil:
    """CRB_L of candidate j, Eq. (7) or the achievable bound. [m^2]"""
    cdef double e
    if p.loc_uplink:
        e = k.snr_ul * p.loc_gain[j] * p.loc_sym[j]
        return crb_from_information(k.g_angle, k.g_range, e * k.ang_ul,
                                    e * k.del_ul * p.loc_beta2[j])
    e = k.gamma * p.loc_gain[j] * p.loc_sym[j]
    return crb_from_information(k.g_angle, k.g_range, e * k.ang_dl,
                                e * k.del_dl * p.loc_beta2[j])


cdef inline double plan_capacity(const Link *k, const Radio *rd, const Plan *p, int j) noexcept nogil:
    """Capacity of candidate j, Eq. (1) at the best integer pilot length. [bit/s]"""
    cdef long tau_p
    cdef double eff = best_pilot_efficiency_mixed(
        <long>p.comm_sym[j], k.n, k.gamma * p.comm_pow[j], k.snr_ul * p.comm_pow[j], k.snr_ul,
        p.dl_frac[j], &tau_p)
    return p.comm_bw[j] / rd.n_symbols * eff / LN2


cdef inline int plan_target(const Link *k, const Radio *rd, const Plan *p, double t2,
                            double *cap, double *err, double *share) noexcept nogil:
    """Fewest positioning resources (first candidate) whose CRB meets t2; 0 if none does."""
    cdef int lo = 0, hi = p.n - 1, mid
    cdef double last = plan_crb(k, rd, p, hi)
    t2 = t2 * (1.0 + OBJECTIVE_RTOL)
    if not last <= t2:
        cap[0] = 0.0
        err[0] = sqrt(last)
        share[0] = p.share[hi]
        return 0
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if plan_crb(k, rd, p, mid) <= t2:
            hi = mid
        else:
            lo = mid + 1
    cap[0] = plan_capacity(k, rd, p, lo)
    err[0] = sqrt(plan_crb(k, rd, p, lo))
    share[0] = p.share[lo]
    return 1


cdef inline int plan_budget(const Link *k, const Radio *rd, const Plan *p, double f,
                            double *cap, double *err, double *share) noexcept nogil:
    """Most positioning resources (last candidate) keeping capacity >= (1 - f) of entry 0."""
    cdef int lo = 0, hi = p.n - 1, mid
    cdef double thr = (1.0 - f) * plan_capacity(k, rd, p, 0) * (1.0 - OBJECTIVE_RTOL)
    while lo < hi:
        mid = lo + (hi - lo + 1) // 2
        if plan_capacity(k, rd, p, mid) >= thr:
            lo = mid
        else:
            hi = mid - 1
    cap[0] = plan_capacity(k, rd, p, lo)
    err[0] = sqrt(plan_crb(k, rd, p, lo))
    share[0] = p.share[lo]
    return isfinite(err[0])


def tile_order_kernel(
    const double[::1] px, const double[::1] py,        # IN  points [m]
    double x0, double y0, double side, int nx, int ny,  # IN  tile grid
    int32_t[::1] order,                                 # OUT points tile by tile
):
    """Counting sort of the points by square tile (row-major tiles, stable inside)."""
    cdef Py_ssize_t n = px.shape[0], i, k, n_tiles = <Py_ssize_t>nx * ny
    cdef Py_ssize_t *start = <Py_ssize_t *>malloc((n_tiles + 1) * sizeof(Py_ssize_t))
    if start == NULL:
        raise MemoryError()
    with nogil:
        for k in range(n_tiles + 1):
            start[k] = 0
        for i in range(n):
            start[_tile(px[i], py[i], x0, y0, side, nx, ny) + 1] += 1
        for k in range(n_tiles):
            start[k + 1] += start[k]
        for i in range(n):
            k = _tile(px[i], py[i], x0, y0, side, nx, ny)
            order[start[k]] = <int32_t>i
            start[k] += 1
    free(start)


cdef inline Py_ssize_t _tile(double x, double y, double x0, double y0, double side, int nx,
                             int ny) noexcept nogil:
    cdef long ix = <long>floor((x - x0) / side), iy = <long>floor((y - y0) / side)
    ix = 0 if ix < 0 else (nx - 1 if ix >= nx else ix)
    iy = 0 if iy < 0 else (ny - 1 if iy >= ny else iy)
    return <Py_ssize_t>iy * nx + ix


def coverage_kernel(
    const double[::1] px, const double[::1] py,        # IN  points [m]
    const int32_t[::1] order,                           # IN  point order (empty: as given)
    const double[::1] cell_x, const double[::1] cell_y,  # IN  cells [m]
    const double[::1] cell_ux, const double[::1] cell_uy,  # IN broadside unit vectors
    const double[::1] cell_eirp_dbm,                    # IN  power + gains [dBm]
    const double[::1] cell_dh2,                         # IN  squared height difference [m^2]
    const double[::1] cell_dz,                          # IN  UE - site height [m]
    const double[::1] cell_cos_tilt, const double[::1] cell_sin_tilt,  # IN mech. downtilt
    const double[::1] cell_etilt,                       # IN  electrical downtilt [rad]
    const double[::1] cell_n_antennas,                  # IN  N_T
    const double[:, ::1] cell_information,              # IN  (4, cells) ang_dl, ang_ul, del_dl, del_ul
    const double[::1] cell_ul_offset_db,                # IN  P_UE - P_gNB [dB]
    const double[::1] pl_a0, const double[::1] pl_a1,   # IN  path-loss terms (4 each)
    const double[::1] pl_lo2, const double[::1] pl_hi2,
    double pl_floor2, bint pl_simple,
    const double[::1] pl_table, double pl_t0, double pl_inv_step,   # IN table (or empty)
    int pattern, double k_pattern, double a_max, double k_vertical, double sla_v,
    const double[:, ::1] shifts,                        # IN  (n_shift, 2) image offsets [m]
    bint horizontal_fix,                                # IN  achievable geometry
    int n_symbols, double noise_dbm,
    const int32_t[::1] plan_offset,                     # IN  (n_plans + 1) candidate offsets
    const double[:, ::1] plan_data,                     # IN  (8, total candidates), see below
    const int32_t[::1] plan_loc_uplink,                 # IN  (n_plans) positioning uplink?
    int objective, double objective_value,              # IN  target^2 [m^2] or loss fraction
    bint interference, bint prune, double prune_margin_db, int block_size, int n_threads,
    int32_t[::1] serving,                               # OUT serving cell index
    double[::1] distance_m,                             # OUT distance to it [m]
    double[::1] theta_deg,                              # OUT angle off broadside [deg]
    double[::1] snr_db,                                 # OUT SNR (SINR) [dB]
    double[::1] snr_ul_db,                              # OUT uplink SNR [dB]
    double[:, ::1] capacity_bps,                        # OUT (n_plans, n) [bit/s]
    double[:, ::1] error_m,                             # OUT (n_plans, n) sqrt(CRB) [m]
    double[:, ::1] loc_share,                           # OUT (n_plans, n)
    int8_t[:, ::1] feasible,                            # OUT (n_plans, n)
):
    """plan_data rows: loc_share, comm_bandwidth_hz, comm_symbols, dl_fraction,
    comm_power_fraction, loc_symbols, loc_snr_gain, loc_beta2 (KERNEL_PLAN_ROWS)."""
    cdef Py_ssize_t n = px.shape[0], n_blocks = (n + block_size - 1) // block_size
    cdef int n_cells = cell_x.shape[0], n_plans = plan_loc_uplink.shape[0]
    cdef bint has_order = order.shape[0] > 0
    cdef ilac_pathloss plm
    cdef ilac_cells cells
    cdef Radio rd
    cdef Plan *plans
    cdef double noise_mw = pow(10.0, noise_dbm / 10.0)
    cdef int t
    cdef Py_ssize_t b
    # per-thread scratch, allocated here (with the GIL) and indexed by thread id
    cdef Py_ssize_t width = 6 * block_size + n_cells
    cdef double[:, ::1] scratch = np.empty((max(n_threads, 1), width))
    cdef int32_t[:, ::1] cands = np.empty((max(n_threads, 1), max(n_cells, 1)), np.int32)
    cdef double *base
    cdef int tid
    plans = <Plan *>malloc((n_plans + 1) * sizeof(Plan))
    if plans == NULL:
        raise MemoryError()
    for t in range(n_plans):
        plans[t].n = plan_offset[t + 1] - plan_offset[t]
        plans[t].share = &plan_data[0, plan_offset[t]]
        plans[t].comm_bw = &plan_data[1, plan_offset[t]]
        plans[t].comm_sym = &plan_data[2, plan_offset[t]]
        plans[t].dl_frac = &plan_data[3, plan_offset[t]]
        plans[t].comm_pow = &plan_data[4, plan_offset[t]]
        plans[t].loc_sym = &plan_data[5, plan_offset[t]]
        plans[t].loc_gain = &plan_data[6, plan_offset[t]]
        plans[t].loc_beta2 = &plan_data[7, plan_offset[t]]
        plans[t].loc_uplink = plan_loc_uplink[t]
    for t in range(4):
        plm.a0[t] = pl_a0[t]
        plm.a1[t] = pl_a1[t]
        plm.lo2[t] = pl_lo2[t]
        plm.hi2[t] = pl_hi2[t]
    plm.n_terms = 4
    plm.simple = pl_simple
    plm.floor2 = pl_floor2
    plm.n_table = pl_table.shape[0]
    plm.table = &pl_table[0] if pl_table.shape[0] > 0 else NULL
    plm.t0 = pl_t0
    plm.inv_step = pl_inv_step
    if plm.n_table == 1 or shifts.shape[0] < 1 or shifts.shape[0] > 7 or shifts.shape[1] != 2:
        free(plans)
        raise ValueError("a table needs 2 nodes or more; shifts must be (1..7, 2)")
    cells.n_cells = n_cells
    cells.x = &cell_x[0]
    cells.y = &cell_y[0]
    cells.ux = &cell_ux[0]
    cells.uy = &cell_uy[0]
    cells.eirp = &cell_eirp_dbm[0]
    cells.dh2 = &cell_dh2[0]
    cells.dz = &cell_dz[0]
    cells.cos_tilt = &cell_cos_tilt[0]
    cells.sin_tilt = &cell_sin_tilt[0]
    cells.etilt = &cell_etilt[0]
    cells.pattern = pattern
    cells.k_pattern = k_pattern
    cells.a_max = a_max
    cells.k_vertical = k_vertical
    cells.sla_v = sla_v
    cells.n_shift = shifts.shape[0]
    for t in range(7):
        # unused images are infinitely far: never the nearest
        cells.shift_x[t] = shifts[t, 0] if t < shifts.shape[0] else INFINITY
        cells.shift_y[t] = shifts[t, 1] if t < shifts.shape[0] else INFINITY
    rd.n_symbols = n_symbols
    if n == 0:
        free(plans)
        return
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=n_threads):
            tid = threadid()
            base = &scratch[tid, 0]
            _block(b * block_size, min(n, (b + 1) * block_size), &px[0], &py[0],
                   &order[0] if has_order else NULL, &cells, &plm, &rd,
                   &cell_n_antennas[0], &cell_information[0, 0], &cell_ul_offset_db[0],
                   horizontal_fix,
                   noise_dbm, noise_mw, plans, n_plans, objective, objective_value,
                   interference, prune, prune_margin_db, n,
                   base, base + block_size, base + 2 * block_size, base + 3 * block_size,
                   base + 4 * block_size, base + 5 * block_size, base + 6 * block_size,
                   &cands[tid, 0],
                   &serving[0], &distance_m[0], &theta_deg[0], &snr_db[0], &snr_ul_db[0],
                   &capacity_bps[0, 0], &error_m[0, 0], &loc_share[0, 0], &feasible[0, 0])
    free(plans)


cdef void _block(Py_ssize_t start, Py_ssize_t stop, const double *px, const double *py,
                 const int32_t *order, const ilac_cells *cells, const ilac_pathloss *plm,
                 const Radio *rd, const double *cell_n, const double *cell_info,
                 const double *cell_ul_offset, bint horizontal_fix,
                 double noise_dbm, double noise_mw,
                 const Plan *plans, int n_plans, int objective, double value,
                 bint interference, bint prune, double prune_margin_db, Py_ssize_t n_total,
                 double *bx, double *by, double *best_rx, double *best_idx, double *best_lin,
                 double *others, double *cell_best, int32_t *cand,
                 int32_t *serving, double *distance_m, double *theta_deg, double *snr_db,
                 double *snr_ul_db, double *capacity_bps, double *error_m, double *loc_share,
                 int8_t *feasible) noexcept nogil:
    cdef int m = <int>(stop - start), i, j, c, s, n_cand, ok
    cdef Py_ssize_t o
    cdef double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY
    cdef double dx, dy, d2, r, phi, th, rx, snr_noint, sinr_db, cap, err, share
    cdef double cos_t, fwd, crs, x2, y2, h2
    cdef int n_cells = cells.n_cells
    cdef Link k
    for i in range(m):
        o = order[start + i] if order != NULL else start + i
        bx[i] = px[o]
        by[i] = py[o]
        x0 = bx[i] if bx[i] < x0 else x0
        x1 = bx[i] if bx[i] > x1 else x1
        y0 = by[i] if by[i] < y0 else y0
        y1 = by[i] if by[i] > y1 else y1
        best_rx[i] = -INFINITY
        best_idx[i] = 0.0
        best_lin[i] = 0.0
        others[i] = 0.0
    if prune and not interference:
        n_cand = ilac_prune(cells, plm, x0, x1, y0, y1, prune_margin_db, cell_best, cand)
    else:
        n_cand = cells.n_cells
        for j in range(n_cand):
            cand[j] = j
    ilac_serve_block(bx, by, m, cells, cand, n_cand, plm, interference, best_rx, best_idx,
                     best_lin, others)
    for i in range(m):
        o = order[start + i] if order != NULL else start + i
        c = <int>best_idx[i]
        # the serving link again, with libm (through its nearest image with wrap-around)
        if cells.n_shift > 1:
            ilac_nearest_image(cells, c, bx[i], by[i], &dx, &dy)
        else:
            dx = bx[i] - cells.x[c]
            dy = by[i] - cells.y[c]
        d2 = dx * dx + dy * dy + cells.dh2[c]
        r = sqrt(d2)
        fwd = dx * cells.ux[c] + dy * cells.uy[c]
        crs = dx * cells.uy[c] - dy * cells.ux[c]
        phi = atan2(crs, fwd)
        d2 = d2 if d2 > plm.floor2 else plm.floor2
        rx = cells.eirp[c] - ilac_pathloss_db(plm, d2, log10(d2))
        if cells.pattern:
            rx = rx - ilac_attenuation_db(cells, c, fwd, crs if crs >= 0 else -crs, cells.pattern)
        snr_noint = rx - noise_dbm
        if interference:
            sinr_db = 10.0 * log10(pow(10.0, rx / 10.0) / (noise_mw + others[i]))
        else:
            sinr_db = snr_noint
        # a ULA sees the angle folded to [-90, 90] deg (front-back ambiguity)
        th = phi
        if th > M_PI / 2:
            th = M_PI - th
        elif th < -M_PI / 2:
            th = -M_PI - th
        cos_t = 0.0 if M_PI / 2 - (th if th >= 0 else -th) <= BROADSIDE_TOL else cos(th)
        # geometry of the fix: r^2 / cos^2 for the angle (0 on the array), and the
        # horizontal fix's range factor ((x^2 + h^2)^2 + x^2 y^2) / (x^2 r^2)
        if r == 0.0:
            k.g_angle = 0.0
        elif cos_t > 0.0:
            k.g_angle = r * r / (cos_t * cos_t)
        else:
            k.g_angle = INFINITY
        k.g_range = 1.0
        h2 = cells.dh2[c]
        if horizontal_fix and h2 > 0.0:
            x2 = (dx * dx + dy * dy) * cos_t * cos_t
            y2 = dx * dx + dy * dy - x2
            k.g_range = ((x2 + h2) * (x2 + h2) + x2 * y2) / (x2 * r * r) if x2 > 0.0 else INFINITY
        k.n = cell_n[c]
        k.ang_dl = cell_info[c]
        k.ang_ul = cell_info[n_cells + c]
        k.del_dl = cell_info[2 * n_cells + c]
        k.del_ul = cell_info[3 * n_cells + c]
        k.gamma = pow(10.0, sinr_db / 10.0)
        k.snr_ul = pow(10.0, (snr_noint + cell_ul_offset[c]) / 10.0)
        serving[o] = c
        distance_m[o] = r
        theta_deg[o] = th * (180.0 / M_PI)
        snr_db[o] = sinr_db
        snr_ul_db[o] = snr_noint + cell_ul_offset[c]
        for s in range(n_plans):
            if objective == 0:
                ok = plan_target(&k, rd, &plans[s], value, &cap, &err, &share)
            else:
                ok = plan_budget(&k, rd, &plans[s], value, &cap, &err, &share)
            capacity_bps[s * n_total + o] = cap
            error_m[s * n_total + o] = err
            loc_share[s * n_total + o] = share
            feasible[s * n_total + o] = ok
