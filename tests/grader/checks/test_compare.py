"""Feedback from comparisons: each kind of wrong value gets its own specific message."""

import numpy as np
import pytest

from grader.checks import compare


def test_equal_values_pass_and_scalars_compare_to_arrays():
    assert compare.check_array("out", np.ones((2, 3)), np.ones((2, 3))) is None
    assert compare.check_array("loss", 2.5, np.float64(2.5)) is None
    assert compare.check_array("loss", np.float32(2.5), 2.5) is None


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        (None, "is None"),
        ("text", "should be an array"),
        ([1.0, 2.0], "should be an array"),
        (True, "should be an array"),
        (np.array(["a", "b"]), "dtype <U1"),
        (np.ones((3, 2)), "transpose"),
        (np.ones(7), "shape (7,)"),
        (np.array([1.0, np.nan]), "NaN at index (1,)"),
        (np.array([np.inf, 1.0]), "inf at index (0,)"),
        (np.array([1.0, 2.5]), "the worst with relative error"),
    ],
)
def test_each_problem_has_its_message(got, fragment):
    message = compare.check_array(
        "dx", got, np.array([1.0, 2.0]) if np.ndim(got) < 2 else np.ones((2, 3))
    )
    assert message is not None
    assert fragment in message
    assert message.startswith("dx")


def test_worst_index_and_values_are_reported():
    expected = np.zeros((3, 4))
    got = expected.copy()
    got[2, 1] = 0.5
    message = compare.check_array("dw", got, expected)
    assert "at index (2, 1)" in message
    assert "1 of 12" in message
    assert "got 0.5" in message


def test_float32_gets_a_looser_tolerance_than_float64():
    expected = np.array([1.0, 2.0])
    nudged = expected * (1 + 1e-5)
    assert compare.check_array("x", nudged.astype(np.float32), expected) is None
    assert compare.check_array("x", nudged, expected) is not None


def test_required_dtype_and_shape_only_check():
    assert "dtype float64, expected float32" in compare.check_array(
        "out", np.ones(2), np.ones(2), dtype=np.float32
    )
    assert compare.check_shape("scores", np.full((2, 3), 7.0), (2, 3)) is None
    assert "shape" in compare.check_shape("scores", np.ones((3,)), (2, 3))


def test_arity_and_missing_outputs():
    assert compare.check_arity("f", (1, 2), 2, ("a", "b")) is None
    assert "return 2 values (out, cache)" in compare.check_arity("f", None, 2, ("out", "cache"))
    messages = compare.check_outputs({"a": np.ones(2)}, {"a": np.ones(2), "b": np.ones(1)})
    assert messages == ["b is missing from what your code returned."]


def test_relative_error_matches_the_notebook_formula():
    x, y = np.array([1.0, 0.0]), np.array([3.0, 0.0])
    assert compare.relative_error(x, y).tolist() == [0.5, 0.0]


def test_the_worst_entry_is_the_one_furthest_outside_the_tolerance():
    expected = np.array([1e-3, 100.0])
    got = np.array([2e-3, 90.0])  # relative error 0.33 near zero, 0.05 on the large value
    assert "at index (1,)" in compare.check_array("out", got, expected)
