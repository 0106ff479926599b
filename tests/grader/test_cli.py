"""The ``nngrade`` command line: the staff's full set of commands, and the student release's
``check`` alone, where a staff command answers in one line."""

from __future__ import annotations

import pytest

from grader import cli, edition


def _commands(parser) -> dict:
    return next(a for a in parser._actions if a.dest == "command").choices


def test_the_staff_grader_has_every_command_and_the_lists_are_exact():
    assert edition.STUDENT is False  # the course's own grader
    commands = set(_commands(cli.build_parser()))
    assert commands == set(cli.STUDENT_COMMANDS) | set(cli.STAFF_COMMANDS)
    assert not set(cli.STUDENT_COMMANDS) & set(cli.STAFF_COMMANDS)


def test_the_student_release_offers_only_check(capsys):
    parser = cli.build_parser(student=True)
    assert set(_commands(parser)) == set(cli.STUDENT_COMMANDS) == {"check"}
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    shown = capsys.readouterr().out
    assert "python -m grader" in shown
    for staff in cli.STAFF_COMMANDS:
        assert f" {staff} " not in f" {shown.replace(',', ' ')} ", staff


@pytest.mark.parametrize("command", ["grade", "grade-all", "release", "assignment"])
def test_a_staff_command_in_the_release_says_so_in_one_line(command, monkeypatch, capsys):
    monkeypatch.setattr(edition, "STUDENT", True)
    assert cli.main([command, "some-folder", "--out", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert f"`{command}` is for course staff only" in line
    named = {c for c in cli.STAFF_COMMANDS if f"`{c}`" in line or f" {c} " in line}
    assert named == {command}  # it names no other command the student does not have


def test_an_unknown_command_in_the_release_lists_only_check(monkeypatch, capsys):
    monkeypatch.setattr(edition, "STUDENT", True)
    with pytest.raises(SystemExit) as stop:
        cli.main(["grde"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "'check'" in err
    assert not any(f"'{c}'" in err for c in cli.STAFF_COMMANDS)


def test_a_missing_fixture_in_the_release_names_no_staff_command(tmp_path, monkeypatch):
    from grader.tools import fixtures

    monkeypatch.setattr(edition, "STUDENT", True)
    with pytest.raises(FileNotFoundError) as missing:
        fixtures.load_fixture("layers.affine_forward", tmp_path)
    assert "layers.affine_forward" in str(missing.value)
    assert "nngrade" not in str(missing.value)
