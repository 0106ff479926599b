"""The points table: every graded check, its points, its visibility, in one place.

A check's result name is ``"<object> <what>"`` (``"layers.affine_forward expected values"``), so
it starts with the object it grades. Check functions under ``grader/checks/`` name the item they
serve with ``@pytest.mark.rubric("<object> <what>")``; an item served by several functions earns
its points in proportion to the scenarios that pass, a scenario's edge inputs (``obj+edge``)
counting with it all or nothing (grader/checks/plugin.py). Public items need no reference at run
time (only golden fixtures), so they can ship to students and run in ``nngrade check``.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.course import COURSE
from grader.course.notebooks import GRADED_NOTEBOOKS
from grader.reports.results import Visibility

TOTAL_POINTS = 100


@dataclass(frozen=True)
class Item:
    obj: str
    what: str
    points: float
    public: bool = False
    visibility: Visibility = "visible"

    @property
    def name(self) -> str:
        return f"{self.obj} {self.what}"

    @property
    def module(self) -> str:
        """The student module the item grades (``layers``, ``classifiers.fc_net``...)."""
        return COURSE.module_of(self.obj)


EXPECTED = "expected values"
REFERENCE = "matches the reference on random inputs"
GRADIENT = "agrees with the numeric gradient of your forward pass"


def _layer(name: str, expected: float, reference: float, kind: str = EXPECTED) -> list[Item]:
    return [
        Item(f"layers.{name}", kind, expected, public=True),
        Item(f"layers.{name}", REFERENCE, reference),
    ]


ITEMS: tuple[Item, ...] = (
    *_layer("affine_forward", 1, 1),
    *_layer("affine_backward", 1.5, 1.5, GRADIENT),
    *_layer("relu_forward", 0.5, 0.5),
    *_layer("relu_backward", 0.5, 0.5, GRADIENT),
    *_layer("softmax_loss", 1, 1.5),
    *_layer("svm_loss", 1, 1),
    *_layer("batchnorm_forward", 1.5, 2),
    *_layer("batchnorm_backward", 2, 2, GRADIENT),
    *_layer("batchnorm_backward_alt", 1, 1.5, GRADIENT),
    *_layer("layernorm_forward", 1, 1.5),
    *_layer("layernorm_backward", 1.5, 1.5, GRADIENT),
    *_layer("dropout_forward", 1, 1),
    *_layer("dropout_backward", 0.5, 0.5, GRADIENT),
    *_layer("conv_forward_naive", 2, 2),
    *_layer("conv_backward_naive", 2, 2, GRADIENT),
    *_layer("max_pool_forward_naive", 1, 1),
    *_layer("max_pool_backward_naive", 1.5, 1.5, GRADIENT),
    *_layer("spatial_batchnorm_forward", 1, 1),
    *_layer("spatial_batchnorm_backward", 1, 1, GRADIENT),
    *_layer("spatial_groupnorm_forward", 1.5, 1.25),
    *_layer("spatial_groupnorm_backward", 1.5, 1.25, GRADIENT),
    # The sandwiches share the 3 points they had before conv_relu was graded: each is a few lines
    # of glue over layers graded on their own, so each weighs the same 0.75.
    Item("layer_utils.affine_relu", REFERENCE, 0.75),
    Item("layer_utils.conv_relu", EXPECTED, 0.25, public=True),
    Item("layer_utils.conv_relu", REFERENCE, 0.5),
    Item("layer_utils.conv_relu_pool", REFERENCE, 0.75),
    Item("layer_utils.conv_bn_relu", REFERENCE, 0.75),
    Item("optim.sgd_momentum", EXPECTED, 1, public=True),
    Item("optim.sgd_momentum", "matches the reference over several steps", 1),
    Item("optim.rmsprop", EXPECTED, 1, public=True),
    Item("optim.rmsprop", "matches the reference over several steps", 1),
    Item("optim.adam", EXPECTED, 1.5, public=True),
    Item("optim.adam", "matches the reference over several steps", 1),
    Item("fc_net.FullyConnectedNet", "initialisation", 2, public=True),
    Item("fc_net.FullyConnectedNet", "expected initial loss", 1, public=True),
    Item("fc_net.FullyConnectedNet", "loss and gradients match the reference", 2.5),
    Item("fc_net.FullyConnectedNet", "with batchnorm matches the reference", 2),
    Item("fc_net.FullyConnectedNet", "with layernorm matches the reference", 2),
    Item("fc_net.FullyConnectedNet", "with dropout matches the reference", 2),
    Item("fc_net.FullyConnectedNet", "overfits 50 images", 2.5),
    Item("fc_net.FullyConnectedNet", "trains to the accuracy threshold", 4),
    Item("cnn.ThreeLayerConvNet", "initialisation and output shapes", 2, public=True),
    Item("cnn.ThreeLayerConvNet", "loss and gradients match the reference", 3.5),
    Item("cnn.ThreeLayerConvNet", "overfits a small set", 2.5),
    Item("cnn.ThreeLayerConvNet", "trains to the accuracy threshold", 4),
    *(Item(f"notebook.{name}", "runs to the end", 1) for name in GRADED_NOTEBOOKS),
    Item("notebook.FullyConnectedNets", "best_model reaches the accuracy threshold", 2),
    Item("notebook.ConvolutionalNetworks", "one-epoch model reaches the accuracy threshold", 2),
)

BY_NAME: dict[str, Item] = {item.name: item for item in ITEMS}

# What a composite check runs of the student's own code, by rubric-name prefix (the longest
# matching prefix wins). Only checks that cannot rule the building blocks out are listed: the
# models' comparisons with the reference rerun the reference's model on the student's own blocks
# (grader/checks/blocks.py), so when they fail the model itself is wrong and nothing else is
# named. Training runs the student's blocks as they are, so a failing training check names the
# failing checks of these objects.
_FC_BASE = ("layers.affine_", "layers.relu_", "layers.softmax_loss", "layer_utils.affine_relu")
_CNN_BASE = (*_FC_BASE, "layer_utils.conv_relu_pool")
_BN = ("layers.batchnorm_forward", "layers.batchnorm_backward ")
USES: dict[str, tuple[str, ...]] = {
    "layer_utils.affine_relu": ("layers.affine_", "layers.relu_"),
    "layer_utils.conv_relu": ("layers.relu_",),
    "layer_utils.conv_relu_pool": ("layers.relu_",),
    "layer_utils.conv_bn_relu": ("layers.relu_", "layers.spatial_batchnorm_"),
    "fc_net.FullyConnectedNet overfits": (*_FC_BASE,),
    "fc_net.FullyConnectedNet trains": (*_FC_BASE, *_BN, "optim.adam"),
    "cnn.ThreeLayerConvNet overfits": (*_CNN_BASE, "optim.adam"),
    "cnn.ThreeLayerConvNet trains": (*_CNN_BASE, "optim.adam"),
}

# The student modules a model's comparison with the reference takes from the student when it
# reruns the reference's model on the student's own building blocks (see USES above).
BLOCK_MODULES: tuple[str, ...] = ("layers", "layer_utils")

# Outputs whose exact shape is graded on another object: a composite that returns what its
# building block gave it is not charged again. spatial_batchnorm_forward hands back the running
# averages batchnorm_forward wrote; their shape ((C,), not (1, C)) is batchnorm_forward's to get
# right, so here they are compared with their size-1 axes dropped.
SHAPE_GRADED_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "layers.spatial_batchnorm_forward": ("running_mean", "running_var"),
}


@dataclass(frozen=True)
class Edition:
    """An edition of the course whose package lacks some graded objects (never asked for).

    A submission is in the edition when its package has the edition's folder name and none of
    the ``absent`` objects is defined in the student's module; those objects are then not graded
    and their points are given, so the edition's students are graded out of the same 100.
    """

    name: str
    package: str
    absent: tuple[str, ...]


EDITIONS: tuple[Edition, ...] = (
    # The 2021-23 cs231n edition's layers.py has no svm_loss: its students were never asked for it.
    Edition("cs231n 2021-23", "cs231n", ("layers.svm_loss",)),
)


def uses(name: str) -> tuple[str, ...]:
    """Prefixes of the rubric names of the building blocks the named check runs."""
    matches = [prefix for prefix in USES if name.startswith(prefix)]
    return USES[max(matches, key=len)] if matches else ()


def validate(items: tuple[Item, ...] = ITEMS) -> None:
    """Fail loudly on a table that does not add up or repeats a name."""
    names = [item.name for item in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"rubric names repeated: {duplicates}")
    total = round(sum(item.points for item in items), 6)
    if total != TOTAL_POINTS:
        raise ValueError(f"rubric points add up to {total}, not {TOTAL_POINTS}")
    bad = [item.name for item in items if item.points <= 0]
    if bad:
        raise ValueError(f"rubric items without points: {bad}")
