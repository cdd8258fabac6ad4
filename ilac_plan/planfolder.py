"""Read a plan's output folder back: its manifest, rasters and tables, nothing else.

Everything here works from the files ``ilac-plan map`` writes (``manifest.json``,
``coverage.tif``, ``best_scheme.tif``, ``serving_cell.tif`` and their ``.aux.xml``
category names, ``sites.csv``, ``summary.csv``, ``schemes.csv``, ``cells.csv``,
``cdf.csv``), so that a report or a comparison can be made later from a copied folder,
and so that third-party tools can do the same from the same files (docs/report.md lists
what each file holds).

Every problem is a :class:`~ilac_plan.errors.ParameterError` of one line that names the
folder and the file.
"""

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ParameterError

#: The rasters a report or a comparison needs.
RASTERS = ("coverage.tif", "best_scheme.tif", "serving_cell.tif")
#: Tables shown when present (a plan written with ``--formats -cells`` has no cells.csv),
#: with the columns a report needs.
TABLES = {"summary.csv": ("scheme", "area_fraction"), "schemes.csv": ("scheme",),
          "cells.csv": ("cell_id",), "cdf.csv": ("scheme", "percentile")}
#: Identifiers read as text (``000`` stays ``000``).
TEXT_COLUMNS = {"cell_id": str, "site_id": str, "scheme": str}
#: Numeric columns of the site table the report draws.
SITE_NUMBERS = ("x_m", "y_m", "azimuth_deg", "n_antennas", "power_dbm", "height_m",
                "tilt_deg", "electrical_tilt_deg")


@dataclass
class Grid:
    """A north-up raster grid: ``nx`` x ``ny`` pixels of ``resolution_m``, upper-left
    corner ``(x0_m, y1_m)`` in ``crs``."""

    nx: int
    ny: int
    resolution_m: float
    x0_m: float
    y1_m: float
    crs: str | None

    def same_as(self, other, tol_m=1e-6):
        """True when ``other`` is the same grid (same CRS, size and pixel positions)."""
        return (_same_crs(self.crs, other.crs) and self.nx == other.nx and self.ny == other.ny
                and abs(self.resolution_m - other.resolution_m) <= 1e-9 * self.resolution_m
                and abs(self.x0_m - other.x0_m) <= tol_m
                and abs(self.y1_m - other.y1_m) <= tol_m)

    def describe(self):
        return (f"{self.crs or 'no CRS'}, {self.nx} x {self.ny} px of {self.resolution_m:g} m "
                f"from ({self.x0_m:.2f}, {self.y1_m:.2f})")

    @property
    def transform(self):
        from rasterio.transform import Affine

        return Affine(self.resolution_m, 0.0, self.x0_m, 0.0, -self.resolution_m, self.y1_m)


def _same_crs(a, b):
    if a == b:
        return True
    if not a or not b:
        return False
    try:
        from pyproj import CRS

        return CRS.from_user_input(a) == CRS.from_user_input(b)
    except Exception:  # noqa: BLE001 - an unreadable CRS is simply not the same
        return False


@dataclass
class PlanFolder:
    """A plan's outputs, read back from its folder.

    Attributes
    ----------
    folder : Path
    manifest : dict
        ``manifest.json`` as written by the run.
    grid : Grid
    schemes : list of str
        The planned schemes, in the order of the best-scheme codes.
    classes : list of str
        Best-scheme category names (``schemes + ["infeasible"]``).
    bands : dict of str -> ndarray
        Every band of ``coverage.tif`` by name (float32, NaN outside the area), with
        ``units`` and ``descriptions`` beside it.
    best_scheme : ndarray of uint8
        Category index (255 outside the area).
    serving_cell : ndarray of uint16 or uint32
        Index into ``cell_ids`` (the dtype's maximum outside the area).
    cell_ids : list of str
    sites : pandas.DataFrame or None
        The plan's site table (``sites.csv``), working-CRS positions ``x_m``, ``y_m``.
    tables : dict of str -> pandas.DataFrame
        The tables present among :data:`TABLES`.
    """

    folder: Path
    manifest: dict
    grid: Grid
    schemes: list
    classes: list
    bands: dict
    units: dict
    descriptions: dict
    best_scheme: np.ndarray
    serving_cell: np.ndarray
    cell_nodata: int
    cell_ids: list
    sites: object = None
    tables: dict = field(default_factory=dict)

    @property
    def n_points(self):
        return int(np.count_nonzero(self.best_scheme != 255))

    def best_values(self, quantity):
        """The plan's ``quantity`` (``capacity_bps``, ``error_m`` or ``loc_share``) at each
        pixel, float32, NaN outside the area, by the plan's own rule
        (:func:`ilac_plan.stats.best_values`): the best scheme's; where no scheme meets
        the objective (``infeasible``) a capacity of 0 and the error and share of the
        scheme that comes closest (the lowest error), as in ``summary.csv`` and
        ``map.png``."""
        from .stats import best_values

        code = self.best_scheme.ravel().astype(np.int64)

        def stack(q):
            return np.stack([self.bands[f"{s}_{q}"].ravel() for s in self.schemes])

        values = dict(zip(("capacity_bps", "error_m", "loc_share"), best_values(
            code, stack("capacity_bps"), stack("error_m"), stack("loc_share"))))
        out = values[quantity].astype(np.float32)
        out[code == 255] = np.nan
        return out.reshape(self.best_scheme.shape)


def _one_line(text):
    return " ".join(str(text).split())


def read_plan(folder, *, what="plan"):
    """Read a plan's output folder (see the module docstring).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder ``ilac-plan map --out`` wrote.
    what : str
        How error messages name the folder (``"A"``, ``"plan"``, ...).

    Returns
    -------
    PlanFolder

    Raises
    ------
    ParameterError
        No such folder, no or an unreadable manifest, a missing or unreadable raster,
        rasters on another grid than the manifest's.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"{what}: no such folder {str(folder)!r}")
    path = folder / "manifest.json"
    if not path.is_file():
        raise ParameterError(f"{what}: {str(folder)!r} has no manifest.json, so it is not a "
                             "plan's output folder (ilac-plan map --out FOLDER writes one)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and manifest.get("kind") == "comparison":
            raise ParameterError(f"{what}: {str(folder)!r} holds a comparison, not a plan "
                                 "(open its report.html)")
        g = manifest["grid"]
        grid = Grid(int(g["nx"]), int(g["ny"]), float(g["resolution_m"]), float(g["x0_m"]),
                    float(g["y1_m"]), g.get("crs") or manifest.get("working_crs"))
        schemes = [str(s) for s in manifest["schemes"]]
        for key in ("inputs", "versions"):
            if not isinstance(manifest.get(key, {}), dict):
                raise TypeError(f"{key!r} is not a mapping")
        if not isinstance(manifest.get("files", []), list):
            raise TypeError("'files' is not a list")
    except ParameterError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"{what}: {str(path)!r} is not a readable plan manifest "
                             f"({_one_line(exc)})") from None
    if not (grid.nx > 0 and grid.ny > 0 and math.isfinite(grid.resolution_m)
            and grid.resolution_m > 0):
        raise ParameterError(f"{what}: {str(path)!r}: grid nx, ny and resolution_m must be "
                             "> 0")
    for name in RASTERS:
        if not (folder / name).is_file():
            raise ParameterError(f"{what}: {str(folder / name)!r} is missing (a plan written "
                                 "with --formats -tif has no rasters: run map again with the "
                                 "GeoTIFFs)")
    try:
        import rasterio
    except ImportError:
        raise ParameterError("reading a plan's rasters needs rasterio: pip install "
                             "'ilac-plan[report]'") from None
    bands, units, descriptions = {}, {}, {}
    arrays = {}
    for name in RASTERS:
        p = folder / name
        try:
            with rasterio.open(p) as src:
                _check_raster_grid(src, grid, p, what)
                data = src.read()
                if name == "coverage.tif":
                    for k in range(src.count):
                        band = src.descriptions[k] or f"band_{k + 1}"
                        bands[band] = data[k].astype(np.float32, copy=False)
                        units[band] = (src.units[k] if src.units else None) or \
                            src.tags(k + 1).get("unit", "")
                        descriptions[band] = src.tags(k + 1).get("description", band)
                else:
                    arrays[name] = (data[0], src.nodata, src.tags(1))
        except ParameterError:
            raise
        except Exception as exc:  # noqa: BLE001 - rasterio raises many kinds
            raise ParameterError(f"{what}: cannot read {str(p)!r} "
                                 f"({_one_line(exc)[:200]})") from None
    missing = [f"{s}_{q}" for s in schemes for q in ("capacity_bps", "error_m", "loc_share")
               if f"{s}_{q}" not in bands] + (["snr_db"] if "snr_db" not in bands else [])
    if missing:
        raise ParameterError(f"{what}: {str(folder / 'coverage.tif')!r} lacks the band(s) "
                             f"{', '.join(missing)} of the manifest's schemes")
    best, _, best_tags = arrays["best_scheme.tif"]
    classes = _categories(folder / "best_scheme.tif", best_tags) or schemes + ["infeasible"]
    if classes != schemes + ["infeasible"]:
        raise ParameterError(f"{what}: best_scheme.tif's categories {classes} do not match the "
                             f"manifest's schemes {schemes} + infeasible")
    best = best.astype(np.uint8, copy=False)
    serving, cell_nodata, cell_tags = arrays["serving_cell.tif"]
    cell_nodata = int(cell_nodata if cell_nodata is not None else np.iinfo(serving.dtype).max)
    sites = _read_sites(folder, manifest.get("files"))
    cell_ids = _categories(folder / "serving_cell.tif", cell_tags)
    if not cell_ids and sites is not None and "cell_id" in sites:
        cell_ids = [str(c) for c in sites["cell_id"]]
    tables = {}
    import pandas as pd

    for name, needed in TABLES.items():
        p = folder / name
        if p.is_file():
            try:
                tables[name] = pd.read_csv(p, dtype=TEXT_COLUMNS)
            except Exception as exc:  # noqa: BLE001
                raise ParameterError(f"{what}: cannot read {str(p)!r} "
                                     f"({_one_line(exc)[:200]})") from None
            missing = [c for c in needed if c not in tables[name].columns]
            if missing:
                raise ParameterError(f"{what}: {str(p)!r} has no column "
                                     f"{', '.join(missing)}")
    return PlanFolder(folder=folder, manifest=manifest, grid=grid, schemes=schemes,
                      classes=classes, bands=bands, units=units, descriptions=descriptions,
                      best_scheme=best, serving_cell=serving, cell_nodata=cell_nodata,
                      cell_ids=cell_ids or [], sites=sites, tables=tables)


def _check_raster_grid(src, grid, path, what):
    t = src.transform
    ok = (src.width == grid.nx and src.height == grid.ny
          and abs(t.a - grid.resolution_m) <= 1e-9 * grid.resolution_m
          and abs(t.e + grid.resolution_m) <= 1e-9 * grid.resolution_m
          and abs(t.c - grid.x0_m) <= 1e-6 and abs(t.f - grid.y1_m) <= 1e-6)
    if not ok:
        raise ParameterError(f"{what}: {str(path)!r} is {src.width} x {src.height} px from "
                             f"({t.c:.2f}, {t.f:.2f}), not the manifest's grid "
                             f"({grid.describe()})")


def _categories(path, tags):
    """Category names of a one-band raster: GDAL's ``.aux.xml`` sidecar, else the
    ``categories`` tag (JSON list), else None."""
    aux = Path(f"{path}.aux.xml")
    if aux.is_file():
        try:
            root = ET.parse(aux).getroot()
            names = [c.text or "" for c in root.iter("Category")]
            if names:
                return names
        except ET.ParseError:
            pass
    try:
        names = json.loads(tags.get("categories", "null"))
        return [str(n) for n in names] if isinstance(names, list) else None
    except ValueError:
        return None


def _read_sites(folder, files):
    """The plan's own site table: ``plan_sites.csv`` when the run wrote it (its input was
    a ``sites.csv`` in the output folder), else ``sites.csv``."""
    import pandas as pd

    for name in ("plan_sites.csv", "sites.csv"):
        p = folder / name
        if p.is_file() and (not isinstance(files, list) or name in files):
            try:
                frame = pd.read_csv(p, dtype=TEXT_COLUMNS)
            except Exception as exc:  # noqa: BLE001
                raise ParameterError(f"cannot read {str(p)!r} ({_one_line(exc)[:200]})") \
                    from None
            if not {"x_m", "y_m"} <= set(frame.columns):
                return None
            for c in SITE_NUMBERS:
                if c in frame.columns:
                    try:
                        frame[c] = pd.to_numeric(frame[c])
                    except (TypeError, ValueError):
                        raise ParameterError(f"{str(p)!r}: column {c} must be numbers") \
                            from None
            return frame
    return None
