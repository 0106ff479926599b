"""Each backward pass against a numeric gradient: of the student's own forward, when it is usable.

A student runs this without the reference: it tells them whether their backward and forward
agree, which is the check the notebooks teach them to run. A forward that returns a constant
(only zeros, say) agrees with any backward that returns zeros, so such a forward is not used:
the backward is checked against the numeric gradient of the course's forward in a full grading,
and fails with the reason in a public run (the student's own, which has no reference).
"""

import numpy as np
import pytest

from grader.checks import compare
from grader.checks import scenario as scenarios
from grader.checks.assertions import degenerate_output, describe_params, numeric_gradient
from grader.checks.impl import CheckFailure
from grader.course import rubric

scenarios.load_all()

RTOL, ATOL = 1e-5, 1e-7

CASES = [
    pytest.param(key, marks=pytest.mark.rubric(f"{key} {rubric.GRADIENT}"), id=key)
    for key in scenarios.GRADIENTS
]


@pytest.mark.parametrize("key", CASES)
def check_backward_against_numeric_gradient(
    student, reference, grading_settings, record_property, key
):
    case = scenarios.GRADIENTS[key]
    args, kwargs = case.make_args(case.classic)
    out, cache = student(case.forward, *args, returns=("out", "cache"), **kwargs)
    if not isinstance(out, np.ndarray):
        raise CheckFailure(
            f"{case.forward} should return an array as its output but returned "
            f"{compare.describe(out)}; the backward pass cannot be checked before it does."
        )
    dout = np.random.RandomState(case.classic["seed"] + 7).randn(*np.shape(out))
    grads = student(case.backward, dout, cache, returns=case.returns or None)
    if not case.returns:
        grads = (grads,)

    degenerate = degenerate_output(out)
    # Public checks behave as in the student's release, which has no reference.
    with_reference = not grading_settings.public_only and reference.available()
    if degenerate and not with_reference:
        raise CheckFailure(
            f"Your {case.forward} {degenerate} on the input ({describe_params(case.classic)}), "
            f"so its numeric gradient says nothing about {case.backward}: a backward pass is "
            "only checked against a working forward. Implement the forward pass first."
        )
    forward_impl = reference if degenerate else student
    problems = []
    for (index, grad_name), analytic in zip(case.wrt, grads, strict=False):

        def forward_at(value, index=index):
            call_args = list(args)
            call_args[index] = value
            return forward_impl(case.forward, *call_args, returns=("out", "cache"), **kwargs)[0]

        numeric = numeric_gradient(forward_at, np.array(args[index], dtype=np.float64), dout)
        problem = compare.check_array(grad_name, analytic, numeric, rtol=RTOL, atol=ATOL)
        if problem:
            problems.append(problem)
    if degenerate and not problems:
        record_property(
            "note",
            f"Your {case.forward} {degenerate}, so {case.backward} was checked against the "
            f"numeric gradient of the course's {case.forward} instead of yours: it is right.",
        )
    if problems:
        body = "\n".join(f"- {p}" for p in problems)
        if degenerate:
            raise CheckFailure(
                f"Your {case.forward} {degenerate} on the input "
                f"({describe_params(case.classic)}), so {case.backward} was checked against "
                f"the numeric gradient of the course's {case.forward}, and disagrees:\n{body}"
            )
        raise CheckFailure(
            f"{case.backward} disagrees with the numeric gradient of your {case.forward} "
            f"on the input ({describe_params(case.classic)}):\n{body}\n"
            "If your forward pass is right (see its own check), the bug is in the backward pass."
        )
