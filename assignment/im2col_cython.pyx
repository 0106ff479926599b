# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Cython im2col / col2im kernels behind the fast convolution and pooling layers.

Same functions, arguments and column layouts as the numpy fallback in ``im2col.py`` (read its
docstring for the layouts); only the speed differs. Zero padding is handled inside the loops,
so no padded copy of the input is ever made, and col2im accumulates straight into the result.
"""

import numpy as np

from cython cimport floating
from libc.string cimport memcpy, memset


cdef extern from *:
    """
    /* A strided gather the compiler must not auto-vectorize: with the baseline SSE2 target,
       GCC packs strided float loads into vectors one lane at a time, which is slower than the
       plain scalar loop (about 1.5x slower for float32 at stride 2). */
    #if defined(__GNUC__) && !defined(__clang__)
    #define NNGRADE_NOVEC __attribute__((optimize("no-tree-vectorize")))
    #else
    #define NNGRADE_NOVEC
    #endif
    static NNGRADE_NOVEC void nngrade_gather_f(float *dst, const float *src, Py_ssize_t n,
                                               Py_ssize_t stride) {
        for (Py_ssize_t k = 0; k < n; k++) dst[k] = src[k * stride];
    }
    static NNGRADE_NOVEC void nngrade_gather_d(double *dst, const double *src, Py_ssize_t n,
                                               Py_ssize_t stride) {
        for (Py_ssize_t k = 0; k < n; k++) dst[k] = src[k * stride];
    }
    """
    void nngrade_gather_f(float *dst, const float *src, Py_ssize_t n, Py_ssize_t stride) nogil
    void nngrade_gather_d(double *dst, const double *src, Py_ssize_t n, Py_ssize_t stride) nogil


cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest output index o >= 0 whose input position o * stride + offset is >= 0."""
    if offset >= 0:
        return 0
    return (stride - 1 - offset) // stride


cdef inline Py_ssize_t _end_inside(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                                   Py_ssize_t n_out) noexcept nogil:
    """One past the largest output index o < n_out whose input position is < size."""
    cdef Py_ssize_t last = size - 1 - offset
    if last < 0:
        return 0
    last = last // stride + 1
    return last if last < n_out else n_out


cdef inline void _gather(floating *dst, const floating *src, Py_ssize_t n,
                         Py_ssize_t stride) noexcept nogil:
    if stride == 1:
        memcpy(dst, src, n * sizeof(floating))
    elif floating is float:
        nngrade_gather_f(dst, src, n, stride)
    else:
        nngrade_gather_d(dst, src, n, stride)


def _check(Py_ssize_t H, Py_ssize_t W, int field_height, int field_width, int padding,
           int stride):
    if field_height < 1 or field_width < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"need positive field sizes and stride and padding >= 0, got "
            f"{field_height}x{field_width}, stride={stride}, padding={padding}"
        )
    out_h = (H + 2 * padding - field_height) // stride + 1
    out_w = (W + 2 * padding - field_width) // stride + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"a {field_height}x{field_width} field does not fit a {H}x{W} input padded by "
            f"{padding}"
        )
    return out_h, out_w


# The column arrays are typed as strided in every axis, so one kernel serves both layouts (the
# flat one is passed as an (N, K, P) view of its (K, N, P) buffer), but the loops walk each
# row of P = H' * W' values by pointer: the wrappers below guarantee that axis is contiguous.
cdef void _im2col_kernel(const floating[:, :, :, ::1] x, floating[:, :, :] cols,
                         Py_ssize_t fh, Py_ssize_t fw, Py_ssize_t pad, Py_ssize_t stride,
                         Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t n, c, i, j, y, r, k, lo, hi
    cdef floating *dst
    cdef const floating *src
    for n in range(N):
        for c in range(C):
            for i in range(fh):
                for j in range(fw):
                    k = (c * fh + i) * fw + j
                    # Output columns [lo, hi) read inside the input; the rest read padding.
                    lo = _first_inside(j - pad, stride)
                    hi = _end_inside(j - pad, stride, W, out_w)
                    if hi < lo:
                        hi = lo
                    dst = &cols[n, k, 0]
                    for y in range(out_h):
                        r = y * stride + i - pad
                        if r < 0 or r >= H:
                            memset(dst, 0, out_w * sizeof(floating))
                        else:
                            if lo > 0:
                                memset(dst, 0, lo * sizeof(floating))
                            if hi > lo:
                                src = &x[n, c, r, 0] + (lo * stride + j - pad)
                                _gather(dst + lo, src, hi - lo, stride)
                            if hi < out_w:
                                memset(dst + hi, 0, (out_w - hi) * sizeof(floating))
                        dst += out_w


cdef void _col2im_kernel(const floating[:, :, :] cols, floating[:, :, :, ::1] dx,
                         Py_ssize_t fh, Py_ssize_t fw, Py_ssize_t pad, Py_ssize_t stride,
                         Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t n, c, i, j, y, r, k, o, lo, hi
    cdef floating *dst
    cdef const floating *src
    for n in range(N):
        for c in range(C):
            for i in range(fh):
                for j in range(fw):
                    k = (c * fh + i) * fw + j
                    lo = _first_inside(j - pad, stride)
                    hi = _end_inside(j - pad, stride, W, out_w)
                    src = &cols[n, k, 0]
                    for y in range(out_h):
                        r = y * stride + i - pad
                        if 0 <= r < H:
                            dst = &dx[n, c, r, 0] + (j - pad)
                            if stride == 1:
                                for o in range(lo, hi):
                                    dst[o] += src[o]
                            else:
                                for o in range(lo, hi):
                                    dst[o * stride] += src[o]
                        src += out_w


def im2col_cython(x, int field_height, int field_width, int padding, int stride,
                  bint batch_major=True, out=None):
    """Unfold every receptive field of ``x`` (N, C, H, W) into a column.

    Returns (N, C*fh*fw, H'*W') when ``batch_major`` (one column matrix per image), else the
    classic single matrix (C*fh*fw, N*H'*W'). float32 stays float32; anything else but
    float64 is converted to float64. A batch-major result can be written into ``out``, an
    array of that shape and dtype whose last axis is contiguous (a slice of a larger buffer).
    """
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    out_h, out_w = _check(H, W, field_height, field_width, padding, stride)
    K, P = C * field_height * field_width, out_h * out_w
    if out is not None:
        if not batch_major:
            raise ValueError("out is only supported for the batch-major layout")
        _check_out(out, (N, K, P), x.dtype)
        cols = view = out
    elif batch_major:
        cols = view = np.empty((N, K, P), dtype=x.dtype)
    else:
        cols = np.empty((K, N, P), dtype=x.dtype)
        view = cols.transpose(1, 0, 2)
    if x.dtype == np.float32:
        _im2col_kernel[float](x, view, field_height, field_width, padding, stride, out_h, out_w)
    else:
        _im2col_kernel[double](x, view, field_height, field_width, padding, stride, out_h, out_w)
    return cols if batch_major else cols.reshape(K, N * P)


def _check_out(out, shape, dtype):
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype:
        raise ValueError(f"out must be a {np.dtype(dtype).name} array of shape {shape}")
    if out.strides[2] != out.itemsize or not out.flags.writeable:
        raise ValueError("out must be writeable, with a contiguous last axis")


def col2im_cython(cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                  int field_height, int field_width, int padding, int stride):
    """Adjoint of ``im2col_cython``: add every column back onto the input positions it came from.

    ``cols`` may be in either layout (told apart by its number of dimensions). Returns an array
    of shape (N, C, H, W) in the dtype of ``cols`` (float32 or float64).
    """
    cols = np.asarray(cols)
    if cols.dtype != np.float32:
        cols = cols.astype(np.float64, copy=False)
    out_h, out_w = _check(H, W, field_height, field_width, padding, stride)
    K, P = C * field_height * field_width, out_h * out_w
    if cols.ndim == 2:
        if cols.shape != (K, N * P):
            raise ValueError(f"cols has shape {cols.shape}, expected {(K, N * P)}")
        view = cols.reshape(K, N, P).transpose(1, 0, 2)
    else:
        if cols.shape != (N, K, P):
            raise ValueError(f"cols has shape {cols.shape}, expected {(N, K, P)}")
        view = cols
    if view.strides[2] != view.itemsize:
        view = np.ascontiguousarray(view)
    dx = np.zeros((N, C, H, W), dtype=cols.dtype)
    if cols.dtype == np.float32:
        _col2im_kernel[float](view, dx, field_height, field_width, padding, stride, out_h, out_w)
    else:
        _col2im_kernel[double](view, dx, field_height, field_width, padding, stride, out_h, out_w)
    return dx
