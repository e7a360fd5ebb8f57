"""Basins of attraction: which minimum each start of a grid over the window ends in.

Every start of a ``grid``-per-axis grid (1-D or 2-D surfaces) runs in one vectorized call, and several
optimizers share one :func:`gdviz.race`. A final iterate is labelled by the nearest of the surface's
:func:`attractors` when it lies within ``tol`` of it; DIVERGED and NOT_CONVERGED label the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.critical import find_critical_points
from gdviz.landscape._checks import int_at_least, require_surface, window_box
from gdviz.optimizers.base import Optimizer
from gdviz.run import race
from gdviz.schedules.base import Schedule
from gdviz.surfaces.base import Surface

DIVERGED = -1
NOT_CONVERGED = -2


def attractors(surface: Surface, bounds: Any = None, search: bool = True) -> np.ndarray:
    """(k, dim) the minima a run may end in: the surface's listed global then local minima, and (with
    ``search``) the further minima Newton finds in the window grown by a quarter of its width on each
    side (Rastrigin lists one of its many; x²(1 + sin x) has one just past its window's edge)."""
    box = window_box(surface, bounds)
    listed = [np.asarray(m, dtype=np.float64).reshape(-1, surface.dim) for m in (surface.minima, surface.local_minima)]
    points = [p for block in listed if block.size for p in block]
    if search:
        width = box[:, 1] - box[:, 0]
        diagonal = float(np.linalg.norm(width))
        # a start near the edge may roll to a minimum just outside the window: search a wider box
        wider = np.stack([box[:, 0] - width / 4, box[:, 1] + width / 4], axis=1)
        for cp in find_critical_points(surface, grid=36, bounds=wider):
            far = not points or np.min(np.linalg.norm(np.array(points) - cp.point, axis=-1)) > 1e-4 * diagonal
            if cp.kind == "minimum" and far:
                points.append(cp.point)
    return np.array(points, dtype=np.float64).reshape(-1, surface.dim)


def grid_starts(surface: Surface, grid: int, bounds: Any = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Cell centres of a ``grid``-per-axis grid over the window: the axes, and the (grid**dim, dim) points
    ordered with the last axis fastest reversed (row = x2 index, column = x1 index, as an image)."""
    grid = int_at_least(grid, "grid")
    box = window_box(surface, bounds)
    axes = [lo + (np.arange(grid) + 0.5) * (hi - lo) / grid for lo, hi in box]
    mesh = np.meshgrid(*axes)  # 2-D: each (ny, nx)
    return axes, np.stack([m.ravel() for m in mesh], axis=-1)


@dataclass(frozen=True, eq=False)
class Basins:
    """Where every start of a grid ended. labels: (n,) in 1-D, (ny, nx) in 2-D (row = x2).

    A label k >= 0 indexes ``minima``; DIVERGED (-1) and NOT_CONVERGED (-2: farther than ``tol`` from
    every minimum after ``steps``) are the others.
    """

    optimizer: str
    axes: list[np.ndarray]
    labels: np.ndarray
    minima: np.ndarray
    final_x: np.ndarray  # labels.shape + (dim,)
    final_loss: np.ndarray
    diverged_at: np.ndarray
    tol: float
    steps: int
    seconds: float

    def counts(self) -> dict[int, int]:
        """label -> number of starts, for every label present."""
        values, counts = np.unique(self.labels, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


def _label(final_x: np.ndarray, diverged: np.ndarray, minima: np.ndarray, tol: float) -> np.ndarray:
    """(N,) the index of the nearest of the (k, dim) ``minima`` to each (N, dim) final iterate, if within ``tol``."""
    labels = np.full(final_x.shape[0], NOT_CONVERGED, dtype=np.int64)
    if minima.size:
        gaps = final_x[:, None, :] - minima[None]  # (N, k, dim)
        distance = np.sqrt(np.sum(gaps * gaps, axis=-1))
        nearest = np.argmin(distance, axis=1)
        labels = np.where(distance[np.arange(len(nearest)), nearest] <= tol, nearest, NOT_CONVERGED)
    return np.where(diverged, DIVERGED, labels)


def compare_basins(
    surface: Surface,
    optimizers: Sequence[Optimizer],
    grid: int = 100,
    steps: int = 500,
    tol: float | None = None,
    bounds: Any = None,
    minima: Any = None,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    should_stop: Callable[[], bool] | None = None,
) -> list[Basins]:
    """:func:`basins` for several optimizers over the same grid, in one ``gdviz.race`` call.

    ``steps`` of each result is the steps done.
    ``should_stop`` (no arguments, asked every few steps) ends the runs early once it returns True: the
    result then holds the steps done (see :func:`gdviz.race`).
    """
    require_surface(surface)
    if surface.dim not in (1, 2):
        raise ValueError(f"basins are drawn for 1-D and 2-D surfaces; {surface.name} has dimension {surface.dim}")
    optimizers = list(optimizers)
    for opt in optimizers:
        if isinstance(opt, Optimizer) and opt.batch != 1:
            raise ValueError(f"{opt.name}: basins use one setting per optimizer, not a sweep")
    box = window_box(surface, bounds)
    axes, starts = grid_starts(surface, grid, box)
    diagonal = float(np.linalg.norm(box[:, 1] - box[:, 0]))
    tol = 0.01 * diagonal if tol is None else float(tol)
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    targets = attractors(surface, box) if minima is None else np.asarray(minima, dtype=np.float64)
    targets = targets.reshape(-1, surface.dim)
    shape = (grid,) * surface.dim
    trajectories = race(
        surface, optimizers, starts, steps, schedule, noise, seed, batch_size, record="final", should_stop=should_stop
    )
    out = []
    for opt, traj in zip(optimizers, trajectories):
        diverged_at = traj.diverged_step
        labels = _label(traj.xs[-1], diverged_at >= 0, targets, tol)
        out.append(
            Basins(
                optimizer=opt.name,
                axes=axes,
                labels=labels.reshape(shape),
                minima=targets,
                final_x=traj.xs[-1].reshape(shape + (surface.dim,)),
                final_loss=traj.losses[-1].reshape(shape),
                diverged_at=diverged_at.reshape(shape),
                tol=tol,
                steps=int(steps if traj.stopped_after is None else traj.stopped_after),
                seconds=traj.seconds,
            )
        )
    return out


def basins(
    surface: Surface, optimizer: Optimizer, grid: int = 100, steps: int = 500, tol: float | None = None, **options: Any
) -> Basins:
    """Label each start of a ``grid``-per-axis grid over the window by the minimum the optimizer reaches.

    ``tol`` (default 1% of the window's diagonal) is how close the final iterate must be to a minimum of
    :func:`attractors` (or the given ``minima``). Other options as in :func:`compare_basins`.
    """
    return compare_basins(surface, [optimizer], grid, steps, tol, **options)[0]
