"""ilac_plan: planning engine for integrated localization and communication (ILAC).

The analytical model of Gao et al., "On the performance of an integrated
communication and localization system: an analytical framework", IEEE TVT 2024
(doi:10.1109/TVT.2024.3364257), with the corrections of its errata, evaluated by a
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

from .coverage import evaluate
from .errors import ParameterError
from .radio import RadioParams
from .tradeoff import tradeoff_curves

try:
    __version__ = version("ilac-plan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["ParameterError", "RadioParams", "__version__", "evaluate", "tradeoff_curves"]
