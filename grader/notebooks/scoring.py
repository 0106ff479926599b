"""Scoring a notebook's model: the thresholds, the cell the grader appends to export the model's
trained parameters, and scoring those parameters in the grader.

The kernel never sees a held-out image: the appended cell saves the parameters of the model the
notebook left (:data:`ModelTarget.variables`, first found) to a file; the grader reads them back
(plain arrays only), loads them into the reference model of the same architecture and counts its
accuracy on the held-out images, after subtracting a mean image it computes itself. Predictions
the notebook's code would return play no part, so a lookup table earns nothing.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.checks.impl import CheckFailure
from grader.checks.training import accuracy, reference_scores
from grader.course import COURSE
from grader.notebooks.settings import HELDOUT_IMAGES

#: What guessing scores on the held-out images (ten classes drawn uniformly).
CHANCE_ACCURACY = 0.10
#: How far below the reference's accuracy a correct implementation may land: the notebooks seed
#: numpy before training, so a correct implementation retraces the reference, and the margin
#: covers floating-point and operation-order differences compounding over training, plus
#: reasonable changes of the FC notebook's hyperparameters (students choose their own).
MARGIN = 0.10
#: Standard errors of guessing above chance a threshold should stay, so that a model that
#: learned nothing (untrained, or broken) fails: with 1000 images, 3 SE is 0.028.
CHANCE_STANDARD_ERRORS = 3.0
#: The least the reference must clear its own threshold by, whatever else gives way: the
#: course's solution always earns full marks.
REFERENCE_MIN_MARGIN = 0.02


def chance_floor(n: int = HELDOUT_IMAGES, chance: float = CHANCE_ACCURACY) -> float:
    """Chance plus a few standard errors of guessing: the lowest informative threshold."""
    return chance + CHANCE_STANDARD_ERRORS * math.sqrt(chance * (1 - chance) / n)


def _down(x: float) -> float:
    return math.floor(round(x * 100, 6)) / 100


def threshold_below(reference_accuracy: float) -> float:
    """The threshold for a model whose reference reaches ``reference_accuracy``.

    ``MARGIN`` below the reference, rounded down to a hundredth, when that stays above
    :func:`chance_floor`. A reference too close to chance for that gets the floor itself, as
    long as it clears it by ``REFERENCE_MIN_MARGIN``; a reference closer still gets
    ``REFERENCE_MIN_MARGIN`` below it, and then the check no longer fails a model that learned
    nothing (:func:`informative` is False, and :func:`calibrate` warns).
    """
    floor = math.ceil(round(chance_floor() * 100, 6)) / 100
    usual = _down(reference_accuracy - MARGIN)
    if usual >= floor:
        return usual
    if reference_accuracy - REFERENCE_MIN_MARGIN >= floor:
        return floor
    return _down(reference_accuracy - REFERENCE_MIN_MARGIN)


def informative(threshold: float) -> bool:
    """Does ``threshold`` fail a model that only guesses?"""
    return threshold >= chance_floor()


@dataclass(frozen=True)
class ModelTarget:
    """A model a notebook must leave behind, scored on held-out images."""

    notebook: str
    variable: str
    rubric_item: str
    #: Accuracy of the course's notebook on the held-out images, from :func:`calibrate`.
    reference_accuracy: float
    #: Accuracy the student's model must reach: ``threshold_below(reference_accuracy)``.
    threshold: float
    #: Names the model may be left under, first found first (``a.b``: attribute b of a).
    variables: tuple[str, ...] = ()
    #: Its architecture: the reference class its parameters are run through.
    model_class: str = ""


#: The models the course's notebooks leave, each with the threshold set below its reference.
MODEL_TARGETS: dict[str, ModelTarget] = {
    m.notebook: ModelTarget(
        m.notebook,
        m.variable,
        m.rubric_item,
        m.reference_accuracy,
        threshold_below(m.reference_accuracy),
        tuple(COURSE.notebooks.MODEL_VARIABLES.get(m.notebook, (m.variable,))),
        COURSE.notebooks.MODEL_CLASSES[m.notebook],
    )
    for m in COURSE.notebooks.MODELS
}

#: The most a saved model may weigh, and the most arrays it may hold.
MAX_STATE_BYTES = 512 << 20
MAX_STATE_ARRAYS = 4096
#: The key of the saved file naming the variable the model was found under.
FOUND_KEY = "nngrade.variable"


@dataclass
class ModelScore:
    """The accuracy of a notebook's model on the held-out images, or why there is none."""

    target: ModelTarget
    accuracy: float | None = None
    problem: str | None = None
    images: int = 0
    variable: str | None = None  # the name the model was found under


def export_source(target: ModelTarget, state_file: str) -> str:
    """The cell the grader appends: save the trained state of the first of ``target.variables``
    the notebook left, as plain arrays, to ``state_file`` (no scores are computed here)."""
    attrs = tuple(COURSE.training.STATE_ATTRIBUTES)
    return f"""\
def _nngrade_export():
    import numpy
    names = globals()
    model = found = None
    for path in {target.variables!r}:
        head, *rest = path.split(".")
        obj = names.get(head)
        for part in rest:
            obj = getattr(obj, part, None)
        if obj is not None and isinstance(getattr(obj, "params", None), dict):
            model, found = obj, path
            break
    if model is None:
        raise NameError("none of {", ".join(target.variables)} holds a trained model (with "
                        ".params) at the end of the notebook")
    arrays = {{{FOUND_KEY!r}: numpy.frombuffer(found.encode(), dtype=numpy.uint8)}}
    for attr in {attrs!r}:
        value = getattr(model, attr, None)
        if isinstance(value, dict):
            entries = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            entries = [(f"{{i}}.{{k}}", v) for i, d in enumerate(value) if isinstance(d, dict)
                       for k, v in d.items()]
        else:
            entries = []
        for key, item in entries:
            if isinstance(item, (numpy.ndarray, numpy.generic, int, float)) and not isinstance(
                item, bool
            ):
                item = numpy.asarray(item)
                if item.dtype.kind in "fiu":
                    arrays[f"{{attr}}.{{key}}"] = item
    with open({state_file!r}, "wb") as fh:
        numpy.savez(fh, **arrays)
_nngrade_export()
del _nngrade_export
"""


def read_state(path: Path) -> tuple[str | None, dict[str, np.ndarray]]:
    """The variable name and the arrays the kernel saved; raises ValueError saying what is wrong.

    The file is an uncompressed ``.npz`` written by hostile code: it is size-checked as a whole
    and per member before anything is read, and nothing is unpickled.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ValueError(f"no model was saved ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STATE_BYTES:
            raise ValueError("the saved model is not a plain file of a sensible size")
        if info.st_size == 0:
            raise ValueError("no model was saved")
        try:
            archive = zipfile.ZipFile(fh)
            members = archive.infolist()
        except Exception as exc:  # not a zip: anything zipfile may raise
            raise ValueError(f"the saved model could not be read ({type(exc).__name__})") from None
        with archive:
            if len(members) > MAX_STATE_ARRAYS or any(
                m.compress_type != zipfile.ZIP_STORED or m.file_size > MAX_STATE_BYTES
                for m in members
            ):
                raise ValueError("the saved model is not a plain array file")
            arrays = {}
            try:
                for member in members:
                    if not member.filename.endswith(".npy"):
                        continue
                    with archive.open(member) as data:
                        value = np.lib.format.read_array(data, allow_pickle=False)
                    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
                        arrays[member.filename[: -len(".npy")]] = value
            except Exception as exc:  # a malformed member: anything numpy may raise
                raise ValueError(
                    f"the saved model could not be read ({type(exc).__name__})"
                ) from None
    found = arrays.pop(FOUND_KEY, None)
    name = None
    if found is not None and found.dtype == np.uint8 and found.size <= 200:
        name = found.tobytes().decode("ascii", errors="replace")
    return name, arrays


def score_state(
    score: ModelScore, state_file: Path, images: np.ndarray, labels: np.ndarray
) -> None:
    """Fill ``score`` from the saved model: its accuracy on ``images`` (raw pixels; the grader's
    mean image is subtracted here), run through the reference of ``score.target.model_class``."""
    from grader.notebooks.heldout import mean_image

    try:
        name, state = read_state(state_file)
    except ValueError as exc:
        score.problem = str(exc)
        return
    if name in score.target.variables:
        score.variable = name
    X = np.asarray(images, dtype=np.float64) - mean_image()
    try:
        score.accuracy = accuracy(reference_scores(score.target.model_class, state, X), labels)
    except CheckFailure as exc:
        score.problem = str(exc).rstrip(".")
        return
    score.images = len(labels)
