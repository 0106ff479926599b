"""What checks assert, phrased as feedback: compare outputs, compare with numeric gradients.

Each helper raises :class:`~grader.impl.CheckFailure` with a message that names the object, the
inputs (shapes and parameters, never raw data or check source) and what disagreed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader import compare
from grader.impl import CheckFailure


def describe_params(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        if key in ("classic",):
            continue
        parts.append(f"{key}={value!r}")
    return ", ".join(parts)


def expect_outputs(
    obj: str,
    params: dict[str, Any],
    got: dict[str, Any],
    expected: dict[str, Any],
    rtol: float | None = None,
    atol: float | None = None,
    against: str = "the expected values",
) -> None:
    messages = compare.check_outputs(got, expected, rtol=rtol, atol=atol)
    if messages:
        body = "\n".join(f"- {m}" for m in messages)
        raise CheckFailure(
            f"{obj} does not match {against} on the input ({describe_params(params)}):\n{body}"
        )


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
