"""What checks assert, phrased as feedback: compare outputs, compare with numeric gradients.

Each helper raises :class:`~grader.checks.impl.CheckFailure` with a message that names the object,
the inputs (shapes and parameters, never raw data or check source) and what disagreed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import compare
from grader.checks.blocks import student_blocks
from grader.checks.impl import CheckFailure, Impl
from grader.checks.scenario import Scenario
from grader.course import rubric

LAST_KEYS = ("seed", "dtype")  # shown after the shapes and hyperparameters


def describe_params(params: dict[str, Any]) -> str:
    """The input of a scenario in words: shapes and hyperparameters first, seed and dtype last."""
    keys = [k for k in params if k != "classic" and k not in LAST_KEYS]
    keys += [k for k in LAST_KEYS if k in params]
    return ", ".join(f"{key}={params[key]!r}" for key in keys)


def expect_outputs(
    obj: str,
    params: dict[str, Any],
    got: dict[str, Any],
    expected: dict[str, Any],
    rtol: float | None = None,
    atol: float | None = None,
    against: str = "the expected values",
    keep_dtype: tuple[str, ...] = (),
    slack: dict[str, float] | None = None,
    note: str = "",
) -> None:
    """Raise a CheckFailure listing every output of a scenario that disagrees.

    ``obj`` may be a scenario key with a ``+variant`` suffix; feedback names the object only.
    ``keep_dtype`` outputs must have the input dtype ``params["dtype"]``; ``slack`` widens the
    absolute tolerance of outputs (float32 rounding of the case); ``note`` ends the message.
    Outputs whose shape another object is graded on (``rubric.SHAPE_GRADED_ELSEWHERE``) are
    compared without their size-1 axes.
    """
    name = obj.split("+", 1)[0]
    dtypes = {key: np.dtype(params["dtype"]) for key in keep_dtype if "dtype" in params}
    squeeze = rubric.SHAPE_GRADED_ELSEWHERE.get(name, ())
    messages = compare.check_outputs(got, expected, rtol, atol, dtypes, slack, squeeze)
    if messages:
        body = "\n".join(f"- {m}" for m in messages)
        raise CheckFailure(
            f"{name} does not match {against} on the input ({describe_params(params)}):\n{body}"
            + (f"\n{note}" if note else "")
        )


def degenerate_output(out: Any) -> str | None:
    """Why ``out`` cannot stand for a working forward pass (``None`` when it can).

    A forward whose every output is the same number (only zeros, say) has a numeric gradient of
    zero, which a backward returning zeros matches: checking one against the other proves nothing.
    """
    values = np.asarray(out)
    if values.dtype.kind not in "fiub" or values.size < 2:
        return None
    if not np.all(np.isfinite(values)):
        return "returns values that are not finite"
    first = values.flat[0]
    if np.all(values == first):
        if first == 0:
            return "returns only zeros"
        return f"returns the same number {float(first):g} everywhere"
    return None


def _float32_slack(case: Scenario, student: Impl, reference: Impl, params: dict, expected: dict):
    """The rounding slack of a float32 case (compare.rounding_slack), or None for float64."""
    if params.get("dtype") != "float32":
        return None
    wide = {**params, "dtype": "float64"}
    reference64 = case.run(reference, wide)
    try:
        student64 = case.run(student, wide)
    except CheckFailure:
        student64 = None
    if not isinstance(student64, dict):
        student64 = None
    return compare.rounding_slack(expected, reference64, student64)


def _agrees_on_own_blocks(
    case: Scenario, student: Impl, reference: Impl, params: dict, got: dict
) -> bool | None:
    """Whether the student's composite matches the reference's run on the student's blocks
    (None: the student's blocks broke the reference's composite, so there is no verdict)."""
    try:
        with student_blocks(student, case.blocks):
            mixed = case.run(reference, params)
            slack = _float32_slack(case, student, reference, params, mixed)
    except Exception:
        return None
    try:
        expect_outputs(
            case.obj, params, got, mixed, case.rtol, case.atol, keep_dtype=case.keep_dtype,
            slack=slack,
        )  # fmt: skip
    except CheckFailure:
        return False
    return True


def expect_matches_reference(
    key: str, case: Scenario, student: Impl, reference: Impl, params: dict
) -> None:
    """Compare a scenario's run on the student's code with the reference's, fairly.

    A float32 case that disagrees is compared again with the slack its own rounding explains
    (compare.rounding_slack). A composite that still disagrees (``case.blocks``) is compared
    with the reference's composite run on the student's own building blocks: if it agrees, the
    difference is a block's, charged by that block's own checks, and the composite passes.
    """
    expected = case.run(reference, params)
    got = case.run(student, params)
    against = "the reference"
    try:
        expect_outputs(key, params, got, expected, case.rtol, case.atol, against, case.keep_dtype)
        return
    except CheckFailure as failure:
        first = failure
    slack = _float32_slack(case, student, reference, params, expected)
    if slack is not None:
        try:
            expect_outputs(
                key, params, got, expected, case.rtol, case.atol, against, case.keep_dtype, slack
            )
            return
        except CheckFailure as failure:
            first = failure
    verdict = _agrees_on_own_blocks(case, student, reference, params, got) if case.blocks else None
    if verdict:
        return
    if verdict is False:
        name = key.split("+", 1)[0]
        raise CheckFailure(
            f"{first}\nThe reference's model run on your own layers and helpers disagrees "
            f"with yours too, so the difference is in {name} itself, not in a layer it calls."
        ) from None
    raise first


def numeric_gradient(
    f: Callable[[np.ndarray], Any], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)``; ``f`` runs the student's forward."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        plus = np.asarray(f(x), dtype=np.float64)
        flat[i] = original - h
        minus = np.asarray(f(x), dtype=np.float64)
        flat[i] = original
        grad.reshape(-1)[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad
