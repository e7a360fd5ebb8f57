"""The Playground's first paint: when a run stops after the race chart (ui/playground/first_paint.py)."""

from __future__ import annotations

from ui.playground.first_paint import GIVE_UP_MS, K_SHOWN, RACE_SVG, WATCH_JS, waits_for_chart
from ui.state.fields import RECONNECT_IDS

BROWSER = {"User-Agent": "Mozilla/5.0", "Host": "127.0.0.1"}


def test_a_new_browser_session_waits_for_the_chart_once():
    assert waits_for_chart({}, BROWSER, has_chart=True)
    assert not waits_for_chart({K_SHOWN: True}, BROWSER, has_chart=True)  # the browser said it is shown


def test_sessions_that_draw_everything_at_once():
    assert not waits_for_chart({}, {}, has_chart=True)  # no browser (the in-process tests): nobody would report
    assert not waits_for_chart({}, {"User-Agent": "Python/3.11 websockets/15.0"}, has_chart=True)  # a script
    assert not waits_for_chart({}, BROWSER, has_chart=False)  # no chart: the error and the sidebar at once
    assert not waits_for_chart({RECONNECT_IDS: ["id"]}, BROWSER, has_chart=True)  # a reconnect shows it already


def test_the_watcher_looks_for_the_race_chart_and_gives_up_in_time():
    assert repr(RACE_SVG) in WATCH_JS and str(GIVE_UP_MS) in WATCH_JS
    assert "setStateValue('shown', true)" in WATCH_JS
