"""Planning areas (shapely): read GeoJSON or WKT, validate, and the default around sites."""

import json
import re
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from .errors import ParameterError


_WKT_START = re.compile(r"^\s*(POLYGON|MULTIPOLYGON|GEOMETRYCOLLECTION|POINT|LINESTRING|"
                        r"MULTIPOINT|MULTILINESTRING)\b", re.IGNORECASE)


def is_file(text):
    """Whether ``text`` names an existing file (False for WKT/GeoJSON text, never raises)."""
    try:
        return len(text) < 4096 and Path(text).is_file()
    except (OSError, ValueError):
        return False


def validate_area(geom, name="area"):
    """Return ``geom`` if it is a valid, non-empty (Multi)Polygon, else a one-line error."""
    if not isinstance(geom, (Polygon, MultiPolygon)):
        raise ParameterError(f"{name} must be a Polygon or MultiPolygon; got "
                             f"{getattr(geom, 'geom_type', type(geom).__name__)}")
    if not geom.is_valid:
        raise ParameterError(f"{name} polygon is not valid: {explain_validity(geom)}")
    if geom.is_empty or not geom.area > 0:
        raise ParameterError(f"{name} is empty")
    if not np.all(np.isfinite(geom.bounds)):
        raise ParameterError(f"{name} has non-finite coordinates")
    return geom


def _polygons(geometries, name):
    polys = []
    for g in geometries:
        if isinstance(g, Polygon):
            polys.append(g)
        elif isinstance(g, MultiPolygon):
            polys.extend(g.geoms)
        else:
            raise ParameterError(f"{name}: only Polygon and MultiPolygon geometries are allowed; "
                                 f"got {g.geom_type}")
    if not polys:
        raise ParameterError(f"{name}: no polygon found")
    for p in polys:
        validate_area(p, name)
    return polys[0] if len(polys) == 1 else validate_area(shapely.union_all(polys), name)


def parse_area(text, name="area"):
    """A (Multi)Polygon from GeoJSON text (geometry, Feature or FeatureCollection) or WKT."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{name}: invalid GeoJSON: {exc}") from None
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind == "FeatureCollection":
            items = [f.get("geometry") for f in doc.get("features", [])]
        elif kind == "Feature":
            items = [doc.get("geometry")]
        else:
            items = [doc]
        try:
            geoms = [shape(g) for g in items if g]
        except Exception as exc:  # noqa: BLE001 - shapely raises several kinds
            raise ParameterError(f"{name}: invalid GeoJSON geometry: {exc}") from None
        return _polygons(geoms, name)
    try:
        geom = shapely.from_wkt(text)
    except Exception as exc:  # noqa: BLE001 - GEOSException and friends
        reason = " ".join(str(exc).split())
        raise ParameterError(f"{name}: neither GeoJSON nor valid WKT: {reason}") from None
    return _polygons(getattr(geom, "geoms", [geom]), name)


def read_area(source, name="area", to_metres=None):
    """Read a planning area from a GeoJSON/WKT file or a WKT/GeoJSON string.

    Parameters
    ----------
    source : str or os.PathLike or shapely geometry
        A ``.geojson``/``.json``/``.wkt`` file, WKT or GeoJSON text, or a geometry.
    name : str
        Name used in error messages (``area``, ``exclusion 1``, ...).
    to_metres : callable, optional
        ``(lon, lat) -> (x, y)``: coordinates are WGS 84 lon/lat (as GeoJSON says) and
        are projected with it. Without it they are taken as metres.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
    """
    if isinstance(source, (Polygon, MultiPolygon)):
        geom = source
    else:
        text = str(source)
        if is_file(text):
            text = Path(text).read_text()
        elif not text.lstrip().startswith("{") and not _WKT_START.match(text):
            raise ParameterError(f"{name}: no such file {text!r}")
        geom = parse_area(text, name)
    if to_metres is not None:
        geom = shapely.transform(geom, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))
    return validate_area(geom, name)


def default_area(sites, margin_m=None):
    """The convex hull of the sites grown by ``margin_m`` (default: half the typical
    distance between neighbouring sites)."""
    pts = shapely.multipoints(np.column_stack([sites["x_m"], sites["y_m"]]))
    if margin_m is None:
        xy = np.unique(np.column_stack([sites["x_m"], sites["y_m"]]), axis=0)
        if len(xy) > 1:
            d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
            np.fill_diagonal(d, np.inf)
            margin_m = 0.5 * float(np.median(d.min(axis=1)))
        else:
            margin_m = 500.0
    return validate_area(shapely.convex_hull(pts).buffer(margin_m, quad_segs=16))
