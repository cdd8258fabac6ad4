"""TR 38.901 large-scale calibration (Sec. 7.8.1, Table 7.8-1): coupling loss and geometry.

The radio layer of a system-level simulator is calibrated by dropping UEs on the 3GPP
layouts and comparing two CDFs with the curves the 3GPP companies obtained (R1-165974,
the median of their results): the *coupling loss* to the serving cell (path loss, shadow
fading, outdoor-to-indoor penetration, minus the antenna gains; UEs attach to the cell
with the lowest coupling loss) and the *geometry* (the serving cell's received power over
the sum of every other cell's, without fast fading; without noise unless asked).

:func:`calibrate` runs it for one scenario (UMa, UMi street canyon, InH open office) and
carrier (6, 30, 70 GHz); every parameter it takes from Table 7.8-1 and every reading it
had to choose is in :func:`setup`, :class:`CalibrationSetup` and docs/calibration.md.

Random draws: the LOS state and the shadow fading of each UE-site link (shared by the
site's three sectors, as TR 38.901 draws large-scale parameters per link between a UE
and a site) come from the planner's counter-based generator
(``ilac_plan._core._coverage.drop_draws``, keyed on the seed and the UE's and the site's
positions to the millimetre), the same draws as ``evaluate(..., drop_seed=seed)``; the
UE positions and attributes from numpy's PCG64 seeded with ``seed``. A run is
reproducible from its seed.
"""

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ilac_plan._core._coverage import drop_draws
from ilac_plan.errors import ParameterError
from ilac_plan.layouts import hexagonal_layout, wrap_shifts_m
from ilac_plan.model.antenna import ELEMENT_GAIN_DBI, antenna_attenuation_db
from ilac_plan.model.linkbudget import noise_power_dbm

from . import (SHADOW_FADING_DB, drop_model, environment_height_m, los_probability,
               path_loss_db)

#: How a run computes its links: the planner's kernel (``ilac_plan.evaluate`` with a
#: random drop and the panel antenna) or numpy (every formula written out here).
ENGINES = ("kernel", "numpy")

#: Percentiles of the calibration tables. [%]
PERCENTILES = tuple(range(5, 100, 5))
SCENARIOS = ("UMa", "UMi", "InH")
CARRIERS_GHZ = (6, 30, 70)
#: Default number of drops and UEs per cell in each drop.
DEFAULT_DROPS = 400
DEFAULT_UES_PER_CELL = 10


@dataclass(frozen=True)
class CalibrationSetup:
    """One scenario of Table 7.8-1 at one carrier.

    Attributes
    ----------
    scenario : {"UMa", "UMi", "InH"}
    carrier_hz : float
        [Hz]
    power_dbm : float
        BS transmit power per carrier. [dBm]
    bandwidth_hz : float
        [Hz]
    noise_figure_db : float
        UE noise figure. [dB]
    bs_height_m : float
        [m]
    isd_m : float
        Inter-site distance. [m]
    min_distance_2d_m : float
        Smallest BS-UE 2-D distance of a drop. [m]
    n_elements : int
        Elements of the BS panel's vertical column (one TXRU, one polarization).
    spacing_wavelengths : float
        Vertical element spacing d_V. [wavelengths]
    tilt_deg : float
        Electrical downtilt below the horizon (zenith 90 + tilt). [deg]
    indoor_fraction : float
        Share of indoor UEs (UMa, UMi).
    high_loss_fraction : float
        Share of indoor UEs behind the high-loss O2I model.
    indoor_los_distance : {"total", "outdoor"}
        The 2-D distance of an indoor UE's LOS probability: the whole ``d2D`` (TR 38.900
        v14.0.0, with which the 3GPP reference was made) or the outdoor part
        ``d2D-out = d2D - d2D-in`` (TR 38.901 v14.1 and later); docs/calibration.md.
    """

    scenario: str
    carrier_hz: float
    power_dbm: float
    bandwidth_hz: float
    noise_figure_db: float = 9.0
    bs_height_m: float = 25.0
    isd_m: float = 500.0
    min_distance_2d_m: float = 35.0
    n_elements: int = 10
    spacing_wavelengths: float = 0.5
    tilt_deg: float = 12.0
    indoor_fraction: float = 0.8
    high_loss_fraction: float = 0.5
    indoor_los_distance: str = "total"

    @property
    def noise_dbm(self):
        """Thermal noise over the bandwidth plus the noise figure. [dBm]"""
        return float(noise_power_dbm(self.bandwidth_hz, noise_figure_db=self.noise_figure_db))


def setup(scenario, carrier_ghz):
    """The :class:`CalibrationSetup` of Table 7.8-1 for a scenario and carrier.

    BS power 49 dBm (UMa at 6 GHz), 44 dBm (UMi at 6 GHz), 35 dBm (UMa, UMi at 30 and
    70 GHz), 24 dBm (InH); bandwidth 20 MHz at 6 GHz, 100 MHz at 30 and 70 GHz; UMa
    25 m BS height, 500 m ISD, 35 m minimum distance; UMi 10 m, 200 m, 10 m; InH 3 m,
    20 m ISD, 12 sites in 120 m x 50 m; tilt 12 deg (zenith 102) outdoors, 20 deg (110)
    indoors.
    """
    if scenario not in SCENARIOS:
        raise ParameterError(f"scenario must be one of {', '.join(SCENARIOS)}; got "
                             f"{scenario!r}")
    if carrier_ghz not in CARRIERS_GHZ:
        raise ParameterError(f"carrier_ghz must be one of "
                             f"{', '.join(map(str, CARRIERS_GHZ))}; got {carrier_ghz!r}")
    bandwidth = 20e6 if carrier_ghz == 6 else 100e6
    fc = carrier_ghz * 1e9
    if scenario == "UMa":
        return CalibrationSetup("UMa", fc, 49.0 if carrier_ghz == 6 else 35.0, bandwidth)
    if scenario == "UMi":
        return CalibrationSetup("UMi", fc, 44.0 if carrier_ghz == 6 else 35.0, bandwidth,
                                bs_height_m=10.0, isd_m=200.0, min_distance_2d_m=10.0)
    return CalibrationSetup("InH", fc, 24.0, bandwidth, bs_height_m=3.0, isd_m=20.0,
                            min_distance_2d_m=0.0, tilt_deg=20.0, indoor_fraction=0.0)


# ---- the BS panel ------------------------------------------------------------------------


def panel_gain_dbi(s, dx_m, dy_m, dz_m, azimuth_deg):
    """Gain of the setup's BS panel towards UEs at offsets (east, north, up) [m]: the
    planner's TR 38.901 element (8 dBi, unsteered) plus the array factor of
    ``n_elements`` rows steered by ``tilt_deg``
    (:func:`ilac_plan.model.antenna.antenna_attenuation_db`, ``panel_rows``). [dBi]"""
    return ELEMENT_GAIN_DBI - antenna_attenuation_db(
        dx_m, dy_m, dz_m, azimuth_deg=azimuth_deg, electrical_tilt_deg=s.tilt_deg,
        antenna="3gpp", panel_rows=s.n_elements,
        panel_spacing_wavelengths=s.spacing_wavelengths)


# ---- O2I penetration (TR 38.901 Table 7.4.3-2) --------------------------------------------


def o2i_wall_loss_db(carrier_hz, high_loss):
    """Through-wall loss PL_tw of the low-loss (30 % glass, 70 % concrete) or high-loss
    (70 % IRR glass, 30 % concrete) model, Table 7.4.3-2 with the materials of
    Table 7.4.3-1 (f in GHz): glass 2 + 0.2 f, IRR glass 23 + 0.3 f, concrete 5 + 4 f. [dB]
    """
    f = carrier_hz / 1e9
    glass, irr, concrete = 2.0 + 0.2 * f, 23.0 + 0.3 * f, 5.0 + 4.0 * f
    low = 5.0 - 10.0 * math.log10(0.3 * 10 ** (-glass / 10) + 0.7 * 10 ** (-concrete / 10))
    high = 5.0 - 10.0 * math.log10(0.7 * 10 ** (-irr / 10) + 0.3 * 10 ** (-concrete / 10))
    return np.where(np.asarray(high_loss, bool), high, low)


#: Standard deviation of the O2I loss, low- and high-loss models. [dB]
O2I_SIGMA_DB = (4.4, 6.5)
#: The indoor distance d2D-in is the minimum of two uniforms in [0, this]. [m]
O2I_INDOOR_MAX_M = 25.0
#: Indoor distance loss per metre. [dB/m]
O2I_INDOOR_DB_PER_M = 0.5


# ---- layouts and drops --------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def cells(s):
    """The cells of a setup: ``(x_m, y_m, azimuth_deg)`` arrays and the wrap-around shifts
    (None for InH). Outdoors 19 three-sector sites (first azimuth 30 deg: boresights
    towards neighbouring sites, as 3GPP draws them), wrap-around by the nearest of 7
    images; InH 12 three-sector sites at x = -50..50 m step 20, y = +-10 m."""
    if s.scenario == "InH":
        sx, sy = np.meshgrid(np.arange(-50.0, 51.0, s.isd_m), (-10.0, 10.0))
        sx, sy = sx.ravel(), sy.ravel()
        az = np.array([30.0, 150.0, 270.0])
        return (np.repeat(sx, 3), np.repeat(sy, 3), np.tile(az, sx.size)), None
    table = hexagonal_layout(isd_m=s.isd_m, rings=2)
    return ((table["x_m"].to_numpy(), table["y_m"].to_numpy(),
             table["azimuth_deg"].to_numpy()), wrap_shifts_m(s.isd_m, 2))


def _uniform_hexagon(rng, n, radius_m):
    """n points uniform in a hexagon of circumradius radius_m with vertices at 30 + 60 k
    deg (flat sides towards the neighbouring sites at 0 + 60 k deg), by rejection."""
    out = np.empty((0, 2))
    apothem = radius_m * math.sqrt(3.0) / 2.0
    normals = np.array([[math.cos(a), math.sin(a)] for a in np.deg2rad(np.arange(0, 180, 60))])
    while out.shape[0] < n:
        p = rng.uniform(-radius_m, radius_m, (2 * n + 8, 2))
        inside = np.all(np.abs(p @ normals.T) <= apothem, axis=1)
        out = np.vstack([out, p[inside]])
    return out[:n]


def drop_ues(s, rng, n_per_cell):
    """One drop's UEs: positions, heights, indoor flags and O2I draws.

    UMa, UMi (TR 36.873 UT distribution): ``3 n_per_cell`` UEs uniform in each site's
    hexagon (area of its three cells), at least ``min_distance_2d_m`` from it; 80 %
    indoor at floor ``n_fl`` uniform in 1..N_fl, N_fl uniform in 4..8, height
    ``3 (n_fl - 1) + 1.5`` m; outdoor UEs at 1.5 m. InH: uniform in 120 m x 50 m at 1 m.

    Returns
    -------
    dict of ndarray
        ``x_m, y_m, h_m, indoor, high_loss, d_in_m, z_o2i``.
    """
    (cx, cy, _), _ = cells(s)
    if s.scenario == "InH":
        n = n_per_cell * cx.size
        return {"x_m": rng.uniform(-60.0, 60.0, n), "y_m": rng.uniform(-25.0, 25.0, n),
                "h_m": np.full(n, 1.0), "indoor": np.zeros(n, bool),
                "high_loss": np.zeros(n, bool), "d_in_m": np.zeros(n), "z_o2i": np.zeros(n)}
    sites_x, sites_y = cx[::3], cy[::3]
    per_site = 3 * n_per_cell
    xs, ys = [], []
    for x0, y0 in zip(sites_x, sites_y):
        pts = np.empty((0, 2))
        while pts.shape[0] < per_site:
            p = _uniform_hexagon(rng, per_site, s.isd_m / math.sqrt(3.0))
            pts = np.vstack([pts, p[np.hypot(p[:, 0], p[:, 1]) >= s.min_distance_2d_m]])
        xs.append(pts[:per_site, 0] + x0)
        ys.append(pts[:per_site, 1] + y0)
    x, y = np.concatenate(xs), np.concatenate(ys)
    n = x.size
    indoor = rng.random(n) < s.indoor_fraction
    n_floors = rng.integers(4, 9, n)
    floor = np.floor(rng.random(n) * n_floors).astype(np.int64) + 1
    h = np.where(indoor, 3.0 * (floor - 1) + 1.5, 1.5)
    d_in = np.minimum(rng.uniform(0.0, O2I_INDOOR_MAX_M, n),
                      rng.uniform(0.0, O2I_INDOOR_MAX_M, n))
    return {"x_m": x, "y_m": y, "h_m": h, "indoor": indoor,
            "high_loss": indoor & (rng.random(n) < s.high_loss_fraction),
            "d_in_m": np.where(indoor, d_in, 0.0), "z_o2i": rng.standard_normal(n)}


def o2i_loss_db(s, ues):
    """O2I penetration of each UE (0 outdoors): ``PL_tw + 0.5 d2D-in + sigma_P z``. [dB]"""
    o2i = o2i_wall_loss_db(s.carrier_hz, ues["high_loss"]) + \
        O2I_INDOOR_DB_PER_M * ues["d_in_m"] + \
        np.where(ues["high_loss"], O2I_SIGMA_DB[1], O2I_SIGMA_DB[0]) * ues["z_o2i"]
    return np.where(ues["indoor"], o2i, 0.0)


def site_table(s):
    """The setup's cells as an ilac_plan site table: the panel of ``n_elements`` rows at
    ``spacing_wavelengths``, electrical tilt ``tilt_deg``, the element's 8 dBi."""
    (cx, cy, caz), _ = cells(s)
    return pd.DataFrame({
        "cell_id": [f"C{k}" for k in range(cx.size)],
        "site_id": [f"S{k // 3}" for k in range(cx.size)], "x_m": cx, "y_m": cy,
        "azimuth_deg": caz, "n_antennas": 1, "power_dbm": s.power_dbm,
        "gain_dbi": ELEMENT_GAIN_DBI, "height_m": s.bs_height_m, "tilt_deg": 0.0,
        "electrical_tilt_deg": s.tilt_deg, "panel_rows": s.n_elements,
        "panel_spacing_wavelengths": s.spacing_wavelengths})


def kernel_links(s, ues, seed):
    """Serving coupling loss [dB] and S/I [dB] of each UE through the planner:
    ``ilac_plan.evaluate`` with a random drop (``drop_seed=seed``) of the scenario's
    drop model at each UE height, the panel antenna and the wrap-around, plus each UE's
    O2I penetration (which moves its coupling loss, not its serving cell nor its S/I)."""
    import ilac_plan as ip

    shifts = cells(s)[1]
    sites = site_table(s)
    scen = s.scenario.lower()
    radio = ip.RadioParams(carrier_hz=s.carrier_hz, noise_psd_dbm_hz=-250.0,
                           noise_figure_db=0.0)
    noise_mw = 10.0 ** (radio.noise_dbm / 10.0)
    n = ues["x_m"].size
    loss, sir = np.empty(n), np.empty(n)
    kw = dict(antenna="3gpp", schemes=(), drop_seed=seed, radio=radio, wrap_shifts_m=shifts)
    for h in np.unique(ues["h_m"]):
        rows = ues["h_m"] == h
        model = drop_model(scen, s.carrier_hz, s.bs_height_m, float(h),
                           min_distance_m=1.0, office="open")
        x, y = ues["x_m"][rows], ues["y_m"][rows]
        alone = ip.evaluate(sites, x, y, propagation=model, ue_height_m=float(h), **kw)
        inter = ip.evaluate(sites, x, y, propagation=model, ue_height_m=float(h),
                            interference=True, **kw)
        rx = alone.snr_db.to_numpy() + radio.noise_dbm
        s_mw = 10.0 ** (rx / 10.0)
        i_mw = s_mw / 10.0 ** (inter.snr_db.to_numpy() / 10.0) - noise_mw
        loss[rows] = s.power_dbm - rx              # rx = P - PL + the panel's gain
        sir[rows] = 10.0 * np.log10(s_mw / np.maximum(i_mw, 1e-300))
    return loss + o2i_loss_db(s, ues), sir


def coupling_loss_db(s, ues, seed, rng):
    """Coupling loss of every (UE, cell) link of a drop: path loss of the drawn LOS state
    plus shadow fading, plus O2I penetration for indoor UEs, minus the BS panel's gain
    (the UE antenna is isotropic, 0 dBi). [dB], shape (UEs, cells)

    Per link (nearest wrap-around image): LOS with the scenario's probability at the 2-D
    distance (for indoor UEs the whole one, or with ``indoor_los_distance="outdoor"``
    the outdoor part ``d2D - d2D-in``); UMa's environment height h_E drawn per link
    (Table 7.4.1-1, note 1); the median loss of Table 7.4.1-1 at the 3-D distance; the
    shadow fading ``sigma_state z``. The LOS uniform and z are the kernel's
    ``drop_draws(seed, x, y, site_x, site_y)``: one per UE-site link, shared by the
    site's sectors.
    """
    (cx, cy, caz), shifts = cells(s)
    x, y, h = ues["x_m"][:, None], ues["y_m"][:, None], ues["h_m"]
    dx, dy = x - cx[None, :], y - cy[None, :]
    if shifts is not None:
        best = dx * dx + dy * dy
        bx, by = dx, dy
        for sx, sy in shifts[1:]:
            ex, ey = dx - sx, dy - sy
            e2 = ex * ex + ey * ey
            closer = e2 < best
            bx, by, best = np.where(closer, ex, bx), np.where(closer, ey, by), \
                np.where(closer, e2, best)
        dx, dy = bx, by
    d2d = np.hypot(dx, dy)
    dz = s.bs_height_m - h[:, None]
    d3d = np.sqrt(d2d**2 + dz**2)
    u_los, z_sf = drop_draws(seed, x, y, cx[None, :], cy[None, :])
    scen = s.scenario.lower()
    sigma_los, sigma_nlos = SHADOW_FADING_DB[scen]
    loss = np.empty(d2d.shape)
    d_out = d2d if s.indoor_los_distance == "total" else \
        np.maximum(d2d - ues["d_in_m"][:, None], 0.0)
    # one h_E draw per UE-site link, shared by the site's sectors as the LOS state and
    # the shadow fading are
    _, site_of_cell = np.unique(np.stack([cx, cy], axis=1), axis=0, return_inverse=True)
    u_env = rng.random((d2d.shape[0], int(site_of_cell.max()) + 1))[:, site_of_cell.ravel()]
    for hv in np.unique(h):
        rows = h == hv
        dd3, dd2 = d3d[rows], d2d[rows]
        p_los = los_probability(scen, d_out[rows], hv, office="open")   # InH: open office
        kw = {"h_e_m": environment_height_m(dd2, hv, u_env[rows])} if scen == "uma" else {}
        los = u_los[rows] < p_los
        pl_los = path_loss_db(scen, True, dd3, s.carrier_hz, s.bs_height_m, hv, **kw)
        pl_nlos = path_loss_db(scen, False, dd3, s.carrier_hz, s.bs_height_m, hv, **kw)
        loss[rows] = np.where(los, pl_los + sigma_los * z_sf[rows],
                              pl_nlos + sigma_nlos * z_sf[rows])
    loss += o2i_loss_db(s, ues)[:, None]
    return loss - panel_gain_dbi(s, dx, dy, -dz, caz[None, :])


#: Ranges of the settings :func:`calibrate` lets one change (``**overrides``).
SETTING_RANGES = {
    "power_dbm": (-50.0, 80.0), "bandwidth_hz": (1e3, 1e10), "noise_figure_db": (0.0, 30.0),
    "bs_height_m": (1.0, 150.0), "isd_m": (10.0, 1e5), "min_distance_2d_m": (0.0, 1e5),
    "n_elements": (1, 64), "spacing_wavelengths": (0.05, 4.0), "tilt_deg": (-90.0, 90.0),
    "indoor_fraction": (0.0, 1.0), "high_loss_fraction": (0.0, 1.0),
    "indoor_los_distance": ("total", "outdoor")}
#: Most UEs of one run (drops x UEs per cell x cells).
MAX_UES = 20_000_000


def _checked(s, overrides):
    """The setup with every overridden setting in range, or a one-line ParameterError."""
    for key, value in overrides.items():
        lo, hi = SETTING_RANGES[key]
        if isinstance(lo, str):
            if value not in (lo, hi):
                raise ParameterError(f"{key} must be {lo!r} or {hi!r}; got {value!r}")
            continue
        integer = isinstance(lo, int)
        kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
        if isinstance(value, bool) or not isinstance(value, kind) \
                or not (lo <= value <= hi):
            raise ParameterError(f"{key} must be {'an integer' if integer else 'a number'} in "
                                 f"[{lo:g}, {hi:g}]; got {value!r}")
    radius = s.isd_m / math.sqrt(3.0)
    if s.scenario != "InH" and s.min_distance_2d_m >= 0.9 * radius:
        raise ParameterError(f"min_distance_2d_m must be below 0.9 x isd_m / sqrt(3) = "
                             f"{0.9 * radius:g} m (the site's hexagon); got "
                             f"{s.min_distance_2d_m:g}")
    return replace(s, n_elements=int(s.n_elements))


def calibrate(scenario="UMa", carrier_ghz=6, *, drops=DEFAULT_DROPS,
              ues_per_cell=DEFAULT_UES_PER_CELL, seed=0, with_noise=False, engine="kernel",
              **overrides):
    """Run the large-scale calibration of one scenario and carrier.

    Parameters
    ----------
    scenario : {"UMa", "UMi", "InH"}
    carrier_ghz : {6, 30, 70}
    drops : int, default 400
        Independent drops (1 to 10,000).
    ues_per_cell : int, default 10
        UEs per cell in each drop (1 to 1,000).
    seed : int, default 0
        In [0, 2**63 - 1]; the run is a function of it.
    with_noise : bool, default False
        Geometry with the thermal noise (S / (I + N)) instead of S / I.
    engine : {"kernel", "numpy"}, default "kernel"
        The planner's kernel (``ilac_plan.evaluate``; UMa's h_E is 1 m there) or the
        numpy links of :func:`coupling_loss_db` (every formula of the calibration,
        ``indoor_los_distance="outdoor"`` too). Both drop the same UEs with the same draws.
    **overrides
        Fields of :class:`CalibrationSetup` to change, within :data:`SETTING_RANGES`
        (e.g. ``spacing_wavelengths``; not ``scenario`` nor ``carrier_hz``).

    Returns
    -------
    CalibrationResult
    """
    s = setup(scenario, carrier_ghz)
    if overrides:
        unknown = sorted(set(overrides) - set(SETTING_RANGES))
        if unknown:
            fixed = "set by the scenario and carrier_ghz arguments" if unknown[0] in (
                "scenario", "carrier_hz") else f"allowed: {', '.join(SETTING_RANGES)}"
            raise ParameterError(f"unknown calibration setting {unknown[0]!r} ({fixed})")
        s = _checked(replace(s, **overrides), overrides)
    for name, value, lo, hi in (("drops", drops, 1, 10_000),
                                ("ues_per_cell", ues_per_cell, 1, 1_000)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not lo <= value <= hi:
            raise ParameterError(f"{name} must be an integer in [{lo}, {hi:,}]; got {value!r}")
    n_cells = cells(s)[0][0].size
    if drops * ues_per_cell * n_cells > MAX_UES:
        raise ParameterError(f"drops x ues_per_cell x {n_cells} cells must be at most "
                             f"{MAX_UES:,} UEs; got {drops * ues_per_cell * n_cells:,}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed <= 2**63 - 1:
        raise ParameterError(f"seed must be an integer in [0, {2**63 - 1}]; got {seed!r}")
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine == "kernel" and s.indoor_los_distance != "total":
        raise ParameterError("indoor_los_distance='outdoor' needs engine='numpy' (the "
                             "planner's kernel has no indoor distance)")
    rng = np.random.default_rng(int(seed))
    rng_env = np.random.default_rng([int(seed), 1])      # UMa's h_E: numpy engine only
    drops_ues = [drop_ues(s, rng, int(ues_per_cell)) for _ in range(int(drops))]
    if engine == "kernel":      # the drops' UEs in one run of the kernel per UE height
        pooled = {k: np.concatenate([u[k] for u in drops_ues]) for k in drops_ues[0]}
        best, sir = kernel_links(s, pooled, int(seed))
        i_over_s = 10.0 ** (-sir / 10.0)
    else:
        best, i_over_s = (np.concatenate(v) for v in zip(*(
            _serving(coupling_loss_db(s, ues, int(seed), rng_env)) for ues in drops_ues)))
    if with_noise:
        i_over_s = i_over_s + 10.0 ** ((s.noise_dbm - s.power_dbm + best) / 10.0)
    return CalibrationResult(s, best, -10.0 * np.log10(i_over_s), int(seed), int(drops),
                             int(ues_per_cell), bool(with_noise), engine)


def _serving(loss):
    """Each UE's lowest coupling loss [dB] and the other cells' summed power over the
    serving cell's, from a (UEs, cells) coupling-loss matrix."""
    best = loss.min(axis=1)
    return best, (10.0 ** (-(loss - best[:, None]) / 10.0)).sum(axis=1) - 1.0


@dataclass(frozen=True)
class CalibrationResult:
    """The UEs' serving coupling losses and geometries of a calibration run.

    Attributes
    ----------
    setup : CalibrationSetup
    coupling_loss_db : ndarray
        Serving-cell coupling loss per UE, a positive loss. [dB]
    geometry_db : ndarray
        [dB]
    """

    setup: CalibrationSetup
    coupling_loss_db: np.ndarray
    geometry_db: np.ndarray
    seed: int
    drops: int
    ues_per_cell: int
    with_noise: bool
    engine: str = "kernel"

    def table(self):
        """``percentile, coupling_loss_db, geometry_db`` at 5, 10, ..., 95 % (each the
        percentile of its own distribution; numpy's linear interpolation)."""
        p = np.array(PERCENTILES, float)
        return pd.DataFrame({"percentile": np.array(PERCENTILES),
                             "coupling_loss_db": np.percentile(self.coupling_loss_db, p),
                             "geometry_db": np.percentile(self.geometry_db, p)})

    def comparison(self):
        """The table beside the 3GPP reference (R1-165974) and the differences. [dB]"""
        ref = reference(self.setup.scenario, round(self.setup.carrier_hz / 1e9))
        out = self.table().merge(ref, on="percentile", suffixes=("", "_3gpp"))
        out["coupling_loss_diff_db"] = out["coupling_loss_db"] - out["coupling_loss_db_3gpp"]
        out["geometry_diff_db"] = out["geometry_db"] - out["geometry_db_3gpp"]
        return out


# ---- the 3GPP reference ------------------------------------------------------------------

# R1-165974 (summary of the TR 38.900 large-scale calibration; the median of the companies'
# results), as the CDF of the coupling *gain* at 5, 10, ..., 95 % (here negated: losses,
# from the 5 % of the gain = the 95 % of the loss down) and of the geometry (no noise).
_REF_CL = {
    ("UMi", 6): (142.3, 136.4, 132.4, 128.9, 125.8, 122.9, 120.3, 117.6, 115, 112.2, 109.5,
                 106.4, 103.2, 99.9, 96.2, 92.2, 87.6, 82, 74.8),
    ("UMi", 30): (164.6, 158.5, 154.1, 150.3, 147.1, 144, 141.1, 138.2, 135.3, 132.4, 129.4,
                  126.2, 122.5, 118.3, 113.7, 108.9, 103.5, 97.1, 89.3),
    ("UMi", 70): (184.2, 177.8, 173.3, 169.2, 165.5, 162, 158.7, 155.5, 152.3, 149.1, 145.8,
                  142.4, 138.3, 133.6, 127.1, 119.8, 112.8, 105.2, 96.8),
    ("UMa", 6): (150.4, 144.7, 140.6, 137, 133.9, 131.1, 128.4, 125.8, 123.1, 120.3, 117.5,
                 114.7, 111.8, 109.1, 106.1, 102.8, 98.8, 93.7, 86),
    ("UMa", 30): (172, 166.3, 161.8, 157.9, 154.5, 151.4, 148.5, 145.7, 142.9, 140.1, 137,
                  133.6, 130, 126.6, 123.1, 119.5, 115.4, 110.1, 102),
    ("UMa", 70): (191.4, 185.5, 180.9, 176.8, 172.8, 169.2, 165.8, 162.6, 159.6, 156.6, 153.3,
                  149.8, 145.5, 140.4, 135.1, 130.4, 125.5, 119.7, 110.7),
    ("InH", 6): (71.1, 69.4, 68.3, 67.2, 66.2, 65.1, 63.8, 62.3, 60.8, 59.3, 57.8, 56.4, 55,
                 53.6, 52.1, 50.7, 49, 47.2, 45),
    ("InH", 30): (85, 83.5, 82.3, 81.3, 80.3, 79.2, 77.9, 76.4, 74.9, 73.3, 71.8, 70.3, 68.9,
                  67.5, 66, 64.6, 63, 61.2, 59.1),
    ("InH", 70): (92.4, 90.8, 89.7, 88.6, 87.6, 86.5, 85.3, 83.8, 82.2, 80.7, 79.2, 77.8,
                  76.4, 74.9, 73.5, 71.9, 70.4, 68.6, 66.4),
}
_REF_GEOMETRY = {
    ("UMi", 6): (-1.7, -0.5, 0.4, 1.2, 2.1, 3, 4, 5, 6.1, 7.3, 8.6, 9.9, 11.4, 13, 14.9, 17,
                 19.4, 22.1, 24.9),
    ("UMi", 30): (-1.6, -0.4, 0.4, 1.3, 2.2, 3.1, 4.1, 5.2, 6.3, 7.5, 8.8, 10.2, 11.7, 13.3,
                  15.1, 17.2, 19.6, 22.2, 24.9),
    ("UMi", 70): (-1.6, -0.4, 0.5, 1.3, 2.2, 3.1, 4.1, 5.2, 6.3, 7.5, 8.8, 10.2, 11.7, 13.4,
                  15.2, 17.3, 19.7, 22.4, 25),
    ("UMa", 6): (-1, 0.1, 1.1, 2, 2.9, 3.9, 5, 6, 7.2, 8.6, 9.9, 11.3, 12.9, 14.7, 16.5,
                 18.6, 20.9, 23.4, 25.6),
    ("UMa", 30): (-1, 0.2, 1.1, 2, 3, 4, 5, 6.1, 7.3, 8.6, 9.9, 11.3, 13, 14.7, 16.5, 18.6,
                  20.9, 23.4, 25.6),
    ("UMa", 70): (-0.9, 0.1, 1.1, 2, 3, 3.9, 5, 6.1, 7.2, 8.5, 9.9, 11.3, 13, 14.7, 16.5,
                  18.6, 20.9, 23.4, 25.6),
    ("InH", 6): (-4.4, -3.5, -2.7, -2, -1.3, -0.6, 0.2, 1, 2, 3, 4.2, 5.5, 6.9, 8.4, 10,
                 11.7, 13.6, 15.6, 17.9),
    ("InH", 30): (-4.3, -3.4, -2.7, -2, -1.3, -0.6, 0.2, 1.1, 2, 3.1, 4.2, 5.6, 7, 8.5, 10.2,
                  11.8, 13.6, 15.6, 18),
    ("InH", 70): (-4.3, -3.4, -2.6, -1.9, -1.2, -0.5, 0.3, 1.1, 2, 3.1, 4.3, 5.5, 6.9, 8.4,
                  10.1, 11.7, 13.6, 15.6, 18),
}


def reference(scenario, carrier_ghz):
    """The 3GPP reference (R1-165974) as ``percentile, coupling_loss_db, geometry_db``:
    each column the percentile of its own distribution (the loss's 5 % is the gain's
    95 %). [dB]"""
    setup(scenario, carrier_ghz)      # checks the arguments
    cl = np.array(_REF_CL[(scenario, carrier_ghz)], float)[::-1]
    return pd.DataFrame({"percentile": np.array(PERCENTILES), "coupling_loss_db": cl,
                         "geometry_db": np.array(_REF_GEOMETRY[(scenario, carrier_ghz)],
                                                 float)})


def plot(result, path):
    """Draw the coupling-loss and geometry CDFs beside the 3GPP reference into ``path``
    (a .png, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ilac_plan._io import atomic_path

    s = result.setup
    ref = reference(s.scenario, round(s.carrier_hz / 1e9))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, values, key, label in ((axes[0], result.coupling_loss_db, "coupling_loss_db",
                                    "coupling loss [dB]"),
                                   (axes[1], result.geometry_db, "geometry_db",
                                    "geometry [dB]" + (" (with noise)" if result.with_noise
                                                       else ""))):
        v = np.sort(values)
        ax.plot(v, 100.0 * (np.arange(v.size) + 0.5) / v.size, lw=2, label="ilac_plan")
        ax.plot(ref[key], ref["percentile"], "k+--", lw=1, label="3GPP R1-165974")
        ax.set_xlabel(label)
        ax.set_ylabel("CDF [%]")
        ax.grid(True, alpha=0.4)
        ax.legend(loc="lower right")
    fig.suptitle(f"TR 38.901 large-scale calibration: {s.scenario}, "
                 f"{s.carrier_hz / 1e9:g} GHz ({result.drops} drops x {result.ues_per_cell} "
                 f"UEs per cell, seed {result.seed}, {result.engine} engine)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
