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
    return _union(_polygon_list(geometries, name), name)


def _union(polys, name):
    return polys[0] if len(polys) == 1 else validate_area(shapely.union_all(polys), name)


def _polygon_list(geometries, name):
    """The polygons of ``geometries`` (multi-parts split), each validated."""
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
    return polys


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
            features = doc.get("features")
            if not isinstance(features, list):
                raise ParameterError(f"{name}: invalid GeoJSON: 'features' must be a list")
            items = [f.get("geometry") if isinstance(f, dict) else f for f in features]
        elif kind == "Feature":
            items = [doc.get("geometry")]
        else:
            items = [doc]
        try:
            geoms = [shape(g) for g in items if g]
        except Exception as exc:  # noqa: BLE001 - shapely raises several kinds
            raise ParameterError(f"{name}: invalid GeoJSON geometry: "
                                 f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
        return _polygons(geoms, name)
    try:
        geom = shapely.from_wkt(text)
    except Exception as exc:  # noqa: BLE001 - GEOSException and friends
        reason = " ".join(str(exc).split())
        raise ParameterError(f"{name}: neither GeoJSON nor valid WKT: {reason}") from None
    return _polygons(getattr(geom, "geoms", [geom]), name)


#: Files read through GDAL/OGR (pyogrio): each in its own CRS.
OGR_SUFFIXES = (".gpkg", ".shp", ".kml", ".kmz", ".fgb", ".geojson", ".json", ".gml",
                ".sqlite", ".tab", ".mif", ".zip")


def _read_layer(path, name, layer):
    """Polygons of a GIS file and its CRS (``None`` when the file says nothing)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            import geopandas as gpd

            gdf = gpd.read_parquet(path)
        else:
            import pyogrio

            from .sites import _single_layer, check_geojson

            if suffix in (".geojson", ".json"):
                check_geojson(path, name)
            layer = _single_layer(path, layer, "--area-layer")
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except ImportError:
        raise ParameterError(f"{name}: {suffix} areas need pyogrio and geopandas: pip install "
                             "'ilac-plan[geo]'") from None
    except ParameterError as exc:
        raise ParameterError(f"{name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - pyogrio's DataSourceError and friends
        raise ParameterError(f"{name}: cannot read {path.name}: "
                             f"{' '.join(str(exc).split())}") from None
    geoms = [g for g in getattr(gdf, "geometry", []) if g is not None and not g.is_empty]
    if not geoms:
        raise ParameterError(f"{name}: {path.name} has no geometries")
    crs = gdf.crs
    if crs is None and suffix in (".geojson", ".json"):
        crs = "EPSG:4326"                         # RFC 7946
    elif crs is not None:
        auth = crs.to_authority()
        crs = f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()
    return geoms, crs


def read_area(source, name="area", to_metres=None, *, crs=None, layer=None, frame=False):
    """Read a planning area: any polygon layer GDAL reads, WKT, GeoJSON text or a geometry.

    Parameters
    ----------
    source : str or os.PathLike or shapely geometry
        A GeoPackage (``layer``), Shapefile, KML, FlatGeobuf, GeoParquet or GeoJSON file
        (with or without a ``crs`` member; without one it is WGS 84, RFC 7946), each in
        its own CRS; a ``.wkt`` file or WKT/GeoJSON text (in the working CRS); or a
        shapely geometry (in the working CRS). Every polygon of the layer is unioned.
    name : str
        Name used in error messages (``area``, ``exclusion 1``, ...).
    to_metres : callable, optional
        ``(lon, lat) -> (x, y)`` for GeoJSON text given in lon/lat.
    crs : str, optional
        The working CRS: GIS files are reprojected to it. Without it their coordinates
        are kept (and must be the working CRS's).
    layer : str, optional
        Layer of a multi-layer file (GeoPackage).
    frame : bool, default False
        Return a one-row GeoDataFrame that carries the CRS (``crs``, else the file's)
        instead of the bare geometry; :func:`ilac_plan.plan` reprojects it.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon, or geopandas.GeoDataFrame

    Raises
    ------
    ParameterError
        One line: a missing or unreadable file, an unknown format, a layer of lines or
        points, an empty layer, an invalid polygon, coordinates outside the CRS.
    """
    from ._validate import check_flag

    if crs is not None:
        from .inputs import check_projected_crs

        crs = check_projected_crs(crs)
    if layer is not None and not isinstance(layer, str):
        raise ParameterError(f"{name}: layer must be a layer name (a string); got "
                             f"{type(layer).__name__}")
    if check_flag("frame", frame):
        import geopandas as gpd

        geom = read_area(source, name, to_metres, crs=crs, layer=layer)
        file_crs = crs
        if file_crs is None and isinstance(source, (str, Path)) and is_file(str(source)) \
                and Path(source).suffix.lower() in OGR_SUFFIXES + (".parquet", ".geoparquet"):
            file_crs = _read_layer(Path(source), name, layer)[1]
        return gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=file_crs)
    if isinstance(source, (Polygon, MultiPolygon)):
        return validate_area(source, name)
    if source is None or not isinstance(source, (str, Path)):
        raise ParameterError(f"{name} must be a file, WKT text or a shapely polygon; got "
                             f"{type(source).__name__}")
    text = str(source)
    if is_file(text):
        path = Path(text)
        if path.suffix.lower() in OGR_SUFFIXES + (".parquet", ".geoparquet"):
            geoms, file_crs = _read_layer(path, name, layer)
            polys = _polygon_list(geoms, name)
            if crs and file_crs and file_crs != crs:
                from .sites import transformer

                # each polygon reprojected, then their union: a union made in lon/lat (say
                # of a plan's own regions.geojson, rounded to 1e-7 degrees, or of parts cut
                # at the antimeridian) need not stay valid once reprojected
                fwd = transformer(file_crs, crs).transform
                with np.errstate(all="ignore"):
                    polys = list(shapely.transform(
                        np.array(polys, dtype=object),
                        lambda xy: np.column_stack(fwd(xy[:, 0], xy[:, 1]))))
                if not np.all(np.isfinite(shapely.total_bounds(polys))):
                    raise ParameterError(f"{name}: {path.name} ({file_crs}) lies outside the "
                                         f"area of use of {crs}")
            return validate_area(_union(polys, name), name)
        raw = path.read_bytes()
        if b"\x00" in raw[:4096]:
            raise ParameterError(f"{name}: {path.name} is not a text file (WKT) nor a GIS "
                                 f"format by its name (known: {', '.join(OGR_SUFFIXES)})")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if not text.lstrip().startswith("{") and not _WKT_START.match(text):
            raise ParameterError(f"{name}: {path.name}: unknown format (not WKT, not GeoJSON; "
                                 f"GIS files are read by their suffix: {', '.join(OGR_SUFFIXES)})")
    elif not text.lstrip().startswith("{") and not _WKT_START.match(text):
        if re.search(r"[/\\]|\.[A-Za-z]{2,11}$", text):       # a path, by its look
            raise ParameterError(f"{name}: no such file {text!r}")
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ParameterError(f"{name}: {shown!r} is neither an existing file nor WKT or "
                             "GeoJSON text")
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
        if len(xy) > 1:      # nearest other site of each site, through an R-tree
            points = shapely.points(xy)
            _, dist = shapely.STRtree(points).query_nearest(points, exclusive=True,
                                                            return_distance=True)
            margin_m = 0.5 * float(np.median(dist))
        else:
            margin_m = 500.0
    return validate_area(shapely.convex_hull(pts).buffer(margin_m, quad_segs=16))
