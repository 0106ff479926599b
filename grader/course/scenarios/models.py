"""Scenarios for the two models: the same parameters loaded into both, then loss, grads, scores.

Loading identical parameters makes the comparison independent of how the student initialises
(initialisation has its own property check), while the forward and backward passes still run
through the student's own layers and sandwich helpers. A model that disagrees is compared again
with the reference's model run on those same layers (``blocks``, grader/checks/blocks.py), so a
layer's bug is charged on the layer and never again on the model.

Each bug is charged once: the L2 term is graded on the plain network only (its batchnorm,
layernorm and dropout variants run with reg=0 and grade what they add), and the CNN's shapes
are drawn beyond the default input size and odd filters, as far as the contract goes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import CheckFailure, Impl
from grader.checks.scenario import Params, scenario

FC = "fc_net.FullyConnectedNet"  # rubric objects (scenario keys)
CNN = "cnn.ThreeLayerConvNet"
FC_CLASS = "classifiers.fc_net.FullyConnectedNet"  # where the classes live in the package
CNN_CLASS = "classifiers.cnn.ThreeLayerConvNet"


def fc_param_shapes(p: Params) -> dict[str, tuple[int, ...]]:
    dims = [p["D"], *p["hidden"], p["C"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, len(dims)):
        shapes[f"W{i}"] = (dims[i - 1], dims[i])
        shapes[f"b{i}"] = (dims[i],)
        if p.get("normalization") and i < len(dims) - 1:
            shapes[f"gamma{i}"] = (dims[i],)
            shapes[f"beta{i}"] = (dims[i],)
    return shapes


def _random_params(shapes: dict[str, tuple[int, ...]], seed: int, dtype: str) -> dict:
    rng = np.random.RandomState(seed)
    params = {}
    for name, shape in shapes.items():
        if name.startswith("gamma"):
            params[name] = 1.0 + 0.1 * rng.randn(*shape)
        elif name.startswith(("b", "beta")):
            params[name] = 0.1 * rng.randn(*shape)
        else:
            params[name] = rng.randn(*shape) / np.sqrt(
                np.prod(shape[1:]) if len(shape) > 2 else shape[0]
            )
    return {k: v.astype(dtype) for k, v in params.items()}


def _loss_and_grads(impl: Impl, model, X, y, names) -> dict:
    loss, grads = impl.method(model, "loss", X, y, returns=("loss", "grads"))
    if not isinstance(grads, dict):
        raise CheckFailure("loss(X, y) must return (loss, grads) with grads a dict of arrays.")
    missing = sorted(set(names) - set(grads))
    if missing:
        raise CheckFailure(f"loss(X, y) returned no gradient for {', '.join(missing)}.")
    out = {"loss": loss, **{f"grad_{k}": grads[k] for k in names}}
    out["scores"] = impl.method(model, "loss", X)
    return out


def _fc_run(impl: Impl, p: Params) -> dict:
    rng = np.random.RandomState(p["seed"])
    X = rng.randn(p["N"], p["D"]).astype(p["dtype"])
    y = rng.randint(p["C"], size=p["N"])
    kwargs = {
        "input_dim": p["D"],
        "num_classes": p["C"],
        "reg": p["reg"],
        "weight_scale": 5e-2,
        "dtype": getattr(np, p["dtype"]),
        "normalization": p.get("normalization"),
        "dropout_keep_ratio": p.get("keep", 1),
        "seed": p["seed"],
    }
    model = impl(FC_CLASS, list(p["hidden"]), **kwargs)
    shapes = fc_param_shapes(p)
    impl.set(model, "params", _random_params(shapes, p["seed"] + 1, p["dtype"]))
    return _loss_and_grads(impl, model, X, y, sorted(shapes))


def _fc_strategy(
    normalization: str | None, keep: bool, regs: tuple[float, ...] = (0.0, 0.7, 3.14)
) -> st.SearchStrategy[Params]:
    return st.fixed_dictionaries(
        {
            "N": st.integers(2, 6),
            "D": st.integers(2, 8),
            "C": st.integers(2, 6),
            "hidden": st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple),
            "reg": st.sampled_from(regs),
            "normalization": st.just(normalization),
            "keep": st.sampled_from([0.5, 0.75]) if keep else st.just(1),
            "seed": st.integers(0, 2**16),
            "dtype": st.sampled_from(["float64", "float32"]),
        }
    )


FC_CLASSIC = {
    "N": 2, "D": 15, "C": 10, "hidden": (20, 30), "reg": 3.14, "normalization": None,
    "keep": 1, "seed": 231, "dtype": "float64",
}  # fmt: skip

# Reference modules whose graded blocks become the student's when a model is compared again.
MODEL_BLOCKS = ("classifiers.fc_net", "classifiers.cnn", "layer_utils")

scenario(FC, FC_CLASSIC, _fc_strategy(None, False), 1e-6, 1e-8, blocks=MODEL_BLOCKS)(_fc_run)
for _key, _norm, _keep in (
    (f"{FC}+batchnorm", "batchnorm", False),
    (f"{FC}+layernorm", "layernorm", False),
    (f"{FC}+dropout", None, True),
):
    # reg=0: the L2 term is the plain network's (one bug there is charged once, not four times).
    _classic = {**FC_CLASSIC, "normalization": _norm, "keep": 0.5 if _keep else 1, "reg": 0.0}
    _strategy = _fc_strategy(_norm, _keep, regs=(0.0,))
    scenario(_key, _classic, _strategy, 1e-6, 1e-8, blocks=MODEL_BLOCKS)(_fc_run)


CNN_SHAPES = ("W1", "b1", "W2", "b2", "W3", "b3")


def cnn_pooled_size(size: int, filter_size: int) -> int:
    """One spatial side after the CNN's conv (stride 1, pad (fs-1)//2) and 2x2 pool, stride 2.

    An even filter shrinks the side by one (the padding is (fs-1)//2 on both sides).
    """
    conv = 1 + size + 2 * ((filter_size - 1) // 2) - filter_size
    return 1 + (conv - 2) // 2


def cnn_input_sides(filter_size: int, half: int) -> int:
    """A spatial side the contract covers for this filter: the conv output is even, as the
    2x2 pool's docstring promises ((H - 2) % 2 == 0); ``half`` >= 1 picks which one."""
    return 2 * half + (filter_size + 1) % 2


def cnn_param_shapes(p: Params) -> dict[str, tuple[int, ...]]:
    C, H, W = p["input_dim"]
    F, fs = p["num_filters"], p["filter_size"]
    pooled = F * cnn_pooled_size(H, fs) * cnn_pooled_size(W, fs)
    return {
        "W1": (F, C, fs, fs),
        "b1": (F,),
        "W2": (pooled, p["hidden_dim"]),
        "b2": (p["hidden_dim"],),
        "W3": (p["hidden_dim"], p["num_classes"]),
        "b3": (p["num_classes"],),
    }


def _cnn_run(impl: Impl, p: Params) -> dict:
    rng = np.random.RandomState(p["seed"])
    X = rng.randn(p["N"], *p["input_dim"]).astype(p["dtype"])
    y = rng.randint(p["num_classes"], size=p["N"])
    model = impl(
        CNN_CLASS,
        input_dim=tuple(p["input_dim"]),
        num_filters=p["num_filters"],
        filter_size=p["filter_size"],
        hidden_dim=p["hidden_dim"],
        num_classes=p["num_classes"],
        reg=p["reg"],
        dtype=getattr(np, p["dtype"]),
    )
    shapes = cnn_param_shapes(p)
    impl.set(model, "params", _random_params(shapes, p["seed"] + 1, p["dtype"]))
    return _loss_and_grads(impl, model, X, y, CNN_SHAPES)


@st.composite
def _cnn_strategy(draw) -> Params:
    # Filters even and odd, sides not multiples of 4 (and odd where an even filter needs it).
    half = st.integers(1, 5)
    fs = draw(st.sampled_from([3, 4, 1, 2, 5]))
    return {
        "N": draw(st.integers(1, 3)),
        "input_dim": (
            draw(st.integers(1, 3)),
            cnn_input_sides(fs, draw(half)),
            cnn_input_sides(fs, draw(half)),
        ),
        "num_filters": draw(st.integers(1, 4)),
        "filter_size": fs,
        "hidden_dim": draw(st.integers(1, 6)),
        "num_classes": draw(st.integers(2, 5)),
        "reg": draw(st.sampled_from([0.0, 0.5])),
        "seed": draw(st.integers(0, 2**16)),
        "dtype": draw(st.sampled_from(["float64", "float32"])),
    }


# Not the default shape: an even filter (the padding shrinks each side by one) and odd sides
# that are not multiples of 4, so the hidden affine size and the padding are both tested.
CNN_CLASSIC = {
    "N": 2, "input_dim": (3, 7, 9), "num_filters": 3, "filter_size": 4, "hidden_dim": 7,
    "num_classes": 10, "reg": 0.5, "seed": 231, "dtype": "float64",
}  # fmt: skip
scenario(CNN, CNN_CLASSIC, _cnn_strategy(), 1e-6, 1e-8, blocks=MODEL_BLOCKS)(_cnn_run)
