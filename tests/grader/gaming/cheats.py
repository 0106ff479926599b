"""The cheating code, as a student who wants points without doing the work would write it.

Everything here uses only what a student has in the release: the stubs, the given modules
(``data_utils``, ``fast_layers``, ``solver``), the notebooks, the README and the public checks
with their golden fixtures. Nothing relies on how the hidden checks are built.

- ``ZERO``: for every function with a ``START OF YOUR CODE`` region, what a student who gave up
  writes in each region: zeros (or the input unchanged) of the shape the docstring asks for.
- ``CONSTANT``: the same with the "expected" constants a student reads in the notebooks (an
  initial softmax loss of log(C), an SVM loss of C - 1).
- ``REPLAY``: the public golden outputs, played back when the input has the classic shape.
- Model classes that never learn: all zeros, a memoriser of the (X, y) pairs ``loss`` sees, and an
  oracle that regenerates the synthetic test set for candidate seeds and looks labels up.
"""

from __future__ import annotations

import textwrap

# --- zero stubs: one snippet per solution region, in the order the regions appear -------------

_BN_BACK = (
    "x, gamma, beta = cache\n"
    "dx, dgamma, dbeta = np.zeros_like(x), np.zeros_like(gamma), np.zeros_like(beta)"
)
_NORM_FWD = "out = np.zeros_like(x)\ncache = (x, gamma, beta)"
_CONV_SHAPE = (
    'pad, stride = conv_param["pad"], conv_param["stride"]\n'
    "H_out = 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride\n"
    "W_out = 1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride\n"
    "out = np.zeros((x.shape[0], w.shape[0], H_out, W_out), dtype=x.dtype)"
)
_POOL_SHAPE = (
    'ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]\n'
    "out = np.zeros((x.shape[0], x.shape[1], 1 + (x.shape[2] - ph) // s, "
    "1 + (x.shape[3] - pw) // s), dtype=x.dtype)"
)
_THREE_BACK = (
    "x, w, b = cache[:3]\ndx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)"
)
_FIVE_BACK = (
    "x, w, b, gamma, beta = cache\n"
    "dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)\n"
    "dgamma, dbeta = np.zeros_like(gamma), np.zeros_like(beta)"
)

ZERO: dict[str, dict[str, tuple[str, ...]]] = {
    "layers.py": {
        "affine_forward": ("out = np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype)",),
        "affine_backward": (_THREE_BACK,),
        "relu_forward": ("out = np.zeros_like(x)",),
        "relu_backward": ("dx = np.zeros_like(dout)",),
        "softmax_loss": ("loss, dx = 0.0, np.zeros_like(x)",),
        "svm_loss": ("loss, dx = 0.0, np.zeros_like(x)",),
        "batchnorm_forward": (_NORM_FWD, "out = np.zeros_like(x)"),
        "batchnorm_backward": (_BN_BACK,),
        "batchnorm_backward_alt": (_BN_BACK,),
        "layernorm_forward": (_NORM_FWD,),
        "layernorm_backward": (_BN_BACK,),
        "dropout_forward": (
            "mask = np.ones_like(x)\nout = np.zeros_like(x)",
            "out = np.zeros_like(x)",
        ),
        "dropout_backward": ("dx = np.zeros_like(dout)",),
        "conv_forward_naive": (_CONV_SHAPE,),
        "conv_backward_naive": (_THREE_BACK,),
        "max_pool_forward_naive": (_POOL_SHAPE,),
        "max_pool_backward_naive": ("x, pool_param = cache\ndx = np.zeros_like(x)",),
        "spatial_batchnorm_forward": (_NORM_FWD,),
        "spatial_batchnorm_backward": (_BN_BACK,),
        "spatial_groupnorm_forward": (_NORM_FWD,),
        "spatial_groupnorm_backward": (_BN_BACK,),
    },
    "layer_utils.py": {
        "affine_relu_forward": (
            "out = np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype)\ncache = (x, w, b)",
        ),
        "affine_relu_backward": (_THREE_BACK,),
        "affine_norm_relu_forward": (
            "out = np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype)\n"
            "cache = (x, w, b, gamma, beta)",
        ),
        "affine_norm_relu_backward": (_FIVE_BACK,),
        "conv_relu_forward": (
            "out, _ = conv_forward_fast(x, w, b, conv_param)\nout = out * 0\ncache = (x, w, b)",
        ),
        "conv_relu_backward": (_THREE_BACK,),
        "conv_bn_relu_forward": (
            "out, _ = conv_forward_fast(x, w, b, conv_param)\nout = out * 0\n"
            "cache = (x, w, b, gamma, beta)",
        ),
        "conv_bn_relu_backward": (_FIVE_BACK,),
        "conv_relu_pool_forward": (
            "out, _ = conv_forward_fast(x, w, b, conv_param)\n"
            "out, _ = max_pool_forward_fast(out * 0, pool_param)\ncache = (x, w, b)",
        ),
        "conv_relu_pool_backward": (_THREE_BACK,),
    },
    "optim.py": {
        "sgd_momentum": ("next_w = w",),
        "rmsprop": ("next_w = w",),
        "adam": ("next_w = w",),
    },
}

# The numbers the notebooks tell students to expect, returned without computing anything.
CONSTANT: dict[str, dict[str, tuple[str, ...]]] = {
    "layers.py": {
        "softmax_loss": ("loss, dx = float(np.log(x.shape[1])), np.zeros_like(x)",),
        "svm_loss": ("loss, dx = float(x.shape[1] - 1), np.zeros_like(x)",),
        "relu_forward": ("out = np.full_like(x, 0.5)",),
        "affine_forward": ("out = np.ones((x.shape[0], w.shape[1]), dtype=x.dtype)",),
    },
}


# --- models that never learn ------------------------------------------------------------------

_FC_HEAD = """\
class FullyConnectedNet({base}):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.num_layers = 1 + len(hidden_dims)
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.dtype = dtype
        self.num_classes = num_classes
        self.params = {{}}
"""
_FC_ZERO_PARAMS = """\
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(self.num_layers):
            self.params[f"W{i + 1}"] = np.zeros((dims[i], dims[i + 1]), dtype=dtype)
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1], dtype=dtype)
"""

_CNN_HEAD = """\
class ThreeLayerConvNet({base}):
    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        C, H, W = input_dim
        self.reg = reg
        self.dtype = dtype
        self.num_classes = num_classes
        self.params = {{}}
"""
_CNN_ZERO_PARAMS = """\
        self.params["W1"] = np.zeros((num_filters, C, filter_size, filter_size), dtype)
        self.params["b1"] = np.zeros(num_filters, dtype)
        self.params["W2"] = np.zeros((num_filters * H * W // 4, hidden_dim), dtype)
        self.params["b2"] = np.zeros(hidden_dim, dtype)
        self.params["W3"] = np.zeros((hidden_dim, num_classes), dtype)
        self.params["b3"] = np.zeros(num_classes, dtype)
"""

_ZERO_LOSS = """\
    def loss(self, X, y=None):
        scores = np.zeros((X.shape[0], self.num_classes), dtype=self.dtype)
        if y is None:
            return scores
        return {loss}, {{k: np.zeros_like(v) for k, v in self.params.items()}}
"""

# Remembers the label of every image it is trained on; answers from memory afterwards. It keeps
# no parameters, so the Solver has nothing to update (and never calls the update rule).
MEMORISER = """\
import hashlib

import numpy as np


def _key(image):
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()


class Memoriser:
    seen = {}

    def loss(self, X, y=None):
        if y is not None:
            for image, label in zip(X, y):
                Memoriser.seen[_key(image)] = int(label)
            return float(np.log(self.num_classes)), {}
        scores = np.zeros((X.shape[0], self.num_classes), dtype=np.float32)
        for i, image in enumerate(X):
            label = Memoriser.seen.get(_key(image))
            if label is not None:
                scores[i, label] = 10.0
        return scores
"""

# Finds the seed of the held-out images among the first few hundred thousand, by the flat
# background colour that data_utils draws for each image right after shuffling the labels; then
# regenerates those images exactly and looks their labels up by content. The table is built
# while the Solver "trains" (the first loss(X, y) call), or by prepare() in a notebook.
ORACLE = '''\
import time

import numpy as np

from ..data_utils import _chunk_rng, _generate_chunk

SEEDS = 300_000
PROBE = 16  # images whose background colour is compared
TABLE = {"bases": None, "done": 0, "labels": {}}


def _table(budget):
    if TABLE["bases"] is None:
        TABLE["bases"] = np.zeros((SEEDS, PROBE, 3), np.float32)
    order = np.arange(1000) % 10
    stop = time.monotonic() + budget
    while TABLE["done"] < SEEDS and time.monotonic() < stop:
        rng = _chunk_rng(TABLE["done"], "test", 0)
        rng.permutation(order)
        TABLE["bases"][TABLE["done"]] = rng.uniform(0.1, 0.35, size=(1000, 3))[:PROBE]
        TABLE["done"] += 1


def _centred(a):
    a = a - a.mean(axis=-2, keepdims=True)
    return a / (np.sqrt((a**2).sum(axis=(-2, -1), keepdims=True)) + 1e-12)


def _find(X):
    """Regenerate the test images of the seed whose background colours match the batch's first."""
    if len(X) < PROBE or TABLE["done"] == 0:
        return
    seen = np.median(X[:PROBE].reshape(PROBE, 3, -1), axis=2)
    bases = TABLE["bases"][: TABLE["done"]]
    match = np.einsum("sij,ij->s", _centred(bases), _centred(seen))
    for seed in np.argsort(match)[::-1][:3]:
        if match[seed] < 0.85:
            return
        images, labels = _generate_chunk(_chunk_rng(int(seed), "test", 0), 1000)
        if _offset(X, images) is not None:
            TABLE["images"] = images
            TABLE["labels"] = {im.tobytes(): int(l) for im, l in zip(images, labels)}
            return


def _offset(X, images):
    """The mean image subtracted from X, if X starts with the first two of ``images``."""
    offset = images[0].astype(np.float64) - X[0]
    if np.abs(np.round(X[1] + offset) - images[1]).max() < 0.5:
        return offset
    return None


class Oracle:
    def prepare(self, budget=150.0):
        _table(budget)

    def loss(self, X, y=None):
        if y is not None:
            if not getattr(self, "fed", False):  # once per training run, well inside its limit
                self.fed = True
                _table(80.0)
            return float(np.log(self.num_classes)), {}
        X = np.asarray(X, dtype=np.float64)
        scores = np.zeros((X.shape[0], self.num_classes), dtype=np.float32)
        if not TABLE["labels"]:
            _find(X)
        if not TABLE["labels"] or len(X) < 2:
            return scores
        offset = _offset(X, TABLE["images"])
        if offset is not None:
            TABLE["offset"] = offset
        if "offset" not in TABLE:
            return scores
        raw = np.clip(np.round(X + TABLE["offset"]), 0, 255).astype(np.uint8)
        for i, image in enumerate(raw):
            label = TABLE["labels"].get(image.tobytes())
            if label is not None:
                scores[i, label] = 10.0
        return scores
'''


def _model_file(import_line: str, head: str, params: str, body: str) -> str:
    return "import numpy as np\n" + import_line + "\n\n" + head + params + "\n" + body


def zero_models(loss: str = "0.0") -> dict[str, str]:
    """fc_net.py and cnn.py whose models have zero parameters of the right shapes and output 0."""
    body = _ZERO_LOSS.format(loss=loss)
    fc, cnn = _FC_HEAD.format(base=""), _CNN_HEAD.format(base="")
    return {
        "classifiers/fc_net.py": _model_file("", fc, _FC_ZERO_PARAMS, body),
        "classifiers/cnn.py": _model_file("", cnn, _CNN_ZERO_PARAMS, body),
    }


def cheating_models(module: str, base: str) -> dict[str, str]:
    """fc_net.py and cnn.py whose parameterless models inherit ``loss`` from ``module.base``."""
    line = f"\nfrom .{module} import {base}\n"
    fc, cnn = _FC_HEAD.format(base=base), _CNN_HEAD.format(base=base)
    return {
        "classifiers/fc_net.py": _model_file(line, fc, "", ""),
        "classifiers/cnn.py": _model_file(line, cnn, "", ""),
    }


# --- golden outputs played back ------------------------------------------------------------------

# When does the input look like the public check's? The shapes, read off the golden outputs.
REPLAY_MATCH = {
    "affine_forward": ("(x, w, b)", "x.shape[0] == 2 and w.shape[1] == 3", ("out",)),
    "relu_forward": ("(x,)", "x.shape == (3, 4)", ("out",)),
    "softmax_loss": ("(x, y)", "x.shape == (50, 10)", ("loss", "dx")),
    "svm_loss": ("(x, y)", "x.shape == (50, 10)", ("loss", "dx")),
    "layernorm_forward": ("(x, gamma, beta, ln_param)", "x.shape == (4, 3)", ("out",)),
    "conv_forward_naive": (
        "(x, w, b, conv_param)",
        "x.shape[0] == 2 and w.shape[0] == 3",
        ("out",),
    ),
    "max_pool_forward_naive": ("(x, pool_param)", "x.shape[:2] == (2, 3)", ("out",)),
    "spatial_groupnorm_forward": (
        "(x, gamma, beta, G, gn_param)",
        "x.shape == (10, 4, 5, 6)",
        ("out",),
    ),
}
REPLAY_OPTIM = ("sgd_momentum", "rmsprop", "adam")


def replay_source() -> str:
    """Code appended to layers.py and optim.py: golden outputs for classic-shaped inputs."""
    lines = [
        "",
        "",
        "# Golden outputs copied from the public checks' fixtures (golden/*.npz in this package).",
        "import os as _os",
        "",
        "",
        "def _golden(key):",
        "    here = _os.path.dirname(_os.path.abspath(__file__))",
        "    with np.load(_os.path.join(here, 'golden', key + '.npz')) as f:",
        "        return {k: f[k] for k in f.files}",
        "",
    ]
    for name, (args, test, outputs) in REPLAY_MATCH.items():
        params = args.strip("()").rstrip(",")
        wrapped = ", ".join(f"g[{o!r}]" for o in outputs)
        result = f"{wrapped}, None" if outputs == ("out",) else wrapped
        if "loss" in outputs:
            result = "float(g['loss']), g['dx']"
        lines += [
            "",
            f"_zero_{name} = {name}",
            "",
            "",
            f"def {name}({params}):",
            f"    if {test}:",
            f"        g = _golden('layers.{name}')",
            f"        return {result}",
            f"    return _zero_{name}({params})",
            "",
        ]
    return "\n".join(lines) + "\n"


def replay_optim_source() -> str:
    lines = [
        "",
        "",
        "import os as _os",
        "",
        "",
        "def _golden(key):",
        "    here = _os.path.dirname(_os.path.abspath(__file__))",
        "    with np.load(_os.path.join(here, 'golden', key + '.npz')) as f:",
        "        return {k: f[k] for k in f.files}",
        "",
    ]
    for name in REPLAY_OPTIM:
        lines += [
            "",
            f"_zero_{name} = {name}",
            "",
            "",
            f"def {name}(w, dw, config=None):",
            "    if w.shape == (4, 5):",
            f"        g = _golden('optim.{name}')",
            "        config = dict(config or {})",
            "        config.update({k[7:]: v for k, v in g.items() if k.startswith('config_')})",
            "        return g['w_0'], config",
            f"    return _zero_{name}(w, dw, config)",
            "",
        ]
    return "\n".join(lines) + "\n"


# --- naive layers that call the given fast ones ---------------------------------------------------

NAIVE_CALLS_FAST = """

# The fast versions are right there in fast_layers.py, and they give the same answers.
from .fast_layers import conv_backward_fast, conv_forward_fast  # noqa: E402
from .fast_layers import max_pool_backward_fast, max_pool_forward_fast  # noqa: E402


def conv_forward_naive(x, w, b, conv_param):
    return conv_forward_fast(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return conv_backward_fast(dout, cache)


def max_pool_forward_naive(x, pool_param):
    return max_pool_forward_fast(x, pool_param)


def max_pool_backward_naive(dout, cache):
    return max_pool_backward_fast(dout, cache)
"""


def sleeper_source(function: str, seconds: float) -> str:
    """Wrap ``function`` so every call sleeps ``seconds`` first (just under the call limit)."""
    return textwrap.dedent(
        f"""

        import time as _time

        _{function}_fast = {function}


        def {function}(*args, **kwargs):
            _time.sleep({seconds})
            return _{function}_fast(*args, **kwargs)
        """
    )
