"""Finding a submitted notebook (students move, rename and zip them), reading it within limits,
and dropping the outputs it claims.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
import zipfile
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
