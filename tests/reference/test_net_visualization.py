"""Network visualisation (the torch part): saliency maps, fooling images, class visualisation,
the given helpers and the trained model they all use."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (the optional `torch` extra) is not installed")

from reference import net_visualization_pytorch as nv  # noqa: E402
from reference import squeezenet  # noqa: E402

#: Lowest accepted accuracy of the stored model on held-out synthetic images.
ACCURACY_FLOOR = 0.9


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def model():
    return squeezenet.load_pretrained_model()


@pytest.fixture(scope="module")
def images():
    X, y, _ = nv.load_images(10)
    return torch.cat([nv.preprocess(x) for x in X]), torch.as_tensor(y, dtype=torch.long)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model, before):
    after = model.state_dict()
    return all(torch.equal(before[k], after[k]) for k in before) and all(
        p.grad is None and not p.requires_grad for p in model.parameters()
    )


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


def test_weights_are_plain_arrays_that_load_without_pickle(model):
    with np.load(squeezenet.WEIGHTS_PATH, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    state = model.state_dict()
    assert set(arrays) == set(state)
    for name, array in arrays.items():
        assert array.dtype == np.float32 and array.shape == tuple(state[name].shape), name
        assert np.array_equal(array, state[name].numpy()), name
    assert squeezenet.WEIGHTS_PATH.stat().st_size < 500_000


def test_loaded_model_is_frozen_and_in_eval_mode(model):
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())


def test_model_accuracy_on_held_out_images(model):
    # Test images after the ones the notebook shows; the model was trained on the train split.
    data = nv.get_synthetic_data(0, 0, 2000, subtract_mean=False)
    X = data["X_test"][1000:].transpose(0, 2, 3, 1)
    with torch.no_grad():
        scores = model(torch.cat([nv.preprocess(x) for x in X]))
    accuracy = (scores.argmax(1).numpy() == data["y_test"][1000:]).mean()
    assert accuracy >= ACCURACY_FLOOR


# ---------------------------------------------------------------------------------------------
# Given helpers
# ---------------------------------------------------------------------------------------------


def test_preprocess_and_deprocess_round_trip():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    x = nv.preprocess(img)
    assert x.shape == (1, 3, 32, 32) and x.dtype == torch.float32
    back = nv.deprocess(x, should_rescale=False)
    assert back.shape == (32, 32, 3)
    assert np.allclose(back * 255, img, atol=1e-3)
    stretched = nv.deprocess(3 * x)
    assert stretched.min() == 0 and np.isclose(stretched.max(), 1)


def test_load_images_cycles_through_the_classes():
    X, y, names = nv.load_images(12)
    assert X.shape == (12, 32, 32, 3) and X.dtype == np.uint8
    assert list(y) == [k % 10 for k in range(12)]
    assert names == nv.CLASS_NAMES and len(names) == 10
    assert not np.array_equal(X[0], X[10])  # a second image of class 0, not the first again


def test_jitter_shifts_with_wrap_around_and_back():
    X = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    moved = nv.jitter(X, 2, 1)
    assert moved[0, 0, 1, 2] == X[0, 0, 0, 0]
    assert moved[1, 2, 0, 0] == X[1, 2, 3, 3]
    assert torch.equal(nv.jitter(moved, -2, -1), X)


def test_blur_matches_a_direct_gaussian_filter_with_mirrored_edges():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 9, 7))
    sigma = 0.8
    X = torch.tensor(x)
    assert nv.blur_image(X, sigma) is X  # in place
    # Direct 2-D sum over mirrored neighbours (the edge pixel itself is repeated at the border).
    radius = int(4 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 * (offsets / sigma) ** 2)
    w /= w.sum()

    def mirror(i, n):
        while i < 0 or i >= n:
            i = -i - 1 if i < 0 else 2 * n - i - 1
        return i

    expected = np.zeros_like(x)
    for i in range(9):
        for j in range(7):
            for a, wa in zip(offsets, w, strict=True):
                for b, wb in zip(offsets, w, strict=True):
                    expected[..., i, j] += wa * wb * x[..., mirror(i + a, 9), mirror(j + b, 7)]
    assert np.allclose(X.numpy(), expected, atol=1e-12)
    assert np.allclose(X.numpy().sum(), x.sum(), rtol=0.05)  # blurring keeps the mean roughly


def test_blur_of_a_constant_image_is_that_image():
    X = torch.full((1, 3, 8, 8), 0.7)
    assert torch.allclose(nv.blur_image(X.clone(), 1.0), X)


# ---------------------------------------------------------------------------------------------
# Saliency maps
# ---------------------------------------------------------------------------------------------


def _double(model):
    m = squeezenet.SmallSqueezeNet().double()
    m.load_state_dict(model.state_dict())
    return m.eval()


def test_saliency_matches_an_independent_computation(model, images):
    X, y = images
    before = _state(model)
    X_in = X[:3].clone()
    saliency = nv.compute_saliency_maps(X_in, y[:3], model)
    assert saliency.shape == (3, 32, 32)
    assert torch.equal(X_in, X[:3]) and not X_in.requires_grad and X_in.grad is None
    assert _unchanged(model, before)
    m = _double(model)
    for i in range(3):
        # Image by image in float64 with torch.autograd.grad ...
        x = X[i : i + 1].double().requires_grad_()
        (grad,) = torch.autograd.grad(m(x)[0, int(y[i])], x)
        expected = grad[0].abs().amax(dim=0)
        assert torch.allclose(saliency[i].double(), expected, rtol=1e-4, atol=1e-6)
        # ... and central differences at the most salient pixels and a few random ones.
        rng = np.random.default_rng(i)
        pixels = [*torch.topk(expected.flatten(), 4).indices.tolist(), *rng.integers(0, 1024, 4)]
        h = 1e-5
        with torch.no_grad():
            for p in pixels:
                r, c = divmod(int(p), 32)
                step = torch.zeros_like(x)
                diffs = []
                for ch in range(3):
                    step.zero_()
                    step[0, ch, r, c] = h
                    plus, minus = m(x + step)[0, int(y[i])], m(x - step)[0, int(y[i])]
                    diffs.append(abs(float(plus - minus)) / (2 * h))
                assert np.isclose(saliency[i, r, c].item(), max(diffs), rtol=1e-3, atol=1e-6)


def test_saliency_of_each_image_depends_only_on_that_image(model, images):
    X, y = images
    together = nv.compute_saliency_maps(X[:4], y[:4], model)
    for i in range(4):
        alone = nv.compute_saliency_maps(X[i : i + 1], y[i : i + 1], model)
        assert torch.allclose(together[i], alone[0], atol=1e-6)


def test_saliency_is_for_the_given_label(model, images):
    X, y = images
    other = (y[:2] + 1) % 10
    assert not torch.allclose(
        nv.compute_saliency_maps(X[:2], y[:2], model), nv.compute_saliency_maps(X[:2], other, model)
    )


# ---------------------------------------------------------------------------------------------
# Fooling images
# ---------------------------------------------------------------------------------------------

# (image, target) pairs of ``load_images(10)``; with this small model about one pair in ten
# needs more than 100 steps, and these are not among them.
FOOLING_PAIRS = [(0, 6), (1, 0), (3, 9), (5, 2), (8, 4), (2, 8), (6, 3)]


@pytest.mark.parametrize(("idx", "target"), FOOLING_PAIRS)
def test_fooling_image_is_predicted_as_the_target(model, images, idx, target):
    X, y = images
    assert y[idx] != target
    before = _state(model)
    x = X[idx : idx + 1].clone()
    fooled = nv.make_fooling_image(x, target, model)
    assert torch.equal(x, X[idx : idx + 1]) and not x.requires_grad
    assert _unchanged(model, before)
    assert fooled.shape == x.shape and not fooled.requires_grad
    with torch.no_grad():
        assert model(fooled).argmax(1).item() == target
    # At most 100 unit steps, and in fact a small change relative to the image.
    change = (fooled - x).norm()
    assert 0 < change <= 100 + 1e-3
    assert change / x.norm() < 0.2


def test_fooling_image_of_an_image_already_of_the_target_is_unchanged(model, images):
    X, y = images
    x = X[2:3]
    assert torch.equal(nv.make_fooling_image(x, int(y[2]), model), x)


def test_fooling_gives_up_after_100_steps_of_unit_size():
    class Stubborn(torch.nn.Module):
        """Always predicts class 0; the score of class 1 rises with the mean pixel."""

        def forward(self, x):
            s = x.mean(dim=(1, 2, 3))
            return torch.stack([s + 1e9, s], dim=1)

    x = torch.zeros(1, 3, 4, 4)
    fooled = nv.make_fooling_image(x, 1, Stubborn())
    # Every step is the normalised gradient: a uniform image of L2 norm 1 per step.
    assert torch.allclose(fooled, torch.full_like(x, 100 / np.sqrt(x.numel())), rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Class visualisation
# ---------------------------------------------------------------------------------------------


def _expected_step(model, img, target, l2_reg, learning_rate):
    x = img.detach().clone().requires_grad_()
    score = model(x)[0, target]
    (grad,) = torch.autograd.grad(score, x)
    return img.detach() + learning_rate * (grad - 2 * l2_reg * img.detach())


@pytest.mark.parametrize("l2_reg", [1e-4, 1e-3, 10.0])
def test_update_step_follows_the_regularised_gradient(model, l2_reg):
    img = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    img.requires_grad_()
    expected = _expected_step(model, img, 4, l2_reg, 0.5)
    before = _state(model)
    assert nv.class_visualization_update_step(img, model, 4, l2_reg, 0.5) is None
    assert torch.allclose(img.detach(), expected, atol=1e-5)
    assert img.is_leaf and img.requires_grad
    assert img.grad is None or not img.grad.any()
    assert _unchanged(model, before)


def test_large_l2_reg_shrinks_the_image_and_small_raises_the_score(model):
    img = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4)).requires_grad_()
    start = img.detach().clone()
    nv.class_visualization_update_step(img, model, 2, 100.0, 1e-3)
    assert img.detach().norm() < start.norm()
    img = start.clone().requires_grad_()
    nv.class_visualization_update_step(img, model, 2, 0.0, 1e-2)
    with torch.no_grad():
        assert model(img)[0, 2] > model(start)[0, 2]


def test_no_gradient_is_carried_between_steps(model):
    img = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(5)).requires_grad_()
    for _ in range(3):
        expected = _expected_step(model, img, 7, 1e-3, 0.3)
        nv.class_visualization_update_step(img, model, 7, 1e-3, 0.3)
        assert torch.allclose(img.detach(), expected, atol=1e-5)


def test_100_steps_of_class_visualisation_make_the_target_top_one():
    model = squeezenet.load_pretrained_model()
    top = []
    for target in range(10):
        noise = nv.create_class_visualization(target, model, num_iterations=0, seed=target)
        img = nv.create_class_visualization(target, model, num_iterations=100, seed=target)
        assert img.shape == (1, 3, 32, 32)
        with torch.no_grad():
            scores, start = model(img)[0], model(noise)[0]
        assert scores[target] > start[target]
        top.append(int(scores.argmax()) == target)
    # Jitter, blur and clamping make the ascent noisy: a class or two may end second.
    assert sum(top) >= 8, top
