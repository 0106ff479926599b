"""The pytest plugin that turns check outcomes into rubric results.

Checks run in the grader process; they reach student code only through the sandbox (via the
``student`` fixture). The plugin records each check's outcome under its rubric item and builds the
feedback from the exception alone, never from pytest's traceback, so no line of a check's source
(or of the reference) reaches a report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from grader.checks.impl import CheckFailure, ReferenceImpl, StudentImpl
from grader.course import COURSE, rubric
from grader.reports.results import CheckResult
from grader.sandbox.submission import detect_edition

MAX_FEEDBACK_CHARS = 4000


@dataclass
class Outcome:
    passed: bool
    message: str = ""
    location: str | None = None
    duration: float = 0.0
    label: str = ""


def _leaf_exception(exc: BaseException) -> BaseException:
    # An exception group (Python 3.11+, or hypothesis reporting several bugs): its first member.
    while isinstance(getattr(exc, "exceptions", None), tuple) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def feedback_from(exc: BaseException) -> tuple[str, str | None]:
    """The student-facing message of a failed check, and the student's file:line if known."""
    exc = _leaf_exception(exc)
    if isinstance(exc, CheckFailure):
        return str(exc), exc.location
    if isinstance(exc, AssertionError) and str(exc):
        return str(exc), None
    return (
        f"The grader could not finish this check ({type(exc).__name__}: {exc}). "
        "This usually means a value of an unexpected type came back from your code; "
        "if your code looks right, tell the course staff.",
        None,
    )


def _truncate(text: str, limit: int = MAX_FEEDBACK_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


def _share_passed(records: list[Outcome]) -> float:
    """The share of an item's points its check functions earn: in proportion to the scenarios
    that pass, where a scenario's edge inputs (``obj+edge``) count with it, all or nothing. A bug
    that shows only on an edge input is a bug of the object, not of a share of it."""
    groups: dict[str, bool] = {}
    for record in records:
        base = record.label.split("+", 1)[0]
        groups[base] = groups.get(base, True) and record.passed
    return sum(groups.values()) / len(groups)


@dataclass(eq=False)  # pytest keeps plugins in sets: identity hashing
class RubricPlugin:
    """Collects outcomes per rubric item; ``select`` chooses which items run."""

    student_impl: StudentImpl
    settings: Any
    select: Callable[[rubric.Item], bool] = lambda item: True
    submission_path: Path | None = None
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    collection_errors: list[str] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)  # submission-level lines checks reported
    #: Items not graded for this submission's course edition, with the reason shown for them.
    excused: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        package = getattr(getattr(self.student_impl, "sandbox", None), "package", None)
        if package is not None and not self.excused:
            edition = detect_edition(package, rubric.EDITIONS)
            self.excused = excused_items(edition)
            if edition is not None:
                absent = ", ".join(edition.absent)
                self.notes.add(f"Edition: graded as {edition.name} ({absent} not graded).")

    # --- fixtures the checks use -------------------------------------------------------------

    @pytest.fixture
    def student(self) -> StudentImpl:
        self.student_impl.reset_breaker()
        return self.student_impl

    @pytest.fixture(scope="session")
    def reference(self) -> ReferenceImpl:
        return ReferenceImpl()

    @pytest.fixture(scope="session")
    def grading_settings(self) -> Any:
        return self.settings

    @pytest.fixture(scope="session")
    def submission(self) -> Path | None:
        """The submission as handed in (folder or .zip), for checks that read files from it."""
        return self.submission_path

    # --- hooks -------------------------------------------------------------------------------

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        keep, drop = [], []
        for item in items:
            marker = item.get_closest_marker("rubric")
            if marker is None or marker.args[0] not in rubric.BY_NAME:
                name = marker.args[0] if marker else "(none)"
                self.collection_errors.append(f"{item.nodeid}: unknown rubric item {name}")
                drop.append(item)
            elif marker.args[0] in self.excused:
                drop.append(item)
            elif self.select(rubric.BY_NAME[marker.args[0]]):
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            name = item.get_closest_marker("rubric").args[0]
            label = item.callspec.id if hasattr(item, "callspec") else item.name
            properties = dict(report.user_properties)
            if "isolation" in properties:
                self.notes.add(f"Notebook kernels: {properties['isolation']}")
            if report.passed:
                note = str(properties.get("note", ""))
                record = Outcome(True, note, duration=report.duration, label=label)
            elif call.excinfo is not None:
                message, location = feedback_from(call.excinfo.value)
                record = Outcome(False, message, location, report.duration, label)
            else:
                record = Outcome(False, "check failed", None, report.duration, label)
            self.outcomes.setdefault(name, []).append(record)

    # --- results -----------------------------------------------------------------------------

    def results(self) -> list[CheckResult]:
        """One result per selected rubric item, in the rubric's order."""
        return with_dependency_notes(self._results())

    def _stopped_for(self, item: rubric.Item) -> str | None:
        """Why the item's own function was stopped for slowness, if it was."""
        stopped = getattr(self.student_impl, "stopped", None) or {}
        cls = item.obj.rsplit(".", 1)[-1]
        for key, why in stopped.items():
            owner = key.rsplit(".", 1)[0]  # a method's class, as the worker names it
            if item.obj == key or owner == cls or owner.endswith(f".{cls}"):
                return why
        return None

    def _results(self) -> list[CheckResult]:
        results = []
        for item in rubric.ITEMS:
            if not self.select(item):
                continue
            if item.name in self.excused:
                results.append(
                    CheckResult(
                        item.name, item.points, item.points, "passed", self.excused[item.name],
                        item.visibility, (item.module,),
                    )
                )  # fmt: skip
                continue
            stopped = self._stopped_for(item)
            if stopped:
                # Checks it passed before it was stopped count for nothing: a function this slow
                # on every input is not working code, however right its answers.
                results.append(
                    CheckResult(
                        item.name, 0.0, item.points, "failed", stopped, item.visibility,
                        (item.module,),
                    )
                )  # fmt: skip
                continue
            records = self.outcomes.get(item.name, [])
            if not records:
                results.append(
                    CheckResult(
                        item.name, 0.0, item.points, "failed",
                        "This check did not run (grader error); tell the course staff.",
                        item.visibility, (item.module,),
                    )
                )  # fmt: skip
                continue
            failures = [r for r in records if not r.passed]
            shown = failures or [r for r in records if r.message]  # failures, else notes
            if len(records) == 1:
                output = shown[0].message if shown else ""
            else:
                output = "\n\n".join(f"[{r.label}] {r.message}" for r in shown)
            results.append(
                CheckResult(
                    name=item.name,
                    score=round(item.points * _share_passed(records), 4),
                    max_score=item.points,
                    status="passed" if not failures else "failed",
                    output=_truncate(output or "Passed."),
                    visibility=item.visibility,
                    tags=(item.module,),
                    duration=round(sum(r.duration for r in records), 3),
                    location=next((r.location for r in failures if r.location), None),
                )
            )
        return results


def excused_items(edition: rubric.Edition | None) -> dict[str, str]:
    """Rubric items an edition of the course never asked for, each with the line shown for it."""
    if edition is None:
        return {}
    return {
        item.name: (
            f"Not graded: {item.obj.split('.', 1)[1]} is not part of the {edition.name} "
            f"edition's {COURSE.module_file(item.obj.split('.', 1)[0])}, whose layout "
            f"({edition.package}/) your submission has. Its points are given."
        )
        for item in rubric.ITEMS
        if item.obj in edition.absent
    }


def with_dependency_notes(results: list[CheckResult]) -> list[CheckResult]:
    """Name the failing building blocks under a failing check that runs them as they are.

    Only checks listed in ``rubric.USES`` get a note: the models' comparisons with the reference
    already rerun the reference's model on the student's own blocks, so when those fail the
    model is what is wrong and no other object is blamed.
    """
    failed = [r.name for r in results if r.status == "failed"]
    noted = []
    for result in results:
        prefixes = rubric.uses(result.name) if result.status == "failed" else ()
        culprits = []
        for name in failed:
            obj = name.split(" ", 1)[0]
            if name != result.name and name.startswith(prefixes) and obj not in culprits:
                culprits.append(obj)
        if culprits:
            note = (
                "\n\nThis check runs your own " + ", ".join(culprits) + ", whose own checks "
                "failed too: fix those first."
            )
            result = replace(result, output=_truncate(result.output + note))
        noted.append(result)
    return noted
