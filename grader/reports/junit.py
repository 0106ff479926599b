"""``junit.xml``: one test case per check, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.reports.markdown import _points
from grader.reports.results import GradeReport


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
