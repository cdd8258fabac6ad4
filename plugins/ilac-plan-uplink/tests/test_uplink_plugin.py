"""The uplink plugin: registered by entry point, conforms, and matches the formulas."""

import math

import numpy as np
import pandas as pd
import pytest

import ilac_plan as ip
from ilac_plan.plugins import get_registry
from ilac_plan.testing import assert_scheme_conforms
from ilac_plan_uplink import UplinkSplit

RADIO = ip.RadioParams()


def test_registered_through_its_entry_point():
    entry = get_registry(reload=True).schemes["uplink"]
    assert entry.plugin.distribution == "ilac-plan-uplink"
    assert entry.obj.kind == "plan or vectorized"
    assert entry.obj.form({"domain": "time", "rate_bound": "uatf"}) == "plan"
    assert entry.obj.form({"domain": "time", "rate_bound": "side_information"}) == "vectorized"


@pytest.mark.parametrize("domain", ["time", "frequency"])
@pytest.mark.parametrize("rate_bound", ["uatf", "side_information"])
def test_conforms(domain, rate_bound):
    assert_scheme_conforms(UplinkSplit(), params={"domain": domain, "rate_bound": rate_bound})


def marzetta_uplink_rate(tau_c, snr_ul, n):
    """Uplink MR, single user, MMSE estimate (Marzetta-Larsson-Yang 2016), best integer
    pilot length, written with rho_ul and beta: nat/s/Hz per frame of 200 symbols."""
    rho, beta = snr_ul / 1e-9, 1e-9
    best = 0.0
    for tau_p in range(1, int(tau_c)):
        gamma = tau_p * rho * beta**2 / (1 + tau_p * rho * beta)
        best = max(best, (tau_c - tau_p) / 200 * math.log(1 + n * rho * gamma / (1 + rho * beta)))
    return best


def test_capacity_and_crb_use_the_ue_side():
    """One omni cell: the uplink scheme's capacity is the uplink MR formula at the UE's
    SNR, and its error is the CRB at the UE's SNR (20 dB below the gNB's here)."""
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [16],
                          "power_dbm": [33.0], "ue_power_dbm": [13.0]})
    x = np.array([0.0, 150.0, 400.0])
    y = np.array([300.0, 500.0, 900.0])
    df = ip.evaluate(sites, x, y, schemes=["uplink"], target_error_m=2.0, sector_pattern=False)
    snr_ul = 10 ** ((df.snr_db - 20.0) / 10)
    for i in range(x.size):
        k = int(round(df.uplink_loc_share[i] * 200))
        assert df.uplink_capacity_bps[i] == pytest.approx(
            20e6 * marzetta_uplink_rate(200 - k, snr_ul[i], 16) / math.log(2), rel=1e-9)
        crb = ip.model.crb_position(df.distance_m[i], np.deg2rad(df.theta_deg[i]), 20e6, k,
                                    n_antennas=16, snr=snr_ul[i], wavelength_m=RADIO.wavelength_m)
        assert df.uplink_error_m[i] == pytest.approx(math.sqrt(crb), rel=1e-9)
        # one symbol fewer would miss the target
        worse = ip.model.crb_position(df.distance_m[i], np.deg2rad(df.theta_deg[i]), 20e6, k - 1,
                                      n_antennas=16, snr=snr_ul[i],
                                      wavelength_m=RADIO.wavelength_m)
        assert worse > 4.0


def test_frequency_domain_parameter():
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [8],
                          "power_dbm": [23.0]})
    df = ip.evaluate(sites, [0.0], [200.0], schemes=["uplink"], max_capacity_loss=0.1,
                     scheme_params={"uplink": {"domain": "frequency"}})
    assert df.uplink_loc_share[0] == pytest.approx(11 * 180e3 / 20e6)
    with pytest.raises(ValueError, match="uplink.domain must be one of"):
        ip.evaluate(sites, [0.0], [200.0], schemes=["uplink"],
                    scheme_params={"uplink": {"domain": "code"}})


def test_refused_with_interference_which_only_the_downlink_models():
    sites = ip.hexagonal_layout(isd_m=400.0, rings=1)
    with pytest.raises(ValueError, match="'uplink' uses the uplink, whose interference"):
        ip.evaluate(sites, [10.0], [20.0], schemes=["time", "uplink"], interference=True)
    with pytest.raises(ValueError, match="'tdd' uses the uplink"):
        ip.evaluate(sites, [10.0], [20.0], schemes=["tdd"], interference=True)
    ok = ip.evaluate(sites, [10.0], [20.0], schemes=["tdd"], interference=True,
                     scheme_params={"tdd": {"dl_fraction": 1.0}})
    assert ok.tdd_capacity_bps.iloc[0] > 0


@pytest.mark.parametrize("domain", ["time", "frequency"])
def test_one_total_ue_power_under_equal_energy(domain):
    """Under epre="equal" the UE's one transmit power is spread over the band: sounding on
    B_L gets B_L/B of the whole-band SNR (the CRB rises by B/B_L against "paper"), the
    data keeps its per-element SNR (the capacity does not change)."""
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [16],
                          "power_dbm": [33.0], "ue_power_dbm": [23.0]})
    y = np.array([120.0, 500.0, 1300.0, 4000.0])
    kw = dict(schemes=["uplink"], max_capacity_loss=0.2, sector_pattern=False,
              scheme_params={"uplink": {"domain": domain}})
    paper = ip.evaluate(sites, np.zeros(4), y, epre="paper", **kw)
    equal = ip.evaluate(sites, np.zeros(4), y, epre="equal", **kw)
    np.testing.assert_allclose(equal.uplink_capacity_bps, paper.uplink_capacity_bps, rtol=1e-12)
    np.testing.assert_array_equal(equal.uplink_loc_share, paper.uplink_loc_share)
    plan = UplinkSplit().plan(RADIO, domain=domain)
    share = np.interp(paper.uplink_loc_share, plan.loc_share, plan.loc_bandwidth_hz) / 20e6
    np.testing.assert_allclose((equal.uplink_error_m / paper.uplink_error_m) ** 2, 1 / share,
                               rtol=1e-9)
    assert (share < 1).any() == (domain == "frequency")


# -- the side-information bound ------------------------------------------------------------
def _gamma_expectation_by_quadrature(a, n):
    """E[log2(1 + a X)], X ~ Gamma(n, 1), by adaptive quadrature of the density."""
    from scipy import integrate, special

    def f(x):
        return np.log2(1 + a * x) * np.exp((n - 1) * np.log(x) - x - special.gammaln(n))

    top = n + 60 * np.sqrt(n) + 60
    kink = [1 / a] if 1 / a < top else None
    return integrate.quad(f, 0, top, points=kink, limit=500, epsabs=0, epsrel=1e-13)[0]


@pytest.mark.parametrize("n", [1, 2, 3, 8, 15, 16, 64, 256])
def test_gamma_expectation_equals_quadrature(n):
    from ilac_plan_uplink import expected_log2_gamma

    for a in (1e-4, 0.5, 1.0, 1.0001, 3.0, 100.0, 1e4, 1e6):
        got = float(expected_log2_gamma(a, n))
        assert got == pytest.approx(_gamma_expectation_by_quadrature(a, n), rel=1e-11)


def test_side_information_rate_equals_monte_carlo_of_its_definition():
    """Simulated channels, MMSE estimates from tau_P pilots, the SINR given the estimate
    with the estimation error as noise: the sample mean of log2(1 + SINR) is the bound."""
    from ilac_plan_uplink import side_information_rate

    rng = np.random.default_rng(7)
    trials = 200_000
    for n, snr_db, tau_p in ((8, 0.0, 9), (4, 10.0, 3), (2, -5.0, 20)):
        s = 10 ** (snr_db / 10)
        g = (rng.standard_normal((trials, n)) + 1j * rng.standard_normal((trials, n))) / 2**0.5
        w = (rng.standard_normal((trials, n)) + 1j * rng.standard_normal((trials, n))) / 2**0.5
        g_hat = np.sqrt(tau_p * s) / (1 + tau_p * s) * (np.sqrt(tau_p * s) * g + w)
        err_var = 1 - tau_p * s / (1 + tau_p * s)
        sinr = s * np.sum(np.abs(g_hat) ** 2, axis=1) / (1 + s * err_var)
        samples = (200 - tau_p) / 200 * np.log2(1 + sinr)
        want = float(side_information_rate(200, tau_p, n_antennas=n, snr_ul=s, n_symbols=200))
        assert abs(samples.mean() - want) < 4 * samples.std() / trials**0.5


def test_side_information_pilot_search_is_the_brute_force_best():
    from ilac_plan_uplink import best_pilot_side_information, side_information_rate

    rng = np.random.default_rng(3)
    tau_c = rng.integers(2, 201, 200)
    n = rng.choice([1, 2, 4, 8, 16, 64, 256], 200)
    s = 10 ** rng.uniform(-2, 4, 200)
    rate, tau_p = best_pilot_side_information(tau_c, n_antennas=n, snr_ul=s, n_symbols=200)
    for i in range(200):
        taus = np.arange(1, tau_c[i])
        brute = side_information_rate(tau_c[i], taus, n_antennas=n[i], snr_ul=s[i],
                                      n_symbols=200)
        assert rate[i] == pytest.approx(brute.max(), rel=1e-13)
        assert side_information_rate(tau_c[i], tau_p[i], n_antennas=n[i], snr_ul=s[i],
                                     n_symbols=200) == pytest.approx(brute.max(), rel=1e-13)


def _sample_points(n=3000):
    sites = ip.hexagonal_layout(isd_m=500, rings=1)
    rng = np.random.default_rng(11)
    cx, cy = sites["x_m"].mean(), sites["y_m"].mean()
    return sites, cx + rng.uniform(-900, 900, n), cy + rng.uniform(-900, 900, n)


@pytest.mark.parametrize("domain", ["time", "frequency"])
def test_side_information_keeps_the_positioning_and_raises_the_rate(domain):
    """For a target the candidate is the CRB's, whatever the rate bound: errors and shares
    equal the kernel's UatF run; the capacity is at least UatF's (the gNB knowing its
    estimate can only help), and the ratio is that of the bounds at the same candidate."""
    sites, x, y = _sample_points()
    kw = dict(target_error_m=0.05)
    uatf = ip.evaluate(sites, x, y, schemes=["uplink"],
                       scheme_params={"uplink": {"domain": domain}}, **kw)
    si = ip.evaluate(sites, x, y, schemes=["uplink"], scheme_params={
        "uplink": {"domain": domain, "rate_bound": "side_information"}}, **kw)
    np.testing.assert_allclose(si.uplink_error_m, uatf.uplink_error_m, rtol=1e-12)
    np.testing.assert_array_equal(si.uplink_loc_share, uatf.uplink_loc_share)
    np.testing.assert_array_equal(si.best_scheme, uatf.best_scheme)
    assert np.all(si.uplink_capacity_bps >= uatf.uplink_capacity_bps * (1 - 1e-12))
    served = uatf.uplink_capacity_bps > 0
    assert served.any() and np.all(si.uplink_capacity_bps[served] > uatf.uplink_capacity_bps[
        served])


def test_side_information_budget_is_the_last_candidate_within_it():
    from ilac_plan_uplink import best_pilot_side_information

    sites, x, y = _sample_points(400)
    res = ip.evaluate(sites, x, y, schemes=["uplink"], max_capacity_loss=0.1,
                      scheme_params={"uplink": {"rate_bound": "side_information"}})
    plan = UplinkSplit().plan(RADIO, domain="time")
    link = ip.evaluate(sites, x, y, schemes=["time"], target_error_m=1.0)
    # the UE's SNR per antenna from the downlink one: uplink power offset 0 dB here
    snr_ul = 10 ** (link.snr_db.to_numpy() / 10)
    n = sites["n_antennas"].to_numpy()[link.serving_cell.to_numpy()]
    caps = np.stack([plan.comm_bandwidth_hz[j] * best_pilot_side_information(
        plan.comm_symbols[j], n_antennas=n, snr_ul=snr_ul, n_symbols=RADIO.n_symbols)[0]
        for j in range(plan.loc_share.size)])
    keep = 0.9 * caps[0]
    last = np.array([np.flatnonzero(caps[:, i] >= keep[i] * (1 - 1e-12)).max()
                     for i in range(x.size)])
    np.testing.assert_array_equal(res.uplink_loc_share, plan.loc_share[last])
    np.testing.assert_allclose(res.uplink_capacity_bps, caps[last, np.arange(x.size)],
                               rtol=1e-12)


def test_side_information_with_interference_is_refused():
    sites, x, y = _sample_points(10)
    with pytest.raises(ip.ParameterError, match="uplink, whose interference"):
        ip.evaluate(sites, x, y, schemes=["uplink"], interference=True, target_error_m=0.05,
                    scheme_params={"uplink": {"rate_bound": "side_information"}})
