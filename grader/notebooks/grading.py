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

import asyncio
import contextlib
import importlib.metadata
import io
import json
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
import uuid
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat
import numpy as np

from grader.notebooks import build as nbs
from grader.sandbox import Expose, IsolatedProcess, Limits, Settings, isolated_command
from grader.sandbox.errors import SubmissionError
from grader.sandbox.launch import (
    SANDBOX_ROOT,
    describe_status,
    hidden_paths,
    make_pipe,
    sandbox_uid,
)
from grader.sandbox.submission import SKIP_DIRS, prepare_package

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

#: Seconds one cell may run. The longest cells of the course's notebooks train a model for
#: well under a minute on a CI core; three minutes leaves room for a slow machine and for a
#: student's own (slower but correct) code.
CELL_TIMEOUT = 180.0
#: Seconds the whole notebook may run, cells and kernel start-up together.
NOTEBOOK_TIMEOUT = 420.0
#: Seconds the grader's scoring cell may run (a forward pass over the held-out images).
SCORING_TIMEOUT = 120.0
#: Seconds the kernel may take to start and answer its first request.
KERNEL_START_TIMEOUT = 60.0
#: Output a notebook run may send back, in bytes of message content; later output is dropped,
#: so a cell printing in a loop cannot fill the grader's memory.
OUTPUT_LIMIT = 8 << 20
#: The largest ZMQ message accepted from the kernel (a plot is well under 1 MiB).
MAX_MESSAGE_BYTES = 16 << 20
#: The largest notebook file read from a submission.
MAX_NOTEBOOK_BYTES = 64 << 20
#: Characters of a cell's error kept for feedback.
MAX_ERROR_CHARS = 300
#: Errors listed one by one in the feedback; the others are counted.
LISTED_ERRORS = 3

#: Held-out images each model is scored on. The accuracy's standard error is at most
#: sqrt(0.25 / 1000) = 0.016, and 0.0095 near chance.
HELDOUT_IMAGES = 1000
NUM_CLASSES = 10
#: The held-out images come from the embedded dataset's test split under the grader's secret
#: seed (:func:`grader.checks.training.heldout_seed`), the same distribution the notebooks train on.
HELDOUT_SPLIT = "test"
#: What guessing scores on the held-out images (ten classes drawn uniformly).
CHANCE_ACCURACY = 0.10
#: How far below the reference's accuracy a correct implementation may land: the notebooks seed
#: numpy before training, so a correct implementation retraces the reference, and the margin
#: covers floating-point and operation-order differences compounding over training, plus
#: reasonable changes of the FC notebook's hyperparameters (students choose their own).
MARGIN = 0.10
#: Standard errors of guessing above chance a threshold should stay, so that a model that
#: learned nothing (untrained, or broken) fails: with 1000 images, 3 SE is 0.028.
CHANCE_STANDARD_ERRORS = 3.0
#: The least the reference must clear its own threshold by, whatever else gives way: the
#: course's solution always earns full marks.
REFERENCE_MIN_MARGIN = 0.02

#: Where the kernel looks for CIFAR-10: nowhere, so the embedded synthetic dataset is used.
MISSING_CIFAR10_DIR = "/nonexistent/cifar-10-batches-py"
#: The top-level distributions the kernel may import (with all they require).
KERNEL_DISTRIBUTIONS = ("ipykernel", "matplotlib", "numpy")
#: Distributions left out although required: the debugger is never used when grading.
KERNEL_EXCLUDED = frozenset({"debugpy"})
#: Synthetic images handed to the kernel ready-made (per split), so each notebook does not
#: generate them again; a notebook asking for more generates the rest itself.
DATA_CACHE_SIZES = {"train": 6000, "val": 1000, "test": 1000}


def chance_floor(n: int = HELDOUT_IMAGES, chance: float = CHANCE_ACCURACY) -> float:
    """Chance plus a few standard errors of guessing: the lowest informative threshold."""
    return chance + CHANCE_STANDARD_ERRORS * math.sqrt(chance * (1 - chance) / n)


def _down(x: float) -> float:
    return math.floor(round(x * 100, 6)) / 100


def threshold_below(reference_accuracy: float) -> float:
    """The threshold for a model whose reference reaches ``reference_accuracy``.

    ``MARGIN`` below the reference, rounded down to a hundredth, when that stays above
    :func:`chance_floor`. A reference too close to chance for that gets the floor itself, as
    long as it clears it by ``REFERENCE_MIN_MARGIN``; a reference closer still gets
    ``REFERENCE_MIN_MARGIN`` below it, and then the check no longer fails a model that learned
    nothing (:func:`informative` is False, and :func:`calibrate` warns).
    """
    floor = math.ceil(round(chance_floor() * 100, 6)) / 100
    usual = _down(reference_accuracy - MARGIN)
    if usual >= floor:
        return usual
    if reference_accuracy - REFERENCE_MIN_MARGIN >= floor:
        return floor
    return _down(reference_accuracy - REFERENCE_MIN_MARGIN)


def informative(threshold: float) -> bool:
    """Does ``threshold`` fail a model that only guesses?"""
    return threshold >= chance_floor()


@dataclass(frozen=True)
class ModelTarget:
    """A model a notebook must leave behind, scored on held-out images."""

    notebook: str
    variable: str
    rubric_item: str
    #: Accuracy of the course's notebook on the held-out images, from :func:`calibrate`.
    reference_accuracy: float
    #: Accuracy the student's model must reach: ``threshold_below(reference_accuracy)``.
    threshold: float


#: Measured with :func:`calibrate` (``python -m grader.notebooks.grading``) on the embedded
#: dataset (version 2) with the default held-out seed; rerun it and update these whenever the
#: notebooks, the dataset or the held-out seed change.
FC_REFERENCE_ACCURACY = 0.233
#: The notebook's one-epoch run (6000 images, weight_scale 1e-2, Adam 2e-4, batch 25: the
#: settings of the training check ``cnn_train``). Other model seeds moved the training check's
#: accuracy by about five points either way, hence the ten-point ``MARGIN``.
CNN_REFERENCE_ACCURACY = 0.472

MODEL_TARGETS: dict[str, ModelTarget] = {
    "FullyConnectedNets": ModelTarget(
        "FullyConnectedNets",
        nbs.BEST_MODEL_VARIABLE,
        "notebook.FullyConnectedNets best_model reaches the accuracy threshold",
        FC_REFERENCE_ACCURACY,
        threshold_below(FC_REFERENCE_ACCURACY),
    ),
    "ConvolutionalNetworks": ModelTarget(
        "ConvolutionalNetworks",
        nbs.ONE_EPOCH_MODEL_VARIABLE,
        "notebook.ConvolutionalNetworks one-epoch model reaches the accuracy threshold",
        CNN_REFERENCE_ACCURACY,
        threshold_below(CNN_REFERENCE_ACCURACY),
    ),
}


@dataclass(frozen=True)
class NotebookOptions:
    """Time and resource limits of one notebook run."""

    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    scoring_timeout: float = SCORING_TIMEOUT
    start_timeout: float = KERNEL_START_TIMEOUT
    output_limit: int = OUTPUT_LIMIT
    heldout_images: int = HELDOUT_IMAGES
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_grade_settings(cls, settings: Any) -> NotebookOptions:
        """Options for a grading run: its memory limit and any ``notebook_*`` overrides."""
        extra = dict(getattr(settings, "extra_limits", {}) or {})
        limits = Limits(**extra)
        memory_mb = getattr(settings, "memory_mb", None)
        if memory_mb:
            limits = replace(limits, memory_bytes=int(memory_mb) << 20)
        return cls(
            cell_timeout=float(getattr(settings, "notebook_cell_timeout", CELL_TIMEOUT)),
            notebook_timeout=float(getattr(settings, "notebook_timeout", NOTEBOOK_TIMEOUT)),
            limits=limits,
        )


# ---------------------------------------------------------------------------------------------
# Finding and reading the submitted notebooks
# ---------------------------------------------------------------------------------------------


class NotebookProblem(Exception):
    """The notebook cannot be run at all (missing, unreadable, not a notebook); the message
    is the feedback."""


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1])


def _pick(candidates: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The shallowest candidate, ties broken by path, so the choice is reproducible."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0].count("/"), c[0]))


def find_notebook(submission: Path, name: str) -> tuple[str, bytes]:
    """``(path inside the submission, file bytes)`` of notebook ``name`` (``<name>.ipynb``).

    The file is matched by name, case-insensitively, anywhere in the submission (at its top,
    inside a wrapping folder, or deeper); the shallowest match wins. Raises NotebookProblem.
    """
    wanted = f"{name}.ipynb".lower()
    submission = Path(submission)
    if submission.is_file():
        try:
            archive = zipfile.ZipFile(submission)
        except (zipfile.BadZipFile, OSError) as exc:
            raise NotebookProblem(f"{submission.name} could not be opened ({exc}).") from None
        with archive:
            found = []
            for info in archive.infolist():
                rel = PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir() or not rel.parts or _skipped(rel.parts) or ".." in rel.parts:
                    continue
                if rel.name.lower() == wanted and not stat.S_ISLNK(info.external_attr >> 16):
                    found.append((str(rel), info))
            chosen = _pick(found)
            if chosen is None:
                raise NotebookProblem(_missing_message(name))
            where, info = chosen
            if info.file_size > MAX_NOTEBOOK_BYTES:
                raise NotebookProblem(_too_big_message(where, info.file_size))
            try:
                with archive.open(info) as fh:
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                message = f"{where} could not be read from the archive ({exc})."
                raise NotebookProblem(message) from None
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise NotebookProblem(_too_big_message(where, len(data)))
            return where, data
    found = []
    for dirpath, dirnames, filenames in os.walk(submission, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for filename in filenames:
            if filename.lower() == wanted:
                path = Path(dirpath) / filename
                if stat.S_ISREG(path.lstat().st_mode):
                    found.append((path.relative_to(submission).as_posix(), path))
    chosen = _pick(found)
    if chosen is None:
        raise NotebookProblem(_missing_message(name))
    where, path = chosen
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(_too_big_message(where, size))
    return where, path.read_bytes()


def _missing_message(name: str) -> str:
    return (
        f"{name}.ipynb was not found in your submission. Hand in the notebook under its "
        "original file name, next to your package folder."
    )


def _too_big_message(where: str, size: int) -> str:
    return (
        f"{where} is {size / (1 << 20):.0f} MiB, more than the {MAX_NOTEBOOK_BYTES >> 20} MiB "
        "a notebook may have; clear its outputs (Kernel > Restart & Clear Output) and save it."
    )


def parse_notebook(data: bytes, where: str) -> nbformat.NotebookNode:
    """The notebook in ``data``, validated, as nbformat 4; raises NotebookProblem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookProblem(f"{where} is not a notebook: it is not UTF-8 text ({exc}).") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise NotebookProblem(
            f"{where} is not a notebook: it is not valid JSON ({exc}). Was it saved from "
            "Jupyter? Open it there, or hand in the original file."
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookProblem(f"{where} is not a notebook: its JSON has no list of cells.")
    try:
        with warnings.catch_warnings():  # old minor versions without cell ids are fine
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds; any of them means "not valid"
        summary = str(exc).strip().splitlines()[0][:MAX_ERROR_CHARS] if str(exc) else ""
        raise NotebookProblem(
            f"{where} is not a valid Jupyter notebook (nbformat 4): {type(exc).__name__}"
            + (f": {summary}" if summary else "")
            + ". Open it in Jupyter and save it again."
        ) from None
    return nb


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop everything a previous run left in the file, so no saved output is ever trusted."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


@cache
def course_answer_ids(name: str) -> tuple[str, ...]:
    """The inline question ids of the course's own notebook ``name``."""
    path = nbs.notebook_path(name)
    try:
        nb = nbformat.read(path, as_version=4) if path.is_file() else nbs.build_notebook(name)
    except Exception:  # no notebook and no source here: nothing to compare with
        return ()
    return tuple(nbs.answer_ids(nb))


def _answers_with_all_ids(name: str, answers: Mapping[str, str]) -> dict[str, str]:
    """Every question of the course's notebook (unanswered or deleted ones as ''), then any
    other marker the student's file holds."""
    result = {qid: answers.get(qid, "") for qid in course_answer_ids(name)}
    result.update({qid: text for qid, text in answers.items() if qid not in result})
    return result


def notebook_answers(submission: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Map each course notebook to ``{question id: answer}`` from the submitted files.

    Every question of the course's notebook is present, '' when unanswered (or when the notebook
    is missing or unreadable), so a file built from this lists every question for every
    student. Nothing is executed.
    """
    result = {}
    for name in nbs.NOTEBOOKS:
        try:
            where, data = find_notebook(Path(submission), name)
            answers = nbs.extract_answers(parse_notebook(data, where))
        except NotebookProblem:
            answers = {}
        result[name] = _answers_with_all_ids(name, answers)
    return result


# ---------------------------------------------------------------------------------------------
# The held-out images
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from reference.data_utils import get_synthetic_data

    sizes = {"num_training": 1, "num_validation": 1, "num_test": 1}
    key = {"train": "num_training", "val": "num_validation", "test": "num_test"}[HELDOUT_SPLIT]
    sizes[key] = n
    data = get_synthetic_data(**sizes, subtract_mean=False, seed=seed)
    X, y = data[f"X_{HELDOUT_SPLIT}"][:n], data[f"y_{HELDOUT_SPLIT}"][:n]
    # Raw pixel values, as the notebooks' own images are before they subtract mean_image.
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def heldout_data(n: int = HELDOUT_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """Held-out images (N, 3, 32, 32) in the 0..255 range, and their labels (grader only)."""
    from grader.checks.training import heldout_seed

    return _heldout(n, heldout_seed())


def _prepare_data_cache(target: Path) -> None:
    """Fill ``target`` with the course's cached synthetic training images (seed 0 only: the
    images every student has), for the kernel to read instead of generating them again."""
    from grader.checks.training import TRAIN_SEED
    from reference import data_utils

    target.mkdir(mode=0o755, exist_ok=True)
    source = data_utils.synthetic_cache_dir()
    names = {
        split: f"synthetic-v{data_utils.SYNTHETIC_VERSION}-seed{TRAIN_SEED}-{split}.npz"
        for split in DATA_CACHE_SIZES
    }
    if not all((source / n).is_file() for n in names.values()):
        data_utils.get_synthetic_data(
            DATA_CACHE_SIZES["train"],
            DATA_CACHE_SIZES["val"],
            DATA_CACHE_SIZES["test"],
            subtract_mean=False,
            seed=TRAIN_SEED,
        )
    for name in names.values():
        with contextlib.suppress(OSError):
            shutil.copyfile(source / name, target / name)
            os.chmod(target / name, 0o644)


# ---------------------------------------------------------------------------------------------
# What the kernel may see
# ---------------------------------------------------------------------------------------------


def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def kernel_site_entries() -> tuple[Path, ...]:
    """Top-level entries of site-packages the kernel needs: every file and folder installed by
    ipykernel, matplotlib, numpy and what they require, and nothing else (not the grader, not
    the reference, not other installed packages)."""
    from packaging.requirements import InvalidRequirement, Requirement

    seen: set[str] = set()
    entries: set[Path] = set()
    todo = list(KERNEL_DISTRIBUTIONS)
    while todo:
        name = todo.pop()
        key = _dist_key(name)
        if key in seen or key in KERNEL_EXCLUDED:
            continue
        seen.add(key)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in dist.requires or []:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
        for file in dist.files or []:
            top_name = file.parts[0] if file.parts else ""
            module_file = len(file.parts) == 1 and top_name.endswith((".py", ".so"))
            if top_name in ("", "..", "__pycache__") or (len(file.parts) == 1 and not module_file):
                continue  # scripts, .pth files, the shared bytecode cache
            top = Path(dist.locate_file(top_name)).resolve()
            if top.exists():
                entries.add(top)
    return tuple(sorted(entries))


# The kernel's first program, run isolated before anything of the student's: copy the package
# and notebook into the private temporary directory (size-limited, writable), write the
# kernel's connection file with the socket path it sees, and become ipykernel. It must hold no
# braces: the launcher fills ``{name}`` placeholders in every argument.
BOOTSTRAP = """
import json, os, shutil, sys
source, ipc, tmp = sys.argv[1:4]
work = os.path.join(tmp, "work")
shutil.copytree(source, work)
with open(os.path.join(ipc, "connection.json")) as fh:
    info = json.load(fh)
info["ip"] = os.path.join(ipc, "kernel")
path = os.path.join(tmp, ".kernel-connection.json")
with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
    json.dump(info, fh)
os.chdir(work)
args = [sys.executable, "-s", "-B", "-m", "ipykernel_launcher", "-f", path] + sys.argv[4:]
os.execv(sys.executable, args)
"""

#: Host configuration the kernel may read (fontconfig's, which matplotlib's text rendering loads).
SYSTEM_CONFIG = ("/etc/fonts",)
SOCKET_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class KernelStartError(Exception):
    """The kernel did not come up; the message says why."""


class IsolatedKernel:
    """One kernel process started through the sandbox launcher, and its private directories.

    ``workdir`` (private to the grader) holds: ``submission/`` (the package and the notebook,
    read-only to the kernel), ``ipc/`` (the kernel's sockets; writable to it only until they
    exist), ``exchange/`` (files passed to and from the grader's cells) and the launcher's own
    files.
    """

    def __init__(
        self,
        workdir: Path,
        submission_dir: Path,
        data_dir: Path | None,
        limits: Limits,
        settings: Settings,
        hide: list[Path],
        marker: str,
    ) -> None:
        self.workdir = workdir
        self.submission_dir = submission_dir
        self.data_dir = data_dir
        self.limits = limits
        self.settings = settings
        self.hide = hide
        self.marker = marker
        self.uid = sandbox_uid(settings)
        self.ipc = workdir / "ipc"
        self.exchange = workdir / "exchange"
        self.process: IsolatedProcess | None = None
        self.log_path = workdir / "kernel.log"
        for folder in (self.ipc, self.exchange):
            folder.mkdir(mode=0o755)
        if self.uid is not None:
            os.chown(self.ipc, self.uid, self.uid)
            os.chmod(self.ipc, 0o700)

    @property
    def ip(self) -> str:
        """The socket path prefix as the grader sees it."""
        return str(self.ipc / "kernel")

    def _exposures(self) -> list[Expose]:
        site_dir = self.workdir / "site"
        site_dir.mkdir(mode=0o755, exist_ok=True)
        exposures = [
            Expose("submission", self.submission_dir, f"{SANDBOX_ROOT}/submission"),
            Expose("ipc", self.ipc, f"{SANDBOX_ROOT}/ipc", writable=True),
            Expose("exchange", self.exchange, f"{SANDBOX_ROOT}/exchange", writable=True),
            Expose("site", None, f"{SANDBOX_ROOT}/site", fallback=site_dir),
        ]
        if self.data_dir is not None:
            exposures.append(Expose("data", self.data_dir, f"{SANDBOX_ROOT}/data"))
        for path in SYSTEM_CONFIG:  # read-only system configuration matplotlib's fonts look for
            if Path(path).is_dir():
                exposures.append(Expose(None, Path(path), path))
        for entry in kernel_site_entries():
            exposures.append(Expose(None, entry, f"{SANDBOX_ROOT}/site/{entry.name}"))
            link = site_dir / entry.name
            if not link.is_symlink():
                link.symlink_to(entry)
        return exposures

    def start(self, connection: Mapping[str, Any], timeout: float) -> None:
        """Launch the kernel and wait until its five sockets exist; raise KernelStartError."""
        template = self.ipc / "connection.json"
        info = dict(connection)
        info["key"] = info["key"].decode() if isinstance(info["key"], bytes) else info["key"]
        fd = os.open(template, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        if self.uid is not None:
            os.chown(template, self.uid, self.uid)
        env = dict(nbs.KERNEL_ENV)
        env.update(
            PYTHONPATH="{site}",
            CIFAR10_DIR=MISSING_CIFAR10_DIR,
            MALLOC_ARENA_MAX="2",
            JPY_SESSION_NAME="",
        )
        if self.data_dir is not None:
            env["NNGRADE_CACHE"] = "{data}"
        command = [
            self.settings.interpreter,
            *("-I", "-S", "-c", BOOTSTRAP, "{submission}", "{ipc}", "{tmp}"),
            "--HistoryManager.hist_file=:memory:",
            f"--Session.username={self.marker}",
            "--IPKernelApp.log_level=ERROR",
        ]
        status_r, status_w = make_pipe()
        log = open(self.log_path, "wb")  # noqa: SIM115 - handed to the process, closed below
        try:
            spec = isolated_command(
                command,
                workdir=self.workdir,
                limits=self.limits,
                settings=self.settings,
                expose=self._exposures(),
                hide=self.hide,
                env=env,
                status_fd=status_w,
                uid=self.uid,
                remove_workdir=True,
            )
            self.process = IsolatedProcess(spec, status_r, stdout=log, stderr=log)
        except BaseException:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
            log.close()
        sockets = [Path(f"{self.ip}-{connection[name]}") for name in SOCKET_NAMES]
        deadline = time.monotonic() + timeout
        while True:
            self.process.read_status()
            if self.process.failure:
                raise KernelStartError(f"the kernel's sandbox failed ({self.process.failure})")
            if self.process.exited or self.process.popen.poll() is not None:
                self.process.wait_exit(self.settings.kill_grace)
                raise KernelStartError(f"the kernel {self.how_it_ended()} while starting")
            if all(_is_socket(p) for p in sockets):
                break
            if time.monotonic() > deadline:
                raise KernelStartError(f"the kernel did not start within {timeout:g} s")
            time.sleep(0.02)
        if self.uid is not None:
            # From now on the kernel can neither add nor replace files there.
            os.chown(self.ipc, 0, 0)
            os.chmod(self.ipc, 0o755)

    def poll(self) -> int | None:
        """None while the kernel runs, else an exit code (nonzero when it did not just exit)."""
        if self.process is None:
            return 0
        self.process.read_status()
        if self.process.exited or self.process.failure or self.process.popen.poll() is not None:
            status = self.process.exit_status
            if status is not None:
                return os.waitstatus_to_exitcode(status)
            return self.process.popen.returncode or 1
        return None

    def how_it_ended(self) -> str:
        proc = self.process
        if proc is None:
            return "was never started"
        proc.wait_exit(self.settings.kill_grace)
        if proc.failure:
            return f"could not be set up ({proc.failure})"
        text, _ = describe_status(proc.exit_status, self.limits.cpu_seconds, proc.cpu_used)
        return text

    def log_tail(self, chars: int = 1500) -> str:
        with contextlib.suppress(OSError):
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - chars))
                return fh.read().decode("utf-8", "replace").strip()
        return ""

    def isolation(self) -> str:
        """What protected the kernel, as reached, in one line."""
        report = (self.process.report if self.process else None) or {}
        namespaces = list(report.get("namespaces", []))
        uid = report.get("uid", {}) or {}
        parts = [f"namespaces {'+'.join(namespaces) or 'none'}"]
        parts.append("private root filesystem" if report.get("private_root") else "host filesystem")
        if str(uid.get("how", "")).startswith("user namespace"):
            parts.append("unprivileged (user namespace)")
        elif uid.get("separate"):
            parts.append("an unprivileged uid of its own")
        else:
            parts.append("same uid as the grader")
        if "net" in namespaces:
            parts.append("no network (unix sockets only)")
        else:
            refused = (report.get("refused") or {}).get("net", "not requested")
            parts.append(f"NETWORK NOT ISOLATED: no network namespace ({refused})")
        parts.extend(str(n) for n in report.get("notes", []))
        return "kernel isolation: " + "; ".join(parts)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill(self.settings.kill_grace)
            self.process.close()


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.lstat().st_mode)
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# jupyter_client and nbclient, pointed at the isolated kernel
# ---------------------------------------------------------------------------------------------


def _make_kernel_manager(kernel: IsolatedKernel, context: Any, start_timeout: float):
    """An AsyncKernelManager on the ipc transport whose provisioner starts ``kernel``."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class SandboxedProvisioner(LocalProvisioner):
        """Starts the kernel through the sandbox launcher; stopping it kills the sandbox."""

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            # ``cmd`` (the kernelspec's) is ignored: the sandbox builds its own command.
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(
                None, kernel.start, dict(self.connection_info), start_timeout
            )
            self.process = kernel.process
            self.pid = kernel.process.popen.pid if kernel.process else None
            self.pgid = None
            return self.connection_info

        async def poll(self) -> int | None:
            return kernel.poll() if self.process is not None else 0

        async def wait(self) -> int | None:
            while self.process is not None and kernel.poll() is None:
                await asyncio.sleep(0.05)
            self.process = None
            return 0

        async def send_signal(self, signum: int) -> None:
            # Interrupts are not forwarded into the sandbox; anything else ends it.
            import signal

            if signum != signal.SIGINT:
                kernel.kill()

        async def kill(self, restart: bool = False) -> None:
            kernel.kill()

        async def terminate(self, restart: bool = False) -> None:
            kernel.kill()

    spec = KernelSpec(
        argv=["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="nngrade sandboxed kernel",
        language="python",
    )
    km = AsyncKernelManager(
        transport="ipc",
        ip=kernel.ip,
        connection_file=str(kernel.workdir / "grader-connection.json"),
        context=context,
    )
    km._kernel_spec = spec
    km.kernel_id = str(uuid.uuid4())
    km.provisioner = SandboxedProvisioner(kernel_id=km.kernel_id, kernel_spec=spec, parent=km)
    return km


def _client_class():
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):
        """nbclient with a cap on the output kept, and no widget or comm handling."""

        output_budget = OUTPUT_LIMIT
        current_timeout: float | None = None

        def output(self, outs, msg, display_id, cell_index):
            try:
                size = len(json.dumps(msg.get("content"), default=str))
            except (TypeError, ValueError):
                return None
            if size > self.output_budget:
                if self.output_budget >= 0:
                    self.output_budget = -1
                    note = "[the grader dropped the rest of this notebook's output: too much]\n"
                    outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
                return None
            self.output_budget -= size
            return super().output(outs, msg, display_id, cell_index)

        def handle_comm_msg(self, outs, msg, cell_index):
            return None

    return GradingClient


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
class ModelScore:
    """The accuracy of a notebook's model on the held-out images, or why there is none."""

    target: ModelTarget
    accuracy: float | None = None
    problem: str | None = None
    images: int = 0


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

    @property
    def errors(self) -> list[CellRecord]:
        return [c for c in self.cells if c.error]

    @property
    def ran_to_the_end(self) -> bool:
        return self.problem is None and self.stopped is None and not self.errors

    @property
    def unanswered(self) -> list[str]:
        return [qid for qid, text in self.answers.items() if not text.strip()]


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


def scoring_source(target: ModelTarget, heldout: str, scores: str, batch: int = 200) -> str:
    """The cell the grader appends: score ``target.variable`` on the held-out images."""
    model, mean = target.variable, nbs.MEAN_IMAGE_VARIABLE
    return f"""\
def _nngrade_score():
    import numpy
    names = globals()
    for name in ({model!r}, {mean!r}):
        if name not in names:
            raise NameError(f"{{name}} is not defined at the end of the notebook")
    images = numpy.load({heldout!r}, allow_pickle=False).astype(numpy.float64)
    images = images - numpy.asarray(names[{mean!r}])
    model = names[{model!r}]
    chunks = [numpy.asarray(model.loss(images[i:i + {batch}]))
              for i in range(0, len(images), {batch})]
    numpy.save({scores!r}, numpy.concatenate(chunks))
_nngrade_score()
del _nngrade_score
"""


def read_scores(path: Path, count: int) -> np.ndarray:
    """The scores the kernel saved, checked; raises ValueError saying what is wrong."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ValueError(f"no scores were saved ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        limit = count * NUM_CLASSES * 16 + 4096
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise ValueError("the saved scores are not a plain array of the expected size")
        data = fh.read(limit + 1)
    if not data:
        raise ValueError("no scores were saved")
    try:
        scores = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # a malformed file: anything np.load may raise
        raise ValueError(f"the saved scores could not be read ({type(exc).__name__})") from None
    if not isinstance(scores, np.ndarray) or scores.dtype.kind not in "fiu":
        raise ValueError(
            f"model.loss(X) returned {getattr(scores, 'dtype', type(scores).__name__)} values, "
            "not numbers"
        )
    if scores.shape != (count, NUM_CLASSES):
        raise ValueError(
            f"model.loss(X) on {count} images returned scores of shape {scores.shape}, "
            f"not ({count}, {NUM_CLASSES})"
        )
    scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("the model's scores contain NaN or inf (did its training diverge?)")
    return scores


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
            kernel_name=nbs.KERNEL_NAME,
            shutdown_kernel="immediate",
        )
        client.output_budget = options.output_limit
        client.timeout_func = lambda cell: client.current_timeout
        started = time.monotonic()
        deadline = started + options.notebook_timeout
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

    async def _run_cells(self, client: Any, deadline: float) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        code_cells = [(i, c) for i, c in enumerate(self.nb.cells) if _runs(c)]
        for position, (index, cell) in enumerate(code_cells):
            record = CellRecord(index + 1, position + 1, _first_line(cell.source))
            remaining = deadline - time.monotonic()
            left = len(code_cells) - position
            if remaining < 1:
                self.run.stopped = (
                    f"The notebook used up its {self.options.notebook_timeout:g} s in total "
                    f"before {record.where()}; {left} code cell(s) did not run."
                )
                self.run.not_run = left
                return
            client.current_timeout = max(1, int(min(self.options.cell_timeout, remaining)))
            try:
                await client.async_execute_cell(cell, index, execution_count=position + 1)
            except CellTimeoutError:
                self.run.cells.append(record)
                if remaining < self.options.cell_timeout:
                    why = f"the notebook's total of {self.options.notebook_timeout:g} s ran out"
                else:
                    why = f"it ran longer than {self.options.cell_timeout:g} s, the limit per cell"
                record.error = "timed out"
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
        images, _ = heldout_data(self.options.heldout_images)
        exchange = self.kernel.exchange
        heldout_file, scores_file = exchange / "heldout.npy", exchange / "scores.npy"
        np.save(heldout_file, images, allow_pickle=False)
        os.chmod(heldout_file, 0o644)
        fd = os.open(scores_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        if self.kernel.uid is not None:
            os.chown(scores_file, self.kernel.uid, self.kernel.uid)
        inside = f"{SANDBOX_ROOT}/exchange"
        report = self.kernel.process.report if self.kernel.process else None
        if not (report or {}).get("private_root"):
            inside = str(exchange)
        source = scoring_source(target, f"{inside}/heldout.npy", f"{inside}/scores.npy")
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        client.current_timeout = max(1, int(self.options.scoring_timeout))
        what = f"scoring `{target.variable}`"
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
        try:
            scores = read_scores(scores_file, len(images))
        except ValueError as exc:
            score.problem = str(exc)
            return
        _, labels = heldout_data(self.options.heldout_images)
        score.accuracy = float(np.mean(np.argmax(scores, axis=1) == labels))
        score.images = len(labels)


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
    run = NotebookRun(
        name, where=where, answers=_answers_with_all_ids(name, nbs.extract_answers(nb))
    )
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="nngrade-nb-"))
    os.chmod(workdir, 0o711)  # an unprivileged kernel without a private root must traverse it
    kernel = None
    try:
        submission_dir = workdir / "submission"
        shutil.copytree(package_path.parent, submission_dir)
        notebook_file = submission_dir / f"{name}.ipynb"
        notebook_file.write_text(nbs.render(nb), encoding="utf-8")
        os.chmod(notebook_file, 0o644)
        os.chmod(submission_dir, 0o755)
        kernel_dir = workdir / "kernel"
        kernel_dir.mkdir(mode=0o700)
        marker = f"nngrade-kernel-{secrets.token_hex(6)}"
        run.kernel_marker, run.workdir = marker, str(workdir)
        kernel = IsolatedKernel(
            kernel_dir, submission_dir, data_dir, options.limits, settings, hide, marker
        )
        run.notebook = nb
        execution = _NotebookExecution(run, nb, kernel, options, target)
        limit = options.start_timeout + options.notebook_timeout + options.scoring_timeout + 60
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
            nb = strip_outputs(parse_notebook(data, where))
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
                answers=_answers_with_all_ids(name, nbs.extract_answers(nb)),
            )
            if target is not None:
                run.score = ModelScore(target, problem=f"{name}.ipynb could not be run")
            return run
        return run_notebook(
            name, nb, self._package, self.options, self.settings, self.hide,
            data_dir=self._data_dir, target=target, where=where,
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------------------------


def runs_to_the_end_feedback(run: NotebookRun) -> str | None:
    """Why ``run`` did not run to the end, for the student; None when it did."""
    if run.problem:
        return run.problem
    lines = []
    errors = run.errors
    listed = [c for c in errors if c.error not in ("timed out", "the kernel died")]
    if listed:
        lines.append(
            f"{len(listed)} code cell(s) of {run.where or run.name + '.ipynb'} raised an error "
            "when the grader ran the notebook from top to bottom in a fresh kernel:"
        )
        for cell in listed[:LISTED_ERRORS]:
            lines.append(f"- {cell.where()}: {cell.error}")
        if len(listed) > LISTED_ERRORS:
            lines.append(f"- ... and {len(listed) - LISTED_ERRORS} more.")
    if run.stopped:
        lines.append(run.stopped)
    if not lines:
        return None
    lines.append(
        "Check that the notebook runs with Kernel > Restart & Run All against your package."
    )
    if run.unanswered:
        lines.append(unanswered_reminder(run))
    return "\n".join(lines)


def unanswered_reminder(run: NotebookRun) -> str:
    return "Unanswered inline questions: " + ", ".join(run.unanswered) + "."


def model_feedback(run: NotebookRun) -> str | None:
    """Why the notebook's model misses its threshold; None when it reaches it."""
    score = run.score
    if score is None:
        return None
    target = score.target
    if score.problem:
        return (
            f"`{target.variable}` from {target.notebook}.ipynb could not be scored on the "
            f"grader's held-out images: {score.problem}."
        )
    assert score.accuracy is not None
    if score.accuracy >= target.threshold:
        return None
    return (
        f"`{target.variable}` from {target.notebook}.ipynb reaches an accuracy of "
        f"{score.accuracy:.3f} on {score.images} held-out images (after subtracting your "
        f"`{nbs.MEAN_IMAGE_VARIABLE}`); it must reach {target.threshold:.2f} (the course's "
        f"notebook reaches {target.reference_accuracy:.2f}). If your layer and model checks "
        "pass, look at the training settings in the notebook and at how your model behaves "
        "in test mode."
    )


# ---------------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------------


def calibrate(
    names: Iterable[str] = tuple(MODEL_TARGETS), options: NotebookOptions | None = None
) -> dict[str, dict[str, float]]:
    """Grade the course's own notebooks and print the figures the thresholds come from.

    Builds a solved submission (reference package, freshly built notebooks), runs each notebook
    through the same grading path as a student's, and prints for each model: the reference's
    held-out accuracy, chance and its noise, and the threshold :func:`threshold_below` gives.
    """
    options = options or NotebookOptions()
    _, labels = heldout_data(options.heldout_images)
    majority = float(np.bincount(labels, minlength=NUM_CLASSES).max() / len(labels))
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="nngrade-calibrate-") as tmp:
        nbs.prepare_reference_dir(Path(tmp))
        with SubmissionNotebooks(tmp, options) as runner:
            for name in names:
                run = runner.run(name)
                target = MODEL_TARGETS[name]
                score = run.score
                accuracy = score.accuracy if score and score.accuracy is not None else float("nan")
                se = math.sqrt(max(accuracy * (1 - accuracy), 0) / len(labels))
                figures[name] = {
                    "reference_accuracy": accuracy,
                    "standard_error": se,
                    "chance": CHANCE_ACCURACY,
                    "majority_class": majority,
                    "chance_floor": chance_floor(len(labels)),
                    "threshold": threshold_below(accuracy) if accuracy == accuracy else math.nan,
                    "seconds": run.seconds,
                }
                print(f"{name} ({target.variable}): ran in {run.seconds:.1f} s")
                if not run.ran_to_the_end:
                    print(f"  did not run to the end: {runs_to_the_end_feedback(run)}")
                if score and score.problem:
                    print(f"  scoring failed: {score.problem}")
                print(
                    f"  reference accuracy {accuracy:.4f} on {len(labels)} held-out images "
                    f"(standard error {se:.4f})"
                )
                print(
                    f"  chance {CHANCE_ACCURACY:.2f} (majority class {majority:.3f}); "
                    f"floor chance + {CHANCE_STANDARD_ERRORS:g} SE = "
                    f"{chance_floor(len(labels)):.4f}"
                )
                suggested = figures[name]["threshold"]
                print(
                    f"  threshold_below(reference) = {suggested:.2f} (constants now: reference "
                    f"{target.reference_accuracy:.3f}, threshold {target.threshold:.2f})"
                )
                if accuracy != accuracy:
                    print("  WARNING: no accuracy: the reference notebook could not be scored.")
                elif not informative(suggested):
                    print(
                        "  WARNING: the reference is indistinguishable from chance; a threshold "
                        "it passes also passes a model that learned nothing."
                    )
                elif accuracy - MARGIN < chance_floor(len(labels)):
                    print(
                        "  NOTE: the reference is near chance; the threshold sits at chance + "
                        f"{CHANCE_STANDARD_ERRORS:g} standard errors instead of {MARGIN} below it."
                    )
    return figures


if __name__ == "__main__":  # python -m grader.notebooks.grading: calibration figures
    calibrate()
