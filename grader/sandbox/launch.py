"""Spawn any command isolated, under the sandbox's limits; reusable beyond the grading worker.

:func:`isolated_command` turns a command into a :class:`LaunchSpec` (argv, env, fds, cwd) that
``subprocess.Popen`` can start: the argv runs ``_launcher.py``, which builds the namespaces, the
private root and the limits, then execs the command. A notebook kernel can be started the same
way. :class:`IsolatedProcess` starts a spec and follows the launcher's status reports, so the
caller learns the isolation actually reached, how the command ended, and can kill all of it.

Paths inside the command may use placeholders: ``{tmp}`` (the private temporary directory, also
the working directory and HOME) and ``{name}`` for each :class:`Expose` with a name; they are
filled in by the launcher with the path the command will really see.

Over 400 lines on purpose: it is the one place that decides what an isolated command can see
(exposed paths, hidden paths, site directories, the uid) and how it is followed to its end;
split, a reader could not check the isolation of a launch in one file.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import itertools
import json
import os
import signal
import site
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from .settings import Limits, Settings

LAUNCHER = Path(__file__).with_name("_launcher.py")
SANDBOX_ROOT = "/sandbox"
UID_BASE = 1_500_000_000
_uid_counter = itertools.count()
F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class Expose:
    """A host path the command may use. ``src=None`` makes an empty directory at ``dst``.

    With a private root it appears at ``dst`` (read-only unless ``writable``); without one the
    command uses the host path, or ``fallback`` when given.
    """

    name: str | None
    src: Path | None
    dst: str
    writable: bool = False
    fallback: Path | None = None

    def as_config(self) -> dict:
        item = {"name": self.name, "src": None if self.src is None else str(self.src)}
        item.update(dst=self.dst, writable=self.writable)
        if self.fallback is not None:
            item["fallback"] = str(self.fallback)
        return item


@dataclass
class LaunchSpec:
    """Everything ``subprocess.Popen`` needs; start it with ``start_new_session=True``."""

    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...]
    cwd: str
    config_path: Path
    config: dict = field(repr=False)

    def popen(self, **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            pass_fds=self.pass_fds,
            start_new_session=True,
            close_fds=True,
            **kwargs,
        )


def sandbox_uid(settings: Settings) -> int | None:
    """The uid the command runs as when the grader is root (None: keep the grader's uid)."""
    if os.geteuid() != 0 or not settings.drop_privileges:
        return None
    if settings.uid is not None:
        return settings.uid
    return UID_BASE + (os.getpid() % 100_000) * 64 + next(_uid_counter) % 64


def _interpreter_paths(interpreter: str) -> list[str]:
    """Host directories the interpreter needs: its prefix, standard library and libpython."""
    paths = {str(Path(interpreter).resolve().parent.parent)}
    if Path(interpreter).resolve() == Path(sys.executable).resolve():
        paths.add(os.path.realpath(sys.base_prefix))
        for key in ("stdlib", "platstdlib"):
            paths.add(os.path.realpath(sysconfig.get_paths()[key]))
        libdir = sysconfig.get_config_var("LIBDIR")
        if libdir:
            paths.add(os.path.realpath(libdir))
    return sorted(paths)


def site_directories() -> list[str]:
    """Every directory the host Python may import third-party packages from."""
    dirs = set()
    candidates = list(site.getsitepackages()) + [site.getusersitepackages()]
    candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    for path in candidates:
        if path and os.path.isdir(path):
            dirs.add(os.path.realpath(path))
    return sorted(dirs)


def package_dir(name: str) -> Path | None:
    """Where a top-level package lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return Path(spec.origin).resolve()
    return None


def hidden_paths(
    settings: Settings, course_package: Path, extra: list[Path] | tuple[Path, ...] = ()
) -> list[Path]:
    """Host paths sandboxed code must not see: the grader, the reference, the course package,
    the settings' and caller's extras; never a folder holding the interpreter itself."""
    paths = [Path(p) for p in settings.hide] + [Path(p) for p in extra]
    if settings.hide_grader:
        grader_dir = Path(__file__).resolve().parent.parent
        paths += [grader_dir, Path(course_package)]
        if (grader_dir.parent / "pyproject.toml").is_file():
            paths.append(grader_dir.parent)
        reference = package_dir("reference")
        if reference is not None:
            paths.append(reference)
        from grader.secret import secret_path  # the held-out seed, wherever it is kept

        paths.append(secret_path())
    interpreter_dir = str(Path(settings.interpreter).parent)
    unique: list[Path] = []
    for path in paths:
        path = Path(os.path.realpath(path))
        if not path.exists() or path in unique:
            continue
        if interpreter_dir == str(path) or interpreter_dir.startswith(str(path) + "/"):
            continue  # covering it would hide the interpreter itself
        unique.append(path)
    return unique


def site_exposures(names: tuple[str, ...], site_dir: Path) -> list[Expose]:
    """Expose only the named packages (and their bundled ``.libs``) as the worker's site dir.

    Without a private root, ``site_dir`` is filled with links to them instead.
    """
    site_dir.mkdir(mode=0o755, exist_ok=True)
    exposures = [Expose("site", None, f"{SANDBOX_ROOT}/site", fallback=site_dir)]
    for name in names:
        where = package_dir(name)
        if where is None:
            continue
        for path in (where, where.with_name(where.name + ".libs")):
            if path.exists():
                exposures.append(Expose(None, path, f"{SANDBOX_ROOT}/site/{path.name}"))
                link = site_dir / path.name
                if not link.is_symlink():
                    link.symlink_to(path)
    return exposures


def _rlimits(limits: Limits) -> dict[str, list[int]]:
    return {
        "as": [limits.memory_bytes, limits.memory_bytes],
        "cpu": [limits.cpu_seconds, limits.cpu_seconds + 1],
        "nproc": [limits.processes, limits.processes],
        "fsize": [limits.file_bytes, limits.file_bytes],
        "nofile": [limits.open_files, limits.open_files],
        "core": [0, 0],
    }


def isolated_command(
    command: list[str],
    *,
    workdir: Path,
    limits: Limits,
    settings: Settings,
    expose: list[Expose] = (),
    hide: list[Path] = (),
    env: dict[str, str] | None = None,
    keep_fds: tuple[int, ...] = (),
    status_fd: int | None = None,
    uid: int | None = None,
    network: bool = False,
    remove_workdir: bool = False,
) -> LaunchSpec:
    """Describe how to start ``command`` isolated; nothing is started yet.

    ``workdir`` is a private directory of the caller (it will hold the launcher's config, the
    private root's mount point and the fallback ``tmp``). ``keep_fds`` stay open in the command
    at the same numbers; ``status_fd`` receives the launcher's JSON status lines. ``network``
    keeps the host network (a kernel reached over TCP needs it); otherwise there is none.
    ``remove_workdir`` lets the launcher delete ``workdir`` if the caller dies without cleaning.
    """
    workdir = Path(workdir)
    fallback_tmp = workdir / "tmp"
    fallback_tmp.mkdir(mode=0o700, exist_ok=True)
    if uid is not None:
        os.chmod(workdir, 0o711)  # the launcher hands ``tmp`` to the uid if it is used
    namespaces = [n for n in settings.namespaces if n != "net" or not network]
    full_env = dict(settings.env)
    full_env.update({"HOME": "{tmp}", "TMPDIR": "{tmp}", "USER": "student"})
    full_env.update(env or {})
    config = {
        "argv": list(command),
        "env": full_env,
        "cwd": "{tmp}",
        "namespaces": namespaces,
        "expose": [e.as_config() for e in expose],
        "fallback_tmp": str(fallback_tmp),
        "workdir": str(workdir) if remove_workdir else None,
        "keep_fds": list(keep_fds),
        "status_fd": status_fd,
        "parent_pid": os.getpid(),
        "uid": uid,
        "rlimits": _rlimits(limits),
        "simulate_refusal": settings.simulate_refusal,
        "root": None,
    }
    if settings.private_root:
        mount_point = workdir / "root"
        mount_point.mkdir(mode=0o700, exist_ok=True)
        system = list(settings.system_paths)
        for path in _interpreter_paths(command[0]):
            if not any(path == s or path.startswith(s.rstrip("/") + "/") for s in system):
                system.append(path)
        cover = site_directories() + [os.path.realpath(p) for p in hide]
        config["root"] = {
            "dir": str(mount_point),
            "system": system,
            "cover": sorted(set(cover)),
            "tmp_bytes": limits.tmp_bytes,
        }
    if uid is not None:
        needed = [Path(command[0])] + [e.src for e in expose if e.src is not None]
        config["unreachable"] = next((str(p) for p in needed if not readable_by(p, uid, uid)), None)
    config_path = workdir / f"launch-{next(_uid_counter)}.json"
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh)
    fds = tuple(keep_fds) + (() if status_fd is None else (status_fd,))
    launcher_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    argv = [sys.executable, "-I", "-S", str(LAUNCHER), str(config_path)]
    return LaunchSpec(argv, launcher_env, fds, str(workdir), config_path, config)


# ------------------------------------------------------------------------------------ running
def describe_status(
    status: int | None, cpu_seconds: int | None = None, cpu_used: float | None = None
) -> tuple[str, int | None]:
    """A wait status as words ("exited with status 3", "killed by signal 11 (SIGSEGV)").

    A death by SIGXCPU, or by the SIGKILL that follows it once the CPU limit is used up, is
    reported as the CPU limit.
    """
    if status is None:
        return "ended without reporting how", None
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with status {code}", code
    number = -code
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    out_of_cpu = cpu_seconds and (
        number == signal.SIGXCPU
        or (number == signal.SIGKILL and cpu_used is not None and cpu_used >= cpu_seconds)
    )
    if out_of_cpu:
        return f"used up its {cpu_seconds} s of CPU time", code
    return f"killed by signal {number} ({name})", code


class IsolatedProcess:
    """A started :class:`LaunchSpec`: follows the launcher's status lines and kills everything.

    ``report`` is the launcher's isolation report (None until it arrives); ``exit_status`` the
    raw wait status of the command once it ended.
    """

    def __init__(self, spec: LaunchSpec, status_read: int | None, **popen_kwargs) -> None:
        self.spec = spec
        self.status_read = status_read
        self.popen = spec.popen(**popen_kwargs)
        self._pending = b""
        self.report: dict | None = None
        self.init_pid: int | None = None
        self.target_pid: int | None = None
        self._pidfds: dict[str, int] = {}
        self.exit_status: int | None = None
        self.cpu_used: float | None = None
        self.exited = False
        self.ended = False
        self.failure: str | None = None
        if status_read is not None:
            os.set_blocking(status_read, False)

    def read_status(self) -> bool:
        """Read status lines that are waiting; True when the launcher's pipe is closed."""
        if self.status_read is None:
            return self.popen.poll() is not None
        closed = False
        while True:
            try:
                chunk = os.read(self.status_read, 65536)
            except BlockingIOError:
                break
            if not chunk:
                closed = True
                break
            self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError):
                self._event(json.loads(line))
        return closed

    def _event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "started":
            self.init_pid = event.get("init_pid")
            self._open_pidfd("init", self.init_pid)
        elif kind == "isolation":
            self.report = event.get("report")
            if "pid" not in (self.report or {}).get("namespaces", []):
                self.target_pid = event.get("target_pid")
                self._open_pidfd("target", self.target_pid)
        elif kind == "exit":
            self.exit_status = event.get("status")
            self.cpu_used = event.get("cpu")
            self.exited = True
        elif kind == "ended":
            self.ended = True
            if not self.exited:
                self.exited = True
        elif kind == "failed":
            self.failure = event.get("error")

    def _open_pidfd(self, name: str, pid: int | None) -> None:
        if isinstance(pid, int) and pid > 0:
            with contextlib.suppress(OSError):
                self._pidfds[name] = os.pidfd_open(pid)

    def wait_report(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while self.report is None and self.failure is None and time.monotonic() < deadline:
            if self.read_status():
                break
            time.sleep(0.002)
        return self.report

    def wait_exit(self, timeout: float) -> bool:
        """Wait until the command's end is reported (or the launcher is gone)."""
        deadline = time.monotonic() + timeout
        while not self.exited and time.monotonic() < deadline:
            if self.read_status():
                break
            time.sleep(0.005)
        return self.exited

    def kill(self, grace: float = 2.0) -> None:
        """Kill the command and every process it started; return once the launcher is reaped."""
        for name in ("target", "init"):
            fd = self._pidfds.get(name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
        deadline = time.monotonic() + grace
        while self.popen.poll() is None and time.monotonic() < deadline:
            self.read_status()
            time.sleep(0.005)
        if self.popen.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.kill()
            self.popen.wait()
        self.read_status()
        with contextlib.suppress(OSError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def close(self) -> None:
        for fd in self._pidfds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pidfds.clear()
        if self.status_read is not None:
            with contextlib.suppress(OSError):
                os.close(self.status_read)
            self.status_read = None


def make_pipe(size: int | None = None) -> tuple[int, int]:
    """A pipe (both ends close-on-exec) with a bigger buffer when the kernel allows."""
    read, write = os.pipe()
    if size:
        with contextlib.suppress(OSError):
            fcntl.fcntl(write, F_SETPIPE_SZ, size)
    return read, write


# ---------------------------------------------------------------------------- hidden paths
def readable_by(path: Path, uid: int, gid: int) -> bool:
    """Could ``uid`` read ``path`` through ordinary permissions? (Checked as root, by modes.)"""
    path = Path(os.path.realpath(path))
    chain = [*reversed(path.parents), path]
    for i, part in enumerate(chain):
        try:
            info = part.stat()
        except OSError:
            return False
        last = i == len(chain) - 1
        need = stat.S_IROTH if last and not stat.S_ISDIR(info.st_mode) else stat.S_IXOTH
        if info.st_uid == uid:
            need <<= 6
        elif info.st_gid == gid:
            need <<= 3
        if not info.st_mode & need:
            return False
    return True


def restrict(paths: list[Path]) -> list[str]:
    """Remove group/other access from ``paths`` (root only); returns the paths changed."""
    changed = []
    for path in paths:
        with contextlib.suppress(OSError):
            mode = path.stat().st_mode
            if mode & 0o077:
                os.chmod(path, stat.S_IMODE(mode) & ~0o077)
                changed.append(str(path))
    return changed
