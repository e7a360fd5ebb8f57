"""What a Landscape Lab visitor sees while a view computes (issue 13): a spinner once the computation has taken
SPINNER_AFTER_SECONDS, none for a result that comes from the cache, and NumPy's BLAS on one thread meanwhile."""

from __future__ import annotations

import time

import pytest
import streamlit.elements.spinner as streamlit_spinner

from gdviz import landscape
from tests.app.apptest import ok, open_page
from ui.lab import page
from ui.regression.budget import blas_threads

PAGE = "pages/landscape.py"
# links no other test opens, so that their first run computes (the Lab's caches live as long as the process)
SLOW_VIEWS = [
    ("basins", {"view": "basins", "ba.n": "9", "ba.steps": "23"}, "basins", "Computing basins: "),
    ("escape", {"view": "escape", "es.n": "3", "es.steps": "29", "es.runs": "2"}, "random_restarts", "Computing 3"),
]


@pytest.fixture
def spinners(monkeypatch) -> list[str]:
    """The texts of the spinners the page puts on screen (a spinner is a transient element its timer sends)."""
    shown: list[str] = []
    send = streamlit_spinner.enqueue_message

    def record(message) -> None:
        for element in message.delta.new_transient.elements:
            if element.WhichOneof("type") == "spinner":
                shown.append(element.spinner.text)
        send(message)

    monkeypatch.setattr(streamlit_spinner, "enqueue_message", record)
    return shown


def test_the_spinner_shows_from_half_a_second_on():
    assert streamlit_spinner.DELAY_SECS == page.SPINNER_AFTER_SECONDS == 0.5


@pytest.mark.parametrize(("view", "query", "engine", "text"), SLOW_VIEWS, ids=[v[0] for v in SLOW_VIEWS])
def test_a_slow_view_shows_a_spinner_and_its_cached_result_none(monkeypatch, spinners, view, query, engine, text):
    real = getattr(landscape, engine)
    threads = []

    def slow(*args, **kwargs):
        threads.append(blas_threads())
        time.sleep(2 * page.SPINNER_AFTER_SECONDS)
        return real(*args, **kwargs)

    monkeypatch.setattr(landscape, engine, slow)
    at = open_page(PAGE, query)
    ok(at)
    assert not at.error, [e.value for e in at.error]
    assert threads and all(n in (None, 1) for n in threads), threads
    assert len(spinners) == 1 and spinners[0].startswith(text), spinners
    assert len(at.get("plotly_chart")) >= 2

    spinners.clear()
    threads.clear()
    at.run()  # the same link again: every result comes from the cache, in well under half a second
    ok(at)
    assert threads == [] and spinners == []
