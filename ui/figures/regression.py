"""The Linear Regression page's figures (pure: arrays in, plotly Figures out, no Streamlit).

The fitted line animated over epochs, the parity plot for d > 1, the loss curves against epochs,
samples or wall time, and the MSE landscape over (w, b) with the optimizer's path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from gdviz import regression as reg
from ui import limits
from ui.figures.style import FONT, LOSS_COLORSCALE, color_of, log_axis

DATA_COLOR = "#7f7f7f"
CLOSED_COLOR = "#222222"
AXES = {"epochs": "epochs", "samples": "samples processed", "seconds": "wall time (s, training only)"}


# -- what is drawn -----------------------------------------------------------------------------------
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
            font=FONT,
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
        yaxis=log_axis() if log_y else dict(type="linear"),
        xaxis=log_axis() if log_x else dict(type="linear"),
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
                x=w, y=b, z=np.log10(excess + floor), customdata=loss, colorscale=LOSS_COLORSCALE,
                ncontours=24, contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.5),
                colorbar=dict(title="log₁₀(L − L*)"),
                hovertemplate=f"{axis_names[0]} = %{{x:.4g}}<br>{axis_names[1]} = %{{y:.4g}}<br>L = %{{customdata:.5g}}<extra></extra>",
            ),
            go.Scatter(
                x=path[:, 0], y=path[:, 1], mode="lines+markers", name=label,
                line=dict(color=color_of(1), width=2.5), marker=dict(size=5, color=color_of(1)),
            ),
            go.Scatter(
                x=path[:1, 0], y=path[:1, 1], mode="markers", name="start",
                marker=dict(size=12, symbol="circle", color="white", line=dict(color="black", width=2)),
            ),
            go.Scatter(
                x=[closed[0]], y=[closed[1]], mode="markers", name="closed form (minimum)",
                marker=dict(size=16, symbol="star", color="white", line=dict(color="#111", width=1.5)),
            ),
        ]
    )  # fmt: skip
    fig.update_layout(**_layout(520, xaxis_title=axis_names[0], yaxis_title=axis_names[1]))
    return fig
