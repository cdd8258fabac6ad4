"""Horizontal sector pattern of a gNB array (3GPP TR 38.901, Table 7.3-1).

.. math:: A_H(\\varphi) = -\\min\\left(12\\left(\\frac{\\varphi}{\\varphi_{3dB}}\\right)^2, A_m\\right)

with :math:`\\varphi_{3dB} = 65°` and :math:`A_m = 30` dB. The maximum element gain
(8 dBi in the table) belongs in the site's ``gain_dbi``; this module gives the
attenuation relative to the broadside.
"""

import numpy as np

from .._validate import check_array, check_scalar

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
