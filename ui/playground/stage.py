"""The stage: the race's one step cursor and its scrubbers, a component that runs in the browser.

Its code is ui/playground/stage_js.py. It tells the server two things: the step the animation rests on
(``step``: the inspector beside the map and the panels show that step) and a scrubbed value the visitor
released (``commit``: the scenario takes it). Both arrive as Streamlit reruns the fragment that draws the
stage (ui/playground/view.py), never the race itself; a commit then reruns the whole page.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import streamlit as st

from ui.figures.surface_3d_js import STEP_3D_JS
from ui.playground.stage_js import STAGE_CSS, STAGE_HTML, STAGE_JS

K_STAGE = "pg_stage"
K_STEP = "pg_step"  # the cursor: the step the race chart, the panels and the inspector show
K_COMMITTED = "pg_committed"  # set by a commit: the fragment then reruns the whole page

# in the page's own DOM (not a shadow root), so that a key pressed on its buttons is seen as pressed on a button
_STAGE = st.components.v2.component(
    "gdviz_stage", html=STAGE_HTML, css=STAGE_CSS, js=STEP_3D_JS + STAGE_JS, isolate_styles=False
)


def cursor(state: MutableMapping[str, Any], steps: int) -> int:
    """The cursor's step, within 0..steps (0, ready to play, on a first visit)."""
    value = state.get(K_STEP, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        value = 0
    return max(0, min(int(value), steps))


def _on_step() -> None:
    result = st.session_state.get(K_STAGE) or {}
    step = result.get("step") if hasattr(result, "get") else None
    if isinstance(step, (int, float)) and not isinstance(step, bool) and step == step:
        st.session_state[K_STEP] = max(0, int(step))


def stage(racer: int, note: str | None, on_commit: Callable[[Any], bool]) -> None:
    """Draw the stage. ``racer``: the racer its scrubbers start on; ``note``: why some racers cannot be
    scrubbed; ``on_commit(value)`` makes a released value the scenario's (True when it did)."""

    def committed() -> None:
        result = st.session_state.get(K_STAGE) or {}
        value = result.get("commit") if hasattr(result, "get") else None
        if isinstance(value, dict) and on_commit(value):
            st.session_state[K_COMMITTED] = True

    _STAGE(
        key=K_STAGE,
        data={"racer": int(racer), "note": note or ""},
        on_step_change=_on_step,
        on_commit_change=committed,
    )
    if st.session_state.pop(K_COMMITTED, False):
        st.rerun()  # the whole page: the sidebar, the race and the link take the committed value
