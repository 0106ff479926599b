"""Calibration figures for the PyTorch part: the three trained networks at a fixed small budget.

    python benchmarks/bench_torch_part.py [--train 8000] [--val 1000] [--epochs 2] [--seeds 0 1 2]

Trains the reference's barebones network, ``ThreeLayerConvNet`` and the ``nn.Sequential``
model, each on the first N synthetic training images, once per seed, each run in a fresh process
that works on one thread with deterministic algorithms, as a grader would run it. The settings
(:data:`SETTINGS`) are the notebook's architectures with learning rates that learn within one
epoch: plain SGD at the classic 3e-3 barely leaves chance level on a few thousand images. Two
epochs (the default) rather than one cut the spread between seeds severalfold: one epoch stops
in the steep part of the learning curve.

Prints, per run, the validation accuracy, the training time (data loading and torch import
excluded), the time of the whole process, and the process's peak resident set
(``ru_maxrss``) and peak virtual memory (``VmPeak``), which is what an address-space limit
(RLIMIT_AS) must allow.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("barebones", "module", "sequential")
#: Per model: (in_channel, channel_1, channel_2, num_classes), learning rate, and the optimiser.
SETTINGS = {
    "barebones": ((3, 32, 16, 10), 3e-2, "plain SGD (train_part2)"),
    "module": ((3, 12, 8, 10), 5e-3, "SGD, Nesterov momentum 0.9"),
    "sequential": ((3, 32, 16, 10), 1e-2, "SGD, Nesterov momentum 0.9 (its own)"),
}


def vm_peak_bytes() -> int:
    """This process's peak virtual memory, from /proc/self/status (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def train_one(kind: str, seed: int, num_train: int, num_val: int, epochs: int) -> dict:
    """One training run in this process; returns its figures."""
    start_process = time.perf_counter()
    import torch

    sys.path.insert(0, str(ROOT))
    from reference import pytorch_convnets as pc
    from reference import torch_data

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = torch_data.load_tensors(num_train, num_val, 0)
    loaders = torch_data.make_loaders(data, batch_size=64, seed=seed)
    torch.manual_seed(seed)
    start = time.perf_counter()
    common = {"loader_train": loaders["train"], "loader_val": loaders["val"], "print_every": None}
    shape, lr, _ = SETTINGS[kind]
    if kind == "barebones":
        params = pc.init_three_layer_convnet(*shape)
        accuracy = pc.train_part2(pc.three_layer_convnet, params, lr, epochs=epochs, **common)
    elif kind == "module":
        model = pc.ThreeLayerConvNet(*shape)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
        accuracy = pc.train_part34(model, optimizer, epochs, **common)
    else:
        model, optimizer = pc.build_sequential_convnet(*shape, learning_rate=lr)
        accuracy = pc.train_part34(model, optimizer, epochs, **common)
    end = time.perf_counter()
    return {
        "kind": kind,
        "seed": seed,
        "val_acc": accuracy,
        "train_s": end - start,
        "process_s": end - start_process,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vm_peak_mib": vm_peak_bytes() / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=8000, help="training images")
    parser.add_argument("--val", type=int, default=1000, help="validation images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--one", nargs=2, metavar=("KIND", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # the accuracy lines of the training
            result = train_one(args.one[0], int(args.one[1]), args.train, args.val, args.epochs)
        print(json.dumps(result))
        return

    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    print(f"{args.train} training images, {args.val} validation images, {args.epochs} epoch(s)")
    print(
        f"{'model':<11} {'seed':>4} {'val acc':>8} {'train s':>8} {'process s':>10} "
        f"{'peak RSS MiB':>13} {'VmPeak MiB':>11}"
    )
    for kind in args.kinds:
        shape, lr, optimiser = SETTINGS[kind]
        print(f"{kind}: channels {shape}, learning rate {lr}, {optimiser}")
        accuracies = []
        for seed in args.seeds:
            command = [sys.executable, __file__, "--one", kind, str(seed)]
            command += ["--train", str(args.train), "--val", str(args.val)]
            command += ["--epochs", str(args.epochs)]
            out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            accuracies.append(r["val_acc"])
            print(
                f"{kind:<11} {seed:>4} {r['val_acc']:>8.3f} {r['train_s']:>8.1f} "
                f"{r['process_s']:>10.1f} {r['max_rss_mib']:>13.0f} {r['vm_peak_mib']:>11.0f}"
            )
        spread = statistics.pstdev(accuracies)
        print(
            f"{kind:<11} mean {statistics.mean(accuracies):.3f}, min {min(accuracies):.3f}, "
            f"sd {spread:.3f}"
        )


if __name__ == "__main__":
    main()
