"""Network positioning bound (ilac_plan.model.network) against independent computations."""

import numpy as np
import pandas as pd
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


# ---- the kernel's network positioning (evaluate(positioning="network")) ----------------

def _layout():
    from ilac_plan.layouts import hexagonal_layout
    return hexagonal_layout()


def _points(n, seed=3, half=800.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-half, half, n), rng.uniform(-half, half, n)


def test_one_cell_network_is_the_serving_run_bit_for_bit():
    import ilac_plan as ip
    sites = _layout()
    x, y = _points(4000)
    for kw in ({"target_error_m": 0.1}, {"max_capacity_loss": 0.05}):
        a = ip.evaluate(sites, x, y, **kw)
        b = ip.evaluate(sites, x, y, positioning="network", n_cells=1, **kw)
        for column in a.columns:
            np.testing.assert_array_equal(a[column].to_numpy(), b[column].to_numpy(), column)
        assert (b.cells_used == 1).all()
        for s in ("time", "frequency"):
            np.testing.assert_array_equal(b[f"{s}_capacity_gain_bps"], 0.0)


@pytest.mark.parametrize("mode,reuse,k", [("toa_aoa", 1, 4), ("toa_aoa", 3, 3),
                                          ("tdoa", 1, 4), ("tdoa", 2, 6), ("aoa", 1, 4)])
@pytest.mark.parametrize("prune", [True, False])
def test_kernel_network_bound_equals_the_numpy_fusion(mode, reuse, k, prune):
    """The time split's error at its chosen symbol count equals network_bound (numpy, the
    K strongest by argsort, model.network's fusion) at that count, wherever the K-th and
    (K+1)-th cells are not tied (a tie may be decided by the last ulp either way)."""
    import ilac_plan as ip
    from ilac_plan.network import network_bound
    sites = _layout()
    x, y = _points(3000, seed=k)
    got = ip.evaluate(sites, x, y, target_error_m=0.3, schemes=["time"], prune=prune,
                      positioning="network", n_cells=k, measurements=mode, prs_reuse=reuse)
    n_sym = ip.RadioParams().n_symbols
    j = np.round(got.time_loc_share.to_numpy() * n_sym).astype(int)
    checked = 0
    for jj in np.unique(j):
        m = np.flatnonzero(j == jj)
        ref = network_bound(sites, x[m], y[m], n_cells=k, measurements=mode,
                            n_loc_symbols=jj, prs_reuse=reuse)
        want, have = ref.network_error_m.to_numpy(), got.time_error_m.to_numpy()[m]
        np.testing.assert_array_equal(np.isfinite(have), np.isfinite(want))
        fin = np.isfinite(want)
        rel = np.abs(have[fin] / want[fin] - 1.0)
        tol = 1e-6 if mode == "aoa" else 1e-12      # AoA alone: a near-singular sum
        assert np.mean(rel <= tol) > 0.99, (jj, rel.max())
        checked += fin.sum()
    assert checked > 2500
    assert (got.cells_used == k).all()


def test_network_frees_at_least_the_serving_resource_at_every_point():
    """The serving cell is among the fused ones: its information only grows, so the split
    needs no more positioning and keeps at least the capacity (default map scenario's
    layout and radio: 3-D antenna, heights, UE at 1.5 m)."""
    import ilac_plan as ip
    sites = _layout()
    gx, gy = np.meshgrid(np.linspace(-700, 700, 90), np.linspace(-700, 700, 90))
    kw = dict(target_error_m=0.05, antenna="3gpp", ue_height_m=1.5)
    for bound in ("paper", "achievable"):
        serving = ip.evaluate(sites, gx, gy, bound=bound, **kw)
        net = ip.evaluate(sites, gx, gy, bound=bound, positioning="network", **kw)
        np.testing.assert_array_equal(net.serving_cell, serving.serving_cell)
        for s in ("time", "frequency"):
            assert (net[f"{s}_loc_share"] <= serving[f"{s}_loc_share"]).all()
            assert (net[f"{s}_capacity_bps"] >= serving[f"{s}_capacity_bps"]).all()
            np.testing.assert_allclose(net[f"{s}_capacity_gain_bps"],
                                       net[f"{s}_capacity_bps"] - serving[f"{s}_capacity_bps"])
            met = net[f"{s}_error_m"] <= 0.05 * (1 + 1e-9)
            assert (met | (net[f"{s}_error_m"] <= serving[f"{s}_error_m"])).all()
            assert met.sum() >= (serving[f"{s}_error_m"] <= 0.05 * (1 + 1e-9)).sum()
        assert (net.time_capacity_gain_bps > 0).mean() > 0.1


def test_two_cell_tdoa_is_unbounded_and_says_inf():
    """TDoA from two cells without angles (antennas = 1: no AoA) knows nothing across the
    hyperbola: infinite error, never NaN; three cells bound it."""
    import ilac_plan as ip
    two = pd.DataFrame({"x_m": [0.0, 400.0], "y_m": [0.0, 0.0], "azimuth_deg": [90.0, 270.0],
                        "n_antennas": [1, 1], "power_dbm": [40.0, 40.0]})
    x, y = np.array([150.0, 200.0]), np.array([80.0, -60.0])
    out = ip.evaluate(two, x, y, max_capacity_loss=0.5, antenna="omni", schemes=["time"],
                      positioning="network", n_cells=2, measurements="tdoa")
    assert np.isposinf(out.time_error_m).all() and not out.isna().any().any()
    three = pd.concat([two, two.iloc[:1].assign(x_m=200.0, y_m=350.0)], ignore_index=True)
    out3 = ip.evaluate(three, x, y, max_capacity_loss=0.5, antenna="omni", schemes=["time"],
                       positioning="network", n_cells=3, measurements="tdoa")
    assert np.isfinite(out3.time_error_m).all()


def test_cosited_sectors_give_no_tdoa_and_never_nan():
    """Two fused cells that are sectors of one site: TDoA has no baseline. Rounding left
    a Fisher matrix of trace ~ -1e-31 there, whose 'bound' was negative: NaN errors that
    met the target. Every point is unbounded or finite and positive, none feasible."""
    import ilac_plan as ip
    sites = ip.hexagonal_layout(isd_m=500, rings=2, n_antennas=1)
    x, y = np.random.default_rng(0).uniform(-1000, 1000, (2, 20_000))
    out = ip.evaluate(sites, x, y, antenna="omni", positioning="network", n_cells=2,
                      measurements="tdoa", target_error_m=1.0)
    err = out.time_error_m.to_numpy()
    assert not np.isnan(err).any() and (err > 0).all()
    assert (out.best_scheme == "infeasible").all()


def test_vectorized_schemes_see_the_network_bound():
    """A plan-form scheme evaluated as a vectorized one (LinkState.crb_position in network
    mode) gives the kernel's network errors."""
    import ilac_plan as ip
    from ilac_plan.hookspecs import hookimpl
    from ilac_plan.schemes import Scheme, SchemeResult, TimeSplit
    from ilac_plan.testing import registered

    class VecTime(Scheme):
        name = "vec_time_net"
        description = "time split, vectorized"

        def evaluate(self, link, objective, radio):
            plan = TimeSplit().plan(radio)
            crb = np.stack([link.crb_position(radio, radio.bandwidth_hz, t)
                            if t > 0 else np.full(link.size, np.inf)
                            for t in plan.loc_symbols])
            ok = crb <= objective.value**2 * (1 + 1e-12)
            j = np.where(ok.any(0), ok.argmax(0), crb.shape[0] - 1)
            err = np.sqrt(crb[j, np.arange(link.size)])
            return SchemeResult(np.zeros(link.size), err, plan.loc_share[j], ok.any(0))

    class Plugin:
        @hookimpl
        def ilac_register_schemes(self, register):
            register(VecTime())

    with registered(Plugin()):
        sites = _layout()
        x, y = _points(1500)
        out = ip.evaluate(sites, x, y, target_error_m=0.1, schemes=["time", "vec_time_net"],
                          positioning="network", n_cells=3, measurements="tdoa")
        np.testing.assert_allclose(out.vec_time_net_error_m, out.time_error_m, rtol=1e-12)
        np.testing.assert_array_equal(out.vec_time_net_loc_share, out.time_loc_share)
        assert np.isfinite(out.vec_time_net_gdop).all()


@pytest.mark.parametrize("kw,message", [
    ({"positioning": "net"}, "positioning"),
    ({"positioning": "network", "n_cells": 9}, "n_cells"),
    ({"positioning": "network", "n_cells": 0}, "n_cells"),
    ({"positioning": "network", "prs_reuse": 0}, "prs_reuse"),
    ({"positioning": "network", "measurements": "rtt"}, "measurements"),
    ({"n_cells": 4}, "positioning='network'"),
    ({"prs_reuse": 3}, "positioning='network'"),
])
def test_network_options_are_checked(kw, message):
    import ilac_plan as ip
    with pytest.raises(ParameterError, match=message):
        ip.evaluate(_layout(), [10.0], [20.0], **kw)


def test_map_with_network_positioning_writes_its_bands_and_reproduces(tmp_path):
    """ilac-plan map --positioning network: coverage.tif gains cells_used and each scheme's
    GDOP and capacity gain (read back with rasterio: units, never a negative gain), the
    manifest and scenario.toml carry the options, and the scenario reproduces the tables."""
    rasterio = pytest.importorskip("rasterio")
    import json
    import subprocess
    import sys

    out = tmp_path / "net"
    cmd = [sys.executable, "-m", "ilac_plan.cli", "map", "--positioning", "network",
           "--n-cells", "3", "--measurements", "toa_aoa", "--resolution-m", "20",
           "--formats", "tif,summary,cells", "--out", str(out), "-q"]
    run = subprocess.run(cmd, capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with rasterio.open(out / "coverage.tif") as src:
        names = list(src.descriptions)
        for s in ("time", "frequency"):
            assert {f"{s}_gdop", f"{s}_capacity_gain_bps"} <= set(names)
        gain = src.read(names.index("time_capacity_gain_bps") + 1)
        used = src.read(names.index("cells_used") + 1)
        assert src.tags(names.index("time_capacity_gain_bps") + 1)["unit"] == "bit/s"
    inside = np.isfinite(gain)
    assert inside.mean() > 0.5 and (gain[inside] >= 0).all() and (gain[inside] > 0).any()
    assert (used[inside] == 3).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["positioning"] == {"mode": "network", "n_cells": 3,
                                                 "measurements": "toa_aoa", "prs_reuse": 1,
                                                 "prs_interference": False}
    again = tmp_path / "again"
    run = subprocess.run([sys.executable, "-m", "ilac_plan.cli", "map", "--scenario",
                          str(out / "scenario.toml"), "--out", str(again), "-q"],
                         capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (again / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()
    assert (again / "cells.csv").read_bytes() == (out / "cells.csv").read_bytes()


def test_map_refuses_network_options_without_network(tmp_path):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "ilac_plan.cli", "map", "--n-cells", "3",
                          "--out", str(tmp_path / "x")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 2
    assert "positioning='network'" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "x" / "coverage.tif").exists()


@pytest.mark.parametrize("mode,reuse,k", [("toa_aoa", 1, 4), ("toa_aoa", 3, 3),
                                          ("tdoa", 7, 4)])
def test_prs_interference_equals_the_numpy_sinr_per_slot(mode, reuse, k):
    """prs_interference: each fused cell's PRS SINR counts the cells on its slot (row mod
    reuse); the kernel's errors equal network_bound's (numpy: a slot mask over every
    cell's power), and interference never helps."""
    import ilac_plan as ip
    from ilac_plan.network import network_bound
    sites = _layout()
    x, y = _points(2000, seed=11)
    kw = dict(target_error_m=0.3, schemes=["time"], positioning="network", n_cells=k,
              measurements=mode, prs_reuse=reuse)
    got = ip.evaluate(sites, x, y, prs_interference=True, **kw)
    clean = ip.evaluate(sites, x, y, **kw)
    assert (got.time_loc_share >= clean.time_loc_share).all()
    assert (got.time_loc_share > clean.time_loc_share).mean() > 0.5
    j = np.round(got.time_loc_share.to_numpy() * ip.RadioParams().n_symbols).astype(int)
    for jj in np.unique(j):
        m = np.flatnonzero(j == jj)
        ref = network_bound(sites, x[m], y[m], n_cells=k, measurements=mode, n_loc_symbols=jj,
                            prs_reuse=reuse, prs_interference=True).network_error_m.to_numpy()
        have = got.time_error_m.to_numpy()[m]
        fin = np.isfinite(ref)
        np.testing.assert_array_equal(np.isfinite(have), fin)
        assert np.mean(np.abs(have[fin] / ref[fin] - 1) <= 1e-10) > 0.99
