"""The Schedules page: its URL fields, the cached noisy-SGD runs, its sidebar and its charts."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from ui import limits
from ui.figures.schedules import band_figure, lr_figure, momentum_figure, paths_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.playground.inspector import display
from ui.playground.scenario import Scenario, to_query
from ui.screen import narrow_window_css, row_holding, show_chart
from ui.state import fields as ps
from ui.state.entries import entry
from ui.state.fields import Choice, Entry, Number, Point
from ui.state.text import escape_markdown
from ui.state.values import NO_SCHEDULE, Params
from ui.state.widgets import KEEP, playable_schedules
from ui.work import Budget, complete, partial
from ui.workers import offloaded

PAGE = "sc"
DEFAULT_STEPS = 200
_CHOICES = tuple(playable_schedules())
_SLOT_DEFAULTS = (NO_SCHEDULE, "ExponentialDecay", "PolynomialDecay", "CosineAnnealingLR", "StepLR", "OneCycleLR")


def _slot(i: int) -> Entry:
    wanted = _SLOT_DEFAULTS[i] if i < len(_SLOT_DEFAULTS) else NO_SCHEDULE
    name = wanted if wanted in _CHOICES or wanted == NO_SCHEDULE else NO_SCHEDULE
    probe = Entry("probe", "", "schedule", NO_SCHEDULE, constant=True, horizon=DEFAULT_STEPS)
    params = tuple(probe.horizon_params(name).items()) if name != NO_SCHEDULE else ()
    if name == "StepLR":
        params = (("step_size", 50), ("gamma", 0.5))
    return Entry(
        f"sc{i + 1}",
        f"Schedule {i + 1}",
        "schedule",
        name,
        params,
        constant=True,
        horizon=DEFAULT_STEPS,
        choices=_CHOICES,
    )


SLOTS = tuple(_slot(i) for i in range(limits.MAX_SCHEDULES_COMPARED))
FIELDS = (
    Number("n", "Number of schedules", 3, 1, limits.MAX_SCHEDULES_COMPARED, integer=True),
    *SLOTS,
    Choice("s", "Surface", pick(PLANAR, "quadratic"), PLANAR),
    Point("x0", "Start point", "s"),
    Number("lr", "Base learning rate η0", 0.1, 1e-5, 2.0),
    Number("noise", "Gradient noise σ", 1.0, limits.MIN_NOISE, limits.MAX_NOISE),
    Number("steps", "Steps", DEFAULT_STEPS, 1, limits.MAX_SCHEDULE_STEPS, integer=True),
    Number("seeds", "Seeds", 16, 1, limits.MAX_SEEDS, integer=True),
    Number("seed", "First seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
)
FIELD = {f.key: f for f in FIELDS}
# η(t) and the formulas side by side only in a wide window: at a projector's zoom the formulas' column was 200 px
FORMULAS_CSS = f"<style>{narrow_window_css(row_holding('sc_formulas'))}</style>"


def key(name: str) -> str:
    """The widget key of the Schedules page's field ``name``."""
    return ps.widget_key(PAGE, name)


def schedule_label(name: str, params: Params) -> str:
    if name == NO_SCHEDULE:
        return "constant η"
    specs = gdviz.SCHEDULES[name].spec
    shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for (k, v), s in zip(params, specs) if v is not None]
    return f"{name}({', '.join(shown[:3])})"


@st.cache_data(**CACHE)
def schedule_runs(
    surface_name: str,
    start: tuple[float, ...] | None,
    lr: float,
    noise: float,
    steps: int,
    seeds: int,
    seed: int,
    schedule: tuple[str, Params],
    _should_stop=None,
) -> dict[str, np.ndarray]:
    """Noisy SGD with one schedule, ``seeds`` runs in one call (each its own noise stream).

    Returns lrs (steps,), the momentum of each step (steps,) when the schedule cycles it (else None),
    distance (or f when the surface has no known minimum) as mean / 10% / 90% quantiles over the runs
    (steps+1,), and run 0's path (steps+1, dim). Stopped by ``_should_stop`` (a
    ui.work.Budget), it raises ui.work.Stopped with the steps done, which the cache does not keep.
    """
    args = (surface_name, start, lr, noise, steps, seeds, seed, schedule)
    return offloaded(_schedule_runs, *args, should_stop=_should_stop)


def _schedule_runs(surface_name, start, lr, noise, steps, seeds, seed, schedule, should_stop=None) -> dict:
    surface = gdviz.surface(surface_name)
    name, params = schedule
    sched = None if name == NO_SCHEDULE else gdviz.schedule(name, **dict(params))
    x0 = np.asarray(surface.default_start if start is None else start, dtype=np.float64)
    traj = gdviz.run(
        surface,
        gdviz.optimizer("SGD", lr=lr),
        np.tile(x0, (seeds, 1)),
        steps,
        sched,
        noise=noise,
        seed=seed,
        record="path",
        should_stop=should_stop,
    )
    metric = traj.distance_to_minimum() if np.size(surface.minima) else traj.losses  # (steps+1, R)
    result = {
        "lrs": traj.lrs.mean(axis=1),
        # the same in every run: the cycle does not depend on the lr
        "momentums": None if traj.momentums is None else traj.momentums[:, 0],
        "mean": metric.mean(axis=1),
        "low": np.quantile(metric, 0.1, axis=1),
        "high": np.quantile(metric, 0.9, axis=1),
        "path": traj.xs[:, 0],
        "diverged": (traj.diverged_step >= 0).sum(),
    }
    return complete(result, traj.xs.shape[0] - 1, steps)


def schedule_scenario(values: dict[str, Any], schedule: tuple[str, Params]) -> Scenario:
    """The Playground scenario of one schedule's noisy-SGD run (seed = the first seed)."""
    name, params = schedule
    return Scenario(
        surface=values["s"],
        start=values["x0"],
        steps=int(min(values["steps"], limits.MAX_STEPS)),
        noise=float(values["noise"]),
        seed=int(values["seed"]),
        schedule=name,
        schedule_params=() if name == NO_SCHEDULE else params,
        optimizers=(entry("SGD", lr=values["lr"], label=schedule_label(name, params)[: limits.MAX_LABEL_CHARS]),),
    )


def sidebar() -> None:
    state = st.session_state
    st.header("Schedules")
    st.number_input("How many", 1, limits.MAX_SCHEDULES_COMPARED, step=1, key=key("n"), persist_state=KEEP)
    for slot in SLOTS[: int(state[key("n")])]:
        with st.expander(slot.label, expanded=True):
            ps.entry_widgets(PAGE, slot, label="schedule")
    st.header("Noisy SGD")
    surface_picker(PAGE, "s", FIELD["x0"])
    st.select_slider(
        "base lr η0",
        options=sorted({0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, float(state[key("lr")])}),
        key=key("lr"),
        format_func=lambda v: f"{v:g}",
        persist_state=KEEP,
    )
    st.slider(
        "noise σ",
        limits.MIN_NOISE,
        10.0 if state[key("noise")] <= 10 else limits.MAX_NOISE,
        step=0.1,
        key=key("noise"),
        help="g = ∇f + ε, ε ~ N(0, σ²) per coordinate (d2l 12.4)",
        persist_state=KEEP,
    )
    st.number_input("steps", 1, limits.MAX_SCHEDULE_STEPS, step=50, key=key("steps"), persist_state=KEEP)
    st.slider("seeds (runs averaged)", 1, limits.MAX_SEEDS, key=key("seeds"), persist_state=KEEP)
    st.number_input("first seed", limits.MIN_SEED, limits.MAX_SEED, step=1, key=key("seed"), persist_state=KEEP)


def run_all(values: dict[str, Any], chosen: list, labels: list[str]) -> list[dict[str, np.ndarray]]:
    """Each chosen schedule's runs, with a progress bar; stops the page on an engine error."""
    results: list[dict[str, np.ndarray]] = []
    stopped: list[str] = []
    progress = st.progress(0.0, text="Running noisy SGD …")
    args = (values["s"], values["x0"], values["lr"], values["noise"], values["steps"], values["seeds"], values["seed"])
    for i, item in enumerate(chosen):
        # each schedule its share of the page's CPU budget, so that a costly first one leaves the others theirs
        budget = Budget(limits.LAB_SECONDS / len(chosen))
        try:
            results.append(partial(lambda b=budget, it=item: schedule_runs(*args, it, b), stopped, budget.seconds))
        except ValueError as error:
            st.error(escape_markdown(f"{labels[i]}: {error}"))
            st.stop()
        progress.progress((i + 1) / len(chosen), text=f"Running noisy SGD … {labels[i]}")
    progress.empty()
    for text in stopped:
        st.warning(text)
    return results


def view(values: dict[str, Any]) -> None:
    surface = gdviz.surface(values["s"])
    chosen = [values[slot.key] for slot in SLOTS[: int(values["n"])]]
    labels = [schedule_label(*item) for item in chosen]
    results = run_all(values, chosen, labels)

    st.html(FORMULAS_CSS)
    left, right = st.columns([3, 2])
    with left:
        st.subheader("η(t)")
        show_chart(lr_figure(list(zip(labels, [r["lrs"] for r in results]))), key="sc_lr_chart")
        cycled = [
            (i, label, r["momentums"])
            for i, (label, r) in enumerate(zip(labels, results))
            if r["momentums"] is not None
        ]
        if cycled:
            st.subheader("μ(t)")
            st.caption(
                "CyclicLR and OneCycleLR also cycle the momentum, against η, as torch does by default "
                "(cycle_momentum): under them SGD takes heavy-ball steps with this μ_t although its own momentum "
                'is 0 (Goh, "Why Momentum Really Works", Distill 2017). Switch cycle_momentum off to compare '
                "the learning rates alone."
            )
            show_chart(momentum_figure(cycled), key="sc_momentum_chart")
    with right.container(key="sc_formulas"):
        st.subheader("Formulas")
        for label, (name, _) in zip(labels, chosen):
            st.markdown(f"**{label}**")
            st.latex(r"\eta_t = \eta_0" if name == NO_SCHEDULE else display(gdviz.SCHEDULES[name].formula))

    has_minimum = bool(np.size(surface.minima))
    what = "distance to the minimum ‖x − x*‖" if has_minimum else "f(x) (this surface has no known minimum)"
    st.subheader(f"Noisy SGD: {what}")
    st.caption(f"Mean over {values['seeds']} runs (each with its own noise), band: 10% to 90% of the runs.")
    bands = [(label, r["mean"], r["low"], r["high"]) for label, r in zip(labels, results)]
    show_chart(band_figure(bands, "‖x − x*‖" if has_minimum else "f(x)", log=has_minimum), key="sc_band_chart")

    st.subheader("One run of each (the first seed)")
    show_chart(paths_figure(surface, list(zip(labels, [r["path"] for r in results]))), key="sc_paths_chart")
    rows = [
        {
            "schedule": label,
            "final η": f"{r['lrs'][-1]:.4g}",
            ("mean final ‖x − x*‖" if has_minimum else "mean final f"): f"{r['mean'][-1]:.4g}",
            "runs diverged": int(r["diverged"]),
        }
        for label, r in zip(labels, results)
    ]
    st.dataframe(rows, hide_index=True)

    st.subheader("Open in the Playground")
    for label, item in zip(labels, chosen):
        ps.playground_link(to_query(schedule_scenario(values, item)), f"SGD with {label}")
