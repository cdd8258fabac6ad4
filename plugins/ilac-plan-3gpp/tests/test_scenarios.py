"""The scenario models uma, umi, rma, inh: LOS probability, expected loss, reliability.

Every TR 38.901 formula is written out again here, scalar, as printed in Tables 7.4.1-1
and 7.4.2-1, and the plugin's functions and models are checked against it.
"""

import math
from statistics import NormalDist

import ilac_plan_3gpp as tr
import numpy as np
import pandas as pd
import pytest

import ilac_plan as ip
import ilac_plan.coverage
from ilac_plan.plugins import get_registry

C = 299_792_458.0
FC = 3.5e9
HEIGHTS = {"uma": (25.0, 1.5), "umi": (10.0, 1.5), "rma": (35.0, 1.5), "inh": (3.0, 1.0)}
SIGMA = {"uma": (4.0, 6.0), "umi": (4.0, 7.82), "rma": (4.0, 8.0), "inh": (3.0, 8.03)}
Z95 = 1.6448536269514722


def p_los(scenario, d2d, h_ut=1.5):
    """Table 7.4.2-1, as printed."""
    if scenario == "uma":
        if d2d <= 18.0:
            return 1.0
        c = 0.0 if h_ut <= 13.0 else ((h_ut - 13.0) / 10.0) ** 1.5
        return (18.0 / d2d + math.exp(-d2d / 63.0) * (1.0 - 18.0 / d2d)) * (
            1.0 + c * 5.0 / 4.0 * (d2d / 100.0) ** 3 * math.exp(-d2d / 150.0))
    if scenario == "umi":
        if d2d <= 18.0:
            return 1.0
        return 18.0 / d2d + math.exp(-d2d / 36.0) * (1.0 - 18.0 / d2d)
    if scenario == "rma":
        return 1.0 if d2d <= 10.0 else math.exp(-(d2d - 10.0) / 1000.0)
    if d2d <= 1.2:
        return 1.0
    if d2d < 6.5:
        return math.exp(-(d2d - 1.2) / 4.7)
    return math.exp(-(d2d - 6.5) / 32.6) * 0.32


def pl_table(scenario, los, d2d, fc_hz, h_bs, h_ut, w=20.0, h=5.0):
    """Table 7.4.1-1 per 2-D distance: (d3D, PL [dB], sigma_SF [dB])."""
    fc = fc_hz / 1e9
    d3d = math.sqrt(d2d**2 + (h_bs - h_ut) ** 2)
    if scenario == "inh":
        pl = 32.4 + 17.3 * math.log10(d3d) + 20.0 * math.log10(fc)
        if los:
            return d3d, pl, 3.0
        return d3d, max(pl, 38.3 * math.log10(d3d) + 17.30 + 24.9 * math.log10(fc)), 8.03
    if scenario == "rma":
        bp = 2.0 * math.pi * h_bs * h_ut * fc_hz / C

        def pl1(d):
            return (20.0 * math.log10(40.0 * math.pi * d * fc / 3.0)
                    + min(0.03 * h**1.72, 10.0) * math.log10(d)
                    - min(0.044 * h**1.72, 14.77) + 0.002 * math.log10(h) * d)

        if d2d <= bp:
            pl, sigma = pl1(d3d), 4.0
        else:
            pl, sigma = pl1(bp) + 40.0 * math.log10(d3d / bp), 6.0
        if los:
            return d3d, pl, sigma
        nlos = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
                - (24.37 - 3.7 * (h / h_bs) ** 2) * math.log10(h_bs)
                + (43.42 - 3.1 * math.log10(h_bs)) * (math.log10(d3d) - 3.0)
                + 20.0 * math.log10(fc) - (3.2 * (math.log10(11.75 * h_ut)) ** 2 - 4.97))
        return d3d, max(pl, nlos), 8.0
    bp = 4.0 * (h_bs - 1.0) * (h_ut - 1.0) * fc_hz / C
    if scenario == "uma":
        pl1 = 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(fc)
        pl2 = 28.0 + 40.0 * math.log10(d3d) + 20.0 * math.log10(fc) - 9.0 * math.log10(
            bp**2 + (h_bs - h_ut) ** 2)
        nlos = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 0.6 * (h_ut - 1.5)
    else:
        pl1 = 32.4 + 21.0 * math.log10(d3d) + 20.0 * math.log10(fc)
        pl2 = 32.4 + 40.0 * math.log10(d3d) + 20.0 * math.log10(fc) - 9.5 * math.log10(
            bp**2 + (h_bs - h_ut) ** 2)
        nlos = 22.4 + 35.3 * math.log10(d3d) + 21.3 * math.log10(fc) - 0.3 * (h_ut - 1.5)
    pl = pl1 if d2d <= bp else pl2
    if los:
        return d3d, pl, SIGMA[scenario][0]
    return d3d, max(pl, nlos), SIGMA[scenario][1]


def build(scenario, radio=None, **params):
    radio = radio or ip.RadioParams(carrier_hz=FC)
    return get_registry().model(scenario).path_loss_model(radio, params)


def distances_2d(scenario):
    """10 m to 5 km (InH: 1 m to 150 m), log-spaced, with the breakpoints."""
    if scenario == "inh":
        return np.geomspace(1.0, 150.0, 157)
    return np.geomspace(10.0, 5000.0, 211)


# ---- LOS probability ------------------------------------------------------------------

@pytest.mark.parametrize("scenario,distances", [
    ("uma", [0.0, 5.0, 17.999, 18.0, 18.001, 25.0, 63.0, 150.0, 600.0, 4000.0]),
    ("umi", [0.0, 5.0, 17.999, 18.0, 18.001, 25.0, 36.0, 150.0, 600.0, 4000.0]),
    ("rma", [0.0, 9.999, 10.0, 10.001, 100.0, 1000.0, 9000.0]),
    ("inh", [0.0, 1.0, 1.2, 1.2001, 3.0, 6.4999, 6.5, 6.5001, 30.0, 150.0]),
])
def test_los_probability_matches_table_7_4_2_1(scenario, distances):
    got = tr.los_probability(scenario, np.array(distances))
    want = [p_los(scenario, d) for d in distances]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert got[0] == 1.0


def test_uma_los_probability_of_high_ues():
    """C'(h_UT) = ((h_UT - 13) / 10)^1.5 above 13 m (the function has it; the models stop
    below 13 m, where it is 0)."""
    d = np.array([10.0, 18.0, 40.0, 100.0, 200.0, 1000.0])
    for h_ut in [1.5, 13.0, 18.0, 23.0]:
        want = [p_los("uma", x, h_ut) for x in d]
        np.testing.assert_allclose(tr.los_probability("uma", d, h_ut), want, rtol=1e-13)
    assert tr.los_probability("uma", 100.0, 18.0) > tr.los_probability("uma", 100.0, 13.0)


def test_inh_los_probability_jumps_at_6_5_m():
    left = tr.los_probability("inh", np.nextafter(6.5, 0.0))
    assert left == pytest.approx(math.exp(-5.3 / 4.7), rel=1e-12)
    assert tr.los_probability("inh", 6.5) == pytest.approx(0.32, rel=1e-15)


# ---- median loss of one state -----------------------------------------------------------

@pytest.mark.parametrize("scenario", tr.SCENARIOS)
@pytest.mark.parametrize("los", [True, False])
@pytest.mark.parametrize("fc_hz", [0.9e9, 3.5e9, 28e9])
def test_path_loss_db_matches_table_7_4_1_1(scenario, los, fc_hz):
    h_bs, h_ut = HEIGHTS[scenario]
    d2d = distances_2d(scenario)
    bp = tr.breakpoint_distance_m(fc_hz, h_bs, h_ut, scenario)
    d2d = np.concatenate([d2d, [0.999 * bp, 1.001 * bp]]) if np.isfinite(bp) else d2d
    rows = [pl_table(scenario, los, d, fc_hz, h_bs, h_ut) for d in d2d]
    d3d = np.array([r[0] for r in rows])
    got = tr.path_loss_db(scenario, los, d3d, fc_hz, h_bs, h_ut)
    np.testing.assert_allclose(got, [r[1] for r in rows], rtol=0, atol=1e-9)
    sigma = tr.shadow_fading_sigma_db(scenario, los, d2d, fc_hz, h_bs, h_ut)
    np.testing.assert_array_equal(sigma, [r[2] for r in rows])


def test_rma_street_and_building_parameters():
    d2d = np.array([20.0, 300.0, 2000.0, 4900.0])
    for w, h in [(5.0, 5.0), (20.0, 5.0), (50.0, 50.0)]:
        rows = [pl_table("rma", False, d, FC, 35.0, 1.5, w, h) for d in d2d]
        got = tr.path_loss_db("rma", False, [r[0] for r in rows], FC, 35.0, 1.5,
                              street_width_m=w, building_height_m=h)
        np.testing.assert_allclose(got, [r[1] for r in rows], atol=1e-9)
        model = build("rma", los="nlos", street_width_m=w, building_height_m=h)
        np.testing.assert_allclose(model.path_loss_db([r[0] for r in rows]),
                                   [r[1] for r in rows], atol=0.01)


@pytest.mark.parametrize("scenario,coef", [("uma", (22.0, 9.0)), ("umi", (21.0, 9.5))])
@pytest.mark.parametrize("fc_hz,h_bs,h_ut", [(3.5e9, 25.0, 1.5), (28e9, 10.0, 2.0),
                                              (0.7e9, 35.0, 12.0)])
def test_los_pieces_meet_at_the_breakpoint(scenario, coef, fc_hz, h_bs, h_ut):
    """PL1 and PL2 agree at d2D = d'_BP: 40 log10 d3D - k log10(d'_BP^2 + dh^2) = b log10 d3D
    there, for (b, k) = (22, 9) and (21, 9.5)."""
    b, k = coef
    bp = 4.0 * (h_bs - 1.0) * (h_ut - 1.0) * fc_hz / C
    d3d = math.hypot(bp, h_bs - h_ut)
    pl1 = b * math.log10(d3d)
    pl2 = 40.0 * math.log10(d3d) - k * math.log10(bp**2 + (h_bs - h_ut) ** 2)
    assert abs(pl1 - pl2) < 1e-9
    left, right = tr.path_loss_db(scenario, True, [d3d * (1 - 1e-13), d3d * (1 + 1e-13)],
                                  fc_hz, h_bs, h_ut)
    assert abs(right - left) < 1e-9


@pytest.mark.parametrize("scenario", ["uma", "umi", "inh"])
@pytest.mark.parametrize("los", ["los", "nlos"])
def test_one_state_without_margin_is_exact_terms(scenario, los):
    """UMa, UMi, InH in one state stay log-distance terms (the kernel's native form); the
    uma/umi ones are the uma_los ... umi_nlos models themselves."""
    model = build(scenario, los=los)
    assert model.table is None and model.drop_db() < 1e-9
    h_bs, h_ut = HEIGHTS[scenario]
    d2d = distances_2d(scenario)
    rows = [pl_table(scenario, los == "los", d, FC, h_bs, h_ut) for d in d2d]
    np.testing.assert_allclose(model.path_loss_db([r[0] for r in rows]),
                               [r[1] for r in rows], atol=1e-9)
    if scenario != "inh":
        legacy = get_registry().model(f"{scenario}_{los}").path_loss_model(
            ip.RadioParams(carrier_hz=FC))
        assert model.terms == legacy.terms


@pytest.mark.parametrize("los", ["los", "nlos"])
def test_rma_state_table_matches_the_formula(los):
    model = build("rma", los=los)
    assert model.table is not None
    d2d = distances_2d("rma")
    rows = [pl_table("rma", los == "los", d, FC, 35.0, 1.5) for d in d2d]
    np.testing.assert_allclose(model.path_loss_db([r[0] for r in rows]),
                               [r[1] for r in rows], atol=0.01)


# ---- expected loss ----------------------------------------------------------------------

@pytest.mark.parametrize("scenario", tr.SCENARIOS)
@pytest.mark.parametrize("fc_hz", [2.6e9, 28e9])
def test_expected_loss_is_the_los_probability_weighted_mean(scenario, fc_hz):
    h_bs, h_ut = HEIGHTS[scenario]
    if scenario == "rma" and fc_hz > 3e9:
        fc_hz = 24e9
    radio = ip.RadioParams(carrier_hz=fc_hz)
    model = build(scenario, radio, los="expected")
    d2d = np.concatenate([distances_2d(scenario), np.geomspace(*distances_2d(scenario)[[0, -1]],
                                                               2003)])
    d3d, want = [], []
    for d in d2d:
        r3, los_db, _ = pl_table(scenario, True, d, fc_hz, h_bs, h_ut)
        _, nlos_db, _ = pl_table(scenario, False, d, fc_hz, h_bs, h_ut)
        p = p_los(scenario, d, h_ut)
        d3d.append(r3)
        want.append(p * los_db + (1.0 - p) * nlos_db)
    np.testing.assert_allclose(tr.expected_path_loss_db(scenario, d3d, fc_hz, h_bs, h_ut),
                               want, atol=1e-9)
    # the table's interpolation in log10 d: < 0.01 dB, but for InH's step of P_LOS at
    # 6.5 m (0.3238 -> 0.32), which the table ramps over one node spacing (0.23 %)
    error = np.abs(model.path_loss_db(d3d) - np.array(want))
    step = np.abs(d2d - 6.5) < 0.02 if scenario == "inh" else np.zeros(d2d.size, bool)
    assert np.max(error[~step], initial=0.0) < 0.01
    if scenario == "inh":
        assert step.any()
        _, los_db, _ = pl_table("inh", True, 6.5, fc_hz, h_bs, h_ut)
        _, nlos_db, _ = pl_table("inh", False, 6.5, fc_hz, h_bs, h_ut)
        jump = (math.exp(-5.3 / 4.7) - 0.32) * (nlos_db - los_db)
        assert np.max(error[step]) <= jump + 0.01


# ---- reliability ------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", tr.SCENARIOS)
@pytest.mark.parametrize("los", ["los", "nlos"])
@pytest.mark.parametrize("reliability,z", [(0.95, Z95), (0.5, 0.0), (0.9, 1.2815515655446004),
                                           (0.9999, 3.7190164854556804)])
def test_reliability_margin_is_z_sigma(scenario, los, reliability, z):
    h_bs, h_ut = HEIGHTS[scenario]
    median = build(scenario, los=los)
    margined = build(scenario, los=los, reliability=reliability)
    d2d = distances_2d(scenario)[:-20]            # RMa: before its breakpoint (3.85 km)
    d3d = np.hypot(d2d, h_bs - h_ut)
    sigma = SIGMA[scenario][los == "nlos"]
    np.testing.assert_allclose(margined.path_loss_db(d3d) - median.path_loss_db(d3d),
                               z * sigma, atol=1e-9)


def test_rma_los_margin_after_the_breakpoint_is_6_db_sigma():
    bp = tr.breakpoint_distance_m(FC, 35.0, 1.5, "rma")
    d3d = np.hypot(np.array([1.05 * bp, 2.0 * bp, 9000.0]), 33.5)
    got = tr.path_loss_quantile_db("rma", "los", 0.95, d3d, FC, 35.0, 1.5)
    want = tr.path_loss_db("rma", True, d3d, FC, 35.0, 1.5) + Z95 * 6.0
    np.testing.assert_allclose(got, want, atol=1e-12)
    model = build("rma", los="los", reliability=0.95)
    np.testing.assert_allclose(model.path_loss_db(d3d), want, atol=0.01)


def mixture_cdf(x, p, m_l, s_l, m_n, s_n):
    return p * NormalDist(m_l, s_l).cdf(x) + (1.0 - p) * NormalDist(m_n, s_n).cdf(x)


def test_mixture_quantile_solves_the_cdf():
    rng = np.random.default_rng(7)
    n = 200
    p = np.concatenate([[0.0, 1.0, 0.5], rng.uniform(0, 1, n - 3)])
    m_l = rng.uniform(60, 140, n)
    m_n = m_l + rng.uniform(0, 30, n)
    s_l = rng.uniform(3, 6, n)
    s_n = rng.uniform(6, 8.1, n)
    for q in [0.5, 0.9, 0.95, 0.9999]:
        x = tr.mixture_quantile_db(q, p, m_l, s_l, m_n, s_n)
        for k in range(n):
            args = (p[k], m_l[k], s_l[k], m_n[k], s_n[k])
            assert mixture_cdf(x[k] - 1e-8, *args) <= q <= mixture_cdf(x[k] + 1e-8, *args)
            assert mixture_cdf(x[k], *args) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("scenario", tr.SCENARIOS)
def test_expected_with_reliability_is_the_mixture_quantile(scenario):
    h_bs, h_ut = HEIGHTS[scenario]
    model = build(scenario, los="expected", reliability=0.95)
    d2d = distances_2d(scenario)[::10]
    d3d = np.hypot(d2d, h_bs - h_ut)
    got = tr.path_loss_quantile_db(scenario, "expected", 0.95, d3d, FC, h_bs, h_ut)
    for k, d in enumerate(d2d):
        _, los_db, s_l = pl_table(scenario, True, d, FC, h_bs, h_ut)
        _, nlos_db, s_n = pl_table(scenario, False, d, FC, h_bs, h_ut)
        cdf = mixture_cdf(got[k], p_los(scenario, d, h_ut), los_db, s_l, nlos_db, s_n)
        assert cdf == pytest.approx(0.95, abs=1e-9)
    np.testing.assert_allclose(model.path_loss_db(d3d), got, atol=0.01)
    # between the LOS and NLOS 95 % losses, above the expected loss
    assert np.all(got <= tr.path_loss_db(scenario, False, d3d, FC, h_bs, h_ut)
                  + Z95 * SIGMA[scenario][1] + 1e-9)
    assert np.all(got >= tr.expected_path_loss_db(scenario, d3d, FC, h_bs, h_ut))


@pytest.mark.parametrize("scenario", tr.SCENARIOS)
@pytest.mark.parametrize("los", tr.STATES)
@pytest.mark.parametrize("reliability", [0.0, 0.5, 0.95, 0.9999])
def test_tables_never_fall_with_distance(scenario, los, reliability):
    """A table's drop_db is 0, which exact cell pruning relies on: check the nodes rise."""
    model = build(scenario, los=los, reliability=reliability)
    if model.table is not None:
        assert np.all(np.diff(model.table.loss_db) >= 0.0)
    else:
        assert model.drop_db() < 1e-9


# ---- parameters -------------------------------------------------------------------------

def test_registered_models_and_defaults():
    reg = get_registry()
    for scenario in tr.SCENARIOS:
        params = {p.name: p for p in reg.model(scenario).parameters}
        assert params["los"].default == "expected"
        assert params["los"].choices == ("los", "nlos", "expected")
        assert params["reliability"].default == 0.0
        assert (params["h_bs_m"].default, params["h_ut_m"].default) == HEIGHTS[scenario]
    rma = {p.name: p.default for p in reg.model("rma").parameters}
    assert rma["street_width_m"] == 20.0 and rma["building_height_m"] == 5.0


def test_umi_accepts_a_20_m_ue():
    model = build("umi", los="los", h_ut_m=20.0)
    d3d, want, _ = pl_table("umi", True, 300.0, FC, 10.0, 20.0)
    assert model.path_loss_db(d3d) == pytest.approx(want, abs=1e-9)
    expected = build("umi", h_ut_m=20.0)
    _, nlos_db, _ = pl_table("umi", False, 300.0, FC, 10.0, 20.0)
    p = p_los("umi", 300.0)
    assert expected.path_loss_db(d3d) == pytest.approx(p * want + (1 - p) * nlos_db, abs=0.01)


@pytest.mark.parametrize("scenario,params,match", [
    ("uma", {"h_ut_m": 13.5}, "uma.h_ut_m must be"),
    ("uma", {"h_ut_m": 1.2}, "uma.h_ut_m must be"),
    ("umi", {"h_ut_m": 23.0}, "umi.h_ut_m must be"),
    ("rma", {"h_ut_m": 10.5}, "rma.h_ut_m must be"),
    ("rma", {"h_bs_m": 9.0}, "rma.h_bs_m must be"),
    ("rma", {"street_width_m": 60.0}, "rma.street_width_m must be"),
    ("rma", {"building_height_m": 4.0}, "rma.building_height_m must be"),
    ("uma", {"los": "mixed"}, "uma.los must be one of"),
    ("inh", {"reliability": 0.3}, r"inh.reliability must be 0 or in \[0.5, 0.9999\]"),
    ("inh", {"reliability": 0.99999}, "inh.reliability must be"),
])
def test_bad_parameters_are_refused(scenario, params, match):
    with pytest.raises(ip.ParameterError, match=match):
        build(scenario, **params)


@pytest.mark.parametrize("scenario,ok,bad,text", [
    ("uma", [0.5e9, 100e9], [0.45e9, 120e9], r"\[5e\+08, 1e\+11\] Hz"),
    ("umi", [0.5e9, 100e9], [0.45e9, 120e9], r"\[5e\+08, 1e\+11\] Hz"),
    ("rma", [0.5e9, 30e9], [0.45e9, 31e9], r"\[5e\+08, 3e\+10\] Hz"),
    ("inh", [0.5e9, 100e9], [0.45e9, 120e9], r"\[5e\+08, 1e\+11\] Hz"),
])
def test_carrier_guard(scenario, ok, bad, text):
    for fc in ok:
        build(scenario, ip.RadioParams(carrier_hz=fc))
    for fc in bad:
        with pytest.raises(ip.ParameterError, match=f"{scenario}: carrier_hz must be in {text}"
                           ) as err:
            build(scenario, ip.RadioParams(carrier_hz=fc))
        assert "\n" not in str(err.value)


# ---- through the planner ----------------------------------------------------------------

def test_planner_evaluates_the_expected_95_percent_loss():
    """evaluate() with a tabulated model equals the numpy evaluation of the table."""
    radio = ip.RadioParams(carrier_hz=FC)
    params = {"los": "expected", "reliability": 0.95}
    model = build("uma", radio, **params)
    assert model.table is not None
    sites = pd.DataFrame({"x_m": [0.0, 900.0], "y_m": [0.0, 0.0], "azimuth_deg": [90.0, 270.0],
                          "n_antennas": [32, 32], "power_dbm": [46.0, 46.0],
                          "height_m": [25.0, 25.0]})
    x = np.linspace(-300, 1200, 61)
    y = np.full_like(x, 80.0)
    df = ilac_plan.coverage.evaluate(sites, x, y, radio=radio, propagation="uma",
                              propagation_params=params, ue_height_m=1.5,
                              sector_pattern=False, schemes=())
    d3d = np.hypot(np.hypot(x - sites.x_m.to_numpy()[df.serving_cell], y), 23.5)
    want = 46.0 - model.path_loss_db(d3d) - radio.noise_dbm
    np.testing.assert_allclose(df.snr_db, want, rtol=1e-9, atol=1e-9)
    near_first = np.abs(x) <= np.abs(x - 900.0)
    assert (df.serving_cell[near_first] == 0).all() and (df.serving_cell[~near_first] == 1).all()
