"""Heavy computations in worker processes, so that they do not hold the server's interpreter (issue 17).

Streamlit runs every visitor's script on a thread of one process, and Python runs one thread at a time: a
Lab map or a race that computes for seconds in pure NumPy steps (small arrays, so mostly interpreter work)
shared the interpreter with every other visitor, and ten visitors sending the heaviest links made an
eleventh wait several times as long for the Playground (benchmarks/load.py --attackers 10). Taking turns
in one process (ui/work.py's lanes) bounds how many compute at once, not whose turn the interpreter is.

So a budgeted computation that proves heavy moves to a worker process:

- :func:`offloaded` calls ``fn(*args, should_stop=budget)`` here first. A cheap computation (a changed
  learning rate, a default map) finishes here, with no inter-process round trip. Once the script run has
  used ``ui.work.HEAVY_AFTER_SECONDS`` of CPU, the budget's next question raises :class:`MoveToWorker`,
  the work done here is dropped (at most that much), and the call runs again, from its start, in a worker.
  A budget whose page estimated the work (``Budget(seconds, expected=...)``: a probe's cost per step times
  the steps) at more than the run has left of HEAVY_AFTER_SECONDS goes to a worker at once, untried here.
  The engine is deterministic (seeded), so the result is the same; tests/test_workers.py checks it.
- Workers run at a low CPU priority (``NICENESS``): the server's own process, which answers every visitor,
  gets the cores first. ``WORKERS`` of them (``GDVIZ_WORKERS``, default: the cores less one, at least 1,
  at most 4) take the queued computations in turn; a computation no worker has begun within
  ``LANE_WAIT_SECONDS`` runs here after all (a queue must not become a refusal). A worker's warm-up (torch's
  imports) runs on a thread of its own beside its tasks, never ahead of a visitor's computation.
- The budget goes along: the worker's own ``should_stop`` stops at the CPU seconds the budget has left (or
  ``WALL_FACTOR`` times that on the clock) and when the visitor leaves (the waiting thread sees the session
  end and raises the task's flag in shared memory). The CPU the worker used counts against the budget here,
  so that a page's budget covers all of its computations, wherever they ran.
- Only calls made by a running app's script run move (``ui.work.LANES`` registers them): tests, notebooks
  and benchmarks compute in their own process, as before. ``GDVIZ_WORKERS=0`` turns the workers off.

- A progress callback goes along too: the worker writes its reports to shared memory and the waiting thread
  moves the visitor's progress bar from them.

What moves: the Playground's race and its scrub sweeps (as their Scenario: the engine objects are rebuilt in
the worker), every Landscape Lab map and the Schedules page's runs, the trainings and comparisons of the
Linear Regression and Networks pages; and, bounded by their caps rather than stopped by a time, the Networks
landscape and the regression's closed form (their budget is infinite: it only lets a heavy run's call move).
It must be picklable: the function (module level), its arguments and its result or exception.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ui import work
from ui.work import MoveToWorker

_LOG = logging.getLogger(__name__)


def _default_workers() -> int:
    """The cores this process may use, less the server's own, at least 1 and at most 4 (each worker holds the
    engine and torch: ~350 MB)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    return max(1, min(4, cores - 1))


def _workers_setting(text: str | None) -> int:
    """GDVIZ_WORKERS as a count (0 or more); unset, or not a count, the default."""
    try:
        return max(0, int(text)) if text is not None else _default_workers()
    except ValueError:
        _LOG.warning("GDVIZ_WORKERS=%r is not a number of processes: using %d", text, _default_workers())
        return _default_workers()


WORKERS = _workers_setting(os.environ.get("GDVIZ_WORKERS"))
# how much lower a worker's CPU priority is than the server's (os.nice: 19 is the lowest)
NICENESS = 19
# flags for the computations in flight at once (more wait for a flag, as they would for a worker)
SLOTS = 64
# bytes of a progress message a worker passes to the server's progress bar (utf-8, cut there)
PROGRESS_TEXT_BYTES = 120
_POLL_SECONDS = 0.05  # how often the waiting thread looks whether its visitor is still there


# -- in the worker ------------------------------------------------------------------------------------------
_FLAGS = None  # the shared stop flags, one per slot (set in each worker by _start_worker)
_STARTED = None  # the shared "its task has started" marks, one per slot
_PROGRESS = None  # the shared progress of each slot: (fractions, texts)


def _start_worker(flags, started, fractions, texts, warm_calls: tuple[Callable[[], Any], ...] = ()) -> None:
    global _FLAGS, _STARTED, _PROGRESS
    _FLAGS, _STARTED, _PROGRESS = flags, started, (fractions, texts)
    _end_with_the_server()
    try:
        os.nice(NICENESS)
    except OSError:  # not allowed here: the worker runs at the server's priority
        pass
    # Outside a running app, Streamlit warns on importing the app's modules and at every st.cache_data call (the
    # computations call the app's cached functions: their caches are the worker's own), in the server's log,
    # where that would read as a problem. Its configuration sets the log level when it is read, so it is read
    # first, and the level set after
    from streamlit import config
    from streamlit.logger import set_log_level

    config.get_option("logger.level")
    set_log_level("error")
    if warm_calls:
        # beside the tasks, not before them: at this low priority on a machine busy with other programs the
        # warm-up (seconds of torch imports) took minutes, and a visitor's race queued behind it waited as long
        threading.Thread(target=_warm, args=(warm_calls,), name="gdviz-worker-warm-up", daemon=True).start()


def _end_with_the_server() -> None:
    """A worker waits for its next task on a queue it also holds the writing end of (multiprocessing passes both),
    so a server that dies without shutting its pool down (killed, out of memory) would leave it waiting forever,
    holding its memory. It looks every second whether its parent is still the server, and ends if not. (Not
    prctl's parent-death signal: that follows the thread that started the worker, a script run's.)"""
    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="gdviz-worker-watch", daemon=True).start()


class WorkerStop:
    """``should_stop`` in the worker: True once this thread has used ``cpu_seconds`` of CPU (or WALL_FACTOR
    times that on the clock) since the computation started, or once the server raised this slot's flag (its
    visitor left). ``reason`` says which, as :class:`ui.work.Budget`'s does."""

    def __init__(self, slot: int, cpu_seconds: float, wall_factor: float):
        self.slot = slot
        self.cpu_deadline = time.thread_time() + cpu_seconds
        self.deadline = time.monotonic() + wall_factor * cpu_seconds
        self.reason: str | None = None

    def __call__(self) -> bool:
        if self.reason is None:
            if _FLAGS is not None and _FLAGS[self.slot]:
                self.reason = "gone"
            elif time.thread_time() > self.cpu_deadline or time.monotonic() > self.deadline:
                self.reason = "time"
        return self.reason is not None


class WorkerProgress:
    """``progress(fraction, text)`` in the worker: written to shared memory, where the waiting server thread reads
    it and moves the visitor's progress bar."""

    def __init__(self, slot: int):
        self.slot = slot

    def __call__(self, fraction: float, text: str) -> None:
        fractions, texts = _PROGRESS
        encoded = text.encode("utf-8")[:PROGRESS_TEXT_BYTES].ljust(PROGRESS_TEXT_BYTES, b"\0")
        texts[self.slot * PROGRESS_TEXT_BYTES : (self.slot + 1) * PROGRESS_TEXT_BYTES] = encoded
        fractions[self.slot] = float(fraction)


def _run(fn: Callable, args: tuple, kwargs: dict, slot: int, cpu_seconds: float, wall_factor: float, progress: bool):
    """In the worker: ``fn(*args, should_stop=..., **kwargs)``; returns (result, error, stop reason, CPU used)."""
    marks = _STARTED  # shared memory set once per worker (like _PROGRESS): this task's slot is marked begun,
    if marks is not None:  # and the server's wait for a worker to begin it (see _wait) is over
        marks[slot] = 1
    stop = WorkerStop(slot, cpu_seconds, wall_factor)
    if progress:
        kwargs = {**kwargs, "progress": WorkerProgress(slot)}
    cpu = time.thread_time()
    result = error = None
    try:
        result = fn(*args, should_stop=stop, **kwargs)
    except Exception as caught:  # noqa: BLE001 -- the server raises it where the call was made
        error = _returnable(caught)
    cpu = time.thread_time() - cpu
    _give_back_memory()
    return result, error, stop.reason, cpu


def _returnable(error: Exception) -> Exception:
    """``error`` as the server can rebuild it. Unpickling an exception calls its class with its args (unless the
    class says otherwise): one whose class needs more would fail in the server's reader and break the pool for
    every computation in flight, so it goes back as a RuntimeError with its class's name and its message."""
    cls = type(error)
    try:
        if cls.__reduce__ is BaseException.__reduce__:
            cls(*error.args)
    except Exception:  # noqa: BLE001 -- any reason it cannot be rebuilt from its args
        return RuntimeError(f"{cls.__name__}: {error}")
    return error


def _give_back_memory() -> None:
    """Return the heap a computation freed to the system (glibc keeps it otherwise: a worker that once trained
    on 2M samples would stay that large); the result has been computed, only its reply is still to be sent."""
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def _warm(calls: tuple[Callable[[], Any], ...]) -> int:
    """In a new worker, on a thread of its own: ``calls`` (what its computations import on first use: torch's
    first optimizer imports seconds of torch), so that a visitor need not wait for them."""
    for call in calls:
        try:
            call()
        except Exception:  # a failed warm-up only means the first computation that needs it pays for it
            _LOG.exception("a worker's warm-up call %s failed", getattr(call, "__qualname__", call))
    return os.getpid()


# -- in the server ------------------------------------------------------------------------------------------
class _Pool:
    """The worker processes, started at the first heavy computation (or by :func:`warm_up`), and their flags."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._flags = self._started = self._fractions = self._texts = None
        self._warm_calls: tuple[Callable[[], Any], ...] = ()
        self._free: list[int] = []
        self._slot_freed = threading.Condition(self._lock)

    def executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            # spawn, not fork: the server has threads, and a forked copy of a thread's lock can be held
            context = multiprocessing.get_context("spawn")
            if self._flags is None:  # once: a pool made again after a reset keeps them (and the slots in use)
                self._flags = context.RawArray("b", SLOTS)
                self._started = context.RawArray("b", SLOTS)
                self._fractions = context.RawArray("d", SLOTS)
                self._texts = context.RawArray("c", SLOTS * PROGRESS_TEXT_BYTES)
                self._free = list(range(SLOTS))
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=WORKERS,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self._flags, self._started, self._fractions, self._texts, self._warm_calls),
                )
            return self._executor

    def take_slot(self, wait: float) -> int | None:
        """A free flag, cleared (None when none was free within ``wait`` seconds)."""
        self.executor()
        with self._slot_freed:
            if not self._free and not self._slot_freed.wait_for(lambda: self._free, timeout=wait):
                return None
            slot = self._free.pop()
            self._flags[slot] = self._started[slot] = 0
            self._fractions[slot] = -1.0
            return slot

    def release_slot(self, slot: int) -> None:
        with self._slot_freed:
            self._free.append(slot)
            self._slot_freed.notify()

    def release_slot_when_done(self, slot: int, future: concurrent.futures.Future | None) -> None:
        """Free ``slot`` once its task has ended: a task a departed visitor left behind may still wait for its
        turn, and its flag (which tells it to stop at its first question) must stay raised until then."""
        if future is None or future.done():
            self.release_slot(slot)
        else:
            future.add_done_callback(lambda _: self.release_slot(slot))

    def slots_in_use(self) -> int:
        with self._lock:
            return SLOTS - len(self._free) if self._flags is not None else 0

    def raise_flag(self, slot: int) -> None:
        self._flags[slot] = 1

    def started(self, slot: int) -> bool:
        """Has a worker begun the task in ``slot``? (A future says "running" as soon as it is handed to the
        workers' queue, which holds one more task than there are workers.)"""
        return bool(self._started[slot])

    def start(self, warm_calls: tuple[Callable[[], Any], ...]) -> None:
        """Start every worker now, each running ``warm_calls`` beside its tasks (and again in a pool made after a
        reset)."""
        with self._lock:
            self._warm_calls = tuple(warm_calls)
        executor = self.executor()
        for _ in range(WORKERS):  # a spawn pool starts a process per task submitted while none is idle
            executor.submit(os.getpid)

    def progress(self, slot: int) -> tuple[float, str]:
        """The last (fraction, text) the task in ``slot`` reported (fraction -1: none yet)."""
        text = self._texts[slot * PROGRESS_TEXT_BYTES : (slot + 1) * PROGRESS_TEXT_BYTES]
        return self._fractions[slot], text.rstrip(b"\0").decode("utf-8", errors="ignore")

    def reset(self) -> None:
        """After a worker died (killed for memory, say): a new pool for the next computation."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


POOL = _Pool()


def enabled() -> bool:
    return WORKERS > 0


_warmed = threading.Event()


def warm_up(calls: tuple[Callable[[], Any], ...]) -> None:
    """In a running server, once: start the workers, which run ``calls`` (module-level functions) before any
    computation (app.py calls this at every run; it does nothing after the first, nor outside a server)."""
    from streamlit.runtime import Runtime

    if not enabled() or _warmed.is_set() or not Runtime.exists():
        return
    _warmed.set()
    POOL.start(tuple(calls))


def offloaded(fn: Callable, *args: Any, should_stop=None, progress=None, **kwargs: Any) -> Any:
    """``fn(*args, should_stop=should_stop, **kwargs)``, computed in a worker process once it proves heavy
    (see the module's docstring); the same result, or the same exception, either way. With ``progress``
    (a callback ``progress(fraction, text)``), ``fn`` gets it as its ``progress``; from a worker, its reports
    reach the callback here, in the script's thread, every few hundredths of a second."""
    here = kwargs if progress is None else {**kwargs, "progress": progress}  # what a call in this process takes
    budget = should_stop if isinstance(should_stop, work.Budget) else None
    if budget is None or not enabled() or not budget.may_move():
        return fn(*args, should_stop=should_stop, **here)
    if not budget.is_heavy() and not budget.heavy_ahead():
        try:
            with budget.movable():
                return fn(*args, should_stop=budget, **here)
        except MoveToWorker:
            pass
    return _in_worker(fn, args, kwargs, here, budget, progress)


def _in_worker(fn: Callable, args: tuple, kwargs: dict, here: dict, budget: work.Budget, report) -> Any:
    """``fn`` in a worker (``kwargs``, and the worker's progress if ``report``), or here (``here``) when that fails."""
    cpu_left = budget.cpu_deadline - time.thread_time()
    slot = POOL.take_slot(work.LANE_WAIT_SECONDS) if cpu_left > 0 else None
    if slot is None:  # no time left (the call stops at once) or no flag free in time: here, as before
        return fn(*args, should_stop=budget, **here)
    work.LANES.mark_heavy()  # interactive runs need not wait for this one, nor heavy ones pause for it
    waited_from = time.monotonic()
    future = None
    try:
        submitted = (_run, fn, args, kwargs, slot, cpu_left, work.WALL_FACTOR, report is not None)
        future = POOL.executor().submit(*submitted)
        outcome = _wait(future, slot, budget, report)
    except BrokenProcessPool:
        _LOG.warning("a worker process ended unexpectedly; computing in the server process")
        POOL.reset()
        outcome = None
    except Exception as error:  # noqa: BLE001 -- the trip failed (an argument or result that does not pickle)
        _LOG.warning("computing %s in the server process: %s", getattr(fn, "__qualname__", fn), error)
        outcome = None
    finally:
        POOL.release_slot_when_done(slot, future)
    # the caller builds its figures from the result next, in this process: an interactive run in progress (a
    # visitor opening a page) goes first (an eleventh visitor waited behind ten heavy links' figures)
    work.LANES.pause_for_interactive(work.YIELD_SECONDS)
    budget.waited_elsewhere(time.monotonic() - waited_from)
    if outcome is None:  # not started in time, or the workers are gone: here, with what the budget has left
        return fn(*args, should_stop=budget, **here)
    result, error, reason, cpu = outcome
    budget.spent_elsewhere(cpu, reason)
    if reason == "gone":
        budget.gone()  # ends the script run
    if error is not None:
        raise error
    return result


def _wait(future: concurrent.futures.Future, slot: int, budget: work.Budget, report: Callable | None):
    """The worker's outcome; None when the task did not start within LANE_WAIT_SECONDS (then it never will).
    Meanwhile the task's progress goes to ``report``."""
    queued_since, shown = time.monotonic(), -1.0
    while True:
        try:
            return future.result(timeout=_POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            pass
        if report is not None:
            fraction, text = POOL.progress(slot)
            if fraction != shown:
                shown = fraction
                report(fraction, text)
        if budget.visitor_gone():
            POOL.raise_flag(slot)  # a running task stops at its next question; a queued one at its first
            future.cancel()  # (one not yet handed to a worker never starts)
            budget.gone()  # ends the script run at once: nobody waits for the task (its slot is freed when it ends)
        if not POOL.started(slot) and time.monotonic() - queued_since > work.LANE_WAIT_SECONDS:
            POOL.raise_flag(slot)  # should a worker still take it, it stops at its first question
            future.cancel()
            return None
