import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def affine_forward(x, w, b):
    """Affine forward: out = x.reshape(N, D) @ w + b. Returns (out, cache)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Affine backward. Returns dx, dw, db."""
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(0)
    return dx, dw, db


def relu_forward(x):
    """ReLU forward."""
    out = x * (x > 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """ReLU backward."""
    x = cache
    dx = dout * (x > 0)
    return dx


def softmax_loss(x, y):
    """Softmax loss, fully vectorized."""
    N = len(y)
    z = x - x.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].sum() / N
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batchnorm forward, as a computation graph of small steps (9 cached values).

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
        mu = 1.0 / N * np.sum(x, axis=0)          # step 1
        xmu = x - mu                               # step 2
        sq = xmu ** 2                              # step 3
        var = 1.0 / N * np.sum(sq, axis=0)         # step 4
        sqrtvar = np.sqrt(var + eps)               # step 5
        ivar = 1.0 / sqrtvar                       # step 6
        xhat = xmu * ivar                          # step 7
        gammax = gamma * xhat                      # step 8
        out = gammax + beta                        # step 9
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps, mu, sq)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Batchnorm backward, node by node through the graph of batchnorm_forward."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps, mu, sq = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)                   # step 9
    dgammax = dout
    dgamma = np.sum(dgammax * xhat, axis=0)        # step 8
    dxhat = dgammax * gamma
    divar = np.sum(dxhat * xmu, axis=0)            # step 7
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar       # step 6
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar   # step 5
    dsq = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dvar  # step 4
    dxmu2 = 2 * xmu * dsq                          # step 3
    dx1 = dxmu1 + dxmu2                            # step 2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dmu   # step 1
    dx = dx1 + dx2
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Batchnorm backward from the simplified expression."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps, mu, sq = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Layernorm forward: batchnorm in train mode on the transposed input."""
    eps = ln_param.get("eps", 1e-5)
    xt = x.T  # (D, N): normalize each column = each data point
    ones = np.ones(xt.shape[1], dtype=x.dtype)
    zeros = np.zeros(xt.shape[1], dtype=x.dtype)
    xhat_t, bn_cache = batchnorm_forward(xt, ones, zeros, {"mode": "train", "eps": eps})
    xhat = xhat_t.T
    out = gamma * xhat + beta
    cache = (bn_cache, xhat, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    """Layernorm backward, through the transposed batchnorm backward."""
    bn_cache, xhat, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dxt, _, _ = batchnorm_backward_alt(dxhat.T, bn_cache)
    dx = dxt.T
    return dx, dgamma, dbeta


def conv_forward_naive(x, w, b, conv_param):
    """Conv forward, vectorized with sliding windows and einsum."""
    s, p = conv_param["stride"], conv_param["pad"]
    F, C, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::s, ::s]
    out = np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Conv backward: loop over the output positions only."""
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]  # N,C,HH,WW
            g = dout[:, :, i, j]  # N,F
            dw += np.tensordot(g, patch, axes=([0], [0]))
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.tensordot(g, w, axes=([1], [0]))
    dx = dxp[:, :, p:p + H, p:p + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pool forward (vectorized). Assumes (H - pool_height) % stride == 0."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho = int(round((H - ph) / s)) + 1
    Wo = int(round((W - pw) / s)) + 1
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Max pool backward (vectorized over N and C)."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
            k = win.argmax(axis=2)
            dx[n_idx, c_idx, i * s + k // pw, j * s + k % pw] += dout[:, :, i, j]
    return dx


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Spatial groupnorm forward, vectorized."""
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mean = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = xg.var(axis=(2, 3, 4), keepdims=True)
    xhat = ((xg - mean) / np.sqrt(var + eps)).reshape(N, C, H, W)
    out = gamma * xhat + beta
    cache = (xhat, gamma, G, var, eps)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Spatial groupnorm backward, vectorized."""
    xhat, gamma, G, var, eps = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, -1)
    xh = xhat.reshape(N, G, -1)
    M = xh.shape[2]
    inv = 1.0 / np.sqrt(var.reshape(N, G, 1) + eps)
    dx = inv / M * (M * dxhat - dxhat.sum(2, keepdims=True) - xh * (dxhat * xh).sum(2, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
