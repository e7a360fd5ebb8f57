"""Data for the regression: the notes' synthetic set, tensors on a device, and the closed-form reference."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gdviz.regression.cost import lstsq_seconds

if TYPE_CHECKING:
    import torch

DTYPES = ("float32", "float64")
SINGULAR = "XᵀX is singular (a constant or duplicated column, or fewer rows than features): no unique solution"


def torch_dtype(dtype: Any) -> torch.dtype:
    """``"float32"`` / ``"float64"`` (or the torch / NumPy dtype) as a torch dtype; other dtypes are refused."""
    import torch

    if isinstance(dtype, torch.dtype):
        name = str(dtype).removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = str(dtype)
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {list(DTYPES)}, got {dtype!r}")
    return getattr(torch, name)


def _int(value: Any, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"Invalid {name} value: {value} (must be at least {low})")
    return int(value)


def _finite(value: Any, name: str, positive: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"Invalid {name} value: {value} (must be finite and {'> 0' if positive else '>= 0'})")
    return value


def make_data(
    n: int,
    d: int = 1,
    w: Any = None,
    b: float = 1.0,
    noise: float = 2.0,
    seed: int = 0,
    *,
    x_scale: float = 10.0,
    dtype: Any = "float32",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The notes' data: :math:`y = Xw + b + \varepsilon`, :math:`X \sim x_{scale}\,N(0, 1)`, :math:`\varepsilon \sim N(0, \sigma^2)`.

    Returns ``X`` (n, d) and ``y`` (n, 1) — the shape ``nn.Linear(d, 1)`` and ``nn.MSELoss`` expect —
    on the CPU. ``w=None`` means 2 for every feature (the notes' w = 2). The numbers are those of
    ``torch.manual_seed(seed); X = torch.randn(n, d) * 10; y = X @ w + b + torch.randn(n, 1) * 2``, so
    ``make_data(100, seed=s)`` is the notes' experiment after ``torch.manual_seed(s)``, bit for bit.

    References: the notes on gradient descent (linear regression with ``nn.Linear(1, 1)``).
    """
    import torch

    n, d, seed = _int(n, "n", 1), _int(d, "d", 1), _int(seed, "seed", 0)
    noise, x_scale, b = _finite(noise, "noise"), _finite(x_scale, "x_scale", positive=True), float(b)
    if not math.isfinite(b):
        raise ValueError(f"Invalid b value: {b} (must be finite)")
    weights = np.full(d, 2.0) if w is None else np.atleast_1d(np.asarray(w, dtype=np.float64))
    if weights.shape != (d,) or not np.all(np.isfinite(weights)):
        raise ValueError(f"w must be {d} finite number(s), got {w!r}")
    kind = torch_dtype(dtype)
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator, dtype=kind) * x_scale
    y = (
        X @ torch.as_tensor(weights, dtype=kind).reshape(d, 1)
        + b
        + torch.randn(n, 1, generator=generator, dtype=kind) * noise
    )
    return X, y


def as_2d(X: Any, y: Any) -> tuple[Any, Any]:
    """``X`` as (n, d) and ``y`` as (n, 1) tensors (NumPy arrays are shared, not copied); shapes checked."""
    import torch

    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if X.ndim != 2 or y.ndim != 2 or y.shape[1] != 1:
        raise ValueError(f"X must be (n, d) and y (n,) or (n, 1); got X {tuple(X.shape)} and y {tuple(y.shape)}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have as many rows: X has {X.shape[0]}, y has {y.shape[0]}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one row and one column, got {tuple(X.shape)}")
    if not (X.is_floating_point() or X.dtype in (torch.int32, torch.int64)) or not (
        y.is_floating_point() or y.dtype in (torch.int32, torch.int64)
    ):
        raise ValueError(f"X and y must be numbers, got {X.dtype} and {y.dtype}")
    return X, y


@dataclass(frozen=True)
class ClosedForm:
    """The least-squares solution by ``torch.linalg.lstsq`` and by the normal equation, with their times.

    ``weight`` (d,) and ``bias`` are lstsq's (the reference); ``loss`` is the MSE there.
    ``normal_weight``/``normal_bias`` are None, with ``normal_error`` saying why, when XᵀX is singular.
    ``lstsq_skipped``: lstsq was not run (its estimated cost was over ``solve``'s ``max_lstsq_seconds``);
    ``seconds`` is then NaN and the reference is the normal equation's solution, or the pseudo-inverse of
    XᵀX applied to Xᵀy (the minimum-norm solution) when XᵀX is singular — ``method`` says which.
    """

    weight: np.ndarray
    bias: float
    loss: float
    seconds: float
    normal_weight: np.ndarray | None
    normal_bias: float | None
    normal_seconds: float
    normal_error: str
    device: str
    lstsq_skipped: bool = False
    method: str = "lstsq"

    def distance(self, weight: np.ndarray, bias: float) -> float:
        """Euclidean distance of (weight, bias) to the least-squares solution."""
        delta = np.append(np.asarray(weight, dtype=np.float64) - self.weight, float(bias) - self.bias)
        return float(np.linalg.norm(delta))


def solve(X: Any, y: Any, device: Any = None, max_lstsq_seconds: float | None = None) -> ClosedForm:
    r"""Least squares with an intercept, in float64, two ways, each timed.

    .. math::
        \min_{w, b} \tfrac1n \lVert Xw + b - y \rVert^2: \quad
        \texttt{lstsq}([X, 1], y) \quad\text{and}\quad [X, 1]^\top [X, 1]\,\theta = [X, 1]^\top y

    The normal equation costs O(n d² + d³) and squares the condition number; lstsq (QR / SVD) is the
    stable way. Either is exact, which is why nobody trains a linear model with SGD when d is small —
    and why, when d is large, the O(d³) solve is what SGD avoids (notes on gradient descent). On MPS (no float64) the
    solve runs on the CPU.

    ``max_lstsq_seconds``: lstsq is skipped when its estimated CPU cost
    (:func:`gdviz.regression.cost.lstsq_seconds`, ~1 s at 10,000 × 1,000) is over it; the normal equation,
    ~5 times cheaper (a matrix product and a (d+1)² solve), is then the reference (``lstsq_skipped``).

    References: notes on linear regression (closed form vs gradient descent); Golub & Van Loan, "Matrix Computations", 5.3.
    """
    import torch

    from gdviz.regression.device import synchronize

    X, y = as_2d(X, y)
    where = X.device if device is None else torch.device(device)
    if where.type == "mps":
        where = torch.device("cpu")
    n, d = X.shape
    y64 = y.to(where, torch.float64)

    skip = max_lstsq_seconds is not None and lstsq_seconds(n, d) > max_lstsq_seconds
    synchronize(where)
    start = time.perf_counter()
    # [X, 1] in float64, written in place: no separate float64 copy of X and column of ones next to it
    Z = torch.empty(n, d + 1, dtype=torch.float64, device=where)
    Z[:, :d].copy_(X)
    Z[:, d] = 1.0
    theta = None
    if not skip:
        # CPU: gelsd (SVD) copes with rank-deficient X (a constant column); CUDA offers only gels (QR)
        driver = "gelsd" if where.type == "cpu" else None
        theta = torch.linalg.lstsq(Z, y64, driver=driver).solution[:, 0]
    synchronize(where)
    seconds = math.nan if skip else time.perf_counter() - start

    synchronize(where)
    start = time.perf_counter()
    # the bordered Gram matrix [X 1]ᵀ[X 1] (XᵀX, the column sums and n) and [X 1]ᵀy
    X64 = Z[:, :d]  # a view
    gram = torch.empty(d + 1, d + 1, dtype=torch.float64, device=where)
    gram[:-1, :-1] = X64.T @ X64
    column_sums = X64.sum(0)
    gram[:-1, -1] = column_sums
    gram[-1, :-1] = column_sums
    gram[-1, -1] = n
    rhs = torch.cat([X64.T @ y64[:, 0], y64.sum(0)])
    try:
        normal = torch.linalg.solve(gram, rhs)
    except RuntimeError:  # an exactly singular pivot
        normal = None
    synchronize(where)
    normal_seconds = time.perf_counter() - start
    # solve() rarely notices a numerically singular XᵀX: it returns one of infinitely many solutions
    if normal is not None and int(torch.linalg.matrix_rank(gram, hermitian=True)) < gram.shape[0]:
        normal = None
    normal_error = "" if normal is not None else SINGULAR
    method = "lstsq"
    if theta is None:  # lstsq skipped: the normal equation's solution, or the minimum-norm one of a singular XᵀX
        method = "normal equation" if normal is not None else "pseudo-inverse of XᵀX"
        theta = normal if normal is not None else torch.linalg.pinv(gram, hermitian=True) @ rhs

    residual = Z @ theta - y64[:, 0]
    loss = float((residual @ residual) / n)
    weight = theta[:-1].cpu().numpy()
    return ClosedForm(
        weight=weight,
        bias=float(theta[-1]),
        loss=loss,
        seconds=seconds,
        normal_weight=None if normal is None else normal[:-1].cpu().numpy(),
        normal_bias=None if normal is None else float(normal[-1]),
        normal_seconds=normal_seconds,
        normal_error=normal_error,
        device=str(where),
        lstsq_skipped=skip,
        method=method,
    )


def closed_form(X: Any, y: Any, method: str = "lstsq") -> tuple[np.ndarray, float]:
    """The least-squares ``(weight (d,), bias)`` by ``"lstsq"`` or the ``"normal"`` equation (float64)."""
    if method not in ("lstsq", "normal"):
        raise ValueError(f"method must be 'lstsq' or 'normal', got {method!r}")
    found = solve(X, y)
    if method == "lstsq":
        return found.weight, found.bias
    if found.normal_weight is None:
        raise ValueError(f"The normal equation fails: {found.normal_error}; use method='lstsq'")
    return found.normal_weight, float(found.normal_bias)


def mse_moments(X: Any, y: Any) -> dict[str, float]:
    r"""Sufficient statistics of the MSE of a one-feature model, to draw its (w, b) landscape on any grid.

    .. math::
        L(w, b) = w^2 \overline{x^2} + 2wb\,\bar x + b^2 - 2w\,\overline{xy} - 2b\,\bar y + \overline{y^2}
    """
    X, y = as_2d(X, y)
    if X.shape[1] != 1:
        raise ValueError(f"the (w, b) landscape needs one feature, got {X.shape[1]}")
    x, t = X[:, 0].double(), y[:, 0].double()
    return {
        "xx": float((x * x).mean()),
        "x": float(x.mean()),
        "xy": float((x * t).mean()),
        "y": float(t.mean()),
        "yy": float((t * t).mean()),
    }


def mse_on_grid(moments: dict[str, float], w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The MSE at every (w, b) of broadcastable arrays, from :func:`mse_moments` (NumPy, exact up to rounding)."""
    m = moments
    value = w * w * m["xx"] + 2 * w * b * m["x"] + b * b - 2 * w * m["xy"] - 2 * b * m["y"] + m["yy"]
    return np.maximum(value, 0.0)
