import numpy as np

from ..layers import *
from ..layer_utils import *


def _hidden_forward(x, w, b, gamma, beta, norm, norm_param, dropout_param):
    """One hidden block: affine - [norm] - relu - [dropout]."""
    if norm is None:
        out, main = affine_relu_forward(x, w, b)
    else:
        out, main = affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, norm)
    drop = None
    if dropout_param:
        out, drop = dropout_forward(out, dropout_param)
    return out, (main, drop, norm)


def _hidden_backward(dout, cache):
    main, drop, norm = cache
    if drop is not None:
        dout = dropout_backward(dout, drop)
    if norm is None:
        dx, dw, db = affine_relu_backward(dout, main)
        return dx, dw, db, None, None
    return affine_norm_relu_backward(dout, main)


class FullyConnectedNet(object):
    """Fully-connected net: {affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax."""

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
    ):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        dims = np.hstack([input_dim, hidden_dims, num_classes]).astype(int)
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = np.random.randn(d_in, d_out) * weight_scale
            self.params[f"b{i}"] = np.zeros(d_out)
        if normalization:
            for i, d in enumerate(hidden_dims, start=1):
                self.params[f"gamma{i}"] = np.ones(d)
                self.params[f"beta{i}"] = np.zeros(d)

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        L, p = self.num_layers, self.params
        caches = []
        h = X
        for i in range(1, L):
            norm_param = self.bn_params[i - 1] if self.normalization else None
            h, c = _hidden_forward(h, p[f"W{i}"], p[f"b{i}"], p.get(f"gamma{i}"), p.get(f"beta{i}"),
                                   self.normalization, norm_param, self.dropout_param)
            caches.append(c)
        scores, last = affine_forward(h, p[f"W{L}"], p[f"b{L}"])

        if mode == "test":
            return scores

        loss, dout = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum(np.sum(p[f"W{i}"] ** 2) for i in range(1, L + 1))
        grads = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dout, last)
        for i in reversed(range(1, L)):
            dout, dw, db, dg, dbt = _hidden_backward(dout, caches[i - 1])
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
            if self.normalization:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dg, dbt
        for i in range(1, L + 1):
            grads[f"W{i}"] += self.reg * p[f"W{i}"]
        return loss, grads
