"""Train the small SqueezeNet-style model of the network-visualisation notebook and store it.

``python -m grader.tools.vis_model`` regenerates ``reference/squeezenet_synthetic.npz`` from the
synthetic dataset, deterministically (fixed seeds, one thread), in a couple of CPU minutes, and
prints its accuracy on held-out synthetic test images and the size of the stored weights. The
classic notebook uses an ImageNet-trained SqueezeNet instead, which cannot be downloaded here.

Needs torch (the ``torch`` extra).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

#: Training images; the test images are the synthetic test split, never seen in training.
NUM_TRAIN = 10_000
NUM_TEST = 2_000
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE = 1e-2
SEED = 0


def normalised(X: np.ndarray):
    """uint8-range images (N, 3, 32, 32) -> the float32 tensor the model takes."""
    import torch

    from reference.net_visualization_pytorch import SYNTHETIC_MEAN, SYNTHETIC_STD

    x = X.astype(np.float32) / 255.0
    x = (x - SYNTHETIC_MEAN[:, None, None]) / SYNTHETIC_STD[:, None, None]
    return torch.from_numpy(np.ascontiguousarray(x))


def accuracy(model, X, y, batch: int = 500) -> float:
    """Fraction of images (normalised tensor) ``model`` assigns to their label ``y`` (tensor)."""
    import torch

    with torch.no_grad():
        pred = torch.cat([model(X[i : i + batch]).argmax(1) for i in range(0, len(X), batch)])
    return float((pred == y).float().mean())


def train(
    num_train: int = NUM_TRAIN,
    epochs: int = EPOCHS,
    learning_rate: float = LEARNING_RATE,
    verbose: bool = True,
):
    """Train a fresh model on the first ``num_train`` synthetic training images; return it."""
    import torch

    from reference.data_utils import get_synthetic_data
    from reference.squeezenet import SmallSqueezeNet

    torch.manual_seed(SEED)
    data = get_synthetic_data(num_train, 0, 0, subtract_mean=False)
    X, y = normalised(data["X_train"]), torch.from_numpy(data["y_train"])
    model = SmallSqueezeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = epochs * -(-num_train // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=steps)
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(num_train, generator=generator)
        total = 0.0
        for i in range(0, num_train, BATCH_SIZE):
            idx = order[i : i + BATCH_SIZE]
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: training loss {total / num_train:.4f}", flush=True)
    model.eval()
    return model


def main(argv: list[str] | None = None) -> int:
    """Train, report held-out accuracy and the weights' size, and store the weights."""
    import torch

    from reference.data_utils import get_synthetic_data
    from reference.squeezenet import WEIGHTS_PATH, save_weights

    parser = argparse.ArgumentParser(prog="python -m grader.tools.vis_model", description=__doc__)
    parser.add_argument("--output", type=Path, default=WEIGHTS_PATH, help="where to store it")
    parser.add_argument("--num-train", type=int, default=NUM_TRAIN)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    start = time.perf_counter()
    model = train(args.num_train, args.epochs, args.learning_rate)
    seconds = time.perf_counter() - start
    test = get_synthetic_data(0, 0, NUM_TEST, subtract_mean=False)
    acc = accuracy(model, normalised(test["X_test"]), torch.from_numpy(test["y_test"]))
    save_weights(model, args.output)
    params = sum(p.numel() for p in model.parameters())
    print(f"trained {params} parameters on {args.num_train} images in {seconds:.0f} s")
    print(f"accuracy on {NUM_TEST} held-out synthetic test images: {acc:.4f}")
    print(f"weights: {args.output} ({args.output.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
