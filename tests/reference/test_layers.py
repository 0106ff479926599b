"""Tests of reference/layers.py: affine, ReLU, the two losses, dropout, and dtype preservation.

The normalisation layers are tested in test_layers_norm.py, convolution and pooling in
test_layers_conv.py. Gradients are checked against centred differences in float64.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import layers
from reference.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array

SEEDS = st.integers(0, 2**31 - 1)


def assert_grad(f, x, dout, analytic, rtol=1e-6, atol=1e-8):
    """Compare an analytic gradient for ``x`` with the numeric gradient of ``sum(f(x) * dout)``."""
    numeric = eval_numerical_gradient_array(f, x, dout)
    assert analytic.shape == x.shape
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


def away_from_zero(rng, shape, gap=0.05):
    """Normal samples pushed at least ``gap`` from 0, so that h=1e-5 never crosses a ReLU kink."""
    z = rng.randn(*shape)
    return np.where(z >= 0, 1.0, -1.0) * (gap + np.abs(z))


# ---------------------------------------------------------------------------------------- affine


@given(
    n=st.integers(1, 4),
    in_shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    m=st.integers(1, 4),
    seed=SEEDS,
)
def test_affine_matches_matrix_product_and_gradients(n, in_shape, m, seed):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, *in_shape)
    d = int(np.prod(in_shape))
    w = rng.randn(d, m)
    b = rng.randn(m)
    out, cache = layers.affine_forward(x, w, b)
    expected = np.array([x[i].ravel() @ w + b for i in range(n)])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)

    dout = rng.randn(n, m)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert_grad(lambda x_: layers.affine_forward(x_, w, b)[0], x, dout, dx)
    assert_grad(lambda w_: layers.affine_forward(x, w_, b)[0], w, dout, dw)
    assert_grad(lambda b_: layers.affine_forward(x, w, b_)[0], b, dout, db)


# ------------------------------------------------------------------------------------------ relu


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=SEEDS)
def test_relu_forward_and_gradient(shape, seed):
    rng = np.random.RandomState(seed)
    x = away_from_zero(rng, shape)
    out, cache = layers.relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    dout = rng.randn(*shape)
    dx = layers.relu_backward(dout, cache)
    assert_grad(lambda x_: layers.relu_forward(x_)[0], x, dout, dx)


def test_relu_at_exactly_zero():
    x = np.array([[-1.0, 0.0, 2.0], [0.0, -0.0, 3.0]])
    out, cache = layers.relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    dx = layers.relu_backward(np.full_like(x, 5.0), cache)
    # The subgradient at 0 is taken to be 0: only strictly positive inputs pass the gradient.
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]])


# ---------------------------------------------------------------------------------------- losses


def softmax_brute_force(x, y):
    n, c = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(n):
        exps = [np.exp(x[i, j]) for j in range(c)]
        total = sum(exps)
        for j in range(c):
            p = exps[j] / total
            dx[i, j] = (p - (j == y[i])) / n
        loss -= np.log(exps[y[i]] / total) / n
    return loss, dx


def svm_brute_force(x, y):
    n, c = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin / n
                dx[i, j] += 1 / n
                dx[i, y[i]] -= 1 / n
    return loss, dx


@given(n=st.integers(1, 6), c=st.integers(2, 6), scale=st.sampled_from([0.1, 1.0, 5.0]), seed=SEEDS)
def test_softmax_loss_matches_brute_force_and_numeric_gradient(n, c, scale, seed):
    rng = np.random.RandomState(seed)
    x = scale * rng.randn(n, c)
    y = rng.randint(c, size=n)
    loss, dx = layers.softmax_loss(x, y)
    want_loss, want_dx = softmax_brute_force(x, y)
    assert np.isclose(loss, want_loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-9, atol=1e-12)
    numeric = eval_numerical_gradient(lambda x_: layers.softmax_loss(x_, y)[0], x, verbose=False)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


def test_softmax_loss_is_stable_at_large_scores():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, -1e4]])
    y = np.array([0, 2, 1])
    loss, dx = layers.softmax_loss(x, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    # Per sample: -log p(correct) is 0, log 2 and log 3.
    assert np.isclose(loss, (0 + np.log(2) + np.log(3)) / 3, rtol=1e-12)
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-12)

    loss, dx = layers.softmax_loss(np.array([[1e4, -1e4]]), np.array([1]))
    assert np.isclose(loss, 2e4, rtol=1e-12)
    np.testing.assert_allclose(dx, [[1.0, -1.0]], atol=1e-12)


def test_softmax_loss_of_uniform_scores_is_log_c():
    for c in (2, 10, 100):
        loss, _ = layers.softmax_loss(np.zeros((7, c)), np.arange(7) % c)
        assert np.isclose(loss, np.log(c), rtol=1e-12)


@given(n=st.integers(1, 6), c=st.integers(2, 6), scale=st.sampled_from([0.3, 1.0, 3.0]), seed=SEEDS)
def test_svm_loss_matches_brute_force_and_numeric_gradient(n, c, scale, seed):
    rng = np.random.RandomState(seed)
    x = scale * rng.randn(n, c)
    y = rng.randint(c, size=n)
    loss, dx = layers.svm_loss(x, y)
    want_loss, want_dx = svm_brute_force(x, y)
    assert np.isclose(loss, want_loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-10, atol=1e-12)
    margins = x - x[np.arange(n), y][:, None] + 1
    margins[np.arange(n), y] = 5.0
    if np.abs(margins).min() > 1e-3:  # no hinge within reach of h: the gradient is defined
        numeric = eval_numerical_gradient(lambda x_: layers.svm_loss(x_, y)[0], x, verbose=False)
        np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


def test_svm_loss_is_c_minus_one_for_equal_scores_and_finite_at_large_scores():
    loss, dx = layers.svm_loss(np.zeros((4, 5)), np.array([0, 1, 2, 3]))
    assert np.isclose(loss, 4.0)
    np.testing.assert_allclose(dx[0], [-1.0, 0.25, 0.25, 0.25, 0.25])
    loss, dx = layers.svm_loss(np.array([[1e4, -1e4, 0.0]]), np.array([1]))
    assert np.isclose(loss, (2e4 + 1) + (1e4 + 1))
    assert np.all(np.isfinite(dx))


# --------------------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_keeps_fraction_p_and_rescales(p):
    x = np.ones((400, 500))
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 7})
    kept = out != 0
    assert abs(kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], 1 / p)
    assert abs(out.mean() - 1) < 0.03  # inverted dropout keeps the expected activation


def test_dropout_mask_follows_the_contract_formula():
    rng = np.random.RandomState(3)
    x = rng.randn(6, 7, 2)
    p = 0.6
    out, (param, mask) = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    np.random.seed(123)  # noqa: NPY002 (the contract fixes the legacy global RNG)
    want_mask = (np.random.rand(*x.shape) < p) / p  # noqa: NPY002
    np.testing.assert_array_equal(mask, want_mask)
    np.testing.assert_array_equal(out, x * want_mask)
    again, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    np.testing.assert_array_equal(again, out)


def test_dropout_without_seed_draws_fresh_masks():
    x = np.ones((50, 50))
    np.random.seed(0)  # noqa: NPY002
    first, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": None})
    second, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5})
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_test_mode_is_identity_and_dtype_is_kept(dtype):
    x = np.random.RandomState(0).randn(5, 4).astype(dtype)
    out, cache = layers.dropout_forward(x, {"mode": "test", "p": 0.3})
    np.testing.assert_array_equal(out, x)
    assert out.dtype == dtype
    dout = np.arange(20, dtype=dtype).reshape(5, 4)
    np.testing.assert_array_equal(layers.dropout_backward(dout, cache), dout)

    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 1})
    assert out.dtype == dtype
    assert layers.dropout_backward(dout, cache).dtype == dtype


@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    p=st.sampled_from([0.3, 0.5, 0.9, 1.0]),
    seed=SEEDS,
)
def test_dropout_gradient_with_fixed_seed(shape, p, seed):
    rng = np.random.RandomState(seed)
    x = rng.randn(*shape)
    dout = rng.randn(*shape)
    param = {"mode": "train", "p": p, "seed": seed % 1000}
    _, cache = layers.dropout_forward(x, param)
    dx = layers.dropout_backward(dout, cache)
    assert_grad(lambda x_: layers.dropout_forward(x_, param)[0], x, dout, dx)


def test_dropout_rejects_bad_mode_and_keep_probability():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="mode"):
        layers.dropout_forward(x, {"mode": "eval", "p": 0.5})
    with pytest.raises(ValueError):
        layers.dropout_forward(x, {"mode": "train", "p": 0.0})


# ----------------------------------------------------------------------------------------- dtype


def float32_cases():
    rng = np.random.RandomState(0)

    def r(*shape):
        return rng.randn(*shape).astype(np.float32)

    x2, x4 = r(6, 5), r(2, 4, 5, 5)
    g, b = r(5), r(5)
    gc, bc = r(4), r(4)
    g4, b4 = r(1, 4, 1, 1), r(1, 4, 1, 1)
    conv = {"stride": 2, "pad": 1}
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    return {
        "affine": (layers.affine_forward, (x2, r(5, 3), r(3)), layers.affine_backward, (6, 3)),
        "relu": (layers.relu_forward, (x2,), layers.relu_backward, (6, 5)),
        "batchnorm": (
            layers.batchnorm_forward,
            (x2, g, b, {"mode": "train"}),
            layers.batchnorm_backward,
            (6, 5),
        ),
        "batchnorm_alt": (
            layers.batchnorm_forward,
            (x2, g, b, {"mode": "train"}),
            layers.batchnorm_backward_alt,
            (6, 5),
        ),
        "layernorm": (layers.layernorm_forward, (x2, g, b, {}), layers.layernorm_backward, (6, 5)),
        "conv": (
            layers.conv_forward_naive,
            (x4, r(3, 4, 3, 3), r(3), conv),
            layers.conv_backward_naive,
            (2, 3, 3, 3),
        ),
        "pool": (layers.max_pool_forward_naive, (x4, pool), layers.max_pool_backward_naive, None),
        "spatial_bn": (
            layers.spatial_batchnorm_forward,
            (x4, gc, bc, {"mode": "train"}),
            layers.spatial_batchnorm_backward,
            (2, 4, 5, 5),
        ),
        "groupnorm": (
            layers.spatial_groupnorm_forward,
            (x4, g4, b4, 2, {}),
            layers.spatial_groupnorm_backward,
            (2, 4, 5, 5),
        ),
    }


@pytest.mark.parametrize("name", sorted(float32_cases()))
def test_float32_inputs_give_float32_outputs(name):
    forward, args, backward, dout_shape = float32_cases()[name]
    out, cache = forward(*args)
    assert out.dtype == np.float32
    dout = np.ones(out.shape if dout_shape is None else dout_shape, dtype=np.float32)
    grads = backward(dout, cache)
    for grad in grads if isinstance(grads, tuple) else (grads,):
        assert grad.dtype == np.float32


def test_float32_losses_and_test_mode_batchnorm_keep_dtype():
    rng = np.random.RandomState(1)
    x = rng.randn(4, 3).astype(np.float32)
    y = np.array([0, 2, 1, 1])
    for loss_fn in (layers.softmax_loss, layers.svm_loss):
        loss, dx = loss_fn(x, y)
        assert dx.dtype == np.float32
        assert np.asarray(loss).dtype == np.float32
    bn_param = {"mode": "train"}
    layers.batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert bn_param["running_mean"].dtype == np.float32
    assert bn_param["running_var"].dtype == np.float32
    bn_param["mode"] = "test"
    out, _ = layers.batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert out.dtype == np.float32
