"""The ilac-plan command line: outputs, options and one-line errors with exit code 2."""

import os
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

from ilac_plan import __version__, _core
from ilac_plan.cli import cli
from ilac_plan.tradeoff import TRADEOFF_COLUMNS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version_reports_openmp():
    res = run("--version")
    assert res.exit_code == 0
    assert __version__ in res.stdout
    assert ("OpenMP on" if _core.openmp_enabled() else "OpenMP off") in res.stdout


def test_tradeoff_writes_contract_csv_and_figures(tmp_path):
    out, fig2, fig3 = tmp_path / "c.csv", tmp_path / "fig2.png", tmp_path / "fig3.png"
    res = run("tradeoff", "--antennas", "8", "32", "--snr-db", "10", "20", "30",
              "--out", str(out), "--plot", str(fig2), "--loss-plot", str(fig3))
    assert res.exit_code == 0, res.stderr
    df = pd.read_csv(out)
    assert tuple(df.columns) == TRADEOFF_COLUMNS
    assert len(df) == 2 * 3 * (200 + 112)
    assert sorted(df.n_antennas.unique()) == [8, 32]
    for fig in (fig2, fig3):
        assert fig.read_bytes()[:8] == PNG_MAGIC and fig.stat().st_size > 20_000
    assert sorted(os.listdir(tmp_path)) == ["c.csv", "fig2.png", "fig3.png"]


def test_options_reach_the_model(tmp_path):
    res = run("tradeoff", "--snr-db", "15", "--schemes", "frequency", "--bandwidth-hz", "10e6",
              "--symbols", "100", "--approx", "--varsigma", "0", "--gnb-power-dbm", "23")
    assert res.exit_code == 0, res.stderr
    from io import StringIO

    df = pd.read_csv(StringIO(res.stdout))
    assert set(df.scheme) == {"frequency"}
    assert df.loc_bandwidth_hz.max() == 10e6 and (df.loc_symbols == 100).all()
    assert len(df) == 56


def test_comma_and_repeated_values_are_equivalent():
    a = run("tradeoff", "--snr-db", "5,15", "--antennas=4,8", "--schemes", "time")
    b = run("tradeoff", "--snr-db", "5", "--snr-db", "15", "--antennas", "4", "--antennas", "8",
            "--schemes", "time")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == 1 + 4 * 200


@pytest.mark.parametrize("args,field", [
    (["--antennas", "0"], "n_antennas"),
    (["--bandwidth-hz", "nan"], "bandwidth_hz"),
    (["--bandwidth-hz", "-20e6"], "bandwidth_hz"),
    (["--symbols", "0"], "n_symbols"),
    (["--gnb-power-dbm", "nan"], "gnb_power_dbm"),
    (["--ue-power-dbm", "inf"], "ue_power_dbm"),
    (["--varsigma", "-1"], "varsigma"),
    (["--spacing-m", "0"], "spacing_m"),
    (["--theta-deg", "120"], "theta_deg"),
    (["--distance-m", "-5"], "distance_m"),
    (["--schemes", "nope"], "scheme"),
    (["--schemes", "hybrid"], "plan-form"),
    (["--antennas", "x"], "--antennas"),
    (["--plot", "fig.jpg"], "plot file"),
    (["--snr-db", "10", "--distance-m", "100"], "not both"),
    (["--no-such-option"], "--no-such-option"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, field):
    out = tmp_path / "curves.csv"
    res = CliRunner().invoke(cli, ["tradeoff", *args, "--out", str(out)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ilac-plan: error:")
    assert field in lines[0]
    assert "Traceback" not in res.output
    assert os.listdir(tmp_path) == []


def test_unwritable_output_leaves_nothing(tmp_path):
    target = tmp_path / "missing" / "curves.csv"
    res = CliRunner().invoke(cli, ["tradeoff", "--out", str(target)])
    assert res.exit_code == 2 and "--out" in res.stderr and "no such folder" in res.stderr
    assert os.listdir(tmp_path) == []


def test_console_script_exit_code_without_traceback(tmp_path):
    exe = shutil.which("ilac-plan")
    if exe is None:
        pytest.fail("the ilac-plan console script is not installed")
    proc = subprocess.run([exe, "tradeoff", "--antennas", "0"], capture_output=True, text=True,
                          cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ilac-plan: error: n_antennas must be an integer >= 1 and <= 65536; got 0 (element 0)"]
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and __version__ in proc.stdout



@pytest.mark.parametrize("command", [["validate", "--trials", "100"], ["tradeoff"]])
def test_plot_without_matplotlib_is_one_line_before_any_work(command, tmp_path, monkeypatch):
    """--plot with matplotlib missing: exit 2, one line saying how to install it, and
    nothing written (validate used to run for a minute and end in a traceback)."""
    import sys as _sys

    for name in [m for m in _sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(_sys.modules, name)
    monkeypatch.setitem(_sys.modules, "matplotlib", None)     # import matplotlib fails
    out = tmp_path / "out.json"
    args = [*command, "--plot", str(tmp_path / "p.png")]
    if command[0] == "validate":
        args += ["--out", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert "pip install 'ilac-plan[plot]'" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())
