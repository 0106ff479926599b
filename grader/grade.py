"""Grade one submission: open it in a sandbox, run the checks, gather results, write reports.

The pipeline is ordered and each step is its own module: ``sandbox`` (isolation), ``plugin`` and
``checks`` (what is checked and for how many points), ``reports`` (what is written). This module
only sequences them and turns failures of the whole run into a report that says what broke.
"""

from __future__ import annotations

import contextlib
import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import reports
from grader.checks.impl import StudentImpl
from grader.checks.plugin import RubricPlugin
from grader.course import rubric
from grader.reports import files
from grader.reports.results import CheckResult, GradeReport
from grader.selection import DEFAULT_EXAMPLES

CHECKS_DIR = Path(__file__).parent / "checks"


class GradingError(Exception):
    """The submission cannot be graded at all (no such path, unreadable archive)."""


@dataclass(frozen=True)
class GradeSettings:
    """Named settings of a grading run; the defaults are what instructors get."""

    examples: int = DEFAULT_EXAMPLES  # hypothesis examples per comparison with the reference
    public_only: bool = False  # only the checks students may run themselves
    objects: tuple[str, ...] = ()  # restrict to rubric objects starting with these prefixes
    call_timeout: float = 20.0  # seconds for one call into student code
    # Seconds for all calls into student code during the checks, trainings included: a call
    # running when it ends is cut short, later calls fail at once and say why. The notebooks have
    # their own limits, so one full grading runs student code for at most
    # time_budget + notebooks * notebook_timeout (1200 + 4 * 420 s for the numpy notebooks).
    time_budget: float = 1200.0
    training_timeout: float = 120.0  # seconds for one training run
    notebook_cell_timeout: float = 180.0  # CPU seconds for one notebook cell (the clock allows 4x)
    notebook_timeout: float = 420.0  # seconds for a whole notebook
    memory_mb: int = 2048
    extra_limits: dict = field(default_factory=dict)

    def selects(self, item: rubric.Item) -> bool:
        if self.public_only and not item.public:
            return False
        return not self.objects or item.obj.startswith(self.objects)


def validate_submission(path: Path) -> None:
    """Refuse, with one clear line, what cannot be graded at all."""
    if not path.exists():
        raise GradingError(f"no such submission: {path}")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise GradingError(f"not a folder or a readable .zip archive: {path}")
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError) as exc:
            raise GradingError(f"unreadable archive {path}: {exc}") from exc
        if bad is not None:
            raise GradingError(f"corrupt archive {path}: member {bad} is damaged")
    elif not path.is_dir():
        raise GradingError(f"not a folder or a .zip archive: {path}")


def _run_checks(plugin: RubricPlugin, settings: GradeSettings) -> None:
    targets = [str(CHECKS_DIR / "public")]
    if not settings.public_only:
        targets.append(str(CHECKS_DIR / "hidden"))
    args = ["-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR), *targets]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = pytest.main(args, plugins=[plugin])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        plugin.collection_errors.append(f"pytest exited with {code!r}: {output.getvalue()[-3000:]}")


def _all_failed(settings: GradeSettings, message: str) -> list[CheckResult]:
    return [
        CheckResult(item.name, 0.0, item.points, "failed", message, item.visibility, (item.module,))
        for item in rubric.ITEMS
        if settings.selects(item)
    ]


def grade_submission(
    submission: Path,
    settings: GradeSettings | None = None,
    open_sandbox: Callable[..., contextlib.AbstractContextManager] | None = None,
    hide: tuple[Path, ...] = (),
) -> GradeReport:
    """Grade ``submission`` (a folder or .zip) and return its report; never raises on bad code.

    ``hide`` names paths the student's code must not see (the output folder, hidden data).
    """
    settings = settings or GradeSettings()
    submission = Path(submission)
    validate_submission(submission)
    started = time.perf_counter()
    report = GradeReport(submission=submission.name)
    from grader import sandbox

    opener = open_sandbox or sandbox.Sandbox
    try:
        with opener(submission, limits=_limits(settings), hide=hide) as box:
            report.notes.append(f"Isolation: {box.isolation}")
            student = StudentImpl(box, budget=settings.time_budget)
            plugin = RubricPlugin(student, settings, settings.selects, submission)
            _run_checks(plugin, settings)
            report.checks = plugin.results()
            report.notes += sorted(plugin.notes)
            if student.budget_spent:
                report.notes.append(
                    f"Time: the {settings.time_budget:g} s allowed for all calls into your code "
                    "ran out; the checks that could not finish say so."
                )
            for why in student.stopped.values():
                report.notes.append(f"Time: {why}")
            if plugin.collection_errors:
                report.notes.append("Grader errors (tell the course staff):")
                report.notes += plugin.collection_errors
    except sandbox.SubmissionError as exc:
        report.checks = _all_failed(settings, f"Your submission could not be used: {exc}")
        report.notes.append(f"Submission problem: {exc}")
    report.execution_time = time.perf_counter() - started
    return report


def _limits(settings: GradeSettings):
    from grader.sandbox import Limits

    return Limits(
        call_timeout=settings.call_timeout,
        memory_bytes=settings.memory_mb << 20,
        **settings.extra_limits,
    )


def grade_to_dir(
    submission: Path, out_dir: Path, settings: GradeSettings | None = None
) -> GradeReport:
    """Grade and write results.json, report.md and junit.xml into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = grade_submission(submission, settings, hide=(out_dir.resolve(),))
    reports.write_reports(report, out_dir)
    if not (settings or GradeSettings()).public_only:
        from grader.notebooks.answers import notebook_answers

        files.write_json(out_dir / "answers.json", notebook_answers(Path(submission)))
    return report
