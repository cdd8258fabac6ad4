"""ilac_plan plugin: 3GPP TR 38.901 UMa and UMi path loss (Table 7.4.1-1) as data."""

import math

from ilac_plan.hookspecs import hookimpl
from ilac_plan.model.linkbudget import SPEED_OF_LIGHT_M_S
from ilac_plan.model.propagation import LogDistanceTerm, PathLossModel
from ilac_plan.propagation import PropagationModel
from ilac_plan.schemes import Parameter

__version__ = "0.1.0"

#: Effective environment height h_E for UEs below 13 m. [m]
ENVIRONMENT_HEIGHT_M = 1.0

# scenario: (LOS intercept, LOS slope, LOS f_c factor, breakpoint correction,
#            NLOS intercept, NLOS slope, NLOS f_c factor, NLOS h_UT factor, default h_BS)
_TABLE = {
    "uma": (28.0, 22.0, 20.0, 9.0, 13.54, 39.08, 20.0, 0.6, 25.0),
    "umi": (32.4, 21.0, 20.0, 9.5, 22.4, 35.3, 21.3, 0.3, 10.0),
}


def breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m):
    """TR 38.901 breakpoint d'_BP = 4 h'_BS h'_UT f_c / c, with h' = h - h_E. [m, 2-D]"""
    return 4.0 * (h_bs_m - ENVIRONMENT_HEIGHT_M) * (h_ut_m - ENVIRONMENT_HEIGHT_M) * \
        carrier_hz / SPEED_OF_LIGHT_M_S


def path_loss_model(scenario, los, carrier_hz, h_bs_m, h_ut_m, min_distance_m=10.0):
    """The TR 38.901 median path loss of a scenario as log-distance terms of the 3-D distance.

    Returns
    -------
    ilac_plan.model.PathLossModel
    """
    a_los, b_los, f_los, bp_corr, a_nlos, b_nlos, f_nlos, h_nlos, _ = _TABLE[scenario]
    fc = math.log10(carrier_hz / 1e9)
    dh2 = (h_bs_m - h_ut_m) ** 2
    bp_2d = breakpoint_distance_m(carrier_hz, h_bs_m, h_ut_m)
    bp_3d = math.sqrt(bp_2d**2 + dh2)
    terms = [
        LogDistanceTerm(a_los + f_los * fc, b_los, 0.0, bp_3d),
        LogDistanceTerm(a_los + f_los * fc - bp_corr * math.log10(bp_2d**2 + dh2), 40.0, bp_3d),
    ]
    if not los:
        terms.append(LogDistanceTerm(a_nlos + f_nlos * fc - h_nlos * (h_ut_m - 1.5), b_nlos))
    name = f"{scenario}_{'los' if los else 'nlos'}"
    return PathLossModel(name, tuple(terms), min_distance_m)


class TR38901(PropagationModel):
    """One TR 38.901 scenario and state, registered under ``<scenario>_<los|nlos>``."""

    def __init__(self, scenario, los):
        self.scenario, self.los = scenario, los
        self.name = f"{scenario}_{'los' if los else 'nlos'}"
        label = {"uma": "urban macro", "umi": "urban micro street canyon"}[scenario]
        self.description = f"3GPP TR 38.901 {label}, {'LOS' if los else 'NLOS'} median path loss"
        self.parameters = (
            Parameter("h_bs_m", _TABLE[scenario][-1], unit="m", low=1.5, high=150.0,
                      description="gNB antenna height"),
            Parameter("h_ut_m", 1.5, unit="m", low=1.01, high=12.99,
                      description="UE antenna height (below 13 m: h_E = 1 m)"),
            Parameter("min_distance_m", 10.0, unit="m", low=1.0, high=1e3,
                      description="distance floor (the table starts at 10 m)"),
        )

    def build(self, radio, *, h_bs_m, h_ut_m, min_distance_m):
        return path_loss_model(self.scenario, self.los, radio.carrier_hz, h_bs_m, h_ut_m,
                               min_distance_m)


@hookimpl
def ilac_register_propagation_models(register):
    for scenario in ("uma", "umi"):
        for los in (True, False):
            register(TR38901(scenario, los))
