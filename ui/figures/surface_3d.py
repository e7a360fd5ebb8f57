"""The 2-D surface in 3-D: a mesh coloured as the race's picture, with every path drawn on it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gdviz.surfaces.base import Surface
from ui.figures.style import (
    DIVERGED_COLOR,
    LOSS_COLORSCALE,
    base_layout,
    clip_drawing,
    hover_rows,
    hover_template,
    plot_window,
    runs_of,
    sig,
)
from ui.figures.surface_picture import equalizer, surface_values


def surface_3d_figure(surface: Surface, trajectories, labels, *, height: int = 620) -> go.Figure:
    """The 2-D surface as a 3-D mesh (coloured as in the race figure) with every path drawn on it."""
    if not isinstance(surface, Surface) or surface.dim != 2:
        raise ValueError("surface_3d_figure needs a 2-D gdviz Surface")
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    lo, hi = plot_window(surface, runs)
    gx, gy = np.linspace(lo[0], hi[0], 70), np.linspace(lo[1], hi[1], 70)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))
    shade = equalizer(z)
    mesh = go.Surface(
        x=sig(gx),
        y=sig(gy),
        z=[sig(row) for row in z],
        surfacecolor=[sig(row, 4) for row in shade(z)],
        cmin=0.0,
        cmax=1.0,
        colorscale=LOSS_COLORSCALE,
        showscale=False,
        opacity=0.92,
        name=surface.name,
        hovertemplate="x = (%{x:.4g}, %{y:.4g})<br>f(x) = %{z:.5g}<extra>surface</extra>",
        contours=dict(z=dict(show=True, usecolormap=False, color="rgba(30,30,30,0.25)", width=1)),
    )
    finite = z[np.isfinite(z)]
    lift = 0.01 * float(finite.max() - finite.min()) if finite.size else 0.0  # keep paths above the mesh
    traces: list = [mesh]
    for r in runs:
        xs, ys, zs, rows = [], [], [], []
        for k, last in enumerate(r.last.tolist()):
            points = clip_drawing(r.xs[: last + 1, k], lo, hi)
            xs += sig(points[:, 0]) + [None]
            ys += sig(points[:, 1]) + [None]
            zs += sig(r.losses[: last + 1, k] + lift) + [None]
            rows += hover_rows(r, k)[: last + 1] + [[None] * 8]
        traces.append(
            go.Scatter3d(
                x=xs[:-1],
                y=ys[:-1],
                z=zs[:-1],
                mode="lines+markers",
                name=r.text,
                customdata=rows[:-1],
                line=dict(color=r.color, width=6),
                marker=dict(color=r.color, size=2.5),
                hovertemplate=hover_template(r.text, 2, r.n_runs > 1),
            )
        )
        dead = [(k, int(d)) for k, d in enumerate(r.diverged.tolist()) if d >= 0]
        if dead:
            end = np.array([r.xs[d - 1, k] for k, d in dead])
            traces.append(
                go.Scatter3d(
                    x=sig(end[:, 0]),
                    y=sig(end[:, 1]),
                    z=sig([r.losses[d - 1, k] + lift for k, d in dead]),
                    mode="markers",
                    name=f"{r.text} diverged",
                    showlegend=False,
                    legendgroup=r.text,
                    marker=dict(symbol="x", size=8, color=DIVERGED_COLOR),
                    hovertemplate=[f"<b>{r.text}</b><br>diverged at step {d}<extra></extra>" for _, d in dead],
                )
            )
    minima = (
        np.asarray(surface.minima, dtype=np.float64).reshape(-1, 2) if np.size(surface.minima) else np.zeros((0, 2))
    )
    if len(minima):
        traces.append(
            go.Scatter3d(
                x=sig(minima[:, 0]),
                y=sig(minima[:, 1]),
                z=sig(surface_values(surface, minima) + lift),
                mode="markers",
                name="global minimum",
                marker=dict(symbol="diamond", size=6, color="white", line=dict(color="#111", width=2)),
            )
        )
    scene_axis = dict(backgroundcolor="white", gridcolor="#ddd", showspikes=False)
    layout = base_layout(
        height,
        margin=dict(l=0, r=0, t=40, b=0),
        uirevision=surface.name,
        scene=dict(
            xaxis=scene_axis | dict(title=dict(text="x₁"), range=[float(lo[0]), float(hi[0])]),
            yaxis=scene_axis | dict(title=dict(text="x₂"), range=[float(lo[1]), float(hi[1])]),
            zaxis=scene_axis | dict(title=dict(text="f(x)")),
            aspectmode="manual",
            aspectratio=dict(x=1, y=1, z=0.6),
        ),
        meta=dict(kind="surface3d", surface=surface.name),
    )
    return go.Figure(data=traces, layout=layout)
