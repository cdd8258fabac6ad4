"""Network positioning: the position bound from several cells at once.

The paper's bound (Eqs. 4-7) fuses one gNB's ToA and AoA. A UE hears several cells; with
independent measurements their Fisher informations add. Per cell ``c``, with ``d_c`` the
horizontal offset of the UE from the cell [m], ``h_c`` the height difference, the 3-D
range ``rho_c = sqrt(|d_c|^2 + h_c^2)`` and ``a_c`` the unit vector along the cell's array
(horizontal, perpendicular to its broadside):

* the range ``rho_c`` (ToA ``rho_c / c``) carries ``J_t,c / c^2`` [1/m^2] of information,
  with gradient ``d_c / rho_c`` with respect to the horizontal position;
* the array measures ``u_c = a_c . d_c / rho_c`` (the sine of the angle off broadside)
  with information ``J_u,c``, gradient ``a_c / rho_c - u_c d_c / rho_c^2``.

The equivalent Fisher information of the horizontal position ``p`` is

.. math::

    J(p) = \\sum_c \\frac{J_{t,c}}{c^2} \\frac{d_c d_c^T}{\\rho_c^2}
         + J_{u,c} \\nabla u_c \\nabla u_c^T

for synchronised cells (``"toa_aoa"``); ``"aoa"`` keeps the angle terms only; ``"tdoa"``
adds an unknown UE clock offset ``b`` to every ToA (``rho_c + c b``) and takes the
Schur complement over it,

.. math::

    J_{TDoA} = J_{pp} - \\frac{J_{pb} J_{pb}^T}{J_{bb}},\\quad
    J_{pb} = \\sum_c \\frac{J_{t,c}}{c^2}\\frac{d_c}{\\rho_c},\\quad
    J_{bb} = \\sum_c \\frac{J_{t,c}}{c^2}.

The position bound is :math:`CRB = \\mathrm{tr}\\, J^{-1}` [m^2], infinite where ``J`` is
singular (two cells' time differences say nothing across their hyperbola; one cell's
angle nothing along its range). With one cell, ``"toa_aoa"`` and ``h = 0`` it is Eq. (7)
(:math:`c^2 CRB_t + r^2 CRB_\\theta`); with heights it is the horizontal fix of
:func:`ilac_plan.model.crb.fix_factors`.

The informations per cell are totals: :func:`ilac_plan.model.crb.angle_information`
times the cell's SNR and symbols, and the delay information :math:`8\\pi^2 N_T
\\gamma \\tau_L \\beta^2` (Eq. 6, with :func:`~ilac_plan.model.crb.delay_mean_square_bandwidth_hz2`).
"""

import numpy as np

from .._validate import check_array, check_choice
from ..errors import ParameterError
from .linkbudget import SPEED_OF_LIGHT_M_S

MEASUREMENTS = ("toa_aoa", "tdoa", "aoa")
#: det J below this fraction of (tr J)^2 counts as singular (an unbounded direction).
SINGULAR_RTOL = 1e-12


def _arrays(name, value, shape=None):
    a = check_array(name, value)
    return a if shape is None else np.broadcast_to(a, shape)


def network_information(dx_m, dy_m, *, axis_x, axis_y, angle_info, delay_info_hz2,
                        height_diff_m=0.0, measurements="toa_aoa"):
    """Equivalent Fisher information of the horizontal position from K cells.

    Parameters
    ----------
    dx_m, dy_m : array_like, shape (..., K)
        Horizontal offset of the UE from each cell (UE minus cell). [m]
    axis_x, axis_y : array_like, shape (..., K)
        Unit vector along each cell's array (horizontal, perpendicular to its broadside).
    angle_info : array_like, shape (..., K)
        Fisher information on each array's spatial frequency ``u`` (the sine of the
        angle off broadside), SNR and symbols included. [1]
    delay_info_hz2 : array_like, shape (..., K)
        Fisher information on each ToA, SNR and symbols included. [1/s^2]
    height_diff_m : array_like, default 0
        Height of each array above the UE (either sign). [m]
    measurements : {"toa_aoa", "tdoa", "aoa"}
        Synchronised ToA and AoA; time differences (an unknown UE clock offset) and AoA;
        AoA only.

    Returns
    -------
    ndarray, shape (..., 2, 2)
        [1/m^2]
    """
    mode = check_choice("measurements", measurements, MEASUREMENTS)
    dx = check_array("dx_m", dx_m, unit="m")
    shape = np.broadcast_shapes(dx.shape, np.shape(dy_m), np.shape(axis_x), np.shape(axis_y),
                                np.shape(angle_info), np.shape(delay_info_hz2),
                                np.shape(height_diff_m))
    if len(shape) < 1:
        raise ParameterError("dx_m: give one offset per cell (shape (..., K))")
    dx = np.broadcast_to(dx, shape)
    dy = _arrays("dy_m", dy_m, shape)
    ax, ay = _arrays("axis_x", axis_x, shape), _arrays("axis_y", axis_y, shape)
    if np.any(np.abs(np.hypot(ax, ay) - 1.0) > 1e-9):
        raise ParameterError("axis_x, axis_y must be unit vectors")
    j_u = np.broadcast_to(check_array("angle_info", angle_info, low=0.0), shape)
    j_t = np.broadcast_to(check_array("delay_info_hz2", delay_info_hz2, low=0.0), shape)
    h = _arrays("height_diff_m", height_diff_m, shape)
    rho2 = dx * dx + dy * dy + h * h
    rho = np.sqrt(rho2)
    on = rho == 0.0                      # a cell at the UE: no direction to speak of
    inv = np.where(on, 0.0, 1.0 / np.where(on, 1.0, rho))
    gx, gy = dx * inv, dy * inv          # gradient of the range
    u = (ax * dx + ay * dy) * inv
    ux, uy = ax * inv - u * dx * inv * inv, ay * inv - u * dy * inv * inv  # gradient of u
    j_r = j_t / SPEED_OF_LIGHT_M_S**2
    out = np.zeros(shape[:-1] + (2, 2))
    if mode != "aoa":
        out[..., 0, 0] += np.sum(j_r * gx * gx, axis=-1)
        out[..., 0, 1] += np.sum(j_r * gx * gy, axis=-1)
        out[..., 1, 1] += np.sum(j_r * gy * gy, axis=-1)
    out[..., 0, 0] += np.sum(j_u * ux * ux, axis=-1)
    out[..., 0, 1] += np.sum(j_u * ux * uy, axis=-1)
    out[..., 1, 1] += np.sum(j_u * uy * uy, axis=-1)
    if mode == "tdoa":                   # the clock offset, a nuisance: Schur complement
        jb = np.sum(j_r, axis=-1)
        px, py = np.sum(j_r * gx, axis=-1), np.sum(j_r * gy, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(jb > 0, 1.0 / jb, 0.0)
        out[..., 0, 0] -= k * px * px
        out[..., 0, 1] -= k * px * py
        out[..., 1, 1] -= k * py * py
    out[..., 1, 0] = out[..., 0, 1]
    return out


def crb_from_information(information):
    """:math:`\\mathrm{tr}\\, J^{-1}` of 2 x 2 informations, infinite where singular. [m^2]"""
    j = np.asarray(information, np.float64)
    tr = j[..., 0, 0] + j[..., 1, 1]
    det = j[..., 0, 0] * j[..., 1, 1] - j[..., 0, 1] * j[..., 1, 0]
    singular = ~(det > SINGULAR_RTOL * tr * tr) | ~np.isfinite(det)
    with np.errstate(divide="ignore", invalid="ignore"):
        crb = tr / np.where(singular, 1.0, det)
    return np.where(singular, np.inf, crb)


def network_crb_m2(dx_m, dy_m, *, axis_x, axis_y, angle_info, delay_info_hz2,
                   height_diff_m=0.0, measurements="toa_aoa"):
    """Position CRB [m^2] from K cells: the trace of the inverse of
    :func:`network_information` (same parameters), infinite where the cells leave a
    direction unbounded (never NaN)."""
    return crb_from_information(network_information(
        dx_m, dy_m, axis_x=axis_x, axis_y=axis_y, angle_info=angle_info,
        delay_info_hz2=delay_info_hz2, height_diff_m=height_diff_m,
        measurements=measurements))
