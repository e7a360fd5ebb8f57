"""GD and heavy ball on a quadratic in closed form (Goh, "Why Momentum Really Works", Distill 2017), checked
by brute force: the 2×2 iteration matrices' eigenvalues, the engine's runs (torch's SGD), and a stability
map (issue 14)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import gdviz
from gdviz import landscape as L
from gdviz.landscape.quadratic_theory import NoTheory

# every positive definite quadratic of the registry: λ from 0.04 to 20, κ from 1 to 100
QUADRATICS = ("quadratic", "ill_conditioned", "ravine", "booth", "matyas", "parabola")


def _theory(name: str) -> L.QuadraticTheory:
    return L.quadratic_theory(gdviz.surface(name))


def _matrix_radius(h: float, beta: float) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(np.array([[1 + beta - h, -beta], [1.0, 0.0]])))))


def test_spectral_radius_is_that_of_the_two_by_two_iteration_matrix():
    h, beta = np.meshgrid(np.linspace(-0.5, 5.0, 111), np.linspace(0.0, 0.999, 47))
    brute = np.vectorize(_matrix_radius)(h, beta)
    np.testing.assert_allclose(L.spectral_radius(h, beta), brute, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(L.spectral_radius(h, 0.0), np.abs(1 - h))  # GD: |1 − ηλ|


def test_the_boundary_is_where_the_spectral_radius_crosses_one():
    theory = _theory("ravine")
    lr, beta = np.meshgrid(np.geomspace(1e-4, 1.0, 301), np.linspace(0.0, 0.99, 100))
    rate = theory.predicted_rate(lr, beta)
    clear = np.abs(rate - 1) > 1e-9  # on the boundary itself the radius is 1 exactly
    np.testing.assert_array_equal(theory.stable(lr, beta)[clear], (rate < 1)[clear])
    np.testing.assert_allclose(theory.predicted_rate(theory.lr_bound(beta[:, 0]), beta[:, 0]), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", QUADRATICS)
def test_optimal_settings_are_the_minimum_of_the_predicted_rate(name):
    theory = _theory(name)
    lrs = theory.momentum_optimal_lr * np.linspace(0.5, 1.5, 401)
    betas = np.linspace(0.0, 0.99, 397)
    rates = theory.predicted_rate(lrs[None, :], betas[:, None])
    assert rates.min() >= theory.momentum_optimal_rate - 1e-12  # no setting of the grid does better
    assert theory.predicted_rate(theory.momentum_optimal_lr, theory.momentum_optimal_beta) == pytest.approx(
        theory.momentum_optimal_rate, abs=1e-7
    )
    gd = theory.predicted_rate(theory.gd_optimal_lr * np.linspace(0.5, 1.5, 2001), 0.0)
    assert gd.min() >= theory.gd_optimal_rate - 1e-12
    assert theory.predicted_rate(theory.gd_optimal_lr, 0.0) == pytest.approx(theory.gd_optimal_rate, abs=1e-12)
    kappa = theory.condition_number
    assert theory.momentum_optimal_rate == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1))
    assert theory.momentum_optimal_rate <= theory.gd_optimal_rate  # momentum's √κ against GD's κ


def test_curvature_and_minimum_of_the_registry_quadratics():
    theory = _theory("ill_conditioned")
    np.testing.assert_allclose(theory.eigenvalues, [0.2, 4.0])
    assert theory.condition_number == pytest.approx(20.0)
    booth = _theory("booth")
    np.testing.assert_allclose(booth.eigenvalues, [2.0, 18.0])
    np.testing.assert_allclose(booth.minimum, gdviz.surface("booth").minima[0], atol=1e-12)
    custom = L.quadratic_theory(gdviz.custom_surface("(x - 1)^2 + 3*(y + 2)^2 + x*y"))
    np.testing.assert_allclose(custom.hessian, [[2.0, 1.0], [1.0, 6.0]])
    np.testing.assert_allclose(custom.hessian @ custom.minimum, [2.0, -12.0])  # ∇f(x*) = 0


@pytest.mark.parametrize("name", QUADRATICS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_torch_sgd_momentum_is_the_heavy_ball_component_by_component(name, beta):
    """Each eigen-component of the engine's SGD(momentum=β) run follows z_{t+1} = (1 + β − ηλ)z_t − βz_{t−1}."""
    theory, surface = _theory(name), gdviz.surface(name)
    lr = 0.7 * float(theory.lr_bound(beta))
    steps = 60
    trajectory = gdviz.run(surface, gdviz.optimizer("SGD", lr=lr, momentum=beta), steps=steps)
    measured = theory.components(trajectory.xs)
    predicted = theory.predicted_components(surface.default_start, lr, beta, steps)
    scale = np.abs(predicted[0]).max()
    # rounding of x − x* near x* (booth's x* is not 0) is the only difference
    np.testing.assert_allclose(measured, predicted, atol=1e-12 * scale * theory.condition_number + 1e-13)


@pytest.mark.parametrize("name", QUADRATICS)
def test_runs_converge_just_inside_the_boundary_and_diverge_just_outside(name):
    theory, surface = _theory(name), gdviz.surface(name)
    betas = np.array([0.0, 0.3, 0.6, 0.9])
    inside, outside = 0.97 * theory.lr_bound(betas), 1.03 * theory.lr_bound(betas)
    # enough steps for the slowest inside setting to shrink the error 1e4-fold at its predicted rate
    slowest = float(theory.predicted_rate(inside, betas).max())
    steps = int(math.ceil(math.log(1e-4) / math.log(slowest))) + 50
    lr, beta = np.concatenate([inside, outside]), np.concatenate([betas, betas])
    start = np.tile(surface.default_start, (lr.size, 1))
    trajectory = gdviz.run(surface, gdviz.optimizer("SGD", lr=lr, momentum=beta), start=start, steps=steps)
    distance = np.linalg.norm(trajectory.xs - theory.minimum, axis=-1)  # (steps + 1, R)
    converged = (distance[-1] < 1e-3 * distance[0]) & (trajectory.diverged_step < 0)
    grown = (trajectory.diverged_step >= 0) | (distance[-1] > 1e3 * distance[0])
    assert converged[: betas.size].all(), (name, lr[: betas.size], distance[-1, : betas.size])
    assert grown[betas.size :].all(), (name, lr[betas.size :], distance[-1, betas.size :])


@pytest.mark.parametrize("name", ["quadratic", "ill_conditioned", "ravine", "booth"])
def test_the_measured_map_agrees_with_the_boundary_away_from_it(name):
    """Every cell further than 10% (in η) from η = 2(1 + β)/λmax: stable on the theory's side, not beyond it."""
    theory, surface = _theory(name), gdviz.surface(name)
    lrs = np.geomspace(1e-3, 4 * float(theory.lr_bound(0.99)), 48)
    betas = np.linspace(0.0, 0.95, 40)
    m = L.stability_map(surface, "SGD", {}, ("lr", lrs), ("momentum", betas), steps=400)
    ratio = lrs[None, :] / theory.lr_bound(betas)[:, None]  # (ny, nx): η over the boundary's η
    away = np.abs(ratio - 1) > 0.1
    predicted = theory.stable(lrs[None, :], betas[:, None])
    assert away.sum() > 0.8 * away.size and predicted[away].any() and (~predicted[away]).any()
    disagree = away & (predicted != m.stable)
    assert not disagree.any(), list(zip(lrs[np.nonzero(disagree)[1]], betas[np.nonzero(disagree)[0]]))
    # far beyond the boundary the engine calls it diverged, not only "no better than the start"
    assert m.diverged[ratio > 1.5].all()


@pytest.mark.parametrize("name", ["ill_conditioned", "ravine", "matyas", "booth"])
def test_the_measured_rate_at_the_optimum_is_the_predicted_one(name):
    theory, surface = _theory(name), gdviz.surface(name)
    gd = gdviz.run(surface, gdviz.optimizer("SGD", lr=theory.gd_optimal_lr), steps=3000)
    # at GD's optimum both components shrink by exactly (κ − 1)/(κ + 1) a step (they alternate in sign)
    assert L.trajectory_rate(theory, gd.xs) == pytest.approx(theory.gd_optimal_rate, rel=1e-6)
    hb_opt = gdviz.optimizer("SGD", lr=theory.momentum_optimal_lr, momentum=theory.momentum_optimal_beta)
    hb = gdviz.run(surface, hb_opt, steps=3000)
    measured = L.trajectory_rate(theory, hb.xs)
    # at momentum's optimum both ends are double roots: z_t = (c + c't)ρ^t, whose log-slope is log ρ + 1/(t + c/c'),
    # so a fit over steps n/2 … n (n: the steps above rounding) reads ρ·exp(≈ 2/n) — a little high, never low
    distance = np.linalg.norm(hb.xs - theory.minimum, axis=-1)
    usable = int(np.argmax(distance <= 1e3 * np.finfo(float).eps * theory.condition_number * 4)) or distance.size
    assert theory.momentum_optimal_rate <= measured * (1 + 1e-9)
    assert measured <= theory.momentum_optimal_rate * math.exp(3.0 / usable)


def test_predicted_rate_matches_the_measured_one_at_other_settings():
    theory, surface = _theory("ravine"), gdviz.surface("ravine")
    for lr, beta in [(0.05, 0.0), (0.05, 0.5), (0.1, 0.9), (0.12, 0.3), (0.11, 0.0)]:
        trajectory = gdviz.run(surface, gdviz.optimizer("SGD", lr=lr, momentum=beta), steps=1500)
        measured = L.trajectory_rate(theory, trajectory.xs, trajectory.diverged_at)
        assert measured == pytest.approx(float(theory.predicted_rate(lr, beta)), rel=0.01), (lr, beta)


def test_measured_rate_of_plain_sequences():
    t = np.arange(201)
    assert L.measured_rate(0.9**t) == pytest.approx(0.9, rel=1e-9)
    assert L.measured_rate(1.1**t) == pytest.approx(1.1, rel=1e-9)
    spiral = 0.95**t * np.abs(np.cos(0.7 * t + 0.3))  # complex roots: the distance dips each turn
    assert L.measured_rate(spiral) == pytest.approx(0.95, rel=0.01)
    frozen = np.concatenate([0.8 ** t[:50], np.full(151, 0.8**49)])  # a diverged run is frozen at its last iterate
    assert L.measured_rate(frozen, last=49) == pytest.approx(0.8, rel=1e-9)
    assert L.measured_rate(0.5 ** t[:60], floor=0.5**4) == pytest.approx(0.5)  # four steps, then rounding
    assert L.measured_rate([1.0, 0.0]) == 0.0  # exact in one step
    assert math.isnan(L.measured_rate([1.0])) and math.isnan(L.measured_rate([0.0, 0.0]))
    with pytest.raises(ValueError, match="one run"):
        L.measured_rate(np.ones((3, 2)))


def test_non_quadratic_surfaces_have_no_theory():
    with pytest.raises(NoTheory, match="not a quadratic"):
        L.quadratic_theory(gdviz.surface("rosenbrock"))
    with pytest.raises(NoTheory, match="no minimum"):
        L.quadratic_theory(gdviz.surface("saddle"))
    with pytest.raises(NoTheory, match="not a quadratic"):
        L.quadratic_theory(gdviz.custom_surface("x^2 + abs(y)"))  # the constant Hessian hides a kink
    flagged = dataclasses.replace(gdviz.surface("rosenbrock"), quadratic=True)  # a wrong flag is caught
    with pytest.raises(NoTheory, match="not the same everywhere"):
        L.quadratic_theory(flagged)
    with pytest.raises(ValueError, match="Surface"):
        L.quadratic_theory("quadratic")
    assert issubclass(NoTheory, ValueError)
    for name, s in gdviz.SURFACES.items():
        try:
            L.quadratic_theory(s)
        except NoTheory:
            assert name not in QUADRATICS
        else:
            assert name in QUADRATICS


def test_only_plain_heavy_ball_gets_the_closed_forms():
    assert L.why_not_heavy_ball("SGD", {"lr": 0.1, "momentum": 0.9}) is None
    assert L.why_not_heavy_ball("SGD", {"lr": 0.1, "momentum": 0.0, "dampening": 0.5}) is None  # no buffer used
    assert "Adam" in L.why_not_heavy_ball("Adam", {"lr": 0.1})
    assert "dampening" in L.why_not_heavy_ball("SGD", {"momentum": 0.9, "dampening": 0.5})
    assert "Nesterov" in L.why_not_heavy_ball("SGD", {"momentum": 0.9, "nesterov": True})
    assert "weight decay" in L.why_not_heavy_ball("SGD", {"weight_decay": 1e-3})
    assert "maximize" in L.why_not_heavy_ball("SGD", {"maximize": True})
