"""Trade-off curves: the paper's numbers and the qualitative claims of Figs. 2-3."""

import numpy as np
import pytest
from reference import Link

from ilac_plan import RadioParams, tradeoff_curves
from ilac_plan.model import losses
from ilac_plan.tradeoff import TRADEOFF_COLUMNS, frequency_splits_hz


def test_columns_and_grid():
    df = tradeoff_curves(n_antennas=[8, 32], snr_db=[10, 20])
    assert tuple(df.columns) == TRADEOFF_COLUMNS
    sizes = df.groupby(["scheme", "n_antennas", "snr_db"]).size()
    assert set(sizes.loc["time"]) == {200} and set(sizes.loc["frequency"]) == {112}
    freq = df[(df.scheme == "frequency") & (df.n_antennas == 8) & (df.snr_db == 10)]
    assert freq.loc_bandwidth_hz.iloc[0] == 180e3
    assert freq.loc_bandwidth_hz.iloc[-2] == pytest.approx(111 * 180e3)
    assert freq.loc_bandwidth_hz.iloc[-1] == 20e6
    assert (freq.loc_symbols == 200).all()
    # The whole resource for localization leaves no capacity and is the CRB reference.
    assert freq.capacity_bps.iloc[-1] == 0.0 and freq.crb_loss.iloc[-1] == 1.0


def test_frequency_splits_when_band_is_whole_blocks():
    radio = RadioParams(bandwidth_hz=18e6)
    splits = frequency_splits_hz(radio)
    assert splits.size == 100 and splits[-1] == 18e6


def test_paper_example_through_the_curves():
    df = tradeoff_curves(n_antennas=8, snr_db=15, schemes=["frequency"])
    full = df.capacity_bps.iloc[0] + df.capacity_loss_bps.iloc[0]
    picked = [full, df.capacity_bps.iloc[4], df.capacity_bps.iloc[36]]
    assert [round(c / 1e6, 1) for c in picked] == [61.6, 58.8, 41.1]
    assert (10 * np.log10(df.crb_m2.iloc[[4, 36]])).round(2).tolist() == [-10.98, -14.10]


def test_curves_agree_with_model_reference():
    link = Link(20.0, 32)
    df = tradeoff_curves(n_antennas=32, snr_db=20)
    t = df[df.scheme == "time"].iloc[[0, 50, 199]]
    for _, row in t.iterrows():
        assert row.capacity_bps == pytest.approx(
            link.best_integer(20e6, 200 - row.loc_symbols) / np.log(2), rel=1e-12)
        assert row.crb_m2 == pytest.approx(link.crb(20e6, row.loc_symbols), rel=1e-12)


def _win_fraction(n_antennas, snr_db, closed_form=False):
    """Share of the common CRB range where the frequency curve has more capacity."""
    df = tradeoff_curves(n_antennas=n_antennas, snr_db=snr_db, closed_form=closed_form)
    curves = {s: g.sort_values("crb_m2") for s, g in df.groupby("scheme")}
    lo = max(g.crb_m2.min() for g in curves.values())
    hi = min(g.crb_m2.max() for g in curves.values())
    grid = np.log(np.geomspace(lo, hi, 2000))[1:]
    cap = {s: np.interp(grid, np.log(g.crb_m2), g.capacity_bps) for s, g in curves.items()}
    return np.mean(cap["frequency"] > cap["time"])


@pytest.mark.parametrize("snr_db", [10, 20])
def test_frequency_split_better_with_few_antennas(snr_db):
    assert _win_fraction(8, snr_db) == 1.0


def test_time_split_better_with_many_antennas_at_high_snr():
    assert _win_fraction(32, 30) < 0.01
    # At 10 dB frequency still wins on most of the range (84 % of it, the paper's reading).
    assert 0.75 < _win_fraction(32, 10) < 0.95
    # N_T = 8 at 30 dB is mixed.
    assert 0.3 < _win_fraction(8, 30) < 0.7


def test_time_split_crb_loss_nearly_independent_of_snr():
    """docs/model.md, "Conventions": at 5 % capacity loss, N_T = 8: TDD 13.07/13.03/13.02 dB, FDD 1.07/5.76/14.32."""
    tdd, fdd = [], []
    for snr_db in (10, 20, 30):
        link = Link(snr_db, 8)
        args = dict(bandwidth_hz=20e6, unit="nat", **link.link)
        loss = 0.05 * link.total()
        tdd.append(10 * np.log10(losses.time_crb_loss_for_capacity_loss(loss, **args)))
        fdd.append(10 * np.log10(losses.frequency_crb_loss_for_capacity_loss(
            loss, distance_m=link.distance_m, theta_rad=0.0, wavelength_m=link.lam, **args)))
    assert np.round(tdd, 2).tolist() == [13.07, 13.03, 13.02]
    assert np.round(fdd, 2).tolist() == [1.07, 5.76, 14.32]
    assert np.ptp(tdd) < 0.1 and np.ptp(fdd) > 10


def test_distance_input_gives_same_curves_as_snr():
    radio = RadioParams()
    link = Link(17.0, 8)
    by_snr = tradeoff_curves(snr_db=17.0, radio=radio)
    by_distance = tradeoff_curves(distance_m=link.distance_m, radio=radio)
    np.testing.assert_allclose(by_distance.capacity_bps, by_snr.capacity_bps, rtol=1e-10)
    np.testing.assert_allclose(by_distance.crb_m2, by_snr.crb_m2, rtol=1e-10)


def test_gain_changes_distance_and_crb_not_capacity():
    base = tradeoff_curves(snr_db=15)
    gain = tradeoff_curves(snr_db=15, radio=RadioParams(gnb_gain_db=9.03))
    np.testing.assert_allclose(gain.capacity_bps, base.capacity_bps, rtol=1e-12)
    assert (gain.crb_m2 > base.crb_m2).all()


def test_closed_form_capacity_close_to_exact():
    exact = tradeoff_curves(snr_db=10)
    approx = tradeoff_curves(snr_db=10, closed_form=True)
    mask = exact.capacity_bps > 0.1 * exact.capacity_bps.max()
    ratio = approx.capacity_bps[mask] / exact.capacity_bps[mask]
    assert np.all(np.abs(ratio - 1) < 0.01)
    assert not np.allclose(ratio, 1.0, rtol=1e-9, atol=0)


def test_infinite_crb_rows_are_left_out():
    assert len(tradeoff_curves(n_antennas=8, snr_db=10, theta_deg=90)) == 0
    assert len(tradeoff_curves(n_antennas=1, snr_db=10)) == 0
    mixed = tradeoff_curves(n_antennas=[1, 8], snr_db=10)
    assert set(mixed.n_antennas) == {8} and np.isfinite(mixed.crb_m2).all()


@pytest.mark.parametrize("bound,epre", [("paper", "paper"), ("achievable", "equal")])
def test_any_plan_form_scheme_is_drawn_and_full_downlink_tdd_is_the_time_split(bound, epre):
    """The generic plan path (the kernel's frame by brute force) against the built-in time
    split: TDD with dl_fraction 1 is the time split, to rounding."""
    from ilac_plan.tradeoff import tradeoff_curves

    df = tradeoff_curves(n_antennas=(8, 32), snr_db=(0.0, 20.0), bound=bound, epre=epre,
                         schemes=["time", "tdd"], scheme_params={"tdd": {"dl_fraction": 1.0}})
    t = df[df.scheme == "time"].reset_index(drop=True)
    d = df[df.scheme == "tdd"].reset_index(drop=True)
    assert len(t) == len(d) == 2 * 2 * 200
    for col in ("n_antennas", "snr_db", "loc_symbols"):
        np.testing.assert_array_equal(t[col], d[col])
    for col in ("capacity_bps", "crb_m2", "capacity_loss_bps", "crb_loss"):
        np.testing.assert_allclose(d[col], t[col], rtol=1e-12, atol=1e-6, err_msg=col)


def test_plugin_schemes_in_tradeoff_refusals():
    from ilac_plan.errors import ParameterError
    from ilac_plan.tradeoff import tradeoff_curves

    with pytest.raises(ParameterError, match="plan-form"):
        tradeoff_curves(snr_db=10.0, schemes=["hybrid"])
    with pytest.raises(ParameterError, match="closed_form"):
        tradeoff_curves(snr_db=10.0, schemes=["tdd"], closed_form=True)
    with pytest.raises(ParameterError, match="scheme_params names 'time'"):
        tradeoff_curves(snr_db=10.0, schemes=["time"], scheme_params={"time": {}})
    with pytest.raises(ParameterError, match="unknown scheme 'tdx'; did you mean 'tdd'"):
        tradeoff_curves(snr_db=10.0, schemes=["tdx"])
    with pytest.raises(ParameterError, match="scheme_params must be a dict"):
        tradeoff_curves(snr_db=10.0, schemes=["tdd"], scheme_params=[("tdd", {})])


def test_cli_tradeoff_draws_a_plugin_scheme(tmp_path):
    from click.testing import CliRunner

    from ilac_plan.cli import cli

    out, plot = tmp_path / "t.csv", tmp_path / "t.png"
    res = CliRunner().invoke(cli, ["tradeoff", "--snr-db", "10", "--schemes", "time",
                                   "--schemes", "tdd", "--scheme-param", "tdd.dl_fraction=0.5",
                                   "--out", str(out), "--plot", str(plot)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    frame = pd.read_csv(out)
    assert set(frame.scheme) == {"time", "tdd"} and plot.stat().st_size > 10_000
    tdd, time = frame[frame.scheme == "tdd"], frame[frame.scheme == "time"]
    # half the frame for uplink data at the same SNR: the same capacity scale as the time split
    assert tdd.capacity_bps.max() == pytest.approx(time.capacity_bps.max(), rel=0.05)
