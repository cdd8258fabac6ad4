"""ilac_plan.evaluate against a plain numpy reference, metamorphic checks and edge cases."""

import numpy as np
import pandas as pd
import pytest
from coverage_reference import reference_evaluate

import ilac_plan as ip
from ilac_plan.errors import ParameterError
from ilac_plan.model import LogDistanceTerm, PathLossModel

RADIO = ip.RadioParams()


def random_sites(rng, n, extent=3e3, **extra):
    sites = pd.DataFrame({
        "x_m": rng.uniform(0, extent, n), "y_m": rng.uniform(0, extent, n),
        "azimuth_deg": rng.uniform(0, 360, n), "n_antennas": rng.integers(1, 65, n),
        "power_dbm": rng.uniform(0, 46, n)})
    for name, value in extra.items():
        sites[name] = value
    return sites


def random_points(rng, n, extent=3e3):
    return rng.uniform(-0.2 * extent, 1.2 * extent, n), rng.uniform(-0.2 * extent, 1.2 * extent, n)


def assert_matches_reference(df, ref):
    """Same serving cell (ties aside), every other output to 1e-9 relative, infs alike."""
    assert np.array_equal(df.serving_cell.to_numpy(), ref["serving_cell"])
    for col in df.columns:
        if col in ("serving_cell", "best_scheme"):
            continue
        got, want = df[col].to_numpy(), np.asarray(ref[col], float)
        assert not np.isnan(got).any(), col
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=col)
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9, atol=1e-12, err_msg=col)
    assert (df.best_scheme.astype(str).to_numpy() == ref["best_scheme"]).all()


CASES = [
    dict(target_error_m=0.5),
    dict(target_error_m=3.0, sector_pattern=False),
    dict(max_capacity_loss=0.1),
    dict(max_capacity_loss=1.0),
    dict(target_error_m=2.0, interference=True),
    dict(max_capacity_loss=0.05, interference=True, schemes=["frequency"]),
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("seed,n_cells", [(0, 1), (1, 6), (2, 40)])
def test_kernel_matches_numpy_reference(seed, n_cells, kw):
    rng = np.random.default_rng(seed)
    sites = random_sites(rng, n_cells, spacing_m=rng.uniform(0.03, 0.2, n_cells),
                         ue_power_dbm=rng.uniform(0, 30, n_cells),
                         gain_dbi=rng.uniform(0, 10, n_cells), height_m=rng.uniform(0, 40, n_cells))
    x, y = random_points(rng, 600)
    df = ip.evaluate(sites, x, y, ue_height_m=1.5, **kw)
    ref = reference_evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5,
                             **{"schemes": ("time", "frequency"), **kw})
    assert_matches_reference(df, ref)


def test_dual_slope_model_and_other_radio():
    rng = np.random.default_rng(5)
    model = PathLossModel("dual", (LogDistanceTerm(30.0, 22.0, 0.0, 300.0),
                                   LogDistanceTerm(-20.0, 42.0, 300.0),
                                   LogDistanceTerm(25.0, 30.0)), min_distance_m=10.0)
    radio = ip.RadioParams(bandwidth_hz=10e6, n_symbols=140, varsigma=0.5, carrier_hz=3.5e9)
    sites = random_sites(rng, 30)
    x, y = random_points(rng, 500)
    df = ip.evaluate(sites, x, y, radio=radio, propagation=model, target_error_m=1.0)
    ref = reference_evaluate(sites, x, y, radio=radio, propagation=model, target_error_m=1.0)
    assert_matches_reference(df, ref)


def test_threads_pruning_and_block_order_do_not_change_results():
    rng = np.random.default_rng(3)
    sites = random_sites(rng, 200, extent=1e4)
    x, y = random_points(rng, 20_000, extent=1e4)
    base = ip.evaluate(sites, x, y, n_threads=1, prune=False)
    for kw in (dict(n_threads=2, prune=False), dict(n_threads=1, prune=True),
               dict(n_threads=2, prune=True)):
        pd.testing.assert_frame_equal(ip.evaluate(sites, x, y, **kw), base)


def test_subsets_noncontiguous_and_float32_inputs():
    rng = np.random.default_rng(4)
    sites = random_sites(rng, 30)
    x, y = random_points(rng, 4000)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    full = ip.evaluate(sites, x32.astype(np.float64), y32.astype(np.float64))
    pd.testing.assert_frame_equal(ip.evaluate(sites, x32, y32), full)
    sub = ip.evaluate(sites, x32.astype(np.float64)[::3], y32.astype(np.float64)[::3])
    pd.testing.assert_frame_equal(sub, full.iloc[::3].reset_index(drop=True))
    grid = ip.evaluate(sites, x32.reshape(40, 100), y32.reshape(40, 100))
    pd.testing.assert_frame_equal(grid, full)


def test_shifting_everything_changes_nothing():
    rng = np.random.default_rng(6)
    sites = random_sites(rng, 50)
    x, y = random_points(rng, 3000)
    base = ip.evaluate(sites, x, y)
    moved = sites.assign(x_m=sites.x_m + 12345.5, y_m=sites.y_m - 6789.25)
    shifted = ip.evaluate(moved, x + 12345.5, y - 6789.25)
    assert (shifted.serving_cell == base.serving_cell).all()
    assert (shifted.best_scheme == base.best_scheme).all()
    for col in base.columns.drop(["serving_cell", "best_scheme"]):
        np.testing.assert_allclose(shifted[col], base[col], rtol=1e-9, atol=1e-9, err_msg=col)


def one_cell(**extra):
    return pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [8],
                         "power_dbm": [13.0], **extra})


def test_point_on_site_and_end_fire():
    df = ip.evaluate(one_cell(), [0.0, 100.0, -100.0, 0.0], [0.0, 0.0, 0.0, 100.0],
                     target_error_m=1.0)
    assert df.distance_m.tolist() == [0.0, 100.0, 100.0, 100.0]
    assert df.theta_deg.tolist() == [0.0, 90.0, -90.0, 0.0]
    # on the site: finite (ToA only); end-fire: the AoA bound is infinite
    assert np.isfinite(df.time_error_m[0]) and np.isfinite(df.time_error_m[3])
    assert np.isinf(df.time_error_m[1:3]).all() and np.isinf(df.frequency_error_m[1:3]).all()
    assert (df.best_scheme[1:3] == "infeasible").all()
    assert (df[["time_capacity_bps", "frequency_capacity_bps"]].iloc[1:3] == 0).all().all()
    assert not df.isna().any().any()


def test_single_antenna_and_switched_off_cells_are_defined():
    sites = pd.concat([one_cell(), one_cell()], ignore_index=True)
    sites.loc[0, "n_antennas"] = 1
    sites.loc[1, "power_dbm"] = -np.inf
    df = ip.evaluate(sites, [0.0, 50.0], [0.0, 50.0], target_error_m=1.0)
    assert (df.serving_cell == 0).all()
    assert np.isfinite(df.time_error_m[0]) and np.isinf(df.time_error_m[1])
    off = ip.evaluate(sites.iloc[[1]], [50.0], [50.0], max_capacity_loss=0.2)
    assert off.snr_db[0] == -np.inf and off.time_capacity_bps[0] == 0.0
    assert np.isinf(off.time_error_m[0]) and off.best_scheme[0] == "infeasible"
    assert not off.isna().any().any() and not df.isna().any().any()


def test_agrees_with_tradeoff_curves_on_the_paper_link():
    """One omni cell, N_T = 8, at the distance of SNR 15 dB: the planner picks the
    tradeoff curve's split for a target equal to that split's error."""
    from ilac_plan.tradeoff import link_geometry

    curves = ip.tradeoff_curves(n_antennas=8, snr_db=15)
    _, _, dist = link_geometry(RADIO, snr_db=15)
    for scheme, row in [("frequency", 4), ("time", 9)]:
        part = curves[curves.scheme == scheme].reset_index(drop=True)
        target = np.sqrt(part.crb_m2[row]) * (1 + 1e-12)
        df = ip.evaluate(one_cell(), [0.0], [dist[0]], target_error_m=target,
                         sector_pattern=False, schemes=[scheme])
        assert df[f"{scheme}_capacity_bps"][0] == pytest.approx(part.capacity_bps[row], rel=1e-12)
        assert df[f"{scheme}_error_m"][0] == pytest.approx(np.sqrt(part.crb_m2[row]), rel=1e-12)
        assert df.snr_db[0] == pytest.approx(15.0, abs=1e-9)


@pytest.mark.parametrize("change,message", [
    (lambda s: s.drop(columns="azimuth_deg"), "missing column 'azimuth_deg'"),
    (lambda s: s.assign(azimuth_deg=[10.0, 400.0]), r"sites.azimuth_deg must be .* \(row 1\)"),
    (lambda s: s.assign(n_antennas=[0, 8]), r"sites.n_antennas must be an integer >= 1"),
    (lambda s: s.assign(x_m=[np.nan, 1.0]), r"sites.x_m must be .*got nan \(row 0\)"),
    (lambda s: s.assign(power_dbm=["a", "b"]), "sites.power_dbm must be numeric"),
    (lambda s: s.iloc[0:0], "no rows"),
])
def test_bad_site_tables(change, message):
    sites = pd.concat([one_cell(), one_cell()], ignore_index=True)
    with pytest.raises(ParameterError, match=message):
        ip.evaluate(change(sites), [1.0], [1.0])


@pytest.mark.parametrize("kw,message", [
    (dict(schemes=["no_such"]), "unknown scheme 'no_such'; available: time, frequency"),
    (dict(target_error_m=1.0, max_capacity_loss=0.1), "not both"),
    (dict(target_error_m=0.0), "target_error_m must be"),
    (dict(max_capacity_loss=1.5), "max_capacity_loss must be"),
    (dict(n_threads=0), "n_threads"),
])
def test_bad_options(kw, message):
    with pytest.raises(ParameterError, match=message):
        ip.evaluate(one_cell(), [1.0], [1.0], **kw)


def test_bad_points():
    with pytest.raises(ParameterError, match="same shape"):
        ip.evaluate(one_cell(), [1.0, 2.0], [1.0])
    with pytest.raises(ParameterError, match=r"y_m must be .*got inf"):
        ip.evaluate(one_cell(), [1.0], [np.inf])
    assert len(ip.evaluate(one_cell(), [], [])) == 0
