"""What checks assert, phrased as feedback: compare outputs, compare with numeric gradients.

Each helper raises :class:`~grader.checks.impl.CheckFailure` with a message that names the object,
the inputs (shapes and parameters, never raw data or check source) and what disagreed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import compare
from grader.checks.impl import CheckFailure

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
) -> None:
    """Raise a CheckFailure listing every output of a scenario that disagrees.

    ``obj`` may be a scenario key with a ``+variant`` suffix; feedback names the object only.
    ``keep_dtype`` outputs must have the input dtype ``params["dtype"]``.
    """
    dtypes = {key: np.dtype(params["dtype"]) for key in keep_dtype if "dtype" in params}
    messages = compare.check_outputs(got, expected, rtol=rtol, atol=atol, dtypes=dtypes)
    if messages:
        body = "\n".join(f"- {m}" for m in messages)
        name = obj.split("+", 1)[0]
        raise CheckFailure(
            f"{name} does not match {against} on the input ({describe_params(params)}):\n{body}"
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
