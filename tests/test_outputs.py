"""The outputs of ilac-plan map, read back with the tools users open them in.

GDAL through rasterio and pyogrio, geopandas, pandas; every check on files written by
the command line, in memory and streamed.
"""

import json
import math
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import ilac_plan as ip
from ilac_plan.cli import cli
from ilac_plan.exports import SCHEME_COLOURS, parse_formats

rasterio = pytest.importorskip("rasterio")
pyogrio = pytest.importorskip("pyogrio")
gpd = pytest.importorskip("geopandas")

pytestmark = pytest.mark.slow     # every output format of two full runs

FAST = ["--resolution-m", "20", "--tile-px", "64"]
TABLES = ("summary.csv", "schemes.csv", "cells.csv", "cdf.csv")
REGION_FILES = ("regions.geojson", "regions.gpkg", "regions.kml", "regions.fgb",
                "regions.parquet")


def run(*args):
    return CliRunner().invoke(cli, ["map", "-q", *args])


def _all_formats(tmp_path_factory, mode):
    out = tmp_path_factory.mktemp("maps") / mode
    res = run(*FAST, f"--{mode}", "--formats", "all", "--out", str(out))
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    return _all_formats(tmp_path_factory, "stream")


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory):
    return _all_formats(tmp_path_factory, "in-memory")


def test_geotiffs_are_cloud_optimized(streamed):
    from rio_cogeo.cogeo import cog_validate

    for name in ("coverage.tif", "best_scheme.tif", "serving_cell.tif"):
        valid, errors, _ = cog_validate(str(streamed / name), strict=True)
        assert valid, (name, errors)
        with rasterio.open(streamed / name) as src:
            assert src.profile["tiled"], name
            assert bool(src.overviews(1)) == (max(src.width, src.height) > 512), name
            structure = src.tags(ns="IMAGE_STRUCTURE")
            assert structure["COMPRESSION"] in ("ZSTD", "DEFLATE")
            assert structure.get("PREDICTOR") in ("2", "3"), name
            assert src.crs.to_epsg() == 32633


def test_continuous_bands_have_names_and_units(streamed):
    with rasterio.open(streamed / "coverage.tif") as src:
        names = list(src.descriptions)
        assert names == ["snr_db"] + [f"{s}_{q}" for s in ("time", "frequency")
                                      for q in ("capacity_bps", "error_m", "loc_share")]
        assert set(src.dtypes) == {"float32"} and math.isnan(src.nodata)
        assert dict(zip(names, src.units)) == {
            "snr_db": "dB", "time_capacity_bps": "bit/s", "time_error_m": "m",
            "time_loc_share": "1", "frequency_capacity_bps": "bit/s",
            "frequency_error_m": "m", "frequency_loc_share": "1"}
        share = src.read(names.index("time_loc_share") + 1)
        assert np.nanmin(share) >= 0 and np.nanmax(share) <= 1


def _categories(path):
    root = ET.parse(f"{path}.aux.xml").getroot()
    return [c.text for c in root.find("PAMRasterBand").find("CategoryNames")]


def test_categorical_layers(streamed):
    with rasterio.open(streamed / "best_scheme.tif") as src:
        assert src.dtypes == ("uint8",) and src.nodata == 255
        cmap = src.colormap(1)
        assert json.loads(src.tags(1)["categories"]) == ["time", "frequency", "infeasible"]
    assert _categories(streamed / "best_scheme.tif") == ["time", "frequency", "infeasible"]
    assert cmap[0][:3] == tuple(int(SCHEME_COLOURS["time"][i:i + 2], 16) for i in (1, 3, 5))
    with rasterio.open(streamed / "serving_cell.tif") as src:
        assert src.dtypes == ("uint16",) and src.nodata == 65535
        cells = src.read(1)
        tagged = json.loads(src.tags(1)["categories"])
    ids = _categories(streamed / "serving_cell.tif")
    assert ids == list(ip.hexagonal_layout().cell_id) == tagged
    table = pd.read_csv(streamed / "cells.csv")
    served = np.bincount(cells[cells != 65535], minlength=len(ids))
    np.testing.assert_array_equal(table.n_points, served)


def test_colours_follow_the_scheme_name_not_its_position(tmp_path):
    out = tmp_path / "o"
    assert run(*FAST, "--schemes", "frequency", "time", "--formats", "tif",
               "--out", str(out)).exit_code == 0
    with rasterio.open(out / "best_scheme.tif") as src:
        assert json.loads(src.tags(1)["categories"])[:2] == ["frequency", "time"]
        assert src.colormap(1)[1][:3] == (0x1b, 0x9e, 0x77)   # "time", now code 1


def test_regions_geojson_is_rfc7946(streamed):
    doc = json.loads((streamed / "regions.geojson").read_text())
    assert "crs" not in doc                       # RFC 7946: WGS 84 implied
    coords = []
    for f in doc["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        for poly in getattr(geom, "geoms", [geom]):
            assert poly.exterior.is_ccw                       # outer rings counter-clockwise
            assert all(not ring.is_ccw for ring in poly.interiors)
        coords.append(shapely.get_coordinates(geom))
    xy = np.concatenate(coords)
    assert np.all((13.3 < xy[:, 0]) & (xy[:, 0] < 13.5) & (52.4 < xy[:, 1]) & (xy[:, 1] < 52.6))
    assert np.abs(np.round(xy, 7) - xy).max() < 1e-12          # 1e-7 degree precision
    assert np.abs(np.round(xy, 6) - xy).max() > 1e-8           # ... and no coarser
    frame = gpd.read_file(streamed / "regions.geojson")
    assert frame.crs.to_epsg() == 4326
    assert list(frame.scheme) == ["time", "frequency", "infeasible"]


def test_regions_gpkg_in_the_working_crs_partitions_the_area(streamed):
    frame = gpd.read_file(streamed / "regions.gpkg", layer="regions")
    assert frame.crs.to_epsg() == 32633
    summary = pd.read_csv(streamed / "summary.csv")
    assert list(frame.scheme) == list(summary.scheme[summary.area_fraction > 0])
    np.testing.assert_allclose(frame.area, frame.area_m2, rtol=1e-9)
    assert frame.geometry.is_valid.all()
    union = shapely.union_all(frame.geometry.values)
    assert abs(union.area - frame.area.sum()) < 1e-6 * union.area     # no overlaps
    for name in ("regions.fgb", "regions.parquet"):
        other = gpd.read_parquet(streamed / name) if name.endswith("parquet") \
            else gpd.read_file(streamed / name)
        other = other.set_index("scheme").loc[list(frame.scheme)]   # FlatGeobuf: R-tree order
        assert other.crs.to_epsg() == 32633
        assert all(a.equals(b) for a, b in zip(other.geometry, frame.geometry))


def test_kml_has_a_style_per_scheme(streamed):
    kml = (streamed / "regions.kml").read_text()
    frame = pyogrio.read_dataframe(streamed / "regions.kml")
    assert sorted(frame.Name) == ["frequency", "infeasible", "time"]
    # KML colours are aabbggrr
    rgb = SCHEME_COLOURS["time"][1:]
    assert f"{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".lower() in kml.lower()


def test_streamed_and_in_memory_are_identical(streamed, in_memory):
    assert sorted(os.listdir(streamed)) == sorted(os.listdir(in_memory))
    for name in TABLES + REGION_FILES:
        assert (streamed / name).read_bytes() == (in_memory / name).read_bytes(), name
    for name in ("coverage.tif", "best_scheme.tif", "serving_cell.tif"):
        with rasterio.open(streamed / name) as a, rasterio.open(in_memory / name) as b:
            np.testing.assert_array_equal(a.read(), b.read())
        sa, sb = (streamed / name).stat().st_size, (in_memory / name).stat().st_size
        assert abs(sa - sb) <= 0.05 * sb, (name, sa, sb)
    ga = gpd.read_file(streamed / "regions.gpkg")
    gb = gpd.read_file(in_memory / "regions.gpkg")
    assert all(a.equals_exact(b, 0.0) for a, b in zip(ga.geometry, gb.geometry))
    ma = json.loads((streamed / "manifest.json").read_text())
    assert ma["streamed"] is True


def test_scenario_toml_reproduces_the_run(streamed, tmp_path):
    again = tmp_path / "again"
    res = run("--scenario", str(streamed / "scenario.toml"), "--out", str(again))
    assert res.exit_code == 0, res.output
    for name in TABLES + REGION_FILES:      # the GeoPackage's date stamp is fixed too
        assert (again / name).read_bytes() == (streamed / name).read_bytes(), name
    for name in ("coverage.tif", "best_scheme.tif", "serving_cell.tif"):
        with rasterio.open(streamed / name) as a, rasterio.open(again / name) as b:
            np.testing.assert_array_equal(a.read(), b.read())
            assert a.transform == b.transform and a.crs == b.crs


def test_manifest_records_every_resolved_input(streamed):
    m = json.loads((streamed / "manifest.json").read_text())
    inputs = m["inputs"]
    assert inputs["radio"] == ip.RadioParams().to_dict()
    assert inputs["objective"] == {"target_error_m": 0.05, "max_capacity_loss": None}
    assert inputs["schemes"] == {"time": {}, "frequency": {}}
    assert inputs["propagation"]["model"] == "free_space"
    assert inputs["propagation"]["ue_height_m"] == 1.5
    assert m["working_crs"] == "EPSG:32633"
    assert {"ilac-plan", "numpy", "rasterio", "GDAL", "geopandas"} <= set(m["versions"])
    assert set(m["files"]) >= {"coverage.tif", "regions.gpkg", "scenario.toml"}


def test_summary_is_a_partition_and_schemes_cover_the_area(streamed):
    summary = pd.read_csv(streamed / "summary.csv")
    assert list(summary.scheme) == ["time", "frequency", "infeasible"]
    assert summary.area_fraction.sum() == pytest.approx(1.0, abs=1e-12)
    schemes = pd.read_csv(streamed / "schemes.csv")
    assert list(schemes.scheme) == ["time", "frequency"]
    np.testing.assert_allclose(schemes.best_fraction, summary.area_fraction[:2], rtol=1e-12)
    cdf = pd.read_csv(streamed / "cdf.csv")
    assert set(cdf.scheme) == {"time", "frequency", "best"}
    for _, part in cdf.groupby("scheme"):
        assert list(part.percentile) == list(range(101))
        for col in ("capacity_bps", "error_m", "loc_share"):
            assert (np.diff(part[col].to_numpy()) >= 0).all()


@pytest.fixture(scope="module")
def toy():
    sites = ip.hexagonal_layout(isd_m=300, rings=1)
    return ip.plan(sites, resolution_m=8.0, target_error_m=0.04, tile_px=48)


def _inside_bin(reported, exact, rel):
    """The exact value lies in the histogram bin whose upper edge is reported."""
    if np.isinf(exact):
        return np.isinf(reported)
    return exact <= reported * (1 + 1e-12) and reported <= exact * (1 + rel) + 1e-12


def test_percentiles_are_the_exact_ones_to_the_bin(toy):
    r = toy
    m = r.mask
    best = r.raster["best_scheme"][m]
    for code, row in r.summary.iterrows():
        sel = best == code
        if not sel.any():
            continue
        if row.scheme == "infeasible":
            continue
        s = row.scheme
        cap = r.raster[f"{s}_capacity_bps"][m][sel].astype(np.float64)
        err = r.raster[f"{s}_error_m"][m][sel].astype(np.float64)
        assert row.mean_capacity_bps == pytest.approx(cap.mean(), rel=1e-12)
        assert _inside_bin(row.p5_capacity_bps, np.percentile(cap, 5, method="inverted_cdf"),
                           1e-4)
        assert _inside_bin(row.p95_error_m, np.percentile(err, 95, method="inverted_cdf"), 1e-4)
        assert _inside_bin(row.median_error_m, np.percentile(err, 50, method="inverted_cdf"),
                           1e-4)


def test_cells_equal_a_groupby_of_the_raster(toy):
    r = toy
    m = r.mask
    frame = pd.DataFrame({"cell": r.raster["serving_cell"][m], "best": r.raster["best_scheme"][m],
                          "snr": r.raster["snr_db"][m].astype(np.float64)})
    n_s = len(r.schemes)
    idx = np.arange(frame.shape[0])
    caps = np.stack([r.raster[f"{s}_capacity_bps"][m] for s in r.schemes]).astype(np.float64)
    errs = np.stack([r.raster[f"{s}_error_m"][m] for s in r.schemes]).astype(np.float64)
    feasible = frame.best.to_numpy() < n_s
    k = np.where(feasible, frame.best, errs.argmin(axis=0))
    frame["cap"] = np.where(feasible, caps[k, idx], 0.0)
    frame["err"] = errs[k, idx]
    g = frame.groupby("cell")
    cells = r.cells.set_index(r.cells.index)
    served = cells.n_points > 0
    np.testing.assert_array_equal(cells.n_points[served], g.size().to_numpy())
    np.testing.assert_allclose(cells.served_area_m2[served], g.size().to_numpy() * 64.0)
    np.testing.assert_allclose(cells.mean_capacity_bps[served], g.cap.mean().to_numpy(),
                               rtol=1e-12)
    share = frame.assign(time=frame.best == 0).groupby("cell").time.mean().to_numpy()
    np.testing.assert_allclose(cells.time_share[served], share, rtol=1e-12)
    p5 = g.snr.quantile(0.05, interpolation="lower")   # compared to the 0.01 dB bin below
    exact5 = g.snr.apply(lambda v: np.percentile(v, 5, method="inverted_cdf")).to_numpy()
    rep5 = cells.p5_snr_db[served].to_numpy()
    assert ((exact5 <= rep5 + 1e-9) & (rep5 <= exact5 + 0.01 + 1e-9)).all()
    assert p5.size == rep5.size
    exact95 = g.err.apply(lambda v: np.percentile(v, 95, method="inverted_cdf")).to_numpy()
    rep95 = cells.p95_error_m[served].to_numpy()
    assert all(_inside_bin(a, b, 1.1e-3) for a, b in zip(rep95, exact95))


def test_regions_are_cached_and_geodataframes(toy):
    assert toy.regions is toy.regions
    assert isinstance(toy.regions, gpd.GeoDataFrame)
    assert toy.regions.crs is None                        # a table in local metres


def test_to_xarray(toy):
    pytest.importorskip("xarray")
    ds = toy.to_xarray()
    g = toy.grid
    assert ds.sizes == {"y": g.ny, "x": g.nx}
    assert ds.x.values[0] == pytest.approx(g.x0 + g.resolution_m / 2)
    assert ds.y.values[0] == pytest.approx(g.y1 - g.resolution_m / 2)
    np.testing.assert_array_equal(ds.best_scheme.values, toy.raster["best_scheme"])
    assert ds.best_scheme.attrs["flag_meanings"] == "time frequency infeasible"


def test_to_xarray_carries_the_crs(tmp_path):
    pytest.importorskip("rioxarray")
    from ilac_plan.scenario import default_scenario, parse_scenario, to_inputs

    doc = default_scenario().model_dump()
    doc["grid"]["resolution_m"] = 50.0
    result = ip.plan(to_inputs(parse_scenario(doc)))
    ds = result.to_xarray()
    assert ds.rio.crs.to_epsg() == 32633


def test_api_and_cli_share_their_defaults(tmp_path):
    """The built-in layout planned from Python is the map of the default command."""
    out = tmp_path / "cli"
    assert run("--resolution-m", "20", "--formats", "summary", "--out", str(out)).exit_code == 0
    cli_summary = pd.read_csv(out / "summary.csv")
    api = ip.plan(ip.hexagonal_layout(), resolution_m=20.0)
    np.testing.assert_allclose(api.summary.area_fraction, cli_summary.area_fraction, atol=2e-4)
    assert api.inputs.target_error_m == 0.05 and api.inputs.ue_height_m == 1.5


@pytest.mark.parametrize("value,pattern", [
    ("tiff", r"--formats: unknown format 'tiff' \(allowed: tif, gpkg"),
    ("tif,+png", "either a list of formats or"),
    ("+nope", "unknown format 'nope'"),
    ("-tif,-gpkg,-geojson,-cells,-summary,-cdf,-png", "leaves nothing to write"),
    ("-all", "-all leaves nothing to write"),
    ("", "no format given"),
])
def test_bad_formats_are_one_line_and_write_nothing(tmp_path, value, pattern):
    out = tmp_path / "out"
    res = run(*FAST, "--formats", value, "--out", str(out))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), res.stderr
    assert not out.exists()


def test_parse_formats():
    assert parse_formats(None) == ["tif", "gpkg", "geojson", "cells", "summary", "cdf", "png"]
    assert parse_formats(["+kml", "-png", "-tif"]) == ["gpkg", "geojson", "kml", "cells",
                                                       "summary", "cdf"]
    assert parse_formats(["summary", "gpkg"]) == ["gpkg", "summary"]
    assert parse_formats(["-all", "+cdf"]) == ["cdf"]
    with pytest.raises(ip.ParameterError, match="no format given"):
        parse_formats([])


def test_a_scenario_with_no_formats_is_refused(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text("[output]\nformats = []\n")
    out = tmp_path / "out"
    res = run(*FAST, "--scenario", str(scenario), "--out", str(out))
    assert res.exit_code == 2 and "no format given" in res.stderr and not out.exists()
    res = run(*FAST, "--formats", "png", "--no-png", "--out", str(out))
    assert res.exit_code == 2 and "nothing to write" in res.stderr and not out.exists()


def test_map_png_is_decimated(tmp_path):
    import matplotlib.image

    from rio_cogeo.cogeo import cog_validate

    out = tmp_path / "o"
    assert run("--resolution-m", "2", "--formats", "png", "tif", "--out",
               str(out)).exit_code == 0
    with rasterio.open(out / "coverage.tif") as src:        # 1250 px: two overview levels
        assert src.width > 1024 and src.overviews(1) == [2, 4]
    assert cog_validate(str(out / "coverage.tif"), strict=True)[0]
    img = matplotlib.image.imread(out / "map.png")
    assert max(img.shape[:2]) <= 2000
    colours = {tuple(np.round(p[:3] * 255).astype(int)) for p in img.reshape(-1, img.shape[2])[::7]}
    assert (0x1b, 0x9e, 0x77) in colours and (0xd9, 0x5f, 0x02) in colours


def test_a_plan_made_in_python_writes_a_scenario_that_reproduces_it(tmp_path):
    sites = ip.hexagonal_layout(isd_m=300, rings=1)
    area = shapely.Point(10, 20).buffer(700)
    result = ip.plan(sites, area, resolution_m=10.0, target_error_m=0.1,
                     wrap_around={"isd_m": 300, "rings": 1})
    names = result.write(tmp_path / "api")
    assert "sites.csv" in names and "scenario.toml" in names and "regions.gpkg" in names
    assert "regions.geojson" not in names          # local metres: no lon/lat to write
    res = run("--scenario", str(tmp_path / "api" / "scenario.toml"), "--out",
              str(tmp_path / "cli"))
    assert res.exit_code == 0, res.output
    for name in TABLES:
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    with rasterio.open(tmp_path / "api" / "best_scheme.tif") as a, \
            rasterio.open(tmp_path / "cli" / "best_scheme.tif") as b:
        np.testing.assert_array_equal(a.read(), b.read())


def test_png_warm_up_runs_once_and_is_awaited(monkeypatch, tmp_path):
    from ilac_plan import exports

    pytest.importorskip("matplotlib")
    monkeypatch.setattr(exports, "_png_warmup", None)
    import threading

    first = exports.warm_png()
    assert first is not None and first.daemon
    second = exports.warm_png()                    # at most one running
    assert second is first or not first.is_alive()
    assert sum(t.name == "ilac-warm-png" for t in threading.enumerate()) <= 1
    out = tmp_path / "o"                    # write_png joins it before drawing
    assert run(*FAST, "--formats", "png", "--out", str(out)).exit_code == 0
    assert not first.is_alive() and (out / "map.png").stat().st_size > 10_000
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    assert exports.warm_png() is None       # no matplotlib: nothing started, write_png says why


def test_a_plan_across_the_antimeridian_writes_kml_and_its_regions_read_back(tmp_path):
    scenario = tmp_path / "fiji.toml"
    scenario.write_text('name = "fiji"\n[sites.hexagonal]\norigin_lonlat_deg = [179.995, -17.0]\n'
                        "rings = 1\n[grid]\nresolution_m = 20.0\n")
    out = tmp_path / "o"
    res = run("--scenario", str(scenario), "--formats", "geojson", "kml", "gpkg", "--out",
              str(out))
    assert res.exit_code == 0, res.output
    for name in ("regions.kml", "regions.geojson"):
        ll = gpd.read_file(out / name)
        assert ll.geometry.is_valid.all(), name
        west, _, east, _ = ll.total_bounds        # cut at 180 degrees, not wrapped round
        assert west == pytest.approx(-180.0) and east == pytest.approx(180.0), name
        assert (ll.geom_type == "MultiPolygon").all()
    assert not any(p.name.startswith(".") for p in out.iterdir())
    # the plan's own regions (a union valid in lon/lat) as the area of another plan
    again = tmp_path / "again"
    res = run("--scenario", str(scenario), "--area", str(out / "regions.geojson"),
              "--formats", "summary", "--out", str(again))
    assert res.exit_code == 0, res.output
    n = [json.loads((f / "manifest.json").read_text())["grid"]["n_points"] for f in (out, again)]
    assert n[0] == n[1]
