"""Figures of the Schedules page: η_t of each schedule, the spread of noisy SGD under it, and one path
of each over the surface (arrays in, plotly Figures out; no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from gdviz.surfaces.base import Surface
from ui.figures.lab_canvas import LOG_FLOOR, canvas, layout, minima_trace, path_trace
from ui.figures.style import axis_style, color_of, log_axis

# points per curve at most: 10,000 steps × 6 schedules as Python lists took 2.7 s of the Schedules page's heaviest
# link (plotly.py checks each value); NumPy arrays travel as typed arrays, subsampled evenly, last step kept
CURVE_POINTS = 2000


def _every(n: int, cap: int = CURVE_POINTS) -> np.ndarray:
    return np.arange(n) if n <= cap else np.unique(np.round(np.linspace(0, n - 1, cap)).astype(int))


def _finite(values: np.ndarray) -> np.ndarray:
    """float64 with non-finite values as NaN (a gap in the line)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def lr_figure(curves: Sequence[tuple[str, np.ndarray]], height: int = 360) -> go.Figure:
    """η_t of every schedule against the step t = 1..T."""
    return _step_curves([(i, label, lrs) for i, (label, lrs) in enumerate(curves)], "η", "learning rate", height)


def momentum_figure(curves: Sequence[tuple[int, str, np.ndarray]], height: int = 260) -> go.Figure:
    """μ_t (momentum, or β1 of the Adam family) of the schedules that cycle it: (colour index, label, (T,))."""
    return _step_curves(curves, "μ", "momentum", height)


def _step_curves(curves: Sequence[tuple[int, str, np.ndarray]], symbol: str, what: str, height: int) -> go.Figure:
    """One line per (colour index, label, values) against the step t = 1..T."""
    fig = go.Figure()
    for color, label, values in curves:
        keep = _every(len(values))
        fig.add_trace(
            go.Scatter(
                x=keep + 1,
                y=_finite(np.asarray(values)[keep]),
                mode="lines",
                name=label,
                line=dict(color=color_of(color), width=2.5),
                hovertemplate=f"{label}<br>step %{{x}}: {symbol} = %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(
        layout(height, xaxis=axis_style(title="step t"), yaxis=axis_style(title=f"{what} {symbol}<sub>t</sub>"))
    )
    return fig


def band_figure(
    bands: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], y_title: str, log: bool = True, height: int = 400
) -> go.Figure:
    """Mean lines with a shaded band per series: (label, mean, low, high), each (T+1,) over steps 0..T."""
    fig = go.Figure()
    for i, (label, mean, low, high) in enumerate(bands):
        color = color_of(i)
        keep = _every(len(mean))
        high_, low_, mean_ = (_finite(np.asarray(v)[keep]) for v in (high, low, mean))
        if log:
            high_, low_, mean_ = (np.maximum(v, LOG_FLOOR) for v in (high_, low_, mean_))

        rgb = tuple(int(color[k : k + 2], 16) for k in (1, 3, 5))
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([keep, keep[::-1]]),
                y=np.concatenate([high_, low_[::-1]]),
                fill="toself",
                fillcolor=f"rgba({rgb[0]},{rgb[1]},{rgb[2]},0.18)",
                line=dict(width=0),
                hoverinfo="skip",
                legendgroup=label,
                showlegend=False,
                name=f"{label} band",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=keep,
                y=mean_,
                mode="lines",
                name=label,
                legendgroup=label,
                line=dict(color=color, width=2.5),
                hovertemplate=f"{label}<br>step %{{x}}: mean %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(
        layout(
            height,
            xaxis=axis_style(title="step"),
            yaxis=axis_style(title=y_title, **(log_axis() if log else dict(type="linear"))),
        )
    )
    return fig


def paths_figure(surface: Surface, paths: Sequence[tuple[str, np.ndarray]], height: int = 460) -> go.Figure:
    """Paths (each (steps+1, dim)) drawn over the surface, one colour each, with its known minima."""
    fig = go.Figure()
    canvas(fig, surface)
    for i, (label, xs) in enumerate(paths):
        path_trace(fig, surface, xs, label, color_of(i))
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height))
    return fig
