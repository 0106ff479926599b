"""Build a gaming case as a submission, grade it with the ``nngrade grade`` CLI, read the points.

The grading runs in a subprocess through the command line, exactly as an instructor runs it, so
the suite depends only on the CLI and on ``results.json``, not on the grader's internals.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grader import paths
from grader.course import rubric
from grader.tools.solved import write_solved

from .cases import GIVEN_CODE_POINTS, Case

EXPECTED_PATH = Path(__file__).with_name("expected.json")
PACKAGE = "assignment"
SKIP = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "*.pyd", "build")
REGION = re.compile(
    r"(?P<indent>[ ]*)# \*+START OF YOUR CODE\*+\n[ ]*pass\n(?P=indent)# \*+END OF YOUR CODE\*+\n"
)
MODEL_CELLS = {
    ("untrained", "FullyConnectedNets"): (
        "from a2.classifiers.fc_net import FullyConnectedNet\n\n"
        "best_model = FullyConnectedNet([100, 100], weight_scale=5e-2)\n"
        "mean_image = np.zeros((3, 32, 32))\n"
    ),
    ("untrained", "ConvolutionalNetworks"): (
        "from a2.classifiers.cnn import ThreeLayerConvNet\n\n"
        "one_epoch_model = ThreeLayerConvNet(weight_scale=1e-2)\n"
        "mean_image = np.zeros((3, 32, 32))\n"
    ),
    ("oracle", "FullyConnectedNets"): (
        "from a2.classifiers.fc_net import FullyConnectedNet\n\n"
        "best_model = FullyConnectedNet([100, 100])\n"
        "best_model.prepare(150)\n"
        "mean_image = np.zeros((3, 32, 32))\n"
    ),
    ("oracle", "ConvolutionalNetworks"): (
        "from a2.classifiers.cnn import ThreeLayerConvNet\n\n"
        "one_epoch_model = ThreeLayerConvNet()\n"
        "one_epoch_model.prepare(150)\n"
        "mean_image = np.zeros((3, 32, 32))\n"
    ),
}


def notebooks_dir() -> Path:
    return paths.reference_dir().parent / "notebooks"


def fill_regions(text: str, function: str, snippets: tuple[str, ...], where: str) -> str:
    """Write ``snippets`` into the solution regions of ``function``, one per region, in order."""
    start = text.find(f"\ndef {function}(")
    if start < 0:
        raise AssertionError(f"{where}: no function {function}; update the gaming table")
    following = re.search(r"\n(def|class) ", text[start + 1 :])
    end = start + 1 + following.start() if following else len(text)
    body = text[start:end]
    found = list(REGION.finditer(body))
    if len(found) != len(snippets):
        raise AssertionError(
            f"{where}: {function} has {len(found)} solution regions, the table fills "
            f"{len(snippets)}; update the gaming table"
        )
    pieces, last = [], 0
    for match, snippet in zip(found, snippets, strict=True):
        indent = match["indent"]
        code = "".join(f"{indent}{line}\n" for line in snippet.splitlines())
        pieces += [body[last : match.start()], code]
        last = match.end()
    return text[:start] + "".join(pieces) + body[last:] + text[end:]


def empty_notebooks(root: Path, model: str | None) -> None:
    """Cut every notebook down to its setup cell (and a cell defining the graded model)."""
    for path in sorted(root.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        setup = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        cells = [{**setup, "outputs": [], "execution_count": None}]
        source = MODEL_CELLS.get((model, path.stem))
        if source:
            cells.append({**cells[0], "id": "model", "source": source.splitlines(keepends=True)})
        notebook["cells"] = cells
        path.write_text(json.dumps(notebook, indent=1) + "\n")


def build_submission(case: Case, workdir: Path) -> Path:
    """Write the case as a submission folder under ``workdir`` and return it."""
    root = workdir / "submission"
    if case.base == "solved":
        write_solved(root, PACKAGE)
    else:
        shutil.copytree(paths.assignment_dir(), root / PACKAGE, ignore=SKIP)
        for notebook in sorted(notebooks_dir().glob("*.ipynb")):
            shutil.copyfile(notebook, root / notebook.name)
    package = root / PACKAGE
    for file, function, snippets in case.regions:
        path = package / file
        path.write_text(fill_regions(path.read_text(), function, snippets, case.id))
    for file, code in case.appended:
        path = package / file
        path.write_text(path.read_text() + code)
    for relative, text in case.files:
        (package / relative).write_text(text)
    if case.golden:
        golden = package / "golden"
        golden.mkdir()
        for fixture in sorted((Path(rubric.__file__).parent / "fixtures").glob("*.npz")):
            shutil.copyfile(fixture, golden / fixture.name)
    if case.notebooks == "emptied":
        empty_notebooks(root, case.notebook_model)
    return root


@dataclass(frozen=True)
class Outcome:
    score: float
    max_score: float
    checks: dict[str, float]  # check name -> points earned
    seconds: float

    def points(self, prefix: str) -> float:
        return sum(p for name, p in self.checks.items() if name.startswith(prefix))


def grade(case: Case, workdir: Path) -> Outcome:
    """Grade the case through ``nngrade grade`` (``python -m grader``) and read results.json."""
    submission = build_submission(case, workdir)
    out = workdir / "out"
    command = [sys.executable, "-m", "grader", "grade", str(submission), "--out", str(out)]
    for prefix in case.only:
        command += ["--only", prefix]
    if case.examples is not None:
        command += ["--examples", str(case.examples)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    results_file = out / "results.json"
    if not results_file.exists():
        raise AssertionError(f"{case.id}: nngrade grade wrote no report:\n{done.stderr[-3000:]}")
    results = json.loads(results_file.read_text())
    checks = {t["name"]: float(t["score"]) for t in results["tests"]}
    return Outcome(float(results["score"]), float(results["max_score"]), checks, seconds)


# --- the caps ------------------------------------------------------------------------------------


def graded_items(case: Case) -> list[rubric.Item]:
    return [i for i in rubric.ITEMS if not case.only or i.obj.startswith(case.only)]


def cap(case: Case, item: rubric.Item) -> float:
    """The most ``item`` may earn: the given code's points where the case has no real code."""
    if case.zero_effort or item.obj.startswith(case.targets):
        return min(item.points, GIVEN_CODE_POINTS)
    return item.points


def limits(case: Case) -> dict:
    """The case's entry in expected.json: what is graded and the most it may score."""
    items = graded_items(case)
    prefixes = case.targets or case.only or ("",)
    return {
        "only": list(case.only),
        "max_score": round(sum(cap(case, i) for i in items), 6),
        "max_points": {
            p: round(sum(cap(case, i) for i in items if i.name.startswith(p)), 6) for p in prefixes
        },
        "keeps": sorted(i.name for i in items if cap(case, i) == i.points),
    }
