"""Regression tests for defects found in review (each failed before its fix)."""

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
import shapely

import ilac_plan as ip
from ilac_plan.errors import IlacWarning, ParameterError
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


# -- found by a review of the planning pipeline and the operator-data readers -------------
DATA = __import__("pathlib").Path(__file__).parent / "data"


def _cli(*args):
    from click.testing import CliRunner

    from ilac_plan.cli import cli

    return CliRunner().invoke(cli, ["map", "-q", *args])


@pytest.mark.slow
def test_a_run_never_deletes_or_overwrites_its_inputs(tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,90,8,20\n"
                     "B,400,0,270,8,20\n")
    res = _cli("--sites", str(sites), "--resolution-m", "40", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert sites.exists()
    api = tmp_path / "api"
    ip.plan(ip.read_sites(sites), resolution_m=40.0).write(api)
    res = _cli("--scenario", str(api / "scenario.toml"), "--out", str(api))
    assert res.exit_code == 0, res.output
    assert (api / "sites.csv").exists()
    res = _cli("--scenario", str(api / "scenario.toml"), "--out", str(api))
    assert res.exit_code == 0, res.output             # and once more


def test_stale_outputs_are_only_those_of_the_previous_run(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "cells.csv").write_text("mine, not ilac-plan's\n")
    res = _cli("--resolution-m", "40", "--formats", "summary", "--out", str(out))
    assert res.exit_code == 0 and (out / "cells.csv").exists()


def test_a_plan_crs_reprojects_the_sites_it_is_given():
    sites = ip.read_sites(DATA / "network.gpkg")                   # EPSG:25833
    a = ip.plan(sites, resolution_m=50.0)
    b = ip.plan(sites, resolution_m=50.0, crs="EPSG:32633")
    lon_a = a.regions.to_crs(4326).total_bounds[0]
    lon_b = b.regions.to_crs(4326).total_bounds[0]
    assert abs(lon_a - lon_b) < 1e-3 and 13.3 < lon_b < 13.5


def test_exclusion_files_are_reprojected_or_refused(tmp_path):
    sites = ip.read_sites(DATA / "network.gpkg")
    area = ip.read_area(str(DATA / "area_25833.gpkg"))
    whole = ip.plan(sites, area, resolution_m=50.0).n_points
    try:             # the same polygon in EPSG:3035: nothing but reprojection slivers left
        left = ip.plan(sites, area, resolution_m=50.0,
                       exclusions=[str(DATA / "area_3035.shp")]).n_points
    except ParameterError as exc:
        assert "no pixel centre" in str(exc) or "nothing is left" in str(exc)
        left = 0
    assert left < 0.02 * whole
    metric = tmp_path / "s.csv"
    metric.write_text("cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,90,8,20\n")
    res = _cli("--sites", str(metric), "--exclude", str(DATA / "area.geojson"), "--out",
               str(tmp_path / "o"))
    assert res.exit_code == 2 and "the plan has no CRS" in res.stderr
    assert not (tmp_path / "o").exists()


def test_web_mercator_is_refused_at_mid_latitudes(tmp_path):
    import geopandas as gpd

    gpd.read_file(DATA / "network.gpkg").to_crs(3857).to_file(tmp_path / "m.gpkg")
    with pytest.raises(ParameterError, match=r"stretches lengths by 1\.6.*EPSG:32633"):
        ip.plan(ip.read_sites(tmp_path / "m.gpkg"), resolution_m=50.0)


def test_utm_zone_across_the_antimeridian():
    from ilac_plan.sites import local_utm_crs

    assert local_utm_crs([179.99, -179.99], [-17.0, -17.0]) in ("EPSG:32760", "EPSG:32701")
    assert local_utm_crs([13.4], [52.5]) == "EPSG:32633"


def test_an_interrupted_first_run_keeps_its_checkpoints(tmp_path):
    from ilac_plan.exports import staged

    out = tmp_path / "new"

    def fill(stage):
        (out / ".ilac-checkpoints").mkdir()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        staged(out, fill)
    assert (out / ".ilac-checkpoints").is_dir()


def test_checkpoints_of_another_tile_size_are_refused_not_a_crash(tmp_path):
    out = tmp_path / "ck"
    args = ["--resolution-m", "25", "--formats", "summary", "--keep-checkpoints", "--out",
            str(out)]
    assert _cli(*args, "--tile-px", "64").exit_code == 0
    res = _cli(*args, "--tile-px", "32")
    assert res.exit_code == 2 and "from a different scenario" in res.stderr


def test_truncated_workbook_is_one_line(tmp_path):
    bad = tmp_path / "t.xlsx"
    bad.write_bytes((DATA / "network.xlsx").read_bytes()[:3000])
    res = _cli("--sites", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "cannot read t.xlsx" in res.stderr
    assert "Traceback" not in res.output


def test_percentile_ranks_are_exact_integers():
    from ilac_plan.stats import _percentile_index, rank_of

    for q in range(101):
        assert int(rank_of(q, 100)) == max(1, q)
        assert _percentile_index(np.ones(100, np.int64), q) == max(1, q) - 1


def test_empty_ids_are_problems_and_na_strings_are_ids(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nNA,0,0,90,8,20\n"
                 ",5,0,90,8,20\n")
    with pytest.raises(ParameterError, match=r"line 3 \(cell_id ''\), column cell_id: must "
                                             "not be empty"):
        ip.read_sites(p)
    p.write_text("cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nNA,0,0,90,8,20\n"
                 "None,5,0,90,8,20\n")
    assert list(ip.read_sites(p).cell_id) == ["NA", "None"]


def test_eirp_alone_out_of_range_names_the_line(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("cell,x,y,azimuth,antennas,EIRP (dBm)\nA,0,0,90,8,150\n")
    with pytest.raises(ParameterError, match=r"s.csv line 2 \(cell_id 'A'\), column eirp_dbm: "
                                             r"gives power_dbm = 150"):
        ip.read_sites(p)


def test_scenario_files_are_utf8_whatever_the_locale(tmp_path):
    (tmp_path / "s.toml").write_bytes('name = "Łódź centrum"\n[grid]\nresolution_m = 50\n'
                                      .encode("utf-8"))
    assert load_scenario(tmp_path / "s.toml").name == "Łódź centrum"


# -- found by a second review: operator exports and CRSs ----------------------------------
def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_lonlat_and_xy_in_one_table_are_checked_against_each_other(tmp_path):
    import pyproj

    lon, lat = 13.40, 52.52
    x, y = pyproj.Transformer.from_crs(4326, 25832, always_xy=True).transform(lon, lat)
    p = _write(tmp_path, "both.csv", f"cell,lon,lat,x,y,azimuth,antennas,power\n"
                                     f"A,{lon},{lat},{x},{y},90,8,20\n")
    with pytest.raises(ParameterError, match="disagree by .* m in EPSG:25833"):
        ip.read_sites(p, crs="EPSG:25833")
    ok = ip.read_sites(p, crs="EPSG:25832")
    assert abs(ok.x_m[0] - x) < 1e-6
    with pytest.warns(IlacWarning, match="positions from lon/lat"):
        assert ip.read_sites(p).attrs["crs"] == "EPSG:32633"


def test_a_point_layers_geometry_wins_over_its_position_columns(tmp_path):
    import geopandas as gpd

    cells = gpd.read_file(DATA / "network.gpkg")
    cells["X"], cells["Y"] = 1.0, 2.0          # stale attribute copies
    cells.to_file(tmp_path / "p.gpkg")
    with pytest.warns(IlacWarning, match="position columns X, Y ignored"):
        got = ip.read_sites(tmp_path / "p.gpkg")
    ref = ip.read_sites(DATA / "network.gpkg")
    np.testing.assert_allclose(got.x_m, ref.x_m)


@pytest.mark.parametrize("crs,pattern", [
    ("EPSG:2065", "axes"),                          # S-JTSK (Ferro) / Krovak: south/west
    ("EPSG:6933", "stretches lengths by"),          # equal-area: areal scale 1, not lengths
])
def test_crs_that_mirror_or_stretch_are_refused(crs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        ip.plan(ip.read_sites(DATA / "network_cp1252.csv", crs=crs), resolution_m=50.0)


def test_column_map_keeps_the_unit_of_the_header(tmp_path):
    p = _write(tmp_path, "w.csv", "cell,x,y,azimuth,antennas,Max Tx Power (W)\nA,0,0,90,8,0.2\n")
    assert ip.read_sites(p).power_dbm[0] == pytest.approx(23.0103, abs=1e-4)
    df = ip.read_sites(p, column_map={"Max Tx Power (W)": "power_dbm"})
    assert df.power_dbm[0] == pytest.approx(23.0103, abs=1e-4)


def test_thousands_separators_in_decimal_comma_files(tmp_path):
    p = _write(tmp_path, "t.csv", "cell;x;y;azimuth;antennas;Tx Power (mW);Carrier (MHz)\n"
                                  "A;1.500,5;0;90;8;1.995;3.500\n")
    df = ip.read_sites(p)
    assert df.x_m[0] == 1500.5 and df.carrier_hz[0] == 3.5e9
    assert df.power_dbm[0] == pytest.approx(10 * np.log10(1995))


def test_extra_id_columns_can_be_ignored_and_sector_numbers_combine(tmp_path):
    p = _write(tmp_path, "ids.csv", "Cell Name,Cell ID,x,y,azimuth,antennas,power\n"
                                    "A1,101,0,0,90,8,20\nA2,102,0,0,210,8,20\n")
    with pytest.raises(ParameterError, match=r'--column-map "Cell ID=-"'):
        ip.read_sites(p)
    assert list(ip.read_sites(p, column_map={"Cell ID": "-"}).cell_id) == ["A1", "A2"]
    q = _write(tmp_path, "sec.csv", "eNodeB Name,Sector,x,y,azimuth,antennas,power\n"
                                    "S1,1,0,0,0,8,20\nS1,2,0,0,120,8,20\nS2,1,500,0,0,8,20\n")
    with pytest.warns(IlacWarning, match="sector numbers"):
        assert list(ip.read_sites(q).cell_id) == ["S1_1", "S1_2", "S2_1"]


def test_a_repeated_header_is_refused(tmp_path):
    p = _write(tmp_path, "d.csv", "cell,x,y,Azimuth(°),Azimuth(°),antennas,power\n"
                                  "A,0,0,90,100,8,20\n")
    with pytest.raises(ParameterError, match=r"the header 'Azimuth\(°\)' appears twice"):
        ip.read_sites(p)


def test_multi_layer_files_need_a_layer(tmp_path):
    import geopandas as gpd

    area = gpd.read_file(DATA / "area_25833.gpkg")
    area.to_file(tmp_path / "two.gpkg", layer="a")
    area.to_file(tmp_path / "two.gpkg", layer="b")
    with pytest.raises(ParameterError, match=r"has 2 layers \(a, b\); choose one with "
                                             "--area-layer"):
        ip.read_area(str(tmp_path / "two.gpkg"))
    assert ip.read_area(str(tmp_path / "two.gpkg"), layer="b").area > 0


def test_float_id_columns_read_as_integers(tmp_path):
    pytest.importorskip("pyarrow")
    pd.DataFrame({"cell_id": [1.0, 2.0], "x_m": [0.0, 400.0], "y_m": [0.0, 0.0],
                  "azimuth_deg": [90.0, 270.0], "n_antennas": [8, 8],
                  "power_dbm": [20.0, 20.0]}).to_parquet(tmp_path / "f.parquet")
    assert list(ip.read_sites(tmp_path / "f.parquet").cell_id) == ["1", "2"]


def test_out_parents_are_created_and_a_named_run_keeps_its_name(tmp_path):
    import json

    out = tmp_path / "a" / "b" / "c"
    res = _cli("--sites", str(DATA / "network.gpkg"), "--resolution-m", "50", "--formats",
               "summary", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["inputs"]["name"] == "network"


def test_csv_line_numbers_count_blank_lines_and_quoted_breaks(tmp_path):
    p = _write(tmp_path, "b.csv", 'cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm,note\n\n'
                                  'A,0,0,90,8,20,"two\nlines"\n\nB,0,0,400,8,20,x\n')
    with pytest.raises(ParameterError, match=r"b.csv line 6 \(cell_id 'B'\), column "
                                             "azimuth_deg"):
        ip.read_sites(p)


def test_title_rows_and_excel_sep_lines_before_the_header(tmp_path):
    p = _write(tmp_path, "t.csv", "sep=;\nNetwork export 2026-12-01;;;;;\n;;;;;\n"
                                  "Cell;X;Y;Azimuth;Antennas;Power\nA;0;0;90;8;20\n"
                                  "B;5;0;90;8;x\n")
    with pytest.raises(ParameterError, match=r"t.csv line 6 \(cell_id 'B'\), column power_dbm"):
        ip.read_sites(p)
    pd.DataFrame([["Export of the RAN planning tool", None, None, None, None, None],
                  [None] * 6,
                  ["Cell", "X", "Y", "Azimuth", "Antennas", "Power"],
                  ["A", 0, 0, 90, 8, 20], ["B", 400, 0, 270, 8, 20]]).to_excel(
        tmp_path / "t.xlsx", index=False, header=False)
    assert list(ip.read_sites(tmp_path / "t.xlsx").cell_id) == ["A", "B"]


def test_silent_nonsense_is_refused(tmp_path):
    sites = ip.hexagonal_layout(isd_m=400.0, rings=1)
    dup = sites.copy()
    dup.insert(1, "x2", dup["x_m"])
    dup.columns = ["x_m" if c == "x2" else c for c in dup.columns]
    with pytest.raises(ValueError, match="column 'x_m' appears twice"):
        ip.plan(dup, resolution_m=50.0)
    degrees = sites.copy()
    degrees["x_m"] = 13.4 + degrees["x_m"] / 1e5
    degrees["y_m"] = 52.5 + degrees["y_m"] / 1e5
    with pytest.raises(ValueError, match="look like degrees"):
        ip.plan(degrees, resolution_m=0.001)
    # an indoor layout a few metres across is metres, not degrees
    small = sites.copy()
    small[["x_m", "y_m"]] = sites[["x_m", "y_m"]] / 100.0
    assert ip.plan(small, resolution_m=1.0).n_points > 0
    with pytest.raises(ValueError, match=r"spacing_m must be a number >= 0.0001 and <= 10 m"):
        ip.RadioParams(spacing_m=1e300)
    toml = tmp_path / "s.toml"
    toml.write_text('[area]\nwkt = "POLYGON((0 0, 1 0, 1 1, 0 0))"\nfile = "a.wkt"\n')
    res = _cli("--scenario", str(toml), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "as a file or as wkt, not both" in res.stderr
    assert not (tmp_path / "o").exists()
