"""The Linear Regression page's figures (pure: arrays in, plotly Figures out) and its cached computations.

Figures take plain arrays and never call Streamlit. The cached helpers at the end wrap
``gdviz.regression`` in ``st.cache_data`` keyed by every input (data described by a short key, the
arrays passed unhashed), bounded by :mod:`ui.limits`, and show a progress bar while they train.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gdviz import regression as reg
from ui import limits
from ui.figures.style import color_of

_FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14, color="#222")
DATA_COLOR = "#7f7f7f"
CLOSED_COLOR = "#222222"
AXES = {"epochs": "epochs", "samples": "samples processed", "seconds": "wall time (s, training only)"}


# -- numbers as text ---------------------------------------------------------------------------------
def fmt_seconds(seconds: float) -> str:
    """A duration with a readable unit: 37 µs, 4.2 ms, 1.3 s."""
    if not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt(value: float, digits: int = 4) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


# -- coordinates -------------------------------------------------------------------------------------
def to_original(params: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Training-coordinate rows (k, d + 1) as (weight, bias) rows in the units of the raw features."""
    params = np.atleast_2d(params)
    weights = params[:, :-1] / std
    bias = params[:, -1] - weights @ mean
    return np.column_stack([weights, bias])


def subsample(n: int, cap: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``cap`` of ``n`` points, the same ones on every redraw."""
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def frame_indices(count: int, cap: int) -> list[int]:
    """At most ``cap`` indices spread over range(count), always with the first and the last."""
    if count <= cap:
        return list(range(count))
    return sorted({int(round(v)) for v in np.linspace(0, count - 1, cap)})


def _layout(height: int, **extra) -> dict:
    return (
        dict(
            template="plotly_white",
            height=height,
            font=_FONT,
            margin=dict(l=60, r=20, t=50, b=50),
            hovermode="closest",
            legend=dict(orientation="h", x=0.0, y=1.02, xanchor="left", yanchor="bottom"),
        )
        | extra
    )


# -- figures -------------------------------------------------------------------------------------------
def fit_figure(
    x: np.ndarray,
    y: np.ndarray,
    lines: np.ndarray,
    closed: tuple[float, float],
    *,
    x_name: str = "x",
    y_name: str = "y",
    max_points: int = limits.REGRESSION_MAX_PLOT_POINTS,
    max_frames: int = limits.REGRESSION_MAX_FRAMES,
) -> go.Figure:
    """The data and the fitted line y = w x + b, animated over epochs; the closed form dashed.

    ``lines`` (epochs + 1, 2): (w, b) at the start and after each epoch, in raw units. At most
    ``max_points`` points are drawn (a fixed random subset) and ``max_frames`` frames.
    """
    shown = subsample(x.size, max_points)
    lo, hi = float(np.min(x)), float(np.max(x))
    xs = np.array([lo, hi])
    epochs = frame_indices(lines.shape[0], max_frames)
    last = epochs[-1]
    drawn = "" if shown.size == x.size else f" ({shown.size:,} of {x.size:,} points drawn)"
    fig = go.Figure(
        [
            go.Scattergl(
                x=x[shown], y=y[shown], mode="markers", name=f"data{drawn}",
                marker=dict(color=DATA_COLOR, size=6, opacity=0.55),
            ),
            go.Scatter(
                x=xs, y=lines[last, 0] * xs + lines[last, 1], mode="lines", name="fitted line",
                line=dict(color=color_of(1), width=3),
            ),
            go.Scatter(
                x=xs, y=closed[0] * xs + closed[1], mode="lines", name="closed form",
                line=dict(color=CLOSED_COLOR, width=1.5, dash="dash"),
            ),
        ]
    )  # fmt: skip
    fig.frames = [
        go.Frame(name=str(e), data=[go.Scatter(x=xs, y=lines[e, 0] * xs + lines[e, 1])], traces=[1]) for e in epochs
    ]
    fig.update_layout(**(_layout(460, xaxis_title=x_name, yaxis_title=y_name) | _animation(epochs, "epoch ", last)))
    return fig


def _animation(labels: Sequence[int], prefix: str, current: int) -> dict:
    args = dict(frame=dict(duration=120, redraw=False), transition=dict(duration=0), mode="immediate")
    slider_args = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    return dict(
        updatemenus=[
            dict(
                type="buttons", direction="left", showactive=False, x=0.0, y=0.0, xanchor="left", yanchor="top",
                pad=dict(t=50, r=6),
                buttons=[
                    dict(label="▶ Play", method="animate", args=[None, {**args, "fromcurrent": False}]),
                    dict(label="❚❚ Pause", method="animate", args=[[None], {**slider_args}]),
                ],
            )
        ],
        sliders=[
            dict(
                active=list(labels).index(current), x=0.26, len=0.74, y=0.0, yanchor="top", pad=dict(t=40),
                currentvalue=dict(prefix=prefix, xanchor="right"),
                steps=[dict(label=str(v), method="animate", args=[[str(v)], slider_args]) for v in labels],
            )
        ],
        margin=dict(l=60, r=20, t=50, b=110),
    )  # fmt: skip


def parity_figure(y: np.ndarray, predicted: np.ndarray, *, max_points: int = limits.REGRESSION_MAX_PLOT_POINTS):
    """Predicted against actual y (d > 1, where a fitted line cannot be drawn); the diagonal is a perfect fit."""
    shown = subsample(y.size, max_points)
    lo, hi = float(min(y.min(), predicted.min())), float(max(y.max(), predicted.max()))
    fig = go.Figure(
        [
            go.Scattergl(
                x=y[shown], y=predicted[shown], mode="markers", name="samples",
                marker=dict(color=color_of(0), size=6, opacity=0.55),
            ),
            go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect fit", line=dict(color=CLOSED_COLOR, dash="dash")),
        ]
    )  # fmt: skip
    fig.update_layout(**_layout(460, xaxis_title="actual y", yaxis_title="predicted y"))
    return fig


def loss_figure(series: Sequence[dict[str, Any]], axis: str, best: float, *, log_y: bool = True) -> go.Figure:
    """Full-data loss curves against ``axis`` ("epochs", "samples" or "seconds"); the closed form's loss dotted.

    Each series: ``label``, ``epochs``, ``samples``, ``seconds`` and ``loss`` arrays of one length.
    """
    if axis not in AXES:
        raise ValueError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
    # samples and seconds span decades between SGD and GD: a log axis, as d2l 12.5 draws it (0 cannot show)
    log_x = axis != "epochs"
    fig = go.Figure()
    for index, item in enumerate(series):
        x, loss = np.asarray(item[axis], dtype=np.float64), np.asarray(item["loss"])
        keep = x > 0 if log_x else np.ones(x.shape, dtype=bool)
        fig.add_trace(
            go.Scatter(
                x=x[keep], y=loss[keep], mode="lines", name=item["label"], line=dict(color=color_of(index), width=2.5),
            )
        )  # fmt: skip
    if math.isfinite(best) and series:
        # a trace, not add_hline: plotly misplaces an hline's annotation on a log axis
        xs = np.concatenate([np.asarray(item[axis], dtype=np.float64) for item in series])
        xs = xs[xs > 0] if log_x else xs
        fig.add_trace(
            go.Scatter(
                x=[xs.min(), xs.max()], y=[best, best], mode="lines", name="closed form (minimum loss)",
                line=dict(color=CLOSED_COLOR, dash="dot", width=1.5),
            )
        )  # fmt: skip
    fig.update_layout(
        **_layout(420, xaxis_title=AXES[axis], yaxis_title="loss (MSE, all data)"),
        yaxis_type="log" if log_y else "linear",
        xaxis_type="log" if log_x else "linear",
    )
    return fig


def curve_series(label: str, result: reg.TrainResult) -> dict[str, Any]:
    """A TrainResult's loss curve as a :func:`loss_figure` series (epochs counted as samples / N)."""
    return dict(
        label=label,
        epochs=result.curve_samples / result.n,
        samples=result.curve_samples,
        seconds=result.curve_seconds,
        loss=result.curve_losses,
    )


def landscape_figure(
    moments: dict[str, float],
    path: np.ndarray,
    closed: np.ndarray,
    *,
    label: str = "optimizer",
    axis_names: tuple[str, str] = ("w", "b"),
    grid: int = 120,
) -> go.Figure:
    """The MSE over (w, b) as log-spaced contours, the optimizer's path through it and the minimum (★).

    ``path`` (k, 2) and ``closed`` (2,) are in the coordinates the model trained in; ``moments`` are
    :func:`gdviz.regression.mse_moments` of the same coordinates.
    """
    points = np.vstack([path, closed[None]])
    lo, hi = points.min(0), points.max(0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(np.abs(closed), 1.0))
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    w = np.linspace(lo[0], hi[0], grid)
    b = np.linspace(lo[1], hi[1], grid)
    loss = reg.mse_on_grid(moments, w[None, :], b[:, None])
    best = float(reg.mse_on_grid(moments, closed[0], closed[1]))
    excess = np.maximum(loss - best, 0.0)
    floor = max(float(excess.max()) * 1e-9, 1e-300)
    fig = go.Figure(
        [
            go.Contour(
                x=w, y=b, z=np.log10(excess + floor), customdata=loss, colorscale="Viridis", reversescale=True,
                ncontours=24, contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.5),
                colorbar=dict(title="log₁₀(L − L*)"),
                hovertemplate=f"{axis_names[0]} = %{{x:.4g}}<br>{axis_names[1]} = %{{y:.4g}}<br>L = %{{customdata:.5g}}<extra></extra>",
            ),
            go.Scatter(
                x=path[:, 0], y=path[:, 1], mode="lines+markers", name=label,
                line=dict(color="white", width=2.5), marker=dict(size=5, color=color_of(1)),
            ),
            go.Scatter(
                x=path[:1, 0], y=path[:1, 1], mode="markers", name="start",
                marker=dict(size=12, symbol="circle", color="white", line=dict(color="black", width=2)),
            ),
            go.Scatter(
                x=[closed[0]], y=[closed[1]], mode="markers", name="closed form (minimum)",
                marker=dict(size=16, symbol="star", color="#FFD700", line=dict(color="black", width=1)),
            ),
        ]
    )  # fmt: skip
    fig.update_layout(**_layout(520, xaxis_title=axis_names[0], yaxis_title=axis_names[1]))
    return fig


# -- the measured comparison --------------------------------------------------------------------------
def comparison_table(rows: Sequence[reg.ComparisonRow]) -> list[dict[str, str]]:
    """Seed 003's table, measured: one row per quantity, one column per mode."""
    quantities: list[tuple[str, Any]] = [
        ("samples per update", lambda r: f"{r.samples_per_update:,}"),
        ("updates per epoch", lambda r: f"{r.updates_per_epoch:,}"),
        ("learning rate", lambda r: fmt(r.mode.lr, 3)),
        (
            "gradient noise (rel. std at start)",
            lambda r: "exact" if r.gradient_noise == 0 else fmt(r.gradient_noise, 3),
        ),
        ("time per update", lambda r: fmt_seconds(r.seconds_per_update)),
        ("time per epoch", lambda r: fmt_seconds(r.seconds_per_epoch) + (" (est.)" if r.epoch_estimated else "")),
        (
            "samples per second",
            lambda r: f"{r.samples_per_second:,.0f}" if math.isfinite(r.samples_per_second) else "–",
        ),
        ("memory per update (batch)", lambda r: _bytes(r.samples_per_update * (r.result.d + 1) * _itemsize(r))),
        ("epochs run", lambda r: _epochs_run(r)),
        ("final loss", lambda r: "diverged" if r.diverged else fmt(r.final_loss, 5)),
        ("loss − closed-form loss", lambda r: "–" if r.diverged else fmt(r.loss_gap, 3)),
        ("distance to closed form", lambda r: "–" if r.diverged else fmt(r.distance, 3)),
    ]
    return [{"": name} | {row.mode.label: get(row) for row in rows} for name, get in quantities]


def _itemsize(row: reg.ComparisonRow) -> int:
    return 8 if row.result.dtype == "float64" else 4


def _bytes(count: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def _epochs_run(row: reg.ComparisonRow) -> str:
    result = row.result
    if result.complete:
        return str(result.epochs_done)
    return f"{result.samples / result.n:.3g} (stopped: {'diverged' if row.diverged else 'update cap'})"


def closed_table(closed: reg.ClosedForm, result: reg.TrainResult, label: str, shown: int = 5) -> list[dict[str, str]]:
    """lstsq, the normal equation and the trained model side by side: time, b and the first ``shown`` weights."""

    def row(method: str, seconds: float, weight: np.ndarray | None, bias: float | None) -> dict[str, str]:
        out = {"method": method, "time": fmt_seconds(seconds), "b": "–" if bias is None else fmt(bias, 8)}
        for i in range(min(result.d, shown)):
            out[f"w{i + 1}"] = "–" if weight is None else fmt(float(weight[i]), 8)
        return out

    return [
        row("torch.linalg.lstsq (QR / SVD)", closed.seconds, closed.weight, closed.bias),
        row("normal equation (solve XᵀX θ = Xᵀy)", closed.normal_seconds, closed.normal_weight, closed.normal_bias),
        row(label, result.seconds, result.weight, result.bias),
    ]


def claim_lines(claims: Sequence[reg.Claim]) -> list[str]:
    """One markdown line per d2l 12.5 claim, marked: holds here, does not, not measured."""
    mark = {True: ":green[:material/check_circle:]", False: ":red[:material/cancel:]", None: ":gray[:material/remove:]"}
    return [f"{mark[c.holds]} **{c.text}** — {c.detail}" for c in claims]


def device_label(info: reg.DeviceInfo) -> str:
    return info.name if info.available else f"{info.name} (unavailable)"


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
