"""Fair comparisons (issue 17): float32 slack from the case, one bug charged on one object.

The "student" here is the reference with a few functions replaced, run in-process: what is
tested is how the grader compares, not the sandbox.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import compare
from grader.checks import scenario as scenarios
from grader.checks.assertions import expect_matches_reference, expect_outputs
from grader.checks.blocks import is_graded, student_blocks
from grader.checks.impl import CheckFailure, ReferenceImpl
from grader.course.scenarios.models import cnn_param_shapes, cnn_pooled_size
from reference import layer_utils as ref_utils
from reference import layers as ref_layers

scenarios.load_all()

# The reference's functions as imported, before any test swaps a module's globals: in-process,
# a "student" that looked them up while the reference's modules call the student would recurse
# (in a grading the student's functions live in the sandbox, apart).
ORIGINAL = {
    f"{module.__name__.split('.', 1)[1]}.{name}": value
    for module in (ref_layers, ref_utils)
    for name, value in vars(module).items()
    if callable(value)
}


class Patched(ReferenceImpl):
    """The reference, with some functions (``layers.softmax_loss``...) replaced."""

    label = "your code"

    def __init__(self, **functions) -> None:
        super().__init__()
        self.functions = {name.replace("__", "."): f for name, f in functions.items()}
        self.calls: list[str] = []

    def __call__(self, name, *args, returns=None, **kwargs):
        self.calls.append(name)
        if name in self.functions:
            return self.functions[name](*args, **kwargs)
        if name in ORIGINAL:
            return ORIGINAL[name](*args, **kwargs)
        return super().__call__(name, *args, returns=returns, **kwargs)


# --- (a) a closed-form batchnorm backward in float32 at N=2 -----------------------------------


def _closed_form_forward(x, gamma, beta, bn_param):
    out, _ = ref_layers.batchnorm_forward(x, gamma, beta, bn_param)
    mu = x.mean(axis=0)
    std = np.sqrt(((x - mu) ** 2).mean(axis=0) + bn_param.get("eps", 1e-5))
    return out, (x, (x - mu) / std, std, gamma)


def _closed_form_backward(dout, cache):
    """dx = gamma / (N std) (N dout - sum(dout) - x_norm sum(dout x_norm)), derived on paper."""
    _, x_norm, std, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    return (gamma / (n * std)) * (n * dout - dbeta - x_norm * dgamma), dgamma, dbeta


CLOSED_FORM = {
    "layers__batchnorm_forward": _closed_form_forward,
    "layers__batchnorm_backward": _closed_form_backward,
}
# A drawn case where the float32 answers of the closed form and of the reference's graph differ
# by more than the default float32 tolerance (the float64 truth lies between them).
N2_FLOAT32 = {"N": 2, "D": 2, "steps": 1, "momentum": 0.9, "seed": 2358, "dtype": "float32"}


def test_float32_closed_form_at_n2_misses_the_default_tolerance():
    case = scenarios.REGISTRY["layers.batchnorm_backward"]
    reference, student = ReferenceImpl(), Patched(**CLOSED_FORM)
    expected, got = case.run(reference, N2_FLOAT32), case.run(student, N2_FLOAT32)
    with pytest.raises(CheckFailure, match="dx"):
        expect_outputs(case.obj, N2_FLOAT32, got, expected, case.rtol, case.atol)
    truth = case.run(reference, {**N2_FLOAT32, "dtype": "float64"})["dx"]
    exact = case.run(student, {**N2_FLOAT32, "dtype": "float64"})["dx"]
    assert np.abs(exact - truth).max() < 1e-12  # the formula is right


def test_float32_closed_form_at_n2_passes_with_the_case_s_rounding_slack():
    case = scenarios.REGISTRY["layers.batchnorm_backward"]
    student = Patched(**CLOSED_FORM)
    expect_matches_reference(case.obj, case, student, ReferenceImpl(), N2_FLOAT32)


def test_a_wrong_float32_gradient_still_fails():
    def halved(dout, cache):
        dx, dgamma, dbeta = _closed_form_backward(dout, cache)
        return dx * 0.5, dgamma, dbeta

    case = scenarios.REGISTRY["layers.batchnorm_backward"]
    student = Patched(
        layers__batchnorm_forward=_closed_form_forward, layers__batchnorm_backward=halved
    )
    with pytest.raises(CheckFailure, match="dx"):
        expect_matches_reference(case.obj, case, student, ReferenceImpl(), N2_FLOAT32)


# --- (e) a gradient that should be 0, made of terms of size ~300 ------------------------------


def test_zero_gradient_from_large_terms_gets_slack_from_the_terms_not_the_result():
    # layernorm_backward at N=2, D=1: dx is 0 exactly, but a closed form sums terms of size
    # gamma / sqrt(eps) ~ 300; one float32 rounding step of those is 6.1e-5.
    reference32 = {"dx": np.zeros((2, 1), np.float32), "dbeta": np.array([1.7], np.float32)}
    reference64 = {"dx": np.zeros((2, 1)), "dbeta": np.array([1.7])}
    student64 = {"dx": np.array([[1.1e-13], [-5.7e-14]]), "dbeta": np.array([1.7])}
    got = np.array([[6.1e-5], [0.0]], np.float32)
    assert compare.check_array("dx", got, reference32["dx"]) is not None
    slack = compare.rounding_slack(reference32, reference64, student64)
    assert compare.check_array("dx", got, reference32["dx"], slack=slack["dx"]) is None
    # ... but not a real error, and not from a formula that is wrong in float64.
    assert compare.check_array("dx", got * 100, reference32["dx"], slack=slack["dx"]) is not None
    wrong64 = {"dx": np.array([[0.3], [0.1]]), "dbeta": np.array([1.7])}
    assert compare.rounding_slack(reference32, reference64, wrong64)["dx"] <= slack["dx"]


def test_rounding_slack_is_capped():
    reference32 = {"out": np.ones(3, np.float32)}
    reference64 = {"out": np.ones(3)}
    noisy64 = {"out": np.ones(3) + 9e-8}  # within the float64 tolerance, but far from rounding
    slack = compare.rounding_slack(reference32, reference64, noisy64)["out"]
    rtol, atol = compare.TOLERANCES[np.dtype(np.float32)]
    assert slack <= compare.SLACK_CAP * (atol + rtol) + 1e-12


# --- shapes graded where they are made ---------------------------------------------------------


def test_spatial_batchnorm_running_mean_shape_is_batchnorm_forward_s():
    expected = {"running_mean": np.arange(3.0)}
    got = {"running_mean": np.arange(3.0).reshape(1, 3)}
    params = {"N": 2, "dtype": "float64"}
    expect_outputs("layers.spatial_batchnorm_forward", params, got, expected)
    with pytest.raises(CheckFailure, match=r"shape \(1, 3\)"):
        expect_outputs("layers.batchnorm_forward", params, got, expected)


# --- composites rerun on the student's own blocks ----------------------------------------------


def _eps_softmax(x, y):
    """Probabilities first, then -log(p + 1e-4) 'to avoid log(0)': a softmax_loss bug."""
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y] + 1e-4).mean()
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx / n


FC_CASE = {
    "N": 3, "D": 4, "C": 3, "hidden": (5,), "reg": 0.0, "normalization": None, "keep": 1,
    "seed": 7, "dtype": "float64",
}  # fmt: skip


def test_graded_blocks_are_the_rubric_s_functions():
    assert is_graded("layers", "softmax_loss")
    assert is_graded("layer_utils", "affine_relu_forward")
    assert not is_graded("layer_utils", "affine_norm_relu_forward")  # a free helper


def test_student_blocks_swap_and_restore_the_reference_s_globals():
    from reference.classifiers import fc_net

    original = fc_net.softmax_loss
    student = Patched(layers__softmax_loss=_eps_softmax)
    with student_blocks(student, ("classifiers.fc_net",)):
        assert fc_net.softmax_loss is not original
        fc_net.softmax_loss(np.zeros((2, 3)), np.array([0, 1]))
    assert fc_net.softmax_loss is original
    assert student.calls == ["layers.softmax_loss"]


def _model_with(softmax):
    """A student whose model calls their own (given) softmax, like the reference's model."""

    class Student(Patched):
        def __call__(self, name, *args, returns=None, **kwargs):
            if name.startswith("classifiers."):
                with student_blocks(Patched(layers__softmax_loss=softmax), ("classifiers.fc_net",)):
                    return super().__call__(name, *args, returns=returns, **kwargs)
            return super().__call__(name, *args, returns=returns, **kwargs)

        def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
            with student_blocks(Patched(layers__softmax_loss=softmax), ("classifiers.fc_net",)):
                return super().method(obj, name, *args, returns=returns, **kwargs)

    return Student(layers__softmax_loss=softmax)


def test_a_layer_bug_is_not_charged_again_on_the_model():
    case = scenarios.REGISTRY["fc_net.FullyConnectedNet"]
    student = _model_with(_eps_softmax)
    expected = case.run(ReferenceImpl(), FC_CASE)
    with pytest.raises(CheckFailure):  # the model's outputs do differ from the reference's
        expect_outputs(case.obj, FC_CASE, case.run(student, FC_CASE), expected, 1e-6, 1e-8)
    expect_matches_reference(case.obj, case, student, ReferenceImpl(), FC_CASE)


def test_a_model_bug_is_still_charged_and_named():
    case = scenarios.REGISTRY["fc_net.FullyConnectedNet"]
    doubled = {**FC_CASE, "reg": 0.7}

    class NoLastW(Patched):  # leaves the last layer's W out of the L2 term
        def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
            result = super().method(obj, name, *args, returns=returns, **kwargs)
            if len(args) == 2:
                loss, grads = result
                w = obj.params["W2"]
                grads = {**grads, "W2": grads["W2"] - obj.reg * w}
                return loss - 0.5 * obj.reg * float(np.sum(w * w)), grads
            return result

    with pytest.raises(CheckFailure, match="FullyConnectedNet itself"):
        expect_matches_reference(case.obj, case, NoLastW(), ReferenceImpl(), doubled)


# --- the CNN's shapes beyond the defaults --------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "filter_size", "pooled"), [(8, 3, 4), (6, 5, 3), (7, 4, 3), (15, 4, 7), (9, 2, 4)]
)
def test_cnn_pooled_size_follows_the_padding_for_even_filters(size, filter_size, pooled):
    assert cnn_pooled_size(size, filter_size) == pooled


def test_cnn_shapes_match_the_reference_model_for_an_even_filter():
    from reference.classifiers.cnn import ThreeLayerConvNet

    p = {"input_dim": (3, 7, 9), "num_filters": 3, "filter_size": 4, "hidden_dim": 5,
         "num_classes": 4}  # fmt: skip
    model = ThreeLayerConvNet(**p)
    assert {k: v.shape for k, v in model.params.items()} == cnn_param_shapes(p)
