"""Scenarios: short programs over an :class:`~grader.checks.impl.Impl` that exercise one graded
object.

A scenario is written once and run twice: with the reference (to get expected values) and with
the student's code (to get what to compare). Its parameters (shapes, strides, seeds, dtypes) come
either from a fixed ``classic`` case, whose reference outputs are stored as golden fixtures, or from
a hypothesis strategy, for the comparison with the live reference on random inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from grader.checks.impl import Impl

Params = dict[str, Any]
Outputs = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    obj: str  # the registry key: the rubric object, with a "+variant" suffix for variants
    run: Callable[[Impl, Params], Outputs]
    classic: Params
    strategy: st.SearchStrategy[Params] | None = None
    rtol: float | None = None
    atol: float | None = None
    keep_dtype: tuple[str, ...] = ()  # outputs that must have the dtype of params["dtype"]
    # Reference modules whose graded building blocks become the student's when a comparison is
    # rerun to tell a wrong composite from a wrong block (grader/checks/blocks.py).
    blocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class GradientCase:
    """How to check a backward pass against the numeric gradient of the student's own forward."""

    obj: str
    forward: str
    backward: str
    make_args: Callable[[Params], tuple[list[Any], dict[str, Any]]]
    wrt: tuple[tuple[int, str], ...]  # (index of the forward argument, name of its gradient)
    classic: Params
    returns: tuple[str, ...] = ()
    out_index: int | None = 0  # which forward output is differentiated (None: the whole return)
    extra: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, Scenario] = {}
GRADIENTS: dict[str, GradientCase] = {}


def scenario(
    obj: str,
    classic: Params,
    strategy: st.SearchStrategy[Params] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    keep_dtype: tuple[str, ...] = (),
    blocks: tuple[str, ...] = (),
) -> Callable[[Callable[[Impl, Params], Outputs]], Callable[[Impl, Params], Outputs]]:
    """Register ``run`` as the scenario of ``obj``."""

    def register(run: Callable[[Impl, Params], Outputs]) -> Callable[[Impl, Params], Outputs]:
        if obj in REGISTRY:
            raise ValueError(f"two scenarios for {obj}")
        REGISTRY[obj] = Scenario(obj, run, classic, strategy, rtol, atol, keep_dtype, blocks)
        return run

    return register


def gradient(case: GradientCase) -> GradientCase:
    if case.obj in GRADIENTS:
        raise ValueError(f"two gradient cases for {case.obj}")
    GRADIENTS[case.obj] = case
    return case


def load_all() -> None:
    """Import every scenario module of the course so the registries are complete."""
    from grader.course import COURSE

    COURSE.load_scenarios()
