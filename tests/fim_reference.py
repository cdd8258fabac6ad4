"""Numerical Fisher information of single-gNB ToA + AoA positioning (pure numpy).

Independent of ilac_plan (nothing is imported from it). Every bound here is computed the
long way: the complex mean signal ``mu(p)`` of one localization symbol is written out
element by element, its Jacobian with respect to the real parameters ``p`` is taken by
central finite differences with Richardson extrapolation (Ridders' tableau; an analytic
Jacobian written from scratch is available as a cross-check), and with CN(0, 1) noise per
resource element the Fisher information of ``tau_L`` independent symbols is

    FIM = 2 tau_L Re(J^H J),

which is inverted in full, the complex gain (Re alpha, Im alpha) included as nuisance
parameters.

Conventions (the brief of tests/test_bounds.py):

* ``K`` subcarriers with frequencies ``f`` relative to the carrier; each gets ``gamma / K``
  so ``|alpha|^2 = gamma / K``.
* Uniform linear array, element ``n`` (0..N-1) at ``n d``, response
  ``exp(-j 2 pi n d u / lambda)``; ``u = sin(theta)`` with ``theta`` off broadside in
  2-D, ``u = y / r`` in 3-D (x along the broadside, y along the array axis, a known height
  difference ``h``, ``r = sqrt(x^2 + y^2 + h^2)``, ``tau = r / c``).
* ``mode``:

  - ``"uplink"``: the array receives, ``mu[n, k] = alpha a_n(u) s_k(tau)``;
  - ``"orthogonal"``: downlink, antenna n on its own orthogonal resource with 1/N of the
    power, ``mu[n, k] = alpha sqrt(1/N) a_n(u) s_k(tau)``;
  - ``"beamformed"``: downlink sum and difference beams towards the true ``u0``, 1/2 of
    the power each, ``mu[b, k] = alpha sqrt(1/2) (w_b^T a(u)) s_k(tau)``, the beams held
    fixed at ``u0`` while ``u`` is differentiated.
"""

import numpy as np

C = 299_792_458.0
"""Speed of light. [m/s]"""

CARRIER_HZ = 2.6e9
WAVELENGTH_M = C / CARRIER_HZ
SUBCARRIER_SPACING_HZ = 15e3

MODES = ("uplink", "orthogonal", "beamformed")

# Ridders' tableau: initial step = STEP_PHASE_RAD / (largest phase rate), halved LEVELS - 1 times.
STEP_PHASE_RAD = 0.4
LEVELS = 7


# --------------------------------------------------------------------------------------
# subcarrier sets
# --------------------------------------------------------------------------------------
def subcarrier_indices(n_subcarriers, *, shift=0, comb=1):
    """Integer indices ``comb * k + shift``, k = 0..K-1."""
    return comb * np.arange(n_subcarriers, dtype=np.int64) + shift


def subcarrier_freqs(n_subcarriers, *, shift=0, comb=1, spacing_hz=SUBCARRIER_SPACING_HZ):
    """Frequencies relative to the carrier: ``(index - (comb K - 1)/2) df``.

    ``shift=0, comb=1`` is the centred contiguous set ``(k - (K-1)/2) df``; ``shift`` moves
    it off centre by whole subcarriers; ``comb=4`` takes every 4th subcarrier of a centred
    band of ``4 K``.
    """
    idx = subcarrier_indices(n_subcarriers, shift=shift, comb=comb).astype(np.float64)
    return (idx - (comb * n_subcarriers - 1) / 2.0) * spacing_hz


def centred_second_moment(freqs):
    """``beta2 = mean_k (f_k - mean f)^2``. [Hz^2]"""
    f = np.asarray(freqs, np.float64)
    return float(np.mean((f - f.mean()) ** 2))


# --------------------------------------------------------------------------------------
# mean signals
# --------------------------------------------------------------------------------------
def _element_phase_rate(n_antennas, spacing_m, wavelength_m):
    """d(phase_n)/du = -2 pi n d / lambda, n = 0..N-1."""
    return -2.0 * np.pi * np.arange(n_antennas) * spacing_m / wavelength_m


def ula_response(u, n_antennas, spacing_m, wavelength_m):
    return np.exp(1j * _element_phase_rate(n_antennas, spacing_m, wavelength_m) * u)


def delay_response(tau_s, freqs):
    return np.exp(-2j * np.pi * np.asarray(freqs) * tau_s)


def beams(u0, n_antennas, spacing_m, wavelength_m):
    """Rows w_s, w_d: sum and difference beams towards u0 (applied as w^T a)."""
    a0 = ula_response(u0, n_antennas, spacing_m, wavelength_m)
    c = np.arange(n_antennas) - (n_antennas - 1) / 2.0
    w_s = np.conj(a0) / np.sqrt(n_antennas)
    w_d = np.conj(c * a0) / np.linalg.norm(c * a0)
    return np.vstack([w_s, w_d])


class Link:
    """One positioning link: geometry-free mean signal mu(u, tau, alpha) of one symbol."""

    def __init__(self, mode, *, n_antennas, freqs, snr, n_loc_symbols=1.0, u0=None,
                 spacing_m=None, wavelength_m=WAVELENGTH_M, alpha_phase_rad=0.7):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode == "beamformed" and u0 is None:
            raise ValueError("beamformed needs the beam direction u0")
        self.mode = mode
        self.n = int(n_antennas)
        self.freqs = np.asarray(freqs, np.float64)
        self.k = self.freqs.size
        self.snr = float(snr)
        self.n_loc_symbols = float(n_loc_symbols)
        self.lam = float(wavelength_m)
        self.d = self.lam / 2.0 if spacing_m is None else float(spacing_m)
        self.alpha = np.sqrt(self.snr / self.k) * np.exp(1j * alpha_phase_rad)
        self.w = None if u0 is None or mode != "beamformed" else beams(
            u0, self.n, self.d, self.lam)
        self.n_rate = _element_phase_rate(self.n, self.d, self.lam)

    def spatial(self, u):
        """Per-observation spatial factor (length N, or 2 beams)."""
        a = ula_response(u, self.n, self.d, self.lam)
        if self.mode == "uplink":
            return a
        if self.mode == "orthogonal":
            return a * np.sqrt(1.0 / self.n)
        return np.sqrt(0.5) * (self.w @ a)

    def spatial_du(self, u):
        """d spatial / du, analytic."""
        da = 1j * self.n_rate * ula_response(u, self.n, self.d, self.lam)
        if self.mode == "uplink":
            return da
        if self.mode == "orthogonal":
            return da * np.sqrt(1.0 / self.n)
        return np.sqrt(0.5) * (self.w @ da)

    def mean(self, u, tau, alpha):
        return alpha * np.outer(self.spatial(u), delay_response(tau, self.freqs))

    # largest phase rates, to size the finite-difference steps
    @property
    def u_rate(self):
        return max(abs(self.n_rate[-1]), 1.0)

    @property
    def tau_rate(self):
        return max(2.0 * np.pi * np.max(np.abs(self.freqs)), 1.0)


# --------------------------------------------------------------------------------------
# parameterisations: p -> (u, tau, alpha), with analytic d(u, tau)/dp
# --------------------------------------------------------------------------------------
class AngleDelay:
    """p = (theta, tau, Re alpha, Im alpha), u = sin(theta)."""

    names = ("theta", "tau", "re_alpha", "im_alpha")

    def __init__(self, link, theta_rad, tau_s):
        self.link = link
        self.p0 = np.array([theta_rad, tau_s, link.alpha.real, link.alpha.imag])

    def split(self, p):
        return np.sin(p[0]), p[1], p[2] + 1j * p[3]

    def geometry_jacobian(self, p):
        """Rows d(u, tau)/dp for the two geometric parameters."""
        return np.array([[np.cos(p[0]), 0.0], [0.0, 1.0]])

    def steps(self):
        lk = self.link
        return np.array([STEP_PHASE_RAD / lk.u_rate, STEP_PHASE_RAD / lk.tau_rate,
                         0.1 * abs(lk.alpha), 0.1 * abs(lk.alpha)])


class Position:
    """p = (x, y, Re alpha, Im alpha), r = sqrt(x^2 + y^2 + h^2), u = y / r, tau = r / c.

    The finite differences are taken in a rotated horizontal frame ``(x, y) = (x0, y0) +
    R s`` whose first axis is along grad u (so u is stationary along the second): in
    (x, y) the tiny range information would be the difference of two large angle terms
    and would inherit their relative differencing error, amplified by the square root of
    the angle/range information ratio (1e4 at 3 m with 64 antennas and 12 subcarriers).
    ``frame`` is R; the covariance is rotated back exactly (``to_xy``).
    """

    names = ("s1", "s2", "re_alpha", "im_alpha")

    def __init__(self, link, x_m, y_m, height_diff_m=0.0):
        self.link = link
        self.h = float(height_diff_m)
        self.xy0 = np.array([x_m, y_m], np.float64)
        grad_u = self._geometry_xy(self.xy0)[:, 0]
        norm = np.hypot(*grad_u)
        e1 = grad_u / norm if norm > 0 else np.array([1.0, 0.0])
        self.frame = np.column_stack([e1, [-e1[1], e1[0]]])
        self.p0 = np.array([0.0, 0.0, link.alpha.real, link.alpha.imag])

    def _r(self, x, y):
        return np.sqrt(x**2 + y**2 + self.h**2)

    def _geometry_xy(self, xy):
        """Rows d(u, tau)/dx and d(u, tau)/dy."""
        x, y = xy
        r = self._r(x, y)
        du = np.array([-x * y / r**3, (x**2 + self.h**2) / r**3])
        dtau = np.array([x / (r * C), y / (r * C)])
        return np.column_stack([du, dtau])

    def xy(self, p):
        return self.xy0 + self.frame @ p[:2]

    def split(self, p):
        x, y = self.xy(p)
        r = self._r(x, y)
        return y / r, r / C, p[2] + 1j * p[3]

    def geometry_jacobian(self, p):
        return self.frame.T @ self._geometry_xy(self.xy(p))

    def to_xy(self, cov):
        """Covariance of (s1, s2, alpha) -> of (x, y, alpha)."""
        t = np.eye(cov.shape[0])
        t[:2, :2] = self.frame
        return t @ cov @ t.T

    def steps(self):
        lk = self.link
        r = self._r(*self.xy0)
        rate = lk.u_rate / r + lk.tau_rate / C
        step = min(STEP_PHASE_RAD / rate, 0.05 * r)
        return np.array([step, step, 0.1 * abs(lk.alpha), 0.1 * abs(lk.alpha)])


# --------------------------------------------------------------------------------------
# Jacobians, FIM, CRB
# --------------------------------------------------------------------------------------
def richardson_derivative(fun, p0, i, h0, levels=LEVELS):
    """d fun / d p_i at p0 by central differences, Ridders' extrapolation (step ratio 2).

    Returns (derivative, error estimate); both arrays of fun's shape / a float.
    """
    def central(h):
        e = np.zeros_like(p0)
        e[i] = h
        return (fun(p0 + e) - fun(p0 - e)) / (2.0 * h)

    tab = [[central(h0)]]
    best, err = tab[0][0], np.inf
    for j in range(1, levels):
        row = [central(h0 / 2.0**j)]
        for m in range(1, j + 1):
            fac = 4.0**m
            row.append(row[m - 1] + (row[m - 1] - tab[j - 1][m - 1]) / (fac - 1.0))
            e_new = max(np.max(np.abs(row[m] - row[m - 1])),
                        np.max(np.abs(row[m] - tab[j - 1][m - 1])))
            if e_new <= err:
                best, err = row[m], e_new
        if np.max(np.abs(row[j] - tab[j - 1][j - 1])) >= 2.0 * err:
            tab.append(row)
            break   # higher orders are getting worse (rounding)
        tab.append(row)
    return best, float(err)


def jacobian(par, method="richardson"):
    """J[i] = d mu / d p_i (complex, shape (P, M)) at par.p0; and the error estimates."""
    lk = par.link

    def mu(p):
        return lk.mean(*par.split(p)).ravel()

    p0 = par.p0
    if method == "analytic":
        u, tau, alpha = par.split(p0)
        sp, ds = lk.spatial(u), lk.spatial_du(u)
        s = delay_response(tau, lk.freqs)
        ds_tau = -2j * np.pi * lk.freqs * s
        d_u = alpha * np.outer(ds, s).ravel()
        d_tau = alpha * np.outer(sp, ds_tau).ravel()
        base = np.outer(sp, s).ravel()
        g = par.geometry_jacobian(p0)
        rows = [g[0, 0] * d_u + g[0, 1] * d_tau, g[1, 0] * d_u + g[1, 1] * d_tau,
                base, 1j * base]
        return np.array(rows), np.zeros(4)
    if method != "richardson":
        raise ValueError("method: 'richardson' or 'analytic'")
    steps = par.steps()
    rows, errs = [], []
    for i in range(p0.size):
        d, e = richardson_derivative(mu, p0, i, steps[i])
        rows.append(d)
        errs.append(e / max(np.max(np.abs(d)), 1e-300))
    return np.array(rows), np.array(errs)


def fim(par, method="richardson"):
    """2 tau_L Re(J^H J) at par.p0 (real, symmetric, P x P)."""
    jac, _ = jacobian(par, method)
    f = 2.0 * par.link.n_loc_symbols * np.real(np.conj(jac) @ jac.T)
    return 0.5 * (f + f.T)


def inverse(f):
    """Inverse of a symmetric positive definite FIM, equilibrated (units differ widely)."""
    s = 1.0 / np.sqrt(np.diag(f))
    g = f * np.outer(s, s)
    return np.linalg.solve(g, np.eye(g.shape[0])) * np.outer(s, s)


# --------------------------------------------------------------------------------------
# the bounds the tests compare
# --------------------------------------------------------------------------------------
def crb_theta_tau(mode, *, theta_rad, n_antennas, freqs, snr, n_loc_symbols, tau_s=1.3e-6,
                  spacing_m=None, wavelength_m=WAVELENGTH_M, method="richardson"):
    """(CRB_theta [rad^2], CRB_tau [s^2]) of model 1 / 3a / 3b (beams at the true u)."""
    link = Link(mode, n_antennas=n_antennas, freqs=freqs, snr=snr,
                n_loc_symbols=n_loc_symbols, u0=np.sin(theta_rad), spacing_m=spacing_m,
                wavelength_m=wavelength_m)
    cov = inverse(fim(AngleDelay(link, theta_rad, tau_s), method))
    return float(cov[0, 0]), float(cov[1, 1])


def crb_position_xy(mode, *, x_m, y_m, height_diff_m, n_antennas, freqs, snr, n_loc_symbols,
                    spacing_m=None, wavelength_m=WAVELENGTH_M, method="richardson",
                    full=False):
    """Horizontal position CRB, trace of the (x, y) block of the inverse FIM. [m^2]

    ``full=True`` returns the whole 4 x 4 inverse FIM instead.
    """
    r = np.sqrt(x_m**2 + y_m**2 + height_diff_m**2)
    link = Link(mode, n_antennas=n_antennas, freqs=freqs, snr=snr,
                n_loc_symbols=n_loc_symbols, u0=y_m / r, spacing_m=spacing_m,
                wavelength_m=wavelength_m)
    par = Position(link, x_m, y_m, height_diff_m)
    cov = par.to_xy(inverse(fim(par, method)))
    return cov if full else float(cov[0, 0] + cov[1, 1])
