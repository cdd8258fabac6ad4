"""Eqs. (3)-(7): the CRBs against the printed forms, the chain rule and degenerate inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import Link

from ilac_plan.model import crb

LAM = 299_792_458.0 / 2.6e9


@pytest.mark.parametrize("theta", [0.0, 0.3, -1.1])
@pytest.mark.parametrize("n", [2, 8, 64])
def test_crb_position_matches_printed_eq7(theta, n):
    link = Link(15.0, n)
    for b_l, tau_l in [(20e6, 200), (180e3, 200), (20e6, 3), (1e6, 50)]:
        got = crb.crb_position(link.distance_m, theta, b_l, tau_l, n_antennas=n,
                               snr=link.snr, wavelength_m=link.lam)
        assert got == pytest.approx(link.crb(b_l, tau_l, theta), rel=1e-12)


def test_chain_rule_eq3_from_eq2_jacobian():
    """CRB_x, CRB_y of Eq. (3) equal J diag(CRB_theta, CRB_t) J^T from Eq. (2)."""
    r, theta = 640.0, 0.7
    t = r / 299_792_458.0
    c_theta = crb.crb_aoa(theta, n_antennas=8, snr=30.0, n_loc_symbols=20, wavelength_m=LAM)
    c_t = crb.crb_toa(5e6, n_antennas=8, snr=30.0, n_loc_symbols=20)
    h = 1e-20  # complex-step derivatives of x = c t cos(theta), y = c t sin(theta)

    def pos(th, tt):
        c = 299_792_458.0
        return np.array([c * tt * np.cos(th), c * tt * np.sin(th)])

    jac = np.column_stack([pos(theta + 1j * h, t).imag / h, pos(theta, t + 1j * h * t).imag / (h * t)])
    cov = jac @ np.diag([c_theta, c_t]) @ jac.T
    cx, cy = crb.crb_xy(r, theta, c_theta, c_t)
    assert cx == pytest.approx(cov[0, 0], rel=1e-12)
    assert cy == pytest.approx(cov[1, 1], rel=1e-12)
    total = crb.crb_position(r, theta, 5e6, 20, n_antennas=8, snr=30.0, wavelength_m=LAM)
    assert cx + cy == pytest.approx(total, rel=1e-12)


def test_degenerate_inputs_give_infinity_not_errors():
    common = dict(snr=10.0, wavelength_m=LAM)
    assert np.isinf(crb.crb_aoa(0.0, n_antennas=1, n_loc_symbols=10, **common))
    assert np.isinf(crb.crb_aoa(math.pi / 2, n_antennas=8, n_loc_symbols=10, **common))
    assert np.isinf(crb.crb_aoa(np.deg2rad(-90.0), n_antennas=8, n_loc_symbols=10, **common))
    assert np.isinf(crb.crb_position(100.0, 0.0, 20e6, 0, n_antennas=8, **common))
    assert np.isinf(crb.crb_position(100.0, 0.0, 0.0, 10, n_antennas=8, **common))
    # On the site, the AoA term vanishes even with one antenna: only the ToA term is left.
    on_site = crb.crb_position(0.0, 0.0, 20e6, 10, n_antennas=1, **common)
    toa = crb.crb_toa(20e6, n_antennas=1, snr=10.0, n_loc_symbols=10)
    assert on_site == pytest.approx(299_792_458.0**2 * toa, rel=1e-15)
    cx, cy = crb.crb_xy(100.0, math.pi / 2, np.inf, toa)
    assert np.isinf(cx) and cy == pytest.approx(299_792_458.0**2 * toa)


def test_spacing_in_metres_scales_aoa_bound():
    base = crb.crb_aoa(0.2, n_antennas=8, snr=10.0, n_loc_symbols=10, wavelength_m=LAM)
    wide = crb.crb_aoa(0.2, n_antennas=8, snr=10.0, n_loc_symbols=10, wavelength_m=LAM,
                       spacing_m=LAM)
    assert wide == pytest.approx(base / 4, rel=1e-14)


@settings(max_examples=200, deadline=None)
@given(r=st.floats(1, 5e4), theta=st.floats(-1.5, 1.5), n=st.integers(2, 256),
       b_l=st.floats(1e5, 1e8), tau_l=st.integers(1, 199), snr=st.floats(1e-3, 1e4))
def test_crb_decreases_in_symbols_and_bandwidth(r, theta, n, b_l, tau_l, snr):
    kw = dict(n_antennas=n, snr=snr, wavelength_m=LAM)
    base = crb.crb_position(r, theta, b_l, tau_l, **kw)
    assert crb.crb_position(r, theta, b_l, tau_l + 1, **kw) < base
    assert crb.crb_position(r, theta, b_l * 1.01, tau_l, **kw) < base
