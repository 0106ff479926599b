"""Scenarios for the update rules of ``optim.py``: the notebook's figures, then several steps."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.impl import CheckFailure, Impl
from grader.checks.scenario import Params, scenario
from grader.course.scenarios.layers import edges

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


# Hyperparameters away from every default: a rule that hard-codes a default loses them.
HYPERPARAMETERS = {
    "sgd_momentum": {"momentum": 0.5},
    "rmsprop": {"decay_rate": 0.9, "epsilon": 0.1},
    "adam": {"beta1": 0.8, "beta2": 0.99, "epsilon": 0.1},
}


def _two_parameters(impl: Impl, rule: str, p: Params) -> dict:
    """Two weight arrays, each with its own config, updated in turn as the Solver does.

    The first call of each passes ``config=None`` or no config at all (fresh defaults, as the
    docstring promises): state kept in a default dict shared between calls, or anywhere outside
    the returned config, leaks from one array into the other.
    """
    name = f"optim.{rule}"
    rng = np.random.RandomState(p["seed"])
    weights = [rng.randn(*p["shape"]), rng.randn(*p["shape"])]
    given = {"learning_rate": 0.05, **HYPERPARAMETERS[rule]}
    configs = [dict(given) if p["config"] == "given" else None for _ in weights]
    outputs: dict = {}
    for step in range(p["steps"]):
        for which in range(len(weights)):
            dw = rng.randn(*p["shape"])
            config = (
                () if configs[which] is None and p["config"] == "omitted" else (configs[which],)
            )
            weights[which], configs[which] = impl(
                name, weights[which], dw, *config, returns=("next_w", "config")
            )
            if not isinstance(configs[which], dict):
                raise CheckFailure(f"{name} must return the config dict as its second value.")
            outputs[f"w{which}_{step}"] = weights[which]
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

    def run_two(impl: Impl, p: Params) -> dict:
        return _two_parameters(impl, rule, p)

    run.__name__ = rule
    scenario(f"optim.{rule}", {"classic": True, "steps": 1}, _strategy())(run)
    edges(f"optim.{rule}", run_two, {
        "config_none_two_parameters": {"shape": (3, 4), "steps": 3, "config": "none", "seed": 1},
        "config_omitted_two_parameters": {
            "shape": (2, 3), "steps": 2, "config": "omitted", "seed": 3,
        },
        "hyperparameters_given": {"shape": (5,), "steps": 3, "config": "given", "seed": 2},
    })  # fmt: skip


for _rule in ("sgd_momentum", "rmsprop", "adam"):
    _register(_rule)
