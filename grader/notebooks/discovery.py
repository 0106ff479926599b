"""Finding a submitted notebook (students move, rename and zip them), reading it within limits,
and dropping the outputs it claims.
"""

from __future__ import annotations

import json
import os
import re
import stat
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat

from grader.notebooks.settings import MAX_ERROR_CHARS, MAX_NOTEBOOK_BYTES
from grader.sandbox.submission import SKIP_DIRS

# ---------------------------------------------------------------------------------------------
# Finding and reading the submitted notebooks
# ---------------------------------------------------------------------------------------------


class NotebookProblem(Exception):
    """The notebook cannot be run at all (missing, unreadable, not a notebook); the message
    is the feedback."""


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1])


def _pick(candidates: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The shallowest candidate, ties broken by path, so the choice is reproducible."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0].count("/"), c[0]))


def find_notebook(submission: Path, name: str) -> tuple[str, bytes]:
    """``(path inside the submission, file bytes)`` of notebook ``name`` (``<name>.ipynb``).

    The file is matched by name, case-insensitively, anywhere in the submission (at its top,
    inside a wrapping folder, or deeper); the shallowest match wins. Raises NotebookProblem.
    """
    wanted = f"{name}.ipynb".lower()
    submission = Path(submission)
    if submission.is_file():
        try:
            archive = zipfile.ZipFile(submission)
        except (zipfile.BadZipFile, OSError) as exc:
            raise NotebookProblem(f"{submission.name} could not be opened ({exc}).") from None
        with archive:
            found = []
            for info in archive.infolist():
                rel = PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir() or not rel.parts or _skipped(rel.parts) or ".." in rel.parts:
                    continue
                if rel.name.lower() == wanted and not stat.S_ISLNK(info.external_attr >> 16):
                    found.append((str(rel), info))
            chosen = _pick(found)
            if chosen is None:
                raise NotebookProblem(_missing_message(name))
            where, info = chosen
            if info.file_size > MAX_NOTEBOOK_BYTES:
                raise NotebookProblem(_too_big_message(where, info.file_size))
            try:
                with archive.open(info) as fh:
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                message = f"{where} could not be read from the archive ({exc})."
                raise NotebookProblem(message) from None
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise NotebookProblem(_too_big_message(where, len(data)))
            return where, data
    found = []
    for dirpath, dirnames, filenames in os.walk(submission, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for filename in filenames:
            if filename.lower() == wanted:
                path = Path(dirpath) / filename
                if stat.S_ISREG(path.lstat().st_mode):
                    found.append((path.relative_to(submission).as_posix(), path))
    chosen = _pick(found)
    if chosen is None:
        raise NotebookProblem(_missing_message(name))
    where, path = chosen
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(_too_big_message(where, size))
    return where, path.read_bytes()


def _missing_message(name: str) -> str:
    return (
        f"{name}.ipynb was not found in your submission. Hand in the notebook under its "
        "original file name, next to your package folder."
    )


def _too_big_message(where: str, size: int) -> str:
    return (
        f"{where} is {size / (1 << 20):.0f} MiB, more than the {MAX_NOTEBOOK_BYTES >> 20} MiB "
        "a notebook may have; clear its outputs (Kernel > Restart & Clear Output) and save it."
    )


def parse_notebook(data: bytes, where: str) -> nbformat.NotebookNode:
    """The notebook in ``data``, validated, as nbformat 4; raises NotebookProblem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookProblem(f"{where} is not a notebook: it is not UTF-8 text ({exc}).") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise NotebookProblem(
            f"{where} is not a notebook: it is not valid JSON ({exc}). Was it saved from "
            "Jupyter? Open it there, or hand in the original file."
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookProblem(f"{where} is not a notebook: its JSON has no list of cells.")
    try:
        with warnings.catch_warnings():  # old minor versions without cell ids are fine
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds; any of them means "not valid"
        summary = str(exc).strip().splitlines()[0][:MAX_ERROR_CHARS] if str(exc) else ""
        raise NotebookProblem(
            f"{where} is not a valid Jupyter notebook (nbformat 4): {type(exc).__name__}"
            + (f": {summary}" if summary else "")
            + ". Open it in Jupyter and save it again."
        ) from None
    return nb


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop everything a previous run left in the file, so no saved output is ever trusted."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


# ---------------------------------------------------------------------------------------------
# The course's setup lines, which only make sense on Colab
# ---------------------------------------------------------------------------------------------

#: Lines of the course's Colab setup cells, matched on the stripped line: mounting Drive, moving
#: into the Drive folder, fetching CIFAR-10 and compiling the Cython extension. In the grader's
#: kernel the package is already in the working directory, the data is the grader's and the
#: extension is the course's, so each such line is replaced by ``pass`` (a cell stays valid).
COLAB_SETUP_LINES = (
    (
        "mounting Google Drive",
        re.compile(r"^(from\s+google\.colab\s+import\b|import\s+google\.colab\b)"),
    ),
    ("mounting Google Drive", re.compile(r"^drive\.mount\(")),
    ("checking the Drive folder name", re.compile(r"^assert\s+FOLDERNAME\s+is\s+not\s+None\b")),
    ("changing directory with %cd", re.compile(r"^%cd(\s|$)")),
    ("downloading CIFAR-10", re.compile(r"^!\s*(bash\s+|sh\s+|\./)?get_datasets\.sh\b")),
    ("building the Cython extension", re.compile(r"^!\s*python3?\s+setup\.py\s+build_ext\b")),
)


def neutralise_setup(nb: nbformat.NotebookNode) -> list[str]:
    """Replace the course's Colab setup lines of ``nb`` by ``pass``; say what was skipped.

    Only whole lines matching :data:`COLAB_SETUP_LINES` change, so a student's own code in the
    same cell still runs. Returns one sentence per kind of line skipped, for the feedback.
    """
    skipped: dict[str, int] = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        lines = str(cell.get("source", "")).split("\n")
        changed = False
        for i, line in enumerate(lines):
            stripped = line.strip()
            for what, pattern in COLAB_SETUP_LINES:
                if pattern.match(stripped):
                    indent = line[: len(line) - len(line.lstrip())]
                    lines[i] = f"{indent}pass  # nngrade: skipped ({what}): {stripped}"
                    skipped[what] = skipped.get(what, 0) + 1
                    changed = True
                    break
        if changed:
            cell["source"] = "\n".join(lines)
    if not skipped:
        return []
    kinds = ", ".join(skipped)
    return [
        f"The grader skipped the course's Colab setup lines ({kinds}): your package, the "
        "data and the compiled extension are provided by the grader."
    ]


# ---------------------------------------------------------------------------------------------
# Is it the course's notebook? (its given cells, by id or by a fingerprint of their code)
# ---------------------------------------------------------------------------------------------

#: Share of the course notebook's code cells a submission must keep (by id or by code) for
#: "runs to the end" to count: the real notebooks drop or rewrite a few setup cells (the import
#: cell, the data cell), an emptied or truncated notebook keeps far fewer.
REQUIRED_COURSE_CELLS = 0.75
#: Share of a course cell's lines a student's cell must hold to count as that cell: the given
#: lines survive while the TODO parts are filled in.
REQUIRED_CELL_LINES = 0.5
#: Calls that mark the course notebook's setup cells (finding the package, loading the data):
#: every edition writes those its own way (the course's real notebooks import ``cs231n`` and
#: call ``get_CIFAR10_data()`` bare), so they are not part of the fingerprint.
SETUP_CELL_CALLS = ("load_student_package(", "get_CIFAR10_data(")
_PACKAGE_NAMES = re.compile(r"\b(a2|cs231n|assignment)\b")


def _code_lines(source: str) -> set[str]:
    """The significant lines of a code cell: comments, blank lines and spacing dropped, the
    package's name made uniform (the course imports ``cs231n``, this project ``a2``)."""
    lines = set()
    for line in source.splitlines():
        code = line.split("#", 1)[0] if not line.lstrip().startswith(("%", "!")) else line
        code = _PACKAGE_NAMES.sub("PKG", re.sub(r"\s+", "", code))
        if code and code not in ("pass", "else:", "try:", ")", "]", "}", "),", "],", "})"):
            lines.add(code)
    return lines


def missing_course_cells(nb: Mapping, course: Mapping) -> tuple[list[str], int]:
    """The first lines of the course notebook's code cells that ``nb`` lacks, and how many code
    cells the course notebook has.

    A course cell is present when a non-empty cell of ``nb`` has its id, or holds at least
    :data:`REQUIRED_CELL_LINES` of its significant lines.
    """
    cells = [c for c in nb.get("cells", []) if isinstance(c, Mapping)]
    # An id counts only on a cell with code in it (a student's own code in a TODO cell).
    ids = {c.get("id") for c in cells if c.get("id") and _code_lines(str(c.get("source", "")))}
    student = [_code_lines(str(c.get("source", ""))) for c in cells if c.get("cell_type") == "code"]
    missing, total = [], 0
    for cell in course.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = str(cell.get("source", ""))
        lines = _code_lines(source)
        if not lines or any(call in source for call in SETUP_CELL_CALLS):
            continue
        total += 1
        if cell.get("id") in ids:
            continue
        if any(len(lines & mine) >= REQUIRED_CELL_LINES * len(lines) for mine in student):
            continue
        code = [ln.strip() for ln in source.splitlines() if ln.strip()]
        missing.append(next((ln for ln in code if not ln.startswith("#")), code[0]))
    return missing, total
