"""Link budget of the paper's system model (Sec. II and Sec. IV-A).

Free-space path loss, thermal noise over the bandwidth, and the nominal SNRs
:math:`\\rho_{dl} = P_{gNB} G_{gNB} G_{UE} / N` and
:math:`\\rho_{ul} = P_{UE} G_{gNB} G_{UE} / N` (text below Eq. 1). The large-scale
fading coefficient :math:`\\beta` is the free-space path gain, so the received SNR per
antenna is :math:`\\rho_{dl}\\beta`.
"""

import numpy as np

from .._validate import check_array

SPEED_OF_LIGHT_M_S = 299_792_458.0
"""Speed of light in vacuum. [m/s]"""

THERMAL_NOISE_PSD_DBM_HZ = -174.0
"""Thermal noise power spectral density at 290 K used by the paper. [dBm/Hz]"""


def db_to_linear(value_db):
    """Convert a power ratio from decibels to linear scale.

    Parameters
    ----------
    value_db : array_like
        Ratio. [dB]

    Returns
    -------
    ndarray
        Ratio. [linear]
    """
    return np.power(10.0, np.asarray(value_db, dtype=np.float64) / 10.0)


def linear_to_db(value):
    """Convert a power ratio from linear scale to decibels (0 gives -inf).

    Parameters
    ----------
    value : array_like
        Ratio, >= 0. [linear]

    Returns
    -------
    ndarray
        Ratio. [dB]
    """
    value = check_array("value", value, low=0.0, allow_inf=True)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(value)


def wavelength_m(carrier_hz):
    """Carrier wavelength :math:`\\lambda = c / f_c`.

    Parameters
    ----------
    carrier_hz : array_like
        Carrier frequency, > 0. [Hz]

    Returns
    -------
    ndarray
        Wavelength. [m]

    Examples
    --------
    >>> round(float(wavelength_m(2.6e9)), 5)
    0.1153
    """
    carrier_hz = check_array("carrier_hz", carrier_hz, low=0.0, low_open=True, unit="Hz")
    return SPEED_OF_LIGHT_M_S / carrier_hz


def noise_power_dbm(bandwidth_hz, noise_psd_dbm_hz=THERMAL_NOISE_PSD_DBM_HZ, noise_figure_db=0.0):
    """Noise power over a bandwidth, :math:`N = N_0 + 10\\log_{10} B + NF`.

    Parameters
    ----------
    bandwidth_hz : array_like
        Receiver bandwidth, > 0. [Hz]
    noise_psd_dbm_hz : float, default -174
        Noise power spectral density. [dBm/Hz]
    noise_figure_db : float, default 0
        Receiver noise figure (the paper uses none). [dB]

    Returns
    -------
    ndarray
        Noise power. [dBm]

    Examples
    --------
    >>> round(float(noise_power_dbm(20e6)), 2)
    -100.99
    """
    bandwidth_hz = check_array("bandwidth_hz", bandwidth_hz, low=0.0, low_open=True, unit="Hz")
    noise_psd_dbm_hz = check_array("noise_psd_dbm_hz", noise_psd_dbm_hz, low=-250, high=0,
                                   unit="dBm/Hz")
    noise_figure_db = check_array("noise_figure_db", noise_figure_db, low=0, high=50, unit="dB")
    return noise_psd_dbm_hz + 10.0 * np.log10(bandwidth_hz) + noise_figure_db


def nominal_snr(power_dbm, noise_dbm, gnb_gain_db=0.0, ue_gain_db=0.0):
    """Nominal SNR :math:`\\rho = P G_{gNB} G_{UE} / N` (text below Eq. 1).

    With the gNB's power this is :math:`\\rho_{dl}`, with the UE's power :math:`\\rho_{ul}`.

    Parameters
    ----------
    power_dbm : array_like
        Transmit power. [dBm]
    noise_dbm : array_like
        Noise power at the receiver. [dBm]
    gnb_gain_db, ue_gain_db : array_like, default 0
        Antenna (beamforming) gains at the gNB and the UE. [dB]

    Returns
    -------
    ndarray
        Nominal SNR before path loss. [linear]
    """
    power_dbm = check_array("power_dbm", power_dbm, low=-100, high=100, unit="dBm")
    noise_dbm = check_array("noise_dbm", noise_dbm, low=-300, high=100, unit="dBm")
    gnb_gain_db = check_array("gnb_gain_db", gnb_gain_db, low=-50, high=100, unit="dB")
    ue_gain_db = check_array("ue_gain_db", ue_gain_db, low=-50, high=100, unit="dB")
    return db_to_linear(power_dbm + gnb_gain_db + ue_gain_db - noise_dbm)


def free_space_path_gain(distance_m, carrier_hz):
    """Free-space large-scale fading coefficient :math:`\\beta = (\\lambda / 4\\pi r)^2`.

    Parameters
    ----------
    distance_m : array_like
        Distance between UE and gNB, >= 0 (0 gives +inf). [m]
    carrier_hz : array_like
        Carrier frequency. [Hz]

    Returns
    -------
    ndarray
        Path gain :math:`\\beta`. [linear]
    """
    distance_m = check_array("distance_m", distance_m, low=0.0, allow_inf=True, unit="m")
    lam = wavelength_m(carrier_hz)
    with np.errstate(divide="ignore"):
        return (lam / (4.0 * np.pi * distance_m)) ** 2


def free_space_path_loss_db(distance_m, carrier_hz):
    """Free-space path loss :math:`20\\log_{10}(4\\pi r/\\lambda)` (negative below ``r = λ/4π``).

    Parameters
    ----------
    distance_m : array_like
        Distance, >= 0. [m]
    carrier_hz : array_like
        Carrier frequency. [Hz]

    Returns
    -------
    ndarray
        Path loss. [dB]

    Examples
    --------
    >>> round(float(free_space_path_loss_db(1000.0, 2.6e9)), 2)
    100.75
    """
    return -linear_to_db(free_space_path_gain(distance_m, carrier_hz))


def distance_for_path_gain_m(path_gain, carrier_hz):
    """Distance at which free space gives a path gain, :math:`r = \\lambda / (4\\pi\\sqrt{\\beta})`.

    This is how the paper turns a curve's SNR into a distance (docs/model.md, "Conventions that reproduce the paper").

    Parameters
    ----------
    path_gain : array_like
        Large-scale fading coefficient :math:`\\beta`, > 0. [linear]
    carrier_hz : array_like
        Carrier frequency. [Hz]

    Returns
    -------
    ndarray
        Distance. [m]
    """
    path_gain = check_array("path_gain", path_gain, low=0.0, low_open=True, allow_inf=True)
    return wavelength_m(carrier_hz) / (4.0 * np.pi * np.sqrt(path_gain))
