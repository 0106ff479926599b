"""When the kernel refuses isolation (containers often do), grading goes on and says so.

Refusals are simulated with ``Settings(simulate_refusal=True)``, which makes every unshare fail
with EPERM as Docker's default profile does; an ordinary user's run is tested by starting a
child process under uid 65534 when the suite runs as root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import CallTimeout, Limits, Settings, StudentImportError, WorkerDied
from grader.sandbox.launch import readable_by, restrict

from .conftest import processes_with, wait_until_gone
from .test_hostile import SPIN

REFUSED = Settings(simulate_refusal=True)
NO_PID = Settings(namespaces=("user", "mount", "net", "ipc", "uts"))
ORPHANS = """
import os, time

def orphan():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
        os._exit(0)
    os.waitpid(pid, 0)
    return os.getpid()
"""
PROBE = """
import os, sys

def probe():
    try:
        import grader
        imported = "grader imported"
    except ImportError:
        imported = "no grader"
    return {"path": sys.path, "env": sorted(os.environ), "cwd": os.getcwd(), "grader": imported}
"""


def test_refused_namespaces_are_reported_and_grading_goes_on(make_submission, open_sandbox):
    sb = open_sandbox(
        make_submission({"optim.py": SPIN}), settings=REFUSED, limits=Limits(call_timeout=1)
    )
    report = sb.isolation_report
    assert report.namespaces == () and not report.private_root and not report.network_isolated
    assert {"mount", "net", "pid"} <= set(report.refused)
    first = "mount" if os.geteuid() == 0 else "user"  # without root, all hangs on "user"
    assert report.refused[first] == "Operation not permitted (simulated)"
    assert report.level in ("partial", "weak")
    assert "host filesystem" in sb.isolation and "network reachable" in sb.isolation
    assert sb.call("layers.twice", 2) == 4
    with pytest.raises(CallTimeout, match="killed after 1 s while running optim.spin"):
        sb.call("optim.spin")
    assert wait_until_gone(sb.session) == []
    assert sb.call("layers.twice", 3) == 6


def test_refused_sandbox_still_sanitises_imports_env_and_cwd(
    make_submission, open_sandbox, monkeypatch
):
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "do-not-leak")
    sb = open_sandbox(make_submission({"optim.py": PROBE}), settings=REFUSED)
    info = sb.call("optim.probe")
    assert info["grader"] == "no grader"
    assert "NNGRADE_TEST_SECRET" not in info["env"] and "PYTHONPATH" not in info["env"]
    assert not any(p.endswith(("site-packages", "dist-packages")) for p in info["path"])
    assert info["path"][-1].endswith("/pkg") and info["cwd"].endswith("/tmp")
    assert Path(info["path"][-2], "numpy").exists()


@pytest.mark.parametrize("settings", [REFUSED, NO_PID], ids=["refused", "no-pid-namespace"])
def test_detached_grandchildren_die_without_a_pid_namespace(
    make_submission, open_sandbox, settings
):
    sb = open_sandbox(make_submission({"optim.py": ORPHANS}), settings=settings)
    assert "pid" not in sb.isolation_report.namespaces
    sb.call("optim.orphan")
    assert len(processes_with(sb.session)) == 2  # the worker and its detached grandchild
    session = sb.session
    sb.close()
    assert wait_until_gone(session) == []


def test_exit_at_import_without_namespaces(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({"optim.py": "import os\nos._exit(9)\n"}), settings=REFUSED)
    with pytest.raises(WorkerDied, match="^exited with status 9 while importing optim.py$"):
        sb.call("optim.sgd")
    with pytest.raises(StudentImportError, match="no fc_net.py"):
        sb.call("fc_net.FullyConnectedNet")


def test_permissions_are_checked_and_can_be_restricted():
    shared = Path(tempfile_dir())  # /tmp itself is open to everyone, unlike pytest's tmp_path
    try:
        (shared / "inner").mkdir(mode=0o755)
        (shared / "inner" / "labels.txt").write_text("secret")
        os.chmod(shared / "inner" / "labels.txt", 0o644)
        stranger = 1_999_999_999
        assert readable_by(shared / "inner" / "labels.txt", stranger, stranger)
        assert restrict([shared]) == [str(shared)]
        assert not readable_by(shared / "inner" / "labels.txt", stranger, stranger)
        assert not readable_by(shared, stranger, stranger)
        assert readable_by(shared, os.getuid(), os.getgid())
        assert restrict([shared]) == []
    finally:
        shutil.rmtree(shared)


USER_SCRIPT = """
import json, sys
sys.path.insert(0, {repo!r})
from grader.sandbox import Limits, Sandbox, Settings, WorkerDied
out = {{}}
for name, settings in (("default", Settings()), ("refused", Settings(simulate_refusal=True))):
    with Sandbox({submission!r}, course_package={course!r}, limits=Limits(call_timeout=5),
                 settings=settings) as sb:
        out[name] = {{"isolation": sb.isolation, "level": sb.isolation_report.level,
                     "twice": sb.call("layers.twice", 21)}}
        try:
            sb.call("optim.sgd")
        except WorkerDied as exc:
            out[name]["death"] = exc.reason
print(json.dumps(out))
"""


def _nobody_exists() -> bool:
    """Whether uid 65534 can be taken here (in a container's user namespace it may not)."""
    with open("/proc/self/uid_map") as fh:
        ranges = [tuple(map(int, line.split())) for line in fh if line.strip()]
    return any(inside <= 65534 < inside + count for inside, _, count in ranges)


def _user_interpreter() -> str | None:
    """An interpreter with numpy that uid 65534 can run (CI's are; a pyenv under /root is not)."""
    for candidate in (os.environ.get("NNGRADE_USER_PYTHON"), sys.executable):
        if candidate and readable_by(Path(candidate).resolve(), 65534, 65534):
            return candidate
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="the suite already runs as an ordinary user")
def test_an_ordinary_user_gets_isolation_too(make_submission, course, tmp_path):
    if not _nobody_exists():
        pytest.skip("uid 65534 is not mapped in this user namespace")
    python = _user_interpreter()
    if python is None:
        pytest.skip("no interpreter reachable by uid 65534 (set NNGRADE_USER_PYTHON)")
    repo = str(Path(__file__).resolve().parents[3])
    if not readable_by(Path(repo, "grader", "sandbox", "sandbox.py"), 65534, 65534):
        pytest.skip("the repository is not readable by uid 65534")
    submission = make_submission({"optim.py": "import os\nos._exit(3)\n"})
    shared = Path(tempfile_dir())
    try:
        shutil.copytree(submission, shared / submission.name)
        shutil.copytree(course, shared / course.name)
        for path in [shared, *shared.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        script = USER_SCRIPT.format(
            repo=repo, submission=str(shared / submission.name), course=str(shared / course.name)
        )

        def become_nobody() -> None:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)

        env = {"PATH": "/usr/bin:/bin", "HOME": str(shared), "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            [python, "-c", textwrap.dedent(script)],
            preexec_fn=become_nobody,
            env=env,
            cwd=shared,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("default", "refused"):
        assert out[name]["twice"] == 42
        assert out[name]["death"] == "exited with status 3 while importing optim.py"
    assert (
        out["refused"]["level"] == "weak"
        and "same uid as the grader" in out["refused"]["isolation"]
    )
    print(out["default"]["isolation"])


def tempfile_dir() -> str:
    path = tempfile.mkdtemp(prefix="nngrade-user-test-")
    os.chmod(path, 0o755)
    return path


GRADER_SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from grader.sandbox import Limits, Sandbox, Settings
settings = Settings(simulate_refusal={refused})
sb = Sandbox({submission!r}, course_package={course!r}, limits=Limits(call_timeout=60),
             settings=settings)
print(sb.session, sb._workdir, flush=True)
sb.call("optim.spin_with_detached_child")
"""
DETACHING_SPINNER = """
import os, time

def spin_with_detached_child():
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
    while True:
        pass
"""


@pytest.mark.parametrize("refused", [False, True], ids=["isolated", "refused"])
def test_nothing_survives_the_grader_being_killed(make_submission, course, refused):
    submission = make_submission({"optim.py": DETACHING_SPINNER})
    repo = str(Path(__file__).resolve().parents[3])
    script = GRADER_SCRIPT.format(
        repo=repo, refused=refused, submission=str(submission), course=str(course)
    )
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        session, workdir = grader.stdout.readline().split()
        deadline = time.monotonic() + 10
        while len(processes_with(session)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # the worker, then its detached child
        assert len(processes_with(session)) == 2
    finally:
        grader.kill()
        grader.wait()
        grader.stdout.close()
    assert wait_until_gone(session) == []
    deadline = time.monotonic() + 3
    while Path(workdir).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(workdir).exists()
