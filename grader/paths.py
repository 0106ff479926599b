"""Where the course's packages live, found through the installed distribution.

The reference sits beside the generated student package (both are top-level packages of the
nngrade distribution), so ``assignment/`` is always written next to ``reference/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def reference_dir() -> Path:
    """Directory of the hidden reference package."""
    spec = importlib.util.find_spec("reference")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'reference' package is not installed; run `pip install -e .`")
    return Path(next(iter(spec.submodule_search_locations)))


def assignment_dir() -> Path:
    """Directory of the student package generated from the reference."""
    return reference_dir().parent / "assignment"
