"""The surface contract: a function with its exact gradient and Hessian, vectorized over a batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray


@dataclass(frozen=True, eq=False)
class Surface:
    """A test function f: R^dim -> R with exact derivatives.

    f: (..., dim) -> (...); grad: (..., dim) -> (..., dim); hessian: (..., dim) -> (..., dim, dim).
    bounds: one (low, high) per coordinate, a sensible plotting window.
    minima: (k, dim) known global minimizers (k may be 0 when none is known in closed form).
    f_min: the global minimum value (nan when unknown).
    local_minima: (j, dim) further known local minimizers, shown but not global.
    critical_points: (point, kind) pairs known in closed form, kind in minimum/maximum/saddle/degenerate.
    quadratic: True when f is a quadratic form, so the Hessian is constant and GD is stable for
    lr < 2/λmax.
    f_and_grad: optional x -> (f(x), grad(x)) in one pass, sharing the subexpressions; it must give
    exactly the bits of ``f`` and ``grad``. The run loop calls it through ``value_and_grad``.
    """

    name: str
    title: str
    dim: int
    f: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    hessian: Callable[[Array], Array]
    bounds: tuple[tuple[float, float], ...]
    minima: Array
    f_min: float
    default_start: tuple[float, ...]
    formula: str = ""  # LaTeX
    source: str = ""
    description: str = ""
    category: str = "classic"
    local_minima: Array = field(default_factory=lambda: np.zeros((0, 0)))
    critical_points: tuple[tuple[tuple[float, ...], str], ...] = ()
    quadratic: bool = False
    f_and_grad: Callable[[Array], tuple[Array, Array]] | None = None

    def __post_init__(self):
        if len(self.bounds) != self.dim:
            raise ValueError(f"{self.name}: bounds must have one (low, high) per dimension")

    def value_and_grad(self, x: Array) -> tuple[Array, Array]:
        """(f(x), grad(x)): one fused pass where the surface has one, else the two calls."""
        if self.f_and_grad is not None:
            return self.f_and_grad(x)
        return self.f(x), self.grad(x)

    def stable_lr(self) -> float | None:
        """2/λmax for a quadratic surface (GD diverges at and above it), else None."""
        if not self.quadratic:
            return None
        eigenvalues = np.linalg.eigvalsh(self.hessian(np.zeros(self.dim)))
        top = float(np.max(np.abs(eigenvalues)))
        return 2.0 / top if top > 0 else None

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, dim={self.dim})"
