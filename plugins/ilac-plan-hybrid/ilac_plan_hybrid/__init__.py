"""ilac_plan plugin: a joint time-frequency positioning block, its best shape per point."""

import numpy as np

from ilac_plan import kernel
from ilac_plan.hookspecs import hookimpl
from ilac_plan.schemes import (FrequencySplit, Parameter, Scheme, SchemeResult,
                               evaluate_in_chunks)

__version__ = "0.1.0"


def symbol_counts(n_symbols, n_shapes):
    """Whole symbol counts tried for the block: every count from 1 to n_symbols (n_shapes
    0, the default, or >= n_symbols), else n_shapes of them log-spaced, both ends."""
    if n_shapes == 0 or n_shapes >= n_symbols:
        return np.arange(1, n_symbols + 1)
    counts = np.unique(np.round(np.geomspace(1, n_symbols, int(n_shapes))))
    return np.union1d(counts, [1, n_symbols]).astype(np.int64)


class BlockCrb:
    """CRB_L of a tau x B_L block at every point, under the run's bound, energy convention
    and positioning: ``F(beta2(B_L)) / (tau * share(B_L))`` (LinkState.crb_factor; for
    the serving cell ``F = a + c / beta2``, LinkState.crb_terms)."""

    def __init__(self, link, radio, widths):
        self.link, self.radio = link, radio
        self.network = link.network is not None
        if not self.network:
            self.a, self.c = link.crb_terms(radio)
        self.beta2 = link.delay_beta2(radio, widths)
        self.share = link.energy_share(radio, widths)
        # one energy share and a rising beta2: the narrowest block has a closed form
        # (the serving cell's a + c / beta2; the network bound is searched by bisection)
        self.closed_form = bool(not self.network and np.all(self.share == self.share[0])
                                and np.all(np.diff(self.beta2) > 0))

    def __call__(self, j, tau):
        """CRB of width index j (array over the points) with tau symbols. [m^2]"""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.network:
                crb = self.link.crb_factor(self.radio, self.beta2[j]) / (tau * self.share[j])
            else:
                crb = (self.a + self.c / self.beta2[j]) / (tau * self.share[j])
        return np.where(np.isnan(crb), np.inf, crb)


class HybridBlock(Scheme):
    """A tau_L x B_L positioning block; the planner searches its best shape per point."""

    name = "hybrid"
    description = "Joint time-frequency positioning block (tau_L symbols x B_L band), best shape"
    parameters = (Parameter("n_shapes", 0, low=0, high=100000, integer=True,
                            description="symbol counts tried: 0 every count (exact), else "
                                        "that many log-spaced from 1 to tau_T"),)

    #: Points per chunk of the search (its capacity table is chunk x tau_T values).
    CHUNK = 16384

    def evaluate(self, link, objective, radio, *, n_shapes):
        return evaluate_in_chunks(
            lambda part: self._evaluate(part, objective, radio, n_shapes), link, self.CHUNK)

    def _evaluate(self, link, objective, radio, n_shapes):
        b, tau_t = radio.bandwidth_hz, radio.n_symbols
        widths = FrequencySplit().plan(radio).loc_bandwidth_hz[1:]     # whole blocks, then B
        crb = BlockCrb(link, radio, widths)
        counts = symbol_counts(tau_t, n_shapes)
        # Eq. (1) per hertz for every tau_C the shapes leave, one pilot walk per point
        tau_cs = np.unique(np.concatenate([[tau_t], tau_t - counts])).astype(np.int64)
        table = kernel.best_pilot_capacity_table(
            1.0, tau_cs, n_antennas=link.n_antennas, snr_dl=link.snr_dl, snr_ul=link.snr_ul,
            n_symbols=tau_t)
        column = {int(t): k for k, t in enumerate(tau_cs)}

        def capacity_per_hz(tau_c):
            return table[:, column[int(tau_c)]]

        c_full = capacity_per_hz(tau_t)
        best_cap = np.zeros(link.size)
        best_err = np.full(link.size, np.inf)
        best_share = np.ones(link.size)
        feasible = np.zeros(link.size, bool)
        for tau in counts:
            c_left = capacity_per_hz(tau_t - int(tau))
            if objective.kind == "target":
                j = self._narrowest(crb, tau, objective.value**2 * (1 + 1e-12), widths.size,
                                    link.size)
                ok = j < widths.size
                jc = np.minimum(j, widths.size - 1)
                b_l = widths[jc]
                cap = (b - b_l) * c_full + b_l * c_left
                err = np.sqrt(crb(jc, tau))
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
                jc = np.maximum(j, 0)
                b_l = widths[jc]
                cap = np.where(ok, (b - b_l) * c_full + b_l * c_left, b * c_full)
                err = np.where(ok, np.sqrt(crb(jc, tau)), np.inf)
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
    def _narrowest(crb, tau, t2, n_widths, n_points):
        """Index of the narrowest block meeting CRB <= t2 with tau symbols (n_widths if
        none). With one energy share s and a rising beta2 it is closed-form: CRB =
        (a + c/beta2)/(tau s) <= t2 needs beta2 >= c/(t2 tau s - a), found by a search in
        the widths' beta2; each point is then checked against its neighbour below, and
        the few that fail (rounding) or every point otherwise get a bisection, the CRB
        falling with the width."""
        lo = np.zeros(n_points, np.int64)
        hi = np.full(n_points, n_widths, np.int64)
        if crb.closed_form:
            room = t2 * tau * crb.share[0] - crb.a
            with np.errstate(divide="ignore", invalid="ignore"):
                need = np.where(room > 0, crb.c / room, np.inf)
            j = np.searchsorted(crb.beta2, np.nan_to_num(need, nan=np.inf), side="left")
            # j = n_widths (none) needs the widest block to miss: it is j - 1's check
            fits = (j >= n_widths) | (crb(np.minimum(j, n_widths - 1), tau) <= t2)
            below = (j > 0) & (crb(np.maximum(j - 1, 0), tau) <= t2)
            exact = fits & ~below
            lo = np.where(exact, j, lo)
            hi = np.where(exact, j, hi)
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            fits = crb(np.minimum(mid, n_widths - 1), tau) <= t2
            active = lo < hi
            hi = np.where(active & fits, mid, hi)
            lo = np.where(active & ~fits, mid + 1, lo)
        return lo


@hookimpl
def ilac_register_schemes(register):
    register(HybridBlock())
