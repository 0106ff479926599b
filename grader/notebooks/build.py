"""The student notebooks: built from diff-friendly sources, executed, and their answers read back.

Each notebook is written as a jupytext "percent" script, ``notebooks/src/<Name>.py``, which
reviews and diffs like code. The ``notebooks/<Name>.ipynb`` files students open are generated
from those sources by :func:`build_notebooks` (no outputs, fixed metadata, so a rebuild of an
unchanged source is byte-identical) and :func:`stale_notebooks` lets CI fail when someone edits
one without the other (``nngrade notebooks --check``).

Inline questions are answered in markdown cells whose first line is a marker such as
``<!-- answer: fc-nets-q1 -->``. The grader finds answers by that marker alone, never by cell
position, id or metadata, because students reorder, delete, duplicate and retype cells.

The names of the variables a finished run leaves in the kernel, which the grader inspects, are
constants of the course (grader/course/notebooks.py), so the notebooks and the grader cannot
drift apart silently: the notebook tests assert that the reference run defines them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader import paths
from grader.course import COURSE

#: The line that opens an answer cell; ``answer_marker("dropout", 2)`` fills it in.
ANSWER_MARKER = "<!-- answer: {slug}-q{number} -->"
#: Finds an answer marker on a line of its own. Lenient about spacing and case, since students
#: (and editors) retype it; the id is always returned in lower case.
ANSWER_MARKER_RE = re.compile(
    r"^[ \t]*<!--[ \t]*answer[ \t]*:[ \t]*(?P<id>[a-z0-9][a-z0-9_-]*-q\d+)[ \t]*-->[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
#: The label an answer cell starts with; stripped from extracted answers.
ANSWER_LABEL = "**Your answer:**"
#: What an untouched answer cell holds after its label; extracted as an empty answer.
ANSWER_PLACEHOLDER = "*fill this in*"

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
JUPYTEXT_FORMAT = "py:percent"

#: Seconds one cell may run before execution is abandoned (the longest cells train models).
DEFAULT_CELL_TIMEOUT = 300
#: Environment of the kernels that execute notebooks: no display, and one BLAS thread, since a
#: CI machine's few cores are shared and oversubscribed BLAS threads slow numpy down many times.
KERNEL_ENV = {
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


# ---------------------------------------------------------------------------------------------
# Where things are
# ---------------------------------------------------------------------------------------------


def notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder, beside ``reference/``."""
    return paths.reference_dir().parent / "notebooks"


def sources_dir() -> Path:
    return notebooks_dir() / "src"


def source_path(name: str) -> Path:
    return sources_dir() / f"{name}.py"


def notebook_path(name: str) -> Path:
    return notebooks_dir() / f"{name}.ipynb"


def answer_marker(slug: str, number: int) -> str:
    return ANSWER_MARKER.format(slug=slug, number=number)


# ---------------------------------------------------------------------------------------------
# Building the .ipynb files
# ---------------------------------------------------------------------------------------------


def _cell_ids(cells: list) -> list[str]:
    """Ids from each cell's content, so editing one cell leaves the others' ids unchanged."""
    seen: dict[str, int] = {}
    ids = []
    for cell in cells:
        base = hashlib.sha1(f"{cell.cell_type}\0{cell.source}".encode()).hexdigest()[:12]
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.append(base if count == 0 else f"{base}-{count}")
    return ids


def notebook_from_source(text: str) -> nbformat.NotebookNode:
    """The notebook a percent-format source describes, with outputs and metadata normalised."""
    import jupytext

    nb = jupytext.reads(text, fmt=JUPYTEXT_FORMAT)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for cell, cell_id in zip(nb.cells, _cell_ids(nb.cells), strict=True):
        cell.id = cell_id
        metadata = {k: v for k, v in cell.metadata.items() if k != "jupytext"}
        if ANSWER_MARKER_RE.search(cell.source):
            # Jupyter refuses to delete a cell marked so; the grader does not depend on it.
            metadata["deletable"] = False
        cell.metadata = nbformat.from_dict(metadata)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    return nb


def build_notebook(name: str) -> nbformat.NotebookNode:
    return notebook_from_source(source_path(name).read_text(encoding="utf-8"))


def render(nb: nbformat.NotebookNode) -> str:
    """The file text of a notebook: nbformat's JSON, with a final newline."""
    return nbformat.writes(nb, version=4) + "\n"


def source_names() -> list[str]:
    """Names of the notebooks that have a source, sorted."""
    folder = sources_dir()
    return sorted(p.stem for p in folder.glob("*.py")) if folder.is_dir() else []


def build_notebooks(names: Iterable[str] | None = None) -> list[Path]:
    """Write ``notebooks/<Name>.ipynb`` from each source; returns the files that changed."""
    written = []
    for name in source_names() if names is None else names:
        text = render(build_notebook(name))
        target = notebook_path(name)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def stale_notebooks() -> list[Path]:
    """``.ipynb`` files that differ from what their source builds, are missing, or lack one."""
    stale = []
    sources = source_names()
    for name in sources:
        target = notebook_path(name)
        if not target.is_file() or target.read_text(encoding="utf-8") != render(
            build_notebook(name)
        ):
            stale.append(target)
    stale += [p for p in sorted(notebooks_dir().glob("*.ipynb")) if p.stem not in sources]
    return stale


def main(check: bool = False) -> int:
    """``nngrade notebooks [--check]``: build the notebooks, or report the stale ones."""
    if check:
        stale = stale_notebooks()
        for path in stale:
            reason = "no source" if not source_path(path.stem).is_file() else "out of date"
            print(f"stale: {path} ({reason})")
        if stale:
            print("notebooks/ is out of date with notebooks/src/: run `nngrade notebooks`")
            return 1
        print("notebooks/ is up to date")
        return 0
    written = build_notebooks()
    print(f"wrote {len(written)} notebook(s) to {notebooks_dir()}")
    return 0


# ---------------------------------------------------------------------------------------------
# Executing notebooks
# ---------------------------------------------------------------------------------------------


@dataclass
class NotebookRun:
    """One execution: the executed notebook, its wall time, and the first cell error if any."""

    name: str
    notebook: nbformat.NotebookNode
    seconds: float
    error: str | None = None


def kernel_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KERNEL_ENV)
    env.update(extra or {})
    return env


def execute_notebook(
    path: Path,
    cwd: Path | None = None,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    env: Mapping[str, str] | None = None,
    allow_errors: bool = False,
    kernel_name: str = KERNEL_NAME,
    extra_cells: Sequence[str] = (),
) -> tuple[nbformat.NotebookNode, float]:
    """Execute the notebook at ``path`` top to bottom; return it with its outputs and wall time.

    The kernel's working directory is ``cwd`` (default: the notebook's folder), where the
    notebook looks for the package; ``env`` adds to :data:`KERNEL_ENV`. ``extra_cells`` are code
    cells appended before running, to inspect the kernel's state at the end (their outputs are
    the last cells' outputs). Raises nbclient's CellExecutionError on the first failing cell
    unless ``allow_errors``.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    start = time.perf_counter()
    client.execute(env=kernel_env(env))
    return nb, time.perf_counter() - start


def first_error(nb: Mapping) -> str | None:
    """'<ename>: <evalue>' of the first error output in an executed notebook, or None."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def copy_extensions(source: Path, package: Path) -> list[Path]:
    """Copy the built Cython extension(s) of ``source`` into ``package``, where they import.

    An extension module's init function depends only on its file name, so the reference's build
    loads as ``assignment.im2col_cython`` too; without it the fast layers fall back to numpy.
    """
    copied = []
    for ext in sorted([*source.glob("*.so"), *source.glob("*.pyd")]):
        target = package / ext.name
        shutil.copyfile(ext, target)
        copied.append(target)
    return copied


def prepare_reference_dir(target: Path, package_name: str = "assignment") -> Path:
    """Fill ``target`` with the reference as ``package_name/`` and the built notebooks."""
    from grader.tools.solved import write_solved

    target = Path(target)
    write_solved(target, package_name)
    copy_extensions(paths.reference_dir(), target / package_name)
    for name in source_names():  # the freshly built notebooks, even if the .ipynb are stale
        (target / f"{name}.ipynb").write_text(render(build_notebook(name)), encoding="utf-8")
    return target


def run_against_reference(
    name: str,
    workdir: Path | None = None,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    allow_errors: bool = True,
    env: Mapping[str, str] | None = None,
    extra_cells: Sequence[str] = (),
) -> NotebookRun:
    """Execute notebook ``name`` with the reference as the student's package.

    ``workdir`` (created if missing) keeps the run's files; by default a temporary directory is
    used and removed. With ``allow_errors`` every cell runs and the first error is reported in
    ``NotebookRun.error``; otherwise the first failing cell raises.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="nngrade-nb-") as tmp:
            return run_against_reference(name, Path(tmp), timeout, allow_errors, env, extra_cells)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_reference_dir(workdir)
    nb, seconds = execute_notebook(
        workdir / f"{name}.ipynb",
        workdir,
        timeout=timeout,
        env=env,
        allow_errors=allow_errors,
        extra_cells=extra_cells,
    )
    return NotebookRun(name, nb, seconds, first_error(nb))


def time_notebooks(names: Iterable[str] = COURSE.notebooks.NOTEBOOKS) -> dict[str, float]:
    """Wall time of each notebook run against the reference, in seconds (errors raise)."""
    return {name: run_against_reference(name, allow_errors=False).seconds for name in names}


if __name__ == "__main__":  # python -m grader.notebooks.build: how long each notebook takes
    for name, seconds in time_notebooks().items():
        print(f"{name}: {seconds:.1f} s")
