"""The Networks page's sidebar: the data, the network, the optimizers, the training, the plane and the device."""

from __future__ import annotations

import streamlit as st

import gdviz
from gdviz import regression as reg
from gdviz.network import DATASETS
from gdviz.optimizers import optimizer_class
from gdviz.schedules import schedule_class
from ui import limits
from ui.network.fields import ADD_ORDER, FIELDS, PAGE, RACERS, SCHED, choice, key, number
from ui.regression.text import device_label
from ui.state import fields as ps
from ui.state.entries import entry
from ui.state.widgets import KEEP, params_widgets, switch_params

# the Hessian methods need a P × P solve per step: offered on the 2-D surfaces, not here
NAMES = sorted(name for name, cls in gdviz.OPTIMIZERS.items() if not cls.needs_hessian)


def _on_optimizer_change(slot: int, previous: str) -> None:
    state = st.session_state
    name = state[RACERS.slot_key(PAGE, slot, "name")]
    switch_params(state, RACERS.slot_key(PAGE, slot), optimizer_class(name).spec, name, previous)


def _resize(count: int) -> None:
    """Keep the first ``count`` racers as they are; a new one is the first of ADD_ORDER not racing yet."""
    state = st.session_state
    values, _ = ps.read_widgets(PAGE, FIELDS, state, state.get(f"{PAGE}__values", ps.defaults(FIELDS)))
    racing = list(values[RACERS.key])[:count]
    while len(racing) < count:
        used = {item.name for item in racing}
        racing.append(entry(next((n for n in ADD_ORDER if n not in used), "SGD")))
    ps.write_widgets(PAGE, (RACERS,), {RACERS.key: tuple(racing)}, state)


def _on_add() -> None:
    _resize(int(st.session_state.get(RACERS.count_key(PAGE), 1)) + 1)


def _on_remove() -> None:
    _resize(int(st.session_state.get(RACERS.count_key(PAGE), 1)) - 1)


def optimizer_widgets() -> None:
    state = st.session_state
    count = int(limits.clamp(int(state.get(RACERS.count_key(PAGE), 1)), 1, limits.NETWORK_MAX_RACERS))
    for slot in range(count):
        name_key = RACERS.slot_key(PAGE, slot, "name")
        current = state.get(name_key, "SGD")
        with st.expander(f"{slot + 1}. {current}", expanded=slot == 0):
            # a link's Hessian method stays shown, so the page can say why it does not train here
            names = NAMES if current in NAMES else sorted([*NAMES, current])
            st.selectbox(
                "optimizer (torch.optim)", names, key=name_key, on_change=_on_optimizer_change,
                args=(slot, current), persist_state=KEEP,
            )  # fmt: skip
            cls = optimizer_class(state[name_key])
            params_widgets(RACERS.slot_key(PAGE, slot), cls.name, cls.spec)
    left, right = st.columns(2)
    left.button("Add optimizer", key=f"{PAGE}_add", on_click=_on_add, disabled=count >= limits.NETWORK_MAX_RACERS)
    right.button("Remove the last", key=f"{PAGE}_remove", on_click=_on_remove, disabled=count <= 1)


def sidebar() -> None:
    state = st.session_state
    st.header("Data")
    choice("data", help=" · ".join(f"**{name}**: {text}" for name, (_, text) in DATASETS.items()))
    number("n")
    number("noise")
    number("seed", help="draws the data, the network's initial weights, the minibatches and the random plane")
    st.header("Network")
    number("width", help=f"at most {limits.NETWORK_MAX_WIDTH}")
    number("depth", help=f"at most {limits.NETWORK_MAX_DEPTH}")
    choice("act")
    st.header("Optimizers")
    optimizer_widgets()
    chosen = state.get(key("sched"), ps.CONSTANT)
    horizon = () if chosen == ps.CONSTANT else schedule_class(chosen).horizon
    ps.entry_widgets(PAGE, SCHED, hide=horizon, label="learning-rate schedule (torch.optim.lr_scheduler), for all")
    if horizon:
        st.caption(f"{', '.join(horizon)} follows the run: its number of steps.")
    st.header("Training")
    number("steps", help="optimizer updates of every racer; every one is recorded")
    choice("mode", {"full": "full batch (GD)", "minibatch": "minibatches"})
    if state[key("mode")] == "minibatch":
        number("bs", help="drawn without replacement, a new shuffle every epoch; the same batches for every racer")
    st.header("Landscape")
    choice(
        "plane",
        {"pca": "PCA of the paths", "random": "random directions"},
        help="the two principal directions of every iterate pooled, or two filter-normalized random directions "
        "(Li et al. 2018)",
    )
    if state[key("plane")] == "random":
        choice("centre", {"start": "the start", "best": "the best end point"})
    number("grid")
    st.header("Device")
    infos = {info.name: info for info in reg.devices()}
    choice("device", {name: device_label(info) for name, info in infos.items()})
    for info in infos.values():
        if not info.available:
            st.caption(f"**{info.name}** unavailable: {info.detail}.")
