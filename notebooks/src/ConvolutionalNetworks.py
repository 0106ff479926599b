# %% [markdown]
# # Convolutional networks
#
# Fully connected layers treat an image as a long list of numbers: nothing tells them that
# neighbouring pixels belong together, or that a pattern means the same wherever it appears.
# Convolutional layers build both ideas in. Each filter looks at a small window of the input at a
# time and is slid across the whole image, so it detects its pattern at every position with the
# same few weights.
#
# In this notebook you implement convolution and max pooling with explicit loops, check them,
# switch to fast versions of the same layers, build a three-layer convolutional network and train
# it, and finish with two normalisation layers for images: spatial batch normalisation and group
# normalisation.
#
# You will work in `layers.py` (`conv_forward_naive`, `conv_backward_naive`,
# `max_pool_forward_naive`, `max_pool_backward_naive`, `spatial_batchnorm_forward/backward`,
# `spatial_groupnorm_forward/backward`), `layer_utils.py` (the `conv_relu`, `conv_relu_pool` and
# `conv_bn_relu` sandwiches) and `classifiers/cnn.py` (`ThreeLayerConvNet`).
#
# As before: answer the inline questions in the cells showing "**Your answer:**", keeping their
# hidden first line, and make sure the notebook runs from top to bottom in a fresh kernel. At
# the end it must leave the network you train for one epoch in the variable `one_epoch_model`.

# %%
# Setup: finds your package (`assignment/` or `cs231n/`, next to this notebook or one folder up)
# and imports it under the name `a2`, so the code below works whichever name your folder has.
# Run this cell again after you edit your code, then rerun the cells you need.
import importlib.util
import os
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def load_student_package(alias="a2", names=("assignment", "cs231n")):
    for folder in (Path.cwd(), Path.cwd().parent):
        for name in names:
            init = folder / name / "__init__.py"
            if init.is_file():
                # Forget any earlier import, so edits to the package take effect.
                for module in [m for m in sys.modules if m == alias or m.startswith(alias + ".")]:
                    del sys.modules[module]
                spec = importlib.util.spec_from_file_location(
                    alias, init, submodule_search_locations=[str(init.parent)]
                )
                package = importlib.util.module_from_spec(spec)
                sys.modules[alias] = package
                spec.loader.exec_module(package)
                print(f"Imported {init.parent} as {alias}")
                return package
    raise ImportError(
        f"No package folder named {' or '.join(names)} was found in {Path.cwd()} or its parent."
    )


a2 = load_student_package()

from a2 import fast_layers
from a2.classifiers.cnn import ThreeLayerConvNet
from a2.data_utils import get_CIFAR10_data
from a2.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from a2.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from a2.layer_utils import (
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from a2.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from a2.solver import Solver
from a2.vis_utils import visualize_grid

plt.rcParams["figure.figsize"] = (10.0, 6.0)
plt.rcParams["image.interpolation"] = "nearest"


def print_mean_std(x, axis):
    """Mean and standard deviation of x over `axis`, rounded for reading."""
    print(f"  means: {np.round(x.mean(axis=axis), 4)}")
    print(f"  stds:  {np.round(x.std(axis=axis), 4)}")


# %% [markdown]
# ## Convolution: naive forward pass
#
# Implement `conv_forward_naive` with loops: for every image, every filter and every output
# position, multiply the filter elementwise with the window of the zero-padded input under it,
# sum, and add the filter's bias. Do not worry about speed. With the setup below, a correct
# implementation reproduces the expected values to about `1e-8`.

# %%
x_shape = (2, 3, 4, 4)
w_shape = (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)

out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
print(f"output shape: {out.shape} (expected (2, 3, 2, 2))")
expected = {
    (0, 0): [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
    (1, 2): [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
}
for (n, f), values in expected.items():
    print(f"out[{n}, {f}] relative error: {rel_error(out[n, f], np.array(values)):.2e}")

# %% [markdown]
# ### Convolution as an image filter
#
# A convolution with hand-picked weights is a classic image processing operation. Below we draw
# two small pictures with numpy and convolve them with two 3x3 filters: one turns each pixel into
# its grey level, the other responds to horizontal changes of brightness (a Sobel filter, which
# finds vertical edges).

# %%
size = 96
yy, xx = np.mgrid[0:size, 0:size] / size


def picture_sunset():
    """A sky gradient with a sun, and dark hills in front."""
    image = np.stack([0.9 - 0.3 * yy, 0.4 + 0.2 * yy, 0.7 - 0.5 * yy], axis=0)
    sun = (xx - 0.65) ** 2 + (yy - 0.35) ** 2 < 0.15**2
    image[:, sun] = np.array([1.0, 0.85, 0.2])[:, None]
    hills = yy > 0.7 + 0.08 * np.sin(9 * xx)
    image[:, hills] = np.array([0.15, 0.35, 0.15])[:, None]
    return image


def picture_blocks():
    """Coloured squares and a ring on a grey background."""
    image = np.full((3, size, size), 0.5)
    image[:, 10:45, 10:45] = np.array([0.9, 0.1, 0.1])[:, None, None]
    image[:, 50:85, 15:40] = np.array([0.1, 0.3, 0.9])[:, None, None]
    ring = np.abs(np.hypot(xx - 0.7, yy - 0.55) - 0.2) < 0.04
    image[:, ring] = np.array([0.95, 0.95, 0.2])[:, None]
    return image


x = 255 * np.stack([picture_sunset(), picture_blocks()])  # (2, 3, size, size)

w = np.zeros((2, 3, 3, 3))
w[0, :, 1, 1] = [0.3, 0.6, 0.1]  # grey level: a weighted sum of the centre pixel's colours
sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
w[1] = sobel * np.array([0.3, 0.6, 0.1])[:, None, None]  # horizontal change of the grey level
b = np.array([0, 128])  # shifts the edge response so that 0 shows as mid grey

start = time.perf_counter()
out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
print(f"naive convolution of two {size}x{size} images: {time.perf_counter() - start:.2f} s")


def show_grey(image):
    """Rescale to 0..255 with the values' own minimum and maximum, and show in grey."""
    low, high = image.min(), image.max()
    plt.imshow(255 * (image - low) / max(high - low, 1e-12), cmap="gray", vmin=0, vmax=255)
    plt.axis("off")


plt.figure(figsize=(10, 7))
for row in range(2):
    plt.subplot(2, 3, 3 * row + 1)
    plt.imshow(x[row].transpose(1, 2, 0).astype(np.uint8))
    plt.axis("off")
    plt.title("original" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 2)
    show_grey(out[row, 0])
    plt.title("grey level" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 3)
    show_grey(out[row, 1])
    plt.title("vertical edges" if row == 0 else "")
plt.show()

# %% [markdown]
# ## Inline question 1
#
# The edge filter has only nine weights per colour channel, yet it finds edges anywhere in the
# picture. How many weights would a fully connected layer need to compute the same edge map of a
# 96x96 colour image, and what would it have to learn that the convolution gets for free? What
# does this suggest about training each kind of layer on a dataset where objects can appear at
# any position?

# %% [markdown]
# <!-- answer: convnets-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Convolution: naive backward pass
#
# Implement `conv_backward_naive`, again with loops: each output position received its value
# from one window of the padded input, so its upstream gradient flows back to that window (for
# `dx`) and to the filter (for `dw`). Check it numerically:

# %%
np.random.seed(231)
x = np.random.randn(2, 3, 5, 5)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3)
dout = np.random.randn(2, 3, 5, 5)
conv_param = {"stride": 1, "pad": 1}

dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_forward_naive(x, w, b, conv_param)[0], b, dout)

_, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)
# Errors should be about 1e-8 or less.
print(f"dx error: {rel_error(dx, dx_num):.2e}")
print(f"dw error: {rel_error(dw, dw_num):.2e}")
print(f"db error: {rel_error(db, db_num):.2e}")

# %% [markdown]
# ## Max pooling
#
# Implement `max_pool_forward_naive`: every channel is reduced on its own by taking the largest
# value in each `pool_height` x `pool_width` window, with windows `stride` pixels apart. A simple
# test: when the input increases steadily along each row and down the image, the largest value
# of every 2x2 window is its bottom-right entry.

# %%
x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
out, _ = max_pool_forward_naive(x, pool_param)
expected = x[:, :, 1::2, 1::2]
print(f"output shape: {out.shape} (expected {expected.shape})")
print(f"relative error: {rel_error(out, expected):.2e}")

# %% [markdown]
# Implement `max_pool_backward_naive`: the upstream gradient of each window goes to the input
# that was its maximum, and nowhere else.

# %%
np.random.seed(231)
x = np.random.randn(3, 2, 8, 8)
dout = np.random.randn(3, 2, 4, 4)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
_, cache = max_pool_forward_naive(x, pool_param)
dx = max_pool_backward_naive(dout, cache)
# The error should be about 1e-12 or less.
print(f"dx error: {rel_error(dx, dx_num):.2e}")

# %% [markdown]
# ## Fast layers
#
# Loops in Python are far too slow to train a network. `fast_layers.py` (given complete) holds
# versions of the same layers that rearrange every receptive field of the input into a column of
# a matrix (*im2col*), so that a whole convolution becomes one matrix product. Rearranging the
# data is itself a loop, which the compiled Cython extension `im2col_cython` runs at C speed.
#
# **Building the extension.** The source is `im2col_cython.pyx` in your package. In a checkout of
# the course repository, `pip install -e .` run from its root compiles it; in a folder of your
# own, run `cythonize -i assignment/im2col_cython.pyx` (or `cs231n/...`) from the folder holding
# your package; both need Cython and a C compiler. Then restart the kernel. Until it is built,
# the fast layers still work, with a warning, through a numpy version of im2col that is slower
# but gives the same results; you can also set `build_extension = True` below to build it from
# here.

# %%
build_extension = False  # set to True to compile the extension from this notebook
if build_extension:
    import subprocess

    source = Path(a2.__file__).parent / "im2col_cython.pyx"
    subprocess.run([sys.executable, "-m", "Cython.Build.Cythonize", "-i", str(source)], check=True)
    print("Built: restart the kernel and rerun the notebook to use it.")

if fast_layers.im2col_cython is not None:
    print("The fast layers use the compiled Cython extension.")
else:
    print("The Cython extension is not built: the fast layers use the slower numpy im2col.")

# %% [markdown]
# Compare the naive and fast layers on a small batch: same results, very different times. The
# naive layers may take a few seconds here.

# %%
def timed(f, *args):
    """f(*args) and the seconds it took."""
    start = time.perf_counter()
    result = f(*args)
    return result, time.perf_counter() - start


np.random.seed(231)
x = np.random.randn(10, 3, 31, 31)
w = np.random.randn(25, 3, 3, 3)
b = np.random.randn(25)
conv_param = {"stride": 2, "pad": 1}
(out_naive, cache_naive), t_naive = timed(conv_forward_naive, x, w, b, conv_param)
(out_fast, cache_fast), t_fast = timed(conv_forward_fast, x, w, b, conv_param)
dout = np.random.randn(*out_naive.shape)
(dx_naive, dw_naive, db_naive), tb_naive = timed(conv_backward_naive, dout, cache_naive)
(dx_fast, dw_fast, db_fast), tb_fast = timed(conv_backward_fast, dout, cache_fast)

print("Convolution, forward:")
print(f"  naive {t_naive:.4f} s, fast {t_fast:.4f} s, speedup {t_naive / t_fast:.0f}x")
print(f"  difference: {rel_error(out_naive, out_fast):.2e}")
print("Convolution, backward:")
print(f"  naive {tb_naive:.4f} s, fast {tb_fast:.4f} s, speedup {tb_naive / tb_fast:.0f}x")
print(f"  dx difference: {rel_error(dx_naive, dx_fast):.2e}")
print(f"  dw difference: {rel_error(dw_naive, dw_fast):.2e}")
print(f"  db difference: {rel_error(db_naive, db_fast):.2e}")

x = np.random.randn(10, 3, 32, 32)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
(out_naive, cache_naive), t_naive = timed(max_pool_forward_naive, x, pool_param)
(out_fast, cache_fast), t_fast = timed(max_pool_forward_fast, x, pool_param)
dout = np.random.randn(*out_naive.shape)
dx_naive, tb_naive = timed(max_pool_backward_naive, dout, cache_naive)
dx_fast, tb_fast = timed(max_pool_backward_fast, dout, cache_fast)

print("Max pooling, forward:")
print(f"  naive {t_naive:.4f} s, fast {t_fast:.4f} s, speedup {t_naive / t_fast:.0f}x")
print(f"  difference: {rel_error(out_naive, out_fast):.2e}")
print("Max pooling, backward:")
print(f"  naive {tb_naive:.4f} s, fast {tb_fast:.4f} s, speedup {tb_naive / tb_fast:.0f}x")
print(f"  dx difference: {rel_error(dx_naive, dx_fast):.2e}")

# %% [markdown]
# ## Sandwich layers
#
# Convolutional networks repeat a few combinations of layers, so `layer_utils.py` wraps them in
# "sandwich" functions built from the fast layers: `conv_relu`, `conv_relu_pool` (convolution,
# ReLU, 2x2 max pooling) and `conv_bn_relu` (with spatial batch normalisation, which you write at
# the end of this notebook: skip that check until then). Implement them and check their
# gradients:

# %%
def check_sandwich(forward, backward, inputs, names, *params):
    """Gradient check of forward(*inputs, *params) for each input named in `names`."""
    out, cache = forward(*inputs, *params)
    dout = np.random.randn(*out.shape)
    analytic = backward(dout, cache)
    for index, name in enumerate(names):
        def f(value, index=index):
            args = list(inputs)
            args[index] = value
            return forward(*args, *params)[0]

        numeric = eval_numerical_gradient_array(f, inputs[index], dout)
        if name in zero_gradients:
            # A relative error between two numbers that should both be zero means nothing.
            largest = max(np.abs(numeric).max(), np.abs(analytic[index]).max())
            print(f"  d{name}: largest entry {largest:.1e} (should be about 1e-8 or less)")
        else:
            print(f"  d{name} error: {rel_error(numeric, analytic[index]):.2e}")


zero_gradients = set()


np.random.seed(231)
x = np.random.randn(2, 3, 8, 8)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3)
conv_param = {"stride": 1, "pad": 1}
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

print("conv_relu_pool (errors about 1e-8 or less):")
check_sandwich(conv_relu_pool_forward, conv_relu_pool_backward, [x, w, b], "xwb",
               conv_param, pool_param)
print("conv_relu (errors about 1e-8 or less):")
check_sandwich(conv_relu_forward, conv_relu_backward, [x, w, b], "xwb", conv_param)
# Batch normalisation subtracts each channel's mean, which cancels any bias added before it:
# the gradient of the conv bias is zero here, and the check only looks at its size.
print("conv_bn_relu (errors about 1e-6 or less):")
zero_gradients = {"b"}
gamma, beta = np.random.randn(3), np.random.randn(3)
check_sandwich(conv_bn_relu_forward, conv_bn_relu_backward, [x, w, b, gamma, beta],
               ["x", "w", "b", "gamma", "beta"], conv_param, {"mode": "train"})
zero_gradients = set()

# %% [markdown]
# ## A three-layer convolutional network
#
# Implement `ThreeLayerConvNet` in `classifiers/cnn.py`, using the sandwich layers:
#
# conv - relu - 2x2 max pool - affine - relu - affine - softmax
#
# ### Loss sanity check
#
# With small weights and no regularisation the loss should be close to $\ln 10 \approx 2.3$;
# regularisation should make it a little larger.

# %%
model = ThreeLayerConvNet()
np.random.seed(231)
X = np.random.randn(50, 3, 32, 32)
y = np.random.randint(10, size=50)

loss, _ = model.loss(X, y)
print(f"initial loss, no regularisation: {loss:.6f} (ln 10 = {np.log(10):.6f})")
model.reg = 0.5
loss, _ = model.loss(X, y)
print(f"initial loss, with regularisation: {loss:.6f}")

# %% [markdown]
# ### Gradient check
#
# A small network in float64 on two small images. Expect errors of about `1e-6` or less. (With
# much smaller initial weights the hidden activations come so close to the kinks of ReLU and max
# pooling that the numeric gradients cross them, and the comparison stops meaning anything.)

# %%
np.random.seed(231)
num_inputs = 2
input_dim = (3, 10, 10)
X = np.random.randn(num_inputs, *input_dim)
y = np.random.randint(10, size=num_inputs)

model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=input_dim, hidden_dim=7,
                          weight_scale=5e-2, reg=0.5, dtype=np.float64)
loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                      verbose=False, h=1e-5)
    print(f"{name} relative error: {rel_error(numeric, grads[name]):.2e}")

# %% [markdown]
# ### Overfitting a small training set
#
# As with the fully connected nets, a network that works should memorise 100 images: expect a
# training accuracy near 100% after 15 epochs, with a much lower validation accuracy.
#
# The images go through the same preprocessing as before: we subtract the mean training image,
# and keep it in `mean_image`, since the grader passes its own images through the same step.

# %%
data = get_CIFAR10_data(num_training=6000, num_validation=200, num_test=200, subtract_mean=False)
mean_image = data["X_train"].mean(axis=0)
for split in ("X_train", "X_val", "X_test"):
    data[split] = data[split] - mean_image
for key, value in data.items():
    print(f"{key}: {value.shape}")

# %%
np.random.seed(231)
num_train = 100
small_data = dict(data, X_train=data["X_train"][:num_train], y_train=data["y_train"][:num_train])

model = ThreeLayerConvNet(weight_scale=1e-2)
solver = Solver(
    model,
    small_data,
    num_epochs=15,
    batch_size=50,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    verbose=True,
    print_every=5,
)
solver.train()

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(14, 5))
ax_loss.plot(solver.loss_history, "o-")
ax_loss.set_xlabel("Iteration")
ax_loss.set_ylabel("Training loss")
ax_acc.plot(solver.train_acc_history, "-o", label="train")
ax_acc.plot(solver.val_acc_history, "-o", label="validation")
ax_acc.set_xlabel("Epoch")
ax_acc.set_ylabel("Accuracy")
ax_acc.legend(loc="best")
plt.show()

# %% [markdown]
# ### One epoch of training
#
# Now train the network for a single epoch over the 6000 training images. The grader reruns this
# cell and checks the accuracy of `one_epoch_model` on images it keeps aside against a threshold
# calibrated from the course's solution with these same settings, so keep them as they are:
# what is graded is whether your implementation learns as the solution does. One epoch over a
# few thousand images is very little training, so expect a modest accuracy.

# %%
np.random.seed(0)
one_epoch_model = ThreeLayerConvNet(weight_scale=1e-2)
solver = Solver(
    one_epoch_model,
    data,
    num_epochs=1,
    batch_size=25,
    update_rule="adam",
    optim_config={"learning_rate": 2e-4},
    verbose=True,
    print_every=40,
)
start = time.perf_counter()
solver.train()
print(f"trained in {time.perf_counter() - start:.1f} s")

# %%
for split in ("train", "val", "test"):
    X, y = data[f"X_{split}"][:1000], data[f"y_{split}"][:1000]
    print(f"{split} accuracy: {solver.check_accuracy(X, y):.3f}")

# %% [markdown]
# ### The learned filters
#
# Each first-layer filter is a small colour image: it responds most strongly to windows of the
# input that look like it. `visualize_grid` (in `vis_utils.py`) tiles them, each rescaled to its
# own range of values.

# %%
grid = visualize_grid(one_epoch_model.params["W1"].transpose(0, 2, 3, 1))
plt.imshow(grid.astype("uint8"))
plt.axis("off")
plt.gcf().set_size_inches(5, 5)
plt.show()

# %% [markdown]
# ## Inline question 2
#
# Describe the filters above. Do some of them look like the edge filter from the beginning of
# the notebook, or like colour detectors? How do you expect them to change with much longer
# training, and how would filters of randomly initialised weights look?

# %% [markdown]
# <!-- answer: convnets-q2 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Spatial batch normalisation
#
# For images, batch normalisation keeps one mean and one variance per *channel*, computed over
# the batch and over all spatial positions: a filter's response should be treated alike wherever
# in the image it occurs. So for an input of shape `(N, C, H, W)` the statistics are taken over
# `N * H * W` values per channel, and `gamma` and `beta` have shape `(C,)`. Implement
# `spatial_batchnorm_forward`; your `batchnorm_forward` can do all the work after a transpose and
# a reshape.

# %%
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 4 * np.random.randn(N, C, H, W) + 10

print("Before spatial batch normalisation, per channel:")
print_mean_std(x, axis=(0, 2, 3))
out, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})
print("After, with gamma = 1 and beta = 0 (means near 0, stds near 1):")
print_mean_std(out, axis=(0, 2, 3))
gamma, beta = np.asarray([3.0, 4.0, 5.0]), np.asarray([6.0, 7.0, 8.0])
out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
print(f"After, with gamma = {gamma} and beta = {beta} (means near beta, stds near gamma):")
print_mean_std(out, axis=(0, 2, 3))

# %% [markdown]
# And in test mode, after the running averages have settled:

# %%
np.random.seed(231)
N, C, H, W = 10, 4, 11, 12
bn_param = {"mode": "train"}
gamma, beta = np.ones(C), np.zeros(C)
for _ in range(50):
    x = 2.3 * np.random.randn(N, C, H, W) + 13
    spatial_batchnorm_forward(x, gamma, beta, bn_param)
bn_param["mode"] = "test"
x = 2.3 * np.random.randn(N, C, H, W) + 13
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print("Test mode, after 50 training batches (means near 0, stds near 1):")
print_mean_std(out, axis=(0, 2, 3))

# %% [markdown]
# Implement `spatial_batchnorm_backward` and check it:

# %%
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 5 * np.random.randn(N, C, H, W) + 12
gamma = np.random.randn(C)
beta = np.random.randn(C)
dout = np.random.randn(N, C, H, W)

bn_param = {"mode": "train"}
fx = lambda x: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda g: spatial_batchnorm_forward(x, g, beta, bn_param)[0]
fb = lambda b: spatial_batchnorm_forward(x, gamma, b, bn_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
# Errors should be about 1e-6 or less.
print(f"dx error:     {rel_error(dx_num, dx):.2e}")
print(f"dgamma error: {rel_error(dgamma_num, dgamma):.2e}")
print(f"dbeta error:  {rel_error(dbeta_num, dbeta):.2e}")

# %% [markdown]
# Now rerun the sandwich layer check above: `conv_bn_relu` should pass too.
#
# ## Group normalisation
#
# Layer normalisation, which does not depend on the batch, works less well for convolutional
# layers than batch normalisation: normalising all channels of an image together assumes they
# are alike, while different filters detect very different things. Group normalisation (Wu and
# He, 2018) takes a middle way: it splits the `C` channels of each image into `G` groups of
# consecutive channels and normalises each group on its own, over its channels and all spatial
# positions. Each channel then gets its own `gamma` and `beta`, of shape `(1, C, 1, 1)`.
#
# Implement `spatial_groupnorm_forward`. After it, each group of each image should have mean near
# 0 and standard deviation near 1.

# %%
np.random.seed(231)
N, C, H, W = 2, 6, 4, 5
G = 2
x = 4 * np.random.randn(N, C, H, W) + 10
x_groups = x.reshape(N, G, -1)

print("Before group normalisation, per image and group:")
print_mean_std(x_groups, axis=2)
gamma, beta = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {})
print("After, with gamma = 1 and beta = 0 (means near 0, stds near 1):")
print_mean_std(out.reshape(N, G, -1), axis=2)

# %% [markdown]
# Implement `spatial_groupnorm_backward` and check it:

# %%
np.random.seed(231)
N, C, H, W = 2, 6, 4, 5
G = 2
x = 5 * np.random.randn(N, C, H, W) + 12
gamma = np.random.randn(1, C, 1, 1)
beta = np.random.randn(1, C, 1, 1)
dout = np.random.randn(N, C, H, W)

gn_param = {}
fx = lambda x: spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0]
fg = lambda g: spatial_groupnorm_forward(x, g, beta, G, gn_param)[0]
fb = lambda b: spatial_groupnorm_forward(x, gamma, b, G, gn_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
# Errors should be about 1e-6 or less.
print(f"dx error:     {rel_error(dx_num, dx):.2e}")
print(f"dgamma error: {rel_error(dgamma_num, dgamma):.2e}")
print(f"dbeta error:  {rel_error(dbeta_num, dbeta):.2e}")

# %% [markdown]
# ## Inline question 3
#
# Group normalisation with `G = 1` and with `G = C` are two other normalisations in disguise:
# which ones? For training a convolutional network with batches of only two images per step (on a
# large input, say), would you choose spatial batch normalisation or group normalisation, and
# why?

# %% [markdown]
# <!-- answer: convnets-q3 -->
# **Your answer:** *fill this in*
