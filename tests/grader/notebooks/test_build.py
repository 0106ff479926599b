"""The student notebooks: sources and built files in sync, answer markers, and running them.

The slow tests execute every notebook top to bottom against the reference, as CI must.
"""

import json
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from grader.course import notebooks as course_notebooks
from grader.notebooks import answers as nb_answers
from grader.notebooks import build
from grader.notebooks import build as nbs
from grader.tools.solved import write_solved

# ---------------------------------------------------------------------------------------------
# Sources and built notebooks
# ---------------------------------------------------------------------------------------------


def test_every_notebook_has_a_source_and_a_slug():
    assert sorted(course_notebooks.NOTEBOOKS) == build.source_names()
    assert set(course_notebooks.SLUGS) == set(course_notebooks.NOTEBOOKS)
    assert len(set(course_notebooks.SLUGS.values())) == len(course_notebooks.SLUGS)


def test_built_notebooks_are_in_sync_with_their_sources():
    stale = build.stale_notebooks()
    assert not stale, f"run `nngrade notebooks`: stale {[p.name for p in stale]}"


@pytest.mark.parametrize("name", course_notebooks.NOTEBOOKS)
def test_build_is_deterministic_and_clean(name):
    first = build.render(build.build_notebook(name))
    assert first == build.render(build.build_notebook(name))
    nb = nbformat.reads(first, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert set(nb.metadata) == {"kernelspec", "language_info"}
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", course_notebooks.NOTEBOOKS)
def test_answer_cells_are_numbered_and_follow_their_question(name):
    nb = build.build_notebook(name)
    ids = nb_answers.answer_ids(nb)
    slug = course_notebooks.SLUGS[name]
    assert ids == [f"{slug}-q{i}" for i in range(1, len(ids) + 1)]
    assert ids
    # Every answer cell is the given one: marker line first, then the placeholder, which
    # extracts as an empty answer.
    for cell in nb.cells:
        if build.ANSWER_MARKER_RE.search(cell.source):
            assert cell.cell_type == "markdown"
            lines = cell.source.splitlines()
            marker = build.ANSWER_MARKER_RE.fullmatch(lines[0])
            assert marker and lines[0] == build.answer_marker(
                slug, int(marker["id"].split("-q")[1])
            )
            assert lines[1:] == [f"{build.ANSWER_LABEL} {build.ANSWER_PLACEHOLDER}"]
            assert cell.metadata.get("deletable") is False
    assert nb_answers.extract_answers(nb) == dict.fromkeys(ids, "")
    questions = nb_answers.questions(nb)
    assert list(questions) == ids
    assert all(text.startswith("## Inline question") for text in questions.values())


def test_setup_cell_is_the_same_in_every_notebook():
    def setup(name):
        nb = build.build_notebook(name)
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        return first.source.split("\n\n\na2 = load_student_package()")[0]

    setups = {name: setup(name) for name in course_notebooks.NOTEBOOKS}
    reference = setups[course_notebooks.NOTEBOOKS[0]]
    assert "def load_student_package" in reference
    assert all(text == reference for text in setups.values())


def test_result_variables_are_assigned_in_their_notebooks():
    for name, variables in course_notebooks.RESULT_VARIABLES.items():
        source = build.source_path(name).read_text()
        for variable in variables:
            assert f"\n{variable} = " in source, (name, variable)


def _fake_repo(tmp_path, monkeypatch):
    """A notebooks/ folder of its own, with one source, for the build and staleness logic."""
    folder = tmp_path / "notebooks"
    (folder / "src").mkdir(parents=True)
    source = folder / "src" / "Demo.py"
    source.write_text("# %% [markdown]\n# # Demo\n\n# %%\nx = 1\n")
    monkeypatch.setattr(nbs, "notebooks_dir", lambda: folder)
    return folder, source


def test_stale_notebooks_reports_missing_edited_and_orphaned_files(tmp_path, monkeypatch, capsys):
    folder, source = _fake_repo(tmp_path, monkeypatch)
    assert build.stale_notebooks() == [folder / "Demo.ipynb"]
    assert build.main(check=True) == 1

    assert build.build_notebooks() == [folder / "Demo.ipynb"]
    assert build.stale_notebooks() == []
    assert build.build_notebooks() == []  # unchanged sources are not rewritten
    assert build.main(check=True) == 0

    source.write_text(source.read_text().replace("x = 1", "x = 2"))
    assert build.stale_notebooks() == [folder / "Demo.ipynb"]
    assert build.main(check=False) == 0
    assert build.stale_notebooks() == []
    assert "x = 2" in (folder / "Demo.ipynb").read_text()

    (folder / "Orphan.ipynb").write_text("{}")
    assert build.stale_notebooks() == [folder / "Orphan.ipynb"]
    assert build.main(check=True) == 1
    assert "Orphan.ipynb (no source)" in capsys.readouterr().out


def test_editing_one_cell_keeps_the_other_cell_ids(tmp_path, monkeypatch):
    _, source = _fake_repo(tmp_path, monkeypatch)
    before = [c.id for c in build.build_notebook("Demo").cells]
    source.write_text(source.read_text().replace("x = 1", "x = 3"))
    after = [c.id for c in build.build_notebook("Demo").cells]
    assert before[0] == after[0] and before[1] != after[1]


# ---------------------------------------------------------------------------------------------
# Extracting answers
# ---------------------------------------------------------------------------------------------


def _nb(*cells):
    """A notebook from (cell_type, source) pairs."""
    makers = {
        "markdown": nbformat.v4.new_markdown_cell,
        "code": nbformat.v4.new_code_cell,
        "raw": nbformat.v4.new_raw_cell,
    }
    return nbformat.v4.new_notebook(cells=[makers[kind](source) for kind, source in cells])


def _answer(qid, text):
    return "markdown", f"<!-- answer: {qid} -->\n**Your answer:** {text}"


def test_extract_answers_by_marker_whatever_the_order():
    nb = _nb(
        ("markdown", "## Inline question 2\nWhy?"),
        _answer("demo-q2", "Because."),
        ("code", "x = 1"),
        _answer("demo-q1", "First answer,\nover two lines."),
    )
    assert nb_answers.extract_answers(nb) == {
        "demo-q2": "Because.",
        "demo-q1": "First answer,\nover two lines.",
    }
    assert nb_answers.answer_ids(nb) == ["demo-q2", "demo-q1"]
    assert nb_answers.questions(nb)["demo-q2"] == "## Inline question 2\nWhy?"


def test_missing_and_unanswered_questions_are_told_apart():
    nb = _nb(_answer("demo-q1", build.ANSWER_PLACEHOLDER), ("markdown", "no marker here"))
    answers = nb_answers.extract_answers(nb)
    assert answers == {"demo-q1": ""}
    assert "demo-q2" not in answers
    assert nb_answers.extract_answers(_nb()) == {}
    assert nb_answers.extract_answers({"cells": [{"cell_type": "markdown"}, "junk", None]}) == {}


def test_extract_answers_tolerates_whitespace_case_and_retyped_cells():
    nb = _nb(
        ("raw", "\n  <!--answer:Demo-Q1-->   \n\n  **Your answer:**   spaced out  \n\n"),
        ("code", "<!-- answer: demo-q2 -->\nprint('typed as code')"),
        ("markdown", "Some text first\n<!--   answer :  demo-q3   -->\nlater marker"),
        ("markdown", "<!-- answer: demo-q4 -->\n**Your answer:**\n\n- a list\n- of points\n"),
    )
    assert nb_answers.extract_answers(nb) == {
        "demo-q1": "spaced out",
        "demo-q2": "print('typed as code')",
        "demo-q3": "Some text first\n\nlater marker",
        "demo-q4": "- a list\n- of points",
    }


def test_marker_must_be_on_its_own_line():
    nb = _nb(("markdown", "Keep the line `<!-- answer: demo-q1 -->` as it is."))
    assert nb_answers.extract_answers(nb) == {}


def test_duplicated_answer_cells_are_joined_without_placeholders():
    nb = _nb(
        _answer("demo-q1", "part one"),
        _answer("demo-q1", build.ANSWER_PLACEHOLDER),
        _answer("demo-q1", "part two"),
    )
    assert nb_answers.extract_answers(nb) == {"demo-q1": "part one\n\npart two"}


def test_extract_answers_reads_sources_stored_as_lists_of_lines():
    raw = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {"tags": ["anything"]},
                "source": ["<!-- answer: demo-q1 -->\n", "**Your answer:** listed\n"],
            }
        ]
    }
    assert nb_answers.extract_answers(raw) == {"demo-q1": "listed"}


def test_answers_survive_a_json_round_trip_of_a_built_notebook():
    nb = build.build_notebook("Dropout")
    for cell in nb.cells:
        if "answer: dropout-q2" in cell.source:
            cell.source = cell.source.replace(build.ANSWER_PLACEHOLDER, "Dropout narrows the gap.")
            cell.metadata = {"deletable": True, "editable": True}
    nb.cells.reverse()
    del nb.cells[0]  # the last question's answer cell
    answers = nb_answers.extract_answers(json.loads(build.render(nb)))
    assert answers == {"dropout-q1": "", "dropout-q2": "Dropout narrows the gap."}


# ---------------------------------------------------------------------------------------------
# Finding the student package
# ---------------------------------------------------------------------------------------------


def _setup_cell(name="Dropout"):
    nb = build.build_notebook(name)
    return next(cell.source for cell in nb.cells if cell.cell_type == "code")


@pytest.mark.parametrize("package_name", ["assignment", "cs231n"])
def test_setup_cell_finds_the_package_in_the_parent_folder(tmp_path, package_name):
    write_solved(tmp_path, package_name)
    cwd = tmp_path / "notebooks"
    cwd.mkdir()
    probe = _setup_cell() + textwrap.dedent(
        """
        import a2.layers
        print(a2.__name__, a2.layers.__name__, Path(a2.__file__).parent.name)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=cwd,
        env=build.kernel_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"a2 a2.layers {package_name}"


def test_setup_cell_says_what_is_missing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _setup_cell()],
        cwd=tmp_path,
        env=build.kernel_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "No package folder named assignment or cs231n" in result.stderr


def test_prepare_reference_dir_holds_package_extension_and_fresh_notebooks(tmp_path):
    build.prepare_reference_dir(tmp_path)
    assert (tmp_path / "assignment" / "layers.py").is_file()
    assert "BEGIN SOLUTION" in (tmp_path / "assignment" / "layers.py").read_text()
    reference = nbs.paths.reference_dir()
    built = sorted(p.name for p in [*reference.glob("*.so"), *reference.glob("*.pyd")])
    copied = sorted(p.name for p in (tmp_path / "assignment").iterdir() if p.name in built)
    assert copied == built
    for name in course_notebooks.NOTEBOOKS:
        text = (tmp_path / f"{name}.ipynb").read_text()
        assert text == build.render(build.build_notebook(name))


# ---------------------------------------------------------------------------------------------
# Running every notebook against the reference (CI)
# ---------------------------------------------------------------------------------------------

REPORT_CELL = textwrap.dedent(
    """
    import json
    print("RESULT " + json.dumps(
        {name: type(value).__name__ for name, value in globals().items() if name in {names!r}}
    ))
    """
)
EXPECTED_TYPES = {
    course_notebooks.BEST_MODEL_VARIABLE: "FullyConnectedNet",
    course_notebooks.ONE_EPOCH_MODEL_VARIABLE: "ThreeLayerConvNet",
    course_notebooks.MEAN_IMAGE_VARIABLE: "ndarray",
}
#: The torch notebooks leave torch objects under some of the same names.
TORCH_TYPES = {
    course_notebooks.BEST_MODEL_VARIABLE: "Sequential",
    "channel_mean": "Tensor",
    "channel_std": "Tensor",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", course_notebooks.NOTEBOOKS)
def test_notebook_runs_against_the_reference(name, tmp_path):
    from nbclient.exceptions import CellExecutionError

    expected_types = EXPECTED_TYPES
    if name in course_notebooks.TORCH_NOTEBOOKS:
        pytest.importorskip("torch", reason="the torch notebooks need the optional torch extra")
        expected_types = TORCH_TYPES

    variables = set(course_notebooks.RESULT_VARIABLES[name])
    try:
        run = build.run_against_reference(
            name,
            tmp_path,
            allow_errors=False,
            extra_cells=[REPORT_CELL.replace("{names!r}", repr(sorted(variables)))],
        )
    except CellExecutionError as exc:
        pytest.fail(f"{name} failed against the reference:\n{exc}")
    print(f"{name}: {run.seconds:.1f} s")
    assert run.error is None
    outputs = run.notebook.cells[-1].outputs
    line = "".join(o.get("text", "") for o in outputs if o.output_type == "stream").strip()
    found = json.loads(line.removeprefix("RESULT "))
    assert found == {variable: expected_types[variable] for variable in variables}
    # Every answer cell is still there, unanswered, after the run.
    slug = course_notebooks.SLUGS[name]
    answers = nb_answers.extract_answers(run.notebook)
    assert answers and all(k.startswith(slug) and v == "" for k, v in answers.items())
    shutil.rmtree(tmp_path / "assignment", ignore_errors=True)


@pytest.mark.slow
def test_notebook_against_the_stub_package_reports_the_first_error(tmp_path):
    from grader import paths
    from grader.tools import stubs

    source = paths.assignment_dir()
    for path in stubs.source_files(source):
        target = tmp_path / "assignment" / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (tmp_path / "Dropout.ipynb").write_text(build.render(build.build_notebook("Dropout")))

    nb, seconds = build.execute_notebook(tmp_path / "Dropout.ipynb", allow_errors=True)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert not any(o.output_type == "error" for o in code[0].outputs)  # the package was found
    error = build.first_error(nb)
    assert error is not None and seconds > 0
    assert all(cell.execution_count is not None for cell in code)  # every cell still ran
