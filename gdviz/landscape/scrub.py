"""Every path one optimizer takes over a grid of its learning rate (and its momentum or β1), in one engine call.

The Playground's scrubbers redraw a racer's path while the visitor drags its η or β, with no round trip to the
server: the paths of every value on the sliders are computed here beforehand, as one batched ``gdviz.run``
whose rows are the grid's cells (times the starts). Each row is bit for bit the lone run of its setting: the
optimizers work element-wise on their runs, and a swept hyper-parameter gives the same bits as a scalar one
(see :mod:`gdviz.optimizers.base`). Only a noise-free run allows this: gradient noise is drawn per run index,
so a row of the sweep would see another draw than the racer itself (:func:`sweep_paths` refuses noise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import finite_vector, require_surface
from gdviz.landscape.stability import _swept_hyper, sweep_axes
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.run import run
from gdviz.schedules import Schedule
from gdviz.surfaces.base import Surface


def momentum_axis(optimizer_name: str) -> str | None:
    """The second knob a scrubber offers: SGD's/RMSprop's ``momentum``, else β1 (``betas[0]``), else none."""
    axes = sweep_axes(optimizer_name)
    return next((axis for axis in ("momentum", "betas[0]") if axis in axes), None)


def constructor_settings(optimizer: Optimizer) -> dict[str, Any]:
    """The keywords that rebuild ``optimizer`` (its hyper-parameters, clipping and compression)."""
    pairs = {spec.name for spec in type(optimizer).spec if spec.kind == "pair"}
    settings = optimizer.settings()
    return {k: tuple(v) if k in pairs else v for k, v in settings.items()}


def accepted_values(optimizer: Optimizer, axis: str, values: Sequence[float]) -> list[float]:
    """The values of ``axis`` that ``optimizer`` accepts with its other settings (Nesterov refuses momentum 0)."""
    cls, settings = type(optimizer), constructor_settings(optimizer)
    kept = []
    for value in values:
        try:
            cls(**_swept_hyper(cls, settings, {axis: float(value)}))
        except ValueError:
            continue
        kept.append(value)
    return kept


@dataclass(frozen=True, eq=False)
class Sweep:
    """One optimizer's runs over a (β, η) grid. Row ``i`` of ``betas`` and column ``j`` of ``lrs`` is one cell.

    xs: (B, K, steps+1, R, dim), losses: (B, K, steps+1, R), diverged_at: (B, K, R) (-1: never), R the starts.
    Without a second knob, ``beta_axis`` is None and B is 1 (the optimizer's own value).
    """

    optimizer: str
    settings: dict[str, Any]
    lrs: np.ndarray
    beta_axis: str | None
    betas: np.ndarray
    xs: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray
    steps: int

    def cell_settings(self, row: int, col: int) -> dict[str, Any]:
        """The constructor keywords of one cell, as plain Python values."""
        axes = {"lr": np.float64(self.lrs[col])}
        if self.beta_axis is not None:
            axes[self.beta_axis] = np.float64(self.betas[row])
        hyper = _swept_hyper(optimizer_class(self.optimizer), self.settings, axes)
        return {
            k: tuple(map(_plain, value)) if isinstance(value, tuple) else _plain(value) for k, value in hyper.items()
        }


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, np.floating) else value


def sweep_paths(
    surface: Surface,
    optimizer: Optimizer,
    lrs: Sequence[float] | np.ndarray,
    betas: Sequence[float] | np.ndarray | None = None,
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Sweep | None:
    """The paths of ``optimizer`` (its other settings kept) at every lr of ``lrs`` and, where it has a second
    knob (:func:`momentum_axis`), every value of ``betas``; from ``start`` (a point, or (R, dim) starts).

    ``schedule`` is the optimizer's (a schedule scales each row's own lr, as it would the lone run's).
    Returns None when ``should_stop`` ended the runs early: a partial sweep would show paths that stop short.
    """
    require_surface(surface)
    cls = type(optimizer)
    if getattr(optimizer, "batch", 1) != 1:
        raise ValueError(f"{cls.name}: sweep_paths takes an optimizer with scalar hyper-parameters")
    lr_values = finite_vector(lrs, "learning rates")
    if np.any(lr_values <= 0):
        raise ValueError("learning rates must be > 0")
    axis = momentum_axis(cls.name)
    settings = constructor_settings(optimizer)
    if axis is None or betas is None:
        axis, beta_values = None, np.array([np.nan])
    else:
        beta_values = finite_vector(betas, f"values of {axis}")
    grid_lr, grid_beta = np.meshgrid(lr_values, beta_values)  # (B, K)
    x0 = np.asarray(surface.default_start if start is None else start, dtype=np.float64)
    starts = x0.reshape(-1, surface.dim)
    runs = starts.shape[0]
    cells = grid_lr.size
    # one row per (cell, start): each cell's starts are consecutive rows
    swept = {"lr": np.repeat(grid_lr.ravel(), runs)}
    if axis is not None:
        swept[axis] = np.repeat(grid_beta.ravel(), runs)
    hyper = _swept_hyper(cls, settings, swept)
    batch = cls(**hyper)
    rows_start = np.tile(starts, (cells, 1)) if x0.ndim == 2 else x0
    traj = run(surface, batch, rows_start, steps, schedule, record="path", should_stop=should_stop)
    if traj.stopped_after is not None:
        return None
    shape = grid_lr.shape
    xs = traj.xs.reshape(steps + 1, *shape, runs, surface.dim)
    losses = traj.losses.reshape(steps + 1, *shape, runs)
    return Sweep(
        optimizer=cls.name,
        settings=settings,
        lrs=lr_values,
        beta_axis=axis,
        betas=beta_values if axis is not None else np.array([]),
        xs=np.moveaxis(xs, 0, 2),
        losses=np.moveaxis(losses, 0, 2),
        diverged_at=np.asarray(traj.diverged_step).reshape(*shape, runs),
        steps=steps,
    )
