"""Pixel grids and their tiles: where every planned point lies.

A :class:`GridSpec` is a north-up grid of square pixels; a :class:`Tile` is a window of
it. Both are small and picklable, so that a worker can generate the points of a tile
itself instead of receiving them.
"""

import math
from dataclasses import dataclass

import numpy as np

from .limits import check_limit
from .errors import ParameterError


@dataclass(frozen=True)
class GridSpec:
    """A north-up pixel grid: pixel (row, col) has its centre at
    ``(x0 + (col + 0.5) res, y1 - (row + 0.5) res)``.

    Attributes
    ----------
    x0, y1 : float
        Left and top edges of the grid. [m]
    resolution_m : float
        Pixel side. [m]
    nx, ny : int
        Columns and rows.
    """

    x0: float
    y1: float
    resolution_m: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, bounds, resolution_m, max_points):
        """The grid of whole pixels covering ``bounds`` = (xmin, ymin, xmax, ymax) [m].

        Raises
        ------
        ParameterError
            When the grid would have more than ``max_points`` pixels.
        """
        res = check_limit("resolution_m", resolution_m)
        limit = check_limit("max_points", max_points)
        xmin, ymin, xmax, ymax = bounds
        fx, fy = (xmax - xmin) / res, (ymax - ymin) / res
        if not (math.isfinite(fx) and math.isfinite(fy)) or fx * fy > limit:
            need = fx * fy if math.isfinite(fx * fy) else math.inf
            shown = f"{math.ceil(need):,}" if need < 1e15 else f"{need:.3g}"
            raise ParameterError(
                f"resolution_m {res:g} m needs {shown} grid points over the area; the limit "
                f"is max_points = {limit:,} (coarser resolution or a larger max_points)")
        nx = max(1, math.ceil(fx))
        ny = max(1, math.ceil(fy))
        if nx * ny > limit:
            raise ParameterError(
                f"resolution_m {res:g} m needs {nx * ny:,} grid points over the area; the limit "
                f"is max_points = {limit:,} (coarser resolution or a larger max_points)")
        return cls(float(xmin), float(ymin + ny * res), res, nx, ny)

    @property
    def shape(self):
        """``(ny, nx)``."""
        return (self.ny, self.nx)

    @property
    def transform(self):
        """GDAL geotransform order (a, b, c, d, e, f) of the affine pixel -> world map."""
        return (self.resolution_m, 0.0, self.x0, 0.0, -self.resolution_m, self.y1)

    @property
    def bounds(self):
        """(xmin, ymin, xmax, ymax) of the whole grid. [m]"""
        res = self.resolution_m
        return (self.x0, self.y1 - self.ny * res, self.x0 + self.nx * res, self.y1)

    def centres(self, rows, cols):
        """x, y of the pixel centres of the given row and column index arrays. [m]"""
        return (self.x0 + (np.asarray(cols) + 0.5) * self.resolution_m,
                self.y1 - (np.asarray(rows) + 0.5) * self.resolution_m)

    def pixel_of(self, x, y):
        """(row, col) of the pixel containing each point."""
        col = np.floor((np.asarray(x) - self.x0) / self.resolution_m).astype(np.int64)
        row = np.floor((self.y1 - np.asarray(y)) / self.resolution_m).astype(np.int64)
        return row, col

    def x_coords(self):
        """x of the pixel-centre columns. [m]"""
        return self.x0 + (np.arange(self.nx) + 0.5) * self.resolution_m

    def y_coords(self):
        """y of the pixel-centre rows (north to south). [m]"""
        return self.y1 - (np.arange(self.ny) + 0.5) * self.resolution_m


@dataclass(frozen=True)
class Tile:
    """A window of the grid: rows ``row0 .. row0 + nrows``, columns ``col0 .. col0 + ncols``."""

    index: int
    row0: int
    col0: int
    nrows: int
    ncols: int

    @property
    def window(self):
        """The tile as a pair of slices into ``(ny, nx)`` arrays."""
        return (slice(self.row0, self.row0 + self.nrows),
                slice(self.col0, self.col0 + self.ncols))

    def bbox(self, grid):
        """(xmin, ymin, xmax, ymax) of the tile's pixels. [m]"""
        res = grid.resolution_m
        return (grid.x0 + self.col0 * res, grid.y1 - (self.row0 + self.nrows) * res,
                grid.x0 + (self.col0 + self.ncols) * res, grid.y1 - self.row0 * res)


def make_tiles(grid, tile_px):
    """The tiles of a grid, row-major, ``tile_px`` pixels on a side (smaller at the edges)."""
    tiles = []
    for r in range(0, grid.ny, tile_px):
        for c in range(0, grid.nx, tile_px):
            tiles.append(Tile(len(tiles), r, c, min(tile_px, grid.ny - r),
                              min(tile_px, grid.nx - c)))
    return tiles
