"""The leak scan behind ``nngrade release``: where a folder holds a line of the solution.

A solution line is a line of a solution block in reference/ (or one marked ``# SOLUTION``,
docs/solution-markers.md). It is found however it was copied: re-indented, inside a string,
docstring or comment, with the other kind of quotes, split over lines by brackets, a backslash
or string concatenation, in any text file, and in JSON files (notebooks included) string by
string. :func:`normalise` brings the solution line and the file to one form and
:func:`_occurrences` matches it as a whole piece of code, so ``best_model = ...`` is not taken
for ``model = ...``. Lines that the generated student package holds anyway, and lines too short
to identify anything, are not secrets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from grader.tools import stubs

#: Lines too plain to identify anything (they occur in any Python file).
TRIVIAL = {"pass", "return", "else:", "try:", "finally:", "continue", "break", '"""', "'''"}
#: A solution line shorter than this once normalised (``x=0``) identifies nothing on its own.
MIN_SECRET_CHARS = 8

_QUOTES = str.maketrans(
    {"'": '"', "`": '"', "\u2018": '"', "\u2019": '"', "\u201c": '"', "\u201d": '"'}
)
#: Glue between the pieces of a string split in two: ``"a" "b"``, ``"a" + "b"`` (after
#: whitespace is gone and quotes are unified).
_STRING_GLUE = ('"+"', '""')


def _significant(line: str) -> bool:
    return line not in TRIVIAL and any(ch.isalnum() for ch in line)


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` as the leak scan compares it, and the line (from 1) each character came from.

    Whitespace goes (indentation, spacing, and the line breaks inside brackets or after a
    backslash with it), every quote becomes ``"``, an escaped quote a plain one, and the glue of
    split strings (``"a" "b"``, ``"a" + "b"``) disappears, so one piece of code reads the same
    however it was quoted, indented or wrapped. Line breaks are dropped too: callers search the
    result for a normalised solution line with :func:`_occurrences`, which checks its edges.
    """
    text = "\n".join(text.splitlines()).translate(_QUOTES)
    text = text.replace('\\"', '"').replace("\\\n", "\n")
    chars: list[str] = []
    lines: list[int] = []
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif not ch.isspace():
            chars.append(ch)
            lines.append(line)
            if chars[-1] == '"':
                for glue in _STRING_GLUE:
                    if len(chars) >= len(glue) and "".join(chars[-len(glue) :]) == glue:
                        del chars[-len(glue) :], lines[-len(glue) :]
                        break
    return "".join(chars), lines


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _occurrences(haystack: str, needle: str, lines: list[int] | None = None) -> Iterator[int]:
    """Where ``needle`` starts in ``haystack`` as a whole piece of code: not the tail of a longer
    name or attribute (``a.out=x``) nor the head of one (``out=x2``, ``out=x.T``). With
    ``lines`` (from :func:`normalise`), a line break counts as an edge too."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else ""
        after = haystack[end : end + 1]
        if lines is not None:
            before = before if start and lines[start - 1] == lines[start] else ""
            after = after if after and lines[end] == lines[end - 1] else ""
        head_ok = not (_is_word(needle[0]) and before and (_is_word(before) or before == "."))
        tail_ok = not (_is_word(needle[-1]) and after and (_is_word(after) or after in ".(["))
        if head_ok and tail_ok:
            yield start
        start = haystack.find(needle, start + 1)


def _code_part(line: str) -> str:
    """A stripped line without a trailing comment (a ``#`` outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip()
    return line


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


def file_texts(path: Path) -> Iterator[str]:
    """The text of a file as a person would read it: a JSON file (notebooks included) string by
    string, decoded, anything else decoded as UTF-8 (bytes that are not become U+FFFD)."""
    try:
        data = path.read_bytes()
    except OSError:
        return
    text = data.decode("utf-8", errors="replace")
    if path.suffix in (".ipynb", ".json"):
        try:
            yield from _json_strings(json.loads(text))
            return
        except ValueError:
            pass
    yield text


def _json_strings(value: object) -> Iterator[str]:
    """Every string in a JSON value; a list of strings (a notebook cell's lines) joined."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        yield "".join(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of a file as :func:`file_texts` reads it, numbered on."""
    number = 0
    for text in file_texts(path):
        for line in text.splitlines():
            number += 1
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


def secret_solution_lines(reference: Path) -> dict[str, str]:
    """Normalised solution lines -> where each is in ``reference``, less those too short to mean
    anything and those the generated student package holds anyway (outside its blocks)."""
    public = [
        normalise(text)
        for text in stubs.build_assignment(reference).values()
        if isinstance(text, str)
    ]
    secrets: dict[str, str] = {}
    for line, where in solution_lines(reference).items():
        needle = normalise(_code_part(line))[0]
        if len(needle) < MIN_SECRET_CHARS or needle in secrets:
            continue
        found = (next(_occurrences(flat, needle, lines), None) for flat, lines in public)
        if all(start is None for start in found):
            secrets[needle] = where
    return secrets


def scan_files(files: Iterable[tuple[Path, str]], secrets: dict[str, str]) -> list[str]:
    """``name:line: text (from source)`` for each normalised secret found in one of ``files``
    (pairs of a path and the name to report it by)."""
    leaks = []
    for file, name in files:
        offset = 0
        for text in file_texts(file):
            flat, lines = normalise(text)
            for needle, where in secrets.items():
                for start in _occurrences(flat, needle, lines):
                    leaks.append(f"{name}:{offset + lines[start]}: {needle}  (from {where})")
            offset += len(text.splitlines())
    return leaks
