"""Training tasks: a model, the course's Solver and a data budget, run to an accuracy.

The same task runs with the reference (``nngrade calibrate`` and the thresholds below come from
it) and with the student's code in the sandbox. Accuracy on held-out images is always counted in
the grader: the worker gets the images, returns scores, and never sees those labels. The held-out
images come from a seed the students do not know (``NNGRADE_HELDOUT_SEED`` overrides it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from grader.checks.impl import CheckFailure, Impl
from grader.course import COURSE

TRAIN_SEED = 0  # the images students also have (the embedded dataset's default seed)

HELDOUT_SEED_DEFAULT = 90_417


@dataclass(frozen=True)
class Task:
    """One training run; ``threshold`` is the accuracy the student's run must reach."""

    name: str
    model: str  # class path inside the package
    model_kwargs: dict[str, Any]
    solver_kwargs: dict[str, Any]
    num_train: int
    num_val: int
    num_heldout: int
    measure: str  # "train" (overfitting) or "heldout"
    threshold: float
    reference_accuracy: float  # what the reference reached when the threshold was set
    seed: int = 0
    notes: dict[str, str] = field(default_factory=dict)


def describe(task: Task) -> str:
    """The run in words, for feedback: model, optimiser, budget."""
    model = task.model.rsplit(".", 1)[1]
    args = ", ".join(f"{k}={v!r}" for k, v in task.model_kwargs.items())
    solver = ", ".join(f"{k}={v!r}" for k, v in task.solver_kwargs.items())
    return (
        f"Trained {model}({args}) with the course's Solver({solver}) on {task.num_train} "
        f"images of the embedded dataset."
    )


def heldout_seed() -> int:
    return int(os.environ.get("NNGRADE_HELDOUT_SEED", HELDOUT_SEED_DEFAULT))


@lru_cache(maxsize=4)
def _dataset(num_train: int, num_val: int, num_heldout: int, heldout_seed: int) -> dict:
    get_synthetic_data = COURSE.data.get_synthetic_data
    data = get_synthetic_data(num_train, num_val, 1, subtract_mean=False, seed=TRAIN_SEED)
    heldout = get_synthetic_data(1, 1, max(num_heldout, 1), subtract_mean=False, seed=heldout_seed)
    mean = data["X_train"].mean(axis=0, keepdims=True)
    return {
        "X_train": (data["X_train"] - mean).astype(np.float32),
        "y_train": data["y_train"],
        "X_val": (data["X_val"] - mean).astype(np.float32),
        "y_val": data["y_val"],
        "X_heldout": (heldout["X_test"][:num_heldout] - mean).astype(np.float32),
        "y_heldout": heldout["y_test"][:num_heldout],
    }


def task_data(task: Task) -> dict:
    """The task's images; ``X_heldout``/``y_heldout`` stay in the grader."""
    return _dataset(task.num_train, task.num_val, task.num_heldout, heldout_seed())


def _scores(impl: Impl, model: Any, X: np.ndarray, batch: int = 500) -> np.ndarray:
    chunks = []
    for start in range(0, len(X), batch):
        scores = impl.method(model, "loss", X[start : start + batch])
        if not isinstance(scores, np.ndarray) or scores.shape != (
            len(X[start : start + batch]),
            10,
        ):
            raise CheckFailure(
                f"model.loss(X) on {len(X[start : start + batch])} images should return scores of "
                f"shape ({len(X[start : start + batch])}, 10); it returned "
                f"{getattr(scores, 'shape', type(scores).__name__)}."
            )
        chunks.append(scores)
    return np.concatenate(chunks)


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    if not np.all(np.isfinite(scores)):
        raise CheckFailure("the trained model's scores contain NaN or inf: training diverged.")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def run_task(impl: Impl, task: Task, timeout: float | None = None) -> float:
    """Train ``task`` with ``impl``'s model and the course's Solver; return the accuracy."""
    data = task_data(task)
    kwargs = dict(task.model_kwargs)
    kwargs["dtype"] = getattr(np, kwargs.get("dtype", "float32"))
    impl.seed(task.seed)  # initial weights and minibatches come from numpy's global RNG
    model = impl(task.model, **kwargs)
    solver_data = {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")}
    if task.measure == "train":
        # Overfitting: the Solver keeps the parameters that did best on its validation set, so
        # validate on the training images themselves.
        solver_data.update(X_val=data["X_train"], y_val=data["y_train"])
    solver = impl(COURSE.solver, model, solver_data, verbose=False, **task.solver_kwargs)
    impl.method(solver, "train", timeout=timeout)
    if task.measure == "train":
        X, y = data["X_train"], data["y_train"]
    else:
        X, y = data["X_heldout"], data["y_heldout"]
    return accuracy(_scores(impl, model, X), y)
