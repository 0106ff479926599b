"""``nngrade release DIR``: the student bundle, and the proof that no solution is in it.

The bundle is what a course puts in each student's repository::

    README.md                      how to set up, work, check and submit
    requirements.txt, .gitignore
    assignment/                    generated from reference/ with the solutions cut out
    assignment/datasets/get_datasets.sh
    *.ipynb                        the notebooks, beside the package as submissions expect
    grader/                        the public part of the grader: `python -m grader check`
    .github/workflows/autograde.yml

The grader goes in without its hidden side (:data:`EXCLUDED`): the hidden checks, the training
tasks and the notebook grading (they hold the held-out data), calibration, and the command that
writes a solved submission. Before anything is put
in place, :func:`find_leaks` scans every text line of the bundle (notebook cells included) for

- a line of a solution block in reference/ (or a line marked ``# SOLUTION``) that the student
  package does not legitimately contain anyway, and
- a line that belongs to a hidden check file and to no shipped file of the grader's public side;

one hit stops the command with the file and line, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from grader import paths
from grader.tools import stubs

GRADER_DIR = Path(__file__).resolve().parent.parent
HIDDEN_CHECKS = GRADER_DIR / "checks" / "hidden"
TEMPLATES = GRADER_DIR / "templates"

#: Parts of grader/ that never reach students (paths relative to grader/): the hidden checks,
#: the training tasks and held-out data (training, notebook grading), their calibration, and
#: the command that copies the reference into a solved submission.
EXCLUDED = (
    "checks/hidden/",
    "checks/training.py",
    "course/training.py",
    "tools/calibration.py",
    "tools/solved.py",
    "course/heldout.secret",  # the held-out seed (grader/secret.py)
    # notebook grading: the held-out images, the isolated kernel, scoring and its calibration
    "notebooks/heldout.py",
    "notebooks/scoring.py",
    "notebooks/kernel.py",
    "notebooks/execution.py",
    "notebooks/feedback.py",
    "notebooks/grading.py",
    "notebooks/calibration.py",
)
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".so", ".c", ".o"}

HIDDEN_PLACEHOLDER = (
    '"""The course\'s hidden checks run only when the course staff grade; none ship here."""\n'
)

REQUIREMENTS = """\
# What the assignment, its notebooks and `python -m grader check` need.
numpy>=1.24
matplotlib>=3.7
pytest>=7.4
hypothesis>=6.80
nbformat>=5.7
"""

GITIGNORE = """\
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.venv/
.hypothesis/
.pytest_cache/
assignment/datasets/cifar-10-batches-py/
nngrade-public/
nngrade-full/
*.so
*.c
build/
"""

STUDENT_README = """\
# Assignment 2: fully connected nets, normalisation, dropout and convolutional nets

You will implement, in numpy, the layers of a neural network and their backward passes, batch
and layer normalisation, dropout, convolution and pooling, the update rules of SGD with momentum,
RMSProp and Adam, and the models that put them together, then train them.

## Set up

```bash
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt jupyterlab
bash assignment/datasets/get_datasets.sh   # optional: CIFAR-10, about 170 MB
jupyter lab
```

Without CIFAR-10 the code runs on a small synthetic image dataset built into the package, so
you can start straight away and download the real data later.

## What to do

Work through the notebooks in order: `FullyConnectedNets`, `BatchNormalization`, `Dropout`,
`ConvolutionalNetworks`. Each tells you which functions to write. Your code goes between the
`*****START OF YOUR CODE*****` and `*****END OF YOUR CODE*****` lines of

- `assignment/layers.py`, `assignment/layer_utils.py`, `assignment/optim.py`
- `assignment/classifiers/fc_net.py`, `assignment/classifiers/cnn.py`

Keep the function names, arguments and return values as they are. The other modules
(`solver.py`, `fast_layers.py`, `data_utils.py`, ...) are given: the grader uses its own copies
of them, so changes there do not count. Answer the inline questions in the notebook cells that
show **Your answer:** and keep their hidden first line, which is how the grader finds them.

## Check your work before you submit

```bash
python -m grader check                       # every public check
python -m grader check --only layers.affine  # only the checks of matching functions
```

The public checks compare your functions with stored expected outputs and check each backward
pass against the numeric gradient of your own forward pass. They run your code in a sandbox and
tell you, for each failing check, what disagreed. The final grade adds checks you cannot run
here (comparison with the course's solution on random inputs, training to an accuracy target)
and the notebooks, so passing every public check is necessary, not sufficient.

## On every push

`.github/workflows/autograde.yml` runs the public checks on GitHub: the run's summary page
shows your report, each failing function is marked in your files, and `results.json` is
attached to the run. Where the course has set it up, a second job runs the full grading and
shows the checks you are allowed to see.

## Submitting

Submit this repository's `assignment/` folder together with the four notebooks, run from top to
bottom, as your course tells you (a zip of this folder works).
"""


def project_root() -> Path:
    return paths.reference_dir().parent


def _shipped(rel: str) -> bool:
    parts = rel.split("/")
    if SKIPPED_DIRS.intersection(parts) or Path(rel).suffix in SKIPPED_SUFFIXES:
        return False
    return not any(rel == e or (e.endswith("/") and rel.startswith(e)) for e in EXCLUDED)


def grader_files(grader_dir: Path = GRADER_DIR) -> Iterator[tuple[Path, str]]:
    """(file, path relative to grader/) for the grader's public side."""
    for file in sorted(grader_dir.rglob("*")):
        rel = file.relative_to(grader_dir).as_posix()
        if file.is_file() and not file.is_symlink() and _shipped(rel):
            yield file, rel


def _write(path: Path, data: str | bytes, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    path.chmod(0o755 if executable else 0o644)


def write_bundle(target: Path, root: Path | None = None) -> list[Path]:
    """Write the bundle's files into the (new or empty) folder ``target``; no leak check."""
    root = Path(root) if root is not None else project_root()
    reference = root / "reference"
    written = []

    def put(rel: str, data: str | bytes, executable: bool = False) -> None:
        _write(target / rel, data, executable)
        written.append(target / rel)

    put("README.md", STUDENT_README)
    put("requirements.txt", REQUIREMENTS)
    put(".gitignore", GITIGNORE)
    for rel, text in sorted(stubs.build_assignment(reference).items()):
        put(f"assignment/{rel}", text, executable=rel.endswith(".sh"))
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        put(notebook.name, notebook.read_bytes())
    for file, rel in grader_files(root / "grader"):
        put(f"grader/{rel}", file.read_bytes())
    put("grader/checks/hidden/__init__.py", HIDDEN_PLACEHOLDER)
    put(".github/workflows/autograde.yml", (TEMPLATES / "autograde.yml").read_text())
    return written


# ---------------------------------------------------------------------------------------------
# The leak check
# ---------------------------------------------------------------------------------------------

#: Lines too plain to identify anything (they occur in any Python file).
TRIVIAL = {"pass", "return", "else:", "try:", "finally:", "continue", "break", '"""', "'''"}


def _significant(line: str) -> bool:
    return line not in TRIVIAL and any(ch.isalnum() for ch in line)


def solution_lines(reference: Path) -> dict[str, str]:
    """Each stripped line of a solution block (or marked ``# SOLUTION``) -> where it is."""
    found: dict[str, str] = {}
    for path in stubs.source_files(reference):
        if path.suffix != ".py":
            continue
        inside = False
        rel = path.relative_to(reference.parent).as_posix()
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if line == stubs.BEGIN:
                inside = True
            elif line == stubs.END:
                inside = False
            elif inside and not line.startswith(stubs.STUB) and _significant(line):
                found.setdefault(line, f"{rel}:{number}")
            elif not inside and line.endswith(stubs.LINE_SUFFIX):
                found.setdefault(line, f"{rel}:{number}")
                code = line[: -len(stubs.LINE_SUFFIX)].strip()
                if _significant(code):
                    found.setdefault(code, f"{rel}:{number}")
    return found


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of a file as a person would read it; notebooks cell by
    cell (sources and text outputs), binary files not at all."""
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        number = 0
        for cell in nb.get("cells", []):
            texts = [cell.get("source", "")]
            for output in cell.get("outputs", []) or []:
                texts.append(output.get("text", ""))
                texts += [v for k, v in (output.get("data") or {}).items() if k.startswith("text")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else str(text)
                for line in text.splitlines():
                    number += 1
                    yield number, line.strip()
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for number, line in enumerate(text.splitlines(), 1):
        yield number, line.strip()


def _lines_of(files: Iterable[Path]) -> set[str]:
    return {line for f in files for _, line in text_lines(f)}


def hidden_lines(hidden_dir: Path, public_files: Iterable[Path]) -> dict[str, str]:
    """Each significant line of the hidden check files that no public grader file has."""
    public = _lines_of(public_files)
    found: dict[str, str] = {}
    for path in sorted(hidden_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        for number, line in text_lines(path):
            if _significant(line) and line not in public:
                found.setdefault(line, f"grader/checks/hidden/{path.name}:{number}")
    return found


def find_leaks(bundle: Path, root: Path | None = None) -> list[str]:
    """Every line of ``bundle`` that comes from a solution or a hidden check, as
    ``bundle-file:line: text (from source:line)``; empty when the bundle is clean."""
    root = Path(root) if root is not None else project_root()
    reference = root / "reference"
    public_package = {
        line.strip()
        for text in stubs.build_assignment(reference).values()
        for line in text.splitlines()
    }
    secrets = {k: v for k, v in solution_lines(reference).items() if k not in public_package}
    public_grader = [f for f, _ in grader_files(root / "grader")]
    secrets.update(hidden_lines(root / "grader" / "checks" / "hidden", public_grader))
    leaks = []
    for file in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = file.relative_to(bundle).as_posix()
        if rel.startswith("reference/") or "/checks/hidden/check_" in f"/{rel}":
            leaks.append(f"{rel}: a file of the hidden side")
        for number, line in text_lines(file):
            if line in secrets:
                leaks.append(f"{rel}:{number}: {line}  (from {secrets[line]})")
    return leaks


class LeakError(RuntimeError):
    """The bundle would carry solution or hidden-check lines; nothing was written."""


def build_release(target: Path, force: bool = False, root: Path | None = None) -> list[Path]:
    """Build the bundle in a scratch folder, refuse it if anything leaks, then move it in.

    ``target`` must be absent or empty unless ``force``; with ``force`` its contents are
    replaced, except a ``.git`` folder (a template repository being updated)."""
    target = Path(target)
    if target.exists() and any(p.name != ".git" for p in target.iterdir()) and not force:
        raise FileExistsError(f"{target} is not empty (use --force to replace its contents)")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".release.", dir=target.parent))
    try:
        write_bundle(scratch, root)
        leaks = find_leaks(scratch, root)
        if leaks:
            raise LeakError("the release would leak:\n" + "\n".join(leaks))
        target.mkdir(exist_ok=True)
        for entry in target.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for entry in scratch.iterdir():
            os.rename(entry, target / entry.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return sorted(p for p in target.rglob("*") if p.is_file() and ".git" not in p.parts)


def _cmd(args: argparse.Namespace) -> int:
    try:
        files = build_release(Path(args.dir), force=args.force)
    except (LeakError, FileExistsError, stubs.MarkerError) as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the student release to {args.dir} ({len(files)} files); no solution line in it")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``release`` to the ``nngrade`` sub-commands."""
    p = subparsers.add_parser(
        "release",
        help="write the student bundle (package without solutions, notebooks, public checks)",
        description="Write DIR for students: assignment/ with the solutions cut, the notebooks, "
        "the public checks, a README, the data script and the autograde workflow. Refuses, "
        "writing nothing, if any solution or hidden-check line would be in it.",
    )
    p.add_argument("dir", help="folder to write (absent or empty)")
    p.add_argument(
        "--force", action="store_true", help="replace DIR's contents (a .git folder is kept)"
    )
    p.set_defaults(func=_cmd)
    return p
