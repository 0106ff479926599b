"""Grade a student of the table with the ``nngrade grade`` CLI and read what it wrote.

Grading goes through the command line in a subprocess, exactly as instructors run it, so these
tests do not depend on where the grader's modules live. Everything is graded: code checks,
training and the notebooks.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .build import write_submission
from .cases import BY_ID, Student

EXPECTED_PATH = Path(__file__).with_name("expected.json")
CODE_OBJECTS = ("layers.", "layer_utils.", "optim.", "fc_net.", "cnn.")
CODE_PREFIXES = tuple(prefix.rstrip(".") for prefix in CODE_OBJECTS)
GRADE_TIMEOUT = 3600


@dataclass(frozen=True)
class Outcome:
    """What ``nngrade grade`` gave one student."""

    results: dict
    answers: dict
    seconds: float

    @property
    def checks(self) -> list[dict]:
        return self.results.get("tests", [])

    def lost(self) -> dict[str, float]:
        """Points lost per check name (only checks that lost some)."""
        return {
            t["name"]: round(t["max_score"] - t["score"], 6)
            for t in self.checks
            if t["score"] < t["max_score"]
        }

    def feedback(self, name: str) -> str:
        """The first non-empty line of a check's feedback."""
        for t in self.checks:
            if t["name"] == name:
                lines = [line for line in t.get("output", "").splitlines() if line.strip()]
                return lines[0] if lines else ""
        return ""


def grade_folder(submission: Path, out: Path, only: tuple[str, ...] = ()) -> Outcome:
    """Run ``nngrade grade`` on ``submission`` into ``out`` and read the reports.

    ``only``: rubric-object prefixes to grade (``--only``); all of them when empty.
    """
    selection = [arg for prefix in only for arg in ("--only", prefix)]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(submission), "--out", str(out), *selection],
        check=True,
        capture_output=True,
        timeout=GRADE_TIMEOUT,
    )
    seconds = time.perf_counter() - started
    results = json.loads((out / "results.json").read_text())
    answers_path = out / "answers.json"
    answers = json.loads(answers_path.read_text()) if answers_path.exists() else {}
    return Outcome(results, answers, seconds)


def grade_student(student: Student, code_only: bool = False) -> Outcome:
    """The outcome of one student (graded once per process).

    ``code_only`` grades the code objects only (training included; no notebooks): a quicker
    record while the notebooks time out.
    """
    return _grade(student.id, CODE_PREFIXES if code_only else ())


@functools.cache
def _grade(student_id: str, only: tuple[str, ...]) -> Outcome:
    """Grade the student of the table with that id, on the objects ``only`` names (or all).

    With ``NNGRADE_STUDENTS_KEEP=DIR`` the submission and the reports are kept in ``DIR/<id>``.
    """
    student = BY_ID[student_id]
    keep = os.environ.get("NNGRADE_STUDENTS_KEEP")
    if keep:
        submission = write_submission(student, Path(keep))
        return grade_folder(submission, Path(keep) / f"{student.id}-reports", only)
    with tempfile.TemporaryDirectory(prefix=f"student-{student.id}-") as tmp:
        submission = write_submission(student, Path(tmp))
        return grade_folder(submission, Path(tmp) / "out", only)


def is_code_check(name: str) -> bool:
    return name.startswith(CODE_OBJECTS)


def summary(outcome: Outcome, scope: str = "full") -> dict:
    """What expected.json records of an outcome: score, points lost per check and why.

    ``scope`` says what was graded: "full", or "code" (code objects only, no notebooks).
    """
    return {
        "scope": scope,
        "seconds": round(outcome.seconds),
        "score": outcome.results.get("score"),
        "max_score": outcome.results.get("max_score"),
        "lost": {
            name: {"points": points, "feedback": outcome.feedback(name)}
            for name, points in sorted(outcome.lost().items())
        },
        "answers": outcome.answers,
    }
