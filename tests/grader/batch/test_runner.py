"""grade-all: discovery, resuming, failure rows, the gradebook, the TA answers file, the CLI.

Most tests replace the grading command by tiny Python programs (a grader that hangs, crashes or
writes a fixed results.json), so every outcome is exercised in well under a second. The end-to-
end test grades 20 real submissions (solved, buggy, broken, hostile) with ``--only
layers.affine``, interrupts the batch with SIGINT, resumes it, and checks the gradebook.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch import answers, gradebook, process, records, runner
from grader.batch.answers import load_answers, merge_answers, write_answers
from grader.batch.progress import Progress
from grader.batch.records import ANSWERS_JSON, GRADED, BatchOptions, Record, Submission
from grader.batch.records import TIMEOUT as TIMED_OUT
from grader.tools.solved import write_solved

# ---------------------------------------------------------------------------------------------
# Fake graders
# ---------------------------------------------------------------------------------------------


def _program(body: str):
    """A grading command running ``body`` with ``out`` (the report folder) and ``sub`` set."""

    def command(sub: Submission, work: Path) -> list[str]:
        prelude = f"import json, os, sys, time; out = {str(work)!r}; sub = {str(sub.path)!r}\n"
        return [sys.executable, "-c", prelude + body]

    return command


def _results(score: float, max_score: float = 2.0) -> str:
    tests = [
        {"name": "layers.affine_forward expected values", "score": min(score, 1.0)},
        {"name": "layers.relu_forward expected values", "score": max(score - 1.0, 0.0)},
    ]
    for t in tests:
        t.update(max_score=1, status="passed" if t["score"] == 1 else "failed")
    return json.dumps({"score": score, "max_score": max_score, "tests": tests})


WRITES_RESULTS = (
    "score = float(open(os.path.join(sub, 'score.txt')).read())\n"
    "data = json.loads(" + repr(_results(0)) + ")\n"
    "data['score'] = score\n"
    "data['tests'][0]['score'] = min(score, 1.0)\n"
    "data['tests'][1]['score'] = max(score - 1.0, 0.0)\n"
    "open(os.path.join(out, 'results.json'), 'w').write(json.dumps(data))\n"
)


def _fake_class(root: Path, scores: dict[str, float]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for student, score in scores.items():
        (root / student).mkdir()
        (root / student / "score.txt").write_text(str(score))
    return root


# ---------------------------------------------------------------------------------------------
# Discovery and fingerprints
# ---------------------------------------------------------------------------------------------


def test_discover_names_folders_and_zips_and_skips_hidden_and_output(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob.zip").write_bytes(b"not really")
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol.zip").write_bytes(b"")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "reports").mkdir()
    subs = records.discover(tmp_path, exclude=[tmp_path / "reports"])
    assert [(s.student, s.path.name) for s in subs] == [
        ("alice", "alice"),
        ("bob", "bob.zip"),
        ("carol", "carol"),
        ("carol.zip", "carol.zip"),
    ]


def test_fingerprint_follows_content_not_time(tmp_path):
    sub = tmp_path / "s"
    (sub / "assignment").mkdir(parents=True)
    (sub / "assignment" / "layers.py").write_text("x = 1\n")
    first = records.fingerprint(sub)
    os.utime(sub / "assignment" / "layers.py", (1, 1))
    (sub / "assignment" / "__pycache__").mkdir()
    (sub / "assignment" / "__pycache__" / "layers.pyc").write_bytes(b"junk")
    assert records.fingerprint(sub) == first
    (sub / "assignment" / "layers.py").write_text("x = 2\n")
    assert records.fingerprint(sub) != first


def test_is_current_rules():
    options = BatchOptions(only=("layers",))
    record = Record("a", "a", records.TIMEOUT, fingerprint="f", settings=options.settings_key())
    assert records.is_current(record, "f", options)
    assert not records.is_current(record, "g", options)  # resubmitted
    assert not records.is_current(record, "f", BatchOptions(only=("optim",)))  # other settings
    assert not records.is_current(record, "f", BatchOptions(only=("layers",), force=True))
    assert not records.is_current(record, "f", BatchOptions(only=("layers",), retry_failed=True))
    assert not records.is_current(None, "f", options)


# ---------------------------------------------------------------------------------------------
# One submission in its own process: every outcome
# ---------------------------------------------------------------------------------------------


def _grade_one(tmp_path: Path, body: str, timeout: float = 30.0) -> Record:
    sub = Submission("eve", tmp_path / "eve")
    sub.path.mkdir(exist_ok=True)
    (sub.path / "score.txt").write_text("1.5")
    out = tmp_path / "out"
    record = process.grade_one(sub, out, BatchOptions(timeout=timeout), command=_program(body))
    assert record is not None
    assert Record.load(out / "eve") == record  # what was returned is what was installed
    assert not any((out / records.PARTIAL).iterdir())  # no work folder left behind
    return record


def test_a_report_gives_a_graded_row(tmp_path):
    record = _grade_one(tmp_path, WRITES_RESULTS)
    assert (record.status, record.score, record.max_score) == (records.GRADED, 1.5, 2.0)
    assert record.tests == {
        "layers.affine_forward expected values": 1.0,
        "layers.relu_forward expected values": 0.5,
    }


def test_a_hanging_grader_is_stopped_at_the_timeout(tmp_path):
    started = time.monotonic()
    record = _grade_one(tmp_path, "time.sleep(60)", timeout=1.0)
    assert time.monotonic() - started < 20
    assert record.status == records.TIMEOUT
    assert "longer than 1 s" in record.reason


def test_an_ungradable_submission_gets_its_reason(tmp_path):
    body = "print('nngrade: unreadable archive eve.zip', file=sys.stderr); sys.exit(2)"
    record = _grade_one(tmp_path, body)
    assert record.status == records.UNGRADABLE
    assert record.reason == "unreadable archive eve.zip"


def test_a_grader_that_dies_gives_a_crashed_row(tmp_path):
    record = _grade_one(tmp_path, "print('about to go'); os._exit(3)")
    assert record.status == records.CRASHED
    assert "exit status 3" in record.reason and "about to go" in record.reason
    record = _grade_one(tmp_path, "os.kill(os.getpid(), 9)")
    assert record.status == records.CRASHED and "SIGKILL" in record.reason


def test_exit_zero_without_results_is_a_crash(tmp_path):
    record = _grade_one(tmp_path, "pass")
    assert record.status == records.CRASHED
    assert "results.json" in record.reason


def test_regrading_replaces_the_folder_whole(tmp_path):
    _grade_one(tmp_path, WRITES_RESULTS)
    (tmp_path / "out" / "eve" / "stale.txt").write_text("from the first grading")
    record = _grade_one(tmp_path, "sys.exit(2)")
    assert record.status == records.UNGRADABLE
    assert not (tmp_path / "out" / "eve" / "stale.txt").exists()
    assert not (tmp_path / "out" / "eve" / "results.json").exists()


# ---------------------------------------------------------------------------------------------
# Batches with fake graders: resuming, forcing, leftovers
# ---------------------------------------------------------------------------------------------


def _run(subs: Path, out: Path, options: BatchOptions, body: str = WRITES_RESULTS):
    return runner.grade_all(subs, out, options, stream=io.StringIO(), command=_program(body))


def _read_gradebook(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_batch_resumes_skips_finished_and_regrades_changed(tmp_path):
    subs = _fake_class(tmp_path / "subs", {"ann": 2, "ben": 1, "cat": 0.5, "dan": 0})
    out = tmp_path / "out"
    options = BatchOptions(jobs=2)
    log = io.StringIO()
    summary = runner.grade_all(subs, out, options, stream=log, command=_program(WRITES_RESULTS))
    assert (summary.graded_now, summary.skipped, summary.interrupted) == (4, 0, False)
    book = _read_gradebook(out / records.GRADEBOOK)
    assert {s: row["total"] for s, row in book.items()} == {
        "ann": "2",
        "ben": "1",
        "cat": "0.5",
        "dan": "0",
    }
    assert book["cat"]["layers.affine_forward expected values"] == "0.5"
    assert "4/4" in log.getvalue() and "ETA" in log.getvalue()

    stamps = {s: (out / s / records.RECORD).stat().st_mtime_ns for s in book}
    (subs / "ben" / "score.txt").write_text("2")  # ben resubmits
    summary = runner.grade_all(
        subs, out, options, stream=io.StringIO(), command=_program(WRITES_RESULTS)
    )
    assert (summary.graded_now, summary.skipped) == (1, 3)
    assert _read_gradebook(out / records.GRADEBOOK)["ben"]["total"] == "2"
    for student in ("ann", "cat", "dan"):
        assert (out / student / records.RECORD).stat().st_mtime_ns == stamps[student]

    forced = BatchOptions(jobs=2, force=True)
    summary = runner.grade_all(
        subs, out, forced, stream=io.StringIO(), command=_program(WRITES_RESULTS)
    )
    assert (summary.graded_now, summary.skipped) == (4, 0)


def test_retry_failed_regrades_only_rows_without_a_report(tmp_path):
    subs = _fake_class(tmp_path / "subs", {"ann": 2, "ben": 1})
    out = tmp_path / "out"
    flaky = "if 'ben' in sub: sys.exit(7)\n" + WRITES_RESULTS
    runner.grade_all(subs, out, BatchOptions(), stream=io.StringIO(), command=_program(flaky))
    book = _read_gradebook(out / records.GRADEBOOK)
    assert (book["ben"]["status"], book["ben"]["total"]) == ("crashed", "0")
    assert book["ben"]["layers.affine_forward expected values"] == ""
    assert "exit status 7" in book["ben"]["reason"]

    summary = runner.grade_all(
        subs, out, BatchOptions(), stream=io.StringIO(), command=_program(WRITES_RESULTS)
    )
    assert summary.graded_now == 0  # a failure is a finished outcome too
    retry = BatchOptions(retry_failed=True)
    summary = runner.grade_all(
        subs, out, retry, stream=io.StringIO(), command=_program(WRITES_RESULTS)
    )
    assert (summary.graded_now, summary.skipped) == (1, 1)
    assert _read_gradebook(out / records.GRADEBOOK)["ben"]["status"] == "graded"


def test_leftovers_of_a_crashed_run_are_cleaned_and_regraded(tmp_path):
    subs = _fake_class(tmp_path / "subs", {"ann": 2, "ben": 1})
    out = tmp_path / "out"
    (out / records.PARTIAL / "ann.x1").mkdir(parents=True)  # a grading that was running
    (out / "ben").mkdir()  # a folder without batch.json is not finished
    (out / "ben" / "results.json").write_text(_results(2))
    summary = runner.grade_all(
        subs, out, BatchOptions(), stream=io.StringIO(), command=_program(WRITES_RESULTS)
    )
    assert summary.graded_now == 2
    assert not (out / records.PARTIAL).exists()
    assert _read_gradebook(out / records.GRADEBOOK)["ben"]["total"] == "1"


def test_ctrl_c_keeps_finished_results_and_the_gradebook(tmp_path):
    """An in-process interrupt: the first submission finishes, the second hangs until Ctrl-C."""
    subs = _fake_class(tmp_path / "subs", {"ann": 2, "ben": 1})
    out = tmp_path / "out"
    body = "if 'ben' in sub: time.sleep(60)\n" + WRITES_RESULTS

    def interrupt_when_ann_is_done():
        deadline = time.monotonic() + 20
        while not (out / "ann" / records.RECORD).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt_when_ann_is_done)
    thread.start()
    started = time.monotonic()
    summary = runner.grade_all(
        subs, out, BatchOptions(jobs=2), stream=io.StringIO(), command=_program(body)
    )
    thread.join()
    assert summary.interrupted
    assert time.monotonic() - started < 30  # ben's grader was killed, not waited for
    assert list(_read_gradebook(out / records.GRADEBOOK)) == ["ann"]
    assert not (out / "ben").exists()


# ---------------------------------------------------------------------------------------------
# Gradebook, answers, progress, parser
# ---------------------------------------------------------------------------------------------


def test_gradebook_orders_columns_by_rubric_and_fills_failure_rows():
    graded = Record("ann", "ann", records.GRADED, score=2.5, max_score=2.5, seconds=1.25)
    graded.tests = {
        "layers.relu_forward expected values": 0.5,
        "layers.affine_forward expected values": 1.0,
        "notebook.Extra something new": 1.0,
    }
    failed = Record("bob", "bob.zip", records.UNGRADABLE, reason="corrupt archive, member x")
    text = gradebook.gradebook_csv([graded, failed], BatchOptions(only=("layers.affine",)))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "student",
        "status",
        "total",
        "max_score",
        "layers.affine_forward expected values",
        "layers.relu_forward expected values",
        "notebook.Extra something new",
        "seconds",
        "reason",
    ]
    assert rows[1] == ["ann", "graded", "2.5", "2.5", "1", "0.5", "1", "1.2", ""]
    # layers.affine has 1 + 1 + 1.5 + 1.5 points in the rubric
    assert rows[2] == [
        "bob",
        "ungradable",
        "0",
        "5",
        "",
        "",
        "",
        "0.0",
        "corrupt archive, member x",
    ]


def test_merge_answers_from_answers_json_files(tmp_path):
    out = tmp_path / "out"
    files = {
        "ann": {"dropout-q1": "Scaling keeps the expectation.", "fc-nets-q1": "# Heading\nTwo"},
        "ben": {"Dropout": {"dropout-q1": "Because of p."}},  # grouped by notebook
        "cat": {"fc-nets-q1": ""},
    }
    records = []
    for student, data in files.items():
        (out / student).mkdir(parents=True)
        (out / student / ANSWERS_JSON).write_text(json.dumps(data))
        records.append(Record(student, student, GRADED))
    (out / "dan").mkdir()
    (out / "dan" / ANSWERS_JSON).write_text("{not json")
    records.append(Record("dan", "dan", GRADED))
    records.append(Record("eve", "eve", TIMED_OUT))  # no report: not listed

    answers = {r.student: load_answers(out / r.student / ANSWERS_JSON) for r in records[:4]}
    assert answers["ben"] == {"dropout-q1": "Because of p."}
    assert answers["dan"] == {}
    text = merge_answers(
        answers, order=["fc-nets-q1", "dropout-q1"], questions={"dropout-q1": "Why divide by p?"}
    )
    assert text.index("## fc-nets-q1") < text.index("## dropout-q1")
    dropout = text[text.index("## dropout-q1") :]
    assert dropout.index("> Why divide by p?") < dropout.index("### ann")
    assert "### ann\n\n> Scaling keeps the expectation." in dropout
    assert "### ben\n\n> Because of p." in dropout
    assert "### cat\n\n*(no answer)*" in dropout and "### dan\n\n*(no answer)*" in dropout
    fc = text[text.index("## fc-nets-q1") : text.index("## dropout-q1")]
    assert "> # Heading\n> Two" in fc  # a student's heading stays inside the quote
    assert "### cat\n\n*(no answer)*" in fc

    path = write_answers(records, out)
    written = path.read_text()
    assert "### ann" in written and "### eve" not in written
    assert "Because of p." in written


def test_merge_answers_without_any():
    assert "No submission carried notebook answers." in answers.merge_answers({})


def test_progress_eta_uses_the_pace_of_this_run():
    now = [100.0]
    stream = io.StringIO()
    progress = Progress(total=10, skipped=4, stream=stream, clock=lambda: now[0])
    progress.start()
    assert "4 of 10 already graded" in stream.getvalue()
    assert progress.eta() is None
    now[0] = 130.0
    progress.update(Record("ann", "ann", records.GRADED, score=3, max_score=5))
    assert progress.eta() == pytest.approx(150.0)  # 30 s each, 5 left
    now[0] = 140.0
    progress.update(Record("ben", "ben", records.CRASHED))
    assert progress.eta() == pytest.approx(80.0)  # 20 s each, 4 left
    lines = stream.getvalue().splitlines()
    assert "5/10" in lines[1] and "ETA 02:30" in lines[1] and "last: ann 3/5" in lines[1]
    assert "6/10" in lines[2] and "1 failed" in lines[2] and "ETA 01:20" in lines[2]
    assert "last: ben crashed" in lines[2]


def test_register_builds_the_grade_all_parser():
    parser = argparse.ArgumentParser()
    runner.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["grade-all", "subs", "--out", "o", "-j", "3", "--only", "layers", "--only", "optim"]
        + ["--timeout", "60", "--force", "--examples", "5", "--scheduler", "tcp://h:8786"]
    )
    options = runner.options_from_args(args)
    assert options == BatchOptions(
        jobs=3, timeout=60, only=("layers", "optim"), examples=5, force=True
    )
    assert args.scheduler == "tcp://h:8786" and args.func is runner.run
    assert options.grade_args() == ["--only", "layers", "--only", "optim", "--examples", "5"]
    with pytest.raises(SystemExit):
        parser.parse_args(["grade-all", "subs"])  # --out is required


def test_run_refuses_a_missing_folder(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    runner.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grade-all", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert args.func(args) == 2
    assert "not a folder of submissions" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# End to end: 20 real submissions, interrupted once and resumed
# ---------------------------------------------------------------------------------------------

AFFINE = "layers.affine"
FWD_EXPECTED = "layers.affine_forward expected values"
BWD_NUMERIC = "layers.affine_backward agrees with the numeric gradient of your forward pass"
BWD_REFERENCE = "layers.affine_backward matches the reference on random inputs"
TIMEOUT = 30.0  # far above a real grading here, far below the 80 s a looping function costs


def _edit(package: Path, old: str, new: str, file: str = "layers.py") -> None:
    path = package / file
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _zip(folder: Path, target: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())


def _make_class(root: Path, solved: Path) -> dict[str, str]:
    """20 submissions; returns each student's kind."""
    kinds = {}

    def folder(name: str, kind: str, package: str = "assignment") -> Path:
        target = root / name
        shutil.copytree(solved / "assignment", target / package)
        kinds[name] = kind
        return target / package

    for i in range(6):
        folder(f"solved_{i}", "solved")
    folder("solved_cs231n", "solved", package="cs231n")
    wrapped = root / "solved_wrapped"
    shutil.copytree(solved / "assignment", wrapped / "my-work" / "assignment")
    kinds["solved_wrapped"] = "solved"
    for i in range(3):
        _zip(solved, root / f"zipped_{i}.zip", prefix="submission/" if i == 0 else "")
        kinds[f"zipped_{i}"] = "solved"

    for i in range(2):
        pkg = folder(f"buggy_fwd_{i}", "buggy_forward")
        _edit(pkg, "out = x.reshape(x.shape[0], -1) @ w + b", "out = x.reshape(x.shape[0], -1) @ w")
    pkg = folder("buggy_bwd", "buggy_backward")
    _edit(pkg, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")
    pkg = folder("broken_syntax", "zero")
    _edit(pkg, "def affine_forward(x, w, b):", "def affine_forward(x, w, b)")
    pkg = folder("hostile_exit", "zero")
    (pkg / "layers.py").write_text("import os\nos._exit(3)\n" + (pkg / "layers.py").read_text())
    pkg = folder("aaa_hostile_loop", "timeout")  # sorts first, so its 30 s overlap the rest
    # A loop in the function (not at import, which the grader stops retrying after one timeout)
    # costs a call timeout in each of the four affine checks: past grade-all's limit.
    _edit(pkg, "out = x.reshape(x.shape[0], -1) @ w + b", "while True:\n        pass")

    (root / "broken_zip.zip").write_bytes(b"PK\x03\x04 this is not an archive")
    kinds["broken_zip"] = "ungradable"
    with zipfile.ZipFile(root / "no_package.zip", "w") as archive:
        archive.writestr("README.txt", "I forgot my code")
    kinds["no_package"] = "zero"
    (root / "empty").mkdir()
    kinds["empty"] = "zero"
    assert len(kinds) == 20
    return kinds


def _grade_all_process(subs: Path, out: Path, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "grader.batch.runner", str(subs), "--out", str(out)]
    cmd += ["--jobs", "4", "--only", AFFINE, "--timeout", str(TIMEOUT)]
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _finished(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob(f"*/{records.RECORD}")}


@pytest.mark.slow
def test_twenty_mixed_submissions_interrupted_and_resumed(tmp_path):
    solved = write_solved(tmp_path / "solved")
    subs = tmp_path / "subs"
    subs.mkdir()
    kinds = _make_class(subs, solved)
    out = tmp_path / "out"

    # First run: interrupted with SIGINT, as Ctrl-C would, once a few submissions finished.
    proc = _grade_all_process(subs, out, tmp_path / "run1.log")
    deadline = time.monotonic() + 120
    while len(_finished(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, (tmp_path / "run1.log").read_text()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == records.INTERRUPTED_EXIT, (tmp_path / "run1.log").read_text()
    first = _finished(out)
    assert 3 <= len(first) < 20
    assert set(_read_gradebook(out / records.GRADEBOOK)) == first  # what finished is kept
    assert not (out / records.PARTIAL).exists() or not any((out / records.PARTIAL).iterdir())
    stamps = {s: (out / s / records.RECORD).stat().st_mtime_ns for s in first}

    # Second run: resumes, skipping what finished.
    proc = _grade_all_process(subs, out, tmp_path / "run2.log")
    assert proc.wait(timeout=240) == 0, (tmp_path / "run2.log").read_text()
    log = (tmp_path / "run2.log").read_text()
    assert f"{len(first)} of 20 already graded" in log
    assert f"{20 - len(first)} graded now" in log
    for student in first:
        assert (out / student / records.RECORD).stat().st_mtime_ns == stamps[student]

    book = _read_gradebook(out / records.GRADEBOOK)
    assert sorted(book) == sorted(kinds)  # complete: one row per student
    for student, kind in kinds.items():
        row = book[student]
        assert row["max_score"] == "5", (student, row)
        if row["status"] == records.GRADED:  # the row repeats the student's own results.json
            data = json.loads((out / student / "results.json").read_text())
            assert float(row["total"]) == data["score"]
            for test in data["tests"]:
                assert float(row[test["name"]]) == test["score"]
        if kind == "solved":
            assert (row["status"], row["total"]) == ("graded", "5"), (student, row)
        elif kind == "buggy_forward":
            assert row["status"] == "graded" and float(row["total"]) < 5
            assert row[FWD_EXPECTED] == "0"
        elif kind == "buggy_backward":
            assert row["status"] == "graded" and row[FWD_EXPECTED] == "1"
            assert row[BWD_NUMERIC] == "0" and row[BWD_REFERENCE] == "0"
        elif kind == "zero":
            assert row["total"] == "0" and row["status"] in ("graded", "ungradable"), row
        elif kind == "timeout":
            assert (row["status"], row["total"]) == ("timeout", "0")
            assert f"longer than {TIMEOUT:g} s" in row["reason"]
        elif kind == "ungradable":
            assert (row["status"], row["total"]) == ("ungradable", "0")
            assert "zip" in row["reason"] and row[FWD_EXPECTED] == ""
    assert (out / records.ANSWERS_MD).is_file()


def test_two_batches_never_share_an_output_folder(tmp_path):
    subs = _fake_class(tmp_path / "subs", {"ann": 2})
    out = tmp_path / "out"
    out.mkdir()
    with runner.exclusive(out):
        with pytest.raises(runner.BatchError, match="another grade-all"):
            _run(subs, out, BatchOptions())
    assert _run(subs, out, BatchOptions()).graded_now == 1  # free again once the first ends
