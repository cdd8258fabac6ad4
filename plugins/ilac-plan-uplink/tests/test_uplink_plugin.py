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
    assert entry.obj.kind == "plan"


@pytest.mark.parametrize("domain", ["time", "frequency"])
def test_conforms(domain):
    assert_scheme_conforms(UplinkSplit(), params={"domain": domain})


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
