"""The corpus table: realistic student bugs, and legal variants, applied to the reference.

Every case starts from the solved submission (``grader.tools.solved.write_solved``) and replaces
exact snippets of the student package's source. Each ``old`` snippet must occur exactly once in its
file, so a change to the reference makes the corpus fail loudly instead of silently testing
nothing.

- A *bug* (``loses`` set) must cost points on a check whose name starts with ``loses``, bring the
  total below full marks, and give feedback that names what disagreed.
- A *legal* variant (``loses`` None) must get full marks on every check it is graded on.

Each case is graded only on the rubric objects in ``grade`` (prefixes, as in
``GradeSettings.objects``): the object it touches and those it could break. Training checks are
left out of the corpus (see ``harness.py``).

``expected.json`` maps each case id to the sorted names of the checks that fail. It is never edited
by hand; after a deliberate change to the checks or to this table, regenerate it with

    python -m tests.grader.corpus.regenerate

and review the diff: a check that starts or stops failing is exactly what the corpus is there to
show.
"""

from __future__ import annotations

from dataclasses import dataclass

FC = "fc_net.FullyConnectedNet"
CNN = "cnn.ThreeLayerConvNet"

LAYERS = "layers.py"
UTILS = "layer_utils.py"
OPTIM = "optim.py"
FC_NET = "classifiers/fc_net.py"
CNN_PY = "classifiers/cnn.py"


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of ``old`` in ``file`` (relative to the package) by ``new``."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[Edit, ...]
    grade: tuple[str, ...]  # rubric object prefixes to grade
    loses: str | None = None  # bug: the rubric object that must lose points; None: legal
    note: str = ""  # what the student did, in words
    files: tuple[tuple[str, str], ...] = ()  # extra files written into the package
    package: str = "assignment"  # the package's folder name in the submission
    wrapper: str | None = None  # a folder wrapping the package, as students often zip it
    archive: bool = False  # hand the submission in as a .zip
    xfail: str | None = None  # a known grader problem: the case is expected to fail, strictly

    @property
    def is_bug(self) -> bool:
        return self.loses is not None


def lines(indent: int, *parts: str) -> str:
    """Join source lines; every line after the first gets ``indent`` spaces.

    A snippet is matched from its first non-blank character, so only the following lines carry
    their indentation.
    """
    return "\n".join([parts[0], *(" " * indent + p if p else p for p in parts[1:])])


def bug(
    case_id: str,
    file: str,
    old: str,
    new: str,
    loses: str,
    grade: tuple[str, ...],
    note: str,
    xfail: str | None = None,
) -> Case:
    return Case(case_id, (Edit(file, old, new),), grade, loses, note, xfail=xfail)


def legal(case_id: str, grade: tuple[str, ...], note: str, *edits: Edit, **kw) -> Case:
    return Case(case_id, tuple(edits), grade, None, note, **kw)


# --- bugs: one realistic mistake each ---------------------------------------------------------

BUGS: tuple[Case, ...] = (
    # layers: affine, ReLU, losses
    bug(
        "dropout_forward_float32_becomes_float64", LAYERS,
        "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
        "mask = (np.random.rand(*x.shape) < p) / p",
        "layers.dropout_forward", ("layers.dropout",),
        "keeps the mask float64, so float32 inputs come out float64 (the contract keeps x's dtype)",
    ),
    bug(
        "affine_forward_no_reshape", LAYERS,
        "out = x.reshape(x.shape[0], -1) @ w + b",
        "out = x @ w + b",
        "layers.affine_forward", ("layers.affine", "layer_utils.affine_relu", CNN),
        "multiplies x by w without flattening each data point first",
    ),
    bug(
        "affine_backward_dx_not_reshaped", LAYERS,
        "dx = (dout @ w.T).reshape(x.shape)",
        "dx = dout @ w.T",
        "layers.affine_backward", ("layers.affine", "layer_utils.affine_relu", CNN),
        "returns dx flattened instead of in x's shape",
    ),
    bug(
        "relu_forward_leaky", LAYERS,
        "out = np.maximum(x, 0)",
        "out = np.maximum(x, 0.01 * x)",
        "layers.relu_forward", ("layers.relu",),
        "implements a leaky ReLU",
    ),
    bug(
        "relu_backward_mask_from_dout", LAYERS,
        "dx = dout * (x > 0)",
        "dx = dout * (dout > 0)",
        "layers.relu_backward", ("layers.relu", "layer_utils.affine_relu"),
        "masks the gradient with the sign of dout instead of the sign of x",
    ),
    bug(
        "softmax_without_max_shift", LAYERS,
        "shifted = x - x.max(axis=1, keepdims=True)",
        "shifted = x",
        "layers.softmax_loss", ("layers.softmax_loss",),
        "exponentiates the raw scores, which overflows on large scores",
    ),
    bug(
        "softmax_gradient_not_averaged", LAYERS,
        lines(4, "dx[rows, y] -= 1", "dx /= num"),
        "dx[rows, y] -= 1",
        "layers.softmax_loss", ("layers.softmax_loss",),
        "averages the loss over the batch but not its gradient",
    ),
    bug(
        "svm_margin_counts_correct_class", LAYERS,
        lines(4, "margins[rows, y] = 0", "loss = margins.sum() / num"),
        "loss = margins.sum() / num",
        "layers.svm_loss", ("layers.svm_loss",),
        "keeps the correct class's margin of 1 in the sum",
    ),
    # batch and layer normalisation
    bug(
        "batchnorm_unbiased_variance", LAYERS,
        "sample_var = (xmu**2).mean(axis=0)",
        "sample_var = x.var(axis=0, ddof=1)",
        "layers.batchnorm_forward", ("layers.batchnorm", "layers.spatial_batchnorm_forward"),
        "normalises with the unbiased (N - 1) variance",
    ),
    bug(
        "batchnorm_momentum_swapped", LAYERS,
        lines(
            8,
            "running_mean = momentum * running_mean + (1 - momentum) * sample_mean",
            "running_var = momentum * running_var + (1 - momentum) * sample_var",
            "# END SOLUTION",
        ),
        lines(
            8,
            "running_mean = (1 - momentum) * running_mean + momentum * sample_mean",
            "running_var = momentum * running_var + (1 - momentum) * sample_var",
            "# END SOLUTION",
        ),
        "layers.batchnorm_forward",
        ("layers.batchnorm_forward", "layers.spatial_batchnorm_forward"),
        "swaps momentum and 1 - momentum in the running mean",
    ),
    bug(
        "batchnorm_test_mode_uses_batch_statistics", LAYERS,
        "x_hat = (x - running_mean) / np.sqrt(running_var + eps)",
        "x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)",
        "layers.batchnorm_forward",
        ("layers.batchnorm_forward", "layers.spatial_batchnorm_forward", FC),
        "normalises with the test batch's own statistics in test mode",
    ),
    bug(
        "batchnorm_backward_missing_factor_2", LAYERS,
        "dxmu = dxmu + 2 * xmu * dsq",
        "dxmu = dxmu + xmu * dsq",
        "layers.batchnorm_backward", ("layers.batchnorm_backward", FC),
        "forgets the 2 of d(xmu**2)/d(xmu)",
    ),
    bug(
        "batchnorm_backward_alt_sign_error", LAYERS,
        "dx -= dbeta / N",
        "dx += dbeta / N",
        "layers.batchnorm_backward_alt",
        ("layers.batchnorm_backward_alt", "layers.spatial_batchnorm_backward"),
        "adds the mean of dout in the closed form instead of subtracting it",
    ),
    bug(
        "layernorm_mean_over_batch_axis", LAYERS,
        "mean = x.mean(axis=1, keepdims=True)",
        "mean = x.mean(axis=0, keepdims=True)",
        "layers.layernorm_forward", ("layers.layernorm", FC),
        "takes the mean over the batch (batchnorm's axis), the variance over features",
    ),
    bug(
        "layernorm_backward_divides_by_batch_size", LAYERS,
        "D = dout.shape[1]",
        "D = dout.shape[0]",
        "layers.layernorm_backward", ("layers.layernorm_backward", FC),
        "copies batchnorm's backward and divides by N instead of D",
    ),
    bug(
        "batchnorm_test_mode_updates_running_stats", LAYERS,
        "out = (gamma * x_hat + beta).astype(x.dtype, copy=False)",
        lines(
            8,
            "out = (gamma * x_hat + beta).astype(x.dtype, copy=False)",
            "running_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)",
            "running_var = momentum * running_var + (1 - momentum) * x.var(axis=0)",
        ),
        "layers.batchnorm_forward", ("layers.batchnorm_forward",),
        "keeps updating the running averages in test mode (after using them)",
    ),
    bug(
        "batchnorm_ignores_eps", LAYERS,
        'eps = bn_param.setdefault("eps", 1e-5)',
        "eps = 1e-5",
        "layers.batchnorm_forward", ("layers.batchnorm_forward",),
        "uses eps = 1e-5 whatever bn_param says",
    ),
    bug(
        "batchnorm_default_momentum_099", LAYERS,
        'momentum = bn_param.setdefault("momentum", 0.9)',
        'momentum = bn_param.setdefault("momentum", 0.99)',
        "layers.batchnorm_forward", ("layers.batchnorm_forward",),
        "defaults the momentum to 0.99 instead of the documented 0.9",
    ),
    bug(
        "layernorm_obeys_test_mode", LAYERS,
        'eps = ln_param.get("eps", 1e-5)',
        lines(
            4,
            'eps = ln_param.get("eps", 1e-5)',
            'if ln_param.get("mode") == "test":',
            '    mean, var = ln_param.get("running_mean", 0.0), ln_param.get("running_var", 1.0)',
            "    return gamma * (x - mean) / np.sqrt(var + eps) + beta, None",
        ),
        "layers.layernorm_forward", ("layers.layernorm_forward",),
        "copies batchnorm's test branch: with mode='test' it uses running statistics",
    ),
    bug(
        "layernorm_ignores_eps", LAYERS,
        'eps = ln_param.get("eps", 1e-5)',
        "eps = 1e-5",
        "layers.layernorm_forward", ("layers.layernorm_forward",),
        "uses eps = 1e-5 whatever ln_param says",
    ),
    bug(
        "groupnorm_obeys_test_mode", LAYERS,
        'eps = gn_param.get("eps", 1e-5)',
        lines(
            4,
            'eps = gn_param.get("eps", 1e-5)',
            'if gn_param.get("mode") == "test":',
            "    return gamma * x + beta, None",
        ),
        "layers.spatial_groupnorm_forward", ("layers.spatial_groupnorm_forward",),
        "skips the normalisation when gn_param carries mode='test'",
    ),
    # dropout
    bug(
        "dropout_mask_cached_in_param", LAYERS,
        "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
        lines(
            8,
            'if "mask" not in dropout_param:',
            '    dropout_param["mask"] = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype)',
            'mask = dropout_param["mask"]',
        ),
        "layers.dropout_forward", ("layers.dropout_forward",),
        "draws the mask once and keeps it in dropout_param for every later call",
    ),
    bug(
        "dropout_mask_not_divided_by_p", LAYERS,
        "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
        "mask = (np.random.rand(*x.shape) < p).astype(x.dtype, copy=False)",
        "layers.dropout_forward", ("layers.dropout", FC),
        "drops units but does not rescale the kept ones (not inverted dropout)",
    ),
    bug(
        "dropout_p_as_drop_probability", LAYERS,
        "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
        "mask = ((np.random.rand(*x.shape) >= p) / (1 - p)).astype(x.dtype, copy=False)",
        "layers.dropout_forward", ("layers.dropout", FC),
        "reads p as the probability of dropping a unit",
    ),
    bug(
        "dropout_test_mode_scaled", LAYERS,
        lines(8, "out = x", "# END SOLUTION"),
        lines(8, "out = x * p", "# END SOLUTION"),
        "layers.dropout_forward", ("layers.dropout_forward", FC),
        "scales by p at test time although the mask was already divided by p",
    ),
    bug(
        "dropout_backward_ignores_mask", LAYERS,
        "dx = dout * mask",
        "dx = dout",
        "layers.dropout_backward", ("layers.dropout_backward", FC),
        "passes the gradient through dropped units",
    ),
    # convolution and pooling
    bug(
        "conv_forward_missing_padding", LAYERS,
        lines(
            4,
            'x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")',
            "out = np.zeros(",
        ),
        lines(4, "x_pad = x", "out = np.zeros("),
        "layers.conv_forward_naive", ("layers.conv",),
        "computes the padded output size but never pads x",
    ),
    bug(
        "conv_forward_stride_ignored_along_width", LAYERS,
        lines(20, "ws = j * stride", "window = x_pad[n, :, hs : hs + HH, ws : ws + WW]"),
        lines(20, "ws = j", "window = x_pad[n, :, hs : hs + HH, ws : ws + WW]"),
        "layers.conv_forward_naive", ("layers.conv_forward_naive",),
        "moves the window one pixel at a time along the width whatever the stride",
    ),
    bug(
        "conv_forward_flipped_filters", LAYERS,
        "out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
        "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]",
        "layers.conv_forward_naive", ("layers.conv",),
        "flips the filters (a true convolution, not the cross-correlation asked for)",
    ),
    bug(
        "conv_backward_dw_overwritten", LAYERS,
        "dw[f] += x_pad[n, :, hs : hs + HH, ws : ws + WW] * g",
        "dw[f] = x_pad[n, :, hs : hs + HH, ws : ws + WW] * g",
        "layers.conv_backward_naive", ("layers.conv_backward_naive",),
        "assigns dw for each window instead of accumulating it",
    ),
    bug(
        "conv_backward_crop_with_negative_index", LAYERS,
        "dx = dx_pad[:, :, pad : pad + H, pad : pad + W]",
        "dx = dx_pad[:, :, pad:-pad, pad:-pad]",
        "layers.conv_backward_naive", ("layers.conv_backward_naive",),
        "crops the padding with pad:-pad, which is empty when pad is 0",
    ),
    bug(
        "max_pool_backward_to_whole_window", LAYERS,
        "dx[n, c, hs + di, ws + dj] += dout[n, c, i, j]",
        "dx[n, c, hs : hs + ph, ws : ws + pw] += dout[n, c, i, j]",
        "layers.max_pool_backward_naive", ("layers.max_pool",),
        "sends each window's gradient to every position, not only the maximum",
    ),
    bug(
        "max_pool_output_size_assumes_tiling", LAYERS,
        "H_out = 1 + (H - ph) // stride",
        "H_out = H // stride",
        "layers.max_pool_forward_naive", ("layers.max_pool",),
        "computes the output height as if the windows always tiled the input",
    ),
    bug(
        "max_pool_backward_overwrites_overlaps", LAYERS,
        "dx[n, c, hs + di, ws + dj] += dout[n, c, i, j]",
        "dx[n, c, hs + di, ws + dj] = dout[n, c, i, j]",
        "layers.max_pool_backward_naive", ("layers.max_pool_backward_naive",),
        "assigns each window's gradient, so overlapping windows that share a maximum lose one",
    ),
    bug(
        "max_pool_width_from_pool_height", LAYERS,
        "W_out = 1 + (W - pw) // stride",
        "W_out = 1 + (W - ph) // stride",
        "layers.max_pool_forward_naive", ("layers.max_pool_forward_naive",),
        "computes the output width with the window's height (right for square windows only)",
    ),
    bug(
        "conv_width_from_filter_height", LAYERS,
        "W_out = 1 + (W + 2 * pad - WW) // stride",
        "W_out = 1 + (W + 2 * pad - HH) // stride",
        "layers.conv_forward_naive", ("layers.conv_forward_naive",),
        "computes the output width with the filter's height (right for square filters only)",
    ),
    bug(
        "conv_relu_backward_skips_relu", UTILS,
        lines(4, "conv_cache, relu_cache = cache", "da = relu_backward(dout, relu_cache)"),
        lines(4, "conv_cache, _ = cache", "da = dout"),
        "layer_utils.conv_relu", ("layer_utils.conv_relu",),
        "passes dout straight to the convolution, skipping the ReLU's backward pass",
    ),
    bug(
        "conv_bn_relu_forces_train_mode", UTILS,
        "an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)",
        'an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, {**bn_param, "mode": "train"})',
        "layer_utils.conv_bn_relu", ("layer_utils.conv_bn_relu",),
        "normalises with batch statistics whatever the mode (and drops the running averages)",
    ),
    # spatial batch norm and group norm
    bug(
        "spatial_batchnorm_reshape_without_transpose", LAYERS,
        "rows = x.transpose(0, 2, 3, 1).reshape(-1, C)",
        "rows = x.reshape(-1, C)",
        "layers.spatial_batchnorm_forward",
        ("layers.spatial_batchnorm", "layer_utils.conv_bn_relu"),
        "reshapes (N, C, H, W) to (-1, C) without moving the channels last",
    ),
    bug(
        "spatial_batchnorm_backward_reshape_without_transpose", LAYERS,
        "rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)",
        "rows = dout.reshape(-1, C)",
        "layers.spatial_batchnorm_backward",
        ("layers.spatial_batchnorm_backward", "layer_utils.conv_bn_relu"),
        "reshapes dout to (-1, C) without moving the channels last",
    ),
    bug(
        "groupnorm_interleaved_groups", LAYERS,
        "groups = x.reshape(N, G, -1)",
        "groups = x.reshape(N, C // G, G, H * W).swapaxes(1, 2).reshape(N, G, -1)",
        "layers.spatial_groupnorm_forward", ("layers.spatial_groupnorm",),
        "groups channels g, g + G, g + 2G... instead of consecutive channels",
    ),
    bug(
        "groupnorm_backward_group_size_without_channels", LAYERS,
        "M = x_hat_g.shape[2]",
        "M = H * W",
        "layers.spatial_groupnorm_backward", ("layers.spatial_groupnorm_backward",),
        "counts a group's elements as H * W, forgetting its C // G channels",
    ),
    # layer_utils
    bug(
        "affine_relu_backward_skips_relu", UTILS,
        lines(
            4, "da = relu_backward(dout, relu_cache)", "dx, dw, db = affine_backward(da, fc_cache)"
        ),
        "dx, dw, db = affine_backward(dout, fc_cache)",
        "layer_utils.affine_relu", ("layer_utils.affine_relu", FC, CNN),
        "backpropagates through the affine layer only",
    ),
    bug(
        "conv_relu_pool_backward_wrong_order", UTILS,
        lines(
            4, "ds = max_pool_backward_fast(dout, pool_cache)", "da = relu_backward(ds, relu_cache)"
        ),
        lines(
            4, "ds = relu_backward(dout, relu_cache)", "da = max_pool_backward_fast(ds, pool_cache)"
        ),
        "layer_utils.conv_relu_pool", ("layer_utils.conv_relu_pool", CNN),
        "undoes the ReLU before the pooling in the backward pass",
    ),
    bug(
        "conv_bn_relu_backward_swaps_dgamma_dbeta", UTILS,
        "da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)",
        "da, dbeta, dgamma = spatial_batchnorm_backward(dan, bn_cache)",
        "layer_utils.conv_bn_relu", ("layer_utils.conv_bn_relu",),
        "unpacks the batchnorm gradients in the wrong order",
    ),
    # optim
    bug(
        "sgd_momentum_sign", OPTIM,
        'v = config["momentum"] * v - config["learning_rate"] * dw',
        'v = config["momentum"] * v + config["learning_rate"] * dw',
        "optim.sgd_momentum", ("optim.sgd_momentum",),
        "adds the gradient to the velocity (steps uphill)",
    ),
    bug(
        "rmsprop_decay_swapped", OPTIM,
        'cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2',
        'cache = (1 - config["decay_rate"]) * config["cache"] + config["decay_rate"] * dw**2',
        "optim.rmsprop", ("optim.rmsprop",),
        "weights the new squared gradient by decay_rate instead of 1 - decay_rate",
    ),
    bug(
        "adam_without_bias_correction", OPTIM,
        lines(4, "m_hat = m / (1 - beta1**t)", "v_hat = v / (1 - beta2**t)"),
        "m_hat, v_hat = m, v",
        "optim.adam", ("optim.adam",),
        "uses the raw moments, without the bias correction",
    ),
    bug(
        "adam_t_incremented_after_correction", OPTIM,
        lines(4, "m_hat = m / (1 - beta1**t)", "v_hat = v / (1 - beta2**t)"),
        lines(
            4, 'm_hat = m / (1 - beta1 ** config["t"])', 'v_hat = v / (1 - beta2 ** config["t"])'
        ),
        "optim.adam", ("optim.adam",),
        "corrects the bias with the step count from before this step",
    ),
    bug(
        "sgd_momentum_mutable_default_config", OPTIM,
        "def sgd_momentum(w, dw, config=None):",
        "def sgd_momentum(w, dw, config={}):  # noqa: B006",
        "optim.sgd_momentum", ("optim.sgd_momentum",),
        "defaults config to one dict shared by every call without a config",
    ),
    Case(
        "rmsprop_shared_default_config",
        (
            Edit(OPTIM, "import numpy as np", "import numpy as np\n\nRMSPROP_DEFAULTS = {}"),
            Edit(
                OPTIM,
                lines(4, "config = {}", 'config.setdefault("learning_rate", 1e-2)',
                      'config.setdefault("decay_rate", 0.99)'),
                lines(4, "config = RMSPROP_DEFAULTS", 'config.setdefault("learning_rate", 1e-2)',
                      'config.setdefault("decay_rate", 0.99)'),
            ),
        ),
        ("optim.rmsprop",), "optim.rmsprop",
        "uses one module-level dict for config=None, so one array's cache leaks into the next",
    ),
    bug(
        "adam_hardcodes_beta1", OPTIM,
        'beta1, beta2 = config["beta1"], config["beta2"]',
        'beta1, beta2 = 0.9, config["beta2"]',
        "optim.adam", ("optim.adam",),
        "uses the default beta1 whatever the config says",
    ),
    bug(
        "rmsprop_hardcodes_epsilon", OPTIM,
        'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
        'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + 1e-8)',
        "optim.rmsprop", ("optim.rmsprop",),
        "uses the default epsilon whatever the config says",
    ),
    # FullyConnectedNet
    bug(
        "fc_regularises_biases", FC_NET,
        "loss += 0.5 * self.reg * np.sum(w * w)",
        'loss += 0.5 * self.reg * (np.sum(w * w) + np.sum(self.params[f"b{i}"] ** 2))',
        FC, (FC,),
        "adds the biases to the L2 penalty",
    ),
    bug(
        "fc_regularisation_missing_half", FC_NET,
        "loss += 0.5 * self.reg * np.sum(w * w)",
        "loss += self.reg * np.sum(w * w)",
        FC, (FC,),
        "leaves out the 0.5 of the L2 penalty (the gradient keeps reg * W)",
    ),
    bug(
        "fc_no_regularisation_gradient", FC_NET,
        'grads[f"W{i}"] = grads[f"W{i}"] + self.reg * w',
        'grads[f"W{i}"] = grads[f"W{i}"]',
        FC, (FC,),
        "adds the L2 penalty to the loss but not to the weight gradients",
    ),
    bug(
        "fc_dropout_in_test_mode", FC_NET,
        'self.dropout_param["mode"] = mode',
        'self.dropout_param["mode"] = "train"',
        FC, (FC,),
        "keeps dropout on when scoring (y is None)",
    ),
    bug(
        "fc_batchnorm_always_in_train_mode", FC_NET,
        'bn_param["mode"] = mode',
        'bn_param["mode"] = "train"',
        FC, (FC,),
        "never switches batchnorm to its running statistics when scoring",
    ),
    bug(
        "fc_he_initialisation", FC_NET,
        'self.params[f"W{i}"] = np.random.randn(d_in, d_out) * weight_scale',
        'self.params[f"W{i}"] = np.random.randn(d_in, d_out) * np.sqrt(2.0 / d_in)',
        FC, (FC,),
        "initialises the weights with He's scale instead of weight_scale",
    ),
    bug(
        "fc_gamma_initialised_to_zeros", FC_NET,
        'self.params[f"gamma{i}"] = np.ones(d_out)',
        'self.params[f"gamma{i}"] = np.zeros(d_out)',
        FC, (FC,),
        "starts the normalisation scales at zero",
    ),
    bug(
        "fc_layernorm_backward_through_batchnorm", UTILS,
        "da, dgamma, dbeta = layernorm_backward(da_norm, norm_cache)",
        "da, dgamma, dbeta = batchnorm_backward(da_norm, norm_cache)",
        FC, (FC,),
        "copies the batchnorm branch of the affine-norm-relu helper into the layernorm one",
    ),
    # ThreeLayerConvNet
    bug(
        "cnn_padding_hardcoded_to_1", CNN_PY,
        'conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}',
        'conv_param = {"stride": 1, "pad": 1}',
        CNN, (CNN,),
        "pads by 1, which keeps the spatial size only for 3x3 filters",
    ),
    bug(
        "cnn_no_regularisation_gradient", CNN_PY,
        "grads[name] = grads[name] + self.reg * w",
        "grads[name] = grads[name]",
        CNN, (CNN,),
        "adds the L2 penalty to the loss but not to the weight gradients",
    ),
    bug(
        "cnn_ignores_weight_scale", CNN_PY,
        "np.random.randn(num_filters, C, filter_size, filter_size) * weight_scale",
        "np.random.randn(num_filters, C, filter_size, filter_size) * 1e-3",
        CNN, (CNN,),
        "hard-codes the default weight scale for the convolution filters",
    ),
)  # fmt: skip

# --- legal variants: must keep full marks ----------------------------------------------------

VARIANTS: tuple[Case, ...] = (
    legal(
        "affine_cache_as_dict", ("layers.affine", "layer_utils.affine_relu", FC, CNN),
        "keeps a dict with an extra entry as the affine cache",
        Edit(
            LAYERS,
            lines(4, "cache = (x, w, b)", "return out, cache"),
            lines(4, 'cache = {"x": x, "w": w, "b": b, "shape": x.shape}', "return out, cache"),
        ),
        Edit(LAYERS, "x, w, _ = cache", 'x, w = cache["x"], cache["w"]'),
    ),
    legal(
        "batchnorm_cache_dict_with_extra_entries",
        ("layers.batchnorm", "layers.spatial_batchnorm", "layer_utils.conv_bn_relu", FC),
        "keeps a dict with extra entries as the batchnorm cache",
        Edit(
            LAYERS,
            "cache = (x_hat, xmu, inv_std, std, gamma)",
            'cache = {"x_hat": x_hat, "xmu": xmu, "inv_std": inv_std, "std": std, '
            '"gamma": gamma, "x": x, "eps": eps}',
        ),
        Edit(
            LAYERS,
            "x_hat, xmu, inv_std, std, gamma = cache",
            'x_hat, xmu, inv_std, std, gamma = (cache[k] for k in ("x_hat", "xmu", "inv_std", '
            '"std", "gamma"))',
        ),
        Edit(
            LAYERS,
            "x_hat, _, inv_std, _, gamma = cache",
            'x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]',
        ),
    ),
    legal(
        "conv_cache_with_padded_input", ("layers.conv",),
        "also caches the padded input",
        Edit(
            LAYERS,
            lines(4, "cache = (x, w, b, conv_param)", "return out, cache"),
            lines(4, "cache = (x, w, b, conv_param, x_pad)", "return out, cache"),
        ),
        Edit(LAYERS, "x, w, _, conv_param = cache", "x, w, _, conv_param, x_pad = cache"),
    ),
    legal(
        "relu_as_mask_product", ("layers.relu", "layer_utils.affine_relu"),
        "computes the ReLU as x * (x > 0)",
        Edit(LAYERS, "out = np.maximum(x, 0)", "out = x * (x > 0)"),
    ),
    legal(
        "relu_backward_passes_gradient_at_zero",
        ("layers.relu", "layer_utils", FC, CNN),
        "uses x >= 0 in the ReLU backward pass: another subgradient at exactly 0",
        Edit(LAYERS, "dx = dout * (x > 0)", "dx = dout * (x >= 0)"),
    ),
    legal(
        "softmax_via_logsumexp", ("layers.softmax_loss",),
        "computes the log-probabilities with an explicit log-sum-exp",
        Edit(
            LAYERS,
            lines(
                4,
                "shifted = x - x.max(axis=1, keepdims=True)",
                "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
            ),
            lines(
                4,
                "top = x.max(axis=1, keepdims=True)",
                "logsumexp = top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))",
                "log_probs = x - logsumexp",
            ),
        ),
    ),
    legal(
        "softmax_probabilities_then_log", ("layers.softmax_loss",),
        "the notebook's usual solution: shift by the max, normalise, then take the log",
        Edit(
            LAYERS,
            lines(
                4,
                "shifted = x - x.max(axis=1, keepdims=True)",
                "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                "loss = -log_probs[rows, y].mean()",
                "dx = np.exp(log_probs)",
            ),
            lines(
                4,
                "shifted = x - x.max(axis=1, keepdims=True)",
                "probs = np.exp(shifted)",
                "probs /= probs.sum(axis=1, keepdims=True)",
                "loss = -np.log(probs[rows, y]).mean()",
                "dx = probs.copy()",
            ),
        ),
            ),
    legal(
        "svm_with_loops", ("layers.svm_loss",),
        "computes the hinge loss and its gradient with explicit loops",
        Edit(
            LAYERS,
            lines(
                4,
                "margins = np.maximum(0, x - x[rows, y][:, None] + 1)",
                "margins[rows, y] = 0",
                "loss = margins.sum() / num",
                "positive = margins > 0",
                "dx = positive.astype(x.dtype)",
                "dx[rows, y] -= positive.sum(axis=1)",
            ),
            lines(
                4,
                "loss = 0.0",
                "dx = np.zeros_like(x)",
                "for i in range(num):",
                "    for j in range(x.shape[1]):",
                "        margin = x[i, j] - x[i, y[i]] + 1",
                "        if j != y[i] and margin > 0:",
                "            loss += margin",
                "            dx[i, j] += 1",
                "            dx[i, y[i]] -= 1",
                "loss /= num",
            ),
        ),
    ),
    legal(
        "batchnorm_variance_with_np_var",
        ("layers.batchnorm_forward", "layers.spatial_batchnorm_forward"),
        "takes the batch variance with np.var",
        Edit(LAYERS, "sample_var = (xmu**2).mean(axis=0)", "sample_var = x.var(axis=0)"),
    ),
    legal(
        "batchnorm_backward_paper_formula", ("layers.batchnorm_backward", FC),
        "computes dx with the formulas of the batch normalisation paper",
        Edit(
            LAYERS,
            "dx = dxmu + np.broadcast_to(dmu / N, dout.shape)",
            lines(
                4,
                "dvar = -0.5 * (dx_hat * xmu).sum(axis=0) * inv_std**3",
                "dmean = -(dx_hat * inv_std).sum(axis=0) - 2 * dvar * xmu.mean(axis=0)",
                "dx = dx_hat * inv_std + dvar * 2 * xmu / N + dmean / N",
            ),
        ),
            ),
    legal(
        "batchnorm_backward_alt_one_expression",
        ("layers.batchnorm_backward_alt", "layers.spatial_batchnorm"),
        "writes the simplified backward pass as one expression",
        Edit(
            LAYERS,
            lines(
                4,
                "dx = x_hat * (-dgamma / N)",
                "dx += dout",
                "dx -= dbeta / N",
                "dx *= gamma * inv_std",
            ),
            "dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)",
        ),
    ),
    legal(
        "layernorm_by_transposing_into_batchnorm", ("layers.layernorm", FC),
        "runs batchnorm on x.T for the normalisation, then scales and shifts per feature",
        Edit(
            LAYERS,
            lines(
                4,
                "mean = x.mean(axis=1, keepdims=True)",
                "xmu = x - mean",
                "var = (xmu**2).mean(axis=1, keepdims=True)",
                "inv_std = 1 / np.sqrt(var + eps)",
                "x_hat = xmu * inv_std",
                "out = gamma * x_hat + beta",
                "cache = (x_hat, inv_std, gamma)",
            ),
            lines(
                4,
                "n = x.shape[0]",
                "ones, zeros = np.ones(n, dtype=x.dtype), np.zeros(n, dtype=x.dtype)",
                'bn_param = {"mode": "train", "eps": eps}',
                "x_hat_t, bn_cache = batchnorm_forward(x.T, ones, zeros, bn_param)",
                "x_hat = x_hat_t.T",
                "out = gamma * x_hat + beta",
                "cache = (x_hat, gamma, bn_cache)",
            ),
        ),
        Edit(
            LAYERS,
            lines(
                4,
                "x_hat, inv_std, gamma = cache",
                "D = dout.shape[1]",
                "dbeta = dout.sum(axis=0)",
                "dgamma = (dout * x_hat).sum(axis=0)",
                "dx_hat = dout * gamma",
                "dx = (inv_std / D) * (",
                "    D * dx_hat",
                "    - dx_hat.sum(axis=1, keepdims=True)",
                "    - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)",
                ")",
            ),
            lines(
                4,
                "x_hat, gamma, bn_cache = cache",
                "dbeta = dout.sum(axis=0)",
                "dgamma = (dout * x_hat).sum(axis=0)",
                "dx_t, _, _ = batchnorm_backward((dout * gamma).T, bn_cache)",
                "dx = dx_t.T",
            ),
        ),
            ),
    legal(
        "dropout_boolean_mask_in_cache", ("layers.dropout", FC),
        "keeps the boolean mask in the cache and divides by p where it is used",
        Edit(
            LAYERS,
            "mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)",
            "mask = np.random.rand(*x.shape) < p",
        ),
        Edit(
            LAYERS,
            lines(8, "out = x * mask", "# END SOLUTION"),
            lines(8, "out = x * mask / p", "# END SOLUTION"),
        ),
        Edit(LAYERS, "dx = dout * mask", 'dx = dout * mask / dropout_param["p"]'),
    ),
    legal(
        "conv_forward_einsum", ("layers.conv",),
        "loops over output positions only, contracting the batch and filters with einsum",
        Edit(
            LAYERS,
            lines(
                4,
                "for n in range(N):",
                "    for f in range(F):",
                "        for i in range(H_out):",
                "            hs = i * stride",
                "            for j in range(W_out):",
                "                ws = j * stride",
                "                window = x_pad[n, :, hs : hs + HH, ws : ws + WW]",
                "                out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
            ),
            lines(
                4,
                "for i in range(H_out):",
                "    for j in range(W_out):",
                "        hs, ws = i * stride, j * stride",
                "        patch = x_pad[:, :, hs : hs + HH, ws : ws + WW]",
                '        out[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, w) + b',
            ),
        ),
    ),
    legal(
        "max_pool_forward_via_argmax", ("layers.max_pool_forward_naive",),
        "reads each window's maximum through np.argmax",
        Edit(
            LAYERS,
            "out[n, c, i, j] = x[n, c, hs : hs + ph, ws : ws + pw].max()",
            lines(
                20,
                "window = x[n, c, hs : hs + ph, ws : ws + pw]",
                "out[n, c, i, j] = window.flat[np.argmax(window)]",
            ),
        ),
    ),
    legal(
        "max_pool_backward_via_mask", ("layers.max_pool_backward_naive",),
        "routes the gradient with a window == max mask",
        Edit(
            LAYERS,
            lines(
                20,
                "di, dj = np.unravel_index(np.argmax(window), window.shape)",
                "dx[n, c, hs + di, ws + dj] += dout[n, c, i, j]",
            ),
            lines(
                20,
                "mask = window == window.max()",
                "dx[n, c, hs : hs + ph, ws : ws + pw] += mask * dout[n, c, i, j]",
            ),
        ),
    ),
    legal(
        "spatial_batchnorm_backward_through_graph",
        ("layers.spatial_batchnorm", "layer_utils.conv_bn_relu"),
        "reuses batchnorm_backward instead of batchnorm_backward_alt",
        Edit(
            LAYERS,
            "dx_rows, dgamma, dbeta = batchnorm_backward_alt(rows, cache)",
            "dx_rows, dgamma, dbeta = batchnorm_backward(rows, cache)",
        ),
    ),
    legal(
        "groupnorm_five_dimensional_reshape", ("layers.spatial_groupnorm",),
        "reshapes to (N, G, C // G, H, W) and reduces over the last three axes",
        Edit(
            LAYERS,
            lines(
                4,
                "groups = x.reshape(N, G, -1)",
                "mean = groups.mean(axis=2, keepdims=True)",
                "xmu = groups - mean",
                "var = (xmu**2).mean(axis=2, keepdims=True)",
                "inv_std = 1 / np.sqrt(var + eps)",
                "x_hat = (xmu * inv_std).reshape(N, C, H, W)",
            ),
            lines(
                4,
                "groups = x.reshape(N, G, C // G, H, W)",
                "mean = groups.mean(axis=(2, 3, 4), keepdims=True)",
                "var = groups.var(axis=(2, 3, 4), keepdims=True)",
                "x_hat = ((groups - mean) / np.sqrt(var + eps)).reshape(N, C, H, W)",
                "inv_std = (1 / np.sqrt(var + eps)).reshape(N, G, 1)",
            ),
        ),
    ),
    legal(
        "affine_forward_in_float64", ("layers.affine_forward",),
        "computes in float64 and casts the result back to x's dtype",
        Edit(
            LAYERS,
            "out = x.reshape(x.shape[0], -1) @ w + b",
            "out = (x.reshape(x.shape[0], -1).astype(np.float64) @ w.astype(np.float64) + b)"
            ".astype(x.dtype)",
        ),
    ),
    legal(
        "fc_initialises_all_weights_first_with_normal", (FC,),
        "draws every weight first with np.random.normal, then the biases and norm parameters",
        Edit(
            FC_NET,
            lines(
                8,
                "for i in range(1, self.num_layers + 1):",
                "    d_in, d_out = dims[i - 1], dims[i]",
                '    self.params[f"W{i}"] = np.random.randn(d_in, d_out) * weight_scale',
                '    self.params[f"b{i}"] = np.zeros(d_out)',
                "    if self.normalization is not None and i < self.num_layers:",
                '        self.params[f"gamma{i}"] = np.ones(d_out)',
                '        self.params[f"beta{i}"] = np.zeros(d_out)',
            ),
            lines(
                8,
                "for i in range(1, self.num_layers + 1):",
                '    self.params[f"W{i}"] = np.random.normal(0, weight_scale, dims[i - 1 : i + 1])',
                "for i in range(1, self.num_layers + 1):",
                '    self.params[f"b{i}"] = np.zeros(dims[i])',
                "for i in range(1, self.num_layers):",
                "    if self.normalization is not None:",
                '        self.params[f"gamma{i}"] = np.ones(dims[i])',
                '        self.params[f"beta{i}"] = np.zeros(dims[i])',
            ),
        ),
    ),
    legal(
        "fc_initialises_last_layer_first", (FC,),
        "draws the layers' weights from the last layer to the first",
        Edit(
            FC_NET,
            lines(
                8,
                "for i in range(1, self.num_layers + 1):",
                "    d_in, d_out = dims[i - 1], dims[i]",
            ),
            lines(
                8,
                "for i in range(self.num_layers, 0, -1):",
                "    d_in, d_out = dims[i - 1], dims[i]",
            ),
        ),
    ),
    legal(
        "fc_regularisation_summed_in_one_expression", (FC,),
        "sums the L2 penalty over all weights at once and adds reg * W to the gradients in place",
        Edit(
            FC_NET,
            lines(
                8,
                "for i in range(1, self.num_layers + 1):",
                '    w = self.params[f"W{i}"]',
                "    loss += 0.5 * self.reg * np.sum(w * w)",
                '    grads[f"W{i}"] = grads[f"W{i}"] + self.reg * w',
            ),
            lines(
                8,
                'weights = [self.params[f"W{i}"] for i in range(1, self.num_layers + 1)]',
                "loss += 0.5 * self.reg * sum(np.sum(w**2) for w in weights)",
                "for i, w in enumerate(weights, start=1):",
                '    grads[f"W{i}"] += self.reg * w',
            ),
        ),
    ),
    legal(
        "cnn_with_naive_layers", (CNN,),
        "builds the network from the naive conv and pool layers instead of the sandwich helper",
        Edit(
            CNN_PY,
            "from ..layers import affine_backward, affine_forward, softmax_loss",
            "from ..layers import (\n"
            "    affine_backward,\n"
            "    affine_forward,\n"
            "    conv_backward_naive,\n"
            "    conv_forward_naive,\n"
            "    max_pool_backward_naive,\n"
            "    max_pool_forward_naive,\n"
            "    relu_backward,\n"
            "    relu_forward,\n"
            "    softmax_loss,\n"
            ")",
        ),
        Edit(
            CNN_PY,
            "pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)",
            lines(
                8,
                "a, c1 = conv_forward_naive(X, W1, b1, conv_param)",
                "r, c2 = relu_forward(a)",
                "pooled, c3 = max_pool_forward_naive(r, pool_param)",
                "conv_cache = (c1, c2, c3)",
            ),
        ),
        Edit(
            CNN_PY,
            '_, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache)',
            lines(
                8,
                "c1, c2, c3 = conv_cache",
                "dr = max_pool_backward_naive(dpooled, c3)",
                "da = relu_backward(dr, c2)",
                '_, grads["W1"], grads["b1"] = conv_backward_naive(da, c1)',
            ),
        ),
            ),
    legal(
        "sgd_momentum_in_place", ("optim.sgd_momentum",),
        "updates the velocity and the weights in place",
        Edit(
            OPTIM,
            'v = config.get("velocity", np.zeros_like(w))',
            'v = config.setdefault("velocity", np.zeros_like(w))',
        ),
        Edit(
            OPTIM,
            lines(
                4,
                'v = config["momentum"] * v - config["learning_rate"] * dw',
                "next_w = w + v",
            ),
            lines(
                4,
                'v *= config["momentum"]',
                'v -= config["learning_rate"] * dw',
                "w += v",
                "next_w = w",
            ),
        ),
    ),
    legal(
        "rmsprop_in_place_with_extra_config_entry", ("optim.rmsprop",),
        "updates the cache in place and keeps a step counter of its own in config",
        Edit(
            OPTIM,
            'cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2',
            lines(
                4,
                'cache = config["cache"]',
                'cache *= config["decay_rate"]',
                'cache += (1 - config["decay_rate"]) * dw**2',
                'config["step"] = config.get("step", 0) + 1',
            ),
        ),
    ),
    legal(
        "adam_in_place", ("optim.adam",),
        "updates the moments in place",
        Edit(
            OPTIM,
            lines(
                4,
                'm = beta1 * config["m"] + (1 - beta1) * dw',
                'v = beta2 * config["v"] + (1 - beta2) * dw**2',
            ),
            lines(
                4,
                'm, v = config["m"], config["v"]',
                "m *= beta1",
                "m += (1 - beta1) * dw",
                "v *= beta2",
                "v += (1 - beta2) * dw * dw",
            ),
        ),
    ),
    legal(
        "prints_while_running", ("layers.affine", FC),
        "prints debugging output at import and in every call",
        Edit(LAYERS, "import numpy as np", 'import numpy as np\n\nprint("layers.py imported")'),
        Edit(
            LAYERS,
            "out = x.reshape(x.shape[0], -1) @ w + b",
            lines(
                4,
                'print("affine_forward", x.shape, w.shape)',
                "out = x.reshape(x.shape[0], -1) @ w + b",
            ),
        ),
        Edit(
            FC_NET,
            "X = X.astype(self.dtype)",
            lines(8, 'print("loss", X.shape)', "X = X.astype(self.dtype)"),
        ),
    ),
    legal(
        "extra_helper_module_and_function", ("layers.affine", "layer_utils.affine_relu", CNN),
        "moves the flattening into a helper module of the student's own",
        Edit(
            LAYERS,
            "import numpy as np",
            "import numpy as np\n\nfrom .helpers import flatten_rows\n\n\n"
            "def _describe(a):\n    return f'{a.shape} {a.dtype}'",
        ),
        Edit(LAYERS, "out = x.reshape(x.shape[0], -1) @ w + b", "out = flatten_rows(x) @ w + b"),
        files=(
            (
                "helpers.py",
                '"""My helpers."""\n\n\ndef flatten_rows(x):\n'
                "    return x.reshape(x.shape[0], -1)\n",
            ),
        ),
    ),
    legal(
        "package_named_cs231n", ("layers.affine", "optim.sgd_momentum", CNN),
        "hands in the package as cs231n/",
        package="cs231n",
    ),
    legal(
        "package_in_a_wrapping_folder", ("layers.affine", "optim.sgd_momentum", CNN),
        "hands in the package inside one top-level folder",
        wrapper="assignment2_submission",
    ),
    legal(
        "zip_archive", ("layers.affine", "optim.sgd_momentum", CNN),
        "hands in a .zip of the package",
        archive=True,
    ),
    legal(
        "zip_of_wrapped_cs231n", ("layers.affine", "optim.sgd_momentum", CNN),
        "hands in a .zip of a folder holding cs231n/",
        package="cs231n",
        wrapper="hw2",
        archive=True,
    ),
)  # fmt: skip

# --- the CNN beyond its defaults (issue 9 item 7): bugs only even filters or odd sides show ----

CNN_SHAPE_BUGS: tuple[Case, ...] = (
    bug(
        "cnn_hidden_size_a_quarter_of_the_input", CNN_PY,
        "pooled_dim = num_filters * H_pool * W_pool",
        "pooled_dim = num_filters * H * W // 4",
        CNN, (CNN,),
        "sizes the hidden affine layer as a quarter of the input, right only when the conv keeps "
        "the size and both sides are even",
    ),
    Case(
        "cnn_padding_half_the_filter", (
            Edit(CNN_PY, "pad = (filter_size - 1) // 2", "pad = filter_size // 2"),
            Edit(
                CNN_PY,
                'conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}',
                'conv_param = {"stride": 1, "pad": filter_size // 2}',
            ),
        ),
        (CNN,), CNN,
        "pads by filter_size // 2, the same as (filter_size - 1) // 2 for odd filters only",
    ),
)  # fmt: skip

BUGS = BUGS + CNN_SHAPE_BUGS

CASES: tuple[Case, ...] = BUGS + VARIANTS
BY_ID: dict[str, Case] = {case.id: case for case in CASES}
