"""When the app stops a computation early: a time budget, and a visitor who is gone (issue 17).

The engine asks a plain ``should_stop()`` between steps (``gdviz.race(..., should_stop=...)``); a
:class:`Budget` is that function for one rerun of a page: True once its wall-clock deadline has passed or
once the session that asked for the work has disconnected (its tab closed), so no one pays for a chart
no one will see.

A stopped result is partial, and must not be cached as if it were the answer to its inputs: a cached
function that was stopped raises :class:`Stopped` carrying the partial result (``st.cache_data`` keeps
nothing for a call that raised), and the page shows what was done with a notice.
"""

from __future__ import annotations

import time
from typing import Any

from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx


class Budget:
    """``should_stop`` for one rerun: True once ``seconds`` have passed or the visitor has left.

    ``reason`` says which ("time" or "gone"), None while the work may go on. Outside a running app
    (tests, benchmarks) only the clock is looked at.
    """

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds
        self.reason: str | None = None
        ctx = get_script_run_ctx(suppress_warning=True)
        self._session_id = ctx.session_id if ctx is not None and Runtime.exists() else None

    def __call__(self) -> bool:
        if self.reason is not None:
            return True
        if time.monotonic() > self.deadline:
            self.reason = "time"
        elif self._session_id is not None and not Runtime.instance().is_active_session(self._session_id):
            self.reason = "gone"
        return self.reason is not None


class Stopped(Exception):
    """A cached computation stopped early: ``result`` holds what was done, ``done`` of ``wanted`` steps."""

    def __init__(self, result: Any, done: int, wanted: int):
        super().__init__(f"stopped after {done} of {wanted} steps")
        self.result, self.done, self.wanted = result, done, wanted


def stopped_notice(done: int, wanted: int, seconds: float) -> str:
    """The page's notice for a result cut short by the time budget."""
    return (
        f"Stopped after {done} of {wanted} steps (time budget: {seconds:g} s of server time per chart); "
        "the chart shows those steps. Fewer steps, runs or a cheaper formula fit in the budget."
    )


def complete(result: Any, done: int, wanted: int) -> Any:
    """``result`` when all ``wanted`` steps ran; else raise :class:`Stopped` with it (inside a cached function)."""
    if done < wanted:
        raise Stopped(result, done, wanted)
    return result


def partial(call, notices: list[str], seconds: float) -> Any:
    """``call()``'s result; for a stopped computation its partial result, its notice added to ``notices``."""
    try:
        return call()
    except Stopped as stopped:
        notices.append(stopped_notice(stopped.done, stopped.wanted, seconds))
        return stopped.result
