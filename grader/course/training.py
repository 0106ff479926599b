"""The training tasks of the assignment: which model, which Solver settings, how many images, and
the accuracy each must reach; and how a trained model's parameters are run through the reference
(the grader's accuracy never comes from the student's own forward pass).
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from grader.checks.training import Task

FC_CLASS = "classifiers.fc_net.FullyConnectedNet"
CNN_CLASS = "classifiers.cnn.ThreeLayerConvNet"

# Thresholds: the reference's accuracy with model seeds 0, 1 and 2 (measured with
# ``nngrade calibrate``) was 1.0/1.0/1.0 for both overfitting tasks, 0.37/0.39/0.36 for fc_train
# and 0.48/0.54/0.44 for cnn_train (chance is 0.10). Each threshold sits about 10 points below the
# worst of those, so a correct model with another initialisation order passes and a model that
# does not learn fails.
#: The rubric item each task earns.
TRAINING_ITEMS = {
    "fc_overfit": "fc_net.FullyConnectedNet overfits 50 images",
    "fc_train": "fc_net.FullyConnectedNet trains to the accuracy threshold",
    "cnn_overfit": "cnn.ThreeLayerConvNet overfits a small set",
    "cnn_train": "cnn.ThreeLayerConvNet trains to the accuracy threshold",
}

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            "fc_overfit",
            FC_CLASS,
            {"hidden_dims": [100, 100], "weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "sgd", "optim_config": {"learning_rate": 1e-2}, "num_epochs": 20,
             "batch_size": 25},
            num_train=50, num_val=50, num_heldout=0, measure="train",
            threshold=0.9, reference_accuracy=1.0,
        ),
        Task(
            "fc_train",
            FC_CLASS,
            {"hidden_dims": [100, 100], "weight_scale": 5e-2, "dtype": "float32",
             "normalization": "batchnorm"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 1e-3}, "num_epochs": 6,
             "batch_size": 100},
            num_train=5000, num_val=200, num_heldout=1000, measure="heldout",
            threshold=0.25, reference_accuracy=0.37,
        ),
        Task(
            "cnn_overfit",
            CNN_CLASS,
            {"weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 1e-3}, "num_epochs": 15,
             "batch_size": 50},
            num_train=50, num_val=50, num_heldout=0, measure="train",
            threshold=0.9, reference_accuracy=1.0,
        ),
        Task(
            "cnn_train",
            CNN_CLASS,
            {"weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 2e-4}, "num_epochs": 1,
             "batch_size": 25},
            num_train=6000, num_val=200, num_heldout=1000, measure="heldout",
            threshold=0.30, reference_accuracy=0.48,
        ),
    )
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The reference forward pass of a trained model
# ---------------------------------------------------------------------------------------------

#: What the grader reads of a trained model (the contract's names), and whether it must exist:
#: ``params`` (W1..WL, b1..bL, gamma/beta; W1..W3, b1..b3) and the batchnorm running statistics
#: kept in ``bn_params``.
STATE_ATTRIBUTES = {"params": True, "bn_params": False}
BN_STATS = ("running_mean", "running_var")
#: Bounds on a model the grader runs on its own CPU (the course's models are far below them).
MAX_PARAMETERS = 64_000_000
MAX_MULTIPLY_ADDS = 200_000_000  # per image
REFERENCE_PACKAGE = "reference"


@contextlib.contextmanager
def _global_rng_kept() -> Iterator[None]:
    """Building a reference model draws initial weights from numpy's global generator; the
    grader's own sequence must not move."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _reference_class(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(f"{REFERENCE_PACKAGE}.{module}"), name)


def _array(params: Mapping[str, np.ndarray], name: str, ndim: int) -> np.ndarray:
    if name not in params:
        raise ValueError(f"model.params has no {name!r} (it has {sorted(params)[:12]})")
    value = params[name]
    if value.ndim != ndim:
        raise ValueError(f"model.params[{name!r}] has shape {value.shape}, not {ndim}-D")
    return value


def _dtype(params: Mapping[str, np.ndarray]) -> type:
    return np.float32 if params["W1"].dtype == np.float32 else np.float64


def _check_size(params: Mapping[str, np.ndarray], multiply_adds: int) -> None:
    count = sum(int(v.size) for v in params.values())
    if count > MAX_PARAMETERS or multiply_adds > MAX_MULTIPLY_ADDS:
        raise ValueError(
            f"the model is too large to score ({count} parameters, {multiply_adds} "
            "multiply-adds per image)"
        )


def _fc(state: Mapping[str, np.ndarray], params: dict, input_shape: tuple) -> Any:
    layers = 1
    while f"W{layers + 1}" in params:
        layers += 1
    dims = [_array(params, "W1", 2).shape[0]]
    for i in range(1, layers + 1):
        w, b = _array(params, f"W{i}", 2), _array(params, f"b{i}", 1)
        if w.shape[0] != dims[-1] or b.shape != (w.shape[1],):
            raise ValueError(f"W{i} {w.shape} and b{i} {b.shape} do not follow layer {i - 1}")
        dims.append(w.shape[1])
    if dims[0] != math.prod(input_shape):
        raise ValueError(f"W1 takes {dims[0]} inputs; the images have {math.prod(input_shape)}")
    hidden = range(1, layers)
    norm = None
    if layers > 1 and all(f"gamma{i}" in params and f"beta{i}" in params for i in hidden):
        for i in hidden:
            for name in (f"gamma{i}", f"beta{i}"):
                if params[name].shape != (dims[i],):
                    raise ValueError(f"{name} has shape {params[name].shape}, not ({dims[i]},)")
        stats = all(
            state.get(f"bn_params.{i - 1}.{key}", np.empty(0)).shape == (dims[i],)
            for i in hidden
            for key in BN_STATS
        )
        norm = "batchnorm" if stats else "layernorm"
    _check_size(params, sum(a * b for a, b in zip(dims, dims[1:], strict=False)))
    dtype = _dtype(params)
    with _global_rng_kept():
        model = _reference_class(FC_CLASS)(
            dims[1:-1], input_dim=dims[0], num_classes=dims[-1], normalization=norm, dtype=dtype
        )
    model.params = {name: params[name].astype(dtype) for name in model.params}
    if norm == "batchnorm":
        for i, bn_param in enumerate(model.bn_params):
            for key in BN_STATS:
                bn_param[key] = state[f"bn_params.{i}.{key}"].astype(dtype)
    return model


def _cnn(params: dict, input_shape: tuple) -> Any:
    w1, w2, w3 = (_array(params, f"W{i}", n) for i, n in ((1, 4), (2, 2), (3, 2)))
    filters, channels, size, width = w1.shape
    _, height, breadth = input_shape
    pooled = filters * (height // 2) * (breadth // 2)
    shapes_ok = (
        channels == input_shape[0]
        and size == width
        and size % 2 == 1
        and w2.shape[0] == pooled
        and w3.shape[0] == w2.shape[1]
    )
    if not shapes_ok:
        raise ValueError(f"W1 {w1.shape}, W2 {w2.shape}, W3 {w3.shape} do not fit together")
    for i, w in ((1, w1.shape[0]), (2, w2.shape[1]), (3, w3.shape[1])):
        if _array(params, f"b{i}", 1).shape != (w,):
            raise ValueError(f"b{i} has shape {params[f'b{i}'].shape}, not ({w},)")
    macs = filters * channels * size * size * height * breadth + w2.size + w3.size
    _check_size({k: params[k] for k in ("W1", "W2", "W3")}, macs)
    dtype = _dtype(params)
    with _global_rng_kept():
        model = _reference_class(CNN_CLASS)(
            input_dim=tuple(input_shape),
            num_filters=filters,
            filter_size=size,
            hidden_dim=w2.shape[1],
            num_classes=w3.shape[1],
            dtype=dtype,
        )
    model.params = {name: params[name].astype(dtype) for name in model.params}
    return model


def reference_model(
    model_class: str, state: Mapping[str, np.ndarray], input_shape: tuple = (3, 32, 32)
) -> Any:
    """The reference model of ``model_class`` carrying a trained model's state.

    ``state`` is :func:`grader.checks.training.flatten_state` of the attributes in
    :data:`STATE_ATTRIBUTES`; the architecture (layer sizes, normalisation) is read off the
    parameters' shapes. Raises ValueError, in words a student can act on, when they do not make
    a model of that class.
    """
    params = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("params.")}
    if not params:
        raise ValueError("model.params holds no parameter arrays")
    if model_class == FC_CLASS:
        return _fc(state, params, tuple(input_shape))
    if model_class == CNN_CLASS:
        return _cnn(params, tuple(input_shape))
    raise ValueError(f"no reference forward pass for {model_class}")
