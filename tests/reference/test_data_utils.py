"""Tests of reference/data_utils.py: the CIFAR-10 loader (on small fake batches written here), the
synthetic dataset and its cache, and the fallback from one to the other."""

import hashlib
import io
import pickle
import tarfile
import warnings

import numpy as np
import pytest

from reference import data_utils as du

PER_BATCH = 4  # images in each fake training batch
NUM_TEST = 6


def _batch(rng, n, str_keys=False):
    data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
    labels = [int(v) for v in rng.randint(0, 10, size=n)]
    if str_keys:
        return {"data": data, "labels": labels, "batch_label": "fake"}
    return {b"data": data, b"labels": labels, b"batch_label": b"fake"}


def write_fake_cifar(root, str_keys=False):
    """Write data_batch_1..5 and test_batch with a few random images each; return the batches."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    batches = {}
    for name in (*du.CIFAR10_TRAIN_BATCHES, du.CIFAR10_TEST_BATCH):
        n = NUM_TEST if name == du.CIFAR10_TEST_BATCH else PER_BATCH
        batches[name] = _batch(rng, n, str_keys)
        with open(root / name, "wb") as f:
            pickle.dump(batches[name], f)
    return batches


def _field(batch, name):
    return batch[name] if name in batch else batch[name.encode()]


def _images(batch):
    """Channels-first float images of a fake batch, computed independently of the loader."""
    return _field(batch, "data").reshape(-1, 3, 32, 32).astype(np.float64)


@pytest.fixture
def cifar(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    return root, write_fake_cifar(root)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own cache folder, no CIFAR10_DIR, and a fresh fallback notice."""
    monkeypatch.setenv("NNGRADE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(du, "DEFAULT_CIFAR10_DIR", tmp_path / "no-default-cifar")
    monkeypatch.setattr(du, "_notice_shown", False)


# ---------------------------------------------------------------------------------------------
# CIFAR-10 loader
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("str_keys", [False, True])
def test_load_cifar_batch_layout(tmp_path, str_keys):
    batch = _batch(np.random.RandomState(1), 3, str_keys)
    path = tmp_path / "batch"
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    X, Y = du.load_CIFAR_batch(path)
    assert X.shape == (3, 32, 32, 3) and X.dtype == np.float64
    assert Y.dtype.kind == "i" and Y.tolist() == _field(batch, "labels")
    # Row-major 3072 vector = 1024 red, then green, then blue values.
    data = _field(batch, "data")
    assert X[1, 5, 7, 0] == data[1, 5 * 32 + 7]
    assert X[2, 31, 0, 2] == data[2, 2048 + 31 * 32]


def test_load_cifar10_concatenates_batches_in_order(cifar):
    root, batches = cifar
    Xtr, Ytr, Xte, Yte = du.load_CIFAR10(root)
    assert Xtr.shape == (5 * PER_BATCH, 32, 32, 3) and Xte.shape == (NUM_TEST, 32, 32, 3)
    expected = np.concatenate([_images(batches[n]) for n in du.CIFAR10_TRAIN_BATCHES])
    np.testing.assert_array_equal(Xtr.transpose(0, 3, 1, 2), expected)
    np.testing.assert_array_equal(Yte, _field(batches["test_batch"], "labels"))


def test_get_cifar10_data_splits_and_layout(cifar):
    root, batches = cifar
    data = du.get_CIFAR10_data(11, 5, 4, subtract_mean=False, cifar10_dir=root)
    train = np.concatenate([_images(batches[n]) for n in du.CIFAR10_TRAIN_BATCHES])
    labels = np.concatenate([_field(batches[n], "labels") for n in du.CIFAR10_TRAIN_BATCHES])
    np.testing.assert_array_equal(data["X_train"], train[:11])
    np.testing.assert_array_equal(data["y_train"], labels[:11])
    np.testing.assert_array_equal(data["X_val"], train[11:16])
    np.testing.assert_array_equal(data["y_val"], labels[11:16])
    np.testing.assert_array_equal(data["X_test"], _images(batches["test_batch"])[:4])
    for split in ("train", "val", "test"):
        assert data[f"X_{split}"].dtype == np.float64
        assert data[f"X_{split}"].flags.c_contiguous
        assert data[f"y_{split}"].dtype == np.int64


def test_get_cifar10_data_subtracts_the_training_mean(cifar):
    root, _ = cifar
    raw = du.get_CIFAR10_data(12, 4, 6, subtract_mean=False, cifar10_dir=root)
    data = du.get_CIFAR10_data(12, 4, 6, cifar10_dir=root)
    mean = raw["X_train"].mean(axis=0)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-9)
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(data[f"X_{split}"], raw[f"X_{split}"] - mean, atol=1e-9)


def test_directory_from_env_and_argument_precedence(cifar, tmp_path, monkeypatch):
    root, batches = cifar
    monkeypatch.setenv("CIFAR10_DIR", str(root))
    from_env = du.get_CIFAR10_data(3, 2, 2, subtract_mean=False)
    np.testing.assert_array_equal(from_env["X_test"], _images(batches["test_batch"])[:2])

    other = tmp_path / "other"
    other_batches = write_fake_cifar(other, str_keys=True)
    # The same seed writes the same images: overwrite a batch to tell the two folders apart.
    other_batches["test_batch"]["data"][:] = 7
    with open(other / "test_batch", "wb") as f:
        pickle.dump(other_batches["test_batch"], f)
    explicit = du.get_CIFAR10_data(3, 2, 2, subtract_mean=False, cifar10_dir=other)
    assert np.all(explicit["X_test"] == 7)


def test_default_directory_next_to_the_package(cifar, monkeypatch):
    root, batches = cifar
    monkeypatch.setattr(du, "DEFAULT_CIFAR10_DIR", root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback notice: the dataset is there
        data = du.get_CIFAR10_data(3, 2, 2, subtract_mean=False)
    np.testing.assert_array_equal(data["X_test"], _images(batches["test_batch"])[:2])


def test_missing_batch_is_a_clear_error(cifar):
    root, _ = cifar
    (root / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        du.get_CIFAR10_data(3, 2, 2, cifar10_dir=root)


def test_corrupt_batch_is_a_clear_error(cifar):
    root, _ = cifar
    (root / "test_batch").write_bytes(b"this is not a pickle")
    with pytest.raises(du.CIFAR10FormatError, match="test_batch"):
        du.get_CIFAR10_data(3, 2, 2, cifar10_dir=root)


def test_malformed_batch_is_a_clear_error(cifar):
    root, _ = cifar
    with open(root / "data_batch_1", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(du.CIFAR10FormatError, match=r"data_batch_1.*3072"):
        du.get_CIFAR10_data(3, 2, 2, cifar10_dir=root)


def test_a_file_where_the_directory_should_be(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(NotADirectoryError):
        du.get_CIFAR10_data(3, 2, 2, cifar10_dir=path)


def test_asking_for_more_images_than_exist(cifar):
    root, _ = cifar
    with pytest.raises(ValueError, match="num_training"):
        du.get_CIFAR10_data(5 * PER_BATCH, 1, 1, cifar10_dir=root)
    with pytest.raises(ValueError, match="num_test"):
        du.get_CIFAR10_data(2, 1, NUM_TEST + 1, cifar10_dir=root)
    with pytest.raises(ValueError, match="non-negative"):
        du.get_CIFAR10_data(-1, 1, 1, cifar10_dir=root)


# ---------------------------------------------------------------------------------------------
# Fallback to the synthetic dataset
# ---------------------------------------------------------------------------------------------


def test_fallback_when_cifar_is_absent_says_so_once(tmp_path):
    missing = tmp_path / "nowhere"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # so only our own once-per-process rule can hide one
        first = du.get_CIFAR10_data(30, 20, 10, cifar10_dir=missing)
        second = du.get_CIFAR10_data(30, 20, 10, cifar10_dir=missing)
    notices = [w for w in caught if issubclass(w.category, du.SyntheticDataWarning)]
    assert len(notices) == 1
    message = str(notices[0].message)
    assert "synthetic" in message and str(missing) in message and "CIFAR10_DIR" in message
    expected = du.get_synthetic_data(30, 20, 10)
    for key, value in expected.items():
        np.testing.assert_array_equal(first[key], value)
        np.testing.assert_array_equal(second[key], value)


def test_class_names_follow_the_data(cifar, tmp_path):
    root, _ = cifar
    assert du.get_class_names(root) == du.CIFAR10_CLASSES
    assert du.get_class_names(tmp_path / "nowhere") == du.SYNTHETIC_CLASSES
    assert du.get_class_names() == du.SYNTHETIC_CLASSES  # no argument, env or default folder


def test_fallback_also_for_a_missing_env_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nowhere"))
    with pytest.warns(du.SyntheticDataWarning, match="nowhere"):
        data = du.get_CIFAR10_data(10, 10, 10, subtract_mean=False)
    assert data["X_train"].shape == (10, 3, 32, 32)


# ---------------------------------------------------------------------------------------------
# Synthetic dataset
# ---------------------------------------------------------------------------------------------


def test_synthetic_classes():
    assert len(du.SYNTHETIC_CLASSES) == 10
    assert len(set(du.SYNTHETIC_CLASSES)) == 10
    assert all(isinstance(name, str) and name for name in du.SYNTHETIC_CLASSES)


def test_synthetic_format_matches_cifar():
    data = du.get_synthetic_data(1200, 300, 200, subtract_mean=False)
    for split, n in (("train", 1200), ("val", 300), ("test", 200)):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        assert X.shape == (n, 3, 32, 32) and X.dtype == np.float64 and X.flags.c_contiguous
        assert y.shape == (n,) and y.dtype == np.int64
        assert X.min() >= 0 and X.max() <= 255 and np.all(X == np.round(X))
        assert set(np.unique(y)) == set(range(10))
    # Labels are balanced within each generated chunk of 1000.
    assert np.all(np.bincount(data["y_train"][: du.SYNTHETIC_CHUNK]) == du.SYNTHETIC_CHUNK // 10)


def test_synthetic_mean_subtraction():
    raw = du.get_synthetic_data(500, 100, 100, subtract_mean=False)
    data = du.get_synthetic_data(500, 100, 100)
    mean = raw["X_train"].mean(axis=0)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(data["X_test"], raw["X_test"] - mean, atol=1e-9)


def test_synthetic_is_deterministic_and_depends_on_the_seed():
    a = du.get_synthetic_data(100, 50, 50, subtract_mean=False, seed=3, cache=False)
    b = du.get_synthetic_data(100, 50, 50, subtract_mean=False, seed=3, cache=False)
    c = du.get_synthetic_data(100, 50, 50, subtract_mean=False, seed=4, cache=False)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["X_train"], c["X_train"])


def test_synthetic_splits_are_prefixes_and_independent():
    small = du.get_synthetic_data(100, 40, 30, subtract_mean=False, cache=False)
    large = du.get_synthetic_data(1100, 60, 30, subtract_mean=False, cache=False)
    np.testing.assert_array_equal(small["X_train"], large["X_train"][:100])
    np.testing.assert_array_equal(small["y_train"], large["y_train"][:100])
    # Validation and test images do not shift when the training set grows.
    np.testing.assert_array_equal(small["X_val"], large["X_val"][:40])
    np.testing.assert_array_equal(small["X_test"], large["X_test"])
    # ... and the three splits are different images.
    assert not np.array_equal(large["X_train"][:30], large["X_val"][:30])
    assert not np.array_equal(large["X_val"][:30], large["X_test"][:30])


def test_synthetic_leaves_the_global_rng_alone():
    np.random.seed(1234)
    before = np.random.get_state()
    du.get_synthetic_data(50, 10, 10, cache=False)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def test_synthetic_images_hide_the_class_in_colour_and_brightness():
    """The design goal: class means of global statistics barely differ, images within a class do.

    A classifier cannot get far on average brightness or colour; it has to find the shapes.
    """
    data = du.get_synthetic_data(2000, 0, 0, subtract_mean=False)
    X, y = data["X_train"], data["y_train"]
    colour = X.mean(axis=(2, 3))  # (N, 3) mean colour of each image
    class_means = np.stack([colour[y == c].mean(axis=0) for c in range(10)])
    spread_between = class_means.std(axis=0)
    spread_within = np.mean([colour[y == c].std(axis=0) for c in range(10)], axis=0)
    assert np.all(spread_between < 0.15 * spread_within)


def test_synthetic_cache_is_written_reused_and_extended(tmp_path, monkeypatch):
    first = du.get_synthetic_data(1500, 10, 10, subtract_mean=False)
    path = tmp_path / "cache" / f"synthetic-v{du.SYNTHETIC_VERSION}-seed0-train.npz"
    assert path.is_file()
    with np.load(path) as f:
        assert f["X"].shape == (2 * du.SYNTHETIC_CHUNK, 3, 32, 32) and f["X"].dtype == np.uint8

    def no_generation(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    with monkeypatch.context() as m:
        m.setattr(du, "_generate_chunk", no_generation)
        again = du.get_synthetic_data(1500, 10, 10, subtract_mean=False)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])

    # Asking for more generates only the missing chunks and grows the file.
    calls = []
    original = du._generate_chunk
    monkeypatch.setattr(du, "_generate_chunk", lambda rng, n: calls.append(n) or original(rng, n))
    more = du.get_synthetic_data(2500, 10, 10, subtract_mean=False)
    assert calls == [du.SYNTHETIC_CHUNK]
    np.testing.assert_array_equal(more["X_train"][:1500], first["X_train"])
    with np.load(path) as f:
        assert len(f["X"]) == 3 * du.SYNTHETIC_CHUNK


def test_corrupt_cache_is_regenerated(tmp_path):
    expected = du.get_synthetic_data(20, 0, 0, subtract_mean=False, cache=False)
    path = tmp_path / "cache" / f"synthetic-v{du.SYNTHETIC_VERSION}-seed0-train.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage, not an npz file")
    data = du.get_synthetic_data(20, 0, 0, subtract_mean=False)
    np.testing.assert_array_equal(data["X_train"], expected["X_train"])
    with np.load(path) as f:  # and the file was rewritten
        assert f["X"].shape[0] == du.SYNTHETIC_CHUNK


def test_cache_from_another_seed_or_version_is_not_trusted(tmp_path):
    path = tmp_path / "cache" / f"synthetic-v{du.SYNTHETIC_VERSION}-seed0-train.npz"
    path.parent.mkdir(parents=True)
    wrong = np.zeros((du.SYNTHETIC_CHUNK, 3, 32, 32), np.uint8)
    labels = np.zeros(du.SYNTHETIC_CHUNK, np.uint8)
    np.savez(path, X=wrong, y=labels, version=du.SYNTHETIC_VERSION + 1, seed=0, chunk=1000)
    data = du.get_synthetic_data(10, 0, 0, subtract_mean=False)
    assert data["X_train"].max() > 0


def test_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so no folder can be made under it")
    monkeypatch.setenv("NNGRADE_CACHE", str(blocker / "cache"))
    data = du.get_synthetic_data(10, 0, 0)
    assert data["X_train"].shape == (10, 3, 32, 32)


def test_synthetic_rejects_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        du.get_synthetic_data(10, 0, 0, seed=-1)
    with pytest.raises(ValueError, match="num_validation"):
        du.get_synthetic_data(10, 2.5, 0)


# ---------------------------------------------------------------------------------------------
# Download (no network: urlopen is replaced by an in-memory archive)
# ---------------------------------------------------------------------------------------------


def _fake_archive(tmp_path):
    source = tmp_path / "src" / "cifar-10-batches-py"
    write_fake_cifar(source)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source, arcname="cifar-10-batches-py")
    return buffer.getvalue()


def test_download_cifar10_unpacks_a_verified_archive(tmp_path, monkeypatch):
    archive = _fake_archive(tmp_path)
    monkeypatch.setattr(du, "CIFAR10_MD5", hashlib.md5(archive).hexdigest())
    monkeypatch.setattr(du.urllib.request, "urlopen", lambda url: io.BytesIO(archive))
    target = du.download_cifar10(tmp_path / "datasets")
    assert target == tmp_path / "datasets" / "cifar-10-batches-py"
    Xtr, _, Xte, _ = du.load_CIFAR10(target)
    assert len(Xtr) == 5 * PER_BATCH and len(Xte) == NUM_TEST
    assert sorted(p.name for p in (tmp_path / "datasets").iterdir()) == ["cifar-10-batches-py"]


def test_download_cifar10_rejects_a_bad_checksum(tmp_path, monkeypatch):
    archive = _fake_archive(tmp_path)
    monkeypatch.setattr(du.urllib.request, "urlopen", lambda url: io.BytesIO(archive))
    with pytest.raises(OSError, match="MD5"):
        du.download_cifar10(tmp_path / "datasets")
    assert not (tmp_path / "datasets" / "cifar-10-batches-py").exists()
