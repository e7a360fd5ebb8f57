"""Landscape Lab: thousands of runs per picture, where an optimizer is stable and which minimum it finds.

Each view (stability map, basins, escaping local minima, critical points, fair comparison) is a module
of ui/lab/ with its sidebar and its view; ui/lab/views.py lists them.
"""

import streamlit as st

from ui.app_guard import through_the_app
from ui.lab import views
from ui.lab.page import PAGE, key
from ui.state import fields as ps
from ui.state.notices import show as show_notices

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

ps.load(PAGE, views.FIELDS)

st.title("Landscape Lab")
st.radio(
    "View",
    tuple(views.VIEWS),
    key=key("view"),
    format_func=views.TITLES.get,
    horizontal=True,
    label_visibility="collapsed",
)
with st.sidebar:
    chosen = views.VIEWS[st.session_state[key("view")]]
    st.header(chosen.TITLE)
    chosen.sidebar()
values, problems = ps.publish(PAGE, views.FIELDS)
show_notices(ps.notices(PAGE) + problems)

views.VIEWS[values["view"]].view(values)
