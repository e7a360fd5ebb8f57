"""The scrubbers' sweep: every cell of the (β, η) grid is bit for bit the lone ``gdviz.run`` of its setting."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from gdviz.landscape.scrub import momentum_axis, sweep_paths

LRS = [0.001, 0.01, 0.05, 0.3, 1.5]  # the last ones diverge on most surfaces: they must match too


def lone_run(surface, sweep, row, col, start, steps, schedule=None):
    opt = gdviz.optimizer(sweep.optimizer, **sweep.cell_settings(row, col))
    return gdviz.run(surface, opt, start, steps, schedule, record="path")


def assert_cells_match(surface, sweep, start, steps, schedule=None):
    for row in range(sweep.xs.shape[0]):
        for col in range(sweep.xs.shape[1]):
            alone = lone_run(surface, sweep, row, col, start, steps, schedule)
            xs = alone.xs.reshape(steps + 1, -1, surface.dim)
            np.testing.assert_array_equal(sweep.xs[row, col], xs, err_msg=f"cell {row, col}")
            np.testing.assert_array_equal(sweep.losses[row, col], alone.losses.reshape(steps + 1, -1))
            np.testing.assert_array_equal(sweep.diverged_at[row, col], np.ravel(alone.diverged_step))


@pytest.mark.parametrize("name", sorted(gdviz.OPTIMIZERS))
def test_every_cell_is_the_lone_run_of_its_setting(name):
    surface = gdviz.surface("rosenbrock" if name != "Newton" else "himmelblau")
    base = gdviz.optimizer(name)
    axis = momentum_axis(name)
    betas = [0.0, 0.5, 0.9] if axis is not None else None
    sweep = sweep_paths(surface, base, LRS, betas, steps=40)
    assert sweep.xs.shape[:2] == ((3 if axis else 1), len(LRS))
    assert_cells_match(surface, sweep, None, 40)


def test_several_starts_clipping_and_a_schedule():
    surface = gdviz.surface("himmelblau")
    starts = np.array([[0.0, 0.0], [-3.0, 3.5], [4.0, -4.0]])
    base = gdviz.optimizer("Adam", lr=0.1, betas=(0.8, 0.99), max_grad_norm=5.0)
    schedule = gdviz.schedule("StepLR", step_size=10, gamma=0.5)
    sweep = sweep_paths(surface, base, [0.05, 0.2, 0.8], [0.0, 0.95], starts, 30, schedule)
    assert sweep.xs.shape == (2, 3, 31, 3, 2)
    assert sweep.cell_settings(1, 2)["betas"] == (0.95, 0.99)
    assert sweep.cell_settings(1, 2)["max_grad_norm"] == 5.0
    assert_cells_match(surface, sweep, starts, 30, schedule)


def test_a_one_dimensional_surface_and_compression():
    surface = gdviz.surface("xcos")
    sweep = sweep_paths(surface, gdviz.optimizer("SGD", momentum=0.5), [0.01, 0.1, 0.5], [0.0, 0.9], [3.0], 25)
    assert sweep.beta_axis == "momentum"
    assert_cells_match(surface, sweep, [3.0], 25)
    surface = gdviz.surface("rosenbrock")
    compressed = gdviz.optimizer("SGD", lr=0.001, momentum=0.9, compress_topk=1)
    sweep = sweep_paths(surface, compressed, [0.0005, 0.002], [0.0, 0.9], None, 20)
    assert sweep.cell_settings(0, 0)["compress_topk"] == 1
    assert_cells_match(surface, sweep, None, 20)


def test_no_second_knob_and_refusals():
    surface = gdviz.surface("quadratic")
    sweep = sweep_paths(surface, gdviz.optimizer("Adagrad"), [0.1, 1.0], [0.3], steps=5)
    assert sweep.beta_axis is None and sweep.xs.shape[0] == 1
    with pytest.raises(ValueError, match="> 0"):
        sweep_paths(surface, gdviz.optimizer("SGD"), [0.0, 0.1], steps=5)
    with pytest.raises(ValueError):
        sweep_paths(surface, gdviz.optimizer("SGD"), [float("nan")], steps=5)
    stopped = sweep_paths(surface, gdviz.optimizer("SGD"), [0.1], steps=500, should_stop=lambda: True)
    assert stopped is None


@pytest.mark.parametrize("name", sorted(gdviz.SCHEDULES))
def test_every_schedule_scales_each_cell_as_its_lone_run(name):
    from gdviz.schedules import schedule_class

    surface = gdviz.surface("booth")
    cls = schedule_class(name)
    params = dict(getattr(cls, "demo", {}) or {})
    try:
        schedule = gdviz.schedule(name, **params)
    except (TypeError, ValueError):
        pytest.skip(f"{name} needs settings this test does not guess")
    base = gdviz.optimizer("SGD", lr=0.01, momentum=0.5)
    try:
        sweep = sweep_paths(surface, base, [0.005, 0.02, 0.08], [0.0, 0.9], None, 30, schedule)
    except ValueError as error:  # e.g. a schedule that needs its total steps
        pytest.skip(str(error))
    assert_cells_match(surface, sweep, None, 30, schedule)


def test_values_an_optimizer_refuses_are_left_out():
    from gdviz.landscape.scrub import accepted_values

    nesterov = gdviz.optimizer("SGD", lr=0.01, momentum=0.9, nesterov=True)
    assert accepted_values(nesterov, "momentum", [0.0, 0.5, 0.9]) == [0.5, 0.9]
    assert accepted_values(gdviz.optimizer("Adam"), "betas[0]", [0.0, 0.9, 1.5]) == [0.0, 0.9]
