/*
 * The coverage kernel after the serving search: link state, every plan-form scheme and
 * the best scheme, for one block of points, SIMD over the points.
 *
 * Stages per block (ilac_run_group runs them for a group of blocks, pruning twice):
 *
 * 1. serving cell (ilac_serving.h): linear domain when the model allows it;
 * 2. link state of the serving cell (ilac_link_block): distance, angle off broadside,
 *    SNR or SINR, the uplink SNR and the geometry of the fix, with the branch-free
 *    log, exp and atan of ilac_serving.h (a few ulp, against libm);
 * 3. per plan (ilac_plan_block): the split by a bisection run in lockstep over the
 *    block's points (every point needs the same number of steps), on the CRB (target)
 *    or on the capacity (budget); the capacity is Eq. (1) at the best integer pilot
 *    length, from the real optimum of Eq. (17) and a check of its two neighbours, the
 *    few points whose optimum lies further walked to it one by one;
 * 4. best scheme per point, written with the rest straight into the outputs.
 *
 * Every function here is checked against numpy references in tests/test_coverage.py.
 */
#ifndef ILAC_KERNEL_H
#define ILAC_KERNEL_H

#include <stdlib.h>

#include "ilac_serving.h"

/* ---- the typed interface -------------------------------------------------------------- */

/* Rows of a plan, in the order of the kernel's plan_data (PLAN_ROWS in _coverage.pyx). */
enum {
    ILAC_ROW_LOC_SHARE,              /* fraction of the resource for positioning */
    ILAC_ROW_COMM_BANDWIDTH_HZ,      /* bandwidth left for communication [Hz] */
    ILAC_ROW_COMM_SYMBOLS,           /* tau_C: symbols for communication, pilots included */
    ILAC_ROW_DL_FRACTION,            /* fraction of the data symbols sent downlink */
    ILAC_ROW_COMM_POWER_FRACTION,    /* factor on the data SNR */
    ILAC_ROW_LOC_SYMBOLS,            /* tau_L */
    ILAC_ROW_LOC_SNR_GAIN,           /* factor on the SNR of the positioning signal */
    ILAC_ROW_LOC_BETA2,              /* mean-square bandwidth of the delay information [Hz^2] */
    ILAC_PLAN_ROWS
};

#define ILAC_DIR_MIXED 0             /* data both ways */
#define ILAC_DIR_DOWNLINK 1          /* every candidate has dl_fraction 1 */
#define ILAC_DIR_UPLINK 2            /* every candidate has dl_fraction 0 */

typedef struct {
    int n;                           /* candidates, >= 1 */
    int loc_uplink;                  /* uplink sounding (else downlink PRS) */
    int direction;                   /* ILAC_DIR_* of the data */
    int steps;                       /* bisection steps: ceil(log2(n)) */
    const double *row[ILAC_PLAN_ROWS];
    /* per candidate 1 / (gain tau_L) and 1 / (gain tau_L beta^2) (inf where 0): the
     * CRB is a u_j + b v_j with per-point a and b (ilac_crb_fast) */
    const double *inv_e, *inv_eb;
    /* closed form of the split (PlanTable detects it): 1/u_j = e0 + e1 j and v_j = kappa u_j
     * (the positioning energy grows by whole steps at one bandwidth: the time split) */
    int affine;
    double e0, e1, kappa;
    /* beta^2 shared by every candidate (0 if they differ): the network bound's geometry
     * factor is then one number per point */
    double beta_const;
} ilac_plan;

#define ILAC_OBJECTIVE_TARGET 0
#define ILAC_OBJECTIVE_BUDGET 1

typedef struct {
    int n_symbols;                   /* symbols of the frame (N) */
    double noise_dbm;                /* noise over the whole band [dBm] */
    double noise_mw;                 /* the same [mW] */
    int interference;                /* SINR with every other cell at full load */
    int horizontal_fix;              /* achievable bound: horizontal fix, both heights */
    const double *n_antennas;        /* N_T per cell */
    const double *information;       /* (4, cells): ang_dl, ang_ul, del_dl, del_ul */
    const double *ul_offset_db;      /* P_UE - P_gNB per cell [dB] */
    int objective;                   /* ILAC_OBJECTIVE_* */
    double objective_value;          /* target^2 [m^2] or the capacity-loss fraction */
    int net_k;                       /* 0: the serving cell's bound; 1..8: fuse the K strongest */
    int net_mode;                    /* ILAC_NET_* */
    double net_scale;                /* each cell's share of the positioning energy (1/reuse) */
    int net_reuse;                   /* PRS reuse factor: cell c sends on slot c mod reuse */
    int net_prs_interference;        /* the other cells' PRS on the same slot interfere */
} ilac_radio;

#define ILAC_NET_TOA_AOA 0           /* synchronised ToA and AoA of every cell */
#define ILAC_NET_TDOA 1              /* time differences (UE clock offset unknown) and AoA */
#define ILAC_NET_AOA 2               /* angles only */
/* Per point and direction (downlink PRS, uplink sounding) the network bound is kept as
 * ILAC_NET_VALUES numbers: the positioning information is J = e (A + beta^2 B) for a
 * candidate of energy e = gain tau_L and mean-square bandwidth beta^2, so
 * CRB = tr J^-1 = (tA + beta^2 tB) / (e (d0 + beta^2 d1 + beta^4 d2)), and rs is the
 * serving cell's range variance times e beta^2 (for the GDOP). */
#define ILAC_NET_VALUES 6
#define ILAC_NET_SINGULAR_RTOL 1e-12   /* det J <= rtol (tr J)^2: unbounded (inf) */

typedef struct {
    int64_t n_total;                 /* points of the call (the stride of plan rows) */
    int32_t *serving;
    double *distance_m, *theta_deg, *snr_db, *snr_ul_db;
    double *capacity_bps, *error_m, *loc_share;     /* (plans, n_total) */
    int8_t *feasible;                               /* (plans, n_total) */
    int16_t *best;                   /* best plan per point, -1 if none; NULL: not wanted */
    double *gdop;                    /* (plans, n_total) or NULL: error / serving range error */
    int8_t *cells_used;              /* cells with positioning information, or NULL */
    double *net_info;                /* (2 ILAC_NET_VALUES + 1, n_total) or NULL: the
                                      * network bound's numbers, then the on-site flag */
} ilac_outputs;

/* Per-block link state of the serving cell (structure of arrays, block order). */
typedef struct {
    int32_t *cell;
    double *r, *theta_deg, *snr_db, *snr_ul_db;
    double *gamma, *snr_ul, *g_angle, *g_range;
} ilac_link;

/* ---- small helpers ---------------------------------------------------------------------- */

#define ILAC_LN2 0.69314718055994530942
#define ILAC_INV_LN10 0.43429448190325182765
#define ILAC_DB_TO_NAT 0.23025850929940456840     /* ln(10) / 10 */
#define ILAC_C_M_S 299792458.0                     /* speed of light [m/s] */
/* Relative slack of the objective tests (CRB <= target^2, capacity >= (1 - f) C), so that
 * splits exactly on the boundary (common with round numbers) do not depend on rounding. */
#define ILAC_OBJECTIVE_RTOL 1e-12
/* Angles this close to end-fire count as end-fire (cos theta = 0). [rad] */
#define ILAC_BROADSIDE_TOL 1e-12

/* log(1 + x) for x >= 0, branch-free: log(u) - ((u - 1) - x) / u with u = 1 + x corrects
 * the rounding of u (Goldberg 1991); exact x where u rounds to 1. The correction is at
 * most half an ulp of 1, so its 1/u is taken as 2 - u (relative error (u - 1)^2) below
 * u = 2 and dropped above, where it is about an ulp of the result or less: no division. */
ILAC_INLINE double ilac_log1p(double x)
{
    double xc = x < 1e300 ? x : 1e300;
    double u = 1.0 + xc;
    double inv_u = u < 2.0 ? 2.0 - u : 0.0;
    double res = ilac_log(u) - ((u - 1.0) - xc) * inv_u;
    return u == 1.0 ? xc : res;
}

/* Natural log to about 1e-4, without a division: for starting points only. */
ILAC_INLINE double ilac_log_rough(double x)
{
    double e, f = ilac_log_reduce(x, &e);    /* |f| <= 0.415: log(1 + f) by Taylor */
    double p = f * (1.0 + f * (-0.5 + f * (1.0 / 3.0 + f * (-0.25 + f * (0.2 + f * (
        -1.0 / 6.0 + f * (1.0 / 7.0 + f * (-0.125 + f * (1.0 / 9.0)))))))));
    return e * 0.69314718055994530942 + p;
}

/* ---- stage 2: the link state ------------------------------------------------------------- */

ILAC_INLINE void ilac_link_points(const double *restrict bx, const double *restrict by, int m,
                                  const double *restrict best_idx,
                                  const double *restrict others, const ilac_cells *cells,
                                  const ilac_pathloss *pl, const ilac_radio *rd, ilac_link *lk,
                                  const int kind, const int pattern, const int wrap)
{
    const double floor2 = pl->floor2;
    const double noise_dbm = rd->noise_dbm, noise_mw = rd->noise_mw, pi = M_PI;
    const int interference = rd->interference, hfix = rd->horizontal_fix;
    int32_t *restrict cell = lk->cell;
    double *restrict r_out = lk->r, *restrict th_out = lk->theta_deg;
    double *restrict snr_out = lk->snr_db, *restrict snr_ul_out = lk->snr_ul_db;
    double *restrict gamma_out = lk->gamma, *restrict sul_out = lk->snr_ul;
    double *restrict ga_out = lk->g_angle, *restrict gr_out = lk->g_range;
#pragma omp simd
    for (int i = 0; i < m; ++i) {
        int c = (int)best_idx[i];
        double dx, dy;
        ilac_offset(cells, c, bx[i], by[i], wrap, &dx, &dy);
        double h2 = dx * dx + dy * dy, dh2 = cells->dh2[c], d2 = h2 + dh2;
        double r = sqrt(d2);
        double ux = cells->ux[c], uy = cells->uy[c];
        double fwd = dx * ux + dy * uy, crs = dx * uy - dy * ux, acrs = fabs(crs);
        double d2c = d2 > floor2 ? d2 : floor2;
        double l10 = ilac_log(d2c) * ILAC_INV_LN10;
        double rx = cells->eirp[c] - ilac_loss_db(pl, cells->x[c], cells->y[c], bx[i], by[i], h2,
                                                  d2c, l10, kind);
        if (pattern)
            rx -= ilac_attenuation_db(cells, c, fwd, acrs, pattern);
        double snr = rx - noise_dbm;
        double sinr = interference
            ? rx - 10.0 * ILAC_INV_LN10 * ilac_log(noise_mw + others[i]) : snr;
        /* angle off broadside, folded to [-90, 90] deg (a ULA's front-back ambiguity) */
        double phi = ilac_angle(fwd, acrs);                      /* [0, pi] */
        double th = phi > 0.5 * pi ? pi - phi : phi;
        th = crs < 0.0 ? -th : th;
        /* cos(theta) = |fwd| / |horizontal offset|; 1 on the site, 0 near end-fire */
        double hyp = sqrt(h2);
        double cos_t = hyp > 0.0 ? fabs(fwd) / hyp : 1.0;
        cos_t = cos_t <= ILAC_BROADSIDE_TOL ? 0.0 : cos_t;
        double g_angle = r == 0.0 ? 0.0 : (cos_t > 0.0 ? d2 / (cos_t * cos_t) : INFINITY);
        /* the horizontal fix's range factor ((x^2 + h^2)^2 + x^2 y^2) / (x^2 r^2) */
        double x2 = h2 * cos_t * cos_t, y2 = h2 - x2;
        double g_fix = x2 > 0.0 ? ((x2 + dh2) * (x2 + dh2) + x2 * y2) / (x2 * d2) : INFINITY;
        double snr_ul_db = snr + rd->ul_offset_db[c];
        cell[i] = c;
        r_out[i] = r;
        th_out[i] = th * (180.0 / M_PI);
        snr_out[i] = sinr;
        snr_ul_out[i] = snr_ul_db;
        gamma_out[i] = ilac_exp(sinr * ILAC_DB_TO_NAT);
        sul_out[i] = ilac_exp(snr_ul_db * ILAC_DB_TO_NAT);
        ga_out[i] = g_angle;
        gr_out[i] = (hfix && dh2 > 0.0) ? g_fix : 1.0;
    }
}

ILAC_CLONES static void ilac_link_block(const double *bx, const double *by, int m,
                                        const double *best_idx, const double *others,
                                        const ilac_cells *cells, const ilac_pathloss *pl,
                                        const ilac_radio *rd, ilac_link *lk)
{
    const int kind = ilac_model_kind(pl), wrap = cells->n_shift > 1;
    const int code = ILAC_VARIANT(wrap, kind, cells->pattern);
#define ILAC_LINK(W, S, P) case ILAC_VARIANT(W, S, P): \
    ilac_link_points(bx, by, m, best_idx, others, cells, pl, rd, lk, S, P, W); break;
    switch (code) {
    ILAC_FOR_VARIANTS(ILAC_LINK)
    default: break;
    }
#undef ILAC_LINK
}

/* ---- stage 2b: network positioning --------------------------------------------------------- */

/* The fused position information of the K cells top_idx (K rows of stride nd; -1: none)
 * at each point, per direction (downlink PRS with the rows 0, 2 of the informations and
 * the PRS SINR; uplink sounding with the rows 1, 3 and the uplink SNR), reduced to the
 * ILAC_NET_VALUES numbers of ilac_net_factor. Per cell c (docs/model.md, "Network
 * positioning"): the range rho_c carries J_r = snr del_c / c^2 along the unit offset, the
 * array's spatial frequency u_c = a_c . d_c / rho_c carries J_u = snr ang_c along grad
 * u_c; each with the energy share net_scale. Geometry: the paper's bound takes the 3-D
 * range along the horizontal direction (height 0), the achievable bound the true offset
 * with the height (its horizontal fix). TDoA takes the Schur complement over the clock
 * offset. A cell on the point (rho = 0) gives range information along the serving
 * broadside; when it is the serving cell the across direction is exact (as the serving
 * cell's bound, whose AoA term vanishes there) and the bound is the one along it. */
ILAC_INLINE void ilac_net_points(const double *restrict bx, const double *restrict by, int m,
                                 const double *restrict top_rx,
                                 const double *restrict top_idx, size_t nd,
                                 const double *restrict total, const double *restrict psum,
                                 const ilac_cells *cells,
                                 const ilac_pathloss *pl, const ilac_radio *rd,
                                 const int32_t *restrict serving, double *restrict net,
                                 int8_t *restrict onsite_out, int8_t *restrict used_out,
                                 const int kind, const int pattern, const int wrap)
{
    const double noise_dbm = rd->noise_dbm, noise_mw = rd->noise_mw, scale = rd->net_scale;
    const double inv_c2 = 1.0 / (ILAC_C_M_S * ILAC_C_M_S);
    const int K = rd->net_k, interference = rd->interference, hfix = rd->horizontal_fix;
    const int mode = rd->net_mode, n_cells = cells->n_cells;
    const int prs_int = rd->net_prs_interference && !interference;
    const double *info = rd->information;
#pragma omp simd
    for (int i = 0; i < m; ++i) {
        double a00[2] = {0.0, 0.0}, a01[2] = {0.0, 0.0}, a11[2] = {0.0, 0.0};
        double b00[2] = {0.0, 0.0}, b01[2] = {0.0, 0.0}, b11[2] = {0.0, 0.0};
        double p0[2] = {0.0, 0.0}, p1[2] = {0.0, 0.0}, q[2] = {0.0, 0.0};
        double rs[2] = {INFINITY, INFINITY};
        const int s = serving[i];
        const double sx = cells->ux[s], sy = cells->uy[s];
        int onsite = 0, used = 0;
        for (int k = 0; k < K; ++k) {
            double cdv = top_idx[k * nd + i];
            int live = cdv >= 0.0, c = live ? (int)cdv : 0;
            double dx, dy;
            ilac_offset(cells, c, bx[i], by[i], wrap, &dx, &dy);
            double rx = top_rx[k * nd + i];           /* -inf where no cell */
            double h2 = dx * dx + dy * dy, d2 = h2 + cells->dh2[c];
            double r = sqrt(d2), hd = sqrt(h2);
            double ux = cells->ux[c], uy = cells->uy[c];
            double snr_db = rx - noise_dbm, sinr_db = snr_db;
            if (interference | prs_int) {
                /* every other cell at full load, or the other PRS on this cell's slot */
                double own = ilac_exp(rx * ILAC_DB_TO_NAT);
                double rest = (interference ? total[i] : psum[k * nd + i]) - own;
                sinr_db = rx - 10.0 * ILAC_INV_LN10 * ilac_log(noise_mw + (rest > 0.0 ? rest : 0.0));
            }
            live = live & (rx > -INFINITY);
            used += live;
            double snr[2] = {live ? ilac_exp(sinr_db * ILAC_DB_TO_NAT) * scale : 0.0,
                             live ? ilac_exp((snr_db + rd->ul_offset_db[c]) * ILAC_DB_TO_NAT)
                                    * scale : 0.0};
            /* the offset whose length is the range: true (with the height) or stretched */
            double gx, gy;
            if (hfix) {
                gx = dx;
                gy = dy;
            } else {
                double st = hd > 0.0 ? r / hd : 0.0;
                gx = hd > 0.0 ? dx * st : r * ux;      /* under the site: along broadside */
                gy = hd > 0.0 ? dy * st : r * uy;
            }
            int on = r == 0.0;
            double inv = on ? 0.0 : 1.0 / r;
            double rgx = on ? sx : gx * inv, rgy = on ? sy : gy * inv;
            double ax = uy, ay = -ux;                  /* along the array */
            double u = (ax * gx + ay * gy) * inv;
            double vx = ax * inv - u * gx * inv * inv, vy = ay * inv - u * gy * inv * inv;
            onsite |= on & (c == s);
            for (int t = 0; t < 2; ++t) {
                double ja = snr[t] * info[t * (size_t)n_cells + c];
                double jr = snr[t] * info[(2 + t) * (size_t)n_cells + c] * inv_c2;
                a00[t] += ja * vx * vx;
                a01[t] += ja * vx * vy;
                a11[t] += ja * vy * vy;
                b00[t] += jr * rgx * rgx;
                b01[t] += jr * rgx * rgy;
                b11[t] += jr * rgy * rgy;
                p0[t] += jr * rgx;
                p1[t] += jr * rgy;
                q[t] += jr;
                rs[t] = (live & (c == s) & (jr > 0.0)) ? 1.0 / jr : rs[t];
            }
        }
        for (int t = 0; t < 2; ++t) {
            double B00 = b00[t], B01 = b01[t], B11 = b11[t];
            if (mode == ILAC_NET_AOA) {
                B00 = 0.0;
                B01 = 0.0;
                B11 = 0.0;
            } else if (mode == ILAC_NET_TDOA) {
                double kq = q[t] > 0.0 ? 1.0 / q[t] : 0.0;
                B00 -= kq * p0[t] * p0[t];
                B01 -= kq * p0[t] * p1[t];
                B11 -= kq * p1[t] * p1[t];
            }
            double A00 = a00[t], A01 = a01[t], A11 = a11[t];
            double *o = net + (size_t)t * ILAC_NET_VALUES * nd;
            if (onsite) {            /* exact across the serving broadside: the bound along it */
                o[i] = 1.0;
                o[nd + i] = 0.0;
                o[2 * nd + i] = sx * sx * A00 + 2.0 * sx * sy * A01 + sy * sy * A11;
                o[3 * nd + i] = sx * sx * B00 + 2.0 * sx * sy * B01 + sy * sy * B11;
                o[4 * nd + i] = 0.0;
            } else {
                o[i] = A00 + A11;
                o[nd + i] = B00 + B11;
                o[2 * nd + i] = A00 * A11 - A01 * A01;
                o[3 * nd + i] = A00 * B11 + A11 * B00 - 2.0 * A01 * B01;
                o[4 * nd + i] = B00 * B11 - B01 * B01;
            }
            o[5 * nd + i] = rs[t];
        }
        onsite_out[i] = (int8_t)onsite;
        used_out[i] = (int8_t)used;
    }
}

/* PRS interference (prs_interference): per point and fused cell k, the power of every
 * cell on k's slot (c mod reuse), its own included (net_points subtracts it). One pass
 * over all cells, SIMD over the points. */
ILAC_INLINE void ilac_prs_points(const double *restrict bx, const double *restrict by, int m,
                                 const double *restrict top_idx, size_t nd,
                                 const ilac_cells *cells, const ilac_pathloss *pl,
                                 const ilac_radio *rd, double *restrict psum,
                                 const int kind, const int pattern, const int wrap)
{
    const int K = rd->net_k, reuse = rd->net_reuse;
    for (int k = 0; k < K; ++k)
        for (int i = 0; i < m; ++i)
            psum[k * nd + i] = 0.0;
    for (int c = 0; c < cells->n_cells; ++c) {
        const double slot = (double)(c % reuse);
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            double dx, dy;
            double rx = ilac_rx_db(cells, c, pl, bx[i], by[i], kind, pattern, wrap, &dx, &dy);
            double lin = rx > -INFINITY ? ilac_exp(rx * ILAC_DB_TO_NAT) : 0.0;
            for (int k = 0; k < K; ++k) {
                double t = top_idx[k * nd + i];
                double ts = t >= 0.0 ? t - (double)reuse * floor(t / (double)reuse) : -1.0;
                psum[k * nd + i] += ts == slot ? lin : 0.0;
            }
        }
    }
}

ILAC_CLONES static void ilac_net_block(const double *bx, const double *by, int m,
                                       double *top_rx, double *top_idx, size_t nd,
                                       const double *total, double *psum,
                                       const ilac_cells *cells, const ilac_pathloss *pl,
                                       const ilac_radio *rd, const int32_t *serving,
                                       double *net, int8_t *onsite, int8_t *used)
{
    const int kind = ilac_model_kind(pl), wrap = cells->n_shift > 1;
    const int code = ILAC_VARIANT(wrap, kind, cells->pattern), K = rd->net_k;
    /* the serving cell is always among the fused ones (a tie decided the other way, or a
     * linear search's rounding, may have left it out of the top K) */
    for (int i = 0; i < m; ++i) {
        int found = 0;
        for (int k = 0; k < K; ++k)
            found |= top_idx[k * nd + i] == (double)serving[i];
        if (!found) {
            double dx, dy;
            top_idx[(K - 1) * nd + i] = (double)serving[i];
            top_rx[(K - 1) * nd + i] = ilac_rx_db(cells, serving[i], pl, bx[i], by[i], kind,
                                                  cells->pattern, wrap, &dx, &dy);
        }
    }
    if (rd->net_prs_interference && !rd->interference) {
#define ILAC_PRS(W, S, P) case ILAC_VARIANT(W, S, P): \
        ilac_prs_points(bx, by, m, top_idx, nd, cells, pl, rd, psum, S, P, W); break;
        switch (code) {
        ILAC_FOR_VARIANTS(ILAC_PRS)
        default: break;
        }
#undef ILAC_PRS
    }
#define ILAC_NET(W, S, P) case ILAC_VARIANT(W, S, P): \
    ilac_net_points(bx, by, m, top_rx, top_idx, nd, total, psum, cells, pl, rd, serving, net, \
                    onsite, \
                    used, \
                    S, P, W); break;
    switch (code) {
    ILAC_FOR_VARIANTS(ILAC_NET)
    default: break;
    }
#undef ILAC_NET
}

/* ---- stage 3: the schemes ----------------------------------------------------------------- */

/* Per-point inputs of the plan stage, gathered once per block. */
typedef struct {
    const double *gamma, *snr_ul, *g_angle, *g_range;
    const int32_t *cell;
    const double *net;               /* NULL, or 2 ILAC_NET_VALUES rows of stride nd */
    const int8_t *onsite;            /* on the serving cell: the bound along its broadside */
    size_t nd;
} ilac_plan_in;

/* What the CRB of a plan's candidates needs, as plain local pointers (so that the loops
 * over points see no aliasing and vectorize). */
typedef struct {
    const double *snr;               /* per point: gamma (downlink PRS) or uplink SNR */
    const double *ang, *del;         /* per cell: informations per unit SNR */
    const double *g_angle, *g_range; /* per point */
    const int32_t *cell;             /* per point */
} ilac_crb_ctx;

static ilac_crb_ctx ilac_crb_context(const ilac_plan *p, const ilac_radio *rd, int n_cells,
                                     const ilac_plan_in *in)
{
    const double *info = rd->information;
    ilac_crb_ctx x = {p->loc_uplink ? in->snr_ul : in->gamma,
                      p->loc_uplink ? info + n_cells : info,
                      p->loc_uplink ? info + 3 * (size_t)n_cells : info + 2 * (size_t)n_cells,
                      in->g_angle, in->g_range, in->cell};
    return x;
}

/* Per-point factors of the CRB: CRB(j) = a inv_e[j] + b inv_eb[j] with a = g_angle /
 * (snr J_angle) (0 on the array, inf without angle information) and b = c^2 g_range /
 * (snr J_delay) (Eq. 7, or the achievable bound's informations). */
ILAC_INLINE void ilac_crb_factors(const ilac_crb_ctx *x, int i, double *a, double *b)
{
    int c = x->cell[i];
    double ea = x->snr[i] * x->ang[c], ed = x->snr[i] * x->del[c];
    double ga = x->g_angle[i];
    *a = ga == 0.0 ? 0.0 : (ea > 0.0 ? ga / ea : INFINITY);
    *b = ed > 0.0 ? ILAC_C_M_S * ILAC_C_M_S * x->g_range[i] / ed : INFINITY;
}

/* CRB_L of candidate j from the point's factors [m^2]: a u_j + b v_j, infinite where the
 * candidate has no positioning energy (u_j = inf; a may be 0 there: no 0 inf). */
ILAC_INLINE double ilac_crb_at(double a, double b, double u, double v)
{
    return u < INFINITY ? a * u + b * v : INFINITY;
}

/* The network bound's factor F(beta^2) = tr / det of A + beta^2 B at point i (CRB = F / e),
 * infinite where singular. A Fisher matrix has tr > 0 and det > 0: rounding residue of a
 * singular one (tr or det of either sign near 0) is unbounded too, never a negative bound
 * (whose root would be NaN). net: the direction's ILAC_NET_VALUES rows. [m^2] */
ILAC_INLINE double ilac_net_factor(const double *net, size_t nd, int onsite, int i,
                                   double beta2)
{
    double t_a = net[i], t_b = net[nd + i];
    double d0 = net[2 * nd + i], d1 = net[3 * nd + i], d2 = net[4 * nd + i];
    double tr = t_a + beta2 * t_b, det = d0 + beta2 * (d1 + beta2 * d2);
    int ok = onsite ? det > 0.0 : det > ILAC_NET_SINGULAR_RTOL * tr * tr;
    ok = ok & (det < INFINITY) & (tr > 0.0) & (tr < INFINITY);
    return ok ? tr / det : INFINITY;
}

/* CRB_L of candidate j at point i [m^2]: the serving cell's (a u_j + b v_j) or, with net
 * (the direction's rows of the network bound), u_j F(beta_j^2). */
ILAC_INLINE double ilac_plan_crb(const ilac_crb_ctx *x, const double *net, size_t nd,
                                 const int8_t *onsite, const ilac_plan *p, int i, int j)
{
    const double u = p->inv_e[j], beta2 = p->row[ILAC_ROW_LOC_BETA2][j];
    /* no band, no positioning signal (the serving bound is infinite there through its
     * ToA term; the network's angles alone would not be) */
    if (net)
        return (u < INFINITY && beta2 > 0.0)
            ? u * ilac_net_factor(net, nd, onsite[i], i, beta2) : INFINITY;
    double a, b;
    ilac_crb_factors(x, i, &a, &b);
    return ilac_crb_at(a, b, u, p->inv_eb[j]);
}

/* GDOP of candidate j at point i: the position error over the serving cell's range error
 * with the same positioning signal (inf where either is unbounded). */
ILAC_INLINE double ilac_plan_gdop(const ilac_crb_ctx *x, const double *net, size_t nd,
                                  const ilac_plan *p, int i, int j, double crb)
{
    double rs;
    if (net) {
        rs = net[5 * nd + i];
    } else {
        double ed = x->snr[i] * x->del[x->cell[i]];
        rs = ed > 0.0 ? ILAC_C_M_S * ILAC_C_M_S / ed : INFINITY;
    }
    double var = rs * p->inv_eb[j];
    return (crb < INFINITY && var < INFINITY && var > 0.0) ? sqrt(crb / var) : INFINITY;
}

/* Eq. (1) and its uplink counterpart in one frame [nat/Hz], x = gain q / (1 + q) with
 * q = k snr_pilot; the direction is a constant of the plan:
 *  - downlink: (tau_C - k) ln(1 + x_dl) (Eq. 1); uplink: (tau_C - k) ln(1 + x_ul);
 *  - mixed (TDD, reciprocity): a downlink part of D = round(f tau_C) symbols and an uplink
 *    part of U = tau_C - D; the k uplink pilots sit in the uplink part (overflowing into
 *    the downlink part only when k > U), so the frame carries
 *    (D - max(k - U, 0)) ln(1 + x_dl) + max(U - k, 0) ln(1 + x_ul). */
ILAC_INLINE double ilac_frame(double tau_c, double k, double g_dl, double g_ul, double f,
                              double snr_pilot, const int direction)
{
    double q = k * snr_pilot, r = q / (1.0 + q);
    if (direction == ILAC_DIR_DOWNLINK)
        return (tau_c - k) * ilac_log1p(g_dl * r);
    if (direction == ILAC_DIR_UPLINK)
        return (tau_c - k) * ilac_log1p(g_ul * r);
    double d = floor(f * tau_c + 0.5), u = tau_c - d;
    double over = k > u ? k - u : 0.0, left = u > k ? u - k : 0.0;
    double dl = (d - over) * ilac_log1p(g_dl * r);
    return left > 0.0 ? dl + left * ilac_log1p(g_ul * r) : dl;
}

/* The best of F over the whole pilot lengths lo..hi by walking uphill from k (clamped)
 * to the smallest maximiser: F is concave there (a log-concave product, or in a TDD
 * frame a sum of concave terms on each side of k = U). [nat/Hz] */
static double ilac_frame_climb(double tau_c, double k, double lo, double hi, double g_dl,
                               double g_ul, double f, double sp, int direction)
{
#define ILAC_F(K) (direction == ILAC_DIR_DOWNLINK ? ilac_frame(tau_c, K, g_dl, g_ul, f, sp, 1) \
                   : direction == ILAC_DIR_UPLINK ? ilac_frame(tau_c, K, g_dl, g_ul, f, sp, 2) \
                   : ilac_frame(tau_c, K, g_dl, g_ul, f, sp, 0))
    k = k < lo ? lo : (k > hi ? hi : k);
    double here = ILAC_F(k), next;
    if (k < hi && (next = ILAC_F(k + 1.0)) > here) {
        do {
            k += 1.0;
            here = next;
        } while (k < hi && (next = ILAC_F(k + 1.0)) > here);
        return here;
    }
    while (k > lo && (next = ILAC_F(k - 1.0)) >= here) {
        k -= 1.0;
        here = next;
    }
    return here;
#undef ILAC_F
}

/* Best integer pilot length 1 <= k <= tau_C - 1 from the start k. A TDD frame is concave
 * on each side of its kink at k = U (the uplink part's end) but not across it when the
 * uplink is the stronger link: both sides are climbed and the better kept (the lower
 * side on ties). [nat/Hz] */
static double ilac_frame_walk(double tau_c, double k, double g_dl, double g_ul, double f,
                              double sp, int direction)
{
    const double top = tau_c - 1.0;
    if (direction != ILAC_DIR_MIXED)
        return ilac_frame_climb(tau_c, k, 1.0, top, g_dl, g_ul, f, sp, direction);
    double u = tau_c - floor(f * tau_c + 0.5);
    double split = u < 1.0 ? 1.0 : (u > top ? top : u);
    double low = ilac_frame_climb(tau_c, k, 1.0, split, g_dl, g_ul, f, sp, direction);
    double high = split < top ? ilac_frame_climb(tau_c, k, split, top, g_dl, g_ul, f, sp,
                                                 direction) : -INFINITY;
    return high > low ? high : low;
}

/* Start of the pilot search: floor of the real optimum of the bound, Eq. (17), within
 * [1, tau_C - 2] (a rough log suffices: the search is exact from any start). */
ILAC_INLINE double ilac_pilot_start(double tc, double n, double s, double sp)
{
    double lam = ilac_log_rough(1.0 + n * s / (1.0 + s));            /* Lambda */
    /* Eq. (17): sqrt(tau_C B^2 / Lambda), B^2 = N (s / sp) / (1 + (N + 1) s) */
    double guess = sqrt(tc * n * s / (sp * (1.0 + (n + 1.0) * s) * lam));
    double k = (guess >= 1.0 && guess <= tc - 2.0) ? floor(guess)
        : (guess > tc - 2.0 ? tc - 2.0 : 1.0);                        /* nan: 1 */
    return k >= 1.0 ? k : 1.0;
}

/* Capacity [bit/s] of candidate sel[i] of plan p at each point i of the block: Eq. (1) at
 * the best integer pilot length. F is evaluated at k - 1 .. k + 2 around the start k;
 * the best of the two middle ones, if it beats both its neighbours (strictly on the
 * left), is the smallest maximiser (unimodality); the few other points are walked there
 * one by one afterwards (flag). */
ILAC_INLINE void ilac_capacity_points(const ilac_plan *p, const ilac_radio *rd, int n_cells,
                                      const ilac_plan_in *in, int m,
                                      const int32_t *restrict sel, double *restrict cap,
                                      int8_t *restrict walk, const int direction)
{
    const double *tc_row = p->row[ILAC_ROW_COMM_SYMBOLS];
    const double *pow_row = p->row[ILAC_ROW_COMM_POWER_FRACTION];
    const double *f_row = p->row[ILAC_ROW_DL_FRACTION];
    const double *bw_row = p->row[ILAC_ROW_COMM_BANDWIDTH_HZ];
    const double per_symbol = 1.0 / ((double)rd->n_symbols * ILAC_LN2);
    const double *restrict n_ant = rd->n_antennas, *restrict gamma = in->gamma;
    const double *restrict snr_ul = in->snr_ul;
    const int32_t *restrict cell = in->cell;
#define ILAC_POINT_SETUP \
        int j = sel[i], c = cell[i]; \
        double tc = tc_row[j], pw = pow_row[j], f = f_row[j]; \
        double n = n_ant[c], sp = snr_ul[i]; \
        double s_dl = gamma[i] * pw, s_ul = sp * pw; \
        double g_dl = n * s_dl / (1.0 + s_dl), g_ul = n * s_ul / (1.0 + s_ul); \
        double s = direction == ILAC_DIR_DOWNLINK ? s_dl \
            : (direction == ILAC_DIR_UPLINK ? s_ul : (f >= 0.5 ? s_dl : s_ul)); \
        double k = ilac_pilot_start(tc, n, s, sp);
#pragma omp simd
    for (int i = 0; i < m; ++i) {
        ILAC_POINT_SETUP
        double f0 = ilac_frame(tc, k, g_dl, g_ul, f, sp, direction);
        double f1 = k + 1.0 <= tc - 1.0 ? ilac_frame(tc, k + 1.0, g_dl, g_ul, f, sp, direction)
                                        : -INFINITY;
        double fm = k > 1.0 ? ilac_frame(tc, k - 1.0, g_dl, g_ul, f, sp, direction) : -INFINITY;
        double f2 = k + 2.0 <= tc - 1.0 ? ilac_frame(tc, k + 2.0, g_dl, g_ul, f, sp, direction)
                                        : -INFINITY;
        int second = f1 > f0;                       /* the smaller of equals: k */
        double best = second ? f1 : f0;
        double left = second ? f0 : fm, right = second ? f2 : f1;
        int settled = (tc <= 1.0) | ((left < best) & (right <= best)
                                     & (direction != ILAC_DIR_MIXED));
        walk[i] = !settled;
        cap[i] = bw_row[j] * per_symbol * (tc <= 1.0 ? 0.0 : best);
    }
    /* the few points whose optimum is further away */
    for (int i = 0; i < m; ++i) {
        if (!walk[i])
            continue;
        ILAC_POINT_SETUP
        cap[i] = bw_row[j] * per_symbol * ilac_frame_walk(tc, k, g_dl, g_ul, f, sp, direction);
    }
#undef ILAC_POINT_SETUP
}

ILAC_CLONES static void ilac_capacity_block(const ilac_plan *p, const ilac_radio *rd, int n_cells,
                                const ilac_plan_in *in, int m, const int32_t *sel,
                                double *cap, int8_t *walk)
{
    switch (p->direction) {
    case ILAC_DIR_DOWNLINK:
        ilac_capacity_points(p, rd, n_cells, in, m, sel, cap, walk, ILAC_DIR_DOWNLINK);
        break;
    case ILAC_DIR_UPLINK:
        ilac_capacity_points(p, rd, n_cells, in, m, sel, cap, walk, ILAC_DIR_UPLINK);
        break;
    default:
        ilac_capacity_points(p, rd, n_cells, in, m, sel, cap, walk, ILAC_DIR_MIXED);
    }
}

/* Scratch of the plan stage: 3 int32, 2 double and 1 int8 arrays of the block's size. */
typedef struct {
    int32_t *lo, *hi, *mid;
    double *cap, *thr;
    int8_t *walk;
} ilac_plan_scratch;

/* One plan at the block's points: the split, its capacity, error and share, feasibility.
 * Target: the first candidate whose CRB meets t2 (none: capacity 0, the last candidate's
 * error). Budget: the last candidate keeping capacity >= (1 - f) of candidate 0. Both by
 * bisection in lockstep; results in cap_out, err_out, share_out, ok_out (block order). */
ILAC_CLONES static void ilac_plan_block(const ilac_plan *p, const ilac_radio *rd, int n_cells,
                                        const ilac_plan_in *in, int m, ilac_plan_scratch *s,
                                        double *restrict cap_out, double *restrict err_out,
                                        double *restrict share_out, int8_t *restrict ok_out,
                                        double *restrict gdop_out)
{
    int32_t *restrict lo = s->lo, *restrict hi = s->hi, *restrict mid = s->mid;
    double *restrict cap = s->cap, *restrict thr = s->thr;
    const int last = p->n - 1, steps = p->steps;
    const double *restrict share = p->row[ILAC_ROW_LOC_SHARE];
    const ilac_crb_ctx x = ilac_crb_context(p, rd, n_cells, in);
    const size_t nd = in->nd;
    const double *net = in->net ? in->net + (p->loc_uplink ? ILAC_NET_VALUES * nd : 0) : NULL;
    const int8_t *onsite = in->onsite;
    /* network bound with a beta^2 per candidate: a plain lockstep bisection on u_j F(beta_j) */
    const int net_vary = net && !(p->beta_const > 0.0);
    if (rd->objective == ILAC_OBJECTIVE_TARGET && net_vary) {
        const double t2 = rd->objective_value * (1.0 + ILAC_OBJECTIVE_RTOL);
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            ok_out[i] = ilac_plan_crb(&x, net, nd, onsite, p, i, last) <= t2;
            lo[i] = ok_out[i] ? 0 : last;
            hi[i] = last;
        }
        for (int step = 0; step < steps; ++step) {
#pragma omp simd
            for (int i = 0; i < m; ++i) {
                int l = lo[i], h = hi[i], md = l + (h - l) / 2;
                int meets = ilac_plan_crb(&x, net, nd, onsite, p, i, md) <= t2;
                int active = l < h;
                hi[i] = (active & meets) ? md : h;
                lo[i] = (active & !meets) ? md + 1 : l;
            }
        }
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            int j = lo[i];
            double crb = ilac_plan_crb(&x, net, nd, onsite, p, i, j);
            err_out[i] = sqrt(crb);
            share_out[i] = share[j];
            if (gdop_out)
                gdop_out[i] = ilac_plan_gdop(&x, net, nd, p, i, j, crb);
        }
        ilac_capacity_block(p, rd, n_cells, in, m, lo, cap, s->walk);
        for (int i = 0; i < m; ++i)
            cap_out[i] = ok_out[i] ? cap[i] : 0.0;
        return;
    }
    if (rd->objective == ILAC_OBJECTIVE_TARGET) {
        const double t2 = rd->objective_value * (1.0 + ILAC_OBJECTIVE_RTOL);
        const double *restrict u = p->inv_e, *restrict v = p->inv_eb;
        double *restrict fa = cap, *restrict fb = thr;     /* free until the capacity */
        int8_t *restrict fix = s->walk;
        const double e0 = p->e0, e1 = p->e1, kappa = p->kappa;
        const int affine = p->affine;
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            double a, b;
            if (net) {      /* one beta^2: CRB(j) = F u_j, the serving form with b = 0 */
                a = ilac_net_factor(net, nd, onsite[i], i, p->beta_const);
                b = 0.0;
            } else {
                ilac_crb_factors(&x, i, &a, &b);
            }
            fa[i] = a;
            fb[i] = b;
            int ok = ilac_crb_at(a, b, u[last], v[last]) <= t2;
            ok_out[i] = ok;
            int j = last, bad = 0;
            if (affine) {
                /* CRB(j) = (a + kappa b) / (e0 + e1 j): the first j meeting t2, then checked */
                double jf = ceil(((a + kappa * b) / t2 - e0) / e1);
                jf = jf > 0.0 ? (jf < (double)last ? jf : (double)last) : 0.0;   /* nan: 0 */
                j = ok ? (int)jf : last;
                int meets = ilac_crb_at(a, b, u[j], v[j]) <= t2;
                int prev = j > 0 ? ilac_crb_at(a, b, u[j > 0 ? j - 1 : 0],
                                               v[j > 0 ? j - 1 : 0]) <= t2 : 0;
                bad = ok & ((!meets) | prev);
            }
            fix[i] = bad;
            lo[i] = ok && !affine ? 0 : j;
            hi[i] = last;
        }
        if (affine) {       /* the rare points the closed form misses (rounding) */
            for (int i = 0; i < m; ++i) {
                if (!fix[i])
                    continue;
                int l = 0, h = last;
                while (l < h) {
                    int md = l + (h - l) / 2;
                    if (ilac_crb_at(fa[i], fb[i], u[md], v[md]) <= t2)
                        h = md;
                    else
                        l = md + 1;
                }
                lo[i] = l;
            }
        }
        for (int step = 0; step < (affine ? 0 : steps); ++step) {
#pragma omp simd
            for (int i = 0; i < m; ++i) {
                int l = lo[i], h = hi[i], md = l + (h - l) / 2;
                int meets = ilac_crb_at(fa[i], fb[i], u[md], v[md]) <= t2;
                int active = l < h;
                hi[i] = (active & meets) ? md : h;
                lo[i] = (active & !meets) ? md + 1 : l;
            }
        }
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            int j = lo[i];
            double crb = ilac_crb_at(fa[i], fb[i], u[j], v[j]);
            err_out[i] = sqrt(crb);
            share_out[i] = share[j];
            if (gdop_out)
                gdop_out[i] = ilac_plan_gdop(&x, net, nd, p, i, j, crb);
        }
        ilac_capacity_block(p, rd, n_cells, in, m, lo, cap, s->walk);
        for (int i = 0; i < m; ++i)
            cap_out[i] = ok_out[i] ? cap[i] : 0.0;
        return;
    }
    const double keep = (1.0 - rd->objective_value) * (1.0 - ILAC_OBJECTIVE_RTOL);
    for (int i = 0; i < m; ++i) {
        lo[i] = 0;
        hi[i] = last;
    }
    ilac_capacity_block(p, rd, n_cells, in, m, lo, thr, s->walk);
    for (int i = 0; i < m; ++i)
        thr[i] *= keep;
    for (int step = 0; step < steps; ++step) {
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            int l = lo[i], h = hi[i];
            mid[i] = l < h ? l + (h - l + 1) / 2 : l;
        }
        ilac_capacity_block(p, rd, n_cells, in, m, mid, cap, s->walk);
#pragma omp simd
        for (int i = 0; i < m; ++i) {
            int l = lo[i], h = hi[i], md = mid[i];
            int active = l < h, meets = cap[i] >= thr[i];
            lo[i] = (active & meets) ? md : l;
            hi[i] = (active & !meets) ? md - 1 : h;
        }
    }
    ilac_capacity_block(p, rd, n_cells, in, m, lo, cap, s->walk);
#pragma omp simd
    for (int i = 0; i < m; ++i) {
        int j = lo[i];
        double crb = ilac_plan_crb(&x, net, nd, onsite, p, i, j);
        double err = sqrt(crb);
        cap_out[i] = cap[i];
        err_out[i] = err;
        share_out[i] = share[j];
        ok_out[i] = err < INFINITY;
        if (gdop_out)
            gdop_out[i] = ilac_plan_gdop(&x, net, nd, p, i, j, crb);
    }
}

/* ---- stage 4: the best scheme ----------------------------------------------------------- */

/* Best plan per point of the block, SIMD over the points (plans in order, so the first
 * wins ties): target, the feasible plan with the most capacity; budget, the feasible
 * plan with the lowest error, then the most capacity. -1 where none is feasible.
 * cap/err/ok: (plans, nd) in block order; scratch: 2 doubles a point. */
ILAC_CLONES static void ilac_best_block(int n_plans, int objective, const double *cap,
                                        const double *err, const int8_t *ok, int64_t nd,
                                        int m, int32_t *restrict best,
                                        double *restrict bcap, double *restrict berr)
{
    for (int i = 0; i < m; ++i) {
        best[i] = -1;
        bcap[i] = -INFINITY;
        berr[i] = INFINITY;
    }
    for (int s = 0; s < n_plans; ++s) {
        const double *restrict c = cap + s * nd, *restrict e = err + s * nd;
        const int8_t *restrict k = ok + s * nd;
        if (objective == ILAC_OBJECTIVE_TARGET) {
#pragma omp simd
            for (int i = 0; i < m; ++i) {
                int better = k[i] && (best[i] < 0 || c[i] > bcap[i]);
                best[i] = better ? s : best[i];
                bcap[i] = better ? c[i] : bcap[i];
            }
        } else {
#pragma omp simd
            for (int i = 0; i < m; ++i) {
                int better = k[i] && (best[i] < 0 || e[i] < berr[i]
                                      || (e[i] == berr[i] && c[i] > bcap[i]));
                best[i] = better ? s : best[i];
                bcap[i] = better ? c[i] : bcap[i];
                berr[i] = better ? e[i] : berr[i];
            }
        }
    }
}

/* Write a block's results to the outputs, at the points' positions in the call. */
static void ilac_scatter_block(const int32_t *restrict order, int64_t b0, int m,
                               const ilac_link *lk, int P, const double *cap,
                               const double *err, const double *share, const int8_t *ok,
                               const int32_t *best_block, int64_t nd,
                               const double *gdop, const double *net, const int8_t *onsite,
                               const int8_t *used, const ilac_outputs *out)
{
    const int64_t nt = out->n_total;
    int32_t *restrict serving = out->serving;
    double *restrict dist = out->distance_m, *restrict theta = out->theta_deg;
    double *restrict snr = out->snr_db, *restrict snr_ul = out->snr_ul_db;
    const int32_t *restrict cell = lk->cell;
    const double *restrict r = lk->r, *restrict th = lk->theta_deg;
    const double *restrict sn = lk->snr_db, *restrict su = lk->snr_ul_db;
#define ILAC_AT(i) (order ? (int64_t)order[i] : b0 + (i))
    for (int i = 0; i < m; ++i) {
        int64_t o = ILAC_AT(i);
        serving[o] = cell[i];
        dist[o] = r[i];
        theta[o] = th[i];
        snr[o] = sn[i];
        snr_ul[o] = su[i];
    }
    for (int p = 0; p < P; ++p) {
        double *restrict oc = out->capacity_bps + p * nt, *restrict oe = out->error_m + p * nt;
        double *restrict os = out->loc_share + p * nt;
        int8_t *restrict of = out->feasible + p * nt;
        const double *restrict c = cap + p * nd, *restrict e = err + p * nd;
        const double *restrict sh = share + p * nd;
        const int8_t *restrict k = ok + p * nd;
        for (int i = 0; i < m; ++i) {
            int64_t o = ILAC_AT(i);
            oc[o] = c[i];
            oe[o] = e[i];
            os[o] = sh[i];
            of[o] = k[i];
        }
    }
    if (out->best) {
        int16_t *restrict best = out->best;
        for (int i = 0; i < m; ++i)
            best[ILAC_AT(i)] = (int16_t)best_block[i];
    }
    if (out->gdop)
        for (int p = 0; p < P; ++p) {
            double *restrict og = out->gdop + p * nt;
            const double *restrict g = gdop + p * nd;
            for (int i = 0; i < m; ++i)
                og[ILAC_AT(i)] = g[i];
        }
    if (out->cells_used && used)
        for (int i = 0; i < m; ++i)
            out->cells_used[ILAC_AT(i)] = used[i];
    if (out->net_info && net) {
        for (int r = 0; r < 2 * ILAC_NET_VALUES; ++r) {
            double *restrict on = out->net_info + r * nt;
            const double *restrict v = net + r * nd;
            for (int i = 0; i < m; ++i)
                on[ILAC_AT(i)] = v[i];
        }
        double *restrict fl = out->net_info + 2 * ILAC_NET_VALUES * nt;
        for (int i = 0; i < m; ++i)
            fl[ILAC_AT(i)] = (double)onsite[i];
    }
#undef ILAC_AT
}

/* ---- a group of blocks ------------------------------------------------------------------ */

static size_t ilac_align64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Sizes of the scratch pieces of ilac_run_group (7 entries) for blocks of B points. */
static void ilac_scratch_sizes(int B, int S, int P, int K, size_t sizes[7])
{
    const size_t nd = (size_t)B, sd = sizeof(double), np_ = (size_t)(P > 0 ? P : 1);
    const size_t nk = (size_t)(K > 0 ? K : 0);
    /* doubles: bx by best_rx best_idx best_lin others | link r theta snr snr_ul gamma sul
       g_angle g_range | plan cap thr (18 with slack) | per plan cap err share gdop */
    sizes[0] = 18 * nd * sd;
    sizes[1] = np_ * 4 * nd * sd;
    sizes[2] = (size_t)S * sd;                 /* per-cell bounds of the pruning */
    sizes[3] = 4 * (size_t)S * 4;              /* int32: cand_group cand, network's two */
    sizes[4] = 4 * nd * 4;                     /* int32: link cell | plan lo hi mid */
    sizes[5] = nd + np_ * nd + 2 * nd;         /* int8: walk | per plan ok | onsite used */
    /* network: top_rx top_idx (K rows each), total, the bound's numbers (2 directions) */
    sizes[6] = nk ? (3 * ILAC_MAX_NET + 1 + 2 * ILAC_NET_VALUES) * nd * sd : 0;
}

/* Bytes of scratch one thread needs for ilac_run_group (64-byte aligned pieces). */
static size_t ilac_scratch_bytes(int block_size, int n_cells, int n_plans, int net_k)
{
    size_t sizes[7], total = 64;
    ilac_scratch_sizes(block_size, n_cells, n_plans, net_k, sizes);
    for (int k = 0; k < 7; ++k)
        total += ilac_align64(sizes[k]);
    return total;
}

/* Points [start, stop) of the call (through order, NULL: as given), in blocks of
 * block_size: prune the cells once for the group's bounding box, then per block from
 * those (with prune), serve, link state, plans and best scheme, written to out.
 * mem: ilac_scratch_bytes(block_size, cells, plans) bytes of this thread's scratch. */
static void ilac_run_group(int64_t start, int64_t stop, int block_size,
                           const double *px, const double *py, const int32_t *order,
                           const ilac_cells *cells, const ilac_pathloss *pl,
                           const ilac_radio *rd, const ilac_plan *plans, int n_plans,
                           int prune, double margin_db, const ilac_outputs *out, char *mem)
{
    const int B = block_size, S = cells->n_cells, P = n_plans, K = rd->net_k;
    const size_t nd = (size_t)B;
    size_t sizes[7];
    ilac_scratch_sizes(B, S, P, K, sizes);
    char *at = (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    double *d = (double *)at;
    at += ilac_align64(sizes[0]);
    double *per_plan = (double *)at;
    at += ilac_align64(sizes[1]);
    double *cell_best = (double *)at;
    at += ilac_align64(sizes[2]);
    int32_t *cand_group = (int32_t *)at, *cand = cand_group + S, *cand_net = cand + S;
    int32_t *cand_block_net = cand_net + S;
    at += ilac_align64(sizes[3]);
    int32_t *ints = (int32_t *)at;
    at += ilac_align64(sizes[4]);
    int8_t *bytes = (int8_t *)at;
    at += ilac_align64(sizes[5]);
    double *nets = K ? (double *)at : NULL;
    double *top_rx = nets, *top_idx = K ? nets + (size_t)ILAC_MAX_NET * nd : NULL;
    double *total = K ? nets + 2 * (size_t)ILAC_MAX_NET * nd : NULL;
    double *net = K ? total + nd : NULL;
    double *psum = K ? net + 2 * ILAC_NET_VALUES * nd : NULL;      /* ILAC_MAX_NET rows */
    int8_t *onsite = bytes + nd + (size_t)(P > 0 ? P : 1) * nd, *used = onsite + nd;

    double *bx = d, *by = d + nd, *best_rx = d + 2 * nd, *best_idx = d + 3 * nd;
    double *best_lin = d + 4 * nd, *others = d + 5 * nd;
    ilac_link lk = {ints, d + 6 * nd, d + 7 * nd, d + 8 * nd, d + 9 * nd, d + 10 * nd,
                    d + 11 * nd, d + 12 * nd, d + 13 * nd};
    ilac_plan_scratch ps = {ints + nd, ints + 2 * nd, ints + 3 * nd, d + 14 * nd, d + 15 * nd,
                            bytes};
    double *cap = per_plan, *err = per_plan + (size_t)P * nd, *share = per_plan + 2 * (size_t)P * nd;
    double *gdop = out->gdop ? per_plan + 3 * (size_t)P * nd : NULL;
    int8_t *ok = bytes + nd;
    ilac_plan_in in = {lk.gamma, lk.snr_ul, lk.g_angle, lk.g_range, lk.cell, net, onsite, nd};
    /* network positioning: the K strongest of a group are among the cells whose best case
     * reaches the K-th largest worst case */
    int n_group_net = S;
    int32_t *group_net = cand_net;
    int n_group = S;
    const int32_t *group = NULL;
    if (prune) {
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int64_t t = start; t < stop; ++t) {
            int64_t o = order ? order[t] : t;
            double x = px[o], y = py[o];
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
        }
        if (K > 1)
            n_group_net = ilac_prune(cells, pl, x0, x1, y0, y1, margin_db, NULL, S, cell_best,
                                     cand_net, K);
        n_group = ilac_prune(cells, pl, x0, x1, y0, y1, margin_db, NULL, S, cell_best,
                             cand_group, 1);
        group = cand_group;
    } else {
        for (int c = 0; c < S; ++c)
            cand_group[c] = c;
    }
    if (!prune || K <= 1)
        for (int c = 0; c < S; ++c)
            cand_net[c] = c;
    for (int64_t b0 = start; b0 < stop; b0 += B) {
        const int m = (int)(stop - b0 < B ? stop - b0 : B);
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int i = 0; i < m; ++i) {
            int64_t o = order ? order[b0 + i] : b0 + i;
            bx[i] = px[o];
            by[i] = py[o];
            x0 = bx[i] < x0 ? bx[i] : x0;
            x1 = bx[i] > x1 ? bx[i] : x1;
            y0 = by[i] < y0 ? by[i] : y0;
            y1 = by[i] > y1 ? by[i] : y1;
        }
        int n_cand = n_group;
        const int32_t *use = cand_group;
        if (prune) {
            n_cand = ilac_prune(cells, pl, x0, x1, y0, y1, margin_db, group, n_group,
                                cell_best, cand, 1);
            use = cand;
        }
        /* network positioning: the block's candidates for the K strongest (a superset of
         * the serving search's, so a search over them serves the same cell) */
        int n_net = n_group_net;
        const int32_t *use_net = group_net;
        if (K > 1 && prune) {
            n_net = ilac_prune(cells, pl, x0, x1, y0, y1, margin_db, group_net, n_group_net,
                               cell_best, cand_block_net, K);
            use_net = cand_block_net;
        }
        const int fused = K > 1 && !cells->linear;     /* one pass for both searches */
        ilac_serve_init(cells, rd->interference, m, best_rx, best_idx, best_lin, others);
        if (fused)
            ilac_serve_topk_block(bx, by, m, cells, use_net, n_net, pl, rd->interference,
                                  best_rx, best_idx, best_lin, others, K, nd, top_rx, top_idx);
        else
            ilac_serve_block(bx, by, m, cells, use, n_cand, pl, rd->interference, best_rx,
                             best_idx, best_lin, others);
        ilac_link_block(bx, by, m, best_idx, others, cells, pl, rd, &lk);
        if (K > 0) {
            if (K > 1 && !fused)      /* after a linear serving search: in dB */
                ilac_topk_block(bx, by, m, cells, use_net, n_net, pl, K, nd, top_rx, top_idx);
            else if (K == 1)          /* the serving cell alone (net_block fills it in) */
                for (int i = 0; i < m; ++i)
                    top_idx[i] = -1.0;
            if (rd->interference)
                for (int i = 0; i < m; ++i)
                    total[i] = others[i] + (cells->linear ? best_rx[i] : best_lin[i]);
            ilac_net_block(bx, by, m, top_rx, top_idx, nd, total, psum, cells, pl, rd, lk.cell,
                           net, onsite, used);
        }
        for (int p = 0; p < P; ++p)
            ilac_plan_block(&plans[p], rd, S, &in, m, &ps, cap + p * nd, err + p * nd,
                            share + p * nd, ok + p * nd, gdop ? gdop + p * nd : NULL);
        if (out->best)      /* the plan stage's scratch is free again */
            ilac_best_block(P, rd->objective, cap, err, ok, (int64_t)nd, m, ps.lo, ps.cap,
                            ps.thr);
        ilac_scatter_block(order ? order + b0 : NULL, b0, m, &lk, P, cap, err, share, ok,
                           ps.lo, (int64_t)nd, gdop, K ? net : NULL, onsite, K ? used : NULL,
                           out);
    }
}

#endif /* ILAC_KERNEL_H */
