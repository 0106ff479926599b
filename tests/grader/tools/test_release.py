"""The student release: what it holds, that it works on its own, and that no line of a solution
block or of a hidden check reaches it."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import paths
from grader.tools import release, stubs
from grader.tools.solved import write_solved

REFERENCE = paths.reference_dir()
HIDDEN = Path(release.__file__).parent.parent / "checks" / "hidden"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("release") / "student-repo"
    release.build_release(target)
    return target


def _all_lines(bundle: Path) -> set[str]:
    return {line for f in bundle.rglob("*") if f.is_file() for _, line in release.text_lines(f)}


def test_release_holds_what_students_need(bundle):
    for rel in (
        "README.md",
        "requirements.txt",
        ".gitignore",
        ".github/workflows/autograde.yml",
        "assignment/layers.py",
        "assignment/classifiers/fc_net.py",
        "assignment/solver.py",
        "grader/checks/public/check_expected.py",
        "grader/tools/ci.py",
        "grader/course/fixtures/layers.affine_forward.npz",
    ):
        assert (bundle / rel).is_file(), rel
    script = bundle / "assignment" / "datasets" / "get_datasets.sh"
    assert os.access(script, os.X_OK)
    notebooks = sorted(p.name for p in (REFERENCE.parent / "notebooks").glob("*.ipynb"))
    assert notebooks and sorted(p.name for p in bundle.glob("*.ipynb")) == notebooks
    workflow = (bundle / ".github/workflows/autograde.yml").read_text()
    assert workflow == (release.TEMPLATES / "autograde.yml").read_text()
    readme = (bundle / "README.md").read_text()
    assert "python -m grader check" in readme and "get_datasets.sh" in readme


def test_the_student_package_is_the_generated_one(bundle):
    expected = stubs.build_assignment(REFERENCE)
    actual = {
        p.relative_to(bundle / "assignment").as_posix(): (
            p.read_bytes() if p.suffix in stubs.DATA_SUFFIXES else p.read_text()
        )
        for p in (bundle / "assignment").rglob("*")
        if p.is_file()
    }
    assert actual == expected


def test_nothing_of_the_hidden_side_is_shipped(bundle):
    assert not (bundle / "reference").exists()
    hidden = sorted((bundle / "grader" / "checks" / "hidden").iterdir())
    assert [p.name for p in hidden] == ["__init__.py"]
    for name in (
        "checks/training.py",
        "tools/calibration.py",
        "notebooks/grading.py",
        "tools/solved.py",
    ):
        assert not (bundle / "grader" / name).exists(), name
    references = {p.read_bytes() for p in REFERENCE.rglob("*.py")}
    graded = {REFERENCE / m for m in stubs.graded_modules(REFERENCE)}
    shipped = {p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    assert not {p.read_bytes() for p in graded} & shipped  # no graded module as it is
    assert references  # sanity: the comparison looked at something


def test_no_solution_line_reaches_the_release(bundle):
    """Every line of every solution block (and every `# SOLUTION` line) is absent, except lines
    the generated student package holds anyway (``return out, cache`` outside a block)."""
    solutions = release.solution_lines(REFERENCE)
    assert len(solutions) > 150  # the blocks were found: every graded function has one
    public = {
        line.strip()
        for text in stubs.build_assignment(REFERENCE).values()
        if isinstance(text, str)  # not the binary data files
        for line in text.split("\n")
    }
    shipped = _all_lines(bundle)
    leaked = {line: where for line, where in solutions.items() if line in shipped - public}
    assert not leaked, leaked
    assert release.find_leaks(bundle) == []


def test_no_hidden_check_line_reaches_the_release(bundle):
    public_grader = [f for f, _ in release.grader_files()]
    hidden = release.hidden_lines(HIDDEN, public_grader)
    assert len(hidden) > 20
    shipped = _all_lines(bundle)
    assert not set(hidden) & shipped
    for path in HIDDEN.glob("check_*.py"):
        text = path.read_text()
        assert not any(text in f.read_text(errors="replace") for f in bundle.rglob("*.py")), (
            path.name
        )


def test_a_planted_leak_is_found_with_its_source(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    solutions = release.solution_lines(REFERENCE)
    line = next(k for k, v in solutions.items() if "layers.py" in v and "np." in k)
    (copy / "assignment" / "helper.py").write_text(f"def f(x):\n    {line}\n")
    cell = {"cell_type": "code", "source": [f"    {line}\n"], "metadata": {}, "outputs": []}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (copy / "Extra.ipynb").write_text(json.dumps(nb))
    hidden_file = next(HIDDEN.glob("check_*.py"))
    shutil.copy(hidden_file, copy / "grader" / "checks" / "public" / "check_stolen.py")
    leaks = release.find_leaks(copy)
    assert any(r.startswith("assignment/helper.py:2:") and solutions[line] in r for r in leaks)
    assert any(r.startswith("Extra.ipynb:1:") for r in leaks)
    assert any(r.startswith("grader/checks/public/check_stolen.py:") for r in leaks)


def test_a_leaking_release_writes_nothing(tmp_path, monkeypatch):
    original = release.write_bundle
    line = next(iter(release.solution_lines(REFERENCE)))

    def leaky(target, root=None):
        written = original(target, root)
        (target / "assignment" / "oops.py").write_text(line + "\n")
        return written

    monkeypatch.setattr(release, "write_bundle", leaky)
    target = tmp_path / "out"
    with pytest.raises(release.LeakError, match="oops.py"):
        release.build_release(target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the scratch folder is gone too


def test_an_existing_release_is_replaced_only_with_force(tmp_path):
    target = tmp_path / "repo"
    (target / ".git").mkdir(parents=True)
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    release.build_release(target)  # only .git: counts as empty
    (target / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError):
        release.build_release(target)
    release.build_release(target, force=True)
    assert not (target / "stale.txt").exists()
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (target / "assignment" / "layers.py").is_file()


def _check(bundle: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m grader check` inside the release, where importing the reference fails."""
    blocker = tmp_path / "blocker" / "reference"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text("raise ImportError('the release used the reference')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    return subprocess.run(
        [sys.executable, "-m", "grader", "check", *args],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_public_checks_run_in_the_release_without_the_reference(bundle, tmp_path):
    stub = _check(bundle, tmp_path, "--only", "layers.affine")
    assert stub.returncode == 1, stub.stdout + stub.stderr  # the stubs fail, with feedback
    assert "FAIL  layers.affine_forward expected values" in stub.stdout
    assert "START/END OF YOUR CODE" in stub.stdout

    solved_repo = tmp_path / "solved-repo"
    shutil.copytree(bundle, solved_repo)
    shutil.rmtree(solved_repo / "assignment")
    write_solved(tmp_path / "solved")
    shutil.copytree(tmp_path / "solved" / "assignment", solved_repo / "assignment")
    solved = _check(solved_repo, tmp_path)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "FAIL" not in solved.stdout and "TOTAL" in solved.stdout


def test_register_builds_the_release_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    release.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["release", str(tmp_path / "r")])
    assert not args.force
    assert args.func(args) == 0
    assert "no solution line" in capsys.readouterr().out
    assert args.func(args) == 2  # not empty any more
    assert "not empty" in capsys.readouterr().err
