"""Grading one submission in its own ``python -m grader grade`` process, with a wall-clock limit,
into a folder that appears by rename once the grading is over.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from grader.batch.records import (
    CRASHED,
    GRADED,
    LOG,
    PARTIAL,
    RECORD,
    TIMEOUT,
    UNGRADABLE,
    UNGRADABLE_EXIT,
    BatchOptions,
    Record,
    Submission,
    fingerprint,
    read_test_scores,
)
from grader.reports.files import atomic_write

# ---------------------------------------------------------------------------------------------
# Grading one submission in its own process
# ---------------------------------------------------------------------------------------------


class ProcessRegistry:
    """The grading processes alive now, so that Ctrl-C can stop every one of them at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen] = set()
        self.cancelled = threading.Event()

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.add(proc)
        if self.cancelled.is_set():
            kill_group(proc)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a grading process and everything it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def grade_command(submission: Path, out_dir: Path, options: BatchOptions) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(Path(submission).resolve()),
        "--out",
        str(Path(out_dir).resolve()),
        *options.grade_args(),
    ]


def child_env() -> dict[str, str]:
    """The environment of a grading process: one BLAS thread each, since jobs already fill the
    cores (the sandbox's workers are set the same way by the sandbox itself)."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def last_line(log: Path, prefix: str = "") -> str:
    """The last non-empty line of a log (preferring lines starting with ``prefix``)."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    chosen = [ln for ln in lines if prefix and ln.startswith(prefix)] or lines
    return chosen[-1][:500] if chosen else ""


def run_grading(
    submission: Path,
    work: Path,
    options: BatchOptions,
    registry: ProcessRegistry | None = None,
    command: Sequence[str] | None = None,
) -> Record | None:
    """Grade ``submission`` into the folder ``work`` in a child process; None when cancelled.

    The returned record has status, reason, score and time; the caller adds who and which."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = list(command) if command is not None else grade_command(submission, work, options)
    log_path = work / LOG
    started = time.monotonic()
    timed_out = False
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C at the terminal reaches only grade-all, which decides
            env=child_env(),
        )
        if registry is not None:
            registry.add(proc)
        try:
            proc.wait(timeout=options.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            proc.wait()
        finally:
            if registry is not None:
                registry.discard(proc)
    seconds = time.monotonic() - started
    if registry is not None and registry.cancelled.is_set():
        return None
    record = Record(student="", submission=str(submission), status=CRASHED, seconds=seconds)
    record.returncode = proc.returncode
    if timed_out:
        record.status = TIMEOUT
        record.reason = f"grading took longer than {options.timeout:g} s and was stopped"
        return record
    if proc.returncode == 0:
        results = work / "results.json"
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
            record.score, record.max_score = float(data["score"]), float(data["max_score"])
            record.status = GRADED
            record.tests = read_test_scores(results) or {}
            return record
        except (OSError, ValueError, KeyError, TypeError):
            record.reason = "the grader exited without writing a readable results.json"
            return record
    if proc.returncode == UNGRADABLE_EXIT:
        record.status = UNGRADABLE
        reason = last_line(log_path, "nngrade:")
        record.reason = reason.removeprefix("nngrade:").strip() or "the submission is unusable"
        return record
    code = proc.returncode
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    tail = last_line(log_path)
    record.reason = f"the grader stopped with {how}" + (f": {tail}" if tail else "")
    return record


def new_work_dir(out_root: Path, student: str) -> Path:
    partial = out_root / PARTIAL
    partial.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{student}.", dir=partial))


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back while a finished result is moved into place (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def install(work: Path, record: Record, out_root: Path) -> Path:
    """Write ``record`` into ``work`` and move ``work`` to ``out_root/<student>`` as one rename."""
    target = out_root / record.student
    with _sigint_deferred():
        atomic_write(work / RECORD, record.to_json(), newline="")
        trash = None
        if target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f"{record.student}.old.", dir=work.parent))
            os.rename(target, trash / "old")
        os.rename(work, target)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    return target


def grade_one(
    sub: Submission,
    out_root: Path,
    options: BatchOptions,
    registry: ProcessRegistry | None = None,
    command: Sequence[str] | None = None,
    sub_fingerprint: str | None = None,
) -> Record | None:
    """Grade one submission and put its finished folder in place; None when cancelled."""
    work = new_work_dir(out_root, sub.student)
    try:
        cmd = command(sub, work) if callable(command) else command
        record = run_grading(sub.path, work, options, registry, cmd)
        if record is None:
            return None
        record.student = sub.student
        record.submission = str(sub.path)
        record.fingerprint = sub_fingerprint or fingerprint(sub.path)
        record.settings = options.settings_key()
        install(work, record, out_root)
        return record
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
