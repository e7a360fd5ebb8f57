"""The Landscape Lab within its budgets: defaults fit them, costly links get measured cuts with the Lab's own
advice (issue 17)."""

from __future__ import annotations

import pytest

from tests.app.apptest import ok, open_page
from ui import limits
from ui.lab import basins, escape, fair, stability
from ui.work import AFFORDABLE_HINT

VIEWS = ("basins", "stability", "escape", "fair", "critical")


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_at_its_defaults_shows_no_cost_notice(view):
    at = open_page("pages/landscape.py", {"view": view})
    ok(at)
    texts = " ".join(x.value for x in [*at.info, *at.warning])
    assert "These runs cost" not in texts and "Stopped after" not in texts, texts


@pytest.mark.parametrize("module", [basins, stability, escape, fair])
def test_the_lab_hints_say_what_its_visitor_can_change(module):
    assert module.HINT != AFFORDABLE_HINT and "formula" not in module.HINT


def test_a_costly_escape_link_gets_the_steps_its_measured_cost_affords(monkeypatch):
    monkeypatch.setattr(limits, "LAB_CPU_SECONDS", 1e-4)  # any cost is over it: the cut must come from the probe
    query = {"view": "escape", "es.s": "goldstein_price", "es.steps": "2000", "es.n": "60", "es.seed": "41"}
    at = open_page("pages/landscape.py", query)
    ok(at)
    notices = [i.value for i in at.info if "These runs cost" in i.value]
    assert len(notices) == 1 and escape.HINT.split(",")[0] in notices[0].replace("\\", ""), notices
    assert "formula" not in notices[0]
