"""Site layout generators: 3GPP-style hexagonal grids and random (Poisson) layouts."""

import numpy as np
import pandas as pd

from .errors import ParameterError
from .limits import check_limit


def _cells(site_x, site_y, sectors, first_azimuth_deg, **columns):
    """One row per sector of each site, azimuths evenly spread from first_azimuth_deg."""
    n_sites = site_x.size
    az = (first_azimuth_deg + 360.0 * np.arange(sectors) / sectors) % 360.0
    rows = {
        "cell_id": [f"S{s}C{c}" for s in range(n_sites) for c in range(sectors)],
        "site_id": [f"S{s}" for s in range(n_sites) for _ in range(sectors)],
        "x_m": np.repeat(site_x, sectors), "y_m": np.repeat(site_y, sectors),
        "azimuth_deg": np.tile(az, n_sites),
    }
    for name, value in columns.items():
        rows[name] = np.full(n_sites * sectors, value)
    return pd.DataFrame(rows)


def hex_site_positions(isd_m, rings):
    """Positions of a hexagonal grid of sites: 1 + 3 r (r + 1) sites within ``rings``.

    Returns
    -------
    x_m, y_m : ndarray
        Site positions [m], the centre site at the origin.
    """
    isd = check_limit("isd_m", isd_m)
    rings = check_limit("rings", rings)
    # axial coordinates (q, r) with |q|, |r|, |q + r| <= rings
    pts = [(q, r) for q in range(-rings, rings + 1) for r in range(-rings, rings + 1)
           if abs(q + r) <= rings]
    q, r = np.array(pts, dtype=np.float64).T
    x = isd * (q + r / 2.0)
    y = isd * (np.sqrt(3.0) / 2.0) * r
    order = np.lexsort((np.arctan2(y, x), np.round(np.hypot(x, y), 6)))
    return x[order], y[order]


def hexagonal_layout(isd_m=500.0, rings=2, sectors=3, *, n_antennas=8, power_dbm=13.0,
                     height_m=25.0, gain_dbi=0.0, first_azimuth_deg=30.0):
    """A 3GPP-style hexagonal layout: 19 three-sector sites for 2 rings.

    Parameters
    ----------
    isd_m : float, default 500
        Inter-site distance. [m]
    rings : int, default 2
        Rings of sites around the centre (0: one site; 1: 7; 2: 19).
    sectors : int, default 3
        Cells (sector arrays) per site, azimuths evenly spread.
    n_antennas, power_dbm, height_m, gain_dbi
        Values for every cell ([dBm], [m], [dBi]).
    first_azimuth_deg : float, default 30
        Azimuth of each site's first sector (clockwise from north). [deg]

    Returns
    -------
    pandas.DataFrame
        A site table in metres, centred on (0, 0).
    """
    sectors = check_limit("sectors", sectors)
    x, y = hex_site_positions(isd_m, rings)
    return _cells(x, y, sectors, first_azimuth_deg, n_antennas=n_antennas, power_dbm=power_dbm,
                  height_m=height_m, gain_dbi=gain_dbi)


#: Most sites a random layout may draw on average.
MAX_LAYOUT_SITES = 1_000_000


def wrap_shifts_m(isd_m, rings):
    """Offsets of the 3GPP wrap-around images of a hexagonal layout of ``rings`` rings.

    The layout and the centres of its 6 neighbouring clusters, relative to its own
    centre: a point sees each cell once, through its image nearest to the point
    (:func:`ilac_plan.coverage.evaluate`, ``wrap_shifts_m``).

    Returns
    -------
    ndarray of shape (7, 2)
        ``(dx, dy)`` of each image; row 0 is ``(0, 0)``. [m]
    """
    isd = check_limit("isd_m", isd_m)
    n = check_limit("rings", rings)
    # centres of the 6 neighbouring clusters of a (2n+1)-diameter hexagonal cluster
    a = np.array([(n + 1) * isd + n * isd / 2.0, (np.sqrt(3.0) / 2.0) * n * isd])
    shifts = [np.zeros(2)]
    for k in range(6):
        ang = np.deg2rad(60.0 * k)
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        shifts.append(rot @ a)
    return np.array(shifts)


def wrap_around(sites, isd_m, rings):
    """The 3GPP wrap-around: six shifted copies of a hexagonal layout around it.

    Each copy is shifted so that a point near the edge sees the cells that the
    infinite periodic layout would put there. The copies keep their original row in
    ``source_row`` so that results can be mapped back. For planning, pass
    :func:`wrap_shifts_m` to :func:`ilac_plan.coverage.evaluate` instead: it counts each
    cell once, through its nearest image, as 3GPP does; the copies here count all seven.

    Returns
    -------
    pandas.DataFrame
        ``7 x len(sites)`` rows; the first ``len(sites)`` are the original ones.
    """
    shifts = wrap_shifts_m(isd_m, rings)
    copies = []
    for k, s in enumerate(shifts):
        c = sites.copy()
        c["x_m"] = c["x_m"] + s[0]
        c["y_m"] = c["y_m"] + s[1]
        c["source_row"] = np.arange(len(sites))
        if k:
            c["cell_id"] = c["cell_id"].astype(str) + f"~{k}"
        copies.append(c)
    return pd.concat(copies, ignore_index=True)


def poisson_layout(density_per_km2, bounds_m, *, sectors=3, seed=None, n_antennas=8,
                   power_dbm=13.0, height_m=25.0, gain_dbi=0.0):
    """Sites of a homogeneous Poisson point process over a rectangle, for Monte Carlo planning.

    Parameters
    ----------
    density_per_km2 : float
        Sites per square kilometre, > 0.
    bounds_m : tuple of float
        ``(x_min, y_min, x_max, y_max)``. [m]
    sectors : int, default 3
        Cells per site; each site gets a uniformly random first azimuth.
    seed : int, optional
        Random seed (reproducible layouts).

    Returns
    -------
    pandas.DataFrame
        A site table (at least one site is drawn; a draw of zero is redrawn).
    """
    density = check_limit("density_per_km2", density_per_km2)
    box = check_limit("bounds_m", bounds_m, array=True)
    if box.shape != (4,):
        raise ParameterError(f"bounds_m must be (x_min, y_min, x_max, y_max); got shape "
                             f"{box.shape}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if seed is not None:
        seed = check_limit("seed", seed)
    if not (x1 > x0 and y1 > y0):
        raise ParameterError("bounds_m must be (x_min, y_min, x_max, y_max) with max > min")
    sectors = check_limit("sectors", sectors)
    rng = np.random.default_rng(seed)
    mean = density * (x1 - x0) * (y1 - y0) / 1e6
    if mean > MAX_LAYOUT_SITES:
        raise ParameterError(f"density_per_km2: {mean:.3g} sites expected over bounds_m; at "
                             f"most {MAX_LAYOUT_SITES:,} (a smaller density or area)")
    if mean < 0.01:
        raise ParameterError(f"density_per_km2: {mean:.3g} sites expected over bounds_m; at least "
                             "0.01 are needed (a larger density or area)")
    n = 0
    while n == 0:   # conditioned on one site at least: at most ~100 draws on average
        n = rng.poisson(mean)
    x = rng.uniform(x0, x1, n)
    y = rng.uniform(y0, y1, n)
    first = rng.uniform(0, 360, n)
    cells = _cells(x, y, sectors, 0.0, n_antennas=n_antennas, power_dbm=power_dbm,
                   height_m=height_m, gain_dbi=gain_dbi)
    cells["azimuth_deg"] = (cells["azimuth_deg"] + np.repeat(first, sectors)) % 360.0
    return cells
