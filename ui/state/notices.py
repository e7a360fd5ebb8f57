"""Notices (what a link or a widget changed, what an upload lacks), drawn the same way on every page.

They quote what the visitor sent, so each is escaped (:func:`ui.state.text.escape_markdown`), and one
link cannot fill the page with them: at most ``limits.MAX_NOTICES``, then one line says how many more.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui.state.text import capped, escape_markdown

INFO = ":material/info:"


def show(messages: Sequence[str], icon: str = INFO) -> None:
    """One warning box per message, escaped, at most ``limits.MAX_NOTICES`` of them and a last one for the rest."""
    for message in capped(messages):
        st.warning(escape_markdown(message), icon=icon)
