"""Scenarios for every function of ``layers.py``.

Inputs are drawn from seeded ``RandomState`` generators inside the scenario, so a parameter
dict (shapes, hyperparameters, seed, dtype) fully determines a run; hypothesis only draws those
small dicts, which keeps shrunk counterexamples readable in the feedback.

One module per student module (here ``layers.py``, the longest of the assignment), in the
reference's order, so the scenario of any graded function is found where its name says; hence
over 400 lines.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import Impl
from grader.checks.scenario import GradientCase, Params, gradient, scenario

F64 = "float64"
dtypes = st.sampled_from([F64, "float32"])
seeds = st.integers(0, 2**16)


def _rng(p: Params) -> np.random.RandomState:
    return np.random.RandomState(p["seed"])


def _randn(rng: np.random.RandomState, shape, dtype=F64, scale=1.0, shift=0.0) -> np.ndarray:
    return (shift + scale * rng.randn(*shape)).astype(dtype)


def _away_from_zero(x: np.ndarray, gap: float = 0.05) -> np.ndarray:
    """Move entries off 0 so a kink (ReLU, hinge) is never where a gradient is compared."""
    return np.where(x >= 0, x + gap, x - gap).astype(x.dtype)


def _distinct(rng: np.random.RandomState, shape, dtype=F64) -> np.ndarray:
    """Values at least 0.01 apart, so no max-pool window has a tie or a near tie."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.01 - n * 0.005).astype(dtype)


def edges(obj: str, run, cases: dict[str, Params]) -> None:
    """Register each named edge input of ``obj`` as a variant compared with the reference.

    Random draws reach an edge (N == D, an overlapping window, a second call on the same state)
    only by luck; each variant runs its input on every grading and serves the object's
    reference item like the random comparison does, so a bug seen only there costs a share of it.
    """
    for name, params in cases.items():
        scenario(f"{obj}+{name}", params, st.just(params))(run)


# --- affine and ReLU -------------------------------------------------------------------------


def _affine_inputs(p: Params):
    rng = _rng(p)
    x = _randn(rng, (p["N"], *p["dims"]), p["dtype"])
    w = _randn(rng, (int(np.prod(p["dims"])), p["M"]), p["dtype"], 0.5)
    b = _randn(rng, (p["M"],), p["dtype"])
    return x, w, b


affine_params = st.fixed_dictionaries(
    {
        "N": st.integers(1, 4),
        "dims": st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
        "M": st.integers(1, 5),
        "seed": seeds,
        "dtype": dtypes,
    }
)
AFFINE_CLASSIC = {"N": 2, "dims": (4, 5, 6), "M": 3, "seed": 231, "dtype": F64}


@scenario("layers.affine_forward", AFFINE_CLASSIC, affine_params)
def affine_forward(impl: Impl, p: Params):
    out, _ = impl("layers.affine_forward", *_affine_inputs(p), returns=("out", "cache"))
    return {"out": out}


@scenario("layers.affine_backward", AFFINE_CLASSIC, affine_params)
def affine_backward(impl: Impl, p: Params):
    x, w, b = _affine_inputs(p)
    out, cache = impl("layers.affine_forward", x, w, b, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), (p["N"], p["M"]), p["dtype"])
    dx, dw, db = impl("layers.affine_backward", dout, cache, returns=("dx", "dw", "db"))
    return {"dx": dx, "dw": dw, "db": db}


AFFINE_EDGES = {
    "N_equals_D": {"N": 4, "dims": (4,), "M": 4, "seed": 1, "dtype": F64},
    "one_row": {"N": 1, "dims": (3, 2), "M": 2, "seed": 2, "dtype": F64},
    "one_feature": {"N": 3, "dims": (1,), "M": 1, "seed": 3, "dtype": F64},
}
edges("layers.affine_forward", affine_forward, AFFINE_EDGES)
edges("layers.affine_backward", affine_backward, AFFINE_EDGES)

gradient(
    GradientCase(
        "layers.affine_backward",
        "layers.affine_forward",
        "layers.affine_backward",
        lambda p: (list(_affine_inputs(p)), {}),
        ((0, "dx"), (1, "dw"), (2, "db")),
        {"N": 3, "dims": (2, 3), "M": 4, "seed": 7, "dtype": F64},
        returns=("dx", "dw", "db"),
    )
)

relu_params = st.fixed_dictionaries(
    {
        "shape": st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
        "seed": seeds,
        "dtype": dtypes,
    }
)
RELU_CLASSIC = {"shape": (3, 4), "seed": 0, "dtype": F64}


@scenario("layers.relu_forward", RELU_CLASSIC, relu_params)
def relu_forward(impl: Impl, p: Params):
    x = _randn(_rng(p), p["shape"], p["dtype"])
    x.flat[:: max(1, x.size // 3)] = 0  # exact zeros: every correct variant maps them to 0
    out, _ = impl("layers.relu_forward", x, returns=("out", "cache"))
    return {"out": out}


def _relu_inputs(p: Params):
    return [_away_from_zero(_randn(_rng(p), p["shape"], p["dtype"]))], {}


@scenario("layers.relu_backward", RELU_CLASSIC, relu_params)
def relu_backward(impl: Impl, p: Params):
    (x,), _ = _relu_inputs(p)
    _, cache = impl("layers.relu_forward", x, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), p["shape"], p["dtype"])
    return {"dx": impl("layers.relu_backward", dout, cache)}


RELU_EDGES = {
    "one_value": {"shape": (1,), "seed": 1, "dtype": F64},
    "four_dimensional": {"shape": (2, 3, 2, 4), "seed": 2, "dtype": F64},
}
edges("layers.relu_forward", relu_forward, RELU_EDGES)
edges("layers.relu_backward", relu_backward, RELU_EDGES)

gradient(
    GradientCase(
        "layers.relu_backward",
        "layers.relu_forward",
        "layers.relu_backward",
        _relu_inputs,
        ((0, "dx"),),
        {"shape": (4, 5), "seed": 3, "dtype": F64},
    )
)

# --- losses ----------------------------------------------------------------------------------

loss_params = st.fixed_dictionaries(
    {
        "N": st.integers(1, 8),
        "C": st.integers(2, 10),
        "scale": st.sampled_from([0.001, 1.0, 100.0, 1e4]),
        "seed": seeds,
    }
)


def _loss_inputs(p: Params):
    rng = _rng(p)
    x = _randn(rng, (p["N"], p["C"]), F64, p["scale"])
    y = rng.randint(p["C"], size=p["N"])
    return x, y


# Past this, a loss is compared only as "at least this large": the textbook solution (shift by
# the max, then -log of the normalised probability) returns inf once a probability underflows,
# which is a limit of float64, not a bug; NaN or a wrong gradient still fails.
LOSS_CAP = 500.0


@scenario("layers.softmax_loss", {"N": 50, "C": 10, "scale": 0.001, "seed": 231}, loss_params)
def softmax_loss(impl: Impl, p: Params):
    loss, dx = impl("layers.softmax_loss", *_loss_inputs(p), returns=("loss", "dx"))
    if isinstance(loss, (float, np.floating, np.ndarray)) and np.ndim(loss) == 0:
        loss = np.minimum(loss, LOSS_CAP)
    return {"loss": loss, "dx": dx}


@scenario("layers.svm_loss", {"N": 50, "C": 10, "scale": 0.001, "seed": 231}, loss_params)
def svm_loss(impl: Impl, p: Params):
    loss, dx = impl("layers.svm_loss", *_loss_inputs(p), returns=("loss", "dx"))
    return {"loss": loss, "dx": dx}


LOSS_EDGES = {
    "one_row": {"N": 1, "C": 3, "scale": 1.0, "seed": 1},
    "N_equals_C": {"N": 4, "C": 4, "scale": 1.0, "seed": 2},
    "large_scores": {"N": 5, "C": 6, "scale": 1e3, "seed": 3},
}
edges("layers.softmax_loss", softmax_loss, LOSS_EDGES)
edges("layers.svm_loss", svm_loss, LOSS_EDGES)


# --- batch and layer normalisation -----------------------------------------------------------

norm_params = st.fixed_dictionaries(
    {
        "N": st.integers(2, 8),
        "D": st.integers(1, 6),
        "steps": st.integers(1, 4),
        "momentum": st.sampled_from([0.9, 0.5]),
        "seed": seeds,
        "dtype": dtypes,
    }
)
NORM_CLASSIC = {"N": 200, "D": 3, "steps": 3, "momentum": 0.9, "seed": 231, "dtype": F64}


def _norm_inputs(p: Params, step: int = 0):
    rng = np.random.RandomState(p["seed"] + 1000 * step)
    x = _randn(rng, (p["N"], p["D"]), p["dtype"], 3.0, 5.0)
    gamma = _randn(rng, (p["D"],), p["dtype"], 0.5, 1.0)
    beta = _randn(rng, (p["D"],), p["dtype"])
    return x, gamma, beta


def _norm_param(p: Params, **keys) -> dict:
    """A norm layer's parameter dict; ``eps`` only when the input names one."""
    return {**keys, **({"eps": p["eps"]} if "eps" in p else {})}


def _running_then_test(impl: Impl, p: Params, name: str, make) -> dict:
    """Several train steps through one live bn_param, then one test-mode pass.

    The test-mode dict is returned as the layer left it: test mode must read the running
    averages, never update them.
    """
    momentum = {} if p["momentum"] is None else {"momentum": p["momentum"]}
    bn_param = impl.put(_norm_param(p, mode="train", **momentum))
    out = None
    for step in range(p["steps"]):
        out, _ = impl(name, *make(p, step), bn_param, returns=("out", "cache"))
    state = impl.fetch(bn_param)
    if not isinstance(state, dict) or "running_mean" not in state or "running_var" not in state:
        from grader.checks.impl import CheckFailure

        raise CheckFailure(
            f"after {name} in train mode, bn_param has no 'running_mean'/'running_var': "
            "store the running averages back into bn_param."
        )
    test_param = impl.put(
        _norm_param(
            p,
            mode="test",
            **momentum,
            running_mean=state["running_mean"],
            running_var=state["running_var"],
        )
    )
    out_test, _ = impl(name, *make(p, p["steps"]), test_param, returns=("out", "cache"))
    after_test = impl.fetch(test_param)
    after_test = after_test if isinstance(after_test, dict) else {}
    return {
        "out_train": out,
        "running_mean": state["running_mean"],
        "running_var": state["running_var"],
        "out_test": out_test,
        "running_mean_after_test": after_test.get("running_mean"),
        "running_var_after_test": after_test.get("running_var"),
    }


@scenario("layers.batchnorm_forward", NORM_CLASSIC, norm_params)
def batchnorm_forward(impl: Impl, p: Params):
    return _running_then_test(impl, p, "layers.batchnorm_forward", _norm_inputs)


NORM_EDGES = {
    "N_equals_D": {**NORM_CLASSIC, "N": 5, "D": 5, "steps": 2, "momentum": 0.5, "seed": 5},
    "eps_given": {**NORM_CLASSIC, "N": 6, "D": 4, "steps": 2, "eps": 0.5, "seed": 6},
}
edges("layers.batchnorm_forward", batchnorm_forward, {
    **NORM_EDGES,
    "default_momentum": {**NORM_CLASSIC, "N": 4, "D": 3, "steps": 3, "momentum": None},
})  # fmt: skip


def _norm_backward(impl: Impl, p: Params, forward: str, backward: str, param: dict) -> dict:
    x, gamma, beta = _norm_inputs(p)
    param = impl.put(_norm_param(p, **param))
    out, cache = impl(forward, x, gamma, beta, param, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), x.shape, p["dtype"])
    dx, dgamma, dbeta = impl(backward, dout, cache, returns=("dx", "dgamma", "dbeta"))
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


NORM_GRAD_CLASSIC = {"N": 4, "D": 5, "steps": 1, "momentum": 0.9, "seed": 231, "dtype": F64}


@scenario("layers.batchnorm_backward", NORM_GRAD_CLASSIC, norm_params)
def batchnorm_backward(impl: Impl, p: Params):
    return _norm_backward(
        impl, p, "layers.batchnorm_forward", "layers.batchnorm_backward", {"mode": "train"}
    )


@scenario("layers.batchnorm_backward_alt", NORM_GRAD_CLASSIC, norm_params)
def batchnorm_backward_alt(impl: Impl, p: Params):
    return _norm_backward(
        impl, p, "layers.batchnorm_forward", "layers.batchnorm_backward_alt", {"mode": "train"}
    )


@scenario("layers.layernorm_forward", {**NORM_CLASSIC, "N": 4, "D": 3}, norm_params)
def layernorm_forward(impl: Impl, p: Params):
    """Also with the ``mode`` a net may leave in ln_param: layer norm must ignore it."""
    x, gamma, beta = _norm_inputs(p)
    out, _ = impl(
        "layers.layernorm_forward", x, gamma, beta, _norm_param(p), returns=("out", "cache")
    )
    out_test, _ = impl(
        "layers.layernorm_forward",
        x,
        gamma,
        beta,
        _norm_param(p, mode="test"),
        returns=("out", "cache"),
    )
    return {"out": out, "out_with_mode_test": out_test}


@scenario("layers.layernorm_backward", NORM_GRAD_CLASSIC, norm_params)
def layernorm_backward(impl: Impl, p: Params):
    return _norm_backward(impl, p, "layers.layernorm_forward", "layers.layernorm_backward", {})


NORM_GRAD_EDGES = {
    "N_equals_D": {**NORM_GRAD_CLASSIC, "N": 5, "D": 5, "seed": 5},
    "eps_given": {**NORM_GRAD_CLASSIC, "N": 3, "D": 4, "eps": 0.5, "seed": 6},
}
for _name, _run in [
    ("batchnorm_backward", batchnorm_backward),
    ("batchnorm_backward_alt", batchnorm_backward_alt),
    ("layernorm_backward", layernorm_backward),
]:
    edges(f"layers.{_name}", _run, NORM_GRAD_EDGES)
edges("layers.layernorm_forward", layernorm_forward, {
    **NORM_EDGES,
    "one_row": {**NORM_CLASSIC, "N": 1, "D": 4, "seed": 7},
})  # fmt: skip


def _norm_grad_case(obj: str, forward: str, backward: str, param: dict) -> GradientCase:
    def make_args(p: Params):
        return [*_norm_inputs(p), dict(param)], {}

    return GradientCase(
        obj,
        forward,
        backward,
        make_args,
        ((0, "dx"), (1, "dgamma"), (2, "dbeta")),
        NORM_GRAD_CLASSIC,
        returns=("dx", "dgamma", "dbeta"),
    )


gradient(
    _norm_grad_case(
        "layers.batchnorm_backward",
        "layers.batchnorm_forward",
        "layers.batchnorm_backward",
        {"mode": "train"},
    )
)
gradient(
    _norm_grad_case(
        "layers.batchnorm_backward_alt",
        "layers.batchnorm_forward",
        "layers.batchnorm_backward_alt",
        {"mode": "train"},
    )
)
gradient(
    _norm_grad_case(
        "layers.layernorm_backward", "layers.layernorm_forward", "layers.layernorm_backward", {}
    )
)

# --- dropout ---------------------------------------------------------------------------------

dropout_params = st.fixed_dictionaries(
    {
        "shape": st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
        "p": st.sampled_from([0.25, 0.4, 0.7, 0.99, 1.0]),
        "seed": seeds,
        "dtype": dtypes,
    }
)
DROPOUT_CLASSIC = {"shape": (100, 40), "p": 0.4, "seed": 123, "dtype": F64}


def _dropout_inputs(p: Params):
    x = _randn(_rng(p), p["shape"], p["dtype"], 1.0, 10.0)
    return [x, {"mode": "train", "p": p["p"], "seed": p["seed"]}], {}


@scenario(
    "layers.dropout_forward",
    DROPOUT_CLASSIC,
    dropout_params,
    keep_dtype=("out_train", "out_test"),
)
def dropout_forward(impl: Impl, p: Params):
    (x, param), _ = _dropout_inputs(p)
    out, _ = impl("layers.dropout_forward", x, param, returns=("out", "cache"))
    out_test, _ = impl(
        "layers.dropout_forward", x, {**param, "mode": "test"}, returns=("out", "cache")
    )
    return {"out_train": out, "out_test": out_test}


def dropout_reused_param(impl: Impl, p: Params):
    """One live dropout_param without a seed through three train calls, as a net reuses it.

    Every call must draw a fresh mask from numpy's generator (seeded once here, alike for both
    implementations) for the shape of its own input; nothing may be kept in dropout_param.
    """
    rng = _rng(p)
    x = _randn(rng, p["shape"], p["dtype"], 1.0, 10.0)
    other = _randn(rng, (p["shape"][0] + 3, *p["shape"][1:]), p["dtype"], 1.0, 10.0)
    impl.seed(p["seed"])
    param = impl.put({"mode": "train", "p": p["p"]})
    outputs = {}
    for name, data in [("out_first", x), ("out_second", x), ("out_other_shape", other)]:
        outputs[name], _ = impl("layers.dropout_forward", data, param, returns=("out", "cache"))
    return outputs


edges("layers.dropout_forward", dropout_forward, {
    "keep_all": {**DROPOUT_CLASSIC, "shape": (5, 4), "p": 1.0, "seed": 3},
    "three_dimensional": {**DROPOUT_CLASSIC, "shape": (2, 3, 4), "p": 0.5, "seed": 4},
})  # fmt: skip
edges("layers.dropout_forward", dropout_reused_param, {
    "reused_param": {**DROPOUT_CLASSIC, "shape": (20, 8), "p": 0.5, "seed": 5},
})  # fmt: skip


@scenario("layers.dropout_backward", {**DROPOUT_CLASSIC, "shape": (10, 10)}, dropout_params)
def dropout_backward(impl: Impl, p: Params):
    (x, param), _ = _dropout_inputs(p)
    _, cache = impl("layers.dropout_forward", x, param, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), p["shape"], p["dtype"])
    return {"dx": impl("layers.dropout_backward", dout, cache)}


edges("layers.dropout_backward", dropout_backward, {
    "keep_all": {**DROPOUT_CLASSIC, "shape": (4, 5), "p": 1.0, "seed": 3},
    "three_dimensional": {**DROPOUT_CLASSIC, "shape": (2, 3, 4), "p": 0.5, "seed": 4},
})  # fmt: skip


gradient(
    GradientCase(
        "layers.dropout_backward",
        "layers.dropout_forward",
        "layers.dropout_backward",
        _dropout_inputs,
        ((0, "dx"),),
        {"shape": (6, 7), "p": 0.2, "seed": 123, "dtype": F64},
    )
)

# --- convolution and pooling -----------------------------------------------------------------


def _tiled_size(draw, window: int, stride: int, pad: int = 0) -> int:
    """An input size whose windows tile it exactly: (size + 2 * pad - window) % stride == 0.

    The docstrings promise that much (issue 17), so a student may assert it; sizes that leave
    rows over are not graded.
    """
    lowest = -(-max(0, 1 + 2 * pad - window) // stride)  # fewest extra steps for size >= 1
    steps = draw(st.integers(lowest, lowest + 3))
    return window - 2 * pad + steps * stride


@st.composite
def conv_params(draw) -> Params:
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    H, W = _tiled_size(draw, HH, stride, pad), _tiled_size(draw, WW, stride, pad)
    return {
        "N": draw(st.integers(1, 3)),
        "C": draw(st.integers(1, 3)),
        "H": H,
        "W": W,
        "F": draw(st.integers(1, 3)),
        "HH": HH,
        "WW": WW,
        "stride": stride,
        "pad": pad,
        "seed": draw(seeds),
        "dtype": draw(dtypes),
        "data": "randn",
    }


CONV_CLASSIC = {
    "N": 2, "C": 3, "H": 4, "W": 4, "F": 3, "HH": 4, "WW": 4,
    "stride": 2, "pad": 1, "seed": 0, "dtype": F64, "data": "linspace",
}  # fmt: skip


def _conv_inputs(p: Params):
    x_shape = (p["N"], p["C"], p["H"], p["W"])
    w_shape = (p["F"], p["C"], p["HH"], p["WW"])
    if p["data"] == "linspace":  # the notebook's classic case
        x = np.linspace(-0.1, 0.5, num=int(np.prod(x_shape))).reshape(x_shape)
        w = np.linspace(-0.2, 0.3, num=int(np.prod(w_shape))).reshape(w_shape)
        b = np.linspace(-0.1, 0.2, num=p["F"])
    else:
        rng = _rng(p)
        x, w, b = rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(p["F"])
    dtype = p["dtype"]
    param = {"stride": p["stride"], "pad": p["pad"]}
    return [x.astype(dtype), w.astype(dtype), b.astype(dtype), param], {}


def _conv_out_shape(p: Params):
    ho = 1 + (p["H"] + 2 * p["pad"] - p["HH"]) // p["stride"]
    wo = 1 + (p["W"] + 2 * p["pad"] - p["WW"]) // p["stride"]
    return (p["N"], p["F"], ho, wo)


@scenario("layers.conv_forward_naive", CONV_CLASSIC, conv_params())
def conv_forward_naive(impl: Impl, p: Params):
    args, _ = _conv_inputs(p)
    out, _ = impl("layers.conv_forward_naive", *args, returns=("out", "cache"))
    return {"out": out}


CONV_GRAD_CLASSIC = {**CONV_CLASSIC, "H": 5, "W": 5, "F": 2, "HH": 3, "WW": 3, "N": 2}
CONV_GRAD_CLASSIC.update(stride=1, pad=1, data="randn", seed=231)


@scenario("layers.conv_backward_naive", CONV_GRAD_CLASSIC, conv_params())
def conv_backward_naive(impl: Impl, p: Params):
    args, _ = _conv_inputs(p)
    _, cache = impl("layers.conv_forward_naive", *args, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), _conv_out_shape(p), p["dtype"])
    dx, dw, db = impl("layers.conv_backward_naive", dout, cache, returns=("dx", "dw", "db"))
    return {"dx": dx, "dw": dw, "db": db}


def _conv_edge(H, W, HH, WW, stride, pad, N=2, C=2, F=3, seed=11) -> Params:
    assert (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0
    sizes = {"N": N, "C": C, "H": H, "W": W, "F": F, "HH": HH, "WW": WW}
    return {**sizes, "stride": stride, "pad": pad, "seed": seed, "dtype": F64, "data": "randn"}


CONV_EDGES = {
    "stride_2_pad_1_odd_sizes": _conv_edge(7, 5, 3, 3, 2, 1),
    "even_non_square_filter": _conv_edge(5, 6, 2, 4, 1, 1, C=3, F=2),
    "stride_3_pad_2": _conv_edge(5, 7, 3, 2, 3, 2, N=1),
    "filter_as_large_as_input": _conv_edge(3, 4, 3, 4, 2, 0, F=1),
}
edges("layers.conv_forward_naive", conv_forward_naive, CONV_EDGES)
edges("layers.conv_backward_naive", conv_backward_naive, CONV_EDGES)

gradient(
    GradientCase(
        "layers.conv_backward_naive",
        "layers.conv_forward_naive",
        "layers.conv_backward_naive",
        _conv_inputs,
        ((0, "dx"), (1, "dw"), (2, "db")),
        {**CONV_GRAD_CLASSIC, "N": 1, "C": 2, "H": 5, "W": 3, "stride": 2},
        returns=("dx", "dw", "db"),
    )
)


@st.composite
def pool_params(draw) -> Params:
    ph, pw, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return {
        "N": draw(st.integers(1, 3)),
        "C": draw(st.integers(1, 3)),
        "H": _tiled_size(draw, ph, stride),
        "W": _tiled_size(draw, pw, stride),
        "pool_height": ph,
        "pool_width": pw,
        "stride": stride,
        "seed": draw(seeds),
        "dtype": draw(dtypes),
    }


POOL_CLASSIC = {
    "N": 2, "C": 3, "H": 4, "W": 4, "pool_height": 2, "pool_width": 2,
    "stride": 2, "seed": 0, "dtype": F64,
}  # fmt: skip


def _pool_inputs(p: Params):
    x = _distinct(_rng(p), (p["N"], p["C"], p["H"], p["W"]), p["dtype"])
    param = {k: p[k] for k in ("pool_height", "pool_width", "stride")}
    return [x, param], {}


def _pool_out_shape(p: Params):
    ho = 1 + (p["H"] - p["pool_height"]) // p["stride"]
    wo = 1 + (p["W"] - p["pool_width"]) // p["stride"]
    return (p["N"], p["C"], ho, wo)


@scenario("layers.max_pool_forward_naive", POOL_CLASSIC, pool_params())
def max_pool_forward_naive(impl: Impl, p: Params):
    args, _ = _pool_inputs(p)
    out, _ = impl("layers.max_pool_forward_naive", *args, returns=("out", "cache"))
    return {"out": out}


POOL_GRAD_CLASSIC = {**POOL_CLASSIC, "H": 4, "W": 6, "stride": 2, "seed": 231}


@scenario("layers.max_pool_backward_naive", POOL_GRAD_CLASSIC, pool_params())
def max_pool_backward_naive(impl: Impl, p: Params):
    args, _ = _pool_inputs(p)
    _, cache = impl("layers.max_pool_forward_naive", *args, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), _pool_out_shape(p), p["dtype"])
    return {"dx": impl("layers.max_pool_backward_naive", dout, cache)}


def _pool_edge(H, W, ph, pw, stride, N=2, C=2, seed=12) -> Params:
    assert (H - ph) % stride == 0 and (W - pw) % stride == 0
    sizes = {"N": N, "C": C, "H": H, "W": W, "pool_height": ph, "pool_width": pw}
    return {**sizes, "stride": stride, "seed": seed, "dtype": F64}


POOL_EDGES = {  # overlapping windows share maxima, so their gradients must add up
    "overlapping_stride_1": _pool_edge(5, 4, 3, 3, 1),
    "overlapping_stride_2_odd_sizes": _pool_edge(7, 5, 3, 3, 2),
    "non_square_window": _pool_edge(6, 7, 2, 3, 2, C=3),
    "stride_larger_than_window": _pool_edge(8, 7, 2, 1, 3),
    "window_as_large_as_input": _pool_edge(3, 2, 3, 2, 1, N=1),
}
edges("layers.max_pool_forward_naive", max_pool_forward_naive, POOL_EDGES)
edges("layers.max_pool_backward_naive", max_pool_backward_naive, POOL_EDGES)


gradient(
    GradientCase(
        "layers.max_pool_backward_naive",
        "layers.max_pool_forward_naive",
        "layers.max_pool_backward_naive",
        _pool_inputs,
        ((0, "dx"),),
        {**POOL_GRAD_CLASSIC, "N": 1, "C": 2},
    )
)

# --- spatial batch norm and group norm -------------------------------------------------------


@st.composite
def spatial_params(draw) -> Params:
    G = draw(st.integers(1, 3))
    return {
        "N": draw(st.integers(2, 4)),
        "C": G * draw(st.integers(1, 3)),
        "H": draw(st.integers(1, 4)),
        "W": draw(st.integers(1, 4)),
        "G": G,
        "steps": draw(st.integers(1, 3)),
        "momentum": draw(st.sampled_from([0.9, 0.5])),
        "seed": draw(seeds),
        "dtype": draw(dtypes),
    }


SPATIAL_CLASSIC = {
    "N": 10, "C": 4, "H": 5, "W": 6, "G": 2, "steps": 3, "momentum": 0.9,
    "seed": 231, "dtype": F64,
}  # fmt: skip
SPATIAL_GRAD_CLASSIC = {**SPATIAL_CLASSIC, "N": 2, "C": 4, "H": 3, "W": 2, "steps": 1}


def _spatial_inputs(p: Params, step: int = 0, group: bool = False):
    rng = np.random.RandomState(p["seed"] + 1000 * step)
    N, C, H, W = p["N"], p["C"], p["H"], p["W"]
    x = _randn(rng, (N, C, H, W), p["dtype"], 4.0, 10.0)
    shape = (1, C, 1, 1) if group else (C,)
    gamma = _randn(rng, shape, p["dtype"], 0.5, 1.0)
    beta = _randn(rng, shape, p["dtype"])
    return x, gamma, beta


@scenario("layers.spatial_batchnorm_forward", SPATIAL_CLASSIC, spatial_params())
def spatial_batchnorm_forward(impl: Impl, p: Params):
    return _running_then_test(impl, p, "layers.spatial_batchnorm_forward", _spatial_inputs)


SPATIAL_EDGES = {
    "all_sizes_equal": {**SPATIAL_CLASSIC, "N": 3, "C": 3, "H": 3, "W": 3, "G": 3, "seed": 8},
    "eps_given": {**SPATIAL_CLASSIC, "N": 2, "C": 4, "H": 3, "W": 2, "eps": 0.5, "seed": 9},
}
edges("layers.spatial_batchnorm_forward", spatial_batchnorm_forward, {
    **SPATIAL_EDGES,
    "default_momentum": {**SPATIAL_CLASSIC, "N": 2, "C": 2, "H": 2, "W": 3, "momentum": None},
})  # fmt: skip


@scenario("layers.spatial_batchnorm_backward", SPATIAL_GRAD_CLASSIC, spatial_params())
def spatial_batchnorm_backward(impl: Impl, p: Params):
    x, gamma, beta = _spatial_inputs(p)
    _, cache = impl(
        "layers.spatial_batchnorm_forward",
        x,
        gamma,
        beta,
        impl.put(_norm_param(p, mode="train")),
        returns=("out", "cache"),
    )
    dout = _randn(np.random.RandomState(p["seed"] + 1), x.shape, p["dtype"])
    dx, dgamma, dbeta = impl(
        "layers.spatial_batchnorm_backward", dout, cache, returns=("dx", "dgamma", "dbeta")
    )
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


edges("layers.spatial_batchnorm_backward", spatial_batchnorm_backward, SPATIAL_EDGES)


def _spatial_bn_args(p: Params):
    return [*_spatial_inputs(p), {"mode": "train"}], {}


gradient(
    GradientCase(
        "layers.spatial_batchnorm_backward",
        "layers.spatial_batchnorm_forward",
        "layers.spatial_batchnorm_backward",
        _spatial_bn_args,
        ((0, "dx"), (1, "dgamma"), (2, "dbeta")),
        SPATIAL_GRAD_CLASSIC,
        returns=("dx", "dgamma", "dbeta"),
    )
)


def _group_args(p: Params, **keys):
    return [*_spatial_inputs(p, group=True), p["G"], _norm_param(p, **keys)], {}


@scenario("layers.spatial_groupnorm_forward", SPATIAL_CLASSIC, spatial_params())
def spatial_groupnorm_forward(impl: Impl, p: Params):
    """Also with the ``mode`` a net may leave in gn_param: group norm must ignore it."""
    out, _ = impl("layers.spatial_groupnorm_forward", *_group_args(p)[0], returns=("out", "cache"))
    args, _ = _group_args(p, mode="test")
    out_test, _ = impl("layers.spatial_groupnorm_forward", *args, returns=("out", "cache"))
    return {"out": out, "out_with_mode_test": out_test}


GROUP_EDGES = {
    **SPATIAL_EDGES,
    "one_group": {**SPATIAL_CLASSIC, "N": 2, "C": 3, "H": 2, "W": 2, "G": 1, "seed": 10},
}
edges("layers.spatial_groupnorm_forward", spatial_groupnorm_forward, GROUP_EDGES)


@scenario("layers.spatial_groupnorm_backward", SPATIAL_GRAD_CLASSIC, spatial_params())
def spatial_groupnorm_backward(impl: Impl, p: Params):
    args, _ = _group_args(p)
    _, cache = impl("layers.spatial_groupnorm_forward", *args, returns=("out", "cache"))
    dout = _randn(np.random.RandomState(p["seed"] + 1), args[0].shape, p["dtype"])
    dx, dgamma, dbeta = impl(
        "layers.spatial_groupnorm_backward", dout, cache, returns=("dx", "dgamma", "dbeta")
    )
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


edges("layers.spatial_groupnorm_backward", spatial_groupnorm_backward, GROUP_EDGES)

gradient(
    GradientCase(
        "layers.spatial_groupnorm_backward",
        "layers.spatial_groupnorm_forward",
        "layers.spatial_groupnorm_backward",
        _group_args,
        ((0, "dx"), (1, "dgamma"), (2, "dbeta")),
        SPATIAL_GRAD_CLASSIC,
        returns=("dx", "dgamma", "dbeta"),
    )
)
