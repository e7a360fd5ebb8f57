"""The 2-D surface in 3-D: a mesh coloured as the race's picture, every path on it up to a step, and a head per run.

Why it is built the way it is: the browser draws a 3-D chart with WebGL, and on a machine without a GPU
(headless Chromium with ``--disable-gpu`` runs SwiftShader on the CPU) every WebGL pass costs real time
(benchmarks/surface_3d.py measures the toggle to the drawn chart). So the figure asks for few of them:

- the surface is a ``mesh3d`` of :data:`MESH_POINTS`² vertices, not a ``surface`` trace: plotly.js refines
  any surface to at least ~120 points a side (``estimateScale`` in its surface/convert.js) and draws it with
  contour and highlight shaders on top, so a 70² surface was ~20,000 vertices and the slowest part of the chart;
- everything is opaque (a translucent trace adds a second, order-independent transparency pass);
- the mesh is not hoverable (its pick pass would be no help: hover a path for the numbers);
- the paths are lines, and one trace holds every run's head (marker glyphs are the costly part of a scatter3d).

Stepping without Plotly frames: the figure shows ``current_step`` (default: the last), and ``layout.meta``
says everything a browser needs to show any other step with one ``Plotly.restyle`` call (the JS function
is ui/figures/surface_3d_js.py's STEP_3D_JS)::

    meta = {"kind": "surface3d", "steps": S, "current_step": t,
            "paths": [trace index of each racer's path], "heads": trace index of the heads,
            "full": [{"x": [..], "y": [..], "z": [..], "step": [..]} per path trace],
            "heads_style": {"color": [per run], "diverged": [step or null per run], ...}}

``full[i]`` is path trace i drawn to the end: its runs one after another, apart by a point whose step is
null (a gap). A prefix to step t keeps every point whose step is ≤ t, blanks the others (so that point j
is always customdata row j, the hover row) and drops the blanks at the end. The head of each run is its
last point kept; runs are in the order of ``full`` (then in the order of their points). Points are
subsampled to at most :data:`POINTS_PER_RACER` per racer (each run's last point kept), and rounded to what
a screen shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from gdviz.surfaces.base import Surface
from ui.figures.style import (
    DIVERGED_COLOR,
    LOSS_COLORSCALE,
    Runs,
    base_layout,
    clip_drawing,
    hover_rows,
    hover_template,
    plot_window,
    runs_of,
    sig,
)
from ui.figures.surface_picture import equalizer, surface_values

# vertices per side of the mesh: plotly.js shades a mesh3d smoothly between them (per-vertex normals),
# so 51² reads as the 70² surface did at an eighth of the vertices plotly.js drew for that one
MESH_POINTS = 51
# path points per racer summed over its runs (each run gets an equal share, at least MIN_RUN_POINTS):
# the figure carries each path twice (drawn, and in layout.meta for stepping)
POINTS_PER_RACER = 2000
MIN_RUN_POINTS = 60
HEAD_SIZE, DEAD_SIZE = 6, 8
PATH_WIDTH = 6
# digits of a coordinate: a window's span over ~10^5 is finer than any screen's pixel
SCREEN_DIGITS = 5


# -- numbers the browser can show --------------------------------------------------------------------
def _decimals(span: float) -> int:
    """Decimal places that resolve 1/10^SCREEN_DIGITS of ``span``."""
    return int(max(0, SCREEN_DIGITS - np.floor(np.log10(max(span, 1e-12)))))


def _rounded(values: np.ndarray, decimals: int) -> list:
    """Rounded plain floats; non-finite values become None (a gap)."""
    values = np.round(np.asarray(values, dtype=np.float64), decimals)
    return [v if v == v and abs(v) != float("inf") else None for v in values.tolist()]


# -- which steps are drawn ---------------------------------------------------------------------------
def kept_steps(steps: int, runs: int, lasts: list[int]) -> np.ndarray:
    """The steps every path is drawn through: all of them, or evenly spaced ones when a racer's runs
    together would pass POINTS_PER_RACER (``lasts``: every run's last point, always kept)."""
    cap = max(MIN_RUN_POINTS, POINTS_PER_RACER // max(runs, 1))
    if steps + 1 <= cap:
        return np.arange(steps + 1)
    spaced = np.round(np.linspace(0, steps, cap)).astype(int)
    return np.unique(np.concatenate([spaced, np.asarray(lasts, dtype=int)]))


# -- the mesh -----------------------------------------------------------------------------------------
def _mesh(surface: Surface, lo: np.ndarray, hi: np.ndarray, points: int) -> tuple[dict, np.ndarray]:
    """The surface over the window as a mesh3d trace (undefined points and their triangles left out),
    and f on the grid, (points, points)."""
    gx, gy = np.linspace(lo[0], hi[0], points), np.linspace(lo[1], hi[1], points)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1)  # (points, points, 2), row = y
    z = surface_values(surface, grid)
    finite = np.isfinite(z).ravel()
    # vertex numbers after the undefined ones are left out; -1 for those
    number = np.full(finite.size, -1)
    number[finite] = np.arange(int(finite.sum()))
    corners = np.arange(points * points).reshape(points, points)
    a, b, c, d = (corners[:-1, :-1], corners[:-1, 1:], corners[1:, :-1], corners[1:, 1:])
    triangles = np.concatenate(
        [np.stack([a, b, d], axis=-1).reshape(-1, 3), np.stack([a, d, c], axis=-1).reshape(-1, 3)]
    )
    triangles = number[triangles]
    triangles = triangles[np.all(triangles >= 0, axis=1)]
    shade = equalizer(z)(z).ravel()[finite]
    span = hi - lo
    values = z.ravel()[finite]
    z_span = float(values.max() - values.min()) if values.size else 1.0
    mesh = dict(
        type="mesh3d",
        name=surface.name,
        x=_rounded(grid[..., 0].ravel()[finite], _decimals(float(span[0]))),
        y=_rounded(grid[..., 1].ravel()[finite], _decimals(float(span[1]))),
        z=_rounded(values, _decimals(z_span)),
        # int32 indices: sent as compact typed arrays (ui/figures/plain.py)
        i=triangles[:, 0].astype(np.int32),
        j=triangles[:, 1].astype(np.int32),
        k=triangles[:, 2].astype(np.int32),
        intensity=_rounded(shade, 3),
        colorscale=LOSS_COLORSCALE,
        cmin=0.0,
        cmax=1.0,
        showscale=False,
        hoverinfo="skip",
        flatshading=False,
    )
    return mesh, z


# -- the paths and their heads -----------------------------------------------------------------------
class _Paths:
    """Every racer's path as one trace (runs apart by a gap), drawn to any step, and the runs' heads."""

    def __init__(self, runs: list[Runs], lo, hi, z_lo: float, z_hi: float, lift: float):
        self.runs = runs
        self.steps = max((r.steps for r in runs), default=0)
        self.lo, self.hi, self.lift = lo, hi, lift
        z_span = max(z_hi - z_lo, 1e-12)
        # drawn coordinates stay within a few windows of the view (a diverging run would flatten it);
        # the hover rows keep the true values
        self.z_lo, self.z_hi = z_lo - 3 * z_span, z_hi + 3 * z_span
        self.decimals = [_decimals(float(s)) for s in (hi - lo)] + [_decimals(z_span)]
        self.full = [self._full(r) for r in runs]

    def _full(self, r: Runs) -> dict:
        """The racer's path drawn to the end: x, y, z and step per point, runs apart by a null point."""
        kept = kept_steps(r.steps, r.n_runs, r.last.tolist())
        out: dict[str, list] = {"x": [], "y": [], "z": [], "step": [], "rows": []}
        for k, last in enumerate(r.last.tolist()):
            steps = kept[kept <= last]
            xy = clip_drawing(r.xs[steps, k], self.lo, self.hi)
            z = np.clip(r.losses[steps, k] + self.lift, self.z_lo, self.z_hi)
            if k:
                for key in ("x", "y", "z", "step"):
                    out[key].append(None)
                out["rows"].append([None] * 8)
            out["x"] += _rounded(xy[:, 0], self.decimals[0])
            out["y"] += _rounded(xy[:, 1], self.decimals[1])
            out["z"] += _rounded(z, self.decimals[2])
            out["step"] += steps.tolist()
            rows = hover_rows(r, k)
            out["rows"] += [rows[t] for t in steps.tolist()]
        return out

    def prefix(self, index: int, step: int) -> dict[str, list]:
        """Path ``index`` drawn to ``step``: the points after it blanked, the blanks at the end dropped
        (what STEP_3D_JS does in the browser)."""
        full = self.full[index]
        keep = [s is not None and s <= step for s in full["step"]]
        end = max((i + 1 for i, kept in enumerate(keep) if kept), default=0)
        return {key: [v if kept else None for v, kept in zip(full[key][:end], keep)] for key in ("x", "y", "z")}

    def heads(self, step: int) -> dict[str, list]:
        """Every run's head at ``step``: its last point drawn, an X once it has diverged."""
        out: dict[str, list] = {"x": [], "y": [], "z": [], "color": [], "symbol": [], "size": []}
        for r, full in zip(self.runs, self.full):
            run, last = 0, None
            for i, s in enumerate([*full["step"], None]):
                if s is not None:
                    last = i if s <= step else last
                    continue
                dead = 0 <= r.diverged[run] <= step
                out["x"].append(full["x"][last])
                out["y"].append(full["y"][last])
                out["z"].append(full["z"][last])
                out["color"].append(DIVERGED_COLOR if dead else r.color)
                out["symbol"].append("x" if dead else "circle")
                out["size"].append(DEAD_SIZE if dead else HEAD_SIZE)
                run, last = run + 1, None
        return out


def _path_trace(r: Runs, drawn: dict[str, list], rows: list) -> dict:
    return dict(
        type="scatter3d",
        mode="lines",
        name=r.text,
        legendgroup=r.text,
        x=drawn["x"],
        y=drawn["y"],
        z=drawn["z"],
        customdata=rows,
        line=dict(color=r.color, width=PATH_WIDTH),
        hovertemplate=hover_template(r.text, 2, r.n_runs > 1),
    )


def _heads_trace(heads: dict[str, list]) -> dict:
    # not hoverable: a head sits on its path's last point drawn, whose hover row says the same, and a row
    # of its own would go stale when the browser moves the head (STEP_3D_JS)
    return dict(
        type="scatter3d",
        mode="markers",
        name="current step",
        showlegend=False,
        hoverinfo="skip",
        x=heads["x"],
        y=heads["y"],
        z=heads["z"],
        marker=dict(
            color=heads["color"], symbol=heads["symbol"], size=heads["size"], line=dict(color="white", width=1)
        ),
    )


def _check_step(current_step: Any) -> None:
    if current_step is not None and (isinstance(current_step, bool) or not isinstance(current_step, (int, np.integer))):
        raise ValueError(f"current_step must be an integer step or None, got {current_step!r}")


# -- the figure ---------------------------------------------------------------------------------------
def surface_3d_spec(
    surface: Surface,
    trajectories,
    labels,
    *,
    current_step: int | None = None,
    height: int = 620,
    mesh_points: int = MESH_POINTS,
) -> dict:
    """:func:`surface_3d_figure` as the plain dict ``{"data", "layout"}`` it is made of (the page hands it
    to Streamlit as it is: ui/figures/plain.py)."""
    if not isinstance(surface, Surface) or surface.dim != 2:
        raise ValueError("surface_3d_figure needs a 2-D gdviz Surface")
    _check_step(current_step)
    runs = runs_of(list(trajectories), labels)
    for r in runs:
        if r.xs.shape[2] != 2:
            raise ValueError(f"{r.label}: the trajectory is {r.xs.shape[2]}-D but {surface.name} is 2-D")
    lo, hi = plot_window(surface, runs)
    mesh, z = _mesh(surface, lo, hi, mesh_points)
    finite = z[np.isfinite(z)]
    z_lo, z_hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lift = 0.01 * (z_hi - z_lo)  # keep paths above the mesh
    paths = _Paths(runs, lo, hi, z_lo, z_hi, lift)
    step = int(np.clip(paths.steps if current_step is None else current_step, 0, paths.steps))
    traces: list[dict] = [mesh]
    traces += [_path_trace(r, paths.prefix(i, step), full["rows"]) for i, (r, full) in enumerate(zip(runs, paths.full))]
    first_path = 1
    heads_index = None
    if runs:
        heads_index = len(traces)
        traces.append(_heads_trace(paths.heads(step)))
    minima = (
        np.asarray(surface.minima, dtype=np.float64).reshape(-1, 2) if np.size(surface.minima) else np.zeros((0, 2))
    )
    if len(minima):
        traces.append(
            dict(
                type="scatter3d",
                x=sig(minima[:, 0]),
                y=sig(minima[:, 1]),
                z=sig(surface_values(surface, minima) + lift),
                mode="markers",
                name="global minimum",
                marker=dict(symbol="diamond", size=6, color="white", line=dict(color="#111", width=2)),
            )
        )
    scene_axis = dict(backgroundcolor="white", gridcolor="#ddd", showspikes=False, nticks=6)
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
        meta=dict(
            kind="surface3d",
            surface=surface.name,
            steps=paths.steps,
            current_step=step,
            paths=list(range(first_path, first_path + len(runs))),
            heads=heads_index,
            full=[{key: full[key] for key in ("x", "y", "z", "step")} for full in paths.full],
            heads_style=dict(
                color=[r.color for r in runs for _ in range(r.n_runs)],
                diverged=[int(d) if d >= 0 else None for r in runs for d in r.diverged.tolist()],
                dead_color=DIVERGED_COLOR,
                size=HEAD_SIZE,
                dead_size=DEAD_SIZE,
            ),
        ),
    )
    return dict(data=traces, layout=layout)


def surface_3d_figure(
    surface: Surface, trajectories, labels, *, current_step: int | None = None, height: int = 620
) -> go.Figure:
    """The 2-D surface as a 3-D mesh (coloured as in the race figure) with every path drawn on it up to
    ``current_step`` (default: the last) and each run's head there; ``layout.meta`` lets a browser show
    any other step (see the module's docstring)."""
    return go.Figure(surface_3d_spec(surface, trajectories, labels, current_step=current_step, height=height))
