"""When the app stops a computation early: a time budget, and a visitor who is gone (issue 17).

The engine asks a plain ``should_stop()`` between steps (``gdviz.race(..., should_stop=...)``); a
:class:`Budget` is that function for one rerun of a page: True once the work has used its seconds of CPU
(or, as a backstop, WALL_FACTOR times that on the clock) or once the session that asked for the work
has disconnected (its tab closed), so no one pays for a chart no one will see.

Why CPU and not only the clock: the budget is what one visitor may cost the server, and on a busy server
a wall-clock deadline would also stop work that merely waited for a core, so the same link would show
more or fewer steps depending on other visitors. The clock still bounds how long anyone waits.

A stopped result is partial, and must not be cached as if it were the answer to its inputs: a cached
function that was stopped raises :class:`Stopped` carrying the partial result (``st.cache_data`` keeps
nothing for a call that raised), and the page shows what was done with a notice.
"""

from __future__ import annotations

import time
from typing import Any

from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

# a Budget of s CPU seconds also stops after WALL_FACTOR × s seconds on the clock, however busy the server
WALL_FACTOR = 3.0


class Budget:
    """``should_stop`` for one rerun: True once this thread has used ``seconds`` of CPU since it was made
    (or WALL_FACTOR times that has passed), or once the visitor has left.

    ``reason`` says which ("time" or "gone"), None while the work may go on. Outside a running app
    (tests, benchmarks) only the clocks are looked at.
    """

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.cpu_deadline = time.thread_time() + self.seconds
        self.deadline = time.monotonic() + WALL_FACTOR * self.seconds
        self.reason: str | None = None
        ctx = get_script_run_ctx(suppress_warning=True)
        self._session_id = ctx.session_id if ctx is not None and Runtime.exists() else None

    def __call__(self) -> bool:
        if self.reason is not None:
            return True
        if time.thread_time() > self.cpu_deadline or time.monotonic() > self.deadline:
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
        f"Stopped after {done} of {wanted} steps (time budget: {seconds:g} s of server CPU per chart); "
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


def step_seconds(run_steps, probe_steps: int) -> float:
    """CPU seconds (this thread) one step costs: ``run_steps(probe_steps)`` timed once, divided."""
    cpu = time.thread_time()
    run_steps(probe_steps)
    return (time.thread_time() - cpu) / probe_steps


def affordable_steps(steps: int, step_seconds: float, budget_seconds: float) -> tuple[int, str | None]:
    """``steps``, or fewer (two significant digits, at least 1) when ``steps`` × ``step_seconds`` is over the
    budget; and the notice that says so, with the measured cost."""
    most = int(budget_seconds / step_seconds) if step_seconds > 0 else steps
    if steps <= most:
        return steps, None
    scale = 10 ** max(len(str(most)) - 2, 0)  # a round number, so that small timing noise keeps one link
    cut = max(1, most // scale * scale)
    return cut, (
        f"These runs cost about {step_seconds * 1e3:.2g} ms of server time per step, so {steps} steps would take "
        f"{steps * step_seconds:.0f} s; the budget is {budget_seconds:g} s, so {cut} steps are shown. "
        "Fewer runs or a simpler formula allow more steps."
    )
