"""Each graded function on the notebook's classic inputs, against the stored golden outputs."""

import pytest

from grader.checks import scenario as scenarios
from grader.checks.assertions import expect_outputs
from grader.course import rubric
from grader.tools import fixtures

scenarios.load_all()

CASES = [
    pytest.param(key, marks=pytest.mark.rubric(f"{key} {rubric.EXPECTED}"), id=key)
    for key in scenarios.REGISTRY
    if f"{key} {rubric.EXPECTED}" in rubric.BY_NAME
]


@pytest.mark.parametrize("key", CASES)
def check_expected_values(student, key):
    case = scenarios.REGISTRY[key]
    got = case.run(student, case.classic)
    expected = fixtures.load_fixture(key)
    expect_outputs(
        key, case.classic, got, expected, case.rtol, case.atol, keep_dtype=case.keep_dtype
    )
