"""Training tasks: held-out labels never reach the code being graded; accuracy counts right."""

import dataclasses

import numpy as np
import pytest

from grader.checks import training
from grader.checks.impl import CheckFailure, Impl, ReferenceImpl
from grader.course.training import TASKS


class RecordingImpl(Impl):
    """Runs the reference but records every value handed to it."""

    def __init__(self):
        self.inner = ReferenceImpl()
        self.seen = []

    def _record(self, *values):
        for value in values:
            if isinstance(value, dict):
                self._record(*value.values())
            elif isinstance(value, (list, tuple)):
                self._record(*value)
            else:
                self.seen.append(value)

    def __call__(self, name, *args, returns=None, **kwargs):
        self._record(args, kwargs)
        return self.inner(name, *args, returns=returns, **kwargs)

    def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
        self._record(args, kwargs)
        return self.inner.method(obj, name, *args, returns=returns, **kwargs)

    def seed(self, seed):
        self.inner.seed(seed)


TINY = dataclasses.replace(
    TASKS["fc_train"],
    num_train=200,
    num_val=50,
    num_heldout=300,
    solver_kwargs={"update_rule": "adam", "optim_config": {"learning_rate": 1e-3},
                   "num_epochs": 2, "batch_size": 50},
)  # fmt: skip


def test_heldout_labels_never_reach_the_implementation():
    impl = RecordingImpl()
    accuracy = training.run_task(impl, TINY)
    labels = training.task_data(TINY)["y_heldout"]
    images = training.task_data(TINY)["X_heldout"]
    arrays = [v for v in impl.seen if isinstance(v, np.ndarray)]
    assert not any(a.shape == labels.shape and np.array_equal(a, labels) for a in arrays)
    assert any(a.shape == images.shape and np.array_equal(a, images) for a in arrays)
    assert 0.1 < accuracy <= 1.0


def test_runs_are_deterministic():
    assert training.run_task(ReferenceImpl(), TINY) == training.run_task(ReferenceImpl(), TINY)


def test_heldout_images_differ_from_training_images():
    data = training.task_data(TINY)
    train = {row.tobytes() for row in data["X_train"].reshape(len(data["X_train"]), -1)}
    assert not any(row.tobytes() in train for row in data["X_heldout"].reshape(300, -1))


def test_accuracy_counts_and_refuses_diverged_scores():
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert training.accuracy(scores, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(CheckFailure, match="diverged"):
        training.accuracy(np.array([[np.nan, 0.0]]), np.array([0]))


def test_thresholds_sit_below_the_reference_with_margin():
    for task in TASKS.values():
        assert 0.1 < task.threshold <= task.reference_accuracy - 0.09
