"""Write a graded submission's reports: Gradescope results.json, report.md, junit.xml, a table.

Each file is written to a temporary name and renamed into place, so a reader (or a crash halfway)
never sees a partial report. Only the grader process calls these; student code never runs here.
"""

from __future__ import annotations

from pathlib import Path

from grader.reports.files import atomic_write
from grader.reports.gradescope import results_json
from grader.reports.junit import junit_xml
from grader.reports.markdown import report_markdown
from grader.reports.results import GradeReport


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
