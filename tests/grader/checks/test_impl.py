"""StudentImpl: sandbox failures become feedback; hangs and broken imports fail fast."""

import numpy as np
import pytest

from grader import sandbox as sb
from grader.checks.impl import CheckFailure, ReferenceImpl, StudentImpl, describe_call


class FakeSandbox:
    """Stands in for a Sandbox: raises what it is told and counts the calls that reach it."""

    def __init__(self, error=None, result=None):
        self.error, self.result, self.calls = error, result, []

    def call(self, name, *args, **kwargs):
        self.calls.append(name)
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
