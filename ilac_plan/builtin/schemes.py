"""Built-in plugin: the paper's ``time`` and ``frequency`` allocation schemes."""

from ..hookspecs import hookimpl
from ..schemes import FrequencySplit, TimeSplit


@hookimpl
def ilac_register_schemes(register):
    register(TimeSplit())
    register(FrequencySplit())
