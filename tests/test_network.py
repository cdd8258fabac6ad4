"""Network positioning bound (ilac_plan.model.network) against independent computations."""

import numpy as np
import pytest

from ilac_plan.errors import ParameterError
from ilac_plan.model.crb import (angle_information, crb_position,
                                 delay_mean_square_bandwidth_hz2, fix_factors)
from ilac_plan.model.linkbudget import SPEED_OF_LIGHT_M_S as C
from ilac_plan.model.network import crb_from_information, network_crb_m2, network_information

LAM = C / 2.6e9


def infos(n, snr, tau_l, b_l, bound="paper"):
    """Total angle and delay informations of one cell (Eqs. 5-6 inverted)."""
    j_u = angle_information(n, LAM / 2, LAM, bound) * snr * tau_l
    j_t = 8 * np.pi**2 * n * snr * tau_l * delay_mean_square_bandwidth_hz2(b_l, bound=bound)
    return j_u, j_t


def test_one_cell_is_the_papers_bound():
    rng = np.random.default_rng(0)
    n, snr, tau, b = 16, 10 ** rng.uniform(-1, 3, 500), rng.integers(1, 50, 500), 5e6
    r = rng.uniform(5, 3000, 500)
    theta = rng.uniform(-1.4, 1.4, 500)
    az = rng.uniform(0, 2 * np.pi, 500)
    broadside = np.stack([np.sin(az), np.cos(az)])
    axis = np.stack([np.cos(az), -np.sin(az)])
    d = r * (np.cos(theta) * broadside + np.sin(theta) * axis)
    j_u, j_t = infos(n, snr, tau, b)
    got = network_crb_m2(d[0][:, None], d[1][:, None], axis_x=axis[0][:, None],
                         axis_y=axis[1][:, None], angle_info=j_u[:, None],
                         delay_info_hz2=j_t[:, None])
    want = crb_position(r, theta, b, tau, n_antennas=n, snr=snr, wavelength_m=LAM)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_one_cell_with_heights_is_the_horizontal_fix():
    rng = np.random.default_rng(1)
    x, y, h = rng.uniform(1, 800, 300), rng.uniform(-800, 800, 300), rng.uniform(-40, 40, 300)
    j_u, j_t = rng.uniform(1e2, 1e6, 300), rng.uniform(1e14, 1e20, 300)
    got = network_crb_m2(x[:, None], y[:, None], axis_x=0.0, axis_y=1.0, height_diff_m=h[:, None],
                         angle_info=j_u[:, None], delay_info_hz2=j_t[:, None])
    g_r, g_u = fix_factors(x, y, h)
    np.testing.assert_allclose(got, g_r * C**2 / j_t + g_u / j_u, rtol=1e-9)


def numerical_information(p, cells, mode, eps=1e-3):
    """Fisher information of the position from the means of the measurements by central
    differences: ToA in metres (plus a clock offset in metres for TDoA) and u per cell."""
    def means(q, bias):
        out = []
        for (sx, sy, h, ax, ay, j_u, j_t) in cells:
            d = np.array([q[0] - sx, q[1] - sy])
            rho = np.sqrt(d @ d + h * h)
            if mode != "aoa":
                out.append(rho + bias)
            out.append((ax * d[0] + ay * d[1]) / rho)
        return np.array(out)

    weights = []
    for (*_, j_u, j_t) in cells:
        if mode != "aoa":
            weights.append(j_t / C**2)
        weights.append(j_u)
    w = np.diag(weights)
    params = [np.array([eps, 0.0, 0.0]), np.array([0.0, eps, 0.0])]
    if mode == "tdoa":
        params.append(np.array([0.0, 0.0, eps]))
    jac = np.stack([(means(p + s[:2], s[2]) - means(p - s[:2], -s[2])) / (2 * eps)
                    for s in params], axis=1)
    full = jac.T @ w @ jac
    return np.linalg.inv(np.linalg.inv(full)[:2, :2])     # the position block's information


@pytest.mark.parametrize("mode", ["toa_aoa", "tdoa", "aoa"])
def test_fused_information_equals_a_numerical_fisher_information(mode):
    rng = np.random.default_rng(2)
    for _ in range(20):
        k = rng.integers(3, 7)
        sx, sy = rng.uniform(-1e3, 1e3, k), rng.uniform(-1e3, 1e3, k)
        h = rng.uniform(-30, 30, k)
        az = rng.uniform(0, 2 * np.pi, k)
        ax, ay = np.cos(az), -np.sin(az)
        j_u, j_t = rng.uniform(1e3, 1e6, k), rng.uniform(1e15, 1e19, k)
        p = rng.uniform(-500, 500, 2)
        got = network_information(p[0] - sx, p[1] - sy, axis_x=ax, axis_y=ay, angle_info=j_u,
                                  delay_info_hz2=j_t, height_diff_m=h, measurements=mode)
        want = numerical_information(p, list(zip(sx, sy, h, ax, ay, j_u, j_t)), mode)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9 * np.abs(want).max())


def test_three_equidistant_cells_have_the_closed_form():
    """A UE at the centre of three cells 120 degrees apart, each array facing it:
    J = 3/2 (J_r + J_u / r^2) I, so CRB = 4 / (3 (J_r + J_u / r^2)); the clock offset
    costs nothing there (the range gradients sum to zero)."""
    r, j_u, j_t = 400.0, 2e5, 3e17
    ang = np.deg2rad([90.0, 210.0, 330.0])
    dx, dy = -r * np.cos(ang), -r * np.sin(ang)         # UE at the origin, cells on a circle
    ax, ay = -np.sin(ang), np.cos(ang)                  # arrays perpendicular to the UE's
    want = 4 / (3 * (j_t / C**2 + j_u / r**2))
    for mode in ("toa_aoa", "tdoa"):
        got = network_crb_m2(dx, dy, axis_x=ax, axis_y=ay, angle_info=j_u,
                             delay_info_hz2=j_t, measurements=mode)
        assert got == pytest.approx(want, rel=1e-12)
    aoa = network_crb_m2(dx, dy, axis_x=ax, axis_y=ay, angle_info=j_u, delay_info_hz2=j_t,
                         measurements="aoa")
    assert aoa == pytest.approx(4 / (3 * j_u / r**2), rel=1e-12)


def test_unbounded_directions_are_infinite_not_nan():
    # two cells' time differences: nothing across the hyperbola
    tdoa = network_crb_m2([100.0, -300.0], [50.0, 80.0], axis_x=1.0, axis_y=0.0,
                          angle_info=0.0, delay_info_hz2=1e18, measurements="tdoa")
    assert np.isinf(tdoa)
    with_angles = network_crb_m2([100.0, -300.0], [50.0, 80.0], axis_x=1.0, axis_y=0.0,
                                 angle_info=1e5, delay_info_hz2=1e18, measurements="tdoa")
    assert np.isfinite(with_angles)
    one_angle = network_crb_m2([100.0], [50.0], axis_x=1.0, axis_y=0.0, angle_info=1e5,
                               delay_info_hz2=1e18, measurements="aoa")
    assert np.isinf(one_angle)
    nothing = network_crb_m2([100.0], [50.0], axis_x=1.0, axis_y=0.0, angle_info=0.0,
                             delay_info_hz2=0.0)
    assert np.isinf(nothing)
    assert not np.isnan(crb_from_information(np.zeros((3, 2, 2)))).any()


def test_more_cells_never_hurt():
    rng = np.random.default_rng(3)
    n_pts, k = 400, 6
    dx, dy = rng.uniform(-2e3, 2e3, (n_pts, k)), rng.uniform(-2e3, 2e3, (n_pts, k))
    az = rng.uniform(0, 2 * np.pi, (n_pts, k))
    kw = dict(axis_x=np.cos(az), axis_y=-np.sin(az), angle_info=rng.uniform(0, 1e6, (n_pts, k)),
              delay_info_hz2=rng.uniform(0, 1e19, (n_pts, k)))
    prev = np.full(n_pts, np.inf)
    for m in range(1, k + 1):
        sub = {key: v[:, :m] for key, v in kw.items()}
        now = network_crb_m2(dx[:, :m], dy[:, :m], **sub)
        assert np.all(now <= prev * (1 + 1e-9))
        prev = now


def test_bad_inputs_are_refused():
    with pytest.raises(ParameterError, match="measurements"):
        network_crb_m2([1.0], [1.0], axis_x=1.0, axis_y=0.0, angle_info=1.0, delay_info_hz2=1.0,
                       measurements="rtt")
    with pytest.raises(ParameterError, match="unit vectors"):
        network_crb_m2([1.0], [1.0], axis_x=1.0, axis_y=1.0, angle_info=1.0, delay_info_hz2=1.0)
    with pytest.raises(ParameterError, match="angle_info"):
        network_crb_m2([1.0], [1.0], axis_x=1.0, axis_y=0.0, angle_info=-1.0, delay_info_hz2=1.0)


# ---- at the points of a site table ---------------------------------------------------------

def test_network_bound_at_points_reduces_to_the_serving_cells_bound():
    import pandas as pd

    import ilac_plan as ip
    from ilac_plan.network import network_bound

    rng = np.random.default_rng(4)
    sites = ip.hexagonal_layout(isd_m=500.0, rings=1).assign(height_m=25.0, tilt_deg=6.0)
    x, y = rng.uniform(-700, 700, 1500), rng.uniform(-700, 700, 1500)
    radio = ip.RadioParams()
    one = network_bound(sites, x, y, n_cells=1, n_loc_symbols=4, loc_bandwidth_hz=5e6,
                        ue_height_m=1.5, antenna="3gpp")
    link = ip.evaluate(sites, x, y, schemes=(), ue_height_m=1.5, antenna="3gpp")
    assert np.array_equal(one.serving_cell, link.serving_cell)
    want = crb_position(link.distance_m, np.deg2rad(link.theta_deg), 5e6, 4,
                        n_antennas=sites.n_antennas.to_numpy()[link.serving_cell],
                        snr=10 ** (link.snr_db / 10), wavelength_m=radio.wavelength_m)
    np.testing.assert_allclose(one.serving_error_m ** 2, want, rtol=1e-9)
    np.testing.assert_allclose(one.network_error_m, one.serving_error_m, rtol=1e-12)
    four = network_bound(sites, x, y, n_cells=4, n_loc_symbols=4, loc_bandwidth_hz=5e6,
                         ue_height_m=1.5, antenna="3gpp")
    assert (four.network_error_m <= four.serving_error_m * (1 + 1e-12)).all()
    assert (four.cells_used == 4).all() and (four.gain_db > 0.1).mean() > 0.5
    reuse = network_bound(sites, x, y, n_cells=1, n_loc_symbols=4, loc_bandwidth_hz=5e6,
                          prs_reuse=4, ue_height_m=1.5, antenna="3gpp")
    np.testing.assert_allclose(reuse.serving_error_m, one.serving_error_m * 2, rtol=1e-12)
    tdoa = network_bound(sites, x, y, n_cells=4, measurements="tdoa", n_loc_symbols=4,
                         ue_height_m=1.5, antenna="3gpp")
    assert not tdoa.isna().any().any()
    assert isinstance(four, pd.DataFrame)


@pytest.mark.parametrize("kw,message", [(dict(n_cells=0), "n_cells"), (dict(n_cells=9), "n_cells"),
                                        (dict(prs_reuse=0), "prs_reuse"),
                                        (dict(bound="achievable"), "bound"),
                                        (dict(loc_bandwidth_hz=1e9), "loc_bandwidth_hz"),
                                        (dict(measurements="rtt"), "measurements")])
def test_network_bound_refuses_bad_options(kw, message):
    import ilac_plan as ip
    from ilac_plan.network import network_bound

    sites = ip.hexagonal_layout(isd_m=500.0, rings=0)
    with pytest.raises(ParameterError, match=message):
        network_bound(sites, [10.0], [20.0], **kw)
