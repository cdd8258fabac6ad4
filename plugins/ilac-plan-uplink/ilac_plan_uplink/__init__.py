"""ilac_plan plugin: uplink-only ILAC (uplink MR data, uplink sounding for positioning)."""

import numpy as np

from ilac_plan.hookspecs import hookimpl
from ilac_plan.schemes import FrequencySplit, Parameter, ResourcePlan, Scheme, TimeSplit

__version__ = "0.1.0"


class UplinkSplit(Scheme):
    """Uplink data and uplink sounding share the frame, in time or in frequency."""

    name = "uplink"
    description = "Uplink-only ILAC: uplink MR data and uplink sounding for positioning"
    parameters = (Parameter("domain", "time", choices=("time", "frequency"),
                            description="split whole symbols or whole resource blocks"),)

    def plan(self, radio, *, domain):
        base = (TimeSplit() if domain == "time" else FrequencySplit()).plan(radio)
        return ResourcePlan(
            loc_share=base.loc_share, comm_bandwidth_hz=base.comm_bandwidth_hz,
            comm_symbols=base.comm_symbols, loc_bandwidth_hz=base.loc_bandwidth_hz,
            loc_symbols=base.loc_symbols, dl_fraction=np.zeros(base.loc_share.size),
            loc_direction="uplink")


@hookimpl
def ilac_register_schemes(register):
    register(UplinkSplit())
