import numpy as np


def adam(w, dw, config=None):
    """Adam update rule (t incremented before the bias correction)."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    b1, b2, lr, eps = config["beta1"], config["beta2"], config["learning_rate"], config["epsilon"]
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * (dw * dw)
    mt = config["m"] / (1 - b1 ** config["t"])
    vt = config["v"] / (1 - b2 ** config["t"])
    next_w = w - lr * mt / (np.sqrt(vt) + eps)
    return next_w, config
