"""Scenarios for the update rules of ``optim.py``: the notebook's figures, then several steps."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import CheckFailure, Impl
from grader.checks.scenario import Params, scenario

CLASSIC_STATE = {
    "sgd_momentum": {"learning_rate": 1e-3, "velocity": ("linspace", 0.6, 0.9)},
    "rmsprop": {"learning_rate": 1e-2, "cache": ("linspace", 0.6, 0.9)},
    "adam": {
        "learning_rate": 1e-2,
        "m": ("linspace", 0.6, 0.9),
        "v": ("linspace", 0.7, 0.5),
        "t": 5,
    },
}


def _classic_config(rule: str) -> dict:
    config = {}
    for key, value in CLASSIC_STATE[rule].items():
        if isinstance(value, tuple):
            config[key] = np.linspace(value[1], value[2], num=20).reshape(4, 5)
        else:
            config[key] = value
    return config


def _steps(impl: Impl, rule: str, p: Params) -> dict:
    """Run ``steps`` updates, feeding each returned config into the next call."""
    name = f"optim.{rule}"
    if p["classic"]:
        w = np.linspace(-0.4, 0.6, num=20).reshape(4, 5)
        config = _classic_config(rule)
    else:
        rng = np.random.RandomState(p["seed"])
        w = rng.randn(*p["shape"])
        config = {"learning_rate": p["learning_rate"]}
    outputs: dict = {}
    for step in range(p["steps"]):
        if p["classic"]:
            dw = np.linspace(-0.6, 0.4, num=20).reshape(4, 5)
        else:
            dw = np.random.RandomState(p["seed"] + step + 1).randn(*p["shape"])
        w, config = impl(name, w, dw, config, returns=("next_w", "config"))
        if not isinstance(config, dict):
            raise CheckFailure(f"{name} must return the config dict as its second value.")
        outputs[f"w_{step}"] = w
    for key in sorted(config):
        value = config[key]
        if isinstance(value, (np.ndarray, int, float)) and key != "learning_rate":
            outputs[f"config_{key}"] = np.asarray(value, dtype=np.float64)
    return outputs


def _strategy() -> st.SearchStrategy[Params]:
    return st.fixed_dictionaries(
        {
            "classic": st.just(False),
            "shape": st.lists(st.integers(1, 5), min_size=1, max_size=2).map(tuple),
            "learning_rate": st.sampled_from([1e-3, 1e-2, 0.1]),
            "steps": st.integers(2, 6),
            "seed": st.integers(0, 2**16),
        }
    )


def _register(rule: str) -> None:
    def run(impl: Impl, p: Params) -> dict:
        return _steps(impl, rule, p)

    run.__name__ = rule
    scenario(f"optim.{rule}", {"classic": True, "steps": 1}, _strategy())(run)


for _rule in ("sgd_momentum", "rmsprop", "adam"):
    _register(_rule)
