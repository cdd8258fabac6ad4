"""Definitions 1-4 and the corrected Theorems 1-2 against brute-force inversion.

The ground truth inverts the *definitions* (capacity from the numerically maximised
Eq. 16, CRB from the printed Eq. 7) with scipy's brentq; the closed forms must agree
to 1e-9 relative across SNR 0-40 dB, N_T 2-256, eps 0.1-10 and a range of losses.
"""

import math

import numpy as np
import pytest
from conftest import SPREAD
from reference import Link

from ilac_plan.errors import ParameterError
from ilac_plan.model import losses

FRACTIONS = (0.01, 0.2, 0.5, 0.9, 0.999)
LAM = 299_792_458.0 / 2.6e9


def theorem_args(link):
    return dict(bandwidth_hz=link.b, unit="nat", **link.link)


@pytest.mark.parametrize("snr_db,n,eps", SPREAD)
def test_theorem1_eq20_and_eq10_match_brute_force(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    total = link.total()
    for frac in FRACTIONS:
        tau_c = link.tau_c_for_loss(frac * total)
        got = losses.time_comm_symbols_for_capacity_loss(frac * total, **theorem_args(link))
        assert got == pytest.approx(tau_c, rel=1e-9)
        # Definition 2, computed as a ratio of printed CRBs at the brute-force split.
        crb_loss = link.crb(link.b, link.tau_t - tau_c) / link.crb(link.b, link.tau_t)
        got = losses.time_crb_loss_for_capacity_loss(frac * total, **theorem_args(link))
        assert got == pytest.approx(crb_loss, rel=1e-9)


@pytest.mark.parametrize("snr_db,n,eps", SPREAD[::2])
def test_eq19_is_definition1_on_eq18(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    for tau_l in (1.0, 10.5, 100.0, 190.0):
        direct = link.total() - link.eq16_max(link.b, link.tau_t - tau_l)
        got = losses.time_capacity_loss_closed_form(tau_l, **theorem_args(link))
        assert got == pytest.approx(direct, rel=1e-9, abs=1e-6)
        got = losses.time_capacity_loss(tau_l, closed_form=True, **theorem_args(link))
        assert got == pytest.approx(direct, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("snr_db,n,eps", SPREAD)
def test_theorem2_eq14_and_eq21_match_brute_force(snr_db, n, eps):
    link = Link(snr_db, n, eps)
    total = link.total()
    for frac in FRACTIONS:
        b_l = link.b_l_for_loss(frac * total)
        got = losses.frequency_loc_bandwidth_for_capacity_loss(frac * total, **theorem_args(link))
        assert got == pytest.approx(b_l, rel=1e-9)
        got = losses.frequency_capacity_loss_closed_form(b_l, **theorem_args(link))
        assert got == pytest.approx(frac * total, rel=1e-9)


@pytest.mark.parametrize("theta", [0.0, 0.9])
@pytest.mark.parametrize("snr_db,n,eps", SPREAD[::4])
def test_theorem2_eq13_matches_definition4(snr_db, n, eps, theta):
    link = Link(snr_db, n, eps)
    for b_l in (180e3, 1e6, 7.3e6, 19.98e6):
        direct = link.crb(b_l, link.tau_t, theta) / link.crb(link.b, link.tau_t, theta)
        got = losses.frequency_crb_loss_closed_form(
            b_l, bandwidth_hz=link.b, distance_m=link.distance_m, theta_rad=theta, n_antennas=n,
            wavelength_m=link.lam)
        assert got == pytest.approx(direct, rel=1e-9)
        got = losses.frequency_crb_loss(
            b_l, bandwidth_hz=link.b, distance_m=link.distance_m, theta_rad=theta, n_antennas=n,
            snr=link.snr, wavelength_m=link.lam)
        assert got == pytest.approx(direct, rel=1e-12)
    # Theorem 2 end to end: capacity loss -> B_L (Eq. 14) -> CRB loss (Eq. 13).
    total = link.total()
    b_l = link.b_l_for_loss(0.3 * total)
    direct = link.crb(b_l, link.tau_t, theta) / link.crb(link.b, link.tau_t, theta)
    got = losses.frequency_crb_loss_for_capacity_loss(
        0.3 * total, distance_m=link.distance_m, theta_rad=theta, wavelength_m=link.lam,
        **theorem_args(link))
    assert got == pytest.approx(direct, rel=1e-9)


def test_definition2_is_tau_ratio():
    link = Link(15.0, 8)
    got = losses.time_crb_loss(np.array([1, 20, 200]), distance_m=link.distance_m,
                               theta_rad=0.2, loc_bandwidth_hz=link.b, n_antennas=8,
                               snr=link.snr, wavelength_m=link.lam)
    np.testing.assert_allclose(got, [200.0, 10.0, 1.0], rtol=1e-13)


def test_definitions_with_exact_capacity():
    link = Link(15.0, 8)
    args = dict(bandwidth_hz=link.b, unit="nat", **link.link)
    assert losses.time_capacity_loss(20, **args) == pytest.approx(
        link.best_integer(link.b, 200) - link.best_integer(link.b, 180), rel=1e-12)
    assert losses.frequency_capacity_loss(5 * 180e3, **args) == pytest.approx(
        link.best_integer(link.b, 200) - link.best_integer(link.b - 5 * 180e3, 200), rel=1e-12)


def test_errata_table_values(paper_link):
    """The corrected Eqs. (20) and (10) (docs/model.md) at 15 dB, N_T = 8: tau_C and the CRB loss at 0.05/0.33/0.90."""
    total = paper_link.total()
    args = theorem_args(paper_link)
    expected = {0.05: (190.0793227719, 20.15991403), 0.33: (134.4777861742, 3.052399916),
                0.90: (20.7009466676, 1.115454858)}
    for frac, (tau_c, crb_loss) in expected.items():
        assert losses.time_comm_symbols_for_capacity_loss(frac * total, **args) == \
            pytest.approx(tau_c, rel=1e-10)
        assert losses.time_crb_loss_for_capacity_loss(frac * total, **args) == \
            pytest.approx(crb_loss, rel=1e-9)
    assert losses.time_comm_symbols_for_capacity_loss(0.0, **args) == 200.0
    assert np.isinf(losses.time_crb_loss_for_capacity_loss(0.0, **args))


def test_domain_limits(paper_link):
    args = theorem_args(paper_link)
    total = paper_link.total()
    with pytest.raises(ParameterError, match="exceeds the total capacity"):
        losses.time_comm_symbols_for_capacity_loss(1.01 * total, **args)
    with pytest.raises(ParameterError, match="exceeds the total capacity"):
        losses.frequency_loc_bandwidth_for_capacity_loss(1.01 * total, **args)
    with pytest.raises(ValueError, match="capacity_loss must be a number >= 0"):
        losses.time_crb_loss_for_capacity_loss(-1.0, **args)
    # The whole capacity: tau_C reaches b^2/Lambda and B_L the whole band.
    assert losses.frequency_loc_bandwidth_for_capacity_loss(total, **args) == \
        pytest.approx(paper_link.b, rel=1e-12)
    assert losses.time_crb_loss_for_capacity_loss(total, **args) > 1.0


def test_aoa_free_limits_of_eq13():
    common = dict(bandwidth_hz=20e6, distance_m=500.0, wavelength_m=LAM)
    assert losses.frequency_crb_loss_closed_form(1e6, theta_rad=0.0, n_antennas=1,
                                                 **common) == 1.0
    assert losses.frequency_crb_loss_closed_form(1e6, theta_rad=math.pi / 2, n_antennas=8,
                                                 **common) == 1.0
    assert np.isinf(losses.frequency_crb_loss_closed_form(0.0, theta_rad=0.0, n_antennas=8,
                                                          **common))
    assert losses.frequency_crb_loss(1e6, theta_rad=0.0, n_antennas=1, snr=10.0,
                                     **common) == 1.0


def test_bit_units_scale_the_loss(paper_link):
    args = dict(theorem_args(paper_link))
    nat = losses.frequency_loc_bandwidth_for_capacity_loss(1e6, **args)
    args["unit"] = "bit"
    bit = losses.frequency_loc_bandwidth_for_capacity_loss(1e6 / math.log(2), **args)
    assert bit == pytest.approx(nat, rel=1e-13)
