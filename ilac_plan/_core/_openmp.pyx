# cython: language_level=3
"""What the kernel was built with: OpenMP or serial."""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int ilac_openmp_enabled(void) { return 1; }
    static int ilac_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int ilac_openmp_enabled(void) { return 0; }
    static int ilac_max_threads(void) { return 1; }
    #endif
    """
    int ilac_openmp_enabled() nogil
    int ilac_max_threads() nogil


def openmp_enabled():
    """Return True when ``ilac_plan._core`` was compiled with OpenMP."""
    return bool(ilac_openmp_enabled())


def max_threads():
    """Threads an OpenMP region would use by default (1 for a serial build).

    Follows ``OMP_NUM_THREADS`` when it is set.
    """
    return ilac_max_threads()
