"""A three-layer convolutional network: conv - relu - pool - affine - relu - affine - softmax."""

# The layers and sandwich helpers are imported for the student to use, so some stay unused, as do
# the scaffolding's local variables in the student's copy; the weights come from numpy's legacy
# global RNG, which the contract fixes (NPY002).
# ruff: noqa: F401, F841, NPY002

import numpy as np

from ..layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from ..layers import affine_backward, affine_forward, softmax_loss


class ThreeLayerConvNet:
    """A three-layer convolutional network with the architecture

        conv - relu - 2x2 max pool - affine - relu - affine - softmax

    The network operates on minibatches of data of shape (N, C, H, W): N images, each with C
    channels, of height H and width W. The convolution keeps the spatial size (stride 1 and
    padding (filter_size - 1) // 2, exact for odd filter sizes), and the pool halves it.

    Learnable parameters, in ``self.params``: W1 (F, C, filter_size, filter_size) and b1 (F,)
    for the convolution, W2 and b2 for the hidden affine layer, W3 and b3 for the output layer.
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
        """Build the network and initialise its parameters.

        Inputs:
        - input_dim: tuple (C, H, W), the size of one input image
        - num_filters: number of filters of the convolutional layer
        - filter_size: width and height of the filters of the convolutional layer
        - hidden_dim: number of units of the hidden affine layer
        - num_classes: number of scores the output layer produces
        - weight_scale: scalar, the standard deviation of the random initial weights
        - reg: scalar, the strength of the L2 regularisation of the weights
        - dtype: numpy dtype of all parameters and computations
        """
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        # TODO: Initialise the weights and biases of the three-layer convolutional network and
        # store them in self.params: W1 and b1 for the convolutional layer, W2 and b2 for the
        # hidden affine layer, W3 and b3 for the output affine layer. Draw the weights from a
        # Gaussian centred at 0 with standard deviation weight_scale (in the order W1, W2, W3),
        # and initialise the biases to zero. The hidden affine layer takes the flattened output
        # of the pooling layer as input.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute the loss and its gradient for a minibatch, or the scores at test time.

        Inputs:
        - X: array of input data, of shape (N, C, H, W)
        - y: array of labels, of shape (N,); y[i] gives the label of X[i]

        Returns the scores, of shape (N, num_classes), when y is None; otherwise a tuple of
        - loss: scalar, the data loss plus the L2 regularisation loss
        - grads: dict with the same keys as self.params, the gradient of the loss with respect to
          each parameter
        """
        X = X.astype(self.dtype)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        # Pass conv_param to the forward pass of the convolutional layer. Padding and stride are
        # chosen to preserve the input's spatial size.
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}

        # Pass pool_param to the forward pass of the max-pooling layer.
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        scores = None
        # TODO: Implement the forward pass of the three-layer convolutional net, computing the
        # class scores for X and storing them in the scores variable. The sandwich helpers in
        # layer_utils.py (conv_relu_pool_forward, affine_relu_forward) keep this short.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        if y is None:
            return scores

        loss, grads = 0, {}
        # TODO: Implement the backward pass of the three-layer convolutional net, storing the
        # loss in the loss variable and the gradients in the grads dict (grads["W1"] for
        # self.params["W1"], and so on). Compute the data loss with softmax_loss, and add L2
        # regularisation of the weights as 0.5 * self.reg * np.sum(W**2) for each W.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        return loss, grads
