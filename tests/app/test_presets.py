"""Every preset builds and runs with the registries, is its own link, and shows what its story says."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from ui.playground.presets import PRESETS, matching_preset
from ui.playground.scenario import from_query, to_query
from ui.playground.simulate import divergence_messages, simulate


def _race(key):
    race, error = simulate(PRESETS[key].scenario)
    assert error is None, error
    return race


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_preset_runs_with_the_registries_and_is_its_own_link(key):
    preset = PRESETS[key]
    scenario = preset.scenario
    assert scenario.surface in gdviz.SURFACES
    assert not scenario.has_schedule or scenario.schedule in gdviz.SCHEDULES
    assert all(item.name in gdviz.OPTIMIZERS for item in scenario.optimizers)
    dim = gdviz.SURFACES[scenario.surface].dim
    assert scenario.start is not None and all(len(p) == dim for p in (scenario.start, *scenario.more_starts))
    assert from_query(to_query(scenario)) == (scenario, [])
    assert matching_preset(scenario) is preset
    assert len(preset.story) > 100 and preset.title
    race = _race(key)
    assert len(race.trajectories) == len(scenario.optimizers)
    for trajectory in race.trajectories:
        assert trajectory.steps == scenario.steps
        assert np.all(np.isfinite(trajectory.xs)) and np.all(np.isfinite(trajectory.losses))


def _ends(race):
    return [t.xs[-1] for t in race.trajectories]


def test_saddle_gd_lingers_while_momentum_escapes():
    gd, momentum, _ = _race("saddle").trajectories
    assert np.linalg.norm(gd.xs[-1]) < 0.5
    assert abs(momentum.xs[-1][1]) > 2


def test_plateau_gd_crawls_momentum_and_adam_arrive():
    gd, momentum, adam = _race("plateau").trajectories
    assert np.linalg.norm(gd.xs[-1] - gd.xs[0]) < 0.5
    assert momentum.losses[-1] < 0.2 < gd.losses[-1]
    assert adam.losses[-1] < 1e-6


def test_local_trap_only_momentum_reaches_the_global_minimum():
    gd, momentum, adam = _race("local-trap").trajectories
    assert abs(gd.xs[-1][0]) < 0.1 and abs(adam.xs[-1][0]) < 0.1
    assert abs(momentum.xs[-1][0] - 3) < 0.1


def test_cliff_gd_is_flung_clipping_and_rmsprop_are_not():
    gd, clipped, rmsprop = _race("cliff").trajectories
    assert gd.xs[1][0] < -10
    assert abs(np.linalg.norm(gd.grads[0]) - 156) < 1  # the story's "gradient of ≈ 156"
    steps = np.linalg.norm(np.diff(clipped.xs, axis=0), axis=1)
    assert np.all(steps <= 0.1 + 1e-9)
    assert rmsprop.xs[:, 0].min() > -3


def test_ravine_momentum_loss_about_1000_times_lower():
    gd, momentum, _ = _race("ravine").trajectories
    assert gd.losses[-1] / momentum.losses[-1] > 500
    race = _race("ravine")
    assert abs(race.surface.stable_lr() - 0.1) < 1e-12


def test_fixed_lr_small_crawls_large_diverges_adam_arrives():
    race = _race("fixed-lr")
    small, large, adam = race.trajectories
    assert small.losses[-1] > 1
    assert large.diverged_at is not None and large.diverged_at <= 10
    assert np.linalg.norm(adam.xs[-1] - np.array([1.0, 1.0])) < 0.01
    assert [who for who, _ in divergence_messages(race)] == [race.labels[1]]
    assert all(what.startswith("diverged at step") for _, what in divergence_messages(race))


def test_d2l_schedules_constant_wanders_exponential_stops_short_polynomial_converges():
    constant = _race("d2l-constant").trajectories[0]
    exponential = _race("d2l-exponential").trajectories[0]
    polynomial = _race("d2l-polynomial").trajectories[0]
    assert abs(exponential.lrs.sum() - 1.05) < 0.01
    assert exponential.xs[-1][0] < -0.3
    assert polynomial.losses[-1] < constant.losses[-1] < exponential.losses[-1]
    # the same noise (seed) for all three: only the schedule differs
    assert constant.grads[0].tolist() == polynomial.grads[0].tolist()


def test_d2l_momentum_gd_diverges_at_06_momentum_converges_at_both():
    race = _race("d2l-momentum")
    gd4, gd6, m4, m6 = race.trajectories
    assert gd6.diverged_at is not None
    assert gd4.diverged_at is None and gd4.losses[-1] < 1e-3
    assert m4.losses[-1] < 1e-8 and m6.losses[-1] < 1e-8
    ((who, message),) = divergence_messages(race)
    assert who == race.labels[1] and "2/λmax = 0.5" in message


def test_adagrad_slows_rmsprop_does_not():
    slow, fast, rmsprop = _race("adagrad-rmsprop").trajectories
    assert slow.losses[-1] > 0.1
    assert fast.losses[-1] < 1e-6 and rmsprop.losses[-1] < 1e-3


def test_newton_lands_on_the_saddle_damping_escapes():
    newton, gd, damped = _race("newton-saddle").trajectories
    assert np.allclose(newton.xs[1:], 0.0)
    assert abs(gd.xs[-1][1]) > 0.3
    assert damped.diverged_at is not None or abs(damped.xs[-1][1]) > 100


def test_newton_on_xcos_full_step_finds_a_maximum_half_step_a_minimum():
    race = _race("newton-xcos")
    full, half, gd = race.trajectories
    curvature = [float(race.surface.hessian(t.xs[-1]).ravel()[0]) for t in race.trajectories]
    assert curvature[0] < 0 < curvature[1] and curvature[2] > 0
    assert abs(half.xs[-1][0] - 7.27) < 0.05 and abs(gd.xs[-1][0] - 7.27) < 0.1


def test_himmelblau_four_optimizers_four_minima():
    race = _race("himmelblau")
    minima = race.surface.minima
    reached = {int(np.argmin(np.linalg.norm(minima - end, axis=1))) for end in _ends(race)}
    assert reached == {0, 1, 2, 3}
    assert all(t.distance_to_minimum()[-1] < 0.05 for t in race.trajectories)


def test_himmelblau_four_starts_four_minima_for_each_optimizer():
    race = _race("himmelblau-starts")
    minima = race.surface.minima
    for trajectory in race.trajectories:
        assert trajectory.batched and trajectory.xs.shape[1] == 4
        reached = [int(np.argmin(np.linalg.norm(minima - end, axis=1))) for end in trajectory.xs[-1]]
        assert sorted(reached) == [0, 1, 2, 3]
        assert np.all(trajectory.distance_to_minimum()[-1] < 1e-3)
    hill = np.array([-0.270845, -0.923039])
    starts = np.array([race.scenario.start, *race.scenario.more_starts])
    assert np.allclose(np.linalg.norm(starts - hill, axis=1), 0.5, atol=0.01)


def test_adam_then_sgd_beats_adam_alone():
    adam, switched, _ = _race("adam-then-sgd").trajectories
    assert switched.losses[-1] * 30 < adam.losses[-1]
