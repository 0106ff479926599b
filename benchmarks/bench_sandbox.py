"""Overhead of the sandbox: worker start, a small call's round trip, and moving 10 MB of arrays.

    python benchmarks/bench_sandbox.py [--calls 2000] [--starts 10]

Prints medians (and the 90th percentile) for the default isolation and, for comparison, with
every namespace refused. Aims (issue 3): small call under 1 ms, worker start under 0.5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox import Limits, Sandbox, Settings  # noqa: E402

TOY = """
import numpy as np

def identity(x):
    return x

def total(*arrays):
    return float(sum(a.sum() for a in arrays))
"""


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1e3:8.3f} ms   p90 {p90 * 1e3:8.3f} ms"


def timed(func, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return samples


def bench(label: str, settings: Settings, root: Path, calls: int, starts: int) -> None:
    limits = Limits(call_timeout=60)
    print(f"\n== {label}")
    with Sandbox(
        root / "sub", course_package=root / "course", limits=limits, settings=settings
    ) as sb:
        print(f"   {sb.isolation}")
        start_samples = timed(sb.restart, starts)
        for _ in range(50):
            sb.call("ops.identity", 1)
        small = timed(lambda: sb.call("ops.identity", 1), calls)
        x = np.random.RandomState(0).randn(4, 8)
        cache = timed(lambda: sb.call("ops.identity", (x, x, {"mode": "train"})), calls)
        ten_mb = np.random.RandomState(1).randn(10 * 2**20 // 8)
        assert np.array_equal(sb.call("ops.identity", ten_mb), ten_mb)
        echo = timed(lambda: sb.call("ops.identity", ten_mb), 30)
        send = timed(
            lambda: sb.call("ops.total", ten_mb[: len(ten_mb) // 2], ten_mb[len(ten_mb) // 2 :]), 30
        )
    fresh = []
    for _ in range(max(3, starts // 2)):
        begin = time.perf_counter()
        with Sandbox(
            root / "sub", course_package=root / "course", limits=limits, settings=settings
        ):
            fresh.append(time.perf_counter() - begin)
    print(f"   worker (re)start                  {percentiles(start_samples)}")
    print(f"   new Sandbox (copy + start)        {percentiles(fresh)}")
    print(f"   small call round trip             {percentiles(small)}")
    print(f"   call with two small arrays+dict   {percentiles(cache)}")
    print(f"   10 MB array there and back        {percentiles(echo)}")
    print(f"   10 MB of arrays there, float back {percentiles(send)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nngrade-bench-"))
    try:
        (root / "sub" / "cs231n").mkdir(parents=True)
        (root / "sub" / "cs231n" / "__init__.py").write_text("")
        (root / "sub" / "cs231n" / "ops.py").write_text(TOY)
        (root / "course").mkdir()
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
        bench("default isolation", Settings(), root, args.calls, args.starts)
        bench(
            "every namespace refused",
            Settings(simulate_refusal=True),
            root,
            args.calls,
            args.starts,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
