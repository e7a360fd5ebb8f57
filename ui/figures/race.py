"""The animated race: the optimizers' paths over the surface, with Play/Pause, speeds and a step slider.

Why the race animation is built the way it is: plotly drops a contour or heatmap trace from the
picture when an animation frame touches only the path traces with ``redraw: false``, and
``redraw: true`` re-renders the whole figure every frame (benchmarks/playground.py measures both).
So the surface is not a trace at all: it is a PNG painted into ``layout.images`` (frames never touch
the layout), its iso-lines are ordinary scatter traces computed by marching squares
(ui/figures/surface_picture.py), and an invisible grid of points makes it hoverable and clickable. Frames
then update only scatter traces and can use ``redraw: false``. The traces themselves, and how the
frames are kept small, are in ui/figures/race_traces.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from gdviz.run import Trajectory
from gdviz.surfaces.base import Surface
from ui.figures.race_boxes import RaceBoxes
from ui.figures.race_traces import RaceTraces
from ui.figures.scrub import ScrubInput, scrub_meta
from ui.figures.style import axis_style, base_layout, runs_of

# frame durations in ms; the browser adds its drawing time (~10-35 ms here) on top of each
SPEEDS = (("×¼", 100), ("×½", 50), ("×1", 20), ("max", 0))
PLAY_MS = 20
MAX_FRAMES = 120  # frames of an animation, at most: its steps are subsampled beyond it


def _animate_args(duration: int, fromcurrent: bool = True) -> dict:
    return dict(
        frame=dict(duration=duration, redraw=False),
        transition=dict(duration=0),
        mode="immediate",
        fromcurrent=fromcurrent,
    )


# how the race figure is laid out for the screen it is shown on: its height, one font size for all its text,
# margins, and the controls below the plot. "projector": a 1280x720 window at 150 % zoom with the sidebar
# open shows ~550x480 CSS pixels, so the chart is short and its text large (≥ 16 px); "phone": ~350 px
# wide, so the legend is small and the slider gets its own row above Play/Pause and the speeds
VIEWS = {
    "standard": dict(height=620, font=14, legend=14, margin=dict(l=80, r=16, t=80, b=160), wide_slider=False),
    "projector": dict(
        height=440, font=16, legend=16, margin=dict(l=60, r=10, t=56, b=176), wide_slider=True, speed_x=0.46, row=132
    ),
    "phone": dict(
        height=610, font=12, legend=11, margin=dict(l=44, r=8, t=84, b=180), wide_slider=True, speed_x=0.53, row=128
    ),
}


def _controls(frame_steps: list[int], current: int, view: dict | None = None, buttons: bool = True) -> dict:
    """Play/Pause buttons, a speed menu and the step slider, all driving frames with redraw off.

    With ``view["wide_slider"]`` (a phone) the slider spans the plot's width on its own row and the buttons
    sit below it; otherwise the buttons are left of the slider. Without ``buttons`` only the slider is drawn,
    across the plot's width: the Playground's stage (ui/playground/stage.py) has the buttons, and the keys."""
    view = view or VIEWS["standard"]
    wide = view["wide_slider"]
    font = dict(size=view["font"])
    play = dict(label="▶ Play", method="animate", args=[None, _animate_args(PLAY_MS)])
    pause = dict(label="❚❚ Pause", method="animate", args=[[None], _animate_args(0, fromcurrent=False)])
    speeds = [dict(label=f"▶ {name}", method="animate", args=[None, _animate_args(ms)]) for name, ms in SPEEDS]
    buttons_menu = dict(
        type="buttons",
        direction="left",
        showactive=False,
        buttons=[play, pause],
        x=0.0,
        y=0.0,
        xanchor="left",
        yanchor="top",
        pad=dict(t=view["row"] if wide else 72, r=6),
        bgcolor="#f2f2f2",
        font=font,
    )
    speed = dict(
        type="dropdown",
        direction="up",
        showactive=True,
        buttons=speeds,
        x=view.get("speed_x", 0.0),
        y=0.0,
        xanchor="left",
        yanchor="top",
        pad=dict(t=view["row"] if wide else 114),
        active=[n for n, _ in SPEEDS].index("×1"),
        bgcolor="#f2f2f2",
        font=font,
    )
    slider_args = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    slider = dict(
        active=frame_steps.index(current),
        x=0.0 if wide or not buttons else 0.2,
        len=1.0 if wide or not buttons else 0.8,
        y=0.0,
        yanchor="top",
        pad=dict(t=40 if wide else 62, b=6),
        font=font,
        currentvalue=dict(prefix="step ", font=dict(size=view["font"] + 1)),
        transition=dict(duration=0),
        steps=[dict(label=str(s), method="animate", args=[[str(s)], slider_args]) for s in frame_steps],
    )
    return dict(updatemenus=[buttons_menu, speed] if buttons else [], sliders=[slider])


def race_figure(surface: Surface, trajectories, labels, **options) -> go.Figure:
    """The optimizers racing over the surface, animated, with Play/Pause, speeds and a step slider.

    2-D: the surface as a picture with iso-lines, every optimizer's path, the start and the known
    minima. 1-D: the curve f(x) with each optimizer's point and trail on it. The figure itself shows
    ``current_step`` (default: the last), with that step's update, gradient and momentum arrows.
    ``options`` are :func:`race_spec`'s keywords.
    """
    # plotly.py validates every attribute of every frame (~0.5 s here); the tests push the same dicts
    # through a validating go.Figure, so the app skips that on each rerun
    return go.Figure(**race_spec(surface, trajectories, labels, **options), _validate=False)


def race_spec(
    surface: Surface,
    trajectories,
    labels,
    *,
    current_step: int | None = None,
    max_frames: int = MAX_FRAMES,
    show_glyphs: bool = True,
    height: int = 620,
    effective_lr: Callable[[Trajectory, list[int]], np.ndarray | None] | None = None,
    view: str = "standard",
    buttons: bool = True,
    scrub: list[ScrubInput] | None = None,
) -> dict:
    """:func:`race_figure` as the plain dict ``{"data", "layout", "frames"}`` it is made of.

    ``effective_lr(trajectory, steps)``: the per-coordinate effective lr (len(steps), R, dim) of those
    steps, or None for an optimizer without one (the Playground passes ui.playground.inspector.effective_lrs);
    each racer that has one gets a box of those sides at its current point (ui/figures/race_boxes.py).
    ``view``: "standard", "projector" or "phone" (:data:`VIEWS`); ``height`` applies to "standard" only.
    ``buttons=False`` leaves out Play/Pause and the speeds (the page's stage has them; the slider stays).
    ``scrub``: racers' sweeps to ship in ``layout.meta["scrub"]`` for the stage's scrubbers (ui/figures/scrub.py).

    The page hands this to Streamlit as it is (see ui/figures/plain.py): wrapping its ~2,000 frame traces
    in plotly.py objects and copying them back out costs three times what building them does.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {sorted(VIEWS)}, got {view!r}")
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
    race = RaceTraces(surface, runs, current_step, max_frames, show_glyphs)
    boxes = RaceBoxes(race, [effective_lr(t, race.frame_steps) if effective_lr else None for t in trajectories])

    def at(step: int) -> list[dict]:
        return race.animated(step) + boxes.at(step)

    surface_data, images, extra = race.surface_traces()
    static = surface_data + race.landmark_traces()
    styles = race.animated_styles()
    animated = [style | data for style, data in zip(styles + boxes.styles(), at(race.current))]
    first = len(static)
    animated_idx = list(range(first, first + len(animated)))
    frames = [dict(name=str(s), data=at(s), traces=animated_idx) for s in race.frame_steps]
    titles = ("x₁", "x₂") if surface.dim == 2 else ("x", "f(x)")
    lo, hi = race.view_lo, race.view_hi
    shape = VIEWS[view]
    margin = (
        shape["margin"]
        | ({} if frames else dict(b=56))
        | ({} if buttons or not frames else dict(b=136 if view == "standard" else 120))
    )
    layout = base_layout(
        height if view == "standard" else shape["height"],
        # what the tick labels, the legend (two rows in the page's main column) and the controls below
        # need: plotly grows margins that are too small for them and then draws the whole figure again
        margin=margin | dict(pad=0),
        images=images,
        uirevision=surface.name,
        xaxis=axis_style(range=[float(lo[0]), float(hi[0])], title=dict(text=titles[0])),
        yaxis=axis_style(range=[float(lo[1]), float(hi[1])], title=dict(text=titles[1])),
    )
    if view != "standard":
        layout["font"] = layout["font"] | dict(size=shape["font"])
        layout["hoverlabel"] = dict(font=dict(size=shape["font"]))
        layout["legend"] = layout["legend"] | dict(font=dict(size=shape["legend"]))
        # Streamlit's chart theme sets the axes' own fonts (12 px ticks): only the axes' settings beat it
        for axis in ("xaxis", "yaxis"):
            layout[axis]["tickfont"] = dict(size=shape["font"])
            layout[axis]["title"] = layout[axis]["title"] | dict(font=dict(size=shape["font"]))
        if view == "phone":
            layout["legend"] |= dict(itemwidth=30, tracegroupgap=0, entrywidth=0)
        # a short legend: the arrows and boxes keep theirs off it (the caption under the chart explains them)
        for trace in animated[len(runs) + 1 :]:
            trace["showlegend"] = False
    if frames:
        layout |= _controls(race.frame_steps, race.current, shape, buttons)
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
        # racer index -> (trace index, data units per unit of η_eff) of its effective-lr box
        boxes=boxes.meta(first + len(styles)),
        grid=1 if surface.dim == 2 else None,
        view=[[float(a), float(b)] for a, b in zip(lo, hi)],
        **extra,
    )
    if scrub:
        head_offsets = np.concatenate([[0], np.cumsum([r.n_runs for r in runs])]).astype(int).tolist()
        paths = layout["meta"]["paths"]
        layout["meta"]["scrub"] = scrub_meta(scrub, race.frame_steps, lo, hi, paths, head_offsets)
    return dict(data=static + animated, layout=layout, frames=frames)
