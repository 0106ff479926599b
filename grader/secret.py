"""The course's held-out secret: the seed of the images accuracy is measured on.

Students have the data module and could regenerate any image set whose seed they can guess, so
the held-out seed is a random secret of the course (128 bits), kept with the grader and never in
the student release. It lives in one file:

- ``$NNGRADE_SECRET_FILE`` when that is set (for a secret kept outside the install, or shared by
  several graders), else
- ``grader/course/heldout.secret`` beside the grader's own code (the release leaves it out; the
  Gradescope bundle carries it, so the bundled grader finds it there).

When the file is missing, the first grading creates it (atomically, mode 0600, so concurrent
gradings agree on one secret) and says so on stderr; ``nngrade secret`` creates it ahead of time
or shows where it is. The same submission graded with the same secret gets the same scores;
a new secret moves accuracies by sampling noise only (the thresholds sit far below the
reference's accuracy).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
from pathlib import Path

ENV = "NNGRADE_SECRET_FILE"
#: Its default place, relative to the folder holding the ``grader`` package.
RELATIVE_PATH = "grader/course/heldout.secret"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / RELATIVE_PATH
#: Bits of a new secret; a file with fewer than MIN_BITS is refused.
BITS = 128
MIN_BITS = 64
_HEX = re.compile(r"^[0-9a-f]+$")


class SecretError(RuntimeError):
    """The secret file exists but is unusable, or cannot be created."""


def secret_path() -> Path:
    """Where the secret is read from (and created when missing)."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else DEFAULT_PATH


def _parse(text: str, path: Path) -> str:
    value = text.strip().lower()
    if not _HEX.match(value) or len(value) * 4 < MIN_BITS:
        raise SecretError(
            f"{path} does not hold a held-out secret (at least {MIN_BITS // 4} hex digits); "
            "remove it and run `nngrade secret` to make a new one"
        )
    return value


def create_secret(path: Path | None = None) -> tuple[str, bool]:
    """The secret at ``path`` (default :func:`secret_path`), made first if missing.

    Returns ``(secret, created)``. Creation writes a temporary file and links it into place, so
    when two gradings race, both end up with the one that got there first.
    """
    path = Path(path) if path is not None else secret_path()
    if path.exists():
        return _parse(path.read_text(encoding="ascii", errors="replace"), path), False
    value = secrets.token_hex(BITS // 8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".heldout-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (value + "\n").encode("ascii"))
            os.close(fd)
            os.link(tmp, path)  # fails when another process made it first
        finally:
            os.unlink(tmp)
    except FileExistsError:
        return _parse(path.read_text(encoding="ascii", errors="replace"), path), False
    except OSError as exc:
        raise SecretError(
            f"there is no held-out secret at {path} and it could not be created "
            f"({exc.strerror}); run `nngrade secret` where it can be written, or set {ENV}"
        ) from None
    return value, True


def read_secret() -> str:
    """The course's secret, created (with a notice on stderr) on first use."""
    value, created = create_secret()
    if created:
        print(
            f"nngrade: created a new held-out secret in {secret_path()}; keep it (graders "
            "sharing a class must use the same one) and never hand it out",
            file=sys.stderr,
        )
    return value


def heldout_seed() -> int:
    """The seed of the held-out images: the secret as an integer."""
    return int(read_secret(), 16)


def _cmd(args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser() if args.file else secret_path()
    try:
        _, created = create_secret(path)
    except SecretError as exc:
        print(f"nngrade: {exc}", file=sys.stderr)
        return 2
    state = "created" if created else "already there; kept"
    print(f"held-out secret: {path} ({state})")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``secret`` to the ``nngrade`` sub-commands."""
    p = subparsers.add_parser(
        "secret",
        help="create the course's held-out secret (once), or show where it is",
        description="Create the random secret the held-out images are drawn from, unless it "
        f"exists: {DEFAULT_PATH}, or ${ENV}. Never hand it out; back it up.",
    )
    p.add_argument("--file", help=f"where to create it (default: ${ENV} or {DEFAULT_PATH})")
    p.set_defaults(func=_cmd)
    return p
