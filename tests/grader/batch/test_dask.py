"""grade-all --scheduler: submissions travel as bytes to Dask workers that grade them in their
own grading process; results come back and are put in place as a local batch would."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.batch import records, runner
from grader.batch.records import BatchOptions
from grader.tools.solved import write_solved

distributed_mod = pytest.importorskip(
    "distributed", reason="Dask distributed is not installed: pip install 'nngrade[distributed]'"
)
from grader.batch import dask as distributed  # noqa: E402


def test_pack_and_unpack_round_trip_folders_and_archives(tmp_path):
    folder = tmp_path / "alice"
    (folder / "assignment" / "__pycache__").mkdir(parents=True)
    (folder / "assignment" / "layers.py").write_text("x = 1\n")
    (folder / "assignment" / "__pycache__" / "layers.pyc").write_bytes(b"junk")
    (folder / "Dropout.ipynb").write_text("{}")
    (folder / "link.py").symlink_to("/etc/passwd")
    payload, is_archive = distributed.pack(folder)
    assert not is_archive
    copy = distributed.unpack("alice", payload, is_archive, tmp_path / "remote")
    assert copy == tmp_path / "remote" / "alice"
    files = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert files == ["Dropout.ipynb", "assignment/layers.py"]  # no cache, no symlink
    assert (copy / "assignment" / "layers.py").read_text() == "x = 1\n"

    broken = tmp_path / "bob.zip"
    broken.write_bytes(b"PK\x03\x04 not an archive")
    payload, is_archive = distributed.pack(broken)
    assert is_archive and payload == broken.read_bytes()  # sent as it is, broken or not
    again = distributed.unpack("bob.zip", payload, is_archive, tmp_path / "remote")
    assert again.read_bytes() == broken.read_bytes()


def test_a_worker_with_another_version_refuses():
    with pytest.raises(RuntimeError, match="nngrade"):
        distributed.grade_remote("a", b"", True, {}, "0.0.0-other")


@pytest.mark.slow
def test_grade_all_on_a_local_cluster(tmp_path):
    solved = write_solved(tmp_path / "solved")
    subs = tmp_path / "subs"
    shutil.copytree(solved, subs / "alice")
    shutil.copytree(solved, tmp_path / "bob")
    layers = tmp_path / "bob" / "assignment" / "layers.py"
    text = layers.read_text()
    old = "out = x.reshape(x.shape[0], -1) @ w + b"
    assert text.count(old) == 1
    layers.write_text(text.replace(old, "out = x.reshape(x.shape[0], -1) @ w"))
    with zipfile.ZipFile(subs / "bob.zip", "w") as archive:
        for file in sorted((tmp_path / "bob").rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(tmp_path / "bob").as_posix())
    (subs / "carol.zip").write_bytes(b"garbage")

    options = BatchOptions(only=("layers.affine",), timeout=120)
    out = tmp_path / "out"
    cluster = distributed_mod.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        log = io.StringIO()
        summary = runner.grade_all(
            subs, out, options, scheduler=cluster.scheduler_address, stream=log
        )
        assert (summary.total, summary.graded_now, summary.failed) == (3, 3, 1)
        again = runner.grade_all(subs, out, options, scheduler=cluster.scheduler_address)
        assert (again.graded_now, again.skipped) == (0, 3)  # resuming works the same
    finally:
        cluster.close()

    with (out / records.GRADEBOOK).open(newline="") as handle:
        book = {row["student"]: row for row in csv.DictReader(handle)}
    assert (book["alice"]["status"], book["alice"]["total"]) == ("graded", "5")
    assert book["bob"]["status"] == "graded" and float(book["bob"]["total"]) < 5
    assert book["bob"]["layers.affine_forward expected values"] == "0"
    assert book["carol"]["status"] == "ungradable"
    # The reason names the submission, not the worker's scratch folder.
    assert "carol.zip" in book["carol"]["reason"] and "nngrade-task" not in book["carol"]["reason"]
    for student in ("alice", "bob"):
        files = {p.name for p in (out / student).iterdir()}
        assert {"results.json", "report.md", "junit.xml", records.RECORD, records.LOG} <= files
    assert Path(records.Record.load(out / "alice").submission) == subs / "alice"
