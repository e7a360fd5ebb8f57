"""The Playground's views over the step axis: the four linked panels and the results table."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.style import DIVERGED_COLOR, base_layout, level_line, log_axis, runs_of, sig

# -- the four panels ------------------------------------------------------------------------------
PANEL_POINTS = 1500  # per run, at most
# per panel, over all runs: 8 optimizers × 8 starts at the step cap sent 4 × 64 × 1500 points as Python
# lists, and plotly.py's checks of those lists were most of the heaviest Playground link's 6 s (issue 17)
PANEL_TOTAL_POINTS = 12_000
PANEL_MIN_POINTS = 200  # per run, however many runs: a loss curve still reads as one
TITLES = ("loss", "distance to nearest minimum", "learning rate η<sub>t</sub>", "gradient norm ‖∇f(x)‖")
COMPACT_TITLES = ("loss", "‖x − x*‖", "lr η<sub>t</sub>", "‖∇f‖")
LOG_FLOOR = 1e-16
# between the two columns, a fraction of the width: the right panels' tick labels and axis titles stand in it
# (at 0.09, on a projector's 150 % zoom they lay on the left panels; at 0.13 the axis titles still touched them)
PANEL_GAP = 0.16
COMPACT_HEIGHT = 860  # a phone's four panels one under another, ~170 px each


def _subsample(n: int, cap: int = PANEL_POINTS) -> np.ndarray:
    return np.arange(n) if n <= cap else np.unique(np.round(np.linspace(0, n - 1, cap)).astype(int))


def _run_lines(values: np.ndarray, last: list[int], first: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """x (steps) and y of every run's curve as one pair of arrays, the runs apart by a NaN (a gap in the line).

    NumPy arrays reach the browser as base64 typed arrays, without plotly.py's per-value checks; a
    non-finite value becomes NaN (a gap), as it was when these were lists with None.
    """
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    gap = np.array([np.nan])
    for k, end in enumerate(last):
        n = max(min(end + 1, values.shape[0] + first) - first, 0)
        keep = _subsample(n, cap)
        column = np.asarray(values[keep, k], dtype=np.float64)
        xs += [(keep + first).astype(np.float32), gap.astype(np.float32)]  # steps are exact in float32
        ys += [np.where(np.isfinite(column), column, np.nan), gap]
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs[:-1]), np.concatenate(ys[:-1])


def panels_figure(
    trajectories,
    labels,
    *,
    log_loss: bool = True,
    current_step: int | None = None,
    tolerance: float | None = None,
    compact: bool = False,
) -> go.Figure:
    """Four panels over the step axis: loss (f − f* when f* is known), distance to the nearest known
    minimum, the learning rate η_t, and ‖∇f‖ — with a cursor at ``current_step`` on all four.

    ``compact`` (a phone, ~350 px wide): the panels one under another, short titles, smaller text."""
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
    # on a phone the panels stand one under another: side by side at ~170 px each, the right panels' axis titles
    # and tick labels lay on the left ones. The axes keep their numbers (loss x/y, distance x2/y2, lr x3/y3,
    # gradient x4/y4) either way, so the stage's cursor finds them alike
    if compact:
        fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.07, subplot_titles=COMPACT_TITLES)
    else:
        fig = make_subplots(
            rows=2,
            cols=2,
            shared_xaxes=True,
            vertical_spacing=0.13,
            horizontal_spacing=PANEL_GAP,
            subplot_titles=TITLES,
        )

    def at(row: int, col: int) -> dict:
        """Where the panel of the 2 × 2 layout's (row, col) is in this figure."""
        return dict(row=2 * (row - 1) + col, col=1) if compact else dict(row=row, col=col)

    clipped = {"loss": False, "distance": False, "grad": False}
    per_run = max(PANEL_MIN_POINTS, min(PANEL_POINTS, PANEL_TOTAL_POINTS // max(sum(r.n_runs for r in runs), 1)))

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
            xs, ys = _run_lines(values, r.last.tolist(), first, per_run)
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name=r.text,
                    legendgroup=r.text,
                    showlegend=(row, col) == (1, 1),
                    line=dict(color=r.color, width=2.2),
                    hovertemplate=f"{r.text}: %{{y:.4g}}<extra></extra>",
                ),
                **at(row, col),
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
                **at(1, 1),
            )
    note = f" (values ≤ {LOG_FLOOR:g} shown at {LOG_FLOOR:g})"
    loss_title = loss_name + (note if clipped["loss"] else "")
    scale = log_axis() if log_loss else dict(type="linear")
    fig.update_yaxes(title_text=loss_title, **at(1, 1), **scale)
    fig.update_yaxes(title_text="‖x − x*‖" + (note if clipped["distance"] else ""), **at(1, 2), **scale)
    fig.update_yaxes(title_text="η<sub>t</sub>", **at(2, 1))
    fig.update_yaxes(title_text="‖∇f‖" + (note if clipped["grad"] else ""), **at(2, 2), **log_axis())
    for bottom in ((2, 2),) if compact else ((2, 1), (2, 2)):
        fig.update_xaxes(title_text="step", **at(*bottom))
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
        level_line(fig, tolerance, f"f* + {tolerance:g}", log=log_loss, position="bottom right", **at(1, 1))
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
        base_layout(
            520,
            hovermode="x unified",
            margin=dict(l=96, r=24, t=80, b=72),  # room for ticks and legend: see race_spec's (ui/figures/race.py)
            legend=dict(orientation="h", x=0.0, y=1.08, xanchor="left", yanchor="bottom"),
        )
        | (
            dict(
                height=COMPACT_HEIGHT,
                dragmode=False,  # a finger on the panels scrolls the page (a tap still shows the values)
                font=dict(size=12),
                margin=dict(l=56, r=8, t=80, b=56),
                legend=dict(orientation="h", x=0.0, y=1.08, xanchor="left", yanchor="bottom", font=dict(size=11)),
            )
            if compact
            else {}
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
