"""A run that changes nothing sends no widget a value.

Streamlit sends a widget's value to the browser as a new one (``set_value``) whenever the run wrote its key in
session state, even with the value it already held. The browser then puts the widget back to that value. A run
still going when the visitor moved a slider (every run on a busy server) thus undid the move, and the next run
read the old value: the change was lost, and a shared link disagreed with the page it came from. Every page and
view is opened, run once more with nothing changed, and no editable widget may be sent a value.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import ok, open_app, open_page
from ui.lab.views import VIEWS
from ui.playground.scenario import Scenario, to_query
from ui.state.entries import entry, schedule_params


def widgets_sent_a_value(at: AppTest) -> list[str]:
    """The editable widgets of the last run whose value the run sent to the browser as a new one."""
    sent = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if getattr(proto, "set_value", False) and not getattr(proto, "disabled", False):
            sent.append(f"{node.type} {getattr(node, 'key', None) or proto.id}")
    return sent


# off-grid values (lr 0.095 is inserted into the slider's 1-2-…-9 grid), a schedule, an own schedule, noise, restarts
BUSY_SCENARIO = Scenario(
    surface="himmelblau",
    start=(1.5, -0.5),
    more_starts=((-1.0, 2.0),),
    steps=70,
    noise=0.37,
    batch_size=4,
    schedule="StepLR",
    schedule_params=schedule_params("StepLR", step_size=9, gamma=0.55),
    optimizers=(
        entry("SGD", lr=0.095, momentum=0.7),
        entry("Adam", lr=0.013, betas=(0.83, 0.991), schedule=("ExponentialLR", {"gamma": 0.97})),
    ),
)


@pytest.mark.parametrize(
    "query",
    [None, {"preset": "ravine"}, "busy"],
    ids=["default", "story-link", "busy-link"],
)
def test_the_playground_sends_no_widget_a_value_on_a_run_without_a_change(query):
    at = open_app(to_query(BUSY_SCENARIO) if query == "busy" else query)
    ok(at)
    at.run()
    ok(at)
    assert widgets_sent_a_value(at) == []


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("pages/schedules.py", None),
        ("pages/regression.py", None),
        ("pages/network.py", None),
        *(("pages/landscape.py", {"view": view}) for view in VIEWS),
    ],
)
def test_every_page_sends_no_widget_a_value_on_a_run_without_a_change(page, query):
    at = open_page(page, query)
    ok(at)
    at.run()
    ok(at)
    assert widgets_sent_a_value(at) == []


def test_the_check_sees_a_value_a_run_writes():
    """The check above can fail: a run after a link sends its widgets the link's values."""
    at = open_app({"steps": "70"})
    assert "select_slider pg_steps" in widgets_sent_a_value(at)
