"""The race figure's traces: the static ones (surface, landmarks) once, the animated ones at any step.

A frame sets each path to its prefix up to the frame's step, so the payload grows like
frames × path points: steps are subsampled to at most ``max_frames`` frames, paths to a point
budget, and coordinates are rounded to what a screen can show. Hover values come from the base
trace's ``customdata`` (aligned point for point with every prefix), so frames never repeat them.

Conventions: point ``t`` of a path is the iterate after torch step ``t`` (``t = 0`` the start). The
glyphs of step ``t`` start at ``x_{t-1}`` and show that step: the update ``x_t - x_{t-1}``, the
plain gradient step ``-η_t g_t`` and, when the optimizer keeps one, the momentum step ``-η_t m_t``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gdviz.surfaces.base import Surface
from ui.figures.style import DIVERGED_COLOR, Runs, clip_drawing, hover_rows, hover_template, plot_window, sig
from ui.figures.surface_picture import (
    cell_grid,
    contour_trace,
    image_layout,
    iso_levels,
    iso_line_arrays,
    surface_image,
    surface_values,
)

# (key, legend name, dash) of the arrows drawn at the current step
GLYPHS = (
    ("update", "Δx  update", "solid"),
    ("gradient", "−η·g  gradient step", "dot"),
    ("momentum", "−η·m  momentum", "dash"),
)
# prefix points summed over all frames and runs; ~15 bytes each keeps the frames near 1 MB
FRAME_POINT_BUDGET = 80_000
# the least a path or an animation is cut to when many runs share the budget: below these a path stops
# reading as a path and Play as motion
MIN_PATH_POINTS = 60
MIN_FRAMES = 24
# step arrows are drawn for at most this many runs: 64 runs' arrows are a tangle nobody can read, and they
# were a third of the heaviest race chart's bytes (the inspector still shows any run's vectors)
MAX_GLYPH_RUNS = 16
# arrows shorter than this share of the window are not drawn (a few pixels: an arrow head on a dot), and
# shorter than MAGNIFY_BELOW they are drawn magnified to that length, except at a known minimum, where
# magnified arrows of a converged run would knot over the star
HIDE_BELOW = 0.005
MAGNIFY_BELOW = 0.04
AT_MINIMUM = 0.04  # a point this close to a known minimum (share of the window) sits on its star
CONTOUR_GRID = 90
HOVER_GRID = 40


# -- numbers the browser can show -------------------------------------------------------------------
def _fixed(values: np.ndarray, decimals: int) -> list:
    """Round to ``decimals`` places (chosen from the plot window, so nothing visible is lost)."""
    return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()


def _decimals(span: float) -> int:
    return int(max(0, 6 - np.ceil(np.log10(max(span, 1e-12)))))


# -- which steps are drawn ---------------------------------------------------------------------------
def _frame_steps(steps: int, max_frames: int, current: int) -> list[int]:
    """At most ``max_frames + 1`` steps from 0 to ``steps``, evenly spaced, containing ``current``."""
    chosen = np.unique(np.round(np.linspace(0, steps, min(steps, max(max_frames, 1)) + 1)).astype(int))
    if current not in chosen:
        # the nearest frame between the first and the last gives way (the first one if there is none)
        inner = np.abs(chosen[1:-1] - current)
        chosen[1 + int(np.argmin(inner)) if inner.size else 0] = current
        chosen = np.unique(chosen)
    return [int(s) for s in chosen]


def _path_points(steps: int, runs: list[Runs], n_frames: int, exits: list[int] = ()) -> np.ndarray:
    """The steps a path is drawn through: all of them unless the frames would blow the budget
    (``exits``: where diverged runs leave the window, kept like their last good points)."""
    cap = _point_cap(sum(r.n_runs for r in runs) or 1, n_frames)
    if steps + 1 <= cap:
        return np.arange(steps + 1)
    keep = np.round(np.linspace(0, steps, cap)).astype(int)
    extra = [int(d) - 1 for r in runs for d in r.diverged if d > 0] + list(exits)  # every path's last point
    return np.unique(np.concatenate([keep, np.array(extra, dtype=int)]))


def _until_exit(r: Runs, surface: Surface) -> Runs:
    """A diverged run up to its last point before it first leaves the surface's bounds, so that the window
    shows where it leaves the map, not where it blew up."""
    if not np.any(r.diverged >= 0):
        return r
    lo, hi = np.asarray(surface.bounds, dtype=np.float64).T
    outside = np.any((r.xs < lo) | (r.xs > hi), axis=-1)  # (S+1, R)
    cut = r.diverged.copy()
    for k in np.flatnonzero(r.diverged >= 0):
        out = np.flatnonzero(outside[: r.last[k] + 1, k])
        cut[k] = max(out[0], 1) if out.size else cut[k]
    return replace(r, diverged=cut)


def _point_cap(series: int, n_frames: int) -> int:
    """Points per path so that the frames' prefixes (on average half a path each) fit FRAME_POINT_BUDGET,
    but never fewer than MIN_PATH_POINTS."""
    return max(MIN_PATH_POINTS, int(2 * FRAME_POINT_BUDGET / (n_frames * series)))


def _frame_cap(series: int, steps: int, max_frames: int) -> int:
    """``max_frames``, or fewer (at least MIN_FRAMES) when even paths of MIN_PATH_POINTS would overrun the
    budget: 8 optimizers × 8 starts once sent 121 frames × 64 paths × 150 points, a 17.9 MB chart (issue 17)."""
    points = min(steps + 1, MIN_PATH_POINTS)
    return int(min(max_frames, max(MIN_FRAMES, 2 * FRAME_POINT_BUDGET // (series * points))))


def _joined(blocks: list[list], counts: list[int]) -> list:
    """Concatenate per-run prefixes into one trace, separated by None. Every run but the last is padded
    with None to its full length so that point i always matches the base trace's customdata[i]."""
    out: list = []
    for k, (block, n) in enumerate(zip(blocks, counts)):
        out += block[:n]
        if k < len(blocks) - 1:
            out += [None] * (len(block) - n + 1)
    return out


class RaceTraces:
    """Builds the race figure's traces: the static ones once, the animated ones at any step.

    Animated traces, in order: one path per optimizer, one trace holding every optimizer's head (the
    point at the current step), and one trace per arrow kind holding that arrow of every run. Few
    traces per frame keep plotly.py's per-object cost, and the browser's, low.
    """

    def __init__(self, surface: Surface, runs: list[Runs], current: int | None, max_frames: int, glyphs: bool):
        self.surface, self.runs, self.dim = surface, runs, surface.dim
        self.steps = max((r.steps for r in runs), default=0)
        self.current = int(np.clip(self.steps if current is None else current, 0, self.steps))
        series = sum(r.n_runs for r in runs) or 1
        max_frames = _frame_cap(series, self.steps, max_frames)
        self.frame_steps = _frame_steps(self.steps, max_frames, self.current) if runs else []
        self.lo, self.hi = plot_window(surface, [_until_exit(r, surface) for r in runs])
        if self.dim == 2:
            self.view_lo, self.view_hi = self.lo, self.hi
        else:
            curve_x = np.linspace(self.lo[0], self.hi[0], 400)
            self.curve = (curve_x, surface_values(surface, curve_x[:, None]))
            finite = self.curve[1][np.isfinite(self.curve[1])]
            y_lo, y_hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            pad = 0.06 * max(y_hi - y_lo, 1e-9)
            self.view_lo, self.view_hi = np.array([self.lo[0], y_lo - pad]), np.array([self.hi[0], y_hi + pad])
        self.span = self.view_hi - self.view_lo
        self.decimals = [_decimals(float(s)) for s in self.span]
        self.drawn = [self._drawn(r) for r in runs]
        self.shown = [self._shown_last(r, drawn) for r, drawn in zip(runs, self.drawn)]
        exits = [int(s) for r, shown in zip(runs, self.shown) for s in shown[shown < r.last]]
        self.points = _path_points(self.steps, runs, max(len(self.frame_steps), 1), exits)
        self.rows = [[hover_rows(r, k) for k in range(r.n_runs)] for r in runs]
        self.blocks = [[self.points[self.points <= last] for last in shown] for shown in self.shown]
        self.block_xy = [[self._xy(d[b, k]) for k, b in enumerate(bl)] for d, bl in zip(self.drawn, self.blocks)]
        self.kinds = [key for key, _, _ in GLYPHS if key != "momentum" or any(r.momentum is not None for r in runs)]
        self.kinds = self.kinds if glyphs and runs and series <= MAX_GLYPH_RUNS else []
        self.momenta = [r.momentum for r in runs]
        minima = np.asarray(surface.minima, dtype=np.float64)
        self.minima = minima.reshape(-1, self.dim) if minima.size and minima.shape[-1] == self.dim else None

    def _drawn(self, r: Runs) -> np.ndarray:
        """(S+1, R, 2) the plot coordinates of every iterate: x itself in 2-D, (x, f(x)) in 1-D."""
        xy = r.xs if self.dim == 2 else np.stack([r.xs[..., 0], r.losses], axis=-1)
        return clip_drawing(xy, self.view_lo, self.view_hi)

    def _shown_last(self, r: Runs, drawn: np.ndarray) -> np.ndarray:
        """(R,) the last point drawn of each run: a diverged run stops at its first point outside the window,
        where its X then waits on the edge. Drawn to the end, its ever wider swings paint a block of lines
        over the map that hides every other path (GD at η = 0.6 on d2l's 0.1x₁² + 2x₂²)."""
        outside = np.any((drawn < self.view_lo) | (drawn > self.view_hi), axis=-1)  # (S+1, R)
        shown = r.last.copy()
        for k in np.flatnonzero(r.diverged >= 0):
            out = np.flatnonzero(outside[: r.last[k] + 1, k])
            shown[k] = out[0] if out.size else shown[k]
        return shown

    def _xy(self, values: np.ndarray) -> tuple[list, list]:
        return _fixed(values[..., 0], self.decimals[0]), _fixed(values[..., 1], self.decimals[1])

    # -- animated traces ------------------------------------------------------------------------
    def animated(self, step: int) -> list[dict]:
        out = []
        for blocks, full in zip(self.blocks, self.block_xy):
            counts = [int(np.searchsorted(b, step, side="right")) for b in blocks]
            xs, ys = _joined([f[0] for f in full], counts), _joined([f[1] for f in full], counts)
            if len(blocks) == 1:
                # no gaps: a float32 array is sent as compact binary and spares plotly.py's per-element checks
                xs, ys = np.array(xs, dtype=np.float32), np.array(ys, dtype=np.float32)
            out.append(dict(type="scatter", x=xs, y=ys))
        heads = dict(type="scatter", x=[], y=[], customdata=[], marker=dict(symbol=[], color=[], size=[]))
        for r, drawn, rows, shown in zip(self.runs, self.drawn, self.rows, self.shown):
            at = np.minimum(step, shown)
            gone = (step >= shown) & (shown < r.last)  # left the window on its way to diverging
            dead = (((r.diverged >= 0) & (step >= r.diverged)) | gone).tolist()
            # a head outside the window waits on its edge (a diverged run's X stays in sight)
            inset = 0.01 * self.span
            hx, hy = self._xy(np.clip(drawn[at, np.arange(r.n_runs)], self.view_lo + inset, self.view_hi - inset))
            heads["x"] += hx
            heads["y"] += hy
            heads["customdata"] += [
                rows[k][a]
                if not out
                else [*rows[k][a][:-1], f"<br><b>off the map; diverged at step {r.diverged[k]}</b>"]
                for k, (a, out) in enumerate(zip(at.tolist(), gone.tolist()))
            ]
            heads["marker"]["symbol"] += ["x" if d else "circle" for d in dead]
            heads["marker"]["color"] += [DIVERGED_COLOR if d else r.color for d in dead]
            heads["marker"]["size"] += [18 if d else 12 for d in dead]
        out.append(heads)
        return out + self._glyphs(step)

    def _glyphs(self, step: int) -> list[dict]:
        """One trace per arrow kind; arrow i is points 3i (tail), 3i+1 (head), 3i+2 (gap) of run i.

        customdata per point is [v_1, .., v_d, note]: the arrow's true vector, and how it was scaled."""
        traces = {key: dict(type="scatter", x=[], y=[], customdata=[]) for key in self.kinds}
        blank = [None] * (self.dim + 1)
        offsets = {"update": 0.0, "gradient": 0.035, "momentum": -0.035}  # 1-D: keep the arrows apart
        for r, drawn, momentum, shown in zip(self.runs, self.drawn, self.momenta, self.shown):
            for k in range(r.n_runs):
                vectors = {}
                if 1 <= step <= shown[k]:
                    lr = r.lrs[step - 1, k]
                    vectors = {"update": r.xs[step, k] - r.xs[step - 1, k], "gradient": -lr * r.grads[step - 1, k]}
                    if momentum is not None:
                        vectors["momentum"] = -lr * momentum[step, k]
                planar = {key: v if self.dim == 2 else np.array([v[0], 0.0]) for key, v in vectors.items()}
                reach = max((float(np.hypot(*(v / self.span))) for v in planar.values()), default=0.0)
                # arrows are drawn to scale unless that would make them invisible or leave the window
                scale = 0.3 / reach if reach > 0.3 else (MAGNIFY_BELOW / reach if 0 < reach < MAGNIFY_BELOW else 1.0)
                hidden = reach < HIDE_BELOW or (scale > 1.0 and self._at_minimum(r.xs[step - 1, k]))
                note = f"  (drawn ×{scale:.2g})" if scale != 1.0 else ""
                for key in self.kinds:
                    trace, v = traces[key], planar.get(key)
                    if v is None or not np.any(v) or hidden:
                        trace["x"] += [None] * 3
                        trace["y"] += [None] * 3
                        trace["customdata"] += [blank] * 3
                        continue
                    start = drawn[step - 1, k] + (
                        0.0 if self.dim == 2 else np.array([0.0, offsets[key] * self.span[1]])
                    )
                    (x0, x1), (y0, y1) = self._xy(np.stack([start, start + scale * v]))
                    row = [*sig(vectors[key], 4), note]
                    trace["x"] += [x0, x1, None]
                    trace["y"] += [y0, y1, None]
                    trace["customdata"] += [row, row, blank]
        return [traces[key] for key in self.kinds]

    def _at_minimum(self, x: np.ndarray) -> bool:
        """Whether x sits on a known minimum's star (within AT_MINIMUM of the window)."""
        if self.minima is None:
            return False
        return bool(np.any(np.linalg.norm((self.minima - x) / self.span[: self.dim], axis=1) < AT_MINIMUM))

    def animated_styles(self) -> list[dict]:
        """The constant part of every animated trace, in the order of :meth:`animated`."""
        styles = []
        small = len(self.points) > 150
        for r, rows, blocks in zip(self.runs, self.rows, self.blocks):
            data: list = []
            for k, b in enumerate(blocks):
                data += [rows[k][t] for t in b.tolist()] + ([[None] * (self.dim + 6)] if k < len(blocks) - 1 else [])
            styles.append(
                dict(
                    mode="lines+markers",
                    name=r.text,
                    legendgroup=r.text,
                    customdata=data,
                    hovertemplate=hover_template(r.text, self.dim, r.n_runs > 1),
                    line=dict(color=r.color, width=2.5),
                    marker=dict(color=r.color, size=3 if small else 5),
                )
            )
        templates = [hover_template(r.text, self.dim, r.n_runs > 1) for r in self.runs for _ in range(r.n_runs)]
        styles.append(
            dict(
                mode="markers",
                name="current step",
                showlegend=False,
                hovertemplate=templates,
                marker=dict(line=dict(color="white", width=1.5)),
            )
        )
        colors = [r.color for r in self.runs for _ in range(r.n_runs) for _ in range(3)]
        arrows = len(colors) // 3
        vector = ", ".join(f"%{{customdata[{k}]:.4g}}" for k in range(self.dim))
        for key, name, dash in GLYPHS:
            if key in self.kinds:
                hover = [
                    f"<b>{r.text}</b><br>{name} = ({vector})%{{customdata[{self.dim}]}}<extra></extra>"
                    for r in self.runs
                    for _ in range(r.n_runs)
                    for _ in range(3)
                ]
                styles.append(
                    dict(
                        mode="lines+markers",
                        name=name,
                        legendgroup=key,
                        hovertemplate=hover,
                        line=dict(color="#262626", width=3 if key == "update" else 2, dash=dash),
                        marker=dict(
                            symbol=["circle", "arrow", "circle"] * arrows,
                            size=[0, 15, 0] * arrows,
                            color=colors,
                            angleref="previous",
                            line=dict(color="#262626", width=1),
                        ),
                    )
                )
        return styles

    # -- static traces ------------------------------------------------------------------------------
    def surface_traces(self) -> tuple[list[dict], list[dict], dict]:
        """The surface's traces, the layout image, and facts for ``layout.meta``."""
        s, lo, hi = self.surface, self.lo, self.hi
        if self.dim == 1:
            cx, cy = self.curve
            curve = dict(
                type="scatter",
                x=_fixed(cx, self.decimals[0]),
                y=sig(cy),
                mode="lines",
                name="f(x)",
                line=dict(color="#555", width=3),
                hovertemplate="x = %{x:.4g}<br>f(x) = %{y:.5g}<extra></extra>",
            )
            return [curve], [], {}
        source, _ = surface_image(s, lo, hi)
        image = image_layout(source, lo, hi)
        gx, gy = cell_grid(lo, hi, CONTOUR_GRID)
        z = surface_values(s, np.stack(np.meshgrid(gx, gy), axis=-1))
        levels = iso_levels(z)
        contours = contour_trace(*iso_line_arrays(gx, gy, z, levels))
        hx, hy = cell_grid(lo, hi, HOVER_GRID)
        mesh = np.stack(np.meshgrid(hx, hy), axis=-1).reshape(-1, 2)
        # points that are hovered and clicked but not drawn: hover labels for the picture, and the click that
        # moves the start (ui/live_chart.py). Drawn as invisible markers (the same to the eye), the 1,600
        # points cost ~60 ms of every redraw of the race, a third of it
        grid = dict(
            type="scatter",
            x=_fixed(mesh[:, 0], self.decimals[0]),
            y=_fixed(mesh[:, 1], self.decimals[1]),
            customdata=sig(surface_values(s, mesh), 5),
            mode="none",
            name="surface",
            showlegend=False,
            hovertemplate="x = (%{x:.4g}, %{y:.4g})<br>f(x) = %{customdata:.5g}<extra>surface</extra>",
        )
        return [contours, grid], [image], {"levels": levels}

    def landmark_traces(self) -> list[dict]:
        """Known minima, local minima and the start points, on the surface (or on the curve)."""
        s, out = self.surface, []

        def place(points: np.ndarray) -> np.ndarray:
            if self.dim == 2:
                return points
            return np.stack([points[:, 0], np.nan_to_num(surface_values(s, points))], axis=-1)

        kinds = (
            (
                s.minima,
                "global minimum",
                dict(symbol="star", size=19, color="white", line=dict(color="#111", width=1.5)),
            ),
            (s.local_minima, "local minimum", dict(symbol="diamond-open", size=12, color="#333", line=dict(width=2))),
        )
        coords = ", ".join(f"%{{customdata[{k}]:.4g}}" for k in range(self.dim))
        for points, name, marker in kinds:
            points = np.asarray(points, dtype=np.float64)
            if points.size == 0 or points.shape[-1] != self.dim:
                continue
            points = points.reshape(-1, self.dim)
            x, y = self._xy(clip_drawing(place(points), self.view_lo, self.view_hi))
            rows = [[*sig(p), v] for p, v in zip(points, sig(surface_values(s, points)))]
            template = f"{name}<br>x* = ({coords})<br>f = %{{customdata[{self.dim}]:.6g}}<extra></extra>"
            out.append(
                dict(
                    type="scatter",
                    x=x,
                    y=y,
                    mode="markers",
                    name=name,
                    marker=marker,
                    customdata=rows,
                    hovertemplate=template,
                )
            )
        if self.runs:
            starts = np.unique(np.concatenate([r.xs[0] for r in self.runs]), axis=0)
            x, y = self._xy(clip_drawing(place(starts), self.view_lo, self.view_hi))
            out.append(
                dict(
                    type="scatter",
                    x=x,
                    y=y,
                    mode="markers",
                    name="start",
                    customdata=[sig(p) for p in starts],
                    hovertemplate=f"start<br>x₀ = ({coords})<extra></extra>",
                    marker=dict(symbol="circle-open", size=16, color="#111", line=dict(width=2.5)),
                )
            )
        return out
