"""Each backward pass against the numeric gradient of the student's own forward pass.

This needs no reference: it tells a student whether their backward and forward agree, which is
the check the notebooks teach them to run.
"""

import numpy as np
import pytest

from grader.checks import compare
from grader.checks import scenario as scenarios
from grader.checks.assertions import describe_params, numeric_gradient
from grader.checks.impl import CheckFailure
from grader.course import rubric

scenarios.load_all()

RTOL, ATOL = 1e-5, 1e-7

CASES = [
    pytest.param(key, marks=pytest.mark.rubric(f"{key} {rubric.GRADIENT}"), id=key)
    for key in scenarios.GRADIENTS
]


@pytest.mark.parametrize("key", CASES)
def check_backward_against_numeric_gradient(student, key):
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

    problems = []
    for (index, grad_name), analytic in zip(case.wrt, grads, strict=False):

        def forward_at(value, index=index):
            call_args = list(args)
            call_args[index] = value
            return student(case.forward, *call_args, returns=("out", "cache"), **kwargs)[0]

        numeric = numeric_gradient(forward_at, np.array(args[index], dtype=np.float64), dout)
        problem = compare.check_array(grad_name, analytic, numeric, rtol=RTOL, atol=ATOL)
        if problem:
            problems.append(problem)
    if problems:
        body = "\n".join(f"- {p}" for p in problems)
        raise CheckFailure(
            f"{case.backward} disagrees with the numeric gradient of your {case.forward} "
            f"on the input ({describe_params(case.classic)}):\n{body}\n"
            "If your forward pass is right (see its own check), the bug is in the backward pass."
        )
