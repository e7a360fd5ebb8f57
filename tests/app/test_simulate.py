"""From a Scenario to a Race: surfaces (typed ones too), restarts, caching, and the divergence advice."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ui import limits
from ui.playground import simulate as simulate_module
from ui.playground.scenario import Scenario
from ui.playground.simulate import divergence_messages, formula_dim, resolve_surface, simulate
from ui.state.entries import entry


def _race(**fields):
    race, error = simulate(Scenario(**fields))
    assert error is None, error
    return race


def test_plain_gd_divergence_names_the_step_and_2_over_lambda_max():
    race = _race(surface="quadratic", start=(-5.0, -2.0), steps=100, optimizers=(entry("SGD", lr=0.6),))
    ((who, what),) = divergence_messages(race)
    assert who == "SGD η=0.6"
    assert what.startswith(f"diverged at step {race.trajectories[0].diverged_at}:")
    assert "η < 2/λmax = 0.5" in what  # f = x1² + 2x2²: λmax = 4


@pytest.mark.parametrize(
    "hyper, formula, bound",
    [
        (dict(momentum=0.5), "2(1+μ)/λmax", 2 * 1.5 / 4),
        (dict(momentum=0.5, dampening=0.5), "2(1+μ)/((1−τ)λmax)", 2 * 1.5 / (0.5 * 4)),
        (dict(momentum=0.5, nesterov=True), "2(1+μ)/((1+2μ)λmax)", 2 * 1.5 / (2 * 4)),
    ],
)
def test_momentum_widens_the_stable_lr_as_the_heavy_ball_analysis_says(hyper, formula, bound):
    lr = 1.2 * bound  # 20 % beyond the bound diverges
    race = _race(surface="quadratic", start=(-5.0, -2.0), steps=400, optimizers=(entry("SGD", lr=lr, **hyper),))
    ((_, what),) = divergence_messages(race)
    assert f"η < {formula} = {bound:.4g}" in what
    below = _race(
        surface="quadratic", start=(-5.0, -2.0), steps=400, optimizers=(entry("SGD", lr=0.95 * bound, **hyper),)
    )
    assert below.trajectories[0].diverged_at is None  # and 5 % below it converges: the bound is tight


def test_other_optimizers_get_the_gd_bound_and_advice():
    # Newton with η = 2.5 maps x to -1.5x on a quadratic: it diverges whatever the curvature
    race = _race(surface="quadratic", start=(-5.0, -2.0), steps=100, optimizers=(entry("Newton", lr=2.5),))
    ((who, what),) = divergence_messages(race)
    assert who == "Newton η=2.5"
    assert "For plain GD, this quadratic has λmax = 4, so η < 2/λmax = 0.5" in what
    assert "Newton rescales its steps" in what and "smaller lr than 2.5" in what


def test_unbounded_below_is_not_blamed_on_the_lr():
    race = _race(surface="saddle", start=(-1.8, 0.01), steps=200, optimizers=(entry("SGD", lr=0.1, momentum=0.9),))
    ((_, what),) = divergence_messages(race)
    assert "downhill" in what and "no learning rate" in what


def test_restarts_run_every_optimizer_from_each_start_and_name_the_start():
    race = _race(
        surface="quadratic",
        start=(-5.0, -2.0),
        more_starts=((1.0, 1.0), (2.0, -1.0)),
        steps=60,
        optimizers=(entry("SGD", lr=0.1), entry("SGD", lr=0.6)),
    )
    calm, wild = race.trajectories
    assert calm.batched and calm.xs.shape == (61, 3, 2)
    assert np.allclose(calm.xs[0], [[-5, -2], [1, 1], [2, -1]])
    messages = divergence_messages(race)
    assert len(messages) == 3 and all(who.startswith("SGD η=0.6 (from (") for who, _ in messages)


def test_start_of_the_wrong_dimension_falls_back_to_the_default():
    race = _race(surface="x2_1_sin", start=(1.0, 2.0), more_starts=((3.0, 4.0),), steps=5)
    assert race.scenario.start is None and race.scenario.more_starts == ()
    assert race.trajectories[0].xs.shape == (6, 1)


def test_typed_formulas_resolve_or_explain():
    surface, error = resolve_surface(Scenario(surface="custom", formula="x^2 + 3*y^2"))
    assert error is None and surface.dim == 2
    assert formula_dim("x*cos(x)") == (1, None)
    dim, error = formula_dim("import os")
    assert dim == 2 and error
    race, error = simulate(Scenario(surface="custom", formula="log(x)", start=(-1.0,)))
    assert race is None and error  # f is not finite at the start: a message, no exception


def test_the_race_is_cached_by_scenario(monkeypatch):
    calls = []
    race = simulate_module.gdviz.race

    def counted_race(*args, **kwargs):
        calls.append(kwargs["steps"])
        return race(*args, **kwargs)

    monkeypatch.setattr(simulate_module.gdviz, "race", counted_race)
    # a scenario no other test runs, so that the first call cannot be a hit left by another test
    scenario = Scenario(surface="booth", start=(3.25, -4.75), steps=37, optimizers=(entry("Adam", lr=0.375),))
    first, _ = simulate(scenario)
    second, _ = simulate(scenario)
    assert calls == [limits.PROBE_STEPS, 37]  # the cost probe and the race, once for two visits
    assert first.trajectories[0].xs is not second.trajectories[0].xs  # rebuilt around cached copies
    assert np.array_equal(first.trajectories[0].xs, second.trajectories[0].xs)
    simulate(replace(scenario, steps=38))
    assert calls == [limits.PROBE_STEPS, 37, 38]  # another scenario is another key (the same probe)
