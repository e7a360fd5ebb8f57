"""The run loop: shapes, d2l's worked numbers, noise, common random numbers, clipping, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.run import EXPLODE_FACTOR


@pytest.fixture
def quadratic():
    return gdviz.surface("quadratic")


def test_gd_on_quadratic_matches_closed_form(quadratic):
    """GD on x1² + 2x2² contracts each coordinate by (1 - 2·η·a_i) per step (d2l 12.3)."""
    lr, steps = 0.1, 20
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=lr), start=(-5.0, -2.0), steps=steps)
    t = np.arange(steps + 1)[:, None]
    expected = np.array([-5.0, -2.0]) * np.array([1 - 2 * lr * 1, 1 - 2 * lr * 2]) ** t
    np.testing.assert_allclose(traj.xs, expected, rtol=1e-12)
    np.testing.assert_allclose(traj.losses, expected[:, 0] ** 2 + 2 * expected[:, 1] ** 2, rtol=1e-12)
    np.testing.assert_allclose(traj.grads, np.stack([2 * expected[:-1, 0], 4 * expected[:-1, 1]], axis=1))
    np.testing.assert_array_equal(traj.lrs, np.full(steps, lr))
    assert traj.diverged_at is None


def test_d2l_printed_result(quadratic):
    """d2l 12.3.2 prints "epoch 20, x1: -0.057646, x2: -0.000073" for eta = 0.1 on f = x1² + 2x2²."""
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), start=(-5.0, -2.0), steps=20)
    np.testing.assert_allclose(traj.xs[-1], [-0.057646, -0.000073], atol=5e-7)


def test_shapes_single_and_batch(quadratic):
    single = gdviz.run(quadratic, gdviz.optimizer("Adam", lr=0.1), start=(1.0, 2.0), steps=7)
    assert single.xs.shape == (8, 2) and single.losses.shape == (8,)
    assert single.grads.shape == (7, 2) and single.lrs.shape == (7,)
    assert single.states["exp_avg"].shape == (8, 2)
    starts = np.random.default_rng(0).uniform(-3, 3, size=(5, 2))
    batch = gdviz.run(quadratic, gdviz.optimizer("Adam", lr=0.1), start=starts, steps=7)
    assert batch.xs.shape == (8, 5, 2) and batch.losses.shape == (8, 5)
    assert batch.grads.shape == (7, 5, 2) and batch.lrs.shape == (7, 5)
    assert batch.diverged_at == [None] * 5
    sweep = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=np.geomspace(1e-3, 1e-1, 4), momentum=0.9), steps=7)
    assert sweep.xs.shape == (8, 4, 2)
    np.testing.assert_array_equal(sweep.xs[0], np.tile(quadratic.default_start, (4, 1)))


def test_one_dimensional_surface():
    parabola = gdviz.surface("parabola")
    traj = gdviz.run(parabola, gdviz.optimizer("SGD", lr=0.2), start=10.0, steps=10)
    assert traj.xs.shape == (11, 1)
    np.testing.assert_allclose(traj.xs[:, 0], 10.0 * 0.6 ** np.arange(11), rtol=1e-12)  # d2l 12.3.1


def test_noise_is_d2l_gaussian_scaled_by_batch(quadratic):
    """g = ∇f + N(0, σ²/b): the recorded gradient minus the exact one has that distribution."""
    sigma, b = 2.0, 4
    traj = gdviz.run(
        quadratic, gdviz.optimizer("SGD", lr=0.0), start=np.zeros((200, 2)), steps=50, noise=sigma, batch_size=b
    )
    eps = traj.grads  # the exact gradient is zero at the (fixed) origin
    assert abs(eps.mean()) < 0.02
    assert eps.std() == pytest.approx(sigma / math.sqrt(b), rel=0.03)


def test_common_random_numbers_across_optimizers(quadratic):
    opts = [gdviz.optimizer("SGD", lr=0.05), gdviz.optimizer("SGD", lr=0.05, momentum=0.5), gdviz.optimizer("Adam")]
    trajs = gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=30, noise=1.0, seed=3)
    noises = [t.grads - quadratic.grad(t.xs[:-1]) for t in trajs]
    np.testing.assert_allclose(noises[1], noises[0], atol=1e-12)
    np.testing.assert_allclose(noises[2], noises[0], atol=1e-12)
    # a race is exactly the separate runs with the same seed
    alone = gdviz.run(quadratic, opts[1], start=(-5.0, -2.0), steps=30, noise=1.0, seed=3)
    np.testing.assert_array_equal(alone.xs, trajs[1].xs)
    other_seed = gdviz.run(quadratic, opts[1], start=(-5.0, -2.0), steps=30, noise=1.0, seed=4)
    assert not np.allclose(other_seed.xs, trajs[1].xs)


def test_noise_of_a_run_does_not_depend_on_the_batch(quadratic):
    one = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), start=(1.0, 1.0), steps=20, noise=1.0, seed=7)
    many = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), start=np.ones((3, 2)), steps=20, noise=1.0, seed=7)
    np.testing.assert_array_equal(many.xs[:, 0], one.xs)
    assert not np.allclose(many.xs[:, 1], one.xs)


RACERS = [("SGD", {"lr": 0.05}), ("SGD", {"lr": 0.05, "momentum": 0.5}), ("Adam", {"lr": 0.1})]


def test_constant_noise_schedule_is_bit_identical_to_the_number(quadratic):
    """A schedule scales the same draws, so σ_t = σ at every step is exactly ``noise=σ``."""
    opts = [gdviz.optimizer(name, **hyper) for name, hyper in RACERS]
    common = dict(start=(-5.0, -2.0), steps=40, seed=11, batch_size=3)
    by_number = gdviz.race(quadratic, opts, noise=0.7, **common)
    schedule = np.full(40, 0.7)
    for given in (schedule, [0.7] * 40):
        by_schedule = gdviz.race(quadratic, opts, noise=given, **common)
        for a, b in zip(by_number, by_schedule):
            for name in ("xs", "losses", "grads", "lrs"):
                np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
            for name in a.states:
                np.testing.assert_array_equal(b.states[name], a.states[name])
            assert b.noise == a.noise == 0.7
            assert a.noise_sigmas is None
            np.testing.assert_array_equal(b.noise_sigmas, schedule)
    # the recorded schedule is a read-only copy: editing the caller's array later changes nothing
    traj = gdviz.run(quadratic, opts[0], steps=40, noise=schedule)
    schedule[:] = 9.0
    assert traj.noise_sigmas[0] == 0.7 and not traj.noise_sigmas.flags.writeable


def test_noise_schedule_scales_each_steps_draws_by_its_sigma(quadratic):
    """At the fixed origin (∇f = 0, lr = 0) the gradient used is the noise: draw[r, t-1] · σ_t / √b."""
    runs, steps, b, seed = 5, 30, 4, 2
    sigmas = 3.0 * 0.8 ** np.arange(steps)
    sigmas[7] = 0.0  # a silent step in the middle
    traj = gdviz.run(
        quadratic,
        gdviz.optimizer("SGD", lr=0.0),
        start=np.zeros((runs, 2)),
        steps=steps,
        noise=sigmas,
        seed=seed,
        batch_size=b,
    )
    draws = np.random.default_rng(seed).standard_normal((runs, steps, 2))
    expected = draws * (sigmas / math.sqrt(b))[:, None]  # (runs, steps, 2)
    np.testing.assert_array_equal(traj.grads, expected.transpose(1, 0, 2))
    assert np.all(traj.grads[7] == 0.0)
    scale = np.sqrt(np.mean(traj.grads**2, axis=(1, 2)))  # (steps,) the empirical σ_t/√b
    assert scale[-1] < 1e-2 * scale[0]
    assert traj.noise == 3.0


def test_common_random_numbers_hold_with_a_schedule(quadratic):
    opts = [gdviz.optimizer(name, **hyper) for name, hyper in RACERS]
    sigmas = np.linspace(2.0, 0.1, 30)
    trajs = gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=30, noise=sigmas, seed=3)
    noises = [t.grads - quadratic.grad(t.xs[:-1]) for t in trajs]
    np.testing.assert_allclose(noises[1], noises[0], atol=1e-12)
    np.testing.assert_allclose(noises[2], noises[0], atol=1e-12)
    alone = gdviz.run(quadratic, opts[2], start=(-5.0, -2.0), steps=30, noise=sigmas, seed=3)
    np.testing.assert_array_equal(alone.xs, trajs[2].xs)


def test_all_zero_noise_schedule_is_the_noiseless_run(quadratic):
    opt = gdviz.optimizer("Adam", lr=0.1)
    quiet = gdviz.run(quadratic, opt, start=(-5.0, -2.0), steps=25, noise=np.zeros(25), seed=4)
    plain = gdviz.run(quadratic, opt, start=(-5.0, -2.0), steps=25)
    np.testing.assert_array_equal(quiet.xs, plain.xs)
    np.testing.assert_array_equal(quiet.grads, plain.grads)
    assert quiet.noise == 0.0


@pytest.mark.parametrize(
    "noise, message",
    [
        (np.ones(3), "one σ per step: 4 values, got 3"),
        ([1.0] * 5, "one σ per step: 4 values, got 5"),
        ([1.0, -0.5, 1.0, 1.0], "step 2 has -0.5"),
        ([1.0, 1.0, float("nan"), 1.0], "finite"),
        ([1.0, 1.0, 1.0, float("inf")], "step 4 has inf"),
        (True, "noise must be a number"),
        (np.bool_(True), "noise must be a number"),
        ([True, False, True, True], "schedule of 4"),
        ("0.5", "schedule of 4"),
        (None, "schedule of 4"),
        (np.ones((4, 1)), "schedule of 4"),
        ([1.0, [1.0, 2.0], 1.0, 1.0], "schedule of 4"),
        ([1j, 1.0, 1.0, 1.0], "schedule of 4"),
    ],
)
def test_bad_noise_schedules_raise_value_error(quadratic, noise, message):
    with pytest.raises(ValueError, match=message):
        gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), steps=4, noise=noise)


def test_a_long_bad_schedule_gives_a_short_message(quadratic):
    with pytest.raises(ValueError) as error:
        gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), steps=4, noise=np.ones((1000, 2)))
    assert len(str(error.value)) < 200


def test_gradient_clipping_matches_torch_rule(quadratic):
    max_norm = 0.5
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1, max_grad_norm=max_norm), start=(-5.0, -2.0), steps=5)
    exact = quadratic.grad(traj.xs[:-1])
    norms = np.linalg.norm(exact, axis=1, keepdims=True)
    np.testing.assert_allclose(traj.grads, exact * np.minimum(1.0, max_norm / (norms + 1e-6)), rtol=1e-14)
    np.testing.assert_allclose(np.diff(traj.xs, axis=0), -0.1 * traj.grads, rtol=1e-12)


def test_divergence_is_recorded_and_arrays_stay_finite(quadratic):
    """GD on x1² + 2x2² is unstable for lr > 2/λmax = 0.5: it must stop cleanly, no NaN, no warning."""
    lrs = np.array([0.1, 0.6, 1.5])
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=lrs), start=(-5.0, -2.0), steps=2000)
    assert traj.diverged_at[0] is None
    assert traj.diverged_at[1] is not None and traj.diverged_at[2] is not None
    assert traj.diverged_at[2] < traj.diverged_at[1]
    for array in (traj.xs, traj.losses, traj.grads, traj.lrs, *traj.states.values()):
        assert np.all(np.isfinite(array))
    d = traj.diverged_at[1]
    # the finite prefix is kept and the last good iterate repeats
    np.testing.assert_array_equal(traj.xs[d:, 1], np.broadcast_to(traj.xs[d - 1, 1], traj.xs[d:, 1].shape))
    assert np.all(traj.grads[d - 1 :, 1] == 0)
    assert np.all(np.abs(traj.xs[:d, 1]) <= EXPLODE_FACTOR * 10)
    # the run that did not diverge is untouched by its neighbours
    alone = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), start=(-5.0, -2.0), steps=2000)
    np.testing.assert_array_equal(traj.xs[:, 0], alone.xs)


@pytest.mark.parametrize("record", ["all", "path", "final"])
def test_loop_stops_once_every_run_is_frozen(quadratic, monkeypatch, record):
    """A race whose runs all diverged evaluates no more gradients (issue 17: a run that diverged at step 1
    still computed all 5,000 steps); the remaining steps are recorded as the frozen-run rule says."""
    calls = []
    value_and_grad = type(quadratic).value_and_grad

    def counted(self, x):
        calls.append(1)
        return value_and_grad(self, x)

    monkeypatch.setattr(type(quadratic), "value_and_grad", counted)
    steps = 100_000
    sched = gdviz.schedule("StepLR", step_size=3, gamma=0.5)
    opts = [gdviz.optimizer("SGD", lr=np.array([1e9, 1e12])), gdviz.optimizer("Adam", lr=1e9)]
    a, b = gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=steps, schedule=sched, record=record)
    assert a.diverged_at == [1, 1] and b.diverged_at == 1
    assert len(calls) <= 3  # the start, and the step every run froze at
    kept = steps + 1 if record != "final" else 2
    assert a.xs.shape == (kept, 2, 2)
    np.testing.assert_array_equal(a.xs[-1], [[-5.0, -2.0]] * 2)
    np.testing.assert_array_equal(b.losses[-1], 25.0 + 8.0)
    if record != "final":
        np.testing.assert_array_equal(a.xs, np.broadcast_to([-5.0, -2.0], a.xs.shape))
        # the schedule still drives the recorded lrs of frozen runs
        np.testing.assert_allclose(b.lrs[:30], 1e9 * 0.5 ** (np.arange(30) // 3), rtol=1e-15)
    if record == "all":
        assert not a.grads.any() and b.states["exp_avg"].shape == (steps + 1, 2)
        np.testing.assert_array_equal(b.states["exp_avg"], 0.0)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_no_optimizer_leaks_nan_when_pushed_to_diverge(name):
    """Huge learning rates on a steep surface: finite arrays, no warnings (pytest turns them into errors)."""
    cls = OPTIMIZERS[name]
    hyper = {"lr": 1e6} if any(spec.name == "lr" for spec in cls.spec) else {}
    surface = gdviz.surface("rosenbrock")
    traj = gdviz.run(surface, cls(**hyper), start=(-1.5, 2.0), steps=200)
    for array in (traj.xs, traj.losses, traj.grads, traj.lrs, *traj.states.values()):
        assert np.all(np.isfinite(array)), name


def test_schedule_drives_lrs(quadratic):
    sched = gdviz.schedule("StepLR", step_size=3, gamma=0.5)
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.2), steps=9, schedule=sched)
    np.testing.assert_allclose(traj.lrs, 0.2 * 0.5 ** (np.arange(9) // 3), rtol=1e-15)
    np.testing.assert_allclose(np.diff(traj.xs, axis=0), -traj.lrs[:, None] * traj.grads, rtol=1e-12)


def test_results_helpers(quadratic):
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), start=(-5.0, -2.0), steps=100)
    dist = traj.distance_to_minimum()
    np.testing.assert_allclose(dist, np.linalg.norm(traj.xs, axis=1))
    first = traj.steps_to(1e-6)
    assert traj.losses[first] <= 1e-6 < traj.losses[first - 1]
    np.testing.assert_allclose(traj.grad_norms(), np.linalg.norm(quadratic.grad(traj.xs), axis=1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": -1}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"noise": -1.0}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"batch_size": 0}, "batch_size"),
        ({"seed": -3}, "seed"),
        ({"start": (1.0, 2.0, 3.0)}, "start"),
        ({"start": (float("inf"), 0.0)}, "start"),
        ({"start": "abc"}, "start"),
    ],
)
def test_bad_arguments_raise_value_error(quadratic, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.1), **kwargs)


def test_swept_hyper_parameters_must_agree_with_start_rows(quadratic):
    with pytest.raises(ValueError, match="rows"):
        gdviz.run(quadratic, gdviz.optimizer("SGD", lr=np.ones(3) * 0.1), start=np.zeros((4, 2)))
