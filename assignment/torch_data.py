"""The assignment's images as torch tensors and minibatch loaders, for the PyTorch notebook.

Given to students complete. The images come from ``data_utils.get_CIFAR10_data`` (CIFAR-10 when
it is on disk, the embedded synthetic dataset otherwise), so nothing is downloaded and
torchvision is not needed. Every size is an argument, so a notebook, a test or a grader decides
how much work a run does::

    data = load_tensors(num_training=2000, num_validation=500, num_test=500)
    loaders = make_loaders(data, batch_size=64, seed=0)
    for x, y in loaders["train"]:
        ...

Images are float32 ``(N, 3, 32, 32)``, each channel normalised with the mean and standard
deviation of the training images (kept in ``data["mean"]`` and ``data["std"]``, shaped
``(1, 3, 1, 1)``, so new images can be put through the same step); labels are int64 ``(N,)``.
Shuffling draws from a generator of the loader's own, seeded by ``seed``, so the order of the
minibatches does not depend on, nor disturb, torch's global random state.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from .data_utils import get_CIFAR10_data

DTYPE = torch.float32
SPLITS = ("train", "val", "test")


def channel_stats(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of images ``X`` (N, C, H, W), as (1, C, 1, 1).

    A channel that is constant gets a standard deviation of 1, so normalising never divides by 0.
    """
    mean = X.mean(dim=(0, 2, 3), keepdim=True)
    std = X.std(dim=(0, 2, 3), keepdim=True)
    return mean, torch.where(std > 0, std, torch.ones_like(std))


def normalize(X: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Images ``X`` shifted and scaled channel by channel: ``(X - mean) / std``, as float32."""
    return ((X - mean) / std).to(DTYPE)


def load_tensors(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    cifar10_dir: str | None = None,
) -> dict[str, torch.Tensor]:
    """The three splits as tensors, normalised with the training images' channel statistics.

    Returns ``X_train, y_train, X_val, y_val, X_test, y_test`` and the statistics ``mean`` and
    ``std`` (float32, shaped (1, 3, 1, 1)). The sizes and ``cifar10_dir`` mean what they mean
    for ``get_CIFAR10_data``.
    """
    arrays = get_CIFAR10_data(
        num_training, num_validation, num_test, subtract_mean=False, cifar10_dir=cifar10_dir
    )
    images = {split: torch.from_numpy(arrays[f"X_{split}"]) for split in SPLITS}
    mean, std = channel_stats(images["train"])
    data = {"mean": mean.to(DTYPE), "std": std.to(DTYPE)}
    for split in SPLITS:
        data[f"X_{split}"] = normalize(images[split], mean, std)
        data[f"y_{split}"] = torch.from_numpy(arrays[f"y_{split}"]).long()
    return data


def make_loader(
    X: torch.Tensor, y: torch.Tensor, batch_size: int = 64, shuffle: bool = False, seed: int = 0
) -> DataLoader:
    """Minibatches ``(x, y)`` of images and labels; reshuffled each epoch when ``shuffle``.

    The loader's generator is seeded with ``seed`` when the loader is made, so iterating over a
    new loader gives the same batches every time; every loader has one, since even an unshuffled
    DataLoader draws a seed from torch's global generator on each pass otherwise. Batches are
    read in the calling process.
    """
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        TensorDataset(X, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=0,
    )


def make_loaders(
    data: dict[str, torch.Tensor], batch_size: int = 64, seed: int = 0
) -> dict[str, DataLoader]:
    """Loaders ``train`` (shuffled with ``seed``), ``val`` and ``test`` (in order) over ``data``."""
    return {
        split: make_loader(
            data[f"X_{split}"], data[f"y_{split}"], batch_size, shuffle=split == "train", seed=seed
        )
        for split in SPLITS
    }
