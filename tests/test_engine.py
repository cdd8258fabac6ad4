"""Tiled engines: bit-identical results, Dask, checkpoints, resume after a kill."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from click.testing import CliRunner

import ilac_plan as ip
from ilac_plan.cli import cli
from ilac_plan.engine import CHECKPOINT_DIR

SITES = ip.hexagonal_layout(isd_m=400.0, rings=1)


def plan(**kw):
    return ip.plan(SITES, resolution_m=20.0, target_error_m=0.05, **kw)


def assert_same(a, b):
    assert a.raster.keys() == b.raster.keys()
    for name in a.raster:
        np.testing.assert_array_equal(a.raster[name], b.raster[name], err_msg=name)
    np.testing.assert_array_equal(a.mask, b.mask)


@pytest.fixture(scope="module")
def reference():
    return plan(tile_px=512, n_workers=1)


@pytest.mark.parametrize("kw", [dict(tile_px=16), dict(tile_px=37, n_workers=2),
                                dict(tile_px=64, n_workers=1, n_threads=1)])
def test_tile_size_and_threads_do_not_change_results(reference, kw):
    assert_same(plan(**kw), reference)


@pytest.fixture(scope="module")
def dask_result():
    return plan(tile_px=32, engine="dask", n_workers=2)


@pytest.mark.slow
def test_dask_localcluster_equals_local(reference, dask_result):
    assert_same(dask_result, reference)


@pytest.mark.slow
def test_lost_worker_is_retried(reference):
    """A worker process killed in the middle of the run: its tiles are computed again."""
    import threading

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one():       # once tiles are being computed (the job is scattered)
            deadline = time.time() + 30
            while time.time() < deadline and not any(client.processing().values()):
                time.sleep(0.005)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        threading.Thread(target=kill_one, daemon=True).start()
        result = plan(tile_px=16, engine="dask", scheduler=cluster.scheduler_address)
    assert killed                        # a worker did die during the run ...
    assert_same(result, reference)       # ... and every tile was still computed


def test_checkpoints_resume_only_missing_tiles(reference, tmp_path):
    first = plan(tile_px=24, checkpoint_dir=tmp_path)
    folder = tmp_path / CHECKPOINT_DIR
    files = sorted(folder.glob("tile_*.npz"))
    assert len(files) > 4
    stamps = {f: f.stat().st_mtime_ns for f in files}
    files[1].unlink()
    files[3].unlink()
    time.sleep(0.01)
    second = plan(tile_px=24, checkpoint_dir=tmp_path)
    assert_same(second, first)
    assert_same(second, reference)
    now = {f: f.stat().st_mtime_ns for f in sorted(folder.glob("tile_*.npz"))}
    recomputed = [f.name for f in now if f not in stamps or now[f] != stamps[f]]
    assert recomputed == [files[1].name, files[3].name]


def test_checkpoint_of_another_scenario_is_refused(tmp_path):
    plan(tile_px=24, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="from a different scenario"):
        ip.plan(SITES, resolution_m=25.0, target_error_m=0.05, tile_px=24,
                checkpoint_dir=tmp_path)


def _tiles(tmp_path):
    return sorted((tmp_path / CHECKPOINT_DIR).glob("tile_*.npz"))


def test_tampered_forged_or_damaged_checkpoints_are_recomputed(reference, tmp_path):
    """A checkpoint is trusted only with a valid HMAC under the user's key (kept outside
    the output folder), the job's key, its index and every band's name, type and shape;
    anything else is deleted and computed again, never a traceback."""
    from ilac_plan.engine import _digest, checkpoint_key

    plan(tile_px=24, checkpoint_dir=tmp_path)
    files = _tiles(tmp_path)
    edited, reforged, missing, junk = files[1], files[2], files[3], files[4]
    with np.load(edited) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["snr_db"] = arrays["snr_db"] + 1.0               # edited, HMAC left as it was
    with open(edited, "wb") as fh:
        np.savez(fh, **arrays)
    with np.load(reforged) as data:
        arrays = {k: data[k] for k in data.files}
    meta = str(arrays.pop("__meta__"))
    arrays.pop("__hmac__")
    arrays["time_capacity_bps"][:] = -1234.5               # re-hashed with a guessed key
    with open(reforged, "wb") as fh:
        np.savez(fh, __meta__=np.array(meta),
                 __hmac__=np.array(_digest(b"\0" * 32, meta, arrays)), **arrays)
    with np.load(missing) as data:
        arrays = {k: data[k] for k in data.files if k != "snr_db"}
    meta = str(arrays.pop("__meta__"))
    arrays.pop("__hmac__")                                 # a band missing, re-signed
    with open(missing, "wb") as fh:
        np.savez(fh, __meta__=np.array(meta),
                 __hmac__=np.array(_digest(checkpoint_key(), meta, arrays)), **arrays)
    junk.write_bytes(b"not a zip file")
    result = plan(tile_px=24, checkpoint_dir=tmp_path)
    assert_same(result, reference)
    assert (result.raster["time_capacity_bps"] != -1234.5).all()


def test_planted_links_are_refused_or_replaced(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "o"
    out.mkdir()
    (out / CHECKPOINT_DIR).symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="is a link"):
        plan(tile_px=24, checkpoint_dir=out)
    (out / CHECKPOINT_DIR).unlink()
    plan(tile_px=24, checkpoint_dir=out)
    tile = _tiles(out)[0]
    tile.unlink()
    tile.symlink_to(target)                       # a tile replaced by a link elsewhere
    plan(tile_px=24, checkpoint_dir=out)
    assert target.read_text() == "keep me" and not tile.is_symlink()


def _map_args(out):
    return ["map", "-q", "--resolution-m", "5", "--tile-px", "16", "--workers", "1",
            "--no-png", "--out", str(out)]


@pytest.mark.slow
def test_run_killed_and_resumed_equals_uninterrupted(tmp_path):
    exe = shutil.which("ilac-plan")
    assert exe, "the ilac-plan console script is not installed"
    killed = tmp_path / "killed"
    proc = subprocess.Popen([exe, *_map_args(killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    folder = killed / CHECKPOINT_DIR
    deadline = time.time() + 60
    while time.time() < deadline and len(list(folder.glob("tile_*.npz"))) < 5:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(folder.glob("tile_*.npz")))
    assert 5 <= done_before and not (killed / "summary.csv").exists()
    res = CliRunner().invoke(cli, _map_args(killed))
    assert res.exit_code == 0, res.output
    whole = tmp_path / "whole"
    assert CliRunner().invoke(cli, _map_args(whole)).exit_code == 0
    for name in ("summary.csv", "regions.geojson"):
        assert (killed / name).read_bytes() == (whole / name).read_bytes(), name
    import rasterio

    with rasterio.open(killed / "coverage.tif") as a, rasterio.open(whole / "coverage.tif") as b:
        np.testing.assert_array_equal(a.read(), b.read())
    assert not (killed / CHECKPOINT_DIR).exists()     # removed after the successful run


def test_cli_refuses_a_mismatched_checkpoint(tmp_path):
    out = tmp_path / "o"
    args = ["map", "-q", "--no-png", "--no-geotiff", "--out", str(out), "--keep-checkpoints"]
    assert CliRunner().invoke(cli, args + ["--resolution-m", "40"]).exit_code == 0
    assert (out / CHECKPOINT_DIR / "job.json").exists()
    res = CliRunner().invoke(cli, args + ["--resolution-m", "50"])
    assert res.exit_code == 2 and "from a different scenario" in res.stderr


@pytest.mark.slow
def test_streamed_outputs_equal_the_in_memory_ones(tmp_path):
    import json

    import rasterio

    base = ["map", "-q", "--resolution-m", "10", "--tile-px", "48", "--out"]
    assert CliRunner().invoke(cli, base + [str(tmp_path / "s"), "--stream"]).exit_code == 0
    assert CliRunner().invoke(cli, base + [str(tmp_path / "m"), "--in-memory"]).exit_code == 0
    assert sorted(os.listdir(tmp_path / "s")) == sorted(os.listdir(tmp_path / "m"))
    for name in ("coverage.tif", "best_scheme.tif", "serving_cell.tif"):
        with rasterio.open(tmp_path / "s" / name) as a, rasterio.open(tmp_path / "m" / name) as b:
            assert a.descriptions == b.descriptions
            np.testing.assert_array_equal(a.read(), b.read())
    # exactly the same statistics and regions, not within a tolerance
    for name in ("summary.csv", "schemes.csv", "cells.csv", "cdf.csv", "regions.geojson"):
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "m" / name).read_bytes()
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["streamed"] is True and manifest["grid"]["n_points"] > 40_000


@pytest.mark.slow
def test_streamed_outputs_do_not_depend_on_the_engine(tmp_path):
    base = ["map", "-q", "--stream", "--resolution-m", "10", "--tile-px", "40", "--no-png",
            "--out"]
    runs = {"one": ["--workers", "1"], "pool": ["--workers", "3"],
            "dask": ["--engine", "dask", "--workers", "2"]}
    for name, extra in runs.items():
        res = CliRunner().invoke(cli, base + [str(tmp_path / name)] + extra)
        assert res.exit_code == 0, res.output
    for name in ("summary.csv", "cells.csv", "cdf.csv", "regions.geojson"):
        ref = (tmp_path / "one" / name).read_bytes()
        assert (tmp_path / "pool" / name).read_bytes() == ref, name
        assert (tmp_path / "dask" / name).read_bytes() == ref, name
    import rasterio

    with rasterio.open(tmp_path / "one" / "coverage.tif") as a:
        ref = a.read()
    for name in ("pool", "dask"):
        with rasterio.open(tmp_path / name / "coverage.tif") as b:
            np.testing.assert_array_equal(b.read(), ref)
