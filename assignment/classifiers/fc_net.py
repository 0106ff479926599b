"""A fully connected network of any depth, with optional batch/layer normalisation and dropout."""

# The layers and sandwich helpers are imported for the student to use, so some stay unused; the
# weights come from numpy's legacy global RNG, which the contract fixes (NPY002).
# ruff: noqa: F401, NPY002

import numpy as np

from ..layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from ..layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)


class FullyConnectedNet:
    """A fully connected network with ReLU nonlinearities and a softmax loss.

    For a network with L layers the architecture is

        {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where the normalisation and the dropout are optional, and the {...} block is repeated L - 1
    times.

    Learnable parameters are stored in ``self.params``, a dict from names to arrays: ``W1..WL``
    and ``b1..bL`` for the affine layers, ``gamma1..`` and ``beta1..`` (L - 1 of each) for the
    normalisation layers. The Solver updates them in place by name, which is why the gradients
    returned by ``loss`` use the same names.
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
        """Build the network and initialise its parameters.

        Inputs:
        - hidden_dims: list of integers, the size of each hidden layer
        - input_dim: integer, the size of the input (the product of its dimensions)
        - num_classes: integer, the number of classes to classify
        - dropout_keep_ratio: scalar between 0 and 1, the probability of keeping a unit in
          dropout; 1 means the network uses no dropout at all
        - normalization: None (no normalisation), 'batchnorm' or 'layernorm'
        - reg: scalar, the strength of the L2 regularisation of the weights
        - weight_scale: scalar, the standard deviation of the random initial weights
        - dtype: numpy dtype of all parameters and computations; float32 is faster, float64 is
          needed for numeric gradient checks
        - seed: if not None, passed to the dropout layers, which makes them deterministic so that
          the model can be gradient-checked
        """
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError(
                f"normalization must be None, 'batchnorm' or 'layernorm', got {normalization!r}"
            )
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # TODO: Initialise the parameters of the network and store them in self.params. Weights
        # and biases of the first layer go in W1 and b1, those of the second in W2 and b2, and so
        # on. Draw the weights one layer after another, as
        # np.random.randn(d_in, d_out) * weight_scale, and initialise the biases to zero.
        # With a normalization, each hidden layer also has a scale (gamma1, gamma2, ...) and a
        # shift (beta1, beta2, ...): initialise the scales to one and the shifts to zero. The
        # output layer has no normalisation.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        # With dropout, every dropout layer shares this dict; it holds the keep probability, the
        # mode (set by loss) and the seed, if any.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # With normalisation, each hidden layer has its own param dict, which also carries the
        # batchnorm running averages from one call to the next: self.bn_params[0] is the first
        # layer's, and so on. Layer norm ignores the mode.
        self.bn_params = []
        if self.normalization is not None:
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

        # Cast all parameters to the right dtype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute the loss and its gradient for a minibatch, or the scores at test time.

        Inputs:
        - X: array of input data, of shape (N, d_1, ..., d_k)
        - y: array of labels, of shape (N,); y[i] gives the label of X[i]

        Returns:
        If y is None, runs a test-time forward pass (dropout off, batchnorm on running averages)
        and returns
        - scores: array of shape (N, C), the classification scores, scores[i, c] for X[i] and
          class c.

        If y is given, runs a training-time forward and backward pass and returns a tuple of
        - loss: scalar, the data loss plus the L2 regularisation loss
        - grads: dict with the same keys as self.params, mapping each name to the gradient of
          the loss with respect to that parameter
        """
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        # Set train/test mode for the dropout and normalisation params, which behave differently
        # during training and testing.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        scores = None
        # TODO: Implement the forward pass for the fully connected net, computing the class
        # scores for X and storing them in the scores variable. With batch normalisation, pass
        # self.bn_params[0] to the first normalisation layer, self.bn_params[1] to the second,
        # and so on; with dropout, pass self.dropout_param to every dropout layer. Keep the
        # caches: the backward pass needs them. The helpers in layer_utils.py may be useful.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        # If test mode return early.
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # TODO: Implement the backward pass for the fully connected net. Store the loss in the
        # loss variable and the gradients in the grads dict, under the same names as the
        # parameters. Compute the data loss with softmax_loss. Add L2 regularisation of the
        # weights (not the biases, nor gamma and beta) as 0.5 * self.reg * np.sum(W**2) for each
        # W, so that its gradient is self.reg * W.
        # *****START OF YOUR CODE*****
        pass
        # *****END OF YOUR CODE*****

        return loss, grads
