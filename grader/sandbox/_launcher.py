"""Start one command isolated: namespaces, a private root, resource limits, an unprivileged uid.

Run as ``python -I -S _launcher.py CONFIG.json`` (the grader builds the config; see launch.py).
This file is trusted code that must work before anything of the grader can be imported, so it
uses the standard library only. Three processes result:

    launcher (supervisor, outside the new pid namespace, child subreaper)
      -> init (pid 1 of the new pid namespace: builds the mounts, reaps, reports, is unkillable
         from inside because the kernel only delivers signals init has handlers for)
           -> target (drops privileges, applies limits, execs the command)

When the target ends, init reports its wait status and exits, which makes the kernel kill every
process left in the namespace (detached grandchildren included). Without a pid namespace the
supervisor and init are subreapers and sweep their descendants instead, and when the target runs
under its own uid every process of that uid is killed as well.

Every step that the kernel may refuse (containers often refuse namespaces) degrades to the next
weaker one; what was reached is written to the status pipe as a JSON line, so the grader can say
what protected the run.

It stays one file of over 400 lines because it runs by path with ``python -I -S``: it cannot
import a sibling module, and everything it needs must be in it.
"""

import ctypes
import errno
import json
import os
import platform
import resource
import shutil
import signal
import sys
import time

CLONE = {
    "mount": 0x00020000,
    "uts": 0x04000000,
    "ipc": 0x08000000,
    "user": 0x10000000,
    "pid": 0x20000000,
    "net": 0x40000000,
}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "i686": 217, "armv7l": 218}
# statvfs flags that a bind remount must keep (the kernel refuses to clear locked ones).
KEEP_FLAGS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
RLIMITS = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}
DEVICES = ("null", "zero", "full", "random", "urandom")

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class Refused(OSError):
    """A kernel call that failed; carries errno so the report can name the reason."""


def _check(result, what):
    if result != 0:
        code = ctypes.get_errno()
        raise Refused(code, os.strerror(code), what)


def _b(path):
    return None if path is None else os.fsencode(path)


def mount(source, target, fstype, flags, data=None):
    data_b = None if data is None else data.encode()
    _check(
        libc.mount(_b(source), _b(target), _b(fstype), flags, data_b),
        f"mount {source or fstype} on {target}",
    )


def prctl(option, value):
    _check(libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


def unshare(flag, name, refuse):
    if refuse:
        raise Refused(errno.EPERM, os.strerror(errno.EPERM) + " (simulated)", f"unshare {name}")
    _check(libc.unshare(flag), f"unshare {name}")


def status(cfg, **event):
    """One JSON line to the grader; the pipe is only ever written by trusted processes."""
    fd = cfg.get("status_fd")
    if fd is None:
        return
    try:
        os.write(fd, (json.dumps(event) + "\n").encode())
    except OSError:
        pass


# ----------------------------------------------------------------------------------- namespaces
def enter_namespaces(cfg, report):
    """Unshare each requested namespace on its own, so one refusal costs only that one."""
    wanted = list(cfg.get("namespaces", []))
    refuse = bool(cfg.get("simulate_refusal"))
    is_root = os.geteuid() == 0
    got, refused = [], {}
    if "user" in wanted and not is_root:
        problem = "Operation not permitted (simulated)" if refuse else probe_user_namespace(cfg)
        if problem:
            refused["user"] = problem
        else:
            _enter_user_namespace(0, os.geteuid(), os.getegid())
            got.append("user")
    report["namespaces"] = got
    report["refused"] = refused
    for name in ("net", "ipc", "uts", "pid"):
        unshare_one(cfg, report, name)


def unshare_one(cfg, report, name):
    """Enter one more namespace if it was asked for; record the refusal otherwise."""
    if name not in cfg.get("namespaces", []):
        return
    if os.geteuid() != 0 and "user" not in report["namespaces"]:
        report["refused"][name] = "needs root or a user namespace"
        return
    try:
        unshare(CLONE[name], name, bool(cfg.get("simulate_refusal")))
        report["namespaces"].append(name)
    except OSError as exc:
        report["refused"][name] = exc.strerror or str(exc)


def _write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def _enter_user_namespace(inner, outer_uid, outer_gid):
    unshare(CLONE["user"], "user", False)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{inner} {outer_uid} 1")
    _write("/proc/self/gid_map", f"{inner} {outer_gid} 1")


def in_child(steps):
    """Run ``steps`` in a throw-away child; None when they worked, else what failed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        message = b""
        try:
            steps()
        except OSError as exc:
            message = f"{exc.filename}: {exc.strerror}".encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    message = b"".join(iter(lambda: os.read(read, 4096), b""))
    os.close(read)
    os.waitpid(pid, 0)
    return message.decode(errors="replace") or None


def probe_user_namespace(cfg):
    """Try every step a user namespace will need (some kernels and AppArmor profiles allow the
    namespace but not what follows); None when all work."""

    def steps():
        _enter_user_namespace(0, os.geteuid(), os.getegid())
        if "mount" in cfg.get("namespaces", []) and cfg.get("root"):
            unshare(CLONE["mount"], "mount", False)
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            mount("tmpfs", cfg["root"]["dir"], "tmpfs", MS_NOSUID | MS_NODEV, "size=4k")
        _enter_user_namespace(1000, 0, 0)

    return in_child(steps)


def uid_mapped(uid):
    """Is ``uid`` usable here? (Inside a container's user namespace only some uids are.)"""
    try:
        with open("/proc/self/uid_map") as fh:
            ranges = [tuple(int(n) for n in line.split()) for line in fh if line.strip()]
    except OSError:
        return True
    return any(inside <= uid < inside + count for inside, _, count in ranges)


# ------------------------------------------------------------------------------- private root
def _mkdirs(path):
    os.makedirs(path, mode=0o755, exist_ok=True)


def _kept_flags(path):
    flags = 0
    try:
        vfs = os.statvfs(path)
    except OSError:
        return flags
    for st_flag, ms_flag in KEEP_FLAGS:
        if vfs.f_flag & st_flag:
            flags |= ms_flag
    return flags


def bind(source, target, writable=False, nodev=True):
    if os.path.isdir(source):
        _mkdirs(target)
    else:
        _mkdirs(os.path.dirname(target))
        if not os.path.exists(target):
            open(target, "w").close()
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | _kept_flags(target)
    if nodev:
        flags |= MS_NODEV
    if not writable:
        flags |= MS_RDONLY
    mount(None, target, None, flags)


def tmpfs(target, size, mode, readonly=False):
    _mkdirs(target)
    flags = MS_NOSUID | MS_NODEV | (MS_RDONLY if readonly else 0)
    mount("tmpfs", target, "tmpfs", flags, f"size={size},mode={mode:o}")


def build_root(cfg, report):
    """Mount a tmpfs root holding only what the command needs, then pivot into it.

    Allowlisted host paths are bound read-only at their own paths (so the interpreter finds its
    standard library), exposed paths are bound at their sandbox paths, and every covered path
    (site-packages, the grader, hidden data) gets an empty read-only tmpfs over it.
    """
    root_cfg = cfg["root"]
    new = root_cfg["dir"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmpfs(new, "8m", 0o755)
    for path in root_cfg.get("system", []):
        if os.path.islink(path):
            os.symlink(os.readlink(path), new + path)
        elif os.path.exists(path):
            bind(path, new + path)
    for item in cfg.get("expose", []):
        if item.get("src") is None:
            _mkdirs(new + item["dst"])
        else:
            bind(item["src"], new + item["dst"], writable=item.get("writable", False))
    _make_dev(new + "/dev")
    tmpfs(new + "/tmp", root_cfg.get("tmp_bytes", 64 << 20), 0o1777)
    for path in root_cfg.get("cover", []):
        target = new + path
        if os.path.isdir(target) and not os.path.islink(target):
            tmpfs(target, "4k", 0o555, readonly=True)
        elif os.path.isfile(target) and not os.path.islink(target):
            bind("/dev/null", target)
    _mkdirs(new + "/proc")
    proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    try:
        mount("proc", new + "/proc", "proc", proc_flags, "hidepid=2")
    except OSError:
        try:
            mount("proc", new + "/proc", "proc", proc_flags)
        except OSError:  # no pid namespace of our own: show the host's processes
            mount("/proc", new + "/proc", None, MS_BIND | MS_REC)
            report["notes"].append("the host's /proc is visible")
    mount(None, new, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "size=8m,mode=755")
    os.chdir(new)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    try:
        if number is None:
            raise Refused(errno.ENOSYS, "unknown architecture", "pivot_root")
        _check(libc.syscall(number, b".", b"."), "pivot_root")
        _check(libc.umount2(b".", MNT_DETACH), "umount old root")
        report["root"] = "pivot_root"
    except OSError:
        os.chroot(".")
        report["root"] = "chroot"
    os.chdir("/")


def _make_dev(dev):
    tmpfs(dev, "64k", 0o755)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            bind("/dev/" + name, f"{dev}/{name}", writable=True, nodev=False)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    tmpfs(dev + "/shm", "16m", 0o1777)
    mount(None, dev, None, MS_REMOUNT | MS_NOSUID | MS_RDONLY, "size=64k,mode=755")


# ------------------------------------------------------------------------------------- killing
def children():
    """Direct children of this process, read from /proc (needs no pid namespace)."""
    pids = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as fh:
                pids.update(int(p) for p in fh.read().split())
        except OSError:
            continue
    return pids


def sweep():
    """Kill and reap every descendant. As a subreaper we inherit the orphans of the processes
    we kill, a moment after they die, so stop only after a few quiet rounds."""
    quiet = 0
    for _ in range(500):
        pids = children()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        reaped = _reap_all()
        if pids or reaped:
            quiet = 0
            if not reaped:
                time.sleep(0.002)  # killed but not yet dead (a dying namespace takes a moment)
            continue
        quiet += 1
        if quiet == 3:
            return
        time.sleep(0.005)


def _reap_all():
    reaped = False
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped = True


def kill_uid(uid):
    """Kill every process running as ``uid``: a helper takes that uid and signals -1, which the
    kernel applies to all processes it may signal, i.e. exactly those of the same uid."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(3):
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


# ---------------------------------------------------------------------------------- the target
def drop_privileges(cfg):
    """Become someone who can neither reach the grader nor undo the mounts."""
    uid = cfg.get("uid")
    if cfg.get("drop") == "setuid":
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif cfg.get("drop") == "nested":
        # root of a user namespace: enter a nested one where we are uid 1000, so execve drops
        # every capability and the mounts made above stay locked.
        inner = 1000
        _enter_user_namespace(inner, 0, 0)
        os.setresgid(inner, inner, inner)
        os.setresuid(inner, inner, inner)


def set_limits(cfg):
    for name, value in cfg.get("rlimits", {}).items():
        soft, hard = value
        try:
            resource.setrlimit(RLIMITS[name], (soft, hard))
        except (ValueError, OSError):
            resource.setrlimit(RLIMITS[name], (soft, resource.getrlimit(RLIMITS[name])[1]))


def run_target(cfg, report, paths, parent):
    """In the forked target: limits, privileges, then exec the command (never returns)."""
    try:
        os.setsid()
        if cfg.get("status_fd") is not None:
            os.close(cfg["status_fd"])
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        set_limits(cfg)
        prctl(PR_SET_DUMPABLE, 1)  # init is not dumpable; the target needs its own /proc files
        drop_privileges(cfg)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # set again: the uid change cleared it
        if os.getppid() != parent:
            os._exit(1)  # init died before the line above could take effect
        os.chdir(_fill(cfg.get("cwd", "{tmp}"), paths))
        keep = {0, 1, 2, *cfg.get("keep_fds", [])}
        for fd in keep:
            os.set_inheritable(fd, True)
        _close_others(keep)
        argv = [_fill(a, paths) for a in cfg["argv"]]
        env = {k: _fill(v, paths) for k, v in cfg.get("env", {}).items()}
        os.execve(argv[0], argv, env)
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        try:
            os.write(2, f"nngrade sandbox: could not start {cfg['argv'][0]}: {exc}\n".encode())
        finally:
            os._exit(127)


def _close_others(keep):
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _fill(text, paths):
    for name, value in paths.items():
        text = text.replace("{" + name + "}", value)
    return text


def sandbox_paths(cfg, private_root):
    """Where each exposed item is, as the target sees it."""
    paths = {}
    for item in cfg.get("expose", []):
        if item.get("name"):
            paths[item["name"]] = item["dst"] if private_root else item.get("fallback", item["src"])
    paths["tmp"] = "/tmp" if private_root else cfg["fallback_tmp"]
    return paths


def init(cfg, report):
    """pid 1 of the namespace (or a plain subreaper without one): set up, run, reap, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    # The mount namespace is init's own, so the supervisor keeps the host's view of the files.
    unshare_one(cfg, report, "mount")
    private_root = False
    if "mount" in report["namespaces"] and cfg.get("root"):
        try:
            build_root(cfg, report)
            private_root = True
        except OSError as exc:
            report["notes"].append(f"no private root ({exc.strerror or exc})")
    elif cfg.get("root"):
        report["notes"].append("no private root (no mount namespace)")
    report["private_root"] = private_root
    if not private_root and cfg.get("uid") is not None and cfg.get("unreachable"):
        # Without a private root the unprivileged uid would not even reach the interpreter.
        report["notes"].append(f"kept the grader's uid: {cfg['unreachable']} is unreachable")
        cfg["uid"] = None
    if "uts" in report["namespaces"]:
        try:
            _check(libc.sethostname(b"sandbox", 7), "sethostname")
        except OSError:
            pass
    prctl(PR_SET_DUMPABLE, 0)
    paths = sandbox_paths(cfg, private_root)
    report["uid"] = _target_uid(cfg, report)
    if not private_root and cfg["drop"] == "setuid":
        os.chown(paths["tmp"], cfg["uid"], cfg["uid"])
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        run_target(cfg, report, paths, parent)
    for fd in cfg.get("keep_fds", []):  # only the target may hold the command's channels
        try:
            os.close(fd)
        except OSError:
            pass
    status(cfg, event="isolation", report=report, target_pid=pid)
    target_status, cpu = None, None
    while target_status is None:
        try:
            done, wstatus, usage = os.wait4(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if done == pid:
            target_status, cpu = wstatus, usage.ru_utime + usage.ru_stime
    sweep()
    if report["uid"]["separate"] and os.geteuid() == 0 and "pid" not in report["namespaces"]:
        kill_uid(cfg["uid"])
    status(cfg, event="exit", status=target_status, cpu=cpu)
    os._exit(0)


def _target_uid(cfg, report):
    """Decide how the target gives up its privileges (``cfg["drop"]``) and describe it."""
    nested = {"separate": False, "uid": os.getuid(), "how": "user namespace, no capabilities"}
    cfg["drop"] = None
    if "user" in report["namespaces"]:
        cfg["drop"] = "nested"
        return nested
    uid = cfg.get("uid")
    if os.geteuid() == 0 and uid is not None:
        if uid_mapped(uid):
            cfg["drop"] = "setuid"
            return {"separate": True, "uid": uid, "how": "dropped from root"}
        cfg["uid"] = None  # root of a container's user namespace: only a few uids exist here
        problem = in_child(lambda: _enter_user_namespace(1000, 0, 0))
        if problem is None:
            cfg["drop"] = "nested"
            return nested
        report["notes"].append(f"kept root: uid {uid} does not exist here and {problem}")
    return {"separate": False, "uid": os.geteuid(), "how": "same uid as the grader"}


def _clean_exit(cfg, report):
    """The grader died: kill what it started and remove its private directory."""
    try:
        sweep()
        uid = cfg.get("uid")
        if uid is not None and os.geteuid() == 0 and "pid" not in report.get("namespaces", []):
            kill_uid(uid)  # (a forked helper cannot enter a pid namespace whose init is gone)
    finally:
        if cfg.get("workdir"):
            shutil.rmtree(cfg["workdir"], ignore_errors=True)
        os._exit(0)


def main():
    with open(sys.argv[1]) as fh:
        cfg = json.load(fh)
    try:
        os.unlink(sys.argv[1])
    except OSError:
        pass
    # If the grader dies, clean up rather than die: without a pid namespace, descendants that
    # left the process group are only found by sweeping what this subreaper inherits.
    report = {"notes": []}
    signal.signal(signal.SIGTERM, lambda *_: _clean_exit(cfg, report))
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != cfg.get("parent_pid", os.getppid()):
        os._exit(1)
    status_fd = cfg.get("status_fd")
    if status_fd is not None:
        os.set_inheritable(status_fd, False)
    enter_namespaces(cfg, report)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            init(cfg, report)
        except BaseException as exc:  # noqa: BLE001
            status(cfg, event="failed", error=f"{type(exc).__name__}: {exc}")
            os._exit(125)
    for fd in cfg.get("keep_fds", []):
        try:
            os.close(fd)
        except OSError:
            pass
    status(cfg, event="started", init_pid=pid)
    init_status = None
    while True:
        try:
            done, wstatus = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if done == pid:
            init_status = wstatus
            break
    sweep()
    uid = cfg.get("uid")
    if uid is not None and os.geteuid() == 0 and "pid" not in report["namespaces"]:
        kill_uid(uid)
    status(cfg, event="ended", status=init_status)
    os._exit(0)


if __name__ == "__main__":
    main()
