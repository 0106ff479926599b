"""``nngrade gradescope OUT.zip``: a Gradescope autograder bundle of this course.

Gradescope unpacks the bundle into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then for each submission runs ``/autograder/run_autograder``, which must leave
``/autograder/results/results.json``. The bundle holds::

    setup.sh          installs Python, a compiler and nngrade (editable, so the fixtures and
                      check files are used from the bundled tree) into /autograder/venv
    run_autograder    grades /autograder/submission with `python -m grader grade`; when the
                      grader could not grade at all it still writes a results.json saying why
    nngrade/          the course's nngrade source: grader/ (checks, fixtures, sandbox),
                      reference/, assignment/, notebooks/, pyproject.toml, setup.py, and the
                      course's held-out secret at grader/course/heldout.secret (made first
                      when the course has none yet), so Gradescope grades with the same one

``run_autograder`` honours ``AUTOGRADER_ROOT`` (default /autograder) and ``NNGRADE_PYTHON``
so the bundle can be exercised in a simulated tree; Gradescope sets neither.
"""

from __future__ import annotations

import argparse
import os
import shlex
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader import paths, secret
from grader.selection import add_selection_options, selection_args

#: What of the project goes into the bundle: the installable course, nothing of its own tests.
BUNDLED_PATHS = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "grader",
    "reference",
    "assignment",
    "notebooks",
)
#: Never bundled: caches and build products (setup.sh builds the extension on the image).
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", "build"}
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".so", ".c", ".o"}
#: Where the bundled grader finds the secret (its default place); written from the course's.
SECRET_NAME = f"nngrade/{secret.RELATIVE_PATH}"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip
# Editable: the grader reads its fixtures and check files from the bundled tree.
"$ROOT/venv/bin/python" -m pip install -e "$SOURCE/nngrade"
"$ROOT/venv/bin/python" -m grader --version
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission: grade /autograder/submission into
# /autograder/results/results.json. It always leaves a results.json, even when grading failed.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source/nngrade"
PYTHON="${NNGRADE_PYTHON:-$ROOT/venv/bin/python}"
if [ ! -x "$PYTHON" ]; then PYTHON="$(command -v python3)"; fi
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
# The bundled grader and reference come first, whatever else is installed.
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"
cd "$SOURCE" || exit 1
"$PYTHON" -c 'import grader; print("nngrade", grader.__version__, "from", grader.__file__)'
"$PYTHON" -m grader grade "$ROOT/submission" --out "$RESULTS" @@GRADE_ARGS@@ 2>&1 \
  | tee "$RESULTS/grade.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ] || [ ! -s "$RESULTS/results.json" ]; then
  NNGRADE_STATUS="$status" "$PYTHON" - "$RESULTS" <<'PY'
import json, os, pathlib, sys

results = pathlib.Path(sys.argv[1])
log = (results / "grade.log").read_text(errors="replace").strip().splitlines()
reason = next((ln for ln in reversed(log) if ln.startswith("nngrade:")), log[-1] if log else "")
message = (
    "Your submission could not be graded"
    + (f": {reason.removeprefix('nngrade:').strip()}" if reason else "")
    + f" (grader exit status {os.environ['NNGRADE_STATUS']}). Check that it holds your "
    "assignment/ (or cs231n/) folder, then resubmit or contact the course staff."
)
data = {"score": 0.0, "output": message, "tests": []}
(results / "results.json").write_text(json.dumps(data, indent=2) + "\n")
PY
fi
exit 0
"""


def _grade_args(only: Sequence[str], examples: int | None) -> str:
    return " ".join(shlex.quote(a) for a in selection_args(only, examples))


def run_autograder_script(only: Sequence[str] = (), examples: int | None = None) -> str:
    return RUN_AUTOGRADER.replace("@@GRADE_ARGS@@", _grade_args(only, examples)).replace(
        " \n", "\n"
    )


def project_root() -> Path:
    return paths.reference_dir().parent


def bundled_files(root: Path) -> Iterable[tuple[Path, str]]:
    """(file, name in the bundle) for every file of the course that goes in."""
    for top in BUNDLED_PATHS:
        path = root / top
        if path.is_file():
            yield path, f"nngrade/{top}"
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(root)
                if (
                    file.is_file()
                    and not file.is_symlink()
                    and not SKIPPED_DIRS.intersection(rel.parts)
                    and file.suffix not in SKIPPED_SUFFIXES
                    and not file.name.startswith(".")
                    and f"nngrade/{rel.as_posix()}" != SECRET_NAME
                ):
                    yield file, f"nngrade/{rel.as_posix()}"


def add_file(archive: zipfile.ZipFile, name: str, data: str | bytes, executable: bool) -> None:
    """Add one member with fixed time stamps, so the same course gives the same bundle."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_bundle(
    target: Path,
    only: Sequence[str] = (),
    examples: int | None = None,
    root: Path | None = None,
) -> Path:
    """Write the autograder zip to ``target``; ``only``/``examples`` are baked into the grading
    command (an instructor may grade only part of the assignment on Gradescope). The course's
    held-out secret goes in (created first if missing), so keep the bundle as private as the
    grader itself."""
    root = Path(root) if root is not None else project_root()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    held_out = secret.read_secret()
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        add_file(archive, "setup.sh", SETUP_SH, executable=True)
        add_file(archive, "run_autograder", run_autograder_script(only, examples), True)
        for file, name in bundled_files(root):
            add_file(archive, name, file.read_bytes(), os.access(file, os.X_OK))
        add_file(archive, SECRET_NAME, held_out + "\n", executable=False)
    partial.replace(target)
    return target


def _cmd(args: argparse.Namespace) -> int:
    path = build_bundle(Path(args.out), tuple(args.only or ()), args.examples)
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"wrote the Gradescope autograder bundle {path} ({count} files)")
    print("upload it under Configure Autograder > Zip file upload; the image builds with setup.sh")
    print(f"it carries the held-out secret of {secret.secret_path()}: never hand the bundle out")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``gradescope`` to the ``nngrade`` sub-commands."""
    p = subparsers.add_parser(
        "gradescope",
        help="build a Gradescope autograder bundle (.zip)",
        description="Write OUT.zip for Gradescope's 'Zip file upload': setup.sh, run_autograder "
        "and the course's grader and reference. Each submission is graded with `nngrade grade`.",
    )
    p.add_argument("out", help="the .zip to write")
    add_selection_options(p, passed_on=True)
    p.set_defaults(func=_cmd)
    return p
