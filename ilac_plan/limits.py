"""The allowed range of every quantity a user gives, in one table.

The Python API (:meth:`~ilac_plan.inputs.PlanInputs.build`, :func:`~ilac_plan.evaluate`,
:class:`~ilac_plan.radio.RadioParams`, the layouts), the TOML scenario schema
(:mod:`ilac_plan.scenario`) and the site-table reader (:mod:`ilac_plan.sites`) all read
their ranges from :data:`LIMITS`, so that a value refused by one is refused by all, with
the same words. The ranges are physical (a UE between 10 km below and 100 km above the
ground) or sanity caps on work (at most 50 rings of sites); caps with a legitimate use
beyond them have an override named in the message (``max_points``, ``max_memory_gb``).
"""

from dataclasses import dataclass

from ._validate import check_array, check_scalar


@dataclass(frozen=True)
class Limit:
    """The allowed range of one quantity: ``[low, high]`` (``(low, high]`` when
    ``low_open``), an integer when ``integer``, in ``unit``."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    unit: str = ""
    low_open: bool = False


_M = "m"
#: name -> Limit. Site-table columns, radio fields, plan options and layout parameters.
LIMITS = {
    # positions and heights
    "x_m": Limit(-1e8, 1e8, unit=_M), "y_m": Limit(-1e8, 1e8, unit=_M),
    "lon_deg": Limit(-180.0, 180.0, unit="deg"), "lat_deg": Limit(-90.0, 90.0, unit="deg"),
    "height_m": Limit(-1e4, 1e5, unit=_M), "ue_height_m": Limit(-1e4, 1e5, unit=_M),
    # cells
    "azimuth_deg": Limit(0.0, 360.0, unit="deg"),
    "tilt_deg": Limit(-90.0, 90.0, unit="deg"),
    "electrical_tilt_deg": Limit(-90.0, 90.0, unit="deg"),
    "panel_rows": Limit(1, 64, integer=True),
    "panel_spacing_wavelengths": Limit(0.05, 4.0, unit="wavelengths"),
    "n_antennas": Limit(1, 65536, integer=True),
    "power_dbm": Limit(-100.0, 100.0, unit="dBm"), "eirp_dbm": Limit(-100.0, 150.0, unit="dBm"),
    "gain_dbi": Limit(-50.0, 100.0, unit="dBi"),
    # antenna element spacing: a few wavelengths at most in practice; 10 m is far beyond
    "spacing_m": Limit(1e-4, 10.0, unit=_M),
    "ue_power_dbm": Limit(-100.0, 100.0, unit="dBm"),
    "carrier_hz": Limit(1e6, 1e12, unit="Hz"),
    # radio
    "bandwidth_hz": Limit(1e3, 1e11, unit="Hz"),
    "rb_bandwidth_hz": Limit(1.0, 1e11, unit="Hz"),
    "subcarrier_spacing_hz": Limit(1e3, 1e7, unit="Hz"),
    "n_symbols": Limit(1, 1_000_000, integer=True, unit="symbols"),
    "varsigma": Limit(0.0, 1e6),
    "gnb_power_dbm": Limit(-100.0, 100.0, unit="dBm"),
    "gnb_gain_db": Limit(-50.0, 100.0, unit="dB"), "ue_gain_db": Limit(-50.0, 100.0, unit="dB"),
    "noise_psd_dbm_hz": Limit(-250.0, 0.0, unit="dBm/Hz"),
    "noise_figure_db": Limit(0.0, 50.0, unit="dB"),
    # plan options
    "resolution_m": Limit(0.0, 1e5, unit=_M, low_open=True),
    "target_error_m": Limit(0.0, 1e6, unit=_M, low_open=True),
    "max_capacity_loss": Limit(0.0, 1.0),
    "max_points": Limit(1, None, integer=True),
    "tile_px": Limit(16, 16384, integer=True, unit="px"),
    "margin_m": Limit(0.0, 1e6, unit=_M),
    "max_memory_gb": Limit(0.1, 1e5, unit="GiB"),
    # layouts
    "isd_m": Limit(1.0, 1e6, unit=_M),
    "rings": Limit(0, 50, integer=True),
    "sectors": Limit(1, 12, integer=True),
    "density_per_km2": Limit(0.0, 1e5, unit="1/km^2", low_open=True),
    "bounds_m": Limit(-1e8, 1e8, unit=_M),
    "seed": Limit(0, 2**63 - 1, integer=True),
}


def _limit(name):
    return LIMITS[name.rsplit(".", 1)[-1]]


def check_limit(name, value, *, array=False):
    """``value`` checked against the range of ``name`` (the last dotted part, so that
    ``wrap_around.isd_m`` reads ``isd_m``); a float, an int for integer quantities, or an
    array when ``array``.

    Raises
    ------
    ParameterError
        One line naming ``name`` and its range.
    """
    lim = _limit(name)
    kw = range_kwargs(name)
    if array:
        return check_array(name, value, **kw)
    out = check_scalar(name, value, **kw)
    return int(out) if lim.integer else out


def range_kwargs(name):
    """The range of ``name`` as keywords of :func:`ilac_plan._validate.check_array`."""
    lim = _limit(name)
    return dict(low=lim.low, high=lim.high, integer=lim.integer, unit=lim.unit,
                low_open=lim.low_open)


def limit_field(name, default=..., **extra):
    """A pydantic ``Field`` with the range of ``name`` (``gt``/``ge`` and ``le``)."""
    from pydantic import Field

    lim = _limit(name)
    kw = dict(extra)
    if lim.low is not None:
        kw["gt" if lim.low_open else "ge"] = lim.low
    if lim.high is not None:
        kw["le"] = lim.high
    return Field(default, **kw)


def table_ranges(names):
    """``{name: (low, high, integer)}`` of table columns (the site-table reader's form)."""
    return {n: (LIMITS[n].low, LIMITS[n].high, LIMITS[n].integer) for n in names}
