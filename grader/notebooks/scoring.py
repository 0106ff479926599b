"""Scoring a notebook's model: the thresholds, the cell the grader appends to get the model's
scores on held-out images, and reading those scores back.
"""

from __future__ import annotations

import io
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.course import COURSE
from grader.notebooks.heldout import NUM_CLASSES
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


#: The models the course's notebooks leave, each with the threshold set below its reference.
MODEL_TARGETS: dict[str, ModelTarget] = {
    m.notebook: ModelTarget(
        m.notebook,
        m.variable,
        m.rubric_item,
        m.reference_accuracy,
        threshold_below(m.reference_accuracy),
    )
    for m in COURSE.notebooks.MODELS
}


@dataclass
class ModelScore:
    """The accuracy of a notebook's model on the held-out images, or why there is none."""

    target: ModelTarget
    accuracy: float | None = None
    problem: str | None = None
    images: int = 0


def scoring_source(target: ModelTarget, heldout: str, scores: str, batch: int = 200) -> str:
    """The cell the grader appends: score ``target.variable`` on the held-out images."""
    model, mean = target.variable, COURSE.notebooks.MEAN_IMAGE_VARIABLE
    return f"""\
def _nngrade_score():
    import numpy
    names = globals()
    for name in ({model!r}, {mean!r}):
        if name not in names:
            raise NameError(f"{{name}} is not defined at the end of the notebook")
    images = numpy.load({heldout!r}, allow_pickle=False).astype(numpy.float64)
    images = images - numpy.asarray(names[{mean!r}])
    model = names[{model!r}]
    chunks = [numpy.asarray(model.loss(images[i:i + {batch}]))
              for i in range(0, len(images), {batch})]
    numpy.save({scores!r}, numpy.concatenate(chunks))
_nngrade_score()
del _nngrade_score
"""


def read_scores(path: Path, count: int) -> np.ndarray:
    """The scores the kernel saved, checked; raises ValueError saying what is wrong."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ValueError(f"no scores were saved ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        limit = count * NUM_CLASSES * 16 + 4096
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise ValueError("the saved scores are not a plain array of the expected size")
        data = fh.read(limit + 1)
    if not data:
        raise ValueError("no scores were saved")
    try:
        scores = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # a malformed file: anything np.load may raise
        raise ValueError(f"the saved scores could not be read ({type(exc).__name__})") from None
    if not isinstance(scores, np.ndarray) or scores.dtype.kind not in "fiu":
        raise ValueError(
            f"model.loss(X) returned {getattr(scores, 'dtype', type(scores).__name__)} values, "
            "not numbers"
        )
    if scores.shape != (count, NUM_CLASSES):
        raise ValueError(
            f"model.loss(X) on {count} images returned scores of shape {scores.shape}, "
            f"not ({count}, {NUM_CLASSES})"
        )
    scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("the model's scores contain NaN or inf (did its training diverge?)")
    return scores
