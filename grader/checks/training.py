"""Training tasks: a model, the course's Solver and a data budget, run to an accuracy.

The same task runs with the reference (``nngrade calibrate`` and the thresholds below come from
it) and with the student's code in the sandbox. Accuracy is never taken from predictions the
student's code returns: after training the grader reads the model's trained parameters (the names
the contract fixes), loads them into the reference model of the same architecture and counts what
that predicts, in the grader. A model that memorises or looks labels up instead of learning
parameters earns nothing. The held-out images come from the course's secret seed
(:mod:`grader.secret`); their labels never leave the grader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from grader import secret
from grader.checks.impl import CheckFailure, Impl
from grader.course import COURSE

TRAIN_SEED = 0  # the images students also have (the embedded dataset's default seed)


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
    """The course's secret seed of the held-out images (created on first use)."""
    return secret.heldout_seed()


@lru_cache(maxsize=2)
def _heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = COURSE.data.get_synthetic_data(0, 0, n, subtract_mean=False, seed=seed, cache=False)
    return data["X_test"], data["y_test"]


def heldout_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` held-out images (raw pixels, as generated) and their labels, from the secret seed.

    Never cached on disk: a cache file would carry the seed in its name.
    """
    return _heldout(n, heldout_seed())


@lru_cache(maxsize=4)
def _dataset(num_train: int, num_val: int, num_heldout: int, heldout_seed: int) -> dict:
    get_synthetic_data = COURSE.data.get_synthetic_data
    data = get_synthetic_data(num_train, num_val, 0, subtract_mean=False, seed=TRAIN_SEED)
    X_heldout, y_heldout = _heldout(max(num_heldout, 1), heldout_seed)
    mean = data["X_train"].mean(axis=0, keepdims=True)
    return {
        "X_train": (data["X_train"] - mean).astype(np.float32),
        "y_train": data["y_train"],
        "X_val": (data["X_val"] - mean).astype(np.float32),
        "y_val": data["y_val"],
        "X_heldout": (X_heldout[:num_heldout] - mean).astype(np.float32),
        "y_heldout": y_heldout[:num_heldout],
    }


def task_data(task: Task) -> dict:
    """The task's images; ``X_heldout``/``y_heldout`` stay in the grader."""
    return _dataset(task.num_train, task.num_val, task.num_heldout, heldout_seed())


# ---------------------------------------------------------------------------------------------
# A trained model's state, run through the reference
# ---------------------------------------------------------------------------------------------


def flatten_state(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The numeric arrays of a model's state attributes, keyed ``attr.key`` (a dict attribute)
    or ``attr.i.key`` (a list of dicts); anything else is left out."""
    flat: dict[str, np.ndarray] = {}

    def put(name: str, value: Any) -> None:
        if isinstance(value, np.ndarray | np.generic | float | int) and not isinstance(value, bool):
            array = np.asarray(value)
            if array.dtype.kind in "fiu":
                flat[name] = array

    for attr, value in values.items():
        if isinstance(value, dict):
            for key, item in value.items():
                put(f"{attr}.{key}", item)
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                if isinstance(entry, dict):
                    for key, item in entry.items():
                        put(f"{attr}.{i}.{key}", item)
    return flat


def read_state(impl: Impl, model: Any) -> dict[str, np.ndarray]:
    """The trained state of ``model`` (the attributes the course declares), as plain arrays."""
    values = {}
    for attr, required in COURSE.training.STATE_ATTRIBUTES.items():
        try:
            values[attr] = impl.get(model, attr)
        except (CheckFailure, AttributeError):  # AttributeError: the in-process reference
            if required:
                raise
    return flatten_state(values)


def reference_scores(
    model_class: str, state: Mapping[str, np.ndarray], X: np.ndarray, batch: int = 500
) -> np.ndarray:
    """Scores of the reference ``model_class`` loaded with ``state`` on ``X`` (test mode).

    Raises CheckFailure, saying what is wrong, when the state is not a model of that class.
    """
    try:
        model = COURSE.training.reference_model(model_class, state, X.shape[1:])
    except ValueError as exc:
        raise CheckFailure(f"The trained model could not be run: {exc}") from None
    chunks = [model.loss(X[i : i + batch]) for i in range(0, len(X), batch)]
    return np.concatenate([np.asarray(c, dtype=np.float64) for c in chunks])


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
    return accuracy(reference_scores(task.model, read_state(impl, model), X), y)
