"""The Playground with a momentum-cycling schedule: torch's refusal is a message in the page, not a traceback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, TIMEOUT, chart_specs, ok


def _playground(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def test_an_optimizer_without_momentum_under_a_cycling_schedule_gets_torchs_reason():
    at = _playground({"o1": "Adagrad", "o2": "Adam", "sched": "CyclicLR"})
    ok(at)
    (error,) = at.error
    assert "Adagrad has neither momentum nor betas" in error.value and "cycle" in error.value


def test_switching_the_cycle_off_races_them():
    at = _playground({"o1": "Adagrad", "o2": "Adam", "sched": "CyclicLR", "sched.cycle_momentum": "false"})
    ok(at)
    assert not at.error
    assert chart_specs(at)


def test_a_cycling_schedule_races_sgd_and_adam():
    at = _playground({"o1": "SGD", "o2": "Adam", "sched": "OneCycleLR"})
    ok(at)
    assert not at.error
    assert chart_specs(at)
