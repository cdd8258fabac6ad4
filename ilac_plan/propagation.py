"""Registered propagation models: a name, parameters and a factory of path-loss models.

A :class:`PropagationModel` turns the radio parameters and its own parameters into a
:class:`ilac_plan.model.PathLossModel` (log-distance terms the kernel evaluates natively).
The built-in ``free_space`` model and plugins' models are registered through the
``ilac_register_propagation_models`` hook.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import IlacWarning, ParameterError
from .model.propagation import DropModel, PathLossModel, free_space
from .schemes import Parameter, check_name, resolve_params

#: The run's quantities a model parameter can stand for (``Parameter.geometry``).
GEOMETRY = ("gnb_height_m", "ue_height_m", "carrier_hz")
#: Cells whose heights span more than this use their median in a one-height formula. [m]
HEIGHT_SPREAD_M = 0.5


@dataclass(frozen=True)
class LinkGeometry:
    """The run's link geometry, handed to propagation models' ``geometry`` parameters.

    Attributes
    ----------
    carrier_hz : float
        Carrier frequency. [Hz]
    gnb_height_m : ndarray or None
        Antenna height of each cell (the site table's ``height_m``), None when the table
        has none. [m]
    ue_height_m : float or None
        UE antenna height, None when the run did not set one. [m]
    """

    carrier_hz: float
    gnb_height_m: np.ndarray | None = None
    ue_height_m: float | None = None

    def value(self, key, owner, warn=True):
        """The run's ``key`` as one number (None when the run has none); the median of
        the cells' heights, with a warning when they span more than
        :data:`HEIGHT_SPREAD_M`."""
        if key == "carrier_hz":
            return float(self.carrier_hz)
        if key == "ue_height_m":
            return None if self.ue_height_m is None else float(self.ue_height_m)
        if key != "gnb_height_m":
            raise ValueError(f"unknown geometry {key!r} (allowed: {', '.join(GEOMETRY)})")
        if self.gnb_height_m is None or np.size(self.gnb_height_m) == 0:
            return None
        h = np.asarray(self.gnb_height_m, np.float64)
        lo, hi, med = float(h.min()), float(h.max()), float(np.median(h))
        if warn and hi - lo > HEIGHT_SPREAD_M:
            warnings.warn(f"{owner}: the cells' heights span {lo:g}-{hi:g} m, but the model's "
                          f"formula takes one gNB height: their median, {med:g} m",
                          IlacWarning, stacklevel=4)
        return med


class PropagationModel:
    """Base class of a registered propagation model.

    Subclasses set ``name``, ``description`` and ``parameters`` and implement
    :meth:`build`.
    """

    name = ""
    description = ""
    parameters: tuple = ()

    def build(self, radio, **params):
        """Return the :class:`~ilac_plan.model.PathLossModel` for these radio settings.

        Parameters
        ----------
        radio : RadioParams
        **params
            The model's parameters, validated against :attr:`parameters`.
        """
        raise NotImplementedError

    def build_drop(self, radio, **params):
        """Return the :class:`~ilac_plan.model.DropModel` of a random drop (LOS state and
        shadow fading per link) for these radio settings; models without such
        statistics keep this default, which refuses."""
        raise ParameterError(
            f"propagation model {self.name!r} has no LOS probability or shadow fading, "
            "which a random drop (drop_seed) needs: use a TR 38.901 scenario model "
            "(uma, umi, rma, inh from ilac-plan-3gpp)")

    def drop_model(self, radio, params=None, geometry=None):
        """Validate ``params`` and build the random-drop model (``drop_seed``), with the
        run's geometry as in :meth:`path_loss_model`."""
        model = self.build_drop(radio, **self.parameter_values(params, geometry))
        if not isinstance(model, DropModel):
            raise TypeError(f"propagation model {self.name!r} built "
                            f"{type(model).__name__}, not a DropModel")
        return model

    def path_loss_model(self, radio, params=None, geometry=None):
        """Validate ``params`` and build the model (what the planner calls).

        Parameters declared with a ``geometry`` take the run's value from ``geometry``
        (:class:`LinkGeometry`) unless ``params`` sets them.
        """
        model = self.build(radio, **self.parameter_values(params, geometry))
        if not isinstance(model, PathLossModel):
            raise TypeError(f"propagation model {self.name!r} built {type(model).__name__}, "
                            "not a PathLossModel")
        return model

    def parameter_values(self, params=None, geometry=None):
        """Every parameter's value: ``params`` validated, defaults filled in, and the
        parameters bound to a geometry quantity that ``params`` leaves out taken from
        ``geometry`` (:class:`LinkGeometry`; one set explicitly wins, with a warning when it
        disagrees). What :meth:`path_loss_model` builds with, and what a plan records."""
        given = dict(params or {})
        values = resolve_params(self, params)
        for p in self.parameters if geometry is not None else ():
            if p.geometry is None:
                continue
            run = geometry.value(p.geometry, self.name, warn=p.name not in given)
            if run is None:
                continue
            if p.name in given:
                if not math.isclose(values[p.name], run, rel_tol=1e-9, abs_tol=1e-6):
                    warnings.warn(
                        f"{self.name}.{p.name} = {values[p.name]:g} {p.unit} is set, but the "
                        f"run's {p.geometry} is {run:g}: the path-loss formula uses the "
                        "parameter, the distances and angles the run's value", IlacWarning,
                        stacklevel=3)
                continue
            try:
                values[p.name] = p.validate(run, self.name)
            except ParameterError as exc:
                raise ParameterError(f"{exc} (the run's {p.geometry}; set "
                                     f"{self.name}.{p.name} to use another value in the "
                                     "formula)") from None
        return values


class FreeSpace(PropagationModel):
    """Free-space path loss, the paper's model (Sec. IV-A)."""

    name = "free_space"
    description = "Free-space path loss 20 log10(4 pi d / lambda) (Friis)"
    parameters = (Parameter("min_distance_m", 1.0, unit="m", low=1e-3, high=1e3,
                            description="distances below are evaluated at it"),)

    def build(self, radio, *, min_distance_m):
        return free_space(radio.carrier_hz, min_distance_m)


def validate_model(model):
    """Check a model before registration; return its name."""
    if not isinstance(model, PropagationModel):
        raise TypeError(f"expected a PropagationModel instance, got {type(model).__name__}")
    check_name(model.name, "propagation model")
    for p in model.parameters:
        if getattr(p, "geometry", None) not in (None,) + GEOMETRY:
            raise ValueError(f"propagation model {model.name!r}: parameter {p.name!r} has "
                             f"geometry {p.geometry!r} (allowed: {', '.join(GEOMETRY)})")
    return model.name
