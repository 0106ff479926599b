"""Regenerate expected.json: for each corpus case, the sorted names of the checks that fail.

Run from the repository root:

    python -m tests.grader.corpus.regenerate            # every case
    python -m tests.grader.corpus.regenerate --check    # only report differences, write nothing
    python -m tests.grader.corpus.regenerate --only ID  # regrade these cases, keep the others

It prints one line per case (score, time, failing checks) so the diff of expected.json can be
reviewed against what each case is meant to show.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..expected_file import write_or_check
from .cases import CASES
from .harness import EXPECTED_PATH, failing, grade_case


def compute(only: list[str] | None = None) -> dict[str, list[str]]:
    results = {}
    for case in CASES:
        if only and case.id not in only:
            continue
        started = time.perf_counter()
        report = grade_case(case)
        names = failing(report)
        results[case.id] = names
        kind = "bug  " if case.is_bug else "legal"
        print(
            f"{kind} {case.id:55s} {report.score:6.2f}/{report.max_score:<6.2f} "
            f"{time.perf_counter() - started:5.1f}s  {len(names)} failing",
            flush=True,
        )
        for name in names:
            print(f"        - {name}")
    return results


def render(results: dict[str, list[str]]) -> str:
    return json.dumps(dict(sorted(results.items())), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument(
        "--only", action="append", metavar="ID", help="regrade only this case (repeatable)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - {case.id for case in CASES})
    if unknown:
        parser.error(f"no such case: {', '.join(unknown)}")
    started = time.perf_counter()
    old = EXPECTED_PATH.read_text() if EXPECTED_PATH.exists() else ""
    results = compute(args.only)
    print(f"graded {len(results)} cases in {time.perf_counter() - started:.1f}s")
    if args.only:
        results = {**json.loads(old or "{}"), **results}
    text = render(results)
    return write_or_check(EXPECTED_PATH, text, old, args.check, "what the checks do now")


if __name__ == "__main__":
    sys.exit(main())
