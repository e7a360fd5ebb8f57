"""Figures of the Landscape Lab's two ways out of a local minimum: random restarts (keep the best of
many starts) and annealed gradient noise (arrays in, plotly Figures out; no Streamlit)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from gdviz.landscape import Annealing, Restarts
from gdviz.surfaces.base import Surface
from ui.figures.lab_canvas import canvas, layout, minima_trace, path_trace
from ui.figures.style import axis_style, color_of, sig
from ui.figures.surface_picture import surface_values

# points of all the other restarts' paths together: 200 restarts drawn as 200 traces of 600 points as Python
# lists cost 2-3 s of the heaviest Escape link (issue 17); one trace of NumPy arrays, the paths apart by a gap
RESTART_POINTS = 24_000
RESTART_MIN_POINTS = 40  # per path, however many restarts
SUMMARY_GAP = 0.3  # between the restarts summary's two panels, a fraction of the height: the upper x axis's title


def _others_trace(surface: Surface, xs: np.ndarray, others: list[int]) -> dict:
    """Every restart but the best as one grey trace: each path subsampled (start and end kept), NaN between."""
    steps = xs.shape[0]
    per_path = max(RESTART_MIN_POINTS, RESTART_POINTS // max(len(others), 1))
    keep = np.unique(np.round(np.linspace(0, steps - 1, min(steps, per_path))).astype(int))
    points = xs[keep][:, others]  # (kept, paths, dim)
    if surface.dim == 2:
        px, py = points[..., 0], points[..., 1]
    else:
        px = points[..., 0]
        py = np.asarray(surface_values(surface, points.reshape(-1, 1)), dtype=np.float64).reshape(px.shape)
    gap = np.full((1, len(others)), np.nan)
    x = np.concatenate([px, gap]).T.ravel()[:-1]  # path by path, each followed by a gap
    y = np.concatenate([py, gap]).T.ravel()[:-1]
    finite = lambda v: np.where(np.isfinite(v), v, np.nan)  # noqa: E731
    return dict(x=finite(x), y=finite(y))


def restarts_figure(surface: Surface, r: Restarts, height: int = 460) -> go.Figure:
    """Every restart's path (grey), the best one highlighted, starts as open circles."""
    fig = go.Figure()
    canvas(fig, surface)
    others = [k for k in range(r.xs.shape[1]) if k != r.best]
    if others:
        fig.add_trace(
            go.Scatter(
                **_others_trace(surface, r.xs, others),
                mode="lines",
                name="restart",
                legendgroup="restarts",
                line=dict(color="rgba(40,40,40,0.55)", width=1.6),
                hovertemplate="restart<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
            )
        )
        starts = r.xs[0, others]
        sx = starts[:, 0]
        sy = starts[:, 1] if surface.dim == 2 else surface_values(surface, starts[:, :1])
        fig.add_trace(
            go.Scatter(
                x=np.asarray(sx, dtype=np.float64),
                y=np.asarray(sy, dtype=np.float64),
                mode="markers",
                name="restart starts",
                legendgroup="restarts",
                showlegend=False,
                marker=dict(symbol="circle-open", size=7, color="rgba(40,40,40,0.8)"),
                hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>",
            )
        )
    path_trace(fig, surface, r.xs[:, r.best], "best restart", color_of(1), legendgroup="best")
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height), meta=dict(kind="restarts", best=r.best))
    return fig


def restarts_summary_figure(r: Restarts, height: int = 460) -> go.Figure:
    """Final losses of the restarts (histogram) and the best found as restarts are added."""
    from plotly.subplots import make_subplots

    # one panel under the other: side by side in the view's narrow right column, on a projector's zoom or a phone
    # the titles ran together and the lower panel's tick labels ("-5.5") lay on the other panel
    fig = make_subplots(
        rows=2, cols=1, subplot_titles=("final f per restart", "best so far"), vertical_spacing=SUMMARY_GAP
    )
    finals = r.final_loss[r.diverged_at < 0]
    # binned here: plotly's automatic bins break down when values like 1e-42 and -4.5 are mixed
    counts, edges = (
        np.histogram(finals, bins=min(30, max(1, finals.size))) if finals.size else (np.zeros(0), np.zeros(1))
    )
    fig.add_trace(
        go.Bar(
            x=sig((edges[:-1] + edges[1:]) / 2),
            y=counts.tolist(),
            width=sig(np.diff(edges)) if edges.size > 1 and np.ptp(edges) > 0 else None,
            marker_color=color_of(0),
            name="final f",
            hovertemplate="final f ≈ %{x:.4g}: %{y} restarts<extra></extra>",
        ),
        row=1,
        col=1,
    )
    best = r.best_so_far
    fig.add_trace(
        go.Scatter(
            x=list(range(1, len(best) + 1)),
            y=sig(np.where(np.isfinite(best), best, np.nan)),
            mode="lines+markers",
            line=dict(color=color_of(1), shape="hv"),
            name="best so far",
        ),
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text="final f", row=1, col=1)
    fig.update_xaxes(title_text="restarts", row=2, col=1)
    fig.update_layout(layout(height, showlegend=False, margin=dict(l=56, r=16, t=40, b=48)))
    return fig


def annealing_figure(surface: Surface, runs: Sequence[tuple[str, Annealing]], shown: int = 4, height: int = 460):
    """A few runs of each noise setting over the surface (the same run indices for each setting)."""
    fig = go.Figure()
    canvas(fig, surface)
    for i, (label, a) in enumerate(runs):
        for k in range(min(shown, a.xs.shape[1])):
            path_trace(fig, surface, a.xs[:, k], label, color_of(i), legendgroup=label, showlegend=k == 0, opacity=0.8)
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height))
    return fig


def annealing_curves(runs: Sequence[tuple[str, Annealing]], f_ref: float, height: int = 360) -> go.Figure:
    """Mean f − f* over the runs of each setting (left axis) and the noise σ_t (right axis, dotted)."""
    fig = go.Figure()
    for i, (label, a) in enumerate(runs):
        gap = a.losses - f_ref if math.isfinite(f_ref) else a.losses
        steps = list(range(a.losses.shape[0]))
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=sig(np.mean(gap, axis=1)),
                mode="lines",
                name=label,
                legendgroup=label,
                line=dict(color=color_of(i), width=2.5),
            )
        )
        if np.any(a.sigmas > 0):
            fig.add_trace(
                go.Scatter(
                    x=steps[1:],
                    y=sig(a.sigmas),
                    mode="lines",
                    name=f"σ<sub>t</sub> ({label})",
                    legendgroup=label,
                    showlegend=False,
                    line=dict(color=color_of(i), width=1.5, dash="dot"),
                    yaxis="y2",
                    hovertemplate=f"{label}<br>step %{{x}}: σ = %{{y:.3g}}<extra></extra>",
                )
            )
    fig.update_layout(
        layout(
            height,
            xaxis=axis_style(title="step"),
            yaxis=axis_style(title="mean f − f*" if math.isfinite(f_ref) else "mean f"),
            yaxis2=dict(title="noise σ<sub>t</sub> (dotted)", overlaying="y", side="right", showgrid=False),
            margin=dict(l=64, r=64, t=48, b=48),
        )
    )
    return fig
