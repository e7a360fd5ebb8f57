"""Playground: an animated race of optimizers over a surface, with every knob in the sidebar.

The race chart is sent before the sidebar is built: every widget keeps its value in session state, so
the scenario can be read first, and the browser starts loading the charting code while the sidebar,
the panels and the inspector are still being produced (see ui/playground/view.py).
"""

import streamlit as st

from ui.app_guard import through_the_app
from ui.playground import first_paint, view
from ui.playground import sidebar_state as sidebar
from ui.playground.simulate import simulate

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

state = st.session_state
sidebar.restore(state, st.query_params)
formula_error = view.check_formula(state)
scenario, problems = sidebar.read_scenario(state)
sidebar.remember(state, scenario, st.query_params)

st.title("Optimizer playground")
# the story, the first visit's line and the notices come and go, inside one block each, so that the race keeps its
# place on the page: the browser draws an element that moved as a new one (every chart in it from scratch)
with st.container():
    view.story(scenario)
    view.notices(sidebar.link_notices(state, scenario) + problems)
    if formula_error:
        st.error(f"The formula is not accepted: {view.escape(formula_error)}")

race, error = simulate(scenario)
if race is not None:
    with st.container():
        view.headline(race)
        view.notices([race.notice] if race.notice else [])
    view.race_section(race)
if first_paint.later(race is not None):
    st.stop()  # a first visit: the chart alone first; the rest follows once it is on screen
view.sidebar(scenario)
if race is None:
    if not formula_error:
        st.error(view.escape(error or "Nothing to show."))
    if scenario.is_custom:
        st.info(view.FORMULA_HELP)
    st.stop()

with st.container():
    view.divergence(race)
view.panels(race)
view.share(race)
