"""Networks: several optimizers' paths on one real network's loss landscape, trained with torch on CPU or GPU.

The fields live in ui/network/fields.py, the sidebar in ui/network/sidebar.py, the sections in ui/network/view.py,
the figure in ui/figures/network.py and the engine in gdviz/network/.
"""

import streamlit as st

import gdviz
from ui.app_guard import through_the_app
from ui.network import view
from ui.network.fields import FIELDS, PAGE
from ui.network.sidebar import sidebar
from ui.state import fields as ps

through_the_app()  # a fresh server's first request may be this page's own address: see ui/app_guard.py

view.require_torch()

notices = ps.load(PAGE, FIELDS)
with st.sidebar:
    sidebar()
values, problems = ps.publish(PAGE, FIELDS)

view.header(notices + problems)
run = view.run(values)
view.figure_section(run)
view.faithfulness_section(run)
view.share_section(run, values)
st.caption(
    f"gdviz {gdviz.__version__} · torch trains the network; the grid is its own loss, batched; nothing on this page is simulated."
)
