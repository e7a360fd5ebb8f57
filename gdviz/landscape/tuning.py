"""A fair comparison: every optimizer gets the same log grid of learning rates, the same budget.

Comparing optimizers each at its default lr mostly compares the defaults. Here each one runs over the
same grid of learning rates in one :func:`gdviz.race`, and its best lr is chosen by a stated rule
(:func:`tune_lr`), so a comparison shows how it was tuned; ``at_edge`` says when the grid was too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import finite_vector, int_at_least, require_surface
from gdviz.optimizers import optimizer_class
from gdviz.run import race
from gdviz.surfaces.base import Surface


def log_grid(low: float, high: float, n: int) -> np.ndarray:
    """``n`` learning rates evenly spaced in log between ``low`` and ``high``."""
    n = int_at_least(n, "n")
    if not (0 < low <= high and math.isfinite(high)):
        raise ValueError(f"a log grid needs 0 < low <= high, got {low!r}, {high!r}")
    return np.geomspace(low, high, n)


@dataclass(frozen=True, eq=False)
class Tuned:
    """One optimizer over a grid of learning rates, and its best one.

    final_loss, steps_to, diverged: (G,) per lr (steps_to -1 where the tolerance was never reached);
    xs (steps+1, dim) and losses (steps+1,) the best lr's run; at_edge: the best lr is the grid's first
    or last (a wider grid might do better).
    """

    name: str
    lrs: np.ndarray
    final_loss: np.ndarray
    steps_to: np.ndarray
    diverged: np.ndarray
    best: int
    xs: np.ndarray
    losses: np.ndarray
    seconds: float
    f_ref: float

    @property
    def best_lr(self) -> float:
        return float(self.lrs[self.best])

    @property
    def best_final_loss(self) -> float:
        return float(self.final_loss[self.best])

    @property
    def best_steps_to(self) -> int:
        return int(self.steps_to[self.best])

    @property
    def at_edge(self) -> bool:
        return self.best in (0, len(self.lrs) - 1)


def _pick_best(final_gap: np.ndarray, steps_to: np.ndarray, diverged: np.ndarray, tol: float) -> int:
    """Ending within ``tol`` beats not; among those the fewest steps to ``tol`` wins, else the lowest loss."""
    finished = ~diverged & (final_gap <= tol) & (steps_to >= 0)
    if finished.any():
        return int(np.argmin(np.where(finished, steps_to, np.iinfo(np.int64).max)))
    return int(np.argmin(np.where(diverged, np.inf, final_gap)))


def tune_lr(
    surface: Surface,
    optimizer_names: Sequence[str],
    lr_grid: Any,
    steps: int = 200,
    tol: float = 1e-3,
    start: Any = None,
    fixed_hyper: dict[str, dict[str, Any]] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> list[Tuned]:
    """Search each optimizer's lr over the same grid (the same budget for all) in one ``gdviz.race``.

    The best lr ends within ``tol`` of the minimum value and gets there in the fewest steps; when no lr
    does, the lowest final loss wins. The final loss (not a short-horizon one) is what is judged, so a
    fast starter that stalls is not favoured. ``fixed_hyper[name]`` sets an optimizer's other
    hyper-parameters (registry defaults otherwise).
    ``should_stop`` (no arguments, asked every few steps) ends the runs early once it returns True: the
    results then hold the steps done (see :func:`gdviz.race`).
    """
    require_surface(surface)
    lrs = finite_vector(lr_grid, "lr_grid")
    if np.any(lrs <= 0):
        raise ValueError("lr_grid must hold positive learning rates")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    names = [optimizer_class(name).name for name in optimizer_names]
    if not names:
        raise ValueError("give at least one optimizer name")
    fixed_hyper = fixed_hyper or {}
    optimizers = []
    for name in names:
        hyper = {k: v for k, v in fixed_hyper.get(name, {}).items() if k != "lr"}
        optimizers.append(optimizer_class(name)(lr=lrs, **hyper))
    trajectories = race(surface, optimizers, start, steps, None, noise, seed, record="path", should_stop=should_stop)
    lowest = min(float(np.min(t.losses)) for t in trajectories)
    f_ref = surface.f_min if math.isfinite(surface.f_min) else lowest
    out = []
    for name, traj in zip(names, trajectories):
        gap = traj.losses - f_ref  # (steps+1, G)
        hit = gap <= tol
        steps_to = np.where(hit.any(axis=0), hit.argmax(axis=0), -1)
        diverged = traj.diverged_step >= 0
        best = _pick_best(gap[-1], steps_to, diverged, tol)
        out.append(
            Tuned(
                name=name,
                lrs=lrs,
                final_loss=traj.losses[-1],
                steps_to=steps_to,
                diverged=diverged,
                best=best,
                xs=traj.xs[:, best],
                losses=traj.losses[:, best],
                seconds=traj.seconds,
                f_ref=float(f_ref),
            )
        )
    return out
