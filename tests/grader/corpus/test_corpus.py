"""The grading checks against the corpus: bugs lose points, legal variants keep them all.

Also: the solved submission gets full marks twice with the same results.json, and the stubs get
nothing (training and notebook checks aside, see harness.py). Cases are graded once per session
(``harness.grade_case`` caches); expected.json pins the exact set of failing checks per case
(regenerate with ``python -m tests.grader.corpus.regenerate``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader.course import rubric
from grader.grade import grade_to_dir
from grader.tools.solved import write_solved

from .cases import BUGS, BY_ID, CASES, VARIANTS, Case
from .harness import (
    EXPECTED_PATH,
    apply_edits,
    checks_of,
    corpus_settings,
    excluded,
    failing,
    grade_case,
    grade_path,
    grading_profile,
    stub_submission,
)

pytestmark = pytest.mark.slow

GRADED_ITEMS = [item for item in rubric.ITEMS if not excluded(item)]
MODULES = ("layers", "layer_utils", "optim", "fc_net", "cnn")


def _params(cases: tuple[Case, ...]) -> list:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


def _selected(prefix: str) -> list[rubric.Item]:
    return [item for item in GRADED_ITEMS if item.obj.startswith(prefix)]


# --- the table itself (no grading) -----------------------------------------------------------


def test_table_has_enough_bugs_spread_over_every_graded_object():
    assert len(BUGS) >= 30
    assert len(BY_ID) == len(CASES), "case ids must be unique"
    objects = {item.obj for item in GRADED_ITEMS}
    assert {case.loses for case in BUGS} <= objects
    missed = sorted(objects - {case.loses for case in BUGS})
    assert not missed, f"graded objects without a bug in the corpus: {missed}"
    for module in MODULES:
        assert any(case.loses.startswith(module) for case in BUGS), module
        assert any(p.startswith(module) for case in VARIANTS for p in case.grade), module


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_grades_what_it_touches(case: Case):
    for prefix in case.grade:
        assert _selected(prefix), f"{case.id}: {prefix!r} selects no graded check"
    if case.is_bug:
        assert any(case.loses.startswith(p) for p in case.grade), case.id


def test_every_snippet_occurs_exactly_once(tmp_path: Path):
    write_solved(tmp_path)
    package = tmp_path / "assignment"
    pristine = {p: p.read_text() for p in package.rglob("*.py")}
    for case in CASES:
        apply_edits(case, package)  # raises if a snippet is missing or repeated
        for path, text in pristine.items():
            path.write_text(text)
        for relative, _ in case.files:
            (package / relative).unlink()


# --- bugs --------------------------------------------------------------------------------------

LABEL = re.compile(r"^\[[^\]]*\] ")


def _first_message(output: str) -> str:
    """A check with several parametrised runs prefixes each failure with ``[label] ``."""
    return LABEL.sub("", output, count=1)


@pytest.mark.parametrize("case", _params(BUGS))
def test_bug_loses_points_on_its_object(case: Case):
    report = grade_case(case)
    assert report.checks, f"{case.id}: nothing was graded"
    assert report.score < report.max_score
    lost = [c for c in checks_of(report, case.loses) if c.score < c.max_score]
    assert lost, (
        f"{case.id} ({case.note}) lost no points on {case.loses}; failing: {failing(report)}"
    )
    for check in lost:
        assert check.status == "failed"
        message = _first_message(check.output)
        assert message.strip(), f"{check.name}: empty feedback"
        # The object's rubric name, or a call of it (``FullyConnectedNet([20, 30], ...)``).
        called = case.loses.rsplit(".", 1)[-1] + "("
        assert message.startswith((case.loses, called, "Calling")), (
            f"{check.name}: the feedback should start with what disagreed:\n{check.output}"
        )


# --- legal variants ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params(VARIANTS))
def test_legal_variant_gets_full_marks(case: Case):
    report = grade_case(case)
    graded = {c.name for c in report.checks}
    expected = {item.name for p in case.grade for item in _selected(p)}
    assert graded == expected
    wrong = {c.name: c.output for c in report.checks if c.score < c.max_score}
    assert not wrong, f"{case.id} ({case.note}) lost points:\n" + "\n\n".join(
        f"{name}:\n{output}" for name, output in wrong.items()
    )


# --- what fails, pinned ------------------------------------------------------------------------


def _expected() -> dict[str, list[str]]:
    return json.loads(EXPECTED_PATH.read_text())


def test_expected_file_covers_exactly_the_cases():
    assert sorted(_expected()) == sorted(BY_ID), (
        "expected.json is stale: run python -m tests.grader.corpus.regenerate"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_failing_checks_are_the_expected_ones(case: Case):
    expected = _expected().get(case.id)
    assert failing(grade_case(case)) == expected, (
        f"what fails for {case.id} changed; if intended, run "
        "python -m tests.grader.corpus.regenerate and review the diff"
    )


# --- the solved submission and the stubs -------------------------------------------------------


def _without_timing(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "execution_time"}


@pytest.fixture(scope="module")
def solved_twice(tmp_path_factory) -> list[dict]:
    """results.json of the solved submission, graded twice on every non-training check."""
    root = tmp_path_factory.mktemp("solved")
    write_solved(root / "solved")
    outcomes = []
    for run in ("first", "second"):
        with grading_profile():
            grade_to_dir(root / "solved", root / run, corpus_settings())
        outcomes.append(json.loads((root / run / "results.json").read_text()))
    return outcomes


def test_solved_submission_gets_full_marks(solved_twice):
    for results in solved_twice:
        tests = results["tests"]
        assert sorted(t["name"] for t in tests) == sorted(item.name for item in GRADED_ITEMS)
        wrong = {t["name"]: t["output"] for t in tests if t["score"] != t["max_score"]}
        assert not wrong, wrong
        assert all(t["status"] == "passed" for t in tests)
        assert results["score"] == results["max_score"] == sum(i.points for i in GRADED_ITEMS)


def test_solved_submission_graded_twice_gives_the_same_checks(solved_twice):
    first, second = solved_twice
    assert first["tests"] == second["tests"]
    assert (first["score"], first["max_score"]) == (second["score"], second["max_score"])


def test_solved_submission_graded_twice_gives_the_same_results(solved_twice):
    first, second = solved_twice
    assert _without_timing(first) == _without_timing(second)


def test_stubs_score_zero_on_every_check(tmp_path: Path):
    report = grade_path(stub_submission(tmp_path))
    assert {c.name for c in report.checks} == {item.name for item in GRADED_ITEMS}
    scored = {c.name: c.score for c in report.checks if c.score != 0}
    assert not scored, f"the stubs earned points: {scored}"
    silent = [c.name for c in report.checks if not c.output.strip()]
    assert not silent, f"failed without feedback: {silent}"
