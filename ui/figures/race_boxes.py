"""The race map's effective-lr boxes: an adaptive optimizer's per-coordinate step size, drawn at its current point.

Adam, RMSprop, Adagrad and Adadelta give every coordinate its own learning rate η_eff (the optimizer's
``explain()``: η/(√v̂ + ε) for Adam). At each frame a box is centred on the racer's current point x_t
whose half-sides are η_eff of step t along x₁ and x₂, times one scale per racer that is the same in every
frame (written in the hover), so that the box shrinks as AdaGrad's sum grows and stretches along a
coordinate with small gradients, as the squares in lilipads' gradient_descent_viz do. Each frame sets
one small trace per racer (a closed line of five corners per run): nothing grows with the steps.
"""

from __future__ import annotations

import numpy as np

from ui.figures.style import sig

MAX_BOX_RUNS = 16  # as for the arrows: more runs' boxes are a tangle (ui/figures/race_traces.py)

BOX_LEGEND = "□ effective lr η_eff per coordinate"
# the racer's typical box (median over the frames of its widest half-side) as a share of the window's
# shorter side, and the most any half-side is drawn (the hover keeps the true numbers)
TYPICAL_HALF_SIDE = 0.08
MAX_HALF_SIDE = 0.3
ONE_D_HALF_HEIGHT = 0.03  # 1-D: the box is a bar along x, this tall (share of the f axis)


def box_scale(effective: np.ndarray, span: np.ndarray, dim: int) -> float | None:
    """Data units per unit of η_eff for one racer: its typical box is TYPICAL_HALF_SIDE of the window.

    ``effective`` (frames, R, dim); None when no frame has a finite, positive η_eff."""
    with np.errstate(all="ignore"):
        widest = np.nanmax(np.where(np.isfinite(effective) & (effective > 0), effective, np.nan), axis=-1)
    widest = widest[np.isfinite(widest)]
    if widest.size == 0:
        return None
    shorter = float(np.min(span[:dim]))
    return TYPICAL_HALF_SIDE * shorter / float(np.median(widest))


def box_style(label: str, color: str, scale: float, dim: int, first: bool) -> dict:
    """The constant part of one racer's box trace; the racer's colour, its scale in the hover."""
    red, green, blue = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    values = ", ".join(f"%{{customdata[{k}]:.4g}}" for k in range(dim))
    hover = (
        f"<b>{label}</b><br>effective lr η_eff = ({values}) per coordinate"
        f"<br>box half-sides = {scale:.3g} × η_eff%{{customdata[{dim}]}}<extra></extra>"
    )
    return dict(
        mode="lines",
        name=BOX_LEGEND,
        legendgroup="effective_lr",
        showlegend=first,
        fill="toself",
        fillcolor=f"rgba({red},{green},{blue},0.12)",
        line=dict(color=color, width=2),
        hovertemplate=hover,
        hoveron="points",
    )


class RaceBoxes:
    """The boxes of a race figure: the constant part of each racer's trace, and its data at any frame step.

    ``race`` is the figure's RaceTraces (its runs, frame steps, plot coordinates and window); ``effective``
    one (frames, R, dim) array of η_eff at ``race.frame_steps`` per racer, or None for a racer without one.
    """

    def __init__(self, race, effective: list[np.ndarray | None]):
        self.race = race
        self.boxes: list[tuple[int, np.ndarray, float]] = []  # (racer, η_eff at the frame steps, scale)
        if not race.runs or sum(r.n_runs for r in race.runs) > MAX_BOX_RUNS:
            return
        drawn_steps = np.asarray(race.frame_steps) > 0
        for i, (r, values) in enumerate(zip(race.runs, effective)):
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float64).reshape(len(race.frame_steps), r.n_runs, race.dim)
            scale = box_scale(values[drawn_steps], race.span, race.dim)
            if scale is not None:
                self.boxes.append((i, values, scale))

    def styles(self) -> list[dict]:
        runs = self.race.runs
        return [
            box_style(runs[i].text, runs[i].color, scale, self.race.dim, first=n == 0)
            for n, (i, _, scale) in enumerate(self.boxes)
        ]

    def at(self, step: int) -> list[dict]:
        if not self.boxes:
            return []
        race = self.race
        frame = race.frame_steps.index(step)

        def xy(values: np.ndarray) -> tuple[list, list]:
            return (
                np.round(values[:, 0], race.decimals[0]).tolist(),
                np.round(values[:, 1], race.decimals[1]).tolist(),
            )

        out = []
        for i, values, scale in self.boxes:
            r = race.runs[i]
            at = np.minimum(step, r.last)
            alive = (step >= 1) & (step <= r.last)
            centres = race.drawn[i][at, np.arange(r.n_runs)]
            out.append(box_data(centres, values[frame], alive, scale, race.span, race.dim, xy))
        return out

    def meta(self, first: int) -> dict:
        """racer index -> [trace index, data units per unit of η_eff], the boxes' traces starting at ``first``."""
        return {str(i): [first + n, scale] for n, (i, _, scale) in enumerate(self.boxes)}


def box_data(
    centres: np.ndarray, effective: np.ndarray, alive: np.ndarray, scale: float, span: np.ndarray, dim: int, xy
) -> dict:
    """One racer's boxes at one frame: run k's box is points 6k..6k+4 (corners, closed) and a gap at 6k+5.

    ``centres`` (R, 2) plot coordinates of the current points, ``effective`` (R, dim) η_eff, ``alive`` (R,)
    whether run k has taken this step (not before step 1, not after it diverged); ``xy`` rounds plot
    coordinates to two lists. customdata per point is [η_eff_1, .., η_eff_d, note]."""
    xs: list = []
    ys: list = []
    rows: list = []
    blank = [None] * (dim + 1)
    for k in range(centres.shape[0]):
        eta = effective[k]
        if not alive[k] or not np.all(np.isfinite(eta)):
            xs += [None] * 6
            ys += [None] * 6
            rows += [blank] * 6
            continue
        wanted = scale * np.abs(eta) if dim == 2 else np.array([scale * abs(eta[0]), ONE_D_HALF_HEIGHT * span[1]])
        cap = MAX_HALF_SIDE * span
        half = np.minimum(wanted, cap)
        note = "  (clipped to the window)" if np.any(wanted[:dim] > cap[:dim]) else ""
        cx, cy = centres[k]
        corners = np.array(
            [[cx - half[0], cy - half[1]], [cx + half[0], cy - half[1]], [cx + half[0], cy + half[1]]]
            + [[cx - half[0], cy + half[1]], [cx - half[0], cy - half[1]]]
        )
        bx, by = xy(corners)
        xs += bx + [None]
        ys += by + [None]
        row = [*sig(eta, 6), note]
        rows += [row] * 5 + [blank]
    return dict(type="scatter", x=xs, y=ys, customdata=rows)
