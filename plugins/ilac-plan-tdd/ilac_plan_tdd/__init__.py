"""ilac_plan plugin: time-division UL/DL ILAC, positioning taken from either link."""

import numpy as np

from ilac_plan.errors import ParameterError
from ilac_plan.hookspecs import hookimpl
from ilac_plan.schemes import Parameter, ResourcePlan, Scheme

__version__ = "0.2.0"


class TddSplit(Scheme):
    """A frame split between downlink and uplink; positioning symbols come from one of them."""

    name = "tdd"
    description = "Time-division UL/DL frame; positioning symbols taken from the DL or UL part"
    parameters = (
        Parameter("dl_fraction", 0.5, low=0.0, high=1.0,
                  description="share of the frame meant for downlink data"),
        Parameter("take_from", "downlink", choices=("downlink", "uplink"),
                  description="link whose symbols carry the positioning signal"),
    )

    def plan(self, radio, *, dl_fraction, take_from):
        if (take_from == "downlink" and dl_fraction == 0.0) or \
                (take_from == "uplink" and dl_fraction == 1.0):
            raise ParameterError(
                f"tdd: take_from {take_from!r} with dl_fraction {dl_fraction:g} takes the "
                f"positioning symbols from a link with no symbols in the frame; use "
                f"take_from {'uplink' if take_from == 'downlink' else 'downlink'!r} or "
                "another dl_fraction")
        tau_t = radio.n_symbols
        k = np.arange(tau_t + 1, dtype=np.float64)
        comm = tau_t - k
        dl_symbols = float(np.floor(dl_fraction * tau_t + 0.5))     # whole symbols
        if take_from == "downlink":
            dl_left = np.maximum(dl_symbols - k, 0.0)
        else:
            dl_left = np.minimum(dl_symbols, comm)
        # the kernel's frame: a downlink part of round(f tau_C) symbols, the uplink part
        # (pilots first, then uplink data) the rest; f = D / tau_C gives back D exactly
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(comm > 0, dl_left / comm, dl_symbols / tau_t)
        return ResourcePlan(loc_share=k / tau_t, comm_bandwidth_hz=radio.bandwidth_hz,
                            comm_symbols=comm, loc_bandwidth_hz=radio.bandwidth_hz,
                            loc_symbols=k, dl_fraction=np.clip(frac, 0.0, 1.0),
                            loc_direction=take_from)


@hookimpl
def ilac_register_schemes(register):
    register(TddSplit())
