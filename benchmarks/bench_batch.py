"""Speed-up of ``grade-all --jobs N`` over ``--jobs 1`` on copies of the solved submission.

    python benchmarks/bench_batch.py [--submissions 6] [--jobs 2] [--only OBJ] [--repeat 1]

Each run grades every submission from scratch (a fresh output folder) in its own grading
process, exactly as instructors run grade-all; the figure printed is wall time. Pass several
``--only`` to grade more per submission, or ``--only ''`` for the full grading.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from grader.batch import records, runner
from grader.tools.solved import write_solved


def _time(subs: Path, out: Path, options: records.BatchOptions) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = runner.grade_all(subs, out, options, stream=io.StringIO())
    seconds = time.perf_counter() - started
    assert summary.graded_now == summary.total and summary.failed == 0, summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    only = tuple(o for o in (args.only if args.only is not None else ["layers.affine"]) if o)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        solved = write_solved(root / "solved")
        subs = root / "subs"
        for i in range(args.submissions):
            shutil.copytree(solved, subs / f"student_{i:02d}")
        print(f"{args.submissions} solved submissions, --only {' '.join(only) or '(all)'}")
        print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
        # Interleaved, so that a change in the machine's load hits both settings alike.
        times: dict[int, list[float]] = {1: [], args.jobs: []}
        for _ in range(args.repeat):
            for jobs in times:
                options = records.BatchOptions(jobs=jobs, only=only)
                times[jobs].append(_time(subs, root / "out", options))
        for jobs, runs in times.items():
            shown = ", ".join(f"{t:.1f}" for t in runs)
            print(f"--jobs {jobs}: best {min(runs):.1f} s (runs: {shown})")
        speedup = min(times[1]) / min(times[args.jobs])
        print(f"speed-up of --jobs {args.jobs} over --jobs 1: {speedup:.2f}x")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
