"""Tests of reference/vis_utils.py: grid layout, scaling and the filter/weight helpers."""

import subprocess
import sys

import numpy as np
import pytest

from reference import vis_utils as vu


def _ramp_images(n, h=4, w=5, c=3):
    """Images whose values say where they come from: image i holds i*1000 + position."""
    base = np.arange(h * w * c, dtype=np.float64).reshape(h, w, c)
    return np.stack([i * 1000 + base for i in range(n)])


def test_visualize_grid_shape_and_placement():
    X = _ramp_images(5)  # 5 images -> a 3 x 3 grid with 4 empty cells
    grid = vu.visualize_grid(X, ubound=1.0, padding=2)
    assert grid.shape == (3 * 4 + 2 * 2, 3 * 5 + 2 * 2, 3)
    ramp = (X[0] - X[0].min()) / (X[0].max() - X[0].min())
    np.testing.assert_allclose(grid[0:4, 0:5], ramp)  # image 0 top left
    np.testing.assert_allclose(grid[0:4, 7:12], ramp)  # image 1: shifted by W + padding
    np.testing.assert_allclose(grid[6:10, 7:12], ramp)  # image 4: second row, second column
    assert np.all(grid[4:6] == 0) and np.all(grid[:, 5:7] == 0)  # padding
    assert np.all(grid[6:10, 14:] == 0) and np.all(grid[12:] == 0)  # unused cells


def test_visualize_grid_scales_each_image_to_ubound():
    rng = np.random.RandomState(0)
    X = rng.randn(4, 3, 3, 3) * np.array([1e-3, 1.0, 1e3, 5.0])[:, None, None, None]
    grid = vu.visualize_grid(X, padding=0)
    for k in range(4):
        cell = grid[(k // 2) * 3 : (k // 2) * 3 + 3, (k % 2) * 3 : (k % 2) * 3 + 3]
        assert cell.min() == pytest.approx(0) and cell.max() == pytest.approx(255)


def test_visualize_grid_constant_image_and_grey_images():
    grid = vu.visualize_grid(np.full((2, 3, 3, 1), 4.0))
    assert np.all(grid == 0) and not np.isnan(grid).any()
    grey = vu.visualize_grid(np.random.RandomState(1).rand(4, 6, 6))
    assert grey.shape == (13, 13, 1)
    with pytest.raises(ValueError):
        vu.visualize_grid(np.zeros((0, 3, 3, 3)))


def test_vis_grid_keeps_relative_brightness():
    X = np.stack([np.full((2, 2, 3), v) for v in (1.0, 3.0, 5.0)])
    grid = vu.vis_grid(X)
    assert grid.shape == (2 * 2 + 1, 2 * 2 + 1, 3)
    assert grid.min() == 0 and grid.max() == 1
    np.testing.assert_allclose(grid[0:2, 0:2], 0.0)  # darkest image
    np.testing.assert_allclose(grid[0:2, 3:5], 0.5)  # middle one keeps its place in between
    np.testing.assert_allclose(grid[3:5, 0:2], 1.0)
    np.testing.assert_allclose(grid[2], 0.0)  # gaps take the smallest value


def test_vis_nn_rows():
    a, b, c = (np.full((2, 3, 3), v) for v in (0.0, 2.0, 4.0))
    grid = vu.vis_nn([[a, b], [c]])
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1, 3)
    np.testing.assert_allclose(grid[0:2, 4:7], 0.5)
    np.testing.assert_allclose(grid[3:5, 0:3], 1.0)
    np.testing.assert_allclose(grid[3:5, 4:7], 0.0)  # the short row's empty cell
    with pytest.raises(ValueError):
        vu.vis_nn([])


def test_visualize_filters_transposes_conv_weights():
    W = np.random.RandomState(2).randn(6, 3, 5, 5)
    grid = vu.visualize_filters(W, padding=1)
    np.testing.assert_allclose(grid, vu.visualize_grid(W.transpose(0, 2, 3, 1), padding=1))
    assert grid.shape == (3 * 5 + 2, 3 * 5 + 2, 3)
    with pytest.raises(ValueError):
        vu.visualize_filters(np.zeros((3, 5, 5)))


def test_visualize_weights_reshapes_columns_to_images():
    W1 = np.zeros((3 * 8 * 8, 4))
    W1[0, 1] = 1.0  # unit 1 looks at the red channel of the top-left pixel only
    grid = vu.visualize_weights(W1, image_shape=(3, 8, 8), ubound=1.0, padding=0)
    assert grid.shape == (16, 16, 3)
    unit1 = grid[0:8, 8:16]
    assert unit1[0, 0, 0] == 1.0 and unit1.sum() == 1.0
    with pytest.raises(ValueError):
        vu.visualize_weights(np.zeros((100, 4)))


def test_class_samples_grid_rows_are_classes():
    # Image i is zero but for one pixel, at flat (channels-first) index i: a fingerprint.
    X = np.zeros((12, 3, 2, 2))
    X.reshape(12, -1)[np.arange(12), np.arange(12)] = 1.0
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 1])
    grid = vu.class_samples_grid(X, y, samples_per_class=3, num_classes=4, padding=1)
    assert grid.shape == (4 * 2 + 3, 3 * 2 + 2, 3)

    def shown(row, col):
        cell = grid[row * 3 : row * 3 + 2, col * 3 : col * 3 + 2]  # (H, W, C)
        h, w, c = np.unravel_index(np.argmax(cell), cell.shape)
        assert cell.max() == 255.0 and cell.sum() == 255.0
        return int(np.ravel_multi_index((c, h, w), (3, 2, 2)))

    assert [shown(0, k) for k in range(3)] == [0, 3, 6]  # the first three of class 0
    assert [shown(1, k) for k in range(3)] == [1, 4, 7]
    assert [shown(2, k) for k in range(3)] == [2, 5, 8]
    assert np.all(grid[9:] == 0)  # class 3 has no images: its row stays blank
    with pytest.raises(ValueError):
        vu.class_samples_grid(X, y[:5])


def test_no_matplotlib_at_import():
    code = "import sys; import reference.vis_utils; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
