"""The pieces the Schedules and Landscape Lab figures are drawn with: layout, axes, the surface canvas,
paths, minima and the click grid (arrays in, plotly traces out; no Streamlit).

2-D surfaces are drawn as in the Playground (ui/figures/surface_picture.py): the surface as a PNG in
``layout.images`` with iso-lines as scatter traces. A 1-D surface is its curve f(x), and points on it
are drawn at (x, f(x)).

The figures built from them: ui/figures/schedules.py (the Schedules page), and for the Landscape Lab
ui/figures/maps.py (stability map, basins, critical points), ui/figures/escape.py (restarts, annealing)
and ui/figures/fair.py (the fair comparison).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from gdviz.surfaces.base import Surface
from ui.figures.style import FONT, axis_style, sig
from ui.figures.surface_picture import (
    cell_grid,
    contour_trace,
    image_layout,
    iso_levels,
    iso_line_arrays,
    surface_image,
    surface_values,
)

CLICK_GRID = 48  # invisible markers per axis: enough to aim, few enough for a light page
LOG_FLOOR = 1e-16  # where a zero gap or distance is drawn on a log axis


def layout(height: int, **extra) -> dict:
    """The layout of every Schedules and Lab figure: ui/figures/style.py's font, wider margins for axis titles."""
    base = dict(
        template={},
        height=height,
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        hovermode="closest",
        margin=dict(l=64, r=16, t=48, b=56),
        legend=dict(orientation="h", x=0.0, y=1.01, xanchor="left", yanchor="bottom"),
    )
    return base | extra


def window(surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.asarray(surface.bounds, dtype=np.float64)
    return bounds[:, 0], bounds[:, 1]


def place(surface: Surface, points: np.ndarray) -> tuple[list, list]:
    """Plot coordinates of points (..., dim): (x1, x2) in 2-D, (x, f(x)) in 1-D."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, surface.dim)
    if surface.dim == 2:
        return sig(points[:, 0]), sig(points[:, 1])
    return sig(points[:, 0]), sig(surface_values(surface, points))


def canvas(fig: go.Figure, surface: Surface, picture: bool = True, levels: int = 14) -> None:
    """The surface under everything else: picture and iso-lines (2-D) or the curve (1-D), and axes."""
    lo, hi = window(surface)
    if surface.dim == 1:
        x = np.linspace(lo[0], hi[0], 500)
        fig.add_trace(
            go.Scatter(
                x=sig(x),
                y=sig(surface_values(surface, x[:, None])),
                mode="lines",
                name="f(x)",
                line=dict(color="#555", width=2.5),
                hovertemplate="x = %{x:.4g}<br>f = %{y:.5g}<extra></extra>",
            )
        )
        fig.update_layout(xaxis=axis_style(title="x", range=[lo[0], hi[0]]), yaxis=axis_style(title="f(x)"))
        return
    if picture:
        picture_below(fig, surface_image(surface, lo, hi)[0], lo, hi)
    gx, gy = cell_grid(lo, hi, 90)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))
    fig.add_trace(contour_trace(*iso_line_arrays(gx, gy, z, iso_levels(z, levels))))
    fig.update_layout(
        xaxis=axis_style(title="x₁", range=[float(lo[0]), float(hi[0])]),
        yaxis=axis_style(title="x₂", range=[float(lo[1]), float(hi[1])]),
    )


def picture_below(fig: go.Figure, source: str, lo: np.ndarray, hi: np.ndarray, opacity: float = 1.0) -> None:
    """An image (data URI) stretched over the window (lo, hi), under the traces."""
    fig.add_layout_image(image_layout(source, lo, hi, opacity=opacity))


def click_grid(fig: go.Figure, xs: np.ndarray, ys: np.ndarray, customdata: list, hover: list | str, name: str) -> None:
    """Invisible, hoverable and clickable markers at (xs, ys) (flat arrays of equal length)."""
    fig.add_trace(
        go.Scatter(
            x=sig(xs),
            y=sig(ys),
            customdata=customdata,
            mode="markers",
            name=name,
            showlegend=False,
            marker=dict(size=11, opacity=0, color="#000"),
            selected=dict(marker=dict(opacity=0.5)),
            unselected=dict(marker=dict(opacity=0)),
            hovertemplate=hover,
        )
    )


def picks(n: int, cap: int = CLICK_GRID) -> np.ndarray:
    """At most ``cap`` evenly spread indices of 0..n-1 (cell centres of a coarser grid)."""
    step = max(1, math.ceil(n / cap))
    return np.arange(step // 2, n, step)


def minima_trace(fig: go.Figure, surface: Surface, points: np.ndarray, colors: list[str] | None = None) -> None:
    if not np.size(points):
        return
    x, y = place(surface, points)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            name="minima",
            marker=dict(symbol="star", size=17, color=colors or "white", line=dict(color="#111", width=1.5)),
            customdata=[sig(p) for p in np.asarray(points).reshape(-1, surface.dim)],
            hovertemplate="minimum %{pointNumber}<br>x* = %{customdata}<extra></extra>",
        )
    )


def path_trace(fig: go.Figure, surface: Surface, xs: np.ndarray, label: str, color: str, **extra) -> None:
    """One path (steps+1, dim), subsampled to at most 600 points, with its start and end marked."""
    keep = np.unique(np.round(np.linspace(0, len(xs) - 1, min(len(xs), 600))).astype(int))
    x, y = place(surface, xs[keep])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            name=label,
            line=dict(color=color, width=2.2),
            marker=dict(size=[9] + [3] * (len(keep) - 2) + [9] if len(keep) > 1 else [9], color=color),
            hovertemplate=f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            **extra,
        )
    )
