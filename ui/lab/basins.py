"""Landscape Lab, basins of attraction: which minimum each start of a grid ends in, two optimizers."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.maps import basins_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, affordable, build_optimizer, computing, key, lab_steps, link, link_label, new_click
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice, Entry, Number
from ui.state.text import escape_markdown
from ui.state.values import Params
from ui.state.widgets import KEEP
from ui.work import Budget, complete, partial, step_seconds
from ui.workers import offloaded

TITLE = "Basins of attraction"
# what a visitor can change when the measured cost cuts the steps
HINT = "Fewer starts per axis or cheaper optimizers fit more steps in the budget."
FIELDS = (
    Choice("ba.s", "Surface", pick(PLANAR, "himmelblau"), PLANAR),
    Entry("ba.o1", "Optimizer A", "optimizer", "SGD", (("lr", 0.01),)),
    Entry("ba.o2", "Optimizer B", "optimizer", "SGD", (("lr", 0.01), ("momentum", 0.9))),
    Number("ba.n", "Starts per axis", 100, 8, limits.MAX_BASIN_GRID, integer=True),
    Number("ba.steps", "Steps", 500, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("ba.tol", "Tolerance (share of the window's diagonal)", 0.01, 1e-4, 0.2),
)
FIELD = {f.key: f for f in FIELDS}


@st.cache_data(**CACHE)
def basins_of(
    surface_name: str, optimizer: tuple[str, Params], grid: int, steps: int, tol_share: float, _should_stop=None
) -> landscape.Basins:
    return offloaded(_basins, surface_name, optimizer, grid, steps, tol_share, should_stop=_should_stop)


@st.cache_data(**CACHE)
def basins_step_seconds(surface_name: str, optimizer: tuple[str, Params], grid: int, tol_share: float) -> float:
    """CPU seconds one step of this basin map costs here: PROBE_STEPS steps timed once (not cached as a map).

    The map's minima are found first, so that their search (a fixed cost, cached) is not taken for the
    steps' (it made the default map's steps look six times as costly as they are). A map of more than
    LAB_PROBE_RUNS starts is probed on a coarser grid over the same window and the cost scaled up by the
    starts it left out.
    """
    attractors_of(surface_name)
    dim = gdviz.surface(surface_name).dim
    probe = min(grid, int(limits.LAB_PROBE_RUNS ** (1 / dim) + 1e-9))  # starts per axis the probe runs
    per_step = step_seconds(lambda n: _basins(surface_name, optimizer, probe, n, tol_share), limits.PROBE_STEPS)
    return per_step * (grid / probe) ** dim


def _basins(
    surface_name: str, optimizer: tuple[str, Params], grid: int, steps: int, tol_share: float, should_stop=None
) -> landscape.Basins:
    surface = gdviz.surface(surface_name)
    lo, hi = np.asarray(surface.bounds, dtype=np.float64).T
    tol = tol_share * float(np.linalg.norm(hi - lo))
    b = landscape.basins(
        surface,
        build_optimizer(optimizer),
        grid=grid,
        steps=steps,
        tol=tol,
        minima=attractors_of(surface_name),
        should_stop=should_stop,
    )
    return complete(b, b.steps, steps)


@st.cache_data(**CACHE)
def attractors_of(surface_name: str) -> np.ndarray:
    return landscape.attractors(gdviz.surface(surface_name))


@st.cache_data(**CACHE)
def single_path(surface_name: str, optimizer: tuple[str, Params], start: tuple[float, ...], steps: int) -> np.ndarray:
    return gdviz.run(gdviz.surface(surface_name), build_optimizer(optimizer), start, steps, record="path").xs


def sidebar() -> None:
    state = st.session_state
    surface_picker(PAGE, "ba.s")
    for field in ("ba.o1", "ba.o2"):
        with st.expander(FIELD[field].label, expanded=True):
            ps.entry_widgets(PAGE, FIELD[field], label="optimizer")
    st.slider("starts per axis", 8, limits.MAX_BASIN_GRID, key=key("ba.n"), persist_state=KEEP)
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("ba.steps"), persist_state=KEEP)
    st.select_slider(
        "tolerance (share of the window's diagonal)",
        options=sorted({0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, float(state[key("ba.tol")])}),
        key=key("ba.tol"),
        help="a run 'reaches' a minimum when it ends this close to it",
        persist_state=KEEP,
    )


def _compute(
    surface: gdviz.Surface, values: dict[str, Any], grid: int, steps: int, tol_share: float
) -> tuple[list[landscape.Basins] | None, list[str], int]:
    """Both maps with the steps their measured cost affords (its notice shown), the notices of maps the time
    budget stopped, and those steps; None for the maps once an error is shown."""
    per_step = 0.0
    if steps > limits.PROBE_STEPS:
        # measured cost: the two maps get the same steps, what the costlier one affords in half the budget
        try:
            per_step = max(basins_step_seconds(surface.name, values[f], grid, tol_share) for f in ("ba.o1", "ba.o2"))
        except ValueError:
            per_step = 0.0  # the maps themselves say what is wrong, below
        steps, message = affordable(steps, 2 * per_step, HINT)
        if message:
            st.info(message)
    results, stopped = [], []
    try:
        for field in ("ba.o1", "ba.o2"):
            # half the view's budget each, so that a costly first optimizer leaves the second its share
            budget = Budget(limits.LAB_SECONDS / 2, expected=per_step * steps)
            results.append(
                partial(
                    lambda f=field, b=budget: basins_of(surface.name, values[f], grid, steps, tol_share, b),
                    stopped,
                    budget.seconds,
                )
            )
    except ValueError as error:
        st.error(escape_markdown(str(error)))
        return None, [], steps
    return results, stopped, steps


def view(values: dict[str, Any]) -> None:
    state = st.session_state
    surface = gdviz.surface(values["ba.s"])
    st.markdown(
        "Every start point of a grid is coloured by the minimum the optimizer ends in (grey: not within the "
        "tolerance of any minimum after the steps; red: diverged). Two optimizers side by side, the same "
        "starts. **Click a start** to draw both paths from it."
    )
    grid = int(values["ba.n"])
    steps, message = lab_steps(grid**surface.dim, int(values["ba.steps"]))
    if message:
        st.info(message)
    tol_share = float(values["ba.tol"])
    starts = " × ".join([str(grid)] * surface.dim)
    with computing(f"Computing basins: {starts} starts × {steps} steps, two optimizers …"):
        results, stopped, steps = _compute(surface, values, grid, steps, tol_share)
    if results is None:
        return
    for text in stopped:
        st.warning(text)
    remembered = state.get("lab_basin_start")
    start = remembered[1] if remembered and remembered[0] == surface.name else None
    columns = st.columns(2)
    labels = []
    for i, (column, field, b) in enumerate(zip(columns, ("ba.o1", "ba.o2"), results)):
        name, params = values[field]
        label = link_label(name, params)
        labels.append(label)
        paths = [single_path(surface.name, values[field], tuple(start), steps)] if start is not None else []
        with column:
            # the heading above the chart, not the figure's title: where the column is narrow (a projector's zoom)
            # the legend's rows grew up into a title inside the figure
            st.markdown(f"**{'AB'[i]}: {escape_markdown(label)}**")
            fig = basins_figure(surface, b, paths=paths)
            chart = f"lab_basins_chart_{i}"
            event = show_chart(fig, key=chart, on_select="rerun", selection_mode="points")
            clicked = new_click(event, fig, "starts", chart)
            if clicked is not None:
                state["lab_basin_start"] = (surface.name, tuple(float(v) for v in clicked[: surface.dim]))
                st.rerun()
            counts = b.counts()
            st.caption(
                f"{b.labels.size} starts × {steps} steps in {b.seconds:.2f} s; "
                f"{counts.get(landscape.DIVERGED, 0)} diverged, {counts.get(landscape.NOT_CONVERGED, 0)} not converged, "
                f"{len(b.minima)} minima known in and around the window."
            )
    if start is not None:
        st.markdown(f"Paths from the clicked start ({', '.join(f'{v:.3g}' for v in start)}).")
    optimizers = [(values[f][0], values[f][1], label) for f, label in zip(("ba.o1", "ba.o2"), labels)]
    ps.playground_link(
        link(surface.name, start, steps, optimizers),
        "Open both in the Playground" + (" from this start" if start else ""),
    )
