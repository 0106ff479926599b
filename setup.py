"""Build the Cython im2col kernels of each course package (reference/ and assignment/).

Everything else about the distribution lives in pyproject.toml; this file exists only because
setuptools needs code to declare compiled extensions that depend on numpy's headers.
"""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

PACKAGES = ("reference", "assignment")


def _extensions() -> list[Extension]:
    exts = []
    for package in PACKAGES:
        source = Path(package) / "im2col_cython.pyx"
        if source.exists():
            exts.append(
                Extension(
                    f"{package}.im2col_cython",
                    [str(source)],
                    include_dirs=[np.get_include()],
                    extra_compile_args=["-O3"],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                )
            )
    return cythonize(exts, language_level=3, quiet=True)


setup(ext_modules=_extensions())
