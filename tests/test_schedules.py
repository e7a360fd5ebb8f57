"""Every torch-backed schedule reproduces torch.optim.lr_scheduler's get_last_lr() step for step.

Parameters are drawn at random from each schedule's own spec (the slider ranges), so a new registry
entry is covered without a new test. d2l's schedules are checked against their closed forms.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gdviz
from gdviz.schedules import SCHEDULES, schedule
from gdviz.schedules.sequential import SequentialLR
from gdviz.surfaces.base import Surface
from tests.torch_reference import torch

STEPS = 300
RTOL = 1e-12
TORCH_BACKED = sorted(name for name, cls in SCHEDULES.items() if cls.torch_class)
# what SequentialLR may chain: every torch-backed schedule but the chains and those that need a metric
CHAINABLE = sorted(
    name for name in TORCH_BACKED if not issubclass(SCHEDULES[name], SequentialLR) and not SCHEDULES[name].needs_metric
)


# ----- torch side
def torch_scheduler(sched, optimizer, base_lr: float):
    cls = getattr(torch.optim.lr_scheduler, sched.torch_class)
    if isinstance(sched, SequentialLR):
        subs = [torch_scheduler(s, optimizer, base_lr) for s in sched.schedulers]
        return cls(optimizer, subs, milestones=list(sched.p("milestones")))
    return cls(optimizer, **sched.torch_kwargs(base_lr))


def torch_lrs(sched, base_lr: float, steps: int, metrics=None) -> np.ndarray:
    """get_last_lr() before each optimizer step: the lr of that step, as the run loop uses it."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = torch_scheduler(sched, optimizer, base_lr)
    out = np.empty(steps)
    for t in range(steps):
        out[t] = scheduler.get_last_lr()[0]
        param.grad = torch.zeros_like(param)
        optimizer.step()
        if t < steps - 1:
            scheduler.step() if metrics is None else scheduler.step(float(metrics[t]))
    return out


# ----- random valid parameters
def _uniform(rng, low, high, log):
    if log and low > 0:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


def _milestones(rng, count: int) -> list[int]:
    return sorted(int(m) for m in rng.choice(np.arange(0, STEPS), size=count, replace=False))


def horizon(name: str, params: dict) -> int:
    """How many steps the schedule is defined for (torch raises past OneCycleLR's cycle), at most STEPS."""
    if name == "OneCycleLR":
        total = params.get("total_steps") or (params.get("epochs") or 0) * (params.get("steps_per_epoch") or 0)
        return min(total, STEPS)
    return STEPS


def _fits(name: str, params: dict) -> bool:
    """Random draws cover the whole comparison (OneCycleLR's cycle too)."""
    return horizon(name, params) == STEPS


def random_params(name: str, rng: np.random.Generator) -> dict:
    cls = SCHEDULES[name]
    if name == "SequentialLR":
        count = int(rng.integers(2, 4))
        subs = [(str(n), random_params(str(n), rng)) for n in rng.choice(CHAINABLE, size=count)]
        return {"schedulers": subs, "milestones": _milestones(rng, count - 1)}
    for _ in range(500):
        params = {}
        for spec in cls.spec:
            low, high = spec.slider_range()
            if spec.optional and rng.random() < 0.3:
                params[spec.name] = None
            elif spec.kind == "bool":
                params[spec.name] = bool(rng.integers(2))
            elif spec.kind == "choice":
                params[spec.name] = str(rng.choice(spec.choices))
            elif spec.kind == "int":
                params[spec.name] = int(rng.integers(int(low), int(high) + 1))
            elif spec.kind == "list":
                params[spec.name] = _milestones(rng, int(rng.integers(1, 5)))
            elif spec.kind == "float":
                params[spec.name] = _uniform(rng, low, high, spec.log)
        try:
            cls(**params)
        except ValueError:
            continue
        if _fits(name, params):
            return params
    raise AssertionError(f"could not draw valid parameters for {name}")


def plateau_metrics(rng: np.random.Generator, steps: int, runs: int) -> np.ndarray:
    """(steps, runs) losses with stretches of improvement (some below threshold), exact plateaus and setbacks."""
    out = np.empty((steps, runs))
    for r in range(runs):
        value, t = 10.0, 0
        while t < steps:
            kind, length = int(rng.integers(3)), int(rng.integers(1, 40))
            for _ in range(min(length, steps - t)):
                if kind == 0:
                    value *= rng.choice([rng.uniform(0.9, 0.999), rng.uniform(0.99999, 1.0)])
                elif kind == 2:
                    value *= rng.uniform(1.0, 1.02)
                out[t, r] = value
                t += 1
    return out


# ----- parity with torch
@pytest.mark.parametrize("draw", range(5))
@pytest.mark.parametrize("name", TORCH_BACKED)
def test_matches_torch_step_for_step(name, draw):
    rng = np.random.default_rng([draw, *map(ord, name)])
    # draw 0: the class's demo (torch's defaults plus what torch requires)
    params = random_params(name, rng) if draw else dict(SCHEDULES[name].demo)
    steps = horizon(name, params)
    sched = schedule(name, **params)
    base = 10 ** rng.uniform(-3, 0, size=1 + draw % 3)
    metrics = plateau_metrics(rng, steps, base.size) if sched.needs_metric else None
    ours = sched.lrs(base, steps, metrics=metrics)
    assert ours.shape == (steps, base.size)
    for r, lr in enumerate(base):
        reference = torch_lrs(sched, float(lr), steps, None if metrics is None else metrics[:, r])
        np.testing.assert_allclose(ours[:, r], reference, rtol=RTOL, atol=0, err_msg=f"{sched!r}, lr={lr}")


def test_sequential_warmup_then_cosine_matches_torch():
    sched = schedule(
        "SequentialLR",
        schedulers=[
            ("LinearLR", {"start_factor": 0.01, "total_iters": 20}),
            ("CosineAnnealingLR", {"T_max": 280, "eta_min": 1e-4}),
        ],
        milestones=[20],
    )
    base = np.array([0.1, 0.3])
    ours = sched.lrs(base, STEPS)
    for r, lr in enumerate(base):
        np.testing.assert_allclose(ours[:, r], torch_lrs(sched, float(lr), STEPS), rtol=RTOL, atol=0)
    assert np.allclose(ours[0], 0.01 * base)
    assert np.all(np.diff(ours[:20], axis=0) > 0)
    # at the milestone torch restarts the cosine from the base lr (its closed form at step 0)
    np.testing.assert_allclose(ours[20], base, rtol=1e-15)
    assert np.all(np.diff(ours[20:], axis=0) < 0)


def test_sequential_keeps_torchs_constructor_side_effects():
    # OneCycleLR overwrites the group's initial_lr when built, and SequentialLR resets the lr to it:
    # the warm-up before it starts from max_lr / div_factor, not from the optimizer's lr
    sched = schedule(
        "SequentialLR",
        schedulers=[("LinearLR", {"start_factor": 0.1}), ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10})],
        milestones=[3],
    )
    ours = sched.lrs(0.5, 9)
    np.testing.assert_allclose(ours, torch_lrs(sched, 0.5, 9), rtol=RTOL, atol=0)
    assert ours[0] == pytest.approx(1.0 / 25 * 0.1)


def test_reduce_on_plateau_cuts_per_run_with_cooldown():
    sched = schedule("ReduceLROnPlateau", patience=2, cooldown=3, factor=0.5, min_lr=0.01)
    steps = 60
    # run 0 improves steadily, run 1 stalls at once, run 2 stalls after step 20
    t = np.arange(steps, dtype=np.float64)
    metrics = np.stack([10.0 - 0.1 * t, np.full(steps, 5.0), np.where(t < 20, 10.0 - t, 0.0)], axis=1)
    base = np.array([0.1, 0.1, 0.1])
    ours = sched.lrs(base, steps, metrics=metrics)
    for r in range(3):
        np.testing.assert_allclose(ours[:, r], torch_lrs(sched, 0.1, steps, metrics[:, r]), rtol=RTOL, atol=0)
    assert np.all(ours[:, 0] == 0.1)
    assert ours[-1, 1] == 0.01  # floored at min_lr
    cuts = np.flatnonzero(np.diff(ours[:, 1]))
    assert np.all(np.diff(cuts) == 2 + 1 + 3)  # patience + 1 bad steps, then cooldown steps not counted
    assert ours[20, 2] == 0.1 and ours[-1, 2] < 0.1


def test_reduce_on_plateau_requires_the_metric():
    with pytest.raises(ValueError, match="metric"):
        schedule("ReduceLROnPlateau").lrs(0.1, 5)


def test_one_cycle_holds_its_last_lr_after_total_steps():
    sched = schedule("OneCycleLR", total_steps=50, anneal_strategy="linear", three_phase=True)
    ours = sched.lrs(0.2, 80)
    np.testing.assert_allclose(ours[:50], torch_lrs(sched, 0.2, 50), rtol=RTOL, atol=0)
    assert np.all(ours[50:] == ours[49])
    assert ours[49] == pytest.approx(0.2 / 25 / 1e4)


def test_cyclic_derives_its_bounds_from_each_runs_lr():
    sched = schedule("CyclicLR", step_size_up=4)
    ours = sched.lrs(np.array([0.1, 1.0]), 9)
    np.testing.assert_allclose(ours[0], [0.01, 0.1])  # base_lr = max_lr / 10
    np.testing.assert_allclose(ours[4], [0.1, 1.0])  # max_lr = the optimizer's lr
    np.testing.assert_allclose(ours[8], [0.01, 0.1])


# ----- d2l 12.4
@pytest.mark.parametrize("lam", [0.0, 0.01, 0.1])
def test_exponential_decay_closed_form(lam):
    base = np.array([0.05, 0.5])
    t = np.arange(STEPS)[:, None]
    ours = schedule("ExponentialDecay", lam=lam).lrs(base, STEPS)
    np.testing.assert_allclose(ours, base * np.exp(-lam * t), rtol=RTOL, atol=0)


@pytest.mark.parametrize(("alpha", "beta"), [(0.5, 0.1), (1.0, 1.0), (2.0, 0.01)])
def test_polynomial_decay_closed_form(alpha, beta):
    base = np.array([0.05, 0.5])
    t = np.arange(STEPS)[:, None]
    ours = schedule("PolynomialDecay", alpha=alpha, beta=beta).lrs(base, STEPS)
    np.testing.assert_allclose(ours, base * (beta * t + 1) ** (-alpha), rtol=RTOL, atol=0)
    assert schedule("PolynomialDecay").p("alpha") == 0.5


# ----- the contract
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_step_is_pure_and_specs_are_consistent(name):
    cls = SCHEDULES[name]
    assert cls.name == name and cls.formula and cls.reference and cls.__doc__
    for spec in cls.spec:
        low, high = spec.slider_range()
        if spec.kind in ("float", "int"):
            assert spec.minimum <= low <= high <= spec.maximum, spec.name
        if spec.default is not None:
            spec.validate(spec.default, name)
    sched = schedule(name, **SCHEDULES[name].demo)
    state = sched.init(np.array([0.1, 0.2]))
    before = copy.deepcopy(state)
    metric = np.array([1.0, 2.0]) if sched.needs_metric else None
    for _ in range(3):
        new = sched.step(state, metric)
    for key, value in before.items():
        assert str(state[key]) == str(value), key  # the input state is untouched
    assert new["lr"].shape == (2,)


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_torch_class_names_a_torch_scheduler(name):
    assert hasattr(torch.optim.lr_scheduler, SCHEDULES[name].torch_class)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("StepLR", {"gamma": 0.0}, "Invalid gamma value"),
        ("StepLR", {"gamma": -0.5}, "Invalid gamma value"),
        ("StepLR", {"step_size": 0}, "Invalid step_size value"),
        ("StepLR", {"gamma": [0.1, 0.2]}, "cannot be swept"),
        ("StepLR", {"step": 3}, "unexpected"),
        ("ExponentialLR", {"gamma": 0}, "Invalid gamma value"),
        ("MultiStepLR", {"milestones": [10, 5]}, "strictly increasing"),
        ("MultiStepLR", {"milestones": [10, 10]}, "strictly increasing"),
        ("MultiStepLR", {"milestones": [1.5]}, "integer"),
        ("ConstantLR", {"factor": 1.5}, "Invalid factor value"),
        ("LinearLR", {"start_factor": 0.0}, "Invalid start_factor value"),
        ("PolynomialLR", {"total_iters": 0}, "Invalid total_iters value"),
        ("CosineAnnealingLR", {"T_max": 0}, "Invalid T_max value"),
        ("CosineAnnealingWarmRestarts", {"T_0": 0}, "Invalid T_0 value"),
        ("CosineAnnealingWarmRestarts", {"T_mult": 0}, "Invalid T_mult value"),
        ("CosineAnnealingWarmRestarts", {"eta_min": -1.0}, "Invalid eta_min value"),
        ("CyclicLR", {"mode": "sine"}, "mode must be one of"),
        ("CyclicLR", {"gamma": 1.5}, "Invalid gamma value"),
        ("CyclicLR", {"step_size_up": 0}, "Invalid step_size_up value"),
        ("OneCycleLR", {}, "total_steps OR"),
        ("OneCycleLR", {"epochs": 3}, "total_steps OR"),
        ("OneCycleLR", {"total_steps": 10, "pct_start": 0.1}, "zero steps"),
        ("OneCycleLR", {"total_steps": 10, "pct_start": 1.5}, "Invalid pct_start value"),
        ("OneCycleLR", {"total_steps": 10, "anneal_strategy": "cosine"}, "anneal_strategy must be one of"),
        ("ReduceLROnPlateau", {"factor": 1.0}, "Invalid factor value"),
        ("ReduceLROnPlateau", {"mode": "maximum"}, "mode must be one of"),
        ("ReduceLROnPlateau", {"patience": -1}, "Invalid patience value"),
        ("SequentialLR", {}, "at least one scheduler"),
        ("SequentialLR", {"schedulers": []}, "at least one scheduler"),
        ("SequentialLR", {"schedulers": ["StepLR", "ExponentialLR"]}, "one more than the number of milestone"),
        ("SequentialLR", {"schedulers": ["ReduceLROnPlateau"]}, "does not support `ReduceLROnPlateau`"),
        (
            "SequentialLR",
            {"schedulers": [("StepLR", {}), ("SequentialLR", {"schedulers": ["StepLR"]})], "milestones": [3]},
            "cannot be part",
        ),
        (
            "SequentialLR",
            {"schedulers": ["StepLR", "ExponentialLR", "LinearLR"], "milestones": [10, 5]},
            "strictly increasing",
        ),
        ("SequentialLR", {"schedulers": [3.0]}, r"schedulers\[0\] must be"),
        ("SequentialLR", {"schedulers": [("StepLR", {"gamma": 0})]}, "Invalid gamma value"),
        ("Cosine", {}, "Unknown schedule"),
    ],
)
def test_validation_errors(name, params, message):
    with pytest.raises(ValueError, match=message):
        schedule(name, **params)


def test_settings_round_trip():
    sched = schedule(
        "SequentialLR", schedulers=[("ConstantLR", {"factor": 0.5}), schedule("StepLR", step_size=7)], milestones=[4]
    )
    again = schedule("SequentialLR", **sched.settings())
    np.testing.assert_array_equal(again.lrs(0.3, 40), sched.lrs(0.3, 40))
    assert "StepLR" in repr(sched)


# ----- the run loop uses the schedule's lrs
def _quadratic() -> Surface:
    try:
        return gdviz.surface("quadratic")
    except ValueError:  # the surface registry may not have it yet
        scale = np.array([1.0, 4.0])
        return Surface(
            name="quadratic",
            title="anisotropic quadratic",
            dim=2,
            f=lambda x: 0.5 * np.sum(scale * x * x, axis=-1),
            grad=lambda x: scale * x,
            hessian=lambda x: np.broadcast_to(np.diag(scale), (*np.shape(x)[:-1], 2, 2)),
            bounds=((-3.0, 3.0), (-3.0, 3.0)),
            minima=np.zeros((1, 2)),
            f_min=0.0,
            default_start=(-2.0, 1.5),
            quadratic=True,
        )


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("StepLR", {"step_size": 7, "gamma": 0.5}),
        ("OneCycleLR", {"total_steps": 40, "cycle_momentum": False}),
        ("ReduceLROnPlateau", {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"}),
    ],
)
def test_run_uses_the_schedule(name, params):
    surface = _quadratic()
    lr = np.array([0.05, 0.2])
    sched = schedule(name, **params)
    traj = gdviz.run(surface, gdviz.optimizer("SGD", lr=lr), start=(-2.0, 1.5), steps=40, schedule=sched)
    metrics = traj.losses[:-1] if sched.needs_metric else None
    np.testing.assert_array_equal(traj.lrs, sched.lrs(lr, 40, metrics=metrics))
    assert len(np.unique(traj.lrs[:, 0])) > 1
    # plain SGD: each step moved by exactly that step's lr times the gradient
    np.testing.assert_allclose(traj.xs[1:], traj.xs[:-1] - traj.lrs[:, :, None] * traj.grads, rtol=1e-12, atol=1e-15)
