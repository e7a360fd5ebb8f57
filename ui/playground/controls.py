"""The Playground sidebar: surface and start, run length and noise, schedule, and the optimizers.

Every widget keeps its state in ``st.session_state`` under a ``pg_`` key (see
:mod:`ui.playground.sidebar_state`, which maps a Scenario to those keys and back); none gets a
``value=``. Hyper-parameter widgets are built from the registries' specs by :mod:`ui.state.widgets`,
so adding an optimizer or a schedule to the engine's registry adds it here with no change.

First paint: the browser draws every element it is sent, a collapsed expander's too, and fetches the code of
each kind of widget on its first appearance, while it also loads and runs Plotly's bundle for the race chart.
So the sidebar shows on its first screen only what sets up the race (story, surface, start, steps, schedule,
one button per racer); the settings behind them (restarts, gradient noise, a schedule's parameters, each
optimizer's hyper-parameters) sit in popovers, which the browser draws only when opened. Their widgets are
still sent with every run: they keep their keys, links and state, and the in-process tests see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

import gdviz
from gdviz.optimizers import optimizer_class
from ui import limits
from ui.playground.inspector import display
from ui.playground.scenario import CUSTOM, Scenario
from ui.playground.sidebar_state import (
    K_BATCH,
    K_COUNT,
    K_FORMULA,
    K_MORE,
    K_NOISE,
    K_SCHEDULE,
    K_SEED,
    K_START,
    K_STEPS,
    K_SURFACE,
    opt_key,
    opt_prefix,
    read_scenario,
    write_scenario,
)
from ui.state.entries import OptimizerEntry, entry
from ui.state.fields import SAME_SCHEDULE, default_start
from ui.state.text import escape_markdown
from ui.state.values import NO_SCHEDULE, clamp_value
from ui.state.widgets import (
    KEEP,
    horizon_params,
    log_grid,
    log_slider,
    params_widgets,
    playable_schedules,
    settle,
    switch_params,
)


# -- callbacks ------------------------------------------------------------------------------------
def load(scenario: Scenario) -> None:
    write_scenario(st.session_state, scenario)
    st.session_state.pop(K_ADDED, None)  # a whole new scenario: no racer was just added


def _on_surface_change() -> None:
    state = st.session_state
    if state[K_SURFACE] != CUSTOM:
        for key, value in zip(K_START, default_start(state[K_SURFACE]), strict=False):
            state[key] = value
    state[K_MORE] = ""  # restarts belong to the old surface's picture (and maybe its dimension)


def _on_optimizer_change(slot: int, previous: str) -> None:
    """A new algorithm in a slot starts from its defaults, but keeps the slot's learning rate."""
    state = st.session_state
    name = state[opt_key(slot, "name")]
    switch_params(state, opt_prefix(slot), optimizer_class(name).spec, name, previous)


# the optimizers "Add optimizer" offers first, the best known first; then every other one of the registry
ADD_ORDER = ("SGD", "Adam", "RMSprop", "Adagrad", "NAdam", "AdamW", "Adadelta", "Adamax", "RAdam", "Lion", "Yogi")
K_ADDED = "pg_added_slot"  # the slot "Add optimizer" filled last: its settings show open, in an expander


def next_optimizer(racing: tuple[OptimizerEntry, ...]) -> OptimizerEntry:
    """The optimizer "Add optimizer" adds: the first of ADD_ORDER (then of the registry) not racing yet, with
    torch's defaults, so that it never lands exactly on top of a racer; a clone of the last one only when
    every optimizer races already."""
    used = {item.name for item in racing}
    order = [n for n in ADD_ORDER if n in gdviz.OPTIMIZERS] + sorted(set(gdviz.OPTIMIZERS) - set(ADD_ORDER))
    name = next((n for n in order if n not in used), None)
    return entry(name) if name is not None else racing[-1]


def _on_add() -> None:
    state = st.session_state
    scenario, _ = read_scenario(state)
    if len(scenario.optimizers) < limits.MAX_OPTIMIZERS:
        write_scenario(state, _with_optimizers(scenario, scenario.optimizers + (next_optimizer(scenario.optimizers),)))
        state[K_ADDED] = len(scenario.optimizers)


def _on_remove(slot: int) -> None:
    state = st.session_state
    scenario, _ = read_scenario(state)
    if len(scenario.optimizers) > 1:
        kept = scenario.optimizers[:slot] + scenario.optimizers[slot + 1 :]
        write_scenario(state, _with_optimizers(scenario, kept))
        state.pop(K_ADDED, None)  # the slots have moved up: the one added last is no longer where it was


def _with_optimizers(scenario: Scenario, optimizers: tuple[OptimizerEntry, ...]) -> Scenario:
    return replace(scenario, optimizers=optimizers)


# -- widgets --------------------------------------------------------------------------------------
SURFACE_GROUPS = ("defect", "d2l", "classic")
GROUP_TITLES = {"defect": "Defect", "d2l": "d2l", "classic": "Classic"}


def surface_title(name: str) -> str:
    """A surface as the picker names it: its group and title ("Defect · Saddle x² - y²")."""
    if name == CUSTOM:
        return "Custom formula… (type your own f)"
    surface = gdviz.SURFACES[name]
    return f"{GROUP_TITLES.get(surface.category, surface.category)} · {surface.title}"


def _group_order(category: str) -> tuple[int, str]:
    """Where a surface's group stands in the picker (a group not listed above comes last, by name)."""
    return (SURFACE_GROUPS.index(category), "") if category in SURFACE_GROUPS else (len(SURFACE_GROUPS), category)


def surface_widgets(resolve_dim: Callable[[str], tuple[int, str | None]]) -> str | None:
    """Surface picker, formula and start point. ``resolve_dim(formula)`` -> (dim, error); returns the error."""
    state = st.session_state
    # a typed formula first, where it is found at once; then the defects of vanilla GD the stories tell, d2l's
    # examples and the classic test functions, each group named in its options and in order within
    names = sorted(gdviz.SURFACES, key=lambda n: _group_order(gdviz.SURFACES[n].category) + (n,))

    st.selectbox(
        "Surface",
        [CUSTOM, *names],
        key=K_SURFACE,
        format_func=surface_title,
        on_change=_on_surface_change,
        persist_state=KEEP,
    )
    error = None
    dim = gdviz.SURFACES[state[K_SURFACE]].dim if state[K_SURFACE] in gdviz.SURFACES else 2
    if state[K_SURFACE] == CUSTOM:
        st.text_input(
            "f(x) or f(x, y)",
            key=K_FORMULA,
            max_chars=limits.MAX_FORMULA_CHARS,
            placeholder="x^2 + 2*y^2",
            help="Numbers, x and y, + - * / ^, and sin cos tan exp log sqrt abs tanh sinh cosh.",
            persist_state=KEEP,
        )
        dim, error = resolve_dim(state.get(K_FORMULA, ""))
    state["pg_dim"] = dim
    cap = limits.MAX_ABS_START
    for index, column in enumerate(st.columns(dim)):
        with column:
            label = f"start x{index + 1}" if dim > 1 else "start x"
            st.number_input(
                label, min_value=-cap, max_value=cap, step=0.1, format="%g", key=K_START[index], persist_state=KEEP
            )
    st.caption("Or click on the contour map to set the start.")
    state.setdefault(K_MORE, "")
    example = "1, 2; -1, 0.5" if dim == 2 else "1; -2"
    with settings(restarts_title(state[K_MORE]), "starts"):
        st.text_input(
            "more starts (restarts)",
            key=K_MORE,
            max_chars=40 * limits.MAX_STARTS,
            placeholder=example,
            help=f"Every optimizer also runs from each of these points, written like {example}; "
            f"up to {limits.MAX_STARTS - 1}.",
            persist_state=KEEP,
        )
    return error


def restarts_title(text: object) -> str:
    """The restarts' button: how many points are typed (read loosely: the scenario reader checks them)."""
    points = [part for part in str(text or "").split(";") if part.strip()]
    return f"Restarts · {len(points)} more start{'s' if len(points) > 1 else ''}" if points else "Restarts"


def step_options(current: int) -> list[int]:
    """1-2-3-5 steps per decade up to MAX_STEPS, and the current value (from a link or a preset)."""
    nice = {m * 10**e for e in range(5) for m in (1, 2, 3, 4, 5, 6, 7, 8)}
    return sorted(v for v in nice | {current} if limits.MIN_STEPS <= v <= limits.MAX_STEPS)


def run_widgets() -> None:
    state = st.session_state
    settle(state, K_STEPS, int(state.get(K_STEPS, limits.DEFAULT_STEPS)))
    help_text = "optimizer steps (iterations)"
    st.select_slider("Steps", options=step_options(state[K_STEPS]), key=K_STEPS, help=help_text, persist_state=KEEP)
    settle(state, K_NOISE, float(state.get(K_NOISE, 0.0)))
    with settings(noise_title(state[K_NOISE]), "noise"):
        options = sorted({0.0, state[K_NOISE], *log_grid(0.01, limits.MAX_NOISE)})
        st.select_slider(
            "noise σ",
            options=options,
            key=K_NOISE,
            format_func=lambda v: f"{v:g}",
            help="g = ∇f + ε with ε ~ N(0, σ²/b) per coordinate (d2l 12.4)",
            persist_state=KEEP,
        )
        low, high = limits.MIN_BATCH_SIZE, limits.MAX_BATCH_SIZE
        st.number_input(
            "batch size b", low, high, step=1, key=K_BATCH, help="the noise std shrinks as σ/√b", persist_state=KEEP
        )
        low, high = limits.MIN_SEED, limits.MAX_SEED
        help_text = "the same seed gives every optimizer the same noise (common random numbers)"
        st.number_input("seed", low, high, step=1, key=K_SEED, help=help_text, persist_state=KEEP)


def noise_title(sigma: float) -> str:
    return f"Gradient noise · σ = {sigma:g}" if sigma else "Gradient noise (SGD) · off"


def _on_schedule_change() -> None:
    """A newly chosen schedule starts from its defaults, its horizon (T_max, total_steps) the run's length."""
    state = st.session_state
    name = state[K_SCHEDULE]
    if name not in gdviz.SCHEDULES:
        return
    cls = gdviz.SCHEDULES[name]
    specs = {spec.name: spec for spec in cls.spec}
    steps = int(state.get(K_STEPS, limits.DEFAULT_STEPS))
    given = {key: int(clamp_value(specs[key], value)) for key, value in horizon_params(cls.name, steps).items()}
    switch_params(state, "pg_sched", cls.spec, cls.name, cls.name, given)


def _on_own_schedule_change(slot: int) -> None:
    """An optimizer's newly chosen own schedule starts from its defaults, its horizon the run's length."""
    state = st.session_state
    key = opt_key(slot, "sched")
    name = state[key]
    if name not in gdviz.SCHEDULES:
        return
    cls = gdviz.SCHEDULES[name]
    specs = {spec.name: spec for spec in cls.spec}
    steps = int(state.get(K_STEPS, limits.DEFAULT_STEPS))
    given = {param: int(clamp_value(specs[param], v)) for param, v in horizon_params(cls.name, steps).items()}
    switch_params(state, key, cls.spec, cls.name, cls.name, given)


def _own_schedule_title(name: str) -> str:
    return {SAME_SCHEDULE: "(the race's schedule)", NO_SCHEDULE: "(constant lr)"}.get(name, name)


def own_schedule_widgets(slot: int) -> None:
    """This optimizer's own lr schedule, instead of the race's: a fixed lr and a schedule in one picture."""
    state = st.session_state
    key = opt_key(slot, "sched")
    names = [SAME_SCHEDULE, NO_SCHEDULE] + playable_schedules()
    if state.get(key) not in names:
        state[key] = SAME_SCHEDULE
    help_text = "a schedule for this optimizer only; the others keep the race's (above)"
    choice = st.selectbox(
        "its own lr schedule",
        names,
        key=key,
        help=help_text,
        on_change=_on_own_schedule_change,
        args=(slot,),
        format_func=_own_schedule_title,
        persist_state=KEEP,
    )
    if choice in gdviz.SCHEDULES:
        cls = gdviz.SCHEDULES[choice]
        params_widgets(key, cls.name, cls.spec)


def schedule_widgets() -> None:
    names = [NO_SCHEDULE] + playable_schedules()
    if st.session_state.get(K_SCHEDULE) not in names:
        st.session_state[K_SCHEDULE] = NO_SCHEDULE
    help_text = "scales every optimizer's lr, step by step (torch.optim.lr_scheduler and d2l 12.4)"
    choice = st.selectbox(
        "Learning-rate schedule",
        names,
        key=K_SCHEDULE,
        help=help_text,
        on_change=_on_schedule_change,
        format_func=lambda name: "(constant lr)" if name == NO_SCHEDULE else name,
        persist_state=KEEP,
    )
    if choice in gdviz.SCHEDULES:
        cls = gdviz.SCHEDULES[choice]
        with settings(f"{escape_markdown(cls.name)} settings", "sched"):
            st.latex(display(cls.formula))
            params_widgets("pg_sched", cls.name, cls.spec)


def compression_widgets(slot: int) -> None:
    """Top-k gradient compression for one optimizer: k, error feedback, DGC's momentum correction."""
    help_text = (
        "send only the k largest gradient coordinates each step, as deep gradient compression does "
        "(the notes on vanilla and momentum SGD)"
    )
    if not st.checkbox("compress gradient (top-k)", key=opt_key(slot, "topk_on"), help=help_text, persist_state=KEEP):
        return
    low, high = limits.MIN_TOPK, limits.MAX_TOPK
    help_text = "coordinates sent per step; k at or above the surface's dimension sends them all"
    st.number_input("top-k", low, high, step=1, key=opt_key(slot, "topk"), help=help_text, persist_state=KEEP)
    help_text = "keep what was not sent and add it to the next gradient (e = e + g − c)"
    feedback = st.checkbox("error feedback", key=opt_key(slot, "ef"), help=help_text, persist_state=KEEP)
    help_text = "DGC (Lin et al. 2018): the momentum u = m·u + g is kept and accumulated before top-k"
    if feedback and st.checkbox(
        "momentum correction (DGC)", key=opt_key(slot, "dgc_on"), help=help_text, persist_state=KEEP
    ):
        st.slider(
            "DGC momentum m", 0.0, limits.MAX_DGC_MOMENTUM, step=0.01, key=opt_key(slot, "dgc"), persist_state=KEEP
        )


def settings(title: str, name: str):
    """A popover for settings behind the first screen: the browser draws its widgets only when it is opened
    (the server still sends them, so they keep their keys and values). ``name`` gives it the key pg_box_<name>."""
    return st.popover(title, key=f"pg_box_{name}", width="stretch")


def racer_settings(slot: int, title: str):
    """Where one optimizer's settings are drawn: a popover, or an open expander for the one just added."""
    if st.session_state.get(K_ADDED) == slot:
        return st.expander(title, expanded=True)
    return settings(title, f"o{slot}")


def optimizer_widgets(labels: list[str]) -> None:
    """One popover per optimizer (name, its hyper-parameters, clipping, compression, label, remove) and an Add button."""
    state = st.session_state
    count = int(state.get(K_COUNT, 1))
    names = sorted(gdviz.OPTIMIZERS)
    for slot in range(count):
        current = state.get(opt_key(slot, "name"), names[0])
        title = f"{slot + 1}. {escape_markdown(labels[slot] if slot < len(labels) else current)}"
        with racer_settings(slot, title):
            key = opt_key(slot, "name")
            st.selectbox(
                "optimizer", names, key=key, on_change=_on_optimizer_change, args=(slot, current), persist_state=KEEP
            )
            cls = optimizer_class(state[key])
            params_widgets(opt_prefix(slot), cls.name, cls.spec)
            help_text = "torch.nn.utils.clip_grad_norm_ before every step"
            if st.checkbox("clip gradient norm", key=opt_key(slot, "clip_on"), help=help_text, persist_state=KEEP):
                log_slider("max_grad_norm", opt_key(slot, "clip"), limits.MIN_CLIP, limits.MAX_CLIP)
            if not cls.needs_hessian:
                compression_widgets(slot)
            own_schedule_widgets(slot)
            placeholder = "legend label (optional)"
            st.text_input(
                "label",
                key=opt_key(slot, "label"),
                max_chars=limits.MAX_LABEL_CHARS,
                placeholder=placeholder,
                persist_state=KEEP,
            )
            st.button("Remove", key=opt_key(slot, "remove"), on_click=_on_remove, args=(slot,), disabled=count <= 1)
    full = count >= limits.MAX_OPTIMIZERS
    st.button("Add optimizer", key="pg_add", on_click=_on_add, disabled=full, help=f"up to {limits.MAX_OPTIMIZERS}")
