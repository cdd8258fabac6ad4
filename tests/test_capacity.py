"""Eq. (1) and its closed forms (Eqs. 16-18) against the printed definitions."""

import math

import numpy as np
import pytest
from conftest import SPREAD
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import Link

from ilac_plan.model import capacity as cap


@pytest.mark.parametrize("snr_db,n,eps", SPREAD[::5])
def test_eq1_matches_printed_form_with_rho_and_beta(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    for tau_c, tau_p in [(200, 1), (200, 7.5), (37, 36), (5, 5)]:
        got = cap.mr_capacity(3e6, tau_c, tau_p, unit="nat", **link.link)
        assert got == pytest.approx(link.eq1(3e6, tau_c, tau_p), rel=1e-12, abs=1e-9)


def test_bit_and_nat_units_differ_by_ln2(paper_link):
    nat = cap.mr_capacity(20e6, 200, 3, unit="nat", **paper_link.link)
    bit = cap.mr_capacity(20e6, 200, 3, unit="bit", **paper_link.link)
    assert bit == pytest.approx(nat / math.log(2), rel=1e-15)
    with pytest.raises(ValueError, match="unit must be one of"):
        cap.mr_capacity(20e6, 200, 3, unit="Mbit", **paper_link.link)


@pytest.mark.parametrize("snr_db,n,eps", SPREAD[::3])
def test_best_integer_pilot_is_the_brute_force_maximum(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    for tau_c in (0, 1, 2, 3, 20, 199, 200):
        got, tau_p = cap.best_pilot_capacity(1e6, tau_c, unit="nat", **link.link)
        assert got == pytest.approx(link.best_integer(1e6, tau_c), rel=1e-12, abs=1e-12)
        if tau_c >= 2:
            assert 1 <= tau_p < tau_c
            assert link.eq1(1e6, tau_c, int(tau_p)) == pytest.approx(float(got), rel=1e-12)
        else:
            assert tau_p == tau_c and got == 0.0


def test_paper_example_capacities(paper_link):
    """Sec. IV-B: 61.6 / 58.8 / 41.1 Mbit/s at 0 / 5 / 37 blocks (N_T=8, 15 dB, log2)."""
    b_c = 20e6 - np.array([0, 5, 37]) * 180e3
    got, _ = cap.best_pilot_capacity(b_c, 200, **paper_link.link)
    assert np.round(got / 1e6, 1).tolist() == [61.6, 58.8, 41.1]


@pytest.mark.parametrize("snr_db,n,eps", SPREAD)
def test_eq18_is_the_maximum_of_eq16_and_eq17_its_argmax(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    for tau_c in (1.0, 17.0, 120.0, 200.0):
        numeric = link.eq16_max(1e6, tau_c)
        closed = float(cap.capacity_closed_form(1e6, tau_c, unit="nat", **link.link))
        assert closed == pytest.approx(numeric, rel=1e-9, abs=1e-9)
        stationary = link.eq16_argmax(tau_c)
        got = float(cap.optimal_pilot_length(tau_c, **{k: v for k, v in link.link.items()
                                                       if k != "n_symbols"}))
        assert got == pytest.approx(stationary, rel=1e-9)


def test_eq18_above_integer_optimum_when_pilot_below_one():
    """docs/model.md, "Capacity": N_T=8 at 30 dB, 63.19 vs 63.03 Mbit/s."""
    link = Link(30.0, 8)
    closed = float(cap.capacity_closed_form(20e6, 200, **link.link))
    exact, _ = cap.best_pilot_capacity(20e6, 200, **link.link)
    assert round(closed / 1e6, 2) == 63.19 and round(float(exact) / 1e6, 2) == 63.03


def test_closed_form_is_zero_below_its_branch():
    link = Link(0.0, 2, eps=10.0)
    k = cap.closed_form_constants(2, link.snr, link.snr / 10)
    tau_edge = float(k.b_sq / k.lam)
    below = cap.capacity_closed_form(1e6, 0.5 * tau_edge, **link.link)
    assert below == 0.0
    assert cap.capacity_closed_form(1e6, min(2 * tau_edge, 200), **link.link) > 0


@settings(max_examples=300, deadline=None)
@given(snr_db=st.floats(-10, 40), n=st.integers(1, 256), eps_db=st.floats(-10, 10),
       tau_c=st.floats(0.5, 200), share=st.floats(1e-3, 1.0))
def test_eq16_never_exceeds_eq1_for_real_pilot_lengths(snr_db, n, eps_db, tau_c, share):
    snr_dl = 10 ** (snr_db / 10)
    snr_ul = snr_dl / 10 ** (eps_db / 10)
    tau_p = share * tau_c
    exact = cap.mr_capacity(1e6, tau_c, tau_p, n_antennas=n, snr_dl=snr_dl, snr_ul=snr_ul,
                         unit="nat")
    bound = cap.capacity_bound(1e6, tau_c, tau_p, n_antennas=n, snr_dl=snr_dl,
                               snr_ul=snr_ul, unit="nat")
    assert bound <= exact * (1 + 1e-12) + 1e-9


def test_pilot_longer_than_block_is_refused(paper_link):
    with pytest.raises(ValueError, match="n_pilot_symbols must be <= n_comm_symbols"):
        cap.mr_capacity(1e6, 10, 11, **paper_link.link)
