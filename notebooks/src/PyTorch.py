# %% [markdown]
# # PyTorch
#
# So far you have written every layer by hand, forward and backward. Frameworks such as PyTorch
# do the bookkeeping for you: you describe the forward computation with tensors, and *autograd*
# records it and computes every gradient when you ask for one. They also run the same code on a
# GPU, and come with ready-made layers, initialisations and optimisers. From now on you may use
# the framework for the parts you have already mastered by hand.
#
# This notebook introduces PyTorch at three levels of abstraction, on one network:
#
# | part | API | flexibility | convenience |
# | --- | --- | --- | --- |
# | II | barebones: tensors and autograd | high | low |
# | III | `nn.Module` | high | medium |
# | IV | `nn.Sequential` | low | high |
#
# and ends (part V) with an open-ended challenge: train the best network you can.
#
# You will work in `pytorch_convnets.py` of your package: `three_layer_convnet`,
# `init_three_layer_convnet`, `ThreeLayerConvNet` and `build_sequential_convnet`. The helpers
# this notebook uses (`flatten`, `random_weight`, the training loops...) are given there too;
# read them, they are short. The official [PyTorch tutorials](https://pytorch.org/tutorials/)
# and [API documentation](https://pytorch.org/docs/stable/) are the place to look things up.
#
# **Setting up.** This part needs PyTorch (the CPU build is enough): for example
# `pip install torch`. Everything runs on the CPU, in float32, with small amounts of data, so
# that the whole notebook takes a couple of minutes.
#
# As before: answer the inline questions in the cells showing "**Your answer:**", keeping their
# hidden first line, and make sure the notebook runs from top to bottom in a fresh kernel. At
# the end it must leave your challenge network in the variable `best_model`.

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

import torch
import torch.nn.functional as F
from torch import nn

from a2.data_utils import get_class_names
from a2.pytorch_convnets import (
    DTYPE,
    Flatten,
    ThreeLayerConvNet,
    TwoLayerFC,
    build_sequential_convnet,
    check_accuracy_part34,
    flatten,
    init_three_layer_convnet,
    random_weight,
    three_layer_convnet,
    train_part2,
    train_part34,
    two_layer_fc,
    zero_weight,
)
from a2.torch_data import load_tensors, make_loaders

plt.rcParams["figure.figsize"] = (10.0, 6.0)
plt.rcParams["image.interpolation"] = "nearest"
print(f"PyTorch {torch.__version__}, computing in {DTYPE} on the CPU")

# %% [markdown]
# ## Part I: preparation
#
# `torch_data.py` (given) turns the images of `get_CIFAR10_data` into tensors: CIFAR-10 where it
# is on your machine, the embedded synthetic dataset otherwise. Each colour channel is
# normalised with the mean and standard deviation of the training images; we keep those two in
# `channel_mean` and `channel_std`, because new images (the grader's, for instance) must go
# through the same step before a network trained here can classify them.
#
# `make_loaders` wraps the tensors in PyTorch `DataLoader`s that hand out minibatches of 64
# `(images, labels)`; the training loader shuffles, from a seed of its own, so every run sees the
# same batches.

# %%
data = load_tensors(num_training=4000, num_validation=500, num_test=500)
channel_mean = data["mean"]
channel_std = data["std"]
loaders = make_loaders(data, batch_size=64, seed=0)
loader_train, loader_val, loader_test = loaders["train"], loaders["val"], loaders["test"]
for key, value in data.items():
    print(f"{key}: {tuple(value.shape)} {value.dtype}")

# %%
# One training image of each class, with the normalisation undone so that it looks natural.
class_names = get_class_names()
fig, axes = plt.subplots(1, len(class_names), figsize=(14, 2))
for label, (ax, name) in enumerate(zip(axes, class_names)):
    index = int((data["y_train"] == label).nonzero()[0, 0])
    image = data["X_train"][index] * channel_std[0] + channel_mean[0]
    ax.imshow(image.permute(1, 2, 0).clamp(0, 255).byte().numpy())
    ax.set_title(name)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Part II: barebones PyTorch
#
# A PyTorch `Tensor` is an n-dimensional array, like a numpy array, that can also remember how
# it was computed. Create a tensor with `requires_grad=True` and every operation on it is
# recorded; calling `.backward()` on a scalar result then walks the record backwards and stores
# the gradient of that scalar with respect to the tensor in its `.grad` attribute. No backward
# functions to write: that is the whole point.
#
# The barebones level uses nothing else: parameters are plain tensors, the network is a Python
# function of its input and a list of parameters, and the update rule is written by hand.
#
# ### Flattening
#
# A fully connected layer wants one row per image, while convolutions want `(N, C, H, W)`:
# `flatten` (given) reshapes the latter into the former, without copying the data.

# %%
x = torch.arange(12).view(2, 1, 3, 2)
print("Before flattening:", tuple(x.shape))
print(x)
print("After flattening:", tuple(flatten(x).shape))
print(flatten(x))

# %% [markdown]
# ### Example: a two-layer network
#
# `two_layer_fc` (given) computes the scores of a two-layer fully connected ReLU network, without
# biases: `relu(flatten(x) @ w1) @ w2`. Read it: the forward pass is all there is. Run it on
# zeros to check the shapes: 64 images, 50 hidden units, 10 classes.

# %%
x = torch.zeros((64, 50), dtype=DTYPE)
w1 = torch.zeros((50, 42), dtype=DTYPE)
w2 = torch.zeros((42, 10), dtype=DTYPE)
print("scores:", tuple(two_layer_fc(x, [w1, w2]).shape), "(expected (64, 10))")

# %% [markdown]
# ### A three-layer convolutional network
#
# Implement `three_layer_convnet` in `pytorch_convnets.py`. The network is
#
# 1. a convolution with `channel_1` filters of size 5x5 and zero padding 2, with a bias;
# 2. ReLU;
# 3. a convolution with `channel_2` filters of size 3x3 and zero padding 1, with a bias;
# 4. ReLU;
# 5. a fully connected layer, with a bias, giving one score per class.
#
# No softmax: the loss function below takes the scores. Both convolutions keep the image's
# size, so the fully connected layer sees `channel_2 * 32 * 32` numbers per image. Look up
# `torch.nn.functional.conv2d` (imported as `F`); the whole function takes a few lines.
#
# Check the shapes: with 6 and 9 filters and 10 classes, 64 images give 64 rows of 10 scores.

# %%
x = torch.zeros((64, 3, 32, 32), dtype=DTYPE)
conv_w1 = torch.zeros((6, 3, 5, 5), dtype=DTYPE)
conv_b1 = torch.zeros((6,), dtype=DTYPE)
conv_w2 = torch.zeros((9, 6, 3, 3), dtype=DTYPE)
conv_b2 = torch.zeros((9,), dtype=DTYPE)
fc_w = torch.zeros((9 * 32 * 32, 10), dtype=DTYPE)
fc_b = torch.zeros((10,), dtype=DTYPE)
scores = three_layer_convnet(x, [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b])
print("scores:", tuple(scores.shape), "(expected (64, 10))")

# %% [markdown]
# And the gradients: autograd's `gradcheck` compares them with centred differences, as
# `eval_numerical_gradient` did, on a tiny network in float64 (in float32 the differences would
# be swamped by rounding). It prints `True` when every gradient matches.

# %%
torch.manual_seed(0)
tiny = [p.detach().double().requires_grad_() for p in
        [torch.randn(2, 2, 5, 5), torch.randn(2), torch.randn(3, 2, 3, 3), torch.randn(3),
         torch.randn(3 * 4 * 4, 4), torch.randn(4)]]
x = torch.randn(2, 2, 4, 4, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda x, *p: three_layer_convnet(x, p), (x, *tiny)))

# %% [markdown]
# ### Initialisation
#
# `random_weight(shape)` (given) draws a weight tensor with *Kaiming normal* initialisation
# (He et al., 2015): Gaussian with standard deviation $\sqrt{2 / \text{fan\_in}}$, where fan_in
# is the number of inputs of each unit. It keeps the variance of the activations about the same
# from one ReLU layer to the next, so there is no weight scale to tune by hand.
# `zero_weight(shape)` gives zeros, for the biases. Both come back with `requires_grad=True`.

# %%
torch.manual_seed(0)
w = random_weight((3072, 100))
print(f"std {w.std().item():.5f}, expected {np.sqrt(2 / 3072):.5f}; requires_grad: {w.requires_grad}")

# %% [markdown]
# ### Checking the accuracy, and training
#
# `check_accuracy_part2(loader, model_fn, params)` (given) runs a barebones network over a
# loader and prints how many images it classifies correctly. Gradients are not needed there,
# so it runs under `torch.no_grad()`, which tells autograd not to record anything.
#
# `train_part2(model_fn, params, learning_rate, loader_train=..., loader_val=...)` (given)
# trains with plain stochastic gradient descent on the softmax loss
# (`torch.nn.functional.cross_entropy`): for each minibatch it computes the loss, calls
# `loss.backward()`, and updates every parameter with `w -= learning_rate * w.grad`. Read it,
# then train the two-layer network for one epoch. Expect only a little better than the 10% of
# chance (about 15% on the synthetic images): a fully connected network must learn every shape
# at every position separately, which takes far more than one epoch of a few thousand images.

# %%
torch.manual_seed(0)
hidden_layer_size = 1000
params = [random_weight((3 * 32 * 32, hidden_layer_size)), random_weight((hidden_layer_size, 10))]
train_part2(two_layer_fc, params, 1e-2, loader_train=loader_train, loader_val=loader_val,
            print_every=20)

# %% [markdown]
# ### Training the three-layer network
#
# Implement `init_three_layer_convnet(in_channel, channel_1, channel_2, num_classes)`: it
# returns the six parameters of `three_layer_convnet`, in that order, the weights from
# `random_weight` and the biases from `zero_weight`. Then train the network for one epoch: a
# working implementation does clearly better than the two-layer network (about 30% on the
# synthetic images; the figure varies from seed to seed at this early stage of training).

# %%
torch.manual_seed(0)
params = init_three_layer_convnet(3, 32, 16, 10)
print("parameter shapes:", [tuple(p.shape) for p in params])
train_part2(three_layer_convnet, params, 3e-2, loader_train=loader_train, loader_val=loader_val,
            print_every=20)

# %% [markdown]
# ## Inline question 1
#
# `train_part2` changes the parameters inside `with torch.no_grad():`, and sets each gradient
# back to zero after using it. What would go wrong without the `no_grad` block? And what would
# the updates look like if the gradients were never set back to zero?

# %% [markdown]
# <!-- answer: pytorch-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Part III: the Module API
#
# Keeping a list of parameters by hand does not scale. An `nn.Module` is a layer, or a whole
# network, that owns its parameters: make your layers attributes in `__init__` (after calling
# `super().__init__()`) and `model.parameters()` finds all of them, for an optimiser from
# `torch.optim` to update. `forward(x)` describes the computation, and calling `model(x)` runs
# it. Layers such as `nn.Linear` and `nn.Conv2d` create and initialise their own weights, which
# `nn.init` can re-draw.
#
# `TwoLayerFC` (given) is the two-layer network of part II as a module. Check its output shape:

# %%
x = torch.zeros((64, 3, 16, 16), dtype=DTYPE)
model = TwoLayerFC(3 * 16 * 16, 42, 10)
print("scores:", tuple(model(x).shape), "(expected (64, 10))")

# %% [markdown]
# ### A three-layer convolutional network as a module
#
# Implement `ThreeLayerConvNet(in_channel, channel_1, channel_2, num_classes)`: the network of
# part II, with `nn.Conv2d` and `nn.Linear` layers. Initialise every weight with
# `nn.init.kaiming_normal_` and every bias with `nn.init.zeros_`.

# %%
x = torch.zeros((64, 3, 32, 32), dtype=DTYPE)
model = ThreeLayerConvNet(in_channel=3, channel_1=12, channel_2=8, num_classes=10)
print("scores:", tuple(model(x).shape), "(expected (64, 10))")
for name, parameter in model.named_parameters():
    print(f"{name}: {tuple(parameter.shape)}, std {parameter.std().item():.4f}")

# %% [markdown]
# ### Training with an optimiser
#
# `train_part34(model, optimizer, epochs, loader_train=..., loader_val=...)` (given) is the
# training loop of parts III and IV: for each minibatch, `optimizer.zero_grad()`,
# `loss.backward()`, `optimizer.step()`. `check_accuracy_part34` puts the model in evaluation
# mode while it measures, which matters for layers such as dropout and batch normalisation.
#
# First the two-layer network, with plain SGD:

# %%
torch.manual_seed(0)
model = TwoLayerFC(3 * 32 * 32, 1000, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
train_part34(model, optimizer, loader_train=loader_train, loader_val=loader_val, print_every=20)

# %% [markdown]
# Then your `ThreeLayerConvNet`, with SGD and Nesterov momentum, for one epoch. Expect clearly
# better than the two-layer network, as in part II.

# %%
torch.manual_seed(0)
model = ThreeLayerConvNet(in_channel=3, channel_1=12, channel_2=8, num_classes=10)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, nesterov=True)
train_part34(model, optimizer, loader_train=loader_train, loader_val=loader_val, print_every=20)

# %% [markdown]
# ## Part IV: the Sequential API
#
# Many networks are a plain stack of layers, each feeding the next. `nn.Sequential` builds such a
# module from the layers in order, with no class to write: the price is that it can express
# nothing else (no skip connections, no two inputs). The `Flatten` module (given) makes
# `flatten` a layer. Here is the two-layer network once more:

# %%
torch.manual_seed(0)
two_layer = nn.Sequential(Flatten(), nn.Linear(3 * 32 * 32, 1000), nn.ReLU(),
                          nn.Linear(1000, 10))
optimizer = torch.optim.SGD(two_layer.parameters(), lr=1e-2, momentum=0.9, nesterov=True)
train_part34(two_layer, optimizer, loader_train=loader_train, loader_val=loader_val,
             print_every=20)

# %% [markdown]
# ### The three-layer network, sequentially
#
# Implement `build_sequential_convnet(in_channel, channel_1, channel_2, num_classes,
# learning_rate)`: it returns the same three-layer network as an `nn.Sequential` (PyTorch's
# default initialisation is fine) and a `torch.optim.SGD` optimiser for its parameters with the
# given learning rate and Nesterov momentum 0.9. Train it for one epoch: expect clearly better
# than the plain SGD runs above, which is what momentum is for.

# %%
torch.manual_seed(0)
model, optimizer = build_sequential_convnet(3, 32, 16, 10, learning_rate=1e-2)
print(model)
train_part34(model, optimizer, loader_train=loader_train, loader_val=loader_val, print_every=20)

# %% [markdown]
# ## Inline question 2
#
# You have now written the same network three ways. Name one network you could not write as an
# `nn.Sequential` and say why. What does the barebones style let you do that `nn.Module`
# makes awkward, if anything, and what does `nn.Module` give you that the barebones style
# lacks?

# %% [markdown]
# <!-- answer: pytorch-q2 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Part V: the challenge
#
# Now build and train the best network you can, with any of the three APIs, and leave it in
# `best_model`. The grader checks its accuracy on images it has kept aside, after putting them
# through the same normalisation (`channel_mean`, `channel_std`), in evaluation mode.
#
# Things to try:
#
# - **Architecture**: more and wider convolutional layers; pooling (`nn.MaxPool2d`) or strided
#   convolutions to shrink the images as the channels grow; a global average pool
#   (`nn.AdaptiveAvgPool2d(1)`) before the last layer instead of a huge fully connected one.
# - **Normalisation**: `nn.BatchNorm2d` after convolutions makes training faster and less
#   sensitive to the learning rate.
# - **Regularisation**: dropout (`nn.Dropout`), weight decay (the optimiser's `weight_decay`).
# - **Optimisation**: `torch.optim.Adam`, learning rates, more epochs, more training images
#   (load more in part I), a learning rate schedule (`torch.optim.lr_scheduler`).
#
# Change one thing at a time and compare on the validation set; look at the test set only once,
# at the end. Keep the training short enough for the grader to rerun the notebook: well under a
# minute on a laptop CPU. The network below is a starting point: it should already beat every
# network above.

# %%
torch.manual_seed(0)


def conv_block(channels_in, channels_out):
    """3x3 convolution, batch normalisation, ReLU, then halve the image with a 2x2 max pool."""
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


best_model = nn.Sequential(
    conv_block(3, 16),  # 16 x 16 x 16
    conv_block(16, 32),  # 32 x 8 x 8
    conv_block(32, 64),  # 64 x 4 x 4
    nn.AdaptiveAvgPool2d(1),  # 64 x 1 x 1: the average of each channel
    nn.Flatten(),
    nn.Linear(64, 10),
)
optimizer = torch.optim.Adam(best_model.parameters(), lr=3e-3)
start = time.perf_counter()
train_part34(best_model, optimizer, epochs=2, loader_train=loader_train, loader_val=loader_val,
             print_every=40)
print(f"trained in {time.perf_counter() - start:.1f} s")

# %% [markdown]
# ### Test the model
#
# Your final network's accuracy on the validation set, which guided your choices, and on the
# test set, which you should look at once.

# %%
print("Validation set:")
check_accuracy_part34(loader_val, best_model)
print("Test set:")
check_accuracy_part34(loader_test, best_model)

# %% [markdown]
# ## Inline question 3
#
# Describe what you did: the network and training settings of `best_model`, what else you tried
# and how it compared on the validation set, and what you would try next with more time.

# %% [markdown]
# <!-- answer: pytorch-q3 -->
# **Your answer:** *fill this in*
