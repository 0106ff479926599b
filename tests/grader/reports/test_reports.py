"""Reports: Gradescope's schema, the student's markdown, JUnit XML, atomic writes."""

import json
import xml.etree.ElementTree as ET

from grader import reports
from grader.reports import gradescope, junit, markdown, terminal
from grader.reports.results import CheckResult, GradeReport


def _report() -> GradeReport:
    return GradeReport(
        submission="alice.zip",
        checks=[
            CheckResult("layers.affine_forward expected values", 1.0, 1.0, "passed", "Passed.",
                        tags=("layers",)),
            CheckResult("layers.affine_backward matches", 0.5, 1.5, "failed",
                        "dx has shape (2, 3), expected (3, 2)\n```", tags=("layers",),
                        location="layers.py:42"),
            CheckResult("cnn.ThreeLayerConvNet secret", 0.0, 2.0, "failed", "hidden detail",
                        visibility="after_published", tags=("classifiers.cnn",)),
        ],
        execution_time=12.345,
        notes=["Isolation: test"],
    )  # fmt: skip


def test_results_json_follows_gradescope_schema():
    data = json.loads(gradescope.results_json(_report()))
    assert data["score"] == 1.5
    assert data["max_score"] == 4.5
    assert data["execution_time"] == 12.35
    assert data["output"] == "Isolation: test"
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "failed"]
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "tags"}
    assert data["tests"][2]["visibility"] == "after_published"


def test_markdown_shows_visible_failures_with_location_and_hides_hidden_checks():
    text = markdown.report_markdown(_report())
    assert "1.5 / 2.5" in text
    assert "(at layers.py:42)" in text
    assert "dx has shape (2, 3)" in text
    assert "hidden detail" not in text
    assert "1 further check(s) worth 2 points" in text
    assert "````text" in text  # a fence longer than any run of backticks in the output


def test_junit_counts_failures_and_parses():
    root = ET.fromstring(junit.junit_xml(_report()))
    assert root.get("tests") == "3"
    assert root.get("failures") == "2"
    cases = root.findall("testcase")
    assert cases[0].get("classname") == "layers.affine_forward"
    assert cases[1].find("failure").get("message").startswith("dx has shape")


def test_terminal_summary_lists_every_check_and_total():
    text = terminal.terminal_summary(_report())
    assert text.count("FAIL") == 2
    assert "1.5/4.5" in text


def test_write_reports_leaves_no_temporary_files(tmp_path):
    written = reports.write_reports(_report(), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 1.5
