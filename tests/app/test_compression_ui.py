"""Gradient compression in the Playground: its preset tells the truth, links carry it, the sidebar sets it
(the inspector: tests/app/test_compression_inspector.py)."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.optimizers.compression import COMPRESSED_GRAD, RESIDUAL
from tests.app.apptest import ok, open_app, query_of
from ui.playground.presets import PRESETS
from ui.playground.scenario import Scenario, from_query, to_query
from ui.playground.simulate import simulate
from ui.state.entries import build_optimizer, entry


# -- the preset's story -------------------------------------------------------------------------------
def test_compression_preset_feedback_follows_gd_without_it_the_path_is_biased():
    race, error = simulate(PRESETS["compression"].scenario)
    assert error is None
    gd, feedback, dropped = race.trajectories
    for compressed in (feedback, dropped):
        # top-1: every step sends one coordinate and moves only that one
        assert np.all((compressed.states[COMPRESSED_GRAD][1:] != 0).sum(axis=1) <= 1)
        assert np.all((np.diff(compressed.xs, axis=0) != 0).sum(axis=1) <= 1)
        assert np.all((np.diff(compressed.xs[:20], axis=0) != 0).sum(axis=1) == 1)
    # "stays within 0.8 of plain GD's path and ends in the same minimum, (3, 2)"
    assert np.max(np.linalg.norm(feedback.xs - gd.xs, axis=1)) < 0.8
    for run in (gd, feedback):
        assert np.linalg.norm(run.xs[-1] - [3.0, 2.0]) < 1e-6
    # "for 10 steps only x₂ moves ... ends in another minimum, (−2.81, 3.13)"
    assert np.all(dropped.xs[:11, 0] == 0.0) and dropped.xs[11, 0] != 0.0
    assert np.all(np.diff(dropped.xs[:11, 1]) > 0)
    assert np.linalg.norm(dropped.xs[-1] - [-2.805118, 3.131313]) < 1e-5
    assert all(run.losses[-1] < 1e-9 for run in race.trajectories)  # minima all, but not the same one
    # with feedback, every part of every gradient was sent or is still in the residual
    sent = feedback.states[COMPRESSED_GRAD][1:].sum(axis=0)
    np.testing.assert_allclose(sent + feedback.states[RESIDUAL][-1], feedback.grads.sum(axis=0), atol=1e-9)


# -- links --------------------------------------------------------------------------------------------
def _scenario(*optimizers) -> Scenario:
    return Scenario(surface="himmelblau", start=(0.0, 0.0), steps=30, optimizers=optimizers)


def test_compression_round_trips_through_the_link():
    scenario = _scenario(
        entry("SGD", lr=0.01, compress_topk=1),
        entry("Adam", lr=0.1, compress_topk=1, error_feedback=False, max_grad_norm=2.0),
        entry("SGD", lr=0.01, compress_topk=2, momentum_correction=0.9),
        entry("SGD", lr=0.01),
    )
    query = to_query(scenario)
    assert query["o1.topk"] == "1" and "o1.ef" not in query and "o1.dgc" not in query
    assert query["o2.topk"] == "1" and query["o2.ef"] == "0" and query["o2.clip"] == "2"
    assert query["o3.dgc"] == "0.9"
    assert not any(key.startswith("o4.") and key != "o4.lr" for key in query)
    assert from_query(query) == (scenario, [])
    # the engine gets exactly these settings
    settings = build_optimizer(scenario.optimizers[2]).settings()
    assert settings["compress_topk"] == 2 and settings["momentum_correction"] == 0.9


@pytest.mark.parametrize(
    "extra, compression, notice",
    [
        ({"o1.topk": "0"}, (1, True, None), "clamped to 1"),
        ({"o1.topk": "1e9"}, (16, True, None), "clamped to 16"),
        ({"o1.topk": "1.5"}, (None, True, None), "not a valid number"),
        ({"o1.topk": "abc"}, (None, True, None), "not a valid number"),
        ({"o1.ef": "0"}, (None, True, None), "only apply with top-k"),
        ({"o1.dgc": "0.9"}, (None, True, None), "only apply with top-k"),
        ({"o1.topk": "1", "o1.ef": "maybe"}, (1, True, None), "not 1 or 0"),
        ({"o1.topk": "1", "o1.dgc": "2"}, (1, True, 0.99), "clamped to 0.99"),
        ({"o1.topk": "1", "o1.ef": "0", "o1.dgc": "0.5"}, (1, False, None), "needs error feedback"),
    ],
)
def test_hostile_compression_links_give_notices_not_errors(extra, compression, notice):
    scenario, notices = from_query({"o1": "SGD", "o1.lr": "0.01", **extra})
    assert scenario.optimizers[0].compression == compression
    assert any(notice in text for text in notices), notices
    build_optimizer(scenario.optimizers[0])


def test_newton_with_compression_in_a_link_keeps_newton_without_it():
    scenario, notices = from_query({"o1": "Newton", "o1.lr": "0.5", "o1.topk": "1"})
    item = scenario.optimizers[0]
    assert item.name == "Newton" and item.compress_topk is None and item.params["lr"] == 0.5
    assert any("first-order" in text for text in notices)


# -- the sidebar --------------------------------------------------------------------------------------
def test_sidebar_compression_widgets_set_the_link():
    at = open_app()
    ok(at)
    assert "pg_o0_topk" not in [w.key for w in at.number_input]  # hidden until the box is ticked
    at.checkbox(key="pg_o0_topk_on").check().run()
    ok(at)
    assert query_of(at)["o1.topk"] == "1"
    at.number_input(key="pg_o0_topk").set_value(2).run()
    assert query_of(at)["o1.topk"] == "2"
    at.checkbox(key="pg_o0_dgc_on").check().run()
    ok(at)
    assert query_of(at)["o1.dgc"] == "0.9"
    at.checkbox(key="pg_o0_ef").uncheck().run()
    ok(at)
    query = query_of(at)
    assert query["o1.ef"] == "0" and "o1.dgc" not in query
    assert "pg_o0_dgc_on" not in [w.key for w in at.checkbox]  # DGC needs error feedback
    at.checkbox(key="pg_o0_topk_on").uncheck().run()
    assert not any(key.startswith("o1.") and key[3:] in ("topk", "ef", "dgc") for key in query_of(at))


def test_a_compression_link_sets_the_widgets_and_newton_has_none():
    at = open_app({"o1": "SGD", "o1.lr": "0.01", "o1.topk": "1", "o1.ef": "0", "o2": "Newton", "o2.lr": "1"})
    ok(at)
    assert at.checkbox(key="pg_o0_topk_on").value and not at.checkbox(key="pg_o0_ef").value
    assert at.number_input(key="pg_o0_topk").value == 1
    assert "pg_o1_topk_on" not in [w.key for w in at.checkbox]
    assert query_of(at)["o1.topk"] == "1"
