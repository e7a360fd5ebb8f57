"""About: what gdviz is, and the update rule of every optimizer and schedule in the engine's registries."""

import streamlit as st

import gdviz
from ui.app_guard import through_the_app
from ui.playground.inspector import display

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

st.title("About gdviz")
st.markdown(
    "gdviz races optimizers over test surfaces. Every number it shows comes from its NumPy engine, "
    "which matches `torch.optim` and `torch.optim.lr_scheduler` step for step (and d2l's formulas "
    "where torch has no counterpart). The rules below are read from the engine's registries, so "
    "they are exactly what the Playground runs."
)

st.header("Optimizers")
st.caption("g_t is the gradient the optimizer receives (with noise and clipping, when they are on); η the lr.")
for name, cls in sorted(gdviz.OPTIMIZERS.items()):
    with st.expander(name, expanded=name in ("SGD", "Adam")):
        st.latex(display(cls.rule))
        params = ", ".join(f"`{spec.name}` = {spec.default!r}" for spec in cls.spec)
        st.markdown(f"Hyper-parameters (defaults): {params}")
        if cls.reference:
            st.caption(f"References: {cls.reference}")

st.header("Learning-rate schedules")
st.caption("η0 is the optimizer's lr; t counts the steps taken.")
for name, cls in sorted(gdviz.SCHEDULES.items()):
    with st.expander(name):
        st.latex(display(cls.formula))
        params = ", ".join(f"`{spec.name}` = {spec.default!r}" for spec in cls.spec)
        st.markdown(f"Parameters (defaults): {params}" if params else "No parameters.")
        if cls.reference:
            st.caption(f"References: {cls.reference}")
