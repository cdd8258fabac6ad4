"""ilac_plan: planning engine for integrated localization and communication (ILAC).

The analytical model of Gao et al., "On the performance of an integrated
communication and localization system: an analytical framework", IEEE TVT 2024
(doi:10.1109/TVT.2024.3364257), with the typos of its printed theorems corrected (docs/model.md), evaluated by a
multi-threaded Cython kernel.

Submodules
----------
model
    The paper's equations as vectorized numpy functions (the readable reference).
kernel
    The same quantities on the compiled kernel, with threads.
tradeoff
    Capacity against position CRB for whole-symbol and whole-block splits.
"""

from importlib.metadata import PackageNotFoundError, version

from .area import read_area
from .compare import compare_plans
from .coverage import evaluate
from .layouts import hexagonal_layout, poisson_layout
from .planner import PlanResult, plan
from .sites import read_sites
from .errors import ParameterError
from .radio import RadioParams
from .report import write_report
from .tradeoff import tradeoff_curves

try:
    __version__ = version("ilac-plan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"



def calibrate(scenario="UMa", carrier_ghz=6, **kwargs):
    """The TR 38.901 large-scale calibration (``ilac-plan calibrate``): see
    :func:`ilac_plan_3gpp.calibration.calibrate` (needs the ilac-plan-3gpp plugin).

    Returns
    -------
    ilac_plan_3gpp.calibration.CalibrationResult
        ``.table()`` the percentiles, ``.comparison()`` beside the 3GPP reference.
    """
    try:
        from ilac_plan_3gpp.calibration import calibrate as run
    except ImportError:
        raise ImportError("ilac_plan.calibrate needs the ilac-plan-3gpp plugin "
                          "(pip install ./plugins/ilac-plan-3gpp)") from None
    return run(scenario, carrier_ghz, **kwargs)


__all__ = ["ParameterError", "PlanResult", "RadioParams", "__version__", "calibrate",
           "compare_plans", "evaluate", "hexagonal_layout", "plan", "poisson_layout",
           "read_area", "read_sites", "tradeoff_curves", "write_report"]
