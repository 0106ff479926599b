"""Data for the assignment: CIFAR-10 when it is on disk, an embedded synthetic dataset otherwise.

Both sources give the same format: a dict of ``X_train, y_train, X_val, y_val, X_test, y_test``
with float images channels-first ``(N, 3, 32, 32)`` in the 0..255 range (mean-subtracted by
default) and integer labels in ``0..9``. The synthetic images are drawn from a fixed generator so
that the assignment runs, and can be graded, on a machine that has never downloaded CIFAR-10.
"""

import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request
import warnings
from pathlib import Path

import numpy as np

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_CLASSES = (
    "plane",
    "car",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"

# Where the classic assignment keeps the dataset: next to this package, so a copy of the package
# under another name (cs231n/) finds its own datasets/ folder.
DEFAULT_CIFAR10_DIR = Path(__file__).resolve().parent / "datasets" / "cifar-10-batches-py"

SYNTHETIC_CLASSES = (
    "disc",
    "square",
    "triangle",
    "ring",
    "cross",
    "bars",
    "checker",
    "dots",
    "frame",
    "crescent",
)
# Bump whenever the images a seed produces change: the version is part of the cache key, so a
# stale cache is never mistaken for the current dataset.
SYNTHETIC_VERSION = 2
# Images are generated in chunks, each from its own random stream, so the first n images of a
# split are the same whatever total is asked for, and only missing chunks are ever generated.
SYNTHETIC_CHUNK = 1000
_SPLIT_CODES = {"train": 0, "val": 1, "test": 2}

_notice_shown = False


class CIFAR10FormatError(ValueError):
    """A CIFAR-10 batch file exists but is unreadable or not in the python batch format."""


class SyntheticDataWarning(UserWarning):
    """CIFAR-10 was not found, so the synthetic dataset is being used instead."""


# ---------------------------------------------------------------------------------------------
# CIFAR-10
# ---------------------------------------------------------------------------------------------


def _batch_field(datadict, name):
    # Batches pickled by Python 2 (the official files) load with str keys under latin1;
    # batches pickled by Python 3 have bytes keys. Accept either.
    for key in (name, name.encode("ascii")):
        if key in datadict:
            return datadict[key]
    raise KeyError(name)


def load_CIFAR_batch(filename):
    """Load one CIFAR-10 python batch as ``(X, Y)``: X float64 (N, 32, 32, 3), Y int64 (N,).

    Raises FileNotFoundError for a missing file and CIFAR10FormatError for one that is not a
    batch, so a half-downloaded dataset fails loudly instead of training on garbage.
    """
    filename = Path(filename)
    if not filename.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch not found: {filename}")
    try:
        with open(filename, "rb") as f:
            datadict = pickle.load(f, encoding="latin1")
        data = np.asarray(_batch_field(datadict, "data"))
        labels = np.asarray(_batch_field(datadict, "labels"))
    except Exception as exc:  # any unpickling failure means the same thing to the user
        raise CIFAR10FormatError(
            f"{filename} is not a readable CIFAR-10 python batch ({type(exc).__name__}: {exc}); "
            "delete the directory and download the dataset again"
        ) from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise CIFAR10FormatError(
            f"{filename}: expected data of shape (N, 3072) and N labels, got data "
            f"{data.shape} and labels {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= 10):
        raise CIFAR10FormatError(f"{filename}: labels outside 0..9")
    X = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    Y = labels.astype(np.int64)
    return X, Y


def load_CIFAR10(root):
    """Load the whole dataset from ``root`` as ``Xtr, Ytr, Xte, Yte`` (images channels-last)."""
    root = Path(root)
    missing = [
        name for name in (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH) if not (root / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{root} exists but lacks the CIFAR-10 batch file(s) {', '.join(missing)}; "
            "delete the directory and download the dataset again"
        )
    xs, ys = zip(*(load_CIFAR_batch(root / name) for name in CIFAR10_TRAIN_BATCHES), strict=True)
    Xtr = np.concatenate(xs)
    Ytr = np.concatenate(ys)
    Xte, Yte = load_CIFAR_batch(root / CIFAR10_TEST_BATCH)
    return Xtr, Ytr, Xte, Yte


def _check_sizes(num_training, num_validation, num_test):
    for name, value in (
        ("num_training", num_training),
        ("num_validation", num_validation),
        ("num_test", num_test),
    ):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _finish(X_train, y_train, X_val, y_val, X_test, y_test, subtract_mean):
    """Cast to float64 channels-first, subtracting the training mean image when asked."""
    X_train, X_val, X_test = (x.astype(np.float64, order="C") for x in (X_train, X_val, X_test))
    if subtract_mean and len(X_train):
        mean_image = X_train.mean(axis=0)
        X_train -= mean_image
        X_val -= mean_image
        X_test -= mean_image
    return {
        "X_train": np.ascontiguousarray(X_train),
        "y_train": np.asarray(y_train, dtype=np.int64),
        "X_val": np.ascontiguousarray(X_val),
        "y_val": np.asarray(y_val, dtype=np.int64),
        "X_test": np.ascontiguousarray(X_test),
        "y_test": np.asarray(y_test, dtype=np.int64),
    }


def _grading_cap(value, name):
    """``value``, at most ``$NNGRADE_MAX_<NAME>`` when a grader set it (bounded notebook work)."""
    cap = os.environ.get(f"NNGRADE_MAX_{name.upper()}", "")
    return min(value, int(cap)) if cap.isdigit() else value


def _resolve_cifar10_dir(cifar10_dir):
    if cifar10_dir is not None:
        return Path(cifar10_dir).expanduser()
    env = os.environ.get("CIFAR10_DIR")
    if env:
        return Path(env).expanduser()
    return DEFAULT_CIFAR10_DIR


def get_CIFAR10_data(
    num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True, cifar10_dir=None
):
    """Load CIFAR-10 and split it into train / val / test, ready for the classifiers.

    The directory is ``cifar10_dir``, else ``$CIFAR10_DIR``, else ``datasets/cifar-10-batches-py``
    next to this package. Validation images are the ``num_validation`` training images after the
    first ``num_training``; test images are the first ``num_test`` of the test batch. Images are
    float64 (N, 3, 32, 32); with ``subtract_mean`` the mean training image is subtracted from all.

    A grader may cap each split's size through ``$NNGRADE_MAX_TRAINING``, ``..._VALIDATION`` and
    ``..._TEST``, so a notebook's training takes bounded work whatever sizes it asks for.

    When that directory does not exist, the synthetic dataset (``get_synthetic_data``) is
    returned instead, with one SyntheticDataWarning per process. A directory that exists but is
    incomplete or corrupt raises an error instead, since silently switching datasets would hide it.
    """
    _check_sizes(num_training, num_validation, num_test)
    num_training = _grading_cap(num_training, "training")
    num_validation = _grading_cap(num_validation, "validation")
    num_test = _grading_cap(num_test, "test")
    root = _resolve_cifar10_dir(cifar10_dir)
    if not root.exists():
        _announce_synthetic(root)
        return get_synthetic_data(num_training, num_validation, num_test, subtract_mean)
    if not root.is_dir():
        raise NotADirectoryError(f"CIFAR-10 path {root} is not a directory")

    X_train, y_train, X_test, y_test = load_CIFAR10(root)
    if num_training + num_validation > len(X_train):
        raise ValueError(
            f"num_training + num_validation = {num_training + num_validation} exceeds the "
            f"{len(X_train)} CIFAR-10 training images"
        )
    if num_test > len(X_test):
        raise ValueError(f"num_test = {num_test} exceeds the {len(X_test)} CIFAR-10 test images")
    val = slice(num_training, num_training + num_validation)
    return _finish(
        X_train[:num_training].transpose(0, 3, 1, 2),
        y_train[:num_training],
        X_train[val].transpose(0, 3, 1, 2),
        y_train[val],
        X_test[:num_test].transpose(0, 3, 1, 2),
        y_test[:num_test],
        subtract_mean,
    )


def get_class_names(cifar10_dir=None):
    """The class names of the data ``get_CIFAR10_data(cifar10_dir=...)`` returns, by label."""
    return CIFAR10_CLASSES if _resolve_cifar10_dir(cifar10_dir).exists() else SYNTHETIC_CLASSES


def _announce_synthetic(root):
    global _notice_shown
    if _notice_shown:
        return
    _notice_shown = True
    package = Path(__file__).resolve().parent.name
    warnings.warn(
        f"CIFAR-10 not found at {root}; using the synthetic dataset instead "
        f"(classes: {', '.join(SYNTHETIC_CLASSES)}). To use CIFAR-10, run "
        f"{package}/datasets/get_datasets.sh or set CIFAR10_DIR.",
        SyntheticDataWarning,
        stacklevel=3,
    )


def download_cifar10(directory=None):
    """Download and unpack CIFAR-10 into ``directory`` (default: this package's datasets/).

    Returns the path of the ``cifar-10-batches-py`` folder. Needs network access; the archive's
    MD5 is checked before anything is unpacked.
    """
    directory = Path(directory) if directory is not None else DEFAULT_CIFAR10_DIR.parent
    target = directory / "cifar-10-batches-py"
    if target.is_dir():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        archive = Path(tmp) / "cifar-10-python.tar.gz"
        with urllib.request.urlopen(CIFAR10_URL) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out)
        digest = hashlib.md5(archive.read_bytes()).hexdigest()
        if digest != CIFAR10_MD5:
            raise OSError(f"downloaded CIFAR-10 archive has MD5 {digest}, expected {CIFAR10_MD5}")
        with tarfile.open(archive, "r:gz") as tar:
            try:
                tar.extractall(tmp, filter="data")
            except TypeError:  # Python without extraction filters
                tar.extractall(tmp)  # noqa: S202 - checksum verified above
        os.replace(Path(tmp) / "cifar-10-batches-py", target)
    return target


# ---------------------------------------------------------------------------------------------
# Synthetic dataset
# ---------------------------------------------------------------------------------------------
#
# Each image shows one bright shape (its class) at a random position and size, in a roughly
# upright pose, on a darker background of random colour with a gradient and blotches, among
# distracting line segments and specks, with pixel noise. Colour carries no class information,
# and the shapes' sizes are set so that every class covers about the same area (~70 pixels), so
# neither brightness nor colour gives the class away. What does is local structure (edges,
# corners, curvature, periodic texture) wherever the shape sits: easy for convolutions, which
# share their detectors across positions, and hard for a fully connected net, which must learn
# every position separately and so needs far more data.

_SIZE = 32
_COORDS = np.arange(_SIZE, dtype=np.float32) + 0.5 - _SIZE / 2  # pixel centres, origin mid-image
_GX = _COORDS[None, None, :]  # x grows to the right
_GY = _COORDS[None, :, None]  # y grows downwards


# Shapes keep roughly their upright pose: rotations are jittered by up to this much (radians).
_JITTER = np.pi / 9


def _uniform(rng, lo, hi, m):
    return rng.uniform(lo, hi, size=(m, 1, 1)).astype(np.float32)


def _placed(rng, m, r_lo, r_hi, extent=1.0, angle=_JITTER):
    """Random radius, centre and rotation; returns the shape's own coordinates (u, v) and R.

    ``extent`` is how far the shape reaches in units of R, so it stays inside the image;
    rotations are uniform in [-angle, angle].
    """
    R = _uniform(rng, r_lo, r_hi, m)
    reach = np.maximum(_SIZE / 2 - 1 - extent * R, 0)
    cx = rng.uniform(-1, 1, size=(m, 1, 1)).astype(np.float32) * reach
    cy = rng.uniform(-1, 1, size=(m, 1, 1)).astype(np.float32) * reach
    theta = _uniform(rng, -angle, angle, m)
    cos, sin = np.cos(theta), np.sin(theta)
    dx, dy = _GX - cx, _GY - cy
    return cos * dx + sin * dy, -sin * dx + cos * dy, R


def _box(u, v):
    return np.maximum(np.abs(u), np.abs(v))


def _sdf_disc(rng, m):
    u, v, R = _placed(rng, m, 3.8, 5.6)
    return np.hypot(u, v) - R


def _sdf_square(rng, m):
    u, v, R = _placed(rng, m, 3.35, 5.0, extent=1.42)
    return _box(u, v) - R


def _sdf_triangle(rng, m):
    u, v, R = _placed(rng, m, 5.8, 8.7)
    # Equilateral triangle with circumradius R: intersection of three half-planes.
    d = None
    for phi in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
        side = np.cos(phi) * u + np.sin(phi) * v
        d = side if d is None else np.maximum(d, side)
    return d - R / 2


def _sdf_ring(rng, m):
    u, v, R = _placed(rng, m, 5.0, 7.5)
    half_width = np.maximum(0.9, 0.17 * R)
    return np.abs(np.hypot(u, v) - (R - half_width)) - half_width


def _sdf_cross(rng, m):
    u, v, R = _placed(rng, m, 5.4, 8.0, angle=np.pi / 12)
    t = np.maximum(1.0, 0.22 * R)
    arm_x = np.maximum(np.abs(u) - R, np.abs(v) - t)
    arm_y = np.maximum(np.abs(u) - t, np.abs(v) - R)
    return np.minimum(arm_x, arm_y)


def _sdf_bars(rng, m):
    u, v, R = _placed(rng, m, 4.65, 7.05, extent=1.42)
    period = 2 * R / 3  # three bars across the patch
    stripes = np.abs(np.mod(v + R, period) - period / 2) - period / 4
    return np.maximum(_box(u, v) - R, stripes)


def _sdf_checker(rng, m):
    u, v, R = _placed(rng, m, 4.6, 6.8, extent=1.42)
    cell = R / 2  # four cells across the patch
    su, sv = u + R, v + R
    like = (np.floor(su / cell) + np.floor(sv / cell)) % 2 == 0
    # Distance to the nearest cell edge, negative inside the painted (like) cells.
    edge = np.minimum(
        cell / 2 - np.abs(np.mod(su, cell) - cell / 2),
        cell / 2 - np.abs(np.mod(sv, cell) - cell / 2),
    )
    return np.maximum(_box(u, v) - R, np.where(like, -edge, edge))


def _sdf_dots(rng, m, count=6):
    u, v, R = _placed(rng, m, 6.0, 9.0)
    # Dots scattered around the centre, kept at least roughly apart by jittering a ring layout.
    base = rng.uniform(0, 2 * np.pi, size=(m, 1, 1, 1))
    ang = base + 2 * np.pi * np.arange(count)[None, :, None, None] / count
    ang = ang + rng.uniform(-0.4, 0.4, size=(m, count, 1, 1))
    rad = rng.uniform(0.45, 1.0, size=(m, count, 1, 1))
    ox = (np.cos(ang) * rad).astype(np.float32) * R[:, None]
    oy = (np.sin(ang) * rad).astype(np.float32) * R[:, None]
    dist = np.hypot(u[:, None] - ox, v[:, None] - oy).min(axis=1)
    return dist - 0.25 * R


def _sdf_frame(rng, m):
    u, v, R = _placed(rng, m, 4.5, 6.8, extent=1.42)
    half_width = np.maximum(0.9, 0.16 * R)
    return np.abs(_box(u, v) - (R - half_width)) - half_width


def _sdf_crescent(rng, m):
    u, v, R = _placed(rng, m, 5.3, 7.8)
    bite = np.hypot(u - 0.55 * R, v) - 0.8 * R
    return np.maximum(np.hypot(u, v) - R, -bite)


_SHAPE_SDFS = (
    _sdf_disc,
    _sdf_square,
    _sdf_triangle,
    _sdf_ring,
    _sdf_cross,
    _sdf_bars,
    _sdf_checker,
    _sdf_dots,
    _sdf_frame,
    _sdf_crescent,
)
assert len(_SHAPE_SDFS) == len(SYNTHETIC_CLASSES)


def _coverage(sdf):
    """Anti-aliased coverage in [0, 1] from a signed distance in pixels (negative inside)."""
    return np.clip(0.5 - sdf, 0.0, 1.0)


def _upsample_matrix(coarse):
    """Bilinear interpolation weights (32, coarse) from a coarse grid spanning the image."""
    pos = (np.arange(_SIZE) + 0.5) / _SIZE * (coarse - 1)
    lo = np.minimum(np.floor(pos).astype(int), coarse - 2)
    frac = pos - lo
    A = np.zeros((_SIZE, coarse), dtype=np.float32)
    A[np.arange(_SIZE), lo] = 1 - frac
    A[np.arange(_SIZE), lo + 1] = frac
    return A


_COARSE = 5
_UPSAMPLE = _upsample_matrix(_COARSE)
# Coarse-grid coordinates in pixels from the image centre: bilinear interpolation reproduces a
# linear function exactly, so a gradient can be drawn on the coarse grid along with the blotches.
_COARSE_POS = (np.linspace(0, 1, _COARSE, dtype=np.float32) - 0.5) * _SIZE


def _background(rng, n):
    """Flat colour + linear gradient + smooth blotches, as (n, 3, 32, 32), and the flat colour."""
    base = rng.uniform(0.1, 0.35, size=(n, 3)).astype(np.float32)
    grad = rng.normal(0, 0.06, size=(n, 3, 2)).astype(np.float32) / (_SIZE / 2)
    coarse = rng.normal(0, 0.05, size=(n, 3, _COARSE, _COARSE)).astype(np.float32)
    coarse += base[:, :, None, None]
    coarse += grad[:, :, 0, None, None] * _COARSE_POS[None, :]
    coarse += grad[:, :, 1, None, None] * _COARSE_POS[:, None]
    return _UPSAMPLE @ coarse @ _UPSAMPLE.T, base


def _brighter(rng, base, lo, hi):
    """Random colours brighter than ``base`` (n, 3) by ``lo``..``hi`` on average, hue jittered.

    Shapes are lit against darker surroundings: a consistent contrast polarity gives every class
    a distinct average image, which lets gradient descent start, yet says nothing about where.
    """
    lift = rng.uniform(lo, hi, size=(len(base), 1)) + rng.normal(0, 0.12, size=base.shape)
    return np.clip(base + lift.astype(np.float32), 0, 1)


def _segment(rng, m):
    """Coverage (m, 32, 32) of one thin line segment per image, anywhere in it."""
    cx, cy = (_uniform(rng, -15, 15, m) for _ in range(2))
    theta = _uniform(rng, 0, np.pi, m)
    half_len = _uniform(rng, 1.5, 5.0, m)
    half_width = _uniform(rng, 0.4, 0.8, m)
    cos, sin = np.cos(theta), np.sin(theta)
    dx, dy = _GX - cx, _GY - cy
    along = np.clip(cos * dx + sin * dy, -half_len, half_len)
    return _coverage(np.hypot(dx - along * cos, dy - along * sin) - half_width)


def _speck(rng, m):
    """Coverage (m, 32, 32) of one small blob per image, anywhere in it."""
    cx, cy = (_uniform(rng, -15, 15, m) for _ in range(2))
    return _coverage(np.hypot(_GX - cx, _GY - cy) - _uniform(rng, 0.6, 1.6, m))


def _paint(img, alpha, colour):
    """Alpha-blend ``colour`` (m, 3) over ``img`` (m, 3, 32, 32) with coverage (m, 32, 32)."""
    img += alpha[:, None] * (colour[:, :, None, None] - img)


def _clutter(rng, img, draw, probability):
    """Paint a distractor made by ``draw``, in a random colour, on a random subset of ``img``."""
    idx = np.flatnonzero(rng.uniform(size=len(img)) < probability)
    sub = img[idx]
    _paint(sub, draw(rng, idx.size), rng.uniform(0, 1, size=(idx.size, 3)).astype(np.float32))
    img[idx] = sub


def _generate_chunk(rng, n):
    """Render ``n`` images as uint8 (n, 3, 32, 32) with balanced labels, from ``rng`` alone."""
    labels = rng.permutation(np.arange(n) % len(SYNTHETIC_CLASSES))
    img, base = _background(rng, n)

    # Clutter under the shape.
    for _ in range(2):
        _clutter(rng, img, _segment, 0.6)

    # The shape, brighter than the background so it is always visible, with a little shading.
    mask = np.empty((n, _SIZE, _SIZE), dtype=np.float32)
    for c, sdf in enumerate(_SHAPE_SDFS):
        idx = np.flatnonzero(labels == c)
        mask[idx] = _coverage(sdf(rng, idx.size))
    fg = _brighter(rng, base, 0.3, 0.55)
    shade = rng.normal(0, 0.08, size=(n, 2)).astype(np.float32) / (_SIZE / 2)
    shading = 1 + shade[:, 0, None, None] * _GX + shade[:, 1, None, None] * _GY
    img += mask[:, None] * (fg[:, :, None, None] * shading[:, None] - img)

    # Clutter over the shape, which may occlude part of it.
    _clutter(rng, img, _segment, 0.5)
    for _ in range(2):
        _clutter(rng, img, _speck, 0.5)

    # Sensor noise of a random strength per image.
    sigma = _uniform(rng, 0.02 * 255, 0.09 * 255, n)[:, :, :, None]
    img *= 255
    img += sigma * rng.standard_normal(size=img.shape, dtype=np.float32)
    np.rint(img, out=img)
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8), labels.astype(np.uint8)


def synthetic_cache_dir():
    """Folder for generated datasets: ``$NNGRADE_CACHE``, else ``~/.cache/nngrade``."""
    env = os.environ.get("NNGRADE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nngrade"


def _chunk_rng(seed, split, index):
    return np.random.default_rng([seed, _SPLIT_CODES[split], index])


def _read_cache(path, seed):
    """Images and labels from a cache file, or None when it is absent, stale or corrupt."""
    try:
        with np.load(path, allow_pickle=False) as f:
            X, y = f["X"], f["y"]
            meta = (int(f["version"]), int(f["seed"]), int(f["chunk"]))
    except Exception:
        return None
    ok = (
        meta == (SYNTHETIC_VERSION, seed, SYNTHETIC_CHUNK)
        and X.dtype == np.uint8
        and X.ndim == 4
        and X.shape[1:] == (3, _SIZE, _SIZE)
        and y.shape == (len(X),)
        and len(X) % SYNTHETIC_CHUNK == 0
        and (y.size == 0 or int(y.max()) < len(SYNTHETIC_CLASSES))
    )
    return (X, y) if ok else None


def _write_cache(path, X, y, seed):
    # Write to a temporary file and rename it into place, so a concurrent reader never sees a
    # half-written cache. Failing to cache (read-only home, full disk) is not an error.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    X=X,
                    y=y,
                    version=SYNTHETIC_VERSION,
                    seed=seed,
                    chunk=SYNTHETIC_CHUNK,
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the data is not secret
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _synthetic_split(split, n, seed, cache):
    """The first ``n`` images of one split as uint8 (n, 3, 32, 32) and uint8 labels."""
    chunks = -(-n // SYNTHETIC_CHUNK)
    path = synthetic_cache_dir() / f"synthetic-v{SYNTHETIC_VERSION}-seed{seed}-{split}.npz"
    cached = _read_cache(path, seed) if cache else None
    X = cached[0] if cached else np.empty((0, 3, _SIZE, _SIZE), np.uint8)
    y = cached[1] if cached else np.empty((0,), np.uint8)
    have = len(X) // SYNTHETIC_CHUNK
    if have < chunks:
        parts = [
            _generate_chunk(_chunk_rng(seed, split, k), SYNTHETIC_CHUNK)
            for k in range(have, chunks)
        ]
        X = np.concatenate([X, *(p[0] for p in parts)])
        y = np.concatenate([y, *(p[1] for p in parts)])
        if cache:
            _write_cache(path, X, y, seed)
    return X[:n], y[:n]


def get_synthetic_data(
    num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True, seed=0, cache=True
):
    """The synthetic dataset in ``get_CIFAR10_data``'s format; classes are SYNTHETIC_CLASSES.

    Deterministic in ``seed`` (the global numpy RNG is never touched), and the first n images of
    each split do not depend on how many are requested, so a small subset is a prefix of the full
    set. Train, validation and test images come from separate random streams. Generated images
    are cached as uint8 under ``synthetic_cache_dir()`` unless ``cache`` is False; a corrupt or
    outdated cache file is regenerated.
    """
    _check_sizes(num_training, num_validation, num_test)
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    X_train, y_train = _synthetic_split("train", int(num_training), seed, cache)
    X_val, y_val = _synthetic_split("val", int(num_validation), seed, cache)
    X_test, y_test = _synthetic_split("test", int(num_test), seed, cache)
    return _finish(X_train, y_train, X_val, y_val, X_test, y_test, subtract_mean)
