"""The Lab's, Schedules' and Linear Regression's charts on a phone (ui/screen.py: show_chart): no mode bar, a
finger scrolls the page, a map's colour bar across its bottom; on a laptop, as they were."""

from __future__ import annotations

import json

import pytest

import ui.screen
from tests.app.apptest import ok, open_page

PAGES = [
    ("pages/schedules.py", {}),
    ("pages/landscape.py", {}),
    ("pages/landscape.py", {"view": "basins"}),
    ("pages/regression.py", {}),
]


def charts(at) -> list[tuple[dict, dict]]:
    return [(json.loads(c.proto.spec), json.loads(c.proto.config or "{}")) for c in at.get("plotly_chart")]


@pytest.mark.parametrize(("page", "query"), PAGES)
def test_on_a_phone_every_chart_lets_a_finger_scroll_and_has_no_mode_bar(monkeypatch, page, query):
    if page == "pages/regression.py":
        pytest.importorskip("torch")
    monkeypatch.setattr(ui.screen, "on_phone", lambda: True)
    at = open_page(page, query)
    ok(at)
    shown = charts(at)
    assert shown
    for spec, config in shown:
        assert spec["layout"]["dragmode"] is False and config["displayModeBar"] is False, spec["layout"].get("title")
        assert config["doubleClick"] is False  # a tap must not reset the axes (tests/browser/test_network_browser.py)
        for trace in spec["data"]:
            bar = trace.get("colorbar")
            if trace["type"] == "heatmap" and trace.get("showscale") is not False:
                assert bar["orientation"] == "h" and bar["yref"] == "container", trace.get("name")


@pytest.mark.parametrize(("page", "query"), PAGES[:2])
def test_on_a_laptop_the_charts_keep_their_mode_bar_and_drag_zoom(page, query):
    at = open_page(page, query)
    ok(at)
    for spec, config in charts(at):
        assert "dragmode" not in spec["layout"] and "displayModeBar" not in config and "doubleClick" not in config
        assert all(trace.get("colorbar", {}).get("orientation") is None for trace in spec["data"])
