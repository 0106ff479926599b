"""Project wiring: the README's commands, CI's entry point and the CLI's help stay consistent."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert block, "README.md has no command block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "nngrade" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in script
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


def test_every_cli_command_has_help():
    from grader.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert subparsers.choices
    for name, sub in subparsers.choices.items():
        assert sub.description, f"`nngrade {name}` has no description"
        out = subprocess.run(
            [sys.executable, "-m", "grader", name, "--help"], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert name in out.stdout
