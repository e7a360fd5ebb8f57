"""A schedule per racer in the Playground: links, hostile links, the sidebar, the legend, the race and the
exports."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gdviz
from tests.app.apptest import ok, open_app, query_of
from ui.playground.export import json_bytes, race_script
from ui.playground.presets import PRESETS
from ui.playground.scenario import Scenario, auto_labels, from_query, to_query
from ui.playground.simulate import simulate
from ui.state.entries import entry


def _scenario(*optimizers, **more) -> Scenario:
    return Scenario(surface="quadratic", start=(-5.0, -2.0), steps=30, optimizers=optimizers, **more)


# -- links ----------------------------------------------------------------------------------------------
def test_own_schedules_round_trip_through_the_link():
    scenario = _scenario(
        entry("SGD", lr=0.1),
        entry("SGD", lr=0.1, schedule=("ExponentialLR", {"gamma": 0.9})),
        entry("Adam", lr=0.1, schedule="constant"),
        entry("SGD", lr=0.1, schedule="StepLR"),
        schedule="ExponentialDecay",
        schedule_params=(("lam", 0.2),),
    )
    query = to_query(scenario)
    assert not any(key.startswith("o1.sched") for key in query)
    assert query["o2.sched"] == "ExponentialLR" and query["o2.sched.gamma"] == "0.9"
    assert query["o3.sched"] == "constant" and not any(key.startswith("o3.sched.") for key in query)
    assert query["o4.sched"] == "StepLR" and not any(key.startswith("o4.sched.") for key in query)
    assert from_query(query) == (scenario, [])
    # an older link (no o<n>.sched) is the race's schedule for every racer, as before
    old, notices = from_query({"o1": "SGD", "o1.lr": "0.1", "sched": "ExponentialLR"})
    assert notices == [] and old.optimizers[0].schedule is None


@pytest.mark.parametrize(
    "extra, schedule, notice",
    [
        ({"o1.sched": "Bogus"}, None, "unknown schedule 'Bogus'"),
        ({"o1.sched.gamma": "0.9"}, None, "only apply with its own schedule"),
        ({"o1.sched": "ExponentialLR", "o1.sched.gamma": "abc"}, ("ExponentialLR", (("gamma", 0.95),)), "not valid"),
        ({"o1.sched": "ExponentialLR", "o1.sched.gamma": "7"}, ("ExponentialLR", (("gamma", 1.0),)), "clamped"),
        ({"o1.sched": "StepLR", "o1.sched.step_size": "-3"}, ("StepLR", (("step_size", 1), ("gamma", 0.1))), "clamped"),
        ({"o1.sched": "StepLR", "o1.sched.bogus": "1"}, ("StepLR", (("step_size", 30), ("gamma", 0.1))), "unknown"),
        ({"o1.sched": "constant", "o1.sched.gamma": "0.5"}, ("constant", ()), "unknown parameter"),
        ({"o1.sched": "x" * 5000}, None, "unknown schedule"),
    ],
)
def test_hostile_own_schedules_give_notices_not_errors(extra, schedule, notice):
    scenario, notices = from_query({"o1": "SGD", "o1.lr": "0.1", **extra})
    assert scenario.optimizers[0].schedule == schedule
    assert any(notice in text for text in notices), notices
    assert all(len(text) < 400 for text in notices)
    race, error = simulate(scenario)
    assert error is None and race is not None


def test_the_race_runs_each_racer_under_its_own_schedule_and_the_legend_says_so():
    scenario = _scenario(
        entry("SGD", lr=0.1),
        entry("SGD", lr=0.1, schedule=("ExponentialLR", {"gamma": 0.9})),
        entry("SGD", lr=0.1, schedule="constant"),
        schedule="StepLR",
        schedule_params=(("step_size", 10), ("gamma", 0.5)),
    )
    race, error = simulate(scenario)
    assert error is None
    shared, own, fixed = race.trajectories
    np.testing.assert_allclose(shared.lrs, [0.1 * 0.5 ** (t // 10) for t in range(30)])
    np.testing.assert_allclose(own.lrs, [0.1 * 0.9**t for t in range(30)])
    np.testing.assert_allclose(fixed.lrs, 0.1)
    assert [t.schedule.name if t.schedule else None for t in race.trajectories] == ["StepLR", "ExponentialLR", None]
    assert auto_labels(scenario.optimizers) == ["SGD η=0.1", "SGD η=0.1 · ExponentialLR", "SGD η=0.1 · constant lr"]
    # the exports carry each racer's schedule
    exported = json.loads(json_bytes(race.key, race.trajectories, race.labels, to_query(scenario)))
    names = [item["schedule"] and item["schedule"]["name"] for item in exported["optimizers"]]
    assert names == ["StepLR", "ExponentialLR", None]
    script = race_script(race)
    assert "ExponentialLR" in script and "StepLR" in script


def test_the_same_racers_with_own_schedules_race_as_gdviz_race_with_a_schedule_list():
    scenario = PRESETS["d2l-schedules"].scenario
    race, _ = simulate(scenario)
    direct = gdviz.race(
        gdviz.surface("quadratic"),
        [gdviz.optimizer("SGD", lr=0.1)] * 3,
        start=(-5.0, -2.0),
        steps=100,
        noise=1.0,
        seed=0,
        schedule=[None, gdviz.schedule("ExponentialDecay", lam=0.1), gdviz.schedule("PolynomialDecay")],
    )
    for ours, theirs in zip(race.trajectories, direct, strict=True):
        np.testing.assert_array_equal(ours.xs, theirs.xs)


# -- the sidebar ----------------------------------------------------------------------------------------
def test_the_sidebar_sets_a_racers_own_schedule():
    at = open_app()
    ok(at)
    assert at.selectbox(key="pg_o0_sched").value == "race"
    at.selectbox(key="pg_o1_sched").set_value("ExponentialLR").run()
    ok(at)
    query = query_of(at)
    assert query["o2.sched"] == "ExponentialLR" and "o1.sched" not in query
    at.slider(key="pg_o1_sched_ExponentialLR_gamma").set_value(0.9).run()
    ok(at)
    assert query_of(at)["o2.sched.gamma"] == "0.9"
    racers = [block.proto.popover.label for block in at.sidebar.children.values() if block.type == "popover"]
    assert any("ExponentialLR" in label for label in racers)  # its settings' button shows its legend label
    at.selectbox(key="pg_o1_sched").set_value("constant").run()
    ok(at)
    assert query_of(at)["o2.sched"] == "constant"
    at.selectbox(key="pg_o1_sched").set_value("race").run()
    assert not any(key.startswith("o2.sched") for key in query_of(at))


def test_an_own_schedule_link_sets_the_widgets_and_a_hostile_one_gives_a_notice():
    at = open_app({"o1": "SGD", "o1.lr": "0.1", "o1.sched": "StepLR", "o1.sched.step_size": "7", "o2": "Adam"})
    ok(at)
    assert at.selectbox(key="pg_o0_sched").value == "StepLR"
    assert at.number_input(key="pg_o0_sched_StepLR_step_size").value == 7
    assert at.selectbox(key="pg_o1_sched").value == "race"
    at = open_app({"o1": "SGD", "o1.lr": "0.1", "o1.sched": "<b>nope</b>"})
    ok(at)
    assert any("unknown schedule" in w.value for w in at.warning)
