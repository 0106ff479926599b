import numpy as np


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax classification.
    """
    num_train = x.shape[0]
    exps = np.exp(x - np.max(x, axis=1, keepdims=True))
    probs = exps / np.sum(exps, axis=1, keepdims=True)
    # add a tiny epsilon so we never take log(0)
    loss = -np.sum(np.log(probs[np.arange(num_train), y] + 1e-7)) / num_train
    dx = probs.copy()
    dx[np.arange(num_train), y] -= 1
    dx /= num_train
    return loss, dx


def relu_forward(x):
    """
    Computes the forward pass for a layer of rectified linear units (ReLUs).
    """
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """
    Computes the backward pass for a layer of rectified linear units (ReLUs).
    """
    x = cache
    dx = np.where(x > 0, dout, 0)
    return dx


def dropout_backward(dout, cache):
    """
    Backward pass for inverted dropout.
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    dx = None
    if mode == "train":
        dx = dout * mask
    elif mode == "test":
        dx = dout
    return dx
