from builtins import range
import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """
    A fully-connected neural network with an arbitrary number of hidden layers,
    ReLU nonlinearities, and a softmax loss function.

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

        # ***** START OF MY CODE *****
        layer_sizes = [input_dim] + list(hidden_dims) + [num_classes]
        for l in range(self.num_layers):
            self.params["W" + str(l + 1)] = weight_scale * np.random.randn(layer_sizes[l], layer_sizes[l + 1])
            self.params["b" + str(l + 1)] = np.zeros(layer_sizes[l + 1])
            if self.normalization and l < self.num_layers - 1:
                self.params["gamma" + str(l + 1)] = np.ones(layer_sizes[l + 1])
                self.params["beta" + str(l + 1)] = np.zeros(layer_sizes[l + 1])
        # ***** END OF MY CODE *****

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

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully connected net."""
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        scores = None
        # ***** START OF MY CODE *****
        caches = {}
        h = X
        for l in range(1, self.num_layers):
            W, b = self.params["W%d" % l], self.params["b%d" % l]
            h, caches["affine%d" % l] = affine_forward(h, W, b)
            if self.normalization == "batchnorm":
                h, caches["norm%d" % l] = batchnorm_forward(
                    h, self.params["gamma%d" % l], self.params["beta%d" % l], self.bn_params[l - 1]
                )
            elif self.normalization == "layernorm":
                h, caches["norm%d" % l] = layernorm_forward(
                    h, self.params["gamma%d" % l], self.params["beta%d" % l], self.bn_params[l - 1]
                )
            h, caches["relu%d" % l] = relu_forward(h)
            if self.use_dropout:
                h, caches["drop%d" % l] = dropout_forward(h, self.dropout_param)
        L = self.num_layers
        scores, caches["affine%d" % L] = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
        # ***** END OF MY CODE *****

        # If test mode return early.
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # ***** START OF MY CODE *****
        loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.0
        for l in range(1, L + 1):
            reg_loss += 0.5 * self.reg * np.sum(self.params["W%d" % l] ** 2)
        loss += reg_loss

        dh, dW, db = affine_backward(dscores, caches["affine%d" % L])
        grads["W%d" % L] = dW + self.reg * self.params["W%d" % L]
        grads["b%d" % L] = db
        for l in range(L - 1, 0, -1):
            if self.use_dropout:
                dh = dropout_backward(dh, caches["drop%d" % l])
            dh = relu_backward(dh, caches["relu%d" % l])
            if self.normalization == "batchnorm":
                dh, grads["gamma%d" % l], grads["beta%d" % l] = batchnorm_backward(dh, caches["norm%d" % l])
            elif self.normalization == "layernorm":
                dh, grads["gamma%d" % l], grads["beta%d" % l] = layernorm_backward(dh, caches["norm%d" % l])
            dh, dW, db = affine_backward(dh, caches["affine%d" % l])
            grads["W%d" % l] = dW + self.reg * self.params["W%d" % l]
            grads["b%d" % l] = db
        # ***** END OF MY CODE *****

        return loss, grads
