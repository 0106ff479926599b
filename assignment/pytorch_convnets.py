"""Convolutional networks in PyTorch, three ways: barebones tensors, nn.Module, nn.Sequential.

The PyTorch notebook imports everything from here. The helpers at the top are given; you write
the parts marked TODO:

- ``three_layer_convnet(x, params)``: the forward pass of a three-layer network on plain tensors;
- ``init_three_layer_convnet(...)``: the list of parameters that function takes;
- ``ThreeLayerConvNet``: the same network as an ``nn.Module``;
- ``build_sequential_convnet(...)``: the same network as an ``nn.Sequential``, with its optimiser.

The three-layer network is

    conv (5x5, padding 2) - ReLU - conv (3x3, padding 1) - ReLU - fully connected -> scores

with no pooling: both convolutions keep the spatial size, so the fully connected layer sees
``channel_2 * H * W`` features of an image of size ``H x W``.

Everything works in float32 (``DTYPE``) on the CPU (``DEVICE``). Randomness comes only from
torch's global generator (the initial weights) and from the data loaders' own generators (see
``torch_data.py``), so ``torch.manual_seed`` before building a model makes a run repeatable.
Nothing here changes torch's global settings (threads, determinism): a caller sets those.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn, optim

DTYPE = torch.float32
DEVICE = torch.device("cpu")

#: The images of the assignment are 32x32; the fully connected layers are sized for it.
IMAGE_SIZE = (32, 32)

Loader = Iterable[tuple[torch.Tensor, torch.Tensor]]


# ---------------------------------------------------------------------------------------------
# Given helpers
# ---------------------------------------------------------------------------------------------


def flatten(x: torch.Tensor) -> torch.Tensor:
    """Reshape ``x`` of shape (N, d1, ..., dk) to (N, d1 * ... * dk), one row per data point.

    A view when ``x`` is contiguous, so no data is copied.
    """
    return x.reshape(x.shape[0], -1)


class Flatten(nn.Module):
    """``flatten`` as a layer, to put into an ``nn.Sequential``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return flatten(x)


def random_weight(shape: Sequence[int], dtype: torch.dtype = DTYPE) -> torch.Tensor:
    """A weight tensor drawn with Kaiming normal initialisation, ready to be learned.

    The standard deviation is ``sqrt(2 / fan_in)``, which keeps the variance of activations
    about constant through ReLU layers. For a fully connected weight of shape (D, M), used as
    ``x.mm(w)``, fan_in is D; for a convolution weight (F, C, HH, WW) it is ``C * HH * WW``.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        raise ValueError(f"a weight has at least two dimensions, got shape {shape}")
    fan_in = shape[0] if len(shape) == 2 else math.prod(shape[1:])
    w = torch.randn(shape, dtype=dtype, device=DEVICE) * math.sqrt(2.0 / fan_in)
    return w.requires_grad_()


def zero_weight(shape: Sequence[int], dtype: torch.dtype = DTYPE) -> torch.Tensor:
    """A tensor of zeros that will be learned (biases start at zero)."""
    return torch.zeros(tuple(shape), dtype=dtype, device=DEVICE, requires_grad=True)


def two_layer_fc(x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Scores of a two-layer fully connected ReLU network, on plain tensors.

    ``x`` is (N, d1, ..., dk), flattened to (N, D); ``params = [w1, w2]`` with w1 (D, H) and
    w2 (H, C). Returns the scores (N, C). No biases, to keep the example short. Autograd follows
    the operations, so calling ``backward`` on a loss computed from the scores fills ``w.grad``.
    """
    w1, w2 = params
    hidden = F.relu(flatten(x).mm(w1))
    return hidden.mm(w2)


class TwoLayerFC(nn.Module):
    """A two-layer fully connected ReLU network as an ``nn.Module``: the worked example.

    Layers that hold parameters are attributes, so ``parameters()`` finds them; the weights are
    re-drawn with Kaiming normal initialisation and the biases keep PyTorch's defaults.
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        nn.init.kaiming_normal_(self.fc1.weight)
        self.fc2 = nn.Linear(hidden_size, num_classes)
        nn.init.kaiming_normal_(self.fc2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(flatten(x))))


def _batches(loader: Loader) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    for x, y in loader:
        yield x.to(device=DEVICE, dtype=DTYPE), y.to(device=DEVICE, dtype=torch.long)


def _accuracy(loader: Loader, scores_of: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Fraction of the loader's images whose highest score is their label; prints the count."""
    correct = total = 0
    with torch.no_grad():
        for x, y in _batches(loader):
            correct += int((scores_of(x).argmax(dim=1) == y).sum())
            total += len(y)
    accuracy = correct / total if total else 0.0
    print(f"Got {correct} / {total} correct ({100 * accuracy:.2f}%)")
    return accuracy


def check_accuracy_part2(
    loader: Loader,
    model_fn: Callable[[torch.Tensor, Sequence[torch.Tensor]], torch.Tensor],
    params: Sequence[torch.Tensor],
) -> float:
    """Accuracy of the barebones network ``model_fn(x, params)`` on the loader's images."""
    return _accuracy(loader, lambda x: model_fn(x, params))


def train_part2(
    model_fn: Callable[[torch.Tensor, Sequence[torch.Tensor]], torch.Tensor],
    params: Sequence[torch.Tensor],
    learning_rate: float,
    *,
    loader_train: Loader,
    loader_val: Loader,
    epochs: int = 1,
    print_every: int | None = 100,
) -> float:
    """Train a barebones network with plain SGD on the softmax loss; returns the val accuracy.

    Each step computes the scores ``model_fn(x, params)`` and the cross-entropy loss, lets
    autograd fill every parameter's ``.grad``, and updates the parameters in place (outside of
    autograd's view) with ``w -= learning_rate * w.grad``. Every ``print_every`` iterations (and
    never when it is None) it prints the loss and the validation accuracy.
    """
    step = 0
    for _ in range(epochs):
        for x, y in _batches(loader_train):
            loss = F.cross_entropy(model_fn(x, params), y)
            loss.backward()
            with torch.no_grad():
                for w in params:
                    w -= learning_rate * w.grad
                    w.grad.zero_()
            if print_every and step % print_every == 0:
                print(f"Iteration {step}, loss = {loss.item():.4f}")
                check_accuracy_part2(loader_val, model_fn, params)
            step += 1
    return check_accuracy_part2(loader_val, model_fn, params)


def check_accuracy_part34(loader: Loader, model: nn.Module) -> float:
    """Accuracy of ``model`` on the loader's images, in evaluation mode (restored afterwards)."""
    was_training = model.training
    model.eval()
    try:
        return _accuracy(loader, model)
    finally:
        model.train(was_training)


def train_part34(
    model: nn.Module,
    optimizer: optim.Optimizer,
    epochs: int = 1,
    *,
    loader_train: Loader,
    loader_val: Loader,
    print_every: int | None = 100,
) -> float:
    """Train ``model`` with ``optimizer`` on the softmax loss; returns the val accuracy.

    The model is in training mode while it learns (dropout and batch normalisation behave
    accordingly). Every ``print_every`` iterations (never when None) prints the loss and the
    validation accuracy.
    """
    model.train()
    step = 0
    for _ in range(epochs):
        for x, y in _batches(loader_train):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if print_every and step % print_every == 0:
                print(f"Iteration {step}, loss = {loss.item():.4f}")
                check_accuracy_part34(loader_val, model)
            step += 1
    return check_accuracy_part34(loader_val, model)


# ---------------------------------------------------------------------------------------------
# Part II: barebones PyTorch
# ---------------------------------------------------------------------------------------------


def three_layer_convnet(x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Scores of the three-layer convolutional network (see the module docstring) on tensors.

    Inputs:
    - x: images (N, C, H, W)
    - params: ``[conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]`` with
      conv_w1 (channel_1, C, 5, 5) and conv_b1 (channel_1,) for the first convolution,
      conv_w2 (channel_2, channel_1, 3, 3) and conv_b2 (channel_2,) for the second,
      fc_w (channel_2 * H * W, num_classes) and fc_b (num_classes,) for the last layer.

    Returns the scores (N, num_classes). Use only differentiable torch operations (such as
    ``F.conv2d``, ``F.relu`` and ``flatten``), so that autograd can compute the gradients.
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    scores = None
    # TODO: Implement the forward pass of the three-layer network.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return scores


def init_three_layer_convnet(
    in_channel: int,
    channel_1: int,
    channel_2: int,
    num_classes: int,
    image_size: tuple[int, int] = IMAGE_SIZE,
    dtype: torch.dtype = DTYPE,
) -> list[torch.Tensor]:
    """The parameters ``three_layer_convnet`` takes, freshly initialised, in its order.

    Weights come from ``random_weight`` (Kaiming normal) and biases from ``zero_weight``, all of
    ``dtype``, for images of ``in_channel`` channels and size ``image_size`` (H, W). Returns
    ``[conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]`` with the shapes listed in
    ``three_layer_convnet``.
    """
    height, width = image_size
    conv_w1 = conv_b1 = conv_w2 = conv_b2 = fc_w = fc_b = None
    # TODO: Initialise the six parameters with random_weight and zero_weight (pass dtype on).
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]


# ---------------------------------------------------------------------------------------------
# Part III: the Module API
# ---------------------------------------------------------------------------------------------


class ThreeLayerConvNet(nn.Module):
    """The three-layer convolutional network (see the module docstring) as an ``nn.Module``."""

    def __init__(
        self,
        in_channel: int,
        channel_1: int,
        channel_2: int,
        num_classes: int,
        image_size: tuple[int, int] = IMAGE_SIZE,
    ) -> None:
        """Create the layers for images of ``in_channel`` channels and size ``image_size``.

        Every weight is drawn with Kaiming normal initialisation (``nn.init.kaiming_normal_``)
        and every bias starts at zero (``nn.init.zeros_``).
        """
        super().__init__()
        height, width = image_size
        # TODO: Create the two convolutional layers and the fully connected layer as attributes
        # (nn.Conv2d, nn.Linear), and initialise their weights and biases as described above.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (N, num_classes) of images ``x`` (N, C, H, W)."""
        scores = None
        # TODO: Implement the forward pass with the layers made in __init__.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****
        return scores


# ---------------------------------------------------------------------------------------------
# Part IV: the Sequential API
# ---------------------------------------------------------------------------------------------


def build_sequential_convnet(
    in_channel: int,
    channel_1: int,
    channel_2: int,
    num_classes: int,
    learning_rate: float = 1e-2,
    image_size: tuple[int, int] = IMAGE_SIZE,
) -> tuple[nn.Sequential, optim.SGD]:
    """The three-layer network as an ``nn.Sequential``, and the optimiser to train it with.

    The model is the layers in order: conv, ReLU, conv, ReLU, ``Flatten()``, linear, with
    PyTorch's default initialisation. The optimiser is SGD over all of the model's parameters,
    with ``learning_rate``, and Nesterov momentum 0.9. Returns ``(model, optimizer)``.
    """
    height, width = image_size
    model = None
    optimizer = None
    # TODO: Build the model and its optimiser (torch.optim.SGD) as described above.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return model, optimizer
