"""The student's ``report.md``: score, failed checks with their feedback, notes."""

from __future__ import annotations

from grader.reports.results import CheckResult, GradeReport

STUDENT_VISIBLE = ("visible",)


def _points(value: float) -> str:
    return f"{value:g}"


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def report_markdown(report: GradeReport) -> str:
    """The feedback a student reads: every visible check, failures first with what to fix."""
    visible = [c for c in report.checks if c.visibility in STUDENT_VISIBLE]
    hidden = [c for c in report.checks if c.visibility not in STUDENT_VISIBLE]
    shown = sum(c.score for c in visible)
    shown_max = sum(c.max_score for c in visible)
    lines = [
        f"# Grading report: {report.submission}",
        "",
        f"**Score on visible checks: {_points(shown)} / {_points(shown_max)}**",
    ]
    if hidden:
        lines.append(
            f"\n{len(hidden)} further check(s) worth {_points(sum(c.max_score for c in hidden))} "
            "points are graded later and not shown here."
        )
    if report.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in report.notes)]
    lines += ["", "## Checks", "", "| | check | points |", "| --- | --- | --- |"]
    for check in visible:
        mark = "✅" if check.status == "passed" else "❌"
        points = f"{_points(check.score)} / {_points(check.max_score)}"
        lines.append(f"| {mark} | `{check.name}` | {points} |")
    failed = [c for c in visible if c.status == "failed"]
    if failed:
        lines += ["", "## What to fix", ""]
        for check in failed:
            where = f" (at {check.location})" if check.location else ""
            lines += [f"### `{check.name}`{where}", "", _fence(check.output or "failed"), ""]
    return "\n".join(lines).rstrip() + "\n"


def failed_checks(report: GradeReport) -> list[CheckResult]:
    return [c for c in report.checks if c.status == "failed"]
