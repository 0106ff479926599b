"""The submitted notebooks, executed from scratch in an isolated kernel.

Each notebook must run to the end; the models two of them leave behind must reach calibrated
accuracies on held-out images whose labels stay in the grader. Each notebook is executed once
per grading run, shared by all the checks below (the ``notebook_runs`` fixture).
"""

import pytest

from grader.checks.impl import CheckFailure
from grader.course import COURSE
from grader.notebooks import grading, scoring, settings
from grader.notebooks.feedback import model_feedback, passing_note, runs_to_the_end_feedback


class _Runs:
    """The grading run's notebook runner, made on first use from the worker's sandbox settings
    (so the kernel gets the same isolation settings and course package as the worker)."""

    def __init__(self, submission, grading_settings):
        self.submission = submission
        self.options = settings.NotebookOptions.from_grade_settings(grading_settings)
        self.runner = None

    def get(self, student, name):
        if self.submission is None:
            raise CheckFailure("The grader was not given the submission's files (grader error).")
        if self.runner is None:
            sandbox = getattr(student, "sandbox", None)
            self.runner = grading.SubmissionNotebooks(
                self.submission,
                self.options,
                settings=getattr(sandbox, "settings", None),
                course_package=getattr(sandbox, "course_package", None),
            )
        return self.runner.run(name)

    def close(self):
        if self.runner is not None:
            self.runner.close()


@pytest.fixture(scope="module")
def notebook_runs(submission, grading_settings):
    runs = _Runs(submission, grading_settings)
    try:
        yield runs
    finally:
        runs.close()


RUNS = [
    pytest.param(name, marks=pytest.mark.rubric(f"notebook.{name} runs to the end"), id=name)
    for name in COURSE.notebooks.GRADED_NOTEBOOKS
]
MODELS = [
    pytest.param(name, marks=pytest.mark.rubric(target.rubric_item), id=name)
    for name, target in scoring.MODEL_TARGETS.items()
]


@pytest.mark.parametrize("name", RUNS)
def check_runs_to_the_end(notebook_runs, student, record_property, name):
    run = notebook_runs.get(student, name)
    record_property("isolation", run.isolation)
    record_property("seconds", round(run.seconds, 1))
    feedback = runs_to_the_end_feedback(run)
    if feedback:
        raise CheckFailure(feedback)
    note = passing_note(run)
    if note:
        record_property("note", note)


@pytest.mark.parametrize("name", MODELS)
def check_model_accuracy(notebook_runs, student, name):
    feedback = model_feedback(notebook_runs.get(student, name))
    if feedback:
        raise CheckFailure(feedback)
