"""Grading inside a student's GitHub Actions run (the autograde workflow of the release).

``python -m grader.tools.ci public PATH --out DIR`` runs the public checks, ``... full PATH --out
DIR`` the complete grading (where the course installed its grader). Both write the reports, replace
results.json by the student's view of it (hidden checks left out), append report.md to the job
summary (``$GITHUB_STEP_SUMMARY``), print one ``::error`` annotation per failing visible check at
the student's file and line, and exit 1 when a visible check failed, so the push shows red.

This module ships in the student release: it must never import the reference or hidden checks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader import edition, reports
from grader.course import COURSE
from grader.reports import gradescope, markdown

PACKAGE_NAMES = COURSE.package_names


def find_package(root: Path) -> Path | None:
    """The student's package folder: ``assignment/`` or ``cs231n/``, at the top or one folder
    down (a wrapping folder), as submissions are accepted."""
    root = Path(root)
    for base in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        for name in PACKAGE_NAMES:
            if (base / name / "__init__.py").is_file():
                return base / name
    return None


def locate(check_name: str, location: str | None, package: Path | None) -> tuple[str, int]:
    """The file (relative to the package) and line a failing check points at.

    A recorded ``location`` (``layers.py:42``) wins; otherwise the ``def``/``class`` line of the
    object the check is named after; otherwise the module's first line."""
    if location and ":" in location:
        path, _, line = location.rpartition(":")
        if line.isdigit():
            return path, int(line)
    obj = check_name.split(" ", 1)[0]
    head, _, name = obj.partition(".")
    rel = COURSE.module_file(head)
    if head == "notebook":
        return f"../{name}.ipynb", 1
    if package is not None and name:
        try:
            text = (package / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return rel, 1
        for pattern in (rf"(def|class)\s+{re.escape(name)}\b", rf"(def|class)\s+{re.escape(name)}"):
            match = re.search(rf"^[ \t]*{pattern}", text, re.MULTILINE)
            if match:
                return rel, text.count("\n", 0, match.start()) + 1
    return rel, 1


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(file: str, line: int, title: str, message: str) -> str:
    """A GitHub workflow command that marks ``file:line`` with an error."""
    props = f"file={_escape_property(file)},line={line},title={_escape_property(title)}"
    return f"::error {props}::{_escape_data(message)}"


def student_view(results: Mapping) -> dict:
    """results.json as a student may see it: visible checks only, score over those."""
    tests = [t for t in results.get("tests", []) if t.get("visibility", "visible") == "visible"]
    view = dict(results)
    view["tests"] = tests
    view["score"] = round(sum(float(t["score"]) for t in tests), 4)
    view["max_score"] = round(sum(float(t["max_score"]) for t in tests), 4)
    return view


def annotations(results: Mapping, root: Path, locations: Mapping[str, str | None] = ()) -> list:
    """One ``::error`` line per failing visible check, at the student's file and line (paths
    relative to ``root``, the repository's top, as GitHub expects)."""
    root = Path(root)
    package = find_package(root)
    prefix = package.relative_to(root).as_posix() if package is not None else "assignment"
    lines = []
    for test in student_view(results)["tests"]:
        if test.get("status") != "failed":
            continue
        rel, line = locate(test["name"], dict(locations).get(test["name"]), package)
        file = os.path.normpath(f"{prefix}/{rel}").replace(os.sep, "/")
        first = (test.get("output") or "failed").strip()
        points = f"{test['score']:g}/{test['max_score']:g} points"
        lines.append(annotation(file, line, test["name"], f"{points}\n{first}"))
    return lines


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def run(kind: str, path: Path, out: Path, stream=None) -> int:
    from grader import grade

    stream = stream or sys.stdout
    settings = grade.GradeSettings(public_only=kind == "public")
    try:
        report = grade.grade_submission(path, settings)
    except grade.GradingError as exc:
        print(annotation(".", 1, "nngrade", str(exc)), file=stream)
        return 2
    reports.write_reports(report, out)
    results = student_view(json.loads(gradescope.results_json(report)))
    _write(out / "results.json", json.dumps(results, indent=2) + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown.report_markdown(report) + "\n")
    locations = {c.name: c.location for c in report.checks}
    for line in annotations(results, path, locations):
        print(line, file=stream)
    print(f"{kind} checks: {results['score']:g} / {results['max_score']:g}", file=stream)
    failed = any(t["status"] == "failed" for t in results["tests"])
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.tools.ci",
        description="Grade in a GitHub Actions job of a student repo.",
    )
    parser.add_argument("kind", choices=("public", "full"), help="public checks, or everything")
    parser.add_argument("path", nargs="?", default=".", help="the student's repository")
    parser.add_argument("--out", default="nngrade-results", help="folder for the reports")
    args = parser.parse_args(argv)
    if args.kind == "full" and edition.STUDENT:
        parser.exit(2, "nngrade: `full` grading is for course staff only; here, `public` runs.\n")
    return run(args.kind, Path(args.path), Path(args.out))


if __name__ == "__main__":
    sys.exit(main())
