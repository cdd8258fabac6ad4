"""The hybrid plugin against a brute-force search over every block shape."""

import math

import numpy as np
import pandas as pd
import pytest

import ilac_plan as ip
from ilac_plan.model import best_pilot_capacity, crb_position
from ilac_plan.plugins import get_registry
from ilac_plan.schemes import FrequencySplit
from ilac_plan.testing import assert_scheme_conforms
from ilac_plan_hybrid import HybridBlock

RADIO = ip.RadioParams()
SITES = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [8],
                      "power_dbm": [20.0], "ue_power_dbm": [20.0]})
X = np.array([0.0, 120.0, -300.0, 600.0, 50.0])
Y = np.array([150.0, 400.0, 700.0, 1500.0, 3000.0])


def test_registered_and_conforms():
    assert get_registry(reload=True).schemes["hybrid"].plugin.distribution == "ilac-plan-hybrid"
    assert_scheme_conforms(HybridBlock())
    assert_scheme_conforms(HybridBlock(), params={"n_shapes": 200})


def brute_force(df, i, target=None, budget=None, bound="paper", epre="paper", height_m=0.0):
    """Every (tau_L, B_L) shape with the model functions; the best by the objective."""
    snr = 10 ** (df.snr_db[i] / 10)
    widths = FrequencySplit().plan(RADIO).loc_bandwidth_hz[1:]
    taus = np.arange(1, 201)
    link = dict(n_antennas=8, snr_dl=snr, snr_ul=snr)
    per_hz = best_pilot_capacity(1.0, np.arange(201), **link)[0]
    tau, width = np.meshgrid(taus, widths, indexing="ij")
    cap = (20e6 - width) * per_hz[200] + width * per_hz[200 - tau]
    share = width / 20e6 if epre == "equal" else 1.0
    crb = crb_position(df.distance_m[i], np.deg2rad(df.theta_deg[i]), width, tau, n_antennas=8,
                       snr=snr * share, wavelength_m=RADIO.wavelength_m, bound=bound,
                       height_diff_m=height_m)
    if target is not None:
        ok = crb <= target**2
        if not ok.any():
            return 0.0, math.sqrt(crb.min())
        k = np.argmax(np.where(ok, cap, -1))
    else:
        ok = cap >= (1 - budget) * 20e6 * per_hz[200] * (1 - 1e-12)
        k = np.argmin(np.where(ok, crb, np.inf))
    return cap.ravel()[k], math.sqrt(crb.ravel()[k])


@pytest.mark.parametrize("target", [0.05, 0.3, 2.0])
def test_best_shape_matches_brute_force_for_a_target(target):
    df = ip.evaluate(SITES, X, Y, schemes=["hybrid", "time", "frequency"], target_error_m=target,
                     scheme_params={"hybrid": {"n_shapes": 200}})
    for i in range(X.size):
        cap, err = brute_force(df, i, target=target)
        assert df.hybrid_capacity_bps[i] == pytest.approx(cap, rel=1e-9)
        if cap > 0:
            assert df.hybrid_error_m[i] <= target * (1 + 1e-9)
        assert df.hybrid_capacity_bps[i] >= max(df.time_capacity_bps[i],
                                                df.frequency_capacity_bps[i]) * (1 - 1e-12)


@pytest.mark.parametrize("budget", [0.01, 0.1, 0.5])
def test_lowest_error_within_a_budget_matches_brute_force(budget):
    df = ip.evaluate(SITES, X, Y, schemes=["hybrid", "time", "frequency"],
                     max_capacity_loss=budget, scheme_params={"hybrid": {"n_shapes": 200}})
    for i in range(X.size):
        cap, err = brute_force(df, i, budget=budget)
        assert df.hybrid_error_m[i] == pytest.approx(err, rel=1e-9)
        assert df.hybrid_error_m[i] <= min(df.time_error_m[i], df.frequency_error_m[i]) * (1 + 1e-9)


def test_fewer_shapes_never_beat_all_shapes():
    full = ip.evaluate(SITES, X, Y, schemes=["hybrid"], target_error_m=0.3,
                       scheme_params={"hybrid": {"n_shapes": 200}})
    coarse = ip.evaluate(SITES, X, Y, schemes=["hybrid"], target_error_m=0.3)
    assert (coarse.hybrid_capacity_bps <= full.hybrid_capacity_bps * (1 + 1e-12)).all()


@pytest.mark.parametrize("bound,epre", [("achievable", "paper"), ("paper", "equal"),
                                        ("achievable", "equal")])
def test_the_runs_bound_and_energy_convention_reach_the_block_search(bound, epre):
    sites = SITES.assign(height_m=25.0)
    for target in (0.3, 2.0):
        df = ip.evaluate(sites, X, Y, schemes=["hybrid", "time", "frequency"],
                         target_error_m=target, scheme_params={"hybrid": {"n_shapes": 200}},
                         bound=bound, epre=epre, ue_height_m=1.5)
        for i in range(X.size):
            cap, err = brute_force(df, i, target=target, bound=bound, epre=epre, height_m=23.5)
            assert df.hybrid_capacity_bps[i] == pytest.approx(cap, rel=1e-9)
    df = ip.evaluate(sites, X, Y, schemes=["hybrid"], max_capacity_loss=0.1, bound=bound,
                     epre=epre, scheme_params={"hybrid": {"n_shapes": 200}}, ue_height_m=1.5)
    for i in range(X.size):
        cap, err = brute_force(df, i, budget=0.1, bound=bound, epre=epre, height_m=23.5)
        assert df.hybrid_error_m[i] == pytest.approx(err, rel=1e-9)


@pytest.mark.parametrize("epre", ["paper", "equal"])
@pytest.mark.parametrize("objective", [dict(target_error_m=0.05), dict(target_error_m=0.4),
                                       dict(target_error_m=3.0), dict(max_capacity_loss=0.02),
                                       dict(max_capacity_loss=0.3)])
def test_default_search_is_exact_and_never_worse_than_time_or_frequency(objective, epre):
    """The default (every symbol count) equals the exhaustive search and contains both
    pure splits, at random points of a random network."""
    rng = np.random.default_rng(11)
    sites = pd.DataFrame({"x_m": rng.uniform(0, 2e3, 6), "y_m": rng.uniform(0, 2e3, 6),
                          "azimuth_deg": rng.uniform(0, 360, 6),
                          "n_antennas": rng.integers(2, 65, 6), "power_dbm": rng.uniform(5, 40, 6)})
    x, y = rng.uniform(-200, 2200, 3000), rng.uniform(-200, 2200, 3000)
    df = ip.evaluate(sites, x, y, schemes=["hybrid", "time", "frequency"], epre=epre,
                     **objective)
    full = ip.evaluate(sites, x, y, schemes=["hybrid"], epre=epre, **objective,
                       scheme_params={"hybrid": {"n_shapes": 200}})
    pd.testing.assert_series_equal(df.hybrid_capacity_bps, full.hybrid_capacity_bps)
    pd.testing.assert_series_equal(df.hybrid_error_m, full.hybrid_error_m)
    if "target_error_m" in objective:
        best = np.maximum(df.time_capacity_bps, df.frequency_capacity_bps)
        assert (df.hybrid_capacity_bps >= best * (1 - 1e-12)).all()
        assert (best > 0).any() and (df.hybrid_capacity_bps > best * (1 + 1e-6)).any()
    else:
        best = np.minimum(df.time_error_m, df.frequency_error_m)
        assert (df.hybrid_error_m <= best * (1 + 1e-12)).all()


def test_closed_form_block_width_equals_the_bisection():
    rng = np.random.default_rng(12)
    df = ip.evaluate(SITES, rng.uniform(-3e3, 3e3, 4000), rng.uniform(-3e3, 3e3, 4000),
                     schemes=(), antenna="omni")
    from ilac_plan.schemes import LinkState
    snr = 10 ** (df.snr_db.to_numpy() / 10)
    link = LinkState(distance_m=df.distance_m.to_numpy(), theta_rad=np.deg2rad(df.theta_deg),
                     snr_dl=snr, snr_ul=snr, n_antennas=np.full(snr.size, 8.0),
                     spacing_m=np.full(snr.size, RADIO.antenna_spacing_m),
                     serving_cell=np.zeros(snr.size, np.int32),
                     height_diff_m=np.zeros(snr.size))
    from ilac_plan_hybrid import BlockCrb
    widths = FrequencySplit().plan(RADIO).loc_bandwidth_hz[1:]
    crb = BlockCrb(link, RADIO, widths)
    assert crb.closed_form
    for tau in (1, 7, 60, 200):
        for target in (0.05, 0.5, 5.0):
            fast = HybridBlock._narrowest(crb, tau, target**2, widths.size, snr.size)
            crb.closed_form = False
            slow = HybridBlock._narrowest(crb, tau, target**2, widths.size, snr.size)
            crb.closed_form = True
            assert np.array_equal(fast, slow)
            assert 0 < np.mean(fast < widths.size) < 1 or tau in (1, 200)
