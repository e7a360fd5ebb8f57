"""Argument checks the landscape experiments share: each raises a ValueError that names the argument.

The experiments take user input straight from the Landscape Lab's widgets and links, so they check it
here, before a vectorized run of thousands of starts would fail somewhere less readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdviz.surfaces.base import Surface


def require_surface(surface: Any) -> None:
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")


def int_at_least(value: Any, name: str, low: int = 1) -> int:
    """``value`` as an int; bools are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def finite_vector(values: Any, what: str) -> np.ndarray:
    """(n,) float64, n >= 1: the values of a sweep axis or a grid of learning rates."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be a non-empty 1-D array of finite numbers")
    return array


def window_box(surface: Surface, bounds: Any) -> np.ndarray:
    """(dim, 2) rows of (low, high): ``bounds``, or the surface's plotted window when it is None."""
    box = np.asarray(surface.bounds if bounds is None else bounds, dtype=np.float64)
    if box.shape != (surface.dim, 2) or not np.all(np.isfinite(box)) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"bounds must be {surface.dim} finite (low, high) pairs with low < high")
    return box
