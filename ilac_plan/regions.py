"""Best-scheme regions: raster polygonization per tile, merged once.

Each tile's best-scheme codes are polygonized where the tile is computed (GDAL's
polygonize through :func:`rasterio.features.shapes`, 4-connected) in *pixel*
coordinates of the whole grid, which are small integers: polygons of neighbouring
tiles then share their seam vertices exactly, and the one union per class at the end
needs no snapping. The merged polygons are mapped to the working CRS and oriented with
counter-clockwise outer rings.
"""

import numpy as np
import shapely


def tile_polygons(tile, best, mask, n_classes):
    """Polygons of each class in one tile, in grid pixel coordinates (col, row + 1).

    Returns
    -------
    dict
        ``{class code: list of WKB}`` (WKB so that the result pickles small).
    """
    out = {}
    codes = np.where(mask, best, 255).astype(np.uint8) if n_classes < 255 else best
    try:
        from rasterio.features import shapes
        from rasterio.transform import Affine
    except ImportError:
        shapes = None
    if shapes is not None:
        # rows shifted by one (undone in RegionMerger.merged) so that the transform is
        # never the identity, which GDAL would take for "no georeference"
        transform = Affine(1.0, 0.0, float(tile.col0), 0.0, 1.0, float(tile.row0 + 1))
        for geom, value in shapes(codes, mask=mask, transform=transform, connectivity=4):
            out.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    else:   # without GDAL: one rectangle per run of pixels in a row
        for c in np.unique(best[mask]):
            sel = (best == c) & mask
            edges = np.diff(np.pad(sel, ((0, 0), (1, 1))).astype(np.int8), axis=1)
            rows, starts = np.nonzero(edges == 1)
            _, stops = np.nonzero(edges == -1)
            out[int(c)] = list(shapely.box(tile.col0 + starts, tile.row0 + rows + 1,
                                           tile.col0 + stops, tile.row0 + rows + 2))
    return {c: shapely.to_wkb(np.array(g, dtype=object)) for c, g in out.items()}


class RegionMerger:
    """Collects the per-tile polygons of every class and merges them once."""

    def __init__(self, n_classes):
        self.parts = {c: {} for c in range(n_classes)}

    def add(self, tile_index, polygons):
        for c, wkb in polygons.items():
            self.parts[c][tile_index] = wkb

    def merged(self, grid):
        """``{class code: (Multi)Polygon in the working CRS's metres}`` of the classes
        present (in tile order, whatever order tiles finished in)."""
        out = {}
        res = grid.resolution_m
        for c, by_tile in self.parts.items():
            if not by_tile:
                continue
            geoms = shapely.from_wkb(np.concatenate([by_tile[k] for k in sorted(by_tile)]))
            merged = shapely.union_all(geoms)
            # pixel (col, row) -> world (x, y): exact for the integer pixel corners
            world = shapely.transform(merged, lambda p: np.column_stack(
                [grid.x0 + p[:, 0] * res, grid.y1 - (p[:, 1] - 1.0) * res]))
            if not world.is_valid:
                world = shapely.make_valid(world)
            out[c] = shapely.orient_polygons(world, exterior_cw=False)
        return out


def regions_frame(geometries, summary, crs):
    """The regions as a GeoDataFrame (or a DataFrame without geopandas).

    One row per class present: ``scheme``, the summary's statistics of that class, and
    ``geometry`` in the working CRS (``crs``; None for local metres).
    """
    import pandas as pd

    rows = []
    for c, geom in geometries.items():
        rows.append({**summary.iloc[c].to_dict(), "geometry": geom})
    columns = list(summary.columns) + ["geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    try:
        import geopandas as gpd
    except ImportError:
        frame.attrs["crs"] = crs
        return frame
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
