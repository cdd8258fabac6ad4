"""Registered propagation models: a name, parameters and a factory of path-loss models.

A :class:`PropagationModel` turns the radio parameters and its own parameters into a
:class:`ilac_plan.model.PathLossModel` (log-distance terms the kernel evaluates natively).
The built-in ``free_space`` model and plugins' models are registered through the
``ilac_register_propagation_models`` hook.
"""

from .model.propagation import PathLossModel, free_space
from .schemes import Parameter, check_name, resolve_params


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

    def path_loss_model(self, radio, params=None):
        """Validate ``params`` and build the model (what the planner calls)."""
        model = self.build(radio, **resolve_params(self, params))
        if not isinstance(model, PathLossModel):
            raise TypeError(f"propagation model {self.name!r} built {type(model).__name__}, "
                            "not a PathLossModel")
        return model


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
    return model.name
