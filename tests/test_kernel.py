"""The compiled kernel against the numpy model: random inputs, threads, edge cases."""

import numpy as np
import pytest

from ilac_plan import _core, kernel
from ilac_plan.errors import ParameterError
from ilac_plan.model import capacity as cap
from ilac_plan.model import crb

LAM = 299_792_458.0 / 2.6e9


def random_links(rng, n):
    return dict(n_antennas=rng.integers(1, 257, n), snr_dl=10 ** rng.uniform(-3, 4, n),
                snr_ul=10 ** rng.uniform(-3, 4, n))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_best_pilot_capacity_matches_brute_force(n_threads):
    rng = np.random.default_rng(7)
    links = random_links(rng, 3000)
    tau_c = rng.integers(0, 201, 3000)
    bw = rng.uniform(0, 20e6, 3000)
    got, got_p = kernel.best_pilot_capacity(bw, tau_c, n_threads=n_threads, **links)
    ref, ref_p = cap.best_pilot_capacity(bw, tau_c, **links)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(got_p, ref_p)


def test_best_pilot_capacity_zero_snr_and_short_blocks():
    got, tau_p = kernel.best_pilot_capacity(1e6, [0, 1, 2, 50, 50], n_antennas=8,
                                            snr_dl=[1.0, 1.0, 1.0, 0.0, 1.0],
                                            snr_ul=[1.0, 1.0, 1.0, 1.0, 0.0])
    assert got.tolist()[:2] == [0.0, 0.0] and got[2] > 0
    assert got[3] == 0.0 and got[4] == 0.0
    assert tau_p.tolist() == [0, 1, 1, 1, 1]
    assert not np.any(np.isnan(got))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_crb_position_matches_model(n_threads):
    rng = np.random.default_rng(3)
    n = 5000
    args = (rng.uniform(0, 5e3, n), rng.uniform(-np.pi / 2, np.pi / 2, n),
            rng.uniform(0, 20e6, n), rng.integers(0, 201, n))
    kw = dict(n_antennas=rng.integers(1, 65, n), snr=10 ** rng.uniform(-2, 4, n),
              wavelength_m=LAM, spacing_m=rng.uniform(0.01, 0.2, n), varsigma=rng.uniform(0, 3, n))
    got = kernel.crb_position(*args, n_threads=n_threads, **kw)
    ref = crb.crb_position(*args, **kw)
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-12)


def test_kernel_edge_cases_have_no_nan():
    got = kernel.crb_position([0.0, 10.0, 10.0, 10.0], [0.0, np.pi / 2, 0.0, 0.0],
                              [20e6, 20e6, 0.0, 20e6], [10, 10, 10, 0], n_antennas=[1, 8, 8, 8],
                              snr=1.0, wavelength_m=LAM)
    assert np.isfinite(got[0]) and np.all(np.isinf(got[1:]))


def test_broadcasting_non_contiguous_and_float32_inputs():
    rng = np.random.default_rng(11)
    dist = rng.uniform(1, 100, (40, 30)).astype(np.float32)[:, ::3]
    got = kernel.crb_position(dist, 0.1, 1e6, 20, n_antennas=8, snr=3.0, wavelength_m=LAM)
    ref = crb.crb_position(dist.astype(np.float64), 0.1, 1e6, 20, n_antennas=8, snr=3.0,
                           wavelength_m=LAM)
    assert got.shape == (40, 10)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_thread_resolution():
    assert kernel.resolve_n_threads(1) == 1
    expected = _core.max_threads() if _core.openmp_enabled() else 1
    assert kernel.resolve_n_threads(None) == expected == kernel.resolve_n_threads(-1)
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ParameterError, match="n_threads must be a positive integer"):
            kernel.resolve_n_threads(bad)


def test_openmp_build_flag_is_reported():
    assert isinstance(_core.openmp_enabled(), bool)
    assert _core.max_threads() >= 1


@pytest.mark.parametrize("n_threads", [1, 2])
def test_capacity_table_equals_one_search_per_tau(n_threads):
    """One upward pilot walk per point gives every tau_C's value, bit for bit, and the
    brute force of the model to 1e-12."""
    rng = np.random.default_rng(8)
    links = random_links(rng, 2000)
    for taus in (np.arange(0, 201), rng.permutation(201)[:37], np.array([200, 3, 3, 0, 1])):
        table = kernel.best_pilot_capacity_table(5e6, taus, n_threads=n_threads, **links)
        assert table.shape == (2000, taus.size)
        for k, tc in enumerate(taus):
            one, _ = kernel.best_pilot_capacity(5e6, tc, **links)
            np.testing.assert_array_equal(table[:, k], one)
        brute, _ = cap.best_pilot_capacity(5e6, taus[None, :], **{
            key: v[:300, None] for key, v in links.items()})
        np.testing.assert_allclose(table[:300], brute, rtol=1e-12, atol=0)


def test_capacity_table_refuses_bad_lists():
    links = dict(n_antennas=8, snr_dl=1.0, snr_ul=1.0)
    with pytest.raises(ParameterError, match="n_comm_symbols"):
        kernel.best_pilot_capacity_table(1.0, [0, 201], **links)
    with pytest.raises(ParameterError, match="1-D"):
        kernel.best_pilot_capacity_table(1.0, [[1, 2]], **links)
    with pytest.raises(ParameterError, match="n_comm_symbols"):
        kernel.best_pilot_capacity_table(1.0, [1.5], **links)
    with pytest.raises(ParameterError, match="bandwidth_hz"):
        kernel.best_pilot_capacity_table([1.0, 2.0], [1, 2], **links)
