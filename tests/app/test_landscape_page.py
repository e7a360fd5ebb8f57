"""The Landscape Lab page in-process: every view runs, its URL state, hostile links, links to the Playground."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import ok, open_page, query_of
from ui import limits
from ui.lab import views
from ui.playground.scenario import from_query

PAGE = "pages/landscape.py"
CHARTS = {"stability": 1, "basins": 2, "escape": 4, "critical": 1, "eigen": 1, "fair": 3}


def _open(query: dict[str, str] | None = None) -> AppTest:
    return open_page(PAGE, query)


def _ok(at: AppTest) -> None:
    ok(at)
    assert not at.error, [e.value for e in at.error]


def _scenarios(at: AppTest) -> list:
    out = []
    for button in at.get("link_button"):
        url = urlsplit(button.proto.url)
        # the Playground is the app's root: "/playground" answers "Page not found", also under a base path
        assert urljoin("http://host/base/landscape", button.proto.url).startswith("http://host/base/?")
        scenario, notices = from_query(dict(parse_qsl(url.query)))
        assert notices == [], notices
        out.append(scenario)
    return out


@pytest.mark.parametrize("view", tuple(views.VIEWS))
def test_every_view_runs_and_links_to_the_playground(view):
    at = _open({"view": view})
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.title[0].value == "Landscape Lab"
    assert len(at.get("plotly_chart")) == CHARTS[view]
    assert _scenarios(at), "each view offers a way into the Playground"
    assert query_of(at) == ({} if view == "stability" else {"view": view})


def test_stability_link_is_the_best_cell_and_the_map_matches_the_bound():
    at = _open({"st.n": "24"})
    _ok(at)
    (scenario,) = _scenarios(at)
    hyper = dict(scenario.optimizers[0].hyper)
    assert scenario.surface == "quadratic" and scenario.start == (-5.0, -2.0) and scenario.steps == 300
    # the best cell of GD with momentum on x1² + 2x2² lies inside the stable region lr < (1 + μ)/2
    assert 0 < hyper["lr"] < (1 + hyper["momentum"]) / 2
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace.get("name") for trace in spec["data"]]
    assert {"final loss", "diverged", "cells", "analytic bound", "selected"} <= set(names)
    assert any("analytic bound" in c.value for c in at.caption)


def test_url_parameters_set_each_view():
    query = {"view": "basins", "ba.s": "six_hump_camel", "ba.o1": "Adam", "ba.o1.lr": "0.05", "ba.n": "20"}
    at = _open(query)
    _ok(at)
    assert not at.warning
    assert at.selectbox(key="lab_ba_s").value == "six_hump_camel"
    assert at.selectbox(key="lab_ba_o1").value == "Adam"
    assert at.slider(key="lab_ba_n").value == 20
    assert query_of(at) == query
    a, _ = _scenarios(at)[0].optimizers
    assert a.name == "Adam" and dict(a.hyper)["lr"] == 0.05


def test_bad_url_values_get_notices_and_safe_values():
    query = {
        "view": "nowhere",
        "st.n": "9999",
        "st.steps": "1e9",
        "st.o": "NoSuchOptimizer",
        "st.o.momentum": "7",
        "st.x0": "nan,1",
        "fc.o": "SGD,Nope,Adam",
        "junk": "<script>",
    }
    at = _open(query)
    assert not at.exception
    text = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in at.warning))  # notices are escaped Markdown
    assert "Unknown view 'nowhere'; using stability" in text
    assert f"clamped to {limits.MAX_MAP_GRID}" in text
    assert f"clamped to {limits.MAX_LAB_STEPS}" in text
    assert "Unknown optimizer 'NoSuchOptimizer'" in text
    assert "momentum=7 is out of range; clamped to 0.99" in text
    assert "Start point 'nan,1' is not valid" in text
    assert "Optimizers: unknown 'Nope' ignored" in text
    assert "'junk'" in text
    # 128² runs × 2000 steps is over the work budget: the steps are cut, and the page says so
    assert any("more work than the server allows" in i.value for i in at.info)
    assert query_of(at)["st.n"] == str(limits.MAX_MAP_GRID)
    assert "junk" not in query_of(at) and "view" not in query_of(at)


def test_an_axis_the_optimizer_lacks_falls_back_to_one_it_has():
    at = _open({"st.o": "Adam", "st.o.lr": "0.1", "st.ay": "momentum", "st.n": "8", "st.steps": "50"})
    _ok(at)
    assert at.selectbox(key="lab_st_ay").value in ("betas[0]", "betas[1]", "eps", "weight_decay")
    assert at.selectbox(key="lab_st_ax").value == "lr"
    assert len(at.get("plotly_chart")) == 1


def test_changing_views_keeps_every_setting_and_the_link_follows():
    at = _open({"view": "basins", "ba.n": "16", "ba.steps": "100"})
    _ok(at)
    at.radio(key="lab_view").set_value("critical").run()
    _ok(at)
    assert query_of(at) == {"view": "critical", "ba.n": "16", "ba.steps": "100"}
    at.selectbox(key="lab_cp_s").set_value("six_hump_camel").run()
    _ok(at)
    kinds = at.dataframe[0].value["kind"].value_counts().to_dict()
    assert kinds == {"minimum": 6, "saddle": 7, "maximum": 2}
    at.radio(key="lab_view").set_value("basins").run()
    _ok(at)
    assert at.slider(key="lab_ba_n").value == 16
    assert query_of(at) == {"view": "basins", "ba.n": "16", "ba.steps": "100", "cp.s": "six_hump_camel"}


def test_fair_comparison_reports_every_optimizer_on_the_same_grid():
    at = _open({"view": "fair", "fc.s": "quadratic", "fc.o": "SGD,Adam", "fc.n": "13", "fc.steps": "200"})
    _ok(at)
    rows = at.dataframe[0].value
    assert list(rows["optimizer"]) == ["SGD", "Adam"]
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    grids = [trace["x"] for trace in spec["data"] if trace.get("name") in ("SGD", "Adam")]
    assert len(grids) == 2 and grids[0] == grids[1] and len(grids[0]) == 13
    (scenario,) = _scenarios(at)
    assert [o.name for o in scenario.optimizers] == ["SGD", "Adam"]
    linked = [dict(o.hyper)["lr"] for o in scenario.optimizers]
    assert [f"{lr:.4g}" for lr in linked] == list(rows["best lr"])
    assert all(lr in grids[0] or float(f"{lr:.6g}") in grids[0] for lr in linked)


def test_escape_view_shows_annealing_beating_plain_gd_on_the_trap():
    at = _open({"view": "escape", "es.runs": "8", "es.n": "10"})
    _ok(at)
    rows = {row["noise"]: row for row in at.dataframe[0].value.to_dict("records")}
    plain = rows["no noise"]["runs within 1e-2 of f*"]
    annealed = next(row for label, row in rows.items() if label.startswith("annealed"))["runs within 1e-2 of f*"]
    assert plain == "0/8" and int(annealed.split("/")[0]) >= 2
