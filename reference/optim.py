"""First-order update rules for training neural networks.

Every rule has the same interface, so the Solver can swap one for another:

    next_w, config = update(w, dw, config)

Inputs:
- w: array of the current weights
- dw: array of the same shape as w, the gradient of the loss with respect to w
- config: dict of hyperparameters (learning rate, momentum, ...) and of any state the rule keeps
  between steps (velocity, moving averages); None means "all defaults"

Returns a tuple of:
- next_w: the weights after the update
- config: the same dict, with defaults filled in and the state advanced, to pass to the next call

Defaults are filled in with ``config.setdefault``, so a value the caller gives always wins and
the state a rule stores survives from one call to the next. The Solver keeps one config per
parameter array, because the state (velocity, moments) has the shape of that array.
"""

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``w -= learning_rate * dw``.

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    The velocity is a decaying sum of past steps, so the update keeps moving along directions
    where the gradient is consistent and damps directions where it oscillates:

        v = momentum * v - learning_rate * dw
        next_w = w + v

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - momentum: scalar between 0 and 1 giving the momentum value; 0 is plain sgd (default 0.9)
    - velocity: array of the same shape as w and dw, the moving average of the steps (default
      zeros)
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    next_w = None
    # TODO: Implement the momentum update formula in the docstring. Store the updated value in
    # the next_w variable, and the updated velocity in v.
    # BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    # END SOLUTION
    config["velocity"] = v

    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: divide each step by a moving average of the squared gradients.

    Each weight gets its own effective learning rate, smaller where gradients have been large:

        cache = decay_rate * cache + (1 - decay_rate) * dw**2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - decay_rate: scalar between 0 and 1, the decay of the squared-gradient cache (default 0.99)
    - epsilon: small scalar that keeps the division finite (default 1e-8)
    - cache: moving average of the second moments of the gradients (default zeros)
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))

    next_w = None
    # TODO: Implement the RMSProp update formula in the docstring, storing the next value of w in
    # next_w and the new moving average of the squared gradients in config["cache"].
    # BEGIN SOLUTION
    cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    # END SOLUTION

    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient (first moment) plus RMSProp scaling (second moment).

    Both moving averages start at zero and so are biased towards zero for the first steps; they
    are divided by ``1 - beta**t`` to correct that. ``t`` counts the steps taken, and it is
    incremented *before* the correction, so the first step uses t = 1:

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config format:
    - learning_rate: scalar learning rate (default 1e-3)
    - beta1: decay rate of the moving average of the first moment of the gradient (default 0.9)
    - beta2: decay rate of the moving average of the second moment of the gradient (default
      0.999)
    - epsilon: small scalar that keeps the division finite (default 1e-8)
    - m: moving average of the gradient (default zeros)
    - v: moving average of the squared gradient (default zeros)
    - t: iteration number (default 0)
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    next_w = None
    # TODO: Implement the Adam update formula in the docstring, storing the next value of w in
    # next_w. Update the m, v and t entries of config as well. Increment t before computing the
    # bias corrections, so that the first step divides by (1 - beta1) and (1 - beta2).
    # BEGIN SOLUTION
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["t"], config["m"], config["v"] = t, m, v
    # END SOLUTION

    return next_w, config
