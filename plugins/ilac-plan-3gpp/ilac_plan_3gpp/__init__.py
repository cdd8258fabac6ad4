"""ilac_plan plugin: 3GPP TR 38.901 path loss (Tables 7.4.1-1, 7.4.2-1) as data.

Registered models:

* ``uma_los, uma_nlos, umi_los, umi_nlos``: the median loss of one state as log-distance
  terms (the kernel evaluates them natively);
* ``uma, umi, rma, inh``: one model per scenario (urban macro, urban micro street
  canyon, rural macro, indoor hotspot office with the mixed-office LOS probability) with
  the parameters ``los`` ("los", "nlos" or "expected") and ``reliability`` (0 or a
  coverage probability in [0.5, 0.9999]). Where the loss is a maximum of log-distance
  terms (UMa, UMi, InH in one state, with or without a constant margin) it is built as
  terms; otherwise (RMa, and every "expected" loss) as a table in log10 d.

The formulas are plain numpy functions (:func:`los_probability`, :func:`path_loss_db`,
:func:`shadow_fading_sigma_db`, :func:`expected_path_loss_db`,
:func:`mixture_quantile_db`, :func:`path_loss_quantile_db`). Distances: ``d3d`` is the
3-D distance, ``d2d = sqrt(d3d^2 - (h_BS - h_UT)^2)`` (0 where d3d < |h_BS - h_UT|).
Carrier frequencies are in Hz (the table's f_c is in GHz).
"""

import math
import warnings
from statistics import NormalDist

import numpy as np

from ilac_plan.errors import IlacWarning, ParameterError
from ilac_plan.hookspecs import hookimpl
from ilac_plan.model.linkbudget import SPEED_OF_LIGHT_M_S
from ilac_plan.model.propagation import DropModel, LogDistanceTerm, PathLossModel
from ilac_plan.propagation import PropagationModel
from ilac_plan.schemes import Parameter

__version__ = "0.2.0"

#: Effective environment height h_E (UMi always; UMa for UEs below 13 m). [m]
ENVIRONMENT_HEIGHT_M = 1.0
SCENARIOS = ("uma", "umi", "rma", "inh")
STATES = ("los", "nlos", "expected")
#: Carrier range of the table's formulas (Table 7.4.1-1, note 6). [Hz]
CARRIER_RANGE_HZ = {"uma": (0.5e9, 100e9), "umi": (0.5e9, 100e9), "rma": (0.5e9, 30e9),
                    "inh": (0.5e9, 100e9)}
#: Largest reliability; the smallest non-zero one is 0.5 (the median).
RELIABILITY_RANGE = (0.5, 0.9999)
#: Resolution of the tabulated models: a slope change of s dB/decade (a breakpoint) is
#: interpolated to within s / (4 * 1000) dB, 0.0045 dB for UMa's 22 -> 40. [nodes/decade]
TABLE_NODES_PER_DECADE = 1000
#: Last node of the tabulated models (beyond it the last segment is extrapolated). [m]
TABLE_END_M = {"uma": 1e5, "umi": 1e5, "rma": 1e5, "inh": 1e4}
#: Shadow-fading standard deviations of Table 7.4.1-1, (LOS, NLOS); RMa LOS is 4 dB
#: before the breakpoint and 6 dB after it. [dB]
SHADOW_FADING_DB = {"uma": (4.0, 6.0), "umi": (4.0, 7.82), "rma": (4.0, 8.0),
                    "inh": (3.0, 8.03)}
RMA_LOS_SIGMA_AFTER_BREAKPOINT_DB = 6.0
LABELS = {"uma": "urban macro (UMa)", "umi": "urban micro street canyon (UMi)",
          "rma": "rural macro (RMa)", "inh": "indoor hotspot office, mixed (InH)"}

# scenario: (LOS intercept, LOS slope, LOS f_c factor, breakpoint correction,
#            NLOS intercept, NLOS slope, NLOS f_c factor, NLOS h_UT factor, default h_BS)
_TABLE = {
    "uma": (28.0, 22.0, 20.0, 9.0, 13.54, 39.08, 20.0, 0.6, 25.0),
    "umi": (32.4, 21.0, 20.0, 9.5, 22.4, 35.3, 21.3, 0.3, 10.0),
}
# InH-Office: LOS 32.4 + 17.3 log10 d + 20 log10 f_c; NLOS' 17.30 + 38.3 log10 d + 24.9 log10 f_c
_INH = (32.4, 17.3, 20.0, 17.30, 38.3, 24.9)


def _check_scenario(scenario):
    if scenario not in SCENARIOS:
        raise ParameterError(f"scenario must be one of {', '.join(SCENARIOS)}; got {scenario!r}")


def breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m, scenario="uma",
                          h_e_m=ENVIRONMENT_HEIGHT_M):
    """TR 38.901 breakpoint distance (2-D). [m]

    UMa and UMi: ``d'_BP = 4 h'_BS h'_UT f_c / c`` with ``h' = h - h_E``, h_E = 1 m
    (UMi always; UMa for UEs below 13 m, else random per link, see
    :func:`environment_height_m`; ``h_e_m`` may be an array). RMa:
    ``d_BP = 2 pi h_BS h_UT f_c / c``. InH has none (returns inf). ``f_c`` in Hz, ``c``
    the vacuum speed of light.
    """
    if scenario == "rma":
        return 2.0 * math.pi * h_bs_m * h_ut_m * carrier_hz / SPEED_OF_LIGHT_M_S
    if scenario == "inh":
        return math.inf
    bp = 4.0 * (h_bs_m - np.asarray(h_e_m, np.float64)) * (h_ut_m - np.asarray(h_e_m)) * \
        carrier_hz / SPEED_OF_LIGHT_M_S
    return float(bp) if np.ndim(bp) == 0 else bp


def environment_height_m(d2d_m, h_ut_m, uniform):
    """UMa's effective environment height h_E per link (Table 7.4.1-1, note 1): 1 m with
    probability ``1 / (1 + C(d2D, h_UT))``, else uniform over {12, 15, ..., h_UT - 1.5}.

    ``C = ((h_UT - 13)/10)^1.5 g(d2D)`` for 13 < h_UT <= 23 m (else 0), ``g(d2D) = 1.25
    (d2D/100)^3 exp(-d2D/150)`` beyond 18 m (else 0).

    Parameters
    ----------
    d2d_m : array_like
        2-D distances. [m]
    h_ut_m : float
        UE height. [m]
    uniform : array_like
        One uniform draw in [0, 1) per link, the same shape.

    Returns
    -------
    ndarray
        [m]
    """
    d = np.asarray(d2d_m, np.float64)
    u = np.asarray(uniform, np.float64)
    if h_ut_m <= 13.0:
        return np.full(d.shape, ENVIRONMENT_HEIGHT_M)
    g = np.where(d > 18.0, 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0), 0.0)
    c = ((min(h_ut_m, 23.0) - 13.0) / 10.0) ** 1.5 * g
    p_one = 1.0 / (1.0 + c)
    levels = np.arange(12.0, h_ut_m - 1.5 + 1e-9, 3.0)
    if levels.size == 0:
        return np.full(d.shape, ENVIRONMENT_HEIGHT_M)
    # u < p_one: h_E = 1 m; else the rest of [p_one, 1) split evenly among the levels
    rest = np.clip((u - p_one) / np.maximum(1.0 - p_one, 1e-300), 0.0, 1.0 - 1e-12)
    pick = levels[np.minimum((rest * levels.size).astype(np.int64), levels.size - 1)]
    return np.where(u < p_one, ENVIRONMENT_HEIGHT_M, pick)


def distance_2d_m(d3d_m, h_bs_m, h_ut_m):
    """``sqrt(d3d^2 - (h_BS - h_UT)^2)``, 0 where the 3-D distance is below the height
    difference. [m]"""
    d3d = np.asarray(d3d_m, np.float64)
    return np.sqrt(np.maximum(d3d**2 - (h_bs_m - h_ut_m) ** 2, 0.0))


def los_probability(scenario, d2d_m, h_ut_m=1.5, office="mixed"):
    """LOS probability of TR 38.901 Table 7.4.2-1 at 2-D distances.

    * UMa: 1 for d2D <= 18 m, else ``[18/d2D + exp(-d2D/63)(1 - 18/d2D)]
      [1 + C'(h_UT) 5/4 (d2D/100)^3 exp(-d2D/150)]`` with C'(h_UT) = 0 for h_UT <= 13 m
      and ``((h_UT - 13)/10)^1.5`` for 13 < h_UT <= 23 m;
    * UMi street canyon: 1 for d2D <= 18 m, else ``18/d2D + exp(-d2D/36)(1 - 18/d2D)``;
    * RMa: 1 for d2D <= 10 m, else ``exp(-(d2D - 10)/1000)``;
    * InH mixed office: 1 for d2D <= 1.2 m, ``exp(-(d2D - 1.2)/4.7)`` for
      1.2 < d2D < 6.5 m, ``0.32 exp(-(d2D - 6.5)/32.6)`` from 6.5 m;
    * InH open office (``office="open"``): 1 for d2D <= 5 m, ``exp(-(d2D - 5)/70.8)``
      for 5 < d2D <= 49 m, ``0.54 exp(-(d2D - 49)/211.7)`` beyond.

    Parameters
    ----------
    scenario : {"uma", "umi", "rma", "inh"}
    d2d_m : array_like
        2-D distances, >= 0. [m]
    h_ut_m : float, default 1.5
        UE height (UMa only; at most 23 m). [m]
    office : {"mixed", "open"}, default "mixed"
        InH only (other scenarios ignore it).

    Returns
    -------
    ndarray
    """
    _check_scenario(scenario)
    d = np.asarray(d2d_m, np.float64)
    safe = np.maximum(d, 1e-300)
    if scenario in ("uma", "umi"):
        decay = 63.0 if scenario == "uma" else 36.0
        p = 18.0 / safe + np.exp(-safe / decay) * (1.0 - 18.0 / safe)
        if scenario == "uma":
            if h_ut_m > 23.0:
                raise ParameterError(f"h_ut_m must be <= 23 m for the UMa LOS probability; "
                                     f"got {h_ut_m:g}")
            c = 0.0 if h_ut_m <= 13.0 else ((h_ut_m - 13.0) / 10.0) ** 1.5
            p = p * (1.0 + c * 1.25 * (safe / 100.0) ** 3 * np.exp(-safe / 150.0))
        return np.where(d <= 18.0, 1.0, p)
    if scenario == "rma":
        return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))
    if office == "open":
        return np.where(d <= 5.0, 1.0,
                        np.where(d <= 49.0, np.exp(-(d - 5.0) / 70.8),
                                 0.54 * np.exp(-(d - 49.0) / 211.7)))
    if office != "mixed":
        raise ParameterError(f"office must be 'mixed' or 'open'; got {office!r}")
    return np.where(d <= 1.2, 1.0,
                    np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7),
                             0.32 * np.exp(-(d - 6.5) / 32.6)))


def _rma_los_pl1(d, fc_ghz, h):
    """RMa PL1 of Table 7.4.1-1 at distance ``d`` (the 3-D distance, or d_BP). [dB]"""
    return (20.0 * np.log10(40.0 * math.pi * d * fc_ghz / 3.0)
            + min(0.03 * h**1.72, 10.0) * np.log10(d) - min(0.044 * h**1.72, 14.77)
            + 0.002 * math.log10(h) * d)


def path_loss_db(scenario, los, d3d_m, carrier_hz, h_bs_m, h_ut_m, *, street_width_m=20.0,
                 building_height_m=5.0, h_e_m=ENVIRONMENT_HEIGHT_M):
    """Median path loss of one state, TR 38.901 Table 7.4.1-1 (f_c in GHz below).

    * UMa LOS: ``PL1 = 28 + 22 log10 d3D + 20 log10 f_c`` for d2D <= d'_BP, then
      ``PL2 = 28 + 40 log10 d3D + 20 log10 f_c - 9 log10(d'_BP^2 + (h_BS - h_UT)^2)``;
      NLOS ``max(PL_LOS, 13.54 + 39.08 log10 d3D + 20 log10 f_c - 0.6 (h_UT - 1.5))``;
    * UMi LOS: ``32.4 + 21 log10 d3D + 20 log10 f_c``, then ``32.4 + 40 log10 d3D +
      20 log10 f_c - 9.5 log10(d'_BP^2 + (h_BS - h_UT)^2)``; NLOS ``max(PL_LOS, 22.4 +
      35.3 log10 d3D + 21.3 log10 f_c - 0.3 (h_UT - 1.5))``;
    * RMa LOS: ``PL1 = 20 log10(40 pi d3D f_c / 3) + min(0.03 h^1.72, 10) log10 d3D -
      min(0.044 h^1.72, 14.77) + 0.002 log10(h) d3D`` for d2D <= d_BP, then
      ``PL2 = PL1(d_BP) + 40 log10(d3D / d_BP)``; NLOS ``max(PL_LOS, 161.04 - 7.1 log10 W
      + 7.5 log10 h - (24.37 - 3.7 (h/h_BS)^2) log10 h_BS + (43.42 - 3.1 log10 h_BS)
      (log10 d3D - 3) + 20 log10 f_c - (3.2 (log10(11.75 h_UT))^2 - 4.97))``;
    * InH office LOS: ``32.4 + 17.3 log10 d3D + 20 log10 f_c``; NLOS ``max(PL_LOS,
      38.3 log10 d3D + 17.30 + 24.9 log10 f_c)``.

    The formulas are evaluated as written at every distance (outside the table's
    distance range too).

    Parameters
    ----------
    scenario : {"uma", "umi", "rma", "inh"}
    los : bool
        LOS (True) or NLOS (False).
    d3d_m : array_like
        3-D distances, > 0. [m]
    carrier_hz : float
        Carrier frequency. [Hz]
    h_bs_m, h_ut_m : float
        gNB and UE antenna heights. [m]
    street_width_m, building_height_m : float
        RMa's W and h. [m]
    h_e_m : float or array_like, default 1
        Effective environment height of UMa and UMi (an array: per link). [m]

    Returns
    -------
    ndarray
        [dB]
    """
    _check_scenario(scenario)
    d3d = np.asarray(d3d_m, np.float64)
    fc = carrier_hz / 1e9
    lfc = math.log10(fc)
    if scenario == "inh":
        a_los, b_los, f_los, a_nlos, b_nlos, f_nlos = _INH
        pl_los = a_los + b_los * np.log10(d3d) + f_los * lfc
        if los:
            return pl_los
        return np.maximum(pl_los, a_nlos + b_nlos * np.log10(d3d) + f_nlos * lfc)
    d2d = distance_2d_m(d3d, h_bs_m, h_ut_m)
    bp = breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m, scenario, h_e_m=h_e_m)
    if scenario == "rma":
        h, w = building_height_m, street_width_m
        pl_los = np.where(d2d <= bp, _rma_los_pl1(d3d, fc, h),
                          _rma_los_pl1(bp, fc, h) + 40.0 * np.log10(d3d / bp))
        if los:
            return pl_los
        nlos = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
                - (24.37 - 3.7 * (h / h_bs_m) ** 2) * math.log10(h_bs_m)
                + (43.42 - 3.1 * math.log10(h_bs_m)) * (np.log10(d3d) - 3.0)
                + 20.0 * lfc - (3.2 * math.log10(11.75 * h_ut_m) ** 2 - 4.97))
        return np.maximum(pl_los, nlos)
    a_los, b_los, f_los, bp_corr, a_nlos, b_nlos, f_nlos, h_nlos, _ = _TABLE[scenario]
    pl1 = a_los + b_los * np.log10(d3d) + f_los * lfc
    pl2 = a_los + 40.0 * np.log10(d3d) + f_los * lfc - bp_corr * np.log10(
        bp**2 + (h_bs_m - h_ut_m) ** 2)
    pl_los = np.where(d2d <= bp, pl1, pl2)
    if los:
        return pl_los
    return np.maximum(pl_los, a_nlos + b_nlos * np.log10(d3d) + f_nlos * lfc
                      - h_nlos * (h_ut_m - 1.5))


def shadow_fading_sigma_db(scenario, los, d2d_m, carrier_hz, h_bs_m, h_ut_m):
    """Shadow-fading standard deviation of Table 7.4.1-1 at 2-D distances. [dB]

    UMa 4 (LOS) / 6 (NLOS), UMi 4 / 7.82, RMa 4 up to the breakpoint d_BP and 6 after it
    (LOS) / 8 (NLOS), InH 3 / 8.03. The distance, carrier and heights matter only for
    RMa LOS.
    """
    _check_scenario(scenario)
    d2d = np.asarray(d2d_m, np.float64)
    sigma_los, sigma_nlos = SHADOW_FADING_DB[scenario]
    if not los:
        return np.full(d2d.shape, sigma_nlos)
    if scenario == "rma":
        bp = breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m, "rma")
        return np.where(d2d <= bp, sigma_los, RMA_LOS_SIGMA_AFTER_BREAKPOINT_DB)
    return np.full(d2d.shape, sigma_los)


def expected_path_loss_db(scenario, d3d_m, carrier_hz, h_bs_m, h_ut_m, **rma):
    """LOS-probability weighted loss ``P_LOS PL_LOS + (1 - P_LOS) PL_NLOS`` in dB.

    The mean in dB over the LOS state (not the mean of the linear gain), deterministic;
    ``rma`` takes ``street_width_m`` and ``building_height_m``. [dB]
    """
    d3d = np.asarray(d3d_m, np.float64)
    p = los_probability(scenario, distance_2d_m(d3d, h_bs_m, h_ut_m), h_ut_m)
    pl_los = path_loss_db(scenario, True, d3d, carrier_hz, h_bs_m, h_ut_m, **rma)
    pl_nlos = path_loss_db(scenario, False, d3d, carrier_hz, h_bs_m, h_ut_m, **rma)
    return p * pl_los + (1.0 - p) * pl_nlos


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _normal_cdf(z):
    return 0.5 * np.asarray(_ERFC(-np.asarray(z, np.float64) / math.sqrt(2.0)), np.float64)


def mixture_quantile_db(q, p_los, mean_los_db, sigma_los_db, mean_nlos_db, sigma_nlos_db,
                        tol_db=1e-9):
    """The q-quantile x of the mixture ``p N(mean_los, sigma_los^2) + (1 - p)
    N(mean_nlos, sigma_nlos^2)``: ``P(PL <= x) = q``, by bisection to ``tol_db``.

    The root lies between the two components' own q-quantiles (at the lower one the
    mixture's CDF is <= q, at the upper one >= q), which bracket the bisection.
    Arguments broadcast; sigmas > 0. [dB]
    """
    z = NormalDist().inv_cdf(q)
    p, m_l, s_l, m_n, s_n = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (
        p_los, mean_los_db, sigma_los_db, mean_nlos_db, sigma_nlos_db)))
    q_los, q_nlos = m_l + z * s_l, m_n + z * s_n
    lo, hi = np.minimum(q_los, q_nlos), np.maximum(q_los, q_nlos)
    width = float(np.max(hi - lo, initial=0.0))
    steps = max(0, math.ceil(math.log2(width / tol_db))) if width > tol_db else 0
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        cdf = p * _normal_cdf((mid - m_l) / s_l) + (1.0 - p) * _normal_cdf((mid - m_n) / s_n)
        below = cdf < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    x = 0.5 * (lo + hi)
    return np.where(p >= 1.0, q_los, np.where(p <= 0.0, q_nlos, x))


def path_loss_quantile_db(scenario, state, reliability, d3d_m, carrier_hz, h_bs_m, h_ut_m,
                          **rma):
    """The loss a model built with ``los=state, reliability=reliability`` gives. [dB]

    ``reliability`` 0: the median loss of the state (``"los"``, ``"nlos"``) or the
    expected loss (``"expected"``, :func:`expected_path_loss_db`). Else the
    ``reliability``-quantile of the loss with shadow fading: median + z_q sigma_SF in one
    state, the quantile of the LOS/NLOS mixture for ``"expected"``.
    """
    if state not in STATES:
        raise ParameterError(f"los must be one of {', '.join(STATES)}; got {state!r}")
    d3d = np.asarray(d3d_m, np.float64)
    if state == "expected" and reliability == 0:
        return expected_path_loss_db(scenario, d3d, carrier_hz, h_bs_m, h_ut_m, **rma)
    d2d = distance_2d_m(d3d, h_bs_m, h_ut_m)
    args = (carrier_hz, h_bs_m, h_ut_m)
    if state != "expected":
        los = state == "los"
        median = path_loss_db(scenario, los, d3d, *args, **rma)
        if reliability == 0:
            return median
        z = NormalDist().inv_cdf(reliability)
        return median + z * shadow_fading_sigma_db(scenario, los, d2d, *args)
    return mixture_quantile_db(
        reliability, los_probability(scenario, d2d, h_ut_m),
        path_loss_db(scenario, True, d3d, *args, **rma),
        shadow_fading_sigma_db(scenario, True, d2d, *args),
        path_loss_db(scenario, False, d3d, *args, **rma),
        shadow_fading_sigma_db(scenario, False, d2d, *args))


def path_loss_model(scenario, los, carrier_hz, h_bs_m, h_ut_m, min_distance_m=10.0,
                    margin_db=0.0):
    """The median loss of one state of UMa, UMi or InH as log-distance terms of the 3-D
    distance, plus a constant ``margin_db`` (a reliability margin z sigma_SF).

    Returns
    -------
    ilac_plan.model.PathLossModel
    """
    name = f"{scenario}_{'los' if los else 'nlos'}"
    fc = math.log10(carrier_hz / 1e9)
    if scenario == "inh":
        a_los, b_los, f_los, a_nlos, b_nlos, f_nlos = _INH
        terms = [LogDistanceTerm(a_los + f_los * fc + margin_db, b_los)]
        if not los:
            terms.append(LogDistanceTerm(a_nlos + f_nlos * fc + margin_db, b_nlos))
        return PathLossModel(name, tuple(terms), min_distance_m)
    a_los, b_los, f_los, bp_corr, a_nlos, b_nlos, f_nlos, h_nlos, _ = _TABLE[scenario]
    dh2 = (h_bs_m - h_ut_m) ** 2
    bp_2d = breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m)
    bp_3d = math.sqrt(bp_2d**2 + dh2)
    terms = [
        LogDistanceTerm(a_los + f_los * fc + margin_db, b_los, 0.0, bp_3d),
        LogDistanceTerm(a_los + f_los * fc - bp_corr * math.log10(bp_2d**2 + dh2) + margin_db,
                        40.0, bp_3d),
    ]
    if not los:
        terms.append(LogDistanceTerm(
            a_nlos + f_nlos * fc - h_nlos * (h_ut_m - 1.5) + margin_db, b_nlos))
    return PathLossModel(name, tuple(terms), min_distance_m)


def scenario_model(scenario, state, reliability, carrier_hz, h_bs_m, h_ut_m,
                   min_distance_m=10.0, **rma):
    """The path-loss model of a scenario, state and reliability (see the module docstring).

    Log-distance terms where the loss is a maximum of them (UMa, UMi, InH in one state:
    the margin ``z_q sigma_SF`` is constant there), else a table of
    :func:`path_loss_quantile_db` with :data:`TABLE_NODES_PER_DECADE` nodes per decade
    from ``min_distance_m`` to :data:`TABLE_END_M`.

    Returns
    -------
    ilac_plan.model.PathLossModel
    """
    name = f"{scenario}_{state}" + (f"_q{reliability:g}" if reliability else "")
    if scenario != "rma" and state != "expected":
        los = state == "los"
        margin = 0.0
        if reliability:
            margin = NormalDist().inv_cdf(reliability) * SHADOW_FADING_DB[scenario][not los]
        model = path_loss_model(scenario, los, carrier_hz, h_bs_m, h_ut_m, min_distance_m,
                                margin)
        return PathLossModel(name, model.terms, model.min_distance_m)

    def loss(d3d):
        return path_loss_quantile_db(scenario, state, reliability, d3d, carrier_hz, h_bs_m,
                                     h_ut_m, **rma)

    return PathLossModel.tabulated(name, loss, min_distance_m=min_distance_m,
                                   max_distance_m=TABLE_END_M[scenario],
                                   nodes_per_decade=TABLE_NODES_PER_DECADE)


def check_carrier(owner, scenario, carrier_hz):
    """Raise :class:`ParameterError` when the carrier is outside the scenario's range."""
    low, high = CARRIER_RANGE_HZ[scenario]
    if not low <= carrier_hz <= high:
        raise ParameterError(
            f"{owner}: carrier_hz must be in [{low:g}, {high:g}] Hz "
            f"({low / 1e9:g}-{high / 1e9:g} GHz, the TR 38.901 {scenario.upper()} range); "
            f"got {carrier_hz:g}")


def _height_parameters(scenario):
    """h_bs_m, h_ut_m and min_distance_m of a scenario, with the table's validity ranges."""
    if scenario == "uma":
        return (
            Parameter("h_bs_m", 25.0, unit="m", low=1.5, high=150.0,
                      description="gNB antenna height (the table is fitted at 25 m)",
                      geometry="gnb_height_m"),
            Parameter("h_ut_m", 1.5, unit="m", low=1.5, high=12.99,
                      description="UE antenna height, 1.5 m to below 13 m (h_E = 1 m only "
                                  "holds there)",
                      geometry="ue_height_m"),
            Parameter("min_distance_m", 10.0, unit="m", low=1.0, high=1e3,
                      description="3-D distance floor (the table starts at d2D = 10 m)"),
        )
    if scenario == "umi":
        return (
            Parameter("h_bs_m", 10.0, unit="m", low=1.5, high=150.0,
                      description="gNB antenna height (the table is fitted at 10 m)",
                      geometry="gnb_height_m"),
            Parameter("h_ut_m", 1.5, unit="m", low=1.5, high=22.5,
                      description="UE antenna height, 1.5-22.5 m (h_E = 1 m)",
                      geometry="ue_height_m"),
            Parameter("min_distance_m", 10.0, unit="m", low=1.0, high=1e3,
                      description="3-D distance floor (the table starts at d2D = 10 m)"),
        )
    if scenario == "rma":
        return (
            Parameter("h_bs_m", 35.0, unit="m", low=10.0, high=150.0,
                      description="gNB antenna height, 10-150 m",
                      geometry="gnb_height_m"),
            Parameter("h_ut_m", 1.5, unit="m", low=1.0, high=10.0,
                      description="UE antenna height, 1-10 m",
                      geometry="ue_height_m"),
            Parameter("street_width_m", 20.0, unit="m", low=5.0, high=50.0,
                      description="average street width W, 5-50 m"),
            Parameter("building_height_m", 5.0, unit="m", low=5.0, high=50.0,
                      description="average building height h, 5-50 m"),
            Parameter("min_distance_m", 10.0, unit="m", low=1.0, high=1e3,
                      description="3-D distance floor (the table starts at d2D = 10 m)"),
        )
    return (
        Parameter("h_bs_m", 3.0, unit="m", low=1.0, high=10.0,
                  description="access point height (the table assumes 3 m, ceiling)",
                      geometry="gnb_height_m"),
        Parameter("h_ut_m", 1.0, unit="m", low=0.5, high=3.0,
                  description="UE antenna height (the table assumes 1 m)",
                      geometry="ue_height_m"),
        Parameter("min_distance_m", 1.0, unit="m", low=0.1, high=150.0,
                  description="3-D distance floor (the table starts at d3D = 1 m)"),
    )


class TR38901(PropagationModel):
    """One TR 38.901 scenario and state, registered under ``<scenario>_<los|nlos>``."""

    def __init__(self, scenario, los):
        self.scenario, self.los = scenario, los
        self.name = f"{scenario}_{'los' if los else 'nlos'}"
        label = {"uma": "urban macro", "umi": "urban micro street canyon"}[scenario]
        self.description = f"3GPP TR 38.901 {label}, {'LOS' if los else 'NLOS'} median path loss"
        self.parameters = _height_parameters(scenario)

    def build(self, radio, *, h_bs_m, h_ut_m, min_distance_m):
        check_carrier(self.name, self.scenario, radio.carrier_hz)
        return path_loss_model(self.scenario, self.los, radio.carrier_hz, h_bs_m, h_ut_m,
                               min_distance_m)


class TR38901Scenario(PropagationModel):
    """One TR 38.901 scenario, registered under its name, with the LOS state (or the
    LOS-probability weighted expectation) and a reliability as parameters."""

    def __init__(self, scenario):
        self.scenario = self.name = scenario
        self.description = (f"3GPP TR 38.901 {LABELS[scenario]} path loss: LOS, NLOS or "
                            "LOS-probability weighted, optionally with a shadow-fading margin")
        self.parameters = (
            Parameter("los", "expected", choices=STATES,
                      description="state: los, nlos, or expected (P_LOS-weighted mean in dB)"),
            Parameter("reliability", 0.0, low=0.0, high=RELIABILITY_RANGE[1],
                      description="0 (median/expected loss) or a coverage probability in "
                                  "[0.5, 0.9999] (shadow-fading quantile)"),
        ) + _height_parameters(scenario)

    def build(self, radio, *, los, reliability, h_bs_m, h_ut_m, min_distance_m, **rma):
        check_carrier(self.name, self.scenario, radio.carrier_hz)
        if reliability != 0 and not RELIABILITY_RANGE[0] <= reliability <= RELIABILITY_RANGE[1]:
            raise ParameterError(f"{self.name}.reliability must be 0 or in "
                                 f"[{RELIABILITY_RANGE[0]:g}, {RELIABILITY_RANGE[1]:g}]; "
                                 f"got {reliability:g}")
        return scenario_model(self.scenario, los, reliability, radio.carrier_hz, h_bs_m,
                              h_ut_m, min_distance_m, **rma)

    def build_drop(self, radio, *, los, reliability, h_bs_m, h_ut_m, min_distance_m, **rma):
        """The scenario's random drop: the median LOS and NLOS losses, the LOS
        probability and the shadow-fading sigmas of Table 7.4.1-1 (RMa LOS: 4 dB at every
        distance). ``los`` and ``reliability`` do not apply to a drop."""
        check_carrier(self.name, self.scenario, radio.carrier_hz)
        if los != "expected" or reliability != 0:
            warnings.warn(f"{self.name}: los = {los!r} and reliability = {reliability:g} do "
                          "not apply to a random drop (drop_seed), which draws the LOS state "
                          "and the shadow fading per link", IlacWarning, stacklevel=3)
        return drop_model(self.scenario, radio.carrier_hz, h_bs_m, h_ut_m, min_distance_m,
                          **rma)


def drop_model(scenario, carrier_hz, h_bs_m, h_ut_m, min_distance_m=10.0, office="mixed",
               **rma):
    """The :class:`ilac_plan.model.DropModel` of a scenario (``evaluate(drop_seed=...)``):
    :func:`path_loss_db` of each state tabulated in the 3-D distance,
    :func:`los_probability` in the 2-D one (InH: ``office`` "mixed" or "open"), the
    sigmas of :data:`SHADOW_FADING_DB`."""
    _check_scenario(scenario)
    args = (carrier_hz, h_bs_m, h_ut_m)
    sigma_los, sigma_nlos = SHADOW_FADING_DB[scenario]
    return DropModel.tabulated(
        f"{scenario}_drop",
        lambda d: path_loss_db(scenario, True, d, *args, **rma),
        lambda d: path_loss_db(scenario, False, d, *args, **rma),
        lambda d: los_probability(scenario, d, h_ut_m, office),
        sigma_los, sigma_nlos, min_distance_m=min_distance_m,
        max_distance_m=TABLE_END_M[scenario], nodes_per_decade=TABLE_NODES_PER_DECADE)


@hookimpl
def ilac_register_propagation_models(register):
    for scenario in ("uma", "umi"):
        for los in (True, False):
            register(TR38901(scenario, los))
    for scenario in SCENARIOS:
        register(TR38901Scenario(scenario))
