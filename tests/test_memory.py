"""The server's memory is bounded by bytes: past MEMORY_LIMIT_BYTES resident, the shared caches go (issue 17)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.apptest import ok
from ui import limits, memory


def test_resident_bytes_is_this_process_size():
    size = memory.resident_bytes()
    assert size is not None and 20 * 2**20 < size < 64 * 2**30
    ballast = bytearray(64 * 2**20)  # touched pages: resident
    ballast[::4096] = b"x" * len(ballast[::4096])
    assert memory.resident_bytes() - size > 48 * 2**20
    del ballast


def _counting_cache():
    calls = []

    @st.cache_data(show_spinner=False)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @st.cache_resource(show_spinner=False)
    def built(x: int) -> list:
        calls.append(-x)
        return [x]

    return calls, square, built


def test_under_the_limit_the_caches_stay_over_it_they_go(monkeypatch):
    monkeypatch.setattr(memory, "_after_last_clear", 0)
    calls, square, built = _counting_cache()
    square(3), built(3)
    assert memory.relieve(limit=64 * 2**30) is False
    square(3), built(3)
    assert calls == [3, -3]  # both answered from their caches
    assert memory.relieve(limit=1) is True
    square(3), built(3)
    assert calls == [3, -3, 3, -3]  # computed again: both caches were dropped


def test_after_a_clear_the_next_waits_until_the_process_has_grown_again(monkeypatch):
    # what stays resident after a clear (work in progress) must not make every run drop the caches
    sizes = iter([900, 600, 700, 900, 650])
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(sizes))
    monkeypatch.setattr(memory, "_after_last_clear", 0)
    assert memory.relieve(limit=500) is True  # 900 > 500: cleared, 600 left resident
    assert memory.relieve(limit=500) is False  # 700: over the limit, but not 600 + 25 % of 500 = 725
    assert memory.relieve(limit=500) is True  # 900: grown again


def test_every_script_run_ends_with_the_memory_check(monkeypatch):
    checked = []
    monkeypatch.setattr(memory, "relieve", lambda limit=None: checked.append(limit) or False)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    ok(at)
    assert checked == [None]
    with pytest.raises(RuntimeError), memory.bounded_memory():
        raise RuntimeError("a run interrupted by a rerun")
    assert checked == [None, None]


def test_a_server_over_its_limit_drops_what_it_cached(monkeypatch):
    from ui.playground import simulate as simulate_module
    from ui.playground.scenario import Scenario

    monkeypatch.setattr(limits, "MEMORY_LIMIT_BYTES", 1)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    ok(at)
    calls = []
    race = simulate_module.gdviz.race
    monkeypatch.setattr(simulate_module.gdviz, "race", lambda *a, **k: calls.append(1) or race(*a, **k))
    simulate_module.simulate(Scenario())  # the page's default race: gone from the cache after the run
    assert calls


def test_once_modules_were_imported_the_objects_alive_are_frozen_out_of_the_collectors_sweeps(monkeypatch):
    """What a page's first visit imports (a third of a million objects with torch) is frozen after one full
    collection, so that the collector's sweeps of its oldest generation (which hold the interpreter) skip it."""
    import gc
    import sys
    import weakref

    monkeypatch.setattr(memory, "_modules_when_frozen", 0)
    try:

        class Node:
            pass

        garbage = Node()
        garbage.itself = garbage  # a cycle nobody refers to: collected first, not frozen
        gone = weakref.ref(garbage)
        del garbage
        assert memory.freeze_the_modules()
        assert gc.get_freeze_count() > 10_000 and gone() is None
        assert not memory.freeze_the_modules()  # no module imported since: nothing to do
        monkeypatch.setitem(sys.modules, "gdviz_test_module", type(sys)("gdviz_test_module"))
        assert memory.freeze_the_modules()
    finally:
        gc.unfreeze()
