"""The grader's interface to the worker: calls, handles, errors, output, restarts."""

from __future__ import annotations

import numpy as np
import pytest

from grader.sandbox import (
    Handle,
    Limits,
    SandboxError,
    StaleHandle,
    StudentError,
    StudentImportError,
    UnsupportedValue,
    WorkerDied,
)

from .conftest import FAST

MODEL = """
import numpy as np

class TwoLayer:
    def __init__(self, dims, input_dim=3, dtype=np.float32):
        rng = np.random.RandomState(0)
        self.params = {"W1": rng.randn(input_dim, dims[0]).astype(dtype)}
        self.dtype = dtype
        self.calls = 0

    def loss(self, X, y=None):
        self.calls += 1
        scores = X @ self.params["W1"]
        if y is None:
            return scores
        return float(scores.sum()), {"W1": np.ones_like(self.params["W1"])}
"""


def test_plain_values_round_trip_with_exact_types(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({}))
    values = [
        None,
        True,
        -3,
        2**70,
        1.5,
        float("nan"),
        float("-inf"),
        1 + 2j,
        "text",
        b"\x00bytes",
        [1, (2, 3)],
        {"a": 1, 2: "b", (1, 2): None},
        np.float32(1.25),
        np.int64(7),
        np.bool_(True),
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.zeros((0, 4)),
        np.array(3.5),
        np.array([1 + 1j], dtype=np.complex64),
        np.ones((2, 2), dtype=">f8"),
    ]
    back = sb.call("layers.twice", values)
    assert len(back) == 2 * len(values)
    for sent, got in zip(values, back[: len(values)], strict=True):
        assert type(got) is type(sent)
        if isinstance(sent, np.ndarray):
            assert got.dtype == sent.dtype and got.shape == sent.shape
            np.testing.assert_array_equal(got, sent)
        elif isinstance(sent, float) and sent != sent:
            assert got != got
        else:
            assert got == sent


def test_forward_backward_with_arrays(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({}))
    rng = np.random.RandomState(1)
    x, w, b = rng.randn(4, 2, 3), rng.randn(6, 5), rng.randn(5)
    out, cache = sb.call("layers.affine_forward", x, w, b)
    np.testing.assert_allclose(out, x.reshape(4, 6) @ w + b, rtol=1e-12)
    assert isinstance(cache, tuple) and all(type(c) is np.ndarray for c in cache)
    dx, dw, db = sb.call("layers.affine_backward", np.ones((4, 5)), cache)
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(db, np.full(5, 4.0))


def test_live_objects_come_back_as_handles_and_can_be_passed_back(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({}))
    x = np.arange(6.0).reshape(3, 2)
    bn = sb.put({"mode": "train"})
    assert isinstance(bn, Handle) and bn.type_name == "dict"
    out, cache = sb.call("layers.batchnorm_forward", x, np.ones(2), np.zeros(2), bn)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    assert type(cache[0]) is np.ndarray and isinstance(cache[1], Handle)
    assert "function" in cache[1].type_name
    fetched = sb.fetch(bn)
    np.testing.assert_allclose(fetched["running_mean"], 0.1 * x.mean(axis=0))
    assert sb.call(cache[1]) == "live object in the cache"


def test_models_attributes_and_methods(make_submission, open_sandbox):
    sb = open_sandbox(
        make_submission({"classifiers/__init__.py": "", "classifiers/fc_net.py": MODEL})
    )
    model = sb.call("classifiers.fc_net.TwoLayer", [4], input_dim=3, dtype=np.float64)
    assert isinstance(model, Handle) and model.type_name.endswith("TwoLayer")
    params = sb.getattr(model, "params")
    assert params["W1"].dtype == np.float64 and params["W1"].shape == (3, 4)
    sb.setattr(model, "params", {"W1": np.eye(3, 4)})
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(sb.call_method(model, "loss", X), X @ np.eye(3, 4))
    loss, grads = sb.call_method(model, "loss", X, np.array([0, 1]))
    assert loss == pytest.approx(float((X @ np.eye(3, 4)).sum())) and set(grads) == {"W1"}
    assert sb.getattr(model, "calls") == 2
    with pytest.raises(UnsupportedValue, match="not plain data"):
        sb.fetch(model)


def test_student_exception_carries_type_message_and_only_student_frames(
    make_submission, open_sandbox
):
    code = """
    import numpy as np
    def helper(x):
        return np.dot(x, np.ones((5, 5)))
    def broken(x):
        return helper(x)
    """
    sb = open_sandbox(make_submission({"optim.py": code}))
    with pytest.raises(StudentError) as info:
        sb.call("optim.broken", np.ones((2, 3)))
    err = info.value
    assert err.type_name == "ValueError" and "not aligned" in err.message
    assert 'File "cs231n/optim.py", line 6, in broken' in err.traceback
    assert "in helper" in err.traceback
    assert "numpy" not in err.traceback and "_nngrade" not in err.traceback


def test_import_failures_name_the_module_and_reason(make_submission, open_sandbox):
    files = {
        "optim.py": "def sgd(w, dw, config=None):\n    return w -\n",
        "solver_helpers.py": "import torch\n",
        "classifiers/__init__.py": "",
        "classifiers/cnn.py": "from .. import missing_module\n",
    }
    sb = open_sandbox(make_submission(files))
    with pytest.raises(StudentImportError) as info:
        sb.call("optim.sgd", 1, 2)
    assert info.value.module == "optim.py" and info.value.type_name == "SyntaxError"
    assert "optim.py, line 2" in info.value.message
    with pytest.raises(StudentImportError, match="No module named 'torch'") as info:
        sb.call("solver_helpers.anything")
    assert info.value.type_name == "ModuleNotFoundError"
    with pytest.raises(StudentImportError, match="the submission has no fc_net") as info:
        sb.call("fc_net.FullyConnectedNet")
    with pytest.raises(StudentImportError, match="cannot import name 'missing_module'"):
        sb.call("classifiers.cnn.ThreeLayerConvNet")
    with pytest.raises(StudentError, match="layers.py has no 'nothing_here'") as info:
        sb.call("layers.nothing_here")
    assert info.value.type_name == "AttributeError"
    with pytest.raises(StudentImportError, match="optim.py"):
        sb.import_module("optim")
    sb.import_module("layers")
    assert sb.call("layers.twice", 4) == 8 and sb.restarts == 0


def test_given_modules_come_from_the_course(make_submission, open_sandbox):
    files = {
        "solver.py": "ORIGIN = 'student'\ndef origin(): return ORIGIN\n",
        "im2col_cython.cpython-311-x86_64-linux-gnu.so": "not really a library",
    }
    sb = open_sandbox(make_submission(files))
    assert sb.package.replaced == ["solver.py"]
    assert sorted(sb.package.added) == ["fast_layers.py", "gradient_check.py"]
    with pytest.raises(StudentError, match="has no 'origin'"):
        sb.call("solver.origin")
    assert not (sb.package.path / "im2col_cython.cpython-311-x86_64-linux-gnu.so").exists()


def test_output_is_captured_per_call_and_kept_out_of_the_grader(
    make_submission, open_sandbox, capfd
):
    sb = open_sandbox(make_submission({}))
    assert sb.call("layers.shout", "hello") == "HELLO"
    assert sb.last_output == "said: hello\n"
    assert sb.call("layers.twice", 1) == 2
    assert sb.last_output == ""
    out, err = capfd.readouterr()
    assert "said" not in out + err


def test_grader_side_refuses_values_it_cannot_send(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({}))
    for bad in (object(), np.array([object()]), np.ma.masked_array([1.0]), lambda: 1):
        with pytest.raises(UnsupportedValue, match="cannot send"):
            sb.call("layers.twice", bad)
    assert sb.call("layers.twice", 2) == 4


def test_handles_die_with_their_worker(make_submission, open_sandbox):
    code = "import os\ndef die():\n    os._exit(4)\n"
    sb = open_sandbox(make_submission({"optim.py": code}))
    bn = sb.put({"mode": "train"})
    with pytest.raises(WorkerDied, match="exited with status 4 while running optim.die"):
        sb.call("optim.die")
    with pytest.raises(StaleHandle, match="worker 1, which exited with status 4"):
        sb.fetch(bn)
    assert sb.call("layers.twice", 3) == 6 and sb.restarts == 1
    sb.restart()
    assert sb.restarts == 2 and sb.call("layers.twice", 5) == 10


def test_timeout_context_and_closed_sandbox(make_submission, open_sandbox):
    code = "import time\ndef nap(s):\n    time.sleep(s)\n    return s\n"
    sb = open_sandbox(make_submission({"optim.py": code}), limits=Limits(call_timeout=0.5))
    with sb.timeout(5):
        assert sb.call("optim.nap", 0.8) == 0.8
    assert sb.restarts == 0
    sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.call("layers.twice", 1)


def test_isolation_report_is_available(make_submission, open_sandbox):
    sb = open_sandbox(make_submission({}), limits=FAST)
    report = sb.isolation_report
    assert sb.isolation.startswith(f"{report.level} isolation: ")
    assert report.level in ("strong", "partial", "weak")
    assert "2 s per call" in sb.isolation and "1 GiB memory" in sb.isolation


def test_seeding_the_workers_global_generator(make_submission, open_sandbox):
    code = "import numpy as np\ndef draw():\n    return np.random.randn(3)\n"
    sb = open_sandbox(make_submission({"optim.py": code}))
    sb.seed(231)
    first = sb.call("optim.draw")
    sb.seed(231)
    np.testing.assert_array_equal(sb.call("optim.draw"), first)
    np.random.seed(231)
    np.testing.assert_array_equal(first, np.random.randn(3))
