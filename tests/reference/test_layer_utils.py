"""Sandwich layers of reference/layer_utils.py: forward equals the chained layers, gradients check.

Numeric gradients are taken in float64 on small inputs; the random data keep ReLU inputs and
pooling windows away from kinks and ties, so centred differences are accurate.
"""

import numpy as np
import pytest

from reference import layer_utils as lu
from reference import layers
from reference.gradient_check import eval_numerical_gradient_array, rel_error

TOL = 1e-7


def check_grads(forward, backward, inputs, seed=0):
    """Compare backward's gradients with numeric ones for every array in ``inputs``.

    ``forward(*inputs)`` returns (out, cache); ``backward(dout, cache)`` returns one gradient
    per input, in order.
    """
    rng = np.random.RandomState(seed)
    out, cache = forward(*inputs)
    dout = rng.randn(*out.shape)
    analytic = backward(dout, cache)
    assert len(analytic) == len(inputs)
    for i, (x, dx) in enumerate(zip(inputs, analytic, strict=True)):
        assert dx.shape == x.shape, i

        def f(_, i=i):
            return forward(*inputs)[0]

        numeric = eval_numerical_gradient_array(f, x, dout)
        # Gradients that vanish (a bias before batchnorm) make the relative error meaningless;
        # there the absolute difference must be tiny instead.
        err = rel_error(numeric, dx)
        gap = np.max(np.abs(numeric - dx))
        assert err < TOL or gap < 1e-9, f"input {i}: relative error {err:.2e}, gap {gap:.2e}"
    return analytic


def test_affine_relu_forward_matches_layers():
    rng = np.random.RandomState(0)
    x, w, b = rng.randn(4, 2, 3), rng.randn(6, 5), rng.randn(5)
    out, _ = lu.affine_relu_forward(x, w, b)
    expected = np.maximum(0, x.reshape(4, -1) @ w + b)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_affine_relu_gradients():
    rng = np.random.RandomState(1)
    x, w, b = rng.randn(4, 2, 3), rng.randn(6, 5), rng.randn(5)
    check_grads(lu.affine_relu_forward, lu.affine_relu_backward, [x, w, b])


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_affine_norm_relu_forward_matches_layers(normalization):
    rng = np.random.RandomState(2)
    x, w, b = rng.randn(6, 4), rng.randn(4, 5), rng.randn(5)
    gamma, beta = rng.randn(5), rng.randn(5)
    out, _ = lu.affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"}, normalization)
    a = x @ w + b
    axis = 0 if normalization == "batchnorm" else 1
    mean = a.mean(axis=axis, keepdims=True)
    var = a.var(axis=axis, keepdims=True)
    expected = np.maximum(0, gamma * (a - mean) / np.sqrt(var + 1e-5) + beta)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_affine_norm_relu_gradients(normalization):
    rng = np.random.RandomState(3)
    x, w, b = rng.randn(6, 4), rng.randn(4, 5), rng.randn(5)
    gamma, beta = rng.randn(5), rng.randn(5)
    bn_param = {"mode": "train"}

    def forward(x, w, b, gamma, beta):
        return lu.affine_norm_relu_forward(x, w, b, gamma, beta, bn_param, normalization)

    grads = check_grads(forward, lu.affine_norm_relu_backward, [x, w, b, gamma, beta])
    if normalization == "batchnorm":
        # The batch mean absorbs the bias, so its gradient is zero.
        np.testing.assert_allclose(grads[2], 0, atol=1e-10)


def test_affine_norm_relu_updates_batchnorm_running_averages():
    rng = np.random.RandomState(4)
    x, w, b = rng.randn(8, 3), rng.randn(3, 4), rng.randn(4)
    bn_param = {"mode": "train"}
    lu.affine_norm_relu_forward(x, w, b, np.ones(4), np.zeros(4), bn_param, "batchnorm")
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * (x @ w + b).mean(axis=0))


def test_affine_norm_relu_rejects_unknown_normalization():
    rng = np.random.RandomState(5)
    with pytest.raises(ValueError, match="batchnorm"):
        lu.affine_norm_relu_forward(
            rng.randn(2, 3), rng.randn(3, 4), np.zeros(4), np.ones(4), np.zeros(4), {}, "groupnorm"
        )


def conv_inputs(seed, N=2, C=3, H=6, W=6, F=4, fs=3):
    rng = np.random.RandomState(seed)
    return rng.randn(N, C, H, W), rng.randn(F, C, fs, fs), rng.randn(F)


def test_conv_relu_forward_matches_naive_layers():
    x, w, b = conv_inputs(6)
    conv_param = {"stride": 1, "pad": 1}
    out, _ = lu.conv_relu_forward(x, w, b, conv_param)
    expected = np.maximum(0, layers.conv_forward_naive(x, w, b, conv_param)[0])
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_conv_relu_gradients():
    x, w, b = conv_inputs(7, H=5, W=5)
    conv_param = {"stride": 1, "pad": 1}

    def forward(x, w, b):
        return lu.conv_relu_forward(x, w, b, conv_param)

    check_grads(forward, lu.conv_relu_backward, [x, w, b])


def test_conv_relu_pool_forward_matches_naive_layers():
    x, w, b = conv_inputs(8)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = lu.conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    relu = np.maximum(0, layers.conv_forward_naive(x, w, b, conv_param)[0])
    expected = layers.max_pool_forward_naive(relu, pool_param)[0]
    assert out.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_conv_relu_pool_gradients():
    x, w, b = conv_inputs(9)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    def forward(x, w, b):
        return lu.conv_relu_pool_forward(x, w, b, conv_param, pool_param)

    check_grads(forward, lu.conv_relu_pool_backward, [x, w, b])


def test_conv_bn_relu_forward_matches_layers():
    x, w, b = conv_inputs(10)
    rng = np.random.RandomState(10)
    gamma, beta = rng.randn(4), rng.randn(4)
    conv_param = {"stride": 1, "pad": 1}
    out, _ = lu.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, {"mode": "train"})
    a = layers.conv_forward_naive(x, w, b, conv_param)[0]
    mean = a.mean(axis=(0, 2, 3), keepdims=True)
    var = a.var(axis=(0, 2, 3), keepdims=True)
    g, bt = gamma.reshape(1, -1, 1, 1), beta.reshape(1, -1, 1, 1)
    expected = np.maximum(0, g * (a - mean) / np.sqrt(var + 1e-5) + bt)
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-11)


def test_conv_bn_relu_gradients():
    x, w, b = conv_inputs(11, H=4, W=4)
    rng = np.random.RandomState(11)
    gamma, beta = rng.randn(4), rng.randn(4)
    conv_param = {"stride": 1, "pad": 1}
    bn_param = {"mode": "train"}

    def forward(x, w, b, gamma, beta):
        return lu.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)

    grads = check_grads(forward, lu.conv_bn_relu_backward, [x, w, b, gamma, beta])
    np.testing.assert_allclose(grads[2], 0, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sandwiches_keep_float_dtype(dtype):
    x, w, b = (a.astype(dtype) for a in conv_inputs(12))
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = lu.conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    assert out.dtype == dtype
    dx, dw, db = lu.conv_relu_pool_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype

    w_fc = np.random.RandomState(13).randn(3 * 6 * 6, 4).astype(dtype)
    out, cache = lu.affine_relu_forward(x, w_fc, b)
    assert out.dtype == dtype
    dx, dw, db = lu.affine_relu_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == dtype
