"""Scenarios for the sandwich layers of ``layer_utils.py``: forward then backward through each."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import Impl
from grader.checks.scenario import Params, scenario

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
    rng = np.random.RandomState(p["seed"])
    side = 2 * p["half"]
    x = rng.randn(p["N"], p["C"], side, side)
    w = rng.randn(p["F"], p["C"], 3, 3)
    b = rng.randn(p["F"])
    return rng, x, w, b, {"stride": 1, "pad": 1}


@scenario("layer_utils.conv_relu_pool", CONV_UTIL_CLASSIC, conv_util_params)
def conv_relu_pool(impl: Impl, p: Params):
    rng, x, w, b, conv_param = _conv_util_inputs(p)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = impl(
        "layer_utils.conv_relu_pool_forward",
        x,
        w,
        b,
        conv_param,
        pool_param,
        returns=("out", "cache"),
    )
    dout = rng.randn(p["N"], p["F"], p["half"], p["half"])
    dx, dw, db = impl(
        "layer_utils.conv_relu_pool_backward", dout, cache, returns=("dx", "dw", "db")
    )
    return {"out": out, "dx": dx, "dw": dw, "db": db}


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
    dout = rng.randn(*x.shape[:1], p["F"], *x.shape[2:])
    dx, dw, db, dgamma, dbeta = impl(
        "layer_utils.conv_bn_relu_backward",
        dout,
        cache,
        returns=("dx", "dw", "db", "dgamma", "dbeta"),
    )
    return {"out": out, "dx": dx, "dw": dw, "db": db, "dgamma": dgamma, "dbeta": dbeta}
