"""The Landscape Lab within its budgets: defaults fit them, costly links get measured cuts with the Lab's own
advice (issue 17)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import gdviz
from gdviz import landscape
from tests.app.apptest import ok, open_page
from ui import limits
from ui.lab import basins, escape, fair, stability
from ui.work import AFFORDABLE_HINT, affordable_steps

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


def test_the_playground_keeps_its_hint_and_a_page_can_give_its_own():
    steps, notice = affordable_steps(500, 0.01, 1.0)
    assert steps == 100 and notice.endswith(AFFORDABLE_HINT) and "formula" in AFFORDABLE_HINT
    assert affordable_steps(500, 0.01, 1.0, hint="Fewer starts.")[1].endswith("100 steps are shown. Fewer starts.")
    assert affordable_steps(50, 0.01, 1.0, hint="Fewer starts.") == (50, None)


@pytest.mark.parametrize(
    "module, query",
    [
        (basins, {"view": "basins", "ba.n": "24", "ba.steps": "300"}),
        (stability, {"view": "stability", "st.n": "16", "st.steps": "300"}),
        (fair, {"view": "fair", "fc.n": "5", "fc.steps": "300"}),
    ],
)
def test_each_views_cost_notice_ends_with_its_own_hint(monkeypatch, module, query):
    monkeypatch.setattr(limits, "LAB_CPU_SECONDS", 1e-4)  # any cost is over it: the cut comes from the probe
    at = open_page("pages/landscape.py", query)
    ok(at)
    notices = [i.value.replace("\\", "") for i in at.info if "These runs cost" in i.value]
    assert len(notices) == 1 and notices[0].endswith(module.HINT) and "formula" not in notices[0], notices
    assert not any("Stopped after" in w.value for w in at.warning)


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_basins_probe_leaves_the_search_for_minima_out(monkeypatch):
    # the minima are searched once per surface (cached); inside the probe they made the default map's 16 steps
    # look six times as costly as they are, and its visitors got a cost notice for nothing
    searched = {}

    def slow_attractors(name):
        if name not in searched:
            _burn(1.0)
            searched[name] = landscape.attractors(gdviz.surface(name))
        return searched[name]

    monkeypatch.setattr(basins, "attractors_of", slow_attractors)
    basins.basins_step_seconds.clear()
    per_step = basins.basins_step_seconds("himmelblau", ("SGD", (("lr", 0.01),)), 16, 0.01)
    assert searched and per_step < 0.01  # with the search inside: at least 1 s / PROBE_STEPS = 0.0625 s


def _fake_probe():
    """step_seconds that runs the probe and says each step costs 1 s."""

    def step_seconds(run_steps, probe_steps):
        assert probe_steps == limits.PROBE_STEPS
        run_steps(probe_steps)
        return 1.0

    return step_seconds


@pytest.mark.parametrize(
    "surface_name, grid, probed", [("himmelblau", 200, 64), ("himmelblau", 50, 50), ("x2_1_sin", 200, 200)]
)
def test_a_large_basin_map_is_probed_on_a_coarser_grid_and_scaled_up(monkeypatch, surface_name, grid, probed):
    grids = []
    monkeypatch.setattr(basins, "_basins", lambda name, optimizer, g, steps, tol: grids.append(g))
    monkeypatch.setattr(basins, "step_seconds", _fake_probe())
    basins.basins_step_seconds.clear()
    per_step = basins.basins_step_seconds(surface_name, ("SGD", (("lr", 0.01),)), grid, 0.01)
    dim = gdviz.surface(surface_name).dim
    assert grids == [probed] and probed**dim <= max(limits.LAB_PROBE_RUNS, grid**dim)
    assert per_step == pytest.approx((grid / probed) ** dim)


@pytest.mark.parametrize("cells, rows", [(128, 32), (64, 64), (8, 8)])
def test_a_large_stability_map_is_probed_on_every_kth_row_and_scaled_up(monkeypatch, cells, rows):
    probed = []
    monkeypatch.setattr(stability, "_stability", lambda s, x0, o, x_axis, y_axis, steps: probed.append(y_axis))
    monkeypatch.setattr(stability, "step_seconds", _fake_probe())
    stability.stability_step_seconds.clear()
    ys = tuple(np.linspace(0.0, 0.99, cells).tolist())
    x_axis = ("lr", tuple(np.linspace(1e-3, 2.0, cells).tolist()))
    per_step = stability.stability_step_seconds("quadratic", None, ("SGD", (("lr", 0.1),)), x_axis, ("momentum", ys))
    (y_axis,) = probed
    assert y_axis[0] == "momentum" and len(y_axis[1]) == rows and y_axis[1][0] == ys[0]  # spread from the first row
    assert len(y_axis[1]) * cells <= max(limits.LAB_PROBE_RUNS, cells)
    assert per_step == pytest.approx(cells / rows)
