"""The grader's side of the sandbox: a worker per submission, spoken to only in plain data.

Typical use by a check::

    with Sandbox(submission, limits=Limits(call_timeout=5)) as sb:
        out, cache = sb.call("layers.affine_forward", x, w, b)
        dx, dw, db = sb.call("layers.affine_backward", dout, cache)

Results that are plain data (numbers, strings, lists/tuples/dicts of them, numeric numpy
arrays) arrive as copies; anything else stays alive in the worker and arrives as a
:class:`Handle`, which later calls accept anywhere in their arguments. Each call has a wall-clock
limit measured here; if the worker dies for any reason the call raises :class:`WorkerDied` (or a
subclass) with one reason, and the next call starts a fresh worker.

Over 400 lines on purpose: nearly all of it is :class:`Sandbox`, one conversation with one worker
(its start, each request, the frames of the reply, output capture, death and restart) over state
every step shares; split across modules, the order of those steps would no longer read top to
bottom.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import selectors
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import protocol
from .errors import (
    CallTimeout,
    ProtocolViolation,
    ResourceExceeded,
    SandboxError,
    StaleHandle,
    StudentError,
    StudentImportError,
    UnsupportedValue,
    WorkerDied,
)
from .launch import (
    SANDBOX_ROOT,
    Expose,
    IsolatedProcess,
    describe_status,
    hidden_paths,
    isolated_command,
    make_pipe,
    package_dir,
    readable_by,
    restrict,
    sandbox_uid,
    site_exposures,
)
from .settings import Limits, Settings
from .submission import PreparedPackage, prepare_package

HERE = Path(__file__).resolve().parent
_sandbox_ids = itertools.count(1)
MAX_ERROR_TEXT = 20_000


def default_course_package() -> Path:
    """The course's own package: the installed ``assignment`` if any, else ``reference``."""
    for name in ("assignment", "reference"):
        where = package_dir(name)
        if where is not None and where.is_dir():
            return where
    return Path("reference")


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


class Handle:
    """A live object in the worker (a model, a cache holding one, a dict that must stay live).

    Pass it back in any call's arguments; ``Sandbox.fetch`` copies it out as plain data when it
    is plain enough. A handle is valid only in the worker that made it.
    """

    __slots__ = ("_sandbox", "generation", "ident", "type_name")

    def __init__(self, sandbox: int, generation: int, ident: int, type_name: str) -> None:
        self._sandbox = sandbox
        self.generation = generation
        self.ident = ident
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<Handle #{self.ident} to a {self.type_name} in worker {self.generation}>"

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{self!r} is a live object in the sandbox, not an array "
            "(the student's code returned something other than a plain numpy array)"
        )


class _Capture:
    """Keeps the head and tail of a byte stream, counting what was dropped in between."""

    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        tail = self.tail[-self.half :]
        dropped = self.total - len(self.head) - len(tail)
        middle = f"\n... [{dropped} bytes of output omitted] ...\n" if dropped > 0 else ""
        return (bytes(self.head).decode("utf-8", "replace") + middle) + bytes(tail).decode(
            "utf-8", "replace"
        )


@dataclass(frozen=True)
class IsolationReport:
    """What protected the worker, as reached (not as requested). ``summary()`` is one line."""

    level: str
    namespaces: tuple[str, ...]
    refused: dict
    private_root: bool
    uid: int | None
    separate_uid: bool
    user_namespace: bool
    network_isolated: bool
    exposed: tuple[str, ...]
    restricted: tuple[str, ...]
    notes: tuple[str, ...]
    limits: Limits = field(repr=False)

    def summary(self) -> str:
        """One line, identical for every run with the same protections (no uid, sorted names),
        because it goes into results.json, which must not change between gradings."""
        parts = [f"namespaces {'+'.join(sorted(self.namespaces)) or 'none'}"]
        if self.refused:
            parts.append("refused " + ", ".join(f"{k} ({v})" for k, v in self.refused.items()))
        parts.append("private root filesystem" if self.private_root else "host filesystem")
        if self.user_namespace:
            parts.append("unprivileged (user namespace, no capabilities)")
        elif self.separate_uid:
            parts.append("a separate unprivileged uid")
        else:
            parts.append("same uid as the grader" + (" (root)" if self.uid == 0 else ""))
        parts.append("no network" if self.network_isolated else "network reachable")
        if self.restricted:
            parts.append("access removed from " + ", ".join(self.restricted))
        if self.exposed:
            parts.append("still readable by student code: " + ", ".join(self.exposed))
        parts.extend(self.notes)
        lim = self.limits
        parts.append(
            f"limits {lim.call_timeout:g} s per call, {_size(lim.memory_bytes)} memory, "
            f"{lim.cpu_seconds} s CPU, {lim.processes} processes, {_size(lim.file_bytes)} "
            f"per file, {lim.open_files} open files"
        )
        return f"{self.level} isolation: " + "; ".join(parts)


@dataclass
class _Worker:
    generation: int
    process: IsolatedProcess
    req_w: int
    resp_r: int
    out_r: int | None
    reader: protocol.FrameReader
    importing: list[str] = field(default_factory=list)


class Sandbox:
    """Runs one submission's code in an isolated worker process; see the module docstring.

    ``course_package`` is the directory whose given modules replace the student's (default:
    :func:`default_course_package`). ``hide`` adds paths the worker must not see (the output
    directory, hidden data) to ``settings.hide``.
    """

    def __init__(
        self,
        submission: str | os.PathLike,
        course_package: str | os.PathLike | None = None,
        limits: Limits | None = None,
        settings: Settings | None = None,
        *,
        hide: tuple[str | os.PathLike, ...] = (),
    ) -> None:
        self.limits = limits or Limits()
        self.settings = settings or Settings()
        self.course_package = Path(course_package or default_course_package()).resolve()
        self.last_output = ""
        self.restarts = 0
        self.session = secrets.token_hex(8)
        self._id = next(_sandbox_ids)
        self._timeout = self.limits.call_timeout
        self._ids = itertools.count(1)
        self._generation = 0
        self._dead: dict[int, str] = {}
        self._worker: _Worker | None = None
        self._report: IsolationReport | None = None
        self._closed = False
        self._uid = sandbox_uid(self.settings)
        self._extra_hide = [Path(p) for p in hide]
        self._workdir = Path(tempfile.mkdtemp(prefix="nngrade-sandbox-"))
        try:
            self.package: PreparedPackage = prepare_package(
                Path(submission), self._workdir, self.course_package, self.settings, self.limits
            )
            self._exposures = self._make_runtime()
            self._hidden = self._hidden_paths()
        except BaseException:
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise

    # ------------------------------------------------------------------------------ set-up
    def _make_runtime(self) -> list[Expose]:
        runtime = self._workdir / "runtime"
        runtime.mkdir(mode=0o755)
        for source, name in (
            ("worker.py", "_nngrade_worker.py"),
            ("protocol.py", "_nngrade_protocol.py"),
        ):
            shutil.copyfile(HERE / source, runtime / name)
            os.chmod(runtime / name, 0o644)
        exposures = [
            Expose("runtime", runtime, f"{SANDBOX_ROOT}/runtime"),
            Expose("pkg", self.package.parent, f"{SANDBOX_ROOT}/pkg"),
        ]
        return exposures + site_exposures(self.settings.site_packages, self._workdir / "site")

    def _hidden_paths(self) -> list[Path]:
        return hidden_paths(self.settings, self.course_package, self._extra_hide)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker now (otherwise the first call does)."""
        if self._closed:
            raise SandboxError("this sandbox is closed")
        if self._worker is None:
            self._start_worker()

    def restart(self) -> None:
        """Replace the worker by a fresh one; existing handles become stale."""
        if self._worker is not None:
            self._stop(self._worker, "was restarted by the grader")
        self._start_worker()

    def close(self) -> None:
        """Kill the worker and everything it started, and delete the private files."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._stop(self._worker, "was closed")
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def isolation(self) -> str:
        """One line saying what isolation the worker actually got (starts it if needed)."""
        return self.isolation_report.summary()

    @property
    def isolation_report(self) -> IsolationReport:
        if self._report is None:
            self.start()
        assert self._report is not None
        return self._report

    @property
    def call_limit(self) -> float:
        """The per-call time limit in force now, in seconds."""
        return self._timeout

    @contextlib.contextmanager
    def timeout(self, seconds: float) -> Iterator[None]:
        """Use another per-call time limit inside the block (e.g. for training runs)."""
        saved, self._timeout = self._timeout, seconds
        try:
            yield
        finally:
            self._timeout = saved

    # ------------------------------------------------------------------------------- calls
    def call(self, target: str | Handle, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``module.function`` of the student's package (or a callable handle)."""
        if isinstance(target, Handle):
            body = {"target": None, "self": target, "method": "__call__"}
            label = target.type_name
        else:
            if "." not in target.strip("."):
                raise ValueError(f"call target {target!r} must look like 'module.function'")
            body = {"target": target, "self": None, "method": None}
            label = target
        body.update(args=args, kwargs=kwargs)
        return self._request("call", body, label)

    def call_method(self, obj: Handle, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj.name(*args, **kwargs)`` in the worker."""
        body = {"target": None, "self": obj, "method": name, "args": args, "kwargs": kwargs}
        return self._request("call", body, f"{obj.type_name}.{name}")

    def getattr(self, obj: Handle, name: str) -> Any:
        return self._request("getattr", {"self": obj, "name": name}, f"{obj.type_name}.{name}")

    def setattr(self, obj: Handle, name: str, value: Any) -> None:
        body = {"self": obj, "name": name, "value": value}
        self._request("setattr", body, f"{obj.type_name}.{name}")

    def put(self, value: Any) -> Handle:
        """Make a live copy of ``value`` in the worker (e.g. a bn_param dict the code updates)."""
        return self._request("put", {"value": value}, "put")

    def fetch(self, obj: Handle) -> Any:
        """A plain copy of a live object; raises UnsupportedValue when it is not plain data."""
        return self._request("fetch", {"value": obj}, f"fetch {obj.type_name}")

    def seed(self, seed: int | None) -> None:
        """Seed numpy's legacy global generator in the worker (``np.random.seed``)."""
        self._request("seed", {"value": seed}, f"np.random.seed({seed})")

    def release(self, *objs: Handle) -> None:
        """Let the worker forget objects the grader no longer needs."""
        live = [h.ident for h in objs if h.generation == self._generation]
        if live and self._worker is not None:
            self._request("release", {"ids": live}, "release")

    def import_module(self, module: str) -> None:
        """Import one module of the submission; raises StudentImportError when it fails."""
        self._request("import", {"module": module}, f"import {module}")

    # ---------------------------------------------------------------------------- plumbing
    def _encode_other(self, value: Any, path: str) -> Any:
        if isinstance(value, Handle):
            if value._sandbox != self._id:
                raise StaleHandle(f"{value!r} belongs to another sandbox")
            if value.generation != self._generation or self._worker is None:
                reason = self._dead.get(value.generation, "has ended")
                raise StaleHandle(
                    f"the {value.type_name} object was made in worker {value.generation}, which "
                    f"{reason}; it no longer exists"
                )
            return {"$h": value.ident}
        raise UnsupportedValue(f"cannot send {path} to the worker: {protocol.refusal(value)}")

    def _request(self, op: str, body: dict, label: str) -> Any:
        if self._closed:
            raise SandboxError("this sandbox is closed")
        if self._worker is None:
            self._start_worker()
        worker = self._worker
        assert worker is not None
        encoder = protocol.Encoder(self._encode_other, self.limits.max_depth)
        tree = encoder.encode(body)
        ident = next(self._ids)
        parts = protocol.frame({"id": ident, "op": op, "body": tree}, encoder.buffers)
        capture = _Capture(self.limits.output_bytes)
        worker.importing.clear()
        deadline = time.monotonic() + self._timeout
        try:
            header, buffers = self._exchange(worker, parts, ident, deadline, label, capture)
        finally:
            self.last_output = capture.text()
        if header.get("ok") is True:
            decoder = protocol.Decoder(self._handle_factory(worker), self.limits.max_depth)
            try:
                return decoder.build(header.get("body"), buffers)
            except protocol.ProtocolError as exc:
                raise self._violation(worker, str(exc), label, capture) from None
        raise self._student_error(worker, header.get("error"), label, capture)

    def _handle_factory(self, worker: _Worker):
        def make(node: dict) -> Handle:
            return Handle(self._id, worker.generation, node["$h"], node.get("t", "object")[:200])

        return make

    def _exchange(
        self,
        worker: _Worker,
        parts: list,
        ident: int,
        deadline: float,
        label: str,
        capture: _Capture,
    ) -> tuple[dict, list]:
        views = [memoryview(p).cast("B") for p in parts if len(p)]
        sel = selectors.DefaultSelector()
        sel.register(worker.resp_r, selectors.EVENT_READ, "resp")
        sel.register(worker.process.status_read, selectors.EVENT_READ, "status")
        if worker.out_r is not None:
            sel.register(worker.out_r, selectors.EVENT_READ, "out")
        if views:
            sel.register(worker.req_w, selectors.EVENT_WRITE, "req")
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._drain_output(worker, capture)
                    activity = self._activity(worker, label)
                    self._stop(worker, f"was killed after {self._timeout:g} s")
                    self._drain_output(worker, capture, final=True)
                    raise CallTimeout(
                        f"killed after {self._timeout:g} s while {activity}",
                        -signal.SIGKILL,
                        capture.text(),
                    )
                for key, _ in sel.select(remaining):
                    what = key.data
                    if what == "req":
                        try:
                            sent = os.writev(worker.req_w, views[:256])
                        except BlockingIOError:
                            continue
                        except OSError:  # the worker closed its end: it is dying
                            sel.unregister(worker.req_w)
                            views = []
                            continue
                        protocol.advance(views, sent)
                        if not views:
                            sel.unregister(worker.req_w)
                    elif what == "out":
                        if not self._drain_output(worker, capture):
                            sel.unregister(worker.out_r)
                    elif what == "status":
                        closed = worker.process.read_status()
                        if worker.process.exited or closed:
                            reply = self._reply_if_ready(worker, ident, label, capture)
                            if reply is not None:
                                return reply
                            raise self._death(worker, label, capture)
                    else:
                        reply = self._read_replies(worker, ident, label, capture)
                        if reply is not None:
                            self._drain_output(worker, capture)
                            return reply
        finally:
            sel.close()

    def _poll(self, worker: _Worker, label: str, capture: _Capture) -> list:
        """The frames the worker has sent; its death or a bad frame as the matching error."""
        try:
            return worker.reader.poll()
        except EOFError:
            raise self._death(worker, label, capture) from None
        except protocol.ProtocolError as exc:
            raise self._violation(worker, str(exc), label, capture) from None

    def _read_replies(self, worker: _Worker, ident: int, label: str, capture: _Capture):
        frames = self._poll(worker, label, capture)
        reply = self._sort_frames(worker, frames, ident)
        if reply is False:
            raise self._violation(worker, "a reply to no request", label, capture)
        return reply

    @staticmethod
    def _sort_frames(worker: _Worker, frames: list, ident: int):
        """Follow import progress; return the reply to ``ident``, None, or False if forged."""
        for header, buffers in frames:
            if header.get("op") == "progress":
                module = str(header.get("module", "?"))[:200]
                if header.get("event") == "import":
                    worker.importing.append(module)
                elif worker.importing:
                    worker.importing.pop()
                continue
            if header.get("id") != ident or type(header.get("ok")) is not bool:
                return False
            return header, buffers
        return None

    def _reply_if_ready(self, worker: _Worker, ident: int, label: str, capture: _Capture):
        """A complete reply written just before the worker ended still counts."""
        try:
            frames = worker.reader.poll()
        except (EOFError, protocol.ProtocolError):
            return None
        return self._sort_frames(worker, frames, ident) or None

    def _drain_output(self, worker: _Worker, capture: _Capture, final: bool = False) -> bool:
        """Move waiting output into ``capture``; False once the stream has ended."""
        if worker.out_r is None:
            return False
        deadline = time.monotonic() + (1.0 if final else 0.0)
        while True:
            try:
                chunk = os.read(worker.out_r, 1 << 20)
            except BlockingIOError:
                if final and time.monotonic() < deadline:
                    time.sleep(0.005)
                    continue
                return True
            except OSError:
                return False
            if not chunk:
                return False
            capture.add(chunk)

    def _activity(self, worker: _Worker, label: str) -> str:
        if worker.importing:
            return f"importing {worker.importing[-1]}"
        return f"running {label}"

    def _death(self, worker: _Worker, label: str, capture: _Capture) -> WorkerDied:
        activity = self._activity(worker, label)
        worker.process.wait_exit(self.settings.kill_grace)
        if worker.process.failure:
            what, code = f"could not be set up ({worker.process.failure})", None
        elif worker.process.exited and worker.process.exit_status is not None:
            what, code = describe_status(
                worker.process.exit_status, self.limits.cpu_seconds, worker.process.cpu_used
            )
        elif worker.process.exited:
            what, code = "ended unexpectedly", None
        else:
            what, code = "stopped answering (its reply channel was closed)", None
        self._drain_output(worker, capture)
        self._stop(worker, f"was {what}" if what.startswith("killed") else what)
        self._drain_output(worker, capture, final=True)
        cls = ResourceExceeded if what.startswith("used up") else WorkerDied
        return cls(f"{what} while {activity}", code, capture.text())

    def _violation(self, worker: _Worker, message: str, label: str, capture: _Capture):
        activity = self._activity(worker, label)
        self._stop(worker, "broke the protocol")
        return ProtocolViolation(
            f"sent an invalid reply ({message}) while {activity}", None, capture.text()
        )

    def _student_error(self, worker: _Worker, error: Any, label: str, capture: _Capture):
        if type(error) is not dict or not all(
            type(k) is str and type(v) is str and len(v) <= MAX_ERROR_TEXT for k, v in error.items()
        ):
            return self._violation(worker, "a malformed error report", label, capture)
        kind = error.get("kind", "exception")
        type_name = error.get("type", "Exception")
        message = error.get("message", "")
        trace = error.get("traceback", "")
        output = capture.text()
        if kind == "memory":
            activity = self._activity(worker, label)
            self._stop(worker, "ran out of memory")
            return ResourceExceeded(
                f"exceeded {_size(self.limits.memory_bytes)} of memory while {activity}",
                None,
                output,
            )
        if kind in ("import", "missing") and "module" in error:
            return StudentImportError(error["module"], type_name, message, trace, output)
        if kind == "refused":
            return UnsupportedValue(f"not plain data: {message}")
        return StudentError(type_name, message, trace, output)

    # ------------------------------------------------------------------------- lifecycle
    def _stop(self, worker: _Worker, why: str) -> None:
        """Kill the worker's whole tree and forget it; its handles become stale."""
        worker.process.kill(self.settings.kill_grace)
        worker.process.close()
        for fd in (worker.req_w, worker.resp_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        if worker.out_r is not None:
            with contextlib.suppress(OSError):
                os.close(worker.out_r)
            worker.out_r = None
        self._dead[worker.generation] = why
        if self._worker is worker:
            self._worker = None

    def _start_worker(self) -> None:
        if self._generation:
            self.restarts += 1
        self._generation += 1
        generation = self._generation
        req_r, req_w = make_pipe(1 << 20)
        resp_r, resp_w = make_pipe(1 << 20)
        out_r, out_w = make_pipe()
        status_r, status_w = make_pipe()
        command = [
            self.settings.interpreter,
            *("-s", "-S", "-B", "{runtime}/_nngrade_worker.py"),
            *("--req", str(req_r), "--resp", str(resp_w), "--pkg", self.package.name),
            *("--pkg-parent", "{pkg}", "--site", "{site}"),
            *("--max-depth", str(self.limits.max_depth), "--session", self.session),
            *("--given", ",".join(self.settings.given_stems())),
            *("--naive-suffix", self.settings.naive_suffix),
        ]
        spec = isolated_command(
            command,
            workdir=self._workdir,
            limits=self.limits,
            settings=self.settings,
            expose=self._exposures,
            hide=self._hidden,
            keep_fds=(req_r, resp_w),
            status_fd=status_w,
            uid=self._uid,
            remove_workdir=True,
        )
        try:
            process = IsolatedProcess(spec, status_r, stdout=out_w, stderr=out_w)
        except BaseException:
            for fd in (req_r, req_w, resp_r, resp_w, out_r, out_w, status_r, status_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, out_w, status_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
        for fd in (req_w, resp_r, out_r):
            os.set_blocking(fd, False)
        decoder = protocol.Decoder(lambda node: None, self.limits.max_depth)
        reader = protocol.FrameReader(
            resp_r, decoder.check_body, self.limits.header_bytes, self.limits.transfer_bytes
        )
        worker = _Worker(generation, process, req_w, resp_r, out_r, reader)
        self._worker = worker
        capture = _Capture(self.limits.output_bytes)
        deadline = time.monotonic() + self.limits.start_timeout
        try:
            self._await_hello(worker, deadline, capture)
        except WorkerDied as exc:
            self._worker = None
            raise SandboxError(
                f"the sandbox worker could not start: {exc.reason}"
                + (f"\n{exc.output.strip()}" if exc.output.strip() else "")
            ) from None
        self._report = self._make_report(worker)

    def _await_hello(self, worker: _Worker, deadline: float, capture: _Capture) -> None:
        sel = selectors.DefaultSelector()
        sel.register(worker.resp_r, selectors.EVENT_READ, "resp")
        sel.register(worker.process.status_read, selectors.EVENT_READ, "status")
        sel.register(worker.out_r, selectors.EVENT_READ, "out")
        label = "start-up"
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._stop(worker, "did not start in time")
                    raise WorkerDied(
                        f"no answer after {self.limits.start_timeout:g} s", None, capture.text()
                    )
                for key, _ in sel.select(remaining):
                    if key.data == "out":
                        if not self._drain_output(worker, capture):
                            sel.unregister(worker.out_r)
                    elif key.data == "status":
                        closed = worker.process.read_status()
                        if worker.process.exited or closed:
                            raise self._death(worker, label, capture)
                    else:
                        frames = self._poll(worker, label, capture)
                        if any(h.get("op") == "hello" for h, _ in frames):
                            return
        finally:
            sel.close()

    def _make_report(self, worker: _Worker) -> IsolationReport:
        raw = worker.process.report or {}
        namespaces = tuple(raw.get("namespaces", ()))
        uid_info = raw.get("uid", {})
        private_root = bool(raw.get("private_root"))
        separate = bool(uid_info.get("separate"))
        uid = uid_info.get("uid")
        restricted: list[str] = []
        if not private_root and separate and self.settings.restrict_permissions:
            restricted = restrict(self._hidden)
        if private_root:
            exposed = []
        elif separate:
            exposed = [str(p) for p in self._hidden if readable_by(p, uid, uid)]
        else:
            exposed = [str(p) for p in self._hidden if os.access(p, os.R_OK)]
        user_ns = str(uid_info.get("how", "")).startswith("user namespace")
        strong = private_root and "pid" in namespaces and "net" in namespaces
        strong = strong and (separate or user_ns)
        if strong and not exposed:
            level = "strong"
        elif namespaces or separate:
            level = "partial"
        else:
            level = "weak"
        return IsolationReport(
            level=level,
            namespaces=namespaces,
            refused=dict(raw.get("refused", {})),
            private_root=private_root,
            uid=uid,
            separate_uid=separate,
            user_namespace=user_ns,
            network_isolated="net" in namespaces,
            exposed=tuple(exposed),
            restricted=tuple(restricted),
            notes=tuple(str(n) for n in raw.get("notes", ())),
            limits=self.limits,
        )
