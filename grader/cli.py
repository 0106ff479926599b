"""The ``nngrade`` command: a thin argparse layer over the library, one function per command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grader import __version__, course, stubs


def _cmd_assignment(args: argparse.Namespace) -> int:
    reference, assignment = course.reference_dir(), course.assignment_dir()
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
    from grader import calibration

    return calibration.main(quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Grade numpy deep-learning assignments against the course's reference.",
    )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
