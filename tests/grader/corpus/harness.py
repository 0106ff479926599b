"""Build a corpus case as a submission, grade it, and read the outcome.

Cases are graded in this process with ``grade_submission``, restricted to the rubric objects the
case names, and without the training and notebook checks (they train models or run notebooks, are
slow, and are calibrated and tested on their own).

Hypothesis shrinking is switched off while the corpus grades: shrinking only looks for a smaller
failing input to show in the feedback and never turns a failing check into a passing one (or back),
so which checks fail is the same, and a buggy case grades in a fraction of the time. Set
``NNGRADE_CORPUS_SHRINK=1`` to grade exactly as the grader does for students.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import Phase, settings

from grader import paths
from grader.course import rubric
from grader.grade import GradeSettings, grade_submission
from grader.reports.results import CheckResult, GradeReport
from grader.tools.solved import write_solved

from .cases import Case

EXAMPLES = GradeSettings().examples  # as instructors grade: fewer let real bugs slip through
EXPECTED_PATH = Path(__file__).with_name("expected.json")
PROFILE = "nngrade-corpus"


def excluded(item: rubric.Item) -> bool:
    """Checks the corpus leaves out: training to thresholds, and the notebooks."""
    training = "overfit" in item.what or "trains to" in item.what
    return training or item.obj.startswith("notebook.")


class CorpusSettings(GradeSettings):
    """Grading settings that leave the training and notebook checks out."""

    def selects(self, item: rubric.Item) -> bool:
        return super().selects(item) and not excluded(item)


def corpus_settings(objects: tuple[str, ...] = (), examples: int = EXAMPLES) -> CorpusSettings:
    return CorpusSettings(objects=tuple(objects), examples=examples)


@contextlib.contextmanager
def grading_profile() -> Iterator[None]:
    """Grade without hypothesis shrinking (unless asked), then restore the caller's profile."""
    previous = settings.get_current_profile_name()
    if os.environ.get("NNGRADE_CORPUS_SHRINK") == "1":
        yield
        return
    settings.register_profile(
        PROFILE,
        parent=settings.get_profile(previous),
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    settings.load_profile(PROFILE)
    try:
        yield
    finally:
        settings.load_profile(previous)


def apply_edits(case: Case, package: Path) -> None:
    """Apply the case's edits to the package; every old snippet must occur exactly once."""
    for edit in case.edits:
        path = package / edit.file
        source = path.read_text()
        count = source.count(edit.old)
        if count != 1:
            raise AssertionError(
                f"corpus case {case.id}: the snippet {edit.old!r} occurs {count} times in "
                f"{edit.file} (expected once); the reference changed, update the corpus table"
            )
        path.write_text(source.replace(edit.old, edit.new))
    for relative, text in case.files:
        target = package / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def build_submission(case: Case, workdir: Path) -> Path:
    """Write the case as a submission under ``workdir``; returns the folder or .zip to grade."""
    root = workdir / "submission"
    holder = root / case.wrapper if case.wrapper else root
    holder.mkdir(parents=True)
    write_solved(holder, case.package)
    apply_edits(case, holder / case.package)
    if not case.archive:
        return root
    archive = workdir / f"{case.id}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    return archive


def grade_path(path: Path, objects: tuple[str, ...] = (), examples: int = EXAMPLES) -> GradeReport:
    with grading_profile():
        return grade_submission(path, corpus_settings(objects, examples))


@functools.cache
def grade_case(case: Case) -> GradeReport:
    """The report of one case (graded once per process)."""
    with tempfile.TemporaryDirectory(prefix=f"corpus-{case.id}-") as tmp:
        return grade_path(build_submission(case, Path(tmp)), case.grade)


def stub_submission(workdir: Path) -> Path:
    """The student package as handed out (solutions cut), as a submission."""
    shutil.copytree(paths.assignment_dir(), workdir / "assignment")
    return workdir


def failing(report: GradeReport) -> list[str]:
    """Sorted names of the checks that did not earn all their points."""
    return sorted(c.name for c in report.checks if c.score < c.max_score)


def checks_of(report: GradeReport, obj: str) -> list[CheckResult]:
    return [c for c in report.checks if c.name.startswith(f"{obj} ")]
