"""Network visualisation: saliency maps, fooling images and class visualisation, in PyTorch.

You write the three functions marked for you; everything else here is given. The images are the
synthetic shapes of ``data_utils`` (32x32, channels-last uint8 as they are displayed) and the
model is the small SqueezeNet-style network in ``squeezenet.py``, trained on them.

``preprocess`` turns a displayable image into the normalised (1, 3, H, W) tensor the model
expects, and ``deprocess`` turns such a tensor back into an image ``plt.imshow`` can show.
"""

import numpy as np
import torch

from .data_utils import SYNTHETIC_CLASSES, get_synthetic_data

#: Class names by label: the synthetic dataset's shapes.
CLASS_NAMES = SYNTHETIC_CLASSES

#: Per-channel mean and standard deviation of the synthetic training images, on a 0..1 scale:
#: the model was trained on images normalised with them.
SYNTHETIC_MEAN = np.array([0.260, 0.259, 0.260], dtype=np.float32)
SYNTHETIC_STD = np.array([0.155, 0.154, 0.154], dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Given helpers
# ---------------------------------------------------------------------------------------------


def preprocess(img: np.ndarray) -> torch.Tensor:
    """One (H, W, 3) image in 0..255 -> a float32 tensor (1, 3, H, W), normalised per channel."""
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - SYNTHETIC_MEAN) / SYNTHETIC_STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def deprocess(img: torch.Tensor, should_rescale: bool = True) -> np.ndarray:
    """A (1, 3, H, W) or (3, H, W) tensor -> an (H, W, 3) float image in [0, 1] for imshow.

    Undoes the normalisation of ``preprocess``. With ``should_rescale`` the image is stretched
    to fill [0, 1] first, which shows the patterns of an image the model made up (whose values
    may lie far outside the range of real images); otherwise it is clipped.
    """
    x = img.detach().cpu().numpy().astype(np.float32)
    x = x.reshape(x.shape[-3:]).transpose(1, 2, 0)
    x = x * SYNTHETIC_STD + SYNTHETIC_MEAN
    if should_rescale:
        low, high = x.min(), x.max()
        x = (x - low) / max(high - low, 1e-8)
    return np.clip(x, 0.0, 1.0)


def load_images(num: int = 5) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``num`` synthetic test images to visualise, as (X, y, class_names).

    X is uint8 (num, 32, 32, 3), channels-last as displayed; y holds their labels. The images
    are the first test image of each class in turn, so the first ten cover every class once.
    They come from the synthetic test split, which the model never saw in training.
    """
    data = get_synthetic_data(num_training=0, num_validation=0, num_test=1000, subtract_mean=False)
    X_all, y_all = data["X_test"], data["y_test"]
    order = []
    for k in range(num):
        candidates = np.flatnonzero(y_all == k % len(CLASS_NAMES))
        order.append(candidates[k // len(CLASS_NAMES)])
    X = X_all[order].transpose(0, 2, 3, 1).astype(np.uint8)
    return X, y_all[order], CLASS_NAMES


def jitter(X: torch.Tensor, ox: int, oy: int) -> torch.Tensor:
    """Shift images (N, C, H, W) by ``ox`` pixels right and ``oy`` down, wrapping around.

    Random jitter between ascent steps keeps a generated image from exploiting the exact
    position of every pixel, which makes the patterns it grows smoother and more recognisable.
    """
    return torch.roll(X, shifts=(oy, ox), dims=(2, 3))


def _gaussian_kernel(sigma: float, truncate: float = 4.0) -> torch.Tensor:
    radius = max(int(truncate * sigma + 0.5), 1)
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def _mirrored(n: int, radius: int) -> torch.Tensor:
    """Indices of a length-``n`` axis padded by ``radius`` on each side, mirrored at its ends
    with the edge pixel repeated (..., 1, 0, | 0, 1, ..., n-1, | n-1, n-2, ...)."""
    i = torch.arange(-radius, n + radius) % (2 * n)
    return torch.where(i < n, i, 2 * n - 1 - i)


def blur_image(X: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian-blur images (N, C, H, W) in place, channel by channel, and return them.

    A separable filter (rows, then columns) with standard deviation ``sigma`` pixels, the image
    mirrored at its edges. Blurring now and then during class visualisation damps the
    high-frequency noise that gradient ascent tends to produce.
    """
    if sigma <= 0:
        return X
    kernel = _gaussian_kernel(sigma).to(X.dtype)
    radius = (len(kernel) - 1) // 2
    N, C, H, W = X.shape
    with torch.no_grad():
        x = X.reshape(N * C, 1, H, W)
        x = x.index_select(3, _mirrored(W, radius))
        x = torch.nn.functional.conv2d(x, kernel.view(1, 1, 1, -1))
        x = x.index_select(2, _mirrored(H, radius))
        x = torch.nn.functional.conv2d(x, kernel.view(1, 1, -1, 1))
        X.copy_(x.reshape(N, C, H, W))
    return X


def create_class_visualization(
    target_y: int,
    model: torch.nn.Module,
    num_iterations: int = 100,
    l2_reg: float = 1e-3,
    learning_rate: float = 2.0,
    max_jitter: int = 2,
    blur_every: int = 10,
    show_every: int = 0,
    seed: int = 0,
    callback=None,
) -> torch.Tensor:
    """Grow an image that ``model`` scores highly as ``target_y``, from random noise.

    Each iteration jitters the image randomly, takes one ``class_visualization_update_step``,
    undoes the jitter, clamps every pixel to the range real images have, and now and then blurs
    it. ``callback(t, img)`` is called every ``show_every`` iterations and after the last one
    (to plot progress). Returns the final (1, 3, 32, 32) image; deterministic in ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    img = torch.randn(1, 3, 32, 32, generator=generator).requires_grad_()
    low = torch.from_numpy(-SYNTHETIC_MEAN / SYNTHETIC_STD).view(1, 3, 1, 1)
    high = torch.from_numpy((1.0 - SYNTHETIC_MEAN) / SYNTHETIC_STD).view(1, 3, 1, 1)
    for t in range(num_iterations):
        ox, oy = torch.randint(-max_jitter, max_jitter + 1, (2,), generator=generator).tolist()
        with torch.no_grad():
            img.copy_(jitter(img, ox, oy))
        class_visualization_update_step(img, model, target_y, l2_reg, learning_rate)
        with torch.no_grad():
            img.copy_(jitter(img, -ox, -oy))
            img.copy_(torch.maximum(torch.minimum(img, high), low))
        if blur_every and t % blur_every == 0:
            blur_image(img.data, sigma=0.5)
        last = t == num_iterations - 1
        if callback is not None and (last or (show_every and t % show_every == 0)):
            callback(t, img)
    return img.detach()


# ---------------------------------------------------------------------------------------------
# Your code
# ---------------------------------------------------------------------------------------------


def compute_saliency_maps(X: torch.Tensor, y: torch.Tensor, model: torch.nn.Module) -> torch.Tensor:
    """Saliency maps of images ``X`` (N, 3, H, W) for their labels ``y`` (N,) under ``model``.

    The saliency of a pixel is the absolute value of the gradient of the correct class's score
    (the unnormalised score, not a probability or loss) with respect to that pixel, maximised
    over the three colour channels. Returns a tensor of shape (N, H, W). ``X`` itself is left as
    it was (no ``requires_grad``, no ``.grad``), and the model is not changed; it is in eval mode.
    """
    saliency = None
    # TODO: Make a copy of X that requires gradients, compute the scores of the correct classes
    # for the whole batch in one forward pass, backpropagate their sum (each image's score
    # depends on that image alone), and reduce the input's gradient to (N, H, W).
    # BEGIN SOLUTION
    X_var = X.detach().clone().requires_grad_(True)
    scores = model(X_var)
    correct = scores.gather(1, y.view(-1, 1).long()).sum()
    correct.backward()
    saliency = X_var.grad.abs().amax(dim=1)
    # END SOLUTION
    return saliency


def make_fooling_image(X: torch.Tensor, target_y: int, model: torch.nn.Module) -> torch.Tensor:
    """A copy of the image ``X`` (1, 3, H, W), changed just enough that ``model`` says ``target_y``.

    Gradient ascent on the (unnormalised) score of ``target_y``: each step computes the gradient
    g of that score with respect to the image and adds ``learning_rate * g / ||g||``, where
    ``||g||`` is the L2 norm of the whole gradient, so every step has the same size. Stop as soon
    as the model's top class is ``target_y`` (check before each step, so an image the model
    already assigns to ``target_y`` comes back unchanged), and after at most 100 steps.
    """
    X_fooling = X.detach().clone().requires_grad_()
    learning_rate = 1
    # TODO: Write the loop above. Do the update under torch.no_grad() (or on .data), and clear
    # the image's gradient after each step so the next one does not add to it.
    # BEGIN SOLUTION
    for _ in range(100):
        scores = model(X_fooling)
        if scores.argmax(dim=1).item() == target_y:
            break
        scores[0, target_y].backward()
        with torch.no_grad():
            g = X_fooling.grad
            X_fooling += learning_rate * g / g.norm()
        X_fooling.grad = None
    # END SOLUTION
    return X_fooling.detach()


def class_visualization_update_step(
    img: torch.Tensor, model: torch.nn.Module, target_y: int, l2_reg: float, learning_rate: float
) -> None:
    """One gradient-ascent step, in place, on the image ``img`` (1, 3, H, W), to grow class
    ``target_y``.

    The objective is the regularised score ``s_y(img) - l2_reg * ||img||^2``, with ``s_y`` the
    unnormalised score of ``target_y`` and ``||img||`` the L2 norm of the whole image. The step
    is ``img += learning_rate * gradient of the objective``. ``img`` is a leaf tensor with
    ``requires_grad`` set; leave its ``.grad`` cleared (None or zero) when you return, so the
    next step starts afresh.
    """
    # TODO: Compute the objective, backpropagate it, and update img in place.
    # Be careful with the signs: the score goes up, the penalty pulls it down.
    # BEGIN SOLUTION
    objective = model(img)[0, target_y] - l2_reg * img.pow(2).sum()
    objective.backward()
    with torch.no_grad():
        img += learning_rate * img.grad
    img.grad = None
    # END SOLUTION
