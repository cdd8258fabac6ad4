"""ilac_plan plugin: a joint time-frequency positioning block, its best shape per point."""

import numpy as np

from ilac_plan import kernel
from ilac_plan.hookspecs import hookimpl
from ilac_plan.model.crb import crb_aoa, crb_toa
from ilac_plan.model.linkbudget import SPEED_OF_LIGHT_M_S
from ilac_plan.schemes import FrequencySplit, Parameter, Scheme, SchemeResult

__version__ = "0.1.0"


def symbol_counts(n_symbols, n_shapes):
    """Whole symbol counts tried for the block: log-spaced from 1 to n_symbols, both ends
    (every count when n_shapes >= n_symbols)."""
    if n_shapes >= n_symbols:
        return np.arange(1, n_symbols + 1)
    counts = np.unique(np.round(np.geomspace(1, n_symbols, int(n_shapes))))
    return np.union1d(counts, [1, n_symbols]).astype(np.int64)


def crb_terms(link, radio):
    """(a, c) with CRB_L(B_L, tau_L) = (a + c / B_L^2) / tau_L, Eq. (7). [m^2, m^2 Hz^2]"""
    aoa = crb_aoa(link.theta_rad, n_antennas=link.n_antennas, snr=link.snr_dl, n_loc_symbols=1,
                  wavelength_m=radio.wavelength_m, spacing_m=link.spacing_m)
    a = np.where(link.distance_m > 0, link.distance_m**2 * np.where(
        link.distance_m > 0, aoa, 0.0), 0.0)
    c = SPEED_OF_LIGHT_M_S**2 * crb_toa(1.0, n_antennas=link.n_antennas, snr=link.snr_dl,
                                        n_loc_symbols=1, varsigma=radio.varsigma)
    return a, c


class HybridBlock(Scheme):
    """A tau_L x B_L positioning block; the planner searches its best shape per point."""

    name = "hybrid"
    description = "Joint time-frequency positioning block (tau_L symbols x B_L band), best shape"
    parameters = (Parameter("n_shapes", 24, low=2, high=100000,
                            description="symbol counts tried, log-spaced from 1 to tau_T"),)

    def evaluate(self, link, objective, radio, *, n_shapes):
        b, tau_t = radio.bandwidth_hz, radio.n_symbols
        widths = FrequencySplit().plan(radio).loc_bandwidth_hz[1:]     # whole blocks, then B
        a, c = crb_terms(link, radio)
        per_hz = {}

        def capacity_per_hz(tau_c):
            if tau_c not in per_hz:
                per_hz[tau_c] = kernel.best_pilot_capacity(
                    1.0, tau_c, n_antennas=link.n_antennas, snr_dl=link.snr_dl,
                    snr_ul=link.snr_ul, n_symbols=tau_t)[0]
            return per_hz[tau_c]

        c_full = capacity_per_hz(tau_t)
        best_cap = np.zeros(link.size)
        best_err = np.full(link.size, np.inf)
        best_share = np.ones(link.size)
        feasible = np.zeros(link.size, bool)
        for tau in symbol_counts(tau_t, n_shapes):
            c_left = capacity_per_hz(tau_t - int(tau))
            if objective.kind == "target":
                j = self._narrowest(a, c, tau, objective.value**2 * (1 + 1e-12), widths)
                ok = j < widths.size
                b_l = widths[np.minimum(j, widths.size - 1)]
                cap = (b - b_l) * c_full + b_l * c_left
                err = np.sqrt((a + c / b_l**2) / tau)
                better = ok & (~feasible | (cap > best_cap))
                # where nothing is feasible yet, remember the lowest error seen
                closer = ~feasible & ~ok & (err < best_err)
            else:
                keep = objective.value * b * c_full
                loss_per_hz = c_full - c_left
                with np.errstate(divide="ignore", invalid="ignore"):
                    limit = np.where(loss_per_hz > 0, keep * (1 + 1e-12) / loss_per_hz, np.inf)
                j = np.searchsorted(widths, limit, side="right") - 1
                ok = j >= 0
                b_l = widths[np.maximum(j, 0)]
                cap = np.where(ok, (b - b_l) * c_full + b_l * c_left, b * c_full)
                err = np.where(ok, np.sqrt((a + c / b_l**2) / tau), np.inf)
                better = ok & (err < best_err) | (ok & (err == best_err) & (cap > best_cap))
                closer = np.zeros(link.size, bool)
            take = better | closer
            best_cap = np.where(better, cap, np.where(closer, 0.0, best_cap))
            best_err = np.where(take, err, best_err)
            best_share = np.where(take, tau * b_l / (tau_t * b), best_share)
            feasible |= better
        if objective.kind == "budget":
            best_cap = np.where(feasible, best_cap, b * c_full)
            best_share = np.where(feasible, best_share, 0.0)
            feasible = np.isfinite(best_err)
        return SchemeResult(best_cap, best_err, best_share, feasible)

    @staticmethod
    def _narrowest(a, c, tau, t2, widths):
        """Index of the narrowest block meeting CRB <= t2 with tau symbols (size if none)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            b_min = np.sqrt(c / np.maximum(tau * t2 - a, 0.0))
        j = np.searchsorted(widths, b_min, side="left")
        # confirm on the grid: the closed form and the rounding may be one block off
        for _ in range(2):
            jc = np.minimum(j, widths.size - 1)
            miss = (j < widths.size) & ((a + c / widths[jc] ** 2) / tau > t2)
            j = np.where(miss, j + 1, j)
            jp = np.maximum(j - 1, 0)
            fits = (j > 0) & (j <= widths.size) & ((a + c / widths[jp] ** 2) / tau <= t2)
            j = np.where(fits, j - 1, j)
        return j


@hookimpl
def ilac_register_schemes(register):
    register(HybridBlock())
