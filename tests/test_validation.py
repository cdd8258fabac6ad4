"""Bad inputs raise ParameterError (a ValueError) naming the parameter and its range."""

import math

import numpy as np
import pytest

from ilac_plan import RadioParams
from ilac_plan.errors import ParameterError
from ilac_plan.model import capacity as cap
from ilac_plan.model import crb, linkbudget, losses

LINK = dict(n_antennas=8, snr_dl=30.0, snr_ul=30.0)


@pytest.mark.parametrize("field", RadioParams.field_names()[:-1])
def test_radio_fields_reject_nan(field):
    with pytest.raises(ParameterError, match=f"^{field} must be"):
        RadioParams(**{field: math.nan})


@pytest.mark.parametrize("field,value", [("bandwidth_hz", -1.0), ("n_symbols", 0),
                                         ("n_symbols", 2.5), ("carrier_hz", 0.0),
                                         ("gnb_power_dbm", 1e3), ("spacing_m", -0.01)])
def test_radio_fields_reject_out_of_range(field, value):
    with pytest.raises(ParameterError, match=f"^{field} must be"):
        RadioParams(**{field: value})


def test_radio_defaults_are_the_papers():
    radio = RadioParams()
    assert round(radio.noise_dbm, 2) == -100.99
    assert radio.rho_dl == radio.rho_ul
    assert radio.antenna_spacing_m == pytest.approx(radio.wavelength_m / 2)
    assert radio.n_resource_blocks == 111


@pytest.mark.parametrize("call,name", [
    (lambda: cap.mr_capacity(-1.0, 100, 2, **LINK), "bandwidth_hz"),
    (lambda: cap.mr_capacity(1e6, 100, 2, n_antennas=0, snr_dl=1, snr_ul=1), "n_antennas"),
    (lambda: cap.mr_capacity(1e6, 100, 2, n_antennas=2.5, snr_dl=1, snr_ul=1), "n_antennas"),
    (lambda: cap.mr_capacity(1e6, -3, 2, **LINK), "n_comm_symbols"),
    (lambda: cap.mr_capacity(1e6, 100, 2, n_symbols=np.nan, **LINK), "n_symbols"),
    (lambda: cap.best_pilot_capacity(1e6, 201, **LINK), "n_comm_symbols"),
    (lambda: cap.capacity_closed_form(np.nan, 100, **LINK), "bandwidth_hz"),
    (lambda: cap.capacity_closed_form(1e6, 100, n_antennas=8, snr_dl=-1, snr_ul=1), "snr_dl"),
    (lambda: crb.crb_toa(-1.0, n_antennas=8, snr=1.0, n_loc_symbols=1), "loc_bandwidth_hz"),
    (lambda: crb.crb_aoa(2.0, n_antennas=8, snr=1.0, n_loc_symbols=1, wavelength_m=0.1),
     "theta_rad"),
    (lambda: crb.crb_position(np.nan, 0, 1e6, 1, n_antennas=8, snr=1, wavelength_m=0.1),
     "distance_m"),
    (lambda: linkbudget.nominal_snr(np.nan, -100.0), "power_dbm"),
    (lambda: linkbudget.noise_power_dbm(-5.0), "bandwidth_hz"),
    (lambda: losses.time_capacity_loss(201, bandwidth_hz=1e6, **LINK), "n_loc_symbols"),
    (lambda: losses.frequency_capacity_loss(2e6, bandwidth_hz=1e6, **LINK), "loc_bandwidth_hz"),
])
def test_model_functions_name_the_bad_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call()


def test_error_names_the_element_of_an_array():
    with pytest.raises(ParameterError, match=r"got nan \(element 2\)"):
        cap.mr_capacity([1e6, 1e6, np.nan], 100, 2, **LINK)
