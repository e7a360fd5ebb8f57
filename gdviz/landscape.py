"""Landscape experiments: thousands of runs as one vectorized engine call, summarised as a picture.

- :func:`stability_map`: the final loss over a grid of two hyper-parameters (Distill's "Why Momentum
  Really Works" map), one swept :func:`gdviz.run`.
- :func:`basins` / :func:`compare_basins`: which minimum each start point of a grid ends in.
- :func:`random_restarts` and :func:`annealed_noise_run`: two ways out of a local minimum (seed 001).
- :func:`tune_lr`: every optimizer gets the same log grid of learning rates (the same budget), and the
  best is chosen by a stated rule, so a comparison shows how it was tuned.

Every function validates loudly and returns a small frozen dataclass of arrays; nothing here draws.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.critical import find_critical_points
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.params import HyperParam
from gdviz.run import race, run
from gdviz.schedules.base import Schedule
from gdviz.surfaces.base import Surface

DIVERGED = -1
NOT_CONVERGED = -2
_AXIS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([01])\])?$")


# -- stability map -------------------------------------------------------------------------------
def sweep_axes(optimizer_name: str) -> list[str]:
    """The hyper-parameters a map can sweep: float ones, and each half of a pair (``"betas[1]"``)."""
    axes = []
    for spec in optimizer_class(optimizer_name).spec:
        if spec.sweepable and spec.kind == "float":
            axes.append(spec.name)
        elif spec.sweepable and spec.kind == "pair":
            axes += [f"{spec.name}[0]", f"{spec.name}[1]"]
    return axes


def axis_spec(optimizer_name: str, axis: str) -> HyperParam:
    """The spec behind a sweep axis name (``"lr"``, ``"betas[1]"``)."""
    cls = optimizer_class(optimizer_name)
    if not isinstance(axis, str) or axis not in sweep_axes(cls.name):
        raise ValueError(f"{cls.name} cannot sweep {axis!r}; it can sweep {sweep_axes(cls.name)}")
    return {spec.name: spec for spec in cls.spec}[_AXIS.match(axis).group(1)]


def _swept_hyper(cls: type[Optimizer], fixed: dict[str, Any], axes: dict[str, np.ndarray]) -> dict[str, Any]:
    """``fixed`` with every axis replaced by its (R,) column of values (a pair keeps its other half)."""
    hyper = dict(fixed)
    specs = {spec.name: spec for spec in cls.spec}
    for axis, values in axes.items():
        name, index = _AXIS.match(axis).groups()
        if index is None:
            hyper[name] = values
            continue
        pair = list(hyper.get(name, specs[name].default))
        pair[int(index)] = values
        hyper[name] = tuple(pair)
    return hyper


def _axis_values(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be a non-empty 1-D array of finite numbers")
    return array


@dataclass(frozen=True, eq=False)
class StabilityMap:
    """Final losses over a (y, x) grid of hyper-parameters. Arrays are (ny, nx); row i is y_values[i].

    gap: final loss minus the reference ``f_ref`` (f_min, or the lowest loss seen when f_min is unknown),
    at least 0, for a log colour scale. diverged_at: the engine's divergence step, -1 where none.
    """

    optimizer: str
    fixed: dict[str, Any]
    x_name: str
    y_name: str
    x_values: np.ndarray
    y_values: np.ndarray
    final_loss: np.ndarray
    final_x: np.ndarray  # (ny, nx, dim)
    diverged_at: np.ndarray
    start: np.ndarray
    start_loss: float
    f_ref: float
    steps: int
    seconds: float

    @property
    def gap(self) -> np.ndarray:
        return np.maximum(self.final_loss - self.f_ref, 0.0)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def stable(self) -> np.ndarray:
        """Cells that did not blow up and ended below their start: the loss went down, not up."""
        return ~self.diverged & (self.final_loss < self.start_loss)

    def best(self) -> tuple[int, int] | None:
        """(row, column) of the lowest final loss among the cells that did not diverge."""
        scores = np.where(self.diverged, np.inf, self.final_loss)
        if not np.isfinite(scores).any():
            return None
        row, col = np.unravel_index(int(np.argmin(scores)), scores.shape)
        return int(row), int(col)

    def setting(self, row: int, col: int) -> dict[str, Any]:
        """The optimizer's hyper-parameters at one cell, as plain Python values."""
        axes = {self.x_name: float(self.x_values[col]), self.y_name: float(self.y_values[row])}
        hyper = _swept_hyper(optimizer_class(self.optimizer), self.fixed, axes)
        return {
            k: (tuple(float(v) for v in value) if isinstance(value, tuple) else value) for k, value in hyper.items()
        }


def stability_map(
    surface: Surface,
    optimizer_name: str,
    fixed_hyper: dict[str, Any] | None,
    axis_x: tuple[str, Any],
    axis_y: tuple[str, Any],
    start: Any = None,
    steps: int = 300,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    max_grad_norm: float | None = None,
) -> StabilityMap:
    """Run ``optimizer_name`` from one start for every pair of values of two hyper-parameters.

    ``axis_x``/``axis_y`` are ``(name, values)`` with a name from :func:`sweep_axes`; the other
    hyper-parameters are ``fixed_hyper`` (registry defaults where absent). One ``gdviz.run`` call with
    ``record="final"`` does all ``len(x) * len(y)`` runs.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    cls = optimizer_class(optimizer_name)
    (x_name, x_raw), (y_name, y_raw) = axis_x, axis_y
    for axis in (x_name, y_name):
        axis_spec(cls.name, axis)
    if x_name == y_name:
        raise ValueError(f"the two axes must differ; both are {x_name!r}")
    x_values, y_values = _axis_values(x_raw, f"values of {x_name}"), _axis_values(y_raw, f"values of {y_name}")
    fixed = dict(fixed_hyper or {})
    for axis in (x_name, y_name):
        if "[" not in axis:
            fixed.pop(axis, None)
    grid_x, grid_y = np.meshgrid(x_values, y_values)  # (ny, nx)
    hyper = _swept_hyper(cls, fixed, {x_name: grid_x.ravel(), y_name: grid_y.ravel()})
    opt = cls(max_grad_norm=max_grad_norm, **hyper)
    traj = run(surface, opt, start, steps, schedule, noise, seed, batch_size, record="final")
    shape = grid_x.shape
    final_loss = traj.losses[-1].reshape(shape)
    start_loss = float(traj.losses[0, 0])
    f_ref = surface.f_min if math.isfinite(surface.f_min) else min(start_loss, float(np.min(final_loss)))
    return StabilityMap(
        optimizer=cls.name,
        fixed=fixed,
        x_name=x_name,
        y_name=y_name,
        x_values=x_values,
        y_values=y_values,
        final_loss=final_loss,
        final_x=traj.xs[-1].reshape(shape + (surface.dim,)),
        diverged_at=traj.diverged_step.reshape(shape),
        start=traj.xs[0, 0].copy(),
        start_loss=start_loss,
        f_ref=float(f_ref),
        steps=int(steps),
        seconds=traj.seconds,
    )


# -- basins of attraction ----------------------------------------------------------------------------
def _box(surface: Surface, bounds: Any) -> np.ndarray:
    box = np.asarray(surface.bounds if bounds is None else bounds, dtype=np.float64)
    if box.shape != (surface.dim, 2) or not np.all(np.isfinite(box)) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"bounds must be {surface.dim} finite (low, high) pairs with low < high")
    return box


def attractors(surface: Surface, bounds: Any = None, search: bool = True) -> np.ndarray:
    """(k, dim) the minima a run may end in: the surface's listed global then local minima, and (with
    ``search``) the further minima Newton finds in the window grown by a quarter of its width on each
    side (Rastrigin lists one of its many; x²(1 + sin x) has one just past its window's edge)."""
    box = _box(surface, bounds)
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


def _check_positive_int(value: Any, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def grid_starts(surface: Surface, grid: int, bounds: Any = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Cell centres of a ``grid``-per-axis grid over the window: the axes, and the (grid**dim, dim) points
    ordered with the last axis fastest reversed (row = x2 index, column = x1 index, as an image)."""
    grid = _check_positive_int(grid, "grid")
    box = _box(surface, bounds)
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
) -> list[Basins]:
    """:func:`basins` for several optimizers over the same grid, in one ``gdviz.race`` call."""
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    if surface.dim not in (1, 2):
        raise ValueError(f"basins are drawn for 1-D and 2-D surfaces; {surface.name} has dimension {surface.dim}")
    optimizers = list(optimizers)
    for opt in optimizers:
        if isinstance(opt, Optimizer) and opt.batch != 1:
            raise ValueError(f"{opt.name}: basins use one setting per optimizer, not a sweep")
    box = _box(surface, bounds)
    axes, starts = grid_starts(surface, grid, box)
    diagonal = float(np.linalg.norm(box[:, 1] - box[:, 0]))
    tol = 0.01 * diagonal if tol is None else float(tol)
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    targets = attractors(surface, box) if minima is None else np.asarray(minima, dtype=np.float64)
    targets = targets.reshape(-1, surface.dim)
    shape = (grid,) * surface.dim
    trajectories = race(surface, optimizers, starts, steps, schedule, noise, seed, batch_size, record="final")
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
                steps=int(steps),
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


# -- ways out of a local minimum -----------------------------------------------------------------------
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
) -> Restarts:
    """Run ``optimizer`` from ``n`` starts drawn uniformly over the window (one vectorized call)."""
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    n = _check_positive_int(n, "n")
    box = _box(surface, bounds)
    starts = np.random.default_rng(_check_positive_int(seed, "seed", 0)).uniform(box[:, 0], box[:, 1], (n, surface.dim))
    traj = run(surface, optimizer, starts, steps, schedule, noise, seed, record="path")
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
) -> Annealing:
    r"""Gradient noise that cools down, as in simulated annealing: step :math:`t = 1, \dots, T` uses
    :math:`\sigma_t = \sigma_0 \gamma^{t-1}` (the first step has the full :math:`\sigma_0`).

    Early on the noise kicks the iterate over the ridges between minima; as it fades the run settles
    in the basin it last fell into. ``runs`` runs from the same start, each with its own noise. It is
    one :func:`gdviz.run` with that σ schedule, so the optimizer's state (momentum, Adam's moments)
    carries through the whole cooling, and ``decay=1`` is exactly ``gdviz.run(..., noise=noise)``.

    References: Kirkpatrick, Gelatt & Vecchi (1983), "Optimization by simulated annealing"; seed 001.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    steps, runs = _check_positive_int(steps, "steps"), _check_positive_int(runs, "runs")
    if isinstance(noise, bool) or not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(decay, bool) or not (isinstance(decay, (int, float)) and 0 < decay <= 1):
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    sigmas = float(noise) * float(decay) ** np.arange(steps, dtype=np.float64)  # (steps,)
    x0 = np.asarray(surface.default_start if start is None else start, dtype=np.float64).reshape(-1)
    seed = _check_positive_int(seed, "seed", 0)
    # run freezes a diverged run at its last good iterate, so nothing is left to patch here
    traj = run(surface, optimizer, np.tile(x0, (runs, 1)), steps, None, sigmas, seed, record="path")
    return Annealing(traj.noise_sigmas, traj.xs, traj.losses, traj.diverged_step)


# -- fair comparison -------------------------------------------------------------------------------
def log_grid(low: float, high: float, n: int) -> np.ndarray:
    """``n`` learning rates evenly spaced in log between ``low`` and ``high``."""
    n = _check_positive_int(n, "n")
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
) -> list[Tuned]:
    """Search each optimizer's lr over the same grid (the same budget for all) in one ``gdviz.race``.

    The best lr ends within ``tol`` of the minimum value and gets there in the fewest steps; when no lr
    does, the lowest final loss wins. The final loss (not a short-horizon one) is what is judged, so a
    fast starter that stalls is not favoured. ``fixed_hyper[name]`` sets an optimizer's other
    hyper-parameters (registry defaults otherwise).
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    lrs = _axis_values(lr_grid, "lr_grid")
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
    trajectories = race(surface, optimizers, start, steps, None, noise, seed, record="path")
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
