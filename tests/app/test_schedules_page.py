"""The Schedules page in-process: d2l's experiment by default, its URL state, hostile links, links out."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import numpy as np
from streamlit.testing.v1 import AppTest

import gdviz
from gdviz.schedules.cyclic import momentums
from tests.app.apptest import ok, open_page, plotly_array, query_of
from ui import limits
from ui.playground.scenario import from_query

PAGE = "pages/schedules.py"


def _open(query: dict[str, str] | None = None) -> AppTest:
    return open_page(PAGE, query)


def _links(at: AppTest) -> list[dict[str, str]]:
    out = []
    for button in at.get("link_button"):
        url = urlsplit(button.proto.url)
        # the Playground is the app's root: "/playground" answers "Page not found", also under a base path
        assert urljoin("http://host/base/schedules", button.proto.url).startswith("http://host/base/?")
        out.append(dict(parse_qsl(url.query)))
    return out


def _table(at: AppTest) -> dict[str, dict]:
    frame = at.dataframe[0].value
    return {row["schedule"]: row for row in frame.to_dict("records")}


def test_default_is_d2ls_experiment_and_tells_its_story():
    at = _open()
    ok(at)
    assert at.title[0].value == "Learning-rate schedules"
    assert not at.warning and not at.error
    assert len(at.get("plotly_chart")) == 3  # lr(t), the distance band, one path each
    assert len(at.latex) == 3
    assert query_of(at) == {}  # every value is a default: the link is the bare page
    rows = _table(at)
    distance = {name: float(row["mean final ‖x − x*‖"]) for name, row in rows.items()}
    constant, exponential, polynomial = (
        distance["constant η"],
        distance["ExponentialDecay(lam=0.1)"],
        distance["PolynomialDecay(alpha=0.5, beta=0.1)"],
    )
    # polynomial decay converges; the constant rate stays in its noise ball; exponential decay stopped early
    assert polynomial < constant < exponential
    assert exponential > 0.4 and polynomial < 0.12


def test_links_open_each_schedule_in_the_playground():
    at = _open()
    links = _links(at)
    assert len(links) == 3
    scenarios = []
    for query in links:
        scenario, notices = from_query(query)
        assert notices == []
        scenarios.append(scenario)
    assert [s.schedule for s in scenarios] == ["constant", "ExponentialDecay", "PolynomialDecay"]
    for s in scenarios:
        assert s.surface == "quadratic" and s.noise == 1.0 and s.optimizers[0].name == "SGD"
        assert dict(s.optimizers[0].hyper)["lr"] == 0.1


def test_url_parameters_set_the_page():
    query = {"n": "2", "sc1": "CosineAnnealingLR", "sc1.T_max": "50", "s": "himmelblau", "lr": "0.05", "seeds": "4"}
    at = _open(query)
    ok(at)
    assert not at.warning
    assert at.selectbox(key="sc_sc1").value == "CosineAnnealingLR"
    assert at.number_input(key="sc_sc1_CosineAnnealingLR_T_max").value == 50
    assert at.selectbox(key="sc_s").value == "himmelblau"
    assert at.slider(key="sc_seeds").value == 4
    assert len(at.latex) == 2
    assert query_of(at) == query
    assert "CosineAnnealingLR(T_max=50" in at.dataframe[0].value["schedule"][0]


def test_bad_url_values_are_clamped_or_replaced_with_a_notice():
    query = {
        "n": "99",
        "sc2.lam": "9",
        "sc3": "NoSuchSchedule",
        "steps": "abc",
        "noise": "-3",
        "x0": "1,2,3",
        "bogus": "1",
    }
    at = _open(query)
    ok(at)
    text = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in at.warning))  # notices are escaped Markdown
    assert f"clamped to {limits.MAX_SCHEDULES_COMPARED}" in text
    assert "lam=9 is out of range; clamped to 0.2" in text
    assert "Unknown schedule 3 'NoSuchSchedule'" in text
    assert "Steps 'abc' is not a valid number" in text
    assert "Gradient noise σ -3 is out of range" in text
    assert "Start point '1,2,3' is not valid" in text
    assert "'bogus'" in text
    assert at.slider(key="sc_ExponentialDecay_lam".replace("sc_", "sc_sc2_")).value == 0.2
    assert query_of(at)["n"] == str(limits.MAX_SCHEDULES_COMPARED)
    assert "bogus" not in query_of(at)


def test_widgets_update_the_link_and_the_notices_go_once_settled():
    at = _open({"steps": "abc"})
    assert at.warning
    at.select_slider(key="sc_lr").set_value(0.05).run()
    ok(at)
    assert query_of(at) == {"lr": "0.05"}
    assert not at.warning
    at.selectbox(key="sc_sc1").set_value("StepLR").run()
    ok(at)
    assert at.number_input(key="sc_sc1_StepLR_step_size").value == 30  # torch's default
    assert query_of(at)["sc1"] == "StepLR"


def test_settings_survive_a_visit_to_another_page():
    at = _open({"lr": "0.2", "n": "2"})
    at.switch_page("pages/about.py").run()
    ok(at)
    at.switch_page(PAGE).run()
    ok(at)
    assert at.select_slider(key="sc_lr").value == 0.2
    assert at.number_input(key="sc_n").value == 2


def test_a_momentum_cycling_schedule_draws_its_momentum():
    """OneCycleLR cycles SGD's momentum by default (torch's cycle_momentum=True): the page draws μ(t)
    as the engine computes it, and without cycle_momentum draws no μ(t)."""
    query = {"n": "2", "sc1": "OneCycleLR", "sc2": "CyclicLR", "sc2.step_size_up": "20", "sc2.cycle_momentum": "false"}
    at = _open(query)
    ok(at)
    assert not at.error
    assert at.checkbox(key="sc_sc2_CyclicLR_cycle_momentum").value is False
    charts = {chart.proto.id: chart for chart in at.get("plotly_chart")}
    assert len(charts) == 4  # lr(t), μ(t), the distance band, one path each
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    momentum = next(f for f in figures if "momentum" in json.dumps(f["layout"].get("yaxis", {})))
    (trace,) = momentum["data"]  # CyclicLR's cycle is off: only OneCycleLR's μ
    expected = momentums(gdviz.schedule("OneCycleLR", total_steps=200), 0.1, 200)
    np.testing.assert_allclose(plotly_array(trace["y"]), expected, rtol=1e-12)
    assert at.caption and any("cycle_momentum" in c.value for c in at.caption)

    at = _open({"sc1": "OneCycleLR", "sc1.cycle_momentum": "false", "n": "1"})
    ok(at)
    assert len(at.get("plotly_chart")) == 3


def test_a_formula_of_several_lines_is_shown_as_several_lines():
    """KaTeX's display mode ignores a top-level line break: a formula written in lines (short enough for a
    projector's column) is wrapped so that they break, as on the About page and in the Playground."""
    at = _open({"n": "2", "sc1": "CosineAnnealingWarmRestarts", "sc2": "ReduceLROnPlateau"})
    ok(at)
    shown = [element.value.strip("$\n") for element in at.latex]
    assert shown[0].startswith(r"\begin{gathered}") and r"T_{i+1}" in shown[0]
    assert r"\begin{cases}" in shown[1] and not shown[1].startswith(r"\begin{gathered}")  # its lines are the cases'
