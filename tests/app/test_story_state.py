"""The story state in the Playground: the picker shows the loaded story; after a tweak the story stays, marked
modified, with a way back to it (and one to leave it); a link names its story."""

from __future__ import annotations

from tests.app.apptest import ok, open_app, query_of
from ui.playground.presets import PRESETS
from ui.playground.scenario import to_query
from ui.state.text import escape_markdown


def _infos(at) -> str:
    return " ".join(info.value for info in at.info)


def test_a_tweaked_story_stays_marked_modified_and_goes_back_to_the_story():
    preset = PRESETS["d2l-schedules"]
    at = open_app()
    at.selectbox(key="pg_preset").set_value("d2l-schedules").run()
    ok(at)
    assert at.selectbox(key="pg_preset").value == "d2l-schedules"  # the picker shows the loaded story
    assert "modified" not in _infos(at) and escape_markdown(preset.title) in _infos(at)
    at.select_slider(key="pg_steps").set_value(50).run()
    ok(at)
    assert query_of(at)["story"] == "d2l-schedules" and query_of(at)["steps"] == "50"
    assert "modified" in _infos(at) and escape_markdown(preset.title) in _infos(at)
    assert at.selectbox(key="pg_preset").value == "d2l-schedules"
    at.button(key="pg_story_back").click().run()
    ok(at)
    assert query_of(at) == to_query(preset.scenario)
    assert "modified" not in _infos(at) and not [b for b in at.button if b.key == "pg_story_back"]


def test_leaving_a_tweaked_story_drops_it_from_the_link():
    at = open_app()
    at.selectbox(key="pg_preset").set_value("ravine").run()
    at.select_slider(key="pg_steps").set_value(50).run()
    at.button(key="pg_story_leave").click().run()
    ok(at)
    assert "story" not in query_of(at) and query_of(at)["steps"] == "50"
    assert at.selectbox(key="pg_preset").value is None
    assert escape_markdown(PRESETS["ravine"].title) not in _infos(at)  # no story box (the inspector's hint stays)


def test_a_story_link_opens_the_story_and_old_or_unknown_keys_are_handled():
    at = open_app(to_query(PRESETS["fixed-lr"].scenario))
    ok(at)
    assert at.selectbox(key="pg_preset").value == "fixed-lr" and "modified" not in _infos(at)
    at = open_app({**to_query(PRESETS["d2l-schedules"].scenario), "story": "d2l-exponential"})
    ok(at)
    assert at.selectbox(key="pg_preset").value == "d2l-schedules"
    at = open_app({"s": "ravine", "story": "no-such-story"})
    ok(at)
    assert at.selectbox(key="pg_preset").value is None
    assert any("There is no story" in w.value for w in at.warning)
