"""``nngrade release DIR``: the student bundle, and the proof that no solution is in it.

The bundle is what a course puts in each student's repository::

    README.md                      how to set up, work, check and submit
    requirements.txt, .gitignore
    assignment/                    generated from reference/ with the solutions cut out
    assignment/datasets/get_datasets.sh
    *.ipynb                        the notebooks, beside the package as submissions expect
    grader/                        the public part of the grader: `python -m grader check`
    .github/workflows/autograde.yml

The grader goes in as an explicit list (:data:`SHIPPED`): what ``python -m grader check`` and the
autograde workflow's ``python -m grader.tools.ci`` import, the public checks and their golden
fixtures, and nothing else; everything not listed (hidden checks, training, notebook grading,
batch, Gradescope, calibration, the demo, this module) stays with the course staff. The release's
``grader/edition.py`` says it is the student edition, so its CLI lists only ``check``.

Before anything is put in place, :func:`find_leaks` scans every file of the bundle (decoded as
text; JSON files and notebooks string by string) for

- a line of a solution block in reference/ (or a line marked ``# SOLUTION``) that the student
  package does not legitimately contain anyway, found however it is written: re-indented, inside
  a string or comment, with the other kind of quotes, split over lines by brackets, a backslash
  or string concatenation (:mod:`grader.tools.leaks` reduces both sides to one form), and
- a line that belongs to a hidden check file and to no shipped file of the grader's public side;

one hit stops the command with the file and line, and nothing is written. Staff modules that must
hold solution lines (the demo's edits) are exactly what :func:`staff_leaks` reports; none of them
may be in :data:`SHIPPED`, which the test suite checks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader import paths
from grader.tools import stubs
from grader.tools.leaks import hidden_lines, scan_files, secret_solution_lines, text_lines

GRADER_DIR = Path(__file__).resolve().parent.parent
HIDDEN_CHECKS = GRADER_DIR / "checks" / "hidden"
TEMPLATES = GRADER_DIR / "templates"

#: The grader's student side, listed file by file (paths relative to grader/; a folder ending in
#: ``/`` ships its data files): ``python -m grader check`` (cli, grade, the check engine and the
#: public checks, the course's rubric, scenarios and golden fixtures, the sandbox, the reports)
#: and ``python -m grader.tools.ci`` (the autograde workflow). Whatever is not named here stays
#: with the course staff; the test suite imports every listed module inside a built release.
SHIPPED = (
    "__init__.py",
    "__main__.py",
    "cli.py",
    "grade.py",
    "paths.py",
    "selection.py",
    "spec.py",
    "checks/__init__.py",
    "checks/assertions.py",
    "checks/blocks.py",
    "checks/compare.py",
    "checks/impl.py",
    "checks/plugin.py",
    "checks/pytest.ini",
    "checks/scenario.py",
    "checks/public/__init__.py",
    "checks/public/check_expected.py",
    "checks/public/check_gradients.py",
    "checks/public/check_models.py",
    "course/__init__.py",
    "course/notebooks.py",
    "course/rubric.py",
    "course/scenarios/__init__.py",
    "course/scenarios/layer_utils.py",
    "course/scenarios/layers.py",
    "course/scenarios/models.py",
    "course/scenarios/optim.py",
    "course/fixtures/",
    "reports/__init__.py",
    "reports/files.py",
    "reports/gradescope.py",
    "reports/junit.py",
    "reports/markdown.py",
    "reports/results.py",
    "reports/terminal.py",
    "sandbox/__init__.py",
    "sandbox/_launcher.py",
    "sandbox/errors.py",
    "sandbox/launch.py",
    "sandbox/protocol.py",
    "sandbox/sandbox.py",
    "sandbox/settings.py",
    "sandbox/submission.py",
    "sandbox/worker.py",
    "tools/__init__.py",
    "tools/ci.py",
    "tools/fixtures.py",
)
#: Data files a shipped folder may hold (anything else in it, caches included, stays out).
SHIPPED_DATA_SUFFIXES = (".npz",)

#: The release's ``grader/edition.py`` (the course's own says ``STUDENT = False``).
STUDENT_EDITION = '''"""The student release of the grader: it runs `python -m grader check`."""

STUDENT = True
'''

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
you can start straight away and download the real data later. The fast convolution layers
(`assignment/fast_layers.py`) warn once that their Cython kernels are not built and use numpy
instead: the same results, only slower. Building them is optional; the warning says how.

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


def grader_files(grader_dir: Path = GRADER_DIR) -> Iterator[tuple[Path, str]]:
    """(file, path relative to grader/) for each file of :data:`SHIPPED`; a listed file that
    is missing raises, so the list cannot silently go stale."""
    for entry in SHIPPED:
        path = grader_dir / entry
        if entry.endswith("/"):
            files = sorted(p for p in path.iterdir() if p.suffix in SHIPPED_DATA_SUFFIXES)
        elif path.is_file():
            files = [path]
        else:
            raise FileNotFoundError(f"grader/{entry} is listed in SHIPPED but does not exist")
        for file in files:
            if file.is_file() and not file.is_symlink():
                yield file, file.relative_to(grader_dir).as_posix()


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
    put("grader/edition.py", STUDENT_EDITION)
    put(".github/workflows/autograde.yml", (TEMPLATES / "autograde.yml").read_text())
    return written


def find_leaks(bundle: Path, root: Path | None = None) -> list[str]:
    """Every place in ``bundle`` that holds a solution line or a hidden check's line, as
    ``bundle-file:line: text (from source:line)``; empty when the bundle is clean."""
    root = Path(root) if root is not None else project_root()
    files = [(p, p.relative_to(bundle).as_posix()) for p in sorted(bundle.rglob("*"))]
    files = [(p, rel) for p, rel in files if p.is_file()]
    leaks = [
        f"{rel}: a file of the hidden side"
        for _, rel in files
        if rel.startswith("reference/") or "/checks/hidden/check_" in f"/{rel}"
    ]
    leaks += scan_files(files, secret_solution_lines(root / "reference"))
    public_grader = [f for f, _ in grader_files(root / "grader")]
    hidden = hidden_lines(root / "grader" / "checks" / "hidden", public_grader)
    for file, rel in files:
        for number, line in text_lines(file):
            if line in hidden:
                leaks.append(f"{rel}:{number}: {line}  (from {hidden[line]})")
    return leaks


def staff_leaks(root: Path | None = None) -> list[str]:
    """The places in the course's own grader/ that hold a solution line (the demo's edits, say):
    each such file must stay out of :data:`SHIPPED`."""
    root = Path(root) if root is not None else project_root()
    grader = root / "grader"
    files = [
        (p, p.relative_to(root).as_posix())
        for p in sorted(grader.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".so")
    ]
    return scan_files(files, secret_solution_lines(root / "reference"))


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
    if args.check:
        leaks = find_leaks(Path(args.dir))
        for leak in leaks:
            print(leak)
        print(f"{len(leaks)} leak(s) in {args.dir}", file=sys.stderr if leaks else sys.stdout)
        return 1 if leaks else 0
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
        "writing nothing, if any solution or hidden-check line would be in it. With --check, "
        "only scan an existing DIR (a student template repository, say) and list its leaks.",
    )
    p.add_argument("dir", help="folder to write (absent or empty), or to scan with --check")
    p.add_argument(
        "--force", action="store_true", help="replace DIR's contents (a .git folder is kept)"
    )
    p.add_argument(
        "--check", action="store_true", help="scan DIR for leaks, write nothing; exit 1 on any"
    )
    p.set_defaults(func=_cmd)
    return p
