"""Landscape experiments: stability maps against the analytic bound, basins, restarts, annealing, tuning."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import gdviz
from gdviz import landscape as L


# -- stability map ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["quadratic", "ill_conditioned", "ravine", "booth"])
def test_stability_map_of_gd_on_a_quadratic_matches_two_over_lambda_max(name):
    """GD on a quadratic form converges iff lr < 2/λmax; the map must draw that line, cell for cell."""
    s = gdviz.surface(name)
    bound = s.stable_lr()
    lrs = np.geomspace(bound / 20, bound * 4, 61)
    lrs = lrs[np.abs(lrs / bound - 1) > 0.02]  # right at the bound, 300 steps cannot tell
    m = L.stability_map(s, "SGD", {}, ("lr", lrs), ("weight_decay", [0.0]), steps=300)
    assert m.final_loss.shape == (1, lrs.size)
    np.testing.assert_array_equal(m.stable[0], lrs < bound)
    assert m.diverged[0, -1]  # far above the bound the run blows up and the engine says so
    assert not m.diverged[0, lrs < bound].any()


def test_heavy_ball_map_matches_its_analytic_region():
    """torch's SGD momentum is the heavy ball: stable on a quadratic iff lr·λmax < 2(1 + μ)."""
    s = gdviz.surface("quadratic")
    lrs, momenta = np.geomspace(0.01, 2.0, 45), np.linspace(0.0, 0.9, 10)
    m = L.stability_map(s, "SGD", {}, ("lr", lrs), ("momentum", momenta), steps=400)
    bound = 2 * (1 + momenta[:, None]) / 4.0
    clear = np.abs(lrs[None, :] / bound - 1) > 0.03
    np.testing.assert_array_equal(m.stable[clear], (lrs[None, :] < bound)[clear])
    assert m.x_values is not None and m.final_x.shape == (10, 45, 2)


@pytest.mark.parametrize("lr", [0.1, 1e6])
def test_one_by_one_map_from_equal_ranges(lr):
    """from = to on both axes (issue 17: /landscape?view=stability&st.xlo=0.1&st.xhi=0.1&st.ylo=0.5&st.yhi=0.5
    raised IndexError): a 1 x 1 map, the single run of that setting; a diverging one too."""
    s = gdviz.surface("rosenbrock")
    m = L.stability_map(s, "SGD", {}, ("lr", [lr]), ("momentum", [0.5]), start=(-1.5, 2.0), steps=50)
    alone = gdviz.run(s, gdviz.optimizer("SGD", lr=lr, momentum=0.5), start=(-1.5, 2.0), steps=50, record="final")
    assert m.final_loss.shape == m.diverged_at.shape == (1, 1) and m.final_x.shape == (1, 1, 2)
    assert m.final_loss[0, 0] == alone.losses[-1] and m.start_loss == alone.losses[0]
    np.testing.assert_array_equal(m.final_x[0, 0], alone.xs[-1])
    np.testing.assert_array_equal(m.start, [-1.5, 2.0])
    assert m.diverged_at[0, 0] == (-1 if alone.diverged_at is None else alone.diverged_at)
    assert m.best() == (None if m.diverged[0, 0] else (0, 0))
    assert m.setting(0, 0)["lr"] == lr


def test_map_cells_equal_single_runs_and_pair_axes():
    s = gdviz.surface("rosenbrock")
    lrs, beta2 = np.array([0.01, 0.05, 0.2]), np.array([0.9, 0.99])
    m = L.stability_map(s, "Adam", {"betas": (0.8, 0.999)}, ("lr", lrs), ("betas[1]", beta2), steps=60)
    for row, col in [(0, 0), (1, 2), (0, 1)]:
        setting = m.setting(row, col)
        assert setting["betas"] == (0.8, beta2[row]) and setting["lr"] == lrs[col]
        single = gdviz.run(s, gdviz.optimizer("Adam", **setting), steps=60)
        assert m.final_loss[row, col] == single.losses[-1]
    row, col = m.best()
    assert m.final_loss[row, col] == m.final_loss.min()
    assert m.gap.min() >= 0 and m.f_ref == 0.0


def test_map_rejects_bad_axes():
    s = gdviz.surface("quadratic")
    with pytest.raises(ValueError, match="cannot sweep"):
        L.stability_map(s, "SGD", {}, ("nesterov", [0, 1]), ("lr", [0.1]))
    with pytest.raises(ValueError, match="must differ"):
        L.stability_map(s, "SGD", {}, ("lr", [0.1]), ("lr", [0.2]))
    with pytest.raises(ValueError, match="finite"):
        L.stability_map(s, "SGD", {}, ("lr", [np.nan]), ("momentum", [0.1]))
    assert "betas[1]" in L.sweep_axes("Adam") and "amsgrad" not in L.sweep_axes("Adam")


# -- basins ----------------------------------------------------------------------------------------
def test_basin_labels_near_each_of_himmelblaus_four_minima():
    s = gdviz.surface("himmelblau")
    opt = gdviz.optimizer("SGD", lr=0.01)
    b = L.basins(s, opt, grid=60, steps=400)
    assert b.labels.shape == (60, 60)
    np.testing.assert_allclose(b.minima[:4], s.minima)
    xs, ys = b.axes
    for k, (mx, my) in enumerate(s.minima):
        col, row = np.argmin(np.abs(xs - mx)), np.argmin(np.abs(ys - my))
        # the 5 x 5 cells around each minimum all flow into it
        assert (b.labels[row - 2 : row + 3, col - 2 : col + 3] == k).all()
    assert set(b.counts()) == {0, 1, 2, 3}


def test_basins_other_labels_and_two_optimizers_in_one_call():
    s = gdviz.surface("himmelblau")
    fast, slow = gdviz.optimizer("SGD", lr=0.5), gdviz.optimizer("SGD", lr=1e-4)
    blown, crawling = L.compare_basins(s, [fast, slow], grid=12, steps=30)
    assert (blown.labels == L.DIVERGED).mean() > 0.9  # lr 0.5 is far beyond the curvature of the walls
    assert (crawling.labels == L.NOT_CONVERGED).mean() > 0.9  # 30 tiny steps get nowhere
    assert (blown.diverged_at >= 0).sum() == (blown.labels == L.DIVERGED).sum()


def test_basins_in_one_dimension_and_found_attractors():
    s = gdviz.surface("x2_1_sin")
    b = L.basins(s, gdviz.optimizer("SGD", lr=0.005), grid=200, steps=2000)
    assert b.labels.shape == (200,)
    # every start ends in a minimum (some just past the window's edge), and neighbours share a minimum
    assert (b.labels >= 0).all()
    assert np.count_nonzero(np.diff(b.labels)) <= 2 * len(b.minima)
    # f'' ≈ 120 at the minimum x ≈ 11.0, so lr 0.02 (lr·f'' > 2) bounces around it for ever there
    bouncing = L.basins(s, gdviz.optimizer("SGD", lr=0.02), grid=200, steps=2000)
    assert (bouncing.labels[b.axes[0] > 9] == L.NOT_CONVERGED).all()
    found = L.attractors(gdviz.surface("rastrigin"))
    assert len(found) > 100  # Rastrigin lists 1 minimum; Newton finds the ripples' minima in the window
    np.testing.assert_allclose(found[0], [0.0, 0.0])


# -- critical points on the plotted domain ------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [
        ("himmelblau", {"minimum": 4, "saddle": 4, "maximum": 1}),
        ("six_hump_camel", {"minimum": 6, "saddle": 7, "maximum": 2}),
        ("local_trap", {"minimum": 2, "saddle": 1}),
        ("saddle", {"saddle": 1}),
        ("monkey_saddle", {"degenerate": 1}),
    ],
)
def test_critical_points_found_and_classified(name, expected):
    s = gdviz.surface(name)
    found = gdviz.find_critical_points(s)
    assert Counter(cp.kind for cp in found) == expected
    for point, kind in s.critical_points:
        nearest = min(found, key=lambda cp: np.linalg.norm(cp.point - np.asarray(point)))
        assert nearest.kind == kind and np.linalg.norm(nearest.point - np.asarray(point)) < 1e-6


# -- ways out of a local minimum ----------------------------------------------------------------------
def test_random_restarts_find_all_himmelblau_minima_and_the_best():
    s = gdviz.surface("himmelblau")
    r = L.random_restarts(s, gdviz.optimizer("SGD", lr=0.01), n=40, steps=300, seed=3)
    box = np.asarray(s.bounds)
    assert ((r.starts >= box[:, 0]) & (r.starts <= box[:, 1])).all()
    assert r.xs.shape == (301, 40, 2)
    assert r.best == int(np.argmin(r.final_loss))
    assert np.all(np.diff(r.best_so_far) <= 0) and r.best_so_far[-1] == r.final_loss.min()
    ends = {int(np.argmin(np.linalg.norm(s.minima - x, axis=1))) for x in r.xs[-1]}
    assert ends == {0, 1, 2, 3}
    again = L.random_restarts(s, gdviz.optimizer("SGD", lr=0.01), n=40, steps=300, seed=3)
    np.testing.assert_array_equal(again.xs, r.xs)


@pytest.mark.parametrize("name, hyper", [("SGD", {"lr": 1e-3, "momentum": 0.9}), ("Adam", {"lr": 0.02})])
def test_annealing_is_one_run_with_the_cooling_schedule(name, hyper):
    """One gdviz.run with σ_t = σ0·γ^(t-1): momentum and Adam's moments carry through the cooling."""
    s = gdviz.surface("rosenbrock")
    opt = gdviz.optimizer(name, **hyper)
    start, steps = (-1.5, 2.0), 200
    a = L.annealed_noise_run(s, opt, start=start, steps=steps, noise=1.0, decay=0.98, runs=3, seed=5)
    sigmas = 1.0 * 0.98 ** np.arange(steps)
    np.testing.assert_array_equal(a.sigmas, sigmas)
    direct = gdviz.run(s, opt, start=np.tile(start, (3, 1)), steps=steps, noise=sigmas, seed=5)
    np.testing.assert_array_equal(a.xs, direct.xs)
    np.testing.assert_array_equal(a.losses, direct.losses)
    # without noise it is the plain run, which a restart of the optimizer halfway would not be
    calm = L.annealed_noise_run(s, opt, start=start, steps=steps, noise=0.0, decay=0.97, runs=2)
    plain = gdviz.run(s, opt, start=start, steps=steps)
    for r in range(2):
        np.testing.assert_array_equal(calm.xs[:, r], plain.xs)
    restarted = gdviz.run(s, opt, start=plain.xs[steps // 2], steps=steps - steps // 2)
    assert not np.allclose(restarted.xs[-1], plain.xs[-1])


def test_annealing_without_decay_is_a_constant_noise_run():
    s = gdviz.surface("rosenbrock")
    opt = gdviz.optimizer("Adam", lr=0.02)
    constant = L.annealed_noise_run(s, opt, start=(-1.5, 2.0), steps=50, noise=0.5, decay=1.0, runs=4, seed=9)
    single = gdviz.run(s, opt, start=np.tile([-1.5, 2.0], (4, 1)), steps=50, noise=0.5, seed=9)
    np.testing.assert_array_equal(constant.xs, single.xs)
    np.testing.assert_array_equal(constant.sigmas, np.full(50, 0.5))


@pytest.mark.parametrize("kwargs", [{"noise": -1.0}, {"noise": True}, {"decay": 0.0}, {"decay": 1.5}, {"runs": 0}])
def test_annealing_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        L.annealed_noise_run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=0.1), steps=10, **kwargs)


def test_annealing_escapes_the_local_trap_where_plain_gd_stays():
    s = gdviz.surface("local_trap")
    opt = gdviz.optimizer("SGD", lr=0.05)
    start = (0.0, 0.0)  # sitting in the shallow local minimum
    calm = L.annealed_noise_run(s, opt, start=start, steps=600, noise=0.0, runs=32)
    hot = L.annealed_noise_run(s, opt, start=start, steps=600, noise=3.0, decay=0.99, runs=32, seed=1)
    assert (calm.final_loss > -1).all()
    escaped = hot.final_loss < -4.4
    assert escaped.sum() >= 8
    assert hot.sigmas[-1] < 0.01 * hot.sigmas[0]


def test_annealing_freezes_a_diverged_run():
    s = gdviz.surface("quadratic")
    a = L.annealed_noise_run(s, gdviz.optimizer("SGD", lr=0.7), steps=300, noise=0.1, decay=0.98, runs=2)
    assert (a.diverged_at > 0).all()
    stop = a.diverged_at[0] - 1
    assert np.all(a.xs[stop:, 0] == a.xs[stop, 0]) and np.isfinite(a.losses).all()


# -- fair comparison -------------------------------------------------------------------------------
def test_tuning_finds_the_textbook_optimal_lr_for_gd():
    """For GD on a quadratic the fastest fixed lr is 2/(λmin + λmax) = 1/3 on x1² + 2x2²."""
    s = gdviz.surface("quadratic")
    grid = L.log_grid(1e-3, 1.0, 61)
    (gd,) = L.tune_lr(s, ["SGD"], grid, steps=200, tol=1e-8)
    assert abs(np.log(gd.best_lr / (1 / 3))) <= np.log(grid[1] / grid[0]) * 1.01
    assert gd.best_final_loss <= 1e-8 and gd.best_steps_to == gd.steps_to[gd.steps_to >= 0].min()
    assert (gd.final_loss[grid > 0.5] > 33.0).all() and gd.diverged[grid > 0.6].all() and not gd.at_edge
    np.testing.assert_array_equal(gd.xs[0], s.default_start)


def test_tuning_uses_the_same_grid_for_all_and_falls_back_to_the_lowest_loss():
    s = gdviz.surface("rosenbrock")
    grid = L.log_grid(1e-4, 0.5, 12)
    tuned = L.tune_lr(s, ["SGD", "Adam", "rmsprop"], grid, steps=100, tol=1e-12)
    assert [t.name for t in tuned] == ["SGD", "Adam", "RMSprop"]
    for t in tuned:
        np.testing.assert_array_equal(t.lrs, grid)
        assert t.losses.shape == (101,) and t.xs.shape == (101, 2)
        # nothing reaches 1e-12 in 100 steps: the best is the lowest final loss of the runs that did not diverge
        ok = ~t.diverged
        assert t.best_final_loss == t.final_loss[ok].min()
        assert t.losses[-1] == t.best_final_loss
    with pytest.raises(ValueError, match="positive"):
        L.tune_lr(s, ["SGD"], [0.0, 0.1])
    with pytest.raises(ValueError, match="Unknown optimizer"):
        L.tune_lr(s, ["NoSuch"], grid)
