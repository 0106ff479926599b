"""FullyConnectedNet of reference/classifiers/fc_net.py: figures, structure, gradients, training."""

# The contract fixes numpy's legacy global RNG, so the tests seed and draw from it.
# ruff: noqa: NPY002

import itertools

import numpy as np
import pytest

from reference.classifiers import FullyConnectedNet
from reference.gradient_check import eval_numerical_gradient, rel_error
from reference.solver import Solver


def test_contract_loss_figures():
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    expected = {0: 2.3004790897684924, 3.14: 7.052114776533016}
    for reg in (0, 3.14):  # the second model is built right after the first, without reseeding
        model = FullyConnectedNet(
            [H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2, dtype=np.float64
        )
        loss, _ = model.loss(X, y)
        assert loss == pytest.approx(expected[reg], rel=1e-12, abs=0)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_parameters_names_shapes_and_init(normalization):
    np.random.seed(0)
    dims = [7, 5, 4]
    model = FullyConnectedNet(
        dims, input_dim=6, num_classes=3, normalization=normalization, weight_scale=0.3
    )
    assert model.num_layers == 4
    sizes = [6, *dims, 3]
    expected = set()
    for i in range(1, 5):
        expected |= {f"W{i}", f"b{i}"}
        assert model.params[f"W{i}"].shape == (sizes[i - 1], sizes[i])
        np.testing.assert_array_equal(model.params[f"b{i}"], np.zeros(sizes[i]))
    if normalization is not None:
        for i in range(1, 4):  # hidden layers only
            expected |= {f"gamma{i}", f"beta{i}"}
            np.testing.assert_array_equal(model.params[f"gamma{i}"], np.ones(sizes[i]))
            np.testing.assert_array_equal(model.params[f"beta{i}"], np.zeros(sizes[i]))
        assert len(model.bn_params) == 3
        assert all(p["mode"] == "train" for p in model.bn_params)
        assert len({id(p) for p in model.bn_params}) == 3  # one dict per layer
    else:
        assert model.bn_params == []
    assert set(model.params) == expected


def test_weights_drawn_in_layer_order():
    np.random.seed(12)
    model = FullyConnectedNet(
        [4, 3],
        input_dim=5,
        num_classes=2,
        weight_scale=0.1,
        normalization="batchnorm",
        dtype=np.float64,
    )
    np.random.seed(12)
    np.testing.assert_array_equal(model.params["W1"], np.random.randn(5, 4) * 0.1)
    np.testing.assert_array_equal(model.params["W2"], np.random.randn(4, 3) * 0.1)
    np.testing.assert_array_equal(model.params["W3"], np.random.randn(3, 2) * 0.1)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_float32_params_scores_and_grads(normalization):
    np.random.seed(1)
    model = FullyConnectedNet(
        [6], input_dim=4, num_classes=3, normalization=normalization, dropout_keep_ratio=0.5
    )
    assert model.dtype == np.float32
    assert all(v.dtype == np.float32 for v in model.params.values())
    X = np.random.randn(5, 4)  # float64 input is cast to the model's dtype
    y = np.array([0, 1, 2, 1, 0])
    assert model.loss(X).dtype == np.float32
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, g in grads.items():
        assert g.dtype == np.float32, name
        assert g.shape == model.params[name].shape, name


def test_unknown_normalization_raises():
    with pytest.raises(ValueError, match="layernorm"):
        FullyConnectedNet([3], input_dim=2, normalization="groupnorm")


def test_dropout_param_holds_keep_ratio_and_seed():
    model = FullyConnectedNet([3], input_dim=2, dropout_keep_ratio=0.25, seed=7)
    assert model.use_dropout
    assert model.dropout_param == {"mode": "train", "p": 0.25, "seed": 7}
    plain = FullyConnectedNet([3], input_dim=2, seed=7)
    assert not plain.use_dropout


def test_l2_term_covers_the_weights_only():
    np.random.seed(3)
    X, y = np.random.randn(4, 5), np.array([0, 1, 2, 0])
    model = FullyConnectedNet(
        [6, 7],
        input_dim=5,
        num_classes=3,
        normalization="batchnorm",
        weight_scale=0.2,
        dtype=np.float64,
    )
    model.params["b1"] += 1.0  # must not count
    model.params["gamma2"] += 2.0  # must not count
    loss0, grads0 = model.loss(X, y)
    model.reg = 0.7
    loss1, grads1 = model.loss(X, y)
    l2 = sum(np.sum(model.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    assert loss1 - loss0 == pytest.approx(0.5 * 0.7 * l2, rel=1e-10)
    for name in grads0:
        extra = 0.7 * model.params[name] if name.startswith("W") else 0
        np.testing.assert_allclose(grads1[name], grads0[name] + extra, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_test_mode_returns_scores_without_dropout(normalization):
    np.random.seed(4)
    X, y = np.random.randn(6, 5), np.array([0, 1, 2, 3, 0, 1])
    kw = dict(input_dim=5, num_classes=4, normalization=normalization, dtype=np.float64)
    model = FullyConnectedNet([8, 8], dropout_keep_ratio=0.5, seed=1, **kw)
    model.loss(X, y)  # a training pass moves the batchnorm running averages
    scores = model.loss(X)
    assert scores.shape == (6, 4)
    assert model.dropout_param["mode"] == "test"
    assert all(p["mode"] == "test" for p in model.bn_params)

    # The same net without dropout gives the same test-time scores: dropout is the identity.
    twin = FullyConnectedNet([8, 8], **kw)
    twin.params = {k: v.copy() for k, v in model.params.items()}
    for mine, theirs in zip(twin.bn_params, model.bn_params, strict=True):
        mine.update({k: v for k, v in theirs.items() if k != "mode"})
    np.testing.assert_allclose(twin.loss(X), scores, rtol=1e-12)

    # A training pass switches the modes back.
    model.loss(X, y)
    assert model.dropout_param["mode"] == "train"
    assert all(p["mode"] == "train" for p in model.bn_params)


def test_batchnorm_test_mode_uses_running_averages():
    np.random.seed(5)
    X = np.random.randn(10, 4) * 3 + 2
    model = FullyConnectedNet(
        [5], input_dim=4, num_classes=3, normalization="batchnorm", dtype=np.float64
    )
    bn = model.bn_params[0]
    bn["running_mean"] = np.zeros(5)
    bn["running_var"] = np.ones(5)
    scores = model.loss(X)
    # With running mean 0 and variance 1 the normalisation is (nearly) the identity.
    a = X @ model.params["W1"] + model.params["b1"]
    h = np.maximum(0, a / np.sqrt(1 + 1e-5))
    np.testing.assert_allclose(scores, h @ model.params["W2"] + model.params["b2"], rtol=1e-10)


def test_dropout_changes_training_loss():
    np.random.seed(6)
    X, y = np.random.randn(5, 6), np.array([0, 1, 2, 0, 1])
    kw = dict(input_dim=6, num_classes=3, weight_scale=0.5, dtype=np.float64)
    model = FullyConnectedNet([20], dropout_keep_ratio=0.5, seed=3, **kw)
    loss_a, _ = model.loss(X, y)
    loss_b, _ = model.loss(X, y)
    assert loss_a == loss_b  # the seed fixes the mask
    twin = FullyConnectedNet([20], **kw)
    twin.params = model.params
    assert twin.loss(X, y)[0] != pytest.approx(loss_a, rel=1e-6)


GRAD_CASES = list(itertools.product([None, "batchnorm", "layernorm"], [1, 0.5], [0.0, 3.14]))


@pytest.mark.parametrize("normalization, keep, reg", GRAD_CASES)
def test_numeric_gradients(normalization, keep, reg):
    np.random.seed(231)
    N, D, H1, H2, C = 5, 6, 7, 8, 4
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        normalization=normalization,
        dropout_keep_ratio=keep,
        reg=reg,
        weight_scale=5e-2,
        dtype=np.float64,
        seed=123,
    )
    # Zero biases put a ReLU exactly at its kink wherever dropout zeroes a whole row of the layer
    # below, and a centred difference there reads half the slope; nonzero biases (and shifts)
    # avoid that.
    for name in model.params:
        if name.startswith("b"):
            model.params[name] = 0.1 * np.random.randn(*model.params[name].shape)
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss)
    assert set(grads) == set(model.params)

    def f(_):
        return model.loss(X, y)[0]

    for name in sorted(model.params):
        numeric = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        err = rel_error(numeric, grads[name])
        gap = np.max(np.abs(numeric - grads[name]))
        # Biases feeding a batchnorm get zero gradient; compare those absolutely.
        assert err < 1e-5 or gap < 1e-8, f"{name}: relative error {err:.2e}, gap {gap:.2e}"


def random_memorisation_data(n, shape, num_classes, seed):
    """Gaussian inputs with random labels: nothing to learn, everything to memorise.

    The validation set is the training set, so the parameters the Solver restores at the end
    (those with the best validation accuracy) are the ones that memorised it.
    """
    rng = np.random.RandomState(seed)
    X = rng.randn(n, *shape)
    y = rng.randint(num_classes, size=n)
    return {"X_train": X, "y_train": y, "X_val": X, "y_val": y}


def test_three_layer_net_overfits_50_samples():
    data = random_memorisation_data(50, (3, 8, 8), 10, seed=0)
    np.random.seed(0)
    model = FullyConnectedNet([100, 100], input_dim=3 * 8 * 8, weight_scale=1e-1)
    solver = Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 5e-2},
        num_epochs=30,
        batch_size=25,
        print_every=10,
        verbose=False,
    )
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.best_val_acc == 1.0
    assert solver.check_accuracy(data["X_train"], data["y_train"]) == 1.0


def test_five_layer_net_overfits_50_samples():
    data = random_memorisation_data(50, (3, 8, 8), 10, seed=1)
    np.random.seed(1)
    model = FullyConnectedNet([100] * 4, input_dim=3 * 8 * 8, weight_scale=2e-1)
    solver = Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 5e-3},
        num_epochs=30,
        batch_size=25,
        print_every=10,
        verbose=False,
    )
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.best_val_acc == 1.0
    assert solver.check_accuracy(data["X_train"], data["y_train"]) == 1.0


def test_no_hidden_layers_is_a_softmax_classifier():
    np.random.seed(8)
    X, y = np.random.randn(4, 3), np.array([0, 1, 1, 0])
    model = FullyConnectedNet([], input_dim=3, num_classes=2, reg=0.1, dtype=np.float64)
    assert model.num_layers == 1
    assert set(model.params) == {"W1", "b1"}
    np.testing.assert_allclose(model.loss(X), X @ model.params["W1"], rtol=1e-12)
    _, grads = model.loss(X, y)
    numeric = eval_numerical_gradient(
        lambda _: model.loss(X, y)[0], model.params["W1"], verbose=False
    )
    assert rel_error(numeric, grads["W1"]) < 1e-7
