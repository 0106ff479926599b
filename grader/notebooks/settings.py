"""Time and size limits of a notebook run, and the options a grading run passes to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from grader.sandbox import Limits

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

#: Seconds of CPU time one cell may use (the kernel's processes together). The longest cells of
#: the course's notebooks train a model for well under a minute on a CI core; three minutes
#: leaves room for a student's own (slower but correct) code. Counted in CPU time, not on the
#: clock, so a busy machine does not change the outcome (issue 17).
CELL_TIMEOUT = 180.0
#: Seconds of CPU time the whole notebook's cells may use.
NOTEBOOK_TIMEOUT = 420.0
#: How many times its CPU budget a cell (or notebook) may take on the clock before the grader
#: gives up on it anyway: a safety net for a kernel that sleeps, or a machine many times
#: oversubscribed.
WALL_SLACK = 4.0
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

#: The most images of each split ``get_CIFAR10_data`` returns in a grader's kernel, whatever
#: the notebook asks for (the course's real notebooks ask for its defaults, 49,000 training
#: images). Each notebook is capped lower still, at what the course's own notebook asks for
#: (:meth:`NotebookOptions.for_course_notebook`). Training cells then do bounded work. Passed
#: to the kernel as ``NNGRADE_MAX_*``.
DATA_CAP = {"training": 6000, "validation": 1000, "test": 1000}

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
    wall_slack: float = WALL_SLACK
    data_cap: dict[str, int] = field(default_factory=lambda: dict(DATA_CAP))
    limits: Limits = field(default_factory=Limits)

    def for_course_notebook(self, course_code: str) -> NotebookOptions:
        """These options with the data capped at what the course's own notebook (its code,
        ``course_code``) asks ``get_CIFAR10_data`` for: a real notebook's cells then train on
        as much data as the course's, whatever sizes it passes (the course's run unchanged)."""
        cap = dict(self.data_cap)
        calls = re.findall(r"get_CIFAR10_data\(([^)]*)\)", course_code)
        for split in cap:
            sizes = [re.search(rf"num_{split}\s*=\s*(\d+)", call) for call in calls]
            if calls and all(sizes):
                cap[split] = min(cap[split], max(int(found[1]) for found in sizes if found))
        return replace(self, data_cap=cap)

    def data_env(self) -> dict[str, str]:
        """The kernel variables capping ``get_CIFAR10_data`` (the data module reads them)."""
        return {f"NNGRADE_MAX_{split.upper()}": str(n) for split, n in self.data_cap.items()}

    def data_note(self, sources: str = "") -> list[str]:
        """The sentence that tells the student about the cap, when the notebook's code
        (``sources``) asks ``get_CIFAR10_data`` for more than it or for its defaults."""
        calls = re.findall(r"get_CIFAR10_data\(([^)]*)\)", sources)
        cap = self.data_cap.get("training")
        asked = [re.search(r"num_training\s*=\s*(\d+)", call) for call in calls]
        if not cap or all(found and int(found[1]) <= cap for found in asked):
            return []
        sizes = ", ".join(f"{n:,} {split}" for split, n in self.data_cap.items())
        return [
            f"While grading, get_CIFAR10_data returns at most {sizes} images, whatever sizes "
            "the notebook asks for, so every training cell does a bounded amount of work."
        ]

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
