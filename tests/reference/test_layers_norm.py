"""Tests of the normalisation layers of reference/layers.py: batch, layer, spatial batch, group."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import layers
from reference.gradient_check import eval_numerical_gradient_array

SEEDS = st.integers(0, 2**31 - 1)
EPS = 1e-5


def spread(rng, n, d, scale=1.0, shift=0.0):
    """(n, d) data whose every column is well spread, so no batch variance comes near eps."""
    base = np.linspace(-1.5, 1.5, n)
    cols = [rng.permutation(base) + 0.2 * rng.randn(n) for _ in range(d)]
    return shift + scale * np.stack(cols, axis=1)


def assert_grads(f, inputs, dout, analytic, rtol=1e-5, atol=1e-7):
    """Check each analytic gradient against centred differences of ``sum(f(*inputs) * dout)``."""
    for k, grad in enumerate(analytic):
        x = inputs[k]

        def f_k(v, k=k):
            args = list(inputs)
            args[k] = v
            return f(*args)

        numeric = eval_numerical_gradient_array(f_k, x, dout)
        assert grad.shape == x.shape
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol, err_msg=f"input {k}")


# ------------------------------------------------------------------------------------- batchnorm


@given(
    n=st.integers(3, 20),
    d=st.integers(1, 6),
    scale=st.sampled_from([0.5, 3.0]),
    shift=st.sampled_from([0.0, 12.0]),
    seed=SEEDS,
)
def test_batchnorm_train_normalises_each_feature(n, d, scale, shift, seed):
    rng = np.random.RandomState(seed)
    x = spread(rng, n, d, scale, shift)
    out, _ = layers.batchnorm_forward(x, np.ones(d), np.zeros(d), {"mode": "train"})
    var = x.var(axis=0)  # biased, like the layer's
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), np.sqrt(var / (var + EPS)), rtol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)

    gamma, beta = rng.randn(d), rng.randn(d)
    out, _ = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma) * np.sqrt(var / (var + EPS)))


def test_batchnorm_fills_in_defaults_and_respects_given_values():
    x = spread(np.random.RandomState(0), 8, 3, 2.0, 1.0)
    bn_param = {"mode": "train"}
    layers.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    assert bn_param["eps"] == 1e-5
    assert bn_param["momentum"] == 0.9
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-12)

    bn_param = {"mode": "train", "eps": 1.0, "momentum": 0.5}
    out, _ = layers.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    assert bn_param["eps"] == 1.0 and bn_param["momentum"] == 0.5
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1.0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.5 * x.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("momentum", [None, 0.5, 0.99])
def test_batchnorm_running_averages_follow_the_formula(momentum):
    rng = np.random.RandomState(1)
    d = 4
    bn_param = {"mode": "train"}
    if momentum is not None:
        bn_param["momentum"] = momentum
    m = 0.9 if momentum is None else momentum
    want_mean, want_var = np.zeros(d), np.zeros(d)
    for step in range(5):
        x = spread(rng, 10, d, scale=1 + step, shift=step - 2)
        layers.batchnorm_forward(x, rng.randn(d), rng.randn(d), bn_param)
        want_mean = m * want_mean + (1 - m) * x.mean(axis=0)
        want_var = m * want_var + (1 - m) * x.var(axis=0)
        np.testing.assert_allclose(bn_param["running_mean"], want_mean, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], want_var, rtol=1e-12)


def test_batchnorm_test_mode_uses_running_statistics():
    rng = np.random.RandomState(2)
    d = 5
    running_mean, running_var = rng.randn(d), rng.rand(d) + 0.5
    gamma, beta = rng.randn(d), rng.randn(d)
    bn_param = {
        "mode": "test",
        "running_mean": running_mean.copy(),
        "running_var": running_var.copy(),
    }
    x = rng.randn(3, d)
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    want = gamma * (x - running_mean) / np.sqrt(running_var + EPS) + beta
    np.testing.assert_allclose(out, want, rtol=1e-12)
    # Test mode leaves the statistics alone, and handles a single data point.
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)
    one, _ = layers.batchnorm_forward(x[:1], gamma, beta, bn_param)
    np.testing.assert_allclose(one, want[:1], rtol=1e-12)


def test_batchnorm_test_mode_after_training_approaches_population_statistics():
    rng = np.random.RandomState(3)
    d = 3
    bn_param = {"mode": "train"}
    for _ in range(200):
        layers.batchnorm_forward(4 * rng.randn(50, d) + 7, np.ones(d), np.zeros(d), bn_param)
    bn_param["mode"] = "test"
    out, _ = layers.batchnorm_forward(4 * rng.randn(2000, d) + 7, np.ones(d), np.zeros(d), bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=0.1)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=0.1)


@pytest.mark.parametrize("mode", ["eval", "TRAIN", None])
def test_batchnorm_rejects_invalid_mode(mode):
    bn_param = {} if mode is None else {"mode": mode}
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="mode"):
        layers.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    with pytest.raises(ValueError, match="mode"):
        layers.spatial_batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros(3), bn_param)


@given(n=st.integers(3, 6), d=st.integers(1, 5), seed=SEEDS)
def test_batchnorm_gradients(n, d, seed):
    rng = np.random.RandomState(seed)
    x = spread(rng, n, d, scale=2.0, shift=5.0)
    gamma, beta = rng.randn(d), rng.randn(d)
    dout = rng.randn(n, d)
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    graph = layers.batchnorm_backward(dout, cache)
    alt = layers.batchnorm_backward_alt(dout, cache)

    def f(x_, g_, b_):
        return layers.batchnorm_forward(x_, g_, b_, {"mode": "train"})[0]

    assert_grads(f, [x, gamma, beta], dout, graph)
    for a, b in zip(graph, alt, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_batchnorm_backward_alt_equals_backward_on_a_larger_batch():
    rng = np.random.RandomState(4)
    x = 5 * rng.randn(64, 40) + 12
    gamma, beta = rng.randn(40), rng.randn(40)
    dout = rng.randn(64, 40)
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    graph = layers.batchnorm_backward(dout, cache)
    alt = layers.batchnorm_backward_alt(dout, cache)
    for a, b in zip(graph, alt, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    # The gradient of x is orthogonal to constant shifts and to x_hat: normalisation removes both.
    dx = graph[0]
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-10)


# ------------------------------------------------------------------------------------- layernorm


@given(n=st.integers(1, 6), d=st.integers(3, 12), seed=SEEDS)
def test_layernorm_normalises_each_data_point(n, d, seed):
    rng = np.random.RandomState(seed)
    x = spread(rng, d, n, scale=3.0, shift=-4.0).T
    out, _ = layers.layernorm_forward(x, np.ones(d), np.zeros(d), {})
    var = x.var(axis=1)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=1), np.sqrt(var / (var + EPS)), rtol=1e-10)
    # Per data point, it is batch normalisation of the transposed data.
    bn_out, _ = layers.batchnorm_forward(x.T, np.ones(n), np.zeros(n), {"mode": "train"})
    np.testing.assert_allclose(out, bn_out.T, rtol=1e-10, atol=1e-12)

    gamma, beta = rng.randn(d), rng.randn(d)
    scaled, _ = layers.layernorm_forward(x, gamma, beta, {})
    np.testing.assert_allclose(scaled, gamma * out + beta, rtol=1e-12, atol=1e-12)


def test_layernorm_ignores_mode_and_uses_eps():
    rng = np.random.RandomState(5)
    x, gamma, beta = rng.randn(4, 6), rng.randn(6), rng.randn(6)
    train, _ = layers.layernorm_forward(x, gamma, beta, {"mode": "train"})
    test, _ = layers.layernorm_forward(x, gamma, beta, {"mode": "test"})
    plain, _ = layers.layernorm_forward(x, gamma, beta, {})
    np.testing.assert_array_equal(train, test)
    np.testing.assert_array_equal(train, plain)
    # A single data point works: no batch statistics are involved.
    one, _ = layers.layernorm_forward(x[:1], gamma, beta, {})
    np.testing.assert_allclose(one, plain[:1], rtol=1e-12)
    big_eps, _ = layers.layernorm_forward(x, np.ones(6), np.zeros(6), {"eps": 1.0})
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1.0)
    np.testing.assert_allclose(big_eps, want, rtol=1e-12)


@given(n=st.integers(1, 5), d=st.integers(3, 6), seed=SEEDS)
def test_layernorm_gradients(n, d, seed):
    rng = np.random.RandomState(seed)
    x = spread(rng, d, n, scale=2.0, shift=1.0).T
    gamma, beta = rng.randn(d), rng.randn(d)
    dout = rng.randn(n, d)
    _, cache = layers.layernorm_forward(x, gamma, beta, {})
    grads = layers.layernorm_backward(dout, cache)
    assert_grads(lambda *a: layers.layernorm_forward(*a, {})[0], [x, gamma, beta], dout, grads)


# ---------------------------------------------------------------------------- spatial batchnorm


@given(
    n=st.integers(2, 4),
    c=st.integers(1, 4),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    seed=SEEDS,
)
def test_spatial_batchnorm_normalises_each_channel(n, c, h, w, seed):
    rng = np.random.RandomState(seed)
    x = 3 * rng.randn(n, c, h, w) + rng.randn(1, c, 1, 1) * 5
    gamma, beta = rng.randn(c), rng.randn(c)
    bn_param = {"mode": "train"}
    out, _ = layers.spatial_batchnorm_forward(x, np.ones(c), np.zeros(c), bn_param)
    assert out.shape == x.shape
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), np.sqrt(var / (var + EPS)), rtol=1e-9)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * var)

    scaled, _ = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    want = gamma[None, :, None, None] * out + beta[None, :, None, None]
    np.testing.assert_allclose(scaled, want, rtol=1e-12, atol=1e-12)


def test_spatial_batchnorm_test_mode_uses_running_statistics():
    rng = np.random.RandomState(6)
    c = 3
    rm, rv = rng.randn(c), rng.rand(c) + 0.5
    gamma, beta = rng.randn(c), rng.randn(c)
    x = rng.randn(2, c, 3, 2)
    bn_param = {"mode": "test", "running_mean": rm, "running_var": rv}
    out, _ = layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    r = (slice(None), None, None)
    want = gamma[r] * (x - rm[r]) / np.sqrt(rv[r] + EPS) + beta[r]
    np.testing.assert_allclose(out, want, rtol=1e-12)


@given(
    n=st.integers(2, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 3),
    w=st.integers(1, 3),
    seed=SEEDS,
)
def test_spatial_batchnorm_gradients(n, c, h, w, seed):
    rng = np.random.RandomState(seed)
    x = 2 * rng.randn(n, c, h, w) + 3
    if x.var(axis=(0, 2, 3)).min() < 0.05:  # keep clear of degenerate channels
        x += np.arange(n * h * w).reshape(n, 1, h, w) % 3
    gamma, beta = rng.randn(c), rng.randn(c)
    dout = rng.randn(n, c, h, w)
    _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    grads = layers.spatial_batchnorm_backward(dout, cache)

    def f(x_, g_, b_):
        return layers.spatial_batchnorm_forward(x_, g_, b_, {"mode": "train"})[0]

    assert_grads(f, [x, gamma, beta], dout, grads)


# ------------------------------------------------------------------------------------ groupnorm


@st.composite
def channels_and_groups(draw, max_c=6):
    c = draw(st.integers(1, max_c))
    g = draw(st.sampled_from([k for k in range(1, c + 1) if c % k == 0]))
    return c, g


@given(
    n=st.integers(1, 3),
    cg=channels_and_groups(),
    h=st.integers(2, 4),
    w=st.integers(2, 4),
    seed=SEEDS,
)
def test_groupnorm_normalises_each_group_of_each_data_point(n, cg, h, w, seed):
    c, g = cg
    rng = np.random.RandomState(seed)
    x = 2 * rng.randn(n, c, h, w) + rng.randn(n, c, 1, 1) * 4
    ones, zeros = np.ones((1, c, 1, 1)), np.zeros((1, c, 1, 1))
    out, _ = layers.spatial_groupnorm_forward(x, ones, zeros, g, {})
    assert out.shape == x.shape
    groups = out.reshape(n, g, -1)
    var = x.reshape(n, g, -1).var(axis=2)
    np.testing.assert_allclose(groups.mean(axis=2), 0, atol=1e-10)
    np.testing.assert_allclose(groups.std(axis=2), np.sqrt(var / (var + EPS)), rtol=1e-9)

    gamma, beta = rng.randn(1, c, 1, 1), rng.randn(1, c, 1, 1)
    scaled, _ = layers.spatial_groupnorm_forward(x, gamma, beta, g, {})
    np.testing.assert_allclose(scaled, gamma * out + beta, rtol=1e-12, atol=1e-12)


def test_groupnorm_with_one_group_is_layernorm_of_the_flattened_maps():
    rng = np.random.RandomState(7)
    x = rng.randn(3, 4, 2, 3)
    out, _ = layers.spatial_groupnorm_forward(
        x, np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 1, {}
    )
    flat, _ = layers.layernorm_forward(x.reshape(3, -1), np.ones(24), np.zeros(24), {})
    np.testing.assert_allclose(out.reshape(3, -1), flat, rtol=1e-10, atol=1e-12)
    # Statistics are per data point: a data point's output does not depend on the others.
    alone, _ = layers.spatial_groupnorm_forward(
        x[1:2], np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 1, {}
    )
    np.testing.assert_allclose(alone, out[1:2], rtol=1e-12)


def test_groupnorm_uses_eps_and_rejects_groups_that_do_not_divide_c():
    rng = np.random.RandomState(8)
    x = rng.randn(2, 4, 2, 2)
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, _ = layers.spatial_groupnorm_forward(x, ones, zeros, 2, {"eps": 1.0})
    g = x.reshape(2, 2, -1)
    want = (g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1.0)
    np.testing.assert_allclose(out, want.reshape(x.shape), rtol=1e-12)
    with pytest.raises(ValueError, match="divide"):
        layers.spatial_groupnorm_forward(x, ones, zeros, 3, {})


@given(
    n=st.integers(1, 2),
    cg=channels_and_groups(max_c=4),
    h=st.integers(2, 3),
    w=st.integers(2, 3),
    seed=SEEDS,
)
def test_groupnorm_gradients(n, cg, h, w, seed):
    c, g = cg
    rng = np.random.RandomState(seed)
    x = 2 * rng.randn(n, c, h, w) + 1
    gamma, beta = rng.randn(1, c, 1, 1), rng.randn(1, c, 1, 1)
    dout = rng.randn(n, c, h, w)
    _, cache = layers.spatial_groupnorm_forward(x, gamma, beta, g, {})
    grads = layers.spatial_groupnorm_backward(dout, cache)
    assert grads[1].shape == (1, c, 1, 1) and grads[2].shape == (1, c, 1, 1)

    def f(x_, g_, b_):
        return layers.spatial_groupnorm_forward(x_, g_, b_, g, {})[0]

    assert_grads(f, [x, gamma, beta], dout, grads, atol=1e-6)
