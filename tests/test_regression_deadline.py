"""Regression training under a deadline: should_stop ends a run where it is, exactly, and the page does
not cache a run its deadline cut (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="regression training needs torch")

from gdviz import regression as reg  # noqa: E402


def _data(n: int = 300, d: int = 3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    return X, X @ np.arange(1.0, d + 1) + 0.5 + 0.1 * rng.normal(size=n)


class StopAfter:
    """should_stop that says yes on its k-th question."""

    def __init__(self, k: int):
        self.k, self.asked = k, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked >= self.k


@pytest.mark.parametrize("optimizer, batch", [("SGD", 16), ("Adam", 8), ("Newton", 32)])
def test_a_stopped_run_is_exactly_the_start_of_the_whole_run(optimizer, batch):
    X, y = _data()
    settings = dict(optimizer=optimizer, lr=0.05 if optimizer != "Newton" else 0.5, batch_size=batch, epochs=20)
    stopped = reg.train(X, y, should_stop=StopAfter(37), **settings)
    same = reg.train(X, y, max_updates=37, **settings)
    assert stopped.updates == 37 and not stopped.complete
    np.testing.assert_array_equal(stopped.weight, same.weight)
    assert stopped.bias == same.bias
    assert stopped.final_loss == same.final_loss


def test_never_stopping_changes_nothing():
    X, y = _data()
    plain = reg.train(X, y, "SGD", lr=0.05, batch_size=8, epochs=3)
    asked = reg.train(X, y, "SGD", lr=0.05, batch_size=8, epochs=3, should_stop=lambda: False)
    np.testing.assert_array_equal(plain.weight, asked.weight)
    np.testing.assert_array_equal(plain.curve_losses, asked.curve_losses)
    assert asked.complete


def test_the_page_shows_a_run_its_deadline_cut_and_does_not_cache_it(monkeypatch):
    from ui import limits
    from ui.regression import compute

    X, y = _data(2000, 4)
    data = compute.Arrays(X, y)
    calls = []
    real_train = reg.train
    monkeypatch.setattr(compute.reg, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    monkeypatch.setattr(limits, "REGRESSION_DEADLINE_FACTOR", 1e-9)  # a deadline already past
    settings = compute.frozen(dict(optimizer="SGD", lr=0.01, batch_size=1, epochs=50))
    compute._trained.clear()
    first = compute.trained("deadline-test", settings, data)
    second = compute.trained("deadline-test", settings, data)
    assert not first.complete and first.updates < 2000 * 50
    assert len(calls) == 2, "a cut run is computed again, not served from the cache"
    monkeypatch.setattr(limits, "REGRESSION_DEADLINE_FACTOR", 1e6)
    whole = compute.trained("deadline-test", settings, data)
    again = compute.trained("deadline-test", settings, data)
    assert whole.updates > second.updates and len(calls) == 3 and again is not None
