"""Site tables as operators have them: read, recognise the columns, validate, project.

A site table has one row per cell (one sector array). ilac_plan's column names:

=======================  =============================================================
``cell_id``, ``site_id``  strings (always the table's own)
``x_m``, ``y_m``          position in a projected CRS [m], or ``lon_deg``, ``lat_deg``
``azimuth_deg``           array broadside, clockwise from north [deg]
``n_antennas``            antennas (ports, TRX) of the array
``power_dbm``             transmit power [dBm]; or ``eirp_dbm`` (= power + gain)
``gain_dbi``              antenna gain [dBi] (optional)
``height_m``              antenna height [m] (optional)
``tilt_deg``,             mechanical and electrical downtilt, positive down [deg] (optional;
``electrical_tilt_deg``   used by the TR 38.901 3-D antenna, ``antenna="3gpp"``)
``panel_rows``,           rows M of a vertical panel (one TXRU) and their spacing
``panel_spacing_``        [wavelengths] (optional, default 1 and 0.5; ``antenna="3gpp"``:
``wavelengths``           M > 1 steers the array's beam by the electrical tilt)
``spacing_m``,            antenna spacing [m] and UE power [dBm] per cell (optional)
``ue_power_dbm``
``band``, ``carrier_hz``  carrier or band (optional, kept; not used by the model)
=======================  =============================================================

Headers are normalised before they are looked up (case, spaces, hyphens, underscores,
units in parentheses or brackets, degree signs: ``Tx Power (dBm)`` is ``tx_power_dbm``,
``Azimuth [°]`` is ``azimuth_deg``) and matched against :data:`ALIASES`, which covers
the usual operator exports; ``column_map`` renames the rest. Unused columns are named
once in a warning. Every problem of a table is reported together (up to 20), each with
its line or row, cell id, column, value and allowed range.
"""

import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._validate import _is_real, short_repr
from .errors import IlacWarning, ParameterError
from .limits import table_ranges

#: Every column ilac_plan reads: name -> (low, high, integer).
#: The numeric columns and their ranges, ``{column: (low, high, integer)}``, from the
#: shared table :data:`ilac_plan.limits.LIMITS`.
RANGES = table_ranges(("x_m", "y_m", "lon_deg", "lat_deg", "azimuth_deg", "n_antennas",
                       "power_dbm", "eirp_dbm", "spacing_m", "ue_power_dbm", "gain_dbi",
                       "height_m", "tilt_deg", "electrical_tilt_deg", "panel_rows",
                       "panel_spacing_wavelengths", "carrier_hz"))
NUMERIC = tuple(RANGES)
TEXT = ("cell_id", "site_id", "band")
REQUIRED = ("azimuth_deg", "n_antennas")
#: Columns recognised and kept, but not used by the model (named in a warning).
NOT_MODELLED = ("band", "carrier_hz")
#: EIRP given with power and gain must agree to within this. [dB]
EIRP_TOLERANCE_DB = 0.5
MAX_PROBLEMS = 20
#: ``column_map`` target that drops a column (``--column-map "Cell Name=-"``).
DROP = "-"


def _names(canonical, *aliases):
    return {a: canonical for a in (canonical,) + aliases}


#: Normalised header -> ilac_plan column.
ALIASES = {
    **_names("cell_id", "cell", "cellid", "ci", "cell_name", "cellname", "cell_label", "name",
             "sector", "sector_id", "sectorid", "sector_name", "cgi", "ecgi", "ncgi", "eci",
             "nci", "cell_identity", "cell_global_id"),
    **_names("site_id", "site", "siteid", "site_name", "sitename", "site_code", "enodeb",
             "enodeb_id", "enb", "enb_id", "enodeb_name", "gnodeb", "gnodeb_id", "gnb",
             "gnb_id", "gnodeb_name", "bts", "bts_id", "nodeb", "node", "node_id",
             "station", "station_id"),
    **_names("x_m", "x", "easting", "easting_m", "east", "east_m", "x_coord", "x_coordinate",
             "coord_x"),
    **_names("y_m", "y", "northing", "northing_m", "north", "north_m", "y_coord",
             "y_coordinate", "coord_y"),
    **_names("lon_deg", "lon", "lng", "long", "longitude", "longitude_deg", "long_deg",
             "lon_wgs84", "long_wgs84", "longitude_wgs84", "lon_wgs_84", "longitude_wgs_84",
             "lon_dd", "longitude_dd", "longitude_decimal", "wgs84_lon", "wgs84_longitude"),
    **_names("lat_deg", "lat", "latitude", "latitude_deg", "lat_wgs84", "latitude_wgs84",
             "lat_wgs_84", "latitude_wgs_84", "lat_dd", "latitude_dd", "latitude_decimal",
             "wgs84_lat", "wgs84_latitude"),
    **_names("azimuth_deg", "azimuth", "azi", "az", "az_deg", "bearing", "bearing_deg",
             "orientation", "orientation_deg", "direction", "direction_deg",
             "antenna_azimuth", "antenna_azimuth_deg", "sector_azimuth", "azimut"),
    **_names("tilt_deg", "tilt", "mechanical_tilt", "mechanical_tilt_deg", "mech_tilt",
             "mech_tilt_deg", "m_tilt", "mtilt", "downtilt", "downtilt_deg",
             "mechanical_downtilt", "mechanical_downtilt_deg", "antenna_tilt"),
    **_names("electrical_tilt_deg", "electrical_tilt", "elec_tilt", "elec_tilt_deg",
             "e_tilt", "etilt", "e_tilt_deg", "electrical_downtilt", "electrical_downtilt_deg",
             "ret", "ret_deg", "remote_electrical_tilt"),
    **_names("panel_rows", "vertical_elements", "elements_vertical", "panel_m"),
    **_names("panel_spacing_wavelengths", "vertical_spacing_wavelengths", "d_v_wavelengths",
             "dv_wavelengths", "panel_spacing"),
    **_names("height_m", "height", "antenna_height", "antenna_height_m", "ant_height",
             "ant_height_m", "agl", "agl_m", "height_agl", "height_agl_m", "antenna_agl",
             "h_m", "mast_height_m", "tower_height_m", "hba", "hba_m"),
    **_names("power_dbm", "power", "tx_power", "tx_power_dbm", "txpower", "txpower_dbm",
             "transmit_power", "transmit_power_dbm", "p_dbm", "output_power",
             "output_power_dbm", "max_power", "max_power_dbm", "max_tx_power_dbm",
             "pwr_dbm", "cell_power_dbm", "max_tx_power", "cell_power", "pwr"),
    **_names("eirp_dbm", "eirp", "eirp_dbm_", "max_eirp_dbm"),
    **_names("gain_dbi", "gain", "gain_db", "antenna_gain", "antenna_gain_dbi",
             "antenna_gain_db", "ant_gain", "ant_gain_dbi", "ant_gain_db"),
    **_names("n_antennas", "antennas", "num_antennas", "number_of_antennas", "n_ant", "nant",
             "antenna_count", "n_antenna", "ports", "n_ports", "num_ports", "antenna_ports",
             "number_of_ports", "trx", "n_trx", "num_trx", "trx_count", "number_of_trx",
             "tx_antennas", "n_tx", "ntx", "number_of_tx", "num_tx", "no_of_antennas",
             "antennas_tx", "number_of_antenna_ports"),
    **_names("spacing_m", "spacing", "antenna_spacing", "antenna_spacing_m", "d_a_m"),
    **_names("ue_power_dbm", "ue_power", "ue_tx_power_dbm"),
    **_names("band", "frequency_band", "freq_band", "nr_band", "lte_band", "band_name"),
    **_names("carrier_hz", "carrier", "frequency", "freq", "carrier_frequency",
             "dl_frequency", "frequency_hz", "freq_hz", "carrier_frequency_hz",
             "dl_frequency_hz"),
}
#: Unit words a header may carry: word -> (unit, conversion to that unit).
UNITS = {
    "m": ("m", None), "meter": ("m", None), "meters": ("m", None), "metre": ("m", None),
    "metres": ("m", None), "ft": ("m", "ft"), "feet": ("m", "ft"), "foot": ("m", "ft"),
    "deg": ("deg", None), "degree": ("deg", None), "degrees": ("deg", None),
    "dbm": ("dbm", None), "dbw": ("dbm", "dbw"), "w": ("dbm", "w"), "watt": ("dbm", "w"),
    "watts": ("dbm", "w"), "mw": ("dbm", "mw"),
    "dbi": ("dbi", None), "db": ("dbi", None), "dbd": ("dbi", "dbd"),
    "hz": ("hz", None), "khz": ("hz", "khz"), "mhz": ("hz", "mhz"), "ghz": ("hz", "ghz"),
    "rad": ("deg", "rad"),
}
#: Words that qualify a header without changing its meaning.
QUALIFIERS = {"agl", "wgs84", "wgs", "84", "etrs89", "decimal", "dd", "value", "nominal"}
#: The unit of each ilac_plan column.
COLUMN_UNITS = {"x_m": "m", "y_m": "m", "height_m": "m", "spacing_m": "m",
                "lon_deg": "deg", "lat_deg": "deg", "azimuth_deg": "deg", "tilt_deg": "deg",
                "electrical_tilt_deg": "deg", "power_dbm": "dbm", "eirp_dbm": "dbm",
                "ue_power_dbm": "dbm", "gain_dbi": "dbi", "carrier_hz": "hz"}
CONVERSIONS = {
    "ft": lambda v: v * 0.3048, "dbw": lambda v: v + 30.0,
    "w": lambda v: 10.0 * np.log10(v) + 30.0, "mw": lambda v: 10.0 * np.log10(v),
    "dbd": lambda v: v + 2.15, "khz": lambda v: v * 1e3, "mhz": lambda v: v * 1e6,
    "ghz": lambda v: v * 1e9, "rad": np.rad2deg,
}


def _split_unit(key):
    """A normalised header as ``(base, unit word)``: its first unit word after the first
    word is the unit; qualifier words are dropped (``tx_power_w`` -> ``("tx_power", "w")``,
    ``height_m_agl`` -> ``("height", "m")``)."""
    unit, kept = None, []
    for w in key.split("_"):
        if w in UNITS and unit is None and kept:
            unit = w
        elif w not in QUALIFIERS:
            kept.append(w)
    return "_".join(kept), unit


def _unit_conversion(unit, target):
    """The conversion from a header's unit word to ``target``'s unit (None: none needed)."""
    want = COLUMN_UNITS.get(target)
    if unit is None or want is None:
        return None
    have, conversion = UNITS[unit]
    if have != want:
        raise ParameterError(f"sites: a header in {unit} cannot be {target} (in {want}); "
                             "rename it with --column-map or convert it")
    return conversion


def _lookup(key):
    """``(column, conversion)`` of a normalised header, or ``(None, None)``: an exact alias,
    else the alias of the header without its unit and qualifier words, converted from
    that unit (``tx_power_w`` is ``tx_power`` in watts: converted to dBm)."""
    if key in ALIASES:
        return ALIASES[key], None
    base, unit = _split_unit(key)
    target = ALIASES.get(base)
    if target is None or unit is None:
        return target, None
    if target not in COLUMN_UNITS:
        raise ParameterError(f"sites: a header in {unit} cannot be {target}; rename it with "
                             "--column-map or convert it")
    return target, _unit_conversion(unit, target)


def normalise_header(name):
    """The lookup key of a header: lower case, units and words joined by ``_``.

    ``"Tx Power (dBm)"`` -> ``"tx_power_dbm"``, ``"Azimuth [°]"`` -> ``"azimuth_deg"``,
    ``"LAT (WGS84)"`` -> ``"lat_wgs84"``, ``"Site-ID"`` -> ``"site_id"``.
    """
    s = str(name).replace("\ufeff", "").strip().lower()
    s = s.replace("°", " deg ").replace("º", " deg ").replace("µ", "u")
    s = re.sub(r"[()\[\]{}]", " ", s)
    s = re.sub(r"[^0-9a-z]+", "_", s).strip("_")
    return s


def _where(df, i, source, line_offset, line_numbers=None):
    cell = f" (cell_id {df['cell_id'].iloc[i]!r})" if "cell_id" in df.columns else ""
    if source:
        line = line_numbers[i] if line_numbers is not None else i + line_offset
        return f"{source} line {line}{cell}"
    return f"row {i}{cell}"


def normalise_columns(df, column_map=None):
    """Rename recognised headers to ilac_plan's column names.

    Parameters
    ----------
    df : pandas.DataFrame
    column_map : dict, optional
        ``{header in the table: ilac_plan column}`` for headers :data:`ALIASES` does not
        know (the header as written, or normalised).

    Returns
    -------
    df : pandas.DataFrame
        A renamed copy; ``attrs["unit_conversions"]`` names the columns whose header
        carried another unit (W, mW, dBW, ft, dBd, kHz/MHz/GHz, rad), converted when
        :func:`validate_sites` parses them.
    renamed : dict
        ``{original header: new name}`` for every column that was renamed.
    """
    column_map = dict(column_map or {})
    names = [str(c) for c in df.columns]
    seen = set()
    for name in names:
        if name in seen:
            raise ParameterError(f"sites: column {name!r} appears twice; keep one")
        seen.add(name)
    known = set(NUMERIC) | set(TEXT)
    for old, new in column_map.items():
        if new not in known and new != DROP:
            raise ParameterError(f"column_map: {old!r} -> {new!r}: unknown column (allowed: "
                                 f"{', '.join(sorted(known))}, or - to ignore the column)")
    by_norm = {normalise_header(k): v for k, v in column_map.items()}
    renamed, convert = {}, dict(df.attrs.get("unit_conversions", {}))
    drop = []
    for col in df.columns:
        key = normalise_header(col)
        target = column_map.get(col) or by_norm.get(key)
        if target == DROP:
            drop.append(col)
            continue
        if target is not None:
            try:
                conversion = _unit_conversion(_split_unit(key)[1], target)
            except ParameterError as exc:
                raise ParameterError(f"{exc} (column {col!r})") from None
            if conversion is not None:
                convert[target] = conversion
        if target is None:
            try:
                target, conversion = _lookup(key)
            except ParameterError as exc:
                raise ParameterError(f"{exc} (column {col!r})") from None
            if conversion is not None:
                convert[target] = conversion
        if target is None:
            continue
        if target in renamed.values():
            first = next(k for k, v in renamed.items() if v == target)
            raise ParameterError(f"sites: columns {first!r} and {col!r} both mean {target}; "
                                 f"keep one, or ignore the other with --column-map "
                                 f"\"{col}=-\" (column_map {{{col!r}: '-'}})")
        if target != col:
            renamed[col] = target
    clash = [c for c in renamed.values() if c in df.columns and c not in renamed]
    if clash:
        other = next(k for k, v in renamed.items() if v == clash[0])
        raise ParameterError(f"sites: columns {clash[0]!r} and {other!r} both mean "
                             f"{clash[0]}; keep one")
    out = df.drop(columns=drop).rename(columns=renamed)
    out.attrs["unit_conversions"] = convert     # applied by validate_sites, after parsing
    return out, renamed


def _numbers(series, decimal_comma=False):
    """A column as float64 (NaN where a value is not a real number: booleans, complex
    numbers, dates, durations, lists are not), and whether each value was empty."""
    kind = series.dtype.kind
    if kind in "bcmM":
        return np.full(len(series), np.nan), series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values)
    if kind == "O":         # mixed Python objects: real numbers and text only
        real = np.array([_is_real(v) for v in series], bool)
        text = np.array([isinstance(v, str) for v in series], bool)
        keep = real | text | series.isna().to_numpy()
        if not keep.all():
            series = series.where(keep, other="not a number")
    text = series.astype("string").str.strip()
    empty = (text.isna() | (text == "")).to_numpy()
    if decimal_comma:          # 1.234,5 -> 1234.5 (a dot is a thousands separator there)
        text = text.str.replace(r"^(-?\d{1,3}(?:\.\d{3})+)(?=,|$)",
                                lambda m: m.group(1).replace(".", ""), regex=True)
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values, empty


def _shown(value):
    if isinstance(value, np.generic):
        value = value.item()
    try:
        if value is None or (np.ndim(value) == 0 and pd.isna(value)) \
                or str(value).strip() == "":
            return "empty"
    except (TypeError, ValueError):
        pass
    if isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, (bool, np.bool_)):
        return f"{value:g}"
    return short_repr(value, 40)


#: Sites whose x_m/y_m all fit in lon/lat ranges and span less than this many metres are
#: taken for degrees given as metres (no network has two cells 2 m apart everywhere).
DEGREE_LIKE_SPAN_M = 2.0


def _refuse_degrees_as_metres(out, where):
    """Refuse x_m/y_m columns that hold longitudes and latitudes."""
    if "x_m" not in out.columns or "y_m" not in out.columns:
        return
    x, y = out["x_m"].to_numpy(float), out["y_m"].to_numpy(float)
    if len(np.unique(np.column_stack([x, y]), axis=0)) < 2:
        return
    span = max(np.ptp(x), np.ptp(y))
    if np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90) and span < DEGREE_LIKE_SPAN_M:
        raise ParameterError(
            f"sites{where}: x_m/y_m span only {span:.3g} m and lie within lon/lat ranges: "
            "they look like degrees; name the columns lon_deg/lat_deg (read_sites projects "
            "them to metres) or give metres")


def validate_sites(df, source="", *, decimal_comma=False, line_offset=2, warn=None,
                   line_numbers=None):
    """Check a site table and return a clean copy (numbers as float, ids as strings).

    Parameters
    ----------
    df : pandas.DataFrame
        The table, with ilac_plan's or recognised column names.
    source : str
        File name, used to report line numbers (CSV: the header is line 1).
    decimal_comma : bool
        Numbers written with a decimal comma (``13,38``).
    line_offset : int
        File line of row 0.
    line_numbers : array of int, optional
        File line of each row (overrides ``line_offset``).
    warn : bool, optional
        Warn about unused columns, made-up ids and unmodelled tilt (default: unless the
        table was validated already).

    Raises
    ------
    ParameterError
        One line with every problem (up to 20): a missing column, a non-numeric or empty
        value, a value outside its range, a duplicate ``cell_id``, an EIRP that disagrees
        with power + gain. Each names the line (or row), the cell id and the column.
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"sites must be a pandas DataFrame; got {type(df).__name__}")
    if warn is None:
        warn = not df.attrs.get("ilac_validated", False)
    attrs = dict(df.attrs)
    df, _ = normalise_columns(df)
    df = df.reset_index(drop=True)
    where = f" in {source}" if source else ""
    if len(df) == 0:
        raise ParameterError(f"sites{where}: the table has no rows")
    cols = set(df.columns)
    missing = [c for c in REQUIRED if c not in cols]
    if not ({"x_m", "y_m"} <= cols or {"lon_deg", "lat_deg"} <= cols):
        missing.insert(0, "x_m and y_m (or lon_deg and lat_deg)")
    if "power_dbm" not in cols and "eirp_dbm" not in cols:
        missing.append("power_dbm (or eirp_dbm)")
    if missing:
        raise ParameterError(
            f"sites{where}: missing column {missing[0]} (required: x_m, y_m or lon_deg, "
            f"lat_deg; azimuth_deg, n_antennas, power_dbm or eirp_dbm; found: "
            f"{', '.join(map(str, df.columns))})")
    out = df.copy()
    notes = []
    problems = []            # (row, column, message)
    for col in ("cell_id", "site_id"):
        if col in cols:
            values = out[col]
            if pd.api.types.is_float_dtype(values.dtype) and \
                    np.all(np.isnan(values) | (values == np.round(values))):
                values = values.astype("Int64")       # 1.0 from a float column is "1"
            text = values.astype("string").str.strip()
            empty = (text.isna() | (text == "")).to_numpy()
            for i in np.flatnonzero(empty)[:MAX_PROBLEMS]:
                problems.append((i, col, "must not be empty"))
            out[col] = text.fillna("").astype(object)
    if "cell_id" not in cols and "site_id" in cols:
        sector = out.groupby(out["site_id"].astype(str), sort=False).cumcount().astype(int) + 1
        out.insert(0, "cell_id", out["site_id"].astype(str) + "_" + sector.astype(str))
        notes.append("no cell id column: cell ids made from the site id and the sector "
                     f"index ({out['cell_id'].iloc[0]}, ...)")
    elif "cell_id" not in cols:
        lines = line_numbers if line_numbers is not None else np.arange(len(out)) + line_offset
        out.insert(0, "cell_id", [f"L{lines[i]}" if source else f"R{i}"
                                  for i in range(len(out))])
        notes.append("no cell or site id column: cell ids made from the "
                     f"{'file line' if source else 'row'} numbers ({out['cell_id'].iloc[0]}, "
                     "...); add a cell id column to name the cells")
    for col in NUMERIC:
        if col not in cols:
            continue
        raw = out[col]
        values, empty = _numbers(raw, decimal_comma)
        conversion = df.attrs.get("unit_conversions", {}).get(col)
        if conversion is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = CONVERSIONS[conversion](values)
        low, high, integer = RANGES[col]
        nan = np.isnan(values)
        for i in np.flatnonzero(nan)[:MAX_PROBLEMS]:
            problems.append((i, col, f"must be a number; got {_shown(raw.iloc[i])}"))
        with np.errstate(invalid="ignore"):
            bad = ~nan & ((values < low) | (values > high))
            if integer:
                bad |= ~nan & (values != np.round(values))
        if col == "power_dbm":
            bad &= values != -np.inf        # a switched-off cell
        kind = "an integer" if integer else "a number"
        for i in np.flatnonzero(bad)[:MAX_PROBLEMS]:
            problems.append((i, col, f"must be {kind} in [{low:g}, {high:g}]; got "
                                     f"{values[i]:g}"))
        out[col] = values
    if "site_id" in cols and "cell_id" in cols and out["cell_id"].duplicated().any() and \
            not out.duplicated(["site_id", "cell_id"]).any():
        out["cell_id"] = out["site_id"].astype(str) + "_" + out["cell_id"].astype(str)
        notes.append("cell ids repeat across sites (sector numbers): cell ids made from the "
                     f"site id and them ({out['cell_id'].iloc[0]}, ...)")
    dup = out["cell_id"].duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup)[:MAX_PROBLEMS]:
        problems.append((i, "cell_id", f"duplicate {out['cell_id'].iloc[i]!r}"))
    if not problems:
        problems += _power_from_eirp(out)
    if not problems and "eirp_dbm" in cols:      # what EIRP gave must be in range too
        for col in ("power_dbm", "gain_dbi"):
            low, high, _ = RANGES[col]
            v = out[col].to_numpy()
            for i in np.flatnonzero((v < low) | (v > high))[:MAX_PROBLEMS]:
                problems.append((i, "eirp_dbm", f"gives {col} = {v[i]:g}, outside "
                                                f"[{low:g}, {high:g}]"))
    if problems:
        problems.sort(key=lambda p: (p[0], p[1]))
        n = len(problems)
        shown = [f"{_where(out, i, source, line_offset, line_numbers)}, column {c}: {m}"
                 for i, c, m in problems[:MAX_PROBLEMS]]
        head = "sites: " if n == 1 else f"sites{where}: {n}{'+' if n >= MAX_PROBLEMS else ''} " \
            "problems: "
        raise ParameterError(head + "; ".join(shown))
    _refuse_degrees_as_metres(out, where)
    unused = [str(c) for c in out.columns if c not in NUMERIC and c not in TEXT
              and c not in ("source_row",)]
    if warn:
        label = f"sites{where}: "
        for note in notes:
            warnings.warn(label + note, IlacWarning, stacklevel=2)
        if unused:
            warnings.warn(f"{label}columns not used (kept): {', '.join(unused)}", IlacWarning,
                          stacklevel=2)
        unmodelled = [c for c in NOT_MODELLED if c in out.columns]
        if unmodelled:
            warnings.warn(f"{label}{', '.join(unmodelled)} read but not modelled yet "
                          "(per-cell carriers do not change the maps; kept in the table)",
                          IlacWarning, stacklevel=2)
    out.attrs.update(attrs)
    out.attrs["unit_conversions"] = {}            # done
    out.attrs["ilac_validated"] = True
    out.attrs["unused"] = unused
    return out


def _power_from_eirp(out):
    """Fill ``power_dbm`` and ``gain_dbi`` from ``eirp_dbm``; problems where all three
    are given and disagree."""
    if "eirp_dbm" not in out.columns:
        return []
    eirp = out["eirp_dbm"].to_numpy()
    if "power_dbm" in out.columns and "gain_dbi" in out.columns:
        diff = np.abs(out["power_dbm"].to_numpy() + out["gain_dbi"].to_numpy() - eirp)
        bad = np.flatnonzero(diff > EIRP_TOLERANCE_DB)[:MAX_PROBLEMS]
        return [(i, "eirp_dbm", f"{eirp[i]:g} dBm is not power_dbm + gain_dbi = "
                                f"{out['power_dbm'].iloc[i] + out['gain_dbi'].iloc[i]:g} dBm "
                                f"(within {EIRP_TOLERANCE_DB:g} dB)") for i in bad]
    if "power_dbm" in out.columns:
        out["gain_dbi"] = eirp - out["power_dbm"].to_numpy()
    else:
        if "gain_dbi" not in out.columns:
            out["gain_dbi"] = 0.0
        out["power_dbm"] = eirp - out["gain_dbi"].to_numpy()
    return []


def local_utm_crs(lon_deg, lat_deg):
    """EPSG code of the UTM zone at the centre of the given coordinates (the circular
    mean of the longitudes, so that sites across the antimeridian stay together)."""
    rad = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    lon = float(np.rad2deg(np.arctan2(np.mean(np.sin(rad)), np.mean(np.cos(rad)))))
    lat = float(np.mean(lat_deg))
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _transformer(src, dst):
    try:
        from pyproj import CRS, Transformer
    except ImportError:  # pragma: no cover - depends on the environment
        raise ParameterError("lon/lat coordinates need pyproj: pip install 'ilac-plan[geo]'") \
            from None
    try:
        return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst),
                                    always_xy=True)
    except Exception as exc:  # noqa: BLE001 - pyproj's CRSError and friends
        raise ParameterError(f"crs: cannot use {dst!r}: {' '.join(str(exc).split())}") \
            from None


def transformer(src, dst):
    """A pyproj transformer ``src -> dst`` taking and giving (x, y) = (lon, lat) order."""
    return _transformer(src, dst)


def project_sites(df, crs=None, source_crs=None):
    """Fill ``x_m``/``y_m`` in the working CRS.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated site table.
    crs : str, optional
        The working CRS (projected, metres); default the local UTM zone of lon/lat
        tables, else ``source_crs``.
    source_crs : str, optional
        CRS of the table's ``x_m``/``y_m`` (e.g. a GeoPackage layer's); they are
        reprojected when it differs from ``crs``.

    Returns
    -------
    df : pandas.DataFrame
    crs : str or None
        The CRS of ``x_m``/``y_m`` (None for a table in metres without a CRS).
    """
    if "lon_deg" in df.columns and "x_m" in df.columns:
        df = _reconcile_positions(df, crs or source_crs)
    if "lon_deg" in df.columns and "x_m" not in df.columns:
        crs = crs or local_utm_crs(df["lon_deg"], df["lat_deg"])
        from .inputs import check_projected_crs

        crs = check_projected_crs(crs, near_lonlat=(float(df["lon_deg"].mean()),
                                                    float(df["lat_deg"].mean())))
        x, y = _transformer("EPSG:4326", crs).transform(df["lon_deg"].to_numpy(),
                                                        df["lat_deg"].to_numpy())
    elif source_crs and crs and source_crs != crs:
        from .inputs import check_projected_crs

        crs = check_projected_crs(crs)
        x, y = _transformer(source_crs, crs).transform(df["x_m"].to_numpy(),
                                                       df["y_m"].to_numpy())
    else:
        return df, crs or source_crs
    out = df.copy()
    out["x_m"], out["y_m"] = np.asarray(x, float), np.asarray(y, float)
    if not (np.isfinite(out["x_m"]).all() and np.isfinite(out["y_m"]).all()):
        raise ParameterError(f"sites: some positions cannot be expressed in {crs} (outside "
                             "its area of use); choose a CRS that covers the sites")
    return out, crs


def _reconcile_positions(df, xy_crs):
    """A table with both lon/lat and x/y: lon/lat define the positions; x/y are checked
    against them in their CRS (when one is known) and then dropped."""
    if xy_crs:
        x, y = _transformer("EPSG:4326", xy_crs).transform(df["lon_deg"].to_numpy(),
                                                           df["lat_deg"].to_numpy())
        off = np.hypot(np.asarray(x) - df["x_m"].to_numpy(), np.asarray(y) - df["y_m"].to_numpy())
        bad = np.flatnonzero(~(off <= 1.0))
        if bad.size:
            i = int(bad[0])
            raise ParameterError(
                f"sites: x_m/y_m and lon_deg/lat_deg disagree by {off[i]:.4g} m in {xy_crs} "
                f"(row {i}, cell_id {df['cell_id'].iloc[i]!r}, and {bad.size - 1} more); the x/y "
                "columns are in another CRS: drop them (--column-map \"X=-\") or give theirs")
    else:
        warnings.warn("sites: both lon/lat and x/y columns, and no CRS for x/y: positions "
                      "from lon/lat (give --crs to check x/y against them)", IlacWarning,
                      stacklevel=3)
    return df.drop(columns=["x_m", "y_m"])


def to_lonlat(crs):
    """A function (x, y) -> (lon, lat) from ``crs`` to WGS 84."""
    return _transformer(crs, "EPSG:4326").transform


# -- reading files ------------------------------------------------------------------------
#: GeoJSON files larger than this are handed to GDAL without the feature check below.
GEOJSON_CHECK_BYTES = 64 * 2**20


def check_geojson(path, name):
    """Refuse a GeoJSON file GDAL would read only in part: a ``features`` member that is
    not a list, or an entry of it that is not a Feature (GDAL drops those silently)."""
    import json

    if path.stat().st_size > GEOJSON_CHECK_BYTES:
        return
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ParameterError(f"{name}: {path.name} is not valid GeoJSON (not JSON text)") \
            from None
    if not isinstance(doc, dict):
        raise ParameterError(f"{name}: {path.name} is not GeoJSON (expected an object with "
                             "a type)")
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise ParameterError(f"{name}: {path.name}: 'features' must be a list of "
                                 "Features")
        for k, f in enumerate(feats):
            if not (isinstance(f, dict) and f.get("type") == "Feature"):
                raise ParameterError(f"{name}: {path.name}: feature {k + 1} is not a GeoJSON "
                                     f"Feature (got {type(f).__name__})")


OGR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".kmz", ".gml",
                ".sqlite", ".tab", ".mif")


def decode(data, encoding=None):
    """Text of a file's bytes: ``encoding`` if given, else UTF-8 (with or without BOM),
    UTF-16 with a BOM, then Windows-1252, then Latin-1. Returns ``(text, encoding)``."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParameterError(f"sites: cannot decode as {encoding}: {exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise ParameterError("sites: cannot decode the file")  # pragma: no cover - latin-1


def sniff_csv(text):
    """``(delimiter, decimal_comma)`` of CSV text: the delimiter among ``, ; tab |`` that
    splits the first lines into the same number of fields, and whether numbers use a
    decimal comma."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    if not lines:
        raise ParameterError("sites: the file is empty")
    best, best_score = ",", -1
    for d in (";", "\t", "|", ","):
        counts = [len(next(csv.reader([ln], delimiter=d))) for ln in lines]
        if counts[0] < 2:
            continue
        score = sum(c == counts[0] for c in counts) * 100 + counts[0]
        if score > best_score:
            best, best_score = d, score
    decimal_comma = False
    if best != ",":
        body = "\n".join(lines[1:])
        decimal_comma = bool(re.search(r"(?:^|[%s])\s*-?\d+(?:\.\d{3})*,\d+\s*(?:[%s]|$)"
                                       % (re.escape(best), re.escape(best)), body, re.M))
    return best, decimal_comma


def read_table(path, *, encoding=None, layer=None):
    """The raw table of a site file and how to read it.

    Returns
    -------
    table : pandas.DataFrame
    info : dict
        ``decimal_comma``, ``encoding``, ``source_crs`` (of a GIS layer's points),
        ``line_offset`` (file line of row 0, CSV only) and ``kind``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    info = {"decimal_comma": False, "encoding": None, "source_crs": None, "line_offset": 2,
            "line_numbers": None, "kind": suffix.lstrip(".") or "csv"}
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            raw = pd.read_excel(path, sheet_name=layer or 0, dtype=object, header=None)
        except ImportError:
            raise ParameterError("Excel site tables need openpyxl: pip install "
                                 "'ilac-plan[excel]'") from None
        except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike
            raise ParameterError(f"sites: cannot read {path.name}: "
                                 f"{' '.join(str(exc).split())}") from None
        raw = raw.dropna(how="all")
        if raw.empty:
            raise ParameterError(f"sites: {path.name}: the sheet is empty")
        records = [["" if pd.isna(v) else str(v) for v in row] for row in raw.to_numpy()]
        h = _header_row(records)
        header = [str(v).strip() for v in records[h]]
        _check_header(header, path.name)
        table = raw.iloc[h + 1:].copy()
        table.columns = [c or f"column {k + 1}" for k, c in enumerate(header)]
        table = table.loc[:, [c for c in table.columns if not c.startswith("column ") or
                              table[c].notna().any()]]
        info["line_numbers"] = raw.index.to_numpy()[h + 1:] + 1     # the sheet's row numbers
        return table.reset_index(drop=True), info
    if suffix in (".parquet", ".pq", ".geoparquet"):
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            if b"geo" in meta:
                import geopandas as gpd

                return _points(gpd.read_parquet(path), path, info)
            return pd.read_parquet(path), info
        except ImportError:
            raise ParameterError("Parquet site tables need pyarrow: pip install pyarrow") \
                from None
        except (OSError, ValueError) as exc:
            raise ParameterError(f"sites: cannot read {path.name}: "
                                 f"{' '.join(str(exc).split())}") from None
    if suffix in OGR_SUFFIXES:
        try:
            import pyogrio
        except ImportError:
            raise ParameterError(f"{suffix} site layers need pyogrio and geopandas: pip "
                                 "install 'ilac-plan[geo]'") from None
        if suffix in (".geojson", ".json"):
            check_geojson(path, "sites")
        layer = _single_layer(path, layer, "--sites-layer")
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer)
        except Exception as exc:  # noqa: BLE001 - pyogrio's DataSourceError and friends
            raise ParameterError(f"sites: cannot read {path.name}: "
                                 f"{' '.join(str(exc).split())}") from None
        return _points(gdf, path, info)
    data = path.read_bytes()
    text, info["encoding"] = decode(data, encoding)
    if "\x00" in text:
        raise ParameterError(f"sites: {path.name} is not a text table (binary data; give "
                             "--encoding for UTF-16 without a byte-order mark)")
    table, info["line_numbers"], info["decimal_comma"] = _read_csv_text(text, path.name)
    return table, info


def _header_row(records, limit=20):
    """Index of the header among the first records: the first that names at least three
    known columns (title rows above it are skipped), else 0."""
    for k, rec in enumerate(records[:limit]):
        known = sum(_safe_lookup(normalise_header(f)) is not None for f in rec if f.strip())
        if known >= 3:
            return k
    return 0


def _check_header(header, name):
    seen = {}
    for k, h in enumerate(header):
        key = normalise_header(h)
        if key and key in seen:
            raise ParameterError(f"sites: {name}: the header {h!r} appears twice (columns "
                                 f"{seen[key] + 1} and {k + 1}); keep one")
        seen.setdefault(key, k)


def _read_csv_text(text, name):
    """A CSV table with the file line of every row (blank lines, quoted line breaks, a
    ``sep=`` line and title rows above the header taken into account)."""
    text = text.lstrip("\ufeff")
    first, _, rest = text.partition("\n")
    offset = 0
    match = re.fullmatch(r"\s*sep=(.)\s*", first.rstrip("\r"))
    if match:                                   # Excel's delimiter hint
        delimiter, text, offset = match.group(1), rest, 1
        _, decimal_comma = sniff_csv(text) if text.strip() else (delimiter, False)
    else:
        delimiter, decimal_comma = sniff_csv(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True,
                        strict=True)
    records, lines = [], []
    previous = 0
    try:
        for rec in reader:
            start, previous = previous + 1, reader.line_num
            if rec and any(f.strip() for f in rec):
                records.append(rec)
                lines.append(start + offset)
    except csv.Error as exc:
        raise ParameterError(f"sites: cannot read {name}: line {reader.line_num + offset}: "
                             f"{exc}") from None
    if not records:
        raise ParameterError(f"sites: {name} is empty")
    h = _header_row(records)
    header = [f.strip() for f in records[h]]
    while header and not header[-1]:            # trailing empty header fields
        header.pop()
    _check_header(header, name)
    rows = []
    for rec, line in zip(records[h + 1:], lines[h + 1:]):
        if len(rec) > len(header) and any(f.strip() for f in rec[len(header):]):
            raise ParameterError(f"sites: {name} line {line}: {len(rec)} fields, but the "
                                 f"header has {len(header)}")
        rows.append((rec + [""] * len(header))[:len(header)])
    if not header:
        raise ParameterError(f"sites: {name}: no header row")
    table = pd.DataFrame(rows, columns=[h_ or f"column {k + 1}" for k, h_ in enumerate(header)],
                         dtype=object)
    return table, np.asarray(lines[h + 1:], dtype=np.int64), decimal_comma


def _safe_lookup(key):
    try:
        return _lookup(key)[0]
    except ParameterError:
        return None


def _single_layer(path, layer, option):
    """The layer to read: ``layer``, or the only one; several without a choice: an error."""
    if layer is not None:
        return layer
    try:
        import pyogrio

        layers = pyogrio.list_layers(path)
    except Exception:  # noqa: BLE001 - the read reports unreadable files
        return None
    if len(layers) > 1:
        names = ", ".join(str(n) for n in layers[:, 0])
        raise ParameterError(f"{path.name} has {len(layers)} layers ({names}); choose one "
                             f"with {option}")
    return None


def _points(gdf, path, info):
    """A point layer as a table: x/y (or lon/lat) from its geometry, with its CRS."""
    geom = gdf.geometry
    if geom is None or len(gdf) == 0:
        raise ParameterError(f"sites: {path.name}: the layer has no features")
    kinds = set(geom.geom_type.dropna())
    if not kinds <= {"Point"}:
        raise ParameterError(f"sites: {path.name}: a site layer must hold points; got "
                             f"{', '.join(sorted(kinds)) or 'empty geometries'}")
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    position = [c for c in table.columns
                if _safe_lookup(normalise_header(c)) in ("x_m", "y_m", "lon_deg", "lat_deg")]
    if position:       # the layer's geometry is the position; attribute copies are not
        warnings.warn(f"sites: {path.name}: position columns {', '.join(map(str, position))} "
                      "ignored: the layer's point geometry is the position", IlacWarning,
                      stacklevel=3)
        table = table.drop(columns=position)
    if info["kind"] in ("kml", "kmz"):      # KML always has Name and Description
        for c in ("Name", "Description"):
            if c in table.columns and (table[c].isna() | (table[c].astype(str).str.strip() ==
                                                          "")).all():
                table = table.drop(columns=c)
    crs = gdf.crs
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    if crs is None:       # no CRS: degrees if the numbers can be degrees (GeoJSON)
        geographic = bool(np.all(np.abs(xy[:, 0]) <= 180) and np.all(np.abs(xy[:, 1]) <= 90))
    else:
        geographic = crs.is_geographic
    for c in ("x_m", "y_m", "lon_deg", "lat_deg"):
        if c in table.columns:
            table = table.drop(columns=c)
    if geographic:
        table["lon_deg"], table["lat_deg"] = xy[:, 0], xy[:, 1]
    else:
        table["x_m"], table["y_m"] = xy[:, 0], xy[:, 1]
        if crs is not None:
            auth = crs.to_authority()
            info["source_crs"] = f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()
    info["line_offset"] = 1
    return table, info


def _hint_from(df, source_crs):
    if not source_crs:
        return None
    try:
        return _transformer(source_crs, "EPSG:4326").transform(float(df["x_m"].mean()),
                                                               float(df["y_m"].mean()))
    except ParameterError:
        return None


def read_sites(path, crs=None, *, column_map=None, encoding=None, layer=None):
    """Read a site table, validate it and project it to the working CRS.

    Parameters
    ----------
    path : str or os.PathLike
        CSV (delimiter, decimal comma and encoding detected), Excel ``.xlsx``
        (openpyxl), Parquet or GeoParquet, or a point layer of any OGR format
        (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML) with its CRS.
    crs : str, optional
        The working CRS (projected, metres). Default: the local UTM zone for lon/lat
        tables, the layer's CRS for projected layers, none for x/y tables.
    column_map : dict, optional
        ``{header: ilac_plan column}`` for headers that are not recognised.
    encoding : str, optional
        Force the text encoding of a CSV file.
    layer : str, optional
        Layer of a GeoPackage, sheet of a workbook.

    Returns
    -------
    pandas.DataFrame
        Columns named as in :mod:`ilac_plan.sites`. ``attrs``: ``crs`` (the working CRS
        of ``x_m``/``y_m``, None for a metric table without one), ``source_crs``,
        ``renamed`` (``{header: column}``), ``unused``, ``path``.
    """
    if path is None or not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ParameterError(f"sites: expected a file path; got {type(path).__name__}")
    path = Path(path)
    for label, value in (("encoding", encoding), ("layer", layer)):
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"sites: {label} must be a string; got "
                                 f"{type(value).__name__}")
    if column_map is not None and not (isinstance(column_map, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in column_map.items())):
        raise ParameterError("sites: column_map must be {header: column} (strings); got "
                             f"{type(column_map).__name__}")
    if not path.is_file():
        raise ParameterError(f"sites: no such file {str(path)!r}")
    raw, info = read_table(path, encoding=encoding, layer=layer)
    raw, renamed = normalise_columns(raw, column_map)
    df = validate_sites(raw, source=path.name, decimal_comma=info["decimal_comma"],
                        line_offset=info["line_offset"], warn=True,
                        line_numbers=info["line_numbers"])
    if crs is not None:
        from .inputs import _centre_lonlat, check_projected_crs

        crs = check_projected_crs(crs, "crs", _centre_lonlat(df, None) if "lon_deg" in df
                                  else _hint_from(df, info["source_crs"]))
    df, working = project_sites(df, crs, info["source_crs"])
    df.attrs.update(crs=working, source_crs=info["source_crs"] or (
        "EPSG:4326" if "lon_deg" in df.columns else None), renamed=renamed, path=str(path),
        encoding=info["encoding"])
    return df
