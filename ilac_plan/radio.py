"""Radio parameters of an ILAC system, with the paper's settings as defaults (Sec. IV-A)."""

from dataclasses import asdict, dataclass, fields

import numpy as np

from .limits import check_limit
from .errors import ParameterError
from .model.linkbudget import (
    THERMAL_NOISE_PSD_DBM_HZ,
    noise_power_dbm,
    nominal_snr,
    wavelength_m,
)

#: Most resource blocks in the band (each one a candidate frequency split).
MAX_RESOURCE_BLOCKS = 100_000

#: The fields checked against :data:`ilac_plan.limits.LIMITS` (``spacing_m`` too, when
#: given).
_CHECKED = ("carrier_hz", "bandwidth_hz", "rb_bandwidth_hz", "subcarrier_spacing_hz",
            "n_symbols", "varsigma", "gnb_power_dbm", "ue_power_dbm", "gnb_gain_db",
            "ue_gain_db", "noise_psd_dbm_hz", "noise_figure_db")


@dataclass(frozen=True)
class RadioParams:
    """Radio parameters shared by every link of a scenario.

    The defaults are the paper's simulation settings (Sec. IV-A; docs/model.md, "Conventions that reproduce the paper").

    Parameters
    ----------
    carrier_hz : float, default 2.6e9
        Carrier frequency. [Hz]
    bandwidth_hz : float, default 20e6
        Total bandwidth :math:`B`. [Hz]
    rb_bandwidth_hz : float, default 180e3
        Bandwidth of one resource block, the unit of frequency splits. [Hz]
    subcarrier_spacing_hz : float, default 15e3
        OFDM subcarrier spacing :math:`\\Delta f`, <= ``rb_bandwidth_hz``; the achievable
        bound takes the PRS's spectrum on this grid. [Hz]
    n_symbols : int, default 200
        Symbols per coherence interval :math:`\\tau_T`, the unit of time splits.
    varsigma : float, default 1
        Waveform coefficient :math:`\\varsigma` of Eq. (6).
    gnb_power_dbm, ue_power_dbm : float, default 13
        Transmit powers :math:`P_{gNB}` and :math:`P_{UE}`. [dBm]
    gnb_gain_db, ue_gain_db : float, default 0
        Antenna gains :math:`G_{gNB}` and :math:`G_{UE}`; they scale both
        :math:`\\rho_{dl}` and :math:`\\rho_{ul}`. [dB]
    noise_psd_dbm_hz : float, default -174
        Noise power spectral density. [dBm/Hz]
    noise_figure_db : float, default 0
        Receiver noise figure. [dB]
    spacing_m : float or None, default None
        Antenna spacing :math:`d_A`; None means half a wavelength. [m]

    Raises
    ------
    ParameterError
        If a field is NaN or outside its range; the message names the field.
    """

    carrier_hz: float = 2.6e9
    bandwidth_hz: float = 20e6
    rb_bandwidth_hz: float = 180e3
    subcarrier_spacing_hz: float = 15e3
    n_symbols: int = 200
    varsigma: float = 1.0
    gnb_power_dbm: float = 13.0
    ue_power_dbm: float = 13.0
    gnb_gain_db: float = 0.0
    ue_gain_db: float = 0.0
    noise_psd_dbm_hz: float = THERMAL_NOISE_PSD_DBM_HZ
    noise_figure_db: float = 0.0
    spacing_m: float | None = None

    def __post_init__(self):
        for name in _CHECKED:
            object.__setattr__(self, name, check_limit(name, getattr(self, name)))
        if self.spacing_m is not None:
            object.__setattr__(self, "spacing_m", check_limit("spacing_m", self.spacing_m))
        if self.rb_bandwidth_hz > self.bandwidth_hz:
            raise ParameterError("rb_bandwidth_hz must be <= bandwidth_hz")
        if self.subcarrier_spacing_hz > self.rb_bandwidth_hz:
            raise ParameterError("subcarrier_spacing_hz must be <= rb_bandwidth_hz")
        if self.bandwidth_hz / self.rb_bandwidth_hz > MAX_RESOURCE_BLOCKS:
            raise ParameterError(
                f"rb_bandwidth_hz must be >= bandwidth_hz / {MAX_RESOURCE_BLOCKS:,} = "
                f"{self.bandwidth_hz / MAX_RESOURCE_BLOCKS:g} Hz (at most "
                f"{MAX_RESOURCE_BLOCKS:,} resource blocks, the candidate splits of a "
                f"frequency split); got {self.rb_bandwidth_hz:g}")

    @property
    def wavelength_m(self):
        """Carrier wavelength :math:`\\lambda`. [m]"""
        return float(wavelength_m(self.carrier_hz))

    @property
    def antenna_spacing_m(self):
        """Antenna spacing :math:`d_A` (``spacing_m`` or :math:`\\lambda/2`). [m]"""
        return self.wavelength_m / 2.0 if self.spacing_m is None else self.spacing_m

    @property
    def noise_dbm(self):
        """Noise power over the whole bandwidth :math:`N`. [dBm]"""
        return float(noise_power_dbm(self.bandwidth_hz, self.noise_psd_dbm_hz,
                                     self.noise_figure_db))

    @property
    def rho_dl(self):
        """Nominal downlink SNR :math:`\\rho_{dl} = P_{gNB}G_{gNB}G_{UE}/N`. [linear]"""
        return float(nominal_snr(self.gnb_power_dbm, self.noise_dbm, self.gnb_gain_db,
                                 self.ue_gain_db))

    @property
    def rho_ul(self):
        """Nominal uplink SNR :math:`\\rho_{ul} = P_{UE}G_{gNB}G_{UE}/N`. [linear]"""
        return float(nominal_snr(self.ue_power_dbm, self.noise_dbm, self.gnb_gain_db,
                                 self.ue_gain_db))

    @property
    def n_resource_blocks(self):
        """Whole resource blocks that fit in the bandwidth."""
        return int(np.floor(self.bandwidth_hz / self.rb_bandwidth_hz + 1e-9))

    def to_dict(self):
        """The parameters as a plain dict (for manifests and scenario files)."""
        return asdict(self)

    @classmethod
    def field_names(cls):
        """Names of the parameters, in order."""
        return tuple(f.name for f in fields(cls))
