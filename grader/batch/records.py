"""What a batch stores and decides with: its options, one submission, one record, what is current.

Shared by the local runner and the Dask runner, so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader import __version__
from grader.selection import selection_args

PARTIAL = ".partial"
LOCK = ".lock"
RECORD = "batch.json"
LOG = "grade.log"
GRADEBOOK = "gradebook.csv"
ANSWERS_JSON = "answers.json"
ANSWERS_MD = "answers.md"

#: Outcomes of one submission. Only "graded" has a report; the others carry a reason.
GRADED, UNGRADABLE, TIMEOUT, CRASHED = "graded", "ungradable", "timeout", "crashed"

#: Exit status of ``nngrade grade`` when it could not grade at all (see grader/cli.py).
UNGRADABLE_EXIT = 2
#: Exit status of ``grade-all`` when Ctrl-C stopped it (the shell's convention for SIGINT).
INTERRUPTED_EXIT = 130


@dataclass(frozen=True)
class BatchOptions:
    """How a batch grades; ``only`` and ``examples`` are passed through to ``nngrade grade``."""

    jobs: int = 1
    timeout: float = 1800.0  # seconds of wall time for one submission, everything included
    only: tuple[str, ...] = ()
    examples: int | None = None
    force: bool = False
    retry_failed: bool = False

    def grade_args(self) -> list[str]:
        return selection_args(self.only, self.examples)

    def settings_key(self) -> dict:
        """What a finished result was graded with; a different key means grade again."""
        return {"only": sorted(self.only), "examples": self.examples, "nngrade": __version__}


@dataclass(frozen=True)
class Submission:
    student: str  # the name of its row and of its report folder
    path: Path


@dataclass
class Record:
    """The outcome of one submission, as stored in its folder's batch.json."""

    student: str
    submission: str
    status: str
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    fingerprint: str = ""
    settings: dict = field(default_factory=dict)
    returncode: int | None = None
    tests: dict[str, float] = field(default_factory=dict)  # from results.json, not stored

    def to_json(self) -> str:
        data = asdict(self)
        del data["tests"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, folder: Path) -> Record | None:
        """The record of a finished folder, or None when the folder is not a finished one."""
        try:
            data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
            record = cls(**{k: v for k, v in data.items() if k != "tests"})
        except (OSError, ValueError, TypeError):
            return None
        if record.status == GRADED:
            tests = read_test_scores(folder / "results.json")
            if tests is None:
                return None
            record.tests = tests
        return record


# ---------------------------------------------------------------------------------------------
# Finding submissions and deciding what to grade
# ---------------------------------------------------------------------------------------------


def discover(root: Path, exclude: Iterable[Path] = ()) -> list[Submission]:
    """Every folder and .zip directly inside ``root``, named after the file (``alice.zip`` is
    alice); hidden entries and ``exclude`` (the output folder when it sits inside) are skipped.
    When ``alice/`` and ``alice.zip`` both exist the archive keeps its suffix in its name."""
    excluded = {p.resolve() for p in exclude}
    entries = []
    for path in sorted(Path(root).iterdir()):
        if path.name.startswith(".") or path.resolve() in excluded:
            continue
        if path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
            entries.append(path)
    stems = [p.stem if p.is_file() else p.name for p in entries]
    subs = []
    for path, stem in zip(entries, stems, strict=True):
        student = stem if stems.count(stem) == 1 or path.is_dir() else path.name
        subs.append(Submission(student, path))
    return subs


def fingerprint(path: Path) -> str:
    """A digest of a submission's content (file names and bytes), to notice a resubmission."""
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_file():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return "sha256:" + digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = file.relative_to(path).as_posix()
        if "__pycache__" in rel.split("/"):
            continue
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


def is_current(record: Record | None, sub_fingerprint: str, options: BatchOptions) -> bool:
    """Whether a stored result can stand for this run (the skip rule of a resumed batch)."""
    if record is None or options.force:
        return False
    if record.fingerprint != sub_fingerprint or record.settings != options.settings_key():
        return False
    return not (options.retry_failed and record.status != GRADED)


def read_test_scores(results_json: Path) -> dict[str, float] | None:
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
        return {str(t["name"]): float(t["score"]) for t in data.get("tests", [])}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
