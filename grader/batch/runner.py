"""Grade a whole class: ``nngrade grade-all SUBMISSIONS --out DIR --jobs N``.

Every submission (a folder or a .zip directly inside SUBMISSIONS) is graded by its own
``python -m grader grade`` process with a wall-clock limit, so a submission that hangs or kills
its grader costs only its own row. The sandbox already isolates student code from the grader;
the extra process is the backstop for whatever still goes wrong (a grader bug, a sandbox that
cannot start, memory exhaustion), and it is what lets grading fan out over cores or machines.

Layout of DIR::

    DIR/<student>/      results.json, report.md, junit.xml (from `nngrade grade`),
                        answers.json (when notebook grading wrote one), grade.log, batch.json
    DIR/gradebook.csv   one row per student: status, total, each check's score, reason
    DIR/answers.md      the inline-question answers, question by question, for the TAs
    DIR/.partial/       grading in progress (discarded on the next run)
    DIR/.lock           held while a batch runs, so two batches never share DIR

A student's folder appears in one ``rename`` once its grading is over, with ``batch.json``
inside, so a folder that holds ``batch.json`` is finished: an interrupted or crashed run loses
nothing finished, and the next run skips it. A finished submission is graded again only with
``--force``, when its content changed, when the grading settings changed, or (with
``--retry-failed``) when it did not get a report.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from grader.batch.answers import write_answers
from grader.batch.gradebook import write_gradebook
from grader.batch.process import ProcessRegistry, grade_one
from grader.batch.progress import Progress, _clock
from grader.batch.records import (
    ANSWERS_MD,
    GRADEBOOK,
    GRADED,
    INTERRUPTED_EXIT,
    LOCK,
    PARTIAL,
    BatchOptions,
    Record,
    Submission,
    discover,
    fingerprint,
    is_current,
)
from grader.selection import add_selection_options

# ---------------------------------------------------------------------------------------------
# Running a batch
# ---------------------------------------------------------------------------------------------


class LocalRunner:
    """Grades on this machine, ``options.jobs`` grading processes at a time."""

    def __init__(self, options: BatchOptions, command: Callable | None = None) -> None:
        self.options = options
        self.command = command
        self.registry = ProcessRegistry()

    def run(self, todo: Sequence[tuple[Submission, str]], out_root: Path) -> Iterator[Record]:
        pool = futures.ThreadPoolExecutor(max_workers=max(1, self.options.jobs))
        pending = {
            pool.submit(grade_one, sub, out_root, self.options, self.registry, self.command, digest)
            for sub, digest in todo
        }
        try:
            for future in futures.as_completed(pending):
                record = future.result()
                if record is not None:
                    yield record
        finally:
            # Reached on normal completion and on Ctrl-C alike: stop what still runs.
            self.registry.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class BatchSummary:
    total: int
    graded_now: int
    skipped: int
    failed: int
    interrupted: bool
    seconds: float
    gradebook: Path
    answers: Path

    def line(self) -> str:
        head = "interrupted" if self.interrupted else "done"
        return (
            f"{head}: {self.graded_now} graded now, {self.skipped} already graded (skipped), "
            f"{self.failed} without a report, {self.total} in all, in {_clock(self.seconds)}; "
            f"gradebook: {self.gradebook}"
        )


def grade_all(
    root: Path,
    out_root: Path,
    options: BatchOptions,
    *,
    scheduler: str | None = None,
    stream: TextIO | None = None,
    command: Callable | None = None,
) -> BatchSummary:
    """Grade every submission in ``root`` into ``out_root``; resumable, see the module doc.

    Ctrl-C stops the grading processes and still writes the gradebook of everything finished;
    the summary then says ``interrupted``. ``command(sub, work_dir)`` replaces the grading
    command (tests use it to simulate graders that hang or crash)."""
    root, out_root = Path(root), Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    with exclusive(out_root):
        return _grade_all(root, out_root, options, scheduler, stream, command)


class BatchError(RuntimeError):
    """The batch cannot start (another one is writing to the same folder)."""


@contextlib.contextmanager
def exclusive(out_root: Path) -> Iterator[None]:
    """Hold the output folder's lock: two batches writing one gradebook would undo each other."""
    import fcntl

    with open(out_root / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BatchError(f"another grade-all is writing to {out_root}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _grade_all(
    root: Path,
    out_root: Path,
    options: BatchOptions,
    scheduler: str | None,
    stream: TextIO | None,
    command: Callable | None,
) -> BatchSummary:
    started = time.monotonic()
    stream = stream if stream is not None else sys.stderr
    subs = discover(root, exclude=[out_root])
    shutil.rmtree(out_root / PARTIAL, ignore_errors=True)  # a crashed run's leftovers

    digests = {sub.student: fingerprint(sub.path) for sub in subs}
    records: dict[str, Record] = {}
    todo: list[tuple[Submission, str]] = []
    for sub in subs:
        record = Record.load(out_root / sub.student)
        if is_current(record, digests[sub.student], options):
            records[sub.student] = record
        else:
            todo.append((sub, digests[sub.student]))
    skipped = len(records)

    if scheduler:
        from grader.batch import dask as distributed

        runner = distributed.DaskRunner(scheduler, options)
    else:
        runner = LocalRunner(options, command)
    progress = Progress(len(subs), skipped, stream)
    progress.start()
    interrupted = False
    graded_now = 0
    last_write = time.monotonic()
    results = runner.run(todo, out_root)
    try:
        for record in results:
            records[record.student] = record
            graded_now += 1
            progress.update(record)
            if time.monotonic() - last_write > 2.0:
                write_gradebook(_ordered(records, subs), out_root / GRADEBOOK, options)
                last_write = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        results.close()  # stops and reaps whatever still runs
        progress.finish()
        # The folders on disk are the truth: a result installed while Ctrl-C arrived counts too.
        current = _no_force(options)
        final = {}
        for sub in subs:
            record = Record.load(out_root / sub.student)
            if is_current(record, digests[sub.student], current):
                final[sub.student] = record
        ordered = _ordered(final, subs)
        write_gradebook(ordered, out_root / GRADEBOOK, options)
        write_answers(ordered, out_root)
        with contextlib.suppress(OSError):
            (out_root / PARTIAL).rmdir()  # only when empty
    return BatchSummary(
        total=len(subs),
        graded_now=graded_now,
        skipped=skipped,
        failed=sum(r.status != GRADED for r in final.values()),
        interrupted=interrupted,
        seconds=time.monotonic() - started,
        gradebook=out_root / GRADEBOOK,
        answers=out_root / ANSWERS_MD,
    )


def _no_force(options: BatchOptions) -> BatchOptions:
    return BatchOptions(**{**asdict(options), "force": False, "retry_failed": False})


def _ordered(records: Mapping[str, Record], subs: Sequence[Submission]) -> list[Record]:
    return [records[s.student] for s in subs if s.student in records]


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def options_from_args(args: argparse.Namespace) -> BatchOptions:
    return BatchOptions(
        jobs=args.jobs,
        timeout=args.timeout,
        only=tuple(args.only or ()),
        examples=args.examples,
        force=args.force,
        retry_failed=args.retry_failed,
    )


def run(args: argparse.Namespace) -> int:
    root, out = Path(args.submissions), Path(args.out)
    if not root.is_dir():
        print(f"nngrade: not a folder of submissions: {root}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.timeout <= 0:
        print("nngrade: --jobs must be at least 1 and --timeout positive", file=sys.stderr)
        return 2
    try:
        summary = grade_all(root, out, options_from_args(args), scheduler=args.scheduler)
    except KeyboardInterrupt:  # before grading started: nothing to save
        print("nngrade: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except BatchError as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    print(summary.line())
    return INTERRUPTED_EXIT if summary.interrupted else 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``grade-all`` to the ``nngrade`` sub-commands."""
    p = subparsers.add_parser(
        "grade-all",
        help="grade a folder of submissions in parallel into a gradebook",
        description="Grade every folder and .zip inside SUBMISSIONS, each in its own process, "
        "into --out: one report folder per student, gradebook.csv and answers.md. A re-run "
        "skips what is already graded, so an interrupted batch resumes where it stopped.",
    )
    p.add_argument("submissions", help="folder holding one folder or .zip per student")
    p.add_argument("--out", required=True, help="folder for the reports and the gradebook")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once on this machine (default: the number of cores)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=BatchOptions.timeout,
        help="seconds one submission may take before it is stopped (default: %(default)g)",
    )
    p.add_argument("--force", action="store_true", help="grade again what is already graded")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="grade again the submissions that got no report last time (timeouts, crashes)",
    )
    add_selection_options(p, passed_on=True)
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="hand submissions to a Dask distributed scheduler (tcp://host:8786) instead of "
        "grading here; needs `pip install 'nngrade[distributed]'` on every machine",
    )
    p.set_defaults(func=run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grader.batch.runner SUBMISSIONS --out DIR ...``: grade-all without the CLI."""
    parser = argparse.ArgumentParser(prog="python -m grader.batch.runner")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["grade-all", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
