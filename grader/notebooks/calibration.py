"""The notebooks' accuracy thresholds, measured by running the course's own notebooks:
``python -m grader.notebooks.calibration``.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from grader.notebooks import build
from grader.notebooks.feedback import runs_to_the_end_feedback
from grader.notebooks.grading import SubmissionNotebooks
from grader.notebooks.heldout import NUM_CLASSES, heldout_data
from grader.notebooks.scoring import (
    CHANCE_ACCURACY,
    CHANCE_STANDARD_ERRORS,
    MARGIN,
    MODEL_TARGETS,
    chance_floor,
    informative,
    threshold_below,
)
from grader.notebooks.settings import NotebookOptions

# ---------------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------------


def calibrate(
    names: Iterable[str] = tuple(MODEL_TARGETS), options: NotebookOptions | None = None
) -> dict[str, dict[str, float]]:
    """Grade the course's own notebooks and print the figures the thresholds come from.

    Builds a solved submission (reference package, freshly built notebooks), runs each notebook
    through the same grading path as a student's, and prints for each model: the reference's
    held-out accuracy, chance and its noise, and the threshold :func:`threshold_below` gives.
    """
    options = options or NotebookOptions()
    _, labels = heldout_data(options.heldout_images)
    majority = float(np.bincount(labels, minlength=NUM_CLASSES).max() / len(labels))
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="nngrade-calibrate-") as tmp:
        build.prepare_reference_dir(Path(tmp))
        with SubmissionNotebooks(tmp, options) as runner:
            for name in names:
                run = runner.run(name)
                target = MODEL_TARGETS[name]
                score = run.score
                accuracy = score.accuracy if score and score.accuracy is not None else float("nan")
                se = math.sqrt(max(accuracy * (1 - accuracy), 0) / len(labels))
                figures[name] = {
                    "reference_accuracy": accuracy,
                    "standard_error": se,
                    "chance": CHANCE_ACCURACY,
                    "majority_class": majority,
                    "chance_floor": chance_floor(len(labels)),
                    "threshold": threshold_below(accuracy) if accuracy == accuracy else math.nan,
                    "seconds": run.seconds,
                }
                print(f"{name} ({target.variable}): ran in {run.seconds:.1f} s")
                if not run.ran_to_the_end:
                    print(f"  did not run to the end: {runs_to_the_end_feedback(run)}")
                if score and score.problem:
                    print(f"  scoring failed: {score.problem}")
                print(
                    f"  reference accuracy {accuracy:.4f} on {len(labels)} held-out images "
                    f"(standard error {se:.4f})"
                )
                print(
                    f"  chance {CHANCE_ACCURACY:.2f} (majority class {majority:.3f}); "
                    f"floor chance + {CHANCE_STANDARD_ERRORS:g} SE = "
                    f"{chance_floor(len(labels)):.4f}"
                )
                suggested = figures[name]["threshold"]
                print(
                    f"  threshold_below(reference) = {suggested:.2f} (constants now: reference "
                    f"{target.reference_accuracy:.3f}, threshold {target.threshold:.2f})"
                )
                if accuracy != accuracy:
                    print("  WARNING: no accuracy: the reference notebook could not be scored.")
                elif not informative(suggested):
                    print(
                        "  WARNING: the reference is indistinguishable from chance; a threshold "
                        "it passes also passes a model that learned nothing."
                    )
                elif accuracy - MARGIN < chance_floor(len(labels)):
                    print(
                        "  NOTE: the reference is near chance; the threshold sits at chance + "
                        f"{CHANCE_STANDARD_ERRORS:g} standard errors instead of {MARGIN} below it."
                    )
    return figures


if __name__ == "__main__":  # python -m grader.notebooks.calibration: calibration figures
    calibrate()
