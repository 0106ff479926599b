"""How much faster the fast conv / pool layers are than the naive ones, and how close to BLAS.

Run from the repository root: ``python benchmarks/bench_fast_layers.py``. Prints, for conv
forward/backward and max-pool forward/backward, the median time of the naive and the fast
layers and the speedup; the GFLOP/s the fast conv reaches against a plain numpy matmul of the
same sizes; and, where torch is importable, the ratio of our time to torch's conv2d (forward,
and backward through autograd) on the same data with the same number of threads.

Targets (on x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1): conv forward and backward
>= 300x the naive layers, 2x2 stride-2 max pool >= 30x, and within about 2x of torch.
The naive layers take seconds per call, so they are timed with few repeats (--naive-repeats).

On a busy machine, multithreaded BLAS (the plain matmuls, the im2col path's single large
product, torch) slows down by an order of magnitude when its threads wait on each other; run
with ``OPENBLAS_NUM_THREADS=1`` (torch then gets one thread too) for steadier figures.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference import fast_layers  # noqa: E402
from reference.layers import (  # noqa: E402
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)


def median_time(fn, repeats, warmup=1):
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def numpy_threads():
    """Threads numpy's BLAS uses: threadpoolctl when installed, else the usual variables."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def load_average():
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def fmt_ms(seconds):
    return f"{seconds * 1e3:10.3f} ms"


def row(name, naive_s, fast_s, target):
    speedup = naive_s / fast_s
    mark = "ok" if speedup >= target else "BELOW TARGET"
    print(f"{name:<34}{fmt_ms(naive_s)}{fmt_ms(fast_s)}{speedup:10.0f}x   (>= {target}x: {mark})")


def bench_vs_naive(args, rng):
    print("== naive vs fast (float64) ==")
    print(f"{'':<34}{'naive':>13}{'fast':>13}{'speedup':>11}")
    x = rng.standard_normal((100, 3, 31, 31))
    w = rng.standard_normal((25, 3, 3, 3))
    b = rng.standard_normal(25)
    conv_param = {"stride": 2, "pad": 1}
    out, naive_cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    _, fast_cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    _, im2col_cache = fast_layers.conv_forward_im2col(x, w, b, conv_param)

    nr, r = args.naive_repeats, args.repeats
    naive_f = median_time(lambda: conv_forward_naive(x, w, b, conv_param), nr, warmup=0)
    naive_b = median_time(lambda: conv_backward_naive(dout, naive_cache), nr, warmup=0)
    row(
        "conv forward (fast)",
        naive_f,
        median_time(lambda: fast_layers.conv_forward_fast(x, w, b, conv_param), r),
        300,
    )
    row(
        "conv forward (im2col)",
        naive_f,
        median_time(lambda: fast_layers.conv_forward_im2col(x, w, b, conv_param), r),
        300,
    )
    row(
        "conv backward (fast)",
        naive_b,
        median_time(lambda: fast_layers.conv_backward_fast(dout, fast_cache), r),
        300,
    )
    row(
        "conv backward (im2col)",
        naive_b,
        median_time(lambda: fast_layers.conv_backward_im2col(dout, im2col_cache), r),
        300,
    )

    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    for size, path in ((32, "reshape"), (31, "im2col")):
        xp = rng.standard_normal((100, 3, size, size))
        pout, pcache = max_pool_forward_naive(xp, pool_param)
        pdout = rng.standard_normal(pout.shape)
        _, fcache = fast_layers.max_pool_forward_fast(xp, pool_param)
        row(
            f"pool forward {size}x{size} ({path})",
            median_time(lambda: max_pool_forward_naive(xp, pool_param), nr, warmup=0),  # noqa: B023
            median_time(lambda: fast_layers.max_pool_forward_fast(xp, pool_param), r),  # noqa: B023
            30,
        )
        row(
            f"pool backward {size}x{size} ({path})",
            median_time(lambda: max_pool_backward_naive(pdout, pcache), nr, warmup=0),  # noqa: B023
            median_time(lambda: fast_layers.max_pool_backward_fast(pdout, fcache), r),  # noqa: B023
            30,
        )


def bench_flops(args, rng, dtype):
    """GFLOP/s of the fast conv against plain matmuls with the same (M, K) x (K, N) sizes."""
    N, C, H, W, F, HH = 100, 3, 31, 31, 25, 3
    conv_param = {"stride": 2, "pad": 1}
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, HH)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    K, cols = C * HH * HH, N * out.shape[2] * out.shape[3]
    flops = 2.0 * F * K * cols  # one (F, K) x (K, cols) product; the backward does two

    a_fk = rng.standard_normal((F, K)).astype(dtype)
    a_kc = rng.standard_normal((K, cols)).astype(dtype)
    a_fc = rng.standard_normal((F, cols)).astype(dtype)
    a_ck = np.ascontiguousarray(a_kc.T)
    r = args.repeats
    t_fwd = median_time(lambda: fast_layers.conv_forward_fast(x, w, b, conv_param), r)
    t_bwd = median_time(lambda: fast_layers.conv_backward_fast(dout, cache), r)
    t_mm_f = median_time(lambda: a_fk @ a_kc, r)
    t_mm_b = median_time(lambda: (a_fc @ a_ck, a_fk.T @ a_fc), r)
    name = np.dtype(dtype).name
    print(f"== GFLOP/s, {name}: (F, K) x (K, N*H'*W') = ({F}, {K}) x ({K}, {cols}) ==")
    print(
        f"conv forward (fast)   {fmt_ms(t_fwd)} {flops / t_fwd / 1e9:7.1f} GFLOP/s   "
        f"plain matmul {fmt_ms(t_mm_f)} {flops / t_mm_f / 1e9:7.1f} GFLOP/s"
    )
    print(
        f"conv backward (fast)  {fmt_ms(t_bwd)} {2 * flops / t_bwd / 1e9:7.1f} GFLOP/s   "
        f"two matmuls  {fmt_ms(t_mm_b)} {2 * flops / t_mm_b / 1e9:7.1f} GFLOP/s"
    )
    return x, w, b, dout, conv_param, t_fwd, t_bwd


def bench_torch(args, data, dtype):
    try:
        import torch
    except ImportError:
        print("torch is not importable: skipping the comparison with torch.nn.functional.conv2d")
        return
    x, w, b, dout, conv_param, t_fwd, t_bwd = data
    threads = numpy_threads()
    torch.set_num_threads(threads)
    tx, tw, tb, tdout = (torch.from_numpy(a) for a in (x, w, b, dout))
    stride, pad = conv_param["stride"], conv_param["pad"]
    conv = torch.nn.functional.conv2d
    with torch.no_grad():
        ref = conv(tx, tw, tb, stride=stride, padding=pad).numpy()
    ours = fast_layers.conv_forward_fast(x, w, b, conv_param)[0]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    agree = np.allclose(ours, ref, rtol=tol, atol=tol)

    def forward():
        with torch.no_grad():
            conv(tx, tw, tb, stride=stride, padding=pad)

    gx, gw, gb = (t.clone().requires_grad_(True) for t in (tx, tw, tb))
    gout = conv(gx, gw, gb, stride=stride, padding=pad)
    r = args.repeats
    t_torch_f = median_time(forward, r)
    t_torch_b = median_time(
        lambda: torch.autograd.grad(gout, (gx, gw, gb), tdout, retain_graph=True), r
    )
    name = np.dtype(dtype).name
    print(
        f"== torch {torch.__version__} conv2d, {name}, {threads} threads "
        f"(outputs agree: {agree}) =="
    )
    print(
        f"forward   torch {fmt_ms(t_torch_f)}   ours {fmt_ms(t_fwd)}   "
        f"ours/torch {t_fwd / t_torch_f:5.2f}"
    )
    print(
        f"backward  torch {fmt_ms(t_torch_b)}   ours {fmt_ms(t_bwd)}   "
        f"ours/torch {t_bwd / t_torch_b:5.2f}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls of fast code")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed naive calls")
    parser.add_argument("--skip-naive", action="store_true", help="only the BLAS/torch part")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    kernels = "Cython" if fast_layers._kernels()[0] is not fast_layers.im2col else "numpy"
    print(f"numpy {np.__version__}, BLAS threads {numpy_threads()}, {kernels} im2col kernels")
    print(f"load average before: {load_average()} (timings are noisy on a shared machine)")
    if not args.skip_naive:
        bench_vs_naive(args, rng)
    for dtype in (np.float64, np.float32):
        data = bench_flops(args, rng, dtype)
        bench_torch(args, data, dtype)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
