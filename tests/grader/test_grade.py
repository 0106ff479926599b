"""Grading end to end through the CLI: reports, exit codes, determinism, the example."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.course import rubric
from grader.tools import demo
from grader.tools.solved import write_solved

ONLY = ["--only", "layers.affine", "--only", "optim.adam"]


def nngrade(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    return write_solved(tmp_path_factory.mktemp("solved"))


def _without_timing(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("execution_time")
    return data


def test_solved_submission_gets_full_marks_twice_identically(solved, tmp_path):
    for run in ("a", "b"):
        done = nngrade("grade", str(solved), "--out", str(tmp_path / run), *ONLY)
        assert done.returncode == 0, done.stderr
        assert "TOTAL" in done.stdout
    first, second = (_without_timing(tmp_path / run / "results.json") for run in "ab")
    assert first == second
    points = sum(
        i.points for i in rubric.ITEMS if i.obj.startswith(("layers.affine", "optim.adam"))
    )
    assert first["score"] == first["max_score"] == points > 0
    assert {p.name for p in (tmp_path / "a").iterdir()} == {
        "results.json",
        "report.md",
        "junit.xml",
        "answers.json",
    }
    assert first["output"].startswith("Isolation: ")


def test_zip_of_a_broken_submission_still_gets_a_report(tmp_path):
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hw/assignment/__init__.py", "")
        zf.writestr("hw/assignment/layers.py", "def affine_forward(x, w, b:\n")
    done = nngrade("grade", str(archive), "--out", str(tmp_path / "out"), *ONLY)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    layers = [t for t in data["tests"] if t["name"].startswith("layers.")]
    assert layers and all(t["score"] == 0 for t in layers)
    assert all("layers.py" in t["output"] and "SyntaxError" in t["output"] for t in layers)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "SyntaxError" in report


def test_submission_without_a_package_gets_a_report_saying_so(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("nothing here")
    done = nngrade("grade", str(tmp_path / "sub"), "--out", str(tmp_path / "out"), *ONLY)
    assert done.returncode == 0
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["score"] == 0
    assert "assignment" in data["tests"][0]["output"]


@pytest.mark.parametrize("kind", ["missing", "not-a-zip"])
def test_ungradable_paths_exit_non_zero_with_one_line(tmp_path, kind):
    path = tmp_path / "sub.zip"
    if kind == "not-a-zip":
        path.write_bytes(b"this is not an archive")
    done = nngrade("grade", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("nngrade: ")
    assert not (tmp_path / "out" / "results.json").exists()


def test_check_runs_public_checks_only_and_fails_on_a_bug(solved, tmp_path):
    ok = nngrade("check", str(solved), *ONLY)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "matches the reference" not in ok.stdout
    buggy = demo.write_example(tmp_path / "buggy")
    bad = nngrade("check", str(buggy), "--only", "layers.dropout_forward")
    assert bad.returncode == 1
    assert "layers.dropout_forward expected values" in bad.stdout


def test_example_edits_apply_to_the_current_reference(tmp_path):
    target = demo.write_example(tmp_path / "example")
    layers = (target / "assignment" / "layers.py").read_text()
    for edit in demo.BUGS:
        text = (target / "assignment" / edit.file).read_text()
        assert edit.new in text and edit.old not in text
    assert "N - 1" in layers


@pytest.mark.slow
def test_solved_submission_gets_100_with_training_and_notebooks(solved, tmp_path):
    done = nngrade("grade", str(solved), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    failed = [t["name"] for t in data["tests"] if t["status"] != "passed"]
    assert failed == []
    assert data["score"] == data["max_score"] == 100
