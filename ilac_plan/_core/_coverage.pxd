# cython: language_level=3
"""The coverage kernel's typed interface: the C structs of ``ilac_kernel.h`` and the
extension types that own them (``_coverage.pyx``).

Each extension type checks its arrays once, keeps them alive, and points its struct at
them; the kernel then reads structs only. To add a per-point quantity, see
docs/coverage.md ("Adding a per-point quantity").
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint64_t


cdef extern from "ilac_kernel.h" nogil:
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
        int drop
        const double *table_nlos
        uint64_t seed
        double sigma_los
        double sigma_nlos
        int n_plos
        const double *plos
        double p0
        double p_inv_step
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
        int linear
        const double *w
        double lin_margin
        const double *panel_m
        const double *panel_kd
        const double *sin_etilt
    enum: ILAC_PLAN_ROWS
    enum: ILAC_DIR_MIXED
    enum: ILAC_DIR_DOWNLINK
    enum: ILAC_DIR_UPLINK
    enum: ILAC_LINEAR_OFF
    enum: ILAC_LINEAR_ORDER
    enum: ILAC_LINEAR_POWER
    enum: ILAC_OBJECTIVE_TARGET
    enum: ILAC_OBJECTIVE_BUDGET
    enum: ILAC_NET_TOA_AOA
    enum: ILAC_NET_TDOA
    enum: ILAC_NET_AOA
    enum: ILAC_NET_VALUES
    enum: ILAC_MAX_NET
    ctypedef struct ilac_plan:
        int n
        int loc_uplink
        int direction
        int steps
        const double *row[8]
        const double *inv_e
        const double *inv_eb
        int affine
        double e0
        double e1
        double kappa
        double beta_const
    ctypedef struct ilac_radio:
        int n_symbols
        double noise_dbm
        double noise_mw
        int interference
        int horizontal_fix
        const double *n_antennas
        const double *information
        const double *ul_offset_db
        int objective
        double objective_value
        int net_k
        int net_mode
        double net_scale
        int net_reuse
        int net_prs_interference
    ctypedef struct ilac_outputs:
        int64_t n_total
        int32_t *serving
        double *distance_m
        double *theta_deg
        double *snr_db
        double *snr_ul_db
        double *capacity_bps
        double *error_m
        double *loc_share
        int8_t *feasible
        int16_t *best
        double *gdop
        int8_t *cells_used
        double *net_info
    uint64_t ilac_drop_key(uint64_t seed, double px, double py, double sx, double sy)
    double ilac_key_uniform(uint64_t key, int stream)
    double ilac_normal_quantile(double p)
    size_t ilac_scratch_bytes(int block_size, int n_cells, int n_plans, int net_k)
    void ilac_run_group(int64_t start, int64_t stop, int block_size, const double *px,
                        const double *py, const int32_t *order, const ilac_cells *cells,
                        const ilac_pathloss *pl, const ilac_radio *rd, const ilac_plan *plans,
                        int n_plans, int prune, double margin_db, const ilac_outputs *out,
                        char *mem)

cdef class PathLoss:
    cdef ilac_pathloss c
    cdef object _keep


cdef class CellTable:
    cdef ilac_cells c
    cdef object _keep


cdef class RadioSpec:
    cdef ilac_radio c
    cdef readonly int n_cells
    cdef object _keep


cdef class PlanTable:
    cdef ilac_plan *c
    cdef readonly int n_plans
    cdef object _keep


cdef class Outputs:
    cdef ilac_outputs c
    cdef readonly int n_plans
    cdef object _keep
