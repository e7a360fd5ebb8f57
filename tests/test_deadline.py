"""``should_stop``: a race and every Lab map end early when asked, with exactly the steps done (issue 17).

A caller (the app) passes a deadline or "is the visitor still connected" as a plain function; the engine
asks it every few steps. Without it nothing changes, and a stopped race is the start of the whole one.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import gdviz
from gdviz import landscape
from gdviz.run import STOP_CHECK_EVERY


def _after(calls: int):
    """A should_stop that says stop on its ``calls``-th question."""
    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) >= calls

    return should_stop


def _race(steps: int, **options):
    surface = gdviz.surface("rosenbrock")
    optimizers = [gdviz.optimizer("Adam", lr=0.05), gdviz.optimizer("SGD", lr=1e-3, momentum=0.9)]
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [1.8, 1.8]])
    schedule = gdviz.schedule("StepLR", step_size=7, gamma=0.5)
    return gdviz.race(surface, optimizers, starts, steps, schedule, noise=0.3, seed=4, **options)


@pytest.mark.parametrize("record", ["all", "path", "final"])
def test_no_should_stop_and_one_that_never_stops_change_nothing(record):
    plain = _race(200, record=record)
    asked = _race(200, record=record, should_stop=lambda: False)
    for a, b in zip(plain, asked, strict=True):
        assert a.stopped_after is None and b.stopped_after is None
        for name in ("xs", "losses", "grads", "lrs"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
        assert a.states.keys() == b.states.keys()
        for name in a.states:
            assert np.array_equal(a.states[name], b.states[name])


def test_a_stopped_race_is_the_start_of_the_whole_race_bit_for_bit():
    whole = _race(200)
    stopped = _race(200, should_stop=_after(5))
    done = 5 * STOP_CHECK_EVERY - 1  # asked before steps 8, 16, ...; the fifth answer stops before step 40
    for full, part in zip(whole, stopped, strict=True):
        assert part.stopped_after == done
        assert part.steps == done and part.xs.shape[0] == done + 1
        assert np.array_equal(part.xs, full.xs[: done + 1])
        assert np.array_equal(part.losses, full.losses[: done + 1])
        assert np.array_equal(part.grads, full.grads[:done])
        assert np.array_equal(part.lrs, full.lrs[:done])
        for name, values in part.states.items():
            assert np.array_equal(values, full.states[name][: done + 1])


def test_a_stopped_final_record_holds_the_last_step_done():
    whole = _race(200, record="all")
    stopped = _race(200, record="final", should_stop=_after(5))
    for full, part in zip(whole, stopped, strict=True):
        assert part.stopped_after == 39
        assert np.array_equal(part.xs[-1], full.xs[39]) and np.array_equal(part.losses[-1], full.losses[39])


def test_a_deadline_bounds_the_cpu_of_a_costly_newton_race():
    # issue 17: 38 nested tan(x/tan(y/…)) cost 21 ms per Newton step, so 5000 steps took 77 s of CPU; 10 levels
    # (within gdviz.custom.MAX_DERIVED_NODES) still cost seconds over 5000 steps
    formula = "x"
    for i in range(10):
        formula = f"tan({'xy'[i % 2]}/{formula})"
    surface = gdviz.custom_surface(formula)
    newton = gdviz.optimizer("Newton", lr=0.5)
    starts = np.tile(np.asarray(surface.default_start), (64, 1)) + np.linspace(0, 0.1, 64)[:, None]
    deadline = time.monotonic() + 0.5
    cpu = time.process_time()
    (traj,) = gdviz.race(surface, [newton], starts, 5000, should_stop=lambda: time.monotonic() > deadline)
    spent = time.process_time() - cpu
    assert traj.stopped_after is not None and 0 < traj.stopped_after < 5000
    assert spent < 5.0, f"{spent:.1f} s of CPU after a 0.5 s deadline"


def test_lab_maps_stop_too_and_say_how_many_steps_ran():
    surface = gdviz.surface("goldstein_price")
    newton = gdviz.optimizer("Newton", lr=0.5)
    (b,) = landscape.compare_basins(surface, [newton], grid=20, steps=2000, should_stop=_after(3))
    assert b.steps == 3 * STOP_CHECK_EVERY - 1
    full = landscape.compare_basins(surface, [newton], grid=20, steps=b.steps)[0]
    assert np.array_equal(b.labels, full.labels) and np.array_equal(b.final_x, full.final_x)
    m = landscape.stability_map(
        surface,
        "SGD",
        {},
        ("lr", np.geomspace(1e-6, 1e-3, 8)),
        ("momentum", np.linspace(0, 0.9, 8)),
        steps=500,
        should_stop=_after(2),
    )
    assert m.steps == 2 * STOP_CHECK_EVERY - 1
    restarts = landscape.random_restarts(surface, newton, n=10, steps=300, should_stop=_after(1))
    assert restarts.xs.shape[0] == STOP_CHECK_EVERY
    annealing = landscape.annealed_noise_run(surface, gdviz.optimizer("SGD", lr=1e-5), steps=300, should_stop=_after(1))
    assert annealing.xs.shape[0] == STOP_CHECK_EVERY and annealing.sigmas.shape == (STOP_CHECK_EVERY - 1,)
    tuned = landscape.tune_lr(surface, ["SGD", "Adam"], [1e-5, 1e-4], steps=300, should_stop=_after(1))
    assert all(t.losses.shape[0] == STOP_CHECK_EVERY for t in tuned)


def test_a_large_batch_is_asked_before_every_step():
    surface = gdviz.surface("goldstein_price")
    (b,) = landscape.compare_basins(
        surface, [gdviz.optimizer("Newton", lr=0.5)], grid=40, steps=2000, should_stop=_after(3)
    )
    assert b.steps == 2  # 1600 runs: each step is costly, so the question comes before every one


def test_lab_maps_stop_stepping_once_every_run_has_diverged():
    # commit 82e6df0 stops the race loop when every run is frozen; the Lab's maps (record="final") go through
    # the same loop, so a map where every cell diverges at step 1 evaluates f and ∇f a few times, not 2000
    from dataclasses import replace

    base = gdviz.surface("goldstein_price")
    calls = []

    def counted_grad(x):
        calls.append(1)
        return base.grad(x)

    surface = replace(base, grad=counted_grad)
    m = landscape.stability_map(
        surface, "SGD", {}, ("lr", np.geomspace(1e3, 1e4, 16)), ("momentum", np.linspace(0, 0.9, 16)), steps=2000
    )
    assert m.diverged.all() and m.steps == 2000
    assert len(calls) <= 3, f"{len(calls)} gradient evaluations for a map that diverged at once"
    (b,) = landscape.compare_basins(surface, [gdviz.optimizer("SGD", lr=1e4)], grid=16, steps=2000, minima=[[0, -1]])
    assert (b.diverged_at >= 0).all() and len(calls) <= 6
