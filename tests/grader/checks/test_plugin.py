"""The rubric plugin: feedback from exceptions only, partial credit, dependency notes."""

from types import SimpleNamespace

import pytest

from grader.checks.impl import CheckFailure
from grader.checks.plugin import Outcome, RubricPlugin, feedback_from, with_dependency_notes
from grader.course import rubric
from grader.reports.results import CheckResult


def test_feedback_is_the_failure_message_and_location():
    assert feedback_from(CheckFailure("dx is None", "layers.py:3")) == ("dx is None", "layers.py:3")
    assert feedback_from(AssertionError("plain")) == ("plain", None)


class _Group(Exception):
    """Shaped like an ExceptionGroup (Python 3.11+) or hypothesis's multiple-bug report."""

    exceptions = (CheckFailure("first"), CheckFailure("second"))


def test_exception_groups_report_their_first_member():
    assert feedback_from(_Group("two bugs"))[0] == "first"


def test_unexpected_errors_do_not_leak_a_traceback():
    def inner():
        secret_local = "reference solution line"  # noqa: F841
        raise KeyError("W1")

    with pytest.raises(KeyError) as info:
        inner()
    message, _ = feedback_from(info.value)
    assert "KeyError" in message and "W1" in message
    assert "secret_local" not in message and "Traceback" not in message


def _plugin(outcomes, select=lambda item: True):
    plugin = RubricPlugin(student_impl=None, settings=None, select=select)
    plugin.outcomes = outcomes
    return plugin


def test_items_earn_points_in_proportion_to_passing_checks():
    item = rubric.BY_NAME["fc_net.FullyConnectedNet initialisation"]
    plugin = _plugin(
        {item.name: [Outcome(True, label="a"), Outcome(False, "bad init", label="b"),
                     Outcome(True, label="c")]},
        select=lambda i: i.name == item.name,
    )  # fmt: skip
    (result,) = plugin.results()
    assert result.score == pytest.approx(item.points * 2 / 3, abs=1e-3)
    assert result.status == "failed"
    assert result.output == "[b] bad init"


def test_an_edge_input_counts_with_its_scenario_all_or_nothing():
    item = rubric.BY_NAME["layers.affine_backward matches the reference on random inputs"]
    key = "layers.affine_backward"
    outcomes = [Outcome(True, label=key), Outcome(True, label=f"{key}+one_row"),
                Outcome(False, "wrong dw", label=f"{key}+N_equals_D")]  # fmt: skip
    plugin = _plugin({item.name: outcomes}, select=lambda i: i.name == item.name)
    (result,) = plugin.results()
    assert result.score == 0 and result.status == "failed"
    outcomes[2] = Outcome(True, label=f"{key}+N_equals_D")
    (result,) = _plugin({item.name: outcomes}, select=lambda i: i.name == item.name).results()
    assert result.score == item.points and result.status == "passed"


def test_items_that_never_ran_fail_with_a_message():
    results = _plugin({}, select=lambda i: i.obj == "optim.adam").results()
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("did not run" in r.output for r in results)


def _result(name, status):
    return CheckResult(name, 0.0 if status == "failed" else 1.0, 1.0, status, "msg")


def test_dependency_notes_name_only_the_blocks_the_check_uses():
    results = [
        _result("layers.batchnorm_forward expected values", "failed"),
        _result("optim.adam expected values", "failed"),
        _result("fc_net.FullyConnectedNet overfits 50 images", "failed"),
        _result("fc_net.FullyConnectedNet trains to the accuracy threshold", "failed"),
        _result("layers.affine_forward expected values", "passed"),
    ]
    noted = {r.name: r.output for r in with_dependency_notes(results)}
    trains = noted["fc_net.FullyConnectedNet trains to the accuracy threshold"]
    assert "layers.batchnorm_forward" in trains and "optim.adam" in trains
    assert noted["fc_net.FullyConnectedNet overfits 50 images"] == "msg"  # uses neither
    assert noted["layers.batchnorm_forward expected values"] == "msg"


def test_a_function_stopped_for_slowness_earns_none_of_its_points():
    items = [i for i in rubric.ITEMS if i.obj == "layers.relu_forward"]
    plugin = _plugin({i.name: [Outcome(True)] for i in items}, lambda i: i in items)
    plugin.student_impl = SimpleNamespace(stopped={"layers.relu_forward": "stopped: too slow"})
    results = plugin.results()
    assert results and all(r.score == 0 and r.output == "stopped: too slow" for r in results)
    plugin.student_impl = SimpleNamespace(stopped={"layers.relu_backward": "stopped"})
    assert all(r.score == r.max_score for r in plugin.results())


def test_model_comparisons_blame_no_other_object():
    # They rerun the reference's model on the student's own blocks, so a failure is the model's.
    results = [
        _result("layers.softmax_loss expected values", "failed"),
        _result("layers.layernorm_forward expected values", "failed"),
        _result("cnn.ThreeLayerConvNet loss and gradients match the reference", "failed"),
        _result("fc_net.FullyConnectedNet with layernorm matches the reference", "failed"),
    ]
    noted = {r.name: r.output for r in with_dependency_notes(results)}
    assert noted["cnn.ThreeLayerConvNet loss and gradients match the reference"] == "msg"
    assert noted["fc_net.FullyConnectedNet with layernorm matches the reference"] == "msg"
