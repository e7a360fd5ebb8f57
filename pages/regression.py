"""Linear Regression: the nn.Linear example of the notes on gradient descent trained with torch on CPU or GPU, and GD vs SGD vs minibatch measured.

The fields live in ui/regression/fields.py, the sidebar in ui/regression/sidebar.py, the sections in
ui/regression/view.py and the figures in ui/figures/regression.py.
"""

import streamlit as st

import gdviz
from ui.app_guard import through_the_app
from ui.regression import view
from ui.regression.fields import FIELDS, PAGE
from ui.regression.sidebar import sidebar
from ui.state import fields as ps

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

notices = ps.load(PAGE, FIELDS)
with st.sidebar:
    suggest_slot = sidebar()
values, problems = ps.publish(PAGE, FIELDS)

view.header(notices + problems)
run = view.train(values, view.data(values), suggest_slot)
# measured before any chart is drawn: a browser busy rendering on this machine would skew the timings
view.measure(run, values)
view.summary(run)

fit_tab, landscape_tab, compare_tab, closed_tab = st.tabs(
    ["Fit", "Loss landscape", "GD vs SGD vs minibatch", "Closed form"]
)
with fit_tab:
    view.fit_section(run)
with landscape_tab:
    view.landscape_section(run)
with compare_tab:
    view.comparison_section(run)
with closed_tab:
    view.closed_form_section(run)
st.caption(f"gdviz {gdviz.__version__} · torch does the training; nothing on this page is simulated.")
