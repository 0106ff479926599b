"""The held-out images the notebooks' models are scored on, from a seed students do not know, and
the ready-made training images handed to the kernel. Labels never leave the grader.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.course import COURSE
from grader.notebooks.settings import HELDOUT_IMAGES

NUM_CLASSES = 10
#: The held-out images come from the embedded dataset's test split under the grader's secret
#: seed (:func:`grader.checks.training.heldout_seed`), the same distribution the notebooks train on.
HELDOUT_SPLIT = "test"
#: Synthetic images handed to the kernel ready-made (per split), so each notebook does not
#: generate them again; a notebook asking for more generates the rest itself.
DATA_CACHE_SIZES = {"train": 6000, "val": 1000, "test": 1000}


# ---------------------------------------------------------------------------------------------
# The held-out images
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    get_synthetic_data = COURSE.data.get_synthetic_data
    sizes = {"num_training": 1, "num_validation": 1, "num_test": 1}
    key = {"train": "num_training", "val": "num_validation", "test": "num_test"}[HELDOUT_SPLIT]
    sizes[key] = n
    data = get_synthetic_data(**sizes, subtract_mean=False, seed=seed)
    X, y = data[f"X_{HELDOUT_SPLIT}"][:n], data[f"y_{HELDOUT_SPLIT}"][:n]
    # Raw pixel values, as the notebooks' own images are before they subtract mean_image.
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def heldout_data(n: int = HELDOUT_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """Held-out images (N, 3, 32, 32) in the 0..255 range, and their labels (grader only)."""
    from grader.checks.training import heldout_seed

    return _heldout(n, heldout_seed())


def _prepare_data_cache(target: Path) -> None:
    """Fill ``target`` with the course's cached synthetic training images (seed 0 only: the
    images every student has), for the kernel to read instead of generating them again."""
    from grader.checks.training import TRAIN_SEED

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
