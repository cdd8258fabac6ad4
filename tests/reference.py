"""Independent implementations used as ground truth by the tests.

Everything here is written from the paper's *defining* equations with the paper's own
variables (rho_dl, rho_ul, beta, nu), scalar and plain, without calling ilac_plan:
Eq. (1), Eq. (16), Eq. (7), and numerical maximisation / root finding (scipy) in place
of the closed forms. The printed, uncorrected theorems are also here, so tests can show
that they disagree with the definitions.
"""

import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar

C = 299_792_458.0


class Link:
    """One link of the paper's model, from SNR per antenna and the power ratio eps."""

    def __init__(self, snr_db, n_antennas, eps=1.0, bandwidth_hz=20e6, n_symbols=200,
                 carrier_hz=2.6e9, rho_dl_db=13.0 + 174.0 - 10 * math.log10(20e6)):
        self.n = n_antennas
        self.b = bandwidth_hz
        self.tau_t = n_symbols
        self.rho_dl = 10 ** (rho_dl_db / 10)
        self.rho_ul = self.rho_dl / eps
        self.beta = 10 ** (snr_db / 10) / self.rho_dl
        self.lam = C / carrier_hz
        self.distance_m = self.lam / (4 * math.pi * math.sqrt(self.beta))
        self.snr = self.rho_dl * self.beta

    # -- kwargs for ilac_plan's functions --------------------------------------------
    @property
    def link(self):
        return dict(n_antennas=self.n, snr_dl=self.rho_dl * self.beta,
                    snr_ul=self.rho_ul * self.beta, n_symbols=self.tau_t)

    # -- Eq. (1), as printed ----------------------------------------------------------
    def eq1(self, b_c, tau_c, tau_p):
        nu = tau_p * self.rho_ul * self.beta**2 / (1 + tau_p * self.rho_ul * self.beta)
        return b_c * (tau_c - tau_p) / self.tau_t * math.log(
            1 + self.n * self.rho_dl * nu / (1 + self.rho_dl * self.beta))

    def best_integer(self, b_c, tau_c):
        if tau_c <= 1:
            return 0.0
        return max(self.eq1(b_c, tau_c, k) for k in range(1, int(tau_c)))

    # -- Eq. (16), as printed (with the paper's alpha, delta, eps) --------------------
    def eq16(self, b_c, tau_c, tau_p):
        delta = self.rho_dl * self.beta
        alpha = 1 + (self.n + 1) * self.rho_dl * self.beta
        eps = self.rho_dl / self.rho_ul
        lam = np.log(alpha / (1 + delta))  # np.log so complex steps pass through
        return b_c / self.tau_t * (tau_c * lam - tau_c * self.n * eps / (alpha * tau_p)
                                   - tau_p * lam + self.n * eps / alpha)

    def eq16_max(self, b_c, tau_c):
        """max over real 0 < tau_P <= tau_C of Eq. (16), by numerical maximisation."""
        if tau_c <= 0:
            return 0.0
        res = minimize_scalar(lambda p: -self.eq16(b_c, tau_c, p), bounds=(1e-9, tau_c),
                              method="bounded", options={"xatol": 1e-12 * max(tau_c, 1)})
        return max(-res.fun, self.eq16(b_c, tau_c, tau_c))

    def eq16_argmax(self, tau_c):
        """Stationary point of Eq. (16) in tau_P, from a complex-step derivative."""
        h = 1e-30

        def derivative(p):
            return (self.eq16(1.0, tau_c, complex(p, h))).imag / h

        return brentq(derivative, 1e-9, 1e9, xtol=1e-15, rtol=1e-15)

    # -- Eq. (7): CRB_L, Eqs. (5)-(6) as printed --------------------------------------
    def crb(self, b_l, tau_l, theta=0.0, varsigma=1.0, spacing=None):
        d = self.lam / 2 if spacing is None else spacing
        n, g = self.n, self.snr
        crb_theta = 3 * self.lam**2 / (4 * math.pi**2 * d**2 * g * math.cos(theta) ** 2
                                       * n * (n - 1) * (2 * n - 1) * tau_l)
        crb_t = 3 / (8 * math.pi**2 * b_l**2 * (1 + varsigma) * g * n * tau_l)
        t = self.distance_m / C
        return C**2 * t**2 * crb_theta + C**2 * crb_t

    # -- brute-force inversions of the definitions ----------------------------------
    def total(self):
        return self.eq16_max(self.b, self.tau_t)

    def tau_c_for_loss(self, loss):
        """Definition 1 on Eq. (18) (= max of Eq. 16), solved for tau_C by brentq."""
        total = self.total()
        if loss == 0:
            return float(self.tau_t)
        return brentq(lambda tc: total - self.eq16_max(self.b, tc) - loss, 0.0, self.tau_t,
                      xtol=1e-13, rtol=1e-15)

    def b_l_for_loss(self, loss):
        """Definition 3 on Eq. (18), solved for B_L by brentq."""
        total = self.total()
        return brentq(lambda bl: total - self.eq16_max(self.b - bl, self.tau_t) - loss,
                      0.0, self.b, xtol=1e-9, rtol=1e-15)


# -- the printed, uncorrected theorems (docs/model.md, "Corrections to the printed theorems") -------------------------------------
def constants(link):
    delta = link.rho_dl * link.beta
    alpha = 1 + (link.n + 1) * delta
    eps = link.rho_dl / link.rho_ul
    lam = math.log(alpha / (1 + delta))
    return lam, alpha, eps, math.sqrt(link.n * lam * eps / alpha)


def printed_eq20(link, loss_nat):
    """Eq. (20) as printed: plus sign and a squared bracket under the root."""
    lam, _, _, k = constants(link)
    tau_t, b = link.tau_t, link.b
    rad = k**2 + lam * tau_t * (2 * k / math.sqrt(tau_t) - lam + loss_nat / b) ** 2
    return ((k + math.sqrt(rad)) / lam) ** 2


def printed_eq10(link, loss_nat):
    """Eq. (10) as printed, in its most generous reading (root over all, divide by Lambda)."""
    lam, _, _, k = constants(link)
    tau_t, b = link.tau_t, link.b
    rad = k**2 + lam * tau_t * (2 * k / math.sqrt(tau_t) + lam - loss_nat / b)
    tau_c = ((k + math.sqrt(rad)) / lam) ** 2
    return tau_t / (tau_t - tau_c)


def printed_eq13(link, b_l, theta=0.0, varsigma=1.0):
    """Eq. (13) as printed, with the factor 12/2."""
    t = link.distance_m / C
    a = 3 * t**2 * link.lam**2 / ((link.lam / 2) ** 2 * math.cos(theta) ** 2
                                  * (link.n - 1) * (2 * link.n - 1))
    return (a + 12 / (2 * b_l**2 * (1 + varsigma))) / (a + 12 / (2 * link.b**2 * (1 + varsigma)))


def printed_eq14(link, loss_nat):
    """Eq. (14) as printed: eps twice under the root."""
    lam, alpha, eps, _ = constants(link)
    tau_t, n = link.tau_t, link.n
    return loss_nat * tau_t / (tau_t * lam - 2 * math.sqrt(tau_t * n * eps * lam * eps / alpha)
                               + n * eps / alpha)


def printed_eq22(link, loss_nat):
    """Eq. (22) as printed: N_T/alpha without eps."""
    lam, alpha, eps, _ = constants(link)
    tau_t, n = link.tau_t, link.n
    return loss_nat * tau_t / (tau_t * lam - 2 * math.sqrt(tau_t * n * lam * eps / alpha)
                               + n / alpha)
