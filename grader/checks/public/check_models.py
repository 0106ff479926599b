"""Model checks a student can run: parameter initialisation, output shapes, the initial loss.

They hold no reference code: expected shapes come from the contract, and the expected initial
loss is recomputed in the grader from the student's own initial parameters with plain numpy;
degenerate weights (all zeros, one constant) earn nothing, since they give log(C) for any loss.
"""

import numpy as np
import pytest

from grader.checks import compare
from grader.checks.assertions import degenerate_output
from grader.checks.impl import CheckFailure
from grader.course.scenarios.models import CNN_CLASS, FC_CLASS, cnn_param_shapes, fc_param_shapes

FC = "fc_net.FullyConnectedNet"
CNN = "cnn.ThreeLayerConvNet"


def _params(student, model, expected_shapes, what):
    params = student.get(model, "params")
    if not isinstance(params, dict):
        raise CheckFailure(f"{what}.params should be a dict, but is {compare.describe(params)}.")
    if not params:
        raise CheckFailure(
            f"{what}.params is empty: __init__ should store the initial parameters "
            f"{sorted(expected_shapes)} in self.params."
        )
    missing = sorted(set(expected_shapes) - set(params))
    extra = sorted(set(params) - set(expected_shapes))
    if missing or extra:
        raise CheckFailure(
            f"{what}.params has the wrong keys: missing {missing or 'none'}, "
            f"unexpected {extra or 'none'} (expected {sorted(expected_shapes)})."
        )
    for name, shape in expected_shapes.items():
        message = compare.check_shape(f"params[{name!r}]", params[name], shape)
        if message:
            raise CheckFailure(f"{what}: {message}")
    return params


def _check_weights(params, names, scale, dtype, what):
    problems = []
    for name, value in params.items():
        if value.dtype != dtype:
            problems.append(f"params[{name!r}] has dtype {value.dtype}, expected {np.dtype(dtype)}")
        if name in names:
            std, mean = float(value.std()), float(value.mean())
            # Five standard errors of a sample standard deviation: a correct draw never fails,
            # a wrong scale (1e-3 for 1e-2, He or Xavier scaling) always does.
            tolerance = max(0.05, 5 / np.sqrt(2 * value.size))
            if abs(std / scale - 1) > tolerance:
                problems.append(
                    f"params[{name!r}] has standard deviation {std:.4g}; weights should be drawn "
                    f"from a normal distribution with standard deviation weight_scale={scale}"
                )
            if abs(mean) > 5 * scale / np.sqrt(value.size):
                problems.append(f"params[{name!r}] has mean {mean:.4g}; expected about 0")
        elif name.startswith("gamma") and not np.all(value == 1):
            problems.append(f"params[{name!r}] should start as ones")
        elif name.startswith(("b", "beta")) and np.any(value != 0):
            problems.append(f"params[{name!r}] should start as zeros")
    if problems:
        raise CheckFailure(f"{what} is not initialised as specified:\n- " + "\n- ".join(problems))


@pytest.mark.rubric(f"{FC} initialisation")
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def check_fc_initialisation(student, normalization):
    student.seed(0)  # initial weights come from numpy's global RNG
    p = {"D": 120, "hidden": (90, 60), "C": 10, "normalization": normalization}
    scale, dtype = 5e-2, np.float32
    what = f"FullyConnectedNet([90, 60], input_dim=120, normalization={normalization!r})"
    model = student(
        FC_CLASS, [90, 60], input_dim=120, num_classes=10, weight_scale=scale,
        normalization=normalization, dtype=dtype,
    )  # fmt: skip
    shapes = fc_param_shapes(p)
    params = _params(student, model, shapes, what)
    weights = {k for k in shapes if k.startswith("W")}
    _check_weights(params, weights, scale, dtype, what)
    for attr, expected in (("num_layers", 3), ("reg", 0.0)):
        value = student.get(model, attr)
        if value != expected:
            raise CheckFailure(f"{what}.{attr} is {value!r}, expected {expected!r}.")


def _softmax_loss(scores, y):
    """Mean cross-entropy, via log-sum-exp around each row's largest score."""
    top = scores.max(axis=1)
    log_norm = top + np.log(np.exp(scores - top[:, None]).sum(axis=1))
    return float((log_norm - scores[np.arange(len(y)), y]).mean())


@pytest.mark.rubric(f"{FC} expected initial loss")
@pytest.mark.parametrize("reg", [0.0, 3.14])
def check_fc_initial_loss(student, reg):
    student.seed(0)  # initial weights come from numpy's global RNG
    rng = np.random.RandomState(231)
    N, D, C = 5, 15, 10
    X, y = rng.randn(N, D), rng.randint(C, size=N)
    model = student(
        FC_CLASS, [20, 30], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
        dtype=np.float64,
    )  # fmt: skip
    params = _params(student, model, fc_param_shapes({"D": D, "hidden": (20, 30), "C": C}), "model")
    for name in sorted(n for n in params if n.startswith("W")):
        degenerate = degenerate_output(params[name])
        if degenerate:
            raise CheckFailure(
                f"FullyConnectedNet([20, 30], input_dim=15, weight_scale=0.05): params[{name!r}] "
                f"{degenerate.replace('returns', 'holds')}. With such weights every class gets the "
                "same score and the loss is log(C) whatever loss() computes, so it proves "
                "nothing: draw the weights as specified (see the initialisation check)."
            )
    h = X
    for i in (1, 2):
        h = np.maximum(0, h @ params[f"W{i}"] + params[f"b{i}"])
    scores = h @ params["W3"] + params["b3"]
    expected = _softmax_loss(scores, y) + 0.5 * reg * sum(
        float(np.sum(params[f"W{i}"] ** 2)) for i in (1, 2, 3)
    )
    loss, _ = student.method(model, "loss", X, y, returns=("loss", "grads"))
    message = compare.check_array("loss", loss, expected, rtol=1e-6, atol=1e-10)
    if message:
        raise CheckFailure(
            f"FullyConnectedNet([20, 30], input_dim=15, reg={reg}, dtype=np.float64).loss(X, y) "
            f"on 5 random inputs, with your own initial parameters:\n{message}\n"
            "The loss is the mean softmax loss plus 0.5 * reg * sum of squared weights "
            "(weights only, no biases)."
        )


@pytest.mark.rubric(f"{CNN} initialisation and output shapes")
def check_cnn_initialisation_and_shapes(student):
    student.seed(0)  # initial weights come from numpy's global RNG
    # Not the defaults: an even filter and sides that are odd and not multiples of 4 (within the
    # contract: the conv output is even, as the 2x2 pool promises), so a hidden-affine size or a
    # padding that only works for the defaults fails here.
    p = {"input_dim": (3, 15, 13), "num_filters": 8, "filter_size": 4, "hidden_dim": 50,
         "num_classes": 10}  # fmt: skip
    scale = 1e-2
    what = "ThreeLayerConvNet(input_dim=(3, 15, 13), num_filters=8, filter_size=4, hidden_dim=50)"
    model = student(CNN_CLASS, weight_scale=scale, dtype=np.float32, **p)
    shapes = cnn_param_shapes(p)
    params = _params(student, model, shapes, what)
    _check_weights(params, {"W1", "W2", "W3"}, scale, np.float32, what)
    X = np.random.RandomState(0).randn(4, *p["input_dim"]).astype(np.float32)
    scores = student.method(model, "loss", X)
    message = compare.check_shape("scores = model.loss(X)", scores, (4, 10))
    if message:
        raise CheckFailure(f"{what}, X of shape {X.shape}: {message}")
    loss, grads = student.method(model, "loss", X, np.arange(4), returns=("loss", "grads"))
    if not isinstance(grads, dict) or set(grads) != set(shapes):
        keys = sorted(grads) if isinstance(grads, dict) else compare.describe(grads)
        raise CheckFailure(
            f"{what}: loss(X, y) should return grads for {sorted(shapes)}: got {keys}."
        )
    for name, shape in shapes.items():
        message = compare.check_shape(f"grads[{name!r}]", grads[name], shape)
        if message:
            raise CheckFailure(f"{what}: {message}")
    if not np.isfinite(loss) or abs(float(loss) - np.log(10)) > 0.1:
        raise CheckFailure(
            f"{what}: the initial loss with tiny weights should be close to log(10) = 2.303, "
            f"got {loss!r}."
        )
