from builtins import object
import numpy as np

from ..layers import *
from ..fast_layers import *
from ..layer_utils import *


class ThreeLayerConvNet(object):
    """
    conv - relu - 2x2 max pool - affine - relu - affine - softmax
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=32,
        filter_size=7,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
    ):
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        C, H, W = input_dim
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        # after 2x2 pool with stride 2 the map is H/2 x W/2
        pooled = num_filters * (H // 2) * (W // 2)
        self.params["W2"] = weight_scale * np.random.randn(pooled, hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        print("ThreeLayerConvNet params:", {k: v.shape for k, v in self.params.items()})

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        cache = {}
        out, cache["crp"] = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        out, cache["ar"] = affine_relu_forward(out, W2, b2)
        scores, cache["a"] = affine_forward(out, W3, b3)

        if y is None:
            return scores

        grads = {}
        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        loss = data_loss + reg_loss

        dout, grads["W3"], grads["b3"] = affine_backward(dscores, cache["a"])
        dout, grads["W2"], grads["b2"] = affine_relu_backward(dout, cache["ar"])
        dout, grads["W1"], grads["b1"] = conv_relu_pool_backward(dout, cache["crp"])
        for name, W in (("W1", W1), ("W2", W2), ("W3", W3)):
            grads[name] += self.reg * W

        return loss, grads
