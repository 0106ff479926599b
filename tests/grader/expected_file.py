"""The last step every corpus's ``regenerate`` command shares: write expected.json, or check it."""

from __future__ import annotations

from pathlib import Path


def write_or_check(path: Path, text: str, old: str, check: bool, differs: str) -> int:
    """Write ``text`` to ``path`` unless it equals ``old``; with ``check`` only say whether it
    would change (exit status 1 when it would). ``differs`` ends the message of a stale file."""
    if text == old:
        print(f"{path.name} is up to date")
        return 0
    if check:
        print(f"{path.name} differs from {differs}")
        return 1
    path.write_text(text)
    print(f"wrote {path}")
    return 0
