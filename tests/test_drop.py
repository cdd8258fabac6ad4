"""Random drops (evaluate(drop_seed=...)): the kernel's counter-based draws, the loss of
each link against an independent numpy recomputation, the LOS fraction and shadow-fading
statistics, sectors sharing their site's draws, and invariance to tiling, threads, point
and cell order."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ilac_plan as ip
from ilac_plan._core._coverage import drop_draws
from ilac_plan.errors import ParameterError
from ilac_plan.model import DropModel

SEED = 20261207


def _model(sigma_los=4.0, sigma_nlos=7.0, p_los=lambda d: np.exp(-d / 120.0),
           nlos_extra=None):
    nlos = nlos_extra or (lambda d: 22.0 + 36.0 * np.log10(d))
    return DropModel.tabulated("test", lambda d: 31.0 + 21.0 * np.log10(d), nlos, p_los,
                               sigma_los, sigma_nlos, min_distance_m=1.0,
                               max_distance_m=1e5, nodes_per_decade=300)


def _cells(positions, height_m=10.0):
    rows = [{"cell_id": f"C{k}", "site_id": f"S{k}", "x_m": x, "y_m": y, "azimuth_deg": 0.0,
             "n_antennas": 8, "power_dbm": 13.0, "height_m": height_m, "gain_dbi": 0.0}
            for k, (x, y) in enumerate(positions)]
    return pd.DataFrame(rows)


def _points(n, half=600.0, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-half, half, n), rng.uniform(-half, half, n)


def _snr(sites, x, y, model, **kw):
    kw.setdefault("antenna", "omni")
    return ip.evaluate(sites, x, y, schemes=(), propagation=model, ue_height_m=1.5, **kw)


def test_draws_are_uniform_and_normal_and_independent():
    """10^6 draws at a fixed seed: the LOS uniforms pass a KS test against U(0, 1), the
    shadow-fading draws against N(0, 1); other seeds and other sites give uncorrelated
    draws; the same arguments give the same draws."""
    x = np.linspace(-5000.0, 5000.0, 1_000_000)
    u, z = drop_draws(SEED, x, 17.0, 100.0, -40.0)
    assert 0.0 < u.min() and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert stats.kstest(z, "norm").pvalue > 1e-3
    u2, z2 = drop_draws(SEED + 1, x, 17.0, 100.0, -40.0)
    u3, z3 = drop_draws(SEED, x, 17.0, 100.0, -39.0)
    for a, b in ((u, u2), (z, z2), (u, u3), (z, z3), (u, z)):
        assert abs(np.corrcoef(a, b)[0, 1]) < 5e-3
    again = drop_draws(SEED, x[:1000], 17.0, 100.0, -40.0)
    assert np.array_equal(again[0], u[:1000]) and np.array_equal(again[1], z[:1000])


def test_kernel_loss_equals_numpy_recomputation():
    """Every point's SNR under a drop equals a numpy recomputation from the same draws:
    per cell LOS when u < P_LOS(d2D) (the table as interpolated), the state's median at
    the 3-D distance plus sigma z; the serving cell the strongest."""
    model = _model()
    sites = _cells([(0.0, 0.0), (400.0, 50.0), (-300.0, 250.0), (100.0, -350.0)])
    x, y = _points(20_000)
    drop = _snr(sites, x, y, model, drop_seed=SEED)
    # the constant EIRP - noise from a deterministic run on the LOS median of one cell
    one = _snr(sites.iloc[:1], x[:1], y[:1], model.los)
    d3 = np.hypot(np.hypot(x[0], y[0]), 8.5)
    k = one.snr_db[0] + float(model.los.path_loss_db(d3))
    dx = x[:, None] - sites.x_m.to_numpy()[None, :]
    dy = y[:, None] - sites.y_m.to_numpy()[None, :]
    d2d = np.hypot(dx, dy)
    d3d = np.hypot(d2d, 8.5)
    u, z = drop_draws(SEED, x[:, None], y[:, None], sites.x_m.to_numpy()[None, :],
                      sites.y_m.to_numpy()[None, :])
    los = u < model.los_probability_at(d2d)
    loss = np.where(los, model.los.path_loss_db(d3d) + model.sigma_los_db * z,
                    model.nlos.path_loss_db(d3d) + model.sigma_nlos_db * z)
    serving = np.argmin(loss, axis=1)
    assert np.array_equal(drop.serving_cell.to_numpy(), serving)
    np.testing.assert_allclose(drop.snr_db.to_numpy(), k - loss.min(axis=1), atol=1e-9)
    assert 0.05 < los.mean() < 0.95          # both states are exercised


def test_drop_with_interference_equals_numpy_sinr():
    """With interference every other cell's drawn power counts: the kernel's SINR equals
    rx_serving - 10 log10(noise + sum of the others), all from the same draws."""
    model = _model()
    pos = [(0.0, 0.0), (400.0, 50.0), (-300.0, 250.0), (100.0, -350.0)]
    sites = _cells(pos)
    x, y = _points(5000, seed=12)
    radio = ip.RadioParams()
    frame = _snr(sites, x, y, model, drop_seed=SEED, interference=True, radio=radio)
    sx, sy = np.array(pos).T
    d2d = np.hypot(x[:, None] - sx, y[:, None] - sy)
    d3d = np.hypot(d2d, 8.5)
    u, z = drop_draws(SEED, x[:, None], y[:, None], sx, sy)
    los = u < model.los_probability_at(d2d)
    loss = np.where(los, model.los.path_loss_db(d3d) + model.sigma_los_db * z,
                    model.nlos.path_loss_db(d3d) + model.sigma_nlos_db * z)
    rx = 13.0 + radio.ue_gain_db - loss                  # power 13 dBm, gain 0 dBi
    serving = np.argmax(rx, axis=1)
    rows = np.arange(x.size)
    lin = 10.0 ** (rx / 10.0)
    others = lin.sum(axis=1) - lin[rows, serving]
    sinr = rx[rows, serving] - 10.0 * np.log10(10.0 ** (radio.noise_dbm / 10.0) + others)
    assert np.array_equal(frame.serving_cell.to_numpy(), serving)
    np.testing.assert_allclose(frame.snr_db.to_numpy(), sinr, atol=1e-9)


def test_los_fraction_matches_the_probability():
    """Without shadow fading the loss tells the state exactly (NLOS 30 dB above LOS): the
    LOS count of 10^6 links matches sum P_LOS within 4 sigma, and per distance bin a
    chi-square test holds."""
    model = _model(0.0, 0.0, nlos_extra=lambda d: 61.0 + 21.0 * np.log10(d))
    sites = _cells([(0.0, 0.0)])
    rng = np.random.default_rng(5)
    r = rng.uniform(1.0, 400.0, 1_000_000)
    a = rng.uniform(0.0, 2.0 * np.pi, r.size)
    x, y = r * np.cos(a), r * np.sin(a)
    det = _snr(sites, x, y, model.los)
    drop = _snr(sites, x, y, model, drop_seed=SEED)
    los = np.abs(drop.snr_db.to_numpy() - det.snr_db.to_numpy()) < 15.0
    p = model.los_probability_at(np.hypot(x, y))
    assert abs(los.sum() - p.sum()) < 4.0 * np.sqrt((p * (1 - p)).sum())
    bins = np.digitize(r, np.linspace(1.0, 400.0, 11)[1:-1])
    observed = np.bincount(bins, weights=los, minlength=10)
    expected = np.bincount(bins, weights=p, minlength=10)
    var = np.bincount(bins, weights=p * (1 - p), minlength=10)
    chi2 = float(((observed - expected) ** 2 / var).sum())
    assert stats.chi2.sf(chi2, 10) > 1e-3


def test_shadow_fading_is_lognormal_with_the_state_sigma():
    """Always LOS: (median - drop loss) / sigma over 2e5 points passes a KS test against
    N(0, 1) with sigma 5.5 dB."""
    model = _model(5.5, 7.0, p_los=lambda d: np.ones_like(d))
    sites = _cells([(0.0, 0.0)])
    x, y = _points(200_000, seed=9)
    det = _snr(sites, x, y, model.los)
    drop = _snr(sites, x, y, model, drop_seed=SEED)
    z = (det.snr_db.to_numpy() - drop.snr_db.to_numpy()) / 5.5
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.std() - 1.0) < 0.01


def test_sectors_of_a_site_share_their_draws():
    """Three co-located sectors (omni, equal power) see one LOS state and one shadow
    fading: equal losses, so the first serves everywhere and the SNR is the one-cell
    run's."""
    model = _model()
    x, y = _points(5000, seed=3)
    three = _snr(_cells([(0.0, 0.0)] * 3), x, y, model, drop_seed=SEED)
    one = _snr(_cells([(0.0, 0.0)]), x, y, model, drop_seed=SEED)
    assert (three.serving_cell == 0).all()
    assert np.array_equal(three.snr_db.to_numpy(), one.snr_db.to_numpy())


def test_drop_is_the_same_for_any_tiling_thread_count_and_order():
    """Points split into chunks, permuted, on 1 or 2 threads, and the cells reordered:
    bit-identical serving cells and SNRs (keyed on positions, not indices)."""
    model = _model()
    sites = _cells([(0.0, 0.0), (400.0, 50.0), (-300.0, 250.0), (100.0, -350.0),
                    (-250.0, -300.0)])
    x, y = _points(30_000, seed=4)
    base = _snr(sites, x, y, model, drop_seed=SEED, antenna="horizontal", n_threads=2)
    perm = np.random.default_rng(2).permutation(x.size)
    parts = [_snr(sites, x[perm][k:k + 7001], y[perm][k:k + 7001], model, drop_seed=SEED,
                  antenna="horizontal", n_threads=1) for k in range(0, x.size, 7001)]
    chunked = pd.concat(parts, ignore_index=True)
    assert np.array_equal(chunked.snr_db.to_numpy(), base.snr_db.to_numpy()[perm])
    assert np.array_equal(chunked.serving_cell.to_numpy(), base.serving_cell.to_numpy()[perm])
    order = [3, 0, 4, 2, 1]
    shuffled = _snr(sites.iloc[order].reset_index(drop=True), x, y, model, drop_seed=SEED,
                    antenna="horizontal")
    assert np.array_equal(shuffled.snr_db.to_numpy(), base.snr_db.to_numpy())
    assert np.array_equal(np.array(order)[shuffled.serving_cell.to_numpy()],
                          base.serving_cell.to_numpy())
    other = _snr(sites, x, y, model, drop_seed=SEED + 1, antenna="horizontal")
    assert not np.array_equal(other.snr_db.to_numpy(), base.snr_db.to_numpy())


def test_drop_with_schemes_wraparound_and_network_runs_finite():
    """The drop feeds the whole kernel: schemes, wrap-around and network positioning give
    finite results, and the link state of the serving cell is the drop's."""
    model = _model()
    sites = ip.hexagonal_layout(isd_m=300.0, rings=1, height_m=20.0)
    from ilac_plan.layouts import wrap_shifts_m
    x, y = _points(3000, half=300.0, seed=6)
    frame = ip.evaluate(sites, x, y, propagation=model, ue_height_m=1.5, drop_seed=SEED,
                        wrap_shifts_m=wrap_shifts_m(300.0, 1), target_error_m=0.5,
                        positioning="network", n_cells=3)
    assert np.isfinite(frame.snr_db).all()
    assert np.isfinite(frame.time_capacity_bps).all()
    link = ip.evaluate(sites, x, y, propagation=model, ue_height_m=1.5, drop_seed=SEED,
                       wrap_shifts_m=wrap_shifts_m(300.0, 1), schemes=())
    assert np.array_equal(link.snr_db.to_numpy(), frame.snr_db.to_numpy())


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, True, "7"])
def test_bad_drop_seeds_are_refused(seed):
    with pytest.raises(ParameterError, match="drop_seed must be an integer"):
        ip.evaluate(_cells([(0.0, 0.0)]), [10.0], [10.0], propagation=_model(),
                    drop_seed=seed)


def test_models_without_drop_statistics_are_refused():
    sites = _cells([(0.0, 0.0)])
    with pytest.raises(ParameterError, match="no LOS probability or shadow fading"):
        ip.evaluate(sites, [10.0], [10.0], drop_seed=1)
    with pytest.raises(ParameterError, match="not a PathLossModel"):
        ip.evaluate(sites, [10.0], [10.0], propagation=_model().los, drop_seed=1)
    with pytest.raises(ParameterError, match="registered model name or a PathLossModel"):
        ip.evaluate(sites, [10.0], [10.0], propagation=_model())


def test_drop_model_checks_its_parts():
    m = _model()
    with pytest.raises(ParameterError, match="one grid"):
        DropModel("x", m.los, ip.model.PathLossModel.tabulated("n", lambda d: 40 + 0 * d,
                                                               max_distance_m=1e4),
                  m.los_probability, 1.0, 1.0)
    with pytest.raises(ParameterError, match="sigma_los_db"):
        DropModel("x", m.los, m.nlos, m.los_probability, -1.0, 1.0)


def _splitmix_final(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _numpy_uniform(seed, px, py, sx, sy, stream):
    """The generator written out in numpy uint64 arithmetic (docs/coverage.md)."""
    def key(v):
        return np.floor(np.asarray(v, np.float64) * 1000.0 + 0.5).astype(np.int64).view(
            np.uint64)
    with np.errstate(over="ignore"):
        h = _splitmix_final(np.uint64(seed) ^ np.uint64(0x9E3779B97F4A7C15))
        h = _splitmix_final(h ^ key(px))
        h = _splitmix_final(h ^ (key(py) * np.uint64(0xD1B54A32D192ED03)))
        h = _splitmix_final(h ^ (key(sx) * np.uint64(0xAEF17502108EF2D9)))
        h = _splitmix_final(h ^ (key(sy) * np.uint64(0x9FB21C651E98DF25)) ^ np.uint64(stream))
    return ((h >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52


def test_draws_equal_an_independent_numpy_generator_and_scipy_quantile():
    """The kernel's uniforms equal the hash written out in numpy, bit for bit (negative,
    fractional and large coordinates); its normals equal scipy's quantile of them to
    1e-8 (Acklam's form)."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-1e6, 1e6, 50_000), [-0.0005, 0.0005, -1234.5675]])
    y = rng.uniform(-3e4, 3e4, x.size)
    sx, sy = rng.uniform(-1e4, 1e4, x.size), rng.uniform(-1e4, 1e4, x.size)
    u, z = drop_draws(SEED, x, y, sx, sy)
    assert np.array_equal(u, _numpy_uniform(SEED, x, y, sx, sy, 0))
    u1 = _numpy_uniform(SEED, x, y, sx, sy, 1)
    np.testing.assert_allclose(z, stats.norm.ppf(u1), rtol=2e-9, atol=1e-8)


def test_draw_inputs_are_checked():
    for bad in (np.nan, np.inf, 1e13):
        with pytest.raises(ValueError, match="finite coordinates"):
            drop_draws(1, bad, 0.0, 0.0, 0.0)
    for seed in (-1, 2**64, 1.0, True):
        with pytest.raises(ValueError, match="seed"):
            drop_draws(seed, 0.0, 0.0, 0.0, 0.0)


def test_tabulated_drop_models_check_their_functions():
    with pytest.raises(ParameterError, match="LOS probability must lie in"):
        DropModel.tabulated("x", lambda d: 30 + 20 * np.log10(d), lambda d: 40 + 30 * np.log10(d),
                            lambda d: 1.5 + 0 * d, 4.0, 6.0)
    with pytest.raises(ParameterError, match="nodes_per_decade"):
        DropModel.tabulated("x", lambda d: 30 + 20 * np.log10(d), lambda d: 40 + 30 * np.log10(d),
                            lambda d: 0.5, 4.0, 6.0, nodes_per_decade=0)
    m = DropModel.tabulated("x", lambda d: 30 + 20 * np.log10(d), lambda d: 40 + 30 * np.log10(d),
                            lambda d: 0.5, 4.0, 6.0)      # a scalar probability broadcasts
    assert np.allclose(m.los_probability_at([1.0, 100.0]), 0.5)


def test_draws_take_read_only_arrays():
    """pandas hands out read-only arrays (copy-on-write): the draws read them as they are."""
    x = pd.Series([0.0, 10.0]).to_numpy()
    x.flags.writeable = False
    u, z = drop_draws(7, x, x, 0.0, 0.0)
    u2, z2 = drop_draws(7, x.copy(), x.copy(), 0.0, 0.0)
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(z, z2)
