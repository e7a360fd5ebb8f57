"""The Landscape Lab's maps: the stability map over two hyper-parameters, the basins of attraction and
the critical points with their Hessian's eigenvectors (arrays in, plotly Figures out; no Streamlit).

Each map can be clicked: it carries an invisible grid of markers (ui.figures.lab_canvas.click_grid) whose
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
from gdviz.landscape import DIVERGED, NOT_CONVERGED, Basins, StabilityMap
from gdviz.surfaces.base import Surface
from ui.figures.lab_canvas import (
    CLICK_GRID,
    LOG_FLOOR,
    canvas,
    click_grid,
    layout,
    path_trace,
    picks,
    picture_below,
    place,
    window,
)
from ui.figures.style import DIVERGED_COLOR, LOSS_COLORSCALE, axis_style, color_of, sig
from ui.figures.surface_picture import png_bytes

NOT_CONVERGED_COLOR = "#BDBDBD"
KIND_STYLE = {
    "minimum": dict(symbol="circle", color="#0072B2"),
    "maximum": dict(symbol="triangle-up", color="#D55E00"),
    "saddle": dict(symbol="x", color="#E69F00"),
    "degenerate": dict(symbol="diamond", color="#555555"),
}


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
    optima: Sequence[tuple[float, float, str]] = (),
) -> go.Figure:
    """The final loss gap (log colour) over the two swept hyper-parameters; diverged cells in red.

    ``bound``: (x values, y values) of an analytic stability boundary to draw on top, e.g. heavy ball's
    lr = 2(1 + μ)/λmax on a quadratic. ``optima``: (x, y, label) of settings the theory calls optimal, each
    a marker named in the legend (one outside the map's ranges is not drawn).
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
            colorscale=LOSS_COLORSCALE,  # low loss in the Playground's colour
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
    for (ox, oy, label), symbol in zip(optima, ("star", "diamond", "circle")):
        if not (_within(ox, m.x_values) and _within(oy, m.y_values)):
            continue
        fig.add_trace(
            go.Scatter(
                x=sig(_coordinate(np.array([ox]), log_x)),
                y=sig(_coordinate(np.array([oy]), log_y)),
                # named in the legend, not written beside the marker: the two optima of a quadratic lie a
                # marker apart, often on the map's right edge, where the words ran over each other and off it
                mode="markers",
                name=label,
                marker=dict(symbol=symbol, size=17, color="white", line=dict(color="#111", width=2)),
                hovertemplate=f"{label}<br>{m.x_name} = {ox:.4g}<br>{m.y_name} = {oy:.4g}<extra></extra>",
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
    x_axis = axis_style(title=m.x_name, range=_edges(cx)) | (_log_ticks(m.x_values) if log_x else {})
    y_axis = axis_style(title=m.y_name, range=_edges(cy)) | (_log_ticks(m.y_values) if log_y else {})
    fig.update_layout(layout(height, xaxis=x_axis, yaxis=y_axis), meta=dict(kind="stability"))
    return fig


def _within(value: float, values: np.ndarray) -> bool:
    return bool(values.min() <= value <= values.max())


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


def basins_figure(surface: Surface, b: Basins, paths: Sequence[np.ndarray] = (), height: int = 440) -> go.Figure:
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
        layout(height),
        margin=dict(l=56, r=12, t=56, b=48),
        # 14 px: a 12 px legend's rows were closer than its 17 px stars, which touched once the legend wrapped
        # (plotly's constant item size would draw the path's line as a 5 px bar)
        legend=dict(orientation="h", x=0.0, y=1.0, xanchor="left", yanchor="bottom", font=dict(size=14)),
        meta=dict(kind="basins", counts={str(k): v for k, v in counts.items()}),
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
