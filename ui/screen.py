"""What the visitor's screen is: a phone or not, and the CSS a phone's page gets. Shared by every page that
lays itself out for a phone (the Playground, Networks)."""

from __future__ import annotations

import streamlit as st

# a phone: the page title on one line or two, so that the chart starts on the first screen
PHONE_CSS = """<style>
[data-testid="stMainBlockContainer"] h1 { font-size: 2rem; }
</style>"""


def on_phone() -> bool:
    """Whether the browser says it is a phone (its User-Agent's "Mobi", as browsers' own guidance reads it)."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")
