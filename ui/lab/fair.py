"""Landscape Lab, fair comparison: every optimizer gets the same log grid of learning rates."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.fair import fair_curves_figure, fair_lr_figure, fair_paths_figure, fair_rows
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, affordable, key, lab_steps, link
from ui.state import fields as ps
from ui.state.fields import Choice, Names, Number, Point
from ui.state.text import escape_markdown
from ui.state.widgets import KEEP
from ui.work import Budget, complete, partial, step_seconds

TITLE = "Fair comparison"
# what a visitor can change when the measured cost cuts the steps
HINT = "Fewer optimizers or learning rates tried fit more steps in the budget."
_OPTIMIZERS = tuple(sorted(gdviz.OPTIMIZERS))
_DEFAULT = tuple(n for n in ("SGD", "Adam", "RMSprop", "Adagrad") if n in gdviz.OPTIMIZERS)
FIELDS = (
    Choice("fc.s", "Surface", pick(PLANAR, "rosenbrock"), PLANAR),
    Point("fc.x0", "Start point", "fc.s"),
    Names("fc.o", "Optimizers", _DEFAULT, _OPTIMIZERS, limits.MAX_OPTIMIZERS),
    Number("fc.lo", "Smallest lr", 1e-4, 1e-6, 10.0),
    Number("fc.hi", "Largest lr", 1.0, 1e-6, 10.0),
    Number("fc.n", "Learning rates tried", 25, 3, limits.MAX_TUNE_POINTS, integer=True),
    Number("fc.steps", "Steps", 500, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("fc.tol", "Tolerance on f − f*", 1e-3, 1e-12, 1e3),
)
FIELD = {f.key: f for f in FIELDS}


@st.cache_data(**CACHE)
def tuned_of(
    surface_name: str,
    start: tuple[float, ...] | None,
    names: tuple[str, ...],
    lrs: tuple[float, ...],
    steps: int,
    tol: float,
    _should_stop=None,
) -> list[landscape.Tuned]:
    return _tuned(surface_name, start, names, lrs, steps, tol, _should_stop)


@st.cache_data(**CACHE)
def tuned_step_seconds(
    surface_name: str, start: tuple[float, ...] | None, names: tuple[str, ...], lrs: tuple[float, ...], tol: float
) -> float:
    """CPU seconds one step of the whole search (every optimizer, every lr) costs here: PROBE_STEPS of it
    timed once, not cached as a result."""
    return step_seconds(lambda n: _tuned(surface_name, start, names, lrs, n, tol), limits.PROBE_STEPS)


def _tuned(surface_name, start, names, lrs, steps, tol, should_stop=None) -> list[landscape.Tuned]:
    tuned = landscape.tune_lr(
        gdviz.surface(surface_name), list(names), np.array(lrs), steps, tol, start=start, should_stop=should_stop
    )
    return complete(tuned, tuned[0].losses.shape[0] - 1 if tuned else steps, steps)


def sidebar() -> None:
    state = st.session_state
    surface_picker(PAGE, "fc.s", FIELD["fc.x0"])
    st.multiselect(
        "optimizers (torch defaults, only lr tuned)",
        list(FIELD["fc.o"].options),
        key=key("fc.o"),
        max_selections=limits.MAX_OPTIMIZERS,
        persist_state=KEEP,
    )
    left, right = st.columns(2)
    left.number_input("smallest lr", 1e-6, 10.0, format="%g", key=key("fc.lo"), persist_state=KEEP)
    right.number_input("largest lr", 1e-6, 10.0, format="%g", key=key("fc.hi"), persist_state=KEEP)
    st.slider("learning rates tried (log grid)", 3, limits.MAX_TUNE_POINTS, key=key("fc.n"), persist_state=KEEP)
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("fc.steps"), persist_state=KEEP)
    st.select_slider(
        "tolerance on f − f*",
        options=sorted({1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, float(state[key("fc.tol")])}),
        key=key("fc.tol"),
        format_func=lambda v: f"{v:g}",
        persist_state=KEEP,
    )


def view(values: dict[str, Any]) -> None:
    surface = gdviz.surface(values["fc.s"])
    names = values["fc.o"]
    st.markdown(
        "Every optimizer gets the same log grid of learning rates (the same budget) and keeps torch's "
        "defaults otherwise. The best lr is the one that ends within the tolerance of f* in the fewest "
        "steps; if none does, the one with the lowest final loss. The whole search is shown, not just its winner."
    )
    low, high = sorted((float(values["fc.lo"]), float(values["fc.hi"])))
    lrs = landscape.log_grid(low, high, int(values["fc.n"]))
    steps, message = lab_steps(len(lrs) * len(names), int(values["fc.steps"]))
    if message:
        st.info(message)
    tol = float(values["fc.tol"])
    if steps > limits.PROBE_STEPS:
        # measured cost: every optimizer gets the same steps
        try:
            per_step = tuned_step_seconds(surface.name, values["fc.x0"], tuple(names), tuple(lrs.tolist()), tol)
        except ValueError:
            per_step = 0.0  # the search itself says what is wrong, below
        steps, message = affordable(steps, per_step, HINT)
        if message:
            st.info(message)
    budget, stopped = Budget(limits.LAB_SECONDS), []
    with st.spinner("Tuning …"):
        try:
            tuned = partial(
                lambda: tuned_of(
                    surface.name,
                    values["fc.x0"],
                    tuple(names),
                    tuple(lrs.tolist()),
                    steps,
                    tol,
                    budget,
                ),
                stopped,
                budget.seconds,
            )
        except ValueError as error:
            st.error(escape_markdown(str(error)))
            return
    for text in stopped:
        st.warning(text)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(fair_paths_figure(surface, tuned), key="lab_fair_paths")
    with right:
        st.plotly_chart(fair_lr_figure(tuned, tol), key="lab_fair_lrs")
        st.plotly_chart(fair_curves_figure(tuned), key="lab_fair_curves")
    st.dataframe(fair_rows(tuned, tol), hide_index=True)
    if not np.isfinite(surface.f_min):
        st.caption("This surface has no known minimum value: f* is the lowest loss any run reached.")
    if any(t.at_edge for t in tuned):
        st.caption("A best lr at the edge of the grid means a wider grid might do better.")
    optimizers = [(t.name, (("lr", t.best_lr),), f"{t.name} tuned") for t in tuned]
    ps.playground_link(link(surface.name, values["fc.x0"], steps, optimizers), "Open the tuned race in the Playground")
