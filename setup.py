"""Build script for the Cython kernel ``ilac_plan._core``.

OpenMP is used when the C compiler can compile *and link* a small OpenMP
program; otherwise the kernel is built serially and the build log says so.
The environment variable ``ILAC_PLAN_OPENMP`` forces the choice:
``1`` always builds with OpenMP (and fails loudly if the compiler cannot),
``0`` always builds serially, unset or ``auto`` probes.
"""

import os
import shutil
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_ENV = "ILAC_PLAN_OPENMP"
OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return omp_get_max_threads() > 0 && n > 0 ? 0 : 1;
    }
    """
)
KERNEL_MODULES = ("_kernels", "_openmp", "_coverage")


def openmp_flags(compiler_type):
    """Return the (compile, link) flags that enable OpenMP for a compiler family."""
    if compiler_type == "msvc":
        return ["/openmp"], []
    if sys.platform == "darwin":
        return ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
    return ["-fopenmp"], ["-fopenmp"]


def probe_openmp(compiler, compile_flags, link_flags):
    """Compile and link a tiny OpenMP program; return True when both succeed."""
    tmp = tempfile.mkdtemp(prefix="ilac_omp_probe_")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(OPENMP_PROBE)
        objects = compiler.compile([src], output_dir=tmp, extra_postargs=compile_flags)
        compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=link_flags)
        return True
    except Exception:  # noqa: BLE001 - any compiler/linker failure means "no OpenMP"
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def optimisation_flags(compiler_type):
    """Flags for the kernel: fast, but IEEE-correct (inf and nan stay valid).

    ``-fno-math-errno`` and ``-fno-trapping-math`` change no result: they let the
    compiler vectorize selects and library calls (no errno, no FP traps assumed).
    ``-ffast-math`` is not used: it would break inf and nan handling.
    """
    if compiler_type == "msvc":
        return ["/O2"]
    return ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wno-unreachable-code"]


class BuildExtOpenMP(build_ext):
    """``build_ext`` that decides OpenMP once per build and tells the log."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        choice = os.environ.get(OPENMP_ENV, "auto").strip().lower()
        if choice not in {"0", "1", "auto", ""}:
            raise SystemExit(f"{OPENMP_ENV} must be 0, 1 or auto; got {choice!r}")
        cflags, lflags = openmp_flags(ctype)
        if choice == "0":
            use_openmp = False
            print(f"ilac_plan build: OpenMP disabled by {OPENMP_ENV}=0; building a serial kernel")
        elif choice == "1":
            use_openmp = True
            print(f"ilac_plan build: OpenMP forced by {OPENMP_ENV}=1")
        else:
            use_openmp = probe_openmp(self.compiler, cflags, lflags)
            if use_openmp:
                print("ilac_plan build: OpenMP found; building a multi-threaded kernel")
            else:
                print(
                    "ilac_plan build: WARNING: the C compiler cannot build OpenMP code; "
                    "building a serial kernel (n_threads is ignored). "
                    f"Install an OpenMP runtime (e.g. libgomp/libomp) or set {OPENMP_ENV}=0 "
                    "to silence this message."
                )
        # Without OpenMP, still honour "#pragma omp simd" (GCC and Clang).
        simd_only = [] if use_openmp or ctype == "msvc" else ["-fopenmp-simd"]
        for ext in self.extensions:
            ext.extra_compile_args = optimisation_flags(ctype) + (cflags if use_openmp else simd_only)
            ext.extra_link_args = lflags if use_openmp else []
        super().build_extensions()


def kernel_extensions():
    """The Cython extensions of ``ilac_plan._core`` (one per ``.pyx`` module)."""
    return [
        Extension(
            f"ilac_plan._core.{name}",
            [f"ilac_plan/_core/{name}.pyx"],
            include_dirs=[np.get_include(), "ilac_plan/_core"],
            depends=["ilac_plan/_core/ilac_serving.h", "ilac_plan/_core/ilac_kernel.h",
                     "ilac_plan/_core/_model.pxd", "ilac_plan/_core/_coverage.pxd"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for name in KERNEL_MODULES
    ]


setup(
    ext_modules=cythonize(
        kernel_extensions(),
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_ext": BuildExtOpenMP},
)
