"""Faults: signals at tiles, while writing and mid-swap; full disks; concurrent runs;
links planted in the output folder; what dead runs leave behind.

Every faulty run must end with one line and its exit code, leave the previous outputs as
they were (or no folder, if it created it, unless it holds checkpoints), and the rerun
must give the files of an uninterrupted run, with nothing else left in the folder.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ilac_plan._outdir import FolderLock, clean_stale
from ilac_plan.cli import cli

pytestmark = pytest.mark.slow     # signals, kills and resumes of real runs

DRIVER = Path(__file__).with_name("fault_driver.py")
#: files whose bytes do not depend on when or how the run happened
EXACT = ("summary.csv", "schemes.csv", "cells.csv", "cdf.csv", "regions.geojson",
         "sites.csv")
RASTERS = ("coverage.tif", "best_scheme.tif", "serving_cell.tif")


def _args(out, *extra):
    return ["map", "-q", "--resolution-m", "25", "--tile-px", "16", "--no-png",
            "--out", str(out), *extra]


def _driven(phase, what, out, *extra, timeout=120):
    return subprocess.run([sys.executable, str(DRIVER), phase, what, *_args(out, *extra)],
                          capture_output=True, text=True, timeout=timeout)


def _listing(folder):
    return sorted(os.listdir(folder))


def _fingerprint(folder):
    """What an output set holds, independent of timing (bytes, and raster pixels)."""
    import rasterio

    out = {name: (folder / name).read_bytes() for name in EXACT}
    for name in RASTERS:
        with rasterio.open(folder / name) as ds:
            out[name] = (ds.read().tobytes(), ds.descriptions)
    return out


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted run, streamed (the in-memory one gives the same files)."""
    out = tmp_path_factory.mktemp("whole") / "o"
    res = CliRunner().invoke(cli, _args(out))
    assert res.exit_code == 0, res.output
    return out


def _check_resumed(out, whole, extra=()):
    res = CliRunner().invoke(cli, _args(out, *extra))
    assert res.exit_code == 0, res.output
    assert _listing(out) == _listing(whole)         # no staging, no .part, no checkpoints
    assert _fingerprint(out) == _fingerprint(whole)


CODES = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -9}
QUICK = {("tiles", "SIGINT", "--stream"), ("outputs", "SIGKILL", "--in-memory"),
         ("outputs", "SIGTERM", "--stream")}
CASES = [pytest.param(phase, sig, mode, marks=() if (phase, sig, mode) in QUICK
                      else pytest.mark.slow)
         for phase in ("tiles", "outputs") for sig in CODES
         for mode in ("--stream", "--in-memory")]


@pytest.mark.parametrize("phase, sig, mode", CASES)
def test_signal_then_resume_gives_the_uninterrupted_files(tmp_path, whole, phase, sig, mode):
    out = tmp_path / "new" / "o"
    res = _driven(phase, sig, out, mode)
    assert res.returncode == CODES[sig], res.stderr
    if sig != "SIGKILL":
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ilac-plan: error: interrupted")
        assert "Traceback" not in res.stderr
        # the folder it created stays only for its checkpoints; nothing else in it
        assert _listing(out) == [".ilac-checkpoints"]
        assert any(p.name.startswith("tile_") for p in (out / ".ilac-checkpoints").iterdir())
    assert not (out / "summary.csv").exists()
    _check_resumed(out, whole, (mode,))


@pytest.fixture
def previous(tmp_path, whole):
    """A folder holding the outputs of an earlier run, and their fingerprint."""
    out = tmp_path / "o"
    shutil.copytree(whole, out)
    return out, _fingerprint(out)


def _as_before(out, before, whole):
    """The earlier outputs untouched, and only the checkpoints added."""
    assert _fingerprint(out) == before
    assert _listing(out) == sorted(_listing(whole) + [".ilac-checkpoints"])


def test_interrupted_rerun_keeps_the_previous_outputs(previous, whole):
    out, before = previous
    res = _driven("outputs", "SIGINT", out, "--target-error-m", "0.2")
    assert res.returncode == 130, res.stderr
    _as_before(out, before, whole)


def test_kill_mid_swap_is_rolled_back_by_the_next_run(previous, whole):
    out, before = previous
    res = _driven("swap", "SIGKILL", out, "--target-error-m", "0.2")
    assert res.returncode == -9
    assert any(n.startswith(".ilac-old-") for n in os.listdir(out))      # cut short
    assert any(not (out / n).exists() for n in _listing(whole))     # half swapped
    with FolderLock(out):
        clean_stale(out)
    _as_before(out, before, whole)


def test_signals_are_held_off_during_the_swap(previous, whole):
    out, _ = previous
    res = _driven("swap", "SIGINT", out, "--target-error-m", "0.2")
    # the interrupt arrives once the set is in place: all new files, none of the old
    assert res.returncode == 130
    assert _listing(out) == sorted(_listing(whole) + [".ilac-checkpoints"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["objective"]["target_error_m"] == 0.2


def test_a_failed_rename_puts_the_previous_set_back(previous, whole, monkeypatch):
    import ilac_plan._outdir as outdir

    out, before = previous
    real, moved = os.replace, [0]

    def failing(src, dst):
        if ".ilac-partial-" in str(src):
            moved[0] += 1
            if moved[0] == 4:
                raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(outdir.os, "replace", failing)
    res = CliRunner().invoke(cli, _args(out, "--target-error-m", "0.2"))
    monkeypatch.undo()
    assert res.exit_code == 1 and "Input/output error" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    _as_before(out, before, whole)


def test_full_disk_is_one_line_and_leaves_the_previous_outputs(previous, whole):
    out, before = previous
    res = _driven("outputs", "ENOSPC", out, "--target-error-m", "0.2")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "disk full" in res.stderr and "unchanged" in res.stderr
    _as_before(out, before, whole)


def _tmpfs(path, size):
    """Mount a small tmpfs at ``path`` (needs root and a kernel that allows it)."""
    path.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                        capture_output=True).returncode == 0 if shutil.which("mount") else False
    return ok


@pytest.mark.slow
def test_a_real_full_disk(tmp_path, whole):
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "600k"):
        # no tmpfs here: the simulated ENOSPC above covers the error path
        shutil.rmtree(disk)
        disk.mkdir()
        out = disk / "o"
        res = _driven("outputs", "ENOSPC", out)
        assert res.returncode == 1 and "disk full" in res.stderr
        return
    try:
        out = disk / "o"
        res = subprocess.run([shutil.which("ilac-plan") or "ilac-plan", *_args(out)],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 1, res.stderr
        # one line: libtiff's own "No space left on device" lines are not shown
        assert res.stderr.strip().splitlines() == [res.stderr.strip()], res.stderr
        assert "disk full" in res.stderr
        assert set(os.listdir(out)) <= {".ilac-checkpoints"}
        leftovers = [p.name for p in (out / ".ilac-checkpoints").iterdir()
                     if not p.name.startswith(("tile_", "job.json"))] \
            if (out / ".ilac-checkpoints").exists() else []
        assert leftovers == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _hold_lock(folder):
    """Another process that takes ``folder``'s lock and keeps it (until killed)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from ilac_plan._outdir import FolderLock;"
         f"FolderLock({str(folder)!r}).acquire(); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=folder)    # the installed package, not ./
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_concurrent_runs_on_one_folder_are_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    holder = _hold_lock(out)
    try:
        res = CliRunner().invoke(cli, _args(out))
        assert res.exit_code == 2
        assert f"in use by another ilac-plan run (PID {holder.pid})" in res.stderr
        assert _listing(out) == [".ilac-lock"]           # the holder's; nothing of ours
    finally:
        holder.kill()
        holder.wait()
    # the lock died with its process: the next run goes ahead
    assert CliRunner().invoke(cli, _args(out)).exit_code == 0
    assert ".ilac-lock" not in os.listdir(out)


@pytest.mark.slow
def test_two_identical_runs_started_together(tmp_path, whole):
    out = tmp_path / "o"
    exe = shutil.which("ilac-plan") or "ilac-plan"
    procs = [subprocess.Popen([exe, *_args(out)], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results        # one may be refused, none may fail
    for code, err in results:
        if code == 2:
            assert "in use by another ilac-plan run" in err
    assert _listing(out) == _listing(whole)
    assert _fingerprint(out) == _fingerprint(whole)


def test_what_dead_runs_left_is_cleaned_up(tmp_path, whole):
    out = tmp_path / "o"
    shutil.copytree(whole, out)
    (out / ".ilac-partial-dead1").mkdir()
    (out / ".ilac-partial-dead1" / "coverage.tif").write_bytes(b"x" * 1000)
    (out / ".summary.1a2b3c4d.part.csv").write_text("half")
    (out / ".ilac-checkpoints").mkdir()
    (out / ".ilac-checkpoints" / ".tile_000003.npz.0123456789ab.part").write_bytes(b"half")
    (out / ".department.part").write_text("a user's file")          # not ours: kept
    (out / "notes.txt").write_text("a user's file")
    res = CliRunner().invoke(cli, _args(out))
    assert res.exit_code == 0, res.output
    assert _listing(out) == sorted(_listing(whole) + [".department.part", "notes.txt"])


def test_links_planted_in_the_output_folder_are_refused(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("precious")
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.csv").symlink_to(outside)
    res = CliRunner().invoke(cli, _args(out))
    assert res.exit_code == 2 and "is a link" in res.stderr
    assert outside.read_text() == "precious"
    assert _listing(out) == ["summary.csv"]                 # nothing created
    (out / "summary.csv").unlink()
    (out / ".ilac-lock").symlink_to(outside)
    res = CliRunner().invoke(cli, _args(out))
    assert res.exit_code == 2 and "is a link" in res.stderr
    assert outside.read_text() == "precious"


def test_api_checkpoint_folder_is_locked(tmp_path):
    import ilac_plan as ip

    sites = ip.hexagonal_layout(isd_m=400.0, rings=1)
    out = tmp_path / "ck"
    out.mkdir()
    with FolderLock(out):
        # the same process may nest (the CLI's output folder holds the checkpoints)
        r = ip.plan(sites, resolution_m=50.0, checkpoint_dir=out)
    assert r.n_points > 0 and ".ilac-lock" not in os.listdir(out)
    holder = _hold_lock(out)
    try:
        with pytest.raises(ValueError, match=f"in use by another ilac-plan run .PID {holder.pid}"):
            ip.plan(sites, resolution_m=50.0, checkpoint_dir=out)
    finally:
        holder.kill()
        holder.wait()


def test_streaming_is_chosen_by_the_memory_estimate(tmp_path):
    import dataclasses

    from ilac_plan.grid import GridSpec
    from ilac_plan.scenario import default_scenario, to_inputs

    res = CliRunner().invoke(cli, _args(tmp_path / "a"))
    assert res.exit_code == 0
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["streamed"] is False
    g = manifest["inputs"]["grid"]
    inputs = dataclasses.replace(to_inputs(default_scenario()), tile_px=g["tile_px"],
                                 grid=GridSpec(g["x0_m"], g["y1_m"], g["resolution_m"],
                                               g["nx"], g["ny"]))
    base = inputs.memory_bytes(streamed=True)
    kept = inputs.memory_bytes(streamed=False)
    assert base < kept
    # a bound between the two estimates: the same run is streamed
    gb = f"{(base + kept) / 2 / 2**30:.4f}"
    res = CliRunner().invoke(cli, _args(tmp_path / "b", "--max-memory-gb", gb))
    assert res.exit_code == 0
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["streamed"] is True
    res = CliRunner().invoke(cli, _args(tmp_path / "c", "--max-memory-gb", gb, "--in-memory"))
    assert res.exit_code == 2 and "--in-memory" in res.stderr and "GiB" in res.stderr
    assert not (tmp_path / "c").exists()


def test_work_caps_refuse_before_anything_is_allocated(tmp_path):
    import ilac_plan as ip

    sites = ip.hexagonal_layout(isd_m=400.0, rings=1)
    with pytest.raises(ValueError, match="in memory needs about .* GiB, above max_memory_gb"):
        ip.plan(sites, resolution_m=0.1, max_points=10**9)
    with pytest.raises(ValueError, match="tiles; at most 200,000"):
        ip.plan(sites, resolution_m=0.1, max_points=10**9, tile_px=16)
    with pytest.raises(ValueError, match="tile_px 16384: two tiles in flight need about"):
        ip.plan(sites, resolution_m=0.1, max_points=10**10, tile_px=16384)
    r = ip.plan(sites, resolution_m=50.0, max_memory_gb=0.8)
    assert r.n_points > 0


def test_a_disk_too_small_for_the_rasters_is_refused_first(tmp_path, monkeypatch):
    import collections
    import shutil as sh

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(sh, "disk_usage", lambda p: usage(10**6, 10**6 - 1000, 1000))
    res = CliRunner().invoke(cli, _args(tmp_path / "o"))
    assert res.exit_code == 2 and "GiB are free there" in res.stderr
    assert not (tmp_path / "o").exists()


def test_a_failed_run_removes_only_the_empty_folders_it_created(tmp_path):
    import ilac_plan._outdir as outdir

    parent = tmp_path / "new"
    done = parent / "b"

    def fill_a(stage):
        # meanwhile another run finishes beside it, in the parent this run created
        assert outdir.output_folder_run(done, lambda s: (s / "summary.csv").write_text("b"))
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        outdir.output_folder_run(parent / "a", fill_a)
    assert (done / "summary.csv").read_text() == "b"
    assert not (parent / "a").exists()


def test_the_lock_is_reentrant_in_its_own_thread_only(tmp_path):
    import threading

    errors = []
    with FolderLock(tmp_path):
        with FolderLock(tmp_path):              # the same thread nests
            pass

        def other():
            try:
                FolderLock(tmp_path).acquire()
            except ValueError as exc:
                errors.append(str(exc))

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(errors) == 1 and "in use by another run in this process" in errors[0]
    assert ".ilac-lock" not in os.listdir(tmp_path)


def test_tile_threads_are_capped_by_the_memory_bound(monkeypatch):
    import ilac_plan as ip
    from ilac_plan.inputs import PlanInputs
    from ilac_plan.planner import _workers_within

    inputs = PlanInputs.build(ip.hexagonal_layout(isd_m=500.0, rings=2), resolution_m=2.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)         # a big machine
    n = _workers_within(inputs, 2 * 2**30, "local", None)
    assert 1 <= n < 64
    assert inputs.memory_bytes(streamed=True, n_workers=n) <= 2 * 2**30
    assert _workers_within(inputs, 2 * 2**30, "local", 2) == 2
