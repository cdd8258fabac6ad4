"""The hooks ilac_plan calls on plugins (pluggy project name ``ilac_plan``).

Every hook is documented in ``docs/plugins.md``; a test checks that the docs list each
hook with its exact signature.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "ilac_plan"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ilac_register_schemes(register: Callable[..., None]) -> None:
    """Register allocation schemes: call ``register(scheme)`` with each
    :class:`ilac_plan.schemes.Scheme` instance the plugin provides."""


@hookspec
def ilac_register_propagation_models(register: Callable[..., None]) -> None:
    """Register propagation models: call ``register(model)`` with each
    :class:`ilac_plan.propagation.PropagationModel` the plugin provides."""
