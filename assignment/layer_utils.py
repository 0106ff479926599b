"""Sandwich layers: short chains of layers that the models use over and over.

Each forward pass runs its layers in order and returns ``(out, cache)`` where the cache is the
tuple of the layers' own caches; each backward pass walks the same layers in reverse. Writing
the chains once here keeps the models' loss functions short.

The convolutional sandwiches use the fast layers (``fast_layers.py``); their results equal the
naive layers' (``layers.py``) up to rounding.
"""

# The layers are imported for the student to use; in the student's copy they start unused.
# ruff: noqa: F401

from .fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from .layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)


def affine_relu_forward(x, w, b):
    """Affine layer followed by a ReLU.

    Inputs:
    - x: input to the affine layer, of shape (N, d_1, ..., d_k)
    - w, b: weights, of shape (D, M), and biases, of shape (M,), of the affine layer

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, M)
    - cache: (fc_cache, relu_cache), to give to affine_relu_backward
    """
    out, cache = None, None
    # TODO: Run affine_forward then relu_forward, and keep both caches.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return out, cache


def affine_relu_backward(dout, cache):
    """Backward pass for the affine-relu sandwich.

    Returns a tuple of:
    - dx: gradient with respect to x, of x's shape
    - dw: gradient with respect to w
    - db: gradient with respect to b
    """
    dx, dw, db = None, None, None
    # TODO: Backpropagate through the ReLU, then through the affine layer.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return dx, dw, db


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    """Affine layer, then batch or layer normalisation, then a ReLU.

    The hidden layers of FullyConnectedNet use this when the net is built with a normalization.

    Inputs:
    - x: input to the affine layer, of shape (N, d_1, ..., d_k)
    - w, b: weights, of shape (D, M), and biases, of shape (M,), of the affine layer
    - gamma, beta: scale and shift of the normalisation layer, each of shape (M,)
    - norm_param: the bn_param (for batchnorm, 'mode' required) or ln_param (for layernorm) dict
    - normalization: 'batchnorm' or 'layernorm'

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, M)
    - cache: (fc_cache, norm_cache, relu_cache, normalization), for affine_norm_relu_backward
    """
    if normalization not in ("batchnorm", "layernorm"):
        raise ValueError(f"normalization must be 'batchnorm' or 'layernorm', got {normalization!r}")
    out, cache = None, None
    # TODO: Run affine_forward, then batchnorm_forward or layernorm_forward (as normalization
    # says), then relu_forward. Keep the three caches and the normalization in `cache`, so the
    # backward pass knows which normalisation layer to backpropagate through.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return out, cache


def affine_norm_relu_backward(dout, cache):
    """Backward pass for the affine-norm-relu sandwich.

    Returns a tuple of:
    - dx: gradient with respect to x, of x's shape
    - dw, db: gradients with respect to the affine layer's weights and biases
    - dgamma, dbeta: gradients with respect to the normalisation layer's scale and shift
    """
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    # TODO: Backpropagate through the ReLU, the normalisation layer and the affine layer, in that
    # order.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(x, w, b, conv_param):
    """Convolutional layer followed by a ReLU.

    Inputs:
    - x: input, of shape (N, C, H, W)
    - w, b: filters, of shape (F, C, HH, WW), and biases, of shape (F,)
    - conv_param: dict with 'stride' and 'pad', as for conv_forward_naive

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, F, H', W')
    - cache: (conv_cache, relu_cache), for conv_relu_backward
    """
    out, cache = None, None
    # TODO: Run conv_forward_fast then relu_forward, and keep both caches.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return out, cache


def conv_relu_backward(dout, cache):
    """Backward pass for the conv-relu sandwich. Returns (dx, dw, db)."""
    dx, dw, db = None, None, None
    # TODO: Backpropagate through the ReLU, then through the convolution (conv_backward_fast).
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return dx, dw, db


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convolutional layer, then spatial batch normalisation, then a ReLU.

    Inputs:
    - x: input, of shape (N, C, H, W)
    - w, b: filters, of shape (F, C, HH, WW), and biases, of shape (F,)
    - gamma, beta: scale and shift of the spatial batchnorm layer, each of shape (F,)
    - conv_param: dict with 'stride' and 'pad'
    - bn_param: dict as for spatial_batchnorm_forward ('mode' required)

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, F, H', W')
    - cache: (conv_cache, bn_cache, relu_cache), for conv_bn_relu_backward
    """
    out, cache = None, None
    # TODO: Run conv_forward_fast, spatial_batchnorm_forward and relu_forward in that order, and
    # keep the three caches.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return out, cache


def conv_bn_relu_backward(dout, cache):
    """Backward pass for the conv-bn-relu sandwich. Returns (dx, dw, db, dgamma, dbeta)."""
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    # TODO: Backpropagate through the ReLU, the spatial batchnorm and the convolution, in that
    # order.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolutional layer, then a ReLU, then max pooling.

    Inputs:
    - x: input, of shape (N, C, H, W)
    - w, b: filters, of shape (F, C, HH, WW), and biases, of shape (F,)
    - conv_param: dict with 'stride' and 'pad'
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride'

    Returns a tuple of:
    - out: output of the pooling layer
    - cache: (conv_cache, relu_cache, pool_cache), for conv_relu_pool_backward
    """
    out, cache = None, None
    # TODO: Run conv_forward_fast, relu_forward and max_pool_forward_fast in that order, and keep
    # the three caches.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return out, cache


def conv_relu_pool_backward(dout, cache):
    """Backward pass for the conv-relu-pool sandwich. Returns (dx, dw, db)."""
    dx, dw, db = None, None, None
    # TODO: Backpropagate through the pooling layer (max_pool_backward_fast), the ReLU and the
    # convolution (conv_backward_fast), in that order.
    # *****START OF YOUR CODE*****
    pass
    # *****END OF YOUR CODE*****
    return dx, dw, db
