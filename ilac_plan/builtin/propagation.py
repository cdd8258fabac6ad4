"""Built-in plugin: the ``free_space`` propagation model."""

from ..hookspecs import hookimpl
from ..propagation import FreeSpace


@hookimpl
def ilac_register_propagation_models(register):
    register(FreeSpace())
