"""TR 38.901 path loss as data against the table's formulas written out directly."""

import math

import numpy as np
import pandas as pd
import pytest
from ilac_plan_3gpp import breakpoint_distance_m

import ilac_plan as ip
from ilac_plan.plugins import get_registry

C = 299_792_458.0


def table_7_4_1_1(scenario, los, d2d, fc_hz, h_bs, h_ut):
    """TR 38.901 Table 7.4.1-1, evaluated as printed, per 2-D distance."""
    fc = fc_hz / 1e9
    d3d = math.sqrt(d2d**2 + (h_bs - h_ut) ** 2)
    bp = 4 * (h_bs - 1) * (h_ut - 1) * fc_hz / C
    if scenario == "uma":
        pl1 = 28.0 + 22 * math.log10(d3d) + 20 * math.log10(fc)
        pl2 = 28.0 + 40 * math.log10(d3d) + 20 * math.log10(fc) - 9 * math.log10(
            bp**2 + (h_bs - h_ut) ** 2)
        nlos = 13.54 + 39.08 * math.log10(d3d) + 20 * math.log10(fc) - 0.6 * (h_ut - 1.5)
    else:
        pl1 = 32.4 + 21 * math.log10(d3d) + 20 * math.log10(fc)
        pl2 = 32.4 + 40 * math.log10(d3d) + 20 * math.log10(fc) - 9.5 * math.log10(
            bp**2 + (h_bs - h_ut) ** 2)
        nlos = 22.4 + 35.3 * math.log10(d3d) + 21.3 * math.log10(fc) - 0.3 * (h_ut - 1.5)
    pl_los = pl1 if d2d <= bp else pl2
    return d3d, pl_los if los else max(pl_los, nlos)


@pytest.mark.parametrize("scenario,h_bs", [("uma", 25.0), ("umi", 10.0)])
@pytest.mark.parametrize("los", [True, False])
@pytest.mark.parametrize("fc_hz,h_ut", [(3.5e9, 1.5), (2.6e9, 3.0), (28e9, 1.5)])
def test_models_match_the_table(scenario, h_bs, los, fc_hz, h_ut):
    radio = ip.RadioParams(carrier_hz=fc_hz)
    name = f"{scenario}_{'los' if los else 'nlos'}"
    model = get_registry(reload=True).model(name).path_loss_model(
        radio, {"h_bs_m": h_bs, "h_ut_m": h_ut})
    # LOS falls a little at the breakpoint (9 log10(d_BP^2 / (d_BP^2 + dh^2)) in the
    # table); NLOS, the max with a steeper curve, may not
    assert 0.0 <= model.drop_db() < 0.6
    bp = breakpoint_distance_m(fc_hz, h_bs, h_ut)
    for d2d in [10.0, 35.0, 120.0, 0.999 * bp, 1.001 * bp, 1800.0, 4999.0]:
        d3d, want = table_7_4_1_1(scenario, los, d2d, fc_hz, h_bs, h_ut)
        assert model.path_loss_db(d3d) == pytest.approx(want, abs=1e-9)


def test_hand_value_uma_los():
    """3.5 GHz, h_BS 25 m, h_UT 1.5 m, d_2D 100 m: 28 + 22 log10(102.724) + 20 log10(3.5)."""
    model = get_registry().model("uma_los").path_loss_model(ip.RadioParams(carrier_hz=3.5e9))
    assert model.path_loss_db(math.hypot(100.0, 23.5)) == pytest.approx(83.138, abs=1e-3)


def test_kernel_runs_the_model_natively():
    """evaluate() with a TR 38.901 model equals the numpy evaluation of the same terms."""
    radio = ip.RadioParams(carrier_hz=3.5e9)
    model = get_registry().model("uma_nlos").path_loss_model(radio)
    sites = pd.DataFrame({"x_m": [0.0, 900.0], "y_m": [0.0, 0.0], "azimuth_deg": [90.0, 270.0],
                          "n_antennas": [32, 32], "power_dbm": [46.0, 46.0],
                          "height_m": [25.0, 25.0]})
    x = np.linspace(-300, 1200, 61)
    y = np.full_like(x, 80.0)
    df = ip.evaluate(sites, x, y, radio=radio, propagation="uma_nlos", ue_height_m=1.5,
                     sector_pattern=False, schemes=())
    d3d = np.hypot(np.hypot(x - sites.x_m.to_numpy()[df.serving_cell], y), 23.5)
    want = 46.0 - model.path_loss_db(d3d) - radio.noise_dbm
    np.testing.assert_allclose(df.snr_db, want, rtol=1e-12)
    near_first = np.abs(x) <= np.abs(x - 900.0)  # an exact tie goes to the first cell
    assert (df.serving_cell[near_first] == 0).all() and (df.serving_cell[~near_first] == 1).all()


def test_bad_parameters_are_named():
    # UMa keeps h_E = 1 m, which TR 38.901 gives for UEs below 13 m only
    with pytest.raises(ValueError, match="uma_los.h_ut_m must be"):
        get_registry().model("uma_los").path_loss_model(ip.RadioParams(), {"h_ut_m": 20.0})
    with pytest.raises(ValueError, match="umi_los.h_ut_m must be"):
        get_registry().model("umi_los").path_loss_model(ip.RadioParams(), {"h_ut_m": 23.0})


@pytest.mark.parametrize("name", ["umi_los", "umi_nlos"])
def test_umi_accepts_high_ues(name):
    """UMi has h_E = 1 m at every UE height 1.5-22.5 m (no 13 m limit as in UMa)."""
    radio = ip.RadioParams(carrier_hz=3.5e9)
    model = get_registry().model(name).path_loss_model(radio, {"h_ut_m": 20.0})
    for d2d in [30.0, 400.0, 3000.0]:
        d3d, want = table_7_4_1_1("umi", name.endswith("_los"), d2d, 3.5e9, 10.0, 20.0)
        assert model.path_loss_db(d3d) == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("name", ["uma_los", "umi_nlos"])
@pytest.mark.parametrize("carrier_hz", [0.4e9, 101e9])
def test_carrier_outside_the_table_is_refused(name, carrier_hz):
    with pytest.raises(ip.ParameterError, match=r"carrier_hz must be in \[5e\+08, 1e\+11\] Hz"):
        get_registry().model(name).path_loss_model(ip.RadioParams(carrier_hz=carrier_hz))


# -- one source of heights: the formula's heights are the run's -----------------------------
def _sites(height_m):
    return pd.DataFrame({"x_m": [0.0, 900.0], "y_m": [0.0, 0.0], "azimuth_deg": [90.0, 270.0],
                         "n_antennas": [32, 32], "power_dbm": [46.0, 46.0],
                         "height_m": height_m})


@pytest.mark.parametrize("name", ["uma_nlos", "umi_los", "uma"])
def test_the_formula_takes_the_sites_and_ue_heights(name):
    """evaluate() with sites at 12 m and UEs at 4 m equals the model built with those
    heights as parameters, and not the model's defaults (25 or 10 m and 1.5 m)."""
    radio = ip.RadioParams(carrier_hz=3.5e9)
    x = np.linspace(-300, 1200, 41)
    y = np.full_like(x, 60.0)
    kw = dict(radio=radio, propagation=name, sector_pattern=False, schemes=())
    run = ip.evaluate(_sites([12.0, 12.0]), x, y, ue_height_m=4.0, **kw)
    explicit = ip.evaluate(_sites([12.0, 12.0]), x, y, ue_height_m=4.0,
                           propagation_params={"h_bs_m": 12.0, "h_ut_m": 4.0}, **kw)
    np.testing.assert_allclose(run.snr_db, explicit.snr_db, rtol=0, atol=1e-12)
    model = get_registry().model(name).path_loss_model(radio)     # 25/10 m and 1.5 m
    d3d = np.hypot(np.hypot(x - np.array([0.0, 900.0])[run.serving_cell], y), 8.0)
    default = 46.0 - model.path_loss_db(d3d) - radio.noise_dbm
    assert np.max(np.abs(run.snr_db - default)) > 0.5


def test_an_explicit_height_that_disagrees_is_used_with_a_warning():
    radio = ip.RadioParams(carrier_hz=3.5e9)
    x, y = np.array([100.0, 400.0]), np.array([50.0, 50.0])
    with pytest.warns(ip.errors.IlacWarning, match="h_bs_m = 30 m is set, but the run's "
                      "gnb_height_m is 12"):
        ip.evaluate(_sites([12.0, 12.0]), x, y, radio=radio, propagation="uma_nlos",
                    ue_height_m=1.5, propagation_params={"h_bs_m": 30.0}, schemes=())


def test_heights_outside_the_formulas_range_are_refused_with_their_source():
    radio = ip.RadioParams(carrier_hz=3.5e9)
    x, y = np.array([100.0]), np.array([50.0])
    with pytest.raises(ip.ParameterError, match=r"uma_nlos\.h_ut_m.*the run's ue_height_m"):
        ip.evaluate(_sites([25.0, 25.0]), x, y, radio=radio, propagation="uma_nlos",
                    ue_height_m=0.5, schemes=())


def test_cells_of_several_heights_use_their_median_with_a_warning():
    radio = ip.RadioParams(carrier_hz=3.5e9)
    x, y = np.array([100.0, 400.0]), np.array([50.0, 50.0])
    with pytest.warns(ip.errors.IlacWarning, match="span 20-30 m.*median, 25 m"):
        run = ip.evaluate(_sites([20.0, 30.0]), x, y, radio=radio, propagation="uma_nlos",
                          ue_height_m=1.5, sector_pattern=False, schemes=())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")       # set explicitly: no median warning
        same = ip.evaluate(_sites([20.0, 30.0]), x, y, radio=radio, propagation="uma_nlos",
                           ue_height_m=1.5, sector_pattern=False, schemes=(),
                           propagation_params={"h_bs_m": 25.0})
    np.testing.assert_array_equal(run.snr_db, same.snr_db)
