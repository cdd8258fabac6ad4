"""Hostile-user fuzzing: every bad input at every entry point is handled cleanly.

Hypothesis spoils small valid inputs of the command line (option values, whole argument
lists, site tables, area files, TOML scenarios) and of the Python API (``plan``,
``PlanInputs.build``, ``evaluate``, ``read_sites``, ``read_area``, ``tradeoff_curves``,
``RadioParams``). Each case runs in a fresh folder and ends as

accept
    exit code 0, or the call returned;
refuse
    exit code 2 with one ``ilac-plan: error:`` line, the last on stderr (warnings before
    it are fine), or a ``ParameterError`` / ``PluginError`` with a one-line message;

or as a failure: ``traceback`` (an unhandled exception, "internal error" included),
``unclean`` (another exit code, or a refusal that is not one clean line), ``hang`` (still
running after ``CASE_TIMEOUT_S``), ``leftover`` (files left by a refused case, or outside
the outputs of an accepted one) or ``silent`` (accepted, although the input must be
refused, or at least warned about where noted: duplicate columns, lon/lat degrees in
metre columns, a geographic working CRS, booleans or text for numbers, NaN, paths that
leave the scenario's folder, an area given twice, ...).

Every example of a test runs (derandomized, no shrinking); the test then fails with its
distinct failures, each shown with the shortest input that gives it.

Environment
-----------
ILAC_FUZZ_EXAMPLES : int, default 60
    Examples per test (the API test runs eight times as many); ``scripts/fuzz.py``
    raises it.
ILAC_FUZZ_LOG : str, optional
    Append one JSON line per case (test, entry point, input, outcome, detail, seconds).
"""

import contextlib
import csv
import datetime as dt
import faulthandler
import io
import json
import math
import numbers
import os
import re
import signal
import tempfile
import time
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ilac_plan as ip
from ilac_plan.cli import cli
from ilac_plan.errors import ParameterError
from ilac_plan.inputs import PlanInputs
from ilac_plan.plugins import PluginError
from ilac_plan.scenario import load_scenario, to_inputs

EXAMPLES = int(os.environ.get("ILAC_FUZZ_EXAMPLES", "60"))
LOG = os.environ.get("ILAC_FUZZ_LOG")
CASE_TIMEOUT_S = 60
FAILURES = ("traceback", "unclean", "hang", "leftover", "silent")

# -- small valid inputs, each spoiled by the strategies ----------------------------------
SITES_CSV = (b"cell_id,x_m,y_m,azimuth_deg,n_antennas,power_dbm\n"
             b"A,0,0,30,8,43\nB,300,0,150,8,43\nC,150,260,270,8,43\n")
SITES_DF = pd.read_csv(io.BytesIO(SITES_CSV))
BERLIN_CSV = (b"cell_id,lon_deg,lat_deg,azimuth_deg,n_antennas,power_dbm\n"
              b"A,13.41,52.52,30,8,43\nB,13.415,52.52,150,8,43\nC,13.4125,52.523,270,8,43\n")
BOX_LONLAT = [[13.40, 52.51], [13.43, 52.51], [13.43, 52.535], [13.40, 52.535], [13.40, 52.51]]
BOX_UTM = ("POLYGON ((391400 5818950, 393500 5818950, 393500 5821700, 391400 5821700, "
           "391400 5818950))")                         # the same box in EPSG:32633
LOCAL_WKT = "POLYGON ((-400 -400, 700 -400, 700 600, -400 600, -400 -400))"
MAP = ["map", "--resolution-m", "50", "--formats", "summary", "-q", "--out", "out"]
BASELINES = (SITES_CSV, BERLIN_CSV, LOCAL_WKT.encode())        # files not shown in inputs

# -- hostile values ---------------------------------------------------------------------
WORDS = ["-1", "0", "-0", "1e300", "-1e300", "nan", "NaN", "inf", "-inf", "", " ", "abc",
         "true", "false", "yes", "off", "None", "1,5", "0x10", "5e-324", "9" * 40, "-",
         "--out", "é€", "../x", "16", "1"]
ARG_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                   max_size=12)
ARG = st.sampled_from(WORDS) | st.floats().map(str) | st.integers(-2**70, 2**70).map(str) \
    | ARG_TEXT
PY = [True, False, None, 1j, np.datetime64("2024-01-01"), np.timedelta64(5, "s"),
      [[1, 2], [3]], [1, [2, 3]], "5", "abc", "", b"5", math.nan, math.inf, -math.inf, -1, 0,
      1e300, -1e300, 10**400, [], {}, {"a": 1}, (1, 2), {1}, Decimal("5"), Fraction(1, 3),
      dt.date(2020, 1, 1), np.float32("nan"), np.int64(-1), np.bool_(True), pd.NA, object(),
      np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([], float)]
PY_GENERATED = st.floats() | st.integers(-2**80, 2**80) | st.text(max_size=8) \
    | st.lists(st.floats(), max_size=3)
GEOGRAPHIC = ["EPSG:4326", "EPSG:4258", "OGC:CRS84", "+proj=longlat +datum=WGS84"]
CRS = GEOGRAPHIC + ["EPSG:3857", "EPSG:3035", "EPSG:32633", "EPSG:32733", "EPSG:99999",
                    "garbage", "+proj=utm +zone=33 +south", "EPSG:5514", "ESRI:102100"]
TYPED = {  # a column of three values of some type: (values, must be refused)
    "booleans": ([True, False, True], True), "dates": (pd.to_datetime(["2024-01-01"] * 3), True),
    "durations": (pd.to_timedelta([1, 2, 3], "s"), True), "text": (["a", "b", "c"], True),
    "digit text": (["5", "6", "7"], False), "None": ([None] * 3, True),
    "NaN": ([math.nan] * 3, True), "inf": ([math.inf] * 3, True),
    "lists": ([[1], [2], [3]], True), "Decimal": ([Decimal("8")] * 3, False),
    "categories": (pd.Categorical(["a", "b", "a"]), True), "complex": ([1j, 2j, 3j], True),
    "huge ints": ([10**400] * 3, True)}


def _not_number(value):
    """Whether ``value`` is no finite real number (a boolean is none)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, Decimal)):
        return True
    return not isinstance(value, numbers.Integral) and not math.isfinite(value)


def _not_flag(value):
    """Whether ``value`` cannot stand for True or False (None and integers can)."""
    return not isinstance(value, (bool, np.bool_, numbers.Integral, type(None)))


def _outside(low, high=math.inf, low_open=False, integer=False):
    """A rule on option text: True when it is not a (comma-separated list of) number(s)
    in the range, so that the option must refuse it."""
    def outside(text):
        try:
            values = [int(t) if integer else float(t) for t in str(text).split(",") if t]
        except ValueError:
            return True
        return not values or any(not ((isinstance(v, int) or math.isfinite(v)) and (
            v > low if low_open else v >= low) and v <= high) for v in values)
    return outside


# -- running and judging one case -----------------------------------------------------------
class _Hang(BaseException):
    """The alarm at CASE_TIMEOUT_S (not an Exception: no code under test catches it)."""


def _ring(signum, frame):
    raise _Hang()


_SEEN = {}          # (entry, input, files) -> record: each distinct case runs once


def _log(record):
    if LOG:
        with open(LOG, "a") as fh:
            fh.write(json.dumps(record) + "\n")


def _run(entry, shown, call, classify, files, outputs):
    """Run ``call()`` in a fresh ``ROOT/work`` folder holding ``files``, within
    CASE_TIMEOUT_S, and record its outcome.

    ``classify`` maps what ``call`` returned or raised to ``(outcome, detail)``. An
    accepted case may create ``outputs`` (relative to ``work``; ``..`` allows anything)
    but no ``.ilac-*`` files in them; a refused case may create nothing.
    """
    key = (entry, shown, tuple(sorted(files.items())))
    if key in _SEEN:
        return _SEEN[key]
    case = f"{os.getpid()}-{len(_SEEN)}"
    _log({"case": case, "entry": entry, "input": shown[:400], "outcome": "pending"})  # a crash
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ilac-fuzz-") as tmp, \
            warnings.catch_warnings(record=True):
        warnings.simplefilter("always")                   # warnings as a user sees them
        root = Path(tmp)
        for name, data in {**files, "sub/.keep": b""}.items():
            (root / "work" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "work" / name).write_bytes(data)
        before = set(root.rglob("*"))
        previous = signal.signal(signal.SIGALRM, _ring)
        faulthandler.dump_traceback_later(3 * CASE_TIMEOUT_S, exit=True)
        try:
            signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT_S)
            with contextlib.chdir(root / "work"):
                outcome, detail = classify(call())
        except _Hang:
            outcome, detail = "hang", f"still running after {CASE_TIMEOUT_S} s"
        except Exception as exc:  # noqa: BLE001 - classified, never lost
            outcome, detail = classify(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            faulthandler.cancel_dump_traceback_later()
        allowed = [os.path.normpath(root / "work" / o) for o in outputs]

        def stray(path):
            inside = any(str(path) == a or str(path).startswith(a + os.sep) for a in allowed)
            return outcome != "accept" or not inside or ".." not in outputs and \
                "/.ilac-" in str(path)

        left = sorted(str(p.relative_to(root)) for p in set(root.rglob("*")) - before if stray(p))
        if left and outcome in ("accept", "refuse"):
            outcome, detail = "leftover", f"{outcome}, but left {', '.join(left[:4])}"
    seconds = time.perf_counter() - t0
    if seconds > CASE_TIMEOUT_S and outcome != "hang":       # the alarm was swallowed
        outcome, detail = "hang", f"{outcome} after {seconds:.0f} s"
    record = {"case": case, "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
              "entry": entry, "input": shown[:400], "outcome": outcome,
              "detail": " ".join(detail.split())[:300], "seconds": round(seconds, 3)}
    _SEEN[key] = record
    _log(record)
    return record


def cli_case(args, files, must="", warn_ok=False, outputs=("out",), entry=None):
    """One ``ilac-plan`` run, in-process. ``must``: why it must be refused (with
    ``warn_ok``, a warning about degrees or lon/lat is enough)."""
    def classify(res):
        if isinstance(res, BaseException):
            return "traceback", f"{type(res).__name__}: {res}"
        exc = None if isinstance(res.exception, (SystemExit, type(None))) else res.exception
        lines = res.stderr.splitlines()
        errors = [ln for ln in lines if ln.startswith("ilac-plan: error:")]
        if exc or "Traceback" in res.stdout + res.stderr or "internal error" in res.stderr:
            return "traceback", f"{type(exc).__name__}: {exc}" if exc else (
                errors or lines or ["a traceback on stdout"])[-1]
        if res.exit_code == 0 and not errors:
            warned = any(ln.startswith("ilac-plan: warning:") and re.search(
                r"degree|lon/lat|longitude|latitude", ln) for ln in lines)
            return ("silent", f"accepted: {must}") if must and not (warn_ok and warned) \
                else ("accept", "")
        clean = res.exit_code == 2 and len(errors) == 1 and lines[-1] == errors[0] and all(
            ln.startswith(("ilac-plan: warning:", "ilac-plan: note:")) for ln in lines[:-1])
        return "refuse" if clean else "unclean", \
            f"exit {res.exit_code}: {' | '.join(lines[-3:]) or '(nothing on stderr)'}"
    shown = " ".join(map(repr, args)) + "".join(f" {n}={d[:200]!r}" for n, d in files.items()
                                                if d not in BASELINES)
    return _run(f"cli {entry or args[0]}", shown, lambda: CliRunner().invoke(cli, args),
                classify, files, outputs)


def api_case(entry, shown, call, files=None, must="", outputs=()):
    """One Python call. ``must``: why it must be refused."""
    def classify(value):
        if isinstance(value, (ParameterError, PluginError)):
            one_line = str(value).strip() and "\n" not in str(value)
            return "refuse" if one_line else "unclean", f"{type(value).__name__}: {value}"
        if isinstance(value, BaseException):
            return "traceback", f"{type(value).__name__}: {value}"
        return ("silent", f"accepted: {must}") if must else ("accept", "")
    return _run(f"api {entry}", shown, call, classify, files or {}, outputs)


def signature(detail):
    """A failure's message without its numbers, quoted values and internal-error preamble
    (failures with the same signature are one failure)."""
    detail = detail.split("shows the traceback): ")[-1]
    return re.sub(r"'[^']*'|\"[^\"]*\"|[-+]?\d[\d.eE+-]*", "#", detail)[:100]


def fuzz(strategy, weight=1):
    """A test that runs ``body(case) -> records`` on every example of ``strategy`` and
    then fails with the distinct failures among the records."""
    def wrap(body):
        def test():
            records = []
            settings(max_examples=EXAMPLES * weight, deadline=None, derandomize=True,
                     database=None, phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])(
                given(strategy)(lambda case: records.extend(body(*case))))()
            worst = {}
            for r in records:
                sig = (r["entry"], r["outcome"], signature(r["detail"]))
                if r["outcome"] in FAILURES and (sig not in worst or len(r["input"]) < len(
                        worst[sig]["input"])):
                    worst[sig] = r
            if worst:
                pytest.fail(f"{len(worst)} distinct failures:\n" + "\n".join(
                    f"- {r['entry']}: {r['outcome']}: {r['detail']}\n    input: {r['input']}"
                    for r in worst.values()), pytrace=False)
        test.__name__, test.__doc__ = body.__name__, body.__doc__
        return test
    return wrap


# -- the command line: option values and argument lists -----------------------------------
RULES = {  # flag: rule on its value (None: no value must be refused), per command
    "map": {"--resolution-m": _outside(0, 1e5, low_open=True),
            "--target-error-m": _outside(0, 1e6, low_open=True),
            "--max-capacity-loss": _outside(0, 1), "--max-memory-gb": _outside(0, low_open=True),
            "--max-points": _outside(1, integer=True), "--workers": _outside(1, integer=True),
            "--tile-px": _outside(16, 16384, integer=True), **dict.fromkeys(
                "--threads --schemes --propagation --antenna --bound --epre --dl-prs --crs "
                "--formats --column-map --encoding --sites-layer --area-layer --exclude --area "
                "--sites --scenario --out --engine --scheduler --in-memory --no-png".split())},
    "tradeoff": {"--antennas": _outside(1, 65536, integer=True), "--snr-db": _outside(-50, 100),
                 "--distance-m": _outside(0, low_open=True), "--theta-deg": _outside(-90, 90),
                 "--spacing-m": _outside(0, low_open=True),
                 "--symbols": _outside(1, 1e6, integer=True),
                 **{"--" + k.replace("_", "-"): _outside(-math.inf) for k in
                    ip.RadioParams.field_names() if k not in ("n_symbols", "spacing_m")},
                 **dict.fromkeys("--schemes --threads --bound --epre --dl-prs --out --plot "
                                 "--loss-plot --approx".split())},
    "validate": {"--trials": _outside(100, integer=True), "--out": None, "--plot": None,
                 "--seed": _outside(0, 2**63 - 1, integer=True)}}
BASE = {"map": MAP, "tradeoff": ["tradeoff", "--out", "t.csv"],
        "validate": ["validate", "--trials", "100", "--out", "r.json"]}
FILES = ["s.csv", "a.wkt", "missing.csv", ".", "sub", "/dev/null", "/etc/passwd", "s.csv/x"]
POOLS = {  # values to try besides ARG (only these for --out and --plot: never "/")
    "--schemes": ["time", "frequency", "tdd", "hybrid", "uplink", "time,time", "nope"],
    "--propagation": ["uma", "free_space", "nope", "umi_los"], "--crs": CRS,
    "--antenna": ["3gpp", "omni"], "--bound": ["achievable"], "--epre": ["equal"],
    "--dl-prs": ["beamformed"], "--engine": ["local", "dask"],
    "--formats": ["all", "+kml", "-png", "tif", "summary,-png", "png"],
    "--scheduler": ["tcp://127.0.0.1:1", "localhost", "tcp://:8786", "http://x:1"],
    "--column-map": ["a=b", "=", "X=x_m", "Cell=-", "x_m=power_dbm"],
    "--encoding": ["utf-16", "rot13", "ascii", "idna", "bogus"],
    "--trials": ["99", "100", "150", "1e3", "-5", "abc", str(10**12), str(2**63)],
    "--out": ["", " ", "s.csv", "sub", "out/deeper/x", "-", "..", "."],
    "--plot": ["p.png", "p.xyz", "sub", "missing/p.png", "p.pdf"],
    "--loss-plot": ["p.png", "p.xyz", "sub"], **dict.fromkeys(
        ["--exclude", "--area", "--sites", "--scenario", "--sites-layer", "--area-layer"], FILES),
    **dict.fromkeys(["--in-memory", "--no-png", "--approx"], [None])}


@st.composite
def option_cases(draw):
    """A command with 1-3 options set to hostile values, why it must be refused, and the
    files it may write."""
    command = draw(st.sampled_from(["map", "map", "tradeoff", "validate"]))
    berlin = command == "map" and draw(st.booleans())        # the built-in scenario
    args = BASE[command] + (["--sites", "s.csv"] if command == "map" and not berlin else [])
    flags = draw(st.lists(st.sampled_from(sorted(RULES[command])), min_size=1, max_size=3,
                          unique=True))
    flags = ["--trials"] + flags[:2] if command == "validate" and "--trials" not in flags \
        else flags
    # --engine dask starts a LocalCluster of --workers processes: never a huge one
    flags = [f for f in flags if f != "--workers" or "--engine" not in flags]
    must = []
    for flag in flags:
        pool = POOLS.get(flag, [])
        finite = flag in ("--out", "--plot", "--loss-plot") or command == "validate"
        value = draw(st.sampled_from(pool or WORDS) if finite else
                     st.sampled_from(pool) | ARG if pool else ARG)
        rule = RULES[command][flag]
        if rule and rule(value) or flag == "--crs" and (
                value in GEOGRAPHIC or berlin and value in ("EPSG:3857", "EPSG:3035")):
            must.append(f"{flag} {value!r}")
        args = args + [flag] + ([] if value is None else [value])
    outputs = {"out", "t.csv", "r.json"} | {v for f, v in zip(args, args[1:]) if f in (
        "--out", "--plot", "--loss-plot") and v}
    return args, "; ".join(must), sorted(outputs)


@fuzz(option_cases())
def test_cli_option_values(args, must, outputs):
    """map, tradeoff and validate with hostile option values."""
    return [cli_case(args, {"s.csv": SITES_CSV, "a.wkt": LOCAL_WKT.encode()}, must,
                     outputs=outputs)]


TOKENS = ["map", "tradeoff", "validate", "schemes", "plugins", "radio", "--help", "-h",
          "--version", "--json", "--snr-db", "--antennas", "--trials", "--sites", "--", "-q",
          "--schemes", "--approx", "--distance-m", "--bound", "=", "--snr-db=", "-x"]


@fuzz(st.lists(st.sampled_from(TOKENS) | ARG, max_size=6).map(lambda a: (a,)))
def test_cli_argument_lists(args):
    """Whole argument lists of commands, flags and junk (no --out: nothing is written)."""
    return [cli_case(args, {"s.csv": SITES_CSV}, outputs=(), entry="argv")]


# -- site tables: ilac-plan map --sites and read_sites -------------------------------------
CELLS = ["", " ", "nan", "NaN", "abc", "true", "None", "1e300", "-1e300", "inf", "-inf",
         "1,5", "0x1F", "١٢", '"', "1e-400", "-0", "65537", "2.5"]
CANON = {"X": "x_m", "Easting": "x_m", "x_m ": "x_m", "x_m\ufeff": "x_m", "LAT (WGS84)": "lat_deg",
         "Tx Power (W)": "power_w", "Azimuth [°]": "azimuth_deg", "eirp": "eirp_dbm",
         "cell": "cell_id", "site": "site_id", "Tx Power (ft)": "power_ft"}
RANGES = {"x_m": (-1e8, 1e8), "y_m": (-1e8, 1e8), "lon_deg": (-180, 180), "lat_deg": (-90, 90),
          "azimuth_deg": (0, 360), "n_antennas": (1, 65536), "power_dbm": (-100, 100),
          "eirp_dbm": (-100, 150), "power_w": (-math.inf, math.inf)}
RAW_SITES = {b"": "empty", b"\n \n\t\n": "blank", b"\xef\xbb\xbf": "only a BOM",
             SITES_CSV.split(b"\n")[0]: "header only", b"x_m,x_m\n1,2\n": "duplicate columns",
             bytes(range(256)) * 4: "binary", b'"cell_id,x_m\n': "unterminated quote",
             b"sep=;\n": "only a sep= line"}


def _site_problems(header, rows):
    """Why a site table cannot be used (an oracle independent of ilac_plan.sites)."""
    canon = [CANON.get(h, h) for h in header]
    found = [] if rows else ["no rows"]
    found += [f"column {h!r} twice" for k, h in enumerate(header) if h.strip() and h in header[:k]]
    found += [f"two columns mean {c}" for k, c in enumerate(canon)
              if (c in RANGES or c == "cell_id") and c in canon[:k]]
    found += ["a power in ft"] if "power_ft" in canon else []
    if not ({"x_m", "y_m"} <= set(canon) or {"lon_deg", "lat_deg"} <= set(canon)) or not {
            "azimuth_deg", "n_antennas"} <= set(canon) or not set(canon) & {
            "power_dbm", "eirp_dbm", "power_w"}:
        found.append("a required column missing")
    for row in rows:
        found += ["more fields than headers"] if any(f.strip() for f in row[len(header):]) else []
        for c, v in zip(canon, row + [""] * len(header)):
            found += ["an empty cell_id"] if c == "cell_id" and not v.strip() else []
            if c in RANGES and v != "1,5":       # 1,5: a decimal comma in ; files
                try:
                    x = float(v)
                except ValueError:
                    x = math.nan
                lo, hi = RANGES[c]
                if not (lo <= x <= hi or c == "power_dbm" and x == -math.inf) or \
                        c == "n_antennas" and x != round(x):
                    found.append(f"{c} = {v!r}")
    ids = [r[canon.index("cell_id")] for r in rows if "cell_id" in canon] \
        if "site_id" not in canon else []
    return found + (["a cell_id twice"] if len(set(ids)) < len(ids) else [])


@st.composite
def typed_sites(draw):
    """A Parquet table or GeoJSON point layer with one column of a hostile type."""
    column = draw(st.sampled_from(["n_antennas", "power_dbm", "azimuth_deg"]))
    kind = draw(st.sampled_from(list(TYPED)[:10]))     # the types both formats store
    values, refuse = TYPED[kind]
    if kind in ("dates", "durations", "Decimal") or draw(st.booleans()):
        buf = io.BytesIO()
        SITES_DF.assign(**{column: values}).to_parquet(buf)
        return "s.parquet", buf.getvalue(), f"{column} as {kind}" if refuse else "", False, "50"
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        13.41 + 0.005 * i, 52.52]}, "properties": {**SITES_DF.iloc[i, [0, 3, 4, 5]].to_dict(),
                                                    column: list(values)[i]}} for i in range(3)]
    doc = json.dumps({"type": "FeatureCollection", "features": features}, default=int).encode()
    return "s.geojson", doc, f"{column} as {kind}" if refuse else "", False, "50"


@st.composite
def site_files(draw):
    """A site table spoiled 1-3 times: name, bytes, why it must be refused, whether a
    warning is enough, and the resolution to plan it at."""
    if draw(st.integers(0, 4)) == 0:
        return draw(typed_sites())
    header, *rows = [ln.split(",") for ln in SITES_CSV.decode().split()]
    must, resolution = [], "50"
    for kind in draw(st.lists(st.sampled_from(["cell", "cell", "dup_column", "drop_column",
                                               "rename", "rows", "dup_row", "ragged", "degrees",
                                               "lonlat"]), min_size=1, max_size=3)):
        j = draw(st.integers(0, max(len(header) - 1, 0)))
        if kind == "cell" and header and rows:
            rows[draw(st.integers(0, len(rows) - 1))][j] = draw(st.sampled_from(CELLS))
        elif kind == "dup_column" and header:
            header, rows = header + [header[j]], [r + r[j:j + 1] for r in rows]
        elif kind == "drop_column" and header:
            header, rows = header[:j] + header[j + 1:], [r[:j] + r[j + 1:] for r in rows]
        elif kind == "rename" and header:
            header[j] = draw(st.sampled_from(sorted(CANON) + ["", "é", "column 1", "lon_deg"]))
        elif kind == "rows":
            rows = rows[:draw(st.integers(0, 1))]
        elif kind == "dup_row" and rows:
            rows.append(list(rows[0]))
        elif kind == "ragged" and rows:
            rows[0] = rows[0] + ["x"] if draw(st.booleans()) else rows[0][:-1]
        elif kind in ("degrees", "lonlat") and {"x_m", "y_m"} <= set(header):
            a, b = header.index("x_m"), header.index("y_m")
            for i, r in enumerate(rows):
                r[a], r[b] = (f"{13.41 + 0.005 * i:.4f}", f"{52.52 + 0.003 * i:.4f}") \
                    if kind == "degrees" else (f"{170 + 20 * i}", f"{-80 - 10 * i}")
            if kind == "lonlat":
                header[a], header[b] = "lon_deg", "lat_deg"
            else:                               # lon/lat given as x_m/y_m metres
                resolution = "0.0002"
                must.append("lon/lat degrees as x_m/y_m metres")
    warn_ok = bool(must) and not _site_problems(header, rows)
    must += _site_problems(header, rows)
    text = io.StringIO()
    csv.writer(text, delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
               lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header] + rows)
    data = text.getvalue().encode(draw(st.sampled_from(
        ["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])), errors="replace")
    if draw(st.integers(0, 5)) == 0:
        data = draw(st.sampled_from(list(RAW_SITES)) | st.binary(min_size=1, max_size=64))
        must, warn_ok = [RAW_SITES.get(data, "random bytes")], False
    name = draw(st.sampled_from(["s.csv"] * 4 + ["s.txt", "s", "s.xlsx", "s.gpkg", "s.kml"]))
    return name, data, "; ".join(dict.fromkeys(must)), warn_ok, resolution


@fuzz(site_files())
@pytest.mark.slow
def test_site_tables(name, data, must, warn_ok, resolution):
    """ilac-plan map --sites and read_sites with spoiled site tables."""
    args = ["map", "--sites", name, "--resolution-m", resolution, *MAP[3:]]
    return [cli_case(args, {name: data}, must, warn_ok),
            api_case("read_sites", repr(data[:300]), lambda: ip.read_sites(name), {name: data},
                     "" if warn_ok else must)]


# -- planning areas: ilac-plan map --area and read_area -------------------------------------
def _nested(depth):
    return [_nested(depth - 1)] if depth else [0.0, 0.0]


SPOILS = {  # name: polygon -> what replaces it (each must be refused)
    "point": lambda g: {"type": "Point", "coordinates": g["coordinates"][0][0]},
    "line": lambda g: {"type": "LineString", "coordinates": g["coordinates"][0]},
    "bowtie": lambda g: {**g, "coordinates": [[r[0], r[2], r[1], r[3], r[0]] for r in
                                              g["coordinates"]]},
    "three points": lambda g: {**g, "coordinates": [g["coordinates"][0][:2] +
                                                    g["coordinates"][0][:1]]},
    "text coordinates": lambda g: {**g, "coordinates": [[["a", "b"]] * 4]},
    "NaN": lambda g: {**g, "coordinates": [[[math.nan, math.nan]] + g["coordinates"][0][1:]]},
    "huge": lambda g: {**g, "coordinates": [[[c[0] * 1e300, c[1]] for c in g["coordinates"][0]]]},
    "far away": lambda g: {**g, "coordinates": [[[c[0] * 1.5, c[1] * 0.2] for c in
                                                 g["coordinates"][0]]]},
    "empty": lambda g: {**g, "coordinates": []}, "nested": lambda g: {**g, "coordinates":
                                                                      _nested(40)},
    "collection": lambda g: {"type": "GeometryCollection", "geometries": [g]},
    "null": lambda g: None, "number": lambda g: 5, "unknown type": lambda g: {**g, "type": "Blob"}}
FEATURES = {"features null": None, "features [1, 'x']": [1, "x"], "no features": [],
            "features text": "abc"}
WKT = {"POLYGON EMPTY": "POLYGON EMPTY", "a point": "POINT (392000 5820000)",
       "a line": "LINESTRING (391400 5818950, 393500 5821700)",
       "a bowtie": "POLYGON ((391400 5818950, 393500 5821700, 393500 5818950, 391400 5821700, "
                   "391400 5818950))",
       "NaN": "POLYGON ((nan nan, 393500 5818950, 393500 5821700, nan nan))",
       "truncated": BOX_UTM[:30], "two geometries": BOX_UTM + " " + BOX_UTM,
       "degrees": "POLYGON ((13.4 52.51, 13.43 52.51, 13.43 52.535, 13.4 52.51))",
       "point in a collection": f"GEOMETRYCOLLECTION ({BOX_UTM}, POINT (0 0))"}


@st.composite
def area_files(draw):
    """An area file spoiled once or twice: name, bytes and why it must be refused."""
    kind = draw(st.sampled_from(["geojson", "geojson", "geojson text", "wkt", "raw"]))
    if kind == "wkt":
        spoil = draw(st.sampled_from([None, *WKT]) | ARG_TEXT.map(lambda t: "text " + t))
        text = BOX_UTM if spoil is None else WKT.get(spoil, spoil[5:])
        return draw(st.sampled_from(["a.wkt", "a.txt", "a"])), text.encode(), spoil and \
            f"WKT {spoil}"
    if kind == "raw":
        return "a" + draw(st.sampled_from([".geojson", ".gpkg", ".shp", ".kml", ".wkt", ".txt",
                                           ".parquet", ".fgb", ".zip", ""])), draw(
            st.sampled_from([b"", b"\x00\x01garbage\xff" * 30, b"{", b"null", b"[]", b'"text"',
                             b"\xff\xfe{\x00"]) | st.binary(max_size=64)), "garbage area file"
    ring = BOX_LONLAT if kind == "geojson" else [
        [float(v) for v in p.split()] for p in BOX_UTM[10:-2].split(", ")]
    geometry, must = {"type": "Polygon", "coordinates": [ring]}, []
    spoil = draw(st.sampled_from([None, *SPOILS]))
    if spoil:
        geometry = SPOILS[spoil](geometry)
        must.append(f"geometry: {spoil}")
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    doc = draw(st.sampled_from([geometry, feature] + [{"type": "FeatureCollection",
                                                       "features": [feature]}] * 2))
    spoil = draw(st.sampled_from([None, "a feature and junk", *FEATURES]))
    if spoil and isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        doc["features"] = FEATURES.get(spoil, [feature, 1, "x"])
        must.append(spoil)
    data = json.dumps(doc).encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))
    return draw(st.sampled_from(["a.geojson", "a.json"] if kind == "geojson" else
                                ["a.txt", "a.wkt"])), data, "; ".join(must)


@fuzz(area_files())
@pytest.mark.slow
def test_area_files(name, data, must):
    """ilac-plan map --area and read_area with spoiled GeoJSON, WKT and binary files."""
    files = {name: data, "b.csv": BERLIN_CSV}
    far = re.search("far away|huge|degrees", must or "")   # a valid polygon, far from the sites
    return [cli_case(["map", "--sites", "b.csv", "--area", name, *MAP[1:]], files, must),
            api_case("read_area", repr(data[:300]), lambda: ip.read_area(name, crs="EPSG:32633"),
                     files, "" if far else must)]


# -- TOML scenarios: ilac-plan map --scenario, load_scenario and to_inputs -----------------
KEYS = {  # dotted key: kind of value it takes
    **dict.fromkeys(["name", "crs", "sites.encoding", "area.wkt", "propagation.model",
                     "propagation.antenna", "positioning.bound"], str),
    **dict.fromkeys(["grid.resolution_m", "objective.target_error_m", "area.margin_m",
                     "objective.max_capacity_loss", "sites.hexagonal.isd_m", "radio.carrier_hz",
                     "sites.hexagonal.power_dbm", "radio.gnb_power_dbm", "radio.spacing_m",
                     "propagation.ue_height_m"], float),
    **dict.fromkeys(["grid.max_points", "grid.tile_px", "sites.hexagonal.rings", "radio.n_symbols",
                     "sites.hexagonal.sectors", "sites.hexagonal.n_antennas"], int),
    **dict.fromkeys(["sites.hexagonal.wrap_around", "propagation.interference"], bool),
    **dict.fromkeys(["sites.hexagonal.origin_lonlat_deg", "schemes.names", "output.formats"], list),
    **dict.fromkeys(["sites.column_map", "schemes.params", "propagation.params"], dict),
    "sites.file": "path", "area.file": "path", "area.exclusions": "paths",
    **dict.fromkeys(["grid.resolution", "sites.hexagonal.isd", "extra"], "unknown")}
PATHS = ["s.csv", "area.wkt", "/etc/passwd", "../s.csv", "sub/../s.csv", "sub/../../s.csv",
         "missing.csv", ".", "sub", "", "~/x", "//server/share", "C:\\x", LOCAL_WKT]
TOML_VALUES = [True, False, 2.5, 2.0, "5", "abc", "", [], [1, 2], ["a"], {}, {"a": 1},
               math.nan, math.inf, -math.inf, -1, 0, 1e300, 10**30, 2**63 - 1, "EPSG:4326",
               dt.datetime(1979, 5, 27, 7, 32), dt.date(1979, 5, 27), dt.time(7, 32),
               _nested(30), "time", "x" * 5000]
RAW_TOML = {b"": "", b"\xff\xfe[\x00": "UTF-16", b"\x00\x01\x02": "binary",
            b"x = " + b"[" * 5000 + b"]" * 5000: "nested arrays", b"a = 1\na = 2": "a key twice",
            b"[grid]\n[grid]": "a table twice", b'name = "' + b"x" * (1 << 20) + b'"': "1 MiB",
            b"[[sites]]\nfile = 1": "an array of tables"}


ESCAPES = ("/etc/passwd", "../s.csv", "sub/../../s.csv", "//server/share")


def _wrong(kind, value):
    """Whether ``value`` is of the wrong type (or NaN, inf) for a key of ``kind``, or a
    path that is absolute or leads out of the scenario's folder."""
    if kind in (float, int):
        return _not_number(value) or kind is int and isinstance(value, float)
    if kind in ("path", "paths"):
        return (value[0] if kind == "paths" else value) in ESCAPES
    return kind == "unknown" or not isinstance(value, kind)


@st.composite
def scenario_files(draw):
    """A scenario (TOML bytes) with 1-2 keys set to hostile values, and why it must be
    refused."""
    doc = {"name": "fuzz", "sites": {"hexagonal": {"rings": 0}}, "grid": {"resolution_m": 50.0},
           "output": {"formats": ["summary"]}}
    must = []
    for key in draw(st.lists(st.sampled_from(sorted(KEYS) + ["both areas"]), min_size=1,
                             max_size=2, unique=True)):
        kind = KEYS.get(key)
        value = draw(st.sampled_from(PATHS if kind in ("path", "paths") else TOML_VALUES))
        value = [value] if kind == "paths" else value
        if key == "both areas":
            doc["area"] = {"file": "area.wkt", "wkt": LOCAL_WKT}
            must.append("both area.file and area.wkt")
            continue
        *parents, leaf = key.split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
        if key == "sites.file" and doc["sites"].get("hexagonal") == {"rings": 0}:
            del doc["sites"]["hexagonal"]           # one source (a spoiled layout stays)
        if _wrong(kind, value) or key == "crs" and value == "EPSG:4326":
            must.append(f"{key} = {value!r}"[:80])
    data = tomli_w.dumps(doc).encode()
    if draw(st.integers(0, 7)) == 0:
        data = draw(st.sampled_from(list(RAW_TOML)))
        must = [RAW_TOML[data]]
    return data, "; ".join(filter(None, must))


@fuzz(scenario_files())
@pytest.mark.slow
def test_scenario_files(data, must):
    """ilac-plan map --scenario and load_scenario + to_inputs with hostile TOML."""
    files = {"scen.toml": data, "s.csv": SITES_CSV, "area.wkt": LOCAL_WKT.encode()}
    return [cli_case(["map", "--scenario", "scen.toml", "-q", "--out", "out"], files, must),
            api_case("load_scenario", repr(data[:300]),
                     lambda: to_inputs(load_scenario("scen.toml")), files, must)]


# -- the Python API: one keyword at a time ---------------------------------------------------
def _optional(rule):
    return lambda v: v is not None and rule(v)


def _points(v):
    return not (isinstance(v, (list, tuple)) and len(v) == 2 and not any(map(_not_number, v)))


def _geographic(v):
    return isinstance(v, str) and v in GEOGRAPHIC


def _area(v):
    return v is not AREA_POOL[-1] and not (isinstance(v, str) and v == LOCAL_WKT)


AREA_POOL = [shapely.Point(0, 0), shapely.from_wkt(WKT["a bowtie"]), shapely.Polygon(),
             "POINT (0 0)", SITES_DF, "missing.wkt", LOCAL_WKT, shapely.from_wkt(LOCAL_WKT)]
TABLES = [SITES_DF.iloc[:0], SITES_DF[["x_m"]], [np.arange(3.0)] * 2, "s.csv", None,
          SITES_DF.to_dict(), SITES_DF.to_numpy(), SITES_DF.set_axis(["x_m"] * 6, axis=1)]
OPTIONS = {  # keyword: rule (value -> must be refused), shared by plan, build and evaluate
    "resolution_m": _not_number, "ue_height_m": _not_number, "max_points": _not_number,
    "tile_px": _not_number, "target_error_m": _optional(_not_number),
    "max_capacity_loss": _optional(_not_number), "interference": _not_flag,
    "sector_pattern": _optional(_not_flag), "sites": lambda v: True, "area": _optional(_area),
    **dict.fromkeys(["schemes", "scheme_params", "radio", "propagation", "propagation_params",
                     "antenna", "bound", "epre", "dl_prs", "wrap_around", "exclusions", "crs",
                     "name"])}
API = {  # entry: (call with one keyword, {keyword: rule})
    "plan": (lambda **kw: ip.plan(**{"sites": SITES_DF.copy(), "resolution_m": 50.0, **kw}),
             {**OPTIONS, **dict.fromkeys(["n_threads", "engine", "n_workers", "scheduler",
                                          "progress", "checkpoint_dir"])}),
    "build": (lambda **kw: PlanInputs.build(**{"sites": SITES_DF.copy(), "resolution_m": 50.0,
                                               **kw}), OPTIONS),
    "evaluate": (lambda **kw: ip.evaluate(**{"sites": SITES_DF.copy(), "x_m": [100.0, 200.0],
                                             "y_m": [0.0, 50.0], **kw}),
                 {**{k: OPTIONS[k] for k in ("sites", "target_error_m", "max_capacity_loss",
                                             "ue_height_m", "interference", "sector_pattern",
                                             "schemes", "radio", "antenna", "bound", "epre")},
                  "x_m": _points, "y_m": _points, "prune": _optional(_not_flag),
                  "n_threads": None, "wrap_shifts_m": None, "propagation": None}),
    "read_sites": (lambda **kw: ip.read_sites(**{"path": "s.csv", **kw}), {
        "path": None, "crs": _geographic, "column_map": None, "encoding": None,
        "layer": None}),
    "read_area": (lambda **kw: ip.read_area(**{"source": LOCAL_WKT, **kw}), {
        "source": _area, "name": None, "layer": None, "frame": _not_flag,
        "crs": _geographic}),
    "tradeoff_curves": (ip.tradeoff_curves, {
        "n_antennas": _not_number, "theta_deg": _not_number, "closed_form": _not_flag,
        "snr_db": _optional(_not_number), "distance_m": _optional(_not_number),
        **dict.fromkeys(["schemes", "radio", "n_threads", "bound", "epre", "dl_prs"])}),
    "RadioParams": (ip.RadioParams, {**dict.fromkeys(ip.RadioParams.field_names(), _not_number),
                                     "spacing_m": _optional(_not_number)})}
SPECIAL = {"crs": CRS, "engine": ["local", "dask", "threads"], "schemes": ["tdd", ["time"] * 2],
           "wrap_around": [{"isd_m": 500, "rings": 2}, {"isd_m": True, "rings": 1}],
           "exclusions": [LOCAL_WKT, "missing.wkt", [LOCAL_WKT, 5]], "radio": [ip.RadioParams()],
           "scheme_params": [{"tdd": {}}, {"time": {"x": 1}}], "area": AREA_POOL,
           "source": AREA_POOL, "encoding": ["utf-16", "rot13", "bogus"], "sites": TABLES,
           "column_map": [{"x_m": "y_m"}, "abc", [("a", "b")], {"x": 5}],
           "path": ["s.csv", Path("s.csv"), "sub"]}
CHECKPOINT_DIRS = [True, 5, 1.5, b"ck", ["a"], None, "", "ck", Path("ck"), "s.csv", "sub"]


@st.composite
def api_calls(draw):
    """An entry point, a keyword, a hostile value for it, how to show it and why it must be
    refused."""
    entry = draw(st.sampled_from(sorted(API)))
    key = draw(st.sampled_from(sorted(API[entry][1])))
    rule = API[entry][1][key]
    if key == "sites" and draw(st.booleans()):        # a table with a column of some type
        column, kind = draw(st.sampled_from(list(SITES_DF.columns[1:]))), draw(
            st.sampled_from(sorted(TYPED)))
        value, refuse = SITES_DF.assign(**{column: TYPED[kind][0]}), TYPED[kind][1]
        return entry, key, value, f"sites.{column} = {kind}", refuse and f"sites.{column} {kind}"
    value = draw(st.sampled_from(CHECKPOINT_DIRS) if key == "checkpoint_dir" else  # never "/"
                 st.sampled_from(SPECIAL.get(key, []) + PY) if draw(st.integers(0, 2)) else
                 PY_GENERATED)
    if isinstance(value, (list, tuple, np.ndarray)) and key in ("snr_db", "distance_m",
                                                                 "n_antennas"):
        rule = lambda v: any(map(_not_number, getattr(v, "flat", v)))  # noqa: E731 - numbers
    return entry, key, value, f"{key}={value!r}", \
        rule and rule(value) and f"{key} as {type(value).__name__}"


@fuzz(api_calls(), weight=8)
@pytest.mark.slow
def test_api_keywords(entry, key, value, shown, must):
    """plan, build, evaluate, read_sites, read_area, tradeoff_curves and RadioParams with one
    hostile keyword value."""
    return [api_case(entry, shown, lambda: API[entry][0](**{key: value}), {"s.csv": SITES_CSV},
                     must or "", outputs=[".."] if key == "checkpoint_dir" else [])]
