"""ilac-plan map and ilac_plan.plan: inputs, regions, outputs and one-line errors."""

import json
import os
import textwrap

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from coverage_reference import reference_evaluate

import ilac_plan as ip
from ilac_plan.cli import cli
from ilac_plan.errors import ParameterError
from ilac_plan.layouts import hex_site_positions, wrap_around
from ilac_plan.scenario import load_scenario

OUTPUTS = ["best_scheme.tif", "best_scheme.tif.aux.xml", "cdf.csv", "cells.csv", "coverage.tif",
           "manifest.json", "map.png", "regions.geojson", "regions.gpkg", "scenario.toml",
           "schemes.csv", "serving_cell.tif", "serving_cell.tif.aux.xml", "sites.csv",
           "summary.csv"]


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def default_map(tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "demo"
    res = run("map", "--out", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    return out


def test_default_map_writes_every_file(default_map):
    assert sorted(os.listdir(default_map)) == OUTPUTS
    manifest = json.loads((default_map / "manifest.json").read_text())
    assert manifest["ilac_plan_version"] == ip.__version__
    assert manifest["grid"]["n_points"] > 100_000
    assert manifest["working_crs"] == "EPSG:32633"
    assert manifest["inputs"]["radio"]["carrier_hz"] == 2.6e9
    assert manifest["inputs"]["propagation"]["params"] == {"min_distance_m": 1.0}
    assert {p["distribution"] for p in manifest["plugins"]} >= {"ilac-plan"}
    assert {"numpy", "shapely", "GDAL"} <= set(manifest["versions"])
    summary = pd.read_csv(default_map / "summary.csv")
    assert list(summary.scheme) == ["time", "frequency", "infeasible"]
    assert list(summary.columns) == ["scheme", "area_fraction", "mean_capacity_bps",
                                     "p5_capacity_bps", "median_error_m", "p95_error_m",
                                     "area_m2", "mean_loc_share"]
    assert summary.area_fraction.sum() == pytest.approx(1.0, abs=1e-12)


def test_geotiff_bands_and_georeference(default_map):
    import rasterio

    with rasterio.open(default_map / "coverage.tif") as src:
        assert src.descriptions[0] == "snr_db"
        assert "time_capacity_bps" in src.descriptions and "frequency_error_m" in src.descriptions
        assert "time_loc_share" in src.descriptions
        assert src.res == (5.0, 5.0) and src.crs.to_epsg() == 32633
        assert set(src.dtypes) == {"float32"}
        assert src.units[src.descriptions.index("time_capacity_bps")] == "bit/s"
    with rasterio.open(default_map / "best_scheme.tif") as src:
        assert src.dtypes[0] == "uint8" and src.nodata == 255
        band = src.read(1)
        assert set(np.unique(band)) <= {0, 1, 2, 255} and (band == 255).any()
        assert src.colormap(1)[0][:3] == (0x1b, 0x9e, 0x77)        # time, whatever the order


@pytest.fixture(scope="module")
def toy():
    sites = pd.DataFrame({"cell_id": ["A", "B"], "x_m": [0.0, 700.0], "y_m": [0.0, 200.0],
                          "azimuth_deg": [80.0, 250.0], "n_antennas": [8, 32],
                          "power_dbm": [20.0, 23.0], "height_m": [0.0, 0.0]})
    area = shapely.Polygon([(-300, -400), (1000, -400), (1000, 600), (-300, 600)]).difference(
        shapely.Point(350, 100).buffer(120))
    result = ip.plan(sites, area, resolution_m=10.0, target_error_m=0.2, ue_height_m=0.0,
                     tile_px=32)
    return sites, area, result


def test_regions_partition_the_area(toy):
    _, area, result = toy
    regions = result.regions
    geoms = list(regions.geometry)
    assert all(g.is_valid for g in geoms)
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert geoms[i].intersection(geoms[j]).area < 1e-6
    total = sum(g.area for g in geoms)
    res = result.grid.resolution_m
    assert total == pytest.approx(result.mask.sum() * res**2, rel=1e-12)
    boundary = shapely.boundary(area)
    g = result.grid
    rows, cols = np.meshgrid(np.arange(g.ny), np.arange(g.nx), indexing="ij")
    x, y = g.centres(rows, cols)
    boxes = shapely.box(x - res / 2, y - res / 2, x + res / 2, y + res / 2)
    n_boundary = int(shapely.intersects(boxes, boundary).sum())
    assert abs(total - area.area) <= n_boundary * res**2


def test_best_scheme_inside_each_polygon_matches_the_raster(toy):
    _, _, result = toy
    rng = np.random.default_rng(0)
    for _, row in result.regions.iterrows():
        geom = row.geometry
        x0, y0, x1, y1 = geom.bounds
        x, y = rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)
        inside = shapely.contains_xy(geom, x, y)
        assert inside.sum() > 10
        assert (result.best_scheme_at(x[inside], y[inside]) == row.scheme).all()


def test_toy_map_agrees_with_a_direct_computation(toy):
    sites, _, result = toy
    g = result.grid
    rows = np.array([3, 20, 40, 55, 70, 90])
    cols = np.array([5, 40, 90, 20, 120, 60])
    keep = result.mask[rows, cols]
    rows, cols = rows[keep], cols[keep]
    x, y = g.centres(rows, cols)
    ref = reference_evaluate(sites, x, y, radio=ip.RadioParams(), target_error_m=0.2,
                             antenna="3gpp")
    # plan rasters are float32, as in the GeoTIFFs: within two float32 roundings
    np.testing.assert_array_equal(result.raster["serving_cell"][rows, cols], ref["serving_cell"])
    for s in ("time", "frequency"):
        np.testing.assert_allclose(result.raster[f"{s}_capacity_bps"][rows, cols],
                                   ref[f"{s}_capacity_bps"], rtol=2.4e-7)
        np.testing.assert_allclose(result.raster[f"{s}_error_m"][rows, cols],
                                   ref[f"{s}_error_m"], rtol=2.4e-7)
    assert [result.classes[c] for c in result.raster["best_scheme"][rows, cols]] == \
        list(ref["best_scheme"])


def test_lonlat_and_metres_give_the_same_map(tmp_path):
    import pyproj

    crs = "EPSG:32633"
    sites = ip.hexagonal_layout(isd_m=400, rings=1)
    sites["x_m"] += 500_000.0
    sites["y_m"] += 5_300_000.0
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        sites.x_m.to_numpy(), sites.y_m.to_numpy())
    metric = sites.copy()
    metric.to_csv(tmp_path / "metric.csv", index=False)
    ll = sites.drop(columns=["x_m", "y_m"]).assign(longitude=lon, latitude=lat)
    ll.rename(columns={"azimuth_deg": "bearing", "power_dbm": "tx_power_dbm",
                       "cell_id": "name"}).to_csv(tmp_path / "lonlat.csv", index=False)
    a = ip.read_sites(tmp_path / "metric.csv")
    b = ip.read_sites(tmp_path / "lonlat.csv", crs=crs)
    assert b.attrs["renamed"] == {"bearing": "azimuth_deg", "tx_power_dbm": "power_dbm",
                                  "name": "cell_id", "longitude": "lon_deg",
                                  "latitude": "lat_deg"}
    assert b.attrs["crs"] == crs and list(b.cell_id) == list(a.cell_id)
    np.testing.assert_allclose(b.x_m, a.x_m, atol=1e-6)
    np.testing.assert_allclose(b.y_m, a.y_m, atol=1e-6)
    area = ip.area.default_area(a)
    ra = ip.plan(a, area, resolution_m=20.0)
    rb = ip.plan(b, area, resolution_m=20.0)
    np.testing.assert_array_equal(ra.raster["best_scheme"], rb.raster["best_scheme"])
    np.testing.assert_allclose(ra.raster["snr_db"], rb.raster["snr_db"], rtol=2.4e-7)
    # with a CRS, the regions are written in lon/lat
    assert ra.crs is None and rb.crs == crs
    rb.to_geojson(tmp_path / "r.geojson")
    feature = json.loads((tmp_path / "r.geojson").read_text())["features"][0]
    centre = shapely.geometry.shape(feature["geometry"]).centroid
    assert 14 < centre.x < 16 and 47 < centre.y < 49


def test_layouts():
    x, y = hex_site_positions(500.0, 2)
    assert x.size == 19 and np.hypot(x[1], y[1]) == pytest.approx(500.0)
    sites = ip.hexagonal_layout(isd_m=500.0, rings=2, sectors=3)
    assert len(sites) == 57 and sites.site_id.nunique() == 19
    assert sorted(sites.azimuth_deg.unique()) == [30.0, 150.0, 270.0]
    wrapped = wrap_around(sites, 500.0, 2)
    assert len(wrapped) == 7 * 57
    shifts = np.hypot(wrapped.x_m[57::57] - sites.x_m[0], wrapped.y_m[57::57] - sites.y_m[0])
    assert np.allclose(shifts, 500.0 * np.sqrt(19))  # the 19-site cluster's repeat distance
    a = ip.poisson_layout(4.0, (0, 0, 3000, 2000), seed=7)
    b = ip.poisson_layout(4.0, (0, 0, 3000, 2000), seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a.x_m.between(0, 3000).all() and len(a) % 3 == 0


def test_wrap_around_serves_edges_from_the_copies():
    sites = ip.hexagonal_layout(isd_m=500.0, rings=1, n_antennas=8)
    area = ip.area.default_area(sites)
    plain = ip.plan(sites, area, resolution_m=25.0)
    wrapped = ip.plan(sites, area, resolution_m=25.0, wrap_around={"isd_m": 500.0, "rings": 1})
    assert wrapped.raster["serving_cell"].max() < len(sites)
    assert (wrapped.raster["serving_cell"][wrapped.mask] !=
            plain.raster["serving_cell"][plain.mask]).any()


def test_scenario_file(tmp_path):
    pd.DataFrame({"cell": ["c1", "c2"], "x": [0, 600], "y": [0, 0], "azimuth": [90, 270],
                  "antennas": [8, 8], "power": [20, 20]}).to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "area.wkt").write_text("POLYGON ((-200 -300, 800 -300, 800 300, -200 300, "
                                       "-200 -300))")
    (tmp_path / "city.toml").write_text(textwrap.dedent('''
        name = "two cells"
        [radio]
        bandwidth_hz = 10e6
        [sites]
        file = "s.csv"
        [area]
        file = "area.wkt"
        [grid]
        resolution_m = 20.0
        [objective]
        max_capacity_loss = 0.1
        [schemes]
        names = ["frequency"]
    '''))
    scenario = load_scenario(tmp_path / "city.toml")
    assert scenario.radio_params().bandwidth_hz == 10e6
    res = run("map", "--scenario", str(tmp_path / "city.toml"), "--out", str(tmp_path / "o"),
              "--quiet", "--no-png", "--no-geotiff")
    assert res.exit_code == 0, res.output
    # no CRS: no GeoJSON (WGS 84 by definition), and the run says why
    assert sorted(os.listdir(tmp_path / "o")) == ["cdf.csv", "cells.csv", "manifest.json",
                                                 "regions.gpkg", "scenario.toml", "schemes.csv",
                                                 "sites.csv", "summary.csv"]
    assert "no geojson written: the plan has no CRS" in res.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["inputs"]["objective"]["max_capacity_loss"] == 0.1
    assert [s["role"] for s in manifest["inputs"]["sources"]] == ["sites", "area"]
    assert manifest["inputs"]["sources"][0]["sha256"] == __import__("hashlib").sha256(
        (tmp_path / "s.csv").read_bytes()).hexdigest()
    assert manifest["grid"]["resolution_m"] == 20.0


BAD = {
    "malformed_csv": ("sites", '"cell_id,x_m\n"A,"1,2\n', r"sites: cannot read sites.csv: "),
    "missing_column": ("sites", "cell_id,x_m,y_m,azimuth_deg,n_antennas\nA,0,0,90,8\n",
                       "missing column power_dbm"),
    "nan": ("sites", "cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,90,8,20\n"
                     "B,10,,90,8,20\n", r"sites.csv line 3 \(cell_id 'B'\), column y_m: "
                                        "must be a number; got empty"),
    "azimuth": ("sites", "cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,400,8,20\n",
                r"column azimuth_deg: must be a number in \[0, 360\]; got 400"),
    "duplicate": ("sites", "cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,90,8,20\n"
                           "A,5,0,90,8,20\n", "column cell_id: duplicate 'A'"),
    "self_intersecting": ("area", "POLYGON ((0 0, 100 100, 100 0, 0 100, 0 0))",
                          "area polygon is not valid: Self-intersection"),
    "misses_sites": ("area", "POLYGON ((5000 5000, 6000 5000, 6000 6000, 5000 6000, 5000 5000))",
                     "no site lies in or within 2000 m of the planning area"),
}
GOOD_SITES = "cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\nA,0,0,90,8,20\nB,400,0,270,8,20\n"


def assert_one_line_exit_2(res, pattern, out):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ilac-plan: error:"), res.stderr
    import re

    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in res.output
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_one_line_nothing_partial(case, tmp_path):
    kind, text, pattern = BAD[case]
    (tmp_path / "sites.csv").write_text(text if kind == "sites" else GOOD_SITES)
    args = ["map", "--sites", str(tmp_path / "sites.csv"), "--quiet"]
    if kind == "area":
        (tmp_path / "area.wkt").write_text(text)
        args += ["--area", str(tmp_path / "area.wkt")]
    out = tmp_path / "out"
    assert_one_line_exit_2(run(*args, "--out", str(out)), pattern, out)


@pytest.mark.parametrize("args,pattern", [
    (["--resolution-m", "0.05", "--max-points", "100000"],
     r"needs [\d,]+ grid points over the area; the limit is max_points = 100,000"),
    (["--schemes", "no_such_scheme"], "unknown scheme 'no_such_scheme'; available: time, "),
    (["--resolution-m", "-5"], r"grid.resolution_m: Input should be greater than 0 \(got -5.0\)"),
    (["--target-error-m", "1", "--max-capacity-loss", "0.1"], "not both"),
    (["--propagation", "moon"], "unknown propagation model 'moon'; available: free_space"),
    (["--scheme-param", "dl_fraction=0.5"], "expected SCHEME.KEY=VALUE"),
    (["--scheme-param", "time.x"], "expected SCHEME.KEY=VALUE"),
    (["--schemes", "time", "--scheme-param", "time.nope=1"],
     "time: unknown parameter 'nope'"),
    (["--propagation-param", "reliability"], "expected KEY=VALUE"),
    (["--propagation-param", "nope=1"], "unknown parameter 'nope'"),
])
def test_bad_options(args, pattern, tmp_path):
    out = tmp_path / "out"
    assert_one_line_exit_2(run("map", "--quiet", "--out", str(out), *args), pattern, out)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("map", "--quiet", "--resolution-m", "50", "--out", str(blocker / "sub"))
    assert_one_line_exit_2(res, "cannot write to output folder", blocker / "sub")
    res = run("map", "--quiet", "--resolution-m", "50", "--out", str(blocker))
    assert res.exit_code == 2 and "is a file" in res.stderr
    assert blocker.read_text() == "x"


def test_a_small_area_among_the_sites_is_planned(tmp_path):
    # a 20 m square 150 m from the nearest site, at 5 m pixels: once refused as "not near"
    out, area = tmp_path / "out", tmp_path / "plaza.wkt"
    area.write_text("POLYGON ((140 50, 160 50, 160 70, 140 70, 140 50))")
    (tmp_path / "sites.csv").write_text(GOOD_SITES)
    res = run("map", "--quiet", "--sites", str(tmp_path / "sites.csv"), "--area", str(area),
              "--resolution-m", "5", "--formats", "summary", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["grid"]["n_points"] == 16


@pytest.mark.parametrize("toml,pattern", [
    ("[sites.hexagonal]\norigin_lonlat_deg = [200.0, 10.0]\n",
     r"origin_lonlat_deg: longitude 200 outside \[-180, 180\] deg"),
    ("[sites.hexagonal]\norigin_lonlat_deg = [13.4, 95.0]\n",
     r"origin_lonlat_deg: latitude 95 outside \[-90, 90\] deg"),
    ("[sites.hexagonal]\norigin_lonlat_deg = [13.4, 89.9]\n",
     r"origin_lonlat_deg: latitude 89.9 deg is outside UTM \(-80 to 84 deg\)"),
    ("[grid]\nresolution = 5\n", r"grid.resolution: unknown key \(did you mean 'resolution_m'"),
    ("[radio]\nbandwidth = 2e7\n", r"radio.bandwidth: unknown key \(allowed: carrier_hz"),
    ("[radio]\nbandwidth_hz = -2e7\n", r"radio.bandwidth_hz must be a number >= 1000"),
    ("[objective]\nmax_capacity_loss = 2\n", r"objective.max_capacity_loss: Input should be "
                                             r"less than or equal to 1 \(got 2\)"),
    ("[sites.hexagonal]\nrings = 'two'\n", r"sites.hexagonal.rings: Input should be a valid "
                                           "integer"),
    ("[grid\n", "invalid TOML"),
])
def test_scenario_validation(toml, pattern, tmp_path):
    (tmp_path / "bad.toml").write_text(toml)
    out = tmp_path / "out"
    res = run("map", "--scenario", str(tmp_path / "bad.toml"), "--quiet", "--out", str(out))
    assert_one_line_exit_2(res, pattern, out)


def test_plan_python_surface(tmp_path):
    sites = ip.hexagonal_layout(isd_m=300, rings=0)
    result = ip.plan(sites, resolution_m=10.0, target_error_m=0.1)
    assert set(result.regions.scheme) <= set(result.classes)
    with pytest.raises(ParameterError, match="no CRS"):
        result.to_geojson(tmp_path / "r.geojson")
    result.to_file(tmp_path / "r.gpkg")
    result.to_geotiff(tmp_path / "c.tif")
    assert (tmp_path / "best_scheme.tif").exists()
    result.plot(tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    import pyogrio

    table = pyogrio.read_dataframe(tmp_path / "r.gpkg")
    assert set(table.scheme) == set(result.regions.scheme)
    with pytest.raises(ParameterError, match="exclusions are removed"):
        ip.plan(sites, shapely.box(-50, -50, 50, 50), exclusions=[shapely.box(-60, -60, 60, 60)])



def test_scheme_and_propagation_parameters_from_the_command_line(tmp_path):
    """--scheme-param NAME.KEY=VALUE and --propagation-param KEY=VALUE reach the run, its
    manifest and its scenario.toml (typed as TOML values), like the scenario's params."""
    out = tmp_path / "o"
    res = run("map", "--quiet", "--resolution-m", "40", "--schemes", "time", "--schemes", "tdd",
              "--scheme-param", "tdd.dl_fraction=0.6", "--scheme-param", "tdd.take_from=uplink",
              "--propagation", "uma", "--propagation-param", "reliability=0.9",
              "--propagation-param", "los=\"nlos\"", "--out", str(out))
    assert res.exit_code == 0, res.output
    scenario = load_scenario(out / "scenario.toml")
    assert scenario.schemes.params["tdd"] == {"dl_fraction": 0.6, "take_from": "uplink"}
    assert scenario.propagation.params["reliability"] == 0.9
    assert scenario.propagation.params["los"] == "nlos"
    manifest = json.loads((out / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert "dl_fraction" in text and "0.6" in text and "reliability" in text


def test_geometry_bound_model_parameters_take_the_run_values(tmp_path):
    """A model parameter bound to the run's geometry (UMi's h_bs_m, h_ut_m) that the user
    leaves out takes the sites' height and the UE height, with no warning, and is written
    to the manifest; one the user sets wins, with one warning."""
    out, scenario = tmp_path / "o", tmp_path / "umi.toml"
    scenario.write_text('[propagation]\nmodel = "umi"\nue_height_m = 2.0\n')
    res = run("map", "--quiet", "--scenario", str(scenario), "--resolution-m", "40",
              "--formats", "summary", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "warning" not in res.stderr
    params = json.loads((out / "manifest.json").read_text())["inputs"]["propagation"]["params"]
    assert params["h_bs_m"] == 25.0 and params["h_ut_m"] == 2.0      # the default sites' 25 m
    out = tmp_path / "o2"
    res = run("map", "--quiet", "--resolution-m", "40", "--propagation", "umi",
              "--propagation-param", "h_bs_m=10", "--formats", "summary", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert res.stderr.count("h_bs_m = 10 m is set, but the run's gnb_height_m is 25") == 1
    params = json.loads((out / "manifest.json").read_text())["inputs"]["propagation"]["params"]
    assert params["h_bs_m"] == 10.0


def test_models_command_lists_the_propagation_models():
    res = run("models", "--json")
    assert res.exit_code == 0
    rows = json.loads(res.output)
    names = [r["name"] for r in rows]
    assert names[0] == "free_space" and "uma" in names
    uma = next(r for r in rows if r["name"] == "uma")
    assert uma["distribution"] == "ilac-plan-3gpp"
    assert {p["name"] for p in uma["parameters"]} >= {"los", "reliability"}
    assert uma["drop"] is True and rows[0]["drop"] is False     # free_space has no drop
    table = run("models")
    assert table.exit_code == 0 and "free_space" in table.output
