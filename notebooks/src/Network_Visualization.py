# %% [markdown]
# # Network visualisation
#
# A trained network is usually judged by its accuracy alone. This notebook looks inside one
# instead, with a single tool: the gradient of a class score with respect to the **input image**
# rather than the weights. The weights stay fixed throughout; only images change.
#
# - **Saliency maps** (Simonyan et al., 2014) show which pixels the score of the correct class is
#   most sensitive to.
# - **Fooling images** (Szegedy et al., 2014) change an image by an almost invisible amount until
#   the network assigns it to a class of our choosing.
# - **Class visualisation** (Simonyan et al., 2014; Yosinski et al., 2015) grows an image from
#   noise that the network scores highly as one class, which shows what it has learned to look for.
#
# The classic version of this notebook studies a SqueezeNet trained on ImageNet. Here the network
# is a small SqueezeNet-style model (about 30,000 parameters, in `squeezenet.py`) that the course
# trained on the synthetic 32x32 shape images of the earlier notebooks; the pictures are small,
# but the ideas are the same. This notebook uses PyTorch (`pip install torch`).
#
# You will work in `net_visualization_pytorch.py` (`compute_saliency_maps`,
# `make_fooling_image`, `class_visualization_update_step`).
#
# As before: answer the inline question in the cell showing "**Your answer:**", keeping its
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

import torch

from a2.net_visualization_pytorch import (
    compute_saliency_maps,
    create_class_visualization,
    deprocess,
    load_images,
    make_fooling_image,
    preprocess,
)
from a2.squeezenet import load_pretrained_model

plt.rcParams["figure.figsize"] = (10.0, 6.0)
plt.rcParams["image.interpolation"] = "nearest"
torch.set_num_threads(1)

# %% [markdown]
# ## The model and the images
#
# `load_pretrained_model` returns the trained model in evaluation mode with its parameters
# frozen (`requires_grad` is False), so backpropagation computes gradients for the input image
# only. `load_images` gives synthetic test images the model never saw in training, one of each
# class in turn, as `uint8` arrays of shape (N, 32, 32, 3) ready to display; `preprocess` turns
# one of them into the normalised (1, 3, 32, 32) tensor the model takes, and `deprocess` turns a
# tensor back into a picture.
#
# The model returns raw class scores, with no softmax and no ReLU at the end. All three
# techniques work with these unnormalised scores.

# %%
model = load_pretrained_model()
X, y, class_names = load_images(10)
X_tensor = torch.cat([preprocess(x) for x in X])
y_tensor = torch.as_tensor(y, dtype=torch.long)
with torch.no_grad():
    predicted = model(X_tensor).argmax(dim=1)

plt.figure(figsize=(14, 3))
for i in range(len(X)):
    plt.subplot(1, len(X), i + 1)
    plt.imshow(X[i])
    plt.title(f"{class_names[y[i]]}\n(model: {class_names[predicted[i]]})", fontsize=9)
    plt.axis("off")
plt.show()

# %% [markdown]
# ## Saliency maps
#
# A saliency map tells us how much each pixel matters to the score of the image's correct class.
# Compute the gradient of that score (the unnormalised score, not a loss) with respect to the
# image: an array of shape (3, H, W). Take its absolute value and the maximum over the three
# colour channels, which leaves one non-negative number per pixel, an (H, W) map.
#
# Implement `compute_saliency_maps`. Do the whole batch in one forward and one backward pass:
# since every image's score depends only on that image, the gradient of the sum of the correct
# scores holds each image's own gradient. `torch.gather` picks one entry per row out of the
# scores.

# %%
def show_saliency_maps(X, y):
    X_tensor = torch.cat([preprocess(x) for x in X])
    y_tensor = torch.as_tensor(y, dtype=torch.long)
    saliency = compute_saliency_maps(X_tensor, y_tensor, model).numpy()
    N = len(X)
    plt.figure(figsize=(14, 3.5))
    for i in range(N):
        plt.subplot(2, N, i + 1)
        plt.imshow(X[i])
        plt.title(class_names[y[i]], fontsize=9)
        plt.axis("off")
        plt.subplot(2, N, N + i + 1)
        plt.imshow(saliency[i], cmap=plt.cm.hot)
        plt.axis("off")
    plt.show()
    return saliency


saliency = show_saliency_maps(X, y)
print(f"saliency maps: shape {saliency.shape}, all non-negative: {bool((saliency >= 0).all())}")

# %% [markdown]
# The bright pixels should lie mostly on and around each shape. Some clutter (a line segment
# near the shape, a speck) may light up too: the model does look at it, if only to rule it out.

# %% [markdown]
# ## Inline question 1
#
# A classmate proposes a shortcut for class visualisation: instead of the gradient, add the
# saliency map of the target class to the image at every step of gradient ascent, since it
# already says which pixels matter for that class. Would this raise the class's score the way a
# gradient step does? Explain why or why not, in terms of what the saliency map keeps and what
# it throws away.

# %% [markdown]
# <!-- answer: netvis-q1 -->
# **Your answer:** *fill this in*

# %% [markdown]
# ## Fooling images
#
# The same gradient can be used to change an image on purpose. Given an image and any target
# class, take gradient-ascent steps on the target class's score until the model predicts the
# target. Each step adds `learning_rate * g / ||g||`, where `g` is the gradient of the target
# score with respect to the image and `||g||` its L2 norm, so all steps have the same size. Stop
# as soon as the prediction is the target, and after at most 100 steps.
#
# Implement `make_fooling_image`. When you are done, the fooling image below should be assigned
# to the target class, and the difference from the original, magnified ten times in the last
# picture, should be small and spread over the image rather than redrawing the shape.

# %%
idx = 0
target_y = 6  # checker
X_fooling = make_fooling_image(X_tensor[idx : idx + 1], target_y, model)

with torch.no_grad():
    fooled = model(X_fooling).argmax(dim=1).item()
print(f"original class: {class_names[y[idx]]}, target: {class_names[target_y]}, "
      f"model now says: {class_names[fooled]}")
assert fooled == target_y, "the model is not fooled"
change = (X_fooling - X_tensor[idx : idx + 1]).norm() / X_tensor[idx].norm()
print(f"relative size of the change: {change:.4f}")

original = deprocess(X_tensor[idx], should_rescale=False)
fooling = deprocess(X_fooling, should_rescale=False)
pictures = {
    class_names[y[idx]]: original,
    class_names[target_y]: fooling,
    "difference": np.clip(np.abs(fooling - original), 0, 1),
    "difference x10": np.clip(10 * np.abs(fooling - original), 0, 1),
}
plt.figure(figsize=(12, 3.5))
for i, (title, picture) in enumerate(pictures.items()):
    plt.subplot(1, 4, i + 1)
    plt.imshow(picture)
    plt.title(title)
    plt.axis("off")
plt.show()

# %% [markdown]
# Try a few other images and targets. Most pairs take a dozen or so steps: for this model, as for
# the large ImageNet networks, a small change in the right direction moves an image across a
# decision boundary. (With this small model about one pair in ten needs more than 100 steps;
# the pairs below are not among them.)

# %%
for idx, target_y in [(1, 0), (3, 9), (5, 2), (8, 4)]:
    X_fooling = make_fooling_image(X_tensor[idx : idx + 1], target_y, model)
    with torch.no_grad():
        now = model(X_fooling).argmax(dim=1).item()
    change = (X_fooling - X_tensor[idx : idx + 1]).norm() / X_tensor[idx].norm()
    print(f"{class_names[y[idx]]:>9} -> {class_names[target_y]:<9} model says "
          f"{class_names[now]:<9} relative change {change:.4f}")

# %% [markdown]
# ## Class visualisation
#
# Now start from random noise and ask for an image of one class. Gradient ascent on the class's
# score alone makes an image whose pixels grow without bound, so we maximise a regularised
# objective,
#
# $$I^* = \arg\max_I \left( s_y(I) - \lambda \|I\|_2^2 \right),$$
#
# where $s_y(I)$ is the unnormalised score of class $y$ for image $I$ and $\lambda$ (`l2_reg`)
# the strength of the penalty. Implement `class_visualization_update_step`: one gradient-ascent
# step on this objective, `img += learning_rate * gradient`, in place, leaving the image's
# gradient cleared for the next step.
#
# The given `create_class_visualization` (in the same module) calls your step in a loop and adds
# implicit regularisation that keeps the image natural: before each step it shifts the image by
# a random couple of pixels (jitter), afterwards it clamps the pixels to the range real images
# have, and every few steps it blurs the image slightly.

# %%
def show_progress(t, img):
    with torch.no_grad():
        top = model(img).argmax(dim=1).item()
    print(f"iteration {t + 1}: model says {class_names[top]}")


target_y = 8  # frame
img = create_class_visualization(target_y, model, num_iterations=100, show_every=25,
                                 callback=show_progress)
plt.figure(figsize=(4, 4))
plt.imshow(deprocess(img))
plt.title(class_names[target_y])
plt.axis("off")
plt.show()

# %% [markdown]
# Every class in turn. The images will not look like the clean shapes of the dataset, but many
# show the class's typical parts: edges and corners, rings, stripes or checks, repeated across
# the image since the network detects its patterns anywhere.

# %%
start = time.perf_counter()
plt.figure(figsize=(14, 3))
for target_y, name in enumerate(class_names):
    img = create_class_visualization(target_y, model, num_iterations=100, seed=target_y)
    with torch.no_grad():
        top = model(img).argmax(dim=1).item()
    plt.subplot(1, len(class_names), target_y + 1)
    plt.imshow(deprocess(img))
    plt.title(f"{name}\n(model: {class_names[top]})", fontsize=9)
    plt.axis("off")
plt.show()
print(f"visualised {len(class_names)} classes in {time.perf_counter() - start:.1f} s")
