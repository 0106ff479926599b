"""A student's notebooks graded on a quiet and on a busy machine: the outcome must not change.

    python benchmarks/bench_notebook_load.py [--student lina_loops] [--hogs 4] [--only NAME]

Runs the notebooks of a student of the realistic corpus (tests/grader/students) once as the
machine is, then again with ``--hogs`` busy-looping processes beside it, and prints per notebook
whether it ran to the end, why it stopped, the model's accuracy, and the wall time. Issue 17's
"done when": the same submission gets the same notebook outcome either way (only the wall time
may differ), since cells are budgeted in CPU time and the data size is capped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' student corpus

from grader.notebooks import grading  # noqa: E402
from tests.grader.students.build import write_submission  # noqa: E402
from tests.grader.students.cases import BY_ID  # noqa: E402
from tests.grader.students.notebooks import NOTEBOOKS  # noqa: E402


def _hog() -> None:
    while True:
        pass


def outcome(submission: Path, names: list[str]) -> dict[str, tuple]:
    """Per notebook: (ran to the end and kept the course's cells, why it stopped, accuracy),
    and the wall seconds."""
    result = {}
    with grading.SubmissionNotebooks(submission) as runner:
        for name in names:
            run = runner.run(name)
            accuracy = run.score.accuracy if run.score is not None else None
            ok = run.ran_to_the_end and run.is_course_notebook
            result[name] = ((ok, run.stopped, accuracy), round(run.seconds, 1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="lina_loops")
    parser.add_argument("--hogs", type=int, default=4)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    names = args.only or list(NOTEBOOKS)
    with tempfile.TemporaryDirectory(prefix="nb-load-") as tmp:
        submission = write_submission(BY_ID[args.student], Path(tmp))
        quiet = outcome(submission, names)
        hogs = [multiprocessing.Process(target=_hog, daemon=True) for _ in range(args.hogs)]
        for hog in hogs:
            hog.start()
        try:
            started = time.monotonic()
            busy = outcome(submission, names)
            busy_seconds = time.monotonic() - started
        finally:
            for hog in hogs:
                hog.kill()
                hog.join()
    for name in names:
        same = "same" if quiet[name][0] == busy[name][0] else "DIFFERENT"
        print(f"{name}: quiet {quiet[name]}  busy {busy[name]}  -> {same}")
    print(f"busy run: {busy_seconds:.0f} s with {args.hogs} hogs")


if __name__ == "__main__":
    main()
