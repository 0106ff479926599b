"""The held-out images the notebooks' models are scored on, from the course's secret seed; the
mean training image the grader subtracts from them; and the ready-made training images handed
to the kernel. Neither the held-out images nor their labels ever reach the kernel.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.checks.training import TRAIN_SEED, heldout_split
from grader.course import COURSE
from grader.notebooks.settings import HELDOUT_IMAGES

NUM_CLASSES = 10
#: Synthetic images handed to the kernel ready-made (per split), so each notebook does not
#: generate them again; a notebook asking for more generates the rest itself.
DATA_CACHE_SIZES = {"train": 6000, "val": 1000, "test": 1000}


# ---------------------------------------------------------------------------------------------
# The held-out images
# ---------------------------------------------------------------------------------------------


def heldout_data(n: int = HELDOUT_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """Held-out images (N, 3, 32, 32) in the 0..255 range, and their labels (grader only):
    the embedded dataset's test split under the course's secret seed, the distribution the
    notebooks train on."""
    X, y = heldout_split(n)
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


@lru_cache(maxsize=1)
def mean_image() -> np.ndarray:
    """The mean training image ``get_CIFAR10_data()`` subtracts with its defaults (the embedded
    dataset, seed 0, ``MEAN_IMAGE_TRAINING`` images), computed by the grader, never read from
    the notebook."""
    count = COURSE.notebooks.MEAN_IMAGE_TRAINING
    data = COURSE.data.get_synthetic_data(count, 0, 0, subtract_mean=False, seed=TRAIN_SEED)
    return data["X_train"].astype(np.float64).mean(axis=0)


def _prepare_data_cache(target: Path) -> None:
    """Fill ``target`` with the course's cached synthetic training images (seed 0 only: the
    images every student has), for the kernel to read instead of generating them again."""
    data_utils = COURSE.data

    target.mkdir(mode=0o755, exist_ok=True)
    source = data_utils.synthetic_cache_dir()
    names = {
        split: f"synthetic-v{data_utils.SYNTHETIC_VERSION}-seed{TRAIN_SEED}-{split}.npz"
        for split in DATA_CACHE_SIZES
    }
    if not all((source / n).is_file() for n in names.values()):
        data_utils.get_synthetic_data(
            DATA_CACHE_SIZES["train"],
            DATA_CACHE_SIZES["val"],
            DATA_CACHE_SIZES["test"],
            subtract_mean=False,
            seed=TRAIN_SEED,
        )
    for name in names.values():
        with contextlib.suppress(OSError):
            shutil.copyfile(source / name, target / name)
            os.chmod(target / name, 0o644)
