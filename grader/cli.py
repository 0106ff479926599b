"""The ``nngrade`` command: a thin argparse layer over the library, one function per command.

The student release (``nngrade release``) ships this module with ``grader.edition.STUDENT`` set:
there ``python -m grader`` offers only :data:`STUDENT_COMMANDS`, and a staff command answers in
one line that it is for course staff, since the modules behind it were left out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from grader import __version__, edition, paths
from grader.selection import add_selection_options

#: What a student's repository can run.
STUDENT_COMMANDS = ("check",)
#: The course staff's commands, absent from the student release (tests keep this list exact).
STAFF_COMMANDS = (
    "assignment",
    "calibrate",
    "grade",
    "solved",
    "fixtures",
    "notebooks",
    "demo",
    "grade-all",
    "gradescope",
    "release",
    "secret",
)


def _cmd_assignment(args: argparse.Namespace) -> int:
    from grader.tools import stubs

    reference, assignment = paths.reference_dir(), paths.assignment_dir()
    try:
        if args.check:
            stale = stubs.stale_files(reference, assignment)
            for rel in stale:
                print(f"stale: {assignment / rel}")
            if stale:
                print("assignment/ is out of date with reference/: run `nngrade assignment`")
                return 1
            print("assignment/ is up to date")
            return 0
        changed = stubs.write_assignment(reference, assignment)
    except stubs.MarkerError as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(changed)} file(s) of {assignment}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from grader.tools import calibration

    return calibration.main(quick=args.quick)


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from grader.notebooks import build

    return build.main(check=args.check)


def _cmd_demo(args: argparse.Namespace) -> int:
    from grader.tools import demo

    return demo.run(Path(args.dir), _settings(args, False))


def _cmd_fixtures(args: argparse.Namespace) -> int:
    from grader.tools import fixtures

    written = fixtures.write_fixtures()
    print(f"wrote {len(written)} golden fixture(s) to {fixtures.FIXTURE_DIR}")
    return 0


def _settings(args: argparse.Namespace, public_only: bool):
    from grader.grade import GradeSettings

    return GradeSettings(
        examples=args.examples, public_only=public_only, objects=tuple(args.only or ())
    )


def _cmd_grade(args: argparse.Namespace) -> int:
    from grader import grade
    from grader.reports import terminal

    try:
        report = grade.grade_to_dir(Path(args.submission), Path(args.out), _settings(args, False))
    except grade.GradingError as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    print(terminal.terminal_summary(report))
    print(f"reports written to {args.out}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from grader import grade
    from grader.reports import markdown, terminal

    try:
        report = grade.grade_submission(Path(args.path), _settings(args, True))
    except grade.GradingError as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    print(terminal.terminal_summary(report))
    for check in markdown.failed_checks(report):
        print(f"\n--- {check.name}\n{check.output}")
    return 0 if not markdown.failed_checks(report) else 1


def _cmd_solved(args: argparse.Namespace) -> int:
    from grader.tools import solved

    path = solved.write_solved(Path(args.dir))
    print(f"wrote a solved submission to {path}")
    return 0


def build_parser(student: bool | None = None) -> argparse.ArgumentParser:
    """The ``nngrade`` parser: every command for the course staff, only ``check`` in the student
    release (``student`` defaults to :data:`grader.edition.STUDENT`)."""
    student = edition.STUDENT if student is None else student
    if student:
        parser = argparse.ArgumentParser(
            prog="python -m grader",
            description="Run the assignment's public checks on your code before you submit.",
        )
    else:
        parser = argparse.ArgumentParser(
            prog="nngrade",
            description="Grade numpy deep-learning assignments against the course's reference.",
        )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_check(sub)
    if not student:
        _add_staff_commands(sub)
    return parser


def _add_check(sub) -> None:
    p = sub.add_parser(
        "check",
        help="run the public checks on your package before submitting",
        description="Run the checks students may run themselves on PATH (default: the current "
        "folder). Exits 1 when a check fails.",
    )
    p.add_argument("path", nargs="?", default=".", help="folder holding assignment/ or cs231n/")
    add_selection_options(p)
    p.set_defaults(func=_cmd_check)


def _add_staff_commands(sub) -> None:
    p = sub.add_parser(
        "assignment",
        help="regenerate the student package assignment/ from reference/",
        description="Cut the solution blocks out of reference/ and write assignment/ beside it.",
    )
    p.add_argument("--check", action="store_true", help="only report whether assignment/ is stale")
    p.set_defaults(func=_cmd_assignment)

    p = sub.add_parser(
        "calibrate",
        help="train the reference models on the embedded data and print their accuracies",
        description="Train the reference models at the fixed budgets grading thresholds come from.",
    )
    p.add_argument("--quick", action="store_true", help="tiny budgets, for a smoke test")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "grade",
        help="grade one submission and write results.json, report.md and junit.xml",
        description="Grade SUBMISSION (a folder or .zip) in a sandbox and write its reports to "
        "--out. Exits 0 whenever a report was written, whatever the score.",
    )
    p.add_argument("submission", help="a submission folder or .zip")
    p.add_argument("--out", required=True, help="folder for the reports")
    add_selection_options(p)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser(
        "solved",
        help="write a complete submission made from the reference",
        description="Write DIR/assignment/ (and notebooks) from the reference, in the student "
        "layout, so anyone can confirm the reference gets full marks.",
    )
    p.add_argument("dir", help="folder to create")
    p.set_defaults(func=_cmd_solved)

    p = sub.add_parser(
        "fixtures",
        help="regenerate the golden .npz fixtures from the reference",
        description="Run every scenario's classic case with the reference and store the outputs.",
    )
    p.set_defaults(func=_cmd_fixtures)

    p = sub.add_parser(
        "notebooks",
        help="build the student notebooks (.ipynb) from their sources in notebooks/src",
        description="Build notebooks/<Name>.ipynb from the jupytext sources "
        "notebooks/src/<Name>.py.",
    )
    p.add_argument("--check", action="store_true", help="only report notebooks out of date")
    p.set_defaults(func=_cmd_notebooks)

    p = sub.add_parser(
        "demo",
        help="grade a bundled example submission with realistic bugs and show its report",
        description="Write an example submission (the reference with three realistic bugs) "
        "into DIR/submission, grade it into DIR/report and print the student's report.",
    )
    p.add_argument("dir", nargs="?", default="nngrade-demo", help="working folder")
    add_selection_options(p)
    p.set_defaults(func=_cmd_demo)

    from grader import secret
    from grader.batch import runner
    from grader.tools import gradescope, release

    runner.register(sub)
    gradescope.register(sub)
    release.register(sub)
    secret.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if edition.STUDENT and argv and argv[0] in STAFF_COMMANDS:
        print(
            f"nngrade: `{argv[0]}` is for course staff only; here, "
            "`python -m grader check` runs the public checks.",
            file=sys.stderr,
        )
        return 2
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
