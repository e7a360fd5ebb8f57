"""The Linear Regression page's cached computations (Streamlit's cache, a progress bar while training).

They wrap ``gdviz.regression`` in ``st.cache_data`` keyed by every input (data described by a short
key, the arrays passed unhashed), bounded by :mod:`ui.limits`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from gdviz import regression as reg
from ui import limits


# -- coordinates -------------------------------------------------------------------------------------
def to_original(params: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Training-coordinate rows (k, d + 1) as (weight, bias) rows in the units of the raw features."""
    params = np.atleast_2d(params)
    weights = params[:, :-1] / std
    bias = params[:, -1] - weights @ mean
    return np.column_stack([weights, bias])


# -- cached computations (Streamlit) --------------------------------------------------------------------
CACHE = dict(max_entries=limits.REGRESSION_CACHE_MAX_ENTRIES, show_spinner=False)
PROGRESS_UPDATES = 25


def _bar(text: str):
    """A progress callback that moves a bar at most PROGRESS_UPDATES times (each move is replayed from the cache)."""
    bar = st.progress(0.0, text=text)
    last = [-1.0]

    def report(fraction: float, message: str) -> None:
        if fraction - last[0] >= 1.0 / PROGRESS_UPDATES or fraction >= 1.0:
            last[0] = fraction
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"{text} {message}")

    return bar, report


@st.cache_data(max_entries=limits.REGRESSION_DATA_CACHE_MAX_ENTRIES, show_spinner=False)
def synthetic(
    n: int, d: int, w: float, b: float, noise: float, x_scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The seed's data as NumPy float32 arrays X (n, d), y (n,)."""
    X, y = reg.make_data(n, d, w=[w] * d, b=b, noise=noise, seed=seed, x_scale=x_scale)
    return X.numpy(), y.numpy()[:, 0]


@st.cache_data(max_entries=limits.REGRESSION_DATA_CACHE_MAX_ENTRIES, show_spinner=False)
def parsed(data: bytes) -> reg.Table:
    """The uploaded bytes as a validated table (a :class:`gdviz.regression.CSVError` is not cached)."""
    return reg.parse_csv(
        data,
        max_bytes=limits.MAX_UPLOAD_BYTES,
        max_rows=limits.MAX_UPLOAD_ROWS,
        max_columns=limits.REGRESSION_MAX_UPLOAD_COLUMNS,
    )


@st.cache_data(**CACHE)
def closed_form(data_key: str, _X: np.ndarray, _y: np.ndarray) -> reg.ClosedForm:
    return reg.solve(_X.astype(np.float64, copy=False), _y.astype(np.float64, copy=False))


@st.cache_data(**CACHE)
def landscape_moments(data_key: str, standardize: bool, _X: np.ndarray, _y: np.ndarray) -> dict[str, float]:
    x = _X[:, :1].astype(np.float64)
    if standardize:
        std = x.std()
        x = (x - x.mean()) / (std if std > 0 else 1.0)
    return reg.mse_moments(x, _y.astype(np.float64))


@st.cache_data(**CACHE)
def trained(data_key: str, settings: tuple[tuple[str, Any], ...], _X: np.ndarray, _y: np.ndarray) -> reg.TrainResult:
    """``gdviz.regression.train`` with ``dict(settings)``, a progress bar while it runs."""
    bar, report = _bar("Training …")
    result = reg.train(_X, _y, progress=report, **_unfrozen(settings))
    bar.empty()
    return result


@st.cache_data(**CACHE)
def compared(
    data_key: str, settings: tuple[tuple[str, Any], ...], modes: tuple[reg.Mode, ...], _X: np.ndarray, _y: np.ndarray
) -> list[reg.ComparisonRow]:
    """``gdviz.regression.compare`` over ``modes``, a progress bar while it runs."""
    bar, report = _bar("Measuring GD / SGD / minibatch …")
    closed = reg.solve(_X.astype(np.float64, copy=False), _y.astype(np.float64, copy=False))
    rows = reg.compare(_X, _y, list(modes), closed=closed, progress=report, **_unfrozen(settings))
    bar.empty()
    return rows


def frozen(settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Settings as a hashable, ordered cache key (nested dicts and lists become tuples)."""

    def freeze(value: Any) -> Any:
        if isinstance(value, dict):
            return ("__dict__", tuple(sorted((k, freeze(v)) for k, v in value.items())))
        if isinstance(value, (list, tuple)):
            return tuple(freeze(v) for v in value)
        return value

    return tuple(sorted((k, freeze(v)) for k, v in settings.items()))


def _unfrozen(settings: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    def thaw(value: Any) -> Any:
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "__dict__":
            return {k: thaw(v) for k, v in value[1]}
        if isinstance(value, tuple):
            return tuple(thaw(v) for v in value)
        return value

    return {k: thaw(v) for k, v in settings}
