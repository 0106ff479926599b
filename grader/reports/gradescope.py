"""Gradescope's ``results.json``: the score, and each check with its visibility and feedback."""

from __future__ import annotations

import json

from grader.reports.results import GradeReport


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
