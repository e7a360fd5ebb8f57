"""What a training run returns: parameters in raw units, the per-epoch history, the loss curve and the path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrainResult:
    """What one training run did.

    Coordinates: ``weight``/``bias`` are in the units of the given X (so ``predict`` takes raw X);
    ``params``, ``trace`` and the optimizer's whole path are in *training* coordinates — standardized
    features when ``standardize`` was on, ``x' = (x - mean) / std`` — laid out as ``(w_1..w_d, b)``.

    losses: (epochs_done,) full-data MSE after each epoch; ``initial_loss`` before any update.
    params: (epochs_done + 1, d + 1) parameters at the start and after each epoch.
    curve_*: (k,) the full-data loss at evenly spaced updates (and each epoch's end), with the
        updates, samples and training seconds it took to get there (evaluation time excluded).
    trace, trace_updates, trace_lrs: (k, d + 1), (k,), (k,) the path through parameter space,
        recorded every few updates (``trace_points`` at most), and the lr in force.
    lrs: (epochs_done,) the lr of each epoch's first update.
    diverged_at: the 1-based epoch whose loss became non-finite (training stopped), else None.
    complete: every requested epoch ran (False after ``max_updates`` or a divergence).
    """

    weight: np.ndarray
    bias: float
    losses: np.ndarray
    initial_loss: float
    params: np.ndarray
    seconds: float
    epoch_seconds: np.ndarray
    updates: int
    samples: int
    updates_per_epoch: int
    batch_size: int
    curve_updates: np.ndarray
    curve_samples: np.ndarray
    curve_seconds: np.ndarray
    curve_losses: np.ndarray
    trace: np.ndarray
    trace_updates: np.ndarray
    trace_lrs: np.ndarray
    lrs: np.ndarray
    diverged_at: int | None
    complete: bool
    mean: np.ndarray
    std: np.ndarray
    n: int
    d: int
    device: str
    dtype: str
    optimizer: str
    hyper: dict[str, Any] = field(default_factory=dict)
    schedule: str = ""
    transfer_seconds: float = 0.0

    @property
    def epochs_done(self) -> int:
        return int(self.losses.shape[0])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1]) if self.losses.size else self.initial_loss

    @property
    def seconds_per_update(self) -> float:
        return self.seconds / self.updates if self.updates else float("nan")

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n,) for raw features X (n, d) or (n,)."""
        features = np.asarray(X, dtype=np.float64).reshape(-1, self.d)
        return features @ self.weight + self.bias

    def to_training(self, weight: np.ndarray, bias: float) -> np.ndarray:
        """Original-unit (weight, bias) as a training-coordinate point (d + 1,), e.g. the closed form's."""
        weight = np.asarray(weight, dtype=np.float64)
        return np.append(weight * self.std, bias + float(weight @ self.mean))
