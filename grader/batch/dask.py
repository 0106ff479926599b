"""Grade past one machine: ``nngrade grade-all ... --scheduler tcp://host:8786``.

Dask distributed is the engine: it is pip-installable (``nngrade[distributed]``), needs no
shared filesystem, a scheduler and workers start with one command each (``dask scheduler``,
``dask worker tcp://host:8786 --nthreads 1``) or from an HPC job script (dask-jobqueue), and it
already handles workers joining and leaving. A task here is one submission.

Nothing but bytes crosses the network: the client sends each submission (a folder is zipped in
memory, an archive goes as it is, broken or not) and gets back the files of its report folder. The
worker grades exactly as ``grade-all`` does on one machine
(:func:`grader.batch.process.run_grading`: its own ``python -m grader grade`` process, the same
sandbox, the same wall-clock limit), so a hostile submission can take down at most its own grading
process, never the worker. The client writes each result into place with the same atomic rename, so
resuming works unchanged.

Every worker needs the same nngrade (grader and reference) installed; a worker with another
version refuses the task rather than grade with different rules.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from grader import __version__
from grader.batch.process import install, new_work_dir, run_grading
from grader.batch.records import CRASHED, BatchOptions, Record, Submission

#: Payloads above this size are scattered to the cluster first rather than put in the task.
SCATTER_BYTES = 256 * 1024


def pack(path: Path) -> tuple[bytes, bool]:
    """A submission as bytes: an archive unchanged (``True``), a folder zipped (``False``).

    Symbolic links and bytecode caches are left out of a folder, as they mean nothing on
    another machine."""
    path = Path(path)
    if path.is_file():
        return path.read_bytes(), True
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                file = Path(root) / name
                if not file.is_symlink():
                    archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue(), False


def unpack(name: str, payload: bytes, is_archive: bool, into: Path) -> Path:
    """Recreate a packed submission under ``into`` with its original name."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / Path(name).name
    if is_archive:
        target.write_bytes(payload)
    else:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            archive.extractall(target)  # member names are sanitised by zipfile
    return target


def grade_remote(name: str, payload: bytes, is_archive: bool, options: dict, version: str) -> dict:
    """The task a worker runs: grade one packed submission, return the record and the files."""
    if version != __version__:
        raise RuntimeError(
            f"worker {socket.gethostname()} has nngrade {__version__}, the client {version}"
        )
    opts = BatchOptions(**options)
    scratch = Path(tempfile.mkdtemp(prefix="nngrade-task-"))
    try:
        submission = unpack(name, payload, is_archive, scratch / "submission")
        work = scratch / "out"
        record = run_grading(submission, work, opts)
        # The worker's scratch path means nothing to the instructor; name the submission.
        record.reason = record.reason.replace(str(submission.resolve()), name)
        files = {
            p.relative_to(work).as_posix(): p.read_bytes()
            for p in sorted(work.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        return {"record": asdict(record), "files": files, "worker": socket.gethostname()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class DaskRunner:
    """Runs a batch's submissions as tasks on a Dask scheduler; yields records as they finish."""

    def __init__(self, address: str, options: BatchOptions, connect_timeout: float = 30.0):
        self.address = address
        self.options = options
        self.connect_timeout = connect_timeout

    def _client(self):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise SystemExit(
                "nngrade: --scheduler needs Dask: pip install 'nngrade[distributed]'"
            ) from exc
        return Client(self.address, timeout=self.connect_timeout)

    def run(self, todo: Sequence[tuple[Submission, str]], out_root: Path) -> Iterator[Record]:
        from distributed import as_completed

        client = self._client()
        options = asdict(self.options)
        tasks = {}
        try:
            for sub, digest in todo:
                payload, is_archive = pack(sub.path)
                data = payload
                if len(payload) > SCATTER_BYTES:
                    data = client.scatter(payload, hash=False)
                future = client.submit(
                    grade_remote,
                    sub.path.name,
                    data,
                    is_archive,
                    options,
                    __version__,
                    key=f"nngrade-grade-{sub.student}-{os.urandom(4).hex()}",
                    pure=False,
                    retries=0,
                )
                tasks[future] = (sub, digest)
            for future in as_completed(list(tasks)):
                sub, digest = tasks[future]
                yield self._finish(future, sub, digest, out_root)
        finally:
            # A task already running on a worker ends by itself (its grading has a time limit).
            client.cancel(list(tasks))
            client.close()

    def _finish(self, future, sub: Submission, digest: str, out_root: Path) -> Record:
        work = new_work_dir(out_root, sub.student)
        try:
            try:
                result = future.result()
            except Exception as exc:  # the worker died or refused: the row says so
                record = Record(
                    student="", submission="", status=CRASHED, reason=f"worker failed: {exc}"
                )
            else:
                record = Record(**result["record"])
                for rel, content in result["files"].items():
                    target = (work / rel).resolve()
                    if work.resolve() not in target.parents:
                        continue  # never write outside the work folder, whatever came back
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
            record.student = sub.student
            record.submission = str(sub.path)
            record.fingerprint = digest
            record.settings = self.options.settings_key()
            install(work, record, out_root)
            return record
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
