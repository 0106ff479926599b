"""Fast convolution and max-pooling layers, with the API of the naive ones in ``layers.py``.

Convolutions are turned into matrix products (im2col), so BLAS does the heavy lifting. The
im2col / col2im kernels come from the Cython extension ``im2col_cython`` when it is built (by
the grader's ``pip install``, or ``cythonize -i`` on the ``.pyx``); otherwise the pure-numpy
versions in ``im2col.py`` are used, with one warning per process. Results are the same either
way, only slower.

Caches are opaque: pass them back unchanged to the matching backward function.

Dtypes follow the naive layers (``np.result_type`` of the inputs; pooling keeps ``x``'s dtype)
where that is float32 or float64, and float32 is computed in float32. Conv layers compute and
return any other dtype in float64.
"""

import warnings
from functools import reduce

import numpy as np

from .im2col import col2im, conv_output_shape, im2col

try:
    from .im2col_cython import col2im_cython, im2col_cython
except ImportError:  # not built: the numpy kernels stand in
    col2im_cython = im2col_cython = None

#: Set to False to use the numpy kernels even where the extension is built (no warning then).
USE_CYTHON = True

_fallback_warned = False


def _kernels():
    """The (im2col, col2im) pair to use: the Cython one when possible, else numpy."""
    global _fallback_warned
    if im2col_cython is not None and col2im_cython is not None:
        if USE_CYTHON:
            return im2col_cython, col2im_cython
        return im2col, col2im
    if not _fallback_warned:
        _fallback_warned = True
        warnings.warn(
            f"The Cython extension {__package__}.im2col_cython is not built, so the fast layers "
            "use the pure-numpy im2col: same results, only slower. To build it (optional; "
            "needs Cython and a C compiler), run `pip install cython` and then `cythonize -i "
            f"{__package__.replace('.', '/')}/im2col_cython.pyx` from the folder holding "
            f"{__package__.split('.')[0]}/.",
            RuntimeWarning,
            stacklevel=3,
        )
    return im2col, col2im


def _work_dtype(*arrays):
    """The dtype the naive layers would return, widened to float64 unless it is float32."""
    dtype = np.result_type(*arrays)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _conv_prepare(x, w, b, conv_param):
    """Validate the arguments as the naive layer does; return them in the working dtype."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    dtype = _work_dtype(x, w, b)
    x, w, b = (np.ascontiguousarray(a, dtype=dtype) for a in (x, w, b))
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"filters have {Cw} channels but the input has {C}")
    if b.shape != (F,):
        raise ValueError(f"b has shape {b.shape}, expected {(F,)}")
    stride, pad = conv_param["stride"], conv_param["pad"]
    out_h, out_w = conv_output_shape(H, W, HH, WW, pad, stride)
    return x, w, b, stride, pad, out_h, out_w


def conv_forward_fast(x, w, b, conv_param):
    """Fast convolution forward pass: im2col, then one small matrix product per image.

    The columns are kept batch-major (N, K, H'*W'), so the batched product (F, K) @ (K, H'*W')
    lands directly in the (N, F, H', W') output layout with no transpose. Each column matrix
    gets an extra row of ones and ``w`` an extra column holding ``b``, so the bias is added by
    the same product (cheaper than a separate pass over the output), and in the backward pass
    ``db`` falls out of the ``dw`` product.

    Inputs and outputs as ``conv_forward_naive``: returns ``(out, cache)``.
    """
    x, w, b, stride, pad, out_h, out_w = _conv_prepare(x, w, b, conv_param)
    N = x.shape[0]
    F, C, HH, WW = w.shape
    K = C * HH * WW
    im2col_k, _ = _kernels()
    cols = np.empty((N, K + 1, out_h * out_w), dtype=x.dtype)
    cols[:, K] = 1
    im2col_k(x, HH, WW, pad, stride, batch_major=True, out=cols[:, :K])
    w_aug = np.concatenate([w.reshape(F, K), b[:, None]], axis=1)
    out = np.matmul(w_aug, cols).reshape(N, F, out_h, out_w)
    cache = ("batched", x, w, b, conv_param, cols)
    return out, cache


def conv_backward_fast(dout, cache):
    """Backward pass for ``conv_forward_fast``; returns ``(dx, dw, db)`` as the naive layer."""
    return _conv_backward(dout, cache)


def conv_forward_im2col(x, w, b, conv_param):
    """Convolution forward pass as the textbook im2col: one large matrix product.

    All columns form one (K, N*H'*W') matrix, so ``w`` multiplies it in a single BLAS call;
    the (F, N, ...) result is then transposed to (N, F, ...).

    Inputs and outputs as ``conv_forward_naive``: returns ``(out, cache)``.
    """
    x, w, b, stride, pad, out_h, out_w = _conv_prepare(x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    im2col_k, _ = _kernels()
    cols = im2col_k(x, HH, WW, pad, stride, batch_major=False)
    res = (w.reshape(F, -1) @ cols).reshape(F, N, out_h, out_w)
    out = np.empty((N, F, out_h, out_w), dtype=x.dtype)
    np.add(res.transpose(1, 0, 2, 3), b[:, None, None], out=out)
    cache = ("flat", x, w, b, conv_param, cols)
    return out, cache


def conv_backward_im2col(dout, cache):
    """Backward pass for ``conv_forward_im2col``; returns ``(dx, dw, db)`` as the naive layer."""
    return _conv_backward(dout, cache)


def _conv_backward(dout, cache):
    """Shared backward of both conv paths; the cache says which column layout was used."""
    layout, x, w, _, conv_param, cols = cache
    dtype = _work_dtype(x, w, dout)
    dout = np.ascontiguousarray(dout, dtype=dtype)
    w2 = w.reshape(w.shape[0], -1).astype(dtype, copy=False)
    cols = cols.astype(dtype, copy=False)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, col2im_k = _kernels()

    if layout == "batched":
        d3 = dout.reshape(N, F, -1)
        # Sum over images of dout_n @ cols_n.T (the (N, F, K + 1) intermediate is small); the
        # last column pairs dout with the row of ones, which is db.
        dw_aug = np.matmul(d3, cols.transpose(0, 2, 1)).sum(axis=0)
        dw, db = dw_aug[:, :-1], dw_aug[:, -1].copy()
        dcols = np.matmul(w2.T, d3)
    else:
        d2 = dout.transpose(1, 0, 2, 3).reshape(F, -1)
        dw = d2 @ cols.T
        db = d2.sum(axis=1)
        dcols = w2.T @ d2
    dx = col2im_k(dcols, N, C, H, W, HH, WW, pad, stride)
    return dx, dw.reshape(w.shape), db


def _pool_prepare(x, pool_param):
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    out_h, out_w = conv_output_shape(*x.shape[2:], ph, pw, 0, stride)
    return ph, pw, stride, out_h, out_w


def _tiles(x, ph, pw, stride):
    """Whether square, non-overlapping windows cover ``x`` exactly (the reshape path)."""
    H, W = x.shape[2:]
    return ph == pw == stride and H % ph == 0 and W % pw == 0


def max_pool_forward_fast(x, pool_param):
    """Fast max-pooling forward pass, with the API of ``max_pool_forward_naive``.

    Where the windows are square and tile the input (as for the usual 2x2, stride-2 pool), the
    input is viewed as (N, C, H', ph, W', pw) and reduced in place; otherwise im2col makes
    every window a column. Ties go to the first maximum in row-major window order, as
    ``np.argmax`` does.
    """
    x = np.asarray(x)
    ph, pw, stride, out_h, out_w = _pool_prepare(x, pool_param)
    if _tiles(x, ph, pw, stride):
        out, cache = _pool_forward_reshape(x, ph, pw)
    else:
        out, cache = _pool_forward_im2col(x, ph, pw, stride, out_h, out_w)
    return out.astype(x.dtype, copy=False), (cache, pool_param)


def max_pool_backward_fast(dout, cache):
    """Backward pass for ``max_pool_forward_fast``: each window's gradient goes to its maximum."""
    cache, _ = cache
    if cache[0] == "reshape":
        return _pool_backward_reshape(dout, cache)
    return _pool_backward_im2col(dout, cache)


def _window_views(a, ph, pw):
    """Views a[:, :, :, i, :, j] of a (N, C, H/ph, ph, W/pw, pw) array, in row-major order."""
    return [a[:, :, :, i, :, j] for i in range(ph) for j in range(pw)]


def _max_of(views):
    """Elementwise maximum of equally shaped views, without reducing over a short axis.

    ``np.max`` over the short, strided window axes is an order of magnitude slower than this
    chain of elementwise maxima.
    """
    return reduce(lambda acc, v: np.maximum(acc, v, out=acc), views[1:], views[0].copy())


def _route_to_first_max(x_views, out, dout, dx_views):
    """Write into ``dx_views`` the gradient of a max over ``x_views`` (one view per window slot).

    Slots are visited in row-major window order; a slot equal to the maximum takes the
    gradient unless an earlier one already did, so ties go to the first maximum, as
    ``np.argmax`` (and the naive layer) would choose.
    """
    taken = None
    for k, (xv, dv) in enumerate(zip(x_views, dx_views, strict=True)):
        hit = xv == out
        if taken is not None:
            hit &= ~taken
        np.multiply(hit, dout, out=dv)
        if k < len(x_views) - 1:
            taken = hit if taken is None else taken | hit


def _pool_forward_reshape(x, ph, pw):
    N, C, H, W = x.shape
    out = _max_of(_window_views(x.reshape(N, C, H // ph, ph, W // pw, pw), ph, pw))
    return out, ("reshape", x, out)


def _pool_backward_reshape(dout, cache):
    _, x, out = cache
    N, C, H, W = x.shape
    ph, pw = H // out.shape[2], W // out.shape[3]
    dx = np.empty(x.shape, dtype=np.result_type(x, dout))
    shape6 = (N, C, H // ph, ph, W // pw, pw)
    _route_to_first_max(
        _window_views(x.reshape(shape6), ph, pw),
        out,
        dout,
        _window_views(dx.reshape(shape6), ph, pw),
    )
    return dx


def _pool_forward_im2col(x, ph, pw, stride, out_h, out_w):
    N, C, H, W = x.shape
    im2col_k, _ = _kernels()
    # Pooling acts on each channel alone: treat every (image, channel) as a 1-channel image,
    # so that the columns are (N*C, ph*pw, H'*W') and each window slot is one 2-D slice.
    cols = im2col_k(x.reshape(N * C, 1, H, W), ph, pw, 0, stride, batch_major=True)
    out = _max_of([cols[:, k] for k in range(ph * pw)])
    cache = ("im2col", x.shape, x.dtype, cols, out, ph, pw, stride)
    return out.reshape(N, C, out_h, out_w), cache


def _pool_backward_im2col(dout, cache):
    _, (N, C, H, W), x_dtype, cols, out, ph, pw, stride = cache
    _, col2im_k = _kernels()
    dtype = _work_dtype(np.empty(0, x_dtype), dout)
    d2 = np.asarray(dout, dtype=dtype).reshape(out.shape)
    dcols = np.empty(cols.shape, dtype=dtype)
    K = ph * pw
    _route_to_first_max([cols[:, k] for k in range(K)], out, d2, [dcols[:, k] for k in range(K)])
    dx = col2im_k(dcols, N * C, 1, H, W, ph, pw, 0, stride).reshape(N, C, H, W)
    return dx.astype(np.result_type(x_dtype, dout), copy=False)
