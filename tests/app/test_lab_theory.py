"""Goh's closed forms in the Landscape Lab (issue 14), in-process: the stability map's overlay and its absence,
and the view of the error along the eigenvectors with its link."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

import gdviz
from gdviz import landscape as L
from tests.app.apptest import ok, open_page, query_of
from ui.playground.scenario import from_query

PAGE = "pages/landscape.py"


def _open(query: dict[str, str]) -> AppTest:
    at = open_page(PAGE, query)
    ok(at)
    assert not at.error, [e.value for e in at.error]
    return at


def _traces(at: AppTest, index: int = 0) -> list[str]:
    return [trace.get("name") for trace in json.loads(at.get("plotly_chart")[index].proto.spec)["data"]]


def _captions(at: AppTest) -> str:
    return re.sub(r"\\(.)", r"\1", " ".join(c.value for c in at.caption))  # captions are escaped Markdown


def test_the_quadratic_default_map_draws_the_theory_and_compares_rates():
    at = _open({"st.n": "24"})
    assert {"analytic bound", "GD optimum", "momentum optimum"} <= set(_traces(at))
    theory = L.quadratic_theory(gdviz.surface("quadratic"))
    rows = {row["setting"]: row for row in at.dataframe[0].value.to_dict("records")}
    assert set(rows) == {"GD optimum", "momentum optimum", "best cell"}
    gd, momentum = rows["GD optimum"], rows["momentum optimum"]
    assert gd["predicted rate"] == gd["measured rate"] == f"{theory.gd_optimal_rate:.4f}"
    assert momentum["predicted rate"] == f"{theory.momentum_optimal_rate:.4f}"
    assert float(momentum["lr η"]) == float(f"{theory.momentum_optimal_lr:.4g}")
    assert float(momentum["momentum μ"]) == float(f"{theory.momentum_optimal_beta:.4g}")
    assert "No analytic overlay" not in _captions(at)
    assert any("Why Momentum Really Works" in m.value for m in at.markdown)


def test_no_overlay_where_the_theory_does_not_hold_and_the_page_says_why():
    for query, says in [
        ({"st.s": "rosenbrock"}, "Rosenbrock is not a quadratic"),
        ({"st.o": "Adam", "st.ay": "betas[0]"}, "not Adam"),
        ({"st.o.weight_decay": "0.01"}, "weight decay"),
    ]:
        at = _open({"st.n": "12", "st.steps": "100", **query})
        names = _traces(at)
        assert "analytic bound" not in names and "momentum optimum" not in names, query
        assert "No analytic overlay: " in _captions(at) and says in _captions(at), (query, _captions(at))
        assert not at.dataframe, query  # no table of rates without a theory


def _racers(at: AppTest) -> list:
    (button,) = at.get("link_button")
    scenario, notices = from_query(dict(parse_qsl(urlsplit(button.proto.url).query)))
    assert notices == []
    return [(o.name, dict(o.hyper)) for o in scenario.optimizers]


def test_the_eigen_view_shows_gd_and_momentum_at_their_optima():
    at = _open({"view": "eigen"})
    assert not at.warning
    assert query_of(at) == {"view": "eigen"}
    names = _traces(at)
    assert names.count("λ = 0.2") == names.count("λ = 4") == 2  # a line per eigen-direction in each panel
    theory = L.quadratic_theory(gdviz.surface("ill_conditioned"))
    rows = at.dataframe[0].value.to_dict("records")
    assert [r["method"] for r in rows] == ["GD", "heavy ball"]
    assert rows[0]["predicted rate"] == rows[0]["measured rate"] == f"{theory.gd_optimal_rate:.4f}"
    assert rows[1]["predicted rate"] == f"{theory.momentum_optimal_rate:.4f}"
    (gd_name, gd), (hb_name, hb) = _racers(at)
    assert gd_name == hb_name == "SGD" and gd["lr"] == theory.gd_optimal_lr and gd["momentum"] == 0
    assert hb["lr"] == theory.momentum_optimal_lr and hb["momentum"] == theory.momentum_optimal_beta


def test_the_eigen_view_link_round_trips():
    query = {"view": "eigen", "eg.s": "ravine", "eg.at": "chosen", "eg.lr": "0.05", "eg.mu": "0.9", "eg.steps": "300"}
    at = _open(query)
    assert not at.warning, [w.value for w in at.warning]
    assert query_of(at) == query
    assert at.selectbox(key="lab_eg_s").value == "ravine" and at.slider(key="lab_eg_mu").value == 0.9
    rows = at.dataframe[0].value.to_dict("records")
    assert [(r["lr η"], r["momentum μ"]) for r in rows] == [("0.05", "0"), ("0.05", "0.9")]
    theory = L.quadratic_theory(gdviz.surface("ravine"))
    assert rows[1]["predicted rate"] == f"{float(theory.predicted_rate(0.05, 0.9)):.4f}"
    (gd_name, gd), (hb_name, hb) = _racers(at)
    assert gd_name == hb_name == "SGD" and gd["lr"] == hb["lr"] == 0.05 and hb["momentum"] == 0.9
    # another view and back: the settings stay, and so does the link
    at.radio(key="lab_view").set_value("critical").run()
    at.radio(key="lab_view").set_value("eigen").run()
    ok(at)
    assert query_of(at) == query


def test_choosing_the_settings_starts_from_the_optimum_and_a_bad_surface_falls_back():
    at = _open({"view": "eigen", "eg.s": "booth"})
    at.radio(key="lab_eg_at").set_value("chosen").run()
    ok(at)
    theory = L.quadratic_theory(gdviz.surface("booth"))
    assert at.number_input(key="lab_eg_lr").value == float(f"{theory.momentum_optimal_lr:.4g}")
    assert query_of(at)["eg.at"] == "chosen" and float(query_of(at)["eg.mu"]) == float(
        f"{theory.momentum_optimal_beta:.4g}"
    )
    at = open_page(PAGE, {"view": "eigen", "eg.s": "rosenbrock"})
    ok(at)
    text = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in at.warning))
    assert "Unknown surface 'rosenbrock'; using ill_conditioned" in text
