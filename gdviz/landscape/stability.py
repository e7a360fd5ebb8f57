"""Stability maps: the final loss over a grid of two hyper-parameters, from one start.

The picture of Distill's "Why Momentum Really Works": e.g. lr against momentum, where the region that
converges is bounded by the analytic limit lr < 2(1 + μ)/λmax on a quadratic. All ``len(x) * len(y)``
settings are one swept :func:`gdviz.run` (each hyper-parameter an (R,) column), recording only the end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import finite_vector, require_surface
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.params import HyperParam
from gdviz.run import run
from gdviz.schedules.base import Schedule
from gdviz.surfaces.base import Surface

# a sweep axis: a hyper-parameter's name, or one half of a pair such as "betas[1]"
_AXIS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([01])\])?$")


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
    should_stop: Callable[[], bool] | None = None,
) -> StabilityMap:
    """Run ``optimizer_name`` from one start for every pair of values of two hyper-parameters.

    ``axis_x``/``axis_y`` are ``(name, values)`` with a name from :func:`sweep_axes`; the other
    hyper-parameters are ``fixed_hyper`` (registry defaults where absent). One ``gdviz.run`` call with
    ``record="final"`` does all ``len(x) * len(y)`` runs. ``steps`` of the result is the steps done.
    ``should_stop`` (no arguments, asked every few steps) ends the runs early once it returns True: the
    result then holds the steps done (see :func:`gdviz.race`).
    """
    require_surface(surface)
    cls = optimizer_class(optimizer_name)
    (x_name, x_raw), (y_name, y_raw) = axis_x, axis_y
    for axis in (x_name, y_name):
        axis_spec(cls.name, axis)
    if x_name == y_name:
        raise ValueError(f"the two axes must differ; both are {x_name!r}")
    x_values, y_values = finite_vector(x_raw, f"values of {x_name}"), finite_vector(y_raw, f"values of {y_name}")
    fixed = dict(fixed_hyper or {})
    for axis in (x_name, y_name):
        if "[" not in axis:
            fixed.pop(axis, None)
    grid_x, grid_y = np.meshgrid(x_values, y_values)  # (ny, nx)
    hyper = _swept_hyper(cls, fixed, {x_name: grid_x.ravel(), y_name: grid_y.ravel()})
    opt = cls(max_grad_norm=max_grad_norm, **hyper)
    traj = run(surface, opt, start, steps, schedule, noise, seed, batch_size, record="final", should_stop=should_stop)
    shape = grid_x.shape
    # a 1 x 1 grid (from = to on both axes) is a single run, whose arrays have no run axis: give them one
    losses, xs = traj.losses.reshape(2, -1), traj.xs.reshape(2, -1, surface.dim)
    final_loss = losses[-1].reshape(shape)
    start_loss = float(losses[0, 0])
    f_ref = surface.f_min if math.isfinite(surface.f_min) else min(start_loss, float(np.min(final_loss)))
    return StabilityMap(
        optimizer=cls.name,
        fixed=fixed,
        x_name=x_name,
        y_name=y_name,
        x_values=x_values,
        y_values=y_values,
        final_loss=final_loss,
        final_x=xs[-1].reshape(shape + (surface.dim,)),
        diverged_at=traj.diverged_step.reshape(shape),
        start=xs[0, 0].copy(),
        start_loss=start_loss,
        f_ref=float(f_ref),
        steps=int(steps if traj.stopped_after is None else traj.stopped_after),
        seconds=traj.seconds,
    )
