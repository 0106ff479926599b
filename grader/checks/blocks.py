"""Run the reference's composite (a model) on the student's own building blocks.

A model that disagrees with the reference may be wrong itself, or may only pass on what one of
the student's layers got wrong. To tell the two apart without ever putting reference code where
student code runs, the reference's model runs in the grader with every graded building block it
calls (``layers.affine_forward``, ``layer_utils.affine_relu_forward``...) replaced by a call into
the student's sandbox. If the student's model agrees with that, the model is right and the
difference belongs to the blocks, which their own checks charge; if not, the model is wrong.

Helpers of the reference that are not graded (an affine-norm-relu sandwich, whose name the
contract leaves free) stay the reference's, but the blocks they call become the student's.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

from grader.checks.impl import Impl
from grader.course import rubric

STAGES = ("_forward", "_backward")


def is_graded(module: str, name: str) -> bool:
    """Whether ``module.name`` is a graded function (or a stage of a graded sandwich)."""
    objects = {item.obj for item in rubric.ITEMS}
    if f"{module}.{name}" in objects:
        return True
    stem = next((name[: -len(s)] for s in STAGES if name.endswith(s)), None)
    return stem is not None and f"{module}.{stem}" in objects


def _proxy(student: Impl, target: str):
    """A function that calls ``target`` in the student's sandbox.

    Dict arguments (``bn_param``, ``dropout_param``) are handed over live and copied back
    afterwards, so the running averages a block writes into them reach the reference's model.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        live = []
        for i, value in enumerate(args_list):
            if isinstance(value, dict):
                handle = student.put(value)
                live.append((value, handle))
                args_list[i] = handle
        result = student(target, *args_list, **kwargs)
        for original, handle in live:
            state = student.fetch(handle)
            if isinstance(state, dict):
                original.clear()
                original.update(state)
        return result

    call.__name__ = target.rpartition(".")[2]
    return call


@contextlib.contextmanager
def student_blocks(
    student: Impl,
    modules: Sequence[str],
    package: str = "reference",
    blocks: Sequence[str] = rubric.BLOCK_MODULES,
) -> Iterator[None]:
    """While open, the reference ``modules`` call the student's graded functions of ``blocks``.

    ``modules`` are package-relative (``classifiers.fc_net``, ``layer_utils``). Every global of
    theirs that is a graded function defined in one of ``blocks`` becomes a proxy; the globals
    are restored on exit, whatever happened.
    """
    owners = {f"{package}.{block}": block for block in blocks}
    saved: list[tuple[dict, str, Any]] = []
    try:
        for module in modules:
            namespace = vars(importlib.import_module(f"{package}.{module}"))
            for name, value in list(namespace.items()):
                owner = owners.get(getattr(value, "__module__", ""))
                if owner and inspect.isfunction(value) and is_graded(owner, name):
                    saved.append((namespace, name, value))
                    namespace[name] = _proxy(student, f"{owner}.{name}")
        yield
    finally:
        for namespace, name, value in reversed(saved):
            namespace[name] = value
