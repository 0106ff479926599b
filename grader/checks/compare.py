"""Compare what a student's function returned with what was expected, in words a student can use.

Every function returns ``None`` when the values agree, or a message naming the value, what was
expected and what came back; checks turn a message into a failed check. Only plain data that
crossed the sandbox boundary reaches here, so nothing the student made is ever executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Tolerances by the precision the comparison is made in.
TOLERANCES = {np.dtype(np.float64): (1e-7, 1e-9), np.dtype(np.float32): (2e-4, 1e-5)}


def tolerances(
    got: np.dtype, expected: np.dtype, rtol: float | None = None, atol: float | None = None
) -> tuple[float, float]:
    """Tolerances for a comparison, never tighter than the lower of the two precisions allows.

    A float32 result (on either side) is compared at float32 precision whatever the caller asked
    for, so equivalent formulas that round differently are not penalised.
    """
    single = np.dtype(np.float32) in (np.dtype(got), np.dtype(expected))
    floor_rtol, floor_atol = TOLERANCES[np.dtype(np.float32 if single else np.float64)]
    return max(rtol or 0.0, floor_rtol), max(atol or 0.0, floor_atol)


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The notebooks' elementwise relative error, |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def _preview(array: np.ndarray, center: int = 0, limit: int = 6) -> str:
    """A few values of the flattened array, starting near ``center`` (the worst entry)."""
    flat = np.asarray(array).ravel()
    start = max(0, min(center - limit // 2, flat.size - limit))
    text = np.array2string(flat[start : start + limit], precision=6, separator=", ")
    head = "[..., " if start > 0 else "["
    tail = ", ...]" if start + limit < flat.size else "]"
    return head + text[1:-1] + tail


def _form_problem(name: str, got: Any, expected: np.ndarray, dtype: Any = None) -> str | None:
    """What is wrong with a value before its numbers are compared: None, type, shape, NaN."""
    if got is None:
        return (
            f"{name} is None; expected {describe(expected)}. "
            "Is the code between the START/END OF YOUR CODE markers still missing?"
        )
    numeric = (np.ndarray, int, float, np.number)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, numeric):
        return f"{name} should be {describe(expected)} but is {describe(got)}."
    got_arr = np.asarray(got)
    if not (np.issubdtype(got_arr.dtype, np.number) or got_arr.dtype == np.bool_):
        return f"{name} has dtype {got_arr.dtype}; expected numbers."
    if got_arr.shape != expected.shape:
        if got_arr.size == expected.size:
            hint = " (same number of elements: a reshape or transpose is missing or wrong)"
        else:
            hint = ""
        return f"{name} has shape {got_arr.shape}, expected {expected.shape}{hint}."
    if dtype is not None and got_arr.dtype != dtype:
        return f"{name} has dtype {got_arr.dtype}, expected {np.dtype(dtype)}."
    bad = ~np.isfinite(got_arr.astype(np.float64)) & np.isfinite(expected.astype(np.float64))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(got_arr[index]) else "inf"
        return (
            f"{name} contains {kind} at index {index} ({int(bad.sum())} non-finite value(s)) "
            "where a finite value was expected. Look for a division by zero, a log of 0, "
            "or an exponential of a large score."
        )
    return None


def check_shape(name: str, got: Any, shape: tuple[int, ...], dtype: Any = None) -> str | None:
    """Only the form of a value: an array of numbers of this shape, with no NaN or inf."""
    return _form_problem(name, got, np.zeros(shape), dtype)


def check_array(
    name: str,
    got: Any,
    expected: np.ndarray | float,
    rtol: float | None = None,
    atol: float | None = None,
    dtype: Any = None,
    slack: float = 0.0,
    squeeze: bool = False,
) -> str | None:
    """Compare one returned value with the expected array (or scalar) within tolerances.

    ``dtype``, when given, is the dtype the student's value must have (e.g. float32 kept).
    ``slack`` widens the absolute tolerance by the rounding the case is known to carry (see
    :func:`rounding_slack`). With ``squeeze`` a value whose shape differs from the expected one
    only by axes of length 1 is compared as if it had the expected shape (its shape is graded
    elsewhere).
    """
    expected_arr = np.asarray(expected)
    if squeeze and isinstance(got, np.ndarray) and got.shape != expected_arr.shape:
        if np.squeeze(got).shape == np.squeeze(expected_arr).shape:
            got = got.reshape(expected_arr.shape)
    problem = _form_problem(name, got, expected_arr, dtype)
    if problem:
        return problem
    got_arr = np.asarray(got)
    rtol, atol = tolerances(got_arr.dtype, expected_arr.dtype, rtol, atol)
    atol += slack
    g = got_arr.astype(np.float64)
    e = expected_arr.astype(np.float64)
    close = np.isclose(g, e, rtol=rtol, atol=atol)
    if close.all():
        return None
    # The entry furthest outside the tolerance (not merely the largest relative error, which
    # is dominated by values near zero).
    excess = np.where(close, 0.0, np.abs(g - e) / (atol + rtol * np.abs(e)))
    errors = relative_error(g, e)
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    worst = tuple(int(i) for i in worst)
    flat = int(np.ravel_multi_index(worst, errors.shape)) if worst else 0
    where = f" at index {worst}" if worst else ""
    return (
        f"{name} differs from the expected value: {int((~close).sum())} of {close.size} "
        f"value(s) off, the worst with relative error {float(errors[worst]):.3g}{where} "
        f"(got {float(g[worst]):.8g}, expected {float(e[worst]):.8g}).\n"
        f"  got:      {_preview(g, flat)}\n  expected: {_preview(e, flat)}"
    )


def check_arity(name: str, got: Any, count: int, names: Sequence[str]) -> str | None:
    """A function meant to return ``count`` values returned something else."""
    if isinstance(got, (tuple, list)) and len(got) == count:
        return None
    what = ", ".join(names)
    return f"{name} should return {count} values ({what}) but returned {describe(got)}."


def check_outputs(
    got: dict[str, Any],
    expected: dict[str, Any],
    rtol: float | None = None,
    atol: float | None = None,
    dtypes: dict[str, Any] | None = None,
    slack: dict[str, float] | None = None,
    squeeze: tuple[str, ...] = (),
) -> list[str]:
    """Compare every named output; returns one message per output that disagrees.

    ``dtypes`` maps output names to the dtype they must have (checked before the values);
    ``slack`` maps output names to extra absolute tolerance; ``squeeze`` names the outputs whose
    size-1 axes are not graded here.
    """
    messages = []
    dtypes, slack = dtypes or {}, slack or {}
    for key, value in expected.items():
        if key not in got:
            messages.append(f"{key} is missing from what your code returned.")
            continue
        message = check_array(
            key, got[key], value, rtol, atol, dtypes.get(key), slack.get(key, 0.0), key in squeeze
        )
        if message:
            messages.append(message)
    return messages


# A float32 result may be off from the reference by this many times the rounding the case is
# estimated to carry before it counts as wrong.
ROUNDING_MARGIN = 8.0
# The most the slack may add, in default float32 tolerances of the case's largest output value:
# a student's float64 deviation (allowed up to the float64 tolerance) cannot make a float32
# comparison meaningless.
SLACK_CAP = 32.0
# Single over double precision: how much larger float32 rounding is than float64 rounding.
EPS_RATIO = float(np.finfo(np.float32).eps / np.finfo(np.float64).eps)


def _largest(value: Any) -> float:
    """The largest finite magnitude in a value (0 for anything that is not numbers)."""
    try:
        arr = np.abs(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        return 0.0
    arr = arr[np.isfinite(arr)]
    return float(arr.max()) if arr.size else 0.0


def _spread(a: Any, b: Any) -> float:
    """The largest difference between two arrays of the same shape (0 when they cannot be
    compared, so a malformed value never widens a tolerance)."""
    try:
        a_arr = np.asarray(a, dtype=np.float64)
        b_arr = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return 0.0
    if a_arr.shape != b_arr.shape or a_arr.size == 0:
        return 0.0
    diff = np.abs(a_arr - b_arr)
    return float(diff.max()) if np.isfinite(diff).all() else 0.0


def rounding_slack(
    reference32: dict[str, Any],
    reference64: dict[str, Any],
    student64: dict[str, Any] | None,
) -> dict[str, float]:
    """Extra absolute tolerance per output of a float32 case, from the case's own conditioning.

    Rounding scales with the size of the terms that were summed, not with the result: a
    batchnorm gradient at N=2 is a small difference of terms near 1, a layernorm gradient at D=1
    is 0 made of terms of size 300. So the slack of an output is the largest of:

    - the default relative tolerance applied to the case's largest output (all outputs of a
      backward pass are sums of the same terms);
    - ``ROUNDING_MARGIN`` times how far the reference's float32 answer is from its float64
      answer on the same case (the conditioning of the case);
    - ``ROUNDING_MARGIN`` times how far the student's float64 answer is from the reference's,
      scaled from double to single precision (the student's own formula rounds differently).
      This counts only when the student's float64 answer is right to float64 precision, so a
      wrong formula never widens its own tolerance.

    It is capped at ``SLACK_CAP`` default float32 tolerances of the case's largest output.
    """
    rtol, atol = TOLERANCES[np.dtype(np.float32)]
    scale = max((_largest(value) for value in reference64.values()), default=0.0)
    slack = {}
    for key, expected in reference32.items():
        estimate = _spread(expected, reference64.get(key))
        if student64 is not None and key in student64 and key in reference64:
            got = student64[key]
            if check_array(key, got, reference64[key]) is None:
                estimate = max(estimate, EPS_RATIO * _spread(got, reference64[key]))
        wanted = max(ROUNDING_MARGIN * estimate, rtol * scale)
        slack[key] = min(wanted, SLACK_CAP * (atol + rtol * scale))
    return slack
