"""A small SqueezeNet-style classifier for the synthetic images, and its trained weights.

Given to students complete. The classic network-visualisation notebook studies a SqueezeNet
trained on ImageNet, which cannot be downloaded here; this one has the same building blocks
(fire modules: a 1x1 "squeeze" convolution feeding parallel 1x1 and 3x3 "expand" convolutions,
a 1x1 convolution to the class scores, global average pooling) at a size fit for 32x32 images.

The weights were trained by the project on 10,000 synthetic training images (30,130 parameters,
about two CPU-minutes; ``python -m grader.tools.vis_model`` regenerates them, byte for byte
under the same torch version). The model classifies 97.8% of 2,000 held-out synthetic test
images correctly. The weights are stored as plain float32 arrays in ``squeezenet_synthetic.npz``,
keyed by the names of ``state_dict()``, and read with ``allow_pickle=False``: loading never runs
code.

The model returns raw class scores: there is no ReLU after the last convolution, which would
zero every negative score and with it the gradients the visualisations are made from.
"""

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

NUM_CLASSES = 10
WEIGHTS_PATH = Path(__file__).resolve().parent / "squeezenet_synthetic.npz"


class Fire(nn.Module):
    """A 1x1 "squeeze" convolution to few channels, then 1x1 and 3x3 "expand" ones side by side."""

    def __init__(self, in_channels: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, kernel_size=1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, kernel_size=3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.relu(self.squeeze(x))
        return torch.cat([self.relu(self.expand1x1(s)), self.relu(self.expand3x3(s))], dim=1)


class SmallSqueezeNet(nn.Module):
    """SqueezeNet-style classifier: (N, 3, 32, 32) normalised images -> (N, 10) raw scores."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16x16
            Fire(32, 8, 16),
            Fire(32, 8, 16),
            nn.MaxPool2d(2),  # 8x8
            Fire(32, 16, 32),
            Fire(64, 16, 32),
            nn.MaxPool2d(2),  # 4x4
            Fire(64, 24, 48),
        )
        self.classifier = nn.Conv2d(96, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x)).mean(dim=(2, 3))


def save_weights(model: nn.Module, path: Path | str = WEIGHTS_PATH) -> None:
    """Store ``model``'s state as float32 arrays in an .npz file (no pickled objects).

    The archive's entries carry a fixed timestamp, so the same weights always give the same
    bytes and a regenerated file can be compared with the stored one.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in model.state_dict().items():
            array = value.detach().cpu().numpy().astype(np.float32)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def load_pretrained_model(path: Path | str = WEIGHTS_PATH) -> SmallSqueezeNet:
    """The trained model in eval mode, its parameters frozen (``requires_grad`` False).

    Frozen parameters mean that backpropagating a score fills in gradients for the input image
    only, which is all the visualisations need.
    """
    model = SmallSqueezeNet()
    with np.load(path, allow_pickle=False) as stored:
        state = {name: torch.from_numpy(stored[name].copy()) for name in stored.files}
    model.load_state_dict(state)
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model
