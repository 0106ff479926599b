"""The fast conv / pool layers agree with the naive ones, with either im2col implementation."""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reference import fast_layers as fl
from reference import im2col as im2col_numpy
from reference.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

RTOL, ATOL = 1e-9, 1e-12

built = pytest.mark.skipif(fl.im2col_cython is None, reason="im2col_cython is not built")
KERNELS = [pytest.param("cython", marks=built), "numpy"]
CONV_PATHS = [
    (fl.conv_forward_fast, fl.conv_backward_fast),
    (fl.conv_forward_im2col, fl.conv_backward_im2col),
]
CONV_IDS = ["fast", "im2col"]


@contextlib.contextmanager
def kernels(name):
    """Run the fast layers on the Cython or the numpy kernels (a context manager, not a
    fixture, so that it can sit inside hypothesis tests)."""
    saved = fl.USE_CYTHON
    fl.USE_CYTHON = name == "cython"
    try:
        yield
    finally:
        fl.USE_CYTHON = saved


def implementations():
    """(im2col, col2im) pairs to test: numpy always, Cython where built."""
    pairs = [(im2col_numpy.im2col, im2col_numpy.col2im)]
    if fl.im2col_cython is not None:
        pairs.append((fl.im2col_cython, fl.col2im_cython))
    return pairs


@st.composite
def conv_cases(draw):
    """Small conv problems, any stride and pad for which the output has size >= 1."""
    N, C, F = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    assume(H + 2 * pad >= HH and W + 2 * pad >= WW)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, HH, WW))
    b = rng.standard_normal(F)
    return x, w, b, {"stride": stride, "pad": pad}, rng


@st.composite
def pool_cases(draw):
    """Pool problems; about half of them tile the input exactly with square windows."""
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    if draw(st.booleans()):
        size = draw(st.integers(1, 4))
        ph = pw = stride = size
        H, W = size * draw(st.integers(1, 4)), size * draw(st.integers(1, 4))
    else:
        ph, pw, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        H, W = draw(st.integers(1, 10)), draw(st.integers(1, 10))
        assume(H >= ph and W >= pw)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, H, W))
    return x, {"pool_height": ph, "pool_width": pw, "stride": stride}, rng


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(("forward", "backward"), CONV_PATHS, ids=CONV_IDS)
@given(case=conv_cases())
def test_conv_matches_naive(kernel, forward, backward, case):
    x, w, b, conv_param, rng = case
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out_naive.shape)
    grads_naive = conv_backward_naive(dout, cache_naive)
    with kernels(kernel):
        out, cache = forward(x, w, b, conv_param)
        grads = backward(dout, cache)
    assert out.shape == out_naive.shape
    np.testing.assert_allclose(out, out_naive, rtol=RTOL, atol=ATOL)
    for name, got, want in zip(("dx", "dw", "db"), grads, grads_naive, strict=True):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("kernel", KERNELS)
@given(case=pool_cases())
def test_max_pool_matches_naive(kernel, case):
    x, pool_param, rng = case
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out_naive.shape)
    dx_naive = max_pool_backward_naive(dout, cache_naive)
    with kernels(kernel):
        out, cache = fl.max_pool_forward_fast(x, pool_param)
        dx = fl.max_pool_backward_fast(dout, cache)
    np.testing.assert_array_equal(out, out_naive)
    np.testing.assert_allclose(dx, dx_naive, rtol=RTOL, atol=ATOL)


def test_pool_paths_are_both_exercised():
    """The 2x2 stride-2 pool takes the reshape path on even sizes and im2col on odd ones."""
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    x = np.zeros((1, 1, 4, 4))
    assert fl._tiles(x, 2, 2, 2)
    assert fl.max_pool_forward_fast(x, pool_param)[1][0][0] == "reshape"
    x = np.zeros((1, 1, 5, 4))
    assert not fl._tiles(x, 2, 2, 2)
    assert fl.max_pool_forward_fast(x, pool_param)[1][0][0] == "im2col"


@pytest.mark.parametrize("kernel", KERNELS)
def test_max_pool_ties_go_to_one_maximum_on_both_paths(kernel):
    """With many ties, each window sends its gradient to exactly one of its maxima, and the
    reshape path (even size) chooses the same one as the im2col path (one extra row/column)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, size=(2, 3, 6, 8)).astype(np.float64)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    x_odd = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=-1.0)
    with kernels(kernel):
        out, cache = fl.max_pool_forward_fast(x, pool_param)
        out_odd, cache_odd = fl.max_pool_forward_fast(x_odd, pool_param)
        dout = rng.standard_normal(out.shape) + 5  # nonzero everywhere
        dx = fl.max_pool_backward_fast(dout, cache)
        dx_odd = fl.max_pool_backward_fast(dout, cache_odd)
    assert cache[0][0] == "reshape" and cache_odd[0][0] == "im2col"
    np.testing.assert_array_equal(out, out_odd)
    np.testing.assert_array_equal(dx, dx_odd[:, :, :6, :8])
    assert not dx_odd[:, :, 6:, :].any() and not dx_odd[:, :, :, 8:].any()
    windows = dx.reshape(2, 3, 3, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 4, 4)
    x_windows = x.reshape(2, 3, 3, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 4, 4)
    assert ((windows != 0).sum(axis=-1) == 1).all()
    np.testing.assert_array_equal(windows.sum(axis=-1), dout)
    receiver = (windows != 0).argmax(axis=-1)
    np.testing.assert_array_equal(receiver, x_windows.argmax(axis=-1))  # the first maximum


@pytest.mark.parametrize("kernel", KERNELS)
def test_float32_is_preserved(kernel):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 8))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv_param = {"stride": 2, "pad": 1}
    out64, cache64 = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out64.shape)
    grads64 = conv_backward_naive(dout, cache64)
    x32, w32, b32, dout32 = (a.astype(np.float32) for a in (x, w, b, dout))
    with kernels(kernel):
        for forward, backward in CONV_PATHS:
            out, cache = forward(x32, w32, b32, conv_param)
            grads = backward(dout32, cache)
            assert out.dtype == np.float32
            np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-4)
            for got, want in zip(grads, grads64, strict=True):
                assert got.dtype == np.float32
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        for pool_param in (
            {"pool_height": 2, "pool_width": 2, "stride": 2},  # reshape path
            {"pool_height": 3, "pool_width": 2, "stride": 1},  # im2col path
        ):
            out, cache = fl.max_pool_forward_fast(x32, pool_param)
            dx = fl.max_pool_backward_fast(out.copy(), cache)
            assert out.dtype == np.float32 and dx.dtype == np.float32
            np.testing.assert_array_equal(out, max_pool_forward_naive(x32, pool_param)[0])


def test_mixed_dtypes_promote_like_naive():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, _ = fl.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})[0].dtype


def test_contract_figure():
    """CONTRACT section 3: the conv forward figures, reproduced by both fast paths."""
    x = np.linspace(-0.1, 0.5, 96).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, 144).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, 3)
    for forward, _ in CONV_PATHS:
        out, _ = forward(x, w, b, {"stride": 2, "pad": 1})
        expected_00 = [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]]
        expected_12 = [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]
        np.testing.assert_allclose(out[0, 0], expected_00, rtol=0, atol=1e-7)
        np.testing.assert_allclose(out[1, 2], expected_12, rtol=0, atol=1e-7)


@st.composite
def im2col_cases(draw):
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 3))
    assume(H + 2 * pad >= fh and W + 2 * pad >= fw)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (N, C, H, W), (fh, fw, pad, stride), dtype, rng


@given(case=im2col_cases())
def test_cython_kernels_match_numpy(case):
    if fl.im2col_cython is None:
        pytest.skip("im2col_cython is not built")
    shape, (fh, fw, pad, stride), dtype, rng = case
    x = rng.standard_normal(shape).astype(dtype)
    for batch_major in (True, False):
        cols_np = im2col_numpy.im2col(x, fh, fw, pad, stride, batch_major=batch_major)
        cols_cy = fl.im2col_cython(x, fh, fw, pad, stride, batch_major=batch_major)
        assert cols_cy.dtype == cols_np.dtype == dtype
        np.testing.assert_array_equal(cols_cy, cols_np)
        dcols = rng.standard_normal(cols_np.shape).astype(dtype)
        dx_np = im2col_numpy.col2im(dcols, *shape, fh, fw, pad, stride)
        dx_cy = fl.col2im_cython(dcols, *shape, fh, fw, pad, stride)
        assert dx_cy.dtype == dx_np.dtype == dtype
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(dx_cy, dx_np, rtol=tol, atol=tol)


@given(case=im2col_cases())
def test_im2col_layouts_and_adjointness(case):
    """Both layouts hold the same columns, and <col2im(a), b> == <a, im2col(b)>."""
    shape, (fh, fw, pad, stride), _, rng = case
    N, C, H, W = shape
    x = rng.standard_normal(shape)
    for im2col_k, col2im_k in implementations():
        batched = im2col_k(x, fh, fw, pad, stride, batch_major=True)
        flat = im2col_k(x, fh, fw, pad, stride, batch_major=False)
        K, P = batched.shape[1:]
        assert K == C * fh * fw
        np.testing.assert_array_equal(flat, batched.transpose(1, 0, 2).reshape(K, N * P))
        for cols in (batched, flat):
            a = rng.standard_normal(cols.shape)
            lhs = np.vdot(col2im_k(a, N, C, H, W, fh, fw, pad, stride), x)
            rhs = np.vdot(a, im2col_k(x, fh, fw, pad, stride, batch_major=cols is batched))
            np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("im2col_k", [p[0] for p in implementations()])
def test_im2col_out_buffer_is_filled_in_place(im2col_k):
    x = np.arange(2 * 2 * 4 * 5, dtype=np.float64).reshape(2, 2, 4, 5)
    expected = im2col_k(x, 3, 2, 1, 2)
    buf = np.full((2, expected.shape[1] + 1, expected.shape[2]), 7.0)
    result = im2col_k(x, 3, 2, 1, 2, out=buf[:, 1:])
    np.testing.assert_array_equal(buf[:, 1:], expected)
    assert (buf[:, 0] == 7.0).all() and np.shares_memory(result, buf)
    with pytest.raises(ValueError):
        im2col_k(x, 3, 2, 1, 2, out=np.empty((2, 3, 4)))


@pytest.mark.parametrize("im2col_k", [p[0] for p in implementations()])
def test_im2col_reads_padding_as_zeros(im2col_k):
    x = np.ones((1, 1, 2, 2))
    cols = im2col_k(x, 3, 3, 1, 1)  # one 3x3 window per pixel, 5 of 9 entries in the padding
    assert cols.shape == (1, 9, 4)
    np.testing.assert_array_equal(cols.sum(axis=1), [[4, 4, 4, 4]])


def test_fallback_warns_once_and_matches(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 7))
    w, b = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    conv_param = {"stride": 2, "pad": 1}
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    with kernels("numpy"):
        want_out, want_cache = fl.conv_forward_fast(x, w, b, conv_param)
        want_grads = fl.conv_backward_fast(want_out, want_cache)

    monkeypatch.setattr(fl, "im2col_cython", None)
    monkeypatch.setattr(fl, "col2im_cython", None)
    monkeypatch.setattr(fl, "_fallback_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            out, cache = fl.conv_forward_fast(x, w, b, conv_param)
            grads = fl.conv_backward_fast(out, cache)
            out_i, cache_i = fl.conv_forward_im2col(x, w, b, conv_param)
            fl.conv_backward_im2col(out_i, cache_i)
            pooled, pcache = fl.max_pool_forward_fast(x, pool_param)
            fl.max_pool_backward_fast(pooled, pcache)
    assert len(caught) == 1
    assert issubclass(caught[0].category, RuntimeWarning)
    message = str(caught[0].message)  # what works in a student's release: no setup.py there
    assert f"cythonize -i {fl.__package__}/im2col_cython.pyx" in message
    assert "pip install -e" not in message and "setup.py" not in message
    np.testing.assert_array_equal(out, want_out)
    for got, want in zip(grads, want_grads, strict=True):
        np.testing.assert_array_equal(got, want)


@built
def test_no_warning_when_built(monkeypatch):
    monkeypatch.setattr(fl, "_fallback_warned", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.ones((1, 1, 4, 4))
        fl.conv_forward_fast(x, np.ones((1, 1, 2, 2)), np.zeros(1), {"stride": 1, "pad": 0})


@pytest.mark.parametrize("forward", [fl.conv_forward_fast, fl.conv_forward_im2col])
def test_conv_rejects_what_naive_rejects(forward):
    x, b = np.ones((1, 2, 3, 3)), np.zeros(1)
    with pytest.raises(ValueError):
        forward(x, np.ones((1, 2, 5, 5)), b, {"stride": 1, "pad": 0})  # filter too large
    with pytest.raises(ValueError):
        forward(x, np.ones((1, 3, 2, 2)), b, {"stride": 1, "pad": 0})  # channel mismatch
    with pytest.raises(ValueError):
        forward(x, np.ones((1, 2, 2, 2)), b, {"stride": 0, "pad": 0})
    with pytest.raises(ValueError):
        fl.max_pool_forward_fast(x, {"pool_height": 4, "pool_width": 1, "stride": 1})
