"""gdviz: the Streamlit entry point. Page config, shared state, and the navigation over pages/.

Run with ``streamlit run app.py``. The pages are thin scripts in pages/; their logic lives in ui/ and
the engine in gdviz/.
"""

import streamlit as st

from gdviz import regression
from ui.memory import bounded_memory
from ui.screen import fit_formulas, fit_small_windows, keep_tables_on_screen
from ui.state.widgets import widen_dropdowns
from ui.uploads import keep_one_upload_per_session
from ui.work import LANES
from ui.workers import warm_up

# what a worker process runs before its first computation (the engine modules it imports on first use)
WORKER_WARM_UP = (regression.warm_up,)


def main() -> None:
    st.set_page_config(page_title="gdviz · optimizer playground", page_icon="⛰️", layout="wide")
    keep_one_upload_per_session()  # the upload endpoint keeps one file per session, none for a session gone
    widen_dropdowns()  # a story's title is longer than the sidebar is wide
    keep_tables_on_screen()  # a wide table scrolls sideways by itself, not the whole page
    fit_formulas()  # a wide formula is drawn smaller until it fits its box
    fit_small_windows()  # a phone's or a projector's first screen holds the title and the first chart

    # Each page keeps its state under its own key prefix (pg_ for the Playground); every widget persists
    # for the session (persist_state, see ui/state/widgets.py), so a visitor returns to what they left.

    navigation = st.navigation(
        [
            st.Page(
                "pages/playground.py",
                title="Playground",
                icon=":material/sports_score:",
                default=True,
                url_path="playground",
            ),
            st.Page("pages/schedules.py", title="Schedules", icon=":material/show_chart:", url_path="schedules"),
            st.Page("pages/landscape.py", title="Landscape Lab", icon=":material/map:", url_path="landscape"),
            st.Page(
                "pages/regression.py", title="Linear Regression", icon=":material/insights:", url_path="regression"
            ),
            st.Page("pages/network.py", title="Networks", icon=":material/hub:", url_path="network"),
            st.Page("pages/about.py", title="About: the update rules", icon=":material/menu_book:", url_path="about"),
        ]
    )
    # the worker processes that take heavy computations off the server's interpreter (ui/workers.py), started
    # at the server's first visit, with torch and its first optimizer imported there before anyone waits for them
    warm_up(WORKER_WARM_UP)
    # interactive runs first: heavy (budgeted) work takes turns and pauses while a cheap page is being served;
    # afterwards the shared caches are dropped if the server has grown past its memory limit
    with LANES.script_run(), bounded_memory():
        navigation.run()


# Streamlit runs this file as __main__ at every script run. A worker process (ui/workers.py) is started by
# multiprocessing's spawn, which imports the parent's __main__ (this file) as __mp_main__: no page runs there
if __name__ == "__main__":
    main()
