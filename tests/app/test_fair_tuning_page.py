"""The fair comparison's second mode in-process (issue 14): every hyper-parameter tuned beside the lr only after
100 steps, both rankings, its link both ways, hostile links and the work budget."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

import gdviz
from gdviz.landscape import fair_tuning
from tests.app.apptest import ok, open_page, query_of
from ui import limits
from ui.lab import fair
from ui.playground.scenario import from_query

PAGE = "pages/landscape.py"
SMALL = {"view": "fair", "fc.m": "all", "fc.o": "SGD,Adam,RMSprop", "fc.t": "6", "fc.ns": "2", "fc.ne": "2"}


def _text(elements) -> str:
    return re.sub(r"\\(.)", r"\1", " ".join(e.value for e in elements))  # notices are escaped Markdown


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_mode_shows_both_rankings_the_budget_and_the_scoring():
    query = SMALL | {"fc.steps": "300", "fc.seed": "7"}
    at = open_page(PAGE, query)
    ok(at)
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert query_of(at) == query  # the link round trip: every value read back and written again
    text = _text(at.markdown)
    assert "Budget, the same for each of the 3 optimizers:** 6 settings tried" in text
    assert "4 runs per setting, 24 per optimizer" in text and "Random seed 7" in text
    assert "Scoring:** a setting scores its final f − f* averaged over its 4 runs" in text and "+∞" in text
    short_chart, full_chart, trials_chart = _charts(at)
    assert short_chart["layout"]["title"]["text"] == "lr only, 100 steps"
    assert full_chart["layout"]["title"]["text"] == "all knobs, full run (300 steps)"
    # the engine, called directly with the link's values, gives the same two rankings
    surface = gdviz.surface("rosenbrock")
    args = dict(trials=6, starts=2, seeds=2, noise=1.0, rng_seed=7)
    short = fair_tuning.tune_all(surface, ["SGD", "Adam", "RMSprop"], steps=100, knobs="lr", **args)
    full = fair_tuning.tune_all(surface, ["SGD", "Adam", "RMSprop"], steps=300, **args)
    for chart, tuned in ((short_chart, short), (full_chart, full)):
        (bars,) = chart["data"]
        assert [label.split(" ")[1] for label in bars["y"]] == fair_tuning.ranking(tuned)
    rows = at.dataframe[0].value
    assert list(rows["optimizer"]) == ["SGD", "Adam", "RMSprop"]
    assert sorted(rows["rank, all knobs (300 steps)"]) == [1, 2, 3]
    winners = fair_tuning.ranking(short)[0], fair_tuning.ranking(full)[0]
    verdict = _text(at.markdown[1:2])
    assert ("The verdict changes" in verdict) == (winners[0] != winners[1]), verdict
    assert f"**{winners[1]}**" in verdict
    assert len(trials_chart["data"]) >= 3
    # the Playground link carries each optimizer's best setting of the full-run search, exactly
    (button,) = at.get("link_button")
    scenario, notices = from_query(dict(parse_qsl(urlsplit(button.proto.url).query)))
    assert notices == [] and scenario.steps == 300
    for item, tuned in zip(scenario.optimizers, full):
        best = tuned.best_setting
        assert item.name == tuned.name and {k: v for k, v in item.hyper} == {k: best[k] for k, _ in item.hyper}


def test_widgets_write_the_link_and_the_lr_grid_mode_is_unchanged():
    at = open_page(PAGE, SMALL | {"fc.steps": "120"})
    ok(at)
    at.slider(key="lab_fc_t").set_value(4).run()
    ok(at)
    assert query_of(at)["fc.t"] == "4" and "4 settings tried" in _text(at.markdown)
    at.radio(key="lab_fc_m").set_value("lr").run()
    ok(at)
    assert "fc.m" not in query_of(at) and query_of(at)["fc.t"] == "4"  # the other mode's values are kept
    assert len(at.get("plotly_chart")) == 3 and "best lr" in at.dataframe[0].value.columns


def test_a_hostile_link_is_clamped_and_cut_with_clear_messages():
    query = {
        "view": "fair",
        "fc.m": "all",
        "fc.o": "SGD,Adam,RMSprop,Adagrad,Adamax,NAdam,RAdam,Lion",
        "fc.t": "1e9",
        "fc.ns": "999",
        "fc.ne": "1e6",
        "fc.sig": "nan",
        "fc.steps": "1e12",
        "fc.seed": "99999999999999",
    }
    cpu = time.process_time()
    at = open_page(PAGE, query)
    spent = time.process_time() - cpu
    ok(at)
    notices = _text(at.warning)
    assert f"Trials per optimizer 1e9 is out of range [2, {limits.MAX_TUNE_TRIALS}]" in notices
    assert (
        f"clamped to {limits.MAX_STARTS}" in notices
        and f"Noise draws 1e6 is out of range [1, {limits.MAX_SEEDS}]" in notices
    )
    assert "Gradient noise σ 'nan' is not a valid number" in notices
    assert "Random seed 99999999999999 is out of range" in notices and f"clamped to {limits.MAX_LAB_STEPS}" in notices
    runs = 8 * limits.MAX_TUNE_TRIALS * limits.MAX_STARTS * limits.MAX_SEEDS  # the noise σ falls back to 1
    infos = _text(at.info)
    cap = limits.MAX_LAB_RUN_STEPS // runs
    assert f"{runs} runs × {limits.MAX_LAB_STEPS} steps is more work than the server allows; using {cap}" in infos
    noisy_cap = limits.MAX_NOISY_LAB_RUN_STEPS // runs
    assert f"{runs} runs with gradient noise × {cap} steps" in infos and f"using {noisy_cap} steps" in infos
    assert query_of(at)["fc.t"] == str(limits.MAX_TUNE_TRIALS)
    assert spent < 30.0, f"{spent:.1f} s of CPU"


def test_noisy_runs_are_cut_to_the_noise_draws_the_server_holds():
    query = SMALL | {"fc.t": "64", "fc.ns": "8", "fc.ne": "32", "fc.sig": "2", "fc.steps": "2000"}
    at = open_page(PAGE, query)
    ok(at)
    runs = 3 * 64 * 8 * 32
    cap = limits.MAX_NOISY_LAB_RUN_STEPS // runs
    assert f"using {cap} steps" in _text(at.info) and "noise draws" in _text(at.info)
    assert _charts(at)[1]["layout"]["title"]["text"].endswith(f"({cap} steps)") or "Stopped after" in _text(at.warning)


def test_a_costly_link_gets_the_steps_its_measured_cost_affords(monkeypatch):
    monkeypatch.setattr(limits, "LAB_CPU_SECONDS", 1e-4)  # any cost is over it: the cut must come from the probe
    at = open_page(PAGE, SMALL | {"fc.steps": "400"})
    ok(at)
    notices = [i.value.replace("\\", "") for i in at.info if "These runs cost" in i.value]
    assert len(notices) == 1 and notices[0].endswith(fair.HINT_ALL), notices
    assert not any("Stopped after" in w.value for w in at.warning)


def test_the_heaviest_link_stops_at_the_time_budget_with_a_notice(monkeypatch):
    monkeypatch.setattr(limits, "LAB_SECONDS", 0.25)
    monkeypatch.setattr(limits, "LAB_CPU_SECONDS", 1e3)  # no cut from the probe: the budget must stop it
    query = SMALL | {"fc.o": "Newton,NAdam,RAdam,AdamW,Adam,Yogi,Lion,Adamax", "fc.s": "goldstein_price"}
    query |= {"fc.t": "64", "fc.ns": "8", "fc.ne": "1", "fc.steps": "2000"}
    cpu = time.process_time()
    at = open_page(PAGE, query)
    spent = time.process_time() - cpu
    ok(at)
    warnings = _text(at.warning)
    assert "Stopped after" in warnings and "time budget" in warnings, warnings
    assert len(at.get("plotly_chart")) == 3 and spent < 20.0, f"{spent:.1f} s of CPU"


@pytest.mark.parametrize("view_query", [{"view": "fair", "fc.m": "all"}])
def test_the_defaults_fit_the_budget_without_a_notice(view_query):
    at = open_page(PAGE, view_query)
    ok(at)
    texts = _text([*at.info, *at.warning])
    assert "These runs cost" not in texts and "Stopped after" not in texts, texts
