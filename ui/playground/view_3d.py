"""The Playground's 3-D view: the surface as a mesh with every path on it, drawn fast and steppable.

The figure is built once per scenario and step and shared (``st.cache_resource``, as the race figure is in
ui/playground/view.py), as the plain dict it was built from (ui/figures/plain.py). The browser draws it
with WebGL; on a machine without a GPU that is SwiftShader on the CPU, where every pixel costs: the chart
draws at the screen's CSS pixels (``plotGlPixelRatio`` 1; plotly's default 2 draws four times as many).
A browser-side controller may move its step with ui/figures/surface_3d_js.py's STEP_3D_JS.
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

import gdviz
from ui import limits
from ui.figures.plain import PlainFigure
from ui.figures.surface_3d import surface_3d_spec
from ui.live_chart import figure_json, live_chart
from ui.playground.scenario import Scenario
from ui.playground.simulate import Race

K_RACE_3D = "pg_race3d"
CONFIG_3D = {"displaylogo": False, "plotGlPixelRatio": 1}


@st.cache_resource(max_entries=limits.FIGURE_CACHE_MAX_ENTRIES, show_spinner=False)
def _surface_3d_figure(key: str, current_step: int | None, _race: Race) -> bytes:
    # one serialized figure per scenario and step serves every rerun and session
    spec = surface_3d_spec(_race.surface, _race.trajectories, _race.labels, current_step=current_step)
    return figure_json(PlainFigure(spec))


@lru_cache(maxsize=1)
def prewarm_figure() -> bytes:
    """A tiny 3-D figure of the kinds the 3-D view draws (a mesh of 6² vertices, a path and its head, the axes),
    4-5 kB: the browser builds the hidden chart's WebGL scene with it while the page is idle (ui/live_chart.py),
    so that the visitor's first toggle draws into a built scene. Measured in headless Chromium without a GPU: a
    first toggle took 1.9-2.1 s without it, 1.4 s after a throwaway scene had been built, 0.8-1.45 s into the
    prewarmed one (later toggles 0.6-0.7 s). The surface's own mesh and axes (140 kB) did no better."""
    surface = gdviz.surface(Scenario().surface)
    race = gdviz.race(surface, [gdviz.optimizer("SGD", lr=0.01)], steps=3)
    return figure_json(PlainFigure(surface_3d_spec(surface, race, ["·"], mesh_points=6)))


def surface_3d_chart(race: Race, current_step: int | None = None, shown: bool = True) -> None:
    """The 3-D chart (key "pg_race3d") of a 2-D race, at ``current_step`` (default: the last step). Not
    ``shown``, it is put away in the browser rather than removed: in software WebGL (a browser without a GPU)
    building the scene again took ~0.6 s of the ~1.1 s a toggle took, drawing into the kept one ~0.1 s; and
    before the first toggle the browser builds it at idle time (:func:`prewarm_figure`)."""
    if race.surface.dim != 2:
        return
    fig = _surface_3d_figure(race.key, current_step, race) if shown else None
    # (the browser builds the chart with the prewarm figure once, and ignores it after)
    live_chart(fig, key=K_RACE_3D, config=CONFIG_3D, prewarm=None if shown else prewarm_figure())
