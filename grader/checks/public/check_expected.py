"""Each graded function on the notebook's classic inputs, against the stored golden outputs.

The golden outputs ship with the release, so matching them alone proves little: code could play
them back. In a full grading the point also needs the same function to match the reference on an
input the student has never seen (drawn, derandomized, like the hidden comparison's inputs); a
student's own run, which has no reference, checks the classic input only.
"""

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from grader.checks import scenario as scenarios
from grader.checks.assertions import expect_outputs
from grader.checks.impl import CheckFailure
from grader.checks.scenario import Params
from grader.course import rubric
from grader.tools import fixtures

scenarios.load_all()

CASES = [
    pytest.param(key, marks=pytest.mark.rubric(f"{key} {rubric.EXPECTED}"), id=key)
    for key in fixtures.public_keys()
]

UNSEEN_DRAWS = 4  # draws from the scenario's strategy, beside the classic shapes reseeded


def unseen_inputs(case: scenarios.Scenario) -> list[Params]:
    """Inputs the student has never seen, the same at every grading: the classic shapes with
    another seed, and derandomized draws from the scenario's strategy (the hidden comparison's
    inputs). One draw alone can be degenerate (a saturated softmax whose loss and gradient are
    about zero, which zeros match), so every one of them must pass."""
    unseen = []
    if "seed" in case.classic:
        unseen.append({**case.classic, "seed": case.classic["seed"] + 1009})
    if case.strategy is None:
        return unseen
    drawn: list[Params] = []

    @settings(
        max_examples=UNSEEN_DRAWS, derandomize=True, database=None, deadline=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case.strategy)
    def draw(params: Params) -> None:
        if params != case.classic and params not in drawn:
            drawn.append(params)

    draw()
    return unseen + drawn


@pytest.mark.parametrize("key", CASES)
def check_expected_values(student, reference, grading_settings, key):
    case = scenarios.REGISTRY[key]
    got = case.run(student, case.classic)
    expected = fixtures.load_fixture(key)
    expect_outputs(
        key, case.classic, got, expected, case.rtol, case.atol, keep_dtype=case.keep_dtype
    )
    if grading_settings.public_only or not reference.available():
        return
    try:
        for unseen in unseen_inputs(case):
            got = case.run(student, unseen)
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
