"""Which forward outputs cannot stand for a working forward pass."""

import numpy as np
import pytest

from grader.checks.assertions import degenerate_output


@pytest.mark.parametrize(
    ("out", "why"),
    [
        (np.zeros((2, 3)), "returns only zeros"),
        (np.full((4,), 0.5), "returns the same number 0.5 everywhere"),
        (np.array([1.0, np.nan]), "returns values that are not finite"),
    ],
)
def test_constant_or_broken_outputs_are_degenerate(out, why):
    assert degenerate_output(out) == why


@pytest.mark.parametrize(
    "out", [np.arange(6.0).reshape(2, 3), np.array([0.0, 0.0, 1e-12]), np.zeros(1), "text"]
)
def test_varying_single_or_non_numeric_outputs_are_not(out):
    assert degenerate_output(out) is None
