"""The layers of assignment 2: each a forward pass returning ``(out, cache)`` and a backward pass.

A forward pass keeps in ``cache`` whatever its backward pass needs, so a network can run all the
forward passes first and then walk back through the caches in reverse order. Every backward pass
takes the upstream gradient ``dout`` (shaped like the forward's ``out``) and returns the gradients
of the loss with respect to the forward's inputs, each shaped like its input.

All layers keep the dtype of their inputs: float32 data give float32 outputs and gradients.
The convolution and max-pooling layers here are naive loop versions, written for clarity;
``fast_layers.py`` holds the versions the models use.
"""

import numpy as np


def affine_forward(x, w, b):
    """Forward pass of a fully connected (affine) layer: ``out = x @ w + b``.

    Each data point may be an array of any shape (an image, say); it is flattened to a vector of
    ``D = d_1 * ... * d_k`` entries first.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k), a minibatch of N data points
    - w: weights, of shape (D, M)
    - b: biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = None
    # TODO: Implement the affine forward pass. Reshape each input into a row vector first; the
    # layer must work for inputs of any number of dimensions.
    # BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    # END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of a fully connected (affine) layer.

    Inputs:
    - dout: upstream gradient, of shape (N, M)
    - cache: (x, w, b) from affine_forward

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, d_1, ..., d_k), the shape of the input
    - dw: gradient with respect to w, of shape (D, M)
    - db: gradient with respect to b, of shape (M,)
    """
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass. Remember that dx must have x's original shape.
    # BEGIN SOLUTION
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    # END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Forward pass of a layer of rectified linear units: elementwise ``max(0, x)``.

    Input:
    - x: array of any shape

    Returns a tuple of:
    - out: output, of the same shape as x
    - cache: x
    """
    out = None
    # TODO: Implement the ReLU forward pass.
    # BEGIN SOLUTION
    out = np.maximum(x, 0)
    # END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of a layer of rectified linear units.

    The gradient passes where the input was strictly positive and is zero elsewhere, at exactly 0
    included (the usual choice of subgradient).

    Inputs:
    - dout: upstream gradient, of any shape
    - cache: x, the input, of the same shape as dout

    Returns:
    - dx: gradient with respect to x
    """
    dx = None
    # TODO: Implement the ReLU backward pass.
    # BEGIN SOLUTION
    x = cache
    dx = dout * (x > 0)
    # END SOLUTION
    return dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss and its gradient, averaged over the minibatch.

    Subtract each row's maximum before exponentiating: it leaves the probabilities unchanged and
    keeps ``exp`` from overflowing when scores are large.

    Inputs:
    - x: scores, of shape (N, C); x[i, j] is the score of class j for the i-th input
    - y: labels, of shape (N,), with 0 <= y[i] < C the correct class of x[i]

    Returns a tuple of:
    - loss: scalar, the mean over N of -log(probability of the correct class)
    - dx: gradient of the loss with respect to x
    """
    loss, dx = None, None
    # TODO: Implement the softmax loss and its gradient, vectorised (no loop over the data).
    # BEGIN SOLUTION
    num = x.shape[0]
    rows = np.arange(num)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean()
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= num
    # END SOLUTION
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss with margin 1 and its gradient, averaged over the minibatch.

    Inputs:
    - x: scores, of shape (N, C); x[i, j] is the score of class j for the i-th input
    - y: labels, of shape (N,), with 0 <= y[i] < C the correct class of x[i]

    Returns a tuple of:
    - loss: scalar, the mean over N of sum over j != y[i] of max(0, x[i, j] - x[i, y[i]] + 1)
    - dx: gradient of the loss with respect to x
    """
    loss, dx = None, None
    # TODO: Implement the SVM loss and its gradient, vectorised (no loop over the data).
    # BEGIN SOLUTION
    num = x.shape[0]
    rows = np.arange(num)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / num
    positive = margins > 0
    dx = positive.astype(x.dtype)
    dx[rows, y] -= positive.sum(axis=1)
    dx /= num
    # END SOLUTION
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of batch normalisation.

    In training, each feature is normalised with the mean and (biased) variance of the minibatch,
    then scaled by gamma and shifted by beta. The layer also keeps exponentially decaying running
    averages of those statistics, which it uses in test mode, when there may be one data point only:

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var

    Inputs:
    - x: data, of shape (N, D)
    - gamma: scale, of shape (D,)
    - beta: shift, of shape (D,)
    - bn_param: dict with the keys
      - mode: 'train' or 'test'; required
      - eps: constant added to the variance for numerical stability (default 1e-5)
      - momentum: decay of the running averages (default 0.9)
      - running_mean: array of shape (D,), the running mean (default zeros)
      - running_var: array of shape (D,), the running variance (default zeros)
      Missing keys are filled in with their defaults, and the updated running averages are
      written back, so the same dict carries them from one call to the next.

    Returns a tuple of:
    - out: output, of shape (N, D)
    - cache: what batchnorm_backward needs (train mode; None in test mode)
    """
    mode = bn_param.get("mode")
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        # TODO: Implement the training-time forward pass. Compute the minibatch mean and biased
        # variance, normalise x with them, then scale by gamma and shift by beta. Update the
        # running averages with the momentum formula in the docstring (store them back in the
        # variables running_mean and running_var). Keep in `cache` whatever the backward pass
        # needs; breaking the computation into small steps makes the backward pass easier.
        # BEGIN SOLUTION
        sample_mean = x.mean(axis=0)
        xmu = x - sample_mean
        sample_var = (xmu**2).mean(axis=0)
        std = np.sqrt(sample_var + eps)
        inv_std = 1 / std
        x_hat = xmu * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, xmu, inv_std, std, gamma)

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        # END SOLUTION
    elif mode == "test":
        # TODO: Implement the test-time forward pass: normalise x with the running mean and
        # variance, then scale by gamma and shift by beta.
        # BEGIN SOLUTION
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = (gamma * x_hat + beta).astype(x.dtype, copy=False)
        # END SOLUTION
    else:
        raise ValueError(f"batchnorm mode must be 'train' or 'test', got {mode!r}")

    # Store the updated running means back into bn_param.
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalisation, step by step through the computation graph.

    Draw the forward pass as a graph of elementary operations (mean, subtract, square, square
    root, divide, multiply, add) and backpropagate through it one node at a time; summing over a
    broadcast axis in the forward pass becomes broadcasting in the backward pass and vice versa.

    Inputs:
    - dout: upstream gradient, of shape (N, D)
    - cache: from batchnorm_forward in train mode

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, D)
    - dgamma: gradient with respect to gamma, of shape (D,)
    - dbeta: gradient with respect to beta, of shape (D,)
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass through the computation graph, node by node.
    # BEGIN SOLUTION
    x_hat, xmu, inv_std, std, gamma = cache
    N = dout.shape[0]
    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = xmu * inv_std: xmu reaches x_hat directly and through the variance.
    dinv_std = (dx_hat * xmu).sum(axis=0)
    dxmu = dx_hat * inv_std
    # inv_std = 1 / std
    dstd = -dinv_std / std**2
    # std = sqrt(var + eps)
    dvar = 0.5 * dstd / std
    # var = mean(sq, axis=0), sq = xmu ** 2
    dsq = np.broadcast_to(dvar / N, dout.shape)
    dxmu = dxmu + 2 * xmu * dsq
    # xmu = x - mu, mu = mean(x, axis=0)
    dmu = -dxmu.sum(axis=0)
    dx = dxmu + np.broadcast_to(dmu / N, dout.shape)
    # END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalisation from the simplified closed form.

    Work out on paper the gradient of the loss with respect to x in terms of dout, x_hat, gamma
    and the inverse standard deviation, and simplify it into one expression: it gives the same
    result as batchnorm_backward with fewer passes over the data, so it runs faster.

    Inputs and outputs are as for batchnorm_backward.
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass as one simplified expression for dx.
    # BEGIN SOLUTION
    x_hat, _, inv_std, _, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    # dx = gamma * inv_std * (dout - mean(dout) - x_hat * mean(dout * x_hat)), both means over
    # the batch; built in place in one array, since allocating large temporaries costs time too.
    dx = x_hat * (-dgamma / N)
    dx += dout
    dx -= dbeta / N
    dx *= gamma * inv_std
    # END SOLUTION
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass of layer normalisation.

    Each data point is normalised over its own D features, so the statistics do not depend on the
    rest of the minibatch: the layer behaves the same in training and at test time and keeps no
    running averages. The normalised features are then scaled by gamma and shifted by beta, as in
    batch normalisation.

    Inputs:
    - x: data, of shape (N, D)
    - gamma: scale, of shape (D,)
    - beta: shift, of shape (D,)
    - ln_param: dict with the key
      - eps: constant added to the variance for numerical stability (default 1e-5)
      Any other key (a 'mode', say) is ignored.

    Returns a tuple of:
    - out: output, of shape (N, D)
    - cache: what layernorm_backward needs
    """
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    # TODO: Implement the layer norm forward pass. It is batch normalisation in train mode with
    # the statistics taken over each row instead of each column (and no running averages).
    # BEGIN SOLUTION
    mean = x.mean(axis=1, keepdims=True)
    xmu = x - mean
    var = (xmu**2).mean(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = xmu * inv_std
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    # END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass of layer normalisation.

    Inputs:
    - dout: upstream gradient, of shape (N, D)
    - cache: from layernorm_forward

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, D)
    - dgamma: gradient with respect to gamma, of shape (D,)
    - dbeta: gradient with respect to beta, of shape (D,)
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the layer norm backward pass. The batch norm derivation carries over with
    # the roles of the two axes swapped for the normalisation (gamma and beta still act per
    # feature).
    # BEGIN SOLUTION
    x_hat, inv_std, gamma = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (inv_std / D) * (
        D * dx_hat
        - dx_hat.sum(axis=1, keepdims=True)
        - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)
    )
    # END SOLUTION
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Forward pass of (inverted) dropout.

    In training each unit is kept with probability p and zeroed otherwise, and the kept units are
    divided by p, so the expected output equals the input and nothing needs rescaling at test time,
    where the layer is the identity.

    Inputs:
    - x: data, of any shape
    - dropout_param: dict with the keys
      - p: probability of KEEPING each unit, in (0, 1]
      - mode: 'train' or 'test'
      - seed: optional; when present, passed to np.random.seed first, which makes the mask
        reproducible (for gradient checks)

    Returns a tuple of:
    - out: array of the same shape and dtype as x
    - cache: (dropout_param, mask); mask is the array x was multiplied by in train mode, None in
      test mode
    """
    p, mode = dropout_param["p"], dropout_param.get("mode")
    if dropout_param.get("seed") is not None:
        np.random.seed(dropout_param["seed"])  # noqa: NPY002 (the legacy global RNG, by contract)

    mask = None
    out = None

    if mode == "train":
        # TODO: Implement the training-time forward pass of inverted dropout. Draw the mask as
        # (np.random.rand(*x.shape) < p) / p, cast it to x's dtype (.astype(x.dtype)) so that
        # float32 data stay float32, and store it in `mask`; out = x * mask.
        # BEGIN SOLUTION
        if not 0 < p <= 1:
            raise ValueError(f"dropout keep probability p must be in (0, 1], got {p!r}")
        mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)  # noqa: NPY002
        out = x * mask
        # END SOLUTION
    elif mode == "test":
        # TODO: Implement the test-time forward pass of inverted dropout.
        # BEGIN SOLUTION
        out = x
        # END SOLUTION
    else:
        raise ValueError(f"dropout mode must be 'train' or 'test', got {mode!r}")

    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of (inverted) dropout.

    Inputs:
    - dout: upstream gradient, of any shape
    - cache: (dropout_param, mask) from dropout_forward

    Returns:
    - dx: gradient with respect to x
    """
    dropout_param, mask = cache
    mode = dropout_param.get("mode")

    dx = None
    if mode == "train":
        # TODO: Implement the training-time backward pass of inverted dropout.
        # BEGIN SOLUTION
        dx = dout * mask
        # END SOLUTION
    elif mode == "test":
        dx = dout
    else:
        raise ValueError(f"dropout mode must be 'train' or 'test', got {mode!r}")
    return dx


def conv_forward_naive(x, w, b, conv_param):
    """A naive implementation of the forward pass of a convolutional layer.

    The input has N data points of C channels, height H and width W; it is convolved with F
    filters, each spanning all C channels with height HH and width WW. (As in most deep learning
    code this is cross-correlation: the filters are not flipped.)

    Inputs:
    - x: input data, of shape (N, C, H, W)
    - w: filter weights, of shape (F, C, HH, WW)
    - b: biases, of shape (F,)
    - conv_param: dict with the keys
      - stride: number of pixels between adjacent receptive fields, horizontally and vertically
      - pad: number of zeros added on each side of the input, along H and W (not C)

    You can assume that the filters tile the padded input exactly:
    (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0.

    Returns a tuple of:
    - out: output, of shape (N, F, H', W') where
      H' = 1 + (H + 2 * pad - HH) // stride
      W' = 1 + (W + 2 * pad - WW) // stride
    - cache: (x, w, b, conv_param)
    """
    out = None
    # TODO: Implement the convolutional forward pass with explicit loops; pad x with np.pad.
    # Raise a ValueError when the filters do not fit the padded input.
    # BEGIN SOLUTION
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    if Cw != C:
        raise ValueError(f"filters have {Cw} channels but the input has {C}")
    if stride < 1 or pad < 0:
        raise ValueError(f"need stride >= 1 and pad >= 0, got stride={stride}, pad={pad}")
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    if H_out < 1 or W_out < 1:
        raise ValueError(
            f"a {HH}x{WW} filter does not fit a {H}x{W} input padded by {pad} on each side"
        )

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                hs = i * stride
                for j in range(W_out):
                    ws = j * stride
                    window = x_pad[n, :, hs : hs + HH, ws : ws + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    # END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """A naive implementation of the backward pass of a convolutional layer.

    Inputs:
    - dout: upstream gradient, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param) from conv_forward_naive

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dw: gradient with respect to w, of shape (F, C, HH, WW)
    - db: gradient with respect to b, of shape (F,)
    """
    dx, dw, db = None, None, None
    # TODO: Implement the convolutional backward pass with explicit loops. Every output position
    # sends its gradient back to the window of the (padded) input it was computed from.
    # BEGIN SOLUTION
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))
    dw = np.zeros_like(w, dtype=np.result_type(x, w, dout))
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                hs = i * stride
                for j in range(W_out):
                    ws = j * stride
                    g = dout[n, f, i, j]
                    dw[f] += x_pad[n, :, hs : hs + HH, ws : ws + WW] * g
                    dx_pad[n, :, hs : hs + HH, ws : ws + WW] += w[f] * g
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    # END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """A naive implementation of the forward pass of a max-pooling layer.

    Each channel is pooled on its own over windows of pool_height x pool_width, placed every
    `stride` pixels; no padding. Windows may overlap (stride smaller than the window) or skip
    pixels (stride larger than the window). You can assume that they tile the input exactly:
    (H - pool_height) % stride == 0 and (W - pool_width) % stride == 0.

    Inputs:
    - x: input data, of shape (N, C, H, W)
    - pool_param: dict with the keys
      - pool_height: height of each pooling window
      - pool_width: width of each pooling window
      - stride: distance between adjacent pooling windows

    Returns a tuple of:
    - out: output, of shape (N, C, H', W') where
      H' = 1 + (H - pool_height) // stride
      W' = 1 + (W - pool_width) // stride
    - cache: (x, pool_param)
    """
    out = None
    # TODO: Implement the max-pooling forward pass with explicit loops. Raise a ValueError when
    # the window does not fit the input.
    # BEGIN SOLUTION
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    if stride < 1 or ph < 1 or pw < 1:
        raise ValueError(f"need positive pool sizes and stride, got {ph}x{pw}, stride {stride}")
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    if H_out < 1 or W_out < 1:
        raise ValueError(f"a {ph}x{pw} pooling window does not fit a {H}x{W} input")

    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                hs = i * stride
                for j in range(W_out):
                    ws = j * stride
                    out[n, c, i, j] = x[n, c, hs : hs + ph, ws : ws + pw].max()
    # END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """A naive implementation of the backward pass of a max-pooling layer.

    Each window's gradient goes to the position of its maximum; where several entries tie for the
    maximum, one of them receives it. Overlapping windows add up their contributions.

    Inputs:
    - dout: upstream gradient, of shape (N, C, H', W')
    - cache: (x, pool_param) from max_pool_forward_naive

    Returns:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    """
    dx = None
    # TODO: Implement the max-pooling backward pass with explicit loops.
    # BEGIN SOLUTION
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H_out, W_out = dout.shape

    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                hs = i * stride
                for j in range(W_out):
                    ws = j * stride
                    window = x[n, c, hs : hs + ph, ws : ws + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + di, ws + dj] += dout[n, c, i, j]
    # END SOLUTION
    return dx


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalisation, for convolutional feature maps.

    Each channel is normalised with statistics taken over the minibatch and all spatial
    positions, so that a feature is normalised the same way wherever it appears in the image.

    Inputs:
    - x: data, of shape (N, C, H, W)
    - gamma: scale, of shape (C,)
    - beta: shift, of shape (C,)
    - bn_param: dict as for batchnorm_forward (mode required; eps, momentum, running_mean and
      running_var, of shape (C,), filled in and written back)

    Returns a tuple of:
    - out: output, of shape (N, C, H, W)
    - cache: what spatial_batchnorm_backward needs
    """
    out, cache = None, None
    # TODO: Implement the spatial batch norm forward pass by reusing batchnorm_forward: move the
    # channel axis last and reshape x so that every (data point, position) pair is one row.
    # Your implementation should be very short (under five lines).
    # BEGIN SOLUTION
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # END SOLUTION
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalisation.

    Inputs:
    - dout: upstream gradient, of shape (N, C, H, W)
    - cache: from spatial_batchnorm_forward

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dgamma: gradient with respect to gamma, of shape (C,)
    - dbeta: gradient with respect to beta, of shape (C,)
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the spatial batch norm backward pass by reusing a batchnorm backward pass,
    # reshaping as in the forward pass. Your implementation should be very short.
    # BEGIN SOLUTION
    N, C, H, W = dout.shape
    rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(rows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # END SOLUTION
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalisation.

    The C channels are split into G groups of C // G consecutive channels; each data point is
    normalised per group over that group's channels and all spatial positions. Like layer
    normalisation (which is the case G = 1) it does not depend on the minibatch, so it behaves the
    same in training and at test time. Each channel is then scaled and shifted by its own gamma and
    beta.

    Inputs:
    - x: data, of shape (N, C, H, W)
    - gamma: scale, of shape (1, C, 1, 1)
    - beta: shift, of shape (1, C, 1, 1)
    - G: number of groups; must divide C
    - gn_param: dict with the key
      - eps: constant added to the variance for numerical stability (default 1e-5)

    Returns a tuple of:
    - out: output, of shape (N, C, H, W)
    - cache: what spatial_groupnorm_backward needs
    """
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    # TODO: Implement the spatial group norm forward pass. Reshape x so that each (data point,
    # group) pair holds its own values along one axis, normalise along that axis as in layer
    # norm, reshape back, then scale and shift per channel.
    # BEGIN SOLUTION
    N, C, H, W = x.shape
    if G < 1 or C % G != 0:
        raise ValueError(f"the number of groups G={G} must divide the number of channels C={C}")
    groups = x.reshape(N, G, -1)
    mean = groups.mean(axis=2, keepdims=True)
    xmu = groups - mean
    var = (xmu**2).mean(axis=2, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (xmu * inv_std).reshape(N, C, H, W)
    g4 = np.reshape(gamma, (1, C, 1, 1))
    out = g4 * x_hat + np.reshape(beta, (1, C, 1, 1))
    cache = (x_hat, inv_std, gamma, G)
    # END SOLUTION
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalisation.

    Inputs:
    - dout: upstream gradient, of shape (N, C, H, W)
    - cache: from spatial_groupnorm_forward

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dgamma: gradient with respect to gamma, of shape (1, C, 1, 1)
    - dbeta: gradient with respect to beta, of shape (1, C, 1, 1)
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the spatial group norm backward pass: dgamma and dbeta sum over every axis
    # but the channels; dx follows the layer norm derivation within each (data point, group).
    # BEGIN SOLUTION
    x_hat, inv_std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3)).reshape(np.shape(gamma))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3)).reshape(np.shape(gamma))
    dx_hat = (dout * np.reshape(gamma, (1, C, 1, 1))).reshape(N, G, -1)
    x_hat_g = x_hat.reshape(N, G, -1)
    M = x_hat_g.shape[2]
    dx = (inv_std / M) * (
        M * dx_hat
        - dx_hat.sum(axis=2, keepdims=True)
        - x_hat_g * (dx_hat * x_hat_g).sum(axis=2, keepdims=True)
    )
    dx = dx.reshape(N, C, H, W)
    # END SOLUTION
    return dx, dgamma, dbeta
