"""Training tasks: held-out data never reaches the code being graded; accuracy is counted from
the trained parameters through the reference forward pass."""

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

    def get(self, obj, attr):
        return self.inner.get(obj, attr)


TINY = dataclasses.replace(
    TASKS["fc_train"],
    num_train=200,
    num_val=50,
    num_heldout=300,
    solver_kwargs={"update_rule": "adam", "optim_config": {"learning_rate": 1e-3},
                   "num_epochs": 2, "batch_size": 50},
)  # fmt: skip


def test_heldout_data_never_reaches_the_implementation():
    impl = RecordingImpl()
    accuracy = training.run_task(impl, TINY)
    data = training.task_data(TINY)
    arrays = [v for v in impl.seen if isinstance(v, np.ndarray)]
    for held in (data["y_heldout"], data["X_heldout"]):
        assert not any(a.shape == held.shape and np.array_equal(a, held) for a in arrays)
    assert any(a.shape == data["X_train"].shape for a in arrays)  # it did see the training set
    assert 0.0 <= accuracy <= 1.0


class ReturnsWhatItIsTold(ReferenceImpl):
    """The reference, except that the trained model's own scores are replaced: the grader must
    not use them."""

    def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
        if name == "loss" and len(args) == 1 and not kwargs:
            return np.eye(10)[np.zeros(len(args[0]), dtype=int)]
        return super().method(obj, name, *args, returns=returns, **kwargs)


def test_accuracy_comes_from_the_parameters_not_from_the_models_own_scores():
    own = training.run_task(ReferenceImpl(), TINY)
    assert training.run_task(ReturnsWhatItIsTold(), TINY) == own


class Memoriser:
    """No parameters; remembers every (image, label) it was trained on (the gaming case)."""

    def __init__(self, **kwargs):
        self.params, self.seen = {}, {}

    def loss(self, X, y=None):
        if y is None:
            scores = np.zeros((len(X), 10))
            for i, image in enumerate(X):
                scores[i, self.seen.get(image.tobytes(), 0)] = 1
            return scores
        self.seen.update({im.tobytes(): int(label) for im, label in zip(X, y, strict=True)})
        return 2.3, {}


class MemorisingImpl(ReferenceImpl):
    def __call__(self, name, *args, returns=None, **kwargs):
        if name == TINY.model:
            return Memoriser(**kwargs)
        return super().__call__(name, *args, returns=returns, **kwargs)


def test_a_memorising_model_without_parameters_earns_nothing():
    overfit = dataclasses.replace(TASKS["fc_overfit"], solver_kwargs={
        **TASKS["fc_overfit"].solver_kwargs, "num_epochs": 2})  # fmt: skip
    with pytest.raises(CheckFailure, match="holds no parameter arrays"):
        training.run_task(MemorisingImpl(), overfit)


def test_the_reference_forward_reads_the_architecture_off_the_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3, 32, 32))
    np.random.seed(3)
    fc = ReferenceImpl()(TINY.model, [20, 15], normalization="batchnorm", dtype=np.float64)
    fc.loss(X, np.arange(7) % 10)  # fills the running averages
    state = training.flatten_state({"params": fc.params, "bn_params": fc.bn_params})
    before = np.random.get_state()[1].copy()
    scores = training.reference_scores(TINY.model, state, X)
    assert np.array_equal(np.random.get_state()[1], before)  # the grader's RNG did not move
    np.testing.assert_allclose(scores, fc.loss(X), rtol=1e-12)
    cnn_class = TASKS["cnn_train"].model
    cnn = ReferenceImpl()(cnn_class, num_filters=4, filter_size=3, hidden_dim=6)
    state = training.flatten_state({"params": cnn.params})
    np.testing.assert_allclose(training.reference_scores(cnn_class, state, X), cnn.loss(X))
    bad = dict(state, **{"params.W2": np.zeros((5, 6), np.float32)})
    with pytest.raises(CheckFailure, match="do not fit together"):
        training.reference_scores(cnn_class, bad, X)
    with pytest.raises(CheckFailure, match="W1 takes 5 inputs"):
        small = {"params.W1": np.zeros((5, 10)), "params.b1": np.zeros(10)}
        training.reference_scores(TINY.model, small, X)


def test_a_model_too_large_to_score_is_refused(monkeypatch):
    from grader.course import training as course_training

    monkeypatch.setattr(course_training, "MAX_PARAMETERS", 1000)
    state = {"params.W1": np.zeros((3072, 10)), "params.b1": np.zeros(10)}
    with pytest.raises(CheckFailure, match="too large to score"):
        training.reference_scores(TINY.model, state, np.zeros((2, 3, 32, 32)))
