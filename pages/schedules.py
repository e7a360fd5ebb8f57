"""Schedules: several learning-rate schedules side by side, and what they do to noisy SGD (d2l 12.4).

The fields, sidebar and charts are in ui/lab/schedules.py.
"""

import streamlit as st

from ui.app_guard import through_the_app
from ui.lab import schedules
from ui.state import fields as ps
from ui.state.notices import show as show_notices

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

ps.load(schedules.PAGE, schedules.FIELDS)
with st.sidebar:
    schedules.sidebar()
values, problems = ps.publish(schedules.PAGE, schedules.FIELDS)

st.title("Learning-rate schedules")
st.markdown(
    "What a schedule does to η, and what that does to **noisy SGD**: the gradient carries N(0, σ²) noise "
    "(d2l 12.4's stand-in for a random sample), so with a constant η the iterate keeps jittering around "
    "the minimum. The default is d2l's experiment on f = x₁² + 2x₂² from (−5, −2) with η = 0.1: the "
    "constant rate never settles, exponential decay stops too early, polynomial decay keeps converging."
)
show_notices(ps.notices(schedules.PAGE) + problems)

schedules.view(values)
