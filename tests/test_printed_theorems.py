"""The printed (uncorrected) Theorems 1 and 2 disagree with the definitions.

These tests pin the typos documented in docs/model.md, so nobody "fixes" the code back to
the printed forms: each printed form is evaluated and shown to be far from the
brute-force value, while the corrected form in ilac_plan matches it.
"""

import pytest
from reference import Link, printed_eq10, printed_eq13, printed_eq14, printed_eq20, printed_eq22

from ilac_plan.model import losses


def test_printed_eq20_misses_tau_t_at_zero_loss(paper_link):
    assert printed_eq20(paper_link, 0.0) == pytest.approx(424.77, abs=0.01)
    got = losses.time_comm_symbols_for_capacity_loss(0.0, bandwidth_hz=20e6, unit="nat",
                                                     **paper_link.link)
    assert got == 200.0


@pytest.mark.parametrize("frac,printed", [(0.05, 58.14), (0.33, 3.388), (0.90, 1.158)])
def test_printed_eq10_disagrees_with_brute_force(paper_link, frac, printed):
    loss = frac * paper_link.total()
    brute = 200.0 / (200.0 - paper_link.tau_c_for_loss(loss))
    assert printed_eq10(paper_link, loss) == pytest.approx(printed, rel=1e-3)
    assert abs(printed_eq10(paper_link, loss) / brute - 1) > 0.03
    got = losses.time_crb_loss_for_capacity_loss(loss, bandwidth_hz=20e6, unit="nat",
                                                 **paper_link.link)
    assert got == pytest.approx(brute, rel=1e-9)


def test_printed_eq10_negative_at_zero_loss(paper_link):
    assert printed_eq10(paper_link, 0.0) == pytest.approx(-30.87, abs=0.01)


@pytest.mark.parametrize("b_l,printed,direct", [(0.18e6, 109.17, 28.222423440067),
                                                (1e6, 4.50, 1.879872772854)])
def test_printed_eq13_counts_toa_four_times(paper_link, b_l, printed, direct):
    definition = paper_link.crb(b_l, 200) / paper_link.crb(20e6, 200)
    assert definition == pytest.approx(direct, rel=1e-9)
    assert printed_eq13(paper_link, b_l) == pytest.approx(printed, abs=0.01)
    got = losses.frequency_crb_loss_closed_form(
        b_l, bandwidth_hz=20e6, distance_m=paper_link.distance_m, theta_rad=0.0, n_antennas=8,
        wavelength_m=paper_link.lam)
    assert got == pytest.approx(definition, rel=1e-12)


def test_printed_eq14_and_eq22_wrong_when_eps_is_not_one():
    """SNR 5 dB, N_T = 16, P_gNB 23 dBm, P_UE 13 dBm (eps = 10), loss 0.05 C~."""
    link = Link(5.0, 16, eps=10.0)
    loss = 0.05 * link.total()
    assert link.b_l_for_loss(loss) == pytest.approx(1.0e6, rel=1e-9)
    assert printed_eq14(link, loss) == pytest.approx(1.615e6, rel=1e-3)
    assert printed_eq22(link, loss) == pytest.approx(1.006e6, rel=1e-3)
    got = losses.frequency_loc_bandwidth_for_capacity_loss(loss, bandwidth_hz=20e6, unit="nat",
                                                           **link.link)
    assert got == pytest.approx(1.0e6, rel=1e-9)
