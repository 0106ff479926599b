"""Finding the student's package and copying it safely, from a directory or a zip archive."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox, Settings, SubmissionError
from grader.sandbox.submission import find_package, prepare_package

from .conftest import write_tree

SETTINGS = Settings()


def make_zip(path: Path, entries: dict[str, str], links: dict[str, str] = {}) -> Path:  # noqa: B006
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def prepare(tmp_path: Path, submission: Path, course: Path, limits: Limits | None = None):
    work = tmp_path / f"work{len(list(tmp_path.glob('work*')))}"
    work.mkdir()
    return prepare_package(submission, work, course, SETTINGS, limits or Limits())


def test_zip_with_a_wrapping_folder(tmp_path, course):
    archive = make_zip(
        tmp_path / "sub.zip",
        {
            "hw2/cs231n/__init__.py": "",
            "hw2/cs231n/layers.py": "X = 1\n",
            "hw2/cs231n/__pycache__/layers.cpython-311.pyc": "junk",
            "hw2/cs231n/classifiers/fc_net.py": "Y = 2\n",
            "hw2/cs231n/datasets/cifar-10-batches-py/data_batch_1": "big",
            "hw2/FullyConnectedNets.ipynb": "{}",
            "__MACOSX/hw2/._layers.py": "resource fork",
        },
    )
    prepared = prepare(tmp_path, archive, course)
    assert prepared.name == "cs231n"
    files = sorted(
        str(p.relative_to(prepared.path)) for p in prepared.path.rglob("*") if p.is_file()
    )
    assert files == [
        "__init__.py",
        "classifiers/fc_net.py",
        "fast_layers.py",
        "gradient_check.py",
        "layers.py",
        "solver.py",
    ]
    assert sorted(prepared.added) == ["fast_layers.py", "gradient_check.py", "solver.py"]


@pytest.mark.parametrize(
    ("entries", "links", "message"),
    [
        ({"../evil.py": "x"}, {}, "leaves the archive"),
        ({"cs231n/../../evil.py": "x"}, {}, "leaves the archive"),
        ({"/etc/cron.d/evil": "x"}, {}, "absolute path"),
        ({"C:/evil.py": "x"}, {}, "absolute path"),
        (
            {"cs231n/layers.py": "x"},
            {"cs231n/solver.py": "/work/main/reference/solver.py"},
            "symbolic link",
        ),
    ],
)
def test_unsafe_archives_are_refused(tmp_path, course, entries, links, message):
    archive = make_zip(tmp_path / "evil.zip", entries, links)
    with pytest.raises(SubmissionError, match=message):
        prepare(tmp_path, archive, course)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()


def test_oversized_archives_are_refused(tmp_path, course):
    limits = Limits(submission_bytes=1000, submission_files=5)
    many = make_zip(tmp_path / "many.zip", {f"cs231n/m{i}.py": "" for i in range(6)})
    with pytest.raises(SubmissionError, match="6 entries"):
        prepare(tmp_path, many, course, limits)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cs231n/layers.py", "0" * 5000)
    assert bomb.stat().st_size < 1000
    with pytest.raises(SubmissionError, match="more than 1000 bytes"):
        prepare(tmp_path, bomb, course, limits)


def test_not_a_zip_or_missing(tmp_path, course):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SubmissionError, match="neither a directory nor a zip"):
        prepare(tmp_path, text, course)
    with pytest.raises(SubmissionError, match="no such submission"):
        prepare(tmp_path, tmp_path / "absent", course)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(SubmissionError):
        prepare(tmp_path, broken, course)


def test_package_lookup(tmp_path):
    write_tree(tmp_path / "a", {"assignment/layers.py": "", "cs231n/other.py": ""})
    assert find_package(tmp_path / "a", ("assignment", "cs231n")).name == "assignment"
    write_tree(tmp_path / "b", {"assignment/notes.md": "", "cs231n/layers.py": ""})
    assert find_package(tmp_path / "b", ("assignment", "cs231n")).name == "cs231n"
    write_tree(tmp_path / "c", {"wrapper/cs231n/layers.py": "", ".git/config": ""})
    assert find_package(tmp_path / "c", ("assignment", "cs231n")).parent.name == "wrapper"
    write_tree(tmp_path / "d", {"one/cs231n/layers.py": "", "two/x.py": ""})
    with pytest.raises(SubmissionError, match="no assignment/ or cs231n/ package"):
        find_package(tmp_path / "d", ("assignment", "cs231n"))


def test_links_inside_a_directory_package_are_refused(tmp_path, course):
    root = write_tree(tmp_path / "sub", {"cs231n/layers.py": "X = 1\n"})
    os.symlink("/etc/passwd", root / "cs231n" / "data.txt")
    with pytest.raises(SubmissionError, match="symbolic link cs231n/data.txt refused"):
        prepare(tmp_path, root, course)
    os.unlink(root / "cs231n" / "data.txt")
    os.symlink(course, root / "cs231n" / "classifiers")
    with pytest.raises(SubmissionError, match="symbolic link cs231n/classifiers refused"):
        prepare(tmp_path, root, course)


def test_course_extension_is_copied_and_student_binaries_are_not(tmp_path, course):
    (course / "im2col_cython.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF course")
    root = write_tree(
        tmp_path / "sub",
        {"cs231n/layers.py": "", "cs231n/im2col_cython.cpython-311-x86_64-linux-gnu.so": "student"},
    )
    prepared = prepare(tmp_path, root, course)
    copied = prepared.path / "im2col_cython.cpython-311-x86_64-linux-gnu.so"
    assert copied.read_bytes() == b"\x7fELF course"
    assert "im2col_cython.cpython-311-x86_64-linux-gnu.so" in prepared.added


def test_sandbox_reports_an_unusable_submission_before_starting(tmp_path, course):
    archive = make_zip(tmp_path / "evil.zip", {"../x.py": ""})
    with pytest.raises(SubmissionError, match="leaves the archive"):
        Sandbox(archive, course_package=course)


# --- editions ---------------------------------------------------------------------------------


def _package(tmp_path: Path, name: str, layers: str):
    from grader.sandbox.submission import PreparedPackage

    (tmp_path / name).mkdir()
    (tmp_path / name / "layers.py").write_text(layers)
    return PreparedPackage(name, tmp_path)


@pytest.mark.parametrize(
    ("name", "layers", "edition"),
    [
        ("cs231n", "def affine_forward(x, w, b):\n    pass\n", "cs231n 2021-23"),
        ("cs231n", "def svm_loss(x, y):\n    pass\n", None),  # wrote it anyway: graded on it
        ("cs231n", "svm_loss = lambda x, y: None\n", None),
        ("cs231n", "from .old import *\n", None),  # a star import may define it
        ("cs231n", "def broken(:\n", None),  # not Python: undecided, graded as usual
        ("assignment", "def affine_forward(x, w, b):\n    pass\n", None),  # not that layout
    ],
)
def test_edition_is_the_layout_without_the_objects_it_lacks(tmp_path, name, layers, edition):
    from grader.course import rubric
    from grader.sandbox.submission import detect_edition

    found = detect_edition(_package(tmp_path, name, layers), rubric.EDITIONS)
    assert (found.name if found else None) == edition


def test_an_edition_s_missing_objects_are_not_graded_and_keep_their_points(tmp_path):
    from types import SimpleNamespace

    from grader.checks.plugin import RubricPlugin
    from grader.course import rubric

    package = _package(tmp_path, "cs231n", "def affine_forward(x, w, b):\n    pass\n")
    student = SimpleNamespace(sandbox=SimpleNamespace(package=package))
    plugin = RubricPlugin(student_impl=student, settings=None)
    svm = [item.name for item in rubric.ITEMS if item.obj == "layers.svm_loss"]
    assert sorted(plugin.excused) == sorted(svm)
    results = {r.name: r for r in plugin.results()}
    for name in svm:
        assert results[name].score == results[name].max_score
        assert "2021-23" in results[name].output
    assert any("Edition" in note for note in plugin.notes)
