"""The coverage kernel's typed interface and its fast paths, against the slow ones.

The linear-domain serving search against the search in dB, the in-kernel best scheme
against numpy's ``best_scheme_codes``, groups of blocks and the two-level tile order
against single blocks, and the extension types' refusals.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from coverage_reference import reference_evaluate

import ilac_plan as ip
from ilac_plan import coverage
from ilac_plan._core import _coverage
from ilac_plan.coverage import Objective
from ilac_plan.model import LogDistanceTerm, PathLossModel
from ilac_plan.schemes import ResourcePlan

RADIO = ip.RadioParams()


def sites_and_points(seed, n_cells, n_points, extent=4e3):
    rng = np.random.default_rng(seed)
    sites = pd.DataFrame({
        "x_m": rng.uniform(0, extent, n_cells), "y_m": rng.uniform(0, extent, n_cells),
        "azimuth_deg": rng.uniform(0, 360, n_cells), "n_antennas": rng.integers(1, 65, n_cells),
        "power_dbm": rng.uniform(0, 46, n_cells), "height_m": rng.uniform(0, 30, n_cells)})
    x = rng.uniform(-0.1 * extent, 1.1 * extent, n_points)
    y = rng.uniform(-0.1 * extent, 1.1 * extent, n_points)
    return sites, x, y


def captured_call(monkeypatch, **kw):
    """Run evaluate and return the arguments it passed to the kernel."""
    calls = []
    real = _coverage.coverage_kernel

    def spy(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(_coverage, "coverage_kernel", spy)
    frame = ip.evaluate(**kw)
    monkeypatch.setattr(_coverage, "coverage_kernel", real)
    return frame, calls[0]


@pytest.mark.parametrize("interference", [False, True])
@pytest.mark.parametrize("slope_db", [20.0, 35.0])
def test_linear_search_equals_the_search_in_db(monkeypatch, interference, slope_db):
    sites, x, y = sites_and_points(1, 60, 5000)
    model = PathLossModel("one", (LogDistanceTerm(38.0, slope_db),), min_distance_m=1.0)
    kw = dict(sites=sites, x_m=x, y_m=y, antenna="omni", propagation=model,
              interference=interference, ue_height_m=1.5)
    mode = coverage._linear_mode(coverage.cell_arrays(sites, RADIO, 1.5, "omni"), "omni",
                                 model, interference)[0]
    # free space's slope takes the linear path with interference too; others stay in dB
    expected = (_coverage.LINEAR_POWER if slope_db == 20.0 else _coverage.LINEAR_OFF) \
        if interference else _coverage.LINEAR_ORDER
    assert mode == expected
    fast = ip.evaluate(**kw)
    monkeypatch.setattr(coverage, "_linear_mode",
                        lambda *a: (_coverage.LINEAR_OFF, None, 1.0))
    slow = ip.evaluate(**kw)
    assert np.array_equal(fast.serving_cell, slow.serving_cell)
    for col in fast.columns.drop(["serving_cell", "best_scheme"]):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-12, atol=1e-12, err_msg=col)
    assert (fast.best_scheme == slow.best_scheme).all()


def test_linear_search_with_switched_off_cells_and_pruning():
    sites, x, y = sites_and_points(2, 80, 20_000, extent=1e4)
    sites.loc[::7, "power_dbm"] = -np.inf
    df = ip.evaluate(sites, x, y, antenna="omni", prune=True, target_error_m=0.7)
    ref = reference_evaluate(sites, x, y, radio=RADIO, antenna="omni", target_error_m=0.7)
    assert np.array_equal(df.serving_cell, ref["serving_cell"])
    assert not np.isin(df.serving_cell, np.flatnonzero(np.isinf(sites.power_dbm))).any()
    np.testing.assert_allclose(df.time_capacity_bps, ref["time_capacity_bps"], rtol=1e-9)
    pd.testing.assert_frame_equal(df, ip.evaluate(sites, x, y, antenna="omni", prune=False,
                                                  target_error_m=0.7))


@pytest.mark.parametrize("objective", [dict(target_error_m=0.4), dict(target_error_m=5.0),
                                       dict(max_capacity_loss=0.05),
                                       dict(max_capacity_loss=0.6)])
def test_best_scheme_in_the_kernel_equals_numpy(monkeypatch, objective):
    sites, x, y = sites_and_points(3, 25, 8000)
    frame, args = captured_call(monkeypatch, sites=sites, x_m=x, y_m=y,
                                schemes=("time", "frequency"), **objective)
    n, n_p = x.size, 2
    out = {"capacity_bps": np.empty((n_p, n)), "error_m": np.empty((n_p, n)),
           "loc_share": np.empty((n_p, n)), "feasible": np.empty((n_p, n), np.int8)}
    link = [np.empty(n, np.int32)] + [np.empty(n) for _ in range(4)]
    outputs = _coverage.Outputs(serving=link[0], distance_m=link[1], theta_deg=link[2],
                                snr_db=link[3], snr_ul_db=link[4], **out)
    _coverage.coverage_kernel(*args[:7], outputs, *args[8:])
    kind = "target" if "target_error_m" in objective else "budget"
    want = coverage.best_scheme_codes(out["capacity_bps"], out["error_m"],
                                      out["feasible"].astype(bool),
                                      Objective(kind, next(iter(objective.values()))))
    got = frame.best_scheme.cat.codes.to_numpy()
    assert np.array_equal(got, np.where(want < 0, 2, want))
    assert len(set(got)) == 3 or kind == "budget"   # every outcome appears in the target cases


def test_groups_of_blocks_do_not_change_results(monkeypatch):
    sites, x, y = sites_and_points(4, 150, 40_000, extent=1.5e4)
    frame, args = captured_call(monkeypatch, sites=sites, x_m=x, y_m=y, prune=True)
    results = []
    for per_group in (1, 3, 16):
        n, n_p = x.size, 2
        link = [np.empty(n, np.int32)] + [np.empty(n) for _ in range(4)]
        out = {"capacity_bps": np.empty((n_p, n)), "error_m": np.empty((n_p, n)),
               "loc_share": np.empty((n_p, n)), "feasible": np.empty((n_p, n), np.int8)}
        best = np.empty(n, np.int16)
        outputs = _coverage.Outputs(serving=link[0], distance_m=link[1], theta_deg=link[2],
                                    snr_db=link[3], snr_ul_db=link[4], best=best, **out)
        a = list(args)
        a[7], a[-2] = outputs, per_group
        _coverage.coverage_kernel(*a)
        results.append((link, out, best))
    for link, out, best in results[1:]:
        for got, want in zip(link, results[0][0]):
            assert np.array_equal(got, want)
        for key in out:
            assert np.array_equal(out[key], results[0][1][key])
        assert np.array_equal(best, results[0][2])
    assert np.array_equal(results[0][0][0], frame.serving_cell.to_numpy())


def test_tile_order_is_a_permutation_in_compact_groups():
    rng = np.random.default_rng(5)
    x, y = np.meshgrid(np.arange(700.0), np.arange(300.0))
    x, y = x.ravel(), y.ravel()
    perm = rng.permutation(x.size)
    x, y = x[perm], y[perm]
    order = coverage.tile_order(x, y)
    assert np.array_equal(np.sort(order), np.arange(x.size))
    group = coverage.BLOCK_SIZE * coverage.TILE_GROUP ** 2
    spans = []
    for s in range(0, x.size, group):
        idx = order[s:s + group]
        spans.append((np.ptp(x[idx]) + 1) * (np.ptp(y[idx]) + 1) / idx.size)
    # a group covers about its own area: bounding boxes at most a few times the points
    assert np.median(spans) < 2.0
    assert np.mean(np.array(spans) < 4.0) > 0.8   # those across a super-row edge are wide


def test_plan_rows_come_from_resource_plan_fields():
    fields = {f.name for f in dataclasses.fields(ResourcePlan)}
    own = [r for r in coverage.KERNEL_PLAN_ROWS if r not in coverage.DERIVED_PLAN_ROWS]
    assert set(own) <= fields
    assert len(coverage.KERNEL_PLAN_ROWS) == len(own) + len(coverage.DERIVED_PLAN_ROWS)
    assert coverage.KERNEL_PLAN_ROWS[0] == "loc_share"


def test_extension_types_refuse_inconsistent_arrays():
    one = np.ones(3)
    cell_kw = dict(x=one, y=one, ux=one, uy=one, eirp_dbm=one, dh2=one, dz=one, cos_tilt=one,
                   sin_tilt=one, etilt=one, pattern=0, k_pattern=1.0, a_max=30.0,
                   k_vertical=1.0, sla_v=30.0, shifts=np.zeros((1, 2)))
    _coverage.CellTable(**cell_kw)
    with pytest.raises(ValueError, match="dz: expected 3"):
        _coverage.CellTable(**{**cell_kw, "dz": np.ones(2)})
    with pytest.raises(ValueError, match="shifts"):
        _coverage.CellTable(**{**cell_kw, "shifts": np.zeros((8, 2))})
    with pytest.raises(ValueError, match="linear search needs weights"):
        _coverage.CellTable(**{**cell_kw, "linear": _coverage.LINEAR_ORDER})
    with pytest.raises(ValueError, match="pattern"):
        _coverage.CellTable(**{**cell_kw, "pattern": 3})
    rows = len(_coverage.PLAN_ROWS)
    _coverage.PlanTable(np.array([0, 2]), np.ones((rows, 2)), np.array([0]))
    with pytest.raises(ValueError, match="offset"):
        _coverage.PlanTable(np.array([0, 2, 2]), np.ones((rows, 2)), np.array([0, 0]))
    with pytest.raises(ValueError, match="data: expected shape"):
        _coverage.PlanTable(np.array([0, 2]), np.ones((rows - 1, 2)), np.array([0]))
    with pytest.raises(ValueError, match="information"):
        _coverage.RadioSpec(n_symbols=14, noise_dbm=-90.0, interference=False,
                            horizontal_fix=False, n_antennas=one, information=np.ones((3, 3)),
                            ul_offset_db=one, objective=0, objective_value=1.0)
    with pytest.raises(ValueError, match="feasible"):
        _coverage.Outputs(serving=np.empty(4, np.int32), distance_m=np.empty(4),
                          theta_deg=np.empty(4), snr_db=np.empty(4), snr_ul_db=np.empty(4),
                          capacity_bps=np.empty((1, 4)), error_m=np.empty((1, 4)),
                          loc_share=np.empty((1, 4)), feasible=np.empty((1, 3), np.int8))


def test_closed_form_split_is_detected_only_where_it_holds():
    offset, data, _ = coverage._compile_plans(coverage._schemes(("time", "frequency"), None),
                                              RADIO)
    e = data[6] * data[5]
    (t0, t1), (f0, f1) = zip(offset[:-1], offset[1:])
    time_form = _coverage._closed_form(e[t0:t1], data[7, t0:t1])
    assert time_form[0] == 1 and time_form[2] > 0     # whole symbols at one bandwidth
    assert _coverage._closed_form(e[f0:f1], data[7, f0:f1])[0] == 0   # bandwidth varies
    bent = e[t0:t1].copy()
    bent[5] *= 1.001
    assert _coverage._closed_form(bent, data[7, t0:t1])[0] == 0


def test_closed_form_split_equals_bisection(monkeypatch):
    sites, x, y = sites_and_points(6, 40, 30_000)
    kw = dict(sites=sites, x_m=x, y_m=y, schemes=("time",), ue_height_m=1.5)
    for target in (0.05, 0.3, 1.0, 4.0):
        fast = ip.evaluate(target_error_m=target, **kw)
        monkeypatch.setattr(_coverage, "_closed_form", lambda e, b: (0, 0.0, 0.0, 0.0))
        slow = ip.evaluate(target_error_m=target, **kw)
        monkeypatch.undo()
        assert fast.time_loc_share.nunique() > 3
        pd.testing.assert_frame_equal(fast, slow)
