"""Grading submitted notebooks: finding and reading them, the isolated kernel, scoring, checks.

The tests marked slow start real kernels in the sandbox (a few seconds each); the last one runs
the course's four notebooks through the whole grading pipeline.
"""

import json
import os
import secrets
import socket
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest

import grader
from grader.course import notebooks as course_notebooks
from grader.course import rubric
from grader.grade import GradeSettings, grade_submission
from grader.notebooks import answers as nb_answers
from grader.notebooks import (
    build,
    discovery,
    grading,
    heldout,
    kernel,
    scoring,
    settings,
)
from grader.notebooks import feedback as nb_feedback
from grader.sandbox import Limits, Settings
from grader.tools.solved import write_solved

REPO = Path(grader.__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def code(source, outputs=(), execution_count=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    cell.execution_count = execution_count
    return cell


def markdown(source):
    return nbformat.v4.new_markdown_cell(source)


def notebook_text(*cells):
    return nbformat.writes(nbformat.v4.new_notebook(cells=list(cells)))


def submission_with(tmp_path, notebooks, package=True):
    """A submission folder: the reference package (as ``assignment/``) and the given notebooks
    (``{name: text}``), without the course's notebooks."""
    root = tmp_path / "submission"
    root.mkdir()
    if package:
        write_solved(root)
        for path in root.glob("*.ipynb"):
            path.unlink()
    for name, text in notebooks.items():
        (root / f"{name}.ipynb").write_text(text)
    return root


def live_processes(*markers):
    """Pids of live processes whose command line holds one of ``markers``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(m.encode() in cmdline for m in markers if m):
            found.append(int(entry))
    return found


def assert_nothing_left(run):
    assert run.kernel_marker and run.workdir
    deadline = time.monotonic() + 5
    while live_processes(run.kernel_marker, run.workdir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_processes(run.kernel_marker, run.workdir) == []
    assert not Path(run.workdir).exists()


QUICK = settings.NotebookOptions(cell_timeout=60, notebook_timeout=120)

#: Cells that import the package the way the notebooks do, and leave an untrained model.
UNTRAINED_MODEL = """
import numpy as np
from assignment.classifiers.fc_net import FullyConnectedNet
np.random.seed(0)
mean_image = np.full((3, 32, 32), 120.0)
best_model = FullyConnectedNet([100, 100], weight_scale=5e-2)
"""


# ---------------------------------------------------------------------------------------------
# Finding and reading notebooks (no kernel)
# ---------------------------------------------------------------------------------------------


def test_notebook_found_by_name_anywhere_shallowest_first(tmp_path):
    root = tmp_path / "sub"
    (root / "wrapper" / "deeper").mkdir(parents=True)
    (root / "wrapper" / ".ipynb_checkpoints").mkdir()
    (root / "wrapper" / ".ipynb_checkpoints" / "Dropout.ipynb").write_text("checkpoint")
    (root / "wrapper" / "deeper" / "Dropout.ipynb").write_text("deep")
    assert discovery.find_notebook(root, "Dropout") == ("wrapper/deeper/Dropout.ipynb", b"deep")
    (root / "wrapper" / "dropout.IPYNB").write_text("shallow")
    assert discovery.find_notebook(root, "Dropout") == ("wrapper/dropout.IPYNB", b"shallow")
    with pytest.raises(discovery.NotebookProblem, match="FullyConnectedNets.ipynb was not found"):
        discovery.find_notebook(root, "FullyConnectedNets")


def test_notebook_found_in_a_zip_but_not_through_links(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("top/assignment/layers.py", "")
        zf.writestr("top/__MACOSX/Dropout.ipynb", "resource fork")
        zf.writestr("top/Dropout.ipynb", "{}")
        link = zipfile.ZipInfo("top/BatchNormalization.ipynb")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    assert discovery.find_notebook(archive, "Dropout") == ("top/Dropout.ipynb", b"{}")
    with pytest.raises(discovery.NotebookProblem, match="not found"):
        discovery.find_notebook(archive, "BatchNormalization")
    target = tmp_path / "outside.ipynb"
    target.write_text("{}")
    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "Dropout.ipynb").symlink_to(target)
    with pytest.raises(discovery.NotebookProblem, match="not found"):
        discovery.find_notebook(folder, "Dropout")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"metadata": {}}', "no list of cells"),
        (
            json.dumps(
                {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "spreadsheet", "source": "x", "metadata": {}}]}
            ).encode(),
            "not a valid Jupyter notebook",
        ),
    ],
)  # fmt: skip
def test_unreadable_notebooks_get_a_clear_message(data, message):
    with pytest.raises(discovery.NotebookProblem, match=message) as info:
        discovery.parse_notebook(data, "Dropout.ipynb")
    assert str(info.value).startswith("Dropout.ipynb is not")


def test_outputs_saved_in_the_file_are_dropped():
    text = notebook_text(
        code("print(1)", [{"output_type": "stream", "name": "stdout", "text": "faked"}], 7)
    )
    nb = discovery.strip_outputs(discovery.parse_notebook(text.encode(), "x.ipynb"))
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None


def test_missing_and_broken_notebooks_fail_without_starting_a_kernel(tmp_path):
    root = submission_with(tmp_path, {"Dropout": "{not json"})
    with grading.SubmissionNotebooks(root, QUICK) as runner:
        dropout = runner.run("Dropout")
        missing = runner.run("ConvolutionalNetworks")
        assert runner._workdir is None  # nothing was prepared: no kernel was needed
    assert "Dropout.ipynb is not a notebook: it is not valid JSON" in dropout.problem
    assert nb_feedback.runs_to_the_end_feedback(dropout) == dropout.problem
    assert not dropout.ran_to_the_end and dropout.kernel_marker == ""
    assert "ConvolutionalNetworks.ipynb was not found" in nb_feedback.runs_to_the_end_feedback(
        missing
    )
    feedback = nb_feedback.model_feedback(missing)
    assert "`one_epoch_model`" in feedback and "could not be run" in feedback


def test_notebook_answers_list_every_question(tmp_path):
    root = tmp_path / "sub"
    write_solved(root)
    nb = nbformat.read(root / "Dropout.ipynb", as_version=4)
    for cell in nb.cells:
        if "answer: dropout-q2" in cell.source:
            cell.source = cell.source.replace(build.ANSWER_PLACEHOLDER, "It regularises.")
    nb.cells.reverse()
    nbformat.write(nb, root / "Dropout.ipynb")
    (root / "BatchNormalization.ipynb").write_text("garbage")
    (root / "FullyConnectedNets.ipynb").unlink()
    answers = nb_answers.notebook_answers(root)
    assert list(answers) == list(course_notebooks.GRADED_NOTEBOOKS)
    for name in course_notebooks.GRADED_NOTEBOOKS:
        assert list(answers[name]) == list(nb_answers.course_answer_ids(name))
        assert len(answers[name]) >= 3
    assert answers["Dropout"]["dropout-q2"] == "It regularises."
    assert all(text == "" for qid, text in answers["Dropout"].items() if qid != "dropout-q2")
    assert all(text == "" for text in answers["BatchNormalization"].values())


# ---------------------------------------------------------------------------------------------
# Scores and thresholds (no kernel)
# ---------------------------------------------------------------------------------------------


def _export(tmp_path, target, **names):
    """Run the grader's export cell over ``names`` as the notebook's globals; the saved file."""
    path = tmp_path / "model.npz"
    exec(scoring.export_source(target, str(path)), dict(names))  # noqa: S102 - our own cell
    return path


def test_the_export_cell_saves_the_first_model_it_finds_and_nothing_else(tmp_path):
    from grader.checks.impl import ReferenceImpl

    target = scoring.MODEL_TARGETS["ConvolutionalNetworks"]
    assert target.variables == ("one_epoch_model", "model", "solver.model")
    np.random.seed(0)
    cnn = ReferenceImpl()(target.model_class, num_filters=2, filter_size=3, hidden_dim=4)

    class Solver:
        model = cnn

    name, state = scoring.read_state(_export(tmp_path, target, solver=Solver(), model=3))
    assert name == "solver.model"
    assert sorted(state) == [f"params.{k}" for k in sorted(cnn.params)]
    for key, value in cnn.params.items():
        np.testing.assert_array_equal(state[f"params.{key}"], value)
    with pytest.raises(NameError, match="one_epoch_model, model, solver.model"):
        _export(tmp_path, target, mean_image=np.zeros(3))


def test_read_state_reads_only_plain_uncompressed_arrays(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, **{"params.W1": np.ones((2, 3)), "strings": np.array(["x"])})
    assert sorted(scoring.read_state(good)[1]) == ["params.W1"]
    packed = tmp_path / "packed.npz"
    np.savez_compressed(packed, a=np.zeros(4))
    with pytest.raises(ValueError, match="not a plain array file"):
        scoring.read_state(packed)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, a=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="could not be read"):
        scoring.read_state(pickled)
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="could not be read"):
        scoring.read_state(tmp_path / "junk.npz")
    (tmp_path / "link.npz").symlink_to(good)
    with pytest.raises(ValueError, match="no model was saved"):
        scoring.read_state(tmp_path / "link.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="no model was saved"):
        scoring.read_state(tmp_path / "empty.npz")


def test_scores_come_from_the_parameters_and_an_untrained_model_fails(tmp_path):
    from grader.checks.impl import ReferenceImpl

    target = scoring.MODEL_TARGETS["FullyConnectedNets"]
    images, labels = heldout.heldout_data(300)
    np.random.seed(0)
    untrained = ReferenceImpl()(target.model_class, [100, 100], weight_scale=5e-2)
    score = scoring.ModelScore(target)
    scoring.score_state(score, _export(tmp_path, target, best_model=untrained), images, labels)
    assert score.problem is None and score.variable == "best_model" and score.images == 300
    expected = np.argmax(untrained.loss(images - heldout.mean_image()), axis=1) == labels
    assert score.accuracy == pytest.approx(float(np.mean(expected)))
    assert score.accuracy < target.threshold
    broken = scoring.ModelScore(target)
    untrained.params["W2"] = np.zeros((7, 7))
    scoring.score_state(broken, _export(tmp_path, target, best_model=untrained), images, labels)
    assert broken.accuracy is None and "W2" in broken.problem


def test_the_mean_image_is_the_default_training_sets():
    from grader.course import COURSE

    data = COURSE.data.get_synthetic_data(2000, 0, 0, subtract_mean=False)
    mean = heldout.mean_image()
    assert mean.shape == (3, 32, 32)
    assert course_notebooks.MEAN_IMAGE_TRAINING == 49000
    # a prefix of the same images: the same mean to well under a grey level
    assert np.abs(data["X_train"].mean(axis=0) - mean).mean() < 1.5


def test_thresholds_keep_the_reference_passing_and_chance_failing_where_possible():
    floor = scoring.chance_floor()
    assert 0.12 < floor < 0.14  # 0.1 + 3 standard errors of guessing on 1000 images
    assert scoring.threshold_below(0.60) == pytest.approx(0.60 - scoring.MARGIN)
    assert scoring.threshold_below(0.16) == pytest.approx(0.13)  # near chance: the floor
    assert scoring.informative(scoring.threshold_below(0.16))
    low = scoring.threshold_below(0.11)  # indistinguishable from chance: the reference still passes
    assert low <= 0.11 - scoring.REFERENCE_MIN_MARGIN + 1e-9 and not scoring.informative(low)
    for target in scoring.MODEL_TARGETS.values():
        assert target.threshold == scoring.threshold_below(target.reference_accuracy)
        assert target.reference_accuracy - target.threshold >= scoring.REFERENCE_MIN_MARGIN - 1e-9
        assert target.rubric_item in rubric.BY_NAME
        assert target.variable in course_notebooks.RESULT_VARIABLES[target.notebook]


def test_every_notebook_rubric_item_has_a_check():
    source = (REPO / "grader" / "checks" / "hidden" / "check_notebooks.py").read_text()
    assert 'f"notebook.{name} runs to the end"' in source
    served = {f"notebook.{n} runs to the end" for n in course_notebooks.GRADED_NOTEBOOKS}
    served |= {t.rubric_item for t in scoring.MODEL_TARGETS.values()}
    assert served == {item.name for item in rubric.ITEMS if item.obj.startswith("notebook.")}


def test_heldout_images_are_raw_pixels_with_balanced_labels():
    X, y = heldout.heldout_data(200)
    assert X.shape == (200, 3, 32, 32) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 255 and X.mean() > 20
    assert y.shape == (200,) and set(np.unique(y)) <= set(range(10)) and len(np.unique(y)) >= 8


def test_export_cell_compiles_and_the_bootstrap_holds_no_placeholders():
    target = scoring.MODEL_TARGETS["FullyConnectedNets"]
    source = scoring.export_source(target, "/sandbox/exchange/model.npz")
    compile(source, "export", "exec")
    assert "best_model" in source and "mean_image" not in source
    assert "{" not in kernel.BOOTSTRAP and "}" not in kernel.BOOTSTRAP


def test_kernel_sees_only_the_packages_a_notebook_needs():
    names = {path.name for path in kernel.kernel_site_entries()}
    assert {"numpy", "ipykernel", "IPython", "matplotlib", "zmq", "jupyter_client"} <= names
    assert {"tqdm", "imageio"} <= names  # the course's declared notebook environment
    assert not names & {"grader", "reference", "assignment", "nbclient", "debugpy", "pytest"}
    assert all(REPO not in path.parents for path in kernel.kernel_site_entries())


def test_options_follow_the_grading_settings():
    options = settings.NotebookOptions.from_grade_settings(
        GradeSettings(memory_mb=1536, extra_limits={"processes": 40})
    )
    assert options.limits.memory_bytes == 1536 << 20 and options.limits.processes == 40
    assert options.cell_timeout == settings.CELL_TIMEOUT


# ---------------------------------------------------------------------------------------------
# Running notebooks in the isolated kernel
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_notebook_is_contained_and_each_cell_error_recorded(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0)
    port = listener.getsockname()[1]
    secret = REPO / "pyproject.toml"
    text = notebook_text(
        markdown("## Inline question 1"),
        markdown("<!-- answer: fc-nets-q1 -->\n**Your answer:** Because."),
        code(
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "    print('CONNECTED')\n"
            "except OSError as exc:\n"
            "    print('NOCONNECT', exc)"
        ),
        code(
            f"try:\n    print('READ', open({str(secret)!r}).read()[:20])\n"
            "except OSError as exc:\n    print('NOREAD', type(exc).__name__)"
        ),
        code("raise ValueError('boom')"),
        code(
            "print('really ran')",
            [{"output_type": "stream", "name": "stdout", "text": "FAKE SAVED OUTPUT"}],
            execution_count=41,
        ),
        code(UNTRAINED_MODEL),
    )
    root = submission_with(tmp_path, {"FullyConnectedNets": text})
    with grading.SubmissionNotebooks(root, QUICK) as runner:
        run = runner.run("FullyConnectedNets")
        assert runner.run("FullyConnectedNets") is run  # executed once, then remembered
    outputs = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in run.notebook.cells]
    assert outputs[2].startswith("NOCONNECT") and "CONNECTED\n" not in outputs[2]
    assert outputs[3].startswith("NOREAD")
    assert outputs[5] == "really ran\n" and "FAKE" not in json.dumps(run.notebook)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    listener.close()
    assert [c.error for c in run.cells] == [None, None, "ValueError: boom", None, None]
    assert run.stopped is None and run.not_run == 0 and not run.ran_to_the_end
    feedback = nb_feedback.runs_to_the_end_feedback(run)
    assert "1 code cell(s) of FullyConnectedNets.ipynb raised an error" in feedback
    assert "code cell 3 (`raise ValueError('boom')`): ValueError: boom" in feedback
    assert "Unanswered inline questions" not in feedback  # q1 was answered; q2 has no cell
    assert "lacks" in feedback and "course notebook's" in feedback  # only a few cells of its own
    assert run.answers["fc-nets-q1"] == "Because."
    assert "no network" in run.isolation
    score = run.score
    assert score.problem is None and score.images == settings.HELDOUT_IMAGES
    assert score.accuracy < scoring.chance_floor()  # an untrained model guesses
    message = nb_feedback.model_feedback(run)
    assert f"must reach {score.target.threshold:.2f}" in message and "`best_model`" in message
    assert_nothing_left(run)


@pytest.mark.slow
def test_kernel_that_exits_stops_the_run_with_a_message(tmp_path):
    text = notebook_text(
        code("for _ in range(3):\n    print('x' * (1 << 20))"),
        code("import os\nos._exit(3)"),
        code("print('never')"),
        code("y = 2"),
    )
    root = submission_with(tmp_path, {"ConvolutionalNetworks": text})
    options = replace(QUICK, output_limit=1 << 20)
    with grading.SubmissionNotebooks(root, options) as runner:
        run = runner.run("ConvolutionalNetworks")
    assert [c.error for c in run.cells] == [None, "the kernel died"]
    assert run.not_run == 2
    assert "The kernel exited with status 3 while running code cell 2 (`import os`)" in run.stopped
    assert "the 2 code cell(s) after it did not run" in nb_feedback.runs_to_the_end_feedback(run)
    assert "there was no model to score" in nb_feedback.model_feedback(run)
    # Output past the limit was dropped, with a note saying so.
    kept = json.dumps(run.notebook.cells[0].outputs)
    assert len(kept) < (1 << 20) + 4096 and "dropped the rest" in kept
    assert_nothing_left(run)


@pytest.mark.slow
def test_memory_limit_and_endless_cell(tmp_path):
    text = notebook_text(
        code("hog = bytearray(1536 << 20)"),
        code("import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()"),
        code("while True:\n    pass"),
        code("print('never')"),
    )
    root = submission_with(tmp_path, {"Dropout": text})
    # The endless cell is stopped by its CPU budget (2 s), well before the clock's safety net
    # (30 s), however busy the machine.
    options = settings.NotebookOptions(
        cell_timeout=2, notebook_timeout=60, wall_slack=15, limits=Limits(memory_bytes=1 << 30)
    )
    started = time.monotonic()
    with grading.SubmissionNotebooks(root, options) as runner:
        run = runner.run("Dropout")
    assert time.monotonic() - started < 60
    assert run.cells[0].error.startswith("MemoryError")
    assert run.cells[-1].error == "timed out" and run.not_run == 1
    assert "used more than 2 s of CPU time, the limit per cell" in run.stopped
    assert "code cell 3 (`while True:`)" in run.stopped
    assert_nothing_left(run)


@pytest.mark.slow
def test_isolation_note_says_when_the_kernel_has_network(tmp_path):
    text = notebook_text(code("import os\nprint(os.getcwd())"))
    root = submission_with(tmp_path, {"BatchNormalization": text})
    runner = grading.SubmissionNotebooks(root, QUICK, settings=Settings(simulate_refusal=True))
    with runner:
        run = runner.run("BatchNormalization")
    assert run.ran_to_the_end  # degraded isolation still grades
    assert "NETWORK NOT ISOLATED" in run.isolation and "host filesystem" in run.isolation
    assert_nothing_left(run)


@pytest.mark.slow
def test_tampered_submission_through_the_grading_pipeline(tmp_path, monkeypatch):
    fine = notebook_text(code("import assignment.layers\nprint('ok')"))
    root = submission_with(
        tmp_path,
        {
            "FullyConnectedNets": notebook_text(code(UNTRAINED_MODEL)),
            "BatchNormalization": fine,
            "Dropout": "not a notebook",
        },
    )
    archive = tmp_path / "handed-in.zip"  # zipped, inside a wrapping folder
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, f"student-42/{path.relative_to(root)}")
    # The markers of this grading's kernels, so other gradings on the machine do not count.
    tokens = []
    token_hex = secrets.token_hex
    monkeypatch.setattr(
        secrets, "token_hex", lambda n=None: tokens.append(token_hex(n)) or tokens[-1]
    )
    report = grade_submission(archive, GradeSettings(objects=("notebook.",)))
    markers = [f"nngrade-kernel-{token}" for token in tokens]
    assert markers
    results = {r.name: r for r in report.checks}
    assert set(results) == {i.name for i in rubric.ITEMS if i.obj.startswith("notebook.")}
    passed = {name for name, r in results.items() if r.status == "passed"}
    # Both ran without an error, but neither is the course's notebook: a cell or two of its own.
    assert passed == set()
    for name in ("FullyConnectedNets", "BatchNormalization"):
        assert "course notebook's" in results[f"notebook.{name} runs to the end"].output
    assert "not valid JSON" in results["notebook.Dropout runs to the end"].output
    assert "was not found" in results["notebook.ConvolutionalNetworks runs to the end"].output
    fc_model = results["notebook.FullyConnectedNets best_model reaches the accuracy threshold"]
    assert "held-out images" in fc_model.output and fc_model.score == 0
    assert all("reference/" not in r.output for r in report.checks)
    deadline = time.monotonic() + 5
    while live_processes(*markers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_processes(*markers) == []


@pytest.mark.slow
def test_solved_submission_earns_every_notebook_point(tmp_path, capsys):
    root = tmp_path / "solved"
    write_solved(root)
    report = grade_submission(root, GradeSettings(objects=("notebook.",)))
    results = {r.name: r for r in report.checks}
    failed = {n: r.output for n, r in results.items() if r.status != "passed"}
    assert not failed
    assert sum(r.score for r in results.values()) == sum(
        i.points for i in rubric.ITEMS if i.obj.startswith("notebook.")
    )
    with capsys.disabled():
        for name in course_notebooks.GRADED_NOTEBOOKS:
            seconds = results[f"notebook.{name} runs to the end"].duration
            print(f"\n{name}: graded in {seconds:.1f} s", end="")
        print(f"\nall notebook checks: {report.execution_time:.1f} s")
