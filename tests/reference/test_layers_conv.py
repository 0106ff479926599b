"""Tests of the naive convolution and max-pooling layers of reference/layers.py.

Forward passes are compared with an independent computation built on numpy's sliding windows;
backward passes with centred differences. Shapes stay tiny: the layers are explicit loops.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from reference import layers
from reference.gradient_check import eval_numerical_gradient_array

SEEDS = st.integers(0, 2**31 - 1)


def assert_grad(f, x, dout, analytic, rtol=1e-6, atol=1e-8):
    numeric = eval_numerical_gradient_array(f, x, dout)
    assert analytic.shape == x.shape
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


def conv_oracle(x, w, b, stride, pad):
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    hh, ww = w.shape[2:]
    windows = sliding_window_view(x_pad, (hh, ww), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]


def pool_oracle(x, ph, pw, stride):
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))


@st.composite
def conv_cases(draw):
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    hh, ww = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, hh - 2 * pad), 5))
    w = draw(st.integers(max(1, ww - 2 * pad), 5))
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (n, c, h, w), (f, c, hh, ww), stride, pad


# ------------------------------------------------------------------------------------------ conv


def test_conv_forward_naive_contract_figure():
    x = np.linspace(-0.1, 0.5, 96).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, 144).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, 3)
    out, _ = layers.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(
        out[0, 0], [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]], rtol=0, atol=1e-7
    )
    np.testing.assert_allclose(
        out[1, 2], [[2.36270298, 2.36904306], [2.38090835, 2.38247847]], rtol=0, atol=1e-7
    )


@given(case=conv_cases(), seed=SEEDS)
@example(case=((1, 1, 5, 5), (1, 1, 3, 3), 2, 0), seed=0)  # windows tile the input
@example(case=((1, 2, 4, 5), (2, 2, 2, 3), 3, 1), seed=1)  # leftover rows and columns
def test_conv_forward_naive_matches_sliding_windows(case, seed):
    x_shape, w_shape, stride, pad = case
    rng = np.random.RandomState(seed)
    x, w, b = rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(w_shape[0])
    out, cache = layers.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    h_out = 1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride
    w_out = 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    assert out.shape == (x_shape[0], w_shape[0], h_out, w_out)
    np.testing.assert_allclose(out, conv_oracle(x, w, b, stride, pad), rtol=1e-12, atol=1e-12)


@given(case=conv_cases(), seed=SEEDS)
@example(case=((2, 2, 5, 5), (2, 2, 3, 3), 1, 1), seed=2)  # "same" convolution
@example(case=((1, 2, 5, 4), (2, 2, 2, 2), 3, 2), seed=3)  # stride 3, pad 2, windows skip pixels
def test_conv_backward_naive_gradients(case, seed):
    x_shape, w_shape, stride, pad = case
    rng = np.random.RandomState(seed)
    x, w, b = rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out, cache = layers.conv_forward_naive(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    dx, dw, db = layers.conv_backward_naive(dout, cache)
    assert_grad(lambda x_: layers.conv_forward_naive(x_, w, b, conv_param)[0], x, dout, dx)
    assert_grad(lambda w_: layers.conv_forward_naive(x, w_, b, conv_param)[0], w, dout, dw)
    assert_grad(lambda b_: layers.conv_forward_naive(x, w, b_, conv_param)[0], b, dout, db)


def test_conv_with_one_by_one_filter_is_a_per_pixel_affine_map():
    rng = np.random.RandomState(4)
    x, w, b = rng.randn(2, 3, 4, 4), rng.randn(5, 3, 1, 1), rng.randn(5)
    out, _ = layers.conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    want = np.einsum("nchw,fc->nfhw", x, w[:, :, 0, 0]) + b[None, :, None, None]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    # Padding adds a border where only the bias remains.
    padded, _ = layers.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    np.testing.assert_allclose(padded[:, :, 0, :], np.broadcast_to(b[None, :, None], (2, 5, 6)))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "conv_param"),
    [
        ((1, 1, 2, 2), (1, 1, 3, 3), {"stride": 1, "pad": 0}),  # filter larger than input
        ((1, 1, 4, 1), (1, 1, 2, 4), {"stride": 2, "pad": 1}),  # too wide even padded
        ((1, 2, 4, 4), (1, 3, 3, 3), {"stride": 1, "pad": 1}),  # channel mismatch
        ((1, 1, 4, 4), (1, 1, 3, 3), {"stride": 0, "pad": 1}),  # zero stride
    ],
)
def test_conv_forward_naive_rejects_geometry_that_does_not_fit(x_shape, w_shape, conv_param):
    with pytest.raises(ValueError):
        layers.conv_forward_naive(np.ones(x_shape), np.ones(w_shape), np.zeros(1), conv_param)


# ------------------------------------------------------------------------------------- max pool


@st.composite
def pool_cases(draw):
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    h, w = draw(st.integers(ph, 7)), draw(st.integers(pw, 7))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, h, w), ph, pw, stride


def distinct_values(rng, shape):
    """Inputs with no ties and gaps of 0.1 between values, far more than the step h=1e-5."""
    return 0.1 * rng.permutation(int(np.prod(shape))).reshape(shape) - 3.0


@given(case=pool_cases(), seed=SEEDS)
@example(case=((2, 3, 4, 4), 2, 2, 2), seed=0)  # tiles the input
@example(case=((1, 2, 5, 7), 2, 3, 2), seed=1)  # leaves the last row and column out
@example(case=((1, 1, 5, 5), 3, 3, 1), seed=2)  # overlapping windows
def test_max_pool_naive_forward_and_gradient(case, seed):
    x_shape, ph, pw, stride = case
    rng = np.random.RandomState(seed)
    x = distinct_values(rng, x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = layers.max_pool_forward_naive(x, pool_param)
    h_out = 1 + (x_shape[2] - ph) // stride
    w_out = 1 + (x_shape[3] - pw) // stride
    assert out.shape == (*x_shape[:2], h_out, w_out)
    np.testing.assert_array_equal(out, pool_oracle(x, ph, pw, stride))

    dout = rng.randn(*out.shape)
    dx = layers.max_pool_backward_naive(dout, cache)
    assert_grad(lambda x_: layers.max_pool_forward_naive(x_, pool_param)[0], x, dout, dx)


@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 1)])
def test_max_pool_backward_with_ties_sends_each_gradient_to_a_maximum(size, stride):
    """Whichever tied maximum gets a window's gradient, the gradient is conserved and lands on
    maxima only."""
    rng = np.random.RandomState(5)
    x = rng.randint(0, 2, size=(2, 2, 6, 6)).astype(float)  # many ties, some all-equal windows
    pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
    out, cache = layers.max_pool_forward_naive(x, pool_param)
    dout = rng.rand(*out.shape) + 0.5
    dx = layers.max_pool_backward_naive(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-12)

    # Every position receiving gradient is the maximum of a window containing it.
    is_window_max = np.zeros(x.shape, dtype=bool)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            hs, ws = i * stride, j * stride
            window = x[:, :, hs : hs + size, ws : ws + size]
            is_window_max[:, :, hs : hs + size, ws : ws + size] |= (
                window == out[:, :, i : i + 1, j : j + 1]
            )
    assert np.all(is_window_max[dx != 0])
    if stride == size:  # windows tile: each window's own gradient sum equals its dout
        blocks = dx.reshape(2, 2, 6 // size, size, 6 // size, size).sum(axis=(3, 5))
        np.testing.assert_allclose(blocks, dout, rtol=1e-12)


@pytest.mark.parametrize(
    "pool_param",
    [
        {"pool_height": 5, "pool_width": 2, "stride": 1},
        {"pool_height": 2, "pool_width": 5, "stride": 2},
        {"pool_height": 2, "pool_width": 2, "stride": 0},
    ],
)
def test_max_pool_naive_rejects_windows_that_do_not_fit(pool_param):
    with pytest.raises(ValueError):
        layers.max_pool_forward_naive(np.ones((1, 1, 4, 4)), pool_param)
