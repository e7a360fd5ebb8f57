"""Helpers the surface modules share: split a batch of points into coordinates, stack derivatives back.

Every surface takes x of shape (..., dim) and works on its coordinates x[..., i] (each of shape (...)),
so one formula serves a single point, a batch of runs (R, dim) and a grid (S, R, dim) alike.
"""

from __future__ import annotations

import functools

import numpy as np

from gdviz.surfaces.base import Surface


def coords(x) -> tuple[np.ndarray, ...]:
    """The coordinates of x (..., dim) as float64 arrays of shape (...): integer input cannot overflow."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] == 2:  # most surfaces; the run loop calls this every step
        return x[..., 0], x[..., 1]
    return tuple(x[..., i] for i in range(x.shape[-1]))


def vector(*parts) -> np.ndarray:
    """Stack per-coordinate parts (each (...) or a constant) into (..., dim).

    Filled column by column into one array: np.stack with broadcasting costs several times more,
    and the run loop calls this once per step.
    """
    shapes = [part.shape if isinstance(part, np.ndarray) else np.shape(part) for part in parts]
    shape = shapes[0]
    if shapes.count(shape) != len(shapes):
        # a constant among arrays (np.broadcast_shapes costs more than the rest of this function)
        shape = np.broadcast_shapes(*shapes)
    out = np.empty(shape + (len(parts),))
    for i, part in enumerate(parts):
        out[..., i] = part
    return out


def matrix(rows, like) -> np.ndarray:
    """Stack a nested list of entries (each (...) or a constant) into (..., n, n), shaped like ``like``."""
    shape = np.shape(like)
    return np.stack(
        [np.stack([np.broadcast_to(np.asarray(e, dtype=np.float64), shape) for e in row], axis=-1) for row in rows],
        axis=-2,
    )


def sym2(xx, xy, yy, like) -> np.ndarray:
    """The symmetric 2×2 matrix [[xx, xy], [xy, yy]] for every point: (..., 2, 2)."""
    return matrix([[xx, xy], [xy, yy]], like)


def points(rows, dim: int) -> np.ndarray:
    """A (k, dim) float64 array of points (k may be 0)."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, dim)


def kind_of(negative: int, dim: int = 2) -> str:
    """The kind of a nondegenerate critical point with ``negative`` directions of negative curvature."""
    return "minimum" if negative == 0 else "maximum" if negative == dim else "saddle"


def _as_batch(fn):
    """Evaluate a single point (dim,) as a batch of one, so it gets bit for bit the value it gets in a batch.

    NumPy computes powers and transcendentals of a lone scalar on another code path than those of an
    array (the SIMD loops), and the results can differ in the last bit; a torch reference run that
    evaluates one point at a time must see exactly what the batched run loop sees.
    """

    @functools.wraps(fn)
    def evaluate(x):
        x = np.asarray(x, dtype=np.float64)
        return fn(x[None])[0] if x.ndim == 1 else fn(x)

    return evaluate


def _as_batch_pair(fn):
    """``_as_batch`` for a function returning (value, gradient)."""

    @functools.wraps(fn)
    def evaluate(x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            value, gradient = fn(x[None])
            return value[0], gradient[0]
        return fn(x)

    return evaluate


def build(*, f, grad, hessian, f_and_grad=None, **fields) -> Surface:
    """A Surface whose f, grad, hessian (and fused f_and_grad) give a single point the same bits as a batch."""
    fused = None if f_and_grad is None else _as_batch_pair(f_and_grad)
    return Surface(f=_as_batch(f), grad=_as_batch(grad), hessian=_as_batch(hessian), f_and_grad=fused, **fields)
