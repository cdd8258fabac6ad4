"""Allocation schemes: how a gNB splits its resource between data and positioning.

A scheme is an object with a ``name``, a one-line ``description``, its ``parameters``
and one of two ways to be evaluated:

* **plan form** (:meth:`Scheme.plan`): a :class:`ResourcePlan`, the candidate splits from
  no positioning to the most positioning, each with the bandwidth and symbols left for
  communication (and their downlink fraction and power share) and those given to
  positioning (and its link direction and power share). The kernel evaluates plans
  natively, at full speed, for any scheme;
* **vectorized form** (:meth:`Scheme.evaluate`): a numpy function of the link state of all
  points, for what a plan cannot express.

The built-in ``time`` and ``frequency`` schemes (the paper's) are plan-form schemes
registered through the same hook as plugins' schemes.
"""

import difflib
import re
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_array, check_choice, check_scalar
from .errors import ParameterError
from .model.crb import (
    check_bound,
    crb_position,
    crb_terms,
    delay_mean_square_bandwidth_hz2,
)

EPRE = ("paper", "equal")
"""Energy conventions: the paper's (positioning SNR independent of its band) or equal
energy per resource element under one transmit power (docs/model.md)."""
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DIRECTIONS = ("downlink", "uplink")


def check_name(name, what):
    """A registered name: lower case, digits and underscores, starting with a letter."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} name must match [a-z][a-z0-9_]* (at most 40 characters); "
                         f"got {name!r}")
    return name


@dataclass(frozen=True)
class Parameter:
    """A parameter of a scheme or propagation model.

    The kind (:attr:`kind`) follows from the declaration: ``"choice"`` with ``choices``,
    ``"bool"`` with a True/False default (values must be True or False), ``"int"`` with
    ``integer``, else ``"float"``.

    Parameters
    ----------
    name : str
        Keyword name (with its unit as a suffix where it has one, e.g. ``dl_fraction``).
    default : object
        Default value.
    unit : str
        Unit shown in listings, e.g. ``"m"``.
    low, high : float, optional
        Allowed numeric range (inclusive).
    choices : tuple, optional
        Allowed values, for a non-numeric parameter.
    description : str
        One line.
    integer : bool, default False
        A count: whole numbers only.
    geometry : {"gnb_height_m", "ue_height_m", "carrier_hz"}, optional
        For a propagation model: the run's quantity this parameter stands for. The
        planner then passes the run's value (the sites' ``height_m``, the UE height, the
        carrier) instead of the default, so that the formula and the geometry use one
        height (:class:`ilac_plan.propagation.LinkGeometry`); a value the user sets
        explicitly wins, with a warning when it disagrees.
    """

    name: str
    default: object
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    description: str = ""
    integer: bool = False
    geometry: str | None = None

    @property
    def kind(self):
        """``"choice"``, ``"bool"``, ``"int"`` or ``"float"``."""
        if self.choices is not None:
            return "choice"
        if isinstance(self.default, (bool, np.bool_)):
            return "bool"
        return "int" if self.integer else "float"

    def validate(self, value, owner=""):
        """Return ``value`` checked against the kind, range or choices."""
        label = f"{owner}.{self.name}" if owner else self.name
        if self.kind == "choice":
            return check_choice(label, value, self.choices)
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ParameterError(f"{label} must be True or False; got {value!r}")
            return bool(value)
        value = check_scalar(label, value, low=self.low, high=self.high, unit=self.unit,
                             integer=self.integer)
        return int(value) if self.integer else value

    def to_dict(self):
        return {"name": self.name, "kind": self.kind, "default": self.default,
                "unit": self.unit, "low": self.low, "high": self.high,
                "choices": list(self.choices) if self.choices else None,
                "description": self.description, "geometry": self.geometry}


def resolve_params(owner, params):
    """Defaults of ``owner.parameters`` updated with ``params``, each validated."""
    params = dict(params or {})
    known = {p.name: p for p in owner.parameters}
    unknown = sorted(set(params) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        close = difflib.get_close_matches(unknown[0], list(known), n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(f"{owner.name}: unknown parameter {unknown[0]!r}{guess} "
                             f"(allowed: {allowed})")
    return {name: p.validate(params.get(name, p.default), owner.name) for name, p in known.items()}


@dataclass(frozen=True)
class ResourcePlan:
    """Candidate splits of a plan-form scheme, from no positioning to the most.

    Every array has one entry per candidate; entry 0 is the split with no positioning
    (``loc_share`` 0), the reference of the capacity-loss budget. Along the candidates the
    positioning resource must not shrink and the communication resource must not grow,
    so that the CRB and the capacity both fall (``ilac_plan.testing`` checks it); the
    planner relies on it to search the candidates by bisection.

    Parameters
    ----------
    loc_share : array_like
        Fraction of the resource given to positioning, from 0, increasing.
    comm_bandwidth_hz, comm_symbols : array_like
        Bandwidth [Hz] and symbols (pilots included) left for communication.
    loc_bandwidth_hz, loc_symbols : array_like
        Bandwidth [Hz] and symbols of the positioning reference signal.
    dl_fraction : array_like, default 1
        Share of ``comm_symbols`` in the downlink part of the frame: ``round(dl_fraction x
        comm_symbols)`` whole symbols of downlink data; the uplink part (the rest) holds
        the uplink pilots, then uplink data (reciprocity TDD: one pilot phase serves both
        directions; pilots overflow into the downlink part only when they outnumber the
        uplink part, so 1 is Eq. (1) and 0 its uplink counterpart).
    comm_power_fraction, loc_power_fraction : array_like, default 1
        Power of communication and of positioning, as a factor on the SNR they would
        have at the nominal power; their meaning depends on the energy convention
        (``epre``, docs/model.md, "Energy per resource element"):

        * ``"paper"``: the factor on the SNR of the whole band, each signal on its own
          (at 1 both get the whole transmit power, also in the same symbols: the paper's
          convention, in [0, 1]);
        * ``"equal"``: the factor on the energy per resource element of one transmit
          power spread evenly over the band. A positioning signal on :math:`B_L` then
          gets :math:`B_L/B` of the whole-band SNR, times its factor; data keeps its own
          per-element SNR. Factors above 1 boost one signal at the other's expense: in
          symbols both occupy (``comm_symbols + loc_symbols > n_symbols``),
          ``comm_bandwidth_hz * comm_power_fraction + loc_bandwidth_hz *
          loc_power_fraction`` must not exceed the bandwidth, and each signal alone
          must not exceed it either.
    loc_direction : {"downlink", "uplink"}
        Downlink PRS at the gNB's power, or uplink sounding at the UE's power.
    loc_span_hz : array_like, optional
        Frequency span of the positioning signal, the :math:`B_L` of the paper's delay
        bound (Eq. 6); default ``loc_bandwidth_hz``. A comb over the band spans the band
        while occupying a fraction of it. [Hz]
    loc_rms_bandwidth_hz : array_like, optional
        RMS bandwidth of the positioning signal's spectrum, the delay information of
        the achievable bound (:func:`ilac_plan.model.crb.rms_bandwidth_hz`); default a
        flat spectrum on the contiguous subcarriers of ``loc_bandwidth_hz``. [Hz]
    """

    loc_share: np.ndarray
    comm_bandwidth_hz: np.ndarray
    comm_symbols: np.ndarray
    loc_bandwidth_hz: np.ndarray
    loc_symbols: np.ndarray
    dl_fraction: np.ndarray | float = 1.0
    comm_power_fraction: np.ndarray | float = 1.0
    loc_power_fraction: np.ndarray | float = 1.0
    loc_direction: str = "downlink"
    loc_span_hz: np.ndarray | None = None
    loc_rms_bandwidth_hz: np.ndarray | None = None

    ARRAYS = ("loc_share", "comm_bandwidth_hz", "comm_symbols", "loc_bandwidth_hz",
              "loc_symbols", "dl_fraction", "comm_power_fraction", "loc_power_fraction")
    OPTIONAL = ("loc_span_hz", "loc_rms_bandwidth_hz")

    def __post_init__(self):
        n = np.size(self.loc_share)
        for name in self.ARRAYS + self.OPTIONAL:
            value = getattr(self, name)
            if value is None:
                continue
            value = np.broadcast_to(np.asarray(value, np.float64), (n,))
            object.__setattr__(self, name, np.ascontiguousarray(value))
        check_choice("loc_direction", self.loc_direction, DIRECTIONS)

    def validate(self, radio, owner, epre="paper"):
        """Check ranges and shapes against ``radio`` under the energy convention ``epre``;
        raise ParameterError naming ``owner``."""
        n = self.loc_share.size
        if n < 2:
            raise ParameterError(f"{owner}: a resource plan needs at least 2 candidates")
        epre = check_choice("epre", epre, EPRE)
        tau_t, b = radio.n_symbols, radio.bandwidth_hz
        limits = {"loc_share": (0, 1), "comm_bandwidth_hz": (0, b), "loc_bandwidth_hz": (0, b),
                  "comm_symbols": (0, tau_t), "loc_symbols": (0, tau_t), "dl_fraction": (0, 1),
                  "comm_power_fraction": (0, 1), "loc_power_fraction": (0, 1),
                  "loc_span_hz": (0, b), "loc_rms_bandwidth_hz": (0, b)}
        if epre == "equal":
            limits["comm_power_fraction"] = limits["loc_power_fraction"] = (0, 1e6)
        for name, (low, high) in limits.items():
            if getattr(self, name) is None:
                continue
            check_array(f"{owner}.plan.{name}", getattr(self, name), low=low,
                        high=high * (1 + 1e-12))
        if epre == "equal":
            comm = self.comm_bandwidth_hz * self.comm_power_fraction
            loc = self.loc_bandwidth_hz * self.loc_power_fraction
            shared = self.comm_symbols + self.loc_symbols > tau_t
            total = np.where(shared, comm + loc, np.maximum(comm, loc))
            if np.any(total > b * (1 + 1e-12)):
                j = int(np.argmax(total > b * (1 + 1e-12)))
                raise ParameterError(
                    f"{owner}.plan: candidate {j} needs {total[j] / b:.6g} of the transmit power "
                    "under epre='equal' (bandwidth x power fraction of the signals sharing a "
                    "symbol must not exceed the bandwidth)")
        if self.loc_share[0] != 0.0 or np.any(np.diff(self.loc_share) <= 0):
            raise ParameterError(f"{owner}.plan.loc_share must start at 0 and increase")
        if np.any(self.comm_symbols != np.round(self.comm_symbols)):
            raise ParameterError(f"{owner}.plan.comm_symbols must be whole symbols")
        return self

    def loc_snr_gain(self, radio, epre="paper"):
        """Factor on the whole-band SNR of the positioning signal, per candidate.

        ``"paper"``: ``loc_power_fraction``; ``"equal"``: ``loc_power_fraction`` times the
        signal's share of the band, ``loc_bandwidth_hz / bandwidth_hz``.
        """
        if check_choice("epre", epre, EPRE) == "paper":
            return self.loc_power_fraction.copy()
        return self.loc_power_fraction * (self.loc_bandwidth_hz / radio.bandwidth_hz)

    def delay_beta2(self, radio, bound="paper"):
        """Mean-square bandwidth of the delay information per candidate, see
        :func:`ilac_plan.model.crb.delay_mean_square_bandwidth_hz2`. [Hz^2]"""
        span = self.loc_bandwidth_hz if self.loc_span_hz is None else self.loc_span_hz
        if check_bound(bound) == "paper":
            return delay_mean_square_bandwidth_hz2(span, bound="paper", varsigma=radio.varsigma)
        return delay_mean_square_bandwidth_hz2(
            self.loc_bandwidth_hz, bound="achievable",
            subcarrier_spacing_hz=radio.subcarrier_spacing_hz,
            rms_bandwidth_hz=self.loc_rms_bandwidth_hz)


@dataclass(frozen=True)
class Objective:
    """The planning objective: a position-error target or a capacity-loss budget."""

    kind: str                   # "target" or "budget"
    value: float                # target error [m] or fraction of capacity (0-1)

    @property
    def crb_target_m2(self):
        return self.value**2 if self.kind == "target" else np.inf


#: det J at or below this fraction of (tr J)^2 counts as singular (as the kernel's).
NET_SINGULAR_RTOL = 1e-12


@dataclass(frozen=True)
class NetworkBound:
    """The network position bound at every point, per direction, as the kernel keeps it.

    The fused information of a positioning signal of energy ``e`` (gain times symbols)
    and mean-square bandwidth ``beta2`` is ``e (A + beta2 B)`` (docs/model.md, "Network
    positioning"), so

    .. math:: CRB_L = \\frac{t_A + \\beta^2 t_B}{e\\,(d_0 + \\beta^2 d_1 + \\beta^4 d_2)}

    Attributes
    ----------
    downlink, uplink : ndarray, shape (6, n_points)
        ``t_A, t_B, d_0, d_1, d_2`` and the serving cell's range variance times
        ``e beta2`` [m^2 Hz^2], for downlink PRS and uplink sounding.
    onsite : ndarray of bool
        Points on their serving cell (the bound along its broadside).
    """

    downlink: np.ndarray
    uplink: np.ndarray
    onsite: np.ndarray

    @classmethod
    def from_rows(cls, rows):
        """From the kernel's ``net_info`` rows (13, n_points)."""
        return cls(rows[0:6], rows[6:12], rows[12] != 0)

    def take(self, part):
        return NetworkBound(self.downlink[:, part], self.uplink[:, part], self.onsite[part])

    def factor(self, beta2, direction="downlink"):
        """``F(beta2)`` with ``CRB_L = F / e``, infinite where the cells leave a direction
        unbounded. [m^2]"""
        v = self.uplink if direction == "uplink" else self.downlink
        b = np.asarray(beta2, np.float64)
        tr = v[0] + b * v[1]
        det = v[2] + b * (v[3] + b * v[4])
        ok = np.where(self.onsite, det > 0, det > NET_SINGULAR_RTOL * tr * tr) & np.isfinite(det)
        ok &= b > 0                      # no band, no positioning signal
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, tr / np.where(ok, det, 1.0), np.inf)

    def range_variance(self, direction="downlink"):
        """The serving cell's range variance times ``e beta2``. [m^2 Hz^2]"""
        return (self.uplink if direction == "uplink" else self.downlink)[5]


@dataclass
class LinkState:
    """Per-point link state handed to vectorized schemes (arrays of shape (n_points,)).

    Attributes
    ----------
    distance_m : ndarray
        Distance to the serving cell. [m]
    theta_rad : ndarray
        Angle off the serving array's broadside, folded to [-pi/2, pi/2]. [rad]
    snr_dl : ndarray
        Downlink SNR per antenna (SINR with interference), also the CRB SNR. [linear]
    snr_ul : ndarray
        Uplink SNR per antenna at the UE's power. [linear]
    n_antennas, spacing_m : ndarray
        The serving array's antennas and spacing [m].
    serving_cell : ndarray of int
        Row position of the serving cell in the site table.
    height_diff_m : ndarray
        Height of the serving array above the UE. [m]
    bound : {"paper", "achievable"}
        The position bound of this run; :meth:`crb_position` applies it.
    epre : {"paper", "equal"}
        The energy convention of this run (:meth:`loc_snr`).
    dl_prs : {"orthogonal", "beamformed"}
        The downlink PRS strategy of the achievable bound.
    interference : bool
        Whether ``snr_dl`` counts the other cells (``snr_ul`` never does: a scheme that
        uses the uplink should refuse ``interference=True``, as the plan-form ones are).
    network : NetworkBound or None
        With ``positioning="network"``: the fused bound of the strongest cells, which
        :meth:`crb_position` and :meth:`crb_factor` then use (the link state's other
        fields stay the serving cell's).
    """

    distance_m: np.ndarray
    theta_rad: np.ndarray
    snr_dl: np.ndarray
    snr_ul: np.ndarray
    n_antennas: np.ndarray
    spacing_m: np.ndarray
    serving_cell: np.ndarray = field(repr=False)
    height_diff_m: np.ndarray | float = 0.0
    bound: str = "paper"
    epre: str = "paper"
    dl_prs: str = "orthogonal"
    interference: bool = False
    network: NetworkBound | None = field(default=None, repr=False)

    @property
    def size(self):
        return self.distance_m.size

    def take(self, part):
        """The link state of the points in ``part`` (a slice or an index array)."""
        return dataclasses.replace(self, **{
            f.name: getattr(self, f.name)[part] for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)},
            network=None if self.network is None else self.network.take(part))

    def loc_snr(self, radio, loc_bandwidth_hz, power_fraction=1.0, direction="downlink"):
        """SNR of a positioning signal on ``loc_bandwidth_hz`` under this run's ``epre``.

        ``snr_dl`` (or ``snr_ul`` for ``direction="uplink"``) times ``power_fraction``,
        times ``loc_bandwidth_hz / radio.bandwidth_hz`` under ``epre="equal"``. [linear]
        """
        snr = self.snr_ul if check_choice("direction", direction, DIRECTIONS) == "uplink" \
            else self.snr_dl
        gain = np.asarray(power_fraction, np.float64)
        if self.epre == "equal":
            gain = gain * np.asarray(loc_bandwidth_hz, np.float64) / radio.bandwidth_hz
        return snr * gain

    def crb_position(self, radio, loc_bandwidth_hz, n_loc_symbols, *, power_fraction=1.0,
                     direction="downlink", span_hz=None, rms_bandwidth_hz=None):
        """Position CRB of a positioning signal at every point, under this run's bound.

        The bound (``paper`` or ``achievable``), the energy convention and the downlink
        PRS strategy of the run are applied, so a vectorized scheme need not know them.

        Parameters
        ----------
        radio : RadioParams
        loc_bandwidth_hz, n_loc_symbols : array_like
            Occupied bandwidth [Hz] and symbols of the positioning signal, broadcast
            against the points.
        power_fraction : array_like, default 1
            See ResourcePlan's ``loc_power_fraction``.
        direction : {"downlink", "uplink"}
        span_hz, rms_bandwidth_hz : array_like, optional
            See ResourcePlan's ``loc_span_hz`` and ``loc_rms_bandwidth_hz``. [Hz]

        Returns
        -------
        ndarray
            :math:`CRB_L`. [m^2]
        """
        if self.network is not None:
            direction = check_choice("direction", direction, DIRECTIONS)
            if self.bound == "paper":
                beta2 = delay_mean_square_bandwidth_hz2(
                    loc_bandwidth_hz if span_hz is None else span_hz, bound="paper",
                    varsigma=radio.varsigma)
            else:
                beta2 = delay_mean_square_bandwidth_hz2(
                    loc_bandwidth_hz, bound="achievable",
                    subcarrier_spacing_hz=radio.subcarrier_spacing_hz,
                    rms_bandwidth_hz=rms_bandwidth_hz)
            energy = (np.asarray(n_loc_symbols, np.float64)
                      * np.asarray(power_fraction, np.float64)
                      * self.energy_share(radio, loc_bandwidth_hz))
            with np.errstate(divide="ignore", invalid="ignore"):
                crb = self.network.factor(beta2, direction) / energy
            return np.where(energy > 0, crb, np.inf)
        snr = self.loc_snr(radio, loc_bandwidth_hz, power_fraction, direction)
        positive = snr > 0
        snr = np.where(positive, snr, 1.0)
        b_l = loc_bandwidth_hz if (span_hz is None or self.bound != "paper") else span_hz
        crb = crb_position(
            self.distance_m, self.theta_rad, b_l, n_loc_symbols, n_antennas=self.n_antennas,
            snr=snr, wavelength_m=radio.wavelength_m, spacing_m=self.spacing_m,
            varsigma=radio.varsigma, bound=self.bound,
            height_diff_m=np.clip(self.height_diff_m, -self.distance_m, self.distance_m),
            loc_direction=direction, dl_prs=self.dl_prs,
            subcarrier_spacing_hz=radio.subcarrier_spacing_hz,
            rms_bandwidth_hz=rms_bandwidth_hz)
        return np.where(positive, crb, np.inf)

    def crb_terms(self, radio, direction="downlink"):
        """The terms ``(a, c)`` of :func:`ilac_plan.model.crb.crb_terms` at every point,
        under this run's bound: a positioning signal of mean-square bandwidth
        :meth:`delay_beta2`, ``n`` symbols, power fraction ``p`` and band ``B_L`` has

        .. math:: CRB_L = \\frac{a + c/\\beta^2}{n\\, p\\, s(B_L)}

        with :math:`s` :meth:`energy_share`. For schemes that search many shapes.

        Returns
        -------
        a : ndarray
            [m^2]
        c : ndarray
            [m^2 Hz^2]
        """
        if self.network is not None:
            raise ParameterError("crb_terms: the serving cell's terms; with positioning="
                                 "'network' the bound is not of that form, use crb_factor")
        snr = self.snr_ul if check_choice("direction", direction, DIRECTIONS) == "uplink" \
            else self.snr_dl
        positive = snr > 0
        a, c = crb_terms(
            self.distance_m, self.theta_rad, n_antennas=self.n_antennas,
            snr=np.where(positive, snr, 1.0), wavelength_m=radio.wavelength_m,
            spacing_m=self.spacing_m, bound=self.bound,
            height_diff_m=np.clip(self.height_diff_m, -self.distance_m, self.distance_m),
            loc_direction=direction, dl_prs=self.dl_prs)
        return np.where(positive, a, np.inf), np.where(positive, c, np.inf)

    def crb_factor(self, radio, beta2, direction="downlink"):
        """``F`` with :math:`CRB_L = F / (n\\, p\\, s(B_L))` for a positioning signal of
        mean-square bandwidth ``beta2`` [Hz^2] (:meth:`delay_beta2`), ``n`` symbols, power
        fraction ``p`` and energy share ``s`` (:meth:`energy_share`): ``a + c / beta2``
        of :meth:`crb_terms` for the serving cell, or the network bound's factor. [m^2]"""
        direction = check_choice("direction", direction, DIRECTIONS)
        if self.network is not None:
            return self.network.factor(beta2, direction)
        a, c = self.crb_terms(radio, direction)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = a + c / np.asarray(beta2, np.float64)
        return np.where(np.isnan(f), np.inf, f)

    def gdop(self, radio, error_m, direction="downlink"):
        """Position error over the serving cell's range error with the same signal, for
        errors of a whole-band positioning signal (the plan-form schemes' kernel takes
        each split's own band). [1]"""
        b_all = radio.bandwidth_hz
        beta2 = float(self.delay_beta2(radio, b_all))
        if self.network is not None:
            var = self.network.range_variance(direction)
        else:
            var = self.crb_terms(radio, direction)[1]     # the delay term: c^2 / J_t
        err = np.asarray(error_m, np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g = np.sqrt(err * err * beta2 / var)
        return np.where(np.isfinite(err) & np.isfinite(var) & (var > 0), g, np.inf)

    def delay_beta2(self, radio, loc_bandwidth_hz):
        """Mean-square bandwidth of a flat positioning signal on ``loc_bandwidth_hz``
        under this run's bound (:func:`~ilac_plan.model.crb.delay_mean_square_bandwidth_hz2`).
        [Hz^2]"""
        return delay_mean_square_bandwidth_hz2(
            loc_bandwidth_hz, bound=self.bound, varsigma=radio.varsigma,
            subcarrier_spacing_hz=radio.subcarrier_spacing_hz)

    def energy_share(self, radio, loc_bandwidth_hz):
        """Factor on the positioning SNR of a signal on ``loc_bandwidth_hz``: 1, or its
        share of the band under ``epre="equal"``."""
        b_l = np.asarray(loc_bandwidth_hz, np.float64)
        return b_l / radio.bandwidth_hz if self.epre == "equal" else np.ones(b_l.shape)


@dataclass
class SchemeResult:
    """What a vectorized scheme returns, arrays of shape (n_points,).

    ``capacity_bps`` [bit/s], ``error_m`` (sqrt of the position CRB) [m], ``loc_share``,
    and ``feasible`` (bool: the target is met; with a budget, the error is finite).
    """

    capacity_bps: np.ndarray
    error_m: np.ndarray
    loc_share: np.ndarray
    feasible: np.ndarray


def evaluate_in_chunks(evaluate, link, chunk):
    """``evaluate(part)`` on consecutive ``chunk``-point parts of ``link``
    (:meth:`LinkState.take`), joined into one :class:`SchemeResult`: bounded memory for a
    vectorized search that holds a table per point."""
    parts = [evaluate(link.take(slice(i, i + chunk)))
             for i in range(0, max(link.size, 1), chunk)]
    return SchemeResult(*(np.concatenate([getattr(p, f.name) for p in parts])
                          for f in dataclasses.fields(SchemeResult)))


def uplink_interference_error(name):
    """The refusal of a scheme that uses the uplink in a run with ``interference=True``
    (only the downlink SINR counts the other cells)."""
    return ParameterError(
        f"scheme {name!r} uses the uplink, whose interference is not modelled: "
        "interference=True counts other cells in the downlink SINR only; drop "
        "the scheme or the interference option")


class Scheme:
    """Base class of an allocation scheme; implement :meth:`plan` or :meth:`evaluate`."""

    name = ""
    description = ""
    parameters: tuple = ()

    def plan(self, radio, **params):
        """Return the :class:`ResourcePlan` for these radio settings (plan form)."""
        raise NotImplementedError

    def evaluate(self, link, objective, radio, **params):
        """Return a :class:`SchemeResult` for every point of ``link`` (vectorized form).

        Parameters
        ----------
        link : LinkState
        objective : Objective
        radio : RadioParams
        **params
            The scheme's parameters, validated.
        """
        raise NotImplementedError

    @property
    def kind(self):
        """``"plan"`` when the scheme overrides :meth:`plan` (only), ``"vectorized"`` when
        it overrides :meth:`evaluate` (only), ``"plan or vectorized"`` when it implements
        both and chooses by its parameters (:meth:`form`)."""
        plan = type(self).plan is not Scheme.plan
        evaluate = type(self).evaluate is not Scheme.evaluate
        if plan and evaluate:
            return "plan or vectorized"
        return "plan" if plan else "vectorized"

    def form(self, params):
        """The form this scheme runs in with ``params`` (validated): ``"plan"`` or
        ``"vectorized"``. A scheme implementing both :meth:`plan` and :meth:`evaluate`
        overrides it to choose by its parameters (for example a rate bound the kernel
        does not compute)."""
        return self.kind


def validate_scheme(scheme):
    """Check a scheme before registration; return its name."""
    if not isinstance(scheme, Scheme):
        raise TypeError(f"expected a Scheme instance, got {type(scheme).__name__}")
    check_name(scheme.name, "scheme")
    if scheme.name == "infeasible":
        raise ValueError("'infeasible' is reserved for points no scheme serves")
    if not isinstance(scheme.description, str) or not scheme.description.strip():
        raise ValueError(f"scheme {scheme.name!r} needs a one-line description")
    overrides_eval = type(scheme).evaluate is not Scheme.evaluate
    overrides_plan = type(scheme).plan is not Scheme.plan
    if overrides_plan and overrides_eval and type(scheme).form is Scheme.form:
        raise ValueError(f"scheme {scheme.name!r} implements both plan() and evaluate(); "
                         "override form(params) to say which one its parameters use")
    if not overrides_plan and not overrides_eval:
        raise ValueError(f"scheme {scheme.name!r} implements neither plan() nor evaluate()")
    for p in scheme.parameters:
        if not isinstance(p, Parameter):
            raise TypeError(f"scheme {scheme.name!r}: parameters must be Parameter objects")
    return scheme.name


class TimeSplit(Scheme):
    """The paper's time-domain split (Sec. III-A): whole symbols for positioning."""

    name = "time"
    description = "Whole symbols of the frame for positioning, over the whole band (paper, Thm. 1)"

    def plan(self, radio):
        tau_t = radio.n_symbols
        k = np.arange(tau_t + 1, dtype=np.float64)
        return ResourcePlan(loc_share=k / tau_t, comm_bandwidth_hz=radio.bandwidth_hz,
                            comm_symbols=tau_t - k, loc_bandwidth_hz=radio.bandwidth_hz,
                            loc_symbols=k)


class FrequencySplit(Scheme):
    """The paper's frequency-domain split (Sec. III-B): whole resource blocks, then the band."""

    name = "frequency"
    description = ("Whole 180 kHz resource blocks (then the whole band) for positioning, over "
                   "all symbols (paper, Thm. 2)")

    def plan(self, radio):
        b_l = np.arange(radio.n_resource_blocks + 1, dtype=np.float64) * radio.rb_bandwidth_hz
        if not np.isclose(b_l[-1], radio.bandwidth_hz, rtol=1e-12):
            b_l = np.append(b_l, radio.bandwidth_hz)
        b_l[-1] = radio.bandwidth_hz
        return ResourcePlan(loc_share=b_l / radio.bandwidth_hz,
                            comm_bandwidth_hz=radio.bandwidth_hz - b_l,
                            comm_symbols=radio.n_symbols, loc_bandwidth_hz=b_l,
                            loc_symbols=radio.n_symbols)
