"""The gaming table: zero-effort submissions, and the most each may score.

Every case is a whole submission (package and notebooks) built by code from the handed-out stubs
(``assignment/``) or from the solved submission, with a cheat from ``cheats.py`` written into it.
A case graded with ``only`` is graded on those rubric objects alone (``nngrade grade --only``),
to keep CI cheap; a case without ``only`` is graded on everything, training and notebooks too.

``max_points`` maps rubric-object prefixes to the most the case may earn on the checks whose name
starts with them; ``max_score`` bounds the total over what is graded. Both are policy, not
measurements: a zero-effort submission may earn at most what the given code earns (0 points, see
``GIVEN_CODE_POINTS``), and a case that keeps working code for other objects may keep those
points and nothing for the cheat. ``expected.json`` holds them (``python -m
tests.grader.gaming.regenerate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import cheats

# What the handed-out package and notebooks earn untouched (nngrade grade on the stubs and the
# given notebooks: every check fails). A zero-effort submission must not earn more.
GIVEN_CODE_POINTS = 0.0

FC = "fc_net.FullyConnectedNet"
CNN = "cnn.ThreeLayerConvNet"
NAIVE = (
    "layers.conv_forward_naive",
    "layers.conv_backward_naive",
    "layers.max_pool_forward_naive",
    "layers.max_pool_backward_naive",
)


@dataclass(frozen=True)
class Case:
    id: str
    note: str  # what the student did, in words
    base: str  # "stubs": the handed-out package; "solved": the reference's code
    regions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (file, function, snippets)
    appended: tuple[tuple[str, str], ...] = ()  # (file, code added at its end)
    files: tuple[tuple[str, str], ...] = ()  # (path in the package, whole text)
    golden: bool = False  # copy the public golden fixtures into the package
    notebooks: str = "given"  # "given": as handed out; "emptied": see harness.empty_notebooks
    notebook_model: str | None = None  # cell defining best_model/one_epoch_model when emptied
    only: tuple[str, ...] = ()  # rubric object prefixes to grade; () grades everything
    examples: int | None = None  # --examples, when the case needs fewer to stay cheap
    zero_effort: bool = True  # no working code at all: capped at GIVEN_CODE_POINTS
    targets: tuple[str, ...] = ()  # objects the cheat is aimed at: capped at given-code points
    keeps: tuple[str, ...] = field(default=())  # objects with real code: may keep their points


def _regions(table: dict[str, dict[str, tuple[str, ...]]]) -> tuple:
    return tuple(
        (file, name, snippets) for file, funcs in table.items() for name, snippets in funcs.items()
    )


def _merged(*tables: dict[str, dict[str, tuple[str, ...]]]) -> dict:
    merged: dict[str, dict[str, tuple[str, ...]]] = {}
    for table in tables:
        for file, funcs in table.items():
            merged.setdefault(file, {}).update(funcs)
    return merged


ZERO = _regions(cheats.ZERO)
CONSTANT = _regions(_merged(cheats.ZERO, cheats.CONSTANT))
ZERO_MODELS = tuple(cheats.zero_models().items())
CONSTANT_MODELS = tuple(cheats.zero_models("float(np.log(self.num_classes))").items())

CASES: tuple[Case, ...] = (
    Case(
        "handed_out_code",
        "the package and notebooks exactly as handed out: the yardstick of GIVEN_CODE_POINTS",
        "stubs",
    ),
    Case(
        "zero_stubs_whole_submission",
        "every function returns zeros of the shape its docstring gives, the models have zero "
        "weights and output zeros, the optimisers return w unchanged; notebooks as handed out",
        "stubs", regions=ZERO, files=ZERO_MODELS,
    ),
    Case(
        "constant_stubs",
        "zero stubs, but the losses return the constants the notebooks say to expect (log C for "
        "softmax, C - 1 for the SVM), ReLU returns 0.5 and affine returns ones",
        "stubs", regions=CONSTANT, files=CONSTANT_MODELS,
        only=("layers", "layer_utils", FC, CNN),
    ),
    Case(
        "replayed_golden_outputs",
        "zero stubs that return the public fixtures' golden outputs whenever the input has the "
        "shape of the public check's input",
        "stubs", regions=ZERO, files=ZERO_MODELS, golden=True,
        appended=(
            ("layers.py", cheats.replay_source()),
            ("optim.py", cheats.replay_optim_source()),
        ),
        only=("layers", "optim"),
    ),
    Case(
        "emptied_notebooks",
        "working code, but every notebook cut down to its setup cell plus a cell defining "
        "best_model / one_epoch_model as an untrained model (and mean_image)",
        "solved", notebooks="emptied", notebook_model="untrained",
        only=("notebook",), zero_effort=False, targets=("notebook",),
    ),
    Case(
        "label_recovering_models",
        "zero stubs; models with no parameters that find the held-out seed among 300,000 by the "
        "images' background colours, regenerate the test images and look labels up by content; "
        "the emptied notebooks build the seed table and set mean_image to 0",
        "stubs", regions=ZERO, notebooks="emptied", notebook_model="oracle",
        files=(*cheats.cheating_models("oracle", "Oracle").items(),
               ("classifiers/oracle.py", cheats.ORACLE)),
        only=(FC, CNN, "notebook"),
    ),
    Case(
        "memorising_models",
        "zero stubs; models with no parameters that remember the label of every image loss(X, y) "
        "sees and answer from memory",
        "stubs", regions=ZERO,
        files=(*cheats.cheating_models("memoriser", "Memoriser").items(),
               ("classifiers/memoriser.py", cheats.MEMORISER)),
        only=(FC, CNN),
    ),
    Case(
        "naive_layers_call_fast_layers",
        "working code, but the naive convolution and max-pooling layers call the given "
        "fast_layers versions",
        "solved", appended=(("layers.py", cheats.NAIVE_CALLS_FAST),),
        only=("layers.conv", "layers.max_pool"), zero_effort=False, targets=NAIVE,
    ),
    Case(
        "near_limit_sleeper",
        "working code, but relu_forward sleeps 18 s on every call, just under the 20 s limit a "
        "call gets in nngrade grade",
        "solved", appended=(("layers.py", cheats.sleeper_source("relu_forward", 18.0)),),
        only=("layers.relu_forward",), examples=2, zero_effort=False,
        targets=("layers.relu_forward",),
    ),
)  # fmt: skip

BY_ID = {case.id: case for case in CASES}
