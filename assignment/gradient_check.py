"""Numeric gradients by centred differences, to check hand-written backward passes.

Given to students complete. Each function perturbs one coordinate at a time in place and restores
it, so ``f`` must read ``x`` afresh on every call (closures over the array do).
"""

from random import randrange

import numpy as np


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Gradient of a scalar function ``f`` at ``x`` (an ndarray modified in place and restored).

    Returns an array shaped like ``x``; each entry is ``(f(x + h) - f(x - h)) / (2h)``.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        original = x[ix]
        x[ix] = original + h
        f_plus = f(x)
        x[ix] = original - h
        f_minus = f(x)
        x[ix] = original
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of ``sum(f(x) * df)`` with respect to ``x`` for an array-valued ``f``.

    ``df`` is the upstream gradient, so the result is what a backward pass given ``df`` must return.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        original = x[ix]
        x[ix] = original + h
        pos = f(x).copy()
        x[ix] = original - h
        neg = f(x).copy()
        x[ix] = original
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Numeric gradients of ``sum(output.vals * output.diffs)`` for functions writing into blobs.

    ``inputs`` and ``output`` are objects with ``vals`` and ``diffs`` arrays; ``f(*inputs, output)``
    fills ``output.vals``. Kept for notebooks that check layers written in that style.
    """
    grads = []
    for blob in inputs:
        diff = np.zeros_like(blob.diffs)
        it = np.nditer(blob.vals, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            original = blob.vals[ix]
            blob.vals[ix] = original + h
            f(*(inputs + (output,)))
            pos = np.copy(output.vals)
            blob.vals[ix] = original - h
            f(*(inputs + (output,)))
            neg = np.copy(output.vals)
            blob.vals[ix] = original
            diff[ix] = np.sum((pos - neg) * output.diffs) / (2.0 * h)
            it.iternext()
        grads.append(diff)
    return grads


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare ``analytic_grad`` with centred differences at ``num_checks`` random coordinates.

    Prints one line per coordinate and returns the list of relative errors, so callers can assert
    on them as well as read them. ``seed`` makes the chosen coordinates reproducible.
    """
    rng = np.random.RandomState(seed) if seed is not None else None
    errors = []
    for _ in range(num_checks):
        if rng is None:
            ix = tuple(randrange(m) for m in x.shape)
        else:
            ix = tuple(int(rng.randint(m)) for m in x.shape)
        original = x[ix]
        x[ix] = original + h
        f_plus = f(x)
        x[ix] = original - h
        f_minus = f(x)
        x[ix] = original
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[ix]
        denom = abs(numeric) + abs(analytic)
        rel_error = abs(numeric - analytic) / denom if denom > 0 else 0.0
        print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {rel_error:e}")
        errors.append(rel_error)
    return errors


def rel_error(x, y):
    """Largest elementwise relative error, the figure the notebooks print after each check."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
