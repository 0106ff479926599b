"""How well the reference models learn the synthetic dataset at fixed, small training budgets.

Checks that train a student's model need thresholds ("after one epoch on N images a correct
ThreeLayerConvNet reaches x% validation accuracy"). Those thresholds are set from the figures this
module measures on the reference solution, with every budget, seed and hyperparameter declared
below, so the measurement can be repeated exactly: ``nngrade calibrate`` (also
``python -m grader.tools.calibration``, which can run one model alone).

The budgets are kept small enough to run inside a grading job (on 2 cores: the CNN in well under a
minute, the fully connected net in a few seconds), and large enough that the conv net clearly beats
the fully connected one, which is what the synthetic dataset is designed to show.
"""

import argparse
import importlib
import sys
import time
from dataclasses import dataclass

import numpy as np

# The data: synthetic images (never CIFAR-10, so the figures do not depend on the machine).
DATA_SEED = 0
NUM_VAL = 1000
# Training accuracy is measured on this many of the first training images.
TRAIN_ACC_SAMPLES = 1000

# FullyConnectedNet: two hidden layers of 100, Adam, a few epochs on a modest training set.
FC_HIDDEN_DIMS = (100, 100)
FC_NUM_TRAIN = 10_000
FC_NUM_EPOCHS = 10
FC_BATCH_SIZE = 100
FC_LEARNING_RATE = 1e-3
FC_WEIGHT_SCALE = 1e-2
FC_SEED = 0

# ThreeLayerConvNet with its default architecture (32 7x7 filters, 100 hidden units): one epoch.
CNN_NUM_TRAIN = 15_000
CNN_NUM_EPOCHS = 1
CNN_BATCH_SIZE = 25
CNN_LEARNING_RATE = 2e-4
CNN_WEIGHT_SCALE = 1e-2
CNN_SEED = 0

UPDATE_RULE = "adam"

# Tiny budgets for ``--quick``: enough to see both models train, in a few seconds.
QUICK_FC_NUM_TRAIN = 1000
QUICK_FC_NUM_EPOCHS = 2
QUICK_CNN_NUM_TRAIN = 500
QUICK_NUM_VAL = 200


@dataclass(frozen=True)
class CalibrationResult:
    """One measured training run; ``seconds`` covers the training alone, not loading data."""

    model: str
    num_train: int
    num_epochs: int
    train_acc: float
    val_acc: float
    seconds: float

    @property
    def budget(self):
        epochs = "epoch" if self.num_epochs == 1 else "epochs"
        return f"{self.num_epochs} {epochs} x {self.num_train} images"


def _modules(package):
    return (
        importlib.import_module(f"{package}.data_utils"),
        importlib.import_module(f"{package}.classifiers"),
        importlib.import_module(f"{package}.solver"),
    )


def _train(name, package, build, num_train, num_epochs, batch_size, learning_rate, seed, num_val):
    """Train ``build()``'s model with the Solver from a fixed global seed; return the result.

    The reference models and the Solver draw from numpy's global RNG, so it is seeded here and
    put back as it was afterwards, leaving the caller's random stream untouched.
    """
    data_utils, _, solver_module = _modules(package)
    data = data_utils.get_synthetic_data(num_train, num_val, 0, seed=DATA_SEED)
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        model = build()
        solver = solver_module.Solver(
            model,
            data,
            update_rule=UPDATE_RULE,
            optim_config={"learning_rate": learning_rate},
            batch_size=batch_size,
            num_epochs=num_epochs,
            verbose=False,
        )
        start = time.perf_counter()
        solver.train()
        seconds = time.perf_counter() - start
        n = min(TRAIN_ACC_SAMPLES, num_train)
        train_acc = solver.check_accuracy(data["X_train"][:n], data["y_train"][:n])
        val_acc = solver.check_accuracy(data["X_val"], data["y_val"])
    finally:
        np.random.set_state(state)
    return CalibrationResult(name, num_train, num_epochs, train_acc, val_acc, seconds)


def calibrate_fc(
    num_train=FC_NUM_TRAIN,
    num_epochs=FC_NUM_EPOCHS,
    *,
    seed=FC_SEED,
    num_val=NUM_VAL,
    package="reference",
):
    """Train FullyConnectedNet(FC_HIDDEN_DIMS) at the declared budget (or the one given)."""
    classifiers = _modules(package)[1]

    def build():
        return classifiers.FullyConnectedNet(list(FC_HIDDEN_DIMS), weight_scale=FC_WEIGHT_SCALE)

    return _train(
        "FullyConnectedNet",
        package,
        build,
        num_train,
        num_epochs,
        FC_BATCH_SIZE,
        FC_LEARNING_RATE,
        seed,
        num_val,
    )


def calibrate_cnn(
    num_train=CNN_NUM_TRAIN,
    num_epochs=CNN_NUM_EPOCHS,
    *,
    seed=CNN_SEED,
    num_val=NUM_VAL,
    package="reference",
):
    """Train ThreeLayerConvNet (default architecture) at the declared budget (or the one given)."""
    classifiers = _modules(package)[1]

    def build():
        return classifiers.ThreeLayerConvNet(weight_scale=CNN_WEIGHT_SCALE)

    return _train(
        "ThreeLayerConvNet",
        package,
        build,
        num_train,
        num_epochs,
        CNN_BATCH_SIZE,
        CNN_LEARNING_RATE,
        seed,
        num_val,
    )


def run_calibration(package="reference", models=("fc", "cnn"), quick=False):
    """The calibration runs at their declared budgets (tiny ones when ``quick``), in a list."""
    if quick:
        runs = {
            "fc": lambda: calibrate_fc(
                QUICK_FC_NUM_TRAIN, QUICK_FC_NUM_EPOCHS, num_val=QUICK_NUM_VAL, package=package
            ),
            "cnn": lambda: calibrate_cnn(
                QUICK_CNN_NUM_TRAIN, num_val=QUICK_NUM_VAL, package=package
            ),
        }
    else:
        runs = {
            "fc": lambda: calibrate_fc(package=package),
            "cnn": lambda: calibrate_cnn(package=package),
        }
    return [runs[name]() for name in models]


def format_table(results):
    """The results as a fixed-width text table, one row per run."""
    header = ("model", "budget", "train acc", "val acc", "seconds")
    rows = [
        (r.model, r.budget, f"{r.train_acc:.3f}", f"{r.val_acc:.3f}", f"{r.seconds:.1f}")
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    top = "  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True))
    return "\n".join([top, "  ".join("-" * w for w in widths), *lines])


def main(quick=False, models=("fc", "cnn"), package="reference"):
    """Run the calibration and print its table (``nngrade calibrate``); returns an exit status.

    ``quick`` swaps in tiny budgets: a smoke test of the machinery, not figures to grade by.
    """
    budgets = "tiny smoke-test budgets" if quick else "the calibration budgets"
    print(
        f"Training the {package} models at {budgets} on synthetic data (seed {DATA_SEED}), "
        f"update rule {UPDATE_RULE}.",
        flush=True,
    )
    results = run_calibration(package, models, quick=quick)
    print(format_table(results))
    return 0


def cli(argv=None):
    """``python -m grader.tools.calibration [--model fc|cnn|all] [--quick] [--package NAME]``."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.tools.calibration",
        description="Train the reference models at the calibration budgets and print a table.",
    )
    parser.add_argument(
        "--model", choices=("fc", "cnn", "all"), default="all", help="which run (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny budgets, for a smoke test")
    parser.add_argument(
        "--package", default="reference", help="package holding the models (default: reference)"
    )
    args = parser.parse_args(argv)
    models = ("fc", "cnn") if args.model == "all" else (args.model,)
    return main(quick=args.quick, models=models, package=args.package)


if __name__ == "__main__":
    sys.exit(cli())
