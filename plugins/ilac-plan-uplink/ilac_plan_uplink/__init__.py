"""ilac_plan plugin: uplink-only ILAC (uplink MR data, uplink sounding for positioning)."""

import functools

import numpy as np

from ilac_plan.hookspecs import hookimpl
from ilac_plan.schemes import (FrequencySplit, Parameter, ResourcePlan, Scheme, SchemeResult,
                               TimeSplit, evaluate_in_chunks, uplink_interference_error)

__version__ = "0.1.0"

#: Rate bounds of the uplink data: use-and-then-forget (the kernel's, Eq. (1)'s uplink
#: counterpart) or side information (the gNB knows its channel estimate).
RATE_BOUNDS = ("uatf", "side_information")
#: Generalized Gauss-Laguerre nodes of the Gamma expectation.
GL_NODES = 48
#: Below this many antennas and above a = 1 the expectation uses exponential integrals.
EXACT_BELOW_N = 16
_EULER_GAMMA = 0.57721566490153286061


@functools.lru_cache(maxsize=64)
def _laguerre(n_antennas, n_nodes=GL_NODES):
    """Nodes and weights of E[f(X)], X ~ Gamma(n_antennas, 1): generalized Gauss-Laguerre
    with weight x^(N-1) e^-x, normalized (Golub-Welsch: eigenvalues of the Jacobi matrix,
    weights the squared first components of its eigenvectors)."""
    k = np.arange(n_nodes, dtype=np.float64)
    alpha = float(n_antennas - 1)
    off = np.sqrt(k[1:] * (k[1:] + alpha))
    jacobi = np.diag(2.0 * k + alpha + 1.0) + np.diag(off, 1) + np.diag(off, -1)
    x, v = np.linalg.eigh(jacobi)
    return x, v[0] ** 2


def _sum_exponential_integrals(z, n):
    """sum_{k=1}^{n} E_k(z) for 0 < z <= 1: E_1 by its series, then the (stable for
    z < k) forward recurrence E_{k+1} = (e^-z - z E_k)/k."""
    term = np.ones_like(z)
    series = np.zeros_like(z)
    for j in range(1, 30):
        term = term * (-z) / j
        series += term / j
    e_k = -_EULER_GAMMA - np.log(z) - series
    total = e_k.copy()
    ez = np.exp(-z)
    for k in range(1, int(n)):
        e_k = (ez - z * e_k) / k
        total += e_k
    return total


def expected_log2_gamma(a, n_antennas):
    """E[log2(1 + a X)] for X ~ Gamma(n_antennas, 1), elementwise. [bit/s/Hz]

    The ergodic rate of an SINR ``a X``: with maximum-ratio combining of an MMSE estimate,
    ``||g_hat||^2 / beta`` is ``q X`` (``q`` the estimate's share of the channel's
    variance). Exact through exponential integrals for few antennas and ``a > 1``
    (``E[ln(1 + aX)] = e^(1/a) sum_k E_k(1/a)``, k = 1..N), else 48-point generalized
    Gauss-Laguerre quadrature (converged to about 1e-12 there).

    Parameters
    ----------
    a : array_like
        SINR per unit of X, >= 0. [linear]
    n_antennas : array_like of int
        Receive antennas N (the Gamma's shape), >= 1.
    """
    a, n = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(n_antennas, np.int64))
    out = np.zeros(a.shape)
    exact = (a > 1.0) & (n < EXACT_BELOW_N)
    for value in np.unique(n):
        here = (n == value) & ~exact & (a > 0)
        if here.any():
            x, w = _laguerre(int(value))
            out[here] = np.log1p(np.multiply.outer(a[here], x)) @ w / np.log(2.0)
        here = (n == value) & exact
        if here.any():
            z = 1.0 / a[here]
            out[here] = np.exp(z) * _sum_exponential_integrals(z, int(value)) / np.log(2.0)
    return out


def side_information_rate(n_comm_symbols, n_pilot_symbols, *, n_antennas, snr_ul, n_symbols):
    """Uplink MR rate per hertz under the side-information bound. [bit/s/Hz]

    ``tau_P`` uplink pilots give the MMSE estimate ``g_hat`` with ``q = tau_P s / (1 +
    tau_P s)`` of the channel's variance (``s = rho_ul beta``, the UE's SNR per antenna);
    the gNB combines with ``g_hat`` and knows it, so the SINR given ``g_hat`` is
    ``s ||g_hat||^2/beta / (1 + s (1 - q)) = a X``, ``X ~ Gamma(N, 1)`` (the estimation
    error acts as uncorrelated noise, the worst case for a Gaussian input):

        R = (tau_C - tau_P)/tau_T * E[log2(1 + a X)],   a = s q / (1 + s (1 - q))

    (Marzetta, Larsson, Yang and Ngo, *Fundamentals of Massive MIMO*, 2016, the
    side-information bound; the use-and-then-forget bound is ``log2(1 + N s q/(1 + s))``).
    """
    tau_c = np.asarray(n_comm_symbols, np.float64)
    tau_p = np.asarray(n_pilot_symbols, np.float64)
    s = np.asarray(snr_ul, np.float64)
    q = tau_p * s / (1.0 + tau_p * s)
    a = s * q / (1.0 + s * (1.0 - q))
    frac = np.clip(tau_c - tau_p, 0.0, None) / n_symbols
    return frac * expected_log2_gamma(a, n_antennas)


def best_pilot_side_information(n_comm_symbols, *, n_antennas, snr_ul, n_symbols):
    """The side-information rate per hertz at the best integer pilot length, and that
    length (an integer ternary search over 1 .. tau_C - 1, the rate being unimodal in
    tau_P, then the last few lengths checked). ``(0, 0)`` where ``tau_C < 2``."""
    tau_c = np.asarray(n_comm_symbols, np.int64)
    n = np.asarray(n_antennas, np.int64)
    s = np.asarray(snr_ul, np.float64)
    tau_c, n, s = np.broadcast_arrays(tau_c, n, s)

    def rate(tau_p):
        return side_information_rate(tau_c, tau_p, n_antennas=n, snr_ul=s, n_symbols=n_symbols)

    lo = np.ones(tau_c.shape, np.int64)
    hi = np.maximum(tau_c - 1, 1)
    while np.any(hi - lo > 2):
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        wide = hi - lo > 2
        rising = rate(m1) < rate(m2)
        lo = np.where(wide & rising, m1 + 1, lo)
        hi = np.where(wide & ~rising, m2, hi)
    best = rate(lo)
    best_tau = lo.copy()
    for step in (1, 2):
        t = np.minimum(lo + step, hi)
        r = rate(t)
        better = r > best
        best, best_tau = np.where(better, r, best), np.where(better, t, best_tau)
    none = tau_c < 2
    return np.where(none, 0.0, best), np.where(none, 0, best_tau)


class UplinkSplit(Scheme):
    """Uplink data and uplink sounding share the frame, in time or in frequency."""

    name = "uplink"
    description = "Uplink-only ILAC: uplink MR data and uplink sounding for positioning"
    parameters = (Parameter("domain", "time", choices=("time", "frequency"),
                            description="split whole symbols or whole resource blocks"),
                  Parameter("rate_bound", "uatf", choices=RATE_BOUNDS,
                            description="uplink data rate: use-and-then-forget (on the "
                                        "kernel) or side information (the gNB knows its "
                                        "estimate; numpy)"))

    #: Points per chunk of the side-information search.
    CHUNK = 16384

    def form(self, params):
        return "plan" if params.get("rate_bound", "uatf") == "uatf" else "vectorized"

    def plan(self, radio, *, domain, rate_bound="uatf"):
        base = (TimeSplit() if domain == "time" else FrequencySplit()).plan(radio)
        return ResourcePlan(
            loc_share=base.loc_share, comm_bandwidth_hz=base.comm_bandwidth_hz,
            comm_symbols=base.comm_symbols, loc_bandwidth_hz=base.loc_bandwidth_hz,
            loc_symbols=base.loc_symbols, dl_fraction=np.zeros(base.loc_share.size),
            loc_direction="uplink")

    def evaluate(self, link, objective, radio, *, domain, rate_bound):
        """The side-information rate on the plan's candidates: the candidate the kernel
        would pick for a target (the CRB does not depend on the rate bound), the largest
        within a capacity-loss budget of the side-information rate without positioning."""
        if link.interference:
            raise uplink_interference_error(self.name)
        plan = self.plan(radio, domain=domain)
        return evaluate_in_chunks(lambda part: self._evaluate(plan, part, objective, radio),
                                  link, self.CHUNK)

    def _evaluate(self, plan, link, objective, radio):
        n_cand, n = plan.loc_share.size, link.size
        span = plan.loc_bandwidth_hz if plan.loc_span_hz is None else plan.loc_span_hz

        def crb(j):
            return link.crb_position(radio, plan.loc_bandwidth_hz[j], plan.loc_symbols[j],
                                     power_fraction=plan.loc_power_fraction[j],
                                     direction="uplink", span_hz=span[j])

        def capacity(j):
            rate, _ = best_pilot_side_information(
                plan.comm_symbols[j], n_antennas=link.n_antennas,
                snr_ul=link.snr_ul * plan.comm_power_fraction[j], n_symbols=radio.n_symbols)
            return plan.comm_bandwidth_hz[j] * rate

        if objective.kind == "target":
            t2 = objective.crb_target_m2 * (1 + 1e-12)
            lo, hi = np.zeros(n, np.int64), np.full(n, n_cand - 1, np.int64)
            while np.any(lo < hi):           # the first candidate meeting the target
                mid = (lo + hi) // 2
                fits = crb(mid) <= t2
                active = lo < hi
                hi = np.where(active & fits, mid, hi)
                lo = np.where(active & ~fits, mid + 1, lo)
            err2 = crb(lo)
            feasible = err2 <= t2
            cap = np.where(feasible, capacity(lo), 0.0)
            share = np.where(feasible, plan.loc_share[lo], 1.0)
            return SchemeResult(cap, np.sqrt(err2), share, feasible)
        keep = (1.0 - objective.value) * capacity(np.zeros(n, np.int64)) * (1 - 1e-12)
        lo, hi = np.zeros(n, np.int64), np.full(n, n_cand - 1, np.int64)
        while np.any(lo < hi):               # the last candidate within the budget
            mid = (lo + hi + 1) // 2
            fits = capacity(mid) >= keep
            active = lo < hi
            lo = np.where(active & fits, mid, lo)
            hi = np.where(active & ~fits, mid - 1, hi)
        err = np.sqrt(crb(lo))
        return SchemeResult(capacity(lo), err, plan.loc_share[lo], np.isfinite(err))


@hookimpl
def ilac_register_schemes(register):
    register(UplinkSplit())
