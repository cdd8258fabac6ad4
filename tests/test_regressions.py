"""Regression tests for defects found in review (each failed before its fix)."""

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
import shapely

import ilac_plan as ip
from ilac_plan.errors import ParameterError
from ilac_plan.model import LogDistanceTerm, PathLossModel
from ilac_plan.scenario import load_scenario, parse_scenario

ONE = pd.DataFrame({"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0], "n_antennas": [8],
                    "power_dbm": [20.0]})


def test_path_loss_model_with_a_gap_is_refused():
    with pytest.raises(ParameterError, match="no term applies from 105 m on"):
        PathLossModel("gap", (LogDistanceTerm(40, 20, 0, 105), LogDistanceTerm(40, 20, 120)))
    with pytest.raises(ParameterError, match="no term applies from 2e.07 m on"):
        PathLossModel("short", (LogDistanceTerm(40, 20, 0, 2e7),))


def test_pruning_stays_exact_when_the_loss_drops_at_an_edge():
    model = PathLossModel("drop", (LogDistanceTerm(60, 20, 0, 100),
                                   LogDistanceTerm(59.97, 20, 100)))
    assert model.drop_db() == pytest.approx(0.03, abs=1e-9) and not model.is_nondecreasing()
    sites = pd.DataFrame({"x_m": [0.0, 0.0], "y_m": [0.0, 199.75], "azimuth_deg": [0.0, 0.0],
                          "n_antennas": [8, 8], "power_dbm": [20.0, 20.0]})
    y = np.array([99.75, 99.8125])
    kw = dict(propagation=model, sector_pattern=False, schemes=())
    full = ip.evaluate(sites, np.zeros(2), y, prune=False, **kw)
    pruned = ip.evaluate(sites, np.zeros(2), y, prune=True, **kw)
    assert full.serving_cell.tolist() == [1, 0]
    pd.testing.assert_frame_equal(pruned, full)


def test_poisson_layout_with_almost_no_sites_is_refused():
    with pytest.raises(ParameterError, match="sites expected over bounds_m"):
        ip.poisson_layout(1e-6, (0, 0, 10, 10), seed=0)


def test_infinite_errors_give_inf_percentiles_not_nan():
    sites = ip.hexagonal_layout(isd_m=300, rings=0, n_antennas=1)
    result = ip.plan(sites, resolution_m=20.0)
    table = result.schemes_table
    assert not table.drop(columns="scheme").isna().any().any()
    assert np.isinf(table.p95_error_m).all()
    summary = result.summary.set_index("scheme")
    assert summary.area_fraction["infeasible"] == 1.0
    assert np.isinf(summary.p95_error_m["infeasible"])
    assert not result.regions.p95_error_m.isna().any()


def test_plan_without_schemes_is_a_clear_error():
    with pytest.raises(ParameterError, match="at least one allocation scheme"):
        ip.plan(ip.hexagonal_layout(rings=0), resolution_m=50.0, schemes=[])


def test_area_file_name_with_parentheses(tmp_path):
    folder = tmp_path / "downloads (1)"
    folder.mkdir()
    path = folder / "area (2).wkt"
    path.write_text("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))")
    assert ip.read_area(str(path)).area == 100.0
    with pytest.raises(ParameterError, match="no such file"):
        ip.read_area(str(folder / "missing (3).geojson"))


def test_long_wkt_exclusion_in_a_scenario(tmp_path):
    ring = ", ".join(f"{200 * math.cos(a):.6f} {200 * math.sin(a):.6f}"
                     for a in np.linspace(0, 2 * np.pi, 40))
    wkt = f"POLYGON (({ring}))"
    assert len(wkt) > 300
    (tmp_path / "s.toml").write_text(textwrap.dedent(f'''
        [sites.hexagonal]
        rings = 0
        [area]
        exclusions = ["{wkt}"]
        [grid]
        resolution_m = 25.0
    '''))
    scenario = load_scenario(tmp_path / "s.toml")
    result = ip.plan(ip.scenario.to_inputs(scenario))
    x, y = result.grid.centres(*np.nonzero(result.mask))
    assert not shapely.contains_xy(shapely.from_wkt(wkt), x, y).any()


def test_empty_objective_table_keeps_the_default_target():
    assert parse_scenario({"objective": {}}).objective.target_error_m == 0.05
    budget = parse_scenario({"objective": {"max_capacity_loss": 0.1}}).objective
    assert budget.target_error_m is None and budget.max_capacity_loss == 0.1


@pytest.mark.parametrize("kw,name", [
    (dict(target_error_m=[1.0, 2.0]), "target_error_m"),
    (dict(ue_height_m=[1.0, 2.0]), "ue_height_m"),
    (dict(propagation_params={"min_distance_m": [1.0, 2.0]}), "free_space.min_distance_m"),
])
def test_arrays_where_one_number_belongs(kw, name):
    with pytest.raises(ParameterError, match=f"{name} must be a single number"):
        ip.evaluate(ONE, [1.0], [1.0], **kw)


def test_skipped_outputs_do_not_leave_old_files(tmp_path):
    from click.testing import CliRunner

    from ilac_plan.cli import cli

    out = tmp_path / "o"
    args = ["map", "-q", "--resolution-m", "40", "--out", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert (out / "map.png").exists()
    assert CliRunner().invoke(cli, args + ["--no-png"]).exit_code == 0
    assert not (out / "map.png").exists() and (out / "regions.geojson").exists()
