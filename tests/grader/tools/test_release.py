"""The student release: what it holds, that it works on its own, and that no line of a solution
block or of a hidden check reaches it."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import paths
from grader.course import COURSE
from grader.tools import leaks, release, stubs
from grader.tools.solved import write_solved

REFERENCE = paths.reference_dir()
HIDDEN = Path(release.__file__).parent.parent / "checks" / "hidden"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("release") / "student-repo"
    release.build_release(target)
    return target


def _all_lines(bundle: Path) -> set[str]:
    return {line for f in bundle.rglob("*") if f.is_file() for _, line in leaks.text_lines(f)}


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
        "grader/edition.py",
    ):
        assert (bundle / rel).is_file(), rel
    assert "STUDENT = True" in (bundle / "grader" / "edition.py").read_text()
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


def test_the_grader_ships_exactly_the_listed_files(bundle):
    shipped = {
        p.relative_to(bundle / "grader").as_posix()
        for p in (bundle / "grader").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    listed = {rel for _, rel in release.grader_files()}
    assert shipped == listed | {"edition.py"}
    assert not (bundle / "reference").exists()
    for name in (
        "checks/hidden",
        "checks/training.py",
        "course/training.py",
        "notebooks",
        "batch",
        "tools/calibration.py",
        "tools/demo.py",
        "tools/gradescope.py",
        "tools/release.py",
        "tools/solved.py",
        "tools/stubs.py",
    ):
        assert not (bundle / "grader" / name).exists(), name
    graded = {REFERENCE / m for m in stubs.graded_modules(REFERENCE)}
    shipped_bytes = {p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    assert graded and not {p.read_bytes() for p in graded} & shipped_bytes


def test_every_public_check_and_fixture_is_listed():
    """A public check or golden fixture added later ships without anyone editing the list by
    hand twice: the list names each one, and this fails when one is missing from it."""
    grader = Path(release.GRADER_DIR)
    listed = {rel for _, rel in release.grader_files()}
    for path in (grader / "checks" / "public").glob("*.py"):
        assert f"checks/public/{path.name}" in listed, path.name
    fixtures = sorted((grader / "course" / "fixtures").glob("*.npz"))
    assert fixtures and all(f"course/fixtures/{p.name}" in listed for p in fixtures)
    for module in COURSE.scenario_modules:
        assert module.removeprefix("grader.").replace(".", "/") + ".py" in listed, module


def test_a_stale_entry_in_the_list_is_an_error(monkeypatch):
    monkeypatch.setattr(release, "SHIPPED", (*release.SHIPPED, "tools/gone.py"))
    with pytest.raises(FileNotFoundError, match="tools/gone.py"):
        list(release.grader_files())


def test_staff_modules_holding_solution_lines_stay_out():
    """The demo's edits quote the reference; the scan finds them, and their files are not
    shipped."""
    found = release.staff_leaks()
    holders = {entry.split(":", 1)[0] for entry in found}
    assert "grader/tools/demo.py" in holders
    assert sum(entry.startswith("grader/tools/demo.py:") for entry in found) >= 3
    listed = {f"grader/{rel}" for _, rel in release.grader_files()}
    assert not holders & listed, holders & listed


def test_no_solution_line_reaches_the_release(bundle):
    """Every line of every solution block (and every `# SOLUTION` line) is absent, except lines
    the generated student package holds anyway (``return out, cache`` outside a block)."""
    solutions = leaks.solution_lines(REFERENCE)
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
    hidden = leaks.hidden_lines(HIDDEN, public_grader)
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
    solutions = leaks.solution_lines(REFERENCE)
    line = next(k for k, v in solutions.items() if "layers.py" in v and "np." in k)
    (copy / "assignment" / "helper.py").write_text(f"def f(x):\n    {line}\n")
    cell = {"cell_type": "code", "source": [f"    {line}\n"], "metadata": {}, "outputs": []}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (copy / "Extra.ipynb").write_text(json.dumps(nb))
    hidden_file = next(HIDDEN.glob("check_*.py"))
    shutil.copy(hidden_file, copy / "grader" / "checks" / "public" / "check_stolen.py")
    found = release.find_leaks(copy)
    assert any(r.startswith("assignment/helper.py:2:") and solutions[line] in r for r in found)
    assert any(r.startswith("Extra.ipynb:") for r in found)
    assert any(r.startswith("grader/checks/public/check_stolen.py:") for r in found)


def test_a_leaking_release_writes_nothing(tmp_path, monkeypatch):
    original = release.write_bundle
    line = next(iter(leaks.solution_lines(REFERENCE)))

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
    return _in_release(bundle, tmp_path, "-m", "grader", "check", *args)


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


def _secret_with(*parts: str) -> str:
    """A solution line (as written in reference/) that holds each of ``parts``."""
    lines = leaks.solution_lines(REFERENCE)
    return next(k for k in sorted(lines) if all(p in k for p in parts) and "#" not in k)


def _disguises(line: str) -> dict[str, str]:
    """File name -> contents hiding ``line`` in one way each."""
    cut = line.index("(") + 1
    eq = line.index("=") + 1
    swapped = line.translate(str.maketrans({'"': "'", "'": '"'}))
    cell = {
        "cell_type": "code",
        "source": ["def f(x):\n", f"    {line[:cut]}\n", f"        {line[cut:]}\n"],
        "metadata": {},
        "outputs": [],
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return {
        "reindented.py": f"if True:\n\t\t{line}\n",
        "spaced.py": line.replace("=", "   =   ").replace(",", " ,  ") + "\n",
        "docstring.py": f'def f():\n    """Notes.\n\n        {line}\n    """\n',
        "comment.py": f"x = 1  # {line}\n",
        "swapped_quotes.py": f"def f():\n    {swapped}\n",
        "backslash.py": f"def f():\n    {line[:eq]} \\\n        {line[eq:]}\n",
        "brackets.py": f"def f():\n    {line[:cut]}\n            {line[cut:]}\n",
        "split_string.py": f"EDIT = (\n    {line[:cut]!r}\n    {line[cut:]!r}\n)\n",
        "added_string.py": f"EDIT = {line[:eq]!r} + \\\n    {line[eq:]!r}\n",
        "escaped.json": json.dumps({"old": line}),
        "Planted.ipynb": json.dumps(notebook),
        "notes.txt": f"remember: {line}\n",
        "notes.md": f"```python\n{line}\n```\n",
    }


@pytest.mark.parametrize("parts", [("np.", "("), ('"', "(", "=")], ids=["numpy", "quoted"])
def test_disguised_solution_lines_are_refused(bundle, tmp_path, parts):
    line = _secret_with(*parts)
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    planted = _disguises(line)
    for name, text in planted.items():
        (copy / "assignment" / name).write_text(text)
    found = release.find_leaks(copy)
    caught = {entry.split(":", 1)[0].removeprefix("assignment/") for entry in found}
    assert set(planted) <= caught, sorted(set(planted) - caught)
    assert caught == set(planted)  # and nothing else in the bundle


def test_a_disguised_leak_stops_the_release(tmp_path, monkeypatch):
    original = release.write_bundle
    line = _secret_with('"', "(", "=")

    def leaky(target, root=None):
        written = original(target, root)
        (target / "grader" / "hint.py").write_text(_disguises(line)["split_string.py"])
        return written

    monkeypatch.setattr(release, "write_bundle", leaky)
    with pytest.raises(release.LeakError, match="grader/hint.py:2"):
        release.build_release(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_similar_code_is_not_taken_for_a_solution_line():
    """The edges of a match are checked: a longer name or an attribute is other code."""
    needle = leaks.normalise("out = x * 2")[0]
    for text in ("self.out = x * 2", "out = x * 22", "rout = x * 2", "out = x * 2.5"):
        assert list(leaks._occurrences(leaks.normalise(text)[0], needle)) == [], text
    for text in ("out = x * 2", "y = 1; out = x * 2\n", "'out = x * 2'", "f(out = x * 2)"):
        assert list(leaks._occurrences(leaks.normalise(text)[0], needle)), text


def _squeezed(text: str) -> str:
    """Text without any whitespace, every quote a double one: how the independent check compares."""
    return "".join(text.split()).replace("'", '"')


def test_no_reference_solution_line_is_in_the_release_independently(bundle):
    """A second look that shares no code with release.py: every line between the markers in
    reference/ that is long enough to mean something is in no file of the release, compared
    with all whitespace gone (and not as the tail of a longer name: ``best_model=``), unless the
    checked-in student package has it too."""
    solution = set()
    for path in REFERENCE.rglob("*.py"):
        inside = False
        for raw in path.read_text(encoding="utf-8").splitlines():
            stripped = raw.strip()
            if stripped in ("# BEGIN SOLUTION", "# END SOLUTION"):
                inside = stripped == "# BEGIN SOLUTION"
            elif inside and not stripped.startswith("#"):
                solution.add(_squeezed(stripped.split("  #")[0]))
    student = "\n".join(
        _squeezed(p.read_text(encoding="utf-8"))
        for p in paths.assignment_dir().rglob("*.py")
        if "__pycache__" not in p.parts
    )
    secrets = {line for line in solution if len(line) >= 16 and line not in student}
    assert len(secrets) > 100
    for path in bundle.rglob("*"):
        if not path.is_file() or path.suffix == ".npz":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) for c in cells)
        flat = _squeezed(text)
        found = [line for line in secrets if re.search(r"(?<![\w.])" + re.escape(line), flat)]
        assert not found, (path, found)


def _in_release(bundle: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``python *args`` inside the release, where the reference cannot be imported and the
    release's own grader/ comes first on sys.path (``-P`` is not on 3.10, so the cwd does)."""
    blocker = tmp_path / "blocker" / "reference"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text("raise ImportError('the release used the reference')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_shipped_module_imports_in_the_release_alone(bundle, tmp_path):
    modules = [
        "grader." + rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for _, rel in release.grader_files()
        if rel.endswith(".py") and rel not in ("__main__.py", "sandbox/_launcher.py")
    ]
    script = (
        "import importlib, pathlib, sys\n"
        "import grader\n"
        f"assert pathlib.Path(grader.__file__).parent == pathlib.Path({str(bundle / 'grader')!r})"
        ", grader.__file__\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        "assert 'reference' not in sys.modules\n"
        f"print('imported', {len(modules)})\n"
    )
    done = _in_release(bundle, tmp_path, "-c", script)
    assert done.returncode == 0, done.stderr
    assert f"imported {len(modules)}" in done.stdout


def test_the_release_cli_lists_only_what_works_there(bundle, tmp_path):
    helped = _in_release(bundle, tmp_path, "-m", "grader", "--help")
    assert helped.returncode == 0, helped.stderr
    listed = re.findall(r"^ {4}([a-z][a-z-]*)(?: |$)", helped.stdout, re.M)
    assert listed == ["check"], helped.stdout
    for staff in ("grade", "grade-all", "release", "demo", "solved"):
        done = _in_release(bundle, tmp_path, "-m", "grader", staff, "x")
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"nngrade: `{staff}` is for course staff only; here, `python -m grader check` runs "
            "the public checks."
        ]
    ci = _in_release(bundle, tmp_path, "-m", "grader.tools.ci", "--help")
    assert ci.returncode == 0 and "public" in ci.stdout, ci.stderr
    full = _in_release(bundle, tmp_path, "-m", "grader.tools.ci", "full", str(tmp_path))
    assert full.returncode == 2
    assert full.stderr.strip().splitlines() == [
        "nngrade: `full` grading is for course staff only; here, `public` runs."
    ]


def test_check_scans_an_existing_folder(bundle, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    release.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["release", "--check", str(bundle)])
    assert args.func(args) == 0
    assert "0 leak(s)" in capsys.readouterr().out
    copy = tmp_path / "repo"
    shutil.copytree(bundle, copy)
    (copy / "notes.md").write_text(_disguises(_secret_with("np.", "("))["notes.md"])
    args = parser.parse_args(["release", "--check", str(copy)])
    assert args.func(args) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("notes.md:2: ") and "1 leak(s)" in captured.err
