"""Update rules of reference/optim.py: the contract's figures, defaults and multi-step behaviour."""

import numpy as np
import pytest

from reference import optim

RULES = ["sgd", "sgd_momentum", "rmsprop", "adam"]


def contract_w_dw():
    w = np.linspace(-0.4, 0.6, num=20).reshape(4, 5)
    dw = np.linspace(-0.6, 0.4, num=20).reshape(4, 5)
    return w, dw


def test_sgd_momentum_contract_figures():
    w, dw = contract_w_dw()
    v = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = optim.sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    assert next_w[0, 0] == pytest.approx(0.1406, abs=1e-7)
    assert next_w[3, 4] == pytest.approx(1.4096, abs=1e-7)
    assert config["velocity"][0, 0] == pytest.approx(0.5406, abs=1e-7)
    # The whole array, from the formula the contract states.
    np.testing.assert_allclose(config["velocity"], 0.9 * v - 1e-3 * dw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(next_w, w + config["velocity"], rtol=0, atol=1e-12)


def test_rmsprop_contract_figures():
    w, dw = contract_w_dw()
    cache = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = optim.rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    assert next_w[0, 0] == pytest.approx(-0.39223849, abs=1e-7)
    assert config["cache"][0, 0] == pytest.approx(0.5976, abs=1e-7)


def test_adam_contract_figures():
    w, dw = contract_w_dw()
    m = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    v = np.linspace(0.7, 0.5, num=20).reshape(4, 5)
    config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
    next_w, config = optim.adam(w, dw, config)
    assert next_w[0, 0] == pytest.approx(-0.40094747, abs=1e-7)
    assert next_w[3, 4] == pytest.approx(0.59801459, abs=1e-7)
    assert config["v"][0, 0] == pytest.approx(0.69966, abs=1e-7)
    assert config["m"][0, 0] == pytest.approx(0.48, abs=1e-7)
    assert config["t"] == 6


def test_sgd_step():
    w, dw = contract_w_dw()
    next_w, config = optim.sgd(w.copy(), dw, {"learning_rate": 0.5})
    np.testing.assert_allclose(next_w, w - 0.5 * dw, rtol=0, atol=1e-15)
    assert config == {"learning_rate": 0.5}


@pytest.mark.parametrize(
    "rule, defaults",
    [
        ("sgd", {"learning_rate": 1e-2}),
        ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9}),
        ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}),
        (
            "adam",
            {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
        ),
    ],
)
def test_defaults_filled_in_when_config_is_none(rule, defaults):
    w, dw = contract_w_dw()
    _, config = getattr(optim, rule)(w.copy(), dw, None)
    for key, value in defaults.items():
        assert config[key] == value, key


@pytest.mark.parametrize("rule", RULES)
def test_given_values_are_not_overwritten(rule):
    """setdefault semantics: what the caller puts in config wins over the defaults."""
    w, dw = contract_w_dw()
    config = {"learning_rate": 0.123, "momentum": 0.5, "decay_rate": 0.7, "beta1": 0.8}
    _, out = getattr(optim, rule)(w.copy(), dw, config)
    assert out["learning_rate"] == 0.123
    for key in ("momentum", "decay_rate", "beta1"):
        assert out[key] == config[key]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rules_keep_the_dtype_and_shape(rule, dtype):
    rng = np.random.RandomState(0)
    w = rng.randn(3, 4).astype(dtype)
    config = None
    for _ in range(3):
        dw = rng.randn(3, 4).astype(dtype)
        w, config = getattr(optim, rule)(w, dw, config)
        assert w.dtype == dtype
        assert w.shape == (3, 4)


def test_sgd_momentum_velocity_over_several_steps():
    rng = np.random.RandomState(1)
    w0 = rng.randn(5, 3)
    grads = [rng.randn(5, 3) for _ in range(6)]
    lr, mu = 0.05, 0.8

    w, config = w0.copy(), {"learning_rate": lr, "momentum": mu}
    for dw in grads:
        w, config = optim.sgd_momentum(w, dw, config)

    w_ref, v_ref = w0.copy(), np.zeros_like(w0)
    for dw in grads:
        v_ref = mu * v_ref - lr * dw
        w_ref = w_ref + v_ref
    np.testing.assert_allclose(config["velocity"], v_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-14)


def test_sgd_momentum_with_zero_momentum_is_sgd():
    w, dw = contract_w_dw()
    a, _ = optim.sgd_momentum(w.copy(), dw, {"learning_rate": 0.1, "momentum": 0.0})
    b, _ = optim.sgd(w.copy(), dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_rmsprop_over_several_steps():
    rng = np.random.RandomState(2)
    w0 = rng.randn(4, 4)
    grads = [rng.randn(4, 4) for _ in range(5)]
    lr, decay, eps = 1e-2, 0.9, 1e-8

    w, config = w0.copy(), {"learning_rate": lr, "decay_rate": decay}
    for dw in grads:
        w, config = optim.rmsprop(w, dw, config)

    w_ref, cache = w0.copy(), np.zeros_like(w0)
    for dw in grads:
        cache = decay * cache + (1 - decay) * dw**2
        w_ref = w_ref - lr * dw / (np.sqrt(cache) + eps)
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-12)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)


def test_adam_over_several_steps_with_bias_correction():
    rng = np.random.RandomState(3)
    w0 = rng.randn(6, 2)
    grads = [rng.randn(6, 2) for _ in range(7)]
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8

    w, config = w0.copy(), {"learning_rate": lr}
    for dw in grads:
        w, config = optim.adam(w, dw, config)

    w_ref, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, dw in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w_ref = w_ref - lr * m_hat / (np.sqrt(v_hat) + eps)
    assert config["t"] == len(grads)
    np.testing.assert_allclose(config["m"], m, rtol=1e-12)
    np.testing.assert_allclose(config["v"], v, rtol=1e-12)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)


def test_adam_first_step_is_learning_rate_times_sign():
    """With t incremented before the correction, the first step has size lr whatever |dw| is."""
    w = np.zeros(5)
    dw = np.array([-3.0, -1e-2, 0.5, 2.0, 40.0])
    next_w, config = optim.adam(w, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, -0.1 * np.sign(dw), rtol=1e-6)
    assert config["t"] == 1


def test_state_is_per_config():
    """Two configs keep separate state: the Solver relies on that for per-parameter copies."""
    w, dw = contract_w_dw()
    c1, c2 = {}, {}
    optim.adam(w.copy(), dw, c1)
    optim.adam(w.copy(), dw, c1)
    optim.adam(w.copy(), dw, c2)
    assert c1["t"] == 2 and c2["t"] == 1
    assert c1["m"] is not c2["m"]
