"""Site tables: read, recognise common column names, validate, project lon/lat to metres.

A site table has one row per cell (one sector array); the columns are in DESIGN.md:
``cell_id``, ``site_id``, ``x_m``/``y_m`` or ``lon_deg``/``lat_deg``, ``azimuth_deg``,
``n_antennas``, ``power_dbm`` and optionally ``spacing_m``, ``ue_power_dbm``, ``gain_dbi``,
``height_m``. Unknown columns are kept. IDs stay strings.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError

#: Other tools' names for the columns, lower case -> ilac_plan name.
ALIASES = {
    "cell": "cell_id", "cellid": "cell_id", "cell_name": "cell_id", "name": "cell_id",
    "sector": "cell_id", "sector_id": "cell_id",
    "site": "site_id", "siteid": "site_id", "site_name": "site_id", "enodeb": "site_id",
    "gnodeb": "site_id", "gnb_id": "site_id",
    "x": "x_m", "easting": "x_m", "east_m": "x_m", "y": "y_m", "northing": "y_m",
    "north_m": "y_m",
    "lon": "lon_deg", "lng": "lon_deg", "long": "lon_deg", "longitude": "lon_deg",
    "lat": "lat_deg", "latitude": "lat_deg",
    "azimuth": "azimuth_deg", "bearing": "azimuth_deg", "az": "azimuth_deg",
    "bearing_deg": "azimuth_deg", "orientation_deg": "azimuth_deg",
    "antennas": "n_antennas", "n_ant": "n_antennas", "num_antennas": "n_antennas",
    "tx_power_dbm": "power_dbm", "power": "power_dbm", "txpower": "power_dbm",
    "tx_power": "power_dbm", "p_dbm": "power_dbm",
    "gain": "gain_dbi", "antenna_gain_dbi": "gain_dbi", "gain_db": "gain_dbi",
    "height": "height_m", "antenna_height_m": "height_m", "agl_m": "height_m",
    "spacing": "spacing_m", "ue_power": "ue_power_dbm",
}
NUMERIC = ("x_m", "y_m", "lon_deg", "lat_deg", "azimuth_deg", "n_antennas", "power_dbm",
           "spacing_m", "ue_power_dbm", "gain_dbi", "height_m")
REQUIRED = ("azimuth_deg", "n_antennas", "power_dbm")
RANGES = {  # column: (low, high, integer)
    "x_m": (-1e8, 1e8, False), "y_m": (-1e8, 1e8, False),
    "lon_deg": (-180.0, 180.0, False), "lat_deg": (-90.0, 90.0, False),
    "azimuth_deg": (0.0, 360.0, False), "n_antennas": (1, 65536, True),
    "power_dbm": (-100.0, 100.0, False), "spacing_m": (1e-4, 1e3, False),
    "ue_power_dbm": (-100.0, 100.0, False), "gain_dbi": (-50.0, 100.0, False),
    "height_m": (-1e4, 1e5, False),
}


def _where(df, i, source):
    cell = f" (cell_id {df['cell_id'].iloc[i]!r})" if "cell_id" in df.columns else ""
    if source:
        return f"{source} line {i + 2}{cell}"
    return f"row {i}{cell}"


def normalise_columns(df):
    """Rename recognised aliases to ilac_plan's column names.

    Returns
    -------
    df : pandas.DataFrame
        A renamed copy.
    renamed : dict
        ``{original name: new name}`` for every column that was renamed.
    """
    renamed = {}
    for col in df.columns:
        key = str(col).strip().lower()
        target = ALIASES.get(key, key if key in NUMERIC + ("cell_id", "site_id") else None)
        if target is not None and target != col:
            if target in df.columns or target in renamed.values():
                raise ParameterError(f"sites: columns {col!r} and {target!r} mean the same; "
                                     "keep one")
            renamed[col] = target
    return df.rename(columns=renamed), renamed


def validate_sites(df, source=""):
    """Check a site table and return a clean copy (numeric columns as float, IDs as str).

    Parameters
    ----------
    df : pandas.DataFrame
        The table, with ilac_plan's or recognised column names.
    source : str
        File name, used to report CSV line numbers.

    Raises
    ------
    ParameterError
        One line naming the row (or file line) and the column: a missing column, a
        non-numeric or NaN value, a value outside its range, a duplicate ``cell_id``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError("sites must be a pandas DataFrame")
    df, _ = normalise_columns(df)
    df = df.reset_index(drop=True)
    if len(df) == 0:
        raise ParameterError(f"sites{' in ' + source if source else ''}: the table has no rows")
    has_xy = {"x_m", "y_m"} <= set(df.columns)
    has_ll = {"lon_deg", "lat_deg"} <= set(df.columns)
    missing = [c for c in REQUIRED if c not in df.columns]
    if not (has_xy or has_ll):
        missing = ["x_m and y_m (or lon_deg and lat_deg)"] + missing
    if missing:
        raise ParameterError(f"sites{' in ' + source if source else ''}: missing column "
                             f"{missing[0]} (required: x_m, y_m or lon_deg, lat_deg, "
                             f"{', '.join(REQUIRED)})")
    out = df.copy()
    for col in ("cell_id", "site_id"):
        if col in out.columns:
            out[col] = out[col].astype(str)
    if "cell_id" not in out.columns:
        out.insert(0, "cell_id", [str(i) for i in range(len(out))])
    for col in NUMERIC:
        if col not in out.columns:
            continue
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=np.float64)
        raw = out[col].to_numpy()
        low, high, integer = RANGES[col]
        for i, v in enumerate(values):
            if np.isnan(v):
                shown = "empty" if pd.isna(raw[i]) or str(raw[i]).strip() == "" else repr(raw[i])
                raise ParameterError(f"sites: {_where(out, i, source)}, column {col}: "
                                     f"must be a number; got {shown}")
            bad_int = integer and v != np.round(v)
            if not (low <= v <= high) or bad_int:
                if col == "power_dbm" and v == -np.inf:
                    continue
                kind = "an integer" if integer else "a number"
                raise ParameterError(f"sites: {_where(out, i, source)}, column {col}: must be "
                                     f"{kind} in [{low:g}, {high:g}]; got {v:g}")
        out[col] = values
    dup = out["cell_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ParameterError(f"sites: {_where(out, i, source)}, column cell_id: duplicate "
                             f"{out['cell_id'].iloc[i]!r}")
    return out


def local_utm_crs(lon_deg, lat_deg):
    """EPSG code of the UTM zone at the centre of the given coordinates."""
    lon = float(np.mean(lon_deg))
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
        raise ParameterError(f"crs: cannot use {dst!r}: {exc}") from None


def project_sites(df, crs=None):
    """Fill ``x_m``/``y_m`` from ``lon_deg``/``lat_deg`` (WGS 84) in a metric CRS.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated site table.
    crs : str, optional
        Target CRS (e.g. ``"EPSG:32632"``); default the local UTM zone. Ignored when the
        table has no lon/lat.

    Returns
    -------
    df : pandas.DataFrame
    crs : str or None
        The CRS of ``x_m``/``y_m`` (None for a table given in metres without a CRS).
    """
    if "lon_deg" not in df.columns:
        return df, crs
    crs = crs or local_utm_crs(df["lon_deg"], df["lat_deg"])
    x, y = _transformer("EPSG:4326", crs).transform(df["lon_deg"].to_numpy(),
                                                    df["lat_deg"].to_numpy())
    out = df.copy()
    out["x_m"], out["y_m"] = x, y
    return out, crs


def to_lonlat(crs):
    """A function (x, y) -> (lon, lat) from ``crs`` to WGS 84."""
    tr = _transformer(crs, "EPSG:4326")
    return tr.transform


def read_sites(path, crs=None):
    """Read a site table from CSV or Parquet, validate it and project lon/lat to metres.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` (any delimiter pandas sniffs) or ``.parquet`` file.
    crs : str, optional
        Metric CRS for lon/lat tables (default: the local UTM zone).

    Returns
    -------
    pandas.DataFrame
        Columns named as in DESIGN.md; ``df.attrs["crs"]`` is the CRS of ``x_m``/``y_m``
        (None for a metric table without one) and ``df.attrs["renamed"]`` the recognised
        aliases.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"sites: no such file {str(path)!r}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
        else:
            raw = pd.read_csv(path, dtype=str, sep=None, engine="python", skipinitialspace=True)
    except ImportError:
        raise ParameterError("Parquet site tables need pyarrow: pip install pyarrow") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        reason = " ".join(str(exc).split())
        raise ParameterError(f"sites: cannot read {path.name}: {reason}") from None
    raw, renamed = normalise_columns(raw)
    df = validate_sites(raw, source=path.name if path.suffix.lower() == ".csv" else "")
    df, crs = project_sites(df, crs)
    df.attrs["crs"] = crs
    df.attrs["renamed"] = renamed
    return df
