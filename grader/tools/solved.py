"""A complete submission made from the reference, in the layout students hand in."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import paths
from grader.tools import stubs


def write_solved(target: Path, package_name: str = "assignment") -> Path:
    """Copy the reference's source files into ``target/package_name`` (and the notebooks)."""
    reference = paths.reference_dir()
    package = target / package_name
    if package.exists():
        shutil.rmtree(package)
    for path in stubs.source_files(reference):
        destination = package / path.relative_to(reference)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    notebooks = reference.parent / "notebooks"
    for notebook in sorted(notebooks.glob("*.ipynb")) if notebooks.is_dir() else []:
        shutil.copyfile(notebook, target / notebook.name)
    return target
