"""``answers.md``: the class's answers to the inline questions, question by question."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.batch.records import ANSWERS_JSON, ANSWERS_MD, GRADED, Record
from grader.reports.files import atomic_write


def load_answers(path: Path) -> dict[str, str]:
    """A report's answers.json: ``{question id: answer}``, or grouped by notebook
    ``{notebook: {question id: answer}}``; flattened. Unreadable files give no answers."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({str(k): str(v) for k, v in value.items() if isinstance(v, str | int)})
        elif isinstance(value, str):
            flat[str(key)] = value
    return flat


def course_questions() -> tuple[list[str], dict[str, str]]:
    """The course notebooks' question ids in order, and each question's text, when available."""
    try:
        import nbformat

        from grader.course import COURSE
        from grader.notebooks import build
        from grader.notebooks.answers import answer_ids, questions
    except ImportError:
        return [], {}
    order: list[str] = []
    texts: dict[str, str] = {}
    for name in COURSE.notebooks.GRADED_NOTEBOOKS:
        try:
            nb = nbformat.read(build.notebook_path(name), as_version=4)
            order += [q for q in answer_ids(nb) if q not in order]
            texts.update(questions(nb))
        except Exception:  # a notebook not written yet, or unreadable: answers still merge
            continue
    return order, texts


def _quote(text: str) -> str:
    """A blockquote, so an answer's own headings cannot break the file's structure."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def merge_answers(
    answers: Mapping[str, Mapping[str, str]],
    order: Sequence[str] = (),
    questions: Mapping[str, str] | None = None,
) -> str:
    """The TA file: each question, then every student's answer to it (students sorted).

    ``answers`` maps student to ``{question id: answer}``; ``order`` gives the course's question
    order (others follow, sorted); ``questions`` the question texts to print above the answers.
    A student who did not answer (or deleted the cell) is listed as such, so TAs see who is
    missing."""
    questions = questions or {}
    students = sorted(answers)
    ids = [q for q in order if any(q in a for a in answers.values())]
    ids += sorted({q for a in answers.values() for q in a}.difference(ids))
    lines = ["# Inline question answers", ""]
    if not ids:
        lines.append("No submission carried notebook answers.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(students)} student(s), {len(ids)} question(s).")
    for qid in ids:
        lines += ["", f"## {qid}", ""]
        if questions.get(qid):
            lines += [_quote(questions[qid]), ""]
        for student in students:
            text = answers[student].get(qid, "")
            lines += [f"### {student}", ""]
            lines += [_quote(text) if text.strip() else "*(no answer)*", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_answers(records: Sequence[Record], out_root: Path) -> Path:
    collected = {}
    for record in records:
        path = out_root / record.student / ANSWERS_JSON
        if record.status == GRADED and path.is_file():
            collected[record.student] = load_answers(path)
    order, texts = course_questions() if collected else ([], {})
    target = out_root / ANSWERS_MD
    atomic_write(target, merge_answers(collected, order, texts), newline="")
    return target
