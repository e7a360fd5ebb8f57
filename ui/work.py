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

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import StopException, get_script_run_ctx

# a Budget of s CPU seconds also stops after WALL_FACTOR × s seconds on the clock, however busy the server
WALL_FACTOR = 3.0


# -- interactive first --------------------------------------------------------------------------------------
# One server process runs every visitor's script on its own thread, but Python runs one thread at a time: ten
# visitors' heavy links shared the interpreter with an eleventh visitor's first page, who waited 1-3 s for
# what takes 0.1 s on an idle server (benchmarks/load.py --attackers). Heavy work therefore moves to worker
# processes (ui/workers.py, through the Budget below); what stays in this process (with GDVIZ_WORKERS=0, or
# when no worker took it in time) takes turns:
# - a script run is interactive until it has used HEAVY_AFTER_SECONDS of CPU; from its next Budget question
#   on it is heavy, and must hold the heavy lane: one heavy run at a time, the others wait for it without using
#   the CPU (at most LANE_WAIT_SECONDS, then they go on anyway: a queue must not become a refusal);
# - heavy work pauses while an interactive run is in progress, at most YIELD_SECONDS at a time, so a page
#   that costs little (a first visit, a cheap race computed again) is served at once.
# Waiting costs no CPU, so it does not count against a Budget's CPU seconds, and it moves its clock deadline.
# 0.1 s: a first visit's page costs less, and at 0.5 s every new session that sent a heavy link ran beside
# that first visit for its first half second of CPU (ten such clients: a first chart 9-13x slower than on an
# idle server; at 0.1 s, 4-5x; benchmarks/load.py --attackers 10)
HEAVY_AFTER_SECONDS = 0.1
# the lane is held while the holder keeps asking its Budget (every few engine steps); once it has not asked
# for this long, its computation is over (it is building figures) and the next heavy run may take the lane:
# five browsers opening the Playground at once on a loaded machine each waited for the others' whole runs
LEASE_SECONDS = 0.25
LANE_WAIT_SECONDS = 30.0
YIELD_SECONDS = 0.25
# a heavy run pauses at most this long in all for interactive runs: one that waits on the heavy run itself (a
# cache lock on the same result) must not slow it to a crawl
YIELD_TOTAL_SECONDS = 1.0
_POLL_SECONDS = 0.05  # how often a waiting run looks whether its visitor is still there
# how long a thread holds the interpreter before another one that wants it gets it (CPython's default: 5 ms).
# Shorter, a server thread answering a visitor waits less behind a busy one, at a small cost when contended
SWITCH_INTERVAL_SECONDS = 0.001


class Lanes:
    """The script runs in progress in this process (registered by app.py) and which one holds the heavy lane."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._heavy: dict[int, bool] = {}  # thread ident of a script run -> is it heavy?
        self._cpu_start: dict[int, float] = {}  # its thread's CPU time when it started
        self._holder: int | None = None
        self._held_at = 0.0  # when the holder last asked a Budget question (its lease runs from there)

    @contextlib.contextmanager
    def script_run(self) -> Iterator[None]:
        """Around one script run (app.py): counted as interactive until it asks a Budget."""
        me = threading.get_ident()
        with self._changed:
            self._heavy[me] = False
            self._cpu_start[me] = time.thread_time()
        try:
            yield
        finally:
            with self._changed:
                self._heavy.pop(me, None)
                self._cpu_start.pop(me, None)
                if self._holder == me:
                    self._holder = None
                self._changed.notify_all()

    def registered(self) -> bool:
        return threading.get_ident() in self._heavy

    def heavy_here(self) -> bool:
        """Is this thread's script run heavy?"""
        return self._heavy.get(threading.get_ident(), False)

    def run_cpu_seconds(self) -> float:
        """CPU seconds this thread's script run has used so far (0 outside a registered run)."""
        start = self._cpu_start.get(threading.get_ident())
        return 0.0 if start is None else time.thread_time() - start

    def enter_heavy(self, gone, limit: float) -> float:
        """Wait for the heavy lane (at most ``limit`` seconds, less if ``gone()``); returns the seconds waited."""
        me, start = threading.get_ident(), time.monotonic()
        with self._changed:
            if me not in self._heavy:
                return 0.0  # not a registered script run (a test, a notebook): nothing to take turns with
            if not self._heavy[me]:
                self._heavy[me] = True
                self._changed.notify_all()  # one interactive run fewer: heavy runs that paused for it may go on
            while not self._lane_free(me):
                left = limit - (time.monotonic() - start)
                if left <= 0 or gone():
                    break
                self._changed.wait(min(left, _POLL_SECONDS))
            self._holder, self._held_at = me, time.monotonic()
        return time.monotonic() - start

    def _lane_free(self, me: int) -> bool:
        """Free for ``me``: no holder, ``me``, a finished run, or one whose lease ran out (it has not asked a
        Budget question for LEASE_SECONDS: its engine loop is done and it only draws its figures)."""
        holder = self._holder
        return holder in (None, me) or holder not in self._heavy or time.monotonic() - self._held_at > LEASE_SECONDS

    def mark_heavy(self) -> None:
        """This thread's run is heavy without holding the lane (its work is in a worker: ui/workers.py)."""
        me = threading.get_ident()
        with self._changed:
            if self._heavy.get(me) is False:
                self._heavy[me] = True
                self._changed.notify_all()

    def interactive_running(self) -> bool:
        return not all(self._heavy.values())

    def pause_for_interactive(self, limit: float) -> float:
        """Wait (at most ``limit`` seconds) while an interactive run is in progress; returns the seconds waited."""
        start = time.monotonic()
        with self._changed:
            while self.interactive_running():
                left = limit - (time.monotonic() - start)
                if left <= 0:
                    break
                self._changed.wait(left)
        return time.monotonic() - start


LANES = Lanes()
sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


class MoveToWorker(BaseException):
    """Raised by a :class:`Budget`'s question inside ``ui.workers.offloaded`` once the script run is heavy: the
    work done so far is dropped and the call runs again in a worker process. A BaseException, so that no
    ``except Exception`` on the way (the engine's, a page's) mistakes it for an error of the computation."""


class Budget:
    """``should_stop`` for one rerun: True once this thread has used ``seconds`` of CPU since it was made
    (or WALL_FACTOR times that has passed, not counting the time it waited for its turn), or once the
    visitor has left.

    ``reason`` says which ("time" or "gone"), None while the work may go on; a visitor gone also ends the
    script run (:meth:`gone`). In a script run that app.py registered with :data:`LANES`, once the run has used
    HEAVY_AFTER_SECONDS of CPU a question waits for the heavy lane, and later ones pause while an interactive
    run is in progress. Outside a running app (tests, benchmarks, notebooks) only the clocks are looked at.
    """

    def __init__(self, seconds: float, expected: float = 0.0):
        self.seconds = float(seconds)
        # the work's CPU seconds as the page estimated them (a probe's cost per step × the steps), 0 if unknown
        self.expected = float(expected)
        self.cpu_deadline = time.thread_time() + self.seconds
        self.deadline = time.monotonic() + WALL_FACTOR * self.seconds
        self.reason: str | None = None
        self.waited = 0.0  # seconds this work waited for its turn, in all
        self.paused = 0.0  # of which paused for interactive runs
        ctx = get_script_run_ctx(suppress_warning=True)
        self._session_id = ctx.session_id if ctx is not None and Runtime.exists() else None
        self._movable = False  # inside ui.workers.offloaded: heavy work moves to a worker instead of the lane
        self.elsewhere = 0.0  # CPU seconds worker processes spent on this budget (ui/workers.py)

    def visitor_gone(self) -> bool:
        return self._session_id is not None and not Runtime.instance().is_active_session(self._session_id)

    # -- for ui/workers.py: heavy work computed in a worker process, on this budget ---------------------------

    def may_move(self) -> bool:
        """Can this budget's work move to a worker? In a running server's script run only (not in tests, AppTest
        included, notebooks or benchmarks, which compute in their own process)."""
        return self._session_id is not None and LANES.registered()

    @staticmethod
    def is_heavy() -> bool:
        """Is this script run heavy: has it used HEAVY_AFTER_SECONDS of CPU (or held the heavy lane)?"""
        return LANES.heavy_here() or (LANES.registered() and LANES.run_cpu_seconds() > HEAVY_AFTER_SECONDS)

    def heavy_ahead(self) -> bool:
        """Will the work make this script run heavy: its CPU so far and the work's estimate over
        HEAVY_AFTER_SECONDS? Then a computation that may move goes to a worker at once: trying it here first
        spent HEAVY_AFTER_SECONDS of the server's interpreter on every heavy link, for nothing."""
        return LANES.registered() and LANES.run_cpu_seconds() + self.expected > HEAVY_AFTER_SECONDS

    @contextlib.contextmanager
    def movable(self) -> Iterator[None]:
        """Around a call computed here that may move: once the run is heavy, a question raises MoveToWorker."""
        self._movable = True
        try:
            yield
        finally:
            self._movable = False

    def waited_elsewhere(self, seconds: float) -> None:
        """This thread waited ``seconds`` for a worker, using no CPU here: not counted, and its clock moves."""
        self._wait(seconds)

    def spent_elsewhere(self, cpu_seconds: float, reason: str | None) -> None:
        """A worker computed on this budget: its CPU counts against it, and why it stopped (if it did) is ours."""
        self.cpu_deadline -= cpu_seconds
        self.elsewhere += cpu_seconds
        if reason is not None and self.reason is None:
            self.reason = reason

    def _wait(self, seconds: float) -> None:
        self.waited += seconds
        self.deadline += seconds

    def __call__(self) -> bool:
        if self.reason is not None:
            return True
        heavy = self.is_heavy()
        if heavy and self._movable:
            raise MoveToWorker
        if heavy:
            # takes (or keeps, renewing its lease) the heavy lane; after a lapse, waits for it again
            self._wait(LANES.enter_heavy(self.visitor_gone, LANE_WAIT_SECONDS))
        if self.paused < YIELD_TOTAL_SECONDS and LANES.heavy_here() and LANES.interactive_running():
            pause = LANES.pause_for_interactive(min(YIELD_SECONDS, YIELD_TOTAL_SECONDS - self.paused))
            self.paused += pause
            self._wait(pause)
        if time.thread_time() > self.cpu_deadline or time.monotonic() > self.deadline:
            self.reason = "time"
        elif self.visitor_gone():
            self.gone()
        return self.reason is not None

    def gone(self) -> None:
        """The visitor has left: the work stops, and so does the script run (StopException, as ``st.stop()``
        raises it), since nobody will see its page: drawing the figures of a heavy link after its tab closed
        cost 0.3-0.8 s of the server's interpreter, shared with every visitor who is still there."""
        self.reason = "gone"
        raise StopException


class Stopped(Exception):
    """A cached computation stopped early: ``result`` holds what was done, ``done`` of ``wanted`` steps."""

    def __init__(self, result: Any, done: int, wanted: int):
        super().__init__(f"stopped after {done} of {wanted} steps")
        self.result, self.done, self.wanted = result, done, wanted

    def __reduce__(self):  # pickled from a worker process (ui/workers.py) with what it carries
        return Stopped, (self.result, self.done, self.wanted)


STOPPED_HINT = "Fewer steps or runs fit in the budget."


def stopped_notice(done: int, wanted: int, seconds: float, hint: str = STOPPED_HINT) -> str:
    """The page's notice for a result cut short by the time budget; ``hint``: what the page's visitor can change."""
    return (
        f"Stopped after {done} of {wanted} steps (time budget: {seconds:g} s of server CPU per chart); "
        f"the chart shows those steps. {hint}"
    )


def complete(result: Any, done: int, wanted: int) -> Any:
    """``result`` when all ``wanted`` steps ran; else raise :class:`Stopped` with it (inside a cached function)."""
    if done < wanted:
        raise Stopped(result, done, wanted)
    return result


def partial(call, notices: list[str], seconds: float, hint: str = STOPPED_HINT) -> Any:
    """``call()``'s result; for a stopped computation its partial result, its notice added to ``notices``."""
    try:
        return call()
    except Stopped as stopped:
        notices.append(stopped_notice(stopped.done, stopped.wanted, seconds, hint))
        return stopped.result


def step_seconds(run_steps, probe_steps: int) -> float:
    """CPU seconds (this thread) one step costs: ``run_steps(probe_steps)`` timed once, divided."""
    cpu = time.thread_time()
    run_steps(probe_steps)
    return (time.thread_time() - cpu) / probe_steps


# what the notice of a cut suggests unless the page says otherwise (the Playground: runs and typed formulas)
AFFORDABLE_HINT = "Fewer runs or a simpler formula allow more steps."


def affordable_steps(
    steps: int, step_seconds: float, budget_seconds: float, hint: str = AFFORDABLE_HINT
) -> tuple[int, str | None]:
    """``steps``, or fewer (two significant digits, at least 1) when ``steps`` × ``step_seconds`` is over the
    budget; and the notice that says so, with the measured cost and ``hint`` (what the page's visitor can
    change to afford more steps)."""
    most = int(budget_seconds / step_seconds) if step_seconds > 0 else steps
    if steps <= most:
        return steps, None
    scale = 10 ** max(len(str(most)) - 2, 0)  # a round number, so that small timing noise keeps one link
    cut = max(1, most // scale * scale)
    return cut, (
        f"These runs cost about {step_seconds * 1e3:.2g} ms of server time per step, so {steps} steps would take "
        f"{steps * step_seconds:.0f} s; the budget is {budget_seconds:g} s, so {cut} steps are shown. {hint}"
    )
