"""Each graded function on the notebook's classic inputs, against the stored golden outputs.

The golden outputs ship with the release, so matching them alone proves little: code could play
them back. In a full grading the point also needs the same function to match the reference on an
input of the same shapes the student has never seen (another seed); a student's own run, which
has no reference, checks the classic input only.
"""

import pytest

from grader.checks import scenario as scenarios
from grader.checks.assertions import expect_outputs
from grader.checks.impl import CheckFailure
from grader.course import rubric
from grader.tools import fixtures

scenarios.load_all()

CASES = [
    pytest.param(key, marks=pytest.mark.rubric(f"{key} {rubric.EXPECTED}"), id=key)
    for key in scenarios.REGISTRY
    if f"{key} {rubric.EXPECTED}" in rubric.BY_NAME
]

UNSEEN_SEED_OFFSET = 1009  # the unseen input: the classic case's shapes with another seed


@pytest.mark.parametrize("key", CASES)
def check_expected_values(student, reference, grading_settings, key):
    case = scenarios.REGISTRY[key]
    got = case.run(student, case.classic)
    expected = fixtures.load_fixture(key)
    expect_outputs(
        key, case.classic, got, expected, case.rtol, case.atol, keep_dtype=case.keep_dtype
    )
    if grading_settings.public_only or "seed" not in case.classic or not reference.available():
        return
    unseen = {**case.classic, "seed": case.classic["seed"] + UNSEEN_SEED_OFFSET}
    got = case.run(student, unseen)
    try:
        expect_outputs(
            key, unseen, got, case.run(reference, unseen), case.rtol, case.atol,
            "the reference", case.keep_dtype,
        )  # fmt: skip
    except CheckFailure as failure:
        raise CheckFailure(
            f"{failure}\nYour code matches the published expected values on the classic input "
            "but not the reference on the same shapes with other random values: the point needs "
            "both."
        ) from None
