"""Landscape Lab, fair comparison: every optimizer gets the same log grid of learning rates, or (the second
mode) the same number of trials over every hyper-parameter, shown beside the lr-only tuning after 100 steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from gdviz.landscape import fair_tuning
from ui import limits
from ui.figures.fair import (
    fair_curves_figure,
    fair_lr_figure,
    fair_paths_figure,
    fair_rows,
    ranking_figure,
    trial_scores_figure,
    tuned_all_rows,
)
from ui.figures.style import color_of
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, affordable, key, lab_steps, link
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice, Names, Number, Point
from ui.state.text import escape_markdown
from ui.state.widgets import KEEP
from ui.work import Budget, complete, partial, step_seconds
from ui.workers import offloaded

TITLE = "Fair comparison"
# what a visitor can change when the measured cost cuts the steps
HINT = "Fewer optimizers or learning rates tried fit more steps in the budget."
# the same, when every hyper-parameter is tuned
HINT_ALL = "Fewer optimizers, trials, starts or noise draws fit more steps in the budget."
MODES = {"lr": "learning rate only (a grid)", "all": "every hyper-parameter vs lr only"}
# the horizon of the lr-only tuning it is set against (jettify/pytorch-optimizer's users, #219 and #71)
SHORT_STEPS = 100
_OPTIMIZERS = tuple(sorted(gdviz.OPTIMIZERS))
_DEFAULT = tuple(n for n in ("SGD", "Adam", "RMSprop", "Adagrad") if n in gdviz.OPTIMIZERS)
FIELDS = (
    Choice("fc.m", "Tuning", "lr", tuple(MODES)),
    Choice("fc.s", "Surface", pick(PLANAR, "rosenbrock"), PLANAR),
    Point("fc.x0", "Start point", "fc.s"),
    Names("fc.o", "Optimizers", _DEFAULT, _OPTIMIZERS, limits.MAX_OPTIMIZERS),
    Number("fc.lo", "Smallest lr", 1e-4, 1e-6, 10.0),
    Number("fc.hi", "Largest lr", 1.0, 1e-6, 10.0),
    Number("fc.n", "Learning rates tried", 25, 3, limits.MAX_TUNE_POINTS, integer=True),
    Number("fc.steps", "Steps", 500, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("fc.tol", "Tolerance on f − f*", 1e-3, 1e-12, 1e3),
    Number("fc.t", "Trials per optimizer", 24, 2, limits.MAX_TUNE_TRIALS, integer=True),
    Number("fc.ns", "Starts", 3, 1, limits.MAX_STARTS, integer=True),
    Number("fc.ne", "Noise draws", 3, 1, limits.MAX_SEEDS, integer=True),
    Number("fc.sig", "Gradient noise σ", 1.0, limits.MIN_NOISE, limits.MAX_NOISE),
    Number("fc.seed", "Random seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
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
    return offloaded(_tuned, surface_name, start, names, lrs, steps, tol, should_stop=_should_stop)


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
    st.radio("tune", list(MODES), format_func=MODES.get, key=key("fc.m"), persist_state=KEEP)
    surface_picker(PAGE, "fc.s", FIELD["fc.x0"])
    st.multiselect(
        "optimizers (torch defaults, only lr tuned)" if state[key("fc.m")] == "lr" else "optimizers",
        list(FIELD["fc.o"].options),
        key=key("fc.o"),
        max_selections=limits.MAX_OPTIMIZERS,
        persist_state=KEEP,
    )
    if state[key("fc.m")] == "all":
        sidebar_all()
        return
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
    if values["fc.m"] == "all":
        view_all(values)
        return
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
    tol, per_step = float(values["fc.tol"]), 0.0
    if steps > limits.PROBE_STEPS:
        # measured cost: every optimizer gets the same steps
        try:
            per_step = tuned_step_seconds(surface.name, values["fc.x0"], tuple(names), tuple(lrs.tolist()), tol)
        except ValueError:
            per_step = 0.0  # the search itself says what is wrong, below
        steps, message = affordable(steps, per_step, HINT)
        if message:
            st.info(message)
    budget, stopped = Budget(limits.LAB_SECONDS, expected=per_step * steps), []
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
        show_chart(fair_paths_figure(surface, tuned), key="lab_fair_paths")
    with right:
        show_chart(fair_lr_figure(tuned, tol), key="lab_fair_lrs")
        show_chart(fair_curves_figure(tuned), key="lab_fair_curves")
    st.dataframe(fair_rows(tuned, tol), hide_index=True)
    if not np.isfinite(surface.f_min):
        st.caption("This surface has no known minimum value: f* is the lowest loss any run reached.")
    if any(t.at_edge for t in tuned):
        st.caption("A best lr at the edge of the grid means a wider grid might do better.")
    optimizers = [(t.name, (("lr", t.best_lr),), f"{t.name} tuned") for t in tuned]
    ps.playground_link(link(surface.name, values["fc.x0"], steps, optimizers), "Open the tuned race in the Playground")


# -- every hyper-parameter tuned, beside the lr only after 100 steps ----------------------------------------
def sidebar_all() -> None:
    st.slider("trials per optimizer (settings drawn)", 2, limits.MAX_TUNE_TRIALS, key=key("fc.t"), persist_state=KEEP)
    left, right = st.columns(2)
    left.slider("starts", 1, limits.MAX_STARTS, key=key("fc.ns"), persist_state=KEEP)
    right.slider("noise draws", 1, limits.MAX_SEEDS, key=key("fc.ne"), persist_state=KEEP)
    st.number_input(
        "gradient noise σ",
        limits.MIN_NOISE,
        limits.MAX_NOISE,
        step=0.5,
        format="%g",
        key=key("fc.sig"),
        persist_state=KEEP,
    )
    st.number_input("steps of the full run", 1, limits.MAX_LAB_STEPS, step=50, key=key("fc.steps"), persist_state=KEEP)
    st.number_input("random seed", limits.MIN_SEED, limits.MAX_SEED, step=1, key=key("fc.seed"), persist_state=KEEP)


@st.cache_data(**CACHE)
def tuned_all_of(
    surface_name: str,
    start: tuple[float, ...] | None,
    names: tuple[str, ...],
    trials: int,
    steps: int,
    starts: int,
    seeds: int,
    noise: float,
    rng_seed: int,
    knobs: str,
    _should_stop=None,
) -> list[fair_tuning.TunedAll]:
    args = (surface_name, start, names, trials, steps, starts, seeds, noise, rng_seed, knobs)
    return offloaded(_tuned_all, *args, should_stop=_should_stop)


@st.cache_data(**CACHE)
def tuned_all_step_seconds(
    surface_name: str,
    start: tuple[float, ...] | None,
    names: tuple[str, ...],
    trials: int,
    starts: int,
    seeds: int,
    noise: float,
    rng_seed: int,
) -> float:
    """CPU seconds one step of the whole search costs here (every optimizer, trial, start and noise draw): PROBE_STEPS
    steps of at most LAB_PROBE_RUNS of its runs (the first trials) timed once, scaled up by the trials left out
    (a step costs in proportion to the runs: ui/limits.py)."""
    runs_per_trial = len(names) * starts * (seeds if noise > 0 else 1)
    probed = min(trials, max(1, limits.LAB_PROBE_RUNS // runs_per_trial))
    per_step = step_seconds(
        lambda n: _tuned_all(surface_name, start, names, probed, n, starts, seeds, noise, rng_seed, "all"),
        limits.PROBE_STEPS,
    )
    return per_step * trials / probed


def _tuned_all(surface_name, start, names, trials, steps, starts, seeds, noise, rng_seed, knobs, should_stop=None):
    tuned = fair_tuning.tune_all(
        gdviz.surface(surface_name),
        list(names),
        trials=trials,
        steps=steps,
        starts=starts,
        seeds=seeds,
        noise=noise,
        rng_seed=rng_seed,
        start=start,
        knobs=knobs,
        should_stop=should_stop,
    )
    return complete(tuned, tuned[0].budget.steps, steps)


def noisy_steps(runs: int, steps: int, noise: float) -> tuple[int, str | None]:
    """Steps limited so that a noisy computation's noise draws (runs × steps of them) fit in memory."""
    cap = max(1, limits.MAX_NOISY_LAB_RUN_STEPS // max(runs, 1))
    if noise == 0 or steps <= cap:
        return steps, None
    return cap, (
        f"{runs} runs with gradient noise × {steps} steps would hold more noise draws than the server allows; "
        f"using {cap} steps."
    )


def budget_text(b: fair_tuning.TuningBudget, optimizers: int, short_steps: int) -> str:
    """The budget and the scoring rule in plain words."""
    draws = (
        f"{b.seeds} noise draws (σ = {b.noise:g})"
        if b.noise > 0
        else "no gradient noise (so one run each: without noise every draw would repeat it)"
    )
    others = f"{b.starts - 1} drawn at random in the window" if b.starts > 1 else "no others"
    return (
        f"**Budget, the same for each of the {optimizers} optimizers:** {b.trials} settings tried; each setting runs "
        f"from {b.starts} start point(s) (the one in the sidebar, {others}) with {draws}: {b.runs} runs per setting, "
        f"{b.runs_per_optimizer} per optimizer. Random seed {b.rng_seed} fixes the settings, the starts and the noise.\n\n"
        f"**Scoring:** a setting scores its final f − f* averaged over its {b.runs} runs (± their standard deviation); "
        "a setting with a run that diverged scores +∞; the setting with the lowest mean is the optimizer's best, and "
        "the optimizers are ranked by it.\n\n"
        f"**Left, the usual shortcut:** only the learning rate, {b.trials} values on a log grid over its slider range, "
        f"every other hyper-parameter at torch's default, judged after {short_steps} steps. **Right:** every "
        "hyper-parameter drawn at random over its slider range (log scale where the slider is; random search, as in "
        'Bergstra & Bengio\'s "Random Search for Hyper-Parameter Optimization"), judged at the end of the full run. '
        "Weight decay (it changes what is minimised), on/off switches (amsgrad, nesterov: another algorithm) and "
        "AdamThenSGD's switch step (an integer) keep their defaults. "
        '"On Empirical Comparisons of Optimizers for Deep Learning" (Choi et al. 2019) shows how '
        "such a protocol can turn a verdict around."
    )


def verdict_text(short_rank: list[str], full_rank: list[str], short_steps: int, steps: int) -> str:
    if short_rank[0] != full_rank[0]:
        return (
            f"**The verdict changes.** With only the learning rate tuned after {short_steps} steps, **{short_rank[0]}** "
            f"wins; with every hyper-parameter tuned over the full {steps} steps, **{full_rank[0]}** wins."
        )
    if short_rank != full_rank:
        moved = [name for a, name in zip(short_rank, full_rank) if a != name]
        return (
            f"Both tunings crown **{full_rank[0]}**, but the order behind changes: "
            f'{", ".join(moved)} move (ranks marked "was #k" on the right).'
        )
    return f"Both tunings give the same ranking here, with **{full_rank[0]}** first."


def view_all(values: dict[str, Any]) -> None:
    surface = gdviz.surface(values["fc.s"])
    names = tuple(values["fc.o"])
    trials, starts, noise = int(values["fc.t"]), int(values["fc.ns"]), float(values["fc.sig"])
    seeds, rng_seed = int(values["fc.ne"]), int(values["fc.seed"])
    runs = len(names) * trials * starts * (seeds if noise > 0 else 1)
    steps, message = lab_steps(runs, int(values["fc.steps"]))
    if message:
        st.info(message)
    steps, message = noisy_steps(runs, steps, noise)
    if message:
        st.info(message)
    per_step = 0.0
    if steps > limits.PROBE_STEPS:
        try:
            per_step = tuned_all_step_seconds(
                surface.name, values["fc.x0"], names, trials, starts, seeds, noise, rng_seed
            )
        except ValueError:
            per_step = 0.0  # the search itself says what is wrong, below
        # each step of the full run also pays its share of the lr-only search's SHORT_STEPS steps
        steps, message = affordable(steps, per_step * (steps + min(SHORT_STEPS, steps)) / steps, HINT_ALL)
        if message:
            st.info(message)
    short_steps = min(SHORT_STEPS, steps)
    budget, stopped = Budget(limits.LAB_SECONDS, expected=per_step * (steps + short_steps)), []
    with st.spinner("Tuning every hyper-parameter …"):
        try:

            def search(knobs: str, n: int) -> list[fair_tuning.TunedAll]:
                args = (surface.name, values["fc.x0"], names, trials, n, starts, seeds, noise, rng_seed, knobs)
                return partial(lambda: tuned_all_of(*args, budget), stopped, budget.seconds)

            short, full = search("lr", short_steps), search("all", steps)
        except ValueError as error:
            st.error(escape_markdown(str(error)))
            return
    st.markdown(budget_text(full[0].budget, len(names), short[0].budget.steps))
    for text in stopped:
        st.warning(text)
    short_rank, full_rank = fair_tuning.ranking(short), fair_tuning.ranking(full)
    st.markdown(verdict_text(short_rank, full_rank, short[0].budget.steps, full[0].budget.steps))
    colors = {name: color_of(i) for i, name in enumerate(names)}
    left, right = st.columns(2)
    with left:
        title = f"lr only, {short[0].budget.steps} steps"
        show_chart(ranking_figure(short, title, colors), key="lab_fair_rank_short")
    with right:
        title = f"all knobs, full run ({full[0].budget.steps} steps)"
        show_chart(ranking_figure(full, title, colors, before=short_rank), key="lab_fair_rank_full")
    show_chart(trial_scores_figure(full, colors), key="lab_fair_trials")
    st.caption(
        "Every setting the full-run search tried: a star marks each optimizer's best, a cross one that diverged."
    )
    st.dataframe(tuned_all_rows(short, full), hide_index=True)
    if not np.isfinite(surface.f_min):
        st.caption("This surface has no known minimum value: f* is the lowest loss any run reached.")
    optimizers = [(t.name, tuple(t.best_setting.items()), f"{t.name} tuned") for t in full]
    ps.playground_link(
        link(surface.name, values["fc.x0"], full[0].budget.steps, optimizers),
        "Open the best settings (all knobs) in the Playground",
    )
