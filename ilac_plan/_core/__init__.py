"""The compiled kernel of ilac_plan (Cython, optionally OpenMP).

Only :mod:`ilac_plan.kernel` calls these functions; it validates inputs, makes them
contiguous float64 and allocates the outputs. The kernel imports nothing from the
rest of the package.
"""

try:
    from ._kernels import (
        best_pilot_efficiency_kernel,
        crb_position_kernel,
        pilot_efficiency_table_kernel,
    )
    from ._openmp import max_threads, openmp_enabled
except ImportError as exc:     # a source tree without its compiled modules shadows the install
    import os as _os

    _here = _os.path.dirname(_os.path.abspath(__file__))
    raise ImportError(
        f"ilac_plan's compiled kernel is missing in {_here} ({exc}). This is a source tree "
        "without its built extensions, probably shadowing the installed package: run from "
        "another folder, or build in place with `pip install -e .` (or `python setup.py "
        "build_ext --inplace`)") from None

__all__ = [
    "best_pilot_efficiency_kernel",
    "crb_position_kernel",
    "max_threads",
    "openmp_enabled",
    "pilot_efficiency_table_kernel",
]
