"""The app in-process (streamlit.testing AppTest): pages run, widgets by key, presets, links, hostile input."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import gdviz
from tests.app.apptest import chart_specs, ok, open_app, query_of
from ui.playground.presets import PRESETS
from ui.playground.scenario import Scenario, from_query, to_query
from ui.state.entries import entry
from ui.state.text import escape_markdown


def _plotly_specs(at: AppTest) -> list[str]:
    return chart_specs(at)


def test_playground_runs_and_the_url_holds_the_default_scenario():
    at = open_app()
    ok(at)
    assert at.title[0].value == "Optimizer playground"
    assert len(_plotly_specs(at)) == 2  # the race and the linked panels
    scenario, notices = from_query(query_of(at))
    assert notices == []
    assert scenario.optimizers == Scenario().optimizers and scenario.surface == Scenario().surface
    assert not at.error and not at.warning
    assert any("Step inspector" in h.value for h in at.subheader)


def test_about_page_lists_every_rule():
    at = open_app()
    at.switch_page("pages/about.py").run()
    ok(at)
    assert len(at.latex) >= len(gdviz.OPTIMIZERS) + len(gdviz.SCHEDULES)
    at.switch_page("pages/playground.py").run()
    ok(at)


def test_widgets_by_key_change_the_scenario_and_the_link():
    at = open_app()
    at.select_slider(key="pg_steps").set_value(200).run()
    at.select_slider(key="pg_o0_SGD_lr").set_value(0.05).run()
    at.selectbox(key="pg_surface").set_value("rosenbrock").run()
    ok(at)
    query = query_of(at)
    assert query["steps"] == "200" and query["o1.lr"] == "0.05" and query["s"] == "rosenbrock"
    assert query["x0"] == ",".join(f"{v:g}" for v in gdviz.surface("rosenbrock").default_start)


def test_add_remove_and_switch_optimizers():
    at = open_app()
    count = len(Scenario().optimizers)
    at.button(key="pg_add").click().run()
    assert f"o{count + 1}" in query_of(at)
    at.button(key="pg_o0_remove").click().run()
    query = query_of(at)
    assert f"o{count + 1}" not in query and query["o1"] == Scenario().optimizers[1].name
    at.selectbox(key="pg_o0_name").set_value("RMSprop").run()
    ok(at)
    query = query_of(at)
    assert query["o1"] == "RMSprop" and query["o1.lr"] == "0.1"  # a new algorithm keeps the slot's lr
    at.checkbox(key="pg_o0_clip_on").check().run()
    assert query_of(at)["o1.clip"] == "1"


def test_schedule_widgets_are_generated_from_the_spec():
    at = open_app()
    at.selectbox(key="pg_sched").set_value("CosineAnnealingLR").run()
    ok(at)
    assert at.number_input(key="pg_sched_CosineAnnealingLR_T_max").value == Scenario().steps
    # every horizon a schedule declares (Schedule.horizon) follows the run's length, PolynomialLR's too
    at.selectbox(key="pg_sched").set_value("PolynomialLR").run()
    assert at.number_input(key="pg_sched_PolynomialLR_total_iters").value == Scenario().steps
    at.selectbox(key="pg_sched").set_value("StepLR").run()
    at.number_input(key="pg_sched_StepLR_step_size").set_value(7).run()
    ok(at)
    query = query_of(at)
    assert query["sched"] == "StepLR" and query["sched.step_size"] == "7"


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_choosing_a_preset_loads_it_with_its_story(key):
    at = open_app()
    at.selectbox(key="pg_preset").set_value(key).run()
    ok(at)
    preset = PRESETS[key]
    assert query_of(at) == to_query(preset.scenario)
    assert any(escape_markdown(preset.title) in info.value for info in at.info)
    diverging = {"d2l-momentum", "newton-saddle"}
    assert bool(at.error) == (key in diverging), [e.value for e in at.error]


def test_a_link_restores_the_scenario_and_round_trips():
    scenario = Scenario(
        surface="himmelblau",
        start=(1.5, -0.5),
        steps=60,
        noise=0.5,
        batch_size=4,
        seed=9,
        optimizers=(entry("Adam", lr=0.05, betas=(0.8, 0.99)), entry("SGD", lr=0.01, momentum=0.9, label="heavy ball")),
    )
    query = to_query(scenario)
    at = open_app(query)
    ok(at)
    assert query_of(at) == query
    assert not at.warning
    assert at.select_slider(key="pg_steps").value == 60
    assert at.slider(key="pg_o0_Adam_betas_0").value == 0.8
    assert at.text_input(key="pg_o1_label").value == "heavy ball"


def test_a_garbage_query_string_shows_notices_and_no_exception():
    at = open_app({"steps": "lots", "o1": "Quantum", "o2": "SGD", "o2.lr": "1e999", "x0": "a,b", "zzz": "1"})
    ok(at)
    text = " ".join(w.value for w in at.warning)
    assert "Steps" in text and "Quantum" in text and "zzz" in text and "Start point" in text
    assert _plotly_specs(at)
    scenario, notices = from_query(query_of(at))
    assert notices == [] and scenario.optimizers[0].name == "SGD"


@pytest.mark.parametrize(
    "formula",
    ["__import__('os').system('ls')", "().__class__.__bases__[0]", "9**9**9", "x" * 301, "lambda: 1", "x +* y"],
)
def test_a_hostile_formula_shows_an_error_not_a_traceback(formula):
    at = open_app({"f": formula})
    ok(at)
    assert at.error
    assert all("Traceback" not in e.value for e in at.error)


def test_a_custom_formula_runs_and_has_its_own_start():
    at = open_app({"f": "x^2 + 3*y^2", "x0": "2,1"})
    ok(at)
    assert not at.error
    assert at.text_input(key="pg_formula").value == "x^2 + 3*y^2"
    assert query_of(at)["f"] == "x^2 + 3*y^2" and query_of(at)["x0"] == "2,1"


def test_more_starts_run_every_optimizer_from_each_point():
    at = open_app({"s": "himmelblau", "x0": "0.08,-0.57", "o1": "SGD", "o1.lr": "0.01"})
    at.text_input(key="pg_more_starts").input("-0.62, -0.57; -0.62, -1.27; bad").run()
    ok(at)
    assert query_of(at)["x0"] == "0.08,-0.57;-0.62,-0.57;-0.62,-1.27"
    assert any("left out" in w.value for w in at.warning)
    at.selectbox(key="pg_insp_run").set_value(2).run()
    ok(at)
    at.select_slider(key="pg_noise").set_value(0.5).run()
    ok(at)
    assert query_of(at)["noise"] == "0.5"


def test_a_single_step_race_has_no_degenerate_sliders():
    at = open_app({"steps": "1", "o1": "Adam", "o1.lr": "0.1"})
    ok(at)
    assert query_of(at)["steps"] == "1"
    at.session_state["pg_step"] = 1  # the stage's step 1 (the page opens at 0)
    at.run()
    ok(at)
    assert any(r"\hat m_t" in element.value for element in at.latex)


def test_the_scenario_survives_a_visit_to_another_page():
    """Streamlit keeps every widget's value across the visit (persist_state); nothing writes it back."""
    at = open_app()
    at.select_slider(key="pg_steps").set_value(300).run()
    at.selectbox(key="pg_sched").set_value("ExponentialLR").run()
    at.checkbox(key="pg_o0_SGD_nesterov").check().run()
    at.select_slider(key="pg_o0_SGD_lr").set_value(0.02).run()
    link = query_of(at)
    at.switch_page("pages/about.py").run()
    at.switch_page("pages/playground.py").run()
    ok(at)
    assert at.select_slider(key="pg_steps").value == 300
    assert at.selectbox(key="pg_sched").value == "ExponentialLR"
    assert at.select_slider(key="pg_o0_SGD_lr").value == 0.02
    assert query_of(at) == link


def test_panels_and_inspector_widgets_rerun_without_errors():
    at = open_app()
    at.toggle(key="pg_log").set_value(False).run()
    at.selectbox(key="pg_insp_opt").set_value(2).run()
    at.session_state["pg_step"] = 5  # what the stage reports when the animation rests on step 5
    at.run()
    ok(at)
    assert any(r"\hat m_t" in element.value for element in at.latex)
    at.toggle(key="pg_3d").set_value(True).run()
    ok(at)
    assert len(_plotly_specs(at)) == 3


def test_the_hidden_3d_chart_carries_a_small_figure_to_build_its_scene_with():
    """Before its first toggle the browser builds the 3-D chart's WebGL scene at idle time from a tiny figure of
    the same kinds (ui/playground/view_3d.py); shown, the chart gets the race's own figure, and no prewarm."""
    from ui.live_chart import LIVE_CHART

    def chart_3d(at) -> bytes:
        return next(
            node.proto.bytes
            for node in at._tree
            if node.type == "bidi_component" and node.proto.component_name.endswith(LIVE_CHART)
            and node.proto.id.endswith("pg_race3d")
        )  # fmt: skip

    at = open_app()
    hidden = json.loads(chart_3d(at))
    assert "figure" not in hidden and len(chart_3d(at)) < 8_000
    assert [trace["type"] for trace in hidden["prewarm"]["data"]][:2] == ["mesh3d", "scatter3d"]
    assert hidden["prewarm"]["layout"]["meta"]["kind"] == "surface3d"
    at.toggle(key="pg_3d").set_value(True).run()
    ok(at)
    shown = json.loads(chart_3d(at))
    assert "prewarm" not in shown and shown["figure"]["layout"]["meta"]["kind"] == "surface3d"


def _steps_shown(at) -> tuple[int, int, str]:
    race, panels = (json.loads(spec) for spec in _plotly_specs(at)[:2])
    told = next(m.value for m in at.markdown if m.value.startswith("**step t ="))
    return race["layout"]["meta"]["current_step"], panels["layout"]["meta"]["cursor"], told


def test_one_step_cursor_for_the_map_the_panels_and_the_inspector_kept_across_a_change():
    at = open_app()
    ok(at)
    race = json.loads(_plotly_specs(at)[0])["layout"]["meta"]
    assert race["current_step"] == 0  # a first visit opens ready to play
    assert any("Press **▶ Play**" in c.value for c in at.caption)
    # and the default race says in one line what it shows (ui/playground/headline.py; its numbers: test_headline.py)
    assert any(m.value.startswith(":material/play_circle: Three optimizers race from one start") for m in at.markdown)
    assert not at.info  # guidance, not a notice: the page's boxes are for problems with a visitor's input
    at.session_state["pg_step"] = 37
    at.run()
    assert _steps_shown(at) == (37, 37, "**step t = 37**")
    at.select_slider(key="pg_o0_SGD_lr").set_value(0.05).run()  # a hyper-parameter change keeps the step
    ok(at)
    assert _steps_shown(at) == (37, 37, "**step t = 37**")
    at.select_slider(key="pg_steps").set_value(30).run()  # fewer steps: the cursor stays within them
    ok(at)
    assert _steps_shown(at) == (30, 30, "**step t = 30**")


@pytest.mark.parametrize(
    "query, expected",
    [
        (None, "RMSprop"),  # the defaults race SGD, SGD with momentum and Adam
        ({"o1": "SGD", "o1.lr": "0.1", "o2": "Adam", "o2.lr": "0.1"}, "RMSprop"),  # once, this cloned Adam
        ({"o1": "RMSprop", "o1.lr": "0.01"}, "SGD"),
    ],
)
def test_add_optimizer_adds_one_not_racing_yet_opened_in_its_own_colour(query, expected):
    # issue 13: "Add optimizer" cloned the last racer, drawn exactly on top of it
    at = open_app(query)
    before = from_query(query_of(at))[0].optimizers
    at.button(key="pg_add").click().run()
    ok(at)
    after = from_query(query_of(at))[0].optimizers
    assert after[:-1] == before and after[-1].name == expected and expected not in {o.name for o in before}
    expanders = [e for e in at.expander if e.label.startswith(f"{len(after)}. ")]
    assert len(expanders) == 1 and expanders[0].proto.expanded
    from ui.figures.style import color_of

    assert len({color_of(i) for i in range(len(after))}) == len(after)


def test_a_formula_that_changes_dimension_and_back_keeps_a_start_inside_the_window():
    # issue 13: 2-D formula -> 1-D -> 2-D once set start x2 to -10000 (the link carried x0=-5,-10000)
    at = open_app()
    at.selectbox(key="pg_surface").set_value("custom").run()
    at.text_input(key="pg_formula").set_value("x^2 + 2*y^2").run()
    at.text_input(key="pg_formula").set_value("x^2 - x").run()
    assert query_of(at)["x0"] == "-5"
    at.text_input(key="pg_formula").set_value("x^2 + 2*y^2").run()
    ok(at)
    assert query_of(at)["x0"] == "-5,-2"


def _keyed_places(at: AppTest) -> dict[str, tuple[int, ...]]:
    """Where each keyed element sits in the page: its path of child indices, as the browser places it."""
    places: dict[str, tuple[int, ...]] = {}

    def walk(node, path: tuple[int, ...]) -> None:
        for index, child in getattr(node, "children", {}).items():
            element_id = getattr(getattr(child, "proto", None), "id", "")
            if isinstance(element_id, str) and element_id.startswith("$$ID-"):
                places[element_id.split("-", 2)[-1]] = (*path, index)
            walk(child, (*path, index))

    walk(at._tree, ())
    return places


def test_the_race_keeps_its_place_when_the_lines_above_it_come_and_go():
    """The browser draws an element that moved as a new one: the race chart (and the stage's state with it) would
    start from scratch at every change that drops the first visit's line, or adds a notice, above it."""
    charts = ("pg_race", "pg_stage", "pg_panels")
    at = open_app()
    first = _keyed_places(at)
    assert at.markdown[0].value.startswith(":material/play_circle:")  # the first visit's line is there
    at.select_slider(key="pg_steps").set_value(50).run()
    ok(at)
    assert not at.markdown[0].value.startswith(":material/play_circle:")  # ... and gone after a change
    changed = _keyed_places(at)
    noticed = open_app({"steps": "many", "x0": "nan,1"})  # a link with notices above the race
    ok(noticed)
    assert noticed.warning
    assert {key: first[key] for key in charts} == {key: changed[key] for key in charts}
    assert {key: first[key] for key in charts} == {key: _keyed_places(noticed)[key] for key in charts}
