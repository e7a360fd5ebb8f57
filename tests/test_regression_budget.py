"""The Linear Regression page within a few seconds of CPU for its heaviest links (issue 17).

Before: torch computed on every core, so a run's CPU was twice what the page thread's budget saw, and the
training and the comparison each had twice their estimate as a deadline (9.4 s for Newton at d = 200, 7.2 s
for GD on 2M samples). Now torch uses one thread per process, and the comparison leaves out the modes it has
no time left for, saying which.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="regression training needs torch")

import torch  # noqa: E402

from gdviz import regression as reg  # noqa: E402
from tests.app.apptest import ok, open_page  # noqa: E402
from ui import limits  # noqa: E402


def _data(n: int = 400, d: int = 3):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    return X, X @ np.arange(1.0, d + 1) + 0.5 + 0.1 * rng.normal(size=n)


def test_the_page_trains_on_one_torch_thread(monkeypatch):
    asked = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: asked.append(n) or real(n))
    at = open_page("pages/regression.py", {"n": "500", "epochs": "3", "seed": "77"})  # nothing cached
    ok(at)
    assert asked and set(asked) == {limits.REGRESSION_TORCH_THREADS} == {1}


def test_a_comparison_out_of_time_keeps_the_modes_it_measured():
    X, y = _data()
    modes = reg.default_modes(len(y), 16, 0.05)
    asked = []

    def stop_after_the_first_mode() -> bool:
        asked.append(1)
        return rows_started[0] >= 1

    rows_started = [0]

    def progress(fraction: float, text: str) -> None:
        rows_started[0] = max(rows_started[0], int(fraction * len(modes) + 1e-9))

    rows = reg.compare(X, y, modes, epochs=2, progress=progress, should_stop=stop_after_the_first_mode)
    assert 1 <= len(rows) < len(modes) and [r.mode for r in rows] == modes[: len(rows)]
    whole = reg.compare(X, y, modes, epochs=2)
    assert len(whole) == len(modes)
    np.testing.assert_array_equal(rows[0].result.weight, whole[0].result.weight)  # the same first mode


def test_the_page_names_the_modes_it_had_no_time_for(monkeypatch):
    from ui.regression import compute

    real = compute.compared
    monkeypatch.setattr(compute, "compared", lambda *a, **k: real(*a, **k)[:1])  # only the first mode measured
    at = open_page("pages/regression.py", {"n": "500", "epochs": "3", "seed": "5"})
    ok(at)
    notes = [w.value for w in at.warning if w.value.startswith("Not measured within")]
    assert len(notes) == 1 and "SGD" in notes[0], notes


def test_the_default_page_shows_no_budget_notice():
    at = open_page("pages/regression.py")
    ok(at)
    texts = " ".join(w.value for w in at.warning)
    assert "time budget" not in texts and "Stopped after" not in texts, texts
