"""The course's real notebooks graded fairly (issue 17) and only the course's work counted
(issue 9, item 4), without starting a kernel: the Colab setup lines, the data cap, the
"Your Answer:" cells, the fingerprint of the course's cells, the saved run, missing packages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

import grader
from grader.notebooks import answers, discovery, feedback, grading, settings
from grader.notebooks.execution import CellRecord, NotebookRun
from tests.grader.gaming.harness import empty_notebooks
from tests.grader.students.build import write_submission
from tests.grader.students.cases import BY_ID
from tests.grader.students.notebooks import BUILD_EXT_CELL, COLAB_CELL, NOTEBOOKS, UNANSWERED

REPO = Path(grader.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lina(tmp_path_factory) -> Path:
    return write_submission(BY_ID["lina_loops"], tmp_path_factory.mktemp("lina"))


def _read(folder: Path, name: str) -> nbformat.NotebookNode:
    return nbformat.read(folder / f"{name}.ipynb", as_version=4)


# --- the Colab setup ---------------------------------------------------------------------------


def test_colab_setup_lines_become_pass_and_are_reported():
    source = COLAB_CELL.format(folder="x/") + "\n" + BUILD_EXT_CELL + "\nmine = 1\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notes = discovery.neutralise_setup(nb)
    text = nb.cells[0].source
    for gone in ("drive.mount(", "%cd", "!bash get_datasets.sh", "!python setup.py build_ext"):
        assert not any(line.startswith(gone) for line in text.splitlines()), gone
    assert "mine = 1" in text.splitlines()
    assert text.count("pass  # nngrade: skipped") == 9
    assert len(notes) == 1 and "Colab setup" in notes[0] and "Cython" in notes[0]


def test_setup_line_inside_a_block_keeps_the_block_valid():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("if True:\n    !bash get_datasets.sh\n")]
    )
    discovery.neutralise_setup(nb)
    compile(nb.cells[0].source, "cell", "exec")


def test_a_notebook_without_setup_lines_is_left_alone():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = '%cd'\n")])
    assert discovery.neutralise_setup(nb) == []
    assert nb.cells[0].source == "x = '%cd'\n"


# --- the data cap ------------------------------------------------------------------------------


def test_data_cap_bounds_what_get_cifar10_data_returns(monkeypatch, tmp_path):
    from reference import data_utils

    options = settings.NotebookOptions(data_cap={"training": 30, "validation": 5, "test": 4})
    for key, value in options.data_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("NNGRADE_CACHE", str(tmp_path / "cache"))
    data = data_utils.get_CIFAR10_data()
    assert [len(data[k]) for k in ("X_train", "X_val", "X_test")] == [30, 5, 4]
    small = data_utils.get_CIFAR10_data(num_training=10, num_validation=2, num_test=1)
    assert [len(small[k]) for k in ("X_train", "X_val", "X_test")] == [10, 2, 1]
    assert "30 training" in options.data_note("data = get_CIFAR10_data()")[0]
    assert options.data_note("get_CIFAR10_data(num_training=20, num_test=9)") == []
    assert options.data_note("get_CIFAR10_data(num_training=31)")


def test_each_notebook_is_capped_at_what_the_courses_asks_for():
    options = settings.NotebookOptions()
    course = "get_CIFAR10_data(num_training=500, num_validation=50)\n"
    course += "get_CIFAR10_data(num_training=700)"
    capped = options.for_course_notebook(course).data_cap
    assert capped == {"training": 700, "validation": settings.DATA_CAP["validation"], "test": 1000}
    assert options.for_course_notebook("").data_cap == settings.DATA_CAP


def test_the_cap_leaves_the_projects_own_notebooks_unchanged():
    import re

    for name in NOTEBOOKS:
        source = (REPO / "notebooks" / "src" / f"{name}.py").read_text()
        for call in re.findall(r"get_CIFAR10_data\((.*?)\)", source):
            for split, value in re.findall(r"num_(training|validation|test)=(\d+)", call):
                assert int(value) <= settings.DATA_CAP[split], (name, split)


# --- the answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("student", ["lina_loops", "viktor_vectorised", "carmen_colab"])
def test_answers_under_your_answer_cells_are_read(student, tmp_path):
    case = BY_ID[student]
    found = answers.notebook_answers(write_submission(case, tmp_path))
    flat = {qid: text for per in found.values() for qid, text in per.items()}
    for qid, text in case.answers.items():
        assert text[:40] in flat[qid], (student, qid)
    unanswered = [qid for qid, text in flat.items() if qid not in case.answers]
    assert all(flat[qid] == "" for qid in unanswered)
    assert not any(UNANSWERED in text for text in flat.values())


def test_only_empty_answer_cells_are_unanswered(lina):
    nb = _read(lina, "Dropout")
    found = answers.notebook_answers_of("Dropout", nb)
    run = NotebookRun("Dropout", answers=answers._answers_with_all_ids("Dropout", found))
    run.answered_cells = set(found)
    assert set(run.answers) == set(answers.course_answer_ids("Dropout"))
    # lina left dropout-q3's cell as given: that one, and only that one, is unanswered.
    assert run.unanswered == ["dropout-q3"]


def test_markers_still_win_over_labels():
    nb = answers.course_notebook("Dropout")
    assert answers.notebook_answers_of("Dropout", nb) == answers.extract_answers(nb)


# --- the course's cells (issue 9, item 4) ------------------------------------------------------


def _kept(nb, name: str) -> bool:
    missing, total = discovery.missing_course_cells(nb, answers.course_notebook(name))
    run = NotebookRun(name, missing=missing, course_cells=total)
    return run.is_course_notebook


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_real_and_project_notebooks_are_the_courses(name, lina):
    assert _kept(_read(lina, name), name)
    assert _kept(_read(REPO / "notebooks", name), name)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_emptied_and_truncated_notebooks_are_not(name, tmp_path, lina):
    shutil.copyfile(REPO / "notebooks" / f"{name}.ipynb", tmp_path / f"{name}.ipynb")
    empty_notebooks(tmp_path, "untrained")
    assert not _kept(_read(tmp_path, name), name)
    truncated = _read(lina, name)
    truncated.cells = truncated.cells[: len(truncated.cells) // 2]
    assert not _kept(truncated, name)


def test_ids_of_emptied_cells_do_not_count():
    course = answers.course_notebook("Dropout")
    hollow = nbformat.v4.new_notebook(cells=[dict(c, source="") for c in course.cells])
    assert discovery.missing_course_cells(hollow, course)[0]


def test_a_notebook_that_is_not_the_courses_gets_a_message_naming_what_is_missing():
    run = NotebookRun("Dropout", missing=["np.random.seed(231)", "x = 1"], course_cells=4)
    text = feedback.runs_to_the_end_feedback(run)
    assert text and "lacks 2 of the course notebook's 4 code cells" in text
    assert "np.random.seed(231)" in text


# --- the saved run, missing packages -----------------------------------------------------------


def _saved(errors: dict[int, str]) -> nbformat.NotebookNode:
    cells = []
    for number in (1, 2):
        cell = nbformat.v4.new_code_cell(f"x = {number}", execution_count=number)
        if number in errors:
            cell.outputs = [nbformat.v4.new_output("error", ename="E", evalue=errors[number])]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_saved_run_disagreeing_with_the_graders_is_reported():
    clean, broken = _saved({}), _saved({2: "boom"})
    graded_fine = NotebookRun("X")
    graded_bad = NotebookRun("X", cells=[CellRecord(2, 2, "x = 2", error="E: boom")])
    assert grading.saved_run_note(grading.saved_errors(clean), graded_fine) == []
    assert (
        "grader's run from a fresh kernel"
        in grading.saved_run_note(grading.saved_errors(clean), graded_bad)[0]
    )
    assert "code cell 2" in grading.saved_run_note(grading.saved_errors(broken), graded_fine)[0]
    never_run = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert grading.saved_errors(never_run) is None


def test_a_missing_package_is_reported_as_such():
    error = "ModuleNotFoundError: No module named 'seaborn'"
    run = NotebookRun("X", cells=[CellRecord(1, 1, "import seaborn", error=error)])
    text = feedback.runs_to_the_end_feedback(run)
    assert "`seaborn` is not in the grader's notebook environment" in text
    assert "tqdm" in text and "imageio" in text


# --- budgets in CPU time, not on the clock -----------------------------------------------------


@pytest.mark.slow
def test_waiting_does_not_count_against_a_cells_budget(tmp_path):
    from tests.grader.notebooks.test_grading import code, notebook_text, submission_with

    text = notebook_text(code("import time\ntime.sleep(6)"), code("print('after')"))
    root = submission_with(tmp_path, {"Dropout": text})
    options = settings.NotebookOptions(cell_timeout=3, notebook_timeout=60)
    with grading.SubmissionNotebooks(root, options) as runner:
        run = runner.run("Dropout")
    assert run.stopped is None and not run.errors, run.stopped
    assert len(run.cells) == 2
