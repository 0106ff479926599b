"""The Solver of reference/solver.py, driven by small models written here.

A linear softmax classifier exercises real training; a scripted model whose validation accuracy
is known in advance at every epoch pins down the bookkeeping (best parameters, decay, histories).
"""

# The contract fixes numpy's legacy global RNG, so the tests seed and draw from it.
# ruff: noqa: NPY002

import pickle
import re

import numpy as np
import pytest

from reference import solver as solver_module
from reference.classifiers import FullyConnectedNet
from reference.solver import Solver

# The log lines, verbatim in the classic assignment's printf style.
ITERATION_LINE = "(Iteration %d / %d) loss: %f"
EPOCH_LINE = "(Epoch %d / %d) train acc: %f; val_acc: %f"


class LinearSoftmax:
    """scores = X W + b with a softmax loss; the smallest model the Solver can train."""

    def __init__(self, dim, num_classes, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {"W": 0.01 * rng.randn(dim, num_classes), "b": np.zeros(num_classes)}

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(probs[np.arange(n), y]).mean()
        dscores = probs
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class Counter:
    """A model whose one parameter goes up by the learning rate at every sgd step.

    It predicts class ``round(w) % num_classes`` for every input, so with all validation labels
    equal to 2 the validation accuracy is 1 exactly when w is 2, and 0 otherwise.
    """

    def __init__(self, num_classes=10):
        self.params = {"w": np.zeros(1)}
        self.num_classes = num_classes

    def loss(self, X, y=None):
        scores = np.zeros((X.shape[0], self.num_classes))
        scores[:, int(round(self.params["w"][0])) % self.num_classes] = 1.0
        if y is None:
            return scores
        return float(-self.params["w"][0]), {"w": -np.ones(1)}


def blobs(n=200, dim=5, num_classes=3, seed=0):
    """Separable Gaussian clusters, split into train and validation halves."""
    rng = np.random.RandomState(seed)
    centres = 3 * rng.randn(num_classes, dim)
    y = rng.randint(num_classes, size=n)
    X = centres[y] + rng.randn(n, dim)
    half = n // 2
    return {"X_train": X[:half], "y_train": y[:half], "X_val": X[half:], "y_val": y[half:]}


def counter_data(n_train=4, n_val=6):
    X_train = np.zeros((n_train, 2))
    return {
        "X_train": X_train,
        "y_train": np.zeros(n_train, dtype=int),
        "X_val": np.zeros((n_val, 2)),
        "y_val": np.full(n_val, 2),
    }


def test_linear_model_learns_separable_blobs():
    data = blobs()
    model = LinearSoftmax(5, 3)
    np.random.seed(0)
    solver = Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 0.5},
        num_epochs=5,
        batch_size=20,
        verbose=False,
    )
    solver.train()
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert solver.best_val_acc > 0.9
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_every_update_rule_trains(rule):
    data = blobs(seed=1)
    model = LinearSoftmax(5, 3, seed=1)
    np.random.seed(1)
    solver = Solver(
        model,
        data,
        update_rule=rule,
        optim_config={"learning_rate": 5e-2},
        num_epochs=3,
        batch_size=10,
        verbose=False,
    )
    solver.train()
    assert np.mean(solver.loss_history[-5:]) < solver.loss_history[0]
    assert solver.best_val_acc > 0.8


def test_histories_have_one_entry_per_iteration_and_per_check():
    data = blobs()  # 100 training samples
    solver = Solver(LinearSoftmax(5, 3), data, batch_size=30, num_epochs=4, verbose=False)
    solver.train()
    iterations_per_epoch = 100 // 30
    assert len(solver.loss_history) == 4 * iterations_per_epoch
    # Checked after the first iteration and at the end of each of the 4 epochs.
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 5
    assert solver.epoch == 4


def test_best_params_are_restored_at_the_end():
    model = Counter()
    # One iteration per epoch, lr 1: w is 1, 2, 3, 4, 5 at the five checks.
    solver = Solver(
        model,
        counter_data(),
        update_rule="sgd",
        optim_config={"learning_rate": 1.0},
        batch_size=4,
        num_epochs=5,
        verbose=False,
    )
    solver.train()
    assert solver.val_acc_history == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert solver.best_val_acc == 1.0
    np.testing.assert_array_equal(solver.best_params["w"], [2.0])
    np.testing.assert_array_equal(model.params["w"], [2.0])
    # The model holds a copy: training further does not move best_params.
    model.params["w"] += 10
    np.testing.assert_array_equal(solver.best_params["w"], [2.0])


def test_model_keeps_parameters_when_validation_accuracy_stays_zero():
    model = Counter()
    data = counter_data()
    data["y_val"][:] = 7  # never predicted within 3 steps
    solver = Solver(
        model, data, optim_config={"learning_rate": 1.0}, batch_size=4, num_epochs=3, verbose=False
    )
    solver.train()
    assert solver.best_val_acc == 0.0
    assert set(model.params) == {"w"}
    np.testing.assert_array_equal(model.params["w"], [1.0])  # the first check's parameters


def test_lr_decay_applied_once_per_epoch():
    model = Counter()
    solver = Solver(
        model,
        counter_data(n_train=8),
        update_rule="sgd",
        optim_config={"learning_rate": 1.0},
        lr_decay=0.5,
        batch_size=4,
        num_epochs=3,
        verbose=False,
    )
    solver.train()
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.5**3)
    # Two steps per epoch at lr 1, 0.5 and 0.25: w = 2 * (1 + 0.5 + 0.25) before restoring.
    assert solver.loss_history[-1] == pytest.approx(-(2 * 1.0 + 2 * 0.5 + 0.25))


def test_each_parameter_gets_its_own_optim_config():
    data = blobs()
    optim_config = {"learning_rate": 1e-2}
    model = LinearSoftmax(5, 3)
    solver = Solver(
        model,
        data,
        update_rule="sgd_momentum",
        optim_config=optim_config,
        num_epochs=1,
        batch_size=50,
        verbose=False,
    )
    solver.train()
    configs = solver.optim_configs
    assert set(configs) == {"W", "b"}
    assert configs["W"] is not configs["b"]
    assert configs["W"]["velocity"].shape == (5, 3)
    assert configs["b"]["velocity"].shape == (3,)
    assert optim_config == {"learning_rate": 1e-2}  # the caller's dict is left alone


def test_unknown_update_rule_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        Solver(LinearSoftmax(5, 3), blobs(), update_rule="adagrad")
    message = str(info.value)
    assert "adagrad" in message
    for name in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        assert repr(name) in message


def test_update_rule_is_not_any_attribute_of_optim():
    """Only the table of rules is accepted, not whatever optim.py happens to define."""
    with pytest.raises(ValueError):
        Solver(LinearSoftmax(5, 3), blobs(), update_rule="np")


def test_unknown_keyword_argument_is_an_error():
    with pytest.raises(ValueError, match="learning_rate"):
        Solver(LinearSoftmax(5, 3), blobs(), learning_rate=1e-3)


def test_callable_update_rule_is_accepted():
    calls = []

    def halve(w, dw, config):
        calls.append(config)
        return w / 2, config

    model = LinearSoftmax(5, 3)
    w0 = model.params["W"].copy()
    solver = Solver(model, blobs(), update_rule=halve, batch_size=100, num_epochs=1, verbose=False)
    solver.train()
    assert len(calls) == 2  # one step, two parameters
    np.testing.assert_allclose(model.params["W"], w0 / 2)


def test_log_lines_format(capsys):
    data = blobs()
    np.random.seed(3)
    solver = Solver(LinearSoftmax(5, 3), data, batch_size=25, num_epochs=2, print_every=3)
    solver.train()
    lines = capsys.readouterr().out.splitlines()
    iteration = [line for line in lines if line.startswith("(Iteration")]
    epoch = [line for line in lines if line.startswith("(Epoch")]
    assert len(lines) == len(iteration) + len(epoch)  # nothing else is printed

    # 8 iterations, printed at t = 0, 3, 6.
    assert len(iteration) == 3
    for t, line in zip((0, 3, 6), iteration, strict=True):
        expected = ITERATION_LINE % (t + 1, 8, solver.loss_history[t])  # noqa: UP031
        assert line == expected
        assert re.fullmatch(r"\(Iteration \d+ / \d+\) loss: -?\d+\.\d{6}", line)

    assert len(epoch) == 3
    for e, line in enumerate(epoch):
        train_acc, val_acc = solver.train_acc_history[e], solver.val_acc_history[e]
        expected = EPOCH_LINE % (e, 2, train_acc, val_acc)  # noqa: UP031
        assert line == expected
        assert re.fullmatch(r"\(Epoch \d+ / \d+\) train acc: \d\.\d{6}; val_acc: \d\.\d{6}", line)


def test_verbose_false_prints_nothing(capsys, tmp_path):
    solver = Solver(
        LinearSoftmax(5, 3),
        blobs(),
        num_epochs=1,
        verbose=False,
        checkpoint_name=str(tmp_path / "quiet"),
    )
    solver.train()
    assert capsys.readouterr().out == ""


def test_checkpoints_written_each_epoch_and_loadable(tmp_path):
    name = str(tmp_path / "ckpt")
    model = Counter()
    solver = Solver(
        model,
        counter_data(),
        optim_config={"learning_rate": 1.0},
        batch_size=4,
        num_epochs=3,
        lr_decay=0.9,
        checkpoint_name=name,
        verbose=False,
    )
    solver.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["ckpt_epoch_1.pkl", "ckpt_epoch_2.pkl", "ckpt_epoch_3.pkl"]

    with open(tmp_path / "ckpt_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2
    assert checkpoint["update_rule"] == "sgd"
    assert checkpoint["lr_decay"] == 0.9
    assert checkpoint["optim_config"] == {"learning_rate": 1.0}
    assert checkpoint["batch_size"] == 4
    assert checkpoint["num_epochs"] == 3
    assert checkpoint["num_train_samples"] == 1000
    assert checkpoint["num_val_samples"] is None
    assert checkpoint["loss_history"] == solver.loss_history[:2]
    assert checkpoint["train_acc_history"] == solver.train_acc_history[:2]
    assert checkpoint["val_acc_history"] == [0.0, 1.0]
    assert checkpoint["best_val_acc"] == 1.0
    # Steps of 1 then 0.9 (decayed after the first epoch): w = 1.9 at the second check.
    np.testing.assert_allclose(checkpoint["params"]["w"], [1.9])
    np.testing.assert_allclose(checkpoint["best_params"]["w"], [1.9])
    assert isinstance(checkpoint["model"], Counter)
    np.testing.assert_allclose(checkpoint["model"].params["w"], [1.9])


def test_checkpoint_of_a_real_model_reloads_and_predicts(tmp_path):
    data = blobs()
    np.random.seed(4)
    model = FullyConnectedNet([8], input_dim=5, num_classes=3, normalization="batchnorm")
    solver = Solver(
        model,
        data,
        optim_config={"learning_rate": 1e-1},
        batch_size=50,
        num_epochs=2,
        checkpoint_name=str(tmp_path / "fc"),
        verbose=False,
    )
    solver.train()
    with open(tmp_path / "fc_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    restored = checkpoint["model"]
    assert isinstance(restored, FullyConnectedNet)
    assert set(restored.params) == set(model.params)
    for name, value in checkpoint["params"].items():
        np.testing.assert_array_equal(restored.params[name], value)
    assert "running_mean" in restored.bn_params[0]
    scores = restored.loss(data["X_val"])
    assert scores.shape == (100, 3)
    assert np.isfinite(scores).all()


def test_check_accuracy_batches_and_subsamples():
    data = blobs()
    model = LinearSoftmax(5, 3)
    solver = Solver(model, data, verbose=False)
    X, y = data["X_val"], data["y_val"]
    expected = np.mean(np.argmax(model.loss(X), axis=1) == y)
    # A batch size that does not divide N still covers every data point once.
    assert solver.check_accuracy(X, y, batch_size=7) == pytest.approx(expected)
    # Subsampling draws from the global RNG, so a reseed repeats it.
    np.random.seed(9)
    a = solver.check_accuracy(X, y, num_samples=10)
    np.random.seed(9)
    b = solver.check_accuracy(X, y, num_samples=10)
    assert a == b
    assert a * 10 == pytest.approx(round(a * 10))  # a fraction of 10 samples


def test_training_is_reproducible_after_seeding():
    def run():
        np.random.seed(42)
        model = LinearSoftmax(5, 3)
        solver = Solver(
            model,
            blobs(),
            update_rule="adam",
            num_epochs=2,
            batch_size=10,
            num_train_samples=20,
            verbose=False,
        )
        solver.train()
        return solver.loss_history, solver.train_acc_history, model.params["W"]

    first, second = run(), run()
    assert first[0] == second[0]
    assert first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])


def test_update_rules_table():
    assert solver_module.UPDATE_RULES == ("sgd", "sgd_momentum", "rmsprop", "adam")
