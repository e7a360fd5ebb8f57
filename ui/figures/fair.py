"""Figures and table of the Landscape Lab's fair comparison: every optimizer's lr tuned over the same
grid (gdviz.landscape.tune_lr), its path at the best lr, the whole search, and its loss curve
(arrays in, plotly Figures and table rows out; no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from gdviz.landscape import Tuned
from gdviz.surfaces.base import Surface
from ui.figures.lab_canvas import LOG_FLOOR, canvas, layout, minima_trace, path_trace
from ui.figures.style import DIVERGED_COLOR, axis_style, color_of, sig


def fair_paths_figure(surface: Surface, tuned: Sequence[Tuned], height: int = 480) -> go.Figure:
    fig = go.Figure()
    canvas(fig, surface)
    for i, t in enumerate(tuned):
        path_trace(fig, surface, t.xs, f"{t.name} (η = {t.best_lr:.3g})", color_of(i))
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height))
    return fig


def fair_lr_figure(tuned: Sequence[Tuned], tol: float, height: int = 380) -> go.Figure:
    """The whole search, not just its winner: final f − f* against lr for each optimizer."""
    fig = go.Figure()
    for i, t in enumerate(tuned):
        gap = np.maximum(t.final_loss - t.f_ref, LOG_FLOOR)
        color = color_of(i)
        fig.add_trace(
            go.Scatter(
                x=sig(t.lrs),
                y=sig(np.where(t.diverged, np.nan, gap)),
                mode="lines+markers",
                name=t.name,
                line=dict(color=color, width=2),
                hovertemplate=f"{t.name}<br>η = %{{x:.3g}}<br>final f − f* = %{{y:.3g}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[t.best_lr],
                y=sig([gap[t.best]]),
                mode="markers",
                name=f"{t.name} best",
                showlegend=False,
                marker=dict(symbol="star", size=16, color=color, line=dict(color="#111", width=1)),
                hovertemplate=f"{t.name}: best η = %{{x:.3g}}<extra></extra>",
            )
        )
        dead = t.lrs[t.diverged]
        if dead.size:
            fig.add_trace(
                go.Scatter(
                    x=sig(dead),
                    y=[1.0] * dead.size,
                    mode="markers",
                    showlegend=False,
                    name=f"{t.name} diverged",
                    marker=dict(symbol="x", size=9, color=DIVERGED_COLOR),
                    yaxis="y2",
                    hovertemplate=f"{t.name}: diverged at η = %{{x:.3g}}<extra></extra>",
                )
            )
    fig.add_hline(y=tol, line=dict(color="#777", dash="dot", width=1), annotation_text=f"tolerance {tol:g}")
    fig.update_layout(
        layout(
            height,
            xaxis=axis_style(title="learning rate η", type="log"),
            yaxis=axis_style(title="final f − f*", type="log"),
            yaxis2=dict(overlaying="y", range=[0, 1.05], visible=False),
        )
    )
    return fig


def fair_curves_figure(tuned: Sequence[Tuned], height: int = 360) -> go.Figure:
    fig = go.Figure()
    for i, t in enumerate(tuned):
        gap = np.maximum(t.losses - t.f_ref, LOG_FLOOR)
        fig.add_trace(
            go.Scatter(
                x=list(range(len(gap))), y=sig(gap), mode="lines", name=t.name, line=dict(color=color_of(i), width=2.5)
            )
        )
    fig.update_layout(
        layout(height, xaxis=axis_style(title="step"), yaxis=axis_style(title="f − f* (tuned η)", type="log"))
    )
    return fig


def fair_rows(tuned: Sequence[Tuned], tol: float) -> list[dict]:
    rows = []
    for t in tuned:
        rows.append(
            {
                "optimizer": t.name,
                "best lr": f"{t.best_lr:.4g}",
                "final f − f*": f"{t.best_final_loss - t.f_ref:.4g}",
                f"steps to f* + {tol:g}": str(t.best_steps_to) if t.best_steps_to >= 0 else "never",
                "lrs that diverged": int(t.diverged.sum()),
                "best lr at grid edge": "yes" if t.at_edge else "",
                "wall time (ms)": round(1e3 * t.seconds, 1),
            }
        )
    return rows
