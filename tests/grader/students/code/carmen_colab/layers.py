from builtins import range
import numpy as np


def _log_softmax(scores):
    # log-sum-exp trick so exp never overflows
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _normalize(x, axis, eps):
    """Returns (x_hat, mean, var, inv_std) normalizing over `axis`."""
    mean = np.mean(x, axis=axis, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mean) * inv_std, mean, var, inv_std


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax classification.
    """
    loss, dx = None, None
    N = x.shape[0]
    assert y.shape == (N,), y.shape
    log_probs = _log_softmax(x)
    loss = -np.mean(log_probs[np.arange(N), y])
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx = dx / N
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """
    Forward pass for batch normalization. Cache is a dict.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        x_hat, mean, var, inv_std = _normalize(x, 0, eps)
        out = gamma * x_hat + beta
        cache = {"x": x, "x_hat": x_hat, "mean": mean, "var": var, "inv_std": inv_std,
                 "gamma": gamma, "beta": beta, "eps": eps, "mode": mode}
        running_mean = momentum * running_mean + (1 - momentum) * mean.ravel()
        running_var = momentum * running_var + (1 - momentum) * var.ravel()
        # print("running mean", running_mean[:3])
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """
    Backward pass for batch normalization (computation graph).
    """
    x, x_hat, mean, inv_std, gamma = cache["x"], cache["x_hat"], cache["mean"], cache["inv_std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    xmu = x - mean
    dvar = np.sum(dx_hat * xmu, axis=0) * -0.5 * inv_std ** 3
    dmean = np.sum(-dx_hat * inv_std, axis=0) + dvar * np.mean(-2.0 * xmu, axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * xmu / N + dmean / N
    assert dx.shape == x.shape
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """
    Alternative backward pass for batch normalization.
    """
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = gamma * inv_std * (dout - dbeta / N - x_hat * dgamma / N)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """
    Forward pass for layer normalization (statistics over each row).
    """
    eps = ln_param.get("eps", 1e-5)
    x_hat, mean, var, inv_std = _normalize(x, 1, eps)
    out = gamma * x_hat + beta
    cache = {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma}
    return out, cache


def layernorm_backward(dout, cache):
    """
    Backward pass for layer normalization.
    """
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    D = dout.shape[1]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    g = dout * gamma
    dx = inv_std * (g - np.mean(g, axis=1, keepdims=True)
                    - x_hat * np.mean(g * x_hat, axis=1, keepdims=True))
    assert dx.shape == (dout.shape[0], D)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """
    Forward pass for inverted dropout. p is the probability of KEEPING a neuron.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        mask = mask.astype(x.dtype)
        out = x * mask
    elif mode == "test":
        out = x

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """
    Spatial batchnorm: reshape to (N*H*W, C) and reuse batchnorm_forward.
    """
    N, C, H, W = x.shape
    x_flat = np.moveaxis(x, 1, -1).reshape(-1, C)
    out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
    out = np.moveaxis(out_flat.reshape(N, H, W, C), -1, 1)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """
    Spatial batchnorm backward.
    """
    N, C, H, W = dout.shape
    dout_flat = np.moveaxis(dout, 1, -1).reshape(-1, C)
    dx_flat, dgamma, dbeta = batchnorm_backward(dout_flat, cache)
    dx = np.moveaxis(dx_flat.reshape(N, H, W, C), -1, 1)
    return dx, dgamma, dbeta
