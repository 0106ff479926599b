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
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from grader import __version__
from grader.reports import atomic_write
from grader.selection import add_selection_options, selection_args

PARTIAL = ".partial"
LOCK = ".lock"
RECORD = "batch.json"
LOG = "grade.log"
GRADEBOOK = "gradebook.csv"
ANSWERS_JSON = "answers.json"
ANSWERS_MD = "answers.md"

#: Outcomes of one submission. Only "graded" has a report; the others carry a reason.
GRADED, UNGRADABLE, TIMEOUT, CRASHED = "graded", "ungradable", "timeout", "crashed"

#: Exit status of ``nngrade grade`` when it could not grade at all (see grader/cli.py).
UNGRADABLE_EXIT = 2
#: Exit status of ``grade-all`` when Ctrl-C stopped it (the shell's convention for SIGINT).
INTERRUPTED_EXIT = 130


@dataclass(frozen=True)
class BatchOptions:
    """How a batch grades; ``only`` and ``examples`` are passed through to ``nngrade grade``."""

    jobs: int = 1
    timeout: float = 1800.0  # seconds of wall time for one submission, everything included
    only: tuple[str, ...] = ()
    examples: int | None = None
    force: bool = False
    retry_failed: bool = False

    def grade_args(self) -> list[str]:
        return selection_args(self.only, self.examples)

    def settings_key(self) -> dict:
        """What a finished result was graded with; a different key means grade again."""
        return {"only": sorted(self.only), "examples": self.examples, "nngrade": __version__}


@dataclass(frozen=True)
class Submission:
    student: str  # the name of its row and of its report folder
    path: Path


@dataclass
class Record:
    """The outcome of one submission, as stored in its folder's batch.json."""

    student: str
    submission: str
    status: str
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    fingerprint: str = ""
    settings: dict = field(default_factory=dict)
    returncode: int | None = None
    tests: dict[str, float] = field(default_factory=dict)  # from results.json, not stored

    def to_json(self) -> str:
        data = asdict(self)
        del data["tests"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, folder: Path) -> Record | None:
        """The record of a finished folder, or None when the folder is not a finished one."""
        try:
            data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
            record = cls(**{k: v for k, v in data.items() if k != "tests"})
        except (OSError, ValueError, TypeError):
            return None
        if record.status == GRADED:
            tests = read_test_scores(folder / "results.json")
            if tests is None:
                return None
            record.tests = tests
        return record


# ---------------------------------------------------------------------------------------------
# Finding submissions and deciding what to grade
# ---------------------------------------------------------------------------------------------


def discover(root: Path, exclude: Iterable[Path] = ()) -> list[Submission]:
    """Every folder and .zip directly inside ``root``, named after the file (``alice.zip`` is
    alice); hidden entries and ``exclude`` (the output folder when it sits inside) are skipped.
    When ``alice/`` and ``alice.zip`` both exist the archive keeps its suffix in its name."""
    excluded = {p.resolve() for p in exclude}
    entries = []
    for path in sorted(Path(root).iterdir()):
        if path.name.startswith(".") or path.resolve() in excluded:
            continue
        if path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
            entries.append(path)
    stems = [p.stem if p.is_file() else p.name for p in entries]
    subs = []
    for path, stem in zip(entries, stems, strict=True):
        student = stem if stems.count(stem) == 1 or path.is_dir() else path.name
        subs.append(Submission(student, path))
    return subs


def fingerprint(path: Path) -> str:
    """A digest of a submission's content (file names and bytes), to notice a resubmission."""
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_file():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return "sha256:" + digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = file.relative_to(path).as_posix()
        if "__pycache__" in rel.split("/"):
            continue
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


def is_current(record: Record | None, sub_fingerprint: str, options: BatchOptions) -> bool:
    """Whether a stored result can stand for this run (the skip rule of a resumed batch)."""
    if record is None or options.force:
        return False
    if record.fingerprint != sub_fingerprint or record.settings != options.settings_key():
        return False
    return not (options.retry_failed and record.status != GRADED)


def read_test_scores(results_json: Path) -> dict[str, float] | None:
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
        return {str(t["name"]): float(t["score"]) for t in data.get("tests", [])}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


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
# Progress bar
# ---------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{minutes}" if hours else minutes


class Progress:
    """A live one-line progress bar with an ETA on a terminal; one line per submission elsewhere.

    At each finished submission the finish time is projected from the mean wall time per
    submission finished in this run (which already reflects the parallelism; skipped ones do
    not count); on a terminal the bar is redrawn every second and the ETA counts down."""

    def __init__(
        self,
        total: int,
        skipped: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        width: int = 24,
    ) -> None:
        self.total, self.skipped, self.stream = total, skipped, stream
        self.clock, self.width = clock, width
        self.done = 0
        self.failed = 0
        self.started = clock()
        self.finish_at: float | None = None
        self.last: Record | None = None
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        self.started = self.clock()
        if self.skipped:
            self._emit(f"{self.skipped} of {self.total} already graded: skipped (--force regrades)")
        if self.tty:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def eta(self) -> float | None:
        return None if self.finish_at is None else max(0.0, self.finish_at - self.clock())

    def line(self) -> str:
        finished = self.skipped + self.done
        filled = int(self.width * finished / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        eta = self.eta()
        parts = [
            f"[{bar}] {finished}/{self.total}",
            f"{self.failed} failed" if self.failed else "",
            f"elapsed {_clock(self.clock() - self.started)}",
            f"ETA {_clock(eta)}" if eta is not None else "ETA --:--",
        ]
        if self.last is not None:
            parts.append(f"last: {self.last.student} {_outcome(self.last)}")
        return "  ".join(p for p in parts if p)

    def update(self, record: Record) -> None:
        with self._lock:
            self.done += 1
            self.failed += record.status != GRADED
            self.last = record
            now = self.clock()
            left = self.total - self.skipped - self.done
            self.finish_at = now + (now - self.started) / self.done * left
            if self.tty:
                self._draw()
            else:
                self._emit(self.line())

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty:
            with self._lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + self.line()[: columns - 1].ljust(columns - 1))
        self.stream.flush()

    def _emit(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _outcome(record: Record) -> str:
    if record.status == GRADED:
        return f"{record.score:g}/{record.max_score:g}"
    return record.status


# ---------------------------------------------------------------------------------------------
# Gradebook and answers
# ---------------------------------------------------------------------------------------------


def check_columns(records: Iterable[Record]) -> list[str]:
    """Check names in the rubric's order, then any the rubric does not know, sorted."""
    from grader.course import rubric

    seen = {name for r in records for name in r.tests}
    known = [item.name for item in rubric.ITEMS if item.name in seen]
    return known + sorted(seen.difference(known))


def expected_max(options: BatchOptions) -> float:
    """The points a submission could get under these settings (for rows without a report)."""
    from grader.course import rubric
    from grader.grade import GradeSettings

    settings = GradeSettings(objects=tuple(options.only))
    return round(sum(item.points for item in rubric.ITEMS if settings.selects(item)), 4)


def gradebook_csv(records: Sequence[Record], options: BatchOptions) -> str:
    """One row per student. A submission without a report gets 0 points, empty check cells,
    its status and the reason, so no student silently drops out of the gradebook."""
    columns = check_columns(records)
    fallback_max = expected_max(options)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", "total", "max_score", *columns, "seconds", "reason"])
    for record in records:
        graded = record.status == GRADED
        cells = [f"{record.tests[c]:g}" if c in record.tests else "" for c in columns]
        writer.writerow(
            [
                record.student,
                record.status,
                f"{record.score:g}" if graded else "0",
                f"{record.max_score:g}" if graded else f"{fallback_max:g}",
                *cells,
                f"{record.seconds:.1f}",
                record.reason,
            ]
        )
    return buffer.getvalue()


def write_gradebook(records: Sequence[Record], path: Path, options: BatchOptions) -> Path:
    atomic_write(path, gradebook_csv(records, options), newline="")
    return path


def load_answers(path: Path) -> dict[str, str]:
    """A report's answers.json: ``{question id: answer}``, or grouped by notebook
    ``{notebook: {question id: answer}}``; flattened. Unreadable files give no answers."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({str(k): str(v) for k, v in value.items() if isinstance(v, str | int)})
        elif isinstance(value, str):
            flat[str(key)] = value
    return flat


def course_questions() -> tuple[list[str], dict[str, str]]:
    """The course notebooks' question ids in order, and each question's text, when available."""
    try:
        import nbformat

        from grader.notebooks import build as notebooks
    except ImportError:
        return [], {}
    order: list[str] = []
    texts: dict[str, str] = {}
    for name in getattr(notebooks, "NOTEBOOKS", ()):
        try:
            nb = nbformat.read(notebooks.notebook_path(name), as_version=4)
            order += [q for q in notebooks.answer_ids(nb) if q not in order]
            texts.update(notebooks.questions(nb))
        except Exception:  # a notebook not written yet, or unreadable: answers still merge
            continue
    return order, texts


def _quote(text: str) -> str:
    """A blockquote, so an answer's own headings cannot break the file's structure."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def merge_answers(
    answers: Mapping[str, Mapping[str, str]],
    order: Sequence[str] = (),
    questions: Mapping[str, str] | None = None,
) -> str:
    """The TA file: each question, then every student's answer to it (students sorted).

    ``answers`` maps student to ``{question id: answer}``; ``order`` gives the course's question
    order (others follow, sorted); ``questions`` the question texts to print above the answers.
    A student who did not answer (or deleted the cell) is listed as such, so TAs see who is
    missing."""
    questions = questions or {}
    students = sorted(answers)
    ids = [q for q in order if any(q in a for a in answers.values())]
    ids += sorted({q for a in answers.values() for q in a}.difference(ids))
    lines = ["# Inline question answers", ""]
    if not ids:
        lines.append("No submission carried notebook answers.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(students)} student(s), {len(ids)} question(s).")
    for qid in ids:
        lines += ["", f"## {qid}", ""]
        if questions.get(qid):
            lines += [_quote(questions[qid]), ""]
        for student in students:
            text = answers[student].get(qid, "")
            lines += [f"### {student}", ""]
            lines += [_quote(text) if text.strip() else "*(no answer)*", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_answers(records: Sequence[Record], out_root: Path) -> Path:
    collected = {}
    for record in records:
        path = out_root / record.student / ANSWERS_JSON
        if record.status == GRADED and path.is_file():
            collected[record.student] = load_answers(path)
    order, texts = course_questions() if collected else ([], {})
    target = out_root / ANSWERS_MD
    atomic_write(target, merge_answers(collected, order, texts), newline="")
    return target


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
