# %% [markdown]
# # Batch normalisation
#
# Deep networks are easier to train when the inputs of every layer are well scaled: centred,
# with unit variance. Preprocessing takes care of that for the first layer only; deeper down, the
# distribution of each layer's inputs keeps shifting as the earlier layers learn. Batch
# normalisation (Ioffe and Szegedy, 2015) adds a layer that normalises its input features with
# the mean and variance of the current minibatch, then scales and shifts them with two learnable
# vectors, `gamma` and `beta`, so that the network can still undo the normalisation where that
# helps.
#
# At test time there may be a single example, so there is no batch to take statistics from.
# During training the layer therefore keeps exponentially decaying running averages of the
# means and variances it has seen, and normalises with those in test mode.
#
# In this notebook you implement batch normalisation, add it to `FullyConnectedNet`, look at what
# it changes when training deep networks, and then implement layer normalisation, which
# normalises each example over its own features instead.
#
# You will work in `layers.py` (`batchnorm_forward`, `batchnorm_backward`,
# `batchnorm_backward_alt`, `layernorm_forward`, `layernorm_backward`), `layer_utils.py`
# (`affine_norm_relu_forward/backward`) and `classifiers/fc_net.py`.
#
# As before: answer the inline questions in the cells showing "**Your answer:**", keeping their
# hidden first line, and make sure the notebook runs from top to bottom in a fresh kernel.

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

from a2.classifiers.fc_net import FullyConnectedNet
from a2.data_utils import get_CIFAR10_data
from a2.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from a2.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from a2.solver import Solver

plt.rcParams["figure.figsize"] = (10.0, 6.0)


def print_mean_std(x, axis=0):
    """Mean and standard deviation of x along `axis`, rounded for reading."""
    print(f"  shape: {x.shape}")
    print(f"  means: {np.round(x.mean(axis=axis), 4)}")
    print(f"  stds:  {np.round(x.std(axis=axis), 4)}")


# %%
# A small part of the dataset, for the training experiments at the end.
data = get_CIFAR10_data(num_training=1000, num_validation=200, num_test=10)
for key, value in data.items():
    print(f"{key}: {value.shape}")

# %% [markdown]
# ## Batch normalisation: forward pass
#
# Implement `batchnorm_forward` in `layers.py`, training mode first. The cell below feeds it the
# activations of a small random two-layer network, which are far from standardised. With
# `gamma = 1` and `beta = 0`, every output feature should have mean close to 0 and standard
# deviation close to 1; with other values, means close to `beta` and standard deviations close
# to `gamma`.

# %%
np.random.seed(231)
N, D1, D2, D3 = 200, 50, 60, 3
X = np.random.randn(N, D1)
W1 = np.random.randn(D1, D2)
W2 = np.random.randn(D2, D3)
a = np.maximum(0, X.dot(W1)).dot(W2)

print("Before batch normalisation:")
print_mean_std(a)

print("After, with gamma = 1 and beta = 0 (means near 0, stds near 1):")
out, _ = batchnorm_forward(a, np.ones(D3), np.zeros(D3), {"mode": "train"})
print_mean_std(out)

gamma, beta = np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0])
print(f"After, with gamma = {gamma} and beta = {beta} (means near beta, stds near gamma):")
out, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
print_mean_std(out)

# %% [markdown]
# Now test mode. Run the layer in training mode on many batches from the same distribution, so
# that its running averages settle, then run it once in test mode on a new batch. The means
# should come out close to 0 and the standard deviations close to 1, a little noisier than in
# training mode since the running averages only estimate the statistics.

# %%
np.random.seed(231)
N, D1, D2, D3 = 200, 50, 60, 3
W1 = np.random.randn(D1, D2)
W2 = np.random.randn(D2, D3)

bn_param = {"mode": "train"}
gamma, beta = np.ones(D3), np.zeros(D3)
for _ in range(50):
    X = np.random.randn(N, D1)
    a = np.maximum(0, X.dot(W1)).dot(W2)
    batchnorm_forward(a, gamma, beta, bn_param)

bn_param["mode"] = "test"
X = np.random.randn(N, D1)
a = np.maximum(0, X.dot(W1)).dot(W2)
out, _ = batchnorm_forward(a, gamma, beta, bn_param)
print("Test mode, after 50 training batches (means near 0, stds near 1):")
print_mean_std(out)

# %% [markdown]
# ## Batch normalisation: backward pass
#
# Implement `batchnorm_backward`. Draw the computation graph of the forward pass, in small
# steps (mean, centred input, variance, standard deviation, normalised input, scale and shift),
# and backpropagate through it one node at a time, summing the gradients where a value feeds
# several nodes. Keep the intermediate values you need in the cache. Then check it numerically:

# %%
np.random.seed(231)
N, D = 4, 5
x = 5 * np.random.randn(N, D) + 12
gamma = np.random.randn(D)
beta = np.random.randn(D)
dout = np.random.randn(N, D)

bn_param = {"mode": "train"}
fx = lambda x: batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda g: batchnorm_forward(x, g, beta, bn_param)[0]
fb = lambda b: batchnorm_forward(x, gamma, b, bn_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
# You should expect errors of about 1e-9 or less.
print(f"dx error:     {rel_error(dx_num, dx):.2e}")
print(f"dgamma error: {rel_error(dgamma_num, dgamma):.2e}")
print(f"dbeta error:  {rel_error(dbeta_num, dbeta):.2e}")

# %% [markdown]
# ## A simpler backward pass
#
# Backpropagating node by node works, but the algebra simplifies a great deal. Writing
# $\hat{x}_i = (x_i - \mu) / \sigma$ for the normalised inputs of one feature over a batch of
# $N$, with $\sigma = \sqrt{\mathrm{var} + \epsilon}$, and $g_i = \gamma \, \partial L / \partial
# y_i$ for the gradients reaching $\hat{x}$, work out $\partial L / \partial x_i$ on paper in terms
# of $g$, $\hat{x}$, $\sigma$ and $N$ only: it fits on one line with two sums. Implement that
# formula in `batchnorm_backward_alt`. It must give the same results as your first version, and
# it should be faster; the cell below compares them on a larger batch.

# %%
np.random.seed(231)
N, D = 100, 500
x = 5 * np.random.randn(N, D) + 12
gamma = np.random.randn(D)
beta = np.random.randn(D)
dout = np.random.randn(N, D)

_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})


def best_time(f, repeats=30):
    """The fastest of several runs of f(), in seconds: the least disturbed by other work."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


dx1, dgamma1, dbeta1 = batchnorm_backward(dout, cache)
dx2, dgamma2, dbeta2 = batchnorm_backward_alt(dout, cache)
t1 = best_time(lambda: batchnorm_backward(dout, cache))
t2 = best_time(lambda: batchnorm_backward_alt(dout, cache))

print(f"dx difference:     {rel_error(dx1, dx2):.2e}")
print(f"dgamma difference: {rel_error(dgamma1, dgamma2):.2e}")
print(f"dbeta difference:  {rel_error(dbeta1, dbeta2):.2e}")
print(f"graph version {t1 * 1e3:.3f} ms, simplified version {t2 * 1e3:.3f} ms: "
      f"speedup {t1 / t2:.2f}x")

# %% [markdown]
# ## Fully connected networks with batch normalisation
#
# Add batch normalisation to `FullyConnectedNet`: with `normalization="batchnorm"` every hidden
# layer becomes affine - batch norm - ReLU, with its own `gamma` and `beta` parameters and its
# own `bn_param` dict (which carries the running averages from one call to the next). The
# `affine_norm_relu` sandwich in `layer_utils.py` is a convenient place for the three layers. The
# output layer is not normalised.
#
# Check the gradients, with and without regularisation. The `gamma` and `beta` parameters are not
# regularised.

# %%
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))

for reg in (0.0, 3.14):
    print(f"reg = {reg}")
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        reg=reg,
        weight_scale=5e-2,
        dtype=np.float64,
        normalization="batchnorm",
    )
    loss, grads = model.loss(X, y)
    print(f"  initial loss: {loss:.6f}")
    for name in sorted(grads):
        numeric = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5
        )
        print(f"  {name} relative error: {rel_error(numeric, grads[name]):.2e}")

# %% [markdown]
# ## Deep networks with and without batch normalisation
#
# Train two six-layer networks on a thousand images, identical but for batch normalisation.
# The batch-normalised one should learn faster.

# %%
def train(hidden_dims, normalization, data, weight_scale=2e-2, learning_rate=1e-3,
          num_epochs=10, batch_size=50, num_train=None):
    """Train a FullyConnectedNet with Adam, quietly; returns the Solver."""
    np.random.seed(0)
    if num_train is not None:
        data = dict(data, X_train=data["X_train"][:num_train], y_train=data["y_train"][:num_train])
    model = FullyConnectedNet(hidden_dims, weight_scale=weight_scale, normalization=normalization)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": learning_rate},
        num_epochs=num_epochs,
        batch_size=batch_size,
        num_train_samples=500,
        verbose=False,
    )
    solver.train()
    return solver


def plot_runs(solvers, title=""):
    """Training loss, training accuracy and validation accuracy of several runs."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for label, solver in solvers.items():
        axes[0].plot(solver.loss_history, ".", markersize=3, label=label)
        axes[1].plot(solver.train_acc_history, "-o", label=label)
        axes[2].plot(solver.val_acc_history, "-o", label=label)
    for ax, name in zip(axes, ("training loss", "training accuracy", "validation accuracy")):
        ax.set_title(f"{title}: {name}" if title else name)
        ax.set_xlabel("iteration" if name == "training loss" else "epoch")
        ax.legend(loc="best")
    fig.tight_layout()
    plt.show()


hidden_dims = [100] * 5
deep = {
    "baseline": train(hidden_dims, None, data, num_epochs=5),
    "batchnorm": train(hidden_dims, "batchnorm", data, num_epochs=5),
}
for label, solver in deep.items():
    print(f"{label}: best validation accuracy {solver.best_val_acc:.3f}")
plot_runs(deep, "six layers")

# %% [markdown]
# ## Batch normalisation and the initial weight scale
#
# Next we train eight-layer networks on 50 images, with and without batch normalisation, for a
# range of initial weight scales, and plot the best accuracies each reached and its final loss.

# %%
weight_scales = np.logspace(-4, 0, num=12)
results = {None: [], "batchnorm": []}
start = time.perf_counter()
with np.errstate(over="ignore", invalid="ignore"):  # some baselines diverge: expected here
    for scale in weight_scales:
        for normalization in results:
            solver = train([50] * 7, normalization, data, weight_scale=scale, num_epochs=10,
                           batch_size=10, num_train=50)
            results[normalization].append(solver)
print(f"{2 * len(weight_scales)} networks trained in {time.perf_counter() - start:.1f} s")

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
for normalization, solvers in results.items():
    label = normalization or "baseline"
    axes[0].semilogx(weight_scales, [max(s.train_acc_history) for s in solvers], "-o", label=label)
    axes[1].semilogx(weight_scales, [max(s.val_acc_history) for s in solvers], "-o", label=label)
    axes[2].semilogx(weight_scales, [np.mean(s.loss_history[-3:]) for s in solvers], "-o",
                     label=label)
axes[2].set_yscale("log")
for ax, name in zip(axes, ("best training accuracy", "best validation accuracy", "final loss")):
    ax.set_title(name)
    ax.set_xlabel("weight initialisation scale")
    ax.legend(loc="best")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Inline question 1
#
# Describe what the three plots show about how the two kinds of network depend on the initial
# weight scale. Where does the baseline fail, and why does it fail at each end of the range?
# Which property of batch normalisation explains the difference?

# %% [markdown]
# <!-- answer: batchnorm-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Batch normalisation and the batch size
#
# Batch normalisation estimates its statistics from the minibatch, so the batch size should
# matter. Train six-layer networks with batch normalisation and several batch sizes, and a
# baseline without it. The helper below is reused for layer normalisation later.

# %%
def batch_size_experiment(normalization, batch_sizes=(5, 10, 50), num_train=200, num_epochs=8,
                          learning_rate=3e-4):
    """A baseline (largest batch size) and one normalised run per batch size."""
    settings = dict(num_epochs=num_epochs, num_train=num_train, learning_rate=learning_rate)
    largest = max(batch_sizes)
    runs = {f"baseline, batch {largest}": train([100] * 5, None, data, batch_size=largest,
                                                 **settings)}
    for batch_size in batch_sizes:
        runs[f"{normalization}, batch {batch_size}"] = train(
            [100] * 5, normalization, data, batch_size=batch_size, **settings
        )
    return runs


runs = batch_size_experiment("batchnorm")
for label, solver in runs.items():
    print(f"{label}: best training accuracy {max(solver.train_acc_history):.3f}, "
          f"best validation accuracy {solver.best_val_acc:.3f}")
plot_runs(runs, "batch size")

# %% [markdown]
# ## Inline question 2
#
# How does the batch size change what batch normalisation does for training? Explain why, in
# terms of the statistics the layer computes. What would you expect at test time from a network
# trained with batches of two?

# %% [markdown]
# <!-- answer: batchnorm-q2 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Layer normalisation
#
# Layer normalisation (Ba, Kiros and Hinton, 2016) avoids depending on the batch altogether: it
# normalises each example over its own features, so it computes the same thing in training and at
# test time, and works with batches of any size. Like batch normalisation it then scales and
# shifts every feature with learnable `gamma` and `beta`.
#
# Implement `layernorm_forward` and `layernorm_backward`. Much of your batch normalisation code
# carries over once you see which axis changes. First the forward pass, on the same kind of
# activations as before: now every *row* should have mean near 0 and standard deviation near 1.

# %%
np.random.seed(231)
N, D1, D2, D3 = 4, 50, 60, 3
X = np.random.randn(N, D1)
W1 = np.random.randn(D1, D2)
W2 = np.random.randn(D2, D3)
a = np.maximum(0, X.dot(W1)).dot(W2)

print("Before layer normalisation, per example:")
print_mean_std(a, axis=1)
print("After, with gamma = 1 and beta = 0 (means near 0, stds near 1):")
out, _ = layernorm_forward(a, np.ones(D3), np.zeros(D3), {})
print_mean_std(out, axis=1)
print("After, with gamma = 3 and beta = 5 (means near 5, stds near 3):")
out, _ = layernorm_forward(a, 3 * np.ones(D3), 5 * np.ones(D3), {})
print_mean_std(out, axis=1)

# %%
np.random.seed(231)
N, D = 4, 5
x = 5 * np.random.randn(N, D) + 12
gamma = np.random.randn(D)
beta = np.random.randn(D)
dout = np.random.randn(N, D)

ln_param = {}
fx = lambda x: layernorm_forward(x, gamma, beta, ln_param)[0]
fg = lambda g: layernorm_forward(x, g, beta, ln_param)[0]
fb = lambda b: layernorm_forward(x, gamma, b, ln_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = layernorm_forward(x, gamma, beta, ln_param)
dx, dgamma, dbeta = layernorm_backward(dout, cache)
# You should expect errors of about 1e-9 or less.
print(f"dx error:     {rel_error(dx_num, dx):.2e}")
print(f"dgamma error: {rel_error(dgamma_num, dgamma):.2e}")
print(f"dbeta error:  {rel_error(dbeta_num, dbeta):.2e}")

# %% [markdown]
# Now support `normalization="layernorm"` in `FullyConnectedNet` and check its gradients:

# %%
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))

for reg in (0.0, 3.14):
    print(f"reg = {reg}")
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        reg=reg,
        weight_scale=5e-2,
        dtype=np.float64,
        normalization="layernorm",
    )
    loss, grads = model.loss(X, y)
    print(f"  initial loss: {loss:.6f}")
    for name in sorted(grads):
        numeric = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5
        )
        print(f"  {name} relative error: {rel_error(numeric, grads[name]):.2e}")

# %% [markdown]
# The batch-size experiment again, with layer normalisation in place of batch normalisation:

# %%
runs = batch_size_experiment("layernorm")
for label, solver in runs.items():
    print(f"{label}: best training accuracy {max(solver.train_acc_history):.3f}, "
          f"best validation accuracy {solver.best_val_acc:.3f}")
plot_runs(runs, "batch size, layer norm")

# %% [markdown]
# ## Inline question 3
#
# Each of the following rescales data in some way. Say for each one whether it resembles batch
# normalisation (statistics shared across the examples of a batch, per feature), layer
# normalisation (statistics per example, across its features), or neither, and why.
#
# 1. Dividing every pixel of an image by the largest pixel value of that image.
# 2. Subtracting from every image the mean image of the training set.
# 3. Standardising each column of a table of measurements with that column's mean and standard
#    deviation over all rows.
# 4. Converting each sentence's word counts into frequencies by dividing by the sentence length.

# %% [markdown]
# <!-- answer: batchnorm-q3 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Inline question 4
#
# Layer normalisation does not depend on the batch, yet it does not always work as well as batch
# normalisation. Describe a situation in which you would expect it to work poorly, and explain
# why, thinking about what it assumes about the features of one example.

# %% [markdown]
# <!-- answer: batchnorm-q4 -->
# **Your answer:** *fill this in*
