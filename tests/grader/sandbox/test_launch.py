"""Starting any command isolated (the same launcher a notebook kernel will use)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader.sandbox import Limits, Settings
from grader.sandbox.launch import (
    IsolatedProcess,
    describe_status,
    isolated_command,
    make_pipe,
    sandbox_uid,
)

from .conftest import wait_until_gone, wait_until_running


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    for path in WORKDIRS:
        shutil.rmtree(path, ignore_errors=True)
    WORKDIRS.clear()


WORKDIRS: list[Path] = []


def run_isolated(command, settings=Settings(), network=False):  # noqa: B008
    workdir = Path(tempfile.mkdtemp(prefix="nngrade-launch-test-"))
    WORKDIRS.append(workdir)
    status_r, status_w = make_pipe()
    out_r, out_w = make_pipe()
    spec = isolated_command(
        command,
        workdir=workdir,
        limits=Limits(),
        settings=settings,
        status_fd=status_w,
        uid=sandbox_uid(settings),
        network=network,
    )
    proc = IsolatedProcess(spec, status_r, stdout=out_w, stderr=subprocess.STDOUT)
    os.close(status_w)
    os.close(out_w)
    return proc, out_r, workdir


def read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def test_a_shell_command_runs_isolated_and_its_status_is_reported():
    script = "echo home=$HOME; pwd; hostname; ls /; echo {tmp}"
    proc, out_r, workdir = run_isolated(["/bin/sh", "-c", script])
    assert proc.wait_exit(10.0) and proc.exit_status == 0
    proc.kill()
    proc.close()
    output = read_all(out_r)
    report = proc.report
    if report["private_root"]:
        assert "home=/tmp\n/tmp\n" in output and output.endswith("/tmp\n")
        listing = output.split("\n")
        assert "sandbox" in listing and "work" not in listing
    else:
        assert f"home={workdir}/tmp" in output
    if "uts" in report["namespaces"]:
        assert "\nsandbox\n" in output


def test_killing_takes_detached_descendants_along():
    command = ["/bin/sh", "-c", "setsid sleep 31.4159 & sleep 31.4158; echo never"]
    proc, out_r, _ = run_isolated(command)
    proc.wait_report(10.0)
    assert wait_until_running("31.4159") != []
    proc.kill()
    proc.close()
    assert wait_until_gone("31.4159") == [] and wait_until_gone("31.4158") == []
    assert "never" not in read_all(out_r)


def test_signal_deaths_are_described():
    proc, out_r, _ = run_isolated(["/bin/sh", "-c", "kill -SEGV $$"])
    assert proc.wait_exit(10.0)
    proc.kill()
    proc.close()
    read_all(out_r)
    assert describe_status(proc.exit_status) == ("killed by signal 11 (SIGSEGV)", -11)


def test_network_can_be_kept_for_programs_that_need_it():
    proc, out_r, _ = run_isolated(["/bin/true"], network=True)
    assert proc.wait_exit(10.0)
    proc.kill()
    proc.close()
    read_all(out_r)
    assert "net" not in proc.report["namespaces"] and "net" not in proc.report["refused"]


@pytest.mark.parametrize(
    ("status", "cpu", "words"),
    [
        (0, None, "exited with status 0"),
        (3 << 8, None, "exited with status 3"),
        (signal.SIGKILL, None, "killed by signal 9 (SIGKILL)"),
        (signal.SIGXCPU, 60, "used up its 60 s of CPU time"),
        (None, None, "ended without reporting how"),
    ],
)
def test_describe_status(status, cpu, words):
    assert describe_status(status, cpu)[0] == words
