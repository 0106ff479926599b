"""Running one notebook: every code cell top to bottom in an isolated kernel, each cell's error
recorded, stopping only at a time limit or a dead kernel; then the model scored in the same
kernel. Over 400 lines because each cell's budgets (CPU time, the clock) and the ways a run
ends are one state machine, best read in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from grader.notebooks import answers, build, discovery
from grader.notebooks.answers import _answers_with_all_ids
from grader.notebooks.heldout import heldout_data
from grader.notebooks.kernel import (
    IsolatedKernel,
    KernelStartError,
    _client_class,
    _make_kernel_manager,
)
from grader.notebooks.scoring import ModelScore, ModelTarget, export_source, score_state
from grader.notebooks.settings import MAX_ERROR_CHARS, MAX_MESSAGE_BYTES, NotebookOptions
from grader.sandbox import Settings
from grader.sandbox.launch import (
    SANDBOX_ROOT,
)

# ---------------------------------------------------------------------------------------------
# Running one notebook
# ---------------------------------------------------------------------------------------------


@dataclass
class CellRecord:
    """One code cell as it ran: its position, its first line, and its error if any."""

    index: int  # position among all the notebook's cells, from 1
    number: int  # position among its code cells, from 1
    first_line: str
    error: str | None = None

    def where(self) -> str:
        line = self.first_line if len(self.first_line) <= 60 else self.first_line[:57] + "..."
        return f"code cell {self.number} (`{line}`)"


@dataclass
class NotebookRun:
    """One submitted notebook, executed (or why it could not be)."""

    name: str
    where: str | None = None  # its path inside the submission
    problem: str | None = None  # could not run at all
    cells: list[CellRecord] = field(default_factory=list)
    stopped: str | None = None  # why the run ended before the last cell
    not_run: int = 0  # code cells after the one where it stopped
    seconds: float = 0.0
    answers: dict[str, str] = field(default_factory=dict)
    score: ModelScore | None = None
    isolation: str = ""
    notebook: nbformat.NotebookNode | None = None  # as executed (grader's cells included)
    kernel_marker: str = ""  # in the kernel's command line, to find its processes
    workdir: str = ""  # the run's private directory (removed when it ends)
    notes: list[str] = field(default_factory=list)  # what the grader changed or noticed
    missing: list[str] = field(default_factory=list)  # first lines of absent course cells
    course_cells: int = 0  # code cells of the course's notebook
    answered_cells: set[str] = field(default_factory=set)  # ids whose answer cell was found

    @property
    def errors(self) -> list[CellRecord]:
        return [c for c in self.cells if c.error]

    @property
    def ran_to_the_end(self) -> bool:
        return self.problem is None and self.stopped is None and not self.errors

    @property
    def is_course_notebook(self) -> bool:
        """Enough of the course's code cells are there (see discovery.missing_course_cells)."""
        if not self.course_cells:
            return True
        kept = self.course_cells - len(self.missing)
        return kept >= discovery.REQUIRED_COURSE_CELLS * self.course_cells

    @property
    def unanswered(self) -> list[str]:
        """Questions whose answer cell is there but empty (a deleted cell is not guessed at)."""
        return [
            qid
            for qid, text in self.answers.items()
            if qid in self.answered_cells and not text.strip()
        ]


#: Seconds between two looks at the kernel's CPU time while a cell runs.
CPU_POLL_SECONDS = 0.25


class _OutOfCpu(Exception):
    """A cell used up its CPU time (the grader cancelled it)."""


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _cell_error(cell: Mapping) -> str | None:
    for output in cell.get("outputs", []) or []:
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            text = text.rstrip(":").strip()
            return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
    return None


class _NotebookExecution:
    """Executes one parsed notebook in a fresh isolated kernel (see :func:`run_notebook`)."""

    def __init__(
        self,
        run: NotebookRun,
        nb: nbformat.NotebookNode,
        kernel: IsolatedKernel,
        options: NotebookOptions,
        target: ModelTarget | None,
    ) -> None:
        self.run = run
        self.nb = nb
        self.kernel = kernel
        self.options = options
        self.target = target

    async def execute(self) -> None:
        import zmq
        import zmq.asyncio

        options = self.options
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        context.setsockopt(zmq.LINGER, 0)
        km = _make_kernel_manager(self.kernel, context, options.start_timeout)
        client = _client_class()(
            self.nb,
            km=km,
            timeout=int(options.cell_timeout),
            allow_errors=True,
            record_timing=False,
            startup_timeout=int(options.start_timeout),
            iopub_timeout=4,
            kernel_name=build.KERNEL_NAME,
            shutdown_kernel="immediate",
        )
        client.output_budget = options.output_limit
        client.timeout_func = lambda cell: client.current_timeout
        started = time.monotonic()
        deadline = started + options.notebook_timeout * options.wall_slack
        try:
            try:
                await km.start_kernel()
                await client.async_start_new_kernel_client()
            except Exception as exc:
                self.run.stopped = self._start_failure(exc)
                self.run.not_run = sum(1 for c in self.nb.cells if _runs(c))
                return
            await self._run_cells(client, deadline)
            if self.target is not None and self.run.stopped is None:
                await self._score(client)
        finally:
            self.run.isolation = self.kernel.isolation()
            self.kernel.kill()
            with contextlib.suppress(Exception):
                if client.kc is not None:
                    client.kc.stop_channels()
            with contextlib.suppress(Exception):
                km._close_control_socket()
            context.destroy(linger=0)

    def _start_failure(self, exc: Exception) -> str:
        if isinstance(exc, KernelStartError):
            reason = str(exc)
        elif self.kernel.poll() is not None:
            reason = f"the kernel {self.kernel.how_it_ended()} while starting"
        else:
            reason = f"the kernel did not answer ({type(exc).__name__}: {exc})"
        tail = self.kernel.log_tail(600)
        return f"The notebook could not be run: {reason}." + (
            f"\nKernel log (end):\n{tail}" if tail else ""
        )

    async def _execute_within_cpu(
        self, client: Any, cell: Any, index: int, count: int, cpu_limit: float
    ) -> None:
        """Run one cell; cancel it (raising _OutOfCpu) once the kernel used ``cpu_limit`` s of
        CPU time on it. Wall time is bounded by nbclient's timeout only, as a safety net."""
        start = self.kernel.cpu_seconds()
        task = asyncio.ensure_future(client.async_execute_cell(cell, index, execution_count=count))
        while not task.done():
            await asyncio.wait({task}, timeout=CPU_POLL_SECONDS)
            used = self.kernel.cpu_seconds()
            if task.done() or start is None or used is None or used - start <= cpu_limit:
                continue
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise _OutOfCpu
        task.result()

    async def _run_cells(self, client: Any, deadline: float) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        options = self.options
        code_cells = [(i, c) for i, c in enumerate(self.nb.cells) if _runs(c)]
        first_cpu = self.kernel.cpu_seconds()
        for position, (index, cell) in enumerate(code_cells):
            record = CellRecord(index + 1, position + 1, _first_line(cell.source))
            remaining = deadline - time.monotonic()
            now_cpu = self.kernel.cpu_seconds()
            used = now_cpu - first_cpu if now_cpu is not None and first_cpu is not None else 0.0
            cpu_left = options.notebook_timeout - used
            left = len(code_cells) - position
            if remaining < 1 or cpu_left < 1:
                if cpu_left < 1:
                    budget = f"{options.notebook_timeout:g} s of CPU time"
                else:
                    budget = f"{options.notebook_timeout * options.wall_slack:g} s on the clock"
                self.run.stopped = (
                    f"The notebook used up its {budget} in total before {record.where()}; "
                    f"{left} code cell(s) did not run."
                )
                self.run.not_run = left
                return
            cpu_limit = min(options.cell_timeout, cpu_left)
            slack = options.wall_slack if first_cpu is not None else 1.0  # no CPU clock: wall
            client.current_timeout = max(1, int(min(options.cell_timeout * slack, remaining)))
            try:
                await self._execute_within_cpu(client, cell, index, position + 1, cpu_limit)
            except (CellTimeoutError, _OutOfCpu) as exc:
                self.run.cells.append(record)
                cpu, total = options.cell_timeout, options.notebook_timeout
                if isinstance(exc, _OutOfCpu) and cpu_limit < cpu:
                    why = f"the notebook's total of {total:g} s of CPU time ran out"
                elif isinstance(exc, _OutOfCpu):
                    why = f"it used more than {cpu:g} s of CPU time, the limit per cell"
                else:
                    why = (
                        f"it ran longer than {client.current_timeout:g} s on the clock (the "
                        f"grader allows {options.wall_slack:g} times the {cpu:g} s of CPU time "
                        "a cell may use)"
                    )
                record.error = "timed out"
                self.kernel.kill()
                self.run.stopped = (
                    f"{record.where()} was stopped because {why}; the kernel was shut down and "
                    f"the {left - 1} code cell(s) after it did not run."
                )
                self.run.not_run = left - 1
                return
            except DeadKernelError:
                self.run.cells.append(record)
                record.error = "the kernel died"
                self.run.stopped = (
                    f"The kernel {self.kernel.how_it_ended()} while running {record.where()}; "
                    f"the {left - 1} code cell(s) after it did not run."
                )
                self.run.not_run = left - 1
                return
            except Exception as exc:  # a message nbclient could not follow (a hostile kernel)
                self.run.cells.append(record)
                record.error = f"the grader lost track of the kernel ({type(exc).__name__})"
                self.run.stopped = (
                    f"The grader could not follow the kernel while running {record.where()} "
                    f"({type(exc).__name__}); the {left - 1} code cell(s) after it did not run."
                )
                self.run.not_run = left - 1
                return
            record.error = _cell_error(cell)
            self.run.cells.append(record)

    async def _score(self, client: Any) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        target = self.target
        assert target is not None
        score = self.run.score = ModelScore(target)
        exchange = self.kernel.exchange
        state_file = exchange / "model.npz"
        fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        if self.kernel.uid is not None:
            os.chown(state_file, self.kernel.uid, self.kernel.uid)
        inside = f"{SANDBOX_ROOT}/exchange"
        report = self.kernel.process.report if self.kernel.process else None
        if not (report or {}).get("private_root"):
            inside = str(exchange)
        cell = nbformat.v4.new_code_cell(export_source(target, f"{inside}/model.npz"))
        self.nb.cells.append(cell)
        client.current_timeout = max(1, int(self.options.scoring_timeout))
        what = f"saving `{target.variable}`"
        try:
            await client.async_execute_cell(cell, len(self.nb.cells) - 1)
        except CellTimeoutError:
            score.problem = f"{what} took longer than {self.options.scoring_timeout:g} s"
            return
        except DeadKernelError:
            score.problem = f"the kernel {self.kernel.how_it_ended()} while {what}"
            return
        except Exception as exc:
            score.problem = f"the grader lost track of the kernel while {what} ({exc!r})"
            return
        error = _cell_error(cell)
        if error:
            score.problem = f"{what} failed: {error}"
            return
        self.kernel.kill()  # the model is saved; nothing the kernel does may touch it now
        images, labels = heldout_data(self.options.heldout_images)
        score_state(score, state_file, images, labels)


def _code_of(nb: Mapping) -> str:
    return "\n".join(str(c.get("source", "")) for c in nb.get("cells", []) if _runs(c))


def _runs(cell: Mapping) -> bool:
    return cell.get("cell_type") == "code" and bool(str(cell.get("source", "")).strip())


def _in_thread(coroutine_factory, limit: float, on_overrun) -> bool:
    """Run a coroutine on an event loop of its own thread (safe under any caller's loop).

    nbclient bounds every wait by a timeout, so ``limit`` is only a safety net: past it
    ``on_overrun`` (killing the kernel, which ends every wait) is called. Returns False if the
    thread still did not finish; it is then abandoned (a daemon thread).
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine_factory())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="nngrade-notebook", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        on_overrun()
        thread.join(30)
        if thread.is_alive():
            return False
    if failure:
        raise failure[0]
    return True


def run_notebook(
    name: str,
    nb: nbformat.NotebookNode,
    package_path: Path,
    options: NotebookOptions,
    settings: Settings,
    hide: list[Path],
    data_dir: Path | None = None,
    target: ModelTarget | None = None,
    where: str | None = None,
) -> NotebookRun:
    """Execute ``nb`` (outputs already stripped) beside the prepared package ``package_path``.

    The kernel's working directory is a private copy of ``package_path``'s parent folder with
    the notebook saved into it. With a ``target`` the model it names is scored afterwards.
    """
    found = answers.notebook_answers_of(name, nb)
    run = NotebookRun(name, where=where, answers=_answers_with_all_ids(name, found))
    run.answered_cells = set(found)
    course = answers.course_notebook(name)
    if course is not None:
        run.missing, run.course_cells = discovery.missing_course_cells(nb, course)
        options = options.for_course_notebook(_code_of(course))
    run.notes.extend(discovery.neutralise_setup(nb))
    run.notes.extend(options.data_note(_code_of(nb)))
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="nngrade-nb-"))
    os.chmod(workdir, 0o711)  # an unprivileged kernel without a private root must traverse it
    kernel = None
    try:
        submission_dir = workdir / "submission"
        shutil.copytree(package_path.parent, submission_dir)
        notebook_file = submission_dir / f"{name}.ipynb"
        notebook_file.write_text(build.render(nb), encoding="utf-8")
        os.chmod(notebook_file, 0o644)
        os.chmod(submission_dir, 0o755)
        kernel_dir = workdir / "kernel"
        kernel_dir.mkdir(mode=0o700)
        marker = f"nngrade-kernel-{secrets.token_hex(6)}"
        run.kernel_marker, run.workdir = marker, str(workdir)
        kernel = IsolatedKernel(
            kernel_dir, submission_dir, data_dir, options.limits, settings, hide, marker,
            env=options.data_env(),
        )  # fmt: skip
        run.notebook = nb
        execution = _NotebookExecution(run, nb, kernel, options, target)
        limit = options.notebook_timeout * options.wall_slack
        limit += options.start_timeout + options.scoring_timeout + 60
        if not _in_thread(execution.execute, limit, kernel.kill):
            run.stopped = "The grader lost track of the notebook's run and stopped it."
        if target is not None and run.score is None:
            run.score = ModelScore(
                target, problem="the notebook did not finish, so there was no model to score"
            )
    finally:
        if kernel is not None:
            kernel.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        run.seconds = time.perf_counter() - started
    return run
