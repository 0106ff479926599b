"""Golden fixtures: the reference's outputs on each scenario's classic inputs, stored as .npz.

The public checks compare a student's outputs with these files, so they can run where the
reference is absent (a student's machine). ``nngrade fixtures`` regenerates them; the test suite
fails when a stored file no longer matches what the reference produces. Only the scenarios a
public check reads get a file: the files ship to students, and a stored output of an input that
a hidden check also uses (an edge input, a model variant) could be played back there.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from grader import edition
from grader.checks import scenario as scenarios
from grader.checks.impl import ReferenceImpl
from grader.course import rubric

FIXTURE_DIR = Path(__file__).parent.parent / "course" / "fixtures"


def fixture_path(key: str, directory: Path = FIXTURE_DIR) -> Path:
    return directory / (re.sub(r"[^A-Za-z0-9_.]+", "-", key) + ".npz")


def reference_outputs(key: str) -> dict[str, np.ndarray]:
    """Run one scenario's classic case with the reference, as arrays."""
    scenarios.load_all()
    case = scenarios.REGISTRY[key]
    return {
        name: np.asarray(value) for name, value in case.run(ReferenceImpl(), case.classic).items()
    }


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def public_keys() -> list[str]:
    """The scenarios whose golden outputs a public check reads (an "expected values" item)."""
    scenarios.load_all()
    return [key for key in scenarios.REGISTRY if f"{key} {rubric.EXPECTED}" in rubric.BY_NAME]


def write_fixtures(directory: Path = FIXTURE_DIR) -> list[Path]:
    """Regenerate every golden file; returns the paths written. Old, unused files are removed."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for key in public_keys():
        path = fixture_path(key, directory)
        path.write_bytes(_npz_bytes(reference_outputs(key)))
        written.append(path)
    for old in directory.glob("*.npz"):
        if old not in written:
            old.unlink()
    return written


def load_fixture(key: str, directory: Path = FIXTURE_DIR) -> dict[str, np.ndarray]:
    path = fixture_path(key, directory)
    if not path.exists():
        # The student release has no `nngrade fixtures` to point to (grader/cli.py).
        fix = "" if edition.STUDENT else "; run `nngrade fixtures`"
        raise FileNotFoundError(f"no golden fixture for {key} in {directory}{fix}")
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def stale_fixtures(directory: Path = FIXTURE_DIR) -> list[str]:
    """Keys whose stored outputs differ from the reference's (to 1e-12), or are missing."""
    stale = []
    for key in public_keys():
        try:
            stored = load_fixture(key, directory)
        except FileNotFoundError:
            stale.append(key)
            continue
        fresh = reference_outputs(key)
        same = stored.keys() == fresh.keys() and all(
            stored[k].shape == fresh[k].shape
            and np.allclose(stored[k], fresh[k], rtol=1e-12, atol=1e-15)
            for k in fresh
        )
        if not same:
            stale.append(key)
    return stale
