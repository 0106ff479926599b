"""The student's models trained with the course's Solver must reach calibrated accuracies.

The worker trains; the grader reads the trained parameters, runs them through the reference
forward pass of the same architecture and counts the accuracy here, against labels that never
leave the grader for the held-out images.
"""

import pytest

from grader.checks import training
from grader.checks.impl import CheckFailure
from grader.course import COURSE

CASES = [
    pytest.param(name, marks=pytest.mark.rubric(item), id=name)
    for name, item in COURSE.training.TRAINING_ITEMS.items()
]


@pytest.mark.parametrize("name", CASES)
def check_training(student, grading_settings, name):
    task = COURSE.training.TASKS[name]
    acc = training.run_task(student, task, timeout=grading_settings.training_timeout)
    if acc < task.threshold:
        where = (
            "its own 50 training images"
            if task.measure == "train"
            else (f"{task.num_heldout} held-out images")
        )
        raise CheckFailure(
            f"{training.describe(task)}\n"
            f"Accuracy on {where}, counted from the trained parameters in model.params (and the "
            f"batchnorm running averages): {acc:.3f}; it must reach {task.threshold:.2f} "
            f"(the reference reaches {task.reference_accuracy:.2f}). "
            "If the loss and gradient checks of this model pass, look at how the model behaves "
            "in train and test mode (dropout, batchnorm running averages), at its "
            "initialisation, and at whether training updates model.params."
        )
