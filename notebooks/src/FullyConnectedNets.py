# %% [markdown]
# # Fully connected networks
#
# In this notebook you assemble fully connected networks of any depth from the modular layers in
# `layers.py`, train them with the `Solver`, and compare several update rules. Each layer is a
# pair of functions: a forward pass that returns its output and a *cache* of whatever the
# backward pass will need, and a backward pass that turns the gradient of the loss with respect
# to the layer's output into gradients with respect to its inputs and parameters. Once every
# layer follows that contract, a network of any depth is a loop over forward passes followed by
# a loop over backward passes in the opposite order.
#
# **Before you start.** This notebook expects your package (a folder called `assignment` or
# `cs231n`) in the same folder as the notebook or one folder up. You will work in:
#
# - `layers.py`: `affine_forward/backward`, `relu_forward/backward`, `softmax_loss`;
# - `layer_utils.py`: the `affine_relu` sandwich;
# - `classifiers/fc_net.py`: `FullyConnectedNet`;
# - `optim.py`: `sgd_momentum`, `rmsprop` and `adam`.
#
# **Inline questions.** Some cells ask you a question. Write your answer in the cell just below
# it, the one showing "**Your answer:**". That cell also holds a hidden first line (an HTML
# comment you see when you edit the cell) that the grader uses to find your answer: edit the
# text after it, and keep that line as it is.
#
# **Hand-in.** The grader reruns this notebook from top to bottom against your package, so make
# sure it runs without errors in a fresh kernel (*Kernel > Restart & Run All*). At the end it
# must leave your trained model in the variable `best_model`.

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
from a2.gradient_check import eval_numerical_gradient, rel_error
from a2.optim import adam, rmsprop, sgd_momentum
from a2.solver import Solver

plt.rcParams["figure.figsize"] = (10.0, 6.0)
plt.rcParams["image.interpolation"] = "nearest"

# %% [markdown]
# ## The data
#
# `get_CIFAR10_data` loads CIFAR-10 when it finds it on your machine (see the package's
# `data_utils.py` for where it looks). Otherwise it says so once and returns an embedded
# synthetic dataset of the same shape: 32x32 colour images of ten kinds of shapes, drawn anywhere
# in the image over cluttered backgrounds, with no download needed. Everything below works with
# either.
#
# We load a few thousand images only, so that every cell runs in seconds. Every image has the
# mean training image subtracted from it; we keep that mean in `mean_image`, since any new image
# must go through the same step before a model trained here can classify it.

# %%
data = get_CIFAR10_data(num_training=4000, num_validation=500, num_test=500, subtract_mean=False)
mean_image = data["X_train"].mean(axis=0)
for split in ("X_train", "X_val", "X_test"):
    data[split] = data[split] - mean_image
for key, value in data.items():
    print(f"{key}: {value.shape}")

# %%
# A few training images of each class (the mean image added back, so they look natural), named
# after the dataset that was loaded: CIFAR-10 where it was found, the synthetic one otherwise.
from a2 import data_utils

cifar_dir = Path(os.environ.get("CIFAR10_DIR") or data_utils.DEFAULT_CIFAR10_DIR)
class_names = data_utils.CIFAR10_CLASSES if cifar_dir.exists() else data_utils.SYNTHETIC_CLASSES
samples_per_class = 6
fig, axes = plt.subplots(samples_per_class, len(class_names), figsize=(12, 7))
for col, name in enumerate(class_names):
    picks = np.flatnonzero(data["y_train"] == col)[:samples_per_class]
    for row, index in enumerate(picks):
        image = (data["X_train"][index] + mean_image).transpose(1, 2, 0)
        axes[row, col].imshow(image.clip(0, 255).astype(np.uint8))
        axes[row, col].axis("off")
    axes[0, col].set_title(name)
plt.show()

# %% [markdown]
# ## A fully connected network
#
# Implement `FullyConnectedNet` in `classifiers/fc_net.py`. For `L` layers its architecture is
#
# $$\{\text{affine} - \text{relu}\} \times (L - 1) - \text{affine} - \text{softmax},$$
#
# where the batch/layer normalisation and dropout layers that the class also mentions come in
# the next notebooks: leave them out for now.
#
# ### Initial loss and gradient check
#
# Two sanity checks catch most mistakes before any training. First, a network with small random
# weights produces nearly equal scores for every class, so its softmax loss should be close to
# $\ln C$ for $C$ classes, and adding L2 regularisation should make it larger. Second, the
# analytic gradients should agree with numeric ones computed by finite differences: expect
# relative errors of about `1e-7` or less in float64, although `W` matrices that reach a
# nonlinearity's kink may show `1e-5` or so.
#
# With the setup below, a correct implementation gives exactly the losses printed as expected.

# %%
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))
expected_loss = {0.0: 2.3004790897684924, 3.14: 7.052114776533016}

for reg in (0.0, 3.14):
    model = FullyConnectedNet(
        [H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2, dtype=np.float64
    )
    loss, grads = model.loss(X, y)
    print(f"reg = {reg}")
    print(f"  initial loss {loss:.12f}, expected {expected_loss[reg]:.12f}, ln(C) = {np.log(C):.4f}")
    print(f"  relative error of the loss: {rel_error(loss, expected_loss[reg]):.2e}")
    for name in sorted(grads):
        numeric = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5
        )
        print(f"  {name} relative error: {rel_error(numeric, grads[name]):.2e}")

# %% [markdown]
# ### Overfitting a tiny training set
#
# A network with enough capacity should be able to memorise a handful of images. Failing to reach
# 100% training accuracy on 50 images is a strong hint that something is wrong, in the code or in
# the hyperparameters. First a three-layer net (two hidden layers of 100 units) trained with plain
# SGD: tune the initial weight scale and the learning rate until it reaches 100% training accuracy
# within 20 epochs.

# %%
num_train = 50
small_data = {
    "X_train": data["X_train"][:num_train],
    "y_train": data["y_train"][:num_train],
    "X_val": data["X_val"][:100],
    "y_val": data["y_val"][:100],
}


def overfit(hidden_dims, weight_scale, learning_rate, verbose=False):
    """Train a net on the 50 images with SGD for 20 epochs; returns the Solver."""
    np.random.seed(0)
    model = FullyConnectedNet(hidden_dims, weight_scale=weight_scale, dtype=np.float64)
    solver = Solver(
        model,
        small_data,
        update_rule="sgd",
        optim_config={"learning_rate": learning_rate},
        num_epochs=20,
        batch_size=25,
        print_every=10,
        verbose=verbose,
    )
    solver.train()
    return solver


weight_scale = 1e-2  # Experiment with this!
learning_rate = 1e-2  # Experiment with this!
solver = overfit([100, 100], weight_scale, learning_rate, verbose=True)

plt.plot(solver.loss_history, "o-")
plt.title("Three-layer net: training loss")
plt.xlabel("Iteration")
plt.ylabel("Training loss")
plt.show()

# %% [markdown]
# Now a five-layer net (four hidden layers of 100 units) on the same 50 images. Rather than
# guessing one setting at a time, the cell below trains one network for every pair of weight
# scale and learning rate in a small grid and shows the best training accuracy each reached.
# Find the region where the deeper net memorises the data, then compare it with the three-layer
# net's (change `hidden_dims` in the cell to see that one too).

# %%
hidden_dims = [100, 100, 100, 100]
weight_scales = [1e-2, 3e-2, 1e-1]  # Experiment with these!
learning_rates = [1e-3, 3e-3, 1e-2, 3e-2]  # Experiment with these!

best_train_acc = np.zeros((len(weight_scales), len(learning_rates)))
# Some settings make training diverge, with overflowing scores: expected here, so not reported.
with np.errstate(over="ignore", invalid="ignore"):
    for i, ws in enumerate(weight_scales):
        for j, lr in enumerate(learning_rates):
            best_train_acc[i, j] = max(overfit(hidden_dims, ws, lr).train_acc_history)

plt.imshow(best_train_acc, cmap="viridis", vmin=0, vmax=1)
plt.colorbar(label="best training accuracy")
plt.xticks(range(len(learning_rates)), [f"{lr:g}" for lr in learning_rates])
plt.yticks(range(len(weight_scales)), [f"{ws:g}" for ws in weight_scales])
plt.xlabel("learning rate")
plt.ylabel("weight scale")
plt.title(f"{len(hidden_dims) + 1}-layer net on {num_train} images")
for i in range(len(weight_scales)):
    for j in range(len(learning_rates)):
        plt.text(j, i, f"{best_train_acc[i, j]:.2f}", ha="center", va="center", color="w")
plt.show()

# %%
weight_scale = 1e-1  # Experiment with this!
learning_rate = 1e-3  # Experiment with this!
solver = overfit(hidden_dims, weight_scale, learning_rate, verbose=True)

plt.plot(solver.loss_history, "o-")
plt.title("Five-layer net: training loss")
plt.xlabel("Iteration")
plt.ylabel("Training loss")
plt.show()

# %% [markdown]
# ## Inline question 1
#
# Compare training the three-layer net and the five-layer net on the 50 images. Which of the two
# was more sensitive to the initial weight scale, in the sense that fewer scales worked? Explain
# why, thinking about what happens to the size of the activations and of the gradients as they
# pass through many layers whose weights are all too small, or all too large.

# %% [markdown]
# <!-- answer: fc-nets-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Update rules
#
# Plain SGD steps straight down the current gradient, which makes slow progress along shallow
# directions of the loss and oscillates across steep ones. The rules below keep some memory of
# past gradients to do better. Implement each one in `optim.py`; each takes the parameter, its
# gradient and a `config` dict holding its hyperparameters and state, and returns the updated
# parameter and config.
#
# ### SGD with momentum
#
# Momentum keeps a velocity, a running sum of past steps that decays by a factor `momentum` each
# step, and moves the parameter along it:
# `v = momentum * v - learning_rate * dw`, then `w = w + v`. Gradients that agree from step to
# step build speed, and those that flip sign cancel out. Check your `sgd_momentum`:

# %%
def check_entries(label, actual, expected):
    """Print the relative error of selected entries against their expected values."""
    for key, value in expected.items():
        print(f"{label}{key}: relative error {rel_error(actual[key], value):.2e}")


N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)

next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
check_entries("next_w", next_w, {(0, 0): 0.1406, (3, 4): 1.4096})
check_entries("velocity", config["velocity"], {(0, 0): 0.5406})

# %% [markdown]
# Now train a six-layer network with plain SGD and with SGD+momentum. Momentum should lower the
# loss noticeably faster. The helper below trains one network per update rule with the same
# initial weights and minibatches, so that only the rule differs; we will call it again for the
# other rules.

# %%
train_subset = {
    "X_train": data["X_train"][:2000],
    "y_train": data["y_train"][:2000],
    "X_val": data["X_val"],
    "y_val": data["y_val"],
}


def compare_update_rules(rules, num_epochs=5):
    """Train the same six-layer net with each update rule; returns {rule: Solver}."""
    solvers = {}
    for rule, learning_rate in rules.items():
        print(f"Training with {rule} (learning rate {learning_rate})")
        np.random.seed(0)
        model = FullyConnectedNet([100] * 5, weight_scale=5e-2)
        solver = Solver(
            model,
            train_subset,
            update_rule=rule,
            optim_config={"learning_rate": learning_rate},
            num_epochs=num_epochs,
            batch_size=100,
            num_train_samples=500,
            verbose=False,
        )
        solver.train()
        print(f"  final training loss {np.mean(solver.loss_history[-10:]):.3f}, "
              f"best validation accuracy {solver.best_val_acc:.3f}")
        solvers[rule] = solver
    return solvers


def plot_training(solvers):
    """Training loss, and training and validation accuracy per epoch, for several runs."""
    fig, (ax_loss, ax_train, ax_val) = plt.subplots(3, 1, figsize=(10, 12))
    for label, solver in solvers.items():
        ax_loss.plot(solver.loss_history, "o", markersize=3, label=label)
        ax_train.plot(solver.train_acc_history, "-o", label=label)
        ax_val.plot(solver.val_acc_history, "-o", label=label)
    for ax, title in zip(
        (ax_loss, ax_train, ax_val), ("Training loss", "Training accuracy", "Validation accuracy")
    ):
        ax.set_title(title)
        ax.set_xlabel("Iteration" if ax is ax_loss else "Epoch")
        ax.legend(loc="best")
    fig.tight_layout()
    plt.show()


solvers = compare_update_rules({"sgd": 5e-3, "sgd_momentum": 5e-3})
plot_training(solvers)

# %% [markdown]
# ### RMSProp and Adam
#
# RMSProp divides each parameter's step by a running root mean square of its recent gradients,
# so every parameter gets a step size suited to the scale of its own gradients. Adam combines that
# per-parameter scaling with momentum, and corrects both running averages for starting at zero.
# Implement `rmsprop` and `adam` in `optim.py` (Adam in full, with the bias correction: increment
# `t` before using it) and check them:

# %%
cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
check_entries("rmsprop next_w", next_w, {(0, 0): -0.39223849})
check_entries("rmsprop cache", config["cache"], {(0, 0): 0.5976})

m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
check_entries("adam next_w", next_w, {(0, 0): -0.40094747, (3, 4): 0.59801459})
check_entries("adam v", config["v"], {(0, 0): 0.69966})
check_entries("adam m", config["m"], {(0, 0): 0.48})

# %% [markdown]
# Now the same six-layer net with all four rules. The adaptive rules usually start much faster.

# %%
solvers.update(compare_update_rules({"rmsprop": 1e-4, "adam": 1e-3}))
plot_training(solvers)

# %% [markdown]
# ## Inline question 2
#
# AdaGrad is an older relative of RMSProp: it keeps a cache of the *sum* of all squared gradients
# seen so far, `cache += dw**2`, and updates `w -= learning_rate * dw / (np.sqrt(cache) + eps)`.
# Training a network with AdaGrad, people often find that the updates become very small long
# before the loss stops improving. Explain why this happens. Would Adam suffer from the same
# problem? Why or why not?

# %% [markdown]
# <!-- answer: fc-nets-q2 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Train a good model
#
# Train the best fully connected model you can and store it in `best_model`: the grader checks
# its accuracy on images it has kept aside, after subtracting your `mean_image` from them. Things
# to try: the width and depth of the network, the weight scale, the update rule and learning
# rate, the learning rate decay, L2 regularisation, the number of epochs. Batch normalisation
# and dropout come in the next notebooks; you may come back and use them here once they work.
#
# Keep the training short enough for the grader to rerun (well under a minute). You may load
# more training images above if you like. With the embedded synthetic dataset a fully connected
# net has a hard time (it must learn every shape at every position separately), so do not expect
# high accuracy: compare your settings with each other. On CIFAR-10 classic numbers are around
# 50% validation accuracy with the full training set.

# %%
np.random.seed(0)
best_model = FullyConnectedNet([100, 100], weight_scale=5e-2, reg=0.0)
best_solver = Solver(
    best_model,
    data,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    lr_decay=0.95,
    num_epochs=10,
    batch_size=100,
    print_every=100,
)
start = time.perf_counter()
best_solver.train()
print(f"trained in {time.perf_counter() - start:.1f} s")
plot_training({"best model": best_solver})

# %% [markdown]
# ## Test the model
#
# Accuracy on the validation set, which guided your choices, and on the test set, which you
# should look at only once you have made them.

# %%
y_val_pred = np.argmax(best_model.loss(data["X_val"]), axis=1)
y_test_pred = np.argmax(best_model.loss(data["X_test"]), axis=1)
print(f"Validation accuracy: {(y_val_pred == data['y_val']).mean():.3f}")
print(f"Test accuracy: {(y_test_pred == data['y_test']).mean():.3f}")

# %% [markdown]
# ## Inline question 3
#
# Which of the hyperparameters you tried for `best_model` made the biggest difference to its
# validation accuracy, and which made almost none? Is the gap between its training and
# validation accuracy large or small, and what does that suggest you should try next?

# %% [markdown]
# <!-- answer: fc-nets-q3 -->
# **Your answer:** *fill this in*
