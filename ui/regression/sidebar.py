"""The Linear Regression page's sidebar: the data, the training and the device."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gdviz import regression as reg
from gdviz.optimizers import optimizer_class
from gdviz.schedules import schedule_class
from ui import limits
from ui.regression.fields import OPT, PAGE, SCHED, UPLOAD, choice, key, number
from ui.regression.text import device_label
from ui.state import fields as ps
from ui.state.widgets import param_key


def on_upload() -> None:
    state = st.session_state
    file = state.get(f"{PAGE}_file")
    if file is None:
        state.pop(UPLOAD, None)
    else:
        state[UPLOAD] = (file.name, file.getvalue())


def sidebar() -> DeltaGenerator:
    """The sidebar's widgets; returns the slot under the optimizer's settings that the suggest-a-learning-rate
    button goes in once the data is known (:func:`ui.regression.view.train`): beside the lr it sets."""
    state = st.session_state
    st.header("Data")
    choice("src", {"synthetic": "synthetic y = w·x + b + noise", "upload": "upload a CSV"})
    if state[key("src")] == "synthetic":
        number("n", help=f"up to {limits.REGRESSION_MAX_SAMPLES:,}; N·d up to {limits.REGRESSION_MAX_VALUES:,}")
        number("d")
        number("w")
        number("b")
        number("noise")
        number("xs")
        number("seed", help="draws the data, nn.Linear's initial parameters and the minibatch order")
    else:
        st.file_uploader(
            "CSV file with a header line",
            type=["csv", "txt", "tsv"],
            key=f"{PAGE}_file",
            on_change=on_upload,
            help=f"at most {limits.MAX_UPLOAD_BYTES // 2**20} MB and {limits.MAX_UPLOAD_ROWS:,} rows",
        )
        number("seed", help="draws nn.Linear's initial parameters and the minibatch order")
    st.header("Training")
    ps.entry_widgets(PAGE, OPT, label="optimizer (torch.optim)")
    suggest_slot = st.empty()
    opt_name = state[key("opt")]
    cls = optimizer_class(opt_name)
    # options torch lacks (d2l's eps_inside_sqrt), as their checkboxes show them
    beyond_torch = {
        s.name: state.get(param_key(key("opt"), opt_name, s.name), s.default) for s in cls.spec if not s.in_torch
    }
    if not reg.uses_torch_optim(opt_name, **beyond_torch):
        why = "has no torch.optim class" if cls.torch_class is None else "with an option torch.optim lacks"
        st.caption(
            f"{opt_name} {why}: the engine's own NumPy update runs on the model's "
            "parameters (float64, on the host, one small copy per step)."
        )
    chosen = state.get(key("sched"), ps.CONSTANT)
    horizon = () if chosen == ps.CONSTANT else schedule_class(chosen).horizon
    ps.entry_widgets(PAGE, SCHED, hide=horizon, label="learning-rate schedule (torch.optim.lr_scheduler)")
    if horizon:
        st.caption(
            f"{', '.join(horizon)} follows the run: its number of epochs, or of updates when the schedule steps "
            "once per update."
        )
    if state[key("sched")] != ps.CONSTANT:
        choice("every")
    choice("mode", {"GD": "GD (full batch)", "SGD": "SGD (b = 1)", "minibatch": "minibatch"})
    if state[key("mode")] == "minibatch":
        number("bs")
    if state[key("mode")] != "GD":
        choice("sampling", {"shuffle": "without replacement", "replacement": "with replacement"})
    number("epochs")
    choice("std", help="train on (x − mean) / std: the loss landscape becomes round and a large lr works")
    choice("init", {"torch": "nn.Linear's (seeded)", "zeros": "zeros"})
    st.header("Device")
    infos = {info.name: info for info in reg.devices()}
    choice("device", {name: device_label(info) for name, info in infos.items()})
    for info in infos.values():
        if not info.available:
            st.caption(f"**{info.name}** unavailable: {info.detail}.")
    choice("dtype")
    return suggest_slot
