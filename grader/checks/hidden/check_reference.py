"""Each graded object against the live reference on random inputs drawn by hypothesis.

Hypothesis runs derandomized with no example database, so a submission gets the same inputs
every time it is graded; on a failure it shrinks to the smallest failing parameters, which the
feedback then shows.
"""

import time

import pytest
from hypothesis import HealthCheck, example, given, settings

from grader.checks import scenario as scenarios
from grader.checks.assertions import expect_matches_reference
from grader.checks.impl import CheckFailure
from grader.course import rubric

scenarios.load_all()


def _item_for(key: str) -> str:
    obj, _, variant = key.partition("+")
    if obj.startswith(("layers.", "layer_utils.")):
        return f"{obj} {rubric.REFERENCE}"
    if obj.startswith("optim."):
        return f"{obj} matches the reference over several steps"
    if variant:
        return f"{obj} with {variant} matches the reference"
    return f"{obj} loss and gradients match the reference"


CASES = [
    pytest.param(key, marks=pytest.mark.rubric(_item_for(key)), id=key)
    for key, case in scenarios.REGISTRY.items()
    if case.strategy is not None
]


SHRINK_SECONDS = 5.0  # after the first failure, time allowed to look for a smaller one


@pytest.mark.parametrize("key", CASES)
def check_matches_reference(student, reference, grading_settings, key):
    case = scenarios.REGISTRY[key]
    failures: dict[str, CheckFailure] = {}
    stop_at: list[float] = []

    @settings(
        max_examples=grading_settings.examples,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case.strategy)
    @example(case.classic)
    def compare_on(params):
        # Shrinking re-runs the student's code many times; once its time is up, inputs already
        # seen to fail fail again at once and new ones count as passing, so hypothesis stops
        # with the smallest failing input found so far (every reported input really failed).
        seen = repr(sorted(params.items()))
        if seen in failures:
            raise failures[seen]
        if stop_at and time.monotonic() > stop_at[0]:
            return
        try:
            expect_matches_reference(key, case, student, reference, params)
        except CheckFailure as failure:
            failures[seen] = failure
            if not stop_at:
                stop_at.append(time.monotonic() + SHRINK_SECONDS)
            raise

    compare_on()
