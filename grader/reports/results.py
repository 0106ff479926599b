"""What grading produces: one result per rubric check, and the report that gathers them.

Plain dataclasses with no behaviour beyond totals, so every report writer reads the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["passed", "failed"]
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rubric item for one submission."""

    name: str
    score: float
    max_score: float
    status: Status
    output: str = ""
    visibility: Visibility = "visible"
    tags: tuple[str, ...] = ()
    duration: float = 0.0
    location: str | None = None  # "layers.py:42" where the student's failing code is, when known


@dataclass
class GradeReport:
    """Everything known about one graded submission."""

    submission: str
    checks: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    notes: list[str] = field(default_factory=list)  # submission-level messages (isolation, imports)
    status: Literal["graded", "error"] = "graded"

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)
