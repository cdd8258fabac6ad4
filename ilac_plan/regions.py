"""Best-scheme regions: one raster polygonization of the whole best-scheme layer.

GDAL's polygonize (through :func:`rasterio.features.shapes`, 4-connected) runs once over
the best-scheme codes, either an in-memory array or the streamed run's staging GeoTIFF
(read line by line, so memory stays bounded). Each connected component of a class is
one polygon with its holes; the components of a class are disjoint (at most touching at
a corner), so the region of a class is their MultiPolygon, with no union to compute.
Outer rings are oriented counter-clockwise.
"""

import numpy as np
import shapely

#: Code of the pixels outside the area in the uint8 best-scheme layer.
OUTSIDE = 255


def polygonize(source, grid, n_classes):
    """The region of every class present.

    Parameters
    ----------
    source : ndarray of uint8 or rasterio Band
        Best-scheme codes, :data:`OUTSIDE` outside the area, on ``grid``.
    grid : GridSpec
    n_classes : int

    Returns
    -------
    dict
        ``{class code: Polygon or MultiPolygon}`` in the working CRS's metres, in code
        order.
    """
    from rasterio.features import shapes
    from rasterio.transform import Affine

    transform = Affine(grid.resolution_m, 0.0, grid.x0, 0.0, -grid.resolution_m, grid.y1)
    parts = {}
    for geom, value in shapes(source, transform=transform, connectivity=4):
        code = int(value)
        if code != OUTSIDE and code < n_classes:
            parts.setdefault(code, []).append(shapely.geometry.shape(geom))
    out = {}
    for code in sorted(parts):
        polys = parts[code]
        geom = polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
        if not geom.is_valid:       # not expected: components meet at corners at most
            geom = shapely.make_valid(geom)
        out[code] = shapely.orient_polygons(geom, exterior_cw=False)
    return out


def best_codes_uint8(best, mask):
    """Best-scheme codes as uint8 with :data:`OUTSIDE` outside the area."""
    return np.where(mask, best, OUTSIDE).astype(np.uint8)


def regions_frame(geometries, summary, crs):
    """The regions as a GeoDataFrame (or a DataFrame without geopandas).

    One row per class present: ``scheme``, the summary's statistics of that class, and
    ``geometry`` in the working CRS (``crs``; None for local metres).
    """
    import pandas as pd

    rows = [{**summary.iloc[c].to_dict(), "geometry": geom} for c, geom in geometries.items()]
    frame = pd.DataFrame(rows, columns=list(summary.columns) + ["geometry"])
    try:
        import geopandas as gpd
    except ImportError:
        frame.attrs["crs"] = crs
        return frame
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
