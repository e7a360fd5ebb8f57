"""Playground: an animated race of optimizers over a surface, with every knob in the sidebar."""

import streamlit as st

from ui import controls
from ui import playground_view as view
from ui.scenario import auto_labels
from ui.simulate import formula_dim, simulate

state = st.session_state
controls.restore(state, st.query_params)

with st.sidebar:
    st.header("Scenario")
    view.preset_picker()
    formula_error = controls.surface_widgets(formula_dim)
    controls.run_widgets()
    controls.schedule_widgets()
    st.header("Optimizers")
    controls.optimizer_widgets(auto_labels(controls.read_scenario(state)[0].optimizers))

scenario, problems = controls.read_scenario(state)
controls.remember(state, scenario, st.query_params)

st.title("Optimizer playground")
view.story(scenario)
view.notices(controls.link_notices(state, scenario) + problems)
if formula_error:
    st.error(f"The formula is not accepted: {view.escape(formula_error)}")

race, error = simulate(scenario)
if race is None:
    if not formula_error:
        st.error(view.escape(error or "Nothing to show."))
    if scenario.is_custom:
        st.info(view.FORMULA_HELP)
    st.stop()

view.race_chart(race)
view.divergence(race)
view.panels(race)
view.inspector(race)
view.share(race)
