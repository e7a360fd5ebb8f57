"""Small real problems made here from a random seed (nothing is downloaded): two moons, two spirals, a noisy cubic.

Pure NumPy, so the data are the same on any machine and device; the network trains on a float32 copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# name -> (task, one line for the page)
DATASETS = {
    "moons": ("classify", "two interleaving half circles (scikit-learn's make_moons), two classes"),
    "spirals": ("classify", "two interleaved spiral arms, two classes: hard for a small network"),
    "cubic": ("regress", "y = x³ − x + noise on [−1.5, 1.5]: a curve to fit"),
}
MIN_SAMPLES = 4


@dataclass(frozen=True)
class Dataset:
    """Inputs X (n, d_in) and targets y (n, 1), float32; ``task`` is "classify" (labels 0/1) or "regress"."""

    name: str
    task: str
    X: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def inputs(self) -> int:
        return int(self.X.shape[1])


def _check(n, noise, seed) -> tuple[int, float, int]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_SAMPLES:
        raise ValueError(f"Invalid number of samples: {n!r} (must be an integer >= {MIN_SAMPLES})")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not 0 <= noise < np.inf:
        raise ValueError(f"Invalid noise: {noise!r} (must be a finite number >= 0)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Invalid seed: {seed!r} (must be an integer >= 0)")
    return int(n), float(noise), int(seed)


# Each generator is ``(rng, n, noise) -> (X (n, d_in), y (n,))`` in NumPy alone: gdviz.network.network_script
# copies its source into the exported script, so keep it self-contained (np only, no helper).
def moons(rng, n, noise):
    upper = n // 2
    angle = np.concatenate([np.linspace(0, np.pi, upper), np.linspace(0, np.pi, n - upper)])
    label = np.concatenate([np.zeros(upper), np.ones(n - upper)])
    X = np.where(
        label[:, None] == 0,
        np.column_stack([np.cos(angle), np.sin(angle)]),
        np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)]),
    )
    X = X + noise * rng.standard_normal(X.shape)
    X = (X - np.array([0.5, 0.25])) / np.array([1.0, 0.5])  # centred, both coordinates about unit scale
    return X, label


def spirals(rng, n, noise):
    label = np.arange(n) % 2
    radius = rng.uniform(0.1, 1.0, n)
    angle = 3 * np.pi * radius + np.pi * label
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X = X + noise * 0.5 * rng.standard_normal(X.shape)
    return X, label.astype(np.float64)


def cubic(rng, n, noise):
    x = np.sort(rng.uniform(-1.5, 1.5, n))
    y = x**3 - x + noise * rng.standard_normal(n)
    return x[:, None], y


GENERATORS = {"moons": moons, "spirals": spirals, "cubic": cubic}


def make_dataset(name: str, n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """``n`` samples of the problem ``name`` (one of :data:`DATASETS`) with Gaussian noise σ = ``noise``."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {list(DATASETS)}")
    n, noise, seed = _check(n, noise, seed)
    X, y = GENERATORS[name](np.random.default_rng(seed), n, noise)
    return Dataset(name, DATASETS[name][0], X.astype(np.float32), np.asarray(y, dtype=np.float32)[:, None])
