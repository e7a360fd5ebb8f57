"""What a training run costs the server, estimated before it runs: CPU seconds from the run's shape.

A run is updates and full-data loss evaluations. An update costs a fixed part (Python, kernel launches,
the optimizer's own step) and one pass over its batch; an evaluation one pass over the data; Newton
adds the batch's float64 Gram matrix (b·(d+1)²) and a (d+1)² solve per update (its full-batch Gram is
computed once). The coefficients are CPU seconds (all cores, torch on the CPU, float32) measured by
``python benchmarks/regression.py --cost`` on the project's 2-core machine, rounded up: an estimate
that errs towards refusing, never a wall-clock deadline (the same link always gets the same run).
"""

from __future__ import annotations

import math

# fixed cost of one update: SGD ~80 µs, Adam ~170 µs, the engine's NumPy optimizers (Lion, Yogi) ~150 µs
UPDATE_SECONDS = 2e-4
# one pass over m rows of d features costs m·(ROW + VALUE·(d + 1)): measured 1.9 ms per GD epoch on
# 100k × 1, 25.7 ms on 1M × 10 and 9.6 ms on 10k × 1000 (an update and an evaluation: two passes each)
ROW_SECONDS = 1e-8
VALUE_SECONDS = 5e-10
# once per run: the data converted to the run's dtype and checked finite (float32 data trained in float64: 0.07 s
# on 2M × 5); once per epoch of minibatches: a random order of n rows (randperm: 0.04 s on 2M) and the data
# gathered in it (index_select: 0.09 s on 2M × 5), whatever share of the epoch runs
SETUP_VALUE_SECONDS = 4e-9
SHUFFLE_ROW_SECONDS = 2e-8
SHUFFLE_VALUE_SECONDS = 6e-9
# Newton: the Gram matrix in float64 per b·(d+1)² (50k × 200: 1.3 s), the solve per (d+1)³ (d = 200: ~15 ms)
GRAM_SECONDS = 6.5e-10
SOLVE_SECONDS = 2e-9

# the closed form's torch.linalg.lstsq (gelsd: SVD) in float64, one core: per n·(d+1)² and per value n·(d+1);
# measured 1.0 s on 10k × 1000, 0.41 s on 50k × 200, 0.27 s on 10k × 500, 0.17 s on 2M × 5
LSTSQ_SECONDS = 1.5e-10
LSTSQ_VALUE_SECONDS = 1e-8

# the comparison's gradient noise, once per mode: X in float64 chunks, a product and the squared residuals,
# about this many passes over the data (measured 0.09 s per mode on 2M × 5)
NOISE_PASSES = 4

# a budgeted run spends at most this share of its budget on the loss curve's full-data evaluations (fewer
# curve points on large data), so that SGD on a million samples still gets thousands of updates
EVALUATION_SHARE = 0.5


def pass_seconds(rows: int, d: int) -> float:
    """One pass (forward, residual, gradient or loss) over ``rows`` samples of ``d`` features."""
    return rows * (ROW_SECONDS + VALUE_SECONDS * (d + 1))


def lstsq_seconds(n: int, d: int) -> float:
    """Estimated CPU seconds of the least-squares solve of n samples of d features with an intercept."""
    return n * (d + 1) * (LSTSQ_SECONDS * (d + 1) + LSTSQ_VALUE_SECONDS)


def noise_seconds(n: int, d: int) -> float:
    """Estimated CPU seconds of one mode's gradient noise in the comparison (n samples, d features)."""
    return NOISE_PASSES * pass_seconds(n, d)


def update_seconds(batch: int, d: int, hessian: bool = False, full_batch: bool = False) -> float:
    """One optimizer update on a batch of ``batch`` rows (Newton: its batch Gram unless full batch, and a solve)."""
    seconds = UPDATE_SECONDS + pass_seconds(batch, d)
    if hessian:
        seconds += SOLVE_SECONDS * (d + 1) ** 3 + (0 if full_batch else GRAM_SECONDS * batch * (d + 1) ** 2)
    return seconds


def evaluations(updates: int, updates_per_epoch: int, curve_points: int) -> int:
    """Full-data loss evaluations of a run of ``updates`` (every ~updates/curve_points, each epoch's end, the start)."""
    return min(updates, curve_points) + math.ceil(updates / updates_per_epoch) + 1


def run_seconds(
    n: int, d: int, batch: int, updates: int, updates_per_epoch: int, hessian: bool = False, curve_points: int = 200
) -> float:
    """Estimated CPU seconds of a run of ``updates`` on n × d data in batches of ``batch``."""
    full_batch = batch >= n
    once = SETUP_VALUE_SECONDS * n * (d + 1) + (GRAM_SECONDS * n * (d + 1) ** 2 if hessian and full_batch else 0.0)
    shuffles = 0 if full_batch else math.ceil(updates / updates_per_epoch)
    return (
        once
        + shuffles * n * (SHUFFLE_ROW_SECONDS + SHUFFLE_VALUE_SECONDS * (d + 1))
        + updates * update_seconds(batch, d, hessian, full_batch)
        + evaluations(updates, updates_per_epoch, curve_points) * pass_seconds(n, d)
    )


def affordable_updates(
    n: int,
    d: int,
    batch: int,
    updates: int,
    updates_per_epoch: int,
    budget_seconds: float,
    hessian: bool = False,
    curve_points: int = 200,
) -> int:
    """The most updates (at most ``updates``, at least 1) whose estimated cost fits ``budget_seconds``."""
    if run_seconds(n, d, batch, updates, updates_per_epoch, hessian, curve_points) <= budget_seconds:
        return updates
    low, high = 1, updates  # run_seconds grows with the updates: bisect for the last one that fits
    while low < high:
        middle = (low + high + 1) // 2
        if run_seconds(n, d, batch, middle, updates_per_epoch, hessian, curve_points) <= budget_seconds:
            low = middle
        else:
            high = middle - 1
    return low
