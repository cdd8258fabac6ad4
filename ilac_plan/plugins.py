"""Plugin loading: built-in plugins, then entry points of the group ``ilac_plan``.

Loading is lazy (nothing happens on ``import ilac_plan``) and fault-tolerant: each entry
point is loaded in its own ``try``, a plugin with a misspelt hook is caught by
``check_pending()``, a duplicate name is refused, and every such problem becomes a
:class:`PluginError` naming the plugin and its distribution, kept in
``Registry.errors`` and shown as a :class:`PluginWarning`. The built-ins keep working.
Set ``ILAC_PLAN_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry points.
"""

import importlib
import os
import difflib
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from . import hookspecs
from .builtin import DEFAULT_PLUGINS
from .errors import ParameterError
from .propagation import validate_model
from .schemes import validate_scheme

ENTRY_POINT_GROUP = "ilac_plan"
DISABLE_ENV = "ILAC_PLAN_DISABLE_PLUGIN_AUTOLOAD"


class PluginError(Exception):
    """A plugin failed to load or registered something invalid; names the plugin."""


class PluginWarning(UserWarning):
    """Emitted once for each plugin error when the plugins are loaded."""


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin."""

    name: str
    distribution: str
    version: str
    builtin: bool
    schemes: list = field(default_factory=list)
    models: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self):
        return dict(self.__dict__)


@dataclass
class Registered:
    """A registered scheme or propagation model and where it came from."""

    obj: object
    plugin: PluginInfo


class Registry:
    """The loaded schemes and propagation models, by name."""

    def __init__(self):
        self.schemes = {}
        self.models = {}
        self.plugins = []
        self.errors = []

    def scheme(self, name):
        """The registered scheme ``name`` or a ParameterError listing the available ones."""
        return self._lookup(self.schemes, name, "scheme")

    def model(self, name):
        """The registered propagation model ``name`` (ParameterError lists the available)."""
        return self._lookup(self.models, name, "propagation model")

    def _lookup(self, table, name, what):
        if name not in table:
            close = difflib.get_close_matches(str(name), list(table), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            hint = f"; plugin errors: {'; '.join(self.errors)}" if self.errors else ""
            raise ParameterError(f"unknown {what} {name!r}; {guess}available: "
                                 f"{', '.join(table)}{hint}")
        return table[name].obj

    def _add(self, table, what, validate, info, obj):
        name = validate(obj)
        if name in table:
            first = table[name].plugin
            raise PluginError(f"{what} {name!r} is registered by both plugin {first.name!r} "
                              f"({first.distribution}) and plugin {info.name!r} "
                              f"({info.distribution})")
        table[name] = Registered(obj, info)
        (info.schemes if what == "scheme" else info.models).append(name)


def _fail(registry, info, message):
    error = f"plugin {info.name!r} ({info.distribution} {info.version}): {message}"
    info.error = error if info.error is None else f"{info.error}; {message}"
    registry.errors.append(error)
    warnings.warn(error, PluginWarning, stacklevel=3)


def _hook_names():
    return sorted(n for n in dir(hookspecs) if n.startswith("ilac_register_"))


def _hook_hint(plugin):
    """Why a plugin object implements no hook: a hook function without ``@hookimpl``, or
    a misspelt one (with the closest hook name)."""
    hooks = _hook_names()
    marker = f"{hookspecs.PROJECT}_impl"
    hints = []
    for attr in sorted(a for a in dir(plugin) if a.startswith("ilac")):
        fn = getattr(plugin, attr, None)
        if not callable(fn):
            continue
        if attr in hooks and not hasattr(fn, marker):
            hints.append(f"{attr} is not marked @hookimpl (from ilac_plan.hookspecs import "
                         "hookimpl)")
        elif attr not in hooks:
            close = difflib.get_close_matches(attr, hooks, n=1)
            if close:
                hints.append(f"{attr} is no hook; did you mean {close[0]}?")
    return "; ".join(hints) or f"implement one of {', '.join(hooks)} with @hookimpl"


def load_plugins(autoload=None, extra=()):
    """Load the built-in plugins and (unless disabled) the entry points.

    Parameters
    ----------
    autoload : bool, optional
        Load entry points; default: unless ``ILAC_PLAN_DISABLE_PLUGIN_AUTOLOAD=1``.
    extra : sequence of (name, object)
        Further plugin objects (modules or instances with hook implementations),
        registered after the entry points: for tests and for scripts that define a scheme
        in place.

    Returns
    -------
    Registry
    """
    from . import __version__

    if autoload is None:
        autoload = os.environ.get(DISABLE_ENV, "") not in ("1", "true", "yes")
    registry = Registry()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos = {}
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
        infos[module_name] = PluginInfo(module_name, "ilac-plan", __version__, True)
    if autoload:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "unknown distribution"
            version = ep.dist.version if ep.dist else "?"
            info = PluginInfo(ep.name, dist, version, False)
            registry.plugins.append(info)
            try:
                pm.register(ep.load(), name=ep.name)
                infos[ep.name] = info
            except Exception as exc:  # noqa: BLE001 - any failure of a third party's import
                _fail(registry, info, f"failed to load: {type(exc).__name__}: {exc}")
    for name, obj in extra:
        info = PluginInfo(name, "(registered in process)", "-", False)
        registry.plugins.append(info)
        try:
            pm.register(obj, name=name)
            infos[name] = info
        except Exception as exc:  # noqa: BLE001
            _fail(registry, info, f"failed to register: {type(exc).__name__}: {exc}")
    while True:  # a misspelt hook: unregister that plugin, keep the others
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin)
            pm.unregister(exc.plugin)
            _fail(registry, infos.pop(name),
                  f"invalid hook implementation: {exc} ({_hook_hint(exc.plugin)})")
    registry.plugins = [infos[m] for m in DEFAULT_PLUGINS] + [
        p for p in registry.plugins if p.name not in DEFAULT_PLUGINS]
    for hook, table, what, validate in (
            (pm.hook.ilac_register_schemes, registry.schemes, "scheme", validate_scheme),
            (pm.hook.ilac_register_propagation_models, registry.models, "propagation model",
             validate_model)):
        for impl in sorted(hook.get_hookimpls(), key=lambda i: i.plugin_name not in infos
                           or not infos[i.plugin_name].builtin):
            info = infos[impl.plugin_name]

            def register(obj, _info=info, _table=table, _what=what, _validate=validate):
                registry._add(_table, _what, _validate, _info, obj)

            try:
                impl.function(register=register)
            except Exception as exc:  # noqa: BLE001 - report and keep the other plugins
                message = str(exc) if isinstance(exc, PluginError) else \
                    f"{hook.name} raised {type(exc).__name__}: {exc}"
                _fail(registry, info, message)
    for name, info in infos.items():   # loaded, no error, and yet nothing registered
        if info.builtin or info.error is not None or info.schemes or info.models:
            continue
        warnings.warn(f"plugin {info.name!r} ({info.distribution} {info.version}) registered "
                      f"nothing: {_hook_hint(pm.get_plugin(name))}", PluginWarning,
                      stacklevel=2)
    return registry


_REGISTRY = None


def get_registry(reload=False):
    """The process-wide registry, loaded on first use (``reload=True`` loads again)."""
    global _REGISTRY
    if _REGISTRY is None or reload:
        _REGISTRY = load_plugins()
    return _REGISTRY


def set_registry(registry):
    """Replace the process-wide registry (None: load again on next use); returns the old one."""
    global _REGISTRY
    old, _REGISTRY = _REGISTRY, registry
    return old


def scheme_owner(name):
    """``(plugin name, distribution)`` of a registered scheme, for error messages."""
    entry = get_registry().schemes[name]
    return entry.plugin.name, entry.plugin.distribution
