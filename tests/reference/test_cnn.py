"""ThreeLayerConvNet of reference/classifiers/cnn.py: structure, forward, gradients, training."""

# The contract fixes numpy's legacy global RNG, so the tests seed and draw from it.
# ruff: noqa: NPY002

import numpy as np
import pytest

from reference import layers
from reference.classifiers import ThreeLayerConvNet
from reference.gradient_check import eval_numerical_gradient, rel_error
from reference.solver import Solver


def test_default_parameter_shapes_and_dtype():
    np.random.seed(0)
    model = ThreeLayerConvNet()
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {
        "W1": (32, 3, 7, 7),
        "b1": (32,),
        "W2": (32 * 16 * 16, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert model.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.params.values())
    for name in ("b1", "b2", "b3"):
        assert not model.params[name].any()
    # Weights are Gaussian with standard deviation weight_scale (1e-3 by default).
    assert model.params["W2"].std() == pytest.approx(1e-3, rel=0.02)
    assert abs(model.params["W2"].mean()) < 1e-5


def test_weights_drawn_in_order():
    np.random.seed(5)
    model = ThreeLayerConvNet(
        input_dim=(2, 6, 6),
        num_filters=3,
        filter_size=3,
        hidden_dim=4,
        num_classes=5,
        weight_scale=0.5,
        dtype=np.float64,
    )
    np.random.seed(5)
    np.testing.assert_array_equal(model.params["W1"], 0.5 * np.random.randn(3, 2, 3, 3))
    np.testing.assert_array_equal(model.params["W2"], 0.5 * np.random.randn(3 * 3 * 3, 4))
    np.testing.assert_array_equal(model.params["W3"], 0.5 * np.random.randn(4, 5))


def small_model(reg=0.0, dtype=np.float64, seed=231):
    np.random.seed(seed)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8),
        num_filters=3,
        filter_size=3,
        hidden_dim=7,
        num_classes=4,
        weight_scale=0.3,
        reg=reg,
        dtype=dtype,
    )
    rng = np.random.RandomState(seed + 1)
    # Nonzero biases keep ReLUs off their kink at exactly zero.
    for name in ("b1", "b2", "b3"):
        model.params[name] = (0.1 * rng.randn(*model.params[name].shape)).astype(dtype)
    X = rng.randn(2, 3, 8, 8)
    y = rng.randint(4, size=2)
    return model, X, y


def test_scores_match_the_naive_layers():
    model, X, _ = small_model()
    scores = model.loss(X)
    assert scores.shape == (2, 4)
    p = model.params
    a = layers.conv_forward_naive(X, p["W1"], p["b1"], {"stride": 1, "pad": 1})[0]
    a = np.maximum(a, 0)
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    a = layers.max_pool_forward_naive(a, pool)[0]
    assert a.shape == (2, 3, 4, 4)
    h = np.maximum(a.reshape(2, -1) @ p["W2"] + p["b2"], 0)
    np.testing.assert_allclose(scores, h @ p["W3"] + p["b3"], rtol=1e-10, atol=1e-12)


def test_initial_loss_is_about_log_num_classes():
    np.random.seed(2)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=4, hidden_dim=10)
    X = np.random.randn(8, 3, 16, 16)
    y = np.random.randint(10, size=8)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), rel=1e-3)


def test_regularisation_adds_half_reg_sum_of_squared_weights():
    model, X, y = small_model()
    loss0, grads0 = model.loss(X, y)
    model.reg = 0.25
    loss1, grads1 = model.loss(X, y)
    l2 = sum(np.sum(model.params[w] ** 2) for w in ("W1", "W2", "W3"))
    assert loss1 - loss0 == pytest.approx(0.5 * 0.25 * l2, rel=1e-10)
    for name in grads0:
        extra = 0.25 * model.params[name] if name.startswith("W") else 0
        np.testing.assert_allclose(grads1[name], grads0[name] + extra, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_numeric_gradients(reg):
    model, X, y = small_model(reg=reg)
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss)
    assert set(grads) == set(model.params)

    def f(_):
        return model.loss(X, y)[0]

    for name in sorted(model.params):
        assert grads[name].shape == model.params[name].shape
        numeric = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-6)
        err = rel_error(numeric, grads[name])
        assert err < 1e-5, f"{name}: relative error {err:.2e}"


def test_float32_model_computes_in_float32():
    model, X, y = small_model(dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.loss(X).dtype == np.float32
    _, grads = model.loss(X, y)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_overfits_50_small_images():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3, 16, 16)
    y = rng.randint(10, size=50)
    # Validation = training data, so the restored best parameters are the memorising ones.
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    np.random.seed(0)
    model = ThreeLayerConvNet(
        input_dim=(3, 16, 16), num_filters=8, filter_size=3, hidden_dim=50, weight_scale=1e-1
    )
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 5e-3},
        num_epochs=25,
        batch_size=25,
        verbose=False,
    )
    solver.train()
    assert solver.best_val_acc == 1.0
    assert solver.check_accuracy(X, y) == 1.0
