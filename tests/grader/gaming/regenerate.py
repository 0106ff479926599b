"""Regenerate expected.json (each gaming case's caps), or grade the cases and print the figures.

Run from the repository root:

    python -m tests.grader.gaming.regenerate            # write the caps from cases.py
    python -m tests.grader.gaming.regenerate --check    # only say whether expected.json is stale
    python -m tests.grader.gaming.regenerate --measure [CASE ...]   # grade, print scores and times

The caps are policy (see cases.py), computed from the rubric; ``--measure`` grades each case with
``nngrade grade`` and prints its score against its cap, per capped object, and the time it took.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..expected_file import write_or_check
from .cases import BY_ID, CASES
from .harness import EXPECTED_PATH, grade, limits


def render() -> str:
    return json.dumps({case.id: limits(case) for case in CASES}, indent=2, sort_keys=True) + "\n"


def measure(ids: list[str]) -> dict:
    figures = {}
    for case_id in ids or list(BY_ID):
        case = BY_ID[case_id]
        with tempfile.TemporaryDirectory(prefix=f"gaming-{case.id}-") as tmp:
            outcome = grade(case, Path(tmp))
        caps = limits(case)
        over = outcome.score > caps["max_score"] + 1e-9
        print(
            f"{case.id:32s} {outcome.score:6.2f}/{outcome.max_score:<6.2f} "
            f"(max {caps['max_score']:.2f}{', OVER' if over else ''}) {outcome.seconds:6.1f}s",
            flush=True,
        )
        for prefix, most in caps["max_points"].items():
            print(f"    {prefix or 'total':40s} {outcome.points(prefix):6.2f} (max {most:.2f})")
        for name, points in sorted(outcome.checks.items()):
            if points > 0:
                print(f"      + {points:5.2f} {name}")
        figures[case.id] = {
            "score": outcome.score,
            "max_score": outcome.max_score,
            "seconds": round(outcome.seconds, 1),
            "checks": outcome.checks,
        }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument("--measure", nargs="*", metavar="CASE", help="grade and print figures")
    parser.add_argument("--json", help="with --measure: also write the figures to this file")
    args = parser.parse_args(argv)
    if args.measure is not None:
        figures = measure(args.measure)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        return 0
    text = render()
    old = EXPECTED_PATH.read_text() if EXPECTED_PATH.exists() else ""
    return write_or_check(EXPECTED_PATH, text, old, args.check, "cases.py: rerun without --check")


if __name__ == "__main__":
    sys.exit(main())
