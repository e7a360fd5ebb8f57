"""Interactive first: heavy (budgeted) work takes turns and pauses for cheap runs (issue 17).

Ten visitors' heavy links made an eleventh visitor's first page wait 10-25x its idle time, because every
script run shares one interpreter. ui/work.py's LANES lets one heavy run at a time hold the heavy lane and
makes heavy work pause while an interactive run is in progress. These tests drive it with plain threads;
benchmarks/load.py --attackers measures what it buys on a real server.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.app.apptest import ok
from ui import work
from ui.work import Budget, Lanes


@pytest.fixture
def lanes(monkeypatch):
    fresh = Lanes()
    monkeypatch.setattr(work, "LANES", fresh)
    monkeypatch.setattr(work, "HEAVY_AFTER_SECONDS", -1.0)  # every registered run is heavy at its first question
    return fresh


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _lane_held(lanes) -> threading.Event:
    """A script run that takes the heavy lane and holds it until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def holder():
        with lanes.script_run():
            budget = Budget(10.0)
            budget()
            held.set()
            while not release.wait(0.02):  # its engine loop goes on, asking its Budget every few steps
                budget()

    _in_thread(holder)
    held.wait(5)
    return release


def test_one_heavy_run_at_a_time_the_next_goes_when_the_first_run_ends(lanes):
    events: list[str] = []
    first_heavy, release_first = threading.Event(), threading.Event()

    def first():
        with lanes.script_run():
            budget = Budget(10.0)
            budget()  # takes the lane
            events.append("first heavy")
            first_heavy.set()
            while not release_first.wait(0.02):  # computing: asks its Budget every few steps
                budget()
            events.append("first ends")

    def second():
        first_heavy.wait(5)
        with lanes.script_run():
            budget = Budget(10.0)
            budget()  # waits for the lane
            events.append("second heavy")
            assert budget.waited >= 0.2

    threads = [_in_thread(first), _in_thread(second)]
    first_heavy.wait(5)
    time.sleep(0.3)
    assert events == ["first heavy"]  # the second run waits, using no CPU
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert events == ["first heavy", "first ends", "second heavy"]


def test_a_run_is_interactive_until_it_has_used_its_free_cpu(lanes, monkeypatch):
    # a cheap computation (a first visit's race computed again after the caches were dropped) never queues
    # behind heavy links; past HEAVY_AFTER_SECONDS of CPU the same run waits for the lane like any heavy one
    monkeypatch.setattr(work, "HEAVY_AFTER_SECONDS", 0.2)
    holder_in, release = threading.Event(), threading.Event()

    def holder():
        with lanes.script_run():
            _spin(0.25)
            budget = Budget(10.0)
            budget()
            holder_in.set()
            while not release.wait(0.02):
                budget()

    _in_thread(holder)
    holder_in.wait(5)
    seen = {}

    def cheap_then_heavy():
        with lanes.script_run():
            budget = Budget(10.0)
            start = time.monotonic()
            budget()
            seen["cheap"] = (time.monotonic() - start, lanes.heavy_here())
            _spin(0.25)
            _in_thread(lambda: (time.sleep(0.3), release.set()))
            budget()
            seen["heavy"] = (budget.waited, lanes.heavy_here())

    _in_thread(cheap_then_heavy).join(5)
    assert seen["cheap"][0] < 0.05 and seen["cheap"][1] is False
    assert seen["heavy"][0] >= 0.25 and seen["heavy"][1] is True


def test_heavy_work_pauses_while_an_interactive_run_is_in_progress(lanes, monkeypatch):
    monkeypatch.setattr(work, "YIELD_SECONDS", 5.0)
    monkeypatch.setattr(work, "YIELD_TOTAL_SECONDS", 5.0)
    interactive_started, interactive_done = threading.Event(), threading.Event()
    heavy_ready = threading.Event()
    order: list[str] = []

    def heavy():
        with lanes.script_run():
            budget = Budget(10.0)
            budget()  # the lane is free: no wait
            heavy_ready.set()
            interactive_started.wait(5)
            budget()  # an interactive run is in progress: pause until it ends
            order.append("heavy goes on")
            assert 0.2 <= budget.paused < 5.0

    def interactive():
        heavy_ready.wait(5)
        with lanes.script_run():
            interactive_started.set()
            time.sleep(0.3)  # a cheap page being served
            order.append("interactive done")
        interactive_done.set()

    threads = [_in_thread(heavy), _in_thread(interactive)]
    for thread in threads:
        thread.join(5)
    assert order == ["interactive done", "heavy goes on"]


def test_pauses_are_bounded_each_and_in_all(lanes, monkeypatch):
    monkeypatch.setattr(work, "YIELD_SECONDS", 0.1)
    monkeypatch.setattr(work, "YIELD_TOTAL_SECONDS", 0.25)
    stop = threading.Event()
    registered = threading.Event()

    def endless_interactive():  # e.g. a run waiting on a cache lock that the heavy run holds
        with lanes.script_run():
            registered.set()
            stop.wait(10)

    _in_thread(endless_interactive)
    registered.wait(5)
    result = {}

    def heavy():
        with lanes.script_run():
            budget = Budget(10.0)
            start = time.monotonic()
            for _ in range(10):
                budget()
            result["spent"], result["paused"] = time.monotonic() - start, budget.paused

    _in_thread(heavy).join(10)
    stop.set()
    assert result["paused"] == pytest.approx(0.25, abs=0.05) and result["spent"] < 1.0


def test_the_wait_for_the_lane_is_bounded_and_ends_when_the_visitor_leaves(lanes, monkeypatch):
    monkeypatch.setattr(work, "LANE_WAIT_SECONDS", 0.3)
    stop = _lane_held(lanes)
    waited = {}

    def queued():
        with lanes.script_run():
            budget = Budget(10.0)
            assert budget() is False  # it goes on after the bounded wait: a queue is not a refusal
            waited["lane"] = budget.waited

    _in_thread(queued).join(5)
    assert 0.3 <= waited["lane"] < 1.0

    def leaving():
        with lanes.script_run():
            start = time.monotonic()
            lanes.enter_heavy(lambda: True, 5.0)  # its visitor is gone: no waiting
            waited["gone"] = time.monotonic() - start

    _in_thread(leaving).join(5)
    stop.set()
    assert waited["gone"] < 0.2


def test_waiting_moves_the_clock_deadline_and_not_the_cpu_one(lanes):
    release = _lane_held(lanes)
    seen = {}

    def queued():
        with lanes.script_run():
            budget = Budget(0.1)  # 0.1 s of CPU, 0.3 s on the clock
            _in_thread(lambda: (time.sleep(0.5), release.set()))
            seen["stop"] = budget()  # waits 0.5 s for the lane: more than the clock deadline, yet no stop
            seen["waited"] = budget.waited
            _spin(0.2)
            seen["after cpu"] = budget()

    _in_thread(queued).join(5)
    assert seen["stop"] is False and seen["waited"] >= 0.4
    assert seen["after cpu"] is True


def test_outside_a_registered_run_a_budget_never_waits(lanes):
    stop = _lane_held(lanes)
    budget = Budget(10.0)  # this test's thread: no script run
    start = time.monotonic()
    assert budget() is False and budget() is False
    stop.set()
    assert time.monotonic() - start < 0.1 and budget.waited == 0.0


def test_the_lane_is_released_when_the_run_ends_even_by_an_exception(lanes):
    def failing():
        with pytest.raises(RuntimeError), lanes.script_run():
            Budget(10.0)()
            raise RuntimeError("a rerun interrupts the script")

    _in_thread(failing).join(5)
    done = {}

    def next_run():
        with lanes.script_run():
            budget = Budget(10.0)
            budget()
            done["waited"] = budget.waited

    _in_thread(next_run).join(5)
    assert done["waited"] < 0.1


def test_app_registers_every_script_run(monkeypatch):
    from streamlit.testing.v1 import AppTest

    runs = []
    real = Lanes.script_run

    def recording(self):
        runs.append(threading.get_ident())
        return real(self)

    monkeypatch.setattr(Lanes, "script_run", recording)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    ok(at)
    assert len(runs) == 1 and runs[0] != threading.get_ident()  # the script's thread, not the test's


def test_a_run_that_stopped_asking_lets_the_next_heavy_run_take_the_lane(lanes):
    # its computation is over (it only draws figures now): after LEASE_SECONDS the lane is the next run's,
    # not held to the end of the first run (five browsers opening the Playground waited for each other)
    release = threading.Event()

    def drawing_figures():
        with lanes.script_run():
            Budget(10.0)()
            release.wait(10)

    _in_thread(drawing_figures)
    time.sleep(0.05)
    seen = {}

    def next_heavy():
        with lanes.script_run():
            budget = Budget(10.0)
            budget()
            seen["waited"] = budget.waited

    _in_thread(next_heavy).join(5)
    release.set()
    assert work.LEASE_SECONDS - 0.1 <= seen["waited"] < work.LEASE_SECONDS + 0.5
