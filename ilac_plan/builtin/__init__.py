"""ilac_plan's own plugins: registered through the same hooks as third-party ones."""

#: Modules registered before any entry point (their names are the plugin names).
DEFAULT_PLUGINS = ("ilac_plan.builtin.schemes", "ilac_plan.builtin.propagation")
