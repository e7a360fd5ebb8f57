r"""One 2-D plane through weight space for all the paths, and how far the paths are from it (NumPy only).

A plane is an origin :math:`o` and two directions :math:`b_1, b_2` (the rows of ``basis``); a weight
vector :math:`\theta` is drawn at the coordinates :math:`c = \arg\min_c \lVert \theta - o - B^\top c \rVert`
and lies :math:`\lVert \theta - o - B^\top c \rVert` away from the plane — the part of the path the
picture cannot show.

- :func:`pca_plane`: the two principal directions of the pooled iterates of every path, through their
  mean (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets", §7, for one path).
- :func:`random_plane`: two Gaussian directions, each "filter" (a weight matrix's row: one unit's
  incoming weights) rescaled to the norm of that filter at the centre, biases left out — Li et al.'s
  filter normalisation, which makes planes of differently scaled networks comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# iterates the PCA is fitted on at most (evenly spaced along each path, ends kept): the Gram matrix costs
# rows² × weights (a second of one core at the page's caps), and neighbouring iterates of a smooth path add
# nothing to the plane
PCA_MAX_ROWS = 800


@dataclass(frozen=True)
class Plane:
    """``origin`` (P,), ``basis`` (2, P); ``explained`` (2,): each direction's share of the variance of the
    iterates it was fitted on (PCA), NaN for random directions; ``kind``: "pca" or "random"."""

    kind: str
    origin: np.ndarray
    basis: np.ndarray
    explained: np.ndarray

    def project(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates (k, 2) of the weights (k, P) on the plane, and each one's distance (k,) from it."""
        W = np.atleast_2d(np.asarray(weights, dtype=np.float64)) - self.origin
        B = self.basis
        coords = np.linalg.solve(B @ B.T, B @ W.T).T  # least squares: the directions need not be orthonormal
        residual = W - coords @ B
        return coords, np.linalg.norm(residual, axis=1)

    def points(self, coords: np.ndarray) -> np.ndarray:
        """Weights (k, P) at plane coordinates (k, 2)."""
        return self.origin + np.asarray(coords, dtype=np.float64) @ self.basis


def captured_share(plane: Plane, weights: np.ndarray) -> float:
    """The share of the iterates' variance (about their mean) that lies along the plane: 1 when every path
    lies in it, the two explained-variance ratios' sum for the PCA plane of these very iterates."""
    total, along = variance_split(plane, weights)
    return 1.0 if total == 0.0 else along / total


# iterates (rows) :func:`variance_split` takes at once: their float64 copy, about 2 MB, stays in the cache. Whole
# copies of 4,004 iterates × 1,185 weights (three, 38 MB each) took a quarter of a second, most of it the
# fresh memory's page faults, where these blocks take about a tenth of that
BLOCK_VALUES = 2**18


def variance_split(plane: Plane, weights: np.ndarray) -> tuple[float, float]:
    """(total, along) of the iterates ``weights`` (k, P): the sum of their squared distances from their mean,
    and the part of it along the plane (the squared norm of each centred iterate's projection onto it)."""
    W = np.atleast_2d(np.asarray(weights))
    mean = W.mean(axis=0, dtype=np.float64)
    B = plane.basis
    gram = B @ B.T
    step = max(1, BLOCK_VALUES // max(W.shape[1], 1))
    total = along = 0.0
    for lo in range(0, len(W), step):
        centred = W[lo : lo + step] - mean  # float64, whatever the rows' precision
        total += float(np.einsum("ij,ij->", centred, centred))
        shadow = centred @ B.T  # (rows, 2)
        along += float(np.sum(shadow * np.linalg.solve(gram, shadow.T).T))
    return total, along


def _pooled(paths: Sequence[np.ndarray]) -> np.ndarray:
    rows = [np.atleast_2d(np.asarray(p, dtype=np.float64)) for p in paths if len(p)]
    if not rows:
        raise ValueError("no iterates to fit a plane to")
    width = {r.shape[1] for r in rows}
    if len(width) != 1:
        raise ValueError(f"the paths have different numbers of weights: {sorted(width)}")
    return np.concatenate(rows)


def _thinned(paths: Sequence[np.ndarray], most: int) -> list[np.ndarray]:
    """Each path cut to its share of ``most`` rows, evenly spaced, its first and last kept."""
    total = sum(len(p) for p in paths)
    if total <= most:
        return list(paths)
    out = []
    for p in paths:
        keep = max(2, int(most * len(p) / total))
        out.append(p[np.unique(np.round(np.linspace(0, len(p) - 1, keep)).astype(int))] if len(p) > keep else p)
    return out


def _complete(basis: np.ndarray, dim: int) -> np.ndarray:
    """``basis`` (k <= 2, P) orthonormal, completed to two orthonormal rows (paths with no spread in a direction)."""
    rows = list(basis)
    for axis in range(dim):
        if len(rows) == 2:
            break
        candidate = np.zeros(dim)
        candidate[axis] = 1.0
        for r in rows:
            candidate -= (candidate @ r) * r
        norm = np.linalg.norm(candidate)
        if norm > 1e-6:
            rows.append(candidate / norm)
    return np.array(rows)


def pca_plane(paths: Sequence[np.ndarray]) -> Plane:
    """The plane of the first two principal components of every path's iterates pooled (rows of (k_r, P)),
    through their mean. ``explained``: each component's share of the pooled variance, as numpy's SVD gives it.

    Computed from the smaller of the two Gram matrices (rows × rows or weights × weights) with ``eigh``: the
    same components as the SVD, and a steady cost, where LAPACK's SVD of highly correlated iterates (a
    smooth path) took seconds for a few hundred rows."""
    pooled = _pooled(_thinned(paths, PCA_MAX_ROWS))
    rows, dim = pooled.shape
    if dim < 2:
        raise ValueError("a plane needs at least two weights")
    mean = pooled.mean(axis=0)
    centred = pooled - mean
    if rows <= dim:
        values, vectors = np.linalg.eigh(centred @ centred.T)  # ascending
        top = vectors[:, ::-1][:, :2].T @ centred  # (2, P) along the components, scaled by the singular values
    else:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        top = vectors[:, ::-1][:, :2].T
    variance = np.clip(values[::-1], 0.0, None)
    total = float(variance.sum())
    keep = [k for k in range(min(2, len(variance))) if variance[k] > 1e-20 * max(variance[0], 1e-300)]
    directions = np.array([top[k] / np.linalg.norm(top[k]) for k in keep]).reshape(len(keep), dim)
    basis = _complete(directions, dim)
    explained = np.array([variance[k] / total if k in keep and total > 0 else 0.0 for k in range(2)])
    return Plane("pca", mean, basis, explained)


def filter_normalized(direction: np.ndarray, centre: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> np.ndarray:
    """``direction`` (P,) with each filter rescaled to the norm of the same filter of ``centre`` (P,), biases 0.

    Filters are the rows of each weight matrix (one unit's incoming weights); a bias (a 1-D parameter) gets
    no direction, as Li et al.'s default ``--xignore biasbn``."""
    out = np.array(direction, dtype=np.float64)
    offset = 0
    for shape in shapes:
        size = int(np.prod(shape))
        part = out[offset : offset + size]
        if len(shape) == 1:
            part[:] = 0.0
        else:
            rows = part.reshape(shape[0], -1)
            target = np.asarray(centre[offset : offset + size], dtype=np.float64).reshape(shape[0], -1)
            rows *= (np.linalg.norm(target, axis=1) / (np.linalg.norm(rows, axis=1) + 1e-10))[:, None]
        offset += size
    if offset != out.size:
        raise ValueError(f"the shapes hold {offset} weights but the direction has {out.size}")
    return out


def random_plane(centre: np.ndarray, shapes: Sequence[tuple[int, ...]], seed: int = 0) -> Plane:
    """Two filter-normalized Gaussian directions (drawn with ``seed``) through ``centre`` (P,)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Invalid seed: {seed!r} (must be an integer >= 0)")
    centre = np.asarray(centre, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    basis = np.array([filter_normalized(rng.standard_normal(centre.size), centre, shapes) for _ in range(2)])
    gram = basis @ basis.T
    if not np.isfinite(gram).all() or abs(np.linalg.det(gram)) <= 1e-12 * max(float(np.trace(gram)) ** 2, 1e-300):
        raise ValueError(
            "the filter-normalized directions are degenerate here (the centre's weights are all zero): "
            "choose another centre or the PCA plane"
        )
    return Plane("random", centre, basis, np.full(2, np.nan))
