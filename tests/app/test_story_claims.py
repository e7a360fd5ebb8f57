"""Every story's claim, checked on its race: one claim per preset, and a story without one fails.

A claim is a small function of the story's race (ui.playground.simulate.Race) that asserts what the story's
text says: who ends lowest, where a run ends, when it diverges, how far it is flung. Where the text's point
is something to see on the map (a path that leaves the map, a zig-zag that dies out, a scribble that
shrinks), the claim measures that on the trajectories the map draws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ui.figures.race import race_spec
from ui.playground.presets import PRESETS
from ui.playground.simulate import Race, divergence_messages, simulate


def _race(key: str) -> Race:
    race, error = simulate(PRESETS[key].scenario)
    assert error is None, error
    return race


def _nearest_minimum(race: Race, point) -> int:
    return int(np.argmin(np.linalg.norm(race.surface.minima - point, axis=1)))


def _step_lengths(trajectory, last: int) -> np.ndarray:
    return np.linalg.norm(np.diff(trajectory.xs[-last - 1 :], axis=0), axis=1)


# -- the claims, one per story --------------------------------------------------------------------------
def saddle(race: Race) -> None:
    gd, momentum, adam = race.trajectories
    assert np.linalg.norm(gd.xs[-1]) < 0.5  # GD is still at the saddle after 40 steps
    assert abs(momentum.xs[-1][1]) > 2 and abs(adam.xs[-1][1]) > 1  # momentum and Adam leave it


def plateau(race: Race) -> None:
    gd, momentum, adam = race.trajectories
    assert np.linalg.norm(gd.xs[-1] - gd.xs[0]) < 0.5
    assert momentum.losses[-1] < 0.2 < gd.losses[-1]
    assert adam.losses[-1] < 1e-6


def local_trap(race: Race) -> None:
    gd, momentum, adam = race.trajectories
    assert abs(gd.xs[-1][0]) < 0.1 and abs(adam.xs[-1][0]) < 0.1  # the shallow dip at x1 = 0
    assert abs(momentum.xs[-1][0] - 3) < 0.1  # the global minimum at x1 = 3


def cliff(race: Race) -> None:
    gd, clipped, rmsprop = race.trajectories
    assert gd.xs[1][0] < -10 and abs(np.linalg.norm(gd.grads[0]) - 156) < 1  # flung to x1 ≈ −14
    assert np.all(np.linalg.norm(np.diff(clipped.xs, axis=0), axis=1) <= 0.1 + 1e-9)
    assert rmsprop.xs[:, 0].min() > -3


def _zigzag(race: Race, trajectory) -> np.ndarray:
    """|the iterate's component along the ravine's steep axis| at every step."""
    steep = np.linalg.eigh(race.surface.hessian(np.zeros((1, 2)))[0])[1][:, -1]
    return np.abs(trajectory.xs @ steep)


def ravine(race: Race) -> None:
    gd, heavy_ball, nesterov = race.trajectories
    assert abs(race.surface.stable_lr() - 0.1) < 1e-12
    # on the map: GD zig-zags wall to wall for ~30 steps, heavy ball's swing dies within ~15, Nesterov's at once
    last_wide = [int(np.flatnonzero(_zigzag(race, t) > 0.05).max()) for t in race.trajectories]
    assert 25 <= last_wide[0] <= 35 and last_wide[1] <= 17 and last_wide[2] <= 1
    # GD is still 0.57 short of the minimum; both momenta reach it, with a loss more than 1000× lower
    assert abs(np.linalg.norm(gd.xs[-1]) - 0.57) < 0.01
    assert all(np.linalg.norm(t.xs[-1]) < 0.02 for t in (heavy_ball, nesterov))
    assert gd.losses[-1] > 1000 * max(heavy_ball.losses[-1], nesterov.losses[-1])


def fixed_lr(race: Race) -> None:
    small, large, warmed = race.trajectories
    surface = race.surface
    wall = np.linspace([0.5, 3.0], [1.4, 3.0], 91)
    assert abs(np.linalg.eigvalsh(surface.hessian(wall)).max() - 770) < 5  # the wall's curvature ≈ 770
    assert abs(np.linalg.norm(small.xs[-1]) - 2.8) < 0.1  # η = 0.003 crawls along the floor
    assert abs(large.xs[1][0] + 77) < 1  # η = 0.5 is flung off the map at its first step
    back = int(np.flatnonzero(large.xs[:, 0] < surface.bounds[0][0]).max()) + 1
    assert back == 6  # ... and is back on the map after 6 steps
    # the warm-up: the same η = 0.5 after 20 steps from 0.005; it never leaves the map and reaches the minimum
    assert warmed.lrs[0] == pytest.approx(0.005) and warmed.lrs[20:] == pytest.approx(0.5)
    low, high = np.asarray(surface.bounds).T
    assert np.all((warmed.xs >= low) & (warmed.xs <= high))
    assert np.linalg.norm(warmed.xs[-1]) < 1e-3
    assert small.lrs == pytest.approx(0.003) and large.lrs == pytest.approx(0.5)


def d2l_schedules(race: Race) -> None:
    constant, exponential, polynomial = race.trajectories
    assert constant.grads[0].tolist() == polynomial.grads[0].tolist() == exponential.grads[0].tolist()
    assert abs(exponential.lrs.sum() - 1.05) < 0.01  # Σ η_t ≈ 1.05
    assert abs(exponential.xs[-1][0] + 0.48) < 0.01 and _step_lengths(exponential, 50).sum() < 0.02  # it stops
    assert polynomial.losses[-1] < constant.losses[-1] < exponential.losses[-1]
    # on the map: the constant lr scribbles in steps of ≈ 0.13, the polynomial one in a ball half the size
    assert abs(_step_lengths(constant, 50).mean() - 0.13) < 0.01
    assert abs(_step_lengths(polynomial, 50).mean() - 0.04) < 0.01
    radius = [np.linalg.norm(t.xs[-50:], axis=1).max() for t in (constant, polynomial)]
    assert radius[1] < radius[0] / 2


def d2l_momentum(race: Race) -> None:
    gd4, gd6, m4, m6 = race.trajectories
    assert gd6.diverged_at == 45  # "flagged as diverged at step 45"
    low, high = np.asarray(race.surface.bounds).T
    outside = np.flatnonzero(np.any((gd6.xs < low) | (gd6.xs > high), axis=1))
    assert outside[0] == 2  # "it leaves the map at its second step"
    assert gd4.diverged_at is None and gd4.losses[-1] < 1e-3
    assert m4.losses[-1] < 1e-8 and m6.losses[-1] < 1e-8
    ((who, message),) = divergence_messages(race)
    assert who == race.labels[1] and "2/λmax = 0.5" in message


def adagrad_rmsprop(race: Race) -> None:
    slow, fast, rmsprop = race.trajectories
    assert slow.losses[-1] > 0.1
    assert fast.losses[-1] < 1e-6 and rmsprop.losses[-1] < 1e-3
    printed = [-2.382563, -0.002295, -0.010599]  # the book's printed x1 after 20 steps
    assert [t.xs[-1][0] for t in race.trajectories] == pytest.approx(printed, abs=5e-7)


def newton_saddle(race: Race) -> None:
    newton, gd, damped = race.trajectories
    assert np.allclose(newton.xs[1:], 0.0)
    assert abs(gd.xs[-1][1]) > 0.3
    assert damped.diverged_at is not None or abs(damped.xs[-1][1]) > 100


def newton_xcos(race: Race) -> None:
    full, half, gd = race.trajectories
    curvature = [float(race.surface.hessian(t.xs[-1]).ravel()[0]) for t in race.trajectories]
    assert curvature[0] < 0 < curvature[1] and curvature[2] > 0
    assert abs(half.xs[-1][0] - 7.27) < 0.05 and abs(gd.xs[-1][0] - 7.27) < 0.1


def himmelblau_starts(race: Race) -> None:
    for trajectory in race.trajectories:
        assert trajectory.batched and trajectory.xs.shape[1] == 4
        assert sorted(_nearest_minimum(race, end) for end in trajectory.xs[-1]) == [0, 1, 2, 3]
        assert np.all(trajectory.distance_to_minimum()[-1] < 1e-3)
    hill = np.array([-0.270845, -0.923039])
    starts = np.array([race.scenario.start, *race.scenario.more_starts])
    assert np.allclose(np.linalg.norm(starts - hill, axis=1), 0.5, atol=0.01)


def himmelblau(race: Race) -> None:
    assert {_nearest_minimum(race, t.xs[-1]) for t in race.trajectories} == {0, 1, 2, 3}
    assert all(t.distance_to_minimum()[-1] < 0.05 for t in race.trajectories)


def adam_then_sgd(race: Race) -> None:
    adam, switched, _ = race.trajectories
    assert np.linalg.norm(adam.xs[-1] - 1) > 0.1  # Adam is still far from (1, 1)
    assert 30 < adam.losses[-1] / switched.losses[-1] < 120  # "about 60× lower"


def compression(race: Race) -> None:
    plain, feedback, dropped = race.trajectories
    assert np.abs(feedback.xs - plain.xs).max() < 0.8  # within 0.8 of plain GD's path
    assert np.allclose(plain.xs[-1], [3, 2], atol=0.05) and np.allclose(feedback.xs[-1], [3, 2], atol=0.05)
    assert np.all(dropped.xs[:11, 0] == 0) and dropped.xs[10, 1] > 0  # only x2 moves for 10 steps
    assert np.allclose(dropped.xs[-1], [-2.81, 3.13], atol=0.05)


CLAIMS: dict[str, Callable[[Race], None]] = {
    "saddle": saddle,
    "plateau": plateau,
    "local-trap": local_trap,
    "cliff": cliff,
    "ravine": ravine,
    "fixed-lr": fixed_lr,
    "d2l-schedules": d2l_schedules,
    "d2l-momentum": d2l_momentum,
    "adagrad-rmsprop": adagrad_rmsprop,
    "newton-saddle": newton_saddle,
    "newton-xcos": newton_xcos,
    "himmelblau-starts": himmelblau_starts,
    "himmelblau": himmelblau,
    "adam-then-sgd": adam_then_sgd,
    "compression": compression,
}


def test_every_story_has_a_claim():
    assert sorted(CLAIMS) == sorted(PRESETS), "a story without a claim (or a claim without a story)"


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_the_story_tells_its_race(key):
    CLAIMS[key](_race(key))


def test_d2l_momentum_diverged_path_stops_where_it_leaves_the_map():
    """The story's picture: GD at η = 0.6 is drawn until it leaves the window, then an X waits on the edge;
    drawn to its end, its swings painted a block over the minimum that hid the three converging paths."""
    race = _race("d2l-momentum")
    spec = race_spec(race.surface, race.trajectories, race.labels)
    last = spec["frames"][-1]["data"]
    assert [len(last[i]["x"]) for i in range(4)] == [51, 3, 51, 51]  # GD 0.6: steps 0, 1 and 2 (off the map)
    assert list(last[4]["marker"]["symbol"]) == ["circle", "x", "circle", "circle"]
    low, high = np.asarray(race.surface.bounds).T
    head = np.array([last[4]["x"][1], last[4]["y"][1]], dtype=float)
    assert np.all(head >= low) and np.all(head <= high)  # the X on the window's edge, in sight
    (y_low, y_high) = spec["layout"]["yaxis"]["range"]
    assert (y_low, y_high) == pytest.approx((-3.0, 3.0))  # the window is the surface's, not the blow-up's
