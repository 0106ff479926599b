"""Write a graded submission's reports: Gradescope results.json, report.md, junit.xml, a table.

Each file is written to a temporary name and renamed into place, so a reader (or a crash halfway)
never sees a partial report. Only the grader process calls these; student code never runs here.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.reports.results import CheckResult, GradeReport

STUDENT_VISIBLE = ("visible",)


def atomic_write(path: Path, text: str, newline: str | None = None) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _points(value: float) -> str:
    return f"{value:g}"


def results_json(report: GradeReport) -> str:
    """Gradescope's autograder schema; key order and content are stable across runs."""
    data = {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.execution_time, 2),
        "output": "\n".join(report.notes),
        "output_format": "md",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": check.name,
                "score": check.score,
                "max_score": check.max_score,
                "status": check.status,
                "output": check.output,
                "visibility": check.visibility,
                "tags": list(check.tags),
            }
            for check in report.checks
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


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


def junit_xml(report: GradeReport) -> str:
    """One testcase per check, for CI systems that read JUnit results."""
    failures = sum(c.status == "failed" for c in report.checks)
    suite = ET.Element(
        "testsuite",
        name="nngrade",
        tests=str(len(report.checks)),
        failures=str(failures),
        errors="0",
        time=f"{report.execution_time:.2f}",
    )
    for check in report.checks:
        obj = check.name.split(" ", 1)[0]
        case = ET.SubElement(
            suite, "testcase", classname=obj, name=check.name, time=f"{check.duration:.3f}"
        )
        ET.SubElement(
            ET.SubElement(case, "properties"),
            "property",
            name="score",
            value=f"{_points(check.score)}/{_points(check.max_score)}",
        )
        if check.status == "failed":
            first = (check.output or "failed").strip().splitlines()[0][:200]
            node = ET.SubElement(case, "failure", message=first)
            node.text = check.output
    ET.indent(suite)
    body = ET.tostring(suite, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


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


def write_reports(report: GradeReport, out_dir: Path) -> list[Path]:
    """Write results.json, report.md and junit.xml into ``out_dir``; results.json last."""
    written = []
    for name, text in (
        ("report.md", report_markdown(report)),
        ("junit.xml", junit_xml(report)),
        ("results.json", results_json(report)),
    ):
        path = out_dir / name
        atomic_write(path, text)
        written.append(path)
    return written


def write_json(path: Path, data: object) -> None:
    """Write plain data as JSON, atomically (the inline answers a TA reads)."""
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def failed_checks(report: GradeReport) -> list[CheckResult]:
    return [c for c in report.checks if c.status == "failed"]
