"""A worked example: a submission with a few realistic bugs, graded, with its report shown.

The example is made from the reference at run time by applying the edits below, so it never
goes stale: each edit's original text must occur exactly once in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.grade import GradeSettings, grade_to_dir
from grader.reports import terminal
from grader.tools.solved import write_solved


@dataclass(frozen=True)
class Edit:
    file: str
    old: str
    new: str
    story: str  # the mistake, in a student's terms


BUGS = (
    Edit(
        "layers.py",
        "sample_var = (xmu**2).mean(axis=0)",
        "sample_var = (xmu**2).sum(axis=0) / (N - 1)",
        "batch norm uses the unbiased variance (divides by N - 1)",
    ),
    Edit(
        "layers.py",
        "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
        "mask = (np.random.rand(*x.shape) < p).astype(x.dtype)",
        "dropout forgets to divide the mask by p",
    ),
    Edit(
        "classifiers/fc_net.py",
        "loss += 0.5 * self.reg * np.sum(w * w)",
        "loss += self.reg * np.sum(w * w)",
        "the L2 loss of the network misses its factor 0.5",
    ),
)


def write_example(target: Path) -> Path:
    """Write the buggy example submission into ``target`` (replacing an earlier one)."""
    write_solved(target)
    package = target / "assignment"
    for edit in BUGS:
        path = package / edit.file
        text = path.read_text(encoding="utf-8")
        if text.count(edit.old) != 1:
            raise RuntimeError(f"example edit no longer applies to {edit.file}: {edit.old!r}")
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")
    return target


def run(directory: Path, settings: GradeSettings | None = None) -> int:
    """Write the example, grade it into ``directory/report`` and print what a student sees."""
    submission = write_example(directory / "submission")
    print("An example submission with these mistakes:")
    for edit in BUGS:
        print(f"  - {edit.file}: {edit.story}")
    print(f"Grading {submission} ...\n")
    report = grade_to_dir(submission, directory / "report", settings)
    print(terminal.terminal_summary(report))
    print(f"\nThe student's report ({directory / 'report' / 'report.md'}):\n")
    print((directory / "report" / "report.md").read_text(encoding="utf-8"))
    return 0
