"""Generic tests over the registries: every optimizer converges on every problem with a known minimum,
every spec is coherent, and every optimizer and schedule carries what the UI shows.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.schedules import SCHEDULES

# problem: (start, convex) — Newton heads for the nearest critical point, so it gets the convex ones.
# Each optimizer runs its own ``demo`` setting for ``demo_steps`` steps on every problem (no per-problem tuning).
PROBLEMS = {
    "quadratic": ((-5.0, -2.0), True),
    "booth": ((-5.0, 5.0), True),
    "three_hump_camel": ((1.0, 0.5), False),
    "himmelblau": ((0.5, -0.5), False),
}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_converges_to_a_known_minimum(name, problem):
    start, convex = PROBLEMS[problem]
    cls = OPTIMIZERS[name]
    if cls.needs_hessian and not convex:
        pytest.skip("Newton-type steps head for the nearest critical point, not necessarily a minimum")
    surface = gdviz.surface(problem)
    traj = gdviz.run(surface, cls(**cls.demo), start=start, steps=cls.demo_steps)
    hint = f"{name}(**{dict(cls.demo)}) for {cls.demo_steps} steps: tune the class's demo / demo_steps"
    assert traj.diverged_at is None, hint
    initial_gap = traj.losses[0] - surface.f_min
    assert traj.losses[-1] - surface.f_min <= 2e-3 * initial_gap, hint
    assert traj.distance_to_minimum()[-1] < 0.1, hint


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_loss_goes_down_in_20_steps(name):
    surface = gdviz.surface("quadratic")
    traj = gdviz.run(surface, gdviz.optimizer(name, **OPTIMIZERS[name].demo), start=(-5.0, -2.0), steps=20)
    assert traj.losses[-1] < traj.losses[0]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_spec_is_coherent(name):
    cls = OPTIMIZERS[name]
    assert cls.name == name and cls.rule and cls.spec
    assert cls.reference and "References" in cls.__doc__, "document where the update rule comes from"
    assert gdviz.optimizer(name.upper()).name == name  # case-insensitive lookup
    names = [spec.name for spec in cls.spec]
    assert len(names) == len(set(names))
    for spec in cls.spec:
        low, high = spec.slider_range()
        if spec.kind in ("float", "pair", "int"):
            assert spec.minimum <= low <= high <= spec.maximum, spec
            assert not spec.log or low > 0, spec
            for default in spec.default if spec.kind == "pair" else (spec.default,):
                assert low <= default <= high, spec  # the slider offers the default
    assert isinstance(cls.demo, MappingProxyType) and isinstance(cls.demo_steps, int) and cls.demo_steps > 0
    opt = cls()  # the defaults are valid
    state = opt.init(np.zeros((3, 2)), np.full((3, 1), 1e-3))
    assert set(state) == set(cls.state_names)
    traj = gdviz.run(gdviz.surface("quadratic"), opt, start=(-5.0, -2.0), steps=5)
    assert tuple(traj.states) == cls.state_names  # recorded in display order


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_spec_is_coherent(name):
    cls = SCHEDULES[name]
    assert cls.name == name and cls.formula and isinstance(cls.demo, MappingProxyType)
    sched = gdviz.schedule(name.lower(), **cls.demo)  # what it needs to be built (torch's required arguments)
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
