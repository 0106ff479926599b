"""The isolated kernel: an ipykernel started through the sandbox's launcher, with its own
namespaces, private root, uid and limits, reached over unix sockets; and the jupyter_client
manager and nbclient client that drive it. Over 400 lines because the sandboxed process, what it
may see, its CPU clock and the jupyter_client glue change together and are read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import re
import stat
import time
import uuid
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat

from grader.notebooks import build
from grader.notebooks.settings import OUTPUT_LIMIT
from grader.sandbox import Expose, IsolatedProcess, Limits, Settings, isolated_command
from grader.sandbox.launch import (
    SANDBOX_ROOT,
    describe_status,
    make_pipe,
    sandbox_uid,
)

#: Where the kernel looks for CIFAR-10: nowhere, so the embedded synthetic dataset is used.
MISSING_CIFAR10_DIR = "/nonexistent/cifar-10-batches-py"
#: The top-level distributions the kernel may import (with all they require).
#: The course's notebook environment: what the notebooks import, and the packages the course's
#: students commonly add to them (progress bars, reading images), declared in pyproject.toml.
KERNEL_DISTRIBUTIONS = ("ipykernel", "matplotlib", "numpy", "tqdm", "imageio")
#: Distributions left out although required: the debugger is never used when grading.
KERNEL_EXCLUDED = frozenset({"debugpy"})


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
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.extra_env = dict(env or {})
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
        env = dict(build.KERNEL_ENV)
        env.update(
            PYTHONPATH="{site}",
            CIFAR10_DIR=MISSING_CIFAR10_DIR,
            MALLOC_ARENA_MAX="2",
            JPY_SESSION_NAME="",
        )
        env.update(self.extra_env)
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

    def cpu_seconds(self) -> float | None:
        """CPU time the kernel's processes have used so far (user + system, reaped children
        included), read from /proc; None when it cannot be read. Unlike wall time it hardly
        depends on what else the machine runs, so the notebook's budgets are counted in it."""
        proc = self.process
        root = (proc.init_pid or proc.target_pid) if proc is not None else None
        if not root:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        total, todo, seen = 0, [int(root)], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children", "rb") as fh:
                        todo.extend(int(c) for c in fh.read().split())
            except (OSError, ValueError, IndexError):
                if pid == root:
                    return None
        return total / tick

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
