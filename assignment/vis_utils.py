"""Tile images, filters and weights into one array for display with ``plt.imshow``.

Given to students complete. Everything here is plain numpy and returns an array, so it works
without a display and without matplotlib; the notebooks do the plotting, for example::

    grid = visualize_grid(model.params["W1"].transpose(0, 2, 3, 1))
    plt.imshow(grid.astype("uint8"))
"""

import math

import numpy as np


def _as_nhwc(Xs):
    Xs = np.asarray(Xs, dtype=np.float64)
    if Xs.ndim == 3:  # grey images: add a channel axis
        Xs = Xs[..., None]
    if Xs.ndim != 4 or Xs.shape[0] == 0:
        raise ValueError(f"expected a non-empty batch of images (N, H, W, C), got {Xs.shape}")
    return Xs


def _tile(Xs, cols, padding, fill, rows=None):
    """Lay (N, H, W, C) images out row by row, ``cols`` per row, ``padding`` pixels apart.

    The grid has ``rows`` rows (by default as many as the images need); cells left over and the
    gaps between cells are ``fill``.
    """
    N, H, W, C = Xs.shape
    rows = math.ceil(N / cols) if rows is None else rows
    cells = np.full((rows * cols, H + padding, W + padding, C), fill, dtype=Xs.dtype)
    cells[:N, :H, :W] = Xs
    grid = cells.reshape(rows, cols, H + padding, W + padding, C).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (H + padding), cols * (W + padding), C)
    # The last row and column of cells need no padding after them.
    return grid[: grid.shape[0] - padding, : grid.shape[1] - padding]


def _rescale_each(Xs, ubound):
    """Map each image's own [min, max] to [0, ubound]; constant images become zeros."""
    low = Xs.min(axis=(1, 2, 3), keepdims=True)
    span = Xs.max(axis=(1, 2, 3), keepdims=True) - low
    return ubound * np.divide(Xs - low, span, out=np.zeros_like(Xs), where=span > 0)


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a batch of images into a square grid, each image rescaled to [0, ubound] on its own.

    Inputs:
    - Xs: array of shape (N, H, W, C) (or (N, H, W) for grey images)
    - ubound: each image is scaled so that its minimum maps to 0 and its maximum to ubound
    - padding: number of blank (zero) pixels between neighbouring images

    Returns an array of shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with
    G = ceil(sqrt(N)); unused cells stay zero. Rescaling each image separately is what makes
    filters with very different weight magnitudes all visible; a constant image becomes zeros.
    """
    Xs = _as_nhwc(Xs)
    side = math.ceil(math.sqrt(len(Xs)))
    return _tile(_rescale_each(Xs, ubound), side, padding, 0.0, rows=side)


def vis_grid(Xs):
    """Tile a batch of images (N, H, W, C) into a square grid, scaled to [0, 1] all together.

    Unlike visualize_grid the images share one scale, so their relative brightness is kept; the
    one-pixel gaps between them take the smallest value.
    """
    Xs = _as_nhwc(Xs)
    side = math.ceil(math.sqrt(len(Xs)))
    grid = _tile(Xs, side, 1, Xs.min(), rows=side)
    return _unit_range(grid)


def vis_nn(rows):
    """Tile a list of rows of images (each (H, W, C)) into one grid, scaled to [0, 1] together.

    Useful to show, for instance, a query image followed by its nearest neighbours on each row;
    rows may differ in length, and the cells they leave empty take the smallest value.
    """
    if not rows or not all(len(row) for row in rows):
        raise ValueError("expected a non-empty list of non-empty rows of images")
    shape = np.shape(rows[0][0])
    cols = max(len(row) for row in rows)
    low = min(np.min(img) for row in rows for img in row)
    cells = np.full((len(rows) * cols, *shape), low, dtype=np.float64)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            cells[i * cols + j] = img
    return _unit_range(_tile(_as_nhwc(cells), cols, 1, low))


def _unit_range(grid):
    low, high = grid.min(), grid.max()
    if high == low:
        return np.zeros_like(grid)
    return (grid - low) / (high - low)


def visualize_filters(W, ubound=255.0, padding=1):
    """Grid of the filters of a convolutional layer, W of shape (F, C, HH, WW), for imshow."""
    W = np.asarray(W)
    if W.ndim != 4:
        raise ValueError(f"expected conv weights of shape (F, C, HH, WW), got {W.shape}")
    return visualize_grid(W.transpose(0, 2, 3, 1), ubound=ubound, padding=padding)


def visualize_weights(W1, image_shape=(3, 32, 32), ubound=255.0, padding=1):
    """Grid of the first-layer weights of a fully connected net, W1 of shape (D, M).

    Each of the M columns is reshaped to an image of ``image_shape`` (C, H, W), the layout of the
    data the net was trained on, so it shows the pattern that unit responds to.
    """
    W1 = np.asarray(W1)
    if W1.ndim != 2 or W1.shape[0] != int(np.prod(image_shape)):
        raise ValueError(f"expected W1 of shape ({int(np.prod(image_shape))}, M), got {W1.shape}")
    images = W1.T.reshape(-1, *image_shape).transpose(0, 2, 3, 1)
    return visualize_grid(images, ubound=ubound, padding=padding)


def class_samples_grid(X, y, samples_per_class=7, num_classes=10, ubound=255.0, padding=1):
    """A grid with one row per class showing its first ``samples_per_class`` images.

    X is a batch in the data's layout, (N, C, H, W); each image is rescaled to [0, ubound] as in
    visualize_grid, so mean-subtracted data shows as well as raw pixels. Classes with fewer
    images leave their remaining cells zero. Taking the first images (not random ones) shows the
    same picture every time.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 4 or len(X) != len(y):
        raise ValueError(f"expected images (N, C, H, W) and N labels, got {X.shape} and {y.shape}")
    images = X.transpose(0, 2, 3, 1)
    cells = np.zeros((num_classes * samples_per_class, *images.shape[1:]))
    for c in range(num_classes):
        picked = np.flatnonzero(y == c)[:samples_per_class]
        cells[c * samples_per_class : c * samples_per_class + len(picked)] = images[picked]
    return _tile(_rescale_each(cells, ubound), samples_per_class, padding, 0.0)
