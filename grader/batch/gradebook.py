"""``gradebook.csv``: one row per student, one column per check."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader.batch.records import GRADED, BatchOptions, Record
from grader.reports.files import atomic_write

# ---------------------------------------------------------------------------------------------
# Gradebook and answers
# ---------------------------------------------------------------------------------------------


def check_columns(records: Iterable[Record]) -> list[str]:
    """Check names in the rubric's order, then any the rubric does not know, sorted."""
    from grader.course import rubric

    seen = {name for r in records for name in r.tests}
    known = [item.name for item in rubric.ITEMS if item.name in seen]
    return known + sorted(seen.difference(known))


def expected_max(options: BatchOptions) -> float:
    """The points a submission could get under these settings (for rows without a report)."""
    from grader.course import rubric
    from grader.grade import GradeSettings

    settings = GradeSettings(objects=tuple(options.only))
    return round(sum(item.points for item in rubric.ITEMS if settings.selects(item)), 4)


def gradebook_csv(records: Sequence[Record], options: BatchOptions) -> str:
    """One row per student. A submission without a report gets 0 points, empty check cells,
    its status and the reason, so no student silently drops out of the gradebook."""
    columns = check_columns(records)
    fallback_max = expected_max(options)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", "total", "max_score", *columns, "seconds", "reason"])
    for record in records:
        graded = record.status == GRADED
        cells = [f"{record.tests[c]:g}" if c in record.tests else "" for c in columns]
        writer.writerow(
            [
                record.student,
                record.status,
                f"{record.score:g}" if graded else "0",
                f"{record.max_score:g}" if graded else f"{fallback_max:g}",
                *cells,
                f"{record.seconds:.1f}",
                record.reason,
            ]
        )
    return buffer.getvalue()


def write_gradebook(records: Sequence[Record], path: Path, options: BatchOptions) -> Path:
    atomic_write(path, gradebook_csv(records, options), newline="")
    return path
