"""Two ways out of a local minimum (notes on gradient descent): start again elsewhere, or shake the iterate and cool down.

- :func:`random_restarts`: ``n`` runs from starts drawn uniformly over the window; the best end wins,
  and ``best_so_far`` shows what each further restart buys.
- :func:`annealed_noise_run`: gradient noise whose σ decays step by step, as in simulated annealing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import int_at_least, require_surface, window_box
from gdviz.optimizers.base import Optimizer
from gdviz.run import run
from gdviz.schedules.base import Schedule
from gdviz.surfaces.base import Surface


@dataclass(frozen=True, eq=False)
class Restarts:
    """``n`` runs from random starts. xs: (steps+1, n, dim); losses: (steps+1, n).

    best_so_far[i]: the lowest final loss among the first i+1 restarts (what more restarts buy).
    """

    starts: np.ndarray
    xs: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray

    @property
    def final_loss(self) -> np.ndarray:
        return self.losses[-1]

    @property
    def best(self) -> int:
        """Index of the restart with the lowest final loss (diverged ones count as +inf)."""
        return int(np.argmin(np.where(self.diverged_at >= 0, np.inf, self.final_loss)))

    @property
    def best_so_far(self) -> np.ndarray:
        return np.minimum.accumulate(np.where(self.diverged_at >= 0, np.inf, self.final_loss))


def random_restarts(
    surface: Surface,
    optimizer: Optimizer,
    n: int = 20,
    steps: int = 200,
    bounds: Any = None,
    seed: int = 0,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    should_stop: Callable[[], bool] | None = None,
) -> Restarts:
    """Run ``optimizer`` from ``n`` starts drawn uniformly over the window (one vectorized call).

    ``should_stop`` (no arguments, asked every few steps) ends the runs early once it returns True: the
    paths then hold the steps done (see :func:`gdviz.race`).
    """
    require_surface(surface)
    n = int_at_least(n, "n")
    box = window_box(surface, bounds)
    starts = np.random.default_rng(int_at_least(seed, "seed", 0)).uniform(box[:, 0], box[:, 1], (n, surface.dim))
    traj = run(surface, optimizer, starts, steps, schedule, noise, seed, record="path", should_stop=should_stop)
    return Restarts(starts=starts, xs=traj.xs, losses=traj.losses, diverged_at=traj.diverged_step)


@dataclass(frozen=True, eq=False)
class Annealing:
    """``runs`` noisy runs whose gradient-noise σ decays. sigmas: (steps,) read-only, the σ each step
    used (entry t-1 for step t); xs (steps+1, runs, dim), losses (steps+1, runs); diverged_at (runs,)
    the step a run diverged at (it stays where it stopped), -1 where it did not."""

    sigmas: np.ndarray
    xs: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray

    @property
    def final_loss(self) -> np.ndarray:
        return self.losses[-1]


def annealed_noise_run(
    surface: Surface,
    optimizer: Optimizer,
    start: Any = None,
    steps: int = 500,
    noise: float = 2.0,
    decay: float = 0.99,
    runs: int = 16,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> Annealing:
    r"""Gradient noise that cools down, as in simulated annealing: step :math:`t = 1, \dots, T` uses
    :math:`\sigma_t = \sigma_0 \gamma^{t-1}` (the first step has the full :math:`\sigma_0`).

    Early on the noise kicks the iterate over the ridges between minima; as it fades the run settles
    in the basin it last fell into. ``runs`` runs from the same start, each with its own noise. It is
    one :func:`gdviz.run` with that σ schedule, so the optimizer's state (momentum, Adam's moments)
    carries through the whole cooling, and ``decay=1`` is exactly ``gdviz.run(..., noise=noise)``.

    ``should_stop`` ends the runs early as in :func:`random_restarts` (``sigmas`` then the steps done).

    References: Kirkpatrick, Gelatt & Vecchi (1983), "Optimization by simulated annealing"; notes on gradient descent.
    """
    require_surface(surface)
    steps, runs = int_at_least(steps, "steps"), int_at_least(runs, "runs")
    if isinstance(noise, bool) or not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(decay, bool) or not (isinstance(decay, (int, float)) and 0 < decay <= 1):
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    sigmas = float(noise) * float(decay) ** np.arange(steps, dtype=np.float64)  # (steps,)
    x0 = np.asarray(surface.default_start if start is None else start, dtype=np.float64).reshape(-1)
    seed = int_at_least(seed, "seed", 0)
    # run freezes a diverged run at its last good iterate, so nothing is left to patch here
    traj = run(
        surface, optimizer, np.tile(x0, (runs, 1)), steps, None, sigmas, seed, record="path", should_stop=should_stop
    )
    return Annealing(traj.noise_sigmas, traj.xs, traj.losses, traj.diverged_step)
