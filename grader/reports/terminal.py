"""The table printed after a grading: one line per check."""

from __future__ import annotations

from grader.reports.markdown import _points
from grader.reports.results import GradeReport


def terminal_summary(report: GradeReport, width: int = 100) -> str:
    """A plain-text table for the instructor's terminal: every check, hidden ones included."""
    name_width = max([len(c.name) for c in report.checks] + [5])
    name_width = min(name_width, width - 20)
    rows = []
    for check in report.checks:
        name = check.name if len(check.name) <= name_width else check.name[: name_width - 1] + "…"
        mark = "PASS" if check.status == "passed" else "FAIL"
        points = f"{_points(check.score)}/{_points(check.max_score)}"
        rows.append(f"{mark}  {name:<{name_width}}  {points:>9}")
    total = f"{_points(report.score)}/{_points(report.max_score)}"
    rows.append(f"{'':4}  {'TOTAL':<{name_width}}  {total:>9}")
    rows.append(f"graded {report.submission} in {report.execution_time:.1f} s")
    return "\n".join(rows)
