# %% [markdown]
# # Dropout
#
# Dropout (Srivastava et al., 2014) regularises a network by switching off a random subset of
# its units on every forward pass during training. No unit can count on any particular other
# unit being present, so the network cannot rely on fragile co-adaptations between units, and it
# behaves somewhat like an average over the many thinned networks it samples. At test time every
# unit is kept.
#
# In this assignment `p` is the probability of **keeping** a unit. We implement *inverted*
# dropout: the units kept during training are divided by `p`, so that the expected value of every
# output is the same in training and at test time, and the test-time forward pass is simply the
# identity.
#
# You will work in `layers.py` (`dropout_forward`, `dropout_backward`) and in
# `classifiers/fc_net.py` (the `dropout_keep_ratio` option of `FullyConnectedNet`).
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
from a2.layers import dropout_backward, dropout_forward
from a2.solver import Solver

plt.rcParams["figure.figsize"] = (10.0, 6.0)

# %%
# A small part of the dataset, for the regularisation experiment at the end.
data = get_CIFAR10_data(num_training=500, num_validation=500, num_test=10)
for key, value in data.items():
    print(f"{key}: {value.shape}")

# %% [markdown]
# ## Forward pass
#
# Implement `dropout_forward`. In training mode, keep every unit with probability `p` and scale
# the kept ones by `1 / p`; in test mode, return the input unchanged. When `dropout_param`
# holds a `seed`, seed numpy's random generator with it first, which makes the mask reproducible
# (gradient checks depend on that).
#
# The cell below applies dropout to a large array whose entries are all near 10. In training mode
# the mean of the output should stay near the mean of the input, and the fraction of zeros should
# be about `1 - p`; in test mode nothing should change.

# %%
np.random.seed(231)
x = np.random.randn(500, 500) + 10

for p in (0.25, 0.4, 0.7):
    out_train, _ = dropout_forward(x, {"mode": "train", "p": p})
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})
    print(f"keep probability p = {p}")
    print(f"  mean of the input:                 {x.mean():.4f}")
    print(f"  mean of the train-time output:     {out_train.mean():.4f}")
    print(f"  mean of the test-time output:      {out_test.mean():.4f}")
    print(f"  fraction of zeros at train time:   {(out_train == 0).mean():.4f} "
          f"(expected about {1 - p:.2f})")
    print(f"  fraction of zeros at test time:    {(out_test == 0).mean():.4f}")

# %% [markdown]
# ## Backward pass
#
# Implement `dropout_backward`: the gradient flows only through the units that were kept, scaled
# as they were. A fixed seed makes the mask the same on every forward call of the numeric
# gradient, so the two can be compared.

# %%
np.random.seed(231)
x = np.random.randn(10, 10) + 10
dout = np.random.randn(*x.shape)

dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
out, cache = dropout_forward(x, dropout_param)
dx = dropout_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda xx: dropout_forward(xx, dropout_param)[0], x, dout)

# The error should be about 1e-11 or less.
print(f"dx relative error: {rel_error(dx, dx_num):.2e}")

# %% [markdown]
# ## Inline question 1
#
# Suppose the training-time forward pass did not divide the kept units by `p`, and the test-time
# pass still returned its input unchanged. What would go wrong when the trained network is used
# at test time, and how could the test-time pass be changed to compensate?

# %% [markdown]
# <!-- answer: dropout-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Fully connected networks with dropout
#
# Add dropout to `FullyConnectedNet`: when `dropout_keep_ratio` is not 1, every hidden layer is
# followed by a dropout layer (after its ReLU) with that keep probability. All dropout layers
# share `self.dropout_param`, which also carries the seed. Check the gradients for several keep
# ratios: the errors should be about `1e-6` or less, though a few `W` entries near a ReLU kink
# may show more.

# %%
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))

for keep_ratio in (1, 0.75, 0.5):
    print(f"dropout keep ratio = {keep_ratio}")
    model = FullyConnectedNet(
        [H1, H2],
        input_dim=D,
        num_classes=C,
        weight_scale=5e-2,
        dtype=np.float64,
        dropout_keep_ratio=keep_ratio,
        seed=123,
    )
    loss, grads = model.loss(X, y)
    print(f"  initial loss: {loss:.6f}")
    for name in sorted(grads):
        numeric = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5
        )
        print(f"  {name} relative error: {rel_error(numeric, grads[name]):.2e}")

# %% [markdown]
# ## Regularisation experiment
#
# Train two identical two-layer networks on only 500 images, one without dropout and one keeping
# a quarter of the hidden units. With so few images the network without dropout quickly
# memorises them; compare the training and validation accuracies of the two over the epochs.

# %%
keep_ratios = (1, 0.25)
solvers = {}
start = time.perf_counter()
for keep_ratio in keep_ratios:
    np.random.seed(231)
    model = FullyConnectedNet([256], dropout_keep_ratio=keep_ratio)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 5e-4},
        num_epochs=25,
        batch_size=100,
        verbose=False,
    )
    solver.train()
    solvers[keep_ratio] = solver
    print(f"keep ratio {keep_ratio}: final training accuracy "
          f"{solver.train_acc_history[-1]:.3f}, best validation accuracy {solver.best_val_acc:.3f}")
print(f"trained in {time.perf_counter() - start:.1f} s")

fig, (ax_train, ax_val) = plt.subplots(1, 2, figsize=(14, 5))
for keep_ratio, solver in solvers.items():
    ax_train.plot(solver.train_acc_history, "-o", label=f"keep ratio {keep_ratio}")
    ax_val.plot(solver.val_acc_history, "-o", label=f"keep ratio {keep_ratio}")
ax_train.set_title("Training accuracy")
ax_val.set_title("Validation accuracy")
for ax in (ax_train, ax_val):
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Accuracy")
    ax.legend(loc="best")
plt.show()

# %% [markdown]
# ## Inline question 2
#
# Compare the two networks' training and validation accuracies in the plots. What do the curves
# tell you about what dropout does here? Would you expect the gap between the two networks to
# grow or shrink with ten times as many training images, and why?

# %% [markdown]
# <!-- answer: dropout-q2 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Inline question 3
#
# A network with dropout after its hidden layer regularises well at keep probability `p`. You
# now make the hidden layer much narrower, keeping everything else the same. Should you keep
# the same `p`, raise it, or lower it? Explain your reasoning in terms of how many units are
# active on a typical forward pass.

# %% [markdown]
# <!-- answer: dropout-q3 -->
# **Your answer:** *fill this in*
