"""The answers to the inline questions: marked cells in the course's notebooks, read back from a
submission's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import nbformat

from grader.course import COURSE
from grader.notebooks import build
from grader.notebooks.build import ANSWER_LABEL, ANSWER_MARKER_RE, ANSWER_PLACEHOLDER
from grader.notebooks.discovery import NotebookProblem, find_notebook, parse_notebook

# ---------------------------------------------------------------------------------------------
# Answers to the inline questions
# ---------------------------------------------------------------------------------------------


def _cell_text(cell: Mapping) -> str:
    source = cell.get("source", "")
    # A hand-edited file may hold the source as a list of lines, as the format allows on disk.
    return "".join(source) if isinstance(source, list) else str(source or "")


def _answer_body(text: str, marker: re.Match) -> str:
    """The cell's text without its marker line and answer label; '' if left as given."""
    body = (text[: marker.start()] + text[marker.end() :]).strip()
    if body.startswith(ANSWER_LABEL):
        body = body[len(ANSWER_LABEL) :].strip()
    return "" if body == ANSWER_PLACEHOLDER else body


def _cells(nb: Mapping) -> Iterator[tuple[Mapping, str, re.Match | None]]:
    """Each well-formed cell of ``nb`` with its text and its answer marker, if any."""
    for cell in nb.get("cells", []) or []:
        if isinstance(cell, Mapping):
            text = _cell_text(cell)
            yield cell, text, ANSWER_MARKER_RE.search(text)


def extract_answers(nb: Mapping) -> dict[str, str]:
    """Map each answer id found in ``nb`` to its answer text, '' when left unanswered.

    Every cell is searched, whatever its type, position, id or metadata, for a line holding an
    answer marker. A question answered in several cells (a duplicated cell, an answer split in
    two) gets the non-empty texts joined by a blank line, in notebook order. Questions whose cell
    was deleted are simply absent; compare with :func:`answer_ids` of the original notebook.
    """
    found: dict[str, list[str]] = {}
    for _, text, marker in _cells(nb):
        if marker is not None:
            found.setdefault(marker["id"].lower(), []).append(_answer_body(text, marker))
    return {key: "\n\n".join(t for t in texts if t) for key, texts in found.items()}


#: The label that opens an answer cell in the course's real notebooks, in its spellings:
#: "**Your Answer:**", "$\\color{blue}{\\textit Your Answer:}$", "## Answer:", "Answer:".
LABEL_RE = re.compile(r"^[^\n]{0,40}?\b(?:your\s+)?answer\s*:[*}$\s]*", re.IGNORECASE)
#: What the course's untouched answer cells hold after the label.
PLACEHOLDERS = ("[fill this in]", "*fill this in*", "fill this in")
#: How close the question text before a labelled cell must be to a course question to be
#: matched to it by text rather than by position.
QUESTION_SIMILARITY = 0.6


def _labelled_body(text: str) -> str | None:
    """The answer in a cell that opens with an answer label; None for any other cell."""
    found = LABEL_RE.match(text.lstrip())
    if found is None:
        return None
    body = text.lstrip()[found.end() :].strip()
    return "" if body.lower().strip("*_ ") in (p.strip("*") for p in PLACEHOLDERS) else body


def labelled_answers(nb: Mapping, course: Mapping) -> dict[str, str]:
    """Answers of a notebook in the course's real shape (no markers, answer cells opening with
    "Your Answer:"), mapped to the question ids of the course notebook ``course``.

    Each labelled markdown cell is matched to the course question whose text is most like the
    markdown before it; a cell matching none closely takes the next question not yet taken, in
    notebook order, so reworded questions still line up.
    """
    import difflib

    asked = questions(course)
    order = list(asked)
    found: dict[str, list[str]] = {}
    previous = ""
    for cell, text, _ in _cells(nb):
        if cell.get("cell_type") != "markdown":
            continue
        body = _labelled_body(text)
        if body is None:
            previous = text
            continue
        free = [qid for qid in order if qid not in found]
        if not free:
            break
        scored = [
            (difflib.SequenceMatcher(None, previous[:2000], asked[qid][:2000]).ratio(), qid)
            for qid in free
        ]
        best, qid = max(scored, key=lambda pair: (pair[0], -order.index(pair[1])))
        qid = qid if best >= QUESTION_SIMILARITY else free[0]
        found.setdefault(qid, []).append(body)
    return {qid: "\n\n".join(t for t in texts if t) for qid, texts in found.items()}


def notebook_answers_of(name: str, nb: Mapping) -> dict[str, str]:
    """The answers of submitted notebook ``name``: by marker, else by "Your Answer:" label."""
    marked = extract_answers(nb)
    if marked:
        return marked
    course = course_notebook(name)
    return labelled_answers(nb, course) if course is not None else {}


def answer_ids(nb: Mapping) -> list[str]:
    """The answer ids in ``nb``, in notebook order, each once."""
    ids = (marker["id"].lower() for _, _, marker in _cells(nb) if marker is not None)
    return list(dict.fromkeys(ids))


def questions(nb: Mapping) -> dict[str, str]:
    """Map each answer id to the text of the markdown cell just before its answer cell.

    Meant for the course's own notebooks (where every question precedes its answer cell), to
    print the question beside each student's answer.
    """
    result: dict[str, str] = {}
    previous = ""
    for cell, text, marker in _cells(nb):
        if marker is not None:
            result.setdefault(marker["id"].lower(), previous.strip())
        elif cell.get("cell_type") == "markdown":
            previous = text
    return result


@cache
def course_notebook(name: str) -> nbformat.NotebookNode | None:
    """The course's own notebook ``name`` (None where neither it nor its source is here)."""
    path = build.notebook_path(name)
    try:
        return nbformat.read(path, as_version=4) if path.is_file() else build.build_notebook(name)
    except Exception:  # no notebook and no source here: nothing to compare with
        return None


def course_answer_ids(name: str) -> tuple[str, ...]:
    """The inline question ids of the course's own notebook ``name``."""
    nb = course_notebook(name)
    return tuple(answer_ids(nb)) if nb is not None else ()


def _answers_with_all_ids(name: str, answers: Mapping[str, str]) -> dict[str, str]:
    """Every question of the course's notebook (unanswered or deleted ones as ''), then any
    other marker the student's file holds."""
    result = {qid: answers.get(qid, "") for qid in course_answer_ids(name)}
    result.update({qid: text for qid, text in answers.items() if qid not in result})
    return result


def notebook_answers(submission: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Map each course notebook to ``{question id: answer}`` from the submitted files.

    Every question of the course's notebook is present, '' when unanswered (or when the notebook
    is missing or unreadable), so a file built from this lists every question for every
    student. Nothing is executed.
    """
    result = {}
    for name in COURSE.notebooks.GRADED_NOTEBOOKS:
        try:
            where, data = find_notebook(Path(submission), name)
            answers = notebook_answers_of(name, parse_notebook(data, where))
        except NotebookProblem:
            answers = {}
        result[name] = _answers_with_all_ids(name, answers)
    return result
