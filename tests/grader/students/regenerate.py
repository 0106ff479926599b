"""Regenerate expected.json: what ``nngrade grade`` gives each student of the table today.

Run from the repository root, one grading at a time (each is a full grading: code checks,
training, notebooks):

    python -m tests.grader.students.regenerate              # every student
    python -m tests.grader.students.regenerate --check      # report differences, write nothing
    python -m tests.grader.students.regenerate --only ID    # regrade one student, keep the rest
    python -m tests.grader.students.regenerate --code-only  # code objects only: no notebooks
    python -m tests.grader.students.regenerate --write DIR  # only write the submissions to DIR

expected.json records, per student, the score, the points lost per check with the first line of
its feedback, and answers.json. It is the record the fixes of issue 17 are measured against:
review its diff against each student's expectation in cases.py (test_students.py asserts those).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..expected_file import write_or_check
from .build import write_submission
from .cases import BY_ID, STUDENTS
from .harness import EXPECTED_PATH, grade_student, summary


def compute(only: tuple[str, ...] = (), code_only: bool = False) -> dict[str, dict]:
    results = {}
    for student in STUDENTS:
        if only and student.id not in only:
            continue
        outcome = grade_student(student, code_only)
        results[student.id] = summary(outcome, "code" if code_only else "full")
        expectation = student.loses or "nothing"
        print(
            f"{student.id:20s} {outcome.results.get('score')}/{outcome.results.get('max_score')}"
            f"  {outcome.seconds:6.1f}s  fair: loses {expectation}",
            flush=True,
        )
        for name, lost in results[student.id]["lost"].items():
            print(f"    -{lost['points']:<5g} {name}: {lost['feedback'][:110]}")
    return results


def render(results: dict[str, dict]) -> str:
    return json.dumps(dict(sorted(results.items())), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument("--write", type=Path, help="write the submissions here and stop")
    parser.add_argument("--only", action="append", default=[], help="grade only this student")
    parser.add_argument(
        "--code-only", action="store_true", help="grade the code objects only (no notebooks)"
    )
    args = parser.parse_args(argv)
    if args.write:
        for student in STUDENTS:
            print(write_submission(student, args.write))
        return 0
    unknown = sorted(set(args.only) - set(BY_ID))
    if unknown:
        parser.error(f"no such student: {', '.join(unknown)}")
    old = EXPECTED_PATH.read_text() if EXPECTED_PATH.exists() else ""
    kept = json.loads(old) if old and args.only else {}
    text = render({**kept, **compute(tuple(args.only), args.code_only)})
    return write_or_check(EXPECTED_PATH, text, old, args.check, "what the grader gives now")


if __name__ == "__main__":
    sys.exit(main())
