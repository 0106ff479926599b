"""Grading the submitted notebooks: run each one in an isolated kernel, then score its model.

A notebook is graded by executing it, never by reading what it claims: the outputs saved in the
submitted file are dropped and every code cell is run again, top to bottom, with nbclient in the
grader process. The kernel it talks to is started through the sandbox's launcher
(:func:`grader.sandbox.isolated_command`), so it gets the same isolation as the grading worker:
its own namespaces (no network), a private root holding only the interpreter, the packages a
notebook needs and a copy of the student's package (with the course's given modules swapped in),
an unprivileged uid and the sandbox's resource limits. It is reached over ZMQ's ``ipc``
transport, through unix sockets in one directory bound into its private root, because it has no
network to listen on.

Students delete, reorder, retype and edit cells, so the grader assumes nothing about the
notebook's shape: it runs what is there, records each cell's error, and stops only when a cell
outlives its time limit, the notebook its total budget, or the kernel itself. The models two of
the notebooks leave behind are then scored by cells the grader appends in the same kernel: they
load held-out images from a file the grader wrote, subtract the notebook's ``mean_image``, and
save the model's scores with ``np.save``; the grader counts the accuracy with labels that never
leave it. The accuracy thresholds come from running the course's own notebooks
(:func:`calibrate`).

One grading run executes each notebook once (:class:`SubmissionNotebooks` caches the runs), so
the "runs to the end" checks and the model checks share it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from grader.notebooks import answers
from grader.notebooks.answers import _answers_with_all_ids
from grader.notebooks.discovery import NotebookProblem, find_notebook, parse_notebook, strip_outputs
from grader.notebooks.execution import NotebookRun, _cell_error, _runs, run_notebook
from grader.notebooks.heldout import _prepare_data_cache
from grader.notebooks.scoring import MODEL_TARGETS, ModelScore
from grader.notebooks.settings import NotebookOptions
from grader.sandbox import Settings
from grader.sandbox.errors import SubmissionError
from grader.sandbox.launch import (
    hidden_paths,
)
from grader.sandbox.submission import prepare_package

# ---------------------------------------------------------------------------------------------
# A submission's notebooks, each executed once per grading run
# ---------------------------------------------------------------------------------------------


class SubmissionNotebooks:
    """Runs a submission's notebooks on demand and remembers each run.

    The package is prepared once (unpacked, copied, the course's given modules swapped in, as
    for the grading worker); each notebook then runs in a fresh kernel. Use as a context
    manager, or call :meth:`close`.
    """

    def __init__(
        self,
        submission: str | os.PathLike,
        options: NotebookOptions | None = None,
        settings: Settings | None = None,
        course_package: str | os.PathLike | None = None,
    ) -> None:
        from grader.sandbox import default_course_package

        self.submission = Path(submission)
        self.options = options or NotebookOptions()
        self.settings = settings or Settings()
        self.course_package = Path(course_package or default_course_package()).resolve()
        self.hide = hidden_paths(self.settings, self.course_package)
        self.runs: dict[str, NotebookRun] = {}
        self._workdir: Path | None = None
        self._package: Path | None = None
        self._package_problem: str | None = None
        self._data_dir: Path | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> SubmissionNotebooks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _prepare(self) -> None:
        if self._workdir is not None:
            return
        self._workdir = Path(tempfile.mkdtemp(prefix="nngrade-notebooks-"))
        try:
            prepared = prepare_package(
                self.submission, self._workdir, self.course_package, self.settings,
                self.options.limits,
            )  # fmt: skip
            self._package = prepared.path
        except SubmissionError as exc:
            self._package_problem = str(exc)
        self._data_dir = self._workdir / "data"
        try:
            _prepare_data_cache(self._data_dir)
        except Exception:  # no cache: each notebook generates its images itself
            self._data_dir = None

    def run(self, name: str) -> NotebookRun:
        """The run of notebook ``name`` (executed on first request)."""
        with self._lock:
            if name not in self.runs:
                self.runs[name] = self._execute(name)
            return self.runs[name]

    def _execute(self, name: str) -> NotebookRun:
        started = time.perf_counter()
        target = MODEL_TARGETS.get(name)
        try:
            where, data = find_notebook(self.submission, name)
            nb = parse_notebook(data, where)
            saved = saved_errors(nb)
            nb = strip_outputs(nb)
        except NotebookProblem as exc:
            run = NotebookRun(name, problem=str(exc), answers=_answers_with_all_ids(name, {}))
            if target is not None:
                run.score = ModelScore(target, problem=f"{name}.ipynb could not be run")
            run.seconds = time.perf_counter() - started
            return run
        self._prepare()
        if self._package is None:
            run = NotebookRun(
                name,
                where=where,
                problem=f"Your package could not be prepared for the notebook: "
                f"{self._package_problem}",
                answers=_answers_with_all_ids(name, answers.notebook_answers_of(name, nb)),
            )
            if target is not None:
                run.score = ModelScore(target, problem=f"{name}.ipynb could not be run")
            return run
        run = run_notebook(
            name, nb, self._package, self.options, self.settings, self.hide,
            data_dir=self._data_dir, target=target, where=where,
        )  # fmt: skip
        run.notes.extend(saved_run_note(saved, run))
        return run


def saved_errors(nb) -> dict[int, str] | None:
    """Errors the handed-in file's saved run shows, by code cell number (from 1); None when the
    file holds no run (never executed, or saved with its outputs cleared). Read before the
    outputs are dropped, only to tell the student; nothing saved is ever scored."""
    code = [c for c in nb.cells if _runs(c)]
    if not any(c.get("execution_count") for c in code):
        return None
    return {i + 1: error for i, c in enumerate(code) if (error := _cell_error(c))}


def saved_run_note(saved: dict[int, str] | None, run: NotebookRun) -> list[str]:
    """One sentence when the student's saved run and the grader's disagree about errors."""
    if saved is None or run.problem:
        return []
    graders = {c.number for c in run.errors}
    if not saved and graders:
        return [
            "Your saved notebook shows no error, but the grader's run from a fresh kernel does "
            "(see above): the saved run may depend on cells run out of order or on files "
            "only your machine has."
        ]
    if saved and not graders and run.stopped is None:
        first = min(saved)
        return [
            f"Your saved notebook shows {len(saved)} error(s) (the first in code cell {first}: "
            f"{saved[first]}); the grader's run had none. Only the grader's run counts."
        ]
    return []
