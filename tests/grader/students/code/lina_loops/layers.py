from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """
    Computes the forward pass for an affine (fully-connected) layer.

    x: (N, d_1, ..., d_k), w: (D, M), b: (M,)
    Returns out (N, M) and cache (x, w, b)
    """
    out = None
    # ***** START OF MY CODE *****
    N = x.shape[0]
    D = np.prod(x.shape[1:])
    x_rows = x.reshape(N, D)
    out = x_rows.dot(w) + b
    # ***** END OF MY CODE *****
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """
    Computes the backward pass for an affine layer.
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # ***** START OF MY CODE *****
    N = x.shape[0]
    x_rows = x.reshape(N, -1)
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x_rows.T.dot(dout)
    db = np.sum(dout, axis=0)
    # ***** END OF MY CODE *****
    return dx, dw, db


def relu_forward(x):
    """
    Computes the forward pass for a layer of rectified linear units (ReLUs).
    """
    out = None
    # ***** START OF MY CODE *****
    out = x.copy()
    out[out < 0] = 0
    # ***** END OF MY CODE *****
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """
    Computes the backward pass for a layer of rectified linear units (ReLUs).
    """
    dx, x = None, cache
    # ***** START OF MY CODE *****
    dx = dout.copy()
    dx[x <= 0] = 0
    # ***** END OF MY CODE *****
    return dx


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax classification.

    x: (N, C) scores, y: (N,) labels with 0 <= y[i] < C
    """
    loss, dx = None, None
    # ***** START OF MY CODE *****
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        scores = x[i] - np.max(x[i])  # numeric stability
        exp_scores = np.exp(scores)
        total = np.sum(exp_scores)
        loss += -scores[y[i]] + np.log(total)
        dx[i] = exp_scores / total
        dx[i, y[i]] -= 1
    loss /= N
    dx /= N
    # ***** END OF MY CODE *****
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """
    Forward pass for batch normalization.

    running_mean = momentum * running_mean + (1 - momentum) * sample_mean
    running_var = momentum * running_var + (1 - momentum) * sample_var
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        # ***** START OF MY CODE *****
        mu = np.mean(x, axis=0)
        var = np.var(x, axis=0)
        std = np.sqrt(var + eps)
        x_norm = (x - mu) / std
        out = gamma * x_norm + beta
        cache = (x, x_norm, mu, var, std, gamma, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        # ***** END OF MY CODE *****
    elif mode == "test":
        # ***** START OF MY CODE *****
        x_norm = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_norm + beta
        # ***** END OF MY CODE *****
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """
    Backward pass for batch normalization.

    I derived dx on paper first (see my notes), so this is the closed form:
    dx = gamma / (N * std) * (N * dout - sum(dout) - x_norm * sum(dout * x_norm))
    """
    dx, dgamma, dbeta = None, None, None
    # ***** START OF MY CODE *****
    x, x_norm, mu, var, std, gamma, eps = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_norm, axis=0)
    dx = (gamma / (N * std)) * (N * dout - dbeta - x_norm * dgamma)
    # ***** END OF MY CODE *****
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """
    Alternative backward pass for batch normalization (simplified expression).
    """
    dx, dgamma, dbeta = None, None, None
    # ***** START OF MY CODE *****
    x, x_norm, mu, var, std, gamma, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    dx_norm = dout * gamma
    dx = (1.0 / N) / std * (N * dx_norm - dx_norm.sum(axis=0) - x_norm * (dx_norm * x_norm).sum(axis=0))
    # ***** END OF MY CODE *****
    return dx, dgamma, dbeta


def conv_forward_naive(x, w, b, conv_param):
    """
    A naive implementation of the forward pass for a convolutional layer.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,)
    conv_param: 'stride', 'pad'
    H' = 1 + (H + 2 * pad - HH) / stride
    W' = 1 + (W + 2 * pad - WW) / stride
    """
    out = None
    # ***** START OF MY CODE *****
    stride = conv_param["stride"]
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "constant")
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    h0 = i * stride
                    w0 = j * stride
                    patch = x_pad[n, :, h0:h0 + HH, w0:w0 + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    # ***** END OF MY CODE *****
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """
    A naive implementation of the backward pass for a convolutional layer.
    """
    dx, dw, db = None, None, None
    # ***** START OF MY CODE *****
    x, w, b, conv_param = cache
    stride = conv_param["stride"]
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "constant")
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    h0 = i * stride
                    w0 = j * stride
                    dw[f] += x_pad[n, :, h0:h0 + HH, w0:w0 + WW] * dout[n, f, i, j]
                    dx_pad[n, :, h0:h0 + HH, w0:w0 + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    # ***** END OF MY CODE *****
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """
    A naive implementation of the forward pass for a max-pooling layer.

    No padding is necessary here; you can assume:
      - (H - pool_height) % stride == 0
      - (W - pool_width) % stride == 0
    """
    out = None
    # ***** START OF MY CODE *****
    N, C, H, W = x.shape
    ph = pool_param["pool_height"]
    pw = pool_param["pool_width"]
    stride = pool_param["stride"]
    assert (H - ph) % stride == 0, "pool height does not tile the input"
    assert (W - pw) % stride == 0, "pool width does not tile the input"
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    out[n, c, i, j] = np.max(window)
    # ***** END OF MY CODE *****
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """
    A naive implementation of the backward pass for a max-pooling layer.
    """
    dx = None
    # ***** START OF MY CODE *****
    x, pool_param = cache
    ph = pool_param["pool_height"]
    pw = pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    k = np.argmax(window)
                    a, bb = k // pw, k % pw
                    dx[n, c, i * stride + a, j * stride + bb] += dout[n, c, i, j]
    # ***** END OF MY CODE *****
    return dx
