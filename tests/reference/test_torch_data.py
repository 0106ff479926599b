"""reference/torch_data.py: the assignment's images as normalised tensors and seeded loaders."""

import pytest

try:
    import torch

    from reference import torch_data as td
except ImportError:  # the optional extra nngrade[torch] is not installed
    torch = td = None

pytestmark = pytest.mark.skipif(
    torch is None, reason="torch is not installed (optional extra: pip install torch==2.13.0)"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A small synthetic dataset (CIFAR-10 made absent), generated into a private cache."""
    from reference import data_utils

    folder = tmp_path_factory.mktemp("torch-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNGRADE_CACHE", str(folder / "cache"))
        mp.setenv("CIFAR10_DIR", str(folder / "no-cifar"))
        mp.setattr(data_utils, "_notice_shown", False)  # shown once per process
        with pytest.warns(data_utils.SyntheticDataWarning):
            return td.load_tensors(num_training=300, num_validation=40, num_test=30)


def test_splits_shapes_and_dtypes(data):
    for split, n in (("train", 300), ("val", 40), ("test", 30)):
        assert data[f"X_{split}"].shape == (n, 3, 32, 32)
        assert data[f"X_{split}"].dtype == torch.float32
        assert data[f"y_{split}"].shape == (n,) and data[f"y_{split}"].dtype == torch.int64
        assert 0 <= data[f"y_{split}"].min() and data[f"y_{split}"].max() < 10
    assert data["mean"].shape == data["std"].shape == (1, 3, 1, 1)


def test_training_images_are_normalised_per_channel(data):
    X = data["X_train"].double()
    torch.testing.assert_close(
        X.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        X.std(dim=(0, 2, 3)), torch.ones(3, dtype=torch.float64), atol=1e-4, rtol=0
    )
    # The images were 0..255 before: the statistics say so, and undo the normalisation.
    assert (data["mean"] > 10).all() and (data["std"] > 10).all()
    raw = data["X_val"] * data["std"] + data["mean"]
    assert raw.min() >= -1e-3 and raw.max() <= 255 + 1e-3


def test_normalize_guards_constant_channels():
    X = torch.zeros(4, 2, 3, 3)
    X[:, 1] = torch.arange(4.0)[:, None, None]
    mean, std = td.channel_stats(X)
    assert std[0, 0, 0, 0] == 1 and std[0, 1, 0, 0] > 0
    out = td.normalize(X, mean, std)
    assert torch.isfinite(out).all() and out.dtype == torch.float32


def test_loaders_batch_shuffle_by_seed_and_leave_the_global_rng_alone(data):
    state = torch.get_rng_state()
    loaders = td.make_loaders(data, batch_size=64, seed=1)
    order = [y for _, y in loaders["train"]]
    assert [len(y) for y in order] == [64, 64, 64, 64, 44]
    assert torch.equal(torch.cat(order).sort().values, data["y_train"].sort().values)
    assert not torch.equal(torch.cat(order), data["y_train"])  # shuffled
    again = [y for _, y in td.make_loaders(data, batch_size=64, seed=1)["train"]]
    assert all(torch.equal(a, b) for a, b in zip(order, again, strict=True))
    other = torch.cat([y for _, y in td.make_loaders(data, batch_size=64, seed=2)["train"]])
    assert not torch.equal(other, torch.cat(order))
    val = torch.cat([y for _, y in loaders["val"]])
    assert torch.equal(val, data["y_val"])  # in order
    assert torch.equal(torch.get_rng_state(), state)
