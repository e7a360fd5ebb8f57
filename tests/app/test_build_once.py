"""One rerun builds each engine object once: changing one learning rate reads the scenario once and
builds at most the one optimizer whose setting is new (issue "One house", item 4)."""

from __future__ import annotations

from gdviz.optimizers.base import Optimizer
from tests.app.apptest import ok, open_app
from ui.playground import sidebar_state, view
from ui.playground.sidebar_state import K_STEPS
from ui.playground.view import K_RERUN

LR_KEY = "pg_o0_SGD_lr"  # the first racer of the default scenario is SGD


def count_calls(monkeypatch, owner, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_one_lr_change_reads_the_scenario_once_and_builds_one_optimizer(monkeypatch):
    at = open_app()
    ok(at)
    # the scrubbers' sweeps build their own batched optimizers (tests/test_scrub_figure.py): not counted here
    monkeypatch.setattr(view, "scrub_inputs", lambda race, points: ([], None))
    builds = count_calls(monkeypatch, Optimizer, "__init__")
    reads = count_calls(monkeypatch, sidebar_state, "read_scenario")
    # an lr no other test gives this racer, so that its optimizer is not already built in this process
    at.select_slider(key=LR_KEY).set_value(0.0015).run()
    ok(at)
    assert at.session_state[LR_KEY] == 0.0015
    assert len(reads) == 1  # the sidebar's widgets kept their state: no second read, no realign rerun
    assert K_RERUN not in at.session_state
    assert len(builds) == 1  # the changed racer; the others are the builds the previous rerun made


def test_a_rerun_that_changes_nothing_builds_nothing(monkeypatch):
    at = open_app()
    ok(at)
    builds = count_calls(monkeypatch, Optimizer, "__init__")
    at.number_input(key=sidebar_state.K_SEED).set_value(0).run()  # the value it already has
    ok(at)
    assert builds == []
    assert at.session_state[K_STEPS] == 100
