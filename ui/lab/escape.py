"""Landscape Lab, escaping local minima: random restarts against annealed gradient noise."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.escape import annealing_curves, annealing_figure, restarts_figure, restarts_summary_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, affordable, build_optimizer, computing, fmt, key, lab_steps, link
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice, Entry, Number, Point
from ui.state.text import escape_markdown
from ui.state.values import Params
from ui.state.widgets import KEEP
from ui.work import Budget, complete, partial, step_seconds
from ui.workers import offloaded

TITLE = "Escaping local minima"
# what a visitor can change when the measured cost cuts the steps
HINT = "Fewer restarts or noisy runs, or a cheaper optimizer, fit more steps in the budget."
FIELDS = (
    Choice("es.s", "Surface", pick(PLANAR, "local_trap"), PLANAR),
    Point("es.x0", "Start point (annealing)", "es.s"),
    Entry("es.o", "Optimizer", "optimizer", "SGD", (("lr", 0.05),)),
    Number("es.steps", "Steps", 600, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("es.n", "Random restarts", 30, 1, limits.MAX_RESTARTS, integer=True),
    Number("es.sigma", "Initial noise σ0", 3.0, 0.0, limits.MAX_NOISE),
    Number("es.decay", "Cooling factor γ per step", 0.99, 0.9, 1.0),
    Number("es.runs", "Noisy runs", 16, 1, limits.MAX_ANNEAL_RUNS, integer=True),
    Number("es.seed", "Seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
)
FIELD = {f.key: f for f in FIELDS}


@st.cache_data(**CACHE)
def restarts_of(
    surface_name: str, optimizer: tuple[str, Params], n: int, steps: int, seed: int, _should_stop=None
) -> landscape.Restarts:
    return offloaded(_restarts, surface_name, optimizer, n, steps, seed, should_stop=_should_stop)


def _restarts(surface_name, optimizer, n, steps, seed, should_stop=None) -> landscape.Restarts:
    r = landscape.random_restarts(
        gdviz.surface(surface_name), build_optimizer(optimizer), n=n, steps=steps, seed=seed, should_stop=should_stop
    )
    return complete(r, r.xs.shape[0] - 1, steps)


@st.cache_data(**CACHE)
def annealing_of(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    steps: int,
    sigma: float,
    decay: float,
    runs: int,
    seed: int,
    _should_stop=None,
) -> landscape.Annealing:
    return offloaded(
        _annealing, surface_name, start, optimizer, steps, sigma, decay, runs, seed, should_stop=_should_stop
    )


def _annealing(
    surface_name, start, optimizer, steps, sigma, decay, runs, seed, should_stop=None
) -> landscape.Annealing:
    a = landscape.annealed_noise_run(
        gdviz.surface(surface_name), build_optimizer(optimizer), start, steps, sigma, decay, runs, seed, should_stop
    )
    return complete(a, a.xs.shape[0] - 1, steps)


@st.cache_data(**CACHE)
def escape_step_seconds(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    n: int,
    sigma: float,
    decay: float,
    runs: int,
    seed: int,
) -> float:
    """CPU seconds one step of the view's four computations costs here (the restarts and the three annealing
    settings): PROBE_STEPS of each timed once, not cached as results."""

    def run_steps(steps: int) -> None:
        _restarts(surface_name, optimizer, n, steps, seed)
        for s, d in noise_settings(sigma, decay):
            _annealing(surface_name, start, optimizer, steps, s, d, runs, seed)

    return step_seconds(run_steps, limits.PROBE_STEPS)


def noise_settings(sigma: float, decay: float) -> tuple[tuple[float, float], ...]:
    """(σ0, γ) of the three annealing settings compared: no noise, constant noise, cooled noise."""
    return (0.0, 1.0), (sigma, 1.0), (sigma, decay)


def sidebar() -> None:
    state = st.session_state
    surface_picker(PAGE, "es.s", FIELD["es.x0"])
    ps.entry_widgets(PAGE, FIELD["es.o"])
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("es.steps"), persist_state=KEEP)
    st.slider("random restarts", 1, limits.MAX_RESTARTS, key=key("es.n"), persist_state=KEEP)
    st.slider(
        "initial noise σ0",
        0.0,
        20.0 if state[key("es.sigma")] <= 20 else limits.MAX_NOISE,
        step=0.1,
        key=key("es.sigma"),
        persist_state=KEEP,
    )
    st.slider("cooling γ (σ_t = σ0 γ^t)", 0.9, 1.0, step=0.001, format="%.3f", key=key("es.decay"), persist_state=KEEP)
    st.slider("noisy runs", 1, limits.MAX_ANNEAL_RUNS, key=key("es.runs"), persist_state=KEEP)
    st.number_input("seed", limits.MIN_SEED, limits.MAX_SEED, step=1, key=key("es.seed"), persist_state=KEEP)


def _compute(surface: gdviz.Surface, values: dict[str, Any], n: int, steps: int):
    """The restarts and the three annealing settings with the steps their measured cost affords (its notice
    shown): (restarts, the three annealings, notices of runs the time budget stopped, the restarts' steps,
    the steps), or None once an error is shown."""
    optimizer = values["es.o"]
    sigma, decay, runs, seed = (
        float(values["es.sigma"]),
        float(values["es.decay"]),
        int(values["es.runs"]),
        int(values["es.seed"]),
    )
    restarts_steps, message = lab_steps(n, steps)
    if message:
        st.info(message)
    per_step = 0.0
    if steps > limits.PROBE_STEPS:
        # measured cost: the restarts and the three annealing settings get the same steps
        try:
            per_step = escape_step_seconds(surface.name, values["es.x0"], optimizer, n, sigma, decay, runs, seed)
        except ValueError:
            per_step = 0.0  # the runs themselves say what is wrong, below
        steps, message = affordable(steps, per_step, HINT)
        restarts_steps = min(restarts_steps, steps)
        if message:
            st.info(message)
    budget, stopped = Budget(limits.LAB_SECONDS, expected=per_step * steps), []
    try:
        r = partial(
            lambda: restarts_of(surface.name, optimizer, n, restarts_steps, seed, budget), stopped, budget.seconds
        )
        common = (surface.name, values["es.x0"], optimizer, steps)
        annealed = tuple(
            partial(lambda s=noise, d=cooling: annealing_of(*common, s, d, runs, seed, budget), stopped, budget.seconds)
            for noise, cooling in noise_settings(sigma, decay)
        )
    except ValueError as error:
        st.error(escape_markdown(str(error)))
        return None
    return r, annealed, stopped, restarts_steps, steps


def view(values: dict[str, Any]) -> None:
    surface = gdviz.surface(values["es.s"])
    optimizer, steps = values["es.o"], int(values["es.steps"])
    st.markdown(
        "Two ways out of a local minimum from the list in the notes on gradient descent. **Random restarts**: many runs from random "
        "starts, keep the best. **Annealing**: gradient noise that cools down, σ_t = σ0·γ^t; early kicks "
        "carry the iterate over ridges, and as the noise fades it settles in the basin it last fell into."
    )
    sigma, decay, runs, seed = (
        float(values["es.sigma"]),
        float(values["es.decay"]),
        int(values["es.runs"]),
        int(values["es.seed"]),
    )
    n = int(values["es.n"])
    with computing(f"Computing {n} random restarts and 3 × {runs} noisy runs of {steps} steps …"):
        computed = _compute(surface, values, n, steps)
    if computed is None:
        return
    r, (calm, constant, cooled), stopped, restarts_steps, steps = computed
    for text in stopped:
        st.warning(text)
    st.subheader("Random restarts")
    left, right = st.columns([3, 2])
    with left:
        show_chart(restarts_figure(surface, r), key="lab_restarts_chart")
    with right:
        show_chart(restarts_summary_figure(r), key="lab_restarts_summary")
        best = r.best
        st.markdown(
            f"Best of {len(r.final_loss)}: f = {fmt(float(r.final_loss[best]))} at "
            f"({', '.join(f'{v:.4g}' for v in r.xs[-1, best])}), from the start "
            f"({', '.join(f'{v:.3g}' for v in r.starts[best])})."
        )
        ps.playground_link(
            link(surface.name, r.starts[best], restarts_steps, [(optimizer[0], optimizer[1], "best restart")]),
            "Open the best restart in the Playground",
        )
    st.subheader("Annealed noise")
    settings = [
        ("no noise", calm),
        (f"constant σ = {sigma:g}", constant),
        (f"annealed σ0 = {sigma:g}, γ = {decay:g}", cooled),
    ]
    left, right = st.columns([3, 2])
    with left:
        show_chart(annealing_figure(surface, settings), key="lab_anneal_chart")
    with right:
        show_chart(annealing_curves(settings, surface.f_min), key="lab_anneal_curves")
    f_ref = surface.f_min
    rows = []
    for label, a in settings:
        finals = a.final_loss
        row = {
            "noise": label,
            "mean final f": fmt(float(finals.mean())),
            "best final f": fmt(float(finals.min())),
        }
        if np.isfinite(f_ref):
            row["runs within 1e-2 of f*"] = f"{int(np.sum(finals - f_ref <= 1e-2))}/{len(finals)}"
        rows.append(row)
    st.dataframe(rows, hide_index=True)
    ps.playground_link(
        link(surface.name, values["es.x0"], steps, [(optimizer[0], optimizer[1], "")], noise=sigma, seed=seed),
        f"Open the constant-noise run (σ = {sigma:g}) in the Playground",
    )
