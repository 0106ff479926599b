"""Each graded object against the live reference on random inputs drawn by hypothesis.

Hypothesis runs derandomized with no example database, so a submission gets the same inputs
every time it is graded; on a failure it shrinks to the smallest failing parameters, which the
feedback then shows.
"""

import pytest
from hypothesis import HealthCheck, given, settings

from grader import rubric, scenarios
from grader.assertions import expect_outputs

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


@pytest.mark.parametrize("key", CASES)
def check_matches_reference(student, reference, grading_settings, key):
    case = scenarios.REGISTRY[key]

    @settings(
        max_examples=grading_settings.examples,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case.strategy)
    def compare_on(params):
        expected = case.run(reference, params)
        got = case.run(student, params)
        expect_outputs(key, params, got, expected, case.rtol, case.atol, against="the reference")

    compare_on()
