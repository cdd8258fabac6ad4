"""The paper's equations as plain vectorized numpy functions.

Modules follow the paper: :mod:`~ilac_plan.model.linkbudget` (Sec. II),
:mod:`~ilac_plan.model.capacity` (Eqs. 1, 15-18), :mod:`~ilac_plan.model.crb`
(Eqs. 3-7) and :mod:`~ilac_plan.model.losses` (Definitions 1-4, Theorems 1-2 as
corrected; docs/model.md lists the corrections); :mod:`~ilac_plan.model.network` fuses
the bound over several cells. This is the reference that the kernel is tested against.
"""

from .capacity import (
    ClosedFormConstants,
    best_pilot_capacity,
    mr_capacity,
    capacity_bound,
    capacity_closed_form,
    closed_form_constants,
    optimal_pilot_length,
)
from .crb import crb_aoa, crb_position, crb_toa, crb_xy
from .linkbudget import (
    SPEED_OF_LIGHT_M_S,
    THERMAL_NOISE_PSD_DBM_HZ,
    db_to_linear,
    distance_for_path_gain_m,
    free_space_path_gain,
    free_space_path_loss_db,
    linear_to_db,
    noise_power_dbm,
    nominal_snr,
    wavelength_m,
)
from .antenna import sector_attenuation_db
from .network import MEASUREMENTS, network_crb_m2, network_information
from .propagation import DropModel, LogDistanceTerm, PathLossModel, PathLossTable, free_space
from .losses import (
    frequency_capacity_loss,
    frequency_capacity_loss_closed_form,
    frequency_crb_loss,
    frequency_crb_loss_closed_form,
    frequency_crb_loss_for_capacity_loss,
    frequency_loc_bandwidth_for_capacity_loss,
    time_capacity_loss,
    time_capacity_loss_closed_form,
    time_comm_symbols_for_capacity_loss,
    time_crb_loss,
    time_crb_loss_for_capacity_loss,
)

__all__ = [
    "ClosedFormConstants", "DropModel", "LogDistanceTerm", "PathLossModel", "PathLossTable",
    "free_space",
    "sector_attenuation_db", "SPEED_OF_LIGHT_M_S", "THERMAL_NOISE_PSD_DBM_HZ",
    "best_pilot_capacity", "mr_capacity", "capacity_bound", "capacity_closed_form",
    "closed_form_constants", "crb_aoa", "crb_position", "crb_toa", "crb_xy", "db_to_linear",
    "distance_for_path_gain_m", "free_space_path_gain", "free_space_path_loss_db",
    "frequency_capacity_loss", "frequency_capacity_loss_closed_form", "frequency_crb_loss",
    "frequency_crb_loss_closed_form", "frequency_crb_loss_for_capacity_loss",
    "frequency_loc_bandwidth_for_capacity_loss", "linear_to_db", "noise_power_dbm",
    "nominal_snr", "optimal_pilot_length", "time_capacity_loss",
    "time_capacity_loss_closed_form", "time_comm_symbols_for_capacity_loss", "time_crb_loss",
    "time_crb_loss_for_capacity_loss", "wavelength_m", "MEASUREMENTS", "network_crb_m2",
    "network_information",
]
