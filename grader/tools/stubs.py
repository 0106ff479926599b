"""Make the student package (``assignment/``) from the reference by cutting out solution blocks.

The marker syntax is documented in docs/solution-markers.md. The reference stays the single
source of truth: ``assignment/`` is only ever written by :func:`write_assignment`, and
:func:`stale_files` lets the test suite fail when someone edits one without the other.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = "# STUB:"
LINE_SUFFIX = "# SOLUTION"
START_BANNER = "# *****START OF YOUR CODE*****"
END_BANNER = "# *****END OF YOUR CODE*****"

# Files that make up a course package; build products (.so, .c) and caches are never copied.
# Data files (trained weights) are binary and copied byte for byte.
DATA_SUFFIXES = (".npz",)
SOURCE_SUFFIXES = (".py", ".pyx", ".sh", ".md", ".txt", *DATA_SUFFIXES)
SKIP_DIRS = {"__pycache__", "build", "cifar-10-batches-py"}


class MarkerError(ValueError):
    """A solution marker is malformed; names the file and line so the instructor can fix it."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class StrippedModule:
    text: str
    blocks: int


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _stub_line(indent: str, stripped: str) -> str:
    code = stripped[len(STUB) :]
    return indent + (code[1:] if code.startswith(" ") else code)


def strip_solutions(source: str, path: str = "<string>") -> StrippedModule:
    """Return the student's version of one module's source and how many blocks were cut."""
    out: list[str] = []
    block_start = 0
    block_indent = ""
    stub: list[str] = []
    blocks = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if block_start:
            if stripped == BEGIN:
                message = f"nested {BEGIN} (block opened at line {block_start})"
                raise MarkerError(path, number, message)
            if stripped == END:
                if _indent(line) != block_indent:
                    raise MarkerError(path, number, f"{END} indented unlike its {BEGIN}")
                body = stub or [block_indent + "pass\n"]
                out += [block_indent + START_BANNER + "\n", *body, block_indent + END_BANNER + "\n"]
                block_start, stub = 0, []
                blocks += 1
            elif stripped.startswith(STUB):
                stub.append(_stub_line(block_indent, stripped) + "\n")
            continue
        if stripped == BEGIN:
            block_start, block_indent = number, _indent(line)
        elif stripped == END:
            raise MarkerError(path, number, f"{END} without a {BEGIN}")
        elif stripped.endswith(LINE_SUFFIX) and not stripped.startswith("#"):
            continue
        else:
            out.append(line)
    if block_start:
        raise MarkerError(path, block_start, f"{BEGIN} is never closed")
    text = "".join(out)
    if path.endswith(".py"):
        try:
            ast.parse(text, filename=path)
        except SyntaxError as exc:
            message = f"student version does not parse: {exc.msg}"
            raise MarkerError(path, exc.lineno or 0, message) from exc
    return StrippedModule(text, blocks)


def source_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in SOURCE_SUFFIXES
        and not SKIP_DIRS.intersection(p.relative_to(root).parts)
    )


def _read(path: Path) -> str | bytes:
    return path.read_bytes() if path.suffix in DATA_SUFFIXES else path.read_text(encoding="utf-8")


def build_assignment(reference: Path) -> dict[str, str | bytes]:
    """Map each relative path of the student package to its text, or bytes for a data file
    (nothing is written)."""
    files = {}
    for path in source_files(reference):
        rel = path.relative_to(reference).as_posix()
        text = _read(path)
        files[rel] = strip_solutions(text, rel).text if path.suffix == ".py" else text
    return files


def graded_modules(reference: Path) -> list[str]:
    """Relative paths of the modules that hold at least one solution block."""
    return [
        path.relative_to(reference).as_posix()
        for path in source_files(reference)
        if path.suffix == ".py"
        and strip_solutions(path.read_text(encoding="utf-8"), path.name).blocks
    ]


def stale_files(reference: Path, assignment: Path) -> list[str]:
    """Paths where ``assignment`` differs from what ``reference`` makes (missing, extra, edited)."""
    expected = build_assignment(reference)
    actual = (
        {p.relative_to(assignment).as_posix(): p for p in source_files(assignment)}
        if assignment.is_dir()
        else {}
    )
    stale = [rel for rel in expected if rel not in actual]
    stale += [rel for rel in actual if rel not in expected]
    stale += [rel for rel, text in expected.items() if rel in actual and _read(actual[rel]) != text]
    return sorted(stale)


def write_assignment(reference: Path, assignment: Path) -> list[str]:
    """Rewrite ``assignment`` from ``reference``; returns the paths that changed.

    Everything is generated in memory first, so a marker error leaves the old package untouched.
    """
    expected = build_assignment(reference)
    changed = stale_files(reference, assignment)
    for rel in changed:
        target = assignment / rel
        if rel in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            data = expected[rel]
            if isinstance(data, bytes):
                target.write_bytes(data)
            else:
                target.write_text(data, encoding="utf-8")
        else:
            target.unlink()
    for directory in sorted(assignment.rglob("*"), reverse=True):
        if directory.is_dir() and directory.name not in SKIP_DIRS and not any(directory.iterdir()):
            shutil.rmtree(directory)
    return changed
