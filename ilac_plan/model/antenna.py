"""Antenna patterns of a gNB sector (3GPP TR 38.901, Table 7.3-1): horizontal and 3-D.

.. math:: A_H(\\varphi) = -\\min\\left(12\\left(\\frac{\\varphi}{\\varphi_{3dB}}\\right)^2, A_m\\right)

with :math:`\\varphi_{3dB} = 65°` and :math:`A_m = 30` dB. The maximum element gain
(8 dBi in the table) belongs in the site's ``gain_dbi``; this module gives the
attenuation relative to the broadside.
"""

import numpy as np

from .._validate import check_array, check_choice, check_scalar

BEAMWIDTH_DEG = 65.0
"""Half-power beamwidth :math:`\\varphi_{3dB}` of TR 38.901 Table 7.3-1. [deg]"""

FRONT_TO_BACK_DB = 30.0
"""Maximum attenuation :math:`A_m` of TR 38.901 Table 7.3-1. [dB]"""


def sector_attenuation_db(angle_rad, beamwidth_deg=BEAMWIDTH_DEG,
                          front_to_back_db=FRONT_TO_BACK_DB):
    """Attenuation of the horizontal sector pattern off the broadside.

    Parameters
    ----------
    angle_rad : array_like
        Horizontal angle between the broadside and the direction to the UE; any real
        value, wrapped to (-pi, pi]. [rad]
    beamwidth_deg : float, default 65
        Half-power beamwidth. [deg]
    front_to_back_db : float, default 30
        Maximum attenuation. [dB]

    Returns
    -------
    ndarray
        :math:`\\min(12(\\varphi/\\varphi_{3dB})^2, A_m)` >= 0. [dB]

    Examples
    --------
    >>> float(sector_attenuation_db(np.deg2rad(32.5)))   # half the beamwidth: 3 dB
    3.0
    """
    angle = check_array("angle_rad", angle_rad, unit="rad")
    width = check_scalar("beamwidth_deg", beamwidth_deg, low=0.0, low_open=True,
                              high=360.0, unit="deg")
    a_max = check_scalar("front_to_back_db", front_to_back_db, low=0.0, unit="dB")
    wrapped = np.angle(np.exp(1j * angle))
    return np.minimum(12.0 * (wrapped / np.deg2rad(width)) ** 2, a_max)


ANTENNAS = ("omni", "horizontal", "3gpp")
"""Antenna models: none, the horizontal sector pattern, the TR 38.901 3-D pattern."""

VERTICAL_BEAMWIDTH_DEG = 65.0
"""Vertical half-power beamwidth :math:`\\theta_{3dB}` of TR 38.901 Table 7.3-1. [deg]"""

SIDE_LOBE_DB = 30.0
"""Vertical side-lobe level :math:`SLA_V` of TR 38.901 Table 7.3-1. [dB]"""

ELEMENT_GAIN_DBI = 8.0
"""Maximum directional gain :math:`G_{E,max}` of the TR 38.901 element. [dBi]"""


def local_angles(dx_m, dy_m, dz_m, *, azimuth_deg, tilt_deg=0.0):
    """Angles of a direction in the frame of a mechanically tilted antenna.

    The antenna's boresight points at ``azimuth_deg`` (clockwise from north) and
    ``tilt_deg`` below the horizon (TR 38.901 Sec. 7.1: bearing, then downtilt, no
    slant).

    Parameters
    ----------
    dx_m, dy_m, dz_m : array_like
        UE minus antenna position, east, north and up. [m]
    azimuth_deg : array_like
        Bearing of the boresight. [deg]
    tilt_deg : array_like, default 0
        Mechanical downtilt, positive down. [deg]

    Returns
    -------
    phi_rad : ndarray
        Local azimuth off the boresight, in [-pi, pi]. [rad]
    elevation_rad : ndarray
        Local elevation above the boresight plane, in [-pi/2, pi/2] (the local zenith
        angle is pi/2 minus it). [rad]
    """
    dx, dy, dz = (np.asarray(v, np.float64) for v in (dx_m, dy_m, dz_m))
    az = np.deg2rad(np.asarray(azimuth_deg, np.float64))
    tilt = np.deg2rad(np.asarray(tilt_deg, np.float64))
    fwd = dx * np.sin(az) + dy * np.cos(az)          # along the horizontal boresight
    left = dx * np.cos(az) - dy * np.sin(az)        # to the right of it, looking out
    x = fwd * np.cos(tilt) - dz * np.sin(tilt)
    z = fwd * np.sin(tilt) + dz * np.cos(tilt)
    # + 0.0 turns -0.0 into +0.0: at the site itself (x = left = 0) the angle is 0, not pi
    return np.arctan2(left + 0.0, x + 0.0), np.arctan2(z + 0.0, np.hypot(x, left))


def panel_gain_db(zenith_cos, rows, spacing_wavelengths, electrical_tilt_deg):
    """Array gain of a vertical panel of ``rows`` TR 38.901 elements fed by one TXRU
    with the electrical-tilt weights ``w_m = exp(-j 2 pi (m - 1) d_V cos(theta_tilt)) /
    sqrt(M)``, ``theta_tilt = 90 deg + tilt`` (Sec. 7.3):

    .. math:: 10\\log_{10}\\frac{\\sin^2(M u)}{M \\sin^2 u},\\quad
              u = \\pi d_V (\\cos\\theta + \\sin\\theta_e),

    ``10 log10 M`` towards the tilted direction, 0 for M = 1.

    Parameters
    ----------
    zenith_cos : array_like
        Cosine of the zenith angle in the panel's frame (1: up, 0: the horizon).
    rows : array_like
        M >= 1.
    spacing_wavelengths : array_like
        d_V. [wavelengths]
    electrical_tilt_deg : array_like
        Downtilt of the beam, positive down. [deg]

    Returns
    -------
    ndarray
        [dB]
    """
    m = np.asarray(rows, np.float64)
    u = np.pi * np.asarray(spacing_wavelengths, np.float64) * (
        np.asarray(zenith_cos, np.float64)
        + np.sin(np.deg2rad(np.asarray(electrical_tilt_deg, np.float64))))
    s1 = np.sin(u)
    small = np.abs(s1) < 1e-12
    af = np.where(small, m, np.sin(m * u) ** 2 / (m * np.where(small, 1.0, s1) ** 2))
    return np.where(m > 1, 10.0 * np.log10(np.maximum(af, 1e-30)), 0.0)


def antenna_attenuation_db(dx_m, dy_m, dz_m, *, azimuth_deg, tilt_deg=0.0,
                           electrical_tilt_deg=0.0, antenna="3gpp", panel_rows=1,
                           panel_spacing_wavelengths=0.5):
    """Attenuation of a cell's antenna towards a UE, relative to its maximum gain.

    * ``"omni"``: 0;
    * ``"horizontal"``: :math:`\\min(12(\\varphi/\\varphi_{3dB})^2, A_m)` with
      :math:`\\varphi` the horizontal angle off the azimuth (heights and tilt ignored);
    * ``"3gpp"``: TR 38.901 Table 7.3-1 in the antenna's tilted frame,

      .. math::

          A = \\min\\left(12\\left(\\frac{\\varphi'}{65°}\\right)^2
              + \\min\\left(12\\left(\\frac{\\theta' - 90° - \\theta_e}{65°}\\right)^2,
              SLA_V\\right), A_m\\right)

      (the horizontal term capped at :math:`A_m` too), with :math:`\\theta_e` the
      electrical downtilt (the vertical pattern's peak at zenith :math:`90° + \\theta_e`).

    Parameters
    ----------
    dx_m, dy_m, dz_m : array_like
        UE minus antenna position, east, north and up. [m]
    azimuth_deg : array_like
        Boresight bearing, clockwise from north. [deg]
    tilt_deg, electrical_tilt_deg : array_like, default 0
        Mechanical and electrical downtilt, positive down. [deg]
    antenna : {"omni", "horizontal", "3gpp"}, default "3gpp"
    panel_rows, panel_spacing_wavelengths : array_like, default 1 and 0.5
        ``"3gpp"`` only: a cell of M > 1 rows is a vertical panel (one TXRU); its
        element pattern is not steered and :func:`panel_gain_db` is subtracted (the
        attenuation is negative towards the beam, down to ``-10 log10 M``).

    Returns
    -------
    ndarray
        Attenuation, in [0, 30]. [dB]

    Examples
    --------
    >>> round(float(antenna_attenuation_db(0.0, 100.0, -100.0, azimuth_deg=0.0)), 3)
    5.751
    """
    kind = check_choice("antenna", antenna, ANTENNAS)
    dx, dy, dz = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (dx_m, dy_m, dz_m)))
    if kind == "omni":
        return np.zeros(dx.shape)
    if kind == "horizontal":
        az = np.deg2rad(np.asarray(azimuth_deg, np.float64))
        phi = np.arctan2(dx * np.cos(az) - dy * np.sin(az) + 0.0,   # + 0.0: no -0.0, so
                         dx * np.sin(az) + dy * np.cos(az) + 0.0)   # 0 (not pi) on the site
        return np.minimum(12.0 * (phi / np.deg2rad(BEAMWIDTH_DEG)) ** 2, FRONT_TO_BACK_DB)
    phi, el = local_angles(dx, dy, dz, azimuth_deg=azimuth_deg, tilt_deg=tilt_deg)
    rows = np.asarray(panel_rows, np.float64)
    panel = rows > 1
    e_tilt = np.where(panel, 0.0, np.deg2rad(np.asarray(electrical_tilt_deg, np.float64)))
    a_h = np.minimum(12.0 * (phi / np.deg2rad(BEAMWIDTH_DEG)) ** 2, FRONT_TO_BACK_DB)
    a_v = np.minimum(12.0 * ((el + e_tilt) / np.deg2rad(VERTICAL_BEAMWIDTH_DEG)) ** 2,
                     SIDE_LOBE_DB)
    att = np.minimum(a_h + a_v, FRONT_TO_BACK_DB)
    if not np.any(panel):
        return att
    return att - panel_gain_db(np.sin(el), rows, panel_spacing_wavelengths,
                               electrical_tilt_deg)
