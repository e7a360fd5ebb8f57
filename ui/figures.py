"""Figure builders for the Playground: surfaces and Trajectories in, plotly Figures out (no Streamlit).

Why the race animation is built the way it is: plotly drops a contour or heatmap trace from the
picture when an animation frame touches only the path traces with ``redraw: false``, and
``redraw: true`` re-renders the whole figure every frame (benchmarks/playground.py measures both).
So the surface is not a trace at all: it is a PNG painted into ``layout.images`` (frames never touch
the layout), its iso-lines are ordinary scatter traces computed here by marching squares, and an
invisible grid of points makes it hoverable and clickable. Frames then update only scatter traces
and can use ``redraw: false``.

A frame sets each path to its prefix up to the frame's step, so the payload grows like
frames × path points: steps are subsampled to at most ``max_frames`` frames, paths to a point
budget, and coordinates are rounded to what a screen can show. Hover values come from the base
trace's ``customdata`` (aligned point for point with every prefix), so frames never repeat them.

Conventions: point ``t`` of a path is the iterate after torch step ``t`` (``t = 0`` the start). The
glyphs of step ``t`` start at ``x_{t-1}`` and show that step: the update ``x_t - x_{t-1}``, the
plain gradient step ``-η_t g_t`` and, when the optimizer keeps one, the momentum step ``-η_t m_t``.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gdviz.run import Trajectory
from gdviz.surfaces.base import Surface

# Okabe–Ito-like colours, darkened where needed to read on a projector over a pale surface
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#882255")
DIVERGED_COLOR = "#E41A1C"
# viridis anchors, washed towards white so that saturated paths stand out on top of them
_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [72, 40, 120],
        [62, 73, 137],
        [49, 104, 142],
        [38, 130, 142],
        [31, 158, 137],
        [53, 183, 121],
        [110, 206, 88],
        [181, 222, 43],
        [253, 231, 37],
    ],
    dtype=np.float64,
)
_WASH = 0.45
_UNDEFINED_RGB = (225, 225, 225)
MOMENTUM_STATES = ("momentum_buffer", "exp_avg")
# (key, legend name, dash) of the arrows drawn at the current step
GLYPHS = (
    ("update", "Δx  update", "solid"),
    ("gradient", "−η·g  gradient step", "dot"),
    ("momentum", "−η·m  momentum", "dash"),
)
# frame durations in ms; the browser adds its drawing time (~10-35 ms here) on top of each
SPEEDS = (("×¼", 100), ("×½", 50), ("×1", 20), ("max", 0))
PLAY_MS = 20
# prefix points summed over all frames and runs; ~15 bytes each keeps the frames near 1 MB
FRAME_POINT_BUDGET = 80_000
IMAGE_PIXELS = 160
CONTOUR_GRID = 90
HOVER_GRID = 40
N_LEVELS = 14
_FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14, color="#222")


def color_of(index: int) -> str:
    """The colour of the optimizer at ``index`` in the race: the same in every figure."""
    return PALETTE[index % len(PALETTE)]


# -- trajectories as batches of runs ----------------------------------------------------------------
@dataclass(frozen=True)
class Runs:
    """One Trajectory with a run axis everywhere (R = 1 for a single run). S = number of steps."""

    label: str
    color: str
    xs: np.ndarray  # (S+1, R, dim)
    losses: np.ndarray  # (S+1, R)
    grads: np.ndarray  # (S, R, dim)
    lrs: np.ndarray  # (S, R)
    grad_norms: np.ndarray  # (S+1, R)
    states: dict[str, np.ndarray]  # name -> (S+1, R, k)
    diverged: np.ndarray  # (R,) step of divergence, -1 where none
    seconds: float

    @property
    def text(self) -> str:
        """The label as plotly may show it: its pseudo-HTML escaped and no ``%{`` template to expand."""
        return html.escape(self.label, quote=False).replace("%{", "%\u200b{")

    @property
    def steps(self) -> int:
        return self.xs.shape[0] - 1

    @property
    def n_runs(self) -> int:
        return self.xs.shape[1]

    @property
    def last(self) -> np.ndarray:
        """(R,) the last good iterate's index: a diverged run is frozen from its divergence step on."""
        return np.where(self.diverged >= 0, self.diverged - 1, self.steps)

    @property
    def momentum(self) -> np.ndarray | None:
        """(S+1, R, dim) the optimizer's momentum / first moment, or None when it keeps none."""
        for name in MOMENTUM_STATES:
            value = self.states.get(name)
            if value is not None and value.shape[2] == self.xs.shape[2] and np.any(value != 0):
                return value
        return None


def as_runs(trajectory: Trajectory, label: str, index: int) -> Runs:
    """View a (possibly batched) Trajectory as :class:`Runs`."""
    if not isinstance(trajectory, Trajectory):
        raise ValueError(f"expected a gdviz Trajectory for {label!r}, got {type(trajectory).__name__}")
    batched = trajectory.batched
    steps = trajectory.xs.shape[0] - 1

    def runs_axis(a: np.ndarray, rows: int) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        a = a if batched else a[:, None]
        return a.reshape(rows, a.shape[1], int(np.prod(a.shape[2:], dtype=int)))

    xs = runs_axis(trajectory.xs, steps + 1)
    states = {name: runs_axis(value, steps + 1) for name, value in trajectory.states.items()}
    norms = np.asarray(trajectory.grad_norms(), dtype=np.float64)
    return Runs(
        label=str(label),
        color=color_of(index),
        xs=xs,
        losses=runs_axis(trajectory.losses, steps + 1)[..., 0],
        grads=runs_axis(trajectory.grads, steps),
        lrs=runs_axis(trajectory.lrs, steps)[..., 0],
        grad_norms=norms if batched else norms[:, None],
        states=states,
        diverged=trajectory.diverged_step,
        seconds=float(trajectory.seconds),
    )


def runs_of(trajectories, labels) -> list[Runs]:
    """Every trajectory as :class:`Runs`, coloured by its position in the race."""
    trajectories, labels = list(trajectories), list(labels)
    if len(trajectories) != len(labels):
        raise ValueError(f"{len(trajectories)} trajectories but {len(labels)} labels")
    return [as_runs(t, label, i) for i, (t, label) in enumerate(zip(trajectories, labels))]


# -- numbers the browser can show -----------------------------------------------------------------
def sig(values, digits: int = 6) -> list:
    """Round to ``digits`` significant digits as plain floats; non-finite values become None."""
    flat = np.asarray(values, dtype=np.float64).ravel().tolist()
    return [float(f"{v:.{digits}g}") if v == v and abs(v) != float("inf") else None for v in flat]


def _fixed(values: np.ndarray, decimals: int) -> list:
    """Round to ``decimals`` places (chosen from the plot window, so nothing visible is lost)."""
    return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()


def _decimals(span: float) -> int:
    return int(max(0, 6 - np.ceil(np.log10(max(span, 1e-12)))))


# -- the surface as a picture ---------------------------------------------------------------------
def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 array as a PNG (filter "Up" on every row, zlib level 1).

    Level 1 because every new scenario encodes one: level 9 takes ~15-70 ms for a 160 × 160 picture and
    saves ~6 kB of a ~500 kB figure; level 1 takes ~1-2 ms.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    up = rgb.copy()
    up[1:] -= rgb[:-1]  # uint8 arithmetic wraps modulo 256, exactly as the PNG filter is defined
    raw = np.concatenate([np.full((h, 1), 2, dtype=np.uint8), up.reshape(h, w * 3)], axis=1)

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def surface_values(surface: Surface, points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        values = np.asarray(surface.f(points), dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def _equalizer(values: np.ndarray):
    """A monotone map of f to [0, 1] that spreads the colours evenly over the picture's area."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() == finite.min():
        return lambda v: np.full(np.shape(v), 0.5)
    knots, first = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 257)), return_index=True)
    ranks = np.linspace(0.0, 1.0, 257)[first]
    if knots.size < 2:
        return lambda v: np.full(np.shape(v), 0.5)
    ranks = (ranks - ranks[0]) / (ranks[-1] - ranks[0])
    return lambda v: np.interp(v, knots, ranks)


def _colorize(t: np.ndarray) -> np.ndarray:
    """[0, 1] (nan = undefined) -> (..., 3) uint8 on the washed viridis scale."""
    anchors = _VIRIDIS * (1 - _WASH) + 255 * _WASH
    pos = np.nan_to_num(t, nan=0.0) * (len(anchors) - 1)
    rgb = np.stack([np.interp(pos, np.arange(len(anchors)), anchors[:, c]) for c in range(3)], axis=-1)
    rgb[np.isnan(t)] = _UNDEFINED_RGB
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def cell_grid(lo, hi, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centred samples of the window: (n,) x and y."""
    step = (np.asarray(hi) - np.asarray(lo)) / n
    return lo[0] + (np.arange(n) + 0.5) * step[0], lo[1] + (np.arange(n) + 0.5) * step[1]


def image_layout(source: str, lo, hi, **extra) -> dict:
    """A layout image (data URI) stretched over the window (lo, hi), under the traces."""
    return dict(
        source=source,
        xref="x",
        yref="y",
        x=float(lo[0]),
        y=float(hi[1]),
        sizex=float(hi[0] - lo[0]),
        sizey=float(hi[1] - lo[1]),
        sizing="stretch",
        layer="below",
        xanchor="left",
        yanchor="top",
        **extra,
    )


def surface_image(surface: Surface, lo, hi, pixels: int = IMAGE_PIXELS):
    """The surface over the window as a PNG data URI, and the f -> [0, 1] colour map it used."""
    gx, gy = cell_grid(lo, hi, pixels)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))  # (ny, nx), row 0 at the bottom
    shade = _equalizer(z)
    rgb = _colorize(np.where(np.isnan(z), np.nan, shade(z)))[::-1]  # PNG rows run top to bottom
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii"), shade


# -- iso-lines by marching squares ----------------------------------------------------------------
# corner bits: 1 = (i, j), 2 = (i, j+1), 4 = (i+1, j+1), 8 = (i+1, j); edges B(ottom) R(ight) T(op) L(eft)
_CASES = {
    1: ("LB",),
    2: ("BR",),
    3: ("LR",),
    4: ("RT",),
    6: ("BT",),
    7: ("LT",),
    8: ("LT",),
    9: ("BT",),
    11: ("RT",),
    12: ("LR",),
    13: ("BR",),
    14: ("LB",),
}
# the two saddle cases, resolved by the value at the cell centre: (centre above, centre below)
_SADDLES = {5: (("BR", "LT"), ("LB", "RT")), 10: (("LB", "RT"), ("BR", "LT"))}


def contour_lines(gx: np.ndarray, gy: np.ndarray, z: np.ndarray, level: float) -> list[np.ndarray]:
    """Polylines (each (n, 2)) where z = level; z is (ny, nx) sampled at gx (nx,), gy (ny,)."""
    ny, nx = z.shape
    c00, c01, c11, c10 = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]
    valid = np.isfinite(c00) & np.isfinite(c01) & np.isfinite(c11) & np.isfinite(c10)
    case = (c00 > level) * 1 + (c01 > level) * 2 + (c11 > level) * 4 + (c10 > level) * 8
    case = np.where(valid, case, 0)
    centre_above = (c00 + c01 + c11 + c10) / 4 > level
    n_h = ny * (nx - 1)
    ii, jj = np.indices(case.shape)
    edge_of = {
        "B": ii * (nx - 1) + jj,
        "T": (ii + 1) * (nx - 1) + jj,
        "L": n_h + ii * nx + jj,
        "R": n_h + ii * nx + jj + 1,
    }
    pairs = []
    for code, segments in _CASES.items():
        mask = case == code
        pairs += [np.stack([edge_of[a][mask], edge_of[b][mask]], axis=1) for a, b in segments]
    for code, (above, below) in _SADDLES.items():
        for segments, mask in ((above, (case == code) & centre_above), (below, (case == code) & ~centre_above)):
            pairs += [np.stack([edge_of[a][mask], edge_of[b][mask]], axis=1) for a, b in segments]
    segs = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    if segs.size == 0:
        return []
    edges = np.unique(segs)
    horizontal = edges < n_h
    i = np.where(horizontal, edges // (nx - 1), (edges - n_h) // nx)
    j = np.where(horizontal, edges % (nx - 1), (edges - n_h) % nx)
    i2, j2 = np.where(horizontal, i, i + 1), np.where(horizontal, j + 1, j)
    z1, z2 = z[i, j], z[i2, j2]
    frac = (level - z1) / (z2 - z1)  # one end is above the level and the other not: no zero division
    xy = np.stack([gx[j] + frac * (gx[j2] - gx[j]), gy[i] + frac * (gy[i2] - gy[i])], axis=1)
    where = {int(e): k for k, e in enumerate(edges.tolist())}
    return [xy[[where[e] for e in chain]] for chain in _chains(segs.tolist())]


def _chains(segs: list[list[int]]) -> list[list[int]]:
    """Join segments that share an edge into polylines (each cell edge is shared by at most two)."""
    touching = defaultdict(list)
    for s, (a, b) in enumerate(segs):
        touching[a].append(s)
        touching[b].append(s)
    used = [False] * len(segs)

    def walk(end: int) -> list[int]:
        out = []
        while True:
            nxt = next((s for s in touching[end] if not used[s]), None)
            if nxt is None:
                return out
            used[nxt] = True
            a, b = segs[nxt]
            end = b if a == end else a
            out.append(end)

    chains = []
    for s, (a, b) in enumerate(segs):
        if not used[s]:
            used[s] = True
            forward, backward = walk(b), walk(a)
            chains.append(backward[::-1] + [a, b] + forward)
    return chains


def iso_levels(z: np.ndarray, n: int = N_LEVELS) -> list[float]:
    """Iso-levels at evenly spaced quantiles of f over the window: evenly spaced in colour too."""
    finite = z[np.isfinite(z)]
    if finite.size == 0 or finite.max() == finite.min():
        return []
    levels = np.unique(sig(np.quantile(finite, (np.arange(n) + 0.5) / n), 6))
    return [float(v) for v in levels if finite.min() < v < finite.max()]


# -- the plot window ----------------------------------------------------------------------------------
def _window(surface: Surface, runs: list[Runs]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) per coordinate: the surface's bounds, grown to take in the paths but at most to twice
    their span, so that one far-flung path cannot squash the picture into a corner."""
    bounds = np.asarray(surface.bounds, dtype=np.float64)
    lo, hi = bounds[:, 0].copy(), bounds[:, 1].copy()
    span = hi - lo
    cap_lo, cap_hi = lo - span / 2, hi + span / 2
    points = [r.xs[: int(last) + 1, k] for r in runs for k, last in enumerate(r.last)]
    if points:
        pts = np.concatenate(points)
        p_lo, p_hi = pts.min(axis=0), pts.max(axis=0)
        margin = 0.04 * span
        lo = np.where(p_lo < lo, np.maximum(p_lo - margin, cap_lo), lo)
        hi = np.where(p_hi > hi, np.minimum(p_hi + margin, cap_hi), hi)
    return lo, hi


def _clip_drawing(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Keep drawn coordinates within a few windows of the view (hover still shows the true values)."""
    span = hi - lo
    return np.clip(values, lo - 3 * span, hi + 3 * span)


# -- the race --------------------------------------------------------------------------------------
def _frame_steps(steps: int, max_frames: int, current: int) -> list[int]:
    """At most ``max_frames + 1`` steps from 0 to ``steps``, evenly spaced, containing ``current``."""
    chosen = np.unique(np.round(np.linspace(0, steps, min(steps, max(max_frames, 1)) + 1)).astype(int))
    if current not in chosen:
        # the nearest frame between the first and the last gives way (the first one if there is none)
        inner = np.abs(chosen[1:-1] - current)
        chosen[1 + int(np.argmin(inner)) if inner.size else 0] = current
        chosen = np.unique(chosen)
    return [int(s) for s in chosen]


def _path_points(steps: int, runs: list[Runs], n_frames: int) -> np.ndarray:
    """The steps a path is drawn through: all of them unless the frames would blow the budget."""
    series = sum(r.n_runs for r in runs) or 1
    cap = max(150, int(2 * FRAME_POINT_BUDGET / (n_frames * series)))
    if steps + 1 <= cap:
        return np.arange(steps + 1)
    keep = np.round(np.linspace(0, steps, cap)).astype(int)
    extra = [int(d) - 1 for r in runs for d in r.diverged if d > 0]  # every path's last good point
    return np.unique(np.concatenate([keep, np.array(extra, dtype=int)]))


def _rows(r: Runs, run: int) -> list[list]:
    """customdata rows [step, x_1..x_d, f, ‖∇f‖, lr, run, note] of every point of one run."""
    steps = np.arange(r.steps + 1)
    dim = r.xs.shape[2]
    lr = r.lrs[np.maximum(steps - 1, 0), run] if r.lrs.shape[0] else np.full(steps.shape, np.nan)
    xs = sig(r.xs[:, run])
    d = int(r.diverged[run])
    notes = [f"<br><b>diverged at step {d}</b>" if 0 <= d <= t + 1 else "" for t in steps.tolist()]
    values = zip(sig(r.losses[:, run]), sig(r.grad_norms[:, run]), sig(lr))
    return [[t, *xs[t * dim : (t + 1) * dim], f, g, eta, run, notes[t]] for t, (f, g, eta) in enumerate(values)]


def _hovertemplate(label: str, dim: int, batched: bool) -> str:
    coords = ", ".join(f"%{{customdata[{1 + k}]:.5g}}" for k in range(dim))
    head = f"<b>{label}</b>" + (" · run %{customdata[" + str(dim + 4) + "]}" if batched else "")
    return (
        f"{head}<br>step %{{customdata[0]}}<br>x = ({coords})<br>f(x) = %{{customdata[{dim + 1}]:.6g}}"
        f"<br>‖∇f‖ = %{{customdata[{dim + 2}]:.4g}}<br>lr = %{{customdata[{dim + 3}]:.4g}}"
        f"%{{customdata[{dim + 5}]}}<extra></extra>"
    )


def _joined(blocks: list[list], counts: list[int]) -> list:
    """Concatenate per-run prefixes into one trace, separated by None. Every run but the last is padded
    with None to its full length so that point i always matches the base trace's customdata[i]."""
    out: list = []
    for k, (block, n) in enumerate(zip(blocks, counts)):
        out += block[:n]
        if k < len(blocks) - 1:
            out += [None] * (len(block) - n + 1)
    return out


class _Race:
    """Builds the race figure: the static traces once, the animated ones at any step.

    Animated traces, in order: one path per optimizer, one trace holding every optimizer's head (the
    point at the current step), and one trace per arrow kind holding that arrow of every run. Few
    traces per frame keep plotly.py's per-object cost, and the browser's, low.
    """

    def __init__(self, surface: Surface, runs: list[Runs], current: int | None, max_frames: int, glyphs: bool):
        self.surface, self.runs, self.dim = surface, runs, surface.dim
        self.steps = max((r.steps for r in runs), default=0)
        self.current = int(np.clip(self.steps if current is None else current, 0, self.steps))
        self.frame_steps = _frame_steps(self.steps, max_frames, self.current) if runs else []
        self.lo, self.hi = _window(surface, runs)
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
        self.points = _path_points(self.steps, runs, max(len(self.frame_steps), 1))
        self.drawn = [self._drawn(r) for r in runs]
        self.rows = [[_rows(r, k) for k in range(r.n_runs)] for r in runs]
        self.blocks = [[self.points[self.points <= last] for last in r.last] for r in runs]
        self.block_xy = [[self._xy(d[b, k]) for k, b in enumerate(bl)] for d, bl in zip(self.drawn, self.blocks)]
        self.kinds = [key for key, _, _ in GLYPHS if key != "momentum" or any(r.momentum is not None for r in runs)]
        self.kinds = self.kinds if glyphs and runs else []
        self.momenta = [r.momentum for r in runs]

    def _drawn(self, r: Runs) -> np.ndarray:
        """(S+1, R, 2) the plot coordinates of every iterate: x itself in 2-D, (x, f(x)) in 1-D."""
        xy = r.xs if self.dim == 2 else np.stack([r.xs[..., 0], r.losses], axis=-1)
        return _clip_drawing(xy, self.view_lo, self.view_hi)

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
        for r, drawn, rows in zip(self.runs, self.drawn, self.rows):
            at = np.minimum(step, r.last)
            dead = ((r.diverged >= 0) & (step >= r.diverged)).tolist()
            # a head outside the window waits on its edge (a diverged run's X stays in sight)
            inset = 0.01 * self.span
            hx, hy = self._xy(np.clip(drawn[at, np.arange(r.n_runs)], self.view_lo + inset, self.view_hi - inset))
            heads["x"] += hx
            heads["y"] += hy
            heads["customdata"] += [rows[k][a] for k, a in enumerate(at.tolist())]
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
        for r, drawn, momentum in zip(self.runs, self.drawn, self.momenta):
            for k in range(r.n_runs):
                vectors = {}
                if 1 <= step <= r.last[k]:
                    lr = r.lrs[step - 1, k]
                    vectors = {"update": r.xs[step, k] - r.xs[step - 1, k], "gradient": -lr * r.grads[step - 1, k]}
                    if momentum is not None:
                        vectors["momentum"] = -lr * momentum[step, k]
                planar = {key: v if self.dim == 2 else np.array([v[0], 0.0]) for key, v in vectors.items()}
                reach = max((float(np.hypot(*(v / self.span))) for v in planar.values()), default=0.0)
                # arrows are drawn to scale unless that would make them invisible or leave the window
                scale = 0.3 / reach if reach > 0.3 else (0.04 / reach if 0 < reach < 0.04 else 1.0)
                note = f"  (drawn ×{scale:.2g})" if scale != 1.0 else ""
                for key in self.kinds:
                    trace, v = traces[key], planar.get(key)
                    if v is None or not np.any(v):
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
                    hovertemplate=_hovertemplate(r.text, self.dim, r.n_runs > 1),
                    line=dict(color=r.color, width=2.5),
                    marker=dict(color=r.color, size=3 if small else 5),
                    unselected=dict(marker=dict(opacity=1)),
                )
            )
        templates = [_hovertemplate(r.text, self.dim, r.n_runs > 1) for r in self.runs for _ in range(r.n_runs)]
        styles.append(
            dict(
                mode="markers",
                name="current step",
                showlegend=False,
                hovertemplate=templates,
                marker=dict(line=dict(color="white", width=1.5)),
                unselected=dict(marker=dict(opacity=1)),
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
                        unselected=dict(marker=dict(opacity=1)),
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
        lx: list = []
        ly: list = []
        for level in levels:
            for line in contour_lines(gx, gy, z, level):
                x, y = self._xy(line)
                lx += x + [None]
                ly += y + [None]
        contours = dict(
            type="scatter",
            x=lx,
            y=ly,
            mode="lines",
            name="contours",
            hoverinfo="skip",
            showlegend=False,
            line=dict(color="rgba(30,30,30,0.3)", width=1),
        )
        hx, hy = cell_grid(lo, hi, HOVER_GRID)
        mesh = np.stack(np.meshgrid(hx, hy), axis=-1).reshape(-1, 2)
        # invisible points make the picture hoverable, and clickable for st.plotly_chart selections
        grid = dict(
            type="scatter",
            x=_fixed(mesh[:, 0], self.decimals[0]),
            y=_fixed(mesh[:, 1], self.decimals[1]),
            customdata=sig(surface_values(s, mesh), 5),
            mode="markers",
            name="surface",
            showlegend=False,
            marker=dict(size=12, opacity=0, color="#000"),
            selected=dict(marker=dict(opacity=0.6)),
            unselected=dict(marker=dict(opacity=0)),
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
            x, y = self._xy(_clip_drawing(place(points), self.view_lo, self.view_hi))
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
                    unselected=dict(marker=dict(opacity=1)),
                )
            )
        if self.runs:
            starts = np.unique(np.concatenate([r.xs[0] for r in self.runs]), axis=0)
            x, y = self._xy(_clip_drawing(place(starts), self.view_lo, self.view_hi))
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
                    unselected=dict(marker=dict(opacity=1)),
                )
            )
        return out


def _animate_args(duration: int, fromcurrent: bool = True) -> dict:
    return dict(
        frame=dict(duration=duration, redraw=False),
        transition=dict(duration=0),
        mode="immediate",
        fromcurrent=fromcurrent,
    )


def _controls(frame_steps: list[int], current: int) -> dict:
    """Play/Pause buttons, a speed menu and the step slider, all driving frames with redraw off."""
    play = dict(label="▶ Play", method="animate", args=[None, _animate_args(PLAY_MS)])
    pause = dict(label="❚❚ Pause", method="animate", args=[[None], _animate_args(0, fromcurrent=False)])
    speeds = [dict(label=f"▶ {name}", method="animate", args=[None, _animate_args(ms)]) for name, ms in SPEEDS]
    buttons = dict(
        type="buttons",
        direction="left",
        showactive=False,
        buttons=[play, pause],
        x=0.0,
        y=0.0,
        xanchor="left",
        yanchor="top",
        pad=dict(t=72, r=6),
        bgcolor="#f2f2f2",
    )
    speed = dict(
        type="dropdown",
        direction="up",
        showactive=True,
        buttons=speeds,
        x=0.0,
        y=0.0,
        xanchor="left",
        yanchor="top",
        pad=dict(t=114),
        active=[n for n, _ in SPEEDS].index("×1"),
        bgcolor="#f2f2f2",
    )
    slider_args = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    slider = dict(
        active=frame_steps.index(current),
        x=0.2,
        len=0.8,
        y=0.0,
        yanchor="top",
        pad=dict(t=62, b=6),
        currentvalue=dict(prefix="step ", font=dict(size=15)),
        transition=dict(duration=0),
        steps=[dict(label=str(s), method="animate", args=[[str(s)], slider_args]) for s in frame_steps],
    )
    return dict(updatemenus=[buttons, speed], sliders=[slider])


def _axis(**extra) -> dict:
    return dict(showgrid=False, zeroline=False, showline=True, mirror=True, linecolor="#999", ticks="outside") | extra


def _base_layout(height: int, **extra) -> dict:
    return (
        dict(
            template={},
            height=height,
            font=_FONT,
            paper_bgcolor="white",
            plot_bgcolor="white",
            hovermode="closest",
            hoverlabel=dict(font=dict(size=14)),
            legend=dict(orientation="h", x=0.0, y=1.01, xanchor="left", yanchor="bottom", font=dict(size=14)),
        )
        | extra
    )


def race_figure(
    surface: Surface,
    trajectories,
    labels,
    *,
    current_step: int | None = None,
    max_frames: int = 120,
    show_glyphs: bool = True,
    height: int = 620,
) -> go.Figure:
    """The optimizers racing over the surface, animated, with Play/Pause, speeds and a step slider.

    2-D: the surface as a picture with iso-lines, every optimizer's path, the start and the known
    minima. 1-D: the curve f(x) with each optimizer's point and trail on it. The figure itself shows
    ``current_step`` (default: the last), with that step's update, gradient and momentum arrows.
    """
    spec = race_spec(
        surface,
        trajectories,
        labels,
        current_step=current_step,
        max_frames=max_frames,
        show_glyphs=show_glyphs,
        height=height,
    )
    # plotly.py validates every attribute of every frame (~0.5 s here); the tests push the same dicts
    # through a validating go.Figure, so the app skips that on each rerun
    return go.Figure(**spec, _validate=False)


def race_spec(
    surface: Surface,
    trajectories,
    labels,
    *,
    current_step: int | None = None,
    max_frames: int = 120,
    show_glyphs: bool = True,
    height: int = 620,
) -> dict:
    """:func:`race_figure` as the plain dict ``{"data", "layout", "frames"}`` it is made of.

    The page hands this to Streamlit as it is (see ui/plain_figure.py): wrapping its ~2,000 frame traces
    in plotly.py objects and copying them back out costs three times what building them does.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface")
    if surface.dim not in (1, 2):
        raise ValueError(f"race_figure draws 1-D and 2-D surfaces; {surface.name} has dimension {surface.dim}")
    if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1:
        raise ValueError(f"max_frames must be an integer >= 1, got {max_frames!r}")
    if current_step is not None and (isinstance(current_step, bool) or not isinstance(current_step, (int, np.integer))):
        raise ValueError(f"current_step must be an integer step or None, got {current_step!r}")
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    for r in runs:
        if r.xs.shape[2] != surface.dim:
            raise ValueError(f"{r.label}: the trajectory is {r.xs.shape[2]}-D but {surface.name} is {surface.dim}-D")
    race = _Race(surface, runs, current_step, max_frames, show_glyphs)
    surface_data, images, extra = race.surface_traces()
    static = surface_data + race.landmark_traces()
    animated = [style | data for style, data in zip(race.animated_styles(), race.animated(race.current))]
    first = len(static)
    animated_idx = list(range(first, first + len(animated)))
    frames = [dict(name=str(s), data=race.animated(s), traces=animated_idx) for s in race.frame_steps]
    titles = ("x₁", "x₂") if surface.dim == 2 else ("x", "f(x)")
    lo, hi = race.view_lo, race.view_hi
    layout = _base_layout(
        height,
        # what the tick labels, the legend (two rows in the page's main column) and the controls below
        # need: plotly grows margins that are too small for them and then draws the whole figure again
        margin=dict(l=80, r=16, t=80, b=160 if frames else 56, pad=0),
        images=images,
        uirevision=surface.name,
        xaxis=_axis(range=[float(lo[0]), float(hi[0])], title=dict(text=titles[0])),
        yaxis=_axis(range=[float(lo[1]), float(hi[1])], title=dict(text=titles[1])),
    )
    if frames:
        layout |= _controls(race.frame_steps, race.current)
    n_paths = len(runs)
    layout["meta"] = dict(
        kind="race",
        surface=surface.name,
        dim=surface.dim,
        steps=race.steps,
        frames=len(frames),
        frame_steps=race.frame_steps,
        current_step=race.current,
        path_points=int(len(race.points)),
        paths=list(range(first, first + n_paths)),
        heads=first + n_paths if runs else None,
        glyphs={key: first + n_paths + 1 + k for k, key in enumerate(race.kinds)},
        grid=1 if surface.dim == 2 else None,
        view=[[float(a), float(b)] for a, b in zip(lo, hi)],
        **extra,
    )
    return dict(data=static + animated, layout=layout, frames=frames)


# -- the surface in 3-D ---------------------------------------------------------------------------
def surface_3d_figure(surface: Surface, trajectories, labels, *, height: int = 620) -> go.Figure:
    """The 2-D surface as a 3-D mesh (coloured as in the race figure) with every path drawn on it."""
    if not isinstance(surface, Surface) or surface.dim != 2:
        raise ValueError("surface_3d_figure needs a 2-D gdviz Surface")
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    lo, hi = _window(surface, runs)
    gx, gy = np.linspace(lo[0], hi[0], 70), np.linspace(lo[1], hi[1], 70)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))
    shade = _equalizer(z)
    anchors = _VIRIDIS * (1 - _WASH) + 255 * _WASH
    scale = [[k / (len(anchors) - 1), f"rgb({r:.0f},{g:.0f},{b:.0f})"] for k, (r, g, b) in enumerate(anchors)]
    mesh = go.Surface(
        x=sig(gx),
        y=sig(gy),
        z=[sig(row) for row in z],
        surfacecolor=[sig(row, 4) for row in shade(z)],
        cmin=0.0,
        cmax=1.0,
        colorscale=scale,
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
            points = _clip_drawing(r.xs[: last + 1, k], lo, hi)
            xs += sig(points[:, 0]) + [None]
            ys += sig(points[:, 1]) + [None]
            zs += sig(r.losses[: last + 1, k] + lift) + [None]
            rows += _rows(r, k)[: last + 1] + [[None] * 8]
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
                hovertemplate=_hovertemplate(r.text, 2, r.n_runs > 1),
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
    layout = _base_layout(
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


# -- linked panels ----------------------------------------------------------------------------------
PANEL_POINTS = 1500
LOG_FLOOR = 1e-16


def _subsample(n: int, cap: int = PANEL_POINTS) -> np.ndarray:
    return np.arange(n) if n <= cap else np.unique(np.round(np.linspace(0, n - 1, cap)).astype(int))


def panels_figure(
    trajectories, labels, *, log_loss: bool = True, current_step: int | None = None, tolerance: float | None = None
) -> go.Figure:
    """Four panels over the step axis: loss (f − f* when f* is known), distance to the nearest known
    minimum, the learning rate η_t, and ‖∇f‖ — with a cursor at ``current_step`` on all four."""
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    if current_step is not None and (isinstance(current_step, bool) or not isinstance(current_step, (int, np.integer))):
        raise ValueError(f"current_step must be an integer step or None, got {current_step!r}")
    surfaces = {id(t.surface): t.surface for t in trajectories}
    surface = next(iter(surfaces.values()), None)
    f_min = float(surface.f_min) if surface is not None else float("nan")
    known_min = np.isfinite(f_min)
    # the loss panel plots f − reference: f* when known; on a log axis with f* unknown and f ≤ 0
    # somewhere, the lowest loss any run reached (so the picture still shows progress)
    reference, loss_name = (f_min, "f(x) − f*") if known_min else (0.0, "f(x)")
    lowest = min((float(np.min(r.losses)) for r in runs), default=0.0)
    if not known_min and log_loss and lowest <= 0:
        reference, loss_name = lowest, "f(x) − lowest f reached"
    has_minima = surface is not None and np.size(surface.minima) > 0
    fig = make_subplots(
        rows=2,
        cols=2,
        shared_xaxes=True,
        vertical_spacing=0.13,
        horizontal_spacing=0.09,
        subplot_titles=(
            "loss",
            "distance to the nearest minimum",
            "learning rate η<sub>t</sub>",
            "gradient norm ‖∇f(x)‖",
        ),
    )
    clipped = {"loss": False, "distance": False, "grad": False}

    def floor(values: np.ndarray, key: str, log: bool) -> np.ndarray:
        if log and np.any(values <= LOG_FLOOR):
            clipped[key] = True
            return np.maximum(values, LOG_FLOOR)
        return values

    for r, trajectory in zip(runs, trajectories):
        distance = np.asarray(trajectory.distance_to_minimum(), dtype=np.float64)
        distance = distance if trajectory.batched else distance[:, None]
        series = {
            (1, 1): floor(r.losses - reference, "loss", log_loss),
            (1, 2): floor(distance, "distance", log_loss) if has_minima else None,
            (2, 1): r.lrs,
            (2, 2): floor(r.grad_norms, "grad", True),
        }
        for (row, col), values in series.items():
            if values is None:
                continue
            first = 1 if (row, col) == (2, 1) else 0  # lrs[t-1] belongs to step t
            xs: list = []
            ys: list = []
            for k, last in enumerate(r.last.tolist()):
                n = min(last + 1, values.shape[0] + first) - first
                keep = _subsample(max(n, 0))
                xs += (keep + first).tolist() + [None]
                ys += sig(values[keep, k]) + [None]
            fig.add_trace(
                go.Scatter(
                    x=xs[:-1],
                    y=ys[:-1],
                    mode="lines",
                    name=r.text,
                    legendgroup=r.text,
                    showlegend=(row, col) == (1, 1),
                    line=dict(color=r.color, width=2.2),
                    hovertemplate=f"{r.text}: %{{y:.4g}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        dead = [(k, int(d)) for k, d in enumerate(r.diverged.tolist()) if d >= 0]
        if dead:
            loss = series[(1, 1)]
            fig.add_trace(
                go.Scatter(
                    x=[d - 1 for _, d in dead],
                    y=sig([loss[d - 1, k] for k, d in dead]),
                    mode="markers",
                    name=f"{r.text} diverged",
                    legendgroup=r.text,
                    showlegend=False,
                    marker=dict(symbol="x", size=13, color=DIVERGED_COLOR, line=dict(color="#111", width=1)),
                    hovertemplate=[f"{r.text}: diverged at step {d}<extra></extra>" for _, d in dead],
                ),
                row=1,
                col=1,
            )
    note = f" (values ≤ {LOG_FLOOR:g} shown at {LOG_FLOOR:g})"
    loss_title = loss_name + (note if clipped["loss"] else "")
    fig.update_yaxes(title_text=loss_title, type="log" if log_loss else "linear", row=1, col=1)
    fig.update_yaxes(
        title_text="‖x − x*‖" + (note if clipped["distance"] else ""),
        row=1,
        col=2,
        type="log" if log_loss else "linear",
    )
    fig.update_yaxes(title_text="η<sub>t</sub>", row=2, col=1)
    fig.update_yaxes(title_text="‖∇f‖" + (note if clipped["grad"] else ""), type="log", row=2, col=2)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=2)
    fig.update_xaxes(showgrid=True, gridcolor="#eee", zeroline=False, showline=True, linecolor="#999")
    fig.update_yaxes(showgrid=True, gridcolor="#eee", zeroline=False, showline=True, linecolor="#999")
    if not has_minima:
        fig.add_annotation(
            text="no known minimum",
            xref="x2 domain",
            yref="y2 domain",
            x=0.5,
            y=0.5,
            showarrow=False,
            font=dict(size=16, color="#777"),
        )
    if tolerance is not None and known_min and tolerance > 0 and runs:
        fig.add_hline(
            y=tolerance,
            line=dict(color="#777", dash="dot", width=1),
            row=1,
            col=1,
            annotation_text=f"f* + {tolerance:g}",
            annotation_position="bottom right",
        )
    steps = max((r.steps for r in runs), default=0)
    cursor = None if current_step is None else int(np.clip(current_step, 0, steps))
    if cursor is not None:
        for axis in ("", "2", "3", "4"):
            fig.add_shape(
                type="line",
                x0=cursor,
                x1=cursor,
                y0=0,
                y1=1,
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                line=dict(color="#333", width=1.5, dash="dash"),
                name="cursor",
            )
    fig.update_layout(
        _base_layout(
            520,
            hovermode="x unified",
            margin=dict(l=96, r=24, t=80, b=72),  # room for ticks and legend: see race_figure's margin
            legend=dict(orientation="h", x=0.0, y=1.08, xanchor="left", yanchor="bottom"),
        ),
        meta=dict(kind="panels", cursor=cursor, log_loss=bool(log_loss), clipped=clipped, f_min_known=bool(known_min)),
    )
    return fig


# -- the results table -----------------------------------------------------------------------------
def results_rows(trajectories, labels, tolerance: float) -> list[dict]:
    """One row per optimizer (per run for a batch): what it reached, how fast, whether it diverged.

    "final" is the last good iterate (a diverged run is frozen there); "steps to f* + tol" is the
    first step within ``tolerance`` of the known minimum value ("—" if never, or if f* is unknown);
    "wall time (ms)" is the optimizer's whole update time (all its runs).
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.integer, np.floating)):
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    batched = any(r.n_runs > 1 for r in runs)
    rows = []
    for r, trajectory in zip(runs, trajectories):
        distance = np.asarray(trajectory.distance_to_minimum(), dtype=np.float64).reshape(r.steps + 1, r.n_runs)
        reached = np.atleast_1d(
            np.asarray(trajectory.steps_to(tolerance) if np.isfinite(trajectory.surface.f_min) else -1, dtype=object)
        )
        for k in range(r.n_runs):
            hit = reached[k] if reached.size > 1 else reached[0]
            hit = -1 if hit is None else int(hit)
            row = {"optimizer": r.label}
            if batched:
                row["run"] = k
            row |= {
                "final loss": sig([r.losses[-1, k]])[0],
                "final x": "(" + ", ".join(f"{v:.5g}" for v in r.xs[-1, k]) + ")",
                "distance to minimum": sig([distance[-1, k]])[0],
                "steps to f* + tol": str(hit) if hit >= 0 else "—",
                "diverged at": str(int(r.diverged[k])) if r.diverged[k] >= 0 else "—",
                "wall time (ms)": round(r.seconds * 1000, 3),
            }
            rows.append(row)
    return rows
