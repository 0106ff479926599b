"""Time the two batch norm backward passes: the closed form should beat the computation graph.

Run from the repository root: ``python benchmarks/bench_batchnorm.py [--package reference]``.
Prints the median time of each over several repeats at N=100, D=500 and the speedup ratio.
"""

import argparse
import importlib
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="reference", help="package holding layers.py")
    parser.add_argument("-N", type=int, default=100)
    parser.add_argument("-D", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15, help="timing runs; the median is shown")
    parser.add_argument("--number", type=int, default=50, help="calls per timing run")
    args = parser.parse_args(argv)

    layers = importlib.import_module(f"{args.package}.layers")
    rng = np.random.RandomState(231)
    x = 5 * rng.randn(args.N, args.D) + 12
    gamma = rng.randn(args.D)
    beta = rng.randn(args.D)
    dout = rng.randn(args.N, args.D)
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})

    graph = layers.batchnorm_backward(dout, cache)
    alt = layers.batchnorm_backward_alt(dout, cache)
    for name, a, b in zip(("dx", "dgamma", "dbeta"), graph, alt, strict=True):
        if not np.allclose(a, b, rtol=1e-10, atol=1e-12):
            raise SystemExit(f"batchnorm_backward and batchnorm_backward_alt disagree on {name}")

    # Alternate the two functions run by run, so that load from other processes drifting over
    # time affects both alike.
    times = {layers.batchnorm_backward: [], layers.batchnorm_backward_alt: []}
    for _ in range(args.repeat):
        for fn, runs in times.items():
            runs.append(timeit.timeit(lambda fn=fn: fn(dout, cache), number=args.number))
    t_graph, t_alt = (float(np.median(runs)) / args.number for runs in times.values())
    print(f"batchnorm backward, N={args.N}, D={args.D}, median of {args.repeat} x {args.number}")
    print(f"  batchnorm_backward     (graph):       {t_graph * 1e6:9.1f} us")
    print(f"  batchnorm_backward_alt (closed form): {t_alt * 1e6:9.1f} us")
    print(f"  speedup: {t_graph / t_alt:.2f}x")


if __name__ == "__main__":
    main()
