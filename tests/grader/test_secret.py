"""The course's held-out secret: made once, kept private, read the same by every grading."""

from __future__ import annotations

import multiprocessing
import shutil
import stat
from pathlib import Path

import pytest

from grader import cli, secret
from grader.checks import training
from grader.sandbox import Settings
from grader.sandbox.launch import hidden_paths
from grader.tools import release


def test_a_missing_secret_is_created_once_private_and_random(tmp_path, monkeypatch, capsys):
    path = tmp_path / "keep" / "heldout.secret"
    monkeypatch.setenv(secret.ENV, str(path))
    value = secret.read_secret()
    assert "created a new held-out secret" in capsys.readouterr().err
    assert len(value) * 4 == secret.BITS and int(value, 16) == secret.heldout_seed()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret.read_secret() == value and capsys.readouterr().err == ""
    assert secret.create_secret(tmp_path / "other.secret")[0] != value


def _make(path: str) -> str:
    return secret.create_secret(Path(path))[0]


def test_gradings_racing_to_create_it_agree_on_one(tmp_path):
    path = str(tmp_path / "raced.secret")
    with multiprocessing.get_context("fork").Pool(6) as pool:
        values = pool.map(_make, [path] * 12)
    assert len(set(values)) == 1 and Path(path).read_text().strip() == values[0]
    assert [p.name for p in tmp_path.iterdir()] == ["raced.secret"]  # no temporary left


def test_a_short_or_malformed_secret_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bad.secret"
    monkeypatch.setenv(secret.ENV, str(path))
    for text in ("90417\n", "not hex at all, but long enough to pass a length test\n"):
        path.write_text(text)
        with pytest.raises(secret.SecretError, match="does not hold a held-out secret"):
            secret.heldout_seed()


def test_the_heldout_images_follow_the_secret(tmp_path, monkeypatch):
    first, second = tmp_path / "a.secret", tmp_path / "b.secret"
    first.write_text("0123456789abcdef0123456789abcdef\n")
    second.write_text("fedcba9876543210fedcba9876543210\n")
    monkeypatch.setenv(secret.ENV, str(first))
    a, labels = training.heldout_split(30)
    assert (training.heldout_split(30)[0] == a).all()
    monkeypatch.setenv(secret.ENV, str(second))
    assert not (training.heldout_split(30)[0] == a).all()
    monkeypatch.setenv(secret.ENV, str(first))
    assert (training.heldout_split(30)[1] == labels).all()


def test_the_secret_command_creates_it_and_keeps_an_existing_one(tmp_path, capsys):
    path = tmp_path / "cmd.secret"
    assert cli.main(["secret", "--file", str(path)]) == 0
    assert "(created)" in capsys.readouterr().out
    value = path.read_text()
    assert cli.main(["secret", "--file", str(path)]) == 0
    assert "kept" in capsys.readouterr().out and path.read_text() == value
    path.write_text("zz")
    assert cli.main(["secret", "--file", str(path)]) == 2


def test_student_code_cannot_see_it(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.secret"
    secret.create_secret(path)
    monkeypatch.setenv(secret.ENV, str(path))
    assert path in hidden_paths(Settings(), tmp_path)


def test_the_release_never_ships_it(tmp_path):
    # The release ships only the files release.SHIPPED names: a secret beside the rubric, where
    # the grader keeps it, is not among them, nor is anything with its name or suffix.
    grader_dir = tmp_path / "grader"
    shutil.copytree(release.GRADER_DIR, grader_dir, ignore=shutil.ignore_patterns("*.secret"))
    planted = tmp_path / secret.RELATIVE_PATH
    secret.create_secret(planted)
    shipped = [rel for _, rel in release.grader_files(grader_dir)]
    assert shipped and "course/rubric.py" in shipped
    assert planted.relative_to(grader_dir).as_posix() not in shipped
    assert not any(rel.endswith(".secret") for rel in shipped)
