"""Every knob of the sandbox in one place: resource limits, and how the worker is isolated.

Defaults suit grading one submission; tests shorten the timeouts. Everything is frozen, so a
sandbox's settings cannot drift while it runs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from grader.course import COURSE

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

# The course's given modules (contract section 2); a student's copies are replaced by the course's.
GIVEN_MODULES = COURSE.given_modules
# Compiled extensions copied from the course package (file names start with one of these).
GIVEN_EXTENSIONS = COURSE.given_extensions
PACKAGE_NAMES = COURSE.package_names


@dataclass(frozen=True)
class Limits:
    """Resource limits, enforced from outside the student's code.

    Time limits are measured by the grader's own clock and end in SIGKILL; the others are
    kernel rlimits of every process in the sandbox. ``memory_bytes`` is the address space of
    each process; ``processes`` counts threads too.
    """

    call_timeout: float = 10.0
    start_timeout: float = 20.0
    memory_bytes: int = 2 * GIB
    cpu_seconds: int = 600
    processes: int = 64
    file_bytes: int = 64 * MIB
    open_files: int = 256
    tmp_bytes: int = 256 * MIB
    output_bytes: int = 16 * KIB
    transfer_bytes: int = 1 * GIB
    header_bytes: int = 16 * MIB
    max_depth: int = 32
    submission_bytes: int = 256 * MIB
    submission_files: int = 5000


@dataclass(frozen=True)
class Settings:
    """How the worker is started and isolated; each protection degrades alone when refused.

    namespaces: Linux namespaces to create (``user`` is used only when not running as root).
    private_root: give the worker a fresh root filesystem holding only ``system_paths``, the
        interpreter, numpy and its own files (needs a mount namespace).
    drop_privileges / uid: when root, run the worker as ``uid`` (default: a fresh high uid per
        sandbox, so its processes can be counted and killed by uid).
    restrict_permissions: when root and no private root could be made, remove group/other
        access from the hidden paths (changes their modes on disk; for throw-away containers).
    hide: extra paths the worker must not see (output dir, hidden data); the grader's package,
        ``reference`` and the course package are hidden too when ``hide_grader`` is set.
    site_packages: top-level packages the worker may import besides the standard library.
    naive_suffix: functions named with it may not reach the given modules' functions.
    """

    namespaces: tuple[str, ...] = ("user", "mount", "pid", "net", "ipc", "uts")
    private_root: bool = True
    drop_privileges: bool = True
    uid: int | None = None
    restrict_permissions: bool = False
    hide: tuple[str, ...] = ()
    hide_grader: bool = True
    interpreter: str = field(default_factory=lambda: os.path.realpath(sys.executable))
    site_packages: tuple[str, ...] = ("numpy",)
    system_paths: tuple[str, ...] = (
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/lib32",
        "/libx32",
        "/etc/ld.so.cache",
        "/etc/alternatives",
    )
    given_modules: tuple[str, ...] = GIVEN_MODULES
    given_extensions: tuple[str, ...] = GIVEN_EXTENSIONS
    # While a function whose name ends so runs, the given modules' functions raise: a "naive"
    # implementation is the student's own, not a call to the fast versions the course gives.
    naive_suffix: str = "_naive"
    package_names: tuple[str, ...] = PACKAGE_NAMES
    env: tuple[tuple[str, str], ...] = (
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("PYTHONHASHSEED", "0"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONIOENCODING", "utf-8"),
        ("OPENBLAS_NUM_THREADS", "1"),
        ("OMP_NUM_THREADS", "1"),
        ("MKL_NUM_THREADS", "1"),
        ("NUMEXPR_NUM_THREADS", "1"),
        ("MPLBACKEND", "Agg"),
    )
    kill_grace: float = 2.0
    simulate_refusal: bool = False

    def given_stems(self) -> tuple[str, ...]:
        """Module names (no suffix) of the given modules and extensions, for the worker."""
        names = [n.split(".", 1)[0] for n in (*self.given_modules, *self.given_extensions)]
        return tuple(dict.fromkeys(n for n in names if n))
