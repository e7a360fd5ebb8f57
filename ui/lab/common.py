"""What the Schedules page and the Landscape Lab share: their surfaces, cache settings and surface picker.

Every computation of these pages is a ``st.cache_data`` function of plain, hashable inputs (names,
numbers, tuples of canonical parameters), so two visitors with the same settings share one result and
the cache is bounded (:data:`ui.limits.LAB_CACHE_MAX_ENTRIES`).
"""

from __future__ import annotations

import streamlit as st

import gdviz
from ui import limits
from ui.state import fields as ps
from ui.state.widgets import KEEP

CACHE = dict(max_entries=limits.LAB_CACHE_MAX_ENTRIES, show_spinner=False)
PLANAR = tuple(sorted(name for name, s in gdviz.SURFACES.items() if s.dim in (1, 2)))


def pick(options: tuple[str, ...], wanted: str) -> str:
    """``wanted`` when it is one of the options, else the first option."""
    return wanted if wanted in options else options[0]


def surface_title(name: str) -> str:
    return gdviz.SURFACES[name].title


def surface_picker(page: str, field: str, start: ps.Point | None = None) -> None:
    """The surface select box and, with a start field, one input per coordinate of the start point.

    A new surface puts the start inputs on its default start.
    """
    state = st.session_state
    key = ps.widget_key(page, field)

    def reset_start() -> None:
        if start is not None:
            for i, v in enumerate(ps.default_start(state[key])):
                state[f"{ps.widget_key(page, start.key)}_{i}"] = v

    st.selectbox("Surface", PLANAR, key=key, format_func=surface_title, on_change=reset_start, persist_state=KEEP)
    if start is not None:
        cap = limits.MAX_ABS_START
        columns = st.columns(gdviz.surface(state[key]).dim)
        for i, column in enumerate(columns):
            with column:
                label = start.label.replace("Start point", "start") + f" x{i + 1}"
                st.number_input(
                    label,
                    -cap,
                    cap,
                    step=0.1,
                    format="%g",
                    key=f"{ps.widget_key(page, start.key)}_{i}",
                    persist_state=KEEP,
                )
