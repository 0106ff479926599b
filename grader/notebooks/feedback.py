"""What a student reads about a notebook: the errors that kept it from running to the end, the
unanswered questions, the model's accuracy against its threshold.
"""

from __future__ import annotations

from grader.notebooks.execution import NotebookRun
from grader.notebooks.settings import LISTED_ERRORS

# ---------------------------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------------------------


def runs_to_the_end_feedback(run: NotebookRun) -> str | None:
    """Why ``run`` did not run to the end, for the student; None when it did."""
    if run.problem:
        return run.problem
    lines = []
    errors = run.errors
    listed = [c for c in errors if c.error not in ("timed out", "the kernel died")]
    if listed:
        lines.append(
            f"{len(listed)} code cell(s) of {run.where or run.name + '.ipynb'} raised an error "
            "when the grader ran the notebook from top to bottom in a fresh kernel:"
        )
        for cell in listed[:LISTED_ERRORS]:
            lines.append(f"- {cell.where()}: {cell.error}")
        if len(listed) > LISTED_ERRORS:
            lines.append(f"- ... and {len(listed) - LISTED_ERRORS} more.")
    if run.stopped:
        lines.append(run.stopped)
    if not lines:
        return None
    lines.append(
        "Check that the notebook runs with Kernel > Restart & Run All against your package."
    )
    if run.unanswered:
        lines.append(unanswered_reminder(run))
    return "\n".join(lines)


def unanswered_reminder(run: NotebookRun) -> str:
    return "Unanswered inline questions: " + ", ".join(run.unanswered) + "."


def model_feedback(run: NotebookRun) -> str | None:
    """Why the notebook's model misses its threshold; None when it reaches it."""
    score = run.score
    if score is None:
        return None
    target = score.target
    if score.problem:
        return (
            f"`{target.variable}` from {target.notebook}.ipynb could not be scored on the "
            f"grader's held-out images: {score.problem}."
        )
    assert score.accuracy is not None
    if score.accuracy >= target.threshold:
        return None
    return (
        f"`{score.variable or target.variable}` from {target.notebook}.ipynb reaches an accuracy "
        f"of {score.accuracy:.3f} on {score.images} held-out images (its trained parameters run "
        "through the course's forward pass, after subtracting the mean training image); it must "
        f"reach {target.threshold:.2f} "
        f"(the course's notebook reaches {target.reference_accuracy:.2f}). If your layer and "
        "model checks pass, look at the training settings in the notebook and at how your model "
        "behaves in test mode."
    )
