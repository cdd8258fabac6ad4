"""The compiled kernel of ilac_plan (Cython, optionally OpenMP).

Only :mod:`ilac_plan.kernel` calls these functions; it validates inputs, makes them
contiguous float64 and allocates the outputs. The kernel imports nothing from the
rest of the package.
"""

from ._kernels import (
    best_pilot_efficiency_kernel,
    crb_position_kernel,
    pilot_efficiency_table_kernel,
)
from ._openmp import max_threads, openmp_enabled

__all__ = [
    "best_pilot_efficiency_kernel",
    "crb_position_kernel",
    "max_threads",
    "openmp_enabled",
    "pilot_efficiency_table_kernel",
]
