"""Critical points of a surface: classify one by its Hessian, or find them all with Newton's method.

A point x with ∇f(x) = 0 is a minimum when the Hessian is positive definite, a maximum when it is
negative definite and a saddle when it has eigenvalues of both signs; when an eigenvalue is zero the
second-order test says nothing and the point is *degenerate* (the monkey saddle, x³ at 0).

Tolerances: a point is stationary when ‖∇f(x)‖ ≤ ``STATIONARY_TOL`` (1e-6, absolute). An eigenvalue
counts as zero when |λ| ≤ ``DEGENERATE_RTOL`` (1e-8) times the larger of the largest |λ| at x and the
surface's curvature scale (the median spectral norm of its Hessian over a 9-per-axis grid of its window).
The second term is what makes a vanishing Hessian degenerate: near x³'s inflection point f'' = 6x is
tiny but has a sign, and compared only with itself it would read as a minimum or a maximum.

References: Nocedal & Wright, *Numerical Optimization* (2nd ed.), theorems 2.3-2.4 (second-order
conditions) and section 3.3 (Newton's method); Dauphin et al., NeurIPS 2014 (Newton is attracted to
saddles as much as to minima, which is what lets it find all three kinds here).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from itertools import product

import numpy as np

from gdviz.surfaces.base import Surface

STATIONARY_TOL = 1e-6
DEGENERATE_RTOL = 1e-8
KINDS = ("minimum", "maximum", "saddle", "degenerate")


@dataclass(frozen=True, eq=False)
class CriticalPoint:
    """A point with its second-order classification.

    point (dim,); kind: minimum / maximum / saddle / degenerate; eigenvalues (dim,) of the Hessian in
    ascending order with the matching unit eigenvectors as the columns of (dim, dim); value f(point);
    grad_norm ‖∇f(point)‖; is_stationary: grad_norm ≤ STATIONARY_TOL; condition_number max|λ|/min|λ|
    (inf when an eigenvalue is 0).
    """

    point: np.ndarray
    kind: str
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    value: float
    grad_norm: float
    is_stationary: bool
    condition_number: float

    def __repr__(self) -> str:
        coords = ", ".join(f"{c:.6g}" for c in self.point)
        return f"CriticalPoint({self.kind} at ({coords}), f={self.value:.6g}, |grad|={self.grad_norm:.2g})"


_CURVATURE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def curvature_scale(surface: Surface) -> float:
    """The median spectral norm of the Hessian over a 9-per-axis grid of the window (cached per surface)."""
    if surface not in _CURVATURE:
        axes = [np.linspace(low, high, 9) for low, high in surface.bounds]
        grid = np.array(list(product(*axes)), dtype=np.float64)
        with np.errstate(all="ignore"):
            hessians = np.asarray(surface.hessian(grid), dtype=np.float64)
            norms = np.max(np.abs(np.linalg.eigvalsh(np.nan_to_num(hessians))), axis=-1)
        _CURVATURE[surface] = float(np.median(norms))
    return _CURVATURE[surface]


def _classify(eigenvalues: np.ndarray, scale: float) -> str:
    scale = max(float(np.max(np.abs(eigenvalues))), scale)
    if not np.isfinite(scale) or np.any(np.abs(eigenvalues) <= DEGENERATE_RTOL * scale):
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    if np.all(eigenvalues < 0):
        return "maximum"
    return "saddle"


def critical_point(surface: Surface, x) -> CriticalPoint:
    """Classify the point ``x`` (dim,) of ``surface`` by the eigenvalues of its Hessian there.

    The kind describes the curvature; whether x is actually stationary is ``is_stationary``.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    point = np.asarray(x, dtype=np.float64).reshape(-1)
    if point.shape != (surface.dim,):
        raise ValueError(f"x must have shape ({surface.dim},); got {np.shape(x)}")
    if not np.all(np.isfinite(point)):
        raise ValueError("x must be finite")
    hessian = np.asarray(surface.hessian(point), dtype=np.float64)
    grad_norm = float(np.linalg.norm(surface.grad(point)))
    if np.all(np.isfinite(hessian)):
        eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
    else:
        eigenvalues, eigenvectors = np.full(surface.dim, np.nan), np.full((surface.dim, surface.dim), np.nan)
    magnitudes = np.abs(eigenvalues)
    smallest = np.min(magnitudes)
    condition = float(np.max(magnitudes) / smallest) if smallest > 0 else float("inf")
    return CriticalPoint(
        point=point,
        kind=_classify(eigenvalues, curvature_scale(surface)),
        eigenvalues=eigenvalues,
        eigenvectors=eigenvectors,
        value=float(surface.f(point)),
        grad_norm=grad_norm,
        is_stationary=bool(grad_norm <= STATIONARY_TOL),
        condition_number=condition,
    )


def _newton_steps(hessian: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """-H⁻¹g for every row, through the eigen-decomposition so a singular H gives a long step, not an error.

    Eigenvalues keep their sign (Newton must be drawn to saddles and maxima too) but are kept at least
    1e-12 of the largest in magnitude.
    """
    broken = ~np.all(np.isfinite(hessian), axis=(-2, -1)) | ~np.all(np.isfinite(grad), axis=-1)
    sym = 0.5 * (hessian + np.swapaxes(hessian, -1, -2))
    sym[broken] = np.eye(hessian.shape[-1])  # eigh would raise on NaN; these rows get a NaN step instead
    eigenvalues, vectors = np.linalg.eigh(sym)  # (N, dim), (N, dim, dim)
    floor = np.maximum(1e-12 * np.max(np.abs(eigenvalues), axis=-1, keepdims=True), 1e-300)
    safe = np.where(eigenvalues < 0, -1.0, 1.0) * np.maximum(np.abs(eigenvalues), floor)
    along = np.einsum("nij,ni->nj", vectors, grad) / safe
    step = -np.einsum("nij,nj->ni", vectors, along)
    step[broken] = np.nan
    return step


def find_critical_points(
    surface: Surface,
    grid: int = 24,
    bounds=None,
    iterations: int = 100,
    tol: float = 1e-10,
) -> list[CriticalPoint]:
    """All critical points Newton's method reaches from a grid of starts, classified, sorted by f.

    ``grid`` starts per axis (cell centres of ``bounds``, default the surface's window) run up to
    ``iterations`` damped Newton steps at once: each step is capped at a tenth of the window's diagonal
    and halved until ‖∇f‖ decreases; a row stops when no halving decreases it (it has converged to
    rounding, or is stuck). Iterating past convergence is deliberate: at a degenerate point Newton only
    halves the distance per step, and the extra steps bring it close enough for its Hessian to read as
    singular. Rows ending with ‖∇f‖ ≤ ``tol`` times max(1, the median ‖∇f‖ over the starts) inside the
    bounds are kept; a point within 1e-6 of the window's diagonal of one already kept is a duplicate.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface)")
    for name, value in (("grid", grid), ("iterations", iterations)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    box = np.asarray(surface.bounds if bounds is None else bounds, dtype=np.float64)
    if box.shape != (surface.dim, 2) or not np.all(np.isfinite(box)) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"bounds must be {surface.dim} finite (low, high) pairs with low < high")
    low, high = box[:, 0], box[:, 1]
    width = high - low
    diagonal = float(np.linalg.norm(width))
    axes = [lo + (np.arange(grid) + 0.5) * w / grid for lo, w in zip(low, width, strict=True)]
    x = np.array(list(product(*axes)), dtype=np.float64)  # (grid**dim, dim)

    with np.errstate(all="ignore"):  # rows that overflow are masked out below, never used
        grad = np.asarray(surface.grad(x), dtype=np.float64)
        norm = np.linalg.norm(grad, axis=-1)
        alive = np.isfinite(norm)
        threshold = tol * max(1.0, float(np.median(norm[alive]))) if alive.any() else tol
        moving = alive & (norm > 0)
        for _ in range(iterations):
            rows = np.flatnonzero(moving)
            if rows.size == 0:
                break
            step = _newton_steps(np.asarray(surface.hessian(x[rows]), dtype=np.float64), grad[rows])
            length = np.linalg.norm(step, axis=-1, keepdims=True)
            finite = np.all(np.isfinite(step), axis=-1)
            step = np.where(finite[:, None], step * np.minimum(1.0, 0.1 * diagonal / np.maximum(length, 1e-300)), 0.0)
            accepted = np.zeros(rows.size, dtype=bool)
            for _halving in range(30):
                trial = x[rows] + step
                trial_grad = np.asarray(surface.grad(trial), dtype=np.float64)
                trial_norm = np.linalg.norm(trial_grad, axis=-1)
                better = ~accepted & finite & np.isfinite(trial_norm) & (trial_norm < norm[rows])
                won = rows[better]
                x[won], grad[won], norm[won] = trial[better], trial_grad[better], trial_norm[better]
                accepted |= better
                if accepted.all():
                    break
                step = 0.5 * step
            moving[rows[~accepted]] = False
            moving &= norm > 0
            # an iterate a whole window away from it is not coming back
            gone = np.any((x < low - width) | (x > high + width), axis=-1)
            moving &= ~gone

    inside = np.all((x >= low - 1e-9 * width) & (x <= high + 1e-9 * width), axis=-1)
    converged = alive & inside & (norm <= threshold)
    candidates = x[converged][np.argsort(norm[converged], kind="stable")]
    kept: list[np.ndarray] = []
    for point in candidates:
        if not kept or np.min(np.linalg.norm(np.array(kept) - point, axis=-1)) > 1e-6 * diagonal:
            kept.append(point)
    found = [critical_point(surface, point) for point in kept]
    return sorted(found, key=lambda c: c.value)
