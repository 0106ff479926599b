"""Time and size limits of a notebook run, and the options a grading run passes to it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from grader.sandbox import Limits

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

#: Seconds one cell may run. The longest cells of the course's notebooks train a model for
#: well under a minute on a CI core; three minutes leaves room for a slow machine and for a
#: student's own (slower but correct) code.
CELL_TIMEOUT = 180.0
#: Seconds the whole notebook may run, cells and kernel start-up together.
NOTEBOOK_TIMEOUT = 420.0
#: Seconds the grader's scoring cell may run (a forward pass over the held-out images).
SCORING_TIMEOUT = 120.0
#: Seconds the kernel may take to start and answer its first request.
KERNEL_START_TIMEOUT = 60.0
#: Output a notebook run may send back, in bytes of message content; later output is dropped,
#: so a cell printing in a loop cannot fill the grader's memory.
OUTPUT_LIMIT = 8 << 20
#: The largest ZMQ message accepted from the kernel (a plot is well under 1 MiB).
MAX_MESSAGE_BYTES = 16 << 20
#: The largest notebook file read from a submission.
MAX_NOTEBOOK_BYTES = 64 << 20
#: Characters of a cell's error kept for feedback.
MAX_ERROR_CHARS = 300
#: Errors listed one by one in the feedback; the others are counted.
LISTED_ERRORS = 3

#: Held-out images each model is scored on. The accuracy's standard error is at most
#: sqrt(0.25 / 1000) = 0.016, and 0.0095 near chance.
HELDOUT_IMAGES = 1000


@dataclass(frozen=True)
class NotebookOptions:
    """Time and resource limits of one notebook run."""

    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    scoring_timeout: float = SCORING_TIMEOUT
    start_timeout: float = KERNEL_START_TIMEOUT
    output_limit: int = OUTPUT_LIMIT
    heldout_images: int = HELDOUT_IMAGES
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_grade_settings(cls, settings: Any) -> NotebookOptions:
        """Options for a grading run: its memory limit and any ``notebook_*`` overrides."""
        extra = dict(getattr(settings, "extra_limits", {}) or {})
        limits = Limits(**extra)
        memory_mb = getattr(settings, "memory_mb", None)
        if memory_mb:
            limits = replace(limits, memory_bytes=int(memory_mb) << 20)
        return cls(
            cell_timeout=float(getattr(settings, "notebook_cell_timeout", CELL_TIMEOUT)),
            notebook_timeout=float(getattr(settings, "notebook_timeout", NOTEBOOK_TIMEOUT)),
            limits=limits,
        )
