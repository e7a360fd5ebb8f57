"""Generic tests over the registries: every optimizer converges on every problem with a known minimum,
every spec is coherent, and every optimizer and schedule carries what the UI shows.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.schedules import SCHEDULES

# one setting per optimizer, used on every problem (no per-problem tuning)
SETTINGS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adagrad": {"lr": 0.5},
    "RMSprop": {"lr": 0.01},
    "Adadelta": {"lr": 0.5},
    "Rprop": {"lr": 0.01},
    "ASGD": {"lr": 0.01},
    "Adam": {"lr": 0.05},
    "AdamW": {"lr": 0.05, "weight_decay": 0.0},
    "Adamax": {"lr": 0.05},
    "NAdam": {"lr": 0.05},
    "RAdam": {"lr": 0.05},
    "Newton": {"lr": 1.0},
    "Lion": {"lr": 0.01},
    "Yogi": {"lr": 0.05},
    "AdamThenSGD": {"lr": 0.05, "switch_step": 500, "sgd_lr": 0.001},
}
# problem: (start, convex) — Newton heads for the nearest critical point, so it gets the convex ones
PROBLEMS = {
    "quadratic": ((-5.0, -2.0), True),
    "booth": ((-5.0, 5.0), True),
    "three_hump_camel": ((1.0, 0.5), False),
    "himmelblau": ((0.5, -0.5), False),
}
STEPS = {"Adadelta": 10000}


def test_every_optimizer_has_a_convergence_setting():
    assert set(SETTINGS) == set(OPTIMIZERS)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_converges_to_a_known_minimum(name, problem):
    start, convex = PROBLEMS[problem]
    if name == "Newton" and not convex:
        pytest.skip("Newton's method converges to the nearest critical point, not necessarily a minimum")
    surface = gdviz.surface(problem)
    traj = gdviz.run(surface, gdviz.optimizer(name, **SETTINGS[name]), start=start, steps=STEPS.get(name, 3000))
    assert traj.diverged_at is None
    initial_gap = traj.losses[0] - surface.f_min
    assert traj.losses[-1] - surface.f_min <= 2e-3 * initial_gap
    assert traj.distance_to_minimum()[-1] < 0.1


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_loss_goes_down_in_20_steps(name):
    surface = gdviz.surface("quadratic")
    traj = gdviz.run(surface, gdviz.optimizer(name, **SETTINGS[name]), start=(-5.0, -2.0), steps=20)
    assert traj.losses[-1] < traj.losses[0]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_spec_is_coherent(name):
    cls = OPTIMIZERS[name]
    assert cls.name == name and cls.rule and cls.spec
    assert gdviz.optimizer(name.upper()).name == name  # case-insensitive lookup
    names = [spec.name for spec in cls.spec]
    assert len(names) == len(set(names))
    for spec in cls.spec:
        low, high = spec.slider_range()
        if spec.kind in ("float", "pair", "int"):
            assert spec.minimum <= low <= high <= spec.maximum, spec
            assert not spec.log or low > 0, spec
    opt = cls()  # the defaults are valid
    state = opt.init(np.zeros((3, 2)), np.full((3, 1), 1e-3))
    assert set(state) == set(cls.state_names)


# schedules whose torch counterpart has required arguments
REQUIRED = {
    "OneCycleLR": {"total_steps": 100},
    "SequentialLR": {"schedulers": [("LinearLR", {}), ("ExponentialLR", {})], "milestones": [5]},
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_spec_is_coherent(name):
    cls = SCHEDULES[name]
    assert cls.name == name and cls.formula
    sched = gdviz.schedule(name.lower(), **REQUIRED.get(name, {}))
    assert sched.name == name
    lrs = sched.lrs(0.1, 50, metrics=np.ones(50))
    assert lrs.shape == (50,) and np.all(np.isfinite(lrs)) and np.all(lrs >= 0)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown optimizer"):
        gdviz.optimizer("__import__")
    with pytest.raises(ValueError, match="Unknown schedule"):
        gdviz.schedule("nope")
    with pytest.raises(ValueError, match="Unknown surface"):
        gdviz.surface("nope")
    with pytest.raises(ValueError, match="unexpected hyper-parameter"):
        gdviz.optimizer("SGD", learning_rate=0.1)
    with pytest.raises(ValueError, match="Invalid lr"):
        gdviz.optimizer("Adam", lr=-1.0)


def test_public_api_names():
    for name in ("surface", "SURFACES", "custom_surface", "optimizer", "schedule", "run", "race", "critical_point"):
        assert hasattr(gdviz, name), name
