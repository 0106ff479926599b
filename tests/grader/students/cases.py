"""The student table: realistic 2021-23 submissions and what a fair grader must give each.

Every student hands in ``cs231n/`` (the 2021-23 edition: ``layers.py`` without ``svm_loss``) and
the four notebooks in the course's real shape (Colab cell first, ``get_CIFAR10_data()`` with its
defaults, "Your Answer:" cells, the ``build_ext`` cell; see notebooks.py). What each student wrote
is under ``code/<id>/``, in that student's own style (build.py splices it into the course's files).

Expectations, per student:

- ``loses`` None: the code is correct, so a fair grader takes no point off any code check
  (``layers.*``, ``layer_utils.*``, ``optim.*``, ``fc_net.*``, ``cnn.*``); the notebooks are the
  course's own and must run as the course runs them.
- ``loses`` set: the student has one bug, in that object; a fair grader takes points off that
  object's checks only, never off the checks of other objects that merely call it. With
  ``must_lose`` the bug breaks the documented contract, so the grader must also catch it.
  ``max_lost`` caps what one bug may cost in all: the points of the checks that test the
  behaviour the bug breaks, not every check that happens to pass through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Student:
    id: str
    style: str  # how the student writes code, in words
    note: str  # what the case shows about the grader
    loses: str | None = None  # the object holding the one bug; None: correct throughout
    must_lose: bool = False  # the bug breaks the documented contract: it must cost points
    max_lost: float = 0.0  # the most points the student may lose in all
    answer_label: str = "**Your Answer:**"
    drive_folder: str = "cs231n/assignments/assignment2/"
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def is_correct(self) -> bool:
        return self.loses is None


BLUE = r"$\color{blue}{\textit Your Answer:}$"
TQDM = ("from tqdm import tqdm",)
IMAGEIO = ("from imageio import imread",)

STUDENTS: tuple[Student, ...] = (
    Student(
        "lina_loops",
        "explicit loops everywhere, caches as tuples, batchnorm backward as the closed form, "
        "asserts the documented pooling assumption (H - pool_height) % stride == 0",
        "correct; finding (a) float32 closed form vs reference at N=2, (b) max-pool inputs "
        "outside the docstring, (d) no svm_loss",
        imports={"FullyConnectedNets": TQDM, "ConvolutionalNetworks": IMAGEIO},
        answers={
            "fc-nets-q1": "SGD+momentum and Adam went down much faster than plain SGD, RMSProp "
            "was in between. momentum keeps moving in directions where gradients agree.",
            "fc-nets-q2": "the five layer net was much more sensitive to the weight scale, "
            "with a bad scale the activations vanish or blow up through the layers",
            "fc-nets-q3": "learning rate mattered the most, then weight scale",
            "batchnorm-q1": "Without BN the net only trains for a narrow band of weight scales. "
            "Too small -> activations shrink to 0, too large -> they explode. BN renormalizes "
            "every layer so the scale of the weights doesnt matter much.",
            "batchnorm-q2": "small batches give noisy mean/var estimates so training is worse; "
            "with batch size 2 the running averages at test time would be way off",
            "batchnorm-q3": "2 and 3 are like batch norm (statistics over the dataset), 1 and 4 "
            "are like layer norm (per example)",
            "batchnorm-q4": "when there are very few features (small D) the per-example "
            "statistics are noisy, also if features have very different meanings",
            "dropout-q1": "outputs at test time would be p times too big compared to training, "
            "you would have to multiply by p at test time",
            "dropout-q2": "with dropout the training accuracy is lower but validation is "
            "similar or better, so it regularizes. more data -> gap shrinks",
            "convnets-q1": "96*96*3 inputs times 96*96 outputs, it would need to learn the "
            "same filter at every position. conv shares weights so it generalizes over "
            "positions",
            "convnets-q2": "some look like edge / colour blob detectors, random ones look like "
            "noise",
            "convnets-q3": "G=1 is layer norm, G=C is instance norm. with batch 2 I would use "
            "group norm because it doesn't depend on the batch",
        },
    ),
    Student(
        "viktor_vectorised",
        "vectorised numpy (stride tricks, einsum), step-by-step batchnorm graph, layernorm "
        "through the transposed batchnorm, max pool output size by rounding",
        "correct; finding (b) rounding choice on inputs outside the docstring, (e) layernorm "
        "backward near zero in float32, (d) no svm_loss",
        answer_label=BLUE,
        imports={"FullyConnectedNets": TQDM},
        answers={
            "fc-nets-q1": "Adam and RMSProp converge fastest. Adaptive per-parameter step sizes.",
            "fc-nets-q2": "The deeper network is harder: its loss depends much more on the "
            "initialization scale.",
            "fc-nets-q3": "learning rate.",
            "batchnorm-q1": "Batchnorm makes the network robust to the weight initialization "
            "scale; the baseline fails for small scales (vanishing activations) and big scales "
            "(exploding). Normalization is invariant to rescaling the weights.",
            "batchnorm-q2": "Larger batch = better estimates of mean and variance. Batch size 2 "
            "gives very noisy statistics so the test-time running stats don't match.",
            "batchnorm-q3": "Layer norm analogues: 1, 4. Batch norm analogues: 2, 3.",
            "batchnorm-q4": "Small hidden layers, since the mean and variance over few "
            "features are unreliable.",
            "dropout-q1": "Test outputs would be 1/p times larger than expected; scale by p at "
            "test time.",
            "dropout-q2": "Dropout closes the train/val gap. With 10x data the gap shrinks.",
            "dropout-q3": "Raise p, otherwise too few units are active.",
            "convnets-q1": "(96*96*3)*(96*96) weights; it must learn translation invariance.",
            "convnets-q2": "Edge and color detectors; random ones are noise.",
            "convnets-q3": "Layer norm and instance norm. Group norm for batch size 2.",
        },
    ),
    Student(
        "carmen_colab",
        "helper functions and caches as dicts, asserts on shapes, prints while debugging, "
        "layernorm backward in the closed form",
        "correct; finding (e) layernorm backward near zero at N=2, D=1, (d) no svm_loss",
        answer_label="## Answer:",
        drive_folder="CS231n/assignment2",
        imports={"ConvolutionalNetworks": IMAGEIO},
        answers={
            "fc-nets-q1": "momentum and adam are the fastest",
            "batchnorm-q1": "batch norm nets train for every weight scale in the plot while the "
            "baseline only works around 1e-1. BN fixes the scale of each layer's input.",
            "batchnorm-q2": "bigger batches help, batch size 2 is bad for test time statistics",
            "dropout-q1": "test activations would be too large by 1/p",
            "convnets-q3": "G=1 layernorm, G=C instance norm; groupnorm for tiny batches",
        },
    ),
    Student(
        "rohan_reg_bug",
        "reference-like layers, own FullyConnectedNet loop that builds the L2 term",
        "one bug: the last layer's W is left out of the L2 term (loss and gradient); finding (c)",
        loses="fc_net.FullyConnectedNet",
        must_lose=True,
        max_lost=3.0,  # the regularised initial loss (0.5) and loss-and-gradients (2.5) checks
        imports={"FullyConnectedNets": TQDM},
        answers={
            "fc-nets-q1": "adam best",
            "fc-nets-q3": "weight scale and learning rate",
            "batchnorm-q1": "BN is less sensitive to weight scale",
            "dropout-q1": "need to scale by p at test time",
        },
    ),
    Student(
        "emma_softmax_eps",
        "probabilities first, loss as -log(p + 1e-7) 'to avoid log(0)', otherwise vectorised",
        "one bug: log(p + 1e-7) in softmax_loss; finding (c): fc_net checks that use it",
        loses="layers.softmax_loss",
        max_lost=2.5,  # softmax_loss's own two checks
        answer_label=BLUE,
        answers={
            "fc-nets-q1": "Adam > RMSProp > momentum > SGD in speed.",
            "batchnorm-q2": "Small batches make the statistics noisy.",
        },
    ),
    Student(
        "ben_running_mean",
        "keepdims everywhere, running averages kept in the shape the batch statistics have",
        "one bug: running_mean/running_var kept as (1, D) with the right values; finding (c)",
        loses="layers.batchnorm_forward",
        must_lose=True,
        max_lost=3.5,  # batchnorm_forward's own two checks
        imports={"FullyConnectedNets": TQDM, "ConvolutionalNetworks": IMAGEIO},
        answers={
            "batchnorm-q1": "batchnorm is robust to init scale",
            "batchnorm-q3": "2 and 3 batch norm, 1 and 4 layer norm",
        },
    ),
)

BY_ID: dict[str, Student] = {student.id: student for student in STUDENTS}
