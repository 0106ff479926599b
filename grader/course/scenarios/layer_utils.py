"""Scenarios for the sandwich layers of ``layer_utils.py``: forward then backward through each."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import Impl
from grader.checks.scenario import Params, scenario
from grader.course.scenarios.layers import edges

seeds = st.integers(0, 2**16)


@scenario(
    "layer_utils.affine_relu",
    {"N": 4, "D": 6, "M": 5, "seed": 231},
    st.fixed_dictionaries(
        {"N": st.integers(1, 5), "D": st.integers(1, 6), "M": st.integers(1, 6), "seed": seeds}
    ),
)
def affine_relu(impl: Impl, p: Params):
    rng = np.random.RandomState(p["seed"])
    x, w, b = rng.randn(p["N"], p["D"]), rng.randn(p["D"], p["M"]), rng.randn(p["M"])
    out, cache = impl("layer_utils.affine_relu_forward", x, w, b, returns=("out", "cache"))
    dout = rng.randn(p["N"], p["M"])
    dx, dw, db = impl("layer_utils.affine_relu_backward", dout, cache, returns=("dx", "dw", "db"))
    return {"out": out, "dx": dx, "dw": dw, "db": db}


edges("layer_utils.affine_relu", affine_relu, {
    "N_equals_D": {"N": 4, "D": 4, "M": 3, "seed": 1},
    "one_row": {"N": 1, "D": 5, "M": 2, "seed": 2},
})  # fmt: skip

conv_util_params = st.fixed_dictionaries(
    {
        "N": st.integers(1, 3),
        "C": st.integers(1, 3),
        "half": st.integers(1, 3),
        "F": st.integers(1, 3),
        "seed": seeds,
    }
)
CONV_UTIL_CLASSIC = {"N": 2, "C": 3, "half": 3, "F": 3, "seed": 231}


def _conv_util_inputs(p: Params):
    """Random draws: a 3x3 same-size convolution of an even-sided image; edges set the rest."""
    rng = np.random.RandomState(p["seed"])
    side = 2 * p.get("half", 0)
    x = rng.randn(p["N"], p["C"], p.get("H", side), p.get("W", side))
    w = rng.randn(p["F"], p["C"], *p.get("filter", (3, 3)))
    b = rng.randn(p["F"])
    return rng, x, w, b, {"stride": p.get("stride", 1), "pad": p.get("pad", 1)}


def _conv_out_shape(x: np.ndarray, w: np.ndarray, conv_param: dict) -> tuple[int, ...]:
    stride, pad = conv_param["stride"], conv_param["pad"]
    height = 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride
    width = 1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride
    return (x.shape[0], w.shape[0], height, width)


@scenario("layer_utils.conv_relu", CONV_UTIL_CLASSIC, conv_util_params)
def conv_relu(impl: Impl, p: Params):
    rng, x, w, b, conv_param = _conv_util_inputs(p)
    out, cache = impl(
        "layer_utils.conv_relu_forward", x, w, b, conv_param, returns=("out", "cache")
    )
    dout = rng.randn(*_conv_out_shape(x, w, conv_param))
    dx, dw, db = impl("layer_utils.conv_relu_backward", dout, cache, returns=("dx", "dw", "db"))
    return {"out": out, "dx": dx, "dw": dw, "db": db}


# Sizes the fast layers accept: every window tiles its input (as the docstrings promise).
CONV_UTIL_EDGES = {
    "stride_2_odd_sizes": {"N": 2, "C": 2, "H": 7, "W": 5, "F": 3, "stride": 2, "seed": 1},
    "even_non_square_filter": {
        "N": 1, "C": 3, "H": 5, "W": 6, "F": 2, "filter": (2, 4), "pad": 0, "seed": 2,
    },
}  # fmt: skip
edges("layer_utils.conv_relu", conv_relu, CONV_UTIL_EDGES)


@scenario("layer_utils.conv_relu_pool", CONV_UTIL_CLASSIC, conv_util_params)
def conv_relu_pool(impl: Impl, p: Params):
    rng, x, w, b, conv_param = _conv_util_inputs(p)
    ph, pw, stride = p.get("pool", (2, 2, 2))
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = impl(
        "layer_utils.conv_relu_pool_forward",
        x,
        w,
        b,
        conv_param,
        pool_param,
        returns=("out", "cache"),
    )
    _, _, height, width = _conv_out_shape(x, w, conv_param)
    pooled = (1 + (height - ph) // stride, 1 + (width - pw) // stride)
    dout = rng.randn(p["N"], p["F"], *pooled)
    dx, dw, db = impl(
        "layer_utils.conv_relu_pool_backward", dout, cache, returns=("dx", "dw", "db")
    )
    return {"out": out, "dx": dx, "dw": dw, "db": db}


edges("layer_utils.conv_relu_pool", conv_relu_pool, {
    "overlapping_pool_odd_sizes": {
        "N": 2, "C": 2, "H": 7, "W": 5, "F": 2, "pool": (3, 3, 2), "seed": 3,
    },
    "non_square_pool": {"N": 1, "C": 2, "H": 6, "W": 7, "F": 3, "pool": (2, 3, 2), "seed": 4},
})  # fmt: skip


@scenario("layer_utils.conv_bn_relu", CONV_UTIL_CLASSIC, conv_util_params)
def conv_bn_relu(impl: Impl, p: Params):
    rng, x, w, b, conv_param = _conv_util_inputs(p)
    gamma, beta = 1 + 0.1 * rng.randn(p["F"]), rng.randn(p["F"])
    bn_param = impl.put({"mode": "train"})
    out, cache = impl(
        "layer_utils.conv_bn_relu_forward",
        x,
        w,
        b,
        gamma,
        beta,
        conv_param,
        bn_param,
        returns=("out", "cache"),
    )
    dout = rng.randn(*_conv_out_shape(x, w, conv_param))
    dx, dw, db, dgamma, dbeta = impl(
        "layer_utils.conv_bn_relu_backward",
        dout,
        cache,
        returns=("dx", "dw", "db", "dgamma", "dbeta"),
    )
    # Then in test mode with the running averages the train call left in bn_param.
    state = impl.fetch(bn_param)
    test_param = impl.put({**(state if isinstance(state, dict) else {}), "mode": "test"})
    out_test, _ = impl(
        "layer_utils.conv_bn_relu_forward",
        rng.randn(*x.shape),
        w,
        b,
        gamma,
        beta,
        conv_param,
        test_param,
        returns=("out", "cache"),
    )
    return {
        "out": out,
        "dx": dx,
        "dw": dw,
        "db": db,
        "dgamma": dgamma,
        "dbeta": dbeta,
        "out_test": out_test,
    }


edges("layer_utils.conv_bn_relu", conv_bn_relu, CONV_UTIL_EDGES)
