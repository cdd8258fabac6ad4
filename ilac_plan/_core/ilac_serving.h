/*
 * Serving-cell search over a block of points: the hot loop of the coverage kernel.
 *
 * For one block of points and a list of candidate cells, loop over the cells and, for
 * each cell, over the points with SIMD: received power
 *     rx [dBm] = EIRP - PL(d) - A(phi)
 * where PL is a path-loss model given as data (up to ILAC_MAX_TERMS log-distance terms,
 * PL = max of the terms that apply at the distance) and A the 3GPP TR 38.901 horizontal
 * element pattern min(12 (phi/phi_3dB)^2, A_m). The block keeps, per point, the best
 * received power and its cell, and optionally the interference: the linear sum of every
 * other cell's power, accumulated without ever subtracting (no cancellation).
 *
 * libm's log and atan2 do not vectorize, so the loop uses the branch-free versions below:
 * fdlibm's log and exp and Cephes' atan, reduced with selects, accurate to a few ulp. They
 * only decide which cell serves (ties below 1e-12 dB); the link state of the serving cell
 * is recomputed with libm afterwards.
 *
 * On x86-64 with GCC the block function is compiled for the baseline, AVX2 and AVX-512
 * and the best is picked at load time (target_clones).
 */
#ifndef ILAC_SERVING_H
#define ILAC_SERVING_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ILAC_MAX_TERMS 4
#define ILAC_MAX_SHIFTS 7            /* wrap-around: the layout and its 6 neighbours */
#define ILAC_MAX_NET 8               /* most cells fused by network positioning */

typedef struct {
    int n_terms;                     /* 1..ILAC_MAX_TERMS; unused terms have lo2 = inf */
    int simple;                      /* one term valid at every distance */
    double a0[ILAC_MAX_TERMS];       /* intercept [dB] */
    double a1[ILAC_MAX_TERMS];       /* slope per decade of d^2 [dB] (= slope per decade / 2) */
    double lo2[ILAC_MAX_TERMS];      /* term applies for lo2 <= d^2 < hi2 [m^2] */
    double hi2[ILAC_MAX_TERMS];
    double floor2;                   /* distances below sqrt(floor2) are clamped [m^2] */
    int n_table;                     /* > 0: a table replaces the terms */
    const double *table;             /* loss at log10(d^2) = t0 + k / inv_step [dB] */
    double t0;
    double inv_step;
    /* random drop (drop = 1): per link a LOS state and a shadow-fading draw, see
     * ilac_drop_loss_db; table holds the LOS loss, table_nlos the NLOS loss on its grid */
    int drop;
    const double *table_nlos;
    uint64_t seed;
    double sigma_los, sigma_nlos;    /* shadow-fading standard deviations [dB] */
    int n_plos;                      /* LOS probability at log10(d2D^2) = p0 + k / p_inv_step */
    const double *plos;
    double p0;
    double p_inv_step;
} ilac_pathloss;

/* Kinds of path-loss model, a compile-time constant of each point-loop variant: any terms
 * or a table, one term at every distance, a random drop. */
#define ILAC_MODEL_GENERAL 0
#define ILAC_MODEL_SIMPLE 1
#define ILAC_MODEL_DROP 2

#define ILAC_OMNI 0
#define ILAC_HORIZONTAL 1
#define ILAC_3GPP 2
#define ILAC_3GPP_PANEL 3            /* ILAC_3GPP with vertical panels (panel_m > 1) */

typedef struct {
    int n_cells;
    const double *x, *y;             /* position [m] */
    const double *ux, *uy;           /* unit vector of the array broadside */
    const double *eirp;              /* power + gains [dBm] */
    const double *dh2;               /* (site height - UE height)^2 [m^2] */
    const double *dz;                /* UE height - site height [m] */
    const double *cos_tilt, *sin_tilt;  /* mechanical downtilt */
    const double *etilt;             /* electrical downtilt [rad] */
    int pattern;                     /* ILAC_OMNI, ILAC_HORIZONTAL, ILAC_3GPP(_PANEL) */
    double k_pattern;                /* 12 / phi_3dB^2 [dB/rad^2] */
    double a_max;                    /* front-to-back ratio A_m [dB] */
    double k_vertical;               /* 12 / theta_3dB^2 [dB/rad^2] */
    double sla_v;                    /* vertical side-lobe level SLA_V [dB] */
    int n_shift;                     /* 1, or ILAC_MAX_SHIFTS images (wrap-around) */
    double shift_x[ILAC_MAX_SHIFTS], shift_y[ILAC_MAX_SHIFTS];   /* image offsets [m] */
    int linear;                      /* ILAC_LINEAR_*: serving search without logs */
    const double *w;                 /* linear weights (see ilac_serve_cell_linear) */
    double lin_margin;               /* pruning margin as a factor on the linear bounds */
    /* ILAC_3GPP_PANEL: per cell the rows M of a vertical panel (one TXRU, tilt weights),
     * pi d_V / lambda, and sin(electrical tilt); see ilac_panel_gain_db */
    const double *panel_m;
    const double *panel_kd;
    const double *sin_etilt;
} ilac_cells;

#define ILAC_LINEAR_OFF 0            /* received power in dB (any model, any pattern) */
#define ILAC_LINEAR_ORDER 1          /* compare w_c / d^2, w_c = 10^((EIRP_c - EIRP_max) / a1) */
#define ILAC_LINEAR_POWER 2          /* free-space slope: w_c / d^2 is the power [mW] */

#if defined(__GNUC__)
#define ILAC_INLINE static inline __attribute__((always_inline))
#else
#define ILAC_INLINE static inline
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ILAC_NO_CLONES)
#define ILAC_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define ILAC_CLONES
#endif

/* ---- branch-free elementary functions ------------------------------------------- */

ILAC_INLINE double ilac_from_bits(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
ILAC_INLINE uint64_t ilac_to_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

/* x = 2^e (1 + f) with sqrt(1/2) <= 1 + f < sqrt(2), for a positive, normal, finite x;
 * returns f. The exponent is made a double without an int64 -> double conversion (not in
 * AVX2). */
ILAC_INLINE double ilac_log_reduce(double x, double *e_out)
{
    uint64_t b = ilac_to_bits(x);
    double e = ilac_from_bits(0x4330000000000000ULL | (b >> 52)) - 4503599627370496.0 - 1023.0;
    double m = ilac_from_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);
    int big = m > 1.41421356237309504880;
    *e_out = big ? e + 1.0 : e;
    return (big ? 0.5 * m : m) - 1.0;
}

/* Natural log of a positive, normal, finite x (fdlibm e_log.c reduction and kernel). */
ILAC_INLINE double ilac_log(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    double e, f = ilac_log_reduce(x, &e);
    double s = f / (2.0 + f), z = s * s, w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double r = t2 + t1, hfsq = 0.5 * f * f;
    return e * ln2_hi - ((hfsq - (s * (hfsq + r) + e * ln2_lo)) - f);
}

/* exp(x) for x in [-708, 709]; 0 below (fdlibm e_exp.c kernel, 2^n built from bits). */
ILAC_INLINE double ilac_exp(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double inv_ln2 = 1.44269504088896338700e+00, shifter = 6755399441055744.0;
    const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
                 P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
                 P5 = 4.13813679705723846039e-08;
    double xc = x < -708.0 ? -708.0 : x;          /* keep the lane finite; result is masked */
    double t = xc * inv_ln2 + shifter;            /* low bits of t hold n = round(x / ln2) */
    double n = t - shifter;
    double hi = xc - n * ln2_hi, lo = n * ln2_lo, r = hi - lo;
    double rr = r * r;
    double c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    double scale = ilac_from_bits((ilac_to_bits(t) + 1023ULL) << 52);
    return x < -708.0 ? 0.0 : y * scale;
}

/* Angle in [0, pi] between the broadside (dot > 0) and a direction, from
 * dot = |d| cos(phi) and crs = |d| |sin(phi)| >= 0.
 * Cephes' atan (x + x z P(z)/Q(z) on |x| <= 0.66, reduced by pi/4 above) with the
 * ratio x = xn/xd kept unevaluated: with u = xn^2, v = xd^2 the polynomials are taken in
 * homogeneous form, z P(z)/Q(z) = u Ph(u, v)/Qh(u, v), so one division remains. */
ILAC_INLINE double ilac_angle(double dot, double crs)
{
    const double P0 = -8.750608600031904122785e-1, P1 = -1.615753718733365076637e1,
                 P2 = -7.500855792314704667340e1, P3 = -1.228866684490136173410e2,
                 P4 = -6.485021904942025371773e1;
    const double Q0 = 2.485846490142306297962e1, Q1 = 1.650270098316988542046e2,
                 Q2 = 4.328810604912902668951e2, Q3 = 4.853903996359136964868e2,
                 Q4 = 1.945506571482613964425e2;
    const double pio4 = 7.85398163397448309616e-1, pio2 = 1.57079632679489661923,
                 pi = 3.14159265358979323846, morebits = 6.123233995736765886130e-17;
    double ad = fabs(dot);
    int steep = crs > ad;
    double num = steep ? ad : crs, den = steep ? crs : ad;     /* 0 <= num <= den */
    double scale = den < 0x1p-100 ? 0x1p600 : 1.0;             /* keep v^5 normal */
    num *= scale;
    den *= scale;
    int mid = num > 0.66 * den;                                 /* atan(t) = pi/4 + atan(x) */
    double xn = mid ? num - den : num, xd = mid ? num + den : den;
    double u = xn * xn, v = xd * xd, v2 = v * v, v3 = v2 * v, v4 = v2 * v2;
    double ph = (((P0 * u + P1 * v) * u + P2 * v2) * u + P3 * v3) * u + P4 * v4;
    double qh = ((((u + Q0 * v) * u + Q1 * v2) * u + Q2 * v3) * u + Q3 * v4) * u + Q4 * v4 * v;
    double a = xn * (qh + u * ph) / (xd * qh);
    a = den > 0.0 ? a : 0.0;
    a = mid ? pio4 + (a + 0.5 * morebits) : a;
    a = steep ? pio2 - a : a;
    return dot < 0.0 ? pi - a : a;
}

/* Linear interpolation in a table of n >= 2 nodes at u = (x - x0) * inv_step, the end
 * segments extrapolated. */
ILAC_INLINE double ilac_interp(const double *table, int n, double x0, double inv_step, double x)
{
    double u = (x - x0) * inv_step;
    double k = floor(u), top = (double)(n - 2);
    k = k < 0.0 ? 0.0 : (k > top ? top : k);
    int i = (int)k;
    double lo = table[i], hi = table[i + 1];
    return lo + (u - k) * (hi - lo);
}

/* Path loss [dB] of a table, linear in log10(d^2), the end segments extrapolated. */
ILAC_INLINE double ilac_table_db(const ilac_pathloss *pl, double log10_d2)
{
    return ilac_interp(pl->table, pl->n_table, pl->t0, pl->inv_step, log10_d2);
}

/* Path loss [dB] at squared distance d2 (already clamped), log10(d2) given. */
ILAC_INLINE double ilac_pathloss_db(const ilac_pathloss *pl, double d2, double log10_d2)
{
    if (pl->n_table > 0)
        return ilac_table_db(pl, log10_d2);
    double out = -INFINITY;
    for (int t = 0; t < ILAC_MAX_TERMS; ++t) {
        double v = pl->a0[t] + pl->a1[t] * log10_d2;
        int use = (d2 >= pl->lo2[t]) & (d2 < pl->hi2[t]) & (v > out);
        out = use ? v : out;
    }
    return out;
}

/* ---- random drops ---------------------------------------------------------------------- */

/* The splitmix64 finalizer (a bijection of 64-bit words with full avalanche). */
ILAC_INLINE uint64_t ilac_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A position on the millimetre grid, as a 64-bit word (two's complement). The drop is
 * keyed on positions, not on indices, so that any tiling or cell order gives the same
 * draw. */
ILAC_INLINE uint64_t ilac_mm_key(double v)
{
    double r = floor(v * 1000.0 + 0.5);
    return (uint64_t)(int64_t)r;
}

/* The key of the link between a point (px, py) and the site at (sx, sy): a hash of (seed,
 * the four coordinates in mm). Cells at the same position (the sectors of a site) share
 * it, as TR 38.901 draws the large-scale parameters per site-UE link. */
ILAC_INLINE uint64_t ilac_drop_key(uint64_t seed, double px, double py, double sx, double sy)
{
    uint64_t h = ilac_mix64(seed ^ 0x9E3779B97F4A7C15ULL);
    h = ilac_mix64(h ^ ilac_mm_key(px));
    h = ilac_mix64(h ^ (ilac_mm_key(py) * 0xD1B54A32D192ED03ULL));
    h = ilac_mix64(h ^ (ilac_mm_key(sx) * 0xAEF17502108EF2D9ULL));
    return h ^ (ilac_mm_key(sy) * 0x9FB21C651E98DF25ULL);
}

/* The link's draw in stream 0 (LOS state) or 1 (shadow fading): a uniform in (0, 1),
 * (k + 1/2) 2^-52 with k the top 52 bits of mix64(key ^ stream). */
ILAC_INLINE double ilac_key_uniform(uint64_t key, int stream)
{
    uint64_t h = ilac_mix64(key ^ (uint64_t)stream);
    /* the top 52 bits to a double without an int64 conversion (not in AVX2): they fill
     * the mantissa of 2^52 */
    double k = ilac_from_bits(0x4330000000000000ULL | (h >> 12)) - 4503599627370496.0;
    return (k + 0.5) * 0x1p-52;
}

/* Standard normal quantile of p in (0, 1): Acklam's rational approximation (relative
 * error below 1.2e-9), branch-free: the central and the tail forms are both evaluated and
 * one is selected. */
ILAC_INLINE double ilac_normal_quantile(double p)
{
    const double a1 = -3.969683028665376e+01, a2 = 2.209460984245205e+02,
                 a3 = -2.759285104469687e+02, a4 = 1.383577518672690e+02,
                 a5 = -3.066479806614716e+01, a6 = 2.506628277459239e+00;
    const double b1 = -5.447609879822406e+01, b2 = 1.615858368580409e+02,
                 b3 = -1.556989798598866e+02, b4 = 6.680131188771972e+01,
                 b5 = -1.328068155288572e+01;
    const double c1 = -7.784894002430293e-03, c2 = -3.223964580411365e-01,
                 c3 = -2.400758277161838e+00, c4 = -2.549732539343734e+00,
                 c5 = 4.374664141464968e+00, c6 = 2.938163982698783e+00;
    const double d1 = 7.784695709041462e-03, d2 = 3.224671290700398e-01,
                 d3 = 2.445134137142996e+00, d4 = 3.754408661907416e+00;
    double q = p - 0.5, r = q * q;
    double central = (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q /
                     (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0);
    double pt = p < 0.5 ? p : 1.0 - p;                 /* exact for p >= 1/2 (Sterbenz) */
    double t = sqrt(-2.0 * ilac_log(pt));
    double tail = (((((c1 * t + c2) * t + c3) * t + c4) * t + c5) * t + c6) /
                  ((((d1 * t + d2) * t + d3) * t + d4) * t + 1.0);
    tail = p < 0.5 ? tail : -tail;
    return pt < 0.02425 ? tail : central;
}

/* Path loss [dB] of the link between a point (px, py) and a cell at (sx, sy) in a random
 * drop: LOS when the stream-0 uniform is below the LOS probability at the 2-D distance
 * (h2 = d2D^2), then the state's median loss at log10(d^2) plus sigma_state times the
 * stream-1 normal. */
ILAC_INLINE double ilac_drop_loss_db(const ilac_pathloss *pl, double sx, double sy, double px,
                                     double py, double h2, double log10_d2)
{
    const double inv_ln10 = 0.43429448190325182765;
    double h2c = h2 > 1e-6 ? h2 : 1e-6;
    double p_los = ilac_interp(pl->plos, pl->n_plos, pl->p0, pl->p_inv_step,
                               ilac_log(h2c) * inv_ln10);
    const uint64_t key = ilac_drop_key(pl->seed, px, py, sx, sy);   /* once per link */
    int los = ilac_key_uniform(key, 0) < p_los;
    double z = ilac_normal_quantile(ilac_key_uniform(key, 1));
    double med = los ? ilac_interp(pl->table, pl->n_table, pl->t0, pl->inv_step, log10_d2)
                     : ilac_interp(pl->table_nlos, pl->n_table, pl->t0, pl->inv_step, log10_d2);
    return med + (los ? pl->sigma_los : pl->sigma_nlos) * z;
}

/* Path loss [dB] of the link between a point (px, py) and a cell at (sx, sy) for a model
 * of kind `kind` (a constant); d2 the clamped squared 3-D distance, l10 its log10, h2 the
 * squared 2-D distance. */
ILAC_INLINE double ilac_loss_db(const ilac_pathloss *pl, double sx, double sy, double px,
                                double py, double h2, double d2, double l10, const int kind)
{
    if (kind == ILAC_MODEL_SIMPLE)
        return pl->a0[0] + pl->a1[0] * l10;
    if (kind == ILAC_MODEL_DROP)
        return ilac_drop_loss_db(pl, sx, sy, px, py, h2, l10);
    return ilac_pathloss_db(pl, d2, l10);
}

/* The model's kind (see ILAC_MODEL_GENERAL). */
ILAC_INLINE int ilac_model_kind(const ilac_pathloss *pl)
{
    return pl->drop ? ILAC_MODEL_DROP : (pl->simple && pl->n_table == 0);
}

/* ---- antenna pattern ------------------------------------------------------------------ */

/* The TR 38.901 element pattern (Table 7.3-1) from squared angles, the one definition used
 * by the point loop and by the pruning bounds: horizontal min(12 (phi/phi_3dB)^2, A_m),
 * vertical min(12 (theta/theta_3dB)^2, SLA_V), combined min(A_H + A_V, A_m). [dB] */
ILAC_INLINE double ilac_pattern_h_db(const ilac_cells *cells, double phi2)
{
    double att = cells->k_pattern * phi2;
    return att < cells->a_max ? att : cells->a_max;
}

ILAC_INLINE double ilac_pattern_v_db(const ilac_cells *cells, double theta2)
{
    double att = cells->k_vertical * theta2;
    return att < cells->sla_v ? att : cells->sla_v;
}

ILAC_INLINE double ilac_pattern_db(const ilac_cells *cells, double a_h, double a_v)
{
    double att = a_h + a_v;
    return att < cells->a_max ? att : cells->a_max;
}

/* Gain [dB] of the array factor of a vertical panel of m rows (TR 38.901 Sec. 7.3: one
 * TXRU, weights exp(-j 2 pi (k - 1) d_V cos(theta_tilt)) / sqrt(m)) towards a direction of
 * zenith cosine cz in the panel's frame: 10 log10(sin^2(m u) / (m sin^2 u)) with
 * u = pi d_V / lambda (cz + sin(etilt)) (cos(theta_tilt) = -sin(etilt)); 10 log10(m) at
 * the tilted direction. libm: the panel variant does not vectorize its pattern. */
ILAC_INLINE double ilac_panel_gain_db(double m, double kd, double sin_etilt, double cz)
{
    double u = kd * (cz + sin_etilt);
    double s1 = sin(u), sm = sin(m * u);
    double af = fabs(s1) < 1e-12 ? m : sm * sm / (m * s1 * s1);
    return 10.0 * log10(af > 1e-30 ? af : 1e-30);
}

/* Attenuation [dB] of cell c towards a UE at horizontal offset (fwd along the broadside,
 * crs = |across|) and height difference dz = UE - site (TR 38.901 Table 7.3-1; for the
 * 3-D pattern the direction is first rotated into the mechanically tilted frame). With
 * panels (ILAC_3GPP_PANEL) a cell of m > 1 rows has an unsteered element pattern and the
 * array factor steered by the electrical tilt, and the attenuation is the element's less
 * the array gain (negative towards the beam: the EIRP holds the element's gain only). */
ILAC_INLINE double ilac_attenuation_db(const ilac_cells *cells, int c, double fwd, double crs,
                                       const int pattern)
{
    if (pattern == ILAC_HORIZONTAL) {
        double phi = ilac_angle(fwd, crs);
        return ilac_pattern_h_db(cells, phi * phi);
    }
    if (pattern != ILAC_3GPP && pattern != ILAC_3GPP_PANEL)
        return 0.0;
    const double ct = cells->cos_tilt[c], st = cells->sin_tilt[c], dz = cells->dz[c];
    double x = fwd * ct - dz * st, z = fwd * st + dz * ct;
    double phi = ilac_angle(x, crs);
    double el = ilac_angle(sqrt(x * x + crs * crs), fabs(z));
    el = z < 0.0 ? -el : el;
    if (pattern == ILAC_3GPP_PANEL) {
        const double m = cells->panel_m[c];
        if (m > 1.0) {
            double r = sqrt(x * x + crs * crs + z * z);
            double att = ilac_pattern_db(cells, ilac_pattern_h_db(cells, phi * phi),
                                         ilac_pattern_v_db(cells, el * el));
            return att - ilac_panel_gain_db(m, cells->panel_kd[c], cells->sin_etilt[c],
                                            r > 0.0 ? z / r : 0.0);
        }
    }
    double v = el + cells->etilt[c];
    return ilac_pattern_db(cells, ilac_pattern_h_db(cells, phi * phi),
                           ilac_pattern_v_db(cells, v * v));
}

/* Offset from the nearest image of cell c to the point (wrap-around; the first of equals).
 * Every image is measured from the cell's own offset (ox, oy), not from the best so far. */
ILAC_INLINE void ilac_nearest_image(const ilac_cells *cells, int c, double px, double py,
                                    double *dx, double *dy)
{
    const double ox = px - cells->x[c], oy = py - cells->y[c];
    double bx = ox, by = oy, b2 = ox * ox + oy * oy;
    for (int s = 1; s < ILAC_MAX_SHIFTS; ++s) {
        double ex = ox - cells->shift_x[s], ey = oy - cells->shift_y[s];
        double e2 = ex * ex + ey * ey;
        int closer = e2 < b2;
        bx = closer ? ex : bx;
        by = closer ? ey : by;
        b2 = closer ? e2 : b2;
    }
    *dx = bx;
    *dy = by;
}

/* The compiled variants of the point loops: X(wrap, model kind, pattern code) for wrap
 * 0..1, kind 0..2 (ILAC_MODEL_*), pattern 0..3 (ILAC_OMNI..ILAC_3GPP_PANEL); a variant's
 * switch label is ILAC_VARIANT of the three, the one formula of every dispatch. */
#define ILAC_VARIANT(W, S, P) (((W) * 3 + (S)) * 4 + (P))
#define ILAC_FOR_PATTERNS(X, W, S) X(W, S, 0) X(W, S, 1) X(W, S, 2) X(W, S, 3)
#define ILAC_FOR_KINDS(X, W) ILAC_FOR_PATTERNS(X, W, 0) ILAC_FOR_PATTERNS(X, W, 1) \
    ILAC_FOR_PATTERNS(X, W, 2)
#define ILAC_FOR_VARIANTS(X) ILAC_FOR_KINDS(X, 0) ILAC_FOR_KINDS(X, 1)

/* Offset from cell c (its nearest image with wrap-around) to the point. */
ILAC_INLINE void ilac_offset(const ilac_cells *cells, int c, double px, double py,
                             const int wrap, double *dx, double *dy)
{
    if (wrap) {
        ilac_nearest_image(cells, c, px, py, dx, dy);
    } else {
        *dx = px - cells->x[c];
        *dy = py - cells->y[c];
    }
}

/* Offset (dx, dy) from cell c to the point and the squared 3-D distance, clamped below
 * at the path-loss model's minimum distance. [m^2] */
ILAC_INLINE double ilac_dist2(const ilac_cells *cells, int c, double px, double py,
                              double dh2, double floor2, const int wrap, double *dx,
                              double *dy)
{
    ilac_offset(cells, c, px, py, wrap, dx, dy);
    double d2 = *dx * *dx + *dy * *dy + dh2;
    return d2 > floor2 ? d2 : floor2;
}

/* ---- the block loop ---------------------------------------------------------------- */

/* Received power [dBm] from cell c at a point: EIRP - PL - A, with the offset (dx, dy)
 * of the nearest image. One definition for the serving search, the K-strongest search
 * and the network stage. */
ILAC_INLINE double ilac_rx_db(const ilac_cells *cells, int c, const ilac_pathloss *pl,
                              double px, double py, const int kind, const int pattern,
                              const int wrap, double *dx, double *dy)
{
    const double inv_ln10 = 0.43429448190325182765;
    double d2 = ilac_dist2(cells, c, px, py, cells->dh2[c], pl->floor2, wrap, dx, dy);
    double l10 = ilac_log(d2) * inv_ln10;
    double rx = cells->eirp[c] - ilac_loss_db(pl, cells->x[c], cells->y[c], px, py,
                                              *dx * *dx + *dy * *dy, d2, l10, kind);
    if (pattern)
        rx -= ilac_attenuation_db(cells, c, *dx * cells->ux[c] + *dy * cells->uy[c],
                                  fabs(*dx * cells->uy[c] - *dy * cells->ux[c]), pattern);
    return rx;
}

ILAC_INLINE void ilac_serve_cell(
    const double *restrict px, const double *restrict py, int n,
    const ilac_cells *cells, int c, const ilac_pathloss *pl,
    double *restrict best_rx, double *restrict best_idx,
    double *restrict best_lin, double *restrict others,
    const int kind, const int pattern, const int interference, const int wrap)
{
    const double db_to_nat = 0.23025850929940456840;   /* ln(10) / 10 */
    const double cd = (double)c;
#pragma omp simd
    for (int i = 0; i < n; ++i) {
        double dx, dy;
        double rx = ilac_rx_db(cells, c, pl, px[i], py[i], kind, pattern, wrap, &dx, &dy);
        int better = rx > best_rx[i];
        if (interference) {
            double lin = ilac_exp(rx * db_to_nat);
            others[i] += better ? best_lin[i] : lin;
            best_lin[i] = better ? lin : best_lin[i];
        }
        best_rx[i] = better ? rx : best_rx[i];
        best_idx[i] = better ? cd : best_idx[i];
    }
}

/* The same search without a log per pair, for a one-term model (PL = a0 + a1 log10 d^2,
 * a1 > 0) and no pattern: rx_c > rx_b exactly when w_c / d2_c > w_b / d2_b with
 * w_c = 10^((EIRP_c - EIRP_max) / a1), compared as w_c d2_b > w_b d2_c (no division).
 * best_w holds the best weight and best_d2 its squared distance (initial 0 and 1). With
 * interference the slope must be free space's (a1 = 10 dB per decade of d^2): then
 * w_c = 10^((EIRP_c - a0) / 10) and w_c / d2 is the received power [mW], kept in best_w. */
ILAC_INLINE void ilac_serve_cell_linear(
    const double *restrict px, const double *restrict py, int n,
    const ilac_cells *cells, int c, const ilac_pathloss *pl,
    double *restrict best_w, double *restrict best_idx, double *restrict best_d2,
    double *restrict others, const int interference, const int wrap)
{
    const double w = cells->w[c];
    const double dh2 = cells->dh2[c], cd = (double)c, floor2 = pl->floor2;
#pragma omp simd
    for (int i = 0; i < n; ++i) {
        double dx, dy;
        double d2 = ilac_dist2(cells, c, px[i], py[i], dh2, floor2, wrap, &dx, &dy);
        int better;
        if (interference) {
            double lin = w / d2;
            better = lin > best_w[i];
            others[i] += better ? best_w[i] : lin;
            best_w[i] = better ? lin : best_w[i];
        } else {
            better = w * best_d2[i] > best_w[i] * d2;
            best_w[i] = better ? w : best_w[i];
            best_d2[i] = better ? d2 : best_d2[i];
        }
        best_idx[i] = better ? cd : best_idx[i];
    }
}

/* The K strongest cells at each point (network positioning): received power in dB as in
 * ilac_serve_cell, inserted into the sorted top_rx / top_idx (K rows of stride nd, the
 * strongest first; the lower index first among equals; -inf and -1 where fewer cells). */
ILAC_INLINE void ilac_topk_cell(
    const double *restrict px, const double *restrict py, int n,
    const ilac_cells *cells, int c, const ilac_pathloss *pl, int K, size_t nd,
    double *restrict top_rx, double *restrict top_idx,
    const int kind, const int pattern, const int wrap)
{
    const double cd = (double)c;
#pragma omp simd
    for (int i = 0; i < n; ++i) {
        double dx, dy;
        double v = ilac_rx_db(cells, c, pl, px[i], py[i], kind, pattern, wrap, &dx, &dy);
        double id = cd;
        for (int k = 0; k < K; ++k) {
            double t = top_rx[k * nd + i], ti = top_idx[k * nd + i];
            int gt = v > t;
            top_rx[k * nd + i] = gt ? v : t;
            top_idx[k * nd + i] = gt ? id : ti;
            v = gt ? t : v;
            id = gt ? ti : id;
        }
    }
}

ILAC_CLONES static void ilac_topk_block(
    const double *px, const double *py, int n, const ilac_cells *cells,
    const int32_t *cand, int n_cand, const ilac_pathloss *pl, int K, size_t nd,
    double *top_rx, double *top_idx)
{
    const int kind = ilac_model_kind(pl), wrap = cells->n_shift > 1;
    const int code = ILAC_VARIANT(wrap, kind, cells->pattern);
    for (int k = 0; k < K; ++k)
        for (int i = 0; i < n; ++i) {
            top_rx[k * nd + i] = -INFINITY;
            top_idx[k * nd + i] = -1.0;
        }
#define ILAC_TOPK(W, S, P) case ILAC_VARIANT(W, S, P): \
    ilac_topk_cell(px, py, n, cells, cand[j], pl, K, nd, top_rx, top_idx, S, P, W); break;
    for (int j = 0; j < n_cand; ++j) {
        switch (code) {
        ILAC_FOR_VARIANTS(ILAC_TOPK)
        default: break;
        }
    }
#undef ILAC_TOPK
}

/* Best cell among cand[0..n_cand) for each of the n points (outputs initialised by the
 * caller, see ilac_serve_init). */
ILAC_CLONES static void ilac_serve_block(
    const double *px, const double *py, int n,
    const ilac_cells *cells, const int32_t *cand, int n_cand, const ilac_pathloss *pl,
    int interference, double *best_rx, double *best_idx, double *best_lin, double *others)
{
    const int kind = ilac_model_kind(pl), wrap = cells->n_shift > 1;
    if (cells->linear) {
        const int code = wrap * 2 + (interference ? 1 : 0);
        for (int j = 0; j < n_cand; ++j) {
            switch (code) {
            case 0: ilac_serve_cell_linear(px, py, n, cells, cand[j], pl, best_rx, best_idx,
                                           best_lin, others, 0, 0); break;
            case 1: ilac_serve_cell_linear(px, py, n, cells, cand[j], pl, best_rx, best_idx,
                                           best_lin, others, 1, 0); break;
            case 2: ilac_serve_cell_linear(px, py, n, cells, cand[j], pl, best_rx, best_idx,
                                           best_lin, others, 0, 1); break;
            default: ilac_serve_cell_linear(px, py, n, cells, cand[j], pl, best_rx, best_idx,
                                            best_lin, others, 1, 1);
            }
        }
        return;
    }
    const int code = ILAC_VARIANT(wrap, kind, cells->pattern) * 2 + (interference ? 1 : 0);
#define ILAC_SERVE(W, S, P, I) ilac_serve_cell(px, py, n, cells, cand[j], pl, best_rx, \
                                               best_idx, best_lin, others, S, P, I, W)
#define ILAC_CASE(W, S, P, I) case ILAC_VARIANT(W, S, P) * 2 + I: ILAC_SERVE(W, S, P, I); break;
#define ILAC_CASES(W, S, P) ILAC_CASE(W, S, P, 0) ILAC_CASE(W, S, P, 1)
    /* constant flags: the compiler specialises (and vectorizes) each variant */
    for (int j = 0; j < n_cand; ++j) {
        switch (code) {
        ILAC_FOR_VARIANTS(ILAC_CASES)
        default: break;
        }
    }
#undef ILAC_CASES
#undef ILAC_CASE
#undef ILAC_SERVE
}

/* The serving search of ilac_serve_cell (the same arithmetic, so the same serving cell)
 * that also keeps the K strongest cells, sorted, in top_rx / top_idx (K rows of stride nd;
 * the lower index first among equals; -inf and -1 where fewer cells): network
 * positioning in one pass over the pairs. K is a constant of each variant (2, 4 or 8: a
 * request for K cells keeps the next of these and uses its first K rows). */
ILAC_INLINE void ilac_serve_cell_topk(
    const double *restrict px, const double *restrict py, int n,
    const ilac_cells *cells, int c, const ilac_pathloss *pl,
    double *restrict best_rx, double *restrict best_idx,
    double *restrict best_lin, double *restrict others,
    double *restrict top_rx, double *restrict top_idx, size_t nd,
    const int kind, const int pattern, const int interference, const int wrap, const int K)
{
    const double db_to_nat = 0.23025850929940456840;   /* ln(10) / 10 */
    const double cd = (double)c;
#pragma omp simd
    for (int i = 0; i < n; ++i) {
        double dx, dy;
        double rx = ilac_rx_db(cells, c, pl, px[i], py[i], kind, pattern, wrap, &dx, &dy);
        int better = rx > best_rx[i];
        if (interference) {
            double lin = ilac_exp(rx * db_to_nat);
            others[i] += better ? best_lin[i] : lin;
            best_lin[i] = better ? lin : best_lin[i];
        }
        best_rx[i] = better ? rx : best_rx[i];
        best_idx[i] = better ? cd : best_idx[i];
        double v = rx, id = cd;
        for (int k = 0; k < K; ++k) {
            double t = top_rx[k * nd + i], ti = top_idx[k * nd + i];
            int gt = v > t;
            top_rx[k * nd + i] = gt ? v : t;
            top_idx[k * nd + i] = gt ? id : ti;
            v = gt ? t : v;
            id = gt ? ti : id;
        }
    }
}

/* Rows the one-pass search keeps for K cells (2, 4 or 8). */
ILAC_INLINE int ilac_topk_rows(int K) { return K <= 2 ? 2 : (K <= 4 ? 4 : 8); }

/* The serving search and the K strongest in one pass (dB search, any model and pattern);
 * best_* initialised by ilac_serve_init, top_* here. */
ILAC_CLONES static void ilac_serve_topk_block(
    const double *px, const double *py, int n,
    const ilac_cells *cells, const int32_t *cand, int n_cand, const ilac_pathloss *pl,
    int interference, double *best_rx, double *best_idx, double *best_lin, double *others,
    int K, size_t nd, double *top_rx, double *top_idx)
{
    const int kind = ilac_model_kind(pl), wrap = cells->n_shift > 1;
    const int rows = ilac_topk_rows(K), kc = rows == 2 ? 0 : (rows == 4 ? 1 : 2);
    for (int k = 0; k < rows; ++k)
        for (int i = 0; i < n; ++i) {
            top_rx[k * nd + i] = -INFINITY;
            top_idx[k * nd + i] = -1.0;
        }
    const int code = (ILAC_VARIANT(wrap, kind, cells->pattern) * 2 + (interference ? 1 : 0)) * 3 + kc;
#define ILAC_TK(W, S, P, I, KC, KV) case (ILAC_VARIANT(W, S, P) * 2 + I) * 3 + KC: \
    ilac_serve_cell_topk(px, py, n, cells, cand[j], pl, best_rx, best_idx, best_lin, others, \
                         top_rx, top_idx, nd, S, P, I, W, KV); break;
#define ILAC_TK_CASES(W, S, P) ILAC_TK(W, S, P, 0, 0, 2) ILAC_TK(W, S, P, 0, 1, 4) \
    ILAC_TK(W, S, P, 0, 2, 8) ILAC_TK(W, S, P, 1, 0, 2) ILAC_TK(W, S, P, 1, 1, 4) \
    ILAC_TK(W, S, P, 1, 2, 8)
    for (int j = 0; j < n_cand; ++j) {
        switch (code) {
        ILAC_FOR_VARIANTS(ILAC_TK_CASES)
        default: break;
        }
    }
#undef ILAC_TK_CASES
#undef ILAC_TK
}

/* Initial state of the search for n points. */
static void ilac_serve_init(const ilac_cells *cells, int interference, int n, double *best_rx,
                            double *best_idx, double *best_lin, double *others)
{
    const int lin_order = cells->linear && !interference;
    for (int i = 0; i < n; ++i) {
        best_rx[i] = cells->linear ? 0.0 : -INFINITY;
        best_idx[i] = 0.0;
        best_lin[i] = lin_order ? 1.0 : 0.0;
        others[i] = 0.0;
    }
}

/* ---- exact pruning of cells for a block ---------------------------------------------- */

static double ilac_wrap(double a)
{
    const double pi = 3.14159265358979323846;
    while (a > pi) a -= 2.0 * pi;
    while (a <= -pi) a += 2.0 * pi;
    return a;
}

/* Smallest and largest |angle| of the vectors (px[k], py[k]) and the convex quadrilateral
 * they span, which must not contain the origin: the angles form an interval whose ends
 * are corners. */
static void ilac_angle_range(const double px[4], const double py[4], double *min_abs,
                             double *max_abs)
{
    const double pi = 3.14159265358979323846;
    double a[4];
    for (int k = 0; k < 4; ++k)
        a[k] = atan2(py[k], px[k]);
    double lo = 0.0, hi = 0.0;
    for (int k = 1; k < 4; ++k) {
        double d = ilac_wrap(a[k] - a[0]);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    lo += a[0];
    hi += a[0];
    double wl = fabs(ilac_wrap(lo)), wh = fabs(ilac_wrap(hi));
    *min_abs = (lo <= 0.0 && hi >= 0.0) ? 0.0 : (wl < wh ? wl : wh);
    int has_pi = (lo <= pi && hi >= pi) || (lo <= -pi && hi >= -pi);
    *max_abs = has_pi ? pi : (wl > wh ? wl : wh);
}

/* Bounds of the antenna attenuation of cell c over the points of a box (corners bx, by),
 * from the range of the local azimuth and of the local elevation there. The box maps
 * affinely onto the antenna's (x', y') plane, so the azimuth's range comes from the
 * corners unless the antenna's axis (x' = y' = 0) meets the box; sin(elevation) =
 * (fwd sin(tilt) + dz cos(tilt)) / r, with fwd linear (extremes at corners) and r between
 * the box's nearest and farthest 3-D distances. */
static void ilac_attenuation_bounds(const ilac_cells *cells, int c, const double bx[4],
                                    const double by[4], double near2, double far2,
                                    double *att_best, double *att_worst)
{
    const double pi = 3.14159265358979323846;
    const double cx = cells->x[c], cy = cells->y[c], ux = cells->ux[c], uy = cells->uy[c];
    const int three_d = cells->pattern == ILAC_3GPP;
    const double ct = three_d ? cells->cos_tilt[c] : 1.0;
    const double st = three_d ? cells->sin_tilt[c] : 0.0;
    const double dz = three_d ? cells->dz[c] : 0.0;
    double px[4], py[4], fmin = INFINITY, fmax = -INFINITY;
    for (int k = 0; k < 4; ++k) {
        double dx = bx[k] - cx, dy = by[k] - cy, fwd = dx * ux + dy * uy;
        fmin = fwd < fmin ? fwd : fmin;
        fmax = fwd > fmax ? fwd : fmax;
        px[k] = fwd * ct - dz * st;
        py[k] = dx * uy - dy * ux;
    }
    /* where the axis crosses the UEs' plane: fwd = dz tan(tilt), across = 0 */
    double f0 = ct > 0.0 ? dz * st / ct : 0.0;
    double zx = cx + f0 * ux, zy = cy + f0 * uy;
    double amin = 0.0, amax = pi;
    if (!(zx >= bx[0] && zx <= bx[1] && zy >= by[0] && zy <= by[2]))
        ilac_angle_range(px, py, &amin, &amax);
    double ah_best = ilac_pattern_h_db(cells, amin * amin);
    double ah_worst = ilac_pattern_h_db(cells, amax * amax);
    if (!three_d) {
        *att_best = ah_best;
        *att_worst = ah_worst;
        return;
    }
    double lo = -1.0, hi = 1.0, rn = sqrt(near2), rf = sqrt(far2);
    if (rn > 0.0) {
        double n0 = fmin * st + dz * ct, n1 = fmax * st + dz * ct;
        double q[4] = {n0 / rn, n0 / rf, n1 / rn, n1 / rf};
        lo = q[0];
        hi = q[0];
        for (int k = 1; k < 4; ++k) {
            lo = q[k] < lo ? q[k] : lo;
            hi = q[k] > hi ? q[k] : hi;
        }
        lo = lo < -1.0 ? -1.0 : lo;
        hi = hi > 1.0 ? 1.0 : hi;
    }
    double vlo = asin(lo) + cells->etilt[c], vhi = asin(hi) + cells->etilt[c];
    double vmin2 = (vlo <= 0.0 && vhi >= 0.0) ? 0.0
        : (fabs(vlo) < fabs(vhi) ? vlo * vlo : vhi * vhi);
    double vmax2 = vlo * vlo > vhi * vhi ? vlo * vlo : vhi * vhi;
    *att_best = ilac_pattern_db(cells, ah_best, ilac_pattern_v_db(cells, vmin2));
    *att_worst = ilac_pattern_db(cells, ah_worst, ilac_pattern_v_db(cells, vmax2));
}

static double ilac_pathloss_at(const ilac_pathloss *pl, double d2)
{
    d2 = d2 > pl->floor2 ? d2 : pl->floor2;
    return ilac_pathloss_db(pl, d2, log10(d2));
}

/* Candidate cells for points inside [x0, x1] x [y0, y1], among from[0..n_from) (NULL:
 * every cell): every cell whose best case over the box (nearest distance, smallest
 * pattern loss) reaches the worst case of the best cell (farthest distance, largest
 * pattern loss), less a margin [dB] that covers the rounding of the block loop. Path loss
 * must not decrease with distance. Returns the number of candidates written to cand
 * (ascending cell index when from is). best: n_from scratch. */
static int ilac_prune(const ilac_cells *cells, const ilac_pathloss *pl,
                      double x0, double x1, double y0, double y1, double margin_db,
                      const int32_t *from, int n_from, double *best, int32_t *cand, int kth)
{
    const double bx[4] = {x0, x1, x1, x0}, by[4] = {y0, y0, y1, y1};
    const double floor2 = pl->floor2;
    double floor_worst = -INFINITY;
    /* kth > 1: the kth largest worst case (a cell among the kth strongest at some point
     * of the box reaches it), kept sorted in top[0..kth) */
    double top[ILAC_MAX_NET];
    for (int t = 0; t < ILAC_MAX_NET; ++t)
        top[t] = -INFINITY;
    kth = kth < 1 ? 1 : (kth > ILAC_MAX_NET ? ILAC_MAX_NET : kth);
    for (int k = 0; k < n_from; ++k) {
        int c = from ? from[k] : k;
        double cx = cells->x[c], cy = cells->y[c];
        double ex = cx < x0 ? x0 - cx : (cx > x1 ? cx - x1 : 0.0);
        double ey = cy < y0 ? y0 - cy : (cy > y1 ? cy - y1 : 0.0);
        double fx = fabs(cx - x0) > fabs(cx - x1) ? fabs(cx - x0) : fabs(cx - x1);
        double fy = fabs(cy - y0) > fabs(cy - y1) ? fabs(cy - y0) : fabs(cy - y1);
        double near2 = ex * ex + ey * ey + cells->dh2[c];
        double far2 = fx * fx + fy * fy + cells->dh2[c];
        double worst;
        if (cells->linear) {         /* w / d^2 bounds: no log */
            near2 = near2 > floor2 ? near2 : floor2;
            far2 = far2 > floor2 ? far2 : floor2;
            best[k] = cells->w[c] / near2;
            worst = cells->w[c] / far2;
        } else {
            double att_best = 0.0, att_worst = 0.0;
            if (cells->pattern)
                ilac_attenuation_bounds(cells, c, bx, by, near2, far2, &att_best, &att_worst);
            best[k] = cells->eirp[c] - ilac_pathloss_at(pl, near2) - att_best;
            worst = cells->eirp[c] - ilac_pathloss_at(pl, far2) - att_worst;
        }
        for (int t = 0; t < kth; ++t) {
            if (worst > top[t]) {
                double swap = top[t];
                top[t] = worst;
                worst = swap;
            }
        }
    }
    floor_worst = top[kth - 1];
    double floor_keep = cells->linear ? floor_worst * cells->lin_margin
                                      : floor_worst - margin_db;
    int n = 0;
    for (int k = 0; k < n_from; ++k)
        if (best[k] >= floor_keep || best[k] != best[k]) cand[n++] = from ? from[k] : k;
    return n;
}

#endif /* ILAC_SERVING_H */
