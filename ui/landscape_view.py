"""Figure builders for the Schedules and Landscape Lab pages: arrays in, plotly Figures out (no Streamlit).

2-D surfaces are drawn as in the Playground (ui/surface_picture.py): the surface as a PNG in
``layout.images`` with iso-lines as scatter traces. A 1-D surface is its curve f(x), and points on it
are drawn at (x, f(x)). Maps that can be clicked carry an invisible grid of markers whose
``customdata`` says which cell, start or point a click means: plotly heatmaps and images send no
selection events to Streamlit, markers do.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from gdviz.critical import CriticalPoint
from gdviz.landscape import DIVERGED, NOT_CONVERGED, Annealing, Basins, Restarts, StabilityMap, Tuned
from gdviz.surfaces.base import Surface
from ui.figures import DIVERGED_COLOR, color_of, sig
from ui.surface_picture import (
    cell_grid,
    contour_lines,
    image_layout,
    iso_levels,
    png_bytes,
    surface_image,
    surface_values,
)

FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14, color="#222")
NOT_CONVERGED_COLOR = "#BDBDBD"
KIND_STYLE = {
    "minimum": dict(symbol="circle", color="#0072B2"),
    "maximum": dict(symbol="triangle-up", color="#D55E00"),
    "saddle": dict(symbol="x", color="#E69F00"),
    "degenerate": dict(symbol="diamond", color="#555555"),
}
CLICK_GRID = 48  # invisible markers per axis: enough to aim, few enough for a light page
LOG_FLOOR = 1e-16


# -- shared pieces ------------------------------------------------------------------------------------
def layout(height: int, **extra) -> dict:
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


def axis(**extra) -> dict:
    return dict(showgrid=False, zeroline=False, showline=True, mirror=True, linecolor="#999", ticks="outside") | extra


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
        fig.update_layout(xaxis=axis(title="x", range=[lo[0], hi[0]]), yaxis=axis(title="f(x)"))
        return
    if picture:
        picture_below(fig, surface_image(surface, lo, hi)[0], lo, hi)
    gx, gy = cell_grid(lo, hi, 90)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))
    xs: list = []
    ys: list = []
    for level in iso_levels(z, levels):
        for line in contour_lines(gx, gy, z, level):
            xs += sig(line[:, 0], 5) + [None]
            ys += sig(line[:, 1], 5) + [None]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            name="contours",
            hoverinfo="skip",
            showlegend=False,
            line=dict(color="rgba(30,30,30,0.3)", width=1),
        )
    )
    fig.update_layout(
        xaxis=axis(title="x₁", range=[float(lo[0]), float(hi[0])]),
        yaxis=axis(title="x₂", range=[float(lo[1]), float(hi[1])]),
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


# -- Schedules page -----------------------------------------------------------------------------------
def lr_figure(curves: Sequence[tuple[str, np.ndarray]], height: int = 360) -> go.Figure:
    """η_t of every schedule against the step t = 1..T."""
    fig = go.Figure()
    for i, (label, lrs) in enumerate(curves):
        steps = np.arange(1, len(lrs) + 1)
        fig.add_trace(
            go.Scatter(
                x=steps.tolist(),
                y=sig(lrs),
                mode="lines",
                name=label,
                line=dict(color=color_of(i), width=2.5),
                hovertemplate=f"{label}<br>step %{{x}}: η = %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(layout(height, xaxis=axis(title="step t"), yaxis=axis(title="learning rate η<sub>t</sub>")))
    return fig


def band_figure(
    bands: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], y_title: str, log: bool = True, height: int = 400
) -> go.Figure:
    """Mean lines with a shaded band per series: (label, mean, low, high), each (T+1,) over steps 0..T."""
    fig = go.Figure()
    for i, (label, mean, low, high) in enumerate(bands):
        color = color_of(i)
        steps = np.arange(len(mean)).tolist()
        floor = (lambda v: np.maximum(v, LOG_FLOOR)) if log else (lambda v: v)
        rgb = tuple(int(color[k : k + 2], 16) for k in (1, 3, 5))
        fig.add_trace(
            go.Scatter(
                x=steps + steps[::-1],
                y=sig(floor(high)) + sig(floor(low))[::-1],
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
                x=steps,
                y=sig(floor(mean)),
                mode="lines",
                name=label,
                legendgroup=label,
                line=dict(color=color, width=2.5),
                hovertemplate=f"{label}<br>step %{{x}}: mean %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(
        layout(height, xaxis=axis(title="step"), yaxis=axis(title=y_title, type="log" if log else "linear"))
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


# -- stability map --------------------------------------------------------------------------------------
def _coordinate(values: np.ndarray, log: bool) -> np.ndarray:
    return np.log10(values) if log else values


def _log_ticks(values: np.ndarray) -> dict:
    low, high = math.floor(np.log10(values.min())), math.ceil(np.log10(values.max()))
    ticks = list(range(low, high + 1))
    return dict(tickvals=ticks, ticktext=[f"{10.0**k:g}" for k in ticks])


def stability_figure(
    m: StabilityMap,
    log_x: bool,
    log_y: bool,
    selected: tuple[int, int] | None = None,
    bound: tuple[np.ndarray, np.ndarray] | None = None,
    height: int = 520,
) -> go.Figure:
    """The final loss gap (log colour) over the two swept hyper-parameters; diverged cells in red.

    ``bound``: (x values, y values) of an analytic stability boundary to draw on top, e.g. GD's
    lr = 2(1 + μ)/λmax on a quadratic.
    """
    cx, cy = _coordinate(m.x_values, log_x), _coordinate(m.y_values, log_y)
    gap = np.log10(np.maximum(m.gap, LOG_FLOOR))
    shown = np.where(m.diverged, np.nan, gap)
    fig = go.Figure()
    finite = shown[np.isfinite(shown)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ticks = list(range(math.floor(zmin), math.ceil(zmax) + 1))
    if len(ticks) > 10:
        ticks = ticks[:: math.ceil(len(ticks) / 10)]
    fig.add_trace(
        go.Heatmap(
            x=sig(cx),
            y=sig(cy),
            z=np.round(shown, 3).tolist(),
            zmin=zmin,
            zmax=zmax if zmax > zmin else zmin + 1,
            colorscale="Viridis",
            reversescale=True,
            hoverinfo="skip",
            colorbar=dict(
                title=dict(text="final f − f*", side="right"),
                tickvals=ticks,
                ticktext=[f"1e{k}" for k in ticks],
            ),
            name="final loss",
        )
    )
    if m.diverged.any():
        fig.add_trace(
            go.Heatmap(
                x=sig(cx),
                y=sig(cy),
                z=np.where(m.diverged, 1.0, np.nan).tolist(),
                colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]],
                showscale=False,
                hoverinfo="skip",
                name="diverged",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name="diverged",
                marker=dict(symbol="square", size=12, color=DIVERGED_COLOR),
            )
        )
    rows, cols = picks(len(m.y_values)), picks(len(m.x_values))
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    data = [[int(r), int(c)] for r, c in zip(rr, cc)]
    hover = [
        f"{m.x_name} = {m.x_values[c]:.4g}<br>{m.y_name} = {m.y_values[r]:.4g}<br>"
        + (f"diverged at step {m.diverged_at[r, c]}" if m.diverged[r, c] else f"final f = {m.final_loss[r, c]:.4g}")
        + "<br>click: open in the Playground<extra></extra>"
        for r, c in zip(rr, cc)
    ]
    click_grid(fig, cx[cc], cy[rr], data, hover, "cells")
    if bound is not None:
        bx, by = bound
        fig.add_trace(
            go.Scatter(
                x=sig(_coordinate(np.asarray(bx), log_x)),
                y=sig(_coordinate(np.asarray(by), log_y)),
                mode="lines",
                name="analytic bound",
                line=dict(color="#111", width=2.5, dash="dash"),
                hoverinfo="skip",
            )
        )
    if selected is not None:
        r, c = selected
        fig.add_trace(
            go.Scatter(
                x=[float(cx[c])],
                y=[float(cy[r])],
                mode="markers",
                name="selected",
                marker=dict(symbol="square-open", size=16, color="#111", line=dict(width=3)),
                hoverinfo="skip",
            )
        )
    x_axis = axis(title=m.x_name, range=_edges(cx)) | (_log_ticks(m.x_values) if log_x else {})
    y_axis = axis(title=m.y_name, range=_edges(cy)) | (_log_ticks(m.y_values) if log_y else {})
    fig.update_layout(layout(height, xaxis=x_axis, yaxis=y_axis), meta=dict(kind="stability"))
    return fig


def _edges(centres: np.ndarray) -> list[float]:
    half = (centres[-1] - centres[0]) / (2 * max(len(centres) - 1, 1)) if len(centres) > 1 else 0.5
    return [float(centres[0] - half), float(centres[-1] + half)]


# -- basins of attraction -----------------------------------------------------------------------------
def label_colors(n_minima: int) -> list[str]:
    """A colour per minimum: the palette, then lighter and darker turns of it for many minima."""
    base = [color_of(i) for i in range(8)]
    out = []
    for i in range(n_minima):
        rgb = np.array([int(base[i % 8][k : k + 2], 16) for k in (1, 3, 5)], dtype=float)
        turn = (i // 8) % 3
        rgb = rgb + (255 - rgb) * 0.45 if turn == 1 else rgb * 0.6 if turn == 2 else rgb
        out.append("#" + "".join(f"{int(round(v)):02X}" for v in rgb))
    return out


def _rgb(labels: np.ndarray, colors: list[str]) -> np.ndarray:
    table = np.array([[int(c[k : k + 2], 16) for k in (1, 3, 5)] for c in colors + [DIVERGED_COLOR]], dtype=np.uint8)
    grey = np.array([int(NOT_CONVERGED_COLOR[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.uint8)
    index = np.where(labels == DIVERGED, len(colors), labels)
    rgb = table[np.clip(index, 0, len(colors))]
    rgb[labels == NOT_CONVERGED] = grey
    return rgb


def basins_figure(
    surface: Surface, b: Basins, title: str, paths: Sequence[np.ndarray] = (), height: int = 480
) -> go.Figure:
    """Each start coloured by the minimum it ends in (red: diverged, grey: not converged)."""
    colors = label_colors(len(b.minima))
    fig = go.Figure()
    lo, hi = window(surface)
    counts = b.counts()
    if surface.dim == 2:
        canvas(fig, surface, picture=False)
        # nearest-neighbour upscaling keeps the cells crisp where the browser would blur a small image
        scale = max(1, 400 // b.labels.shape[1])
        rgb = _rgb(b.labels, colors)[::-1].repeat(scale, axis=0).repeat(scale, axis=1)
        source = "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")
        picture_below(fig, source, lo, hi, opacity=0.85)
        xs, ys = b.axes
        rows, cols = picks(len(ys)), picks(len(xs))
        rr, cc = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
        gx, gy = xs[cc], ys[rr]
        found = b.labels[rr, cc]
    else:
        canvas(fig, surface)
        (xs,) = b.axes
        cc = np.arange(len(xs))
        gx, found = xs, b.labels
        gy = np.asarray(place(surface, xs[:, None])[1], dtype=float)
        rgb = _rgb(b.labels, colors)
        fig.add_trace(
            go.Scatter(
                x=sig(xs),
                y=sig(gy),
                mode="markers",
                name="starts",
                showlegend=False,
                hoverinfo="skip",
                marker=dict(size=7, color=[f"rgb({r},{g},{bl})" for r, g, bl in rgb.tolist()]),
            )
        )
    names = {DIVERGED: "diverged", NOT_CONVERGED: "not converged"}
    hover = [
        f"start ({x:.3g}" + (f", {y:.3g})" if surface.dim == 2 else ")") + f"<br>→ {names.get(int(k), f'minimum {k}')}"
        "<extra></extra>"
        for x, y, k in zip(gx, gy, found)
    ]
    click_grid(fig, gx, gy, [[float(x), float(y)] for x, y in zip(gx, gy)], hover, "starts")
    for k, color in enumerate(colors):
        if k in counts:
            share = 100 * counts[k] / b.labels.size
            x, y = place(surface, b.minima[k : k + 1])
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="markers",
                    name=f"min {k} ({share:.0f}%)",
                    marker=dict(symbol="star", size=17, color=color, line=dict(color="#111", width=1.5)),
                    hovertemplate=f"minimum {k}: x* = ({', '.join(f'{v:.4g}' for v in b.minima[k])})<extra></extra>",
                    showlegend=len(counts) <= 12,
                )
            )
    for label, key, color in (("diverged", DIVERGED, DIVERGED_COLOR), ("not converged", NOT_CONVERGED, "#9E9E9E")):
        if key in counts:
            share = 100 * counts[key] / b.labels.size
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"{label} ({share:.0f}%)",
                    marker=dict(symbol="square", size=12, color=color),
                )
            )
    for i, xs_path in enumerate(paths):
        path_trace(fig, surface, xs_path, "path from the clicked start", "#111", showlegend=i == 0)
    fig.update_layout(
        layout(height, title=dict(text=title, x=0.0, xanchor="left", y=0.98)),
        margin=dict(l=56, r=12, t=96, b=48),
        legend=dict(orientation="h", x=0.0, y=1.0, xanchor="left", yanchor="bottom", font=dict(size=12)),
        meta=dict(kind="basins", counts={str(k): v for k, v in counts.items()}),
    )
    return fig


# -- escaping local minima ------------------------------------------------------------------------------
def restarts_figure(surface: Surface, r: Restarts, height: int = 460) -> go.Figure:
    """Every restart's path (grey), the best one highlighted, starts as open circles."""
    fig = go.Figure()
    canvas(fig, surface)
    for k in range(r.xs.shape[1]):
        best = k == r.best
        path_trace(
            fig,
            surface,
            r.xs[:, k],
            "best restart" if best else "restart",
            color_of(1) if best else "rgba(40,40,40,0.55)",
            legendgroup="best" if best else "restarts",
            showlegend=best or k == (1 if r.best == 0 else 0),
        )
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height), meta=dict(kind="restarts", best=r.best))
    return fig


def restarts_summary_figure(r: Restarts, height: int = 320) -> go.Figure:
    """Final losses of the restarts (histogram) and the best found as restarts are added."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("final f per restart", "best so far"))
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
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="final f", row=1, col=1)
    fig.update_xaxes(title_text="restarts", row=1, col=2)
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
            xaxis=axis(title="step"),
            yaxis=axis(title="mean f − f*" if math.isfinite(f_ref) else "mean f"),
            yaxis2=dict(title="noise σ<sub>t</sub> (dotted)", overlaying="y", side="right", showgrid=False),
            margin=dict(l=64, r=64, t=48, b=48),
        )
    )
    return fig


# -- critical points -------------------------------------------------------------------------------
def critical_figure(
    surface: Surface, points: Sequence[CriticalPoint], clicked: CriticalPoint | None = None, height: int = 560
) -> go.Figure:
    """Critical points by kind on the surface, each with its Hessian's eigenvectors (solid: upward
    curvature λ > 0, dashed: downward λ < 0); a click anywhere selects a point to inspect."""
    fig = go.Figure()
    canvas(fig, surface)
    lo, hi = window(surface)
    reach = 0.06 * float(np.linalg.norm(hi - lo))
    for kind, style in KIND_STYLE.items():
        chosen = [cp for cp in points if cp.kind == kind]
        if not chosen:
            continue
        x, y = place(surface, np.array([cp.point for cp in chosen]))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name=f"{kind} ({len(chosen)})",
                marker=dict(size=13, line=dict(color="white", width=1.5), **style),
                customdata=[[*sig(cp.point, 5), *sig(cp.eigenvalues, 4), cp.value] for cp in chosen],
                hovertemplate=f"{kind}<br>f = %{{customdata[{surface.dim * 2}]:.5g}}<extra></extra>",
            )
        )
    if surface.dim == 2:
        for sign, dash, name in ((1, "solid", "eigenvector, λ > 0"), (-1, "dash", "eigenvector, λ < 0")):
            xs: list = []
            ys: list = []
            for cp in list(points) + ([clicked] if clicked is not None else []):
                for value, vector in zip(cp.eigenvalues, cp.eigenvectors.T):
                    if np.isfinite(value) and np.sign(value) == sign:
                        a, b = cp.point - reach * vector, cp.point + reach * vector
                        xs += [float(a[0]), float(b[0]), None]
                        ys += [float(a[1]), float(b[1]), None]
            if xs:
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines",
                        name=name,
                        hoverinfo="skip",
                        line=dict(color="#111", width=2, dash=dash),
                    )
                )
    n = CLICK_GRID
    if surface.dim == 2:
        gx = lo[0] + (np.arange(n) + 0.5) * (hi[0] - lo[0]) / n
        gy = lo[1] + (np.arange(n) + 0.5) * (hi[1] - lo[1]) / n
        mx, my = (a.ravel() for a in np.meshgrid(gx, gy))
        data = [[float(a), float(b)] for a, b in zip(mx, my)]
    else:
        mx = lo[0] + (np.arange(4 * n) + 0.5) * (hi[0] - lo[0]) / (4 * n)
        my = np.asarray(place(surface, mx[:, None])[1], dtype=float)
        data = [[float(a)] for a in mx]
    click_grid(fig, mx, my, data, "x = (%{customdata})<br>click: inspect the Hessian here<extra></extra>", "points")
    if clicked is not None:
        x, y = place(surface, clicked.point[None])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name="inspected point",
                marker=dict(symbol="circle-open", size=20, color="#111", line=dict(width=3)),
                hoverinfo="skip",
            )
        )
    fig.update_layout(layout(height), meta=dict(kind="critical", count=len(points)))
    return fig


# -- fair comparison ----------------------------------------------------------------------------------
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
            xaxis=axis(title="learning rate η", type="log"),
            yaxis=axis(title="final f − f*", type="log"),
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
    fig.update_layout(layout(height, xaxis=axis(title="step"), yaxis=axis(title="f − f* (tuned η)", type="log")))
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
