"""The PyTorch part, reference/pytorch_convnets.py: shapes, initialisation, gradients, the three
ways of writing the network agreeing, the Sequential model and its optimiser, and training.

torch is an optional extra: without it every test here is skipped except the one that checks the
numpy part of the package never imports it.
"""

import math
import subprocess
import sys

import pytest

try:
    import torch
    from torch import nn

    from reference import pytorch_convnets as pc
except ImportError:  # the optional extra nngrade[torch] is not installed
    torch = nn = pc = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="torch is not installed (optional extra: pip install torch==2.13.0)"
)

# Small networks keep every test fast: 4 input channels, 6 and 5 filters, 7 classes, 8x10 images.
C, C1, C2, K, H, W = 4, 6, 5, 7, 8, 10


# ---------------------------------------------------------------------------------------------
# The numpy part stays free of torch
# ---------------------------------------------------------------------------------------------

NUMPY_MODULES = (
    "layers",
    "layer_utils",
    "fast_layers",
    "im2col",
    "optim",
    "solver",
    "gradient_check",
    "data_utils",
    "vis_utils",
    "classifiers",
    "classifiers.fc_net",
    "classifiers.cnn",
)


@pytest.mark.parametrize("package", ["reference", "assignment"])
def test_numpy_modules_import_without_torch(package):
    """With torch made unimportable, the package and every numpy module import, and only the
    torch modules fail (with ImportError, the error a missing optional extra gives)."""
    script = f"""
import importlib, sys, warnings
warnings.simplefilter("ignore")
sys.modules["torch"] = None
importlib.import_module("{package}")
for name in {NUMPY_MODULES!r}:
    importlib.import_module("{package}." + name)
for name in ("pytorch_convnets", "torch_data"):
    try:
        importlib.import_module("{package}." + name)
    except ImportError:
        continue
    raise SystemExit(name + " imported without torch")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------------------------------------
# Given helpers
# ---------------------------------------------------------------------------------------------


@requires_torch
def test_flatten_keeps_rows():
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    assert pc.flatten(x).shape == (2, 12)
    assert torch.equal(pc.flatten(x)[1], x[1].reshape(-1))
    assert torch.equal(pc.Flatten()(x), pc.flatten(x))


@requires_torch
@pytest.mark.parametrize(
    ("shape", "fan_in"), [((400, 300), 400), ((64, 16, 5, 5), 16 * 25), ((32, 8, 3, 3), 72)]
)
def test_random_weight_is_kaiming_normal(shape, fan_in):
    torch.manual_seed(0)
    w = pc.random_weight(shape)
    assert w.shape == shape and w.dtype == torch.float32 and w.requires_grad and w.is_leaf
    n = w.numel()
    expected = math.sqrt(2.0 / fan_in)
    # The sample standard deviation of n normal draws is within a few sigma / sqrt(2n).
    assert abs(w.std().item() / expected - 1) < 5 / math.sqrt(2 * n)
    assert abs(w.mean().item()) < 5 * expected / math.sqrt(n)
    assert pc.random_weight(shape, dtype=torch.float64).dtype == torch.float64


@requires_torch
def test_random_weight_follows_the_global_seed_and_rejects_vectors():
    torch.manual_seed(3)
    a = pc.random_weight((5, 4))
    torch.manual_seed(3)
    assert torch.equal(a, pc.random_weight((5, 4)))
    with pytest.raises(ValueError, match="two dimensions"):
        pc.random_weight((5,))


@requires_torch
def test_zero_weight():
    b = pc.zero_weight((7,))
    assert b.shape == (7,) and b.requires_grad and not b.any()
    assert pc.zero_weight((2, 3), dtype=torch.float64).dtype == torch.float64


@requires_torch
def test_two_layer_examples_give_scores_of_the_right_shape():
    torch.manual_seed(0)
    x = torch.randn(3, C, H, W)
    params = [pc.random_weight((C * H * W, 9)), pc.random_weight((9, K))]
    assert pc.two_layer_fc(x, params).shape == (3, K)
    assert pc.TwoLayerFC(C * H * W, 9, K)(x).shape == (3, K)


# ---------------------------------------------------------------------------------------------
# Part II: barebones
# ---------------------------------------------------------------------------------------------


def _params(dtype=None, seed=0):
    torch.manual_seed(seed)
    return pc.init_three_layer_convnet(C, C1, C2, K, image_size=(H, W), dtype=dtype or pc.DTYPE)


@requires_torch
def test_barebones_parameters_shapes_dtype_and_order():
    params = _params()
    shapes = [tuple(p.shape) for p in params]
    assert shapes == [(C1, C, 5, 5), (C1,), (C2, C1, 3, 3), (C2,), (C2 * H * W, K), (K,)]
    assert all(p.dtype == torch.float32 and p.requires_grad and p.is_leaf for p in params)
    assert all(not b.any() for b in params[1::2])
    assert all(p.dtype == torch.float64 for p in _params(torch.float64))


@requires_torch
def test_barebones_weights_have_kaiming_statistics():
    torch.manual_seed(0)
    params = pc.init_three_layer_convnet(3, 32, 16, 10)
    for w, fan_in in zip(params[::2], (3 * 25, 32 * 9, 16 * 32 * 32), strict=True):
        n = w.numel()
        assert abs(w.std().item() / math.sqrt(2 / fan_in) - 1) < 5 / math.sqrt(2 * n)
    assert params[4].shape == (16 * 32 * 32, 10)


@requires_torch
def test_barebones_forward_shape_and_conv_arithmetic():
    params = _params()
    x = torch.randn(3, C, H, W)
    scores = pc.three_layer_convnet(x, params)
    assert scores.shape == (3, K) and scores.dtype == torch.float32
    # The same computation spelled out with unfold: padding 2 then 1 keeps the size.
    w1, b1, w2, b2, fw, fb = (p.detach().double() for p in params)
    xd = x.double()

    def conv(inp, w, b, pad):
        cols = torch.nn.functional.unfold(inp, w.shape[-1], padding=pad)  # (N, C*k*k, H*W)
        out = w.reshape(w.shape[0], -1) @ cols + b[:, None]
        return out.reshape(inp.shape[0], w.shape[0], H, W)

    hidden = conv(conv(xd, w1, b1, 2).clamp(min=0), w2, b2, 1).clamp(min=0)
    expected = hidden.reshape(3, -1) @ fw + fb
    torch.testing.assert_close(scores.double(), expected, rtol=1e-4, atol=1e-5)


@requires_torch
def test_barebones_gradients_match_finite_differences():
    # A network smaller still, so that checking every entry stays quick.
    torch.manual_seed(0)
    params = pc.init_three_layer_convnet(2, 3, 2, 3, image_size=(4, 5), dtype=torch.float64)
    # Biases away from zero, so that the check also covers them meaningfully.
    with torch.no_grad():
        for b in params[1::2]:
            b.uniform_(-0.5, 0.5)
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, *p: pc.three_layer_convnet(x, p), (x, *params), eps=1e-6, atol=1e-5
    )


# ---------------------------------------------------------------------------------------------
# Part III and IV: Module and Sequential
# ---------------------------------------------------------------------------------------------


def _copy_into(layers, params):
    """Load barebones params into (conv1, conv2, linear) layers; the linear weight transposed."""
    conv1, conv2, fc = layers
    w1, b1, w2, b2, fw, fb = params
    with torch.no_grad():
        for layer, w, b in ((conv1, w1, b1), (conv2, w2, b2), (fc, fw.t(), fb)):
            layer.weight.copy_(w)
            layer.bias.copy_(b)


@requires_torch
def test_module_has_the_layers_and_kaiming_initialisation():
    torch.manual_seed(0)
    model = pc.ThreeLayerConvNet(3, 32, 16, 10)
    assert isinstance(model, nn.Module)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    named = dict(model.named_parameters())
    weights = [p for name, p in named.items() if p.dim() > 1]
    biases = [p for name, p in named.items() if p.dim() == 1]
    assert sorted(tuple(w.shape) for w in weights) == sorted(
        [(32, 3, 5, 5), (16, 32, 3, 3), (10, 16 * 32 * 32)]
    )
    assert all(not b.any() for b in biases) and len(biases) == 3
    for w in weights:
        fan_in = w[0].numel()
        assert abs(w.std().item() / math.sqrt(2 / fan_in) - 1) < 5 / math.sqrt(2 * w.numel())


@requires_torch
def test_the_three_networks_compute_the_same_function():
    params = _params()
    x = torch.randn(3, C, H, W)
    expected = pc.three_layer_convnet(x, params)

    module = pc.ThreeLayerConvNet(C, C1, C2, K, image_size=(H, W))
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    _copy_into(layers, params)
    torch.testing.assert_close(module(x), expected)

    sequential, _ = pc.build_sequential_convnet(C, C1, C2, K, image_size=(H, W))
    _copy_into([m for m in sequential if isinstance(m, (nn.Conv2d, nn.Linear))], params)
    torch.testing.assert_close(sequential(x), expected)


@requires_torch
def test_sequential_structure_and_nesterov_optimiser():
    model, optimizer = pc.build_sequential_convnet(3, 32, 16, 10, learning_rate=3e-3)
    assert isinstance(model, nn.Sequential)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, pc.Flatten, nn.Linear]
    conv1, conv2, fc = model[0], model[2], model[5]
    assert (conv1.kernel_size, conv1.padding, conv1.in_channels, conv1.out_channels) == (
        (5, 5),
        (2, 2),
        3,
        32,
    )
    assert (conv2.kernel_size, conv2.padding, conv2.out_channels) == ((3, 3), (1, 1), 16)
    assert (fc.in_features, fc.out_features) == (16 * 32 * 32, 10)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)

    assert isinstance(optimizer, torch.optim.SGD)
    (group,) = optimizer.param_groups
    assert group["lr"] == 3e-3 and group["momentum"] == 0.9 and group["nesterov"] is True
    assert group["weight_decay"] == 0 and group["dampening"] == 0
    assert {id(p) for p in group["params"]} == {id(p) for p in model.parameters()}
    assert pc.build_sequential_convnet(3, 32, 16, 10)[1].param_groups[0]["lr"] == 1e-2


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _tiny_batches(n=20, seed=0):
    """n random images with random labels, as one shuffled minibatch per step: memorisable."""
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, C, H, W, generator=g)
    y = torch.randint(K, (n,), generator=g)
    loader = DataLoader(TensorDataset(X, y), batch_size=10, shuffle=True, generator=g)
    return loader, DataLoader(TensorDataset(X, y), batch_size=n)


@requires_torch
def test_barebones_training_memorises_a_small_set(capsys):
    train, full = _tiny_batches()
    params = _params()
    start = pc.check_accuracy_part2(full, pc.three_layer_convnet, params)
    accuracy = pc.train_part2(
        pc.three_layer_convnet,
        params,
        2e-2,
        loader_train=train,
        loader_val=full,
        epochs=40,
        print_every=None,
    )
    assert start < 0.5 and accuracy == 1.0
    assert capsys.readouterr().out.splitlines()[-1] == "Got 20 / 20 correct (100.00%)"


@requires_torch
@pytest.mark.parametrize("kind", ["module", "sequential"])
def test_module_training_memorises_a_small_set_and_is_repeatable(kind):
    def run():
        torch.manual_seed(0)
        train, full = _tiny_batches()
        if kind == "module":
            model = pc.ThreeLayerConvNet(C, C1, C2, K, image_size=(H, W))
            optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        else:
            model, optimizer = pc.build_sequential_convnet(C, C1, C2, K, 2e-2, (H, W))
        accuracy = pc.train_part34(
            model, optimizer, 25, loader_train=train, loader_val=full, print_every=None
        )
        return accuracy, [p.detach().clone() for p in model.parameters()], model

    accuracy, weights, model = run()
    assert accuracy == 1.0
    assert model.training  # evaluation mode was only for measuring accuracy
    again, weights_again, _ = run()
    assert again == accuracy
    assert all(torch.equal(a, b) for a, b in zip(weights, weights_again, strict=True))


@requires_torch
def test_training_prints_progress_every_so_often(capsys):
    train, full = _tiny_batches()
    model = pc.ThreeLayerConvNet(C, C1, C2, K, image_size=(H, W))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    pc.train_part34(model, optimizer, 2, loader_train=train, loader_val=full, print_every=3)
    lines = capsys.readouterr().out.splitlines()
    # 4 steps: progress at steps 0 and 3, each with an accuracy line, then the final accuracy.
    assert len(lines) == 5
    assert lines[0].startswith("Iteration 0, loss = ")
    assert lines[2].startswith("Iteration 3, loss = ")
    assert all(line.startswith("Got ") for line in lines[1::2])
