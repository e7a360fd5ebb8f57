"""What every Playground figure shares: the palette, trajectories as batches of runs, rounding, the
plot window, hover rows and the base layout (no Streamlit).

The figures themselves live in their own modules: the animated race in ui/figures/race.py (its traces
in ui/figures/race_traces.py), the surface as a picture with iso-lines in ui/figures/surface_picture.py, the 3-D view
in ui/figures/surface_3d.py, and the panels over the step axis and the results table in
ui/figures/panels.py. Index ``t`` of every per-step array below is the iterate after torch step ``t``
(``t = 0`` the start).
"""

from __future__ import annotations

import html
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from gdviz.run import Trajectory
from gdviz.surfaces.base import Surface

# Okabe–Ito-like colours, darkened where needed to read on a projector over a pale surface
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#882255")
DIVERGED_COLOR = "#E41A1C"
MOMENTUM_STATES = ("momentum_buffer", "exp_avg")
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14, color="#222")


# -- one colour meaning for loss on every page --------------------------------------------------------
# viridis anchors, washed towards white so that saturated paths stand out on top of them. Low loss is the
# dark violet end and high loss the pale yellow end on every page: the Playground's map and 3-D view, the
# Lab's maps (surface pictures and the stability map's final loss), the regression landscape and the
# Networks page's loss plane
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
LOSS_ANCHORS = _VIRIDIS * (1 - _WASH) + 255 * _WASH  # (10, 3) RGB in [0, 255], low loss first
LOSS_COLORSCALE = [
    [k / (len(LOSS_ANCHORS) - 1), "rgb({:.0f},{:.0f},{:.0f})".format(*rgb)] for k, rgb in enumerate(LOSS_ANCHORS)
]


def log_axis(**extra) -> dict:
    """A log axis labelled at its decades as powers of ten (10⁻³, 10⁻², ...), not with plotly's bare "5 2 1 5 2"
    digits between them; ``extra`` adds to it (title, range, ...).

    The ticks between decades stay, unlabelled: labelled in full ("complete") they crowd into a column of
    9×10, 8×10, 7×10, ... on an axis that spans two decades. An axis that spans less than a decade gets
    plotly's linear ticks, each labelled in full."""
    return dict(type="log", exponentformat="power", minorloglabels="none") | extra


def level_line(fig: go.Figure, y: float, text: str, *, log: bool, position: str = "top right", **where) -> None:
    """A dotted grey line at height ``y`` across a panel (``where``: ``add_hline``'s row and col), labelled ``text``
    at its right end. The label's height is given in the axis's own units: a log axis's are log10, and plotly's
    ``add_hline`` gives it ``y`` itself, which put the Fair comparison's "tolerance 0.001" at 10^0.001 ≈ 1, three
    decades above its line (the Playground's "f* + 0.0001" four)."""
    fig.add_hline(
        y=y,
        line=dict(color="#777", dash="dot", width=1),
        annotation_text=text,
        annotation_position=position,
        annotation_y=math.log10(y) if log else y,
        **where,
    )


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


# -- the plot window ----------------------------------------------------------------------------------
def plot_window(surface: Surface, runs: list[Runs]) -> tuple[np.ndarray, np.ndarray]:
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


def clip_drawing(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Keep drawn coordinates within a few windows of the view (hover still shows the true values)."""
    span = hi - lo
    return np.clip(values, lo - 3 * span, hi + 3 * span)


# -- hover rows ---------------------------------------------------------------------------------------
class HoverRows(Sequence):
    """customdata rows [step, x_1..x_d, f, ‖∇f‖, lr, run, note] of every point of one run, each made when it is
    first asked for. A figure shows a few hundred of a run's thousands of steps; formatting all of them was
    most of the server's work on the heaviest race (64 runs × 5,000 steps: 1.2 s of 2)."""

    def __init__(self, r: Runs, run: int):
        self.r, self.run = r, run
        self._made: dict[int, list] = {}

    def __len__(self) -> int:
        return self.r.steps + 1

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self[i] for i in range(*t.indices(len(self)))]
        t = operator.index(t)
        t = t + len(self) if t < 0 else t
        if not 0 <= t < len(self):
            raise IndexError(f"step {t} of a run of {self.r.steps} steps")
        row = self._made.get(t)
        if row is None:
            r, run = self.r, self.run
            lr = r.lrs[max(t - 1, 0), run] if r.lrs.shape[0] else np.nan
            d = int(r.diverged[run])
            note = f"<br><b>diverged at step {d}</b>" if 0 <= d <= t + 1 else ""
            row = self._made[t] = [t, *sig(r.xs[t, run]), *sig([r.losses[t, run], r.grad_norms[t, run], lr]), run, note]
        return row


def hover_rows(r: Runs, run: int) -> HoverRows:
    """The customdata rows of every point of one run (see :class:`HoverRows`)."""
    return HoverRows(r, run)


def hover_template(label: str, dim: int, batched: bool) -> str:
    """The hover text of a path's points, read from their :func:`hover_rows` customdata."""
    coords = ", ".join(f"%{{customdata[{1 + k}]:.5g}}" for k in range(dim))
    head = f"<b>{label}</b>" + (" · run %{customdata[" + str(dim + 4) + "]}" if batched else "")
    return (
        f"{head}<br>step %{{customdata[0]}}<br>x = ({coords})<br>f(x) = %{{customdata[{dim + 1}]:.6g}}"
        f"<br>‖∇f‖ = %{{customdata[{dim + 2}]:.4g}}<br>lr = %{{customdata[{dim + 3}]:.4g}}"
        f"%{{customdata[{dim + 5}]}}<extra></extra>"
    )


# -- layout ------------------------------------------------------------------------------------------
def axis_style(**extra) -> dict:
    """A plain framed axis (no grid, no zero line); ``extra`` adds to it or overrides it."""
    return dict(showgrid=False, zeroline=False, showline=True, mirror=True, linecolor="#999", ticks="outside") | extra


def base_layout(height: int, **extra) -> dict:
    """The layout every Playground figure starts from: white, one font, the legend in a row on top."""
    return (
        dict(
            template={},
            height=height,
            font=FONT,
            paper_bgcolor="white",
            plot_bgcolor="white",
            hovermode="closest",
            hoverlabel=dict(font=dict(size=14)),
            legend=dict(orientation="h", x=0.0, y=1.01, xanchor="left", yanchor="bottom", font=dict(size=14)),
        )
        | extra
    )


# -- a phone's screen ---------------------------------------------------------------------------------
PHONE_FONT_SIZE = 12
# room under the plot for a colour bar laid across it (its ticks and its title above it)
PHONE_COLORBAR_ROOM = 72
PHONE_COLORBAR_TICKS = 5  # labels a colour bar across a phone holds side by side
# a legend whose names are all this short takes two entries a row (plotly put one a row on a phone)
PHONE_LEGEND_PAIR_CHARS = 14


def fit_to_phone(fig: go.Figure) -> go.Figure:
    """``fig`` laid out for a phone's ~390 CSS pixels, in place (the Lab's, Schedules' and Linear Regression's
    figures, built anew at every run; the Playground and Networks build their own phone layouts). In place:
    a copy of a map's go.Figure took 20 ms of the server's interpreter, plotly.py validating it all again.

    A colour bar beside a map took a third of the width there, leaving the map ~150 px: it is laid across
    the bottom of the figure instead, under the x axis's title, with at most five tick labels. The legend's
    font is smaller, and short names go two to a row instead of one per row over the plot. Dragging does nothing
    (``dragmode`` off), so a finger on the chart scrolls the page, as everywhere else on a phone; a tap
    still shows the hover and selects a point."""
    bars = [bar for bar in map(_drawn_colorbar, fig.data) if bar is not None]
    for bar in bars:
        if bar.tickvals is not None and len(bar.tickvals) > PHONE_COLORBAR_TICKS:
            # across ~300 px, nine labels like "1e-16" stood on end: every other one lies flat
            bar.update(tickvals=bar.tickvals[::2], ticktext=bar.ticktext[::2] if bar.ticktext else None)
        elif bar.tickvals is None:
            bar.update(nticks=PHONE_COLORBAR_TICKS)
        bar.update(
            orientation="h",
            thickness=12,
            len=1.0,
            x=0.5,
            xanchor="center",
            yref="container",
            y=0.0,
            yanchor="bottom",
            title=dict(side="bottom"),
        )
    bottom = fig.layout.margin.b if fig.layout.margin.b is not None else 80
    extra = PHONE_COLORBAR_ROOM if bars else 0
    names = [trace.name or "" for trace in fig.data if trace.showlegend is not False]
    pairs = bool(names) and max(map(len, names)) <= PHONE_LEGEND_PAIR_CHARS
    fig.update_layout(
        dragmode=False,
        legend=dict(font=dict(size=PHONE_FONT_SIZE), itemsizing="constant")
        | (dict(entrywidth=0.5, entrywidthmode="fraction") if pairs else {}),
        margin=dict(b=bottom + extra, r=min(fig.layout.margin.r or 20, 20)),
    )
    fig.update_annotations(font_size=PHONE_FONT_SIZE)  # subplot titles among them: two share a phone's width
    if extra and fig.layout.height:
        fig.update_layout(height=fig.layout.height + extra)
    return fig


def _drawn_colorbar(trace):
    """The colour bar plotly.js draws for ``trace``, or None: a map's (heatmap, contour) unless it is told not
    to show one, a marker's only when asked."""
    if trace.type in ("heatmap", "contour", "histogram2d", "histogram2dcontour"):
        return trace.colorbar if trace.showscale is not False and trace.coloraxis is None else None
    marker = getattr(trace, "marker", None)
    return marker.colorbar if marker is not None and getattr(marker, "showscale", None) else None
