"""The Gradescope bundle: its contents, its scripts, and a grading run in a simulated
/autograder tree (source unpacked from the zip, run_autograder copied to the top, as Gradescope
does), using the bundled grader rather than the installed one."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import secret
from grader.tools import gradescope
from grader.tools.solved import write_solved

ONLY = ("layers.affine",)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return gradescope.build_bundle(tmp_path_factory.mktemp("gs") / "autograder.zip", ONLY)


def _simulated_tree(bundle: Path, root: Path) -> Path:
    autograder = root / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(autograder / "source")
    shutil.copy(autograder / "source" / "run_autograder", autograder / "run_autograder")
    (autograder / "run_autograder").chmod(0o755)
    return autograder


def _run(autograder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(autograder), "NNGRADE_PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(autograder / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=autograder,
    )


def test_bundle_holds_the_scripts_and_the_course(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for name in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[name].external_attr >> 16) & 0o111, name
    for name in (
        "nngrade/pyproject.toml",
        "nngrade/setup.py",
        "nngrade/grader/cli.py",
        "nngrade/grader/checks/pytest.ini",
        "nngrade/grader/checks/hidden/check_reference.py",
        "nngrade/grader/course/fixtures/layers.affine_forward.npz",
        "nngrade/reference/layers.py",
        "nngrade/reference/im2col_cython.pyx",
    ):
        assert name in infos, name
    assert not [n for n in infos if "__pycache__" in n or n.endswith((".pyc", ".so"))]
    assert not [n for n in infos if n.startswith(("nngrade/tests/", "nngrade/.git"))]


def test_the_bundle_carries_the_course_secret_where_the_bundled_grader_reads_it(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
        names = archive.namelist()
    assert names.count(gradescope.SECRET_NAME) == 1
    env = {k: v for k, v in os.environ.items() if k != secret.ENV}
    env["PYTHONPATH"] = str(tmp_path / "nngrade")
    done = subprocess.run(
        [sys.executable, "-c", "from grader import secret; print(secret.read_secret())"],
        env=env, cwd=tmp_path / "nngrade", capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == secret.read_secret() and done.stderr == ""


def test_a_course_without_a_secret_gets_one_in_its_bundle(tmp_path, monkeypatch):
    path = tmp_path / "new.secret"
    monkeypatch.setenv(secret.ENV, str(path))
    made = gradescope.build_bundle(tmp_path / "b.zip", ONLY)
    with zipfile.ZipFile(made) as archive:
        assert archive.read(gradescope.SECRET_NAME).decode() == path.read_text()


def test_bundles_are_reproducible(tmp_path, bundle):
    again = gradescope.build_bundle(tmp_path / "again.zip", ONLY)
    assert again.read_bytes() == bundle.read_bytes()


def test_scripts_are_valid_bash_with_the_grading_options_baked_in(tmp_path):
    script = gradescope.run_autograder_script(("layers.affine", "optim"), examples=3)
    assert "--only layers.affine --only optim --examples 3" in script
    assert "@@" not in script and "@@" not in gradescope.run_autograder_script()
    for name, text in (("setup.sh", gradescope.SETUP_SH), ("run_autograder", script)):
        path = tmp_path / name
        path.write_text(text)
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert "pip install -e" in gradescope.SETUP_SH  # fixtures are read from the bundled tree


def test_run_autograder_grades_the_submission_with_the_bundled_grader(tmp_path, bundle):
    autograder = _simulated_tree(bundle, tmp_path)
    write_solved(autograder / "submission")
    proc = _run(autograder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bundled = autograder / "source" / "nngrade" / "grader" / "__init__.py"
    assert f"from {bundled}" in proc.stdout  # the bundle's grader, not the installed one
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert (results["score"], results["max_score"]) == (5.0, 5.0)
    names = [t["name"] for t in results["tests"]]
    assert names and all(n.startswith("layers.affine") for n in names)
    assert all(t["status"] == "passed" for t in results["tests"])


def test_run_autograder_reports_a_submission_it_cannot_grade(tmp_path, bundle):
    autograder = _simulated_tree(bundle, tmp_path)  # no /autograder/submission at all
    proc = _run(autograder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert "could not be graded" in results["output"]
    assert "no such submission" in results["output"]


def test_register_builds_the_gradescope_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    gradescope.register(parser.add_subparsers(dest="command"))
    target = tmp_path / "gs.zip"
    args = parser.parse_args(["gradescope", str(target), "--only", "optim", "--examples", "4"])
    assert args.func(args) == 0
    with zipfile.ZipFile(target) as archive:
        script = archive.read("run_autograder").decode()
    assert "--only optim --examples 4" in script
    assert "autograder bundle" in capsys.readouterr().out
