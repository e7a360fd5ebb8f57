"""A schedule per racer: ``race(..., schedule=[...])`` with one schedule (or None, a constant lr) per optimizer.

The specification is the torch loop with one scheduler bound to each racer's optimizer: each racer's
run must be bit for bit the run of that optimizer alone with its own schedule (``gdviz.run``, whose
numbers the parity tests hold to torch), whatever else races beside it.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdviz


def _assert_same(a: gdviz.Trajectory, b: gdviz.Trajectory) -> None:
    for name in ("xs", "losses", "grads", "lrs"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.diverged_at == b.diverged_at
    assert a.states.keys() == b.states.keys()
    for name in a.states:
        np.testing.assert_array_equal(a.states[name], b.states[name], err_msg=name)


RACERS = (
    (gdviz.optimizer("SGD", lr=0.1), None),
    (gdviz.optimizer("SGD", lr=0.1), gdviz.schedule("ExponentialLR", gamma=0.97)),
    (gdviz.optimizer("Adam", lr=0.3), gdviz.schedule("ReduceLROnPlateau", patience=2, factor=0.5)),
    (gdviz.optimizer("SGD", lr=0.05, momentum=0.9), gdviz.schedule("PolynomialDecay")),
    (gdviz.optimizer("RMSprop", lr=0.01), gdviz.schedule("CosineAnnealingLR", T_max=40)),
)


@pytest.mark.parametrize("noise", [0.0, 0.7])
@pytest.mark.parametrize("record", ["all", "path", "final"])
def test_each_racer_runs_as_it_would_alone_with_its_schedule(noise, record):
    surface = gdviz.surface("quadratic")
    optimizers = [opt for opt, _ in RACERS]
    schedules = [sched for _, sched in RACERS]
    raced = gdviz.race(surface, optimizers, (-5.0, -2.0), 60, schedules, noise=noise, seed=3, record=record)
    for (opt, sched), got in zip(RACERS, raced):
        alone = gdviz.run(surface, opt, (-5.0, -2.0), 60, sched, noise=noise, seed=3, record=record)
        _assert_same(got, alone)
        assert got.schedule is sched


def test_a_fixed_lr_and_a_decaying_one_differ_only_in_their_lrs():
    surface = gdviz.surface("quadratic")
    gd = gdviz.optimizer("SGD", lr=0.1)
    fixed, decayed = gdviz.race(surface, [gd, gd], None, 30, [None, gdviz.schedule("StepLR", step_size=10)])
    np.testing.assert_array_equal(fixed.lrs, np.full(30, 0.1))
    np.testing.assert_allclose(decayed.lrs, 0.1 * 0.1 ** (np.arange(30) // 10), rtol=1e-15)
    assert not np.array_equal(fixed.xs, decayed.xs)


def test_the_same_schedule_for_every_racer_is_the_shared_schedule():
    """A list that repeats one schedule is the shared schedule, bit for bit (plateau included: it is per run)."""
    surface = gdviz.surface("rosenbrock")
    optimizers = [gdviz.optimizer("Adam", lr=0.05), gdviz.optimizer("SGD", lr=1e-3, momentum=0.9)]
    for sched in (gdviz.schedule("ReduceLROnPlateau", patience=1), gdviz.schedule("CyclicLR")):
        shared = gdviz.race(surface, optimizers, None, 80, sched, noise=0.3, seed=1)
        listed = gdviz.race(surface, optimizers, None, 80, [sched, sched], noise=0.3, seed=1)
        for a, b in zip(shared, listed):
            _assert_same(a, b)


def test_a_plateau_schedule_sees_only_its_own_racers_losses():
    """The plateau racer's lr drops exactly when its own loss stalls, not when a neighbour's does."""
    surface = gdviz.surface("quadratic")
    plateau = gdviz.schedule("ReduceLROnPlateau", patience=0, factor=0.5, threshold=0.5)
    stalled = gdviz.optimizer("SGD", lr=1e-6)  # barely moves: its loss never improves by 50 %
    racing = gdviz.optimizer("SGD", lr=0.2)
    a, b = gdviz.race(surface, [racing, stalled], None, 10, [plateau, None])
    alone = gdviz.run(surface, racing, None, 10, plateau)
    np.testing.assert_array_equal(a.lrs, alone.lrs)
    np.testing.assert_array_equal(b.lrs, np.full(10, 1e-6))


def test_swept_runs_and_batched_starts_follow_their_racers_schedule():
    surface = gdviz.surface("quadratic")
    starts = np.array([[-5.0, -2.0], [4.0, 1.0], [1.0, 3.0]])
    sweep = gdviz.optimizer("SGD", lr=np.array([0.01, 0.1, 0.3]))
    adam = gdviz.optimizer("Adam", lr=0.2)
    sched = gdviz.schedule("ExponentialLR", gamma=0.9)
    a, b = gdviz.race(surface, [sweep, adam], starts, 25, [sched, None])
    _assert_same(a, gdviz.run(surface, sweep, starts, 25, sched))
    _assert_same(b, gdviz.run(surface, adam, starts, 25))


def test_a_diverging_race_fills_each_racers_scheduled_lrs():
    """Once every run is frozen the loop records the rest directly; each racer's lrs still follow its schedule."""
    surface = gdviz.surface("quadratic")
    big = gdviz.optimizer("SGD", lr=5.0)
    schedules = [gdviz.schedule("StepLR", step_size=3, gamma=0.5), None]
    raced = gdviz.race(surface, [big, big], None, 200, schedules)
    for got, sched in zip(raced, schedules):
        assert got.diverged_at is not None
        _assert_same(got, gdviz.run(surface, big, None, 200, sched))


@pytest.mark.parametrize(
    "schedule, message",
    [
        ([None], "needs 2 entries"),
        ([None, None, None], "needs 2 entries"),
        (["StepLR", None], "schedule 1 must be a gdviz schedule"),
        ((None, 3), "schedule 2 must be a gdviz schedule"),
        ("StepLR", "or a list with one of them per optimizer"),
        (0.5, "or a list with one of them per optimizer"),
    ],
)
def test_bad_schedule_lists_raise_value_error(schedule, message):
    surface = gdviz.surface("quadratic")
    opts = [gdviz.optimizer("SGD", lr=0.1), gdviz.optimizer("Adam")]
    with pytest.raises(ValueError, match=message):
        gdviz.race(surface, opts, None, 5, schedule)


def test_a_list_of_nones_is_the_constant_lr_race():
    surface = gdviz.surface("quadratic")
    opts = [gdviz.optimizer("SGD", lr=0.1), gdviz.optimizer("Adam", lr=0.1)]
    for a, b in zip(gdviz.race(surface, opts, None, 20, [None, None]), gdviz.race(surface, opts, None, 20)):
        _assert_same(a, b)
