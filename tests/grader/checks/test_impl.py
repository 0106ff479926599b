"""StudentImpl: sandbox failures become feedback; hangs and broken imports fail fast."""

import contextlib
import time

import numpy as np
import pytest

from grader import sandbox as sb
from grader.checks.impl import MAX_STRIKES, CheckFailure, ReferenceImpl, StudentImpl, describe_call


class FakeSandbox:
    """Stands in for a Sandbox: raises what it is told and counts the calls that reach it."""

    def __init__(self, error=None, result=None, delay=0.0, call_limit=20.0):
        self.error, self.result, self.calls = error, result, []
        self.delay, self.call_limit, self.limits_seen = delay, call_limit, []

    @contextlib.contextmanager
    def timeout(self, seconds):
        saved, self.call_limit = self.call_limit, seconds
        try:
            yield
        finally:
            self.call_limit = saved

    def call(self, name, *args, **kwargs):
        self.calls.append(name)
        self.limits_seen.append(self.call_limit)
        time.sleep(self.delay)
        if self.error:
            raise self.error
        return self.result


def test_a_module_whose_import_hangs_is_not_imported_again():
    box = FakeSandbox(sb.CallTimeout("killed after 20 s while importing optim.py"))
    student = StudentImpl(box)
    for _ in range(3):
        student.reset_breaker()
        with pytest.raises(CheckFailure, match="while importing optim.py"):
            student("optim.adam", np.zeros(2), np.zeros(2))
    assert box.calls == ["optim.adam"]
    student.reset_breaker()
    box.error = None
    student("layers.relu_forward", np.zeros(2))
    assert box.calls == ["optim.adam", "layers.relu_forward"]


def test_a_hang_trips_the_breaker_until_the_next_check():
    box = FakeSandbox(sb.CallTimeout("killed after 20 s while running layers.relu_forward"))
    student = StudentImpl(box)
    with pytest.raises(CheckFailure, match="killed after 20 s"):
        student("layers.relu_forward", np.zeros(2))
    box.error = None
    with pytest.raises(CheckFailure, match="killed after 20 s"):
        student("layers.relu_forward", np.zeros(2))
    assert len(box.calls) == 1
    student.reset_breaker()
    assert student("layers.relu_forward", np.zeros(2)) is None
    assert len(box.calls) == 2


def test_student_exceptions_carry_traceback_output_and_location():
    error = sb.StudentError(
        "ValueError",
        "shapes (2,3) and (4,5) not aligned",
        traceback='  File "/sandbox/pkg/assignment/layers.py", line 42, in affine_forward\n',
        output="debug print",
    )
    student = StudentImpl(FakeSandbox(error))
    with pytest.raises(CheckFailure) as info:
        student("layers.affine_forward", np.zeros((2, 3)))
    message = str(info.value)
    assert "ValueError: shapes (2,3) and (4,5) not aligned" in message
    assert "Traceback (your code only)" in message and "debug print" in message
    assert info.value.location == "layers.py:42"


def test_wrong_number_of_return_values_is_explained():
    student = StudentImpl(FakeSandbox(result=np.zeros(3)))
    with pytest.raises(CheckFailure, match=r"should return 2 values \(out, cache\)"):
        student("layers.relu_forward", np.zeros(3), returns=("out", "cache"))


def test_calls_are_described_by_shapes_not_data():
    text = describe_call("layers.conv_forward_naive", [np.zeros((2, 3, 4, 4)), {"stride": 2}], {})
    assert text == "layers.conv_forward_naive(array float64 (2, 3, 4, 4), {'stride': 2})"


def test_reference_impl_resolves_package_paths():
    out, _ = ReferenceImpl()("layers.relu_forward", np.array([-1.0, 2.0]), returns=("o", "c"))
    assert out.tolist() == [0.0, 2.0]


def test_a_function_slow_on_every_call_is_stopped_and_then_fails_fast():
    box = FakeSandbox(result=1, delay=0.03, call_limit=0.05)  # every call over half the limit
    student = StudentImpl(box)
    for _ in range(MAX_STRIKES):
        assert student("layers.relu_forward", 1) == 1
    with pytest.raises(CheckFailure, match="layers.relu_forward was stopped"):
        student("layers.relu_forward", 1)
    assert len(box.calls) == MAX_STRIKES
    assert "layers.relu_forward" in student.stopped
    box.delay = 0.0
    assert student("layers.relu_backward", 1) == 1  # other functions are still called


def test_a_few_slow_calls_are_not_a_verdict():
    box = FakeSandbox(result=1, delay=0.03, call_limit=0.05)
    student = StudentImpl(box)
    for _ in range(MAX_STRIKES - 1):
        student("layers.conv_forward_naive", 1)  # large inputs: slow but legitimate
    box.delay = 0.0
    for _ in range(5):
        assert student("layers.conv_forward_naive", 1) == 1
    assert not student.stopped


def test_limit_hits_count_as_strikes():
    box = FakeSandbox(sb.CallTimeout("killed after 20 s while running layers.relu_forward"))
    student = StudentImpl(box)
    for _ in range(MAX_STRIKES):
        student.reset_breaker()
        with pytest.raises(CheckFailure, match="killed after 20 s"):
            student("layers.relu_forward", 1)
    student.reset_breaker()
    with pytest.raises(CheckFailure, match="was stopped"):
        student("layers.relu_forward", 1)
    assert len(box.calls) == MAX_STRIKES


def test_the_whole_budget_cuts_call_limits_and_then_fails_every_call():
    box = FakeSandbox(result=1, delay=0.06)
    student = StudentImpl(box, budget=0.05)
    assert student("layers.affine_forward", 1) == 1
    assert box.limits_seen[0] <= 0.05  # the call got only what was left of the budget
    with pytest.raises(CheckFailure, match="ran out"):
        student("layers.affine_backward", 1)
    assert student.budget_spent and len(box.calls) == 1


def test_a_call_cut_short_by_the_budget_says_so():
    box = FakeSandbox(sb.CallTimeout("killed after 5 s while running layers.affine_forward"))
    student = StudentImpl(box, budget=5.0)
    with pytest.raises(CheckFailure, match="ran out"):
        student("layers.affine_forward", 1)
    assert student.budget_spent and not student.strikes
