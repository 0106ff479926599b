"""Pure-numpy im2col / col2im, the fallback for the Cython kernels in ``im2col_cython.pyx``.

im2col turns a convolution into a matrix product: every receptive field of the zero-padded
input becomes one column, so convolving with F filters is one (F, K) @ (K, columns) product,
where K = C * field_height * field_width. Rows are ordered (channel, filter row, filter column),
the order of ``w.reshape(F, -1)``.

Two layouts of the same numbers are offered:

- batch-major (the default): shape (N, K, H' * W'), one column matrix per image, columns in
  raster order of the output (y, x). A batched matmul then yields (N, F, H' * W') directly in
  the NCHW order of the output.
- flat (``batch_major=False``): the classic single matrix (K, N * H' * W'), columns ordered
  (image, y, x), for one large matrix product.

Both implementations expose the same functions and arguments; ``fast_layers`` picks one.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv_output_shape(H, W, field_height, field_width, padding, stride):
    """Output height and width of a sliding window, with a ValueError where none fits."""
    if field_height < 1 or field_width < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"need positive field sizes and stride and padding >= 0, got "
            f"{field_height}x{field_width}, stride={stride}, padding={padding}"
        )
    out_h = (H + 2 * padding - field_height) // stride + 1
    out_w = (W + 2 * padding - field_width) // stride + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"a {field_height}x{field_width} field does not fit a {H}x{W} input padded by {padding}"
        )
    return out_h, out_w


def _float(a):
    """float32 stays float32; every other dtype is computed in float64 (as the kernels do)."""
    a = np.asarray(a)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _windows(x_padded, field_height, field_width, stride, out_h, out_w):
    """Read-only view (N, C, fh, fw, H', W') of every receptive field: no data is copied."""
    sn, sc, sh, sw = x_padded.strides
    shape = (*x_padded.shape[:2], field_height, field_width, out_h, out_w)
    return as_strided(x_padded, shape, (sn, sc, sh, sw, stride * sh, stride * sw), writeable=False)


def im2col(x, field_height, field_width, padding, stride, batch_major=True, out=None):
    """Unfold every receptive field of ``x`` (N, C, H, W) into a column.

    Returns (N, C*fh*fw, H'*W') when ``batch_major``, else (C*fh*fw, N*H'*W'). A batch-major
    result can be written into ``out``, an array of that shape and dtype (a slice of a larger
    buffer is fine), which is then returned.
    """
    x = _float(x)
    N, C, H, W = x.shape
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    if padding:
        p = padding
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    win = _windows(x, field_height, field_width, stride, out_h, out_w)
    K, P = C * field_height * field_width, out_h * out_w
    if out is not None:
        if not batch_major:
            raise ValueError("out is only supported for the batch-major layout")
        if not isinstance(out, np.ndarray) or out.shape != (N, K, P) or out.dtype != x.dtype:
            raise ValueError(f"out must be a {x.dtype.name} array of shape {(N, K, P)}")
        # Splitting axes of a strided array never needs a copy, so this reshape is a view.
        np.copyto(out.reshape(win.shape), win)
        return out
    if batch_major:
        return np.ascontiguousarray(win).reshape(N, K, P)
    return np.ascontiguousarray(win.transpose(1, 2, 3, 0, 4, 5)).reshape(K, N * P)


def col2im(cols, N, C, H, W, field_height, field_width, padding, stride):
    """Adjoint of ``im2col``: add every column back onto the input positions it came from.

    ``cols`` may be in either layout (told apart by its number of dimensions). Where windows
    overlap, contributions add up; those that land in the padding are dropped.
    """
    cols = _float(cols)
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    fh, fw, s = field_height, field_width, stride
    K, P = C * fh * fw, out_h * out_w
    if cols.ndim == 2:
        if cols.shape != (K, N * P):
            raise ValueError(f"cols has shape {cols.shape}, expected {(K, N * P)}")
        c6 = cols.reshape(C, fh, fw, N, out_h, out_w).transpose(3, 0, 1, 2, 4, 5)
    else:
        if cols.shape != (N, K, P):
            raise ValueError(f"cols has shape {cols.shape}, expected {(N, K, P)}")
        c6 = cols.reshape(N, C, fh, fw, out_h, out_w)
    Hp, Wp = H + 2 * padding, W + 2 * padding
    dx = np.zeros((N, C, Hp, Wp), dtype=cols.dtype)
    # One vectorised add per filter offset: offset (i, j) of every window lands on a strided
    # grid of the padded input, and distinct windows never share a point of that grid.
    for i in range(fh):
        for j in range(fw):
            dx[:, :, i : i + s * out_h : s, j : j + s * out_w : s] += c6[:, :, i, j]
    if padding:
        dx = dx[:, :, padding : padding + H, padding : padding + W]
    return np.ascontiguousarray(dx)
