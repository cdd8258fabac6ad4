"""The plugin system: hooks, entry points, broken plugins, conformance, and docs."""

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ilac_plan as ip
from ilac_plan import hookspecs
from ilac_plan.builtin import DEFAULT_PLUGINS
from ilac_plan.hookspecs import hookimpl
from ilac_plan.plugins import PluginError, PluginWarning, load_plugins
from ilac_plan.schemes import Objective, ResourcePlan, Scheme, SchemeResult, TimeSplit
from ilac_plan.testing import assert_scheme_conforms, plan_reference, registered, sample_links

ROOT = Path(__file__).resolve().parents[1]
SITES = pd.DataFrame({"x_m": [0.0, 800.0], "y_m": [0.0, 100.0], "azimuth_deg": [60.0, 250.0],
                      "n_antennas": [16, 8], "power_dbm": [30.0, 27.0]})


def exe():
    path = shutil.which("ilac-plan")
    if path is None:
        pytest.fail("the ilac-plan console script is not installed")
    return path


def run_cli(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([exe(), *args], capture_output=True, text=True, env=full_env,
                          check=False)


# ---- built-ins are plugins ------------------------------------------------------------

def test_builtins_register_through_the_hooks():
    reg = load_plugins(autoload=False)
    assert [p.name for p in reg.plugins] == list(DEFAULT_PLUGINS)
    assert list(reg.schemes)[:2] == ["time", "frequency"]
    assert reg.schemes["time"].plugin.name == "ilac_plan.builtin.schemes"
    assert reg.models["free_space"].plugin.builtin
    assert not reg.errors
    for name in ("time", "frequency"):
        assert_scheme_conforms(reg.schemes[name].obj)


@pytest.mark.slow
def test_autoload_switch_hides_entry_points():
    shown = json.loads(run_cli("schemes", "--json").stdout)
    hidden = json.loads(run_cli("schemes", "--json",
                                env={"ILAC_PLAN_DISABLE_PLUGIN_AUTOLOAD": "1"}).stdout)
    assert [s["name"] for s in hidden] == ["time", "frequency"]
    assert {"uplink", "tdd", "hybrid"} <= {s["name"] for s in shown}
    plugins = json.loads(run_cli("plugins", "--json").stdout)
    by_dist = {p["distribution"]: p for p in plugins}
    assert by_dist["ilac-plan-3gpp"]["models"] == ["uma_los", "uma_nlos", "umi_los", "umi_nlos",
                                                   "uma", "umi", "rma", "inh"]
    assert by_dist["ilac-plan-uplink"]["version"] == "0.1.0"


def test_docs_list_every_hook_with_its_signature():
    text = (ROOT / "docs" / "plugins.md").read_text()
    hooks = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("ilac_")]
    assert hooks
    for fn in hooks:
        sig = inspect.signature(fn)
        params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
        assert f"{fn.__name__}({params}) -> {sig.return_annotation}" in text, fn.__name__
    documented = set(re.findall(r"^### `(ilac_\w+)\(", text, flags=re.M))
    assert documented == {fn.__name__ for fn in hooks}


# ---- a third party's package, installed with pip ----------------------------------------

THIRD_PARTY = textwrap.dedent('''
    """A third party's allocation scheme: the time split with half the power on positioning."""
    import numpy as np
    from ilac_plan.hookspecs import hookimpl
    from ilac_plan.schemes import ResourcePlan, Scheme

    class HalfPower(Scheme):
        name = "half_power_time"
        description = "Time split; the positioning symbols use half the transmit power"

        def plan(self, radio):
            k = np.arange(radio.n_symbols + 1.0)
            return ResourcePlan(loc_share=k / radio.n_symbols,
                                comm_bandwidth_hz=radio.bandwidth_hz,
                                comm_symbols=radio.n_symbols - k,
                                loc_bandwidth_hz=radio.bandwidth_hz, loc_symbols=k,
                                loc_power_fraction=0.5)

    @hookimpl
    def ilac_register_schemes(register):
        register(HalfPower())
''')


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    src = tmp_path_factory.mktemp("thirdparty")
    (src / "ilac_thirdparty_demo.py").write_text(THIRD_PARTY)
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "ilac-thirdparty-demo"
        version = "2.5.0"
        [project.entry-points.ilac_plan]
        half_power = "ilac_thirdparty_demo"
        [tool.setuptools]
        py-modules = ["ilac_thirdparty_demo"]
    '''))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(src)], check=True,
                   capture_output=True)
    yield "half_power_time"
    subprocess.run([*pip, "uninstall", "-y", "ilac-thirdparty-demo"], check=True,
                   capture_output=True)


@pytest.mark.slow
def test_installed_third_party_scheme_is_listed_and_evaluated(third_party, tmp_path):
    listing = run_cli("schemes")
    assert listing.returncode == 0
    line = next(ln for ln in listing.stdout.splitlines() if ln.startswith(third_party))
    assert "ilac-thirdparty-demo" in line and "2.5.0" in line and " plan " in line
    code = textwrap.dedent(f'''
        import numpy as np, pandas as pd, ilac_plan as ip
        sites = pd.DataFrame({{"x_m": [0.0], "y_m": [0.0], "azimuth_deg": [0.0],
                              "n_antennas": [8], "power_dbm": [20.0]}})
        df = ip.evaluate(sites, [0.0, 10.0], [300.0, 900.0], schemes=["time", "{third_party}"])
        half, full = df["{third_party}_error_m"], df["time_error_m"]
        assert (df["{third_party}_loc_share"] >= df["time_loc_share"]).all()
        assert list(df.best_scheme.cat.categories) == ["time", "{third_party}", "infeasible"]
        print("ok", len(df))
    ''')
    # run outside the source tree, so that the installed ilac_plan is imported
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok 2"


# ---- broken plugins ---------------------------------------------------------------------

def fake_install(root, dist, module, source, entry="main"):
    """Install a plugin the way pip leaves it: a module and a dist-info with entry points."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ilac_plan]\n{entry} = {module}\n")


BROKEN = {
    "raises": ("ilac-plan-raises", "ilac_broken_raises", "raise RuntimeError('boom at import')\n",
               r"plugin 'main' \(ilac-plan-raises 1.0\): failed to load: RuntimeError: boom"),
    "misspelt": ("ilac-plan-misspelt", "ilac_broken_misspelt", '''
        from ilac_plan.hookspecs import hookimpl
        @hookimpl
        def ilac_register_scheme(register):
            pass
        ''', r"plugin 'main' \(ilac-plan-misspelt 1.0\): invalid hook implementation.*"
             r"ilac_register_scheme.*did you mean ilac_register_schemes\?"),
    "duplicate": ("ilac-plan-dup", "ilac_broken_dup", '''
        from ilac_plan.hookspecs import hookimpl
        from ilac_plan.schemes import TimeSplit
        @hookimpl
        def ilac_register_schemes(register):
            register(TimeSplit())
        ''', r"scheme 'time' is registered by both plugin 'ilac_plan.builtin.schemes' "
             r"\(ilac-plan\) and plugin 'main' \(ilac-plan-dup\)"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_plugin_is_named_and_builtins_keep_working(kind, tmp_path, monkeypatch):
    dist, module, source, message = BROKEN[kind]
    fake_install(tmp_path, dist, module, source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning, match=message):
        reg = load_plugins(autoload=True)
    assert any(re.search(message, e) for e in reg.errors)
    assert reg.schemes["time"].plugin.name == "ilac_plan.builtin.schemes"
    old = ip.plugins.set_registry(reg)
    try:
        df = ip.evaluate(SITES, [10.0, 400.0], [50.0, 90.0])
        assert set(df.best_scheme) <= {"time", "frequency", "infeasible"}
    finally:
        ip.plugins.set_registry(old)
    listing = run_cli("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert listing.returncode == 0
    assert "ERROR" in listing.stdout and dist in listing.stdout


class WrongShapes(Scheme):
    name = "wrong_shapes"
    description = "Returns one value too few"

    def evaluate(self, link, objective, radio):
        n = link.size - 1
        return SchemeResult(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, bool))


class WrongShapesPlugin:
    @hookimpl
    def ilac_register_schemes(self, register):
        register(WrongShapes())


def test_scheme_returning_wrong_shapes_is_named():
    with registered(WrongShapesPlugin()):
        with pytest.raises(PluginError, match=r"scheme 'wrong_shapes' \(plugin 'test_plugin_0'.*"
                                              r"capacity_bps of shape \(2,\); expected \(3,\)"):
            ip.evaluate(SITES, [1.0, 2.0, 3.0], [5.0, 6.0, 7.0], schemes=["wrong_shapes"])
        df = ip.evaluate(SITES, [1.0, 2.0, 3.0], [5.0, 6.0, 7.0], schemes=["time"])
        assert len(df) == 3


def test_unknown_scheme_lists_the_available_ones():
    with pytest.raises(ValueError, match="unknown scheme 'nope'; available: time, frequency"):
        ip.evaluate(SITES, [1.0], [1.0], schemes=["nope"])


def test_invalid_registrations_are_refused():
    class NoDescription(TimeSplit):
        name = "nodesc"
        description = ""

    class Plugin:
        @hookimpl
        def ilac_register_schemes(self, register):
            register(NoDescription())

    with pytest.warns(PluginWarning, match="needs a one-line description"):
        with registered(Plugin()) as reg:
            assert "nodesc" not in reg.schemes


def test_a_scheme_with_both_forms_must_say_which_its_parameters_use():
    from ilac_plan.schemes import Parameter, validate_scheme

    class Both(TimeSplit):
        name = "both"
        description = "plan and evaluate"
        parameters = (Parameter("fast", True),)

        def plan(self, radio, *, fast=True):
            return super().plan(radio)

        def evaluate(self, link, objective, radio, *, fast):
            raise AssertionError("the vectorized form ran")

    with pytest.raises(ValueError, match="override form"):
        validate_scheme(Both())

    class Chooses(Both):
        name = "chooses"

        def form(self, params):
            return "plan" if params["fast"] else "vectorized"

    assert validate_scheme(Chooses()) == "chooses"
    assert Chooses().kind == "plan or vectorized"

    class Plugin:
        @hookimpl
        def ilac_register_schemes(self, register):
            register(Chooses())

    sites = ip.hexagonal_layout(isd_m=500, rings=1)
    x, y = sites["x_m"].to_numpy()[:3] + 40.0, sites["y_m"].to_numpy()[:3]
    with registered(Plugin()):
        fast = ip.evaluate(sites, x, y, schemes=["chooses", "time"], target_error_m=0.05)
        np.testing.assert_array_equal(fast.chooses_capacity_bps, fast.time_capacity_bps)
        with pytest.raises(PluginError, match="vectorized form ran"):
            ip.evaluate(sites, x, y, schemes=["chooses"], target_error_m=0.05,
                        scheme_params={"chooses": {"fast": False}})


# ---- the kernel runs any plan --------------------------------------------------------

class RandomPlan(Scheme):
    """A synthetic monotone plan mixing downlink/uplink data, power splits, uplink sounding."""

    name = "random_plan"
    description = "Synthetic plan for the kernel test"

    def __init__(self, seed, uplink):
        self.seed, self.uplink = seed, uplink

    def plan(self, radio):
        rng = np.random.default_rng(self.seed)
        k = 40
        loc = np.concatenate([[0.0], np.sort(rng.uniform(0, 1, k - 1))])
        loc[-1] = 1.0
        comm = np.round(radio.n_symbols * (1 - 0.7 * loc))
        # a TDD-like frame whose downlink and uplink parts both shrink along the plan
        dl_part = np.floor(rng.uniform(0.3, 0.9) * comm)
        return ResourcePlan(
            loc_share=np.linspace(0, 1, k),
            comm_bandwidth_hz=radio.bandwidth_hz * (1 - 0.5 * loc),
            comm_symbols=comm,
            loc_bandwidth_hz=radio.bandwidth_hz * np.maximum(loc, 0.01),
            loc_symbols=np.round(1 + (radio.n_symbols - 1) * loc) * (loc > 0),
            dl_fraction=dl_part / comm,
            comm_power_fraction=1 - 0.3 * loc, loc_power_fraction=0.5 + 0.5 * loc,
            loc_direction="uplink" if self.uplink else "downlink")


@pytest.mark.parametrize("seed,uplink", [(1, False), (2, True)])
def test_kernel_plan_evaluation_matches_numpy(seed, uplink):
    scheme = RandomPlan(seed, uplink)

    class Plugin:
        @hookimpl
        def ilac_register_schemes(self, register):
            register(scheme)

    assert_scheme_conforms(scheme)
    radio = ip.RadioParams()
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-500, 1500, 300), rng.uniform(-800, 800, 300)
    with registered(Plugin()):
        for objective in (Objective("target", 0.4), Objective("budget", 0.15)):
            kw = ({"target_error_m": objective.value} if objective.kind == "target"
                  else {"max_capacity_loss": objective.value})
            df = ip.evaluate(SITES, x, y, schemes=[scheme.name], **kw)
            link = ip.testing.sample_links(radio)
            link.distance_m = df.distance_m.to_numpy()
            link.theta_rad = np.deg2rad(df.theta_deg.to_numpy())
            link.snr_dl = 10 ** (df.snr_db.to_numpy() / 10)
            link.snr_ul = 10 ** ((df.snr_db.to_numpy() + SITES.power_dbm.rsub(13.0).to_numpy()[
                df.serving_cell]) / 10)
            link.n_antennas = SITES.n_antennas.to_numpy()[df.serving_cell].astype(float)
            link.spacing_m = np.full(x.size, radio.antenna_spacing_m)
            cap, crb = plan_reference(scheme.plan(radio), link, radio)
            if objective.kind == "target":
                meets = crb <= 0.4**2 * (1 + 1e-12)
                j = np.where(meets.any(0), np.argmax(meets, 0), cap.shape[0] - 1)
                want_cap = np.where(meets.any(0), cap[j, np.arange(x.size)], 0.0)
            else:
                keeps = cap >= (1 - 0.15) * cap[0] * (1 - 1e-12)
                j = cap.shape[0] - 1 - np.argmax(keeps[::-1], 0)
                want_cap = cap[j, np.arange(x.size)]
            np.testing.assert_allclose(df[f"{scheme.name}_capacity_bps"], want_cap, rtol=1e-9)
            np.testing.assert_allclose(df[f"{scheme.name}_error_m"],
                                       np.sqrt(crb[j, np.arange(x.size)]), rtol=1e-9)


# ---- the conformance check catches real mistakes ----------------------------------------

class GrowingCapacity(TimeSplit):
    name = "growing"

    def plan(self, radio):
        base = super().plan(radio)
        return ResourcePlan(base.loc_share, base.comm_bandwidth_hz, base.comm_symbols[::-1],
                            base.loc_bandwidth_hz, base.loc_symbols)


class MegabitScheme(Scheme):
    name = "megabit"
    description = "Reports Mbit/s by mistake"

    def evaluate(self, link, objective, radio):
        cap = np.full(link.size, 1e3) * 1e6
        return SchemeResult(cap, np.ones(link.size), np.full(link.size, 0.5),
                            np.ones(link.size, bool))


@pytest.mark.parametrize("scheme,message", [
    (GrowingCapacity(), "capacity must not increase"),
    (MegabitScheme(), "Shannon bound"),
])
def test_conformance_catches_mistakes(scheme, message):
    with pytest.raises(AssertionError, match=message):
        assert_scheme_conforms(scheme)


def test_sample_links_span_the_ranges():
    link = sample_links(ip.RadioParams())
    assert link.size == 54 and set(link.n_antennas) == {2.0, 8.0, 64.0}



def _plan_scheme(**changes):
    class Broken(Scheme):
        name = "broken_plan"
        description = "A plan that breaks the rules"

        def plan(self, radio):
            base = TimeSplit().plan(radio)
            fields = {f: getattr(base, f) for f in ("loc_share", "comm_bandwidth_hz",
                                                    "comm_symbols", "loc_bandwidth_hz",
                                                    "loc_symbols")}
            for key, fn in changes.items():
                fields[key] = fn(np.array(fields[key], dtype=float))
            return ResourcePlan(**fields)

    return Broken()


@pytest.mark.parametrize("changes,message", [
    ({"loc_symbols": lambda v: np.where(np.arange(v.size) == 7, v - 3, v)},
     "positioning energy .* falls from candidate 6 to 7"),
    ({"comm_symbols": lambda v: np.where(np.arange(v.size) == 4, v + 2, v)},
     "comm_symbols grows from candidate 3 to 4"),
    ({"comm_bandwidth_hz": lambda v: v * np.linspace(0.9, 1.0, v.size)},
     "comm_bandwidth_hz grows from candidate 0 to 1"),
    ({"loc_symbols": lambda v: np.where(np.arange(v.size) == 2, np.nan, v)}, "broken_plan"),
])
def test_plans_that_break_the_order_are_plugin_errors(changes, message):
    """A plan whose CRB or capacity could rise along its candidates would make the
    bisection silently wrong: refused once per plan, naming the scheme and its plugin."""
    scheme = _plan_scheme(**changes)

    class Plugin:
        @hookimpl
        def ilac_register_schemes(self, register):
            register(scheme)

    with registered(Plugin()):
        with pytest.raises(PluginError, match=message) as info:
            ip.evaluate(SITES, [10.0, 200.0], [5.0, 90.0], schemes=["broken_plan"])
    assert "plugin" in str(info.value) and "broken_plan" in str(info.value)


@pytest.mark.slow
def test_conformance_checks_hold_under_python_optimise(tmp_path):
    """assert_scheme_conforms raises AssertionError itself: python -O strips bare asserts."""
    code = textwrap.dedent("""
        from ilac_plan.schemes import Scheme, TimeSplit
        from ilac_plan.testing import assert_scheme_conforms
        class Bad(Scheme):
            name = "bad"
            description = "two\\nlines"
            def plan(self, radio):
                return TimeSplit().plan(radio)
        try:
            assert_scheme_conforms(Bad())
        except AssertionError as exc:
            print("refused:", exc)
    """)
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)   # the installed package, not the tree
    assert "refused: bad: description must be one line" in out.stdout



def test_a_plugin_that_registers_nothing_is_told_why(tmp_path, monkeypatch):
    """A hook function without @hookimpl loads, registers nothing and used to say "ok"."""
    fake_install(tmp_path, "ilac-plan-unmarked", "ilac_unmarked", """
        from ilac_plan.schemes import TimeSplit
        def ilac_register_schemes(register):
            register(TimeSplit())
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning, match=r"plugin 'main' \(ilac-plan-unmarked 1.0\) "
                                           r"registered nothing: ilac_register_schemes is "
                                           r"not marked @hookimpl"):
        load_plugins(autoload=True)


@pytest.mark.parametrize("call,message", [
    (dict(schemes=["tme"]), r"unknown scheme 'tme'; did you mean 'time'\? available: time"),
    (dict(propagation="free_spce"), r"did you mean 'free_space'\?"),
    (dict(schemes=["tdd"], scheme_params={"tdd": {"dl_fracton": 0.5}}),
     r"unknown parameter 'dl_fracton'; did you mean 'dl_fraction'\?"),
])
def test_misspelt_names_get_a_suggestion(call, message):
    with pytest.raises(ValueError, match=message):
        ip.evaluate(SITES, [1.0], [1.0], **call)


def test_every_registered_propagation_model_conforms():
    from ilac_plan.testing import assert_model_conforms

    models = ip.plugins.get_registry().models
    assert "free_space" in models
    for entry in models.values():
        assert_model_conforms(entry.obj)


@pytest.mark.parametrize("terms,message", [
    ([(-120.0, 20.0)], "below free space at 1 m"),           # a gain: dB and linear mixed up
    ([(50.0, 20.0, 0.0, 100.0), (40.0, 20.0, 100.0)], "falls by"),   # a jump down undeclared?
])
def test_broken_propagation_models_fail_conformance(terms, message):
    from ilac_plan.model import LogDistanceTerm, PathLossModel
    from ilac_plan.propagation import PropagationModel
    from ilac_plan.testing import assert_model_conforms

    class Broken(PropagationModel):
        name = "broken"
        description = "A model that breaks the rules"

        def build(self, radio):
            class Lying(PathLossModel):     # hides its fall from the pruning budget
                def drop_db(self):
                    return 0.0

            cls = Lying if message == "falls by" else PathLossModel
            return cls("broken", tuple(LogDistanceTerm(*t) for t in terms))

    with pytest.raises(AssertionError, match=message):
        assert_model_conforms(Broken())


def test_parameter_kinds_validate_their_values():
    from ilac_plan.errors import ParameterError
    from ilac_plan.schemes import Parameter

    count = Parameter("comb_k", 2, low=1, high=12, integer=True)
    assert count.kind == "int" and count.validate(4) == 4
    with pytest.raises(ParameterError, match="comb_k"):
        count.validate(2.5)
    flag = Parameter("boost", False)
    assert flag.kind == "bool" and flag.validate(True) is True
    for bad in (1, "yes", 0.0):
        with pytest.raises(ParameterError, match="boost must be True or False"):
            flag.validate(bad)
    pick = Parameter("mode", "a", choices=("a", "b"))
    assert pick.kind == "choice" and pick.validate("b") == "b"
    share = Parameter("share", 0.5, low=0.0, high=1.0)
    assert share.kind == "float" and share.validate(1) == 1.0
    assert {d["kind"] for d in (count.to_dict(), flag.to_dict(), pick.to_dict(),
                                share.to_dict())} == {"int", "bool", "choice", "float"}
