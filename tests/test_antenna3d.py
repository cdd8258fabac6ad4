"""The TR 38.901 3-D antenna pattern and the serving cell it gives, against a reference here.

The reference is written from 3GPP TR 38.901 Sec. 7.1 (global-to-local rotation
R = R_Z(alpha) R_Y(beta), no slant) and Table 7.3-1 (element pattern), without
ilac_plan code:

* global coordinates east / north / up; a cell's bearing ``az`` is clockwise from north,
  so its broadside is (sin az, cos az, 0) and the 38.901 bearing (counter-clockwise from
  east, the x axis) is alpha = 90 deg - az;
* R_Y(beta) with beta the mechanical downtilt, positive down: the local x axis goes to
  (cos beta, 0, -sin beta) before the bearing rotation;
* local direction v' = R^T v; zenith theta' = angle between v' and the local z axis,
  azimuth phi' = atan2(v'_y, v'_x);
* A_H = -min(12 (phi'/65)^2, 30), A_V = -min(12 ((theta' - 90 - e)/65)^2, 30) with e the
  electrical downtilt, A = -min(-(A_H + A_V), 30); the attenuation is -A (0..30 dB).
"""

import numpy as np
import pandas as pd
import pytest

C = 299_792_458.0
F_HZ = 2.6e9
HPBW_DEG = 65.0
A_MAX_DB = 30.0
SLA_V_DB = 30.0
TOL_DB = 1e-9


# ------------------------------------------------------------------------------------------
# reference
# ------------------------------------------------------------------------------------------
def rot_z(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_y(b):
    c, s = np.cos(b), np.sin(b)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation(azimuth_deg, tilt_deg):
    """TR 38.901 (7.1-2) with bearing alpha = 90 deg - azimuth, downtilt beta, slant 0."""
    return rot_z(np.deg2rad(90.0 - azimuth_deg)) @ rot_y(np.deg2rad(tilt_deg))


def ref_local_angles_deg(dx, dy, dz, azimuth_deg, tilt_deg):
    """(theta', phi') in degrees: local zenith and azimuth of the direction (dx, dy, dz)."""
    v = np.stack(np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (dx, dy, dz))))
    loc = np.einsum("ji,j...->i...", rotation(azimuth_deg, tilt_deg), v)   # R^T v
    theta = np.degrees(np.arctan2(np.hypot(loc[0], loc[1]), loc[2]))
    phi = np.degrees(np.arctan2(loc[1], loc[0]))
    return theta, phi


def ref_attenuation_3gpp(dx, dy, dz, azimuth_deg, tilt_deg=0.0, etilt_deg=0.0):
    theta, phi = ref_local_angles_deg(dx, dy, dz, azimuth_deg, tilt_deg)
    a_h = -np.minimum(12.0 * (phi / HPBW_DEG) ** 2, A_MAX_DB)
    a_v = -np.minimum(12.0 * ((theta - 90.0 - etilt_deg) / HPBW_DEG) ** 2, SLA_V_DB)
    a = -np.minimum(-(a_h + a_v), A_MAX_DB)
    return -a


def ref_attenuation_horizontal(dx, dy, azimuth_deg):
    bearing = np.degrees(np.arctan2(dx, dy))              # clockwise from north
    phi = (bearing - azimuth_deg + 180.0) % 360.0 - 180.0
    return np.minimum(12.0 * (phi / HPBW_DEG) ** 2, A_MAX_DB)


def directions(azimuth_deg, offsets_deg, elevations_deg, rng):
    """(dx, dy, dz) towards bearing azimuth + offset and the elevation, random ranges."""
    off, el = np.meshgrid(offsets_deg, elevations_deg, indexing="ij")
    bearing = np.deg2rad(azimuth_deg + off)
    el = np.deg2rad(el)
    dist = rng.uniform(1.0, 3000.0, off.shape)
    return (dist * np.cos(el) * np.sin(bearing), dist * np.cos(el) * np.cos(bearing),
            dist * np.sin(el))


OFFSETS = np.linspace(-180.0, 180.0, 97)          # 3.75 deg steps, both ends
ELEVATIONS = np.linspace(-89.0, 89.0, 90)         # 2 deg steps
AZIMUTHS = (0.0, 33.3, 90.0, 181.0, 270.0, 359.9)
TILTS = (0.0, 6.0, 12.0)
ETILTS = (0.0, 4.0, 10.0)
POLE_EXCLUSION_DEG = 0.5   # phi' is undefined on the local z axis (theta' = 0 or 180)


# -- the reference itself -------------------------------------------------------------------
@pytest.mark.parametrize("az", AZIMUTHS)
@pytest.mark.parametrize("tilt", TILTS)
def test_reference_rotation(az, tilt):
    r = rotation(az, tilt)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-15)
    assert np.linalg.det(r) == pytest.approx(1.0)
    a, b = np.deg2rad(az), np.deg2rad(tilt)
    # local x = boresight: broadside bearing az, tilted down by the tilt
    np.testing.assert_allclose(r @ [1, 0, 0], [np.sin(a) * np.cos(b), np.cos(a) * np.cos(b),
                                               -np.sin(b)], atol=1e-15)
    # local y stays horizontal (no slant), to the left of the boresight looking out
    np.testing.assert_allclose(r @ [0, 1, 0], [-np.cos(a), np.sin(a), 0.0], atol=1e-15)


@pytest.mark.parametrize("az", AZIMUTHS)
@pytest.mark.parametrize("tilt", TILTS)
@pytest.mark.parametrize("etilt", ETILTS)
def test_reference_peak_and_cuts(az, tilt, etilt):
    # the peak is at the azimuth, tilt + electrical tilt below the horizon
    el = np.deg2rad(-(tilt + etilt))
    a = np.deg2rad(az)
    peak = ref_attenuation_3gpp(np.cos(el) * np.sin(a), np.cos(el) * np.cos(a), np.sin(el),
                                az, tilt, etilt)
    assert float(peak) == pytest.approx(0.0, abs=1e-12)
    # vertical cut through the boresight: only A_V
    els = np.linspace(-89.0, 89.0, 179)
    e = np.deg2rad(els)
    got = ref_attenuation_3gpp(np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e),
                               az, 0.0, etilt)
    np.testing.assert_allclose(got, np.minimum(12 * ((els + etilt) / 65) ** 2, 30), atol=1e-9)


def test_reference_horizontal_plane_without_tilt():
    rng = np.random.default_rng(0)
    for az in AZIMUTHS:
        dx, dy, dz = directions(az, OFFSETS, [0.0], rng)
        np.testing.assert_allclose(ref_attenuation_3gpp(dx, dy, dz, az),
                                   ref_attenuation_horizontal(dx, dy, az), atol=1e-9)
        np.testing.assert_allclose(ref_attenuation_horizontal(dx, dy, az)[:, 0],
                                   np.minimum(12 * (OFFSETS / 65) ** 2, 30), atol=1e-9)
    a = np.deg2rad(32.5)
    assert float(ref_attenuation_3gpp(np.sin(a), np.cos(a), 0.0, 0.0)) == pytest.approx(3.0)
    assert float(ref_attenuation_3gpp(0.0, -1.0, 0.0, 0.0)) == pytest.approx(30.0)
    # left-right symmetry, any tilt
    dx, dy, dz = directions(0.0, OFFSETS, ELEVATIONS, rng)
    np.testing.assert_allclose(ref_attenuation_3gpp(dx, dy, dz, 0.0, 12.0, 4.0),
                               ref_attenuation_3gpp(-dx, dy, dz, 0.0, 12.0, 4.0), atol=1e-9)


# -- ilac_plan against it -------------------------------------------------------------------
def attenuation():
    from ilac_plan.model.antenna import antenna_attenuation_db
    return antenna_attenuation_db


@pytest.mark.parametrize("az", AZIMUTHS)
@pytest.mark.parametrize("tilt", TILTS)
@pytest.mark.parametrize("etilt", ETILTS)
def test_3gpp_pattern_on_a_grid(az, tilt, etilt):
    f = attenuation()
    rng = np.random.default_rng(int(az * 10 + tilt * 100 + etilt))
    dx, dy, dz = directions(az, OFFSETS, ELEVATIONS, rng)
    want = ref_attenuation_3gpp(dx, dy, dz, az, tilt, etilt)
    got = f(dx, dy, dz, azimuth_deg=az, tilt_deg=tilt, electrical_tilt_deg=etilt,
            antenna="3gpp")
    assert got.shape == dx.shape
    theta, _ = ref_local_angles_deg(dx, dy, dz, az, tilt)
    ok = (theta > POLE_EXCLUSION_DEG) & (theta < 180.0 - POLE_EXCLUSION_DEG)
    assert ok.sum() >= ok.size - 2 * OFFSETS.size
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=TOL_DB)
    assert np.all((got >= 0.0) & (got <= 30.0))
    default = f(dx, dy, dz, azimuth_deg=az, tilt_deg=tilt, electrical_tilt_deg=etilt)
    np.testing.assert_array_equal(default, got)   # antenna="3gpp" is the default


def test_3gpp_pattern_broadcasts_cell_parameters():
    """Per-direction azimuth and tilts (as one would pass a cell column)."""
    f = attenuation()
    rng = np.random.default_rng(7)
    n = 5000
    az = rng.uniform(0, 360, n)
    tilt = rng.uniform(0, 15, n)
    etilt = rng.uniform(0, 10, n)
    dx, dy, dz = rng.uniform(-500, 500, n), rng.uniform(-500, 500, n), rng.uniform(-50, 5, n)
    want = np.array([ref_attenuation_3gpp(dx[i], dy[i], dz[i], az[i], tilt[i], etilt[i])
                     for i in range(n)])
    got = f(dx, dy, dz, azimuth_deg=az, tilt_deg=tilt, electrical_tilt_deg=etilt,
            antenna="3gpp")
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL_DB)


@pytest.mark.parametrize("az", AZIMUTHS)
def test_horizontal_and_omni(az):
    f = attenuation()
    rng = np.random.default_rng(int(az * 10))
    dx, dy, dz = directions(az, OFFSETS, ELEVATIONS, rng)
    for tilt, etilt in [(0.0, 0.0), (12.0, 10.0)]:   # tilts are ignored by both
        got = f(dx, dy, dz, azimuth_deg=az, tilt_deg=tilt, electrical_tilt_deg=etilt,
                antenna="horizontal")
        np.testing.assert_allclose(got, ref_attenuation_horizontal(dx, dy, az), rtol=0,
                                   atol=TOL_DB)
        omni = f(dx, dy, dz, azimuth_deg=az, tilt_deg=tilt, electrical_tilt_deg=etilt,
                 antenna="omni")
        np.testing.assert_array_equal(omni, np.zeros(dx.shape))


def test_3gpp_equals_horizontal_in_the_horizontal_plane_without_tilt():
    f = attenuation()
    rng = np.random.default_rng(3)
    dx, dy, dz = directions(40.0, OFFSETS, [0.0], rng)
    np.testing.assert_allclose(f(dx, dy, dz, azimuth_deg=40.0),
                               f(dx, dy, dz, azimuth_deg=40.0, antenna="horizontal"),
                               rtol=0, atol=TOL_DB)


# ------------------------------------------------------------------------------------------
# serving cell by brute force
# ------------------------------------------------------------------------------------------
def random_cells(rng, n, extent):
    return pd.DataFrame({
        "x_m": rng.uniform(0, extent, n), "y_m": rng.uniform(0, extent, n),
        "azimuth_deg": rng.uniform(0, 360, n), "n_antennas": rng.integers(1, 65, n),
        "power_dbm": rng.uniform(30, 46, n), "height_m": rng.uniform(10, 50, n),
        "tilt_deg": rng.uniform(0, 15, n), "electrical_tilt_deg": rng.uniform(0, 10, n),
        "gain_dbi": rng.uniform(0, 10, n)})


def brute_force_rx_dbm(sites, x, y, ue_height_m, antenna):
    rx = np.empty((x.size, len(sites)))
    for j, cell in enumerate(sites.itertuples(index=False)):
        dx, dy, dz = x - cell.x_m, y - cell.y_m, np.full(x.size, ue_height_m - cell.height_m)
        d3 = np.sqrt(dx**2 + dy**2 + dz**2)
        pl = 20.0 * np.log10(4.0 * np.pi * np.maximum(d3, 1.0) * F_HZ / C)
        if antenna == "3gpp":
            att = ref_attenuation_3gpp(dx, dy, dz, cell.azimuth_deg, cell.tilt_deg,
                                       cell.electrical_tilt_deg)
        else:
            att = ref_attenuation_horizontal(dx, dy, cell.azimuth_deg)
        rx[:, j] = cell.power_dbm + cell.gain_dbi - pl - att
    return rx


def check_serving(antenna, n_points, n_cells, seed):
    import ilac_plan as ip
    rng = np.random.default_rng(seed)
    extent = 3000.0
    sites = random_cells(rng, n_cells, extent)
    x, y = rng.uniform(0, extent, n_points), rng.uniform(0, extent, n_points)
    rx = brute_force_rx_dbm(sites, x, y, 1.5, antenna)
    want = np.argmax(rx, axis=1)
    top2 = np.sort(rx, axis=1)[:, -2:]
    near_tie = top2[:, 1] - top2[:, 0] <= TOL_DB
    assert near_tie.sum() <= 5, f"{near_tie.sum()} near ties"
    for prune in (True, False):
        df = ip.evaluate(sites, x, y, antenna=antenna, ue_height_m=1.5, schemes=[],
                         prune=prune)
        got = df.serving_cell.to_numpy()
        wrong = (got != want) & ~near_tie
        assert not wrong.any(), (
            f"prune={prune}: {wrong.sum()} points differ, e.g. point {np.flatnonzero(wrong)[:5]}"
            f" got {got[wrong][:5]} want {want[wrong][:5]} margin "
            f"{(rx[wrong, want[wrong]] - rx[wrong, got[wrong]])[:5]} dB")
    return near_tie.sum()


def test_serving_cell_3gpp_brute_force_100k():   # < 2 s: not marked slow
    check_serving("3gpp", 100_000, 60, 2024)


def test_serving_cell_3gpp_brute_force_small():
    check_serving("3gpp", 20_000, 60, 11)


def test_serving_cell_horizontal_brute_force_small():
    check_serving("horizontal", 20_000, 60, 12)


@pytest.mark.parametrize("az", [0.0, 90.0, 180.0, 225.0, 270.0, 315.0])
def test_no_attenuation_at_the_site_itself_whatever_the_azimuth(az):
    """On the site (dx = dy = 0, and dz = 0 for 3gpp) the angle is 0 as in the kernel: a
    signed zero (-0.0) made it pi, 30 dB, for azimuths in (180, 270] deg."""
    from ilac_plan.model.antenna import antenna_attenuation_db

    assert antenna_attenuation_db(0.0, 0.0, 0.0, azimuth_deg=az, antenna="horizontal") == 0.0
    assert antenna_attenuation_db(0.0, 0.0, 0.0, azimuth_deg=az, tilt_deg=0.0,
                                  antenna="3gpp") == pytest.approx(0.0, abs=1e-12)
