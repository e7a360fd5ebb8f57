"""The race's paths on one plane: the plane, the loss over a grid on it, and how faithful the picture is.

For every iterate of every path: its coordinates on the plane, its distance from the plane, and the loss
*on the plane* under it (the loss at the projected point, evaluated exactly, not read off the grid). The
recorded loss beside that one tells where the 2-D picture misleads: a path that seems to climb a contour
while its true loss falls is moving through the dimensions the plane leaves out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.network.data import Dataset
from gdviz.network.grid import Evaluator
from gdviz.network.plane import Plane, pca_plane, random_plane, variance_split
from gdviz.network.training import Paths

PLANES = ("pca", "random")
CENTRES = ("start", "best")  # a random plane's centre: the shared start, or the end with the lowest loss
MIN_GRID, MAX_GRID = 3, 201


@dataclass
class Landscape:
    """alphas (na,), betas (nb,), losses (nb, na): the loss over the grid (row j at β = betas[j]).
    Per racer r: coords[r] (k_r + 1, 2), distances[r] (k_r + 1,) from the plane, plane_losses[r] (k_r + 1,)
    the loss at the projected point. ``captured``: the share of all iterates' variance along the plane;
    ``spread``: their root-mean-square distance from their mean, the scale the distances compare with."""

    plane: Plane
    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    coords: list[np.ndarray]
    distances: list[np.ndarray]
    plane_losses: list[np.ndarray]
    captured: float
    spread: float
    seconds: float


def window(
    coords: list[np.ndarray], margin: float = 0.2, include_origin: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The rectangle (lo (2,), hi (2,)) around every path's coordinates, ``margin`` of its span added each side."""
    points = np.concatenate([c for c in coords if len(c)] or [np.zeros((1, 2))])
    if include_origin:
        points = np.vstack([points, np.zeros((1, 2))])
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = hi - lo
    span = np.where(span > 0, span, np.maximum(np.abs(hi), 1e-3))  # a path with no extent in one direction
    span = np.maximum(span, 0.05 * span.max())  # a sliver of a window would draw an unreadable picture
    centre = (lo + hi) / 2
    half = span * (0.5 + margin)
    return centre - half, centre + half


def make_plane(paths: Paths, kind: str = "pca", centre: str = "start", direction_seed: int = 0) -> Plane:
    """The PCA plane of every path's iterates, or filter-normalized random directions through ``centre``."""
    if kind == "pca":
        return pca_plane(paths.weights)
    if kind != "random":
        raise ValueError(f"Unknown plane {kind!r}; choose one of {list(PLANES)}")
    if centre == "start":
        point = paths.init
    elif centre == "best":
        ends = [(float(loss[-1]), w[-1]) for loss, w in zip(paths.losses, paths.weights) if len(w)]
        point = min(ends, key=lambda item: item[0])[1]
    else:
        raise ValueError(f"Unknown centre {centre!r}; choose one of {list(CENTRES)}")
    return random_plane(point, paths.spec.shapes, direction_seed)


def landscape(
    paths: Paths,
    data: Dataset,
    *,
    plane: str = "pca",
    grid: int = 41,
    centre: str = "start",
    direction_seed: int = 0,
    margin: float = 0.2,
    device: Any = "cpu",
) -> Landscape:
    """The paths projected onto one plane and the loss on a ``grid`` × ``grid`` lattice around them."""
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or not MIN_GRID <= grid <= MAX_GRID:
        raise ValueError(f"Invalid grid: {grid!r} (an integer from {MIN_GRID} to {MAX_GRID})")
    surface = make_plane(paths, plane, centre, direction_seed)
    projected = [surface.project(w) if len(w) else (np.zeros((0, 2)), np.zeros(0)) for w in paths.weights]
    coords = [c for c, _ in projected]
    lo, hi = window(coords, margin, include_origin=plane == "random")
    alphas, betas = np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)
    evaluator = Evaluator(paths.spec, data, device)
    started = time.perf_counter()
    losses = evaluator.plane_losses(surface, alphas, betas)
    seconds = time.perf_counter() - started
    counts = [len(c) for c in coords]
    under = np.split(evaluator.losses_on_plane(surface, np.concatenate(coords)), np.cumsum(counts)[:-1])
    pooled = np.concatenate([w for w in paths.weights if len(w)])
    total, along = variance_split(surface, pooled)
    return Landscape(
        plane=surface,
        alphas=alphas,
        betas=betas,
        losses=losses,
        coords=coords,
        distances=[d for _, d in projected],
        plane_losses=list(under),
        captured=1.0 if total == 0.0 else along / total,
        spread=float(np.sqrt(total / len(pooled))),
        seconds=seconds,
    )
