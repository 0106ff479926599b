"""Toy course and student packages built in tmp_path, and helpers to look for leftovers.

Nothing here depends on reference/: the sandbox only needs some package to import.
"""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox, Settings

FAST = Limits(call_timeout=2.0, start_timeout=20.0, memory_bytes=1 << 30, processes=48)

COURSE_FILES = {
    "solver.py": "ORIGIN = 'course'\n",
    "gradient_check.py": "ORIGIN = 'course'\n",
    "fast_layers.py": "ORIGIN = 'course'\n",
}

BASIC_LAYERS = """
import numpy as np

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)

def batchnorm_forward(x, gamma, beta, bn_param):
    mean = x.mean(axis=0)
    bn_param["running_mean"] = 0.9 * bn_param.get("running_mean", np.zeros(x.shape[1])) + 0.1 * mean
    out = (x - mean) / np.sqrt(x.var(axis=0) + 1e-5) * gamma + beta
    return out, (x, lambda: "live object in the cache")

def twice(x):
    return 2 * x

def shout(text):
    print("said:", text)
    return text.upper()
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "course", COURSE_FILES)


@pytest.fixture
def make_submission(tmp_path: Path) -> Callable[..., Path]:
    """Write a student package ``cs231n/`` (or ``name``) from ``{relative path: source}``."""
    counter = iter(range(1000))

    def make(files: dict[str, str], name: str = "cs231n", with_layers: bool = True) -> Path:
        root = tmp_path / f"submission{next(counter)}"
        tree = {"__init__.py": "", **({"layers.py": BASIC_LAYERS} if with_layers else {})}
        tree.update(files)
        write_tree(root / name, tree)
        return root

    return make


@pytest.fixture
def open_sandbox(course: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes that are always closed at the end of the test."""
    opened: list[Sandbox] = []

    def start(submission: Path, limits: Limits = FAST, settings: Settings | None = None, **kw):
        sb = Sandbox(submission, course_package=course, limits=limits, settings=settings, **kw)
        opened.append(sb)
        sb.start()
        return sb

    yield start
    for sb in opened:
        sb.close()


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker`` (zombies excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def wait_until_gone(marker: str, timeout: float = 3.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def wait_until_running(marker: str, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while not (found := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found
