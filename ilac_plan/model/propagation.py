"""Path-loss models as data: a few log-distance terms the kernel evaluates natively.

A :class:`PathLossModel` is the maximum of the *log-distance terms* that apply at a
distance,

.. math:: PL(d) = \\max_{k:\\ d_k^{lo} \\le d < d_k^{hi}} \\left(a_k + b_k \\log_{10} d\\right),

with the distance clamped below at ``min_distance_m``. One term covers free space and
any single-slope model; two terms a dual-slope model with a breakpoint; three the
3GPP NLOS form ``max(PL_LOS, PL'_NLOS)``. Because the kernel receives only these
coefficients, a propagation model defined this way (by a plugin too) runs at kernel speed.

A loss that is no maximum of log-distance terms (a LOS-probability weighted loss, a
reliability quantile) is given as a *table* instead (:meth:`PathLossModel.tabulated`):
its values on a uniform grid of :math:`\\log_{10} d`, interpolated linearly in
:math:`\\log_{10} d` by the kernel and by :meth:`PathLossModel.path_loss_db` alike (both
extrapolate the last segment beyond the table's end).
"""

from dataclasses import dataclass

import numpy as np

from .._validate import check_array
from ..errors import ParameterError
from .linkbudget import wavelength_m

MAX_TERMS = 4
#: Largest number of table nodes of a tabulated model.
MAX_TABLE_NODES = 1 << 16


@dataclass(frozen=True)
class PathLossTable:
    """Path loss on a uniform grid of :math:`\\log_{10} d`, linear in between.

    Parameters
    ----------
    log10_start_m : float
        :math:`\\log_{10}` of the first node's distance. [log10 m]
    log10_step : float
        Node spacing, > 0. [decades]
    loss_db : tuple of float
        Loss at the nodes, at least 2, finite. [dB]
    """

    log10_start_m: float
    log10_step: float
    loss_db: tuple

    def __post_init__(self):
        values = np.asarray(check_array("loss_db", self.loss_db, low=-500, high=1000,
                                        unit="dB"), np.float64).ravel()
        if not 2 <= values.size <= MAX_TABLE_NODES:
            raise ParameterError(f"loss_db: a table has 2 to {MAX_TABLE_NODES} nodes; "
                                 f"got {values.size}")
        check_array("log10_step", self.log10_step, low=0.0, low_open=True, high=10.0)
        check_array("log10_start_m", self.log10_start_m, low=-6.0, high=8.0)
        object.__setattr__(self, "loss_db", tuple(float(v) for v in values))

    def evaluate(self, log10_d):
        """Linear interpolation in log10 d, the end segments extrapolated. [dB]"""
        values = np.asarray(self.loss_db)
        u = (np.asarray(log10_d, np.float64) - self.log10_start_m) / self.log10_step
        k = np.clip(np.floor(u), 0, values.size - 2).astype(np.int64)
        w = u - k
        return values[k] + w * (values[k + 1] - values[k])


@dataclass(frozen=True)
class LogDistanceTerm:
    """One term :math:`a + b\\log_{10} d` valid for ``min_distance_m <= d < max_distance_m``.

    Parameters
    ----------
    intercept_db : float
        :math:`a`, the loss at 1 m. [dB]
    slope_db_per_decade : float
        :math:`b`, >= 0 (10 times the path-loss exponent). [dB/decade]
    min_distance_m, max_distance_m : float
        Range where the term applies. [m]
    """

    intercept_db: float
    slope_db_per_decade: float
    min_distance_m: float = 0.0
    max_distance_m: float = np.inf

    def __post_init__(self):
        check_array("intercept_db", self.intercept_db, low=-500, high=500, unit="dB")
        check_array("slope_db_per_decade", self.slope_db_per_decade, low=0, high=200,
                    unit="dB/decade")
        check_array("min_distance_m", self.min_distance_m, low=0.0, unit="m")
        check_array("max_distance_m", self.max_distance_m, low=0.0, allow_inf=True, unit="m")
        if not self.max_distance_m > self.min_distance_m:
            raise ParameterError("max_distance_m must be > min_distance_m")


@dataclass(frozen=True)
class PathLossModel:
    """A path-loss model made of log-distance terms (see the module docstring).

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"free_space"``.
    terms : tuple of LogDistanceTerm
        1 to 4 terms; at every distance from ``min_distance_m`` on, one must apply.
    min_distance_m : float, default 1
        Distances below this are evaluated at it (the near field is not modelled). [m]
    """

    name: str
    terms: tuple
    min_distance_m: float = 1.0
    table: PathLossTable | None = None

    def __post_init__(self):
        terms = tuple(self.terms)
        check_array("min_distance_m", self.min_distance_m, low=0.0, low_open=True, unit="m")
        if self.table is not None:
            if terms:
                raise ParameterError("a path-loss model has terms or a table, not both")
            if not isinstance(self.table, PathLossTable):
                raise ParameterError("table must be a PathLossTable")
            object.__setattr__(self, "terms", ())
            return
        if not 1 <= len(terms) <= MAX_TERMS:
            raise ParameterError(f"a path-loss model has 1 to {MAX_TERMS} terms; got {len(terms)}")
        if not all(isinstance(t, LogDistanceTerm) for t in terms):
            raise ParameterError("path-loss terms must be LogDistanceTerm objects")
        object.__setattr__(self, "terms", terms)
        covered = float(self.min_distance_m)   # sweep the term intervals from the floor up
        for t in sorted(terms, key=lambda t: t.min_distance_m):
            if t.min_distance_m > covered:
                break
            covered = max(covered, t.max_distance_m)
        if covered != np.inf:
            raise ParameterError(f"path-loss model {self.name!r}: no term applies from "
                                 f"{covered:g} m on; the terms must cover every distance from "
                                 f"min_distance_m = {self.min_distance_m:g} m")

    def path_loss_db(self, distance_m):
        """Path loss at the given distances (numpy reference of the kernel's evaluation).

        Parameters
        ----------
        distance_m : array_like
            Distances, >= 0. [m]

        Returns
        -------
        ndarray
            Path loss; -inf where no term applies. [dB]
        """
        d = np.maximum(check_array("distance_m", distance_m, low=0.0, unit="m"),
                       self.min_distance_m)
        if self.table is not None:
            return self.table.evaluate(np.log10(d))
        out = np.full(d.shape, -np.inf)
        for t in self.terms:
            value = t.intercept_db + t.slope_db_per_decade * np.log10(d)
            use = (d >= t.min_distance_m) & (d < t.max_distance_m)
            out = np.where(use, np.maximum(out, value), out)
        return out

    def drop_db(self):
        """Total fall of the loss with distance: the sum of the downward jumps at term edges.

        Each term rises with distance (slopes are >= 0), so the maximum of the terms can
        only fall where the set of terms changes; at each edge the jump is the loss just
        there minus its limit from the left (TR 38.901's UMa and UMi LOS losses are
        continuous at their breakpoint: 0 up to rounding). A tabulated model falls where
        consecutive nodes fall, beyond the minimum distance. Cell pruning widens its bounds
        by this much so that it stays exact. [dB]
        """
        if self.table is not None:
            values = np.asarray(self.table.loss_db)
            nodes = self.table.log10_start_m + self.table.log10_step * np.arange(values.size)
            first = max(int(np.searchsorted(nodes, np.log10(self.min_distance_m),
                                            side="right")) - 1, 0)
            steps = np.diff(values[first:])
            return float(-steps[steps < 0].sum())
        edges = {t.min_distance_m for t in self.terms} | {t.max_distance_m for t in self.terms}
        total = 0.0
        for e in sorted(x for x in edges if np.isfinite(x) and x > self.min_distance_m):
            left = max((t.intercept_db + t.slope_db_per_decade * np.log10(e)
                        for t in self.terms if t.min_distance_m < e <= t.max_distance_m),
                       default=-np.inf)
            total += max(0.0, left - float(self.path_loss_db(e)))
        return total

    def is_nondecreasing(self):
        """Whether the loss never falls with distance."""
        return self.drop_db() == 0.0

    def kernel_terms(self):
        """Coefficients for the kernel: per term, loss = a0 + a1 log10(d^2) on [lo2, hi2).

        Returns
        -------
        a0, a1, lo2, hi2 : ndarray of shape (4,)
            Unused terms never apply (lo2 = inf).
        floor2 : float
            Squared minimum distance. [m^2]
        simple : bool
            One term that applies at every distance.
        """
        if self.table is not None:
            return (np.zeros(MAX_TERMS), np.zeros(MAX_TERMS), np.full(MAX_TERMS, np.inf),
                    np.full(MAX_TERMS, np.inf), float(self.min_distance_m) ** 2, False)
        a0 = np.zeros(MAX_TERMS)
        a1 = np.zeros(MAX_TERMS)
        lo2 = np.full(MAX_TERMS, np.inf)
        hi2 = np.full(MAX_TERMS, np.inf)
        for k, t in enumerate(self.terms):
            a0[k], a1[k] = t.intercept_db, t.slope_db_per_decade / 2.0
            lo2[k], hi2[k] = t.min_distance_m**2, t.max_distance_m**2
        simple = len(self.terms) == 1 and self.terms[0].min_distance_m <= self.min_distance_m \
            and np.isinf(self.terms[0].max_distance_m)
        return a0, a1, lo2, hi2, float(self.min_distance_m) ** 2, bool(simple)


    def kernel_table(self):
        """The table for the kernel: ``(values, log10 d^2 of the first node, nodes per
        decade of d^2)``; an empty array for a model of terms."""
        if self.table is None:
            return np.zeros(0), 0.0, 1.0
        return (np.ascontiguousarray(self.table.loss_db, np.float64),
                2.0 * self.table.log10_start_m, 0.5 / self.table.log10_step)

    @classmethod
    def tabulated(cls, name, function, *, min_distance_m=1.0, max_distance_m=1e6,
                  nodes_per_decade=400):
        """A model sampled from ``function`` on a uniform grid of log10 distance.

        Parameters
        ----------
        name : str
        function : callable
            Maps an array of 3-D distances [m] to path losses [dB] (finite).
        min_distance_m : float, default 1
            Distance floor and the table's first node. [m]
        max_distance_m : float, default 1e6
            Last node; beyond it the last segment is extrapolated. [m]
        nodes_per_decade : int, default 400
            Table resolution: the interpolation error of a loss with curvature
            :math:`\\kappa` [dB/decade^2] is at most :math:`\\kappa/(8 n^2)` [dB].

        Returns
        -------
        PathLossModel
        """
        lo = float(np.log10(check_array("min_distance_m", min_distance_m, low=0.0,
                                        low_open=True, unit="m")))
        hi = float(np.log10(check_array("max_distance_m", max_distance_m, low=min_distance_m,
                                        low_open=True, unit="m")))
        nodes_per_decade = float(check_array("nodes_per_decade", nodes_per_decade, low=1.0,
                                             high=1e5))
        n = int(np.ceil((hi - lo) * nodes_per_decade)) + 1
        step = (hi - lo) / (n - 1)
        d = 10.0 ** (lo + step * np.arange(n))
        values = np.broadcast_to(np.asarray(function(d), np.float64), d.shape)
        return cls(name, (), float(min_distance_m), PathLossTable(lo, step, tuple(values)))


@dataclass(frozen=True)
class DropModel:
    """A random large-scale drop: per link a LOS state and a log-normal shadow fading.

    Link (point, cell) is LOS when its uniform draw :math:`u` is below the LOS
    probability :math:`P_{LOS}(d_{2D})`; its loss is then the state's median loss
    :math:`PL_{LOS}(d_{3D})` or :math:`PL_{NLOS}(d_{3D})` plus
    :math:`\\sigma_{state} z` with :math:`z` a standard normal draw. The draws come from a
    counter-based generator keyed on (seed, the point's and the cell's positions to the
    millimetre) (``ilac_plan._core._coverage.drop_draws``), so that any tiling, thread
    count, engine or cell order gives the same drop, and the sectors of a site share
    their link's draws (TR 38.901 draws large-scale parameters per UE-site link).

    Parameters
    ----------
    name : str
    los, nlos : PathLossModel
        Tabulated median losses of the two states, on the same grid.
    los_probability : PathLossTable
        :math:`P_{LOS}` in [0, 1] on a grid of :math:`\\log_{10} d_{2D}` (the table's
        "loss" values are probabilities here).
    sigma_los_db, sigma_nlos_db : float
        Shadow-fading standard deviations. [dB]
    """

    name: str
    los: PathLossModel
    nlos: PathLossModel
    los_probability: PathLossTable
    sigma_los_db: float
    sigma_nlos_db: float

    def __post_init__(self):
        for key in ("los", "nlos"):
            model = getattr(self, key)
            if not isinstance(model, PathLossModel) or model.table is None:
                raise ParameterError(f"DropModel.{key} must be a tabulated PathLossModel")
        a, b = self.los.table, self.nlos.table
        if (a.log10_start_m, a.log10_step, len(a.loss_db)) != \
                (b.log10_start_m, b.log10_step, len(b.loss_db)):
            raise ParameterError("DropModel: the LOS and NLOS tables must share one grid")
        p = np.asarray(self.los_probability.loss_db)
        if np.any((p < 0.0) | (p > 1.0)):
            raise ParameterError("DropModel.los_probability must lie in [0, 1]")
        for key in ("sigma_los_db", "sigma_nlos_db"):
            check_array(key, getattr(self, key), low=0.0, high=30.0, unit="dB")

    @classmethod
    def tabulated(cls, name, los_db, nlos_db, los_probability, sigma_los_db, sigma_nlos_db, *,
                  min_distance_m=1.0, max_distance_m=1e5, nodes_per_decade=1000):
        """A drop model sampled from functions of the 3-D distance (losses) and of the
        2-D distance (LOS probability), on grids from ``min_distance_m`` (0.1 m for the
        probability) to ``max_distance_m``.

        Parameters
        ----------
        los_db, nlos_db : callable
            3-D distances [m] to median losses [dB].
        los_probability : callable
            2-D distances [m] to probabilities.
        sigma_los_db, sigma_nlos_db : float
            [dB]

        Returns
        -------
        DropModel
        """
        kw = {"max_distance_m": max_distance_m, "nodes_per_decade": nodes_per_decade}
        los = PathLossModel.tabulated(f"{name}_los", los_db, min_distance_m=min_distance_m,
                                      **kw)
        nlos = PathLossModel.tabulated(f"{name}_nlos", nlos_db,
                                       min_distance_m=min_distance_m, **kw)
        p = PathLossModel.tabulated(f"{name}_p_los", los_probability, min_distance_m=0.1,
                                    **kw).table
        values = np.asarray(p.loss_db)
        # a formula may overshoot by a little (TR 38.901's UMa probability for UEs above
        # 13 m reaches 1.007 just beyond 18 m): clipped; more is refused
        if not np.all((values >= -0.01) & (values <= 1.01)):
            raise ParameterError(f"{name}: the LOS probability must lie in [0, 1]")
        clipped = PathLossTable(p.log10_start_m, p.log10_step,
                                tuple(np.clip(values, 0.0, 1.0)))
        return cls(name, los, nlos, clipped, float(sigma_los_db), float(sigma_nlos_db))

    def kernel_drop(self):
        """The kernel's drop arguments: ``table_nlos``, ``sigma_los``, ``sigma_nlos``,
        ``plos``, ``p0`` and ``p_inv_step`` (the probability's grid in log10 of d2D^2)."""
        p = self.los_probability
        return {"table_nlos": np.ascontiguousarray(self.nlos.table.loss_db, np.float64),
                "sigma_los": self.sigma_los_db, "sigma_nlos": self.sigma_nlos_db,
                "plos": np.ascontiguousarray(p.loss_db, np.float64),
                "p0": 2.0 * p.log10_start_m, "p_inv_step": 0.5 / p.log10_step}

    def los_probability_at(self, d2d_m):
        """:math:`P_{LOS}` at 2-D distances as the kernel interpolates it (from 1 mm)."""
        d = np.maximum(np.asarray(d2d_m, np.float64), 1e-3)
        return self.los_probability.evaluate(np.log10(d))


def free_space(carrier_hz, min_distance_m=1.0):
    """Free-space path loss :math:`20\\log_{10}(4\\pi d/\\lambda)` as a one-term model.

    Parameters
    ----------
    carrier_hz : float
        Carrier frequency. [Hz]
    min_distance_m : float, default 1
        Distance floor. [m]

    Returns
    -------
    PathLossModel
    """
    lam = float(wavelength_m(carrier_hz))
    term = LogDistanceTerm(20.0 * np.log10(4.0 * np.pi / lam), 20.0)
    return PathLossModel("free_space", (term,), min_distance_m)
