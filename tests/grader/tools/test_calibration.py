"""Tests of grader/calibration.py at tiny budgets: the runs learn, and repeat exactly."""

import dataclasses

import numpy as np
import pytest

from grader.tools import calibration as cal

NUM_VAL = 500
CHANCE = 0.1


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """One synthetic-data cache for the module, so the data is generated once."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv("NNGRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _without_time(result):
    return dataclasses.replace(result, seconds=0.0)


def test_fc_learns_above_chance_and_repeats_exactly():
    first = cal.calibrate_fc(3000, 3, num_val=NUM_VAL)
    second = cal.calibrate_fc(3000, 3, num_val=NUM_VAL)
    assert first.model == "FullyConnectedNet" and first.num_train == 3000
    assert first.num_epochs == 3
    # 500 validation images: chance is 10% +- 1.3%, so 18% is far outside it.
    assert first.val_acc > CHANCE + 0.08
    assert first.train_acc > first.val_acc  # a small training set is fitted better than unseen
    assert first.seconds > 0
    assert _without_time(first) == _without_time(second)


def test_seed_changes_the_run():
    a = cal.calibrate_fc(500, 1, num_val=NUM_VAL, seed=0)
    b = cal.calibrate_fc(500, 1, num_val=NUM_VAL, seed=1)
    assert (a.train_acc, a.val_acc) != (b.train_acc, b.val_acc)


def test_cnn_repeats_exactly():
    first = cal.calibrate_cnn(100, num_val=100)
    second = cal.calibrate_cnn(100, num_val=100)
    assert first.model == "ThreeLayerConvNet" and first.num_epochs == 1
    assert _without_time(first) == _without_time(second)


@pytest.mark.slow
def test_cnn_learns_above_chance():
    result = cal.calibrate_cnn(3000, num_val=NUM_VAL)
    assert result.val_acc > CHANCE + 0.08


def test_calibration_leaves_the_global_rng_alone():
    np.random.seed(99)
    expected = np.random.rand(3)
    np.random.seed(99)
    cal.calibrate_fc(200, 1, num_val=100)
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_budgets_are_declared_and_small():
    assert cal.CNN_NUM_EPOCHS == 1
    assert 0 < cal.CNN_NUM_TRAIN <= 20_000
    assert 0 < cal.FC_NUM_TRAIN * cal.FC_NUM_EPOCHS <= 200_000
    assert cal.FC_HIDDEN_DIMS == (100, 100)


def test_table_and_main(monkeypatch, capsys):
    results = [
        cal.CalibrationResult("FullyConnectedNet", 10_000, 10, 0.9, 0.55, 4.25),
        cal.CalibrationResult("ThreeLayerConvNet", 15_000, 1, 0.8, 0.75, 20.0),
    ]
    table = cal.format_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["model", "budget", "train", "acc", "val", "acc", "seconds"]
    assert "10 epochs x 10000 images" in lines[2] and "0.550" in lines[2] and "4.2" in lines[2]
    assert "1 epoch x 15000 images" in lines[3] and "0.750" in lines[3]

    calls = []

    def fake_run(package, models, quick=False):
        calls.append((package, models, quick))
        return results

    monkeypatch.setattr(cal, "run_calibration", fake_run)
    assert cal.main(quick=True) == 0  # how `nngrade calibrate --quick` calls it
    assert cal.cli(["--model", "cnn"]) == 0
    assert calls == [("reference", ("fc", "cnn"), True), ("reference", ("cnn",), False)]
    out = capsys.readouterr().out
    assert table in out and f"seed {cal.DATA_SEED}" in out and "smoke-test" in out


def test_quick_run_trains_both_models(capsys):
    results = cal.run_calibration(quick=True)
    assert [r.model for r in results] == ["FullyConnectedNet", "ThreeLayerConvNet"]
    assert results[0].num_train == cal.QUICK_FC_NUM_TRAIN
    assert results[1].num_train == cal.QUICK_CNN_NUM_TRAIN
    assert all(0.0 <= r.val_acc <= 1.0 for r in results)
