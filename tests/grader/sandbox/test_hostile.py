"""Hostile submissions: each one tries to hang, crash, flood, escape or fool the grader.

For every attack the grader must stay up, report one honest reason, leak nothing to the student
code, and leave no process behind. Attacks that would hurt the host when the sandbox is weak
(signalling every process) only run where the report shows a pid namespace or a separate uid.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np
import pytest

from grader.sandbox import (
    CallTimeout,
    Handle,
    Limits,
    ProtocolViolation,
    ResourceExceeded,
    UnsupportedValue,
    WorkerDied,
)

from .conftest import processes_with, wait_until_gone

SPIN = """
import signal, time

def spin():
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP, signal.SIGUSR1,
                signal.SIGXCPU, signal.SIGVTALRM, signal.SIGPROF):
        signal.signal(sig, signal.SIG_IGN)
    time.time = time.monotonic = time.perf_counter = lambda: 0.0
    time.sleep = lambda seconds: None
    n = 0
    while True:
        n += 1
"""


def test_infinite_loop_ignoring_signals_and_patching_time(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({"optim.py": SPIN}), limits=Limits(call_timeout=1.0))
    marker = sb.session
    start = time.monotonic()
    with pytest.raises(CallTimeout, match=r"^killed after 1 s while running optim.spin$"):
        sb.call("optim.spin")
    assert time.monotonic() - start < 1.0 + 3.0
    assert wait_until_gone(marker) == []
    assert sb.call("layers.twice", 21) == 42 and sb.restarts == 1


def test_cpu_time_is_bounded_even_when_sigxcpu_is_ignored(make_submission, open_sandbox):
    limits = Limits(call_timeout=10.0, cpu_seconds=1)
    sb = open_sandbox(make_submission({"optim.py": SPIN}), limits=limits)
    with pytest.raises(
        ResourceExceeded, match="^used up its 1 s of CPU time while running optim.spin$"
    ):
        sb.call("optim.spin")
    assert sb.call("layers.twice", 1) == 2


def test_infinite_loop_at_import_reports_the_module(make_submission, open_sandbox):
    files = {"optim.py": "while True:\n    pass\n"}
    sb = open_sandbox(make_submission(files), limits=Limits(call_timeout=1.0))
    with pytest.raises(CallTimeout, match="killed after 1 s while importing optim.py"):
        sb.call("optim.sgd")
    assert sb.call("layers.twice", 1) == 2


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import sys\nsys.exit(3)\n", "exited with status 3 while importing optim.py"),
        ("import os\nos._exit(0)\n", "exited with status 0 while importing optim.py"),
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
            "killed by signal 9 (SIGKILL) while importing optim.py",
        ),
    ],
)
def test_exit_at_import(make_submission, open_sandbox, source, reason):
    sb = open_sandbox(make_submission({"optim.py": source}))
    with pytest.raises(WorkerDied) as info:
        sb.call("optim.sgd", 1, 2)
    assert info.value.reason == reason
    assert sb.call("layers.twice", 2) == 4


def test_exit_in_a_module_imported_by_another_names_the_culprit(make_submission, open_sandbox):
    files = {
        "layer_utils.py": "import sys\nprint('bye')\nsys.exit(2)\n",
        "classifiers/__init__.py": "",
        "classifiers/fc_net.py": "from ..layer_utils import *\n",
    }
    sb = open_sandbox(make_submission(files))
    with pytest.raises(WorkerDied) as info:
        sb.call("classifiers.fc_net.FullyConnectedNet")
    assert info.value.reason == "exited with status 2 while importing layer_utils.py"
    assert info.value.output == "bye\n" and info.value.exit_code == 2


MID_CALL = """
import ctypes, os, signal, sys

def quit_os(code):
    print("last words")
    os._exit(code)

def quit_sys(code):
    sys.exit(code)

def segfault():
    ctypes.string_at(0)

def abort():
    os.kill(os.getpid(), signal.SIGABRT)

def close_channels():
    for fd in range(3, 64):
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
"""


@pytest.mark.parametrize(
    ("call", "args", "reason"),
    [
        ("quit_os", (7,), "exited with status 7 while running optim.quit_os"),
        ("quit_sys", (5,), "exited with status 5 while running optim.quit_sys"),
        ("segfault", (), "killed by signal 11 (SIGSEGV) while running optim.segfault"),
        ("abort", (), "killed by signal 6 (SIGABRT) while running optim.abort"),
        (
            "close_channels",
            (),
            "stopped answering (its reply channel was closed) while running optim.close_channels",
        ),
    ],
)
def test_death_mid_call(make_submission, open_sandbox, call, args, reason):
    sb = open_sandbox(make_submission({"optim.py": MID_CALL}))
    with pytest.raises(WorkerDied) as info:
        sb.call(f"optim.{call}", *args)
    assert info.value.reason == reason
    assert ("last words" in info.value.output) == (call == "quit_os")
    assert wait_until_gone(sb.session) == []
    assert sb.call("layers.twice", 3) == 6


ATTACK_GRADER = """
import os, signal

def attack(grader_pid):
    tried = []
    for pid, sig in ((os.getppid(), signal.SIGKILL), (grader_pid, signal.SIGKILL),
                     (1, signal.SIGKILL), (-1, signal.SIGKILL)):
        try:
            os.kill(pid, sig)
            tried.append((pid, "sent"))
        except OSError as exc:
            tried.append((pid, type(exc).__name__))
    try:
        os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    except OSError:
        pass
    return tried
"""


def _can_signal_safely(sb) -> bool:
    report = sb.isolation_report
    return "pid" in report.namespaces or report.separate_uid


def test_killing_the_parent_and_process_groups(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({"optim.py": ATTACK_GRADER}))
    if not _can_signal_safely(sb):
        pytest.skip(f"would signal the host's processes: {sb.isolation}")
    try:
        sb.call("optim.attack", os.getpid())
    except WorkerDied as exc:
        assert "killed by signal 9" in exc.reason or "ended" in exc.reason
    # The grader (this process) is still here, and so is grading:
    assert sb.call("layers.twice", 4) == 8


FLOOD = """
import os, threading, time

def fork_flood():
    children = 0
    try:
        while children < 10000:
            pid = os.fork()
            if pid == 0:
                os.setsid()
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError as exc:
        return children, type(exc).__name__
    return children, "no limit"

def thread_flood():
    count = 0
    try:
        while count < 10000:
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            count += 1
    except RuntimeError as exc:
        return count, type(exc).__name__
    return count, "no limit"
"""


def test_process_and_thread_floods_are_bounded_and_cleaned_up(make_submission, open_sandbox):
    limits = Limits(call_timeout=10.0, processes=24)
    sb = open_sandbox(make_submission({"optim.py": FLOOD}), limits=limits)
    if not _can_signal_safely(sb):
        pytest.skip(f"process limits need a separate uid or namespace: {sb.isolation}")
    children, why = sb.call("optim.fork_flood")
    assert 0 < children < 24 and why == "BlockingIOError"
    assert len(processes_with(sb.session)) == children + 1
    sb.restart()  # a fresh worker: the old one's detached sleepers must be gone
    assert len(wait_until_gone(sb.session, 0.5)) == 1
    threads, why = sb.call("optim.thread_flood")
    assert threads < 24 and why == "RuntimeError"
    marker = sb.session
    sb.close()
    assert wait_until_gone(marker) == []


MEMORY = """
import numpy as np

hoard = []

def grab(gib):
    return np.ones(int(gib * 2**30) // 8).sum()

def hoard_slowly():
    while True:
        hoard.append(np.ones(2**24))
"""


@pytest.mark.parametrize("call", ["grab", "hoard_slowly"])
def test_memory_is_bounded(make_submission, open_sandbox, call):
    limits = Limits(call_timeout=10.0, memory_bytes=512 << 20)
    sb = open_sandbox(make_submission({"optim.py": MEMORY}), limits=limits)
    args = (3,) if call == "grab" else ()
    with pytest.raises(
        ResourceExceeded, match=f"^exceeded 512 MiB of memory while running optim.{call}$"
    ):
        sb.call(f"optim.{call}", *args)
    assert sb.call("optim.grab", 0.01) == pytest.approx(2**30 * 0.01 // 8)


OUTPUT = """
import os, sys

def flood():
    sys.stdout.write("HEAD-MARK\\n")
    chunk = "x" * (1 << 20)
    for _ in range(100):
        sys.stdout.write(chunk)
    sys.stdout.write("\\nTAIL-MARK\\n")
    sys.stdout.flush()
    os.write(2, b"raw stderr\\n")
    return "done"
"""


def test_a_100_mb_output_flood_is_truncated_and_kept_out_of_the_grader(
    make_submission, open_sandbox, capfd
):
    sb = open_sandbox(make_submission({"optim.py": OUTPUT}), limits=Limits(call_timeout=30))
    assert sb.call("optim.flood") == "done"
    out = sb.last_output
    assert out.startswith("HEAD-MARK\nxxx") and out.endswith("TAIL-MARK\nraw stderr\n")
    assert "bytes of output omitted" in out and len(out) < sb.limits.output_bytes + 100
    captured = capfd.readouterr()
    assert "xxxx" not in captured.out + captured.err
    assert sb.call("layers.twice", 1) == 2 and sb.last_output == ""


PATCHER = """
import builtins
import numpy as np

np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
builtins.abs = lambda x: 0
builtins.sum = lambda *a, **k: 0

def affine_forward(x, w, b):
    return np.zeros((x.shape[0], w.shape[1])), None
"""


def test_monkeypatching_numpy_and_builtins_stays_in_the_worker(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({"layers.py": PATCHER}))
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.ones(4)
    out, cache = sb.call("layers.affine_forward", x, w, b)
    assert type(out) is np.ndarray and cache is None
    assert not np.allclose(out, x @ w + b)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(out, x @ w + b)
    assert abs(-1) == 1 and sum([1, 2]) == 3 and np.array_equal(out, out + 1) is False


READER = """
import importlib, os, sys

def snoop(paths, secret_env):
    found = {}
    for path in paths:
        try:
            if os.path.isdir(path):
                found[path] = sorted(os.listdir(path))
            else:
                with open(path, "rb") as fh:
                    found[path] = fh.read(200).decode("latin-1")
        except OSError as exc:
            found[path] = type(exc).__name__
    for name in ("grader", "reference", "grader.sandbox"):
        try:
            importlib.import_module(name)
            found[name] = "imported"
        except ImportError as exc:
            found[name] = type(exc).__name__
    found["env"] = dict(os.environ)
    leaks = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() and pid != "self":
            continue
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as fh:
                    if secret_env.encode() in fh.read():
                        leaks.append(f"{pid}/{part}")
            except OSError:
                pass
    found["proc leaks"] = leaks
    return repr(found)
"""


def test_reading_the_grader_reference_hidden_data_and_proc(
    make_submission, open_sandbox, course, tmp_path, monkeypatch
):
    import grader

    secret = "nngrade-secret-" + os.urandom(6).hex()
    monkeypatch.setenv("NNGRADE_TEST_SECRET", secret)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "labels.npy").write_text(secret)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    sb = open_sandbox(make_submission({"optim.py": READER}), hide=(hidden, out_dir))
    grader_dir = os.path.dirname(grader.__file__)
    paths = [
        grader_dir,
        os.path.join(os.path.dirname(grader_dir), "reference"),
        os.path.join(grader_dir, "sandbox", "sandbox.py"),
        str(course / "solver.py"),
        str(hidden / "labels.npy"),
        str(out_dir),
        f"/proc/{os.getpid()}/environ",
    ]
    report = sb.call("optim.snoop", paths, secret)
    assert secret not in report
    assert "'grader': 'ModuleNotFoundError'" in report
    assert "'reference': 'ModuleNotFoundError'" in report
    assert "'proc leaks': []" in report
    assert "NNGRADE_TEST_SECRET" not in report
    if sb.isolation_report.private_root:
        for path in paths[:6]:
            assert f"'{path}': 'FileNotFoundError'" in report


EXOTIC = """
import os
import numpy as np

class Sneaky:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))
    def __array__(self, *args, **kwargs):
        open(MARKER, "w").close()
        return np.zeros(3)

class AlwaysEqual(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__

class MyArray(np.ndarray):
    pass

def make(kind):
    return {
        "matrix": lambda: np.matrix([[1.0, 2.0]]),
        "masked": lambda: np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
        "subclass": lambda: np.zeros(3).view(MyArray),
        "object array": lambda: np.array([1, "a", None], dtype=object),
        "structured": lambda: np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
        "datetime": lambda: np.array(["2024-01-01"], dtype="datetime64[D]"),
        "strings": lambda: np.array(["abc"]),
        "reduce": lambda: Sneaky(),
        "float subclass": lambda: AlwaysEqual(1.0),
        "dict subclass": lambda: type("D", (dict,), {})(a=1),
        "str subclass": lambda: type("S", (str,), {"__eq__": lambda s, o: True})("x"),
    }[kind]()

def as_cache(kind):
    return np.ones(2), (np.zeros(1), make(kind))
"""

KINDS = {
    "matrix": "numpy.matrix (an ndarray subclass)",
    "masked": "MaskedArray (an ndarray subclass)",
    "subclass": "MyArray (an ndarray subclass)",
    "object array": "ndarray of dtype object",
    "structured": "ndarray of dtype",
    "datetime": "ndarray of dtype datetime64[D]",
    "strings": "ndarray of dtype <U3",
    "reduce": "Sneaky",
    "float subclass": "AlwaysEqual",
    "dict subclass": "D",
    "str subclass": "S",
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_exotic_return_values_stay_in_the_worker(make_submission, open_sandbox, tmp_path, kind):
    marker = tmp_path / "unpickled-or-called"
    source = EXOTIC.replace("MARKER", repr(str(marker)))
    sb = open_sandbox(make_submission({"optim.py": source}))
    value = sb.call("optim.make", kind)
    assert isinstance(value, Handle) and KINDS[kind] in value.type_name
    assert not isinstance(value, (float, str, dict, np.ndarray))
    with pytest.raises(TypeError, match="live object in the sandbox"):
        np.asarray(value, dtype=float)
    with pytest.raises(UnsupportedValue, match="value: "):
        sb.fetch(value)
    out, cache = sb.call("optim.as_cache", kind)
    assert type(out) is np.ndarray and type(cache[0]) is np.ndarray and isinstance(cache[1], Handle)
    assert sb.call("layers.twice", cache[0]).tolist() == [0.0]
    assert not marker.exists()


FORGER = """
import json, os, struct, sys

def forge(kind):
    fd = int(sys.argv[sys.argv.index("--resp") + 1])
    if kind == "object dtype":
        header = {"id": 1, "ok": True, "body": {"$a": 0, "d": "|O8", "s": [1]}, "buffers": [8]}
    elif kind == "huge array":
        body = {"$a": 0, "d": "<f8", "s": [2**40]}
        header = {"id": 1, "ok": True, "body": body, "buffers": [2**43]}
    elif kind == "shape lie":
        header = {"id": 1, "ok": True, "body": {"$a": 0, "d": "<f8", "s": [100]}, "buffers": [8]}
    elif kind == "deep":
        body = 0
        for _ in range(200):
            body = [body]
        header = {"id": 1, "ok": True, "body": body, "buffers": []}
    elif kind == "unknown tag":
        header = {"id": 1, "ok": True, "body": {"$pickle": "gASV"}, "buffers": []}
    elif kind == "garbage":
        os.write(fd, b"\\x80\\x04\\x95 not a frame at all" * 10)
        return None
    text = json.dumps(header).encode()
    os.write(fd, b"NNG1" + struct.pack(">I", len(text)) + text + b"\\0" * 8)
    import time
    time.sleep(5)
"""


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("object dtype", "refused dtype '|O8'"),
        ("huge array", "message of 8796093022208 bytes"),
        ("shape lie", "buffer of 8 bytes for 800 bytes"),
        ("deep", "nested deeper than"),
        ("unknown tag", "unknown value tag '$pickle'"),
        ("garbage", "garbage on the reply channel"),
    ],
)
def test_forged_replies_are_refused(make_submission, open_sandbox, kind, why):
    sb = open_sandbox(make_submission({"optim.py": FORGER}))  # its first request has id 1
    with pytest.raises(ProtocolViolation, match="sent an invalid reply") as info:
        sb.call("optim.forge", kind)
    assert why in info.value.reason
    assert sb.call("layers.twice", 5) == 10


WRITER = """
import os, subprocess, sys, time

TARGETS = []

def write_everywhere(targets, code):
    TARGETS[:] = targets
    written = []
    for directory in targets + [os.getcwd(), "/tmp", os.path.expanduser("~")]:
        try:
            with open(os.path.join(directory, "results.json"), "w") as fh:
                fh.write('{"score": 100}')
            written.append(directory)
        except OSError:
            pass
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.0)
            for directory in targets:
                try:
                    with open(os.path.join(directory, "results.json"), "w") as fh:
                        fh.write('{"score": 100}')
                except OSError:
                    pass
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return written
"""


def test_results_json_written_anywhere_even_by_detached_grandchildren(
    make_submission, open_sandbox, tmp_path
):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    submission = make_submission({"optim.py": WRITER})
    sb = open_sandbox(submission, hide=(out_dir,), limits=Limits(call_timeout=5))
    marker = f"late-writer-{sb.session}"
    targets = [str(out_dir), str(submission), str(tmp_path)]
    code = (
        f"import time\n# {marker}\ntime.sleep(1.0)\n"
        f"for d in {targets!r}:\n"
        "    try: open(d + '/results.json', 'w').write('{}')\n"
        "    except OSError: pass\n"
    )
    written = sb.call("optim.write_everywhere", targets, code)
    report = sb.isolation_report
    sb.close()
    assert wait_until_gone(sb.session, 1.0) == [] and wait_until_gone(marker, 1.0) == []
    early = list(tmp_path.rglob("results.json"))
    if report.private_root or report.separate_uid:
        assert early == [] and not set(written) & set(targets)
    else:  # a weak sandbox (reported as such) cannot stop writes while it runs ...
        assert "same uid as the grader" in report.summary()
    for path in early:
        path.unlink()
    time.sleep(1.5)  # ... but nothing it started may write after it is closed
    assert list(tmp_path.rglob("results.json")) == []


def test_student_cannot_signal_grader_processes_outside(make_submission, open_sandbox):
    """A helper process of the grader is unreachable by pid from inside the sandbox."""
    sb = open_sandbox(make_submission({"optim.py": ATTACK_GRADER}))
    if "pid" not in sb.isolation_report.namespaces:
        pytest.skip(f"no pid namespace: {sb.isolation}")
    import subprocess
    import sys

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with contextlib.suppress(WorkerDied):  # its last step kills its own group
            sb.call("optim.attack", bystander.pid)
        time.sleep(0.1)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_signals_to_the_whole_group_do_not_reach_the_grader(make_submission, open_sandbox):
    code = "import os, signal\ndef group():\n    os.killpg(0, signal.SIGKILL)\n"
    sb = open_sandbox(make_submission({"optim.py": code}))
    with pytest.raises(
        WorkerDied, match=r"killed by signal 9 \(SIGKILL\) while running optim.group"
    ):
        sb.call("optim.group")
    assert sb.call("layers.twice", 1) == 2
