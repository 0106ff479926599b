"""Points only for working code, end to end: a constant forward and a classic-only function.

Both submissions are the solved one with one function replaced; each is graded through the CLI
twice, as a student's public run and as a full grading, on the objects concerned only.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import rubric
from grader.tools.solved import write_solved

ZERO_RELU = """

def relu_forward(x):
    return np.zeros_like(x), x
"""

CLASSIC_ONLY_AFFINE = """

_affine_forward_right = affine_forward


def affine_forward(x, w, b):
    out, cache = _affine_forward_right(x, w, b)
    if x.shape != (2, 4, 5, 6):  # only the notebook's input is computed; anything else is 0
        out = np.zeros_like(out)
    return out, cache
"""


def _submission(root: Path, appended: str) -> Path:
    write_solved(root)
    layers = root / "assignment" / "layers.py"
    layers.write_text(layers.read_text() + appended)
    return root


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, check=False
    )


def _graded(submission: Path, out: Path, only: str) -> dict:
    done = _run("grade", str(submission), "--out", str(out), "--only", only, "--examples", "2")
    assert (out / "results.json").exists(), done.stderr[-2000:]
    tests = json.loads((out / "results.json").read_text())["tests"]
    return {t["name"]: t for t in tests}


def test_a_backward_is_not_checked_against_a_constant_forward(tmp_path):
    submission = _submission(tmp_path / "zero_relu", ZERO_RELU)
    name = f"layers.relu_backward {rubric.GRADIENT}"

    public = _run("check", str(submission), "--only", "layers.relu_backward")
    assert public.returncode == 1
    assert "returns only zeros" in public.stdout

    full = _graded(submission, tmp_path / "out", "layers.relu_backward")
    assert full[name]["score"] == full[name]["max_score"] > 0  # the backward itself is right
    assert "course's layers.relu_forward" in full[name]["output"]


@pytest.mark.parametrize("only", ["layers.affine_forward"])
def test_expected_values_need_an_unseen_input_in_a_full_grading(tmp_path, only):
    submission = _submission(tmp_path / "classic_only", CLASSIC_ONLY_AFFINE)
    name = f"{only} {rubric.EXPECTED}"

    public = _run("check", str(submission), "--only", only)
    assert public.returncode == 0, public.stdout[-2000:]  # the classic input is right

    full = _graded(submission, tmp_path / "out", only)
    assert full[name]["score"] == 0
    assert "published expected values" in full[name]["output"]


def test_unseen_inputs_keep_the_classic_conditioning_beside_the_drawn_ones():
    # A drawn input alone can be degenerate: scores of scale 100 on N=1 saturate the softmax, and
    # zeros then match the reference's loss and gradient.
    from grader.checks import scenario as scenarios
    from grader.checks.public.check_expected import unseen_inputs

    case = scenarios.REGISTRY["layers.softmax_loss"]
    unseen = unseen_inputs(case)
    assert unseen[0] == {**case.classic, "seed": case.classic["seed"] + 1009}
    assert len(unseen) > 1 and case.classic not in unseen
