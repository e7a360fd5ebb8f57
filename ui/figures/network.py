"""The Networks page's figure: the racers' paths on the loss over one plane, animated, with what the plane hides.

Four panels share one step cursor (Play, Pause and the slider drive them all): the landscape with every
path and each racer's current point; the network's function at that step (decision boundary, or the
fitted curve); each racer's true loss beside the loss on the plane under its projected point; and each
iterate's distance from the plane. As on the Playground (ui/figures/race.py says why), the landscape is a
PNG in ``layout.images`` with its iso-lines as scatter traces, the paths are drawn whole once, and frames
update only small scatter traces with ``redraw: false``: a frame's bytes do not grow with the steps.
"""

from __future__ import annotations

import base64
import html

import numpy as np

from ui.figures.style import DIVERGED_COLOR, FONT, axis_style, color_of, log_axis
from ui.figures.surface_picture import (
    contour_lines,
    contour_trace,
    equalizer,
    image_layout,
    iso_levels,
    iso_line_arrays,
    png_bytes,
    washed_viridis,
)

IMAGE_PIXELS = 160
BOUNDARY_MAX_POINTS = 2_000  # vertices of one decision boundary in one frame

# How the figure is laid out: per panel (landscape, the network's function, loss, distance) its (x, y) domains.
# "standard": two by two, a tenth of the width between the columns for the right panels' tick labels (a
# projector's 150 % zoom leaves the figure ~470 px), the controls under the plot area. "phone" (~350 CSS
# pixels wide): the panels one under another at full width, the landscape on top and tallest, gaps for each
# panel's ticks and axis title; the slider on a row of its own (beside the buttons it would be ~150 px long),
# Play and Pause under it, both right under the landscape, so that the map and Play fit one screen; smaller
# text. The controls' y positions are fractions of the plot area's height.
SHAPES = {
    "standard": dict(
        height=860, font=14, legend=14, legend_gap=0.02, margin=dict(l=70, r=20, t=60, b=150),
        domains=[([0.0, 0.54], [0.40, 1.0]), ([0.64, 1.0], [0.40, 1.0]), ([0.0, 0.44], [0.0, 0.28]),
                 ([0.56, 1.0], [0.0, 0.28])],
        slider_x=0.22, slider_y=-0.1, buttons_y=-0.1,
    ),
    "phone": dict(
        height=1500, font=12, legend=11, legend_gap=0.01, margin=dict(l=52, r=12, t=70, b=50),
        domains=[([0.0, 1.0], [0.72, 1.0]), ([0.0, 1.0], [0.36, 0.55]), ([0.0, 1.0], [0.17, 0.30]),
                 ([0.0, 1.0], [0.0, 0.11])],
        slider_x=0.0, slider_y=0.685, buttons_y=0.625,
    ),
}  # fmt: skip


def _upsampled(z: np.ndarray, pixels: int) -> np.ndarray:
    """(pixels, pixels) bilinear samples of the grid z (ny, nx), corner to corner."""
    ny, nx = z.shape
    rows = np.array([np.interp(np.linspace(0, nx - 1, pixels), np.arange(nx), row) for row in z])
    return np.array([np.interp(np.linspace(0, ny - 1, pixels), np.arange(ny), col) for col in rows.T]).T


def landscape_image(losses: np.ndarray) -> str:
    """The loss over the grid as a PNG data URI (colours spread evenly over the picture's area)."""
    z = _upsampled(
        np.where(np.isfinite(losses), losses, np.nanmax(losses[np.isfinite(losses)], initial=1.0)), IMAGE_PIXELS
    )
    t = equalizer(z)(z)
    anchors = washed_viridis()
    pos = t * (len(anchors) - 1)
    rgb = np.stack([np.interp(pos, np.arange(len(anchors)), anchors[:, c]) for c in range(3)], axis=-1)
    rgb = np.clip(np.round(rgb), 0, 255).astype(np.uint8)[::-1]  # PNG rows run top to bottom
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")


def loss_hover_trace(view) -> dict:
    """Invisible markers at the grid's points: hovering (or tapping) the map reads the loss on the plane there,
    which the picture's colours cannot tell (they are spread evenly over its area, not linear in the loss)."""
    a, b = np.meshgrid(view.alphas, view.betas)
    names = ("PC1", "PC2") if view.plane.kind == "pca" else ("direction 1", "direction 2")
    # float32 arrays, sent as binary: half the bytes of float64, exact to the hover's digits, and no Python loop
    # over the grid's 3,721 points at every rerun (formatting each took 4 ms); a loss past float32 shows as inf
    return dict(
        type="scatter", mode="markers", x=a.ravel().astype(np.float32), y=b.ravel().astype(np.float32),
        customdata=view.losses.ravel().astype(np.float32),
        marker=dict(size=8, opacity=0), showlegend=False, name="loss on the plane",
        hovertemplate=f"{names[0]} %{{x:.3g}}, {names[1]} %{{y:.3g}}<br>loss on the plane %{{customdata:.4g}}"
        "<extra></extra>",
    )  # fmt: skip


def _text(label: str) -> str:
    return html.escape(label, quote=False).replace("%{", "%\u200b{")


def _at(values: np.ndarray, step: int) -> float | None:
    """values[step], or the last one for a path that stopped (diverged) before ``step``; None for an empty one."""
    if len(values) == 0:
        return None
    return float(values[min(step, len(values) - 1)])


def _boundary(axes, logits: np.ndarray) -> tuple[list, list]:
    """The decision boundary (logit = 0) as one polyline set, lines apart by a gap."""
    gx, gy = axes
    z = logits.reshape(len(gy), len(gx))
    lines = contour_lines(gx, gy, z, 0.0) if np.nanmin(z) < 0 < np.nanmax(z) else []
    xs: list = []
    ys: list = []
    for line in lines:
        xs += np.round(line[:, 0], 4).tolist() + [None]
        ys += np.round(line[:, 1], 4).tolist() + [None]
    keep = max(1, -(-len(xs) // BOUNDARY_MAX_POINTS))
    return xs[::keep], ys[::keep]


def network_spec(picture, paths, data, labels: list[str], phone: bool = False) -> dict:
    """The figure as a plain ``{"data", "layout", "frames"}`` dict (see ui/figures/plain.py).

    ``phone``: the four panels one under another at the screen's width; otherwise two by two (:data:`SHAPES`)."""
    view, steps = picture.view, picture.steps
    racers = range(len(labels))
    colors = [color_of(r) for r in racers]
    current = steps[-1]
    lo = np.array([view.alphas[0], view.betas[0]])
    hi = np.array([view.alphas[-1], view.betas[-1]])
    gx, gy = iso_line_arrays(view.alphas, view.betas, view.losses, iso_levels(view.losses))
    static: list[dict] = [contour_trace(gx, gy), loss_hover_trace(view)]
    for r in racers:
        coords = view.coords[r]
        if not len(coords):
            continue
        custom = np.column_stack(
            [np.arange(len(coords)), paths.losses[r], view.plane_losses[r], view.distances[r]]
        ).round(6)
        static.append(
            dict(
                type="scatter", x=coords[:, 0].round(6), y=coords[:, 1].round(6), mode="lines",
                name=_text(labels[r]), legendgroup=str(r), line=dict(color=colors[r], width=2.5),
                customdata=custom,
                hovertemplate=f"{_text(labels[r])}<br>step %{{customdata[0]}}<br>loss %{{customdata[1]:.4g}}"
                "<br>on the plane %{customdata[2]:.4g}<br>off the plane %{customdata[3]:.3g}<extra></extra>",
            )
        )  # fmt: skip
    static.append(
        dict(
            type="scatter", x=[float(view.coords[0][0, 0])] if len(view.coords[0]) else [],
            y=[float(view.coords[0][0, 1])] if len(view.coords[0]) else [], mode="markers", name="start",
            marker=dict(symbol="x", size=12, color="black"), hoverinfo="skip",
        )
    )  # fmt: skip
    # the function panel's data
    if data.task == "classify":
        for label, marker in ((0, "circle"), (1, "diamond")):
            rows = data.y[:, 0] == label
            static.append(
                dict(
                    type="scatter", x=data.X[rows, 0], y=data.X[rows, 1], mode="markers", xaxis="x2", yaxis="y2",
                    name=f"class {label}", marker=dict(symbol=marker, size=6, color="#444" if label else "#bbb",
                    line=dict(width=0.5, color="#222")), showlegend=False, hoverinfo="skip",
                )
            )  # fmt: skip
    else:
        static.append(
            dict(
                type="scatter", x=data.X[:, 0], y=data.y[:, 0], mode="markers", xaxis="x2", yaxis="y2",
                name="data", marker=dict(size=5, color="#999"), showlegend=False, hoverinfo="skip",
            )
        )  # fmt: skip
    # true loss (solid) and the loss on the plane under the projected point (dotted), distance from the plane
    for r in racers:
        n = len(paths.losses[r])
        static.append(
            dict(
                type="scatter", x=np.arange(n), y=paths.losses[r], mode="lines", xaxis="x3", yaxis="y3",
                line=dict(color=colors[r], width=2), legendgroup=str(r), showlegend=False,
                name=f"{_text(labels[r])}: true loss",
            )
        )  # fmt: skip
        static.append(
            dict(
                type="scatter", x=np.arange(n), y=view.plane_losses[r], mode="lines", xaxis="x3", yaxis="y3",
                line=dict(color=colors[r], width=1.5, dash="dot"), legendgroup=str(r), showlegend=False,
                name=f"{_text(labels[r])}: on the plane",
            )
        )  # fmt: skip
        static.append(
            dict(
                type="scatter", x=np.arange(n), y=view.distances[r], mode="lines", xaxis="x4", yaxis="y4",
                line=dict(color=colors[r], width=2), legendgroup=str(r), showlegend=False,
                name=f"{_text(labels[r])}: off the plane",
            )
        )  # fmt: skip
        if paths.diverged_at[r] is not None and n:
            x_end, y_end = float(view.coords[r][-1, 0]), float(view.coords[r][-1, 1])
            # the label runs towards the window's middle: centred on a point near an edge, the plot cut it off
            inward = "top right" if x_end < (lo[0] + hi[0]) / 2 else "top left"
            static.append(
                dict(
                    type="scatter", x=[x_end], y=[y_end],
                    mode="markers+text", text=[f"diverged at step {paths.diverged_at[r]}"], textposition=inward,
                    marker=dict(symbol="x-thin", size=16, color=DIVERGED_COLOR, line=dict(width=3, color=DIVERGED_COLOR)),
                    showlegend=False, hoverinfo="skip", textfont=dict(color=DIVERGED_COLOR),
                )
            )  # fmt: skip

    def animated(k: int) -> list[dict]:
        step = steps[k]
        heads = [(_at(view.coords[r][:, 0], step), _at(view.coords[r][:, 1], step)) for r in racers]
        loss_x, loss_y, loss_c = [], [], []
        for r in racers:
            for series in (paths.losses[r], view.plane_losses[r]):
                loss_x.append(min(step, len(series) - 1) if len(series) else None)
                loss_y.append(_at(series, step))
                loss_c.append(colors[r])
        out = [
            dict(x=[h[0] for h in heads], y=[h[1] for h in heads]),
            dict(x=loss_x, y=loss_y),
            dict(x=[min(step, len(view.distances[r]) - 1) for r in racers], y=[_at(view.distances[r], step) for r in racers]),
        ]  # fmt: skip
        for r in racers:
            values = picture.outputs[r][k] if len(picture.outputs[r]) else np.zeros(0)
            if picture.grid_axes is not None:
                xs, ys = _boundary(picture.grid_axes, values)
                out.append(dict(x=xs, y=ys))
            else:
                out.append(dict(x=picture.inputs[:, 0].round(4), y=values.round(5)))
        return out

    styles = [
        dict(type="scatter", mode="markers", name="now", showlegend=False, hoverinfo="skip",
             marker=dict(size=14, color=colors, line=dict(width=2, color="white"))),
        dict(type="scatter", mode="markers", xaxis="x3", yaxis="y3", showlegend=False, hoverinfo="skip",
             marker=dict(size=9, color=[colors[r] for r in racers for _ in range(2)]), name="now"),
        dict(type="scatter", mode="markers", xaxis="x4", yaxis="y4", showlegend=False, hoverinfo="skip",
             marker=dict(size=9, color=colors), name="now"),
    ] + [
        dict(type="scatter", mode="lines", xaxis="x2", yaxis="y2", showlegend=False, name=_text(labels[r]),
             line=dict(color=colors[r], width=2.5), hoverinfo="skip")
        for r in racers
    ]  # fmt: skip
    last = len(steps) - 1
    first = len(static)
    animated_idx = list(range(first, first + len(styles)))
    data_traces = static + [style | part for style, part in zip(styles, animated(last))]
    frames = [dict(name=str(s), data=animated(k), traces=animated_idx) for k, s in enumerate(steps)]
    play_args = dict(
        frame=dict(duration=60, redraw=False), transition=dict(duration=0), mode="immediate", fromcurrent=True
    )
    still = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    buttons = [
        dict(label="▶ Play", method="animate", args=[None, play_args]),
        dict(label="❚❚ Pause", method="animate", args=[[None], still]),
    ]
    shape = SHAPES["phone" if phone else "standard"]
    font = FONT | dict(size=shape["font"])
    slider = dict(
        active=last, x=shape["slider_x"], len=1.0 - shape["slider_x"], y=shape["slider_y"], yanchor="top",
        pad=dict(t=30), currentvalue=dict(prefix="step ", font=dict(size=shape["font"] + 1)),
        transition=dict(duration=0),
        steps=[dict(label=str(s), method="animate", args=[[str(s)], still]) for s in steps],
    )  # fmt: skip
    # short titles: in a narrow column (a projector's 150 % zoom) a panel is ~170 px wide
    task_title = "decision boundary (logit = 0)" if data.task == "classify" else "the network's fitted curve"
    explained = view.plane.explained
    if view.plane.kind == "pca":
        plane_titles = (f"PC1 ({explained[0]:.1%} of the variance)", f"PC2 ({explained[1]:.1%})")
    else:
        plane_titles = ("filter-normalized direction 1", "filter-normalized direction 2")
    domains = shape["domains"]

    def axis(side: str, k: int, title: str | None = None, **extra) -> dict:
        """Panel k's x or y axis: its domain, anchored to the panel's other axis, and its title."""
        placed = dict(domain=domains[k - 1][side == "y"])
        if k > 1:
            placed["anchor"] = f"{'y' if side == 'x' else 'x'}{k}"
        if title is not None:
            placed["title"] = dict(text=title)
        return axis_style(**placed, **extra)

    layout = dict(
        template={}, height=shape["height"], font=font, paper_bgcolor="white", plot_bgcolor="white",
        hovermode="closest", margin=shape["margin"],
        legend=dict(orientation="h", x=0.0, y=1.0 + shape["legend_gap"], xanchor="left", yanchor="bottom",
                    font=dict(size=shape["legend"])),
        images=[image_layout(landscape_image(view.losses), lo, hi)],
        xaxis=axis("x", 1, plane_titles[0], range=[float(lo[0]), float(hi[0])]),
        yaxis=axis("y", 1, plane_titles[1], range=[float(lo[1]), float(hi[1])]),
        xaxis2=axis("x", 2, task_title),
        yaxis2=axis("y", 2),
        xaxis3=axis("x", 3, "loss: solid; on the plane: dotted"),
        yaxis3=axis("y", 3, **log_axis()),
        xaxis4=axis("x", 4, "distance from the plane"),
        yaxis4=axis("y", 4),
        updatemenus=[dict(type="buttons", direction="left", showactive=False, buttons=buttons, x=0.0,
                          y=shape["buttons_y"], xanchor="left", yanchor="top", pad=dict(t=30))],
        sliders=[slider],
        meta=dict(kind="network", frames=len(frames), frame_steps=steps, current_step=current,
                  animated=animated_idx, racers=len(labels), phone=phone),
    )  # fmt: skip
    if phone:
        # the figure is two screens tall: a finger's drag over it scrolls the page instead of zooming a panel
        # (plotly.js leaves the touch to the browser with dragmode off; a tap still shows the hover)
        layout["dragmode"] = False
    if picture.grid_axes is not None:
        gx2, gy2 = picture.grid_axes
        layout["xaxis2"]["range"] = [float(gx2[0]), float(gx2[-1])]
        layout["yaxis2"]["range"] = [float(gy2[0]), float(gy2[-1])]
    return dict(data=data_traces, layout=layout, frames=frames)
