"""Every page runs through app.py, even when a fresh server's first request is a page's own address.

Streamlit still has its mode from before ``st.navigation``: a server whose main script has a ``pages/`` folder
beside it runs ``pages/<name>.py`` on its own for the address ``/<name>``, until some run of the main script calls
``st.navigation``. So after a restart, visitors who came by a shared link such as ``/landscape?...`` ran their
page without app.py, until someone opened the root: without its page setup (wide layout, titles in the
navigation), and without the server's protections. Heavy work did not move to the worker processes, interactive
runs did not come first, memory was not bounded, and a session could keep more than one upload. The folder keeps
its name (the project's layout), so each page starts by checking the mode.
"""

from __future__ import annotations

import streamlit as st


def through_the_app() -> None:
    """A page's first call: in that mode, switch it off for the whole server (app.py's ``st.navigation`` switches
    it off the same way) and run again, which runs app.py, and this page through its navigation."""
    # Streamlit's own flag (pinned in requirements.txt: streamlit < 2); AppTest sets it for each test app
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
