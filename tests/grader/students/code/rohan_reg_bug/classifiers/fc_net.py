import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """
    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax
    """

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

        in_dim = input_dim
        for i, h in enumerate(hidden_dims):
            self.params['W%d' % (i + 1)] = np.random.randn(in_dim, h) * weight_scale
            self.params['b%d' % (i + 1)] = np.zeros(h)
            if normalization:
                self.params['gamma%d' % (i + 1)] = np.ones(h)
                self.params['beta%d' % (i + 1)] = np.zeros(h)
            in_dim = h
        self.params['W%d' % self.num_layers] = np.random.randn(in_dim, num_classes) * weight_scale
        self.params['b%d' % self.num_layers] = np.zeros(num_classes)

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

        cache_list = []
        out = X
        for i in range(1, self.num_layers):
            W, b = self.params['W%d' % i], self.params['b%d' % i]
            if self.normalization:
                out, c = affine_norm_relu_forward(out, W, b, self.params['gamma%d' % i],
                                                  self.params['beta%d' % i], self.bn_params[i - 1],
                                                  self.normalization)
            else:
                out, c = affine_relu_forward(out, W, b)
            dc = None
            if self.use_dropout:
                out, dc = dropout_forward(out, self.dropout_param)
            cache_list.append((c, dc))
        scores, final_cache = affine_forward(out, self.params['W%d' % self.num_layers],
                                             self.params['b%d' % self.num_layers])

        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        loss, dscores = softmax_loss(scores, y)
        # L2 regularization on the weights
        for i in range(1, self.num_layers):
            loss += 0.5 * self.reg * np.sum(self.params['W%d' % i] ** 2)

        dout, dW, db = affine_backward(dscores, final_cache)
        grads['W%d' % self.num_layers] = dW
        grads['b%d' % self.num_layers] = db
        for i in range(self.num_layers - 1, 0, -1):
            c, dc = cache_list[i - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, dc)
            if self.normalization:
                dout, dW, db, dgamma, dbeta = affine_norm_relu_backward(dout, c)
                grads['gamma%d' % i] = dgamma
                grads['beta%d' % i] = dbeta
            else:
                dout, dW, db = affine_relu_backward(dout, c)
            grads['W%d' % i] = dW + self.reg * self.params['W%d' % i]
            grads['b%d' % i] = db

        return loss, grads
