"""GD vs SGD vs minibatch, measured: the comparison table of the notes on gradient descent and d2l 12.5's story as numbers.

Every mode trains the same model on the same data and device, from the same initial parameters,
with its own learning rate (a batch of one needs a far smaller one than the full batch; d2l uses
1, 0.4, 0.05 and 0.005 for b = 1500, 100, 10, 1). The table replaces the notes' prose: samples per
update, updates per epoch, time per update and per epoch, throughput, gradient noise, final loss
and distance to the closed-form solution — all measured on the current device.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.regression.data import ClosedForm, as_2d, solve
from gdviz.regression.result import TrainResult
from gdviz.regression.training import train

# d2l 12.5's learning rates scale about linearly with the batch up to ~200 samples (η_b ≈ η_GD · b / 200)
LINEAR_SCALING_BATCH = 200
# rows of X turned into float64 at once for the gradient noise (a (chunk, d) copy instead of an (n, d) one)
NOISE_CHUNK_ROWS = 1 << 14


@dataclass(frozen=True)
class Mode:
    """One way to sample: ``batch_size`` None is full-batch GD, 1 is SGD; its own learning rate and,
    optionally, its own number of epochs (d2l 12.5 gives GD 10 epochs and the others 2)."""

    label: str
    batch_size: int | None
    lr: float
    epochs: int | None = None


def _training_gram(X: Any, standardize: bool):
    """(2/n) [X 1]ᵀ[X 1] in float64 (the MSE's constant Hessian), on the features the model trains on."""
    import torch

    X64 = as_2d(X, np.zeros(len(X)))[0].to("cpu", torch.float64)
    if standardize:
        std = X64.std(0, correction=0)
        X64 = (X64 - X64.mean(0)) / torch.where(std > 0, std, torch.ones_like(std))
    n = X64.shape[0]
    Z = torch.cat([X64, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    return (Z.T @ Z) * (2.0 / n)


def suggested_lr(X: Any, batch_size: int | None = None, standardize: bool = False) -> float:
    r"""A learning rate that works for SGD-family optimizers: :math:`\eta = \min(1, b/200) / L`.

    L is the largest eigenvalue of the MSE's Hessian (2/n)[X 1]ᵀ[X 1]: full-batch GD converges for
    η < 2/L, and 1/L is the safe half of that. Smaller batches get proportionally smaller steps
    (the linear scaling rule, which d2l 12.5's choices follow: 1, 0.4, 0.05, 0.005 for b = 1500,
    100, 10, 1). Unscaled features (the notes' x ~ 10·N(0, 1)) have a large L, hence η = 0.001.

    References: d2l 12.5 (Minibatch Stochastic Gradient Descent); Goyal et al. (2017), "Accurate,
    Large Minibatch SGD" (linear scaling).
    """
    import torch

    top = float(torch.linalg.eigvalsh(_training_gram(X, standardize))[-1])
    scale = 1.0 if batch_size is None else min(1.0, batch_size / LINEAR_SCALING_BATCH)
    return float(f"{scale / top:.2g}")


def default_modes(n: int, batch_size: int | None, lr_gd: float, scaled: bool = True, gd_epochs: int | None = None):
    """GD, SGD, minibatches of 10 and 100 (d2l 12.5) and the chosen b (those smaller than n).

    ``scaled``: a batch of b gets ``lr_gd · min(1, b / 200)`` (d2l's choices); else every mode ``lr_gd``.
    ``gd_epochs``: GD's own number of epochs (None: the comparison's).
    """

    def lr(size: int) -> float:
        return float(f"{lr_gd * min(1.0, size / LINEAR_SCALING_BATCH):.2g}") if scaled else lr_gd

    modes = [Mode("GD", None, lr_gd, gd_epochs), Mode("SGD (b = 1)", 1, lr(1))]
    sizes = [10, 100]
    if batch_size is not None and batch_size not in (1, 10, 100) and batch_size < n:
        sizes.append(batch_size)
    modes += [Mode(f"minibatch b = {size}", size, lr(size)) for size in sorted(sizes) if size < n]
    return modes


def gradient_noise(
    X: Any,
    y: Any,
    params: np.ndarray,
    batch_size: int | None,
    replacement: bool,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> float:
    r"""Relative standard deviation of the minibatch gradient at ``params`` (training coordinates).

    .. math::
        \frac{\sqrt{\mathrm{E}\lVert g_B - \nabla L\rVert^2}}{\lVert\nabla L\rVert}, \quad
        \mathrm{E}\lVert g_B - \nabla L\rVert^2 = \frac{\sigma^2}{b}\Bigl(\frac{n-b}{n-1}\Bigr)_{\text{without replacement}}

    with :math:`\sigma^2` the variance of the per-sample gradients :math:`2 r_i (x_i, 1)`. 0 for
    the full batch: the notes' table's "gradient accuracy", measured. ``mean``/``std``: the training
    coordinates are ``(X - mean) / std`` (standardized training). Summed in float64 over chunks of
    rows, so no full-size copy of X is made.
    """
    import torch

    X, y = as_2d(X, y)
    n, d = X.shape
    b = n if batch_size is None else batch_size
    if not replacement and b >= n:
        return 0.0
    theta = torch.as_tensor(np.asarray(params, dtype=np.float64))
    shift = torch.zeros(d, dtype=torch.float64) if mean is None else torch.as_tensor(mean, dtype=torch.float64)
    scale = torch.ones(d, dtype=torch.float64) if std is None else torch.as_tensor(std, dtype=torch.float64)
    grad = torch.zeros(d + 1, dtype=torch.float64)
    second = 0.0
    for lo in range(0, n, NOISE_CHUNK_ROWS):
        x = X[lo : lo + NOISE_CHUNK_ROWS].to("cpu", torch.float64, copy=True).sub_(shift).div_(scale)
        residual = x @ theta[:-1] + theta[-1] - y[lo : lo + NOISE_CHUNK_ROWS, 0].to("cpu", torch.float64)
        grad[:d] += x.T @ residual
        grad[d] += residual.sum()
        second += float((residual.square() * (x.square_().sum(1) + 1.0)).sum())
    grad *= 2.0 / n
    sigma2 = max(4.0 * second / n - float(grad @ grad), 0.0)
    variance = sigma2 / b * ((n - b) / (n - 1) if not replacement and n > 1 else 1.0)
    norm = float(torch.linalg.vector_norm(grad))
    return math.sqrt(variance) / norm if norm > 0 else float("inf")


@dataclass(frozen=True)
class ComparisonRow:
    """One mode's measured numbers (times on the device the comparison ran on)."""

    mode: Mode
    result: TrainResult
    samples_per_update: int
    updates_per_epoch: int
    seconds_per_update: float
    seconds_per_epoch: float
    epoch_estimated: bool  # fewer than one epoch ran: time per update × updates per epoch
    samples_per_second: float
    gradient_noise: float
    final_loss: float
    loss_gap: float
    distance: float

    @property
    def diverged(self) -> bool:
        return self.result.diverged_at is not None


def compare(
    X: Any,
    y: Any,
    modes: list[Mode],
    optimizer: str = "SGD",
    epochs: int = 2,
    device: Any = "cpu",
    seed: int = 0,
    *,
    standardize: bool = False,
    dtype: Any = None,
    replacement: bool = False,
    max_updates: int | None = None,
    closed: ClosedForm | None = None,
    progress: Callable[[float, str], None] | None = None,
    **hyper: Any,
) -> list[ComparisonRow]:
    """Train once per mode (same data, device, seed and initial parameters) and measure each.

    ``max_updates`` caps each mode's updates (SGD on a million samples is a million updates per
    epoch); a capped mode's time per epoch is then estimated from its time per update. Once
    ``should_stop()`` (in ``hyper``, passed on to every run) says stop, the modes not yet started are
    left out: the rows are those of the first modes, at least one.
    ``progress(fraction, text)`` follows the whole comparison.
    """
    if not modes:
        raise ValueError("compare needs at least one mode")
    closed = closed if closed is not None else solve(X, y)
    # one untimed update first: the first call of each kernel pays for dispatch set-up, not for the mode that runs first
    X_head, y_head = as_2d(X, y)
    train(X_head[:64], y_head[:64], optimizer, epochs=1, device=device, dtype=dtype, **{**hyper, "lr": modes[0].lr})
    rows = []
    should_stop = hyper.get("should_stop")
    for index, mode in enumerate(modes):
        if rows and should_stop is not None and should_stop():
            break  # out of time: the modes measured so far (each full-data pass of a big set costs its share)

        def report(fraction: float, text: str, index: int = index, mode: Mode = mode) -> None:
            if progress is not None:
                progress((index + fraction) / len(modes), f"{mode.label}: {text}")

        result = train(
            X, y, optimizer, lr=mode.lr, batch_size=mode.batch_size, epochs=mode.epochs or epochs, device=device, seed=seed,
            replacement=replacement, standardize=standardize, dtype=dtype, max_updates=max_updates,
            progress=report, **hyper,
        )  # fmt: skip
        full_epochs = result.epoch_seconds.size
        estimated = full_epochs == 0
        per_epoch = (
            result.seconds_per_update * result.updates_per_epoch if estimated else float(result.epoch_seconds.mean())
        )
        noise = gradient_noise(X, y, result.params[0], mode.batch_size, replacement, result.mean, result.std)
        rows.append(
            ComparisonRow(
                mode=mode,
                result=result,
                samples_per_update=result.batch_size,
                updates_per_epoch=result.updates_per_epoch,
                seconds_per_update=result.seconds_per_update,
                seconds_per_epoch=per_epoch,
                epoch_estimated=estimated,
                samples_per_second=result.samples / result.seconds if result.seconds > 0 else float("inf"),
                gradient_noise=noise,
                final_loss=result.final_loss,
                loss_gap=result.final_loss - closed.loss,
                distance=closed.distance(result.weight, result.bias),
            )
        )
    return rows


@dataclass(frozen=True)
class Claim:
    """One sentence of d2l 12.5, checked: ``holds`` is None when the comparison lacks a mode it needs."""

    text: str
    holds: bool | None
    detail: str


def _to_target(result: TrainResult, target: float) -> tuple[int, float]:
    """(samples, seconds) at the first evaluation whose loss is at or below ``target``."""
    reached = np.flatnonzero(result.curve_losses <= target)
    first = int(reached[0]) if reached.size else -1
    return int(result.curve_samples[first]), float(result.curve_seconds[first])


def d2l_claims(rows: list[ComparisonRow]) -> tuple[float, list[Claim]]:
    """The target loss (the best level every mode reached) and d2l 12.5's four claims, measured against it.

    d2l: SGD needs fewer samples than GD to reach a loss, but more wall time; a batch of 10 beats
    SGD in time, and a batch of 100 beats GD. ``holds`` is False where this device disagrees.
    """
    alive = [row for row in rows if not row.diverged]
    by_batch: dict[Any, ComparisonRow] = {}
    for row in alive:
        b = row.mode.batch_size
        key = "gd" if b is None or b >= row.result.n else b
        by_batch.setdefault(key, row)
    if not alive:
        return math.nan, []
    target = max(float(row.result.curve_losses.min()) for row in alive) * (1 + 1e-9)
    reach = {key: _to_target(row.result, target) for key, row in by_batch.items()}

    def claim(text: str, first: Any, second: Any, index: int, less: bool) -> Claim:
        missing = [name for name in (first, second) if name not in reach]
        if missing:
            named = ", ".join("GD" if m == "gd" else f"b = {m}" for m in missing)
            return Claim(text, None, f"not measured: add {named} to the comparison (or it diverged)")
        a, b = reach[first][index], reach[second][index]
        unit = "samples" if index == 0 else "s"
        shown = (lambda v: f"{v:,}") if index == 0 else (lambda v: f"{v:.3g}")
        label = {"gd": "GD", 1: "SGD"}
        name_a, name_b = label.get(first, f"b = {first}"), label.get(second, f"b = {second}")
        holds = a < b if less else a > b
        return Claim(text, holds, f"{name_a}: {shown(a)} {unit}, {name_b}: {shown(b)} {unit}")

    claims = [
        claim("SGD reaches the loss with fewer samples than GD", 1, "gd", 0, less=True),
        claim("…but SGD takes more wall time than GD", 1, "gd", 1, less=False),
        claim("A minibatch of 10 beats SGD in wall time", 10, 1, 1, less=True),
        claim("A minibatch of 100 beats GD in wall time", 100, "gd", 1, less=True),
    ]
    return target, claims
