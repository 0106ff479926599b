"""What a student reads about a notebook: the errors that kept it from running to the end, the
unanswered questions, the model's accuracy against its threshold.
"""

from __future__ import annotations

import importlib.metadata
import re

from grader.notebooks.execution import NotebookRun
from grader.notebooks.kernel import KERNEL_DISTRIBUTIONS
from grader.notebooks.settings import LISTED_ERRORS

#: A cell's error when an import found no such module.
_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '(?P<name>[\w.]+)'")

# ---------------------------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------------------------


def runs_to_the_end_feedback(run: NotebookRun) -> str | None:
    """Why ``run`` did not run to the end, for the student; None when it did."""
    if run.problem:
        return run.problem
    lines = []
    if not run.is_course_notebook:
        shown = "; ".join(f"`{line[:60]}`" for line in run.missing[:LISTED_ERRORS])
        more = len(run.missing) - LISTED_ERRORS
        lines.append(
            f"{run.where or run.name + '.ipynb'} lacks {len(run.missing)} of the course "
            f"notebook's {run.course_cells} code cells ({shown}"
            + (f"; and {more} more" if more > 0 else "")
            + "), so running it does not count as running the course's notebook. Keep the "
            "given cells and write your code in the cells marked TODO."
        )
    errors = run.errors
    listed = [c for c in errors if c.error not in ("timed out", "the kernel died")]
    if listed:
        lines.append(
            f"{len(listed)} code cell(s) of {run.where or run.name + '.ipynb'} raised an error "
            "when the grader ran the notebook from top to bottom in a fresh kernel:"
        )
        for cell in listed[:LISTED_ERRORS]:
            lines.append(f"- {cell.where()}: {cell.error}{_missing_package(cell.error)}")
        if len(listed) > LISTED_ERRORS:
            lines.append(f"- ... and {len(listed) - LISTED_ERRORS} more.")
    if run.stopped:
        lines.append(run.stopped)
    if not lines:
        return None
    if listed or run.stopped:
        lines.append(
            "Check that the notebook runs with Kernel > Restart & Run All against your package."
        )
    lines.extend(run.notes)
    if run.unanswered:
        lines.append(unanswered_reminder(run))
    return "\n".join(lines)


def _missing_package(error: str | None) -> str:
    """A note when ``error`` is an import of a package the grader's kernel does not have."""
    found = _NO_MODULE.match(error or "")
    if not found:
        return ""
    top = found["name"].split(".")[0]
    if top in ("cs231n", "assignment", "a2"):
        return ""
    offered = [name for name in KERNEL_DISTRIBUTIONS[1:] if _installed(name)]
    if top in KERNEL_DISTRIBUTIONS:
        return (
            f" (`{top}` belongs to the course's notebook environment but is not installed "
            "where the grader runs: a grader problem, tell the course staff)"
        )
    return (
        f" (`{top}` is not in the grader's notebook environment, which offers "
        f"{', '.join(offered)} and the standard library; remove that import or ask the "
        "course staff to add it)"
    )


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def passing_note(run: NotebookRun) -> str:
    """What a student reads about a notebook that ran to the end: the grader's notes."""
    lines = list(run.notes)
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
