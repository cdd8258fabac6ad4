"""The TDD plugin: registered by entry point, conforms, and matches the formulas."""

import math

import numpy as np
import pandas as pd
import pytest

import ilac_plan as ip
from ilac_plan.plugins import get_registry
from ilac_plan.testing import assert_scheme_conforms
from ilac_plan_tdd import TddSplit

RADIO = ip.RadioParams()


def test_registered_through_its_entry_point():
    entry = get_registry(reload=True).schemes["tdd"]
    assert entry.plugin.distribution == "ilac-plan-tdd"


@pytest.mark.parametrize("params", [{}, {"dl_fraction": 0.8, "take_from": "uplink"},
                                    {"dl_fraction": 0.0, "take_from": "uplink"},
                                    {"dl_fraction": 1.0}])
def test_conforms(params):
    assert_scheme_conforms(TddSplit(), params=params)


def tdd_rate(tau_c, dl_symbols, snr_dl, snr_ul, n, pro_rata=False):
    """DL (Eq. 1) and UL (Marzetta et al.) MR rates of a reciprocity-TDD frame: one uplink
    pilot phase of tau_p symbols in the uplink part (tau_c - dl_symbols symbols), the
    rest of that part uplink data, the downlink part downlink data; best integer pilot
    length by brute force; rho and beta explicit. ``pro_rata``: the previous accounting
    (pilots charged to both parts in proportion). [nat/s/Hz]"""
    beta = 1e-10
    rho_dl, rho_ul = snr_dl / beta, snr_ul / beta
    best = 0.0
    ul_symbols = tau_c - dl_symbols
    for tau_p in range(1, int(tau_c)):
        nu = tau_p * rho_ul * beta**2 / (1 + tau_p * rho_ul * beta)
        dl = math.log(1 + n * rho_dl * nu / (1 + rho_dl * beta))
        ul = math.log(1 + n * rho_ul * nu / (1 + rho_ul * beta))
        if pro_rata:
            f = dl_symbols / tau_c
            rate = (tau_c - tau_p) * (f * dl + (1 - f) * ul)
        else:
            rate = (dl_symbols - max(tau_p - ul_symbols, 0)) * dl + \
                max(ul_symbols - tau_p, 0) * ul
        best = max(best, rate / 200)
    return best


@pytest.mark.parametrize("take_from", ["downlink", "uplink"])
def test_capacity_is_the_dl_ul_sum(take_from):
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [32],
                          "power_dbm": [30.0], "ue_power_dbm": [20.0]})
    y = np.array([200.0, 700.0, 1500.0])
    params = {"tdd": {"dl_fraction": 0.6, "take_from": take_from}}
    df = ip.evaluate(sites, np.zeros(3), y, schemes=["tdd"], target_error_m=1.0,
                     sector_pattern=False, scheme_params=params)
    snr_dl = 10 ** (df.snr_db / 10)
    snr_ul = snr_dl / 10
    for i in range(3):
        k = int(round(df.tdd_loc_share[i] * 200))
        tau_c = 200 - k
        dl_symbols = 120 - k if take_from == "downlink" else min(120, tau_c)
        want = 20e6 * tdd_rate(tau_c, dl_symbols, snr_dl[i], snr_ul[i], 32) / math.log(2)
        assert df.tdd_capacity_bps[i] == pytest.approx(want, rel=1e-9)
        gamma = snr_dl[i] if take_from == "downlink" else snr_ul[i]
        crb = ip.model.crb_position(df.distance_m[i], 0.0, 20e6, k, n_antennas=32, snr=gamma,
                                    wavelength_m=RADIO.wavelength_m)
        assert df.tdd_error_m[i] == pytest.approx(math.sqrt(crb), rel=1e-9)


def test_full_downlink_tdd_is_the_time_split():
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [8],
                          "power_dbm": [13.0]})
    y = np.linspace(100, 2000, 7)
    df = ip.evaluate(sites, np.zeros(7), y, schemes=["tdd", "time"], target_error_m=0.5,
                     scheme_params={"tdd": {"dl_fraction": 1.0}})
    np.testing.assert_allclose(df.tdd_capacity_bps, df.time_capacity_bps, rtol=1e-12)
    np.testing.assert_allclose(df.tdd_error_m, df.time_error_m, rtol=1e-12)


@pytest.mark.parametrize("params", [{"dl_fraction": 0.0}, {"dl_fraction": 1.0,
                                                           "take_from": "uplink"}])
def test_positioning_from_a_link_without_symbols_is_refused(params):
    sites = ip.hexagonal_layout(isd_m=400.0, rings=0)
    with pytest.raises(ValueError, match="takes the positioning symbols from a link with no "
                                         "symbols"):
        ip.evaluate(sites, [10.0], [20.0], schemes=["tdd"], scheme_params={"tdd": params})


@pytest.mark.parametrize("ue_power_dbm", [10.0, 33.0, 46.0])
@pytest.mark.parametrize("dl_fraction", [0.3, 0.75])
def test_pilots_sit_in_the_uplink_part_at_any_link_balance(ue_power_dbm, dl_fraction):
    """The frame against a brute force over every pilot length, with the uplink weaker,
    equal or stronger than the downlink (then the frame is not concave across the end of
    the uplink part: both sides are searched)."""
    sites = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [16],
                          "power_dbm": [33.0], "ue_power_dbm": [ue_power_dbm]})
    y = np.array([150.0, 600.0, 2500.0, 9000.0])
    df = ip.evaluate(sites, np.zeros(4), y, schemes=["tdd"], target_error_m=2.0,
                     sector_pattern=False,
                     scheme_params={"tdd": {"dl_fraction": dl_fraction}})
    snr_dl = 10 ** (df.snr_db / 10)
    snr_ul = snr_dl * 10 ** ((ue_power_dbm - 33.0) / 10)
    for i in range(4):
        k = int(round(df.tdd_loc_share[i] * 200))
        dl_symbols = max(round(dl_fraction * 200) - k, 0)
        want = 20e6 * tdd_rate(200 - k, dl_symbols, snr_dl[i], snr_ul[i], 16) / math.log(2)
        assert df.tdd_capacity_bps[i] == pytest.approx(want, rel=1e-9)


def test_uplink_pilots_beat_pro_rata_accounting_with_a_weak_uplink():
    """A macro cell's uplink 20 dB below its downlink: the frame with pilots in the uplink
    part carries more than the previous pro-rata accounting of the same frame."""
    gains = []
    for snr_db in (-5.0, 5.0, 15.0):
        snr_dl = 10 ** (snr_db / 10)
        new = tdd_rate(190, 95, snr_dl, snr_dl / 100, 8)
        old = tdd_rate(190, 95, snr_dl, snr_dl / 100, 8, pro_rata=True)
        gains.append(new / old - 1)
    assert all(g > 0.01 for g in gains)
