"""Naive functions cannot reach the course's given modules; everything else still can."""

from __future__ import annotations

import pytest

from grader.sandbox import StudentError

FAST_LAYERS = "def conv_forward_fast(x):\n    return x * 3\n"

LAYERS = """
from .fast_layers import conv_forward_fast


def conv_forward_naive(x):
    return conv_forward_fast(x)


def max_pool_forward_naive(x):
    from . import fast_layers
    return fast_layers.conv_forward_fast(x)


def own_forward_naive(x):
    return x * 3


def conv_relu(x):
    return conv_forward_fast(x)
"""


@pytest.fixture
def sandbox(course, make_submission, open_sandbox):
    (course / "fast_layers.py").write_text(FAST_LAYERS)
    return open_sandbox(make_submission({"layers.py": LAYERS}))


@pytest.mark.parametrize("name", ["conv_forward_naive", "max_pool_forward_naive"])
def test_a_naive_function_calling_a_given_function_fails_and_says_why(sandbox, name):
    with pytest.raises(StudentError) as info:
        sandbox.call(f"layers.{name}", 2)
    message = str(info.value)
    assert f"layers.{name} called fast_layers.conv_forward_fast" in message
    assert "the course gives" in message


def test_given_functions_still_work_outside_naive_functions(sandbox):
    assert sandbox.call("layers.own_forward_naive", 2) == 6
    assert sandbox.call("layers.conv_relu", 2) == 6
    assert sandbox.call("fast_layers.conv_forward_fast", 2) == 6
    with pytest.raises(StudentError):
        sandbox.call("layers.conv_forward_naive", 2)
    assert sandbox.call("layers.conv_relu", 2) == 6  # the guard is lifted after the naive call
