"""Momentum cycling (CyclicLR, OneCycleLR with torch's default ``cycle_momentum=True``) against torch.

The specification is the torch loop ``opt.step(); sched.step()`` with torch's scheduler writing the
optimizer's ``momentum`` (or ``betas[0]``) before every step: the trajectories (not only the lrs)
must match, with cycling on and off, alone and inside a race with a schedule per racer; the same
optimizers torch refuses are refused; and cycling a constant momentum is the uncycled run, bit for bit.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.schedules import schedule_class
from gdviz.schedules.cyclic import can_cycle_momentum, momentums
from tests.test_schedules import random_params, torch_scheduler
from tests.torch_reference import path_error, torch, torch_path

STEPS = 120
# as tests/test_optimizer_parity.py: relative path error, or bounded by torch's own sensitivity
TOLERANCE = 1e-9
SURFACES = {"quadratic": (-5.0, -2.0), "rosenbrock": (-1.5, 2.0)}
OPTIMIZER_CASES = {
    "SGD": {"lr": 0.01},  # momentum 0: the cycle makes it momentum SGD, as in torch
    "SGD-momentum": {"lr": 0.002, "momentum": 0.9},
    "SGD-nesterov": {"lr": 0.002, "momentum": 0.5, "nesterov": True},
    "SGD-dampening": {"lr": 0.002, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01},
    "Adam": {"lr": 0.05},
    "Adam-amsgrad": {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"lr": 0.05},
    "NAdam": {"lr": 0.05},
    "RAdam": {"lr": 0.05},
    "Adamax": {"lr": 0.05},
    "RMSprop": {"lr": 0.01},  # momentum 0
    "RMSprop-momentum": {"lr": 0.003, "momentum": 0.5, "centered": True},
}
SCHEDULE_CASES = {
    "triangular": ("CyclicLR", {"step_size_up": 7}),
    "triangular2": ("CyclicLR", {"step_size_up": 5, "step_size_down": 9, "mode": "triangular2"}),
    "exp_range": ("CyclicLR", {"step_size_up": 6, "mode": "exp_range", "gamma": 0.98}),
    "one-cycle": ("OneCycleLR", {"total_steps": STEPS}),
    # μ reaches exactly 0 at the peak: torch's plain step there, the buffer left as it was
    "one-cycle-3-phase": (
        "OneCycleLR",
        {"total_steps": STEPS, "three_phase": True, "anneal_strategy": "linear", "base_momentum": 0.0},
    ),
}


def optimizer_of(case: str) -> gdviz.Optimizer:
    return gdviz.optimizer(case.split("-")[0], **OPTIMIZER_CASES[case])


def torch_reference(opt, sched, surface, start, steps=STEPS) -> np.ndarray:
    def factory(torch_opt):
        return getattr(torch.optim.lr_scheduler, sched.torch_class)(torch_opt, **sched.torch_kwargs(float(opt.lr)))

    return torch_path(opt, surface, start, steps, scheduler_factory=factory)


def assert_matches_torch(traj, reference, label: str, nudged=None) -> None:
    stop = traj.xs.shape[0] if traj.diverged_at is None else traj.diverged_at
    error = path_error(traj.xs[:stop], reference[:stop])
    if error > TOLERANCE:
        assert nudged is not None, f"{label}: error {error:.3g}"
        sensitivity = path_error(nudged()[:stop], reference[:stop])
        assert error <= 100 * sensitivity, f"{label}: error {error:.3g} vs torch's own sensitivity {sensitivity:.3g}"


@pytest.mark.parametrize("cycle_momentum", [True, False])
@pytest.mark.parametrize("schedule_case", sorted(SCHEDULE_CASES))
@pytest.mark.parametrize("optimizer_case", sorted(OPTIMIZER_CASES))
@pytest.mark.parametrize("surface_name", sorted(SURFACES))
def test_trajectory_matches_torch(surface_name, optimizer_case, schedule_case, cycle_momentum):
    surface, start = gdviz.surface(surface_name), np.array(SURFACES[surface_name])
    opt = optimizer_of(optimizer_case)
    name, params = SCHEDULE_CASES[schedule_case]
    sched = gdviz.schedule(name, **params, cycle_momentum=cycle_momentum)
    traj = gdviz.run(surface, opt, start=start, steps=STEPS, schedule=sched)
    reference = torch_reference(opt, sched, surface, start)
    nudge = start * (1 + 1e-14) + 1e-14
    assert_matches_torch(traj, reference, f"{opt!r} {sched!r}", lambda: torch_reference(opt, sched, surface, nudge))
    # the lrs do not depend on the momentum cycle
    np.testing.assert_array_equal(traj.lrs, sched.lrs(float(opt.lr), STEPS))
    if cycle_momentum:
        np.testing.assert_array_equal(traj.momentums, momentums(sched, float(opt.lr), STEPS))
    else:
        assert traj.momentums is None


def test_the_cycle_really_changes_the_path():
    """Not a test that cannot fail: with and without the cycle the paths differ (and each matches torch above)."""
    surface = gdviz.surface("rosenbrock")
    for case in ("SGD", "Adam", "RMSprop-momentum"):
        cycled, plain = (
            gdviz.run(
                surface,
                optimizer_of(case),
                (-1.5, 2.0),
                60,
                gdviz.schedule("CyclicLR", step_size_up=7, cycle_momentum=on),
            )
            for on in (True, False)
        )
        assert path_error(cycled.xs, plain.xs) > 1e-6, case


@pytest.mark.parametrize("dampening", [0.0, 0.3])
def test_sgd_momentum_cycle_starting_at_zero(dampening):
    """max_momentum=0: μ is 0 at the first step (no buffer in torch), then rises; the buffer starts at that
    step's gradient, dampening or not, as torch's does."""
    surface, start = gdviz.surface("quadratic"), np.array((-5.0, -2.0))
    opt = gdviz.optimizer("SGD", lr=0.01, dampening=dampening)
    sched = gdviz.schedule("CyclicLR", step_size_up=4, base_momentum=0.9, max_momentum=0.0)
    traj = gdviz.run(surface, opt, start=start, steps=STEPS, schedule=sched)
    assert traj.momentums[0] == 0 and traj.momentums[1] > 0
    assert_matches_torch(traj, torch_reference(opt, sched, surface, start), repr(sched))


def test_rmsprop_momentum_cycle_starting_at_zero_starts_its_buffer_at_zero():
    """torch's RMSprop fails here (its buffer is made only when μ > 0 at the first step); ours starts at zeros."""
    surface, start = gdviz.surface("quadratic"), np.array((-5.0, -2.0))
    sched = gdviz.schedule("CyclicLR", step_size_up=4, base_momentum=0.9, max_momentum=0.0)
    traj = gdviz.run(surface, gdviz.optimizer("RMSprop", lr=0.01), start=start, steps=3, schedule=sched)
    plain = gdviz.run(surface, gdviz.optimizer("RMSprop", lr=0.01), start=start, steps=1, schedule=sched)
    np.testing.assert_array_equal(traj.xs[1], plain.xs[1])
    np.testing.assert_array_equal(traj.states["momentum_buffer"][1], 0.0)  # μ = 0: plain step, no buffer yet
    square_avg, lr, mu = traj.states["square_avg"][2], traj.lrs[1], traj.momentums[1]
    buf = 0.0 * mu + surface.grad(traj.xs[1]) / (np.sqrt(square_avg) + 1e-8)
    np.testing.assert_array_equal(traj.states["momentum_buffer"][2], buf)
    np.testing.assert_array_equal(traj.xs[2], traj.xs[1] - lr * buf)


def test_sequential_with_a_cycling_schedule_matches_torch():
    """SequentialLR builds every scheduler on one optimizer: OneCycleLR's constructor sets the momentum
    that the warm-up before it already uses; the cycle restarts at its milestone."""
    surface, start = gdviz.surface("rosenbrock"), np.array((-1.5, 2.0))
    sched = gdviz.schedule(
        "SequentialLR",
        schedulers=[("LinearLR", {"start_factor": 0.2}), ("OneCycleLR", {"total_steps": 60}), ("CyclicLR", {})],
        milestones=[10, 70],
    )
    for case in ("SGD-momentum", "Adam"):
        opt = optimizer_of(case)
        traj = gdviz.run(surface, opt, start=start, steps=STEPS, schedule=sched)

        def factory(torch_opt, opt=opt):
            return torch_scheduler(sched, torch_opt, float(opt.lr))

        reference = torch_path(opt, surface, start, STEPS, scheduler_factory=factory)
        assert_matches_torch(traj, reference, case)
        assert traj.momentums is not None and len(np.unique(traj.momentums)) > 20


DEMO_CYCLES = {
    "CyclicLR": {"step_size_up": 7},
    "OneCycleLR": {"total_steps": 60},
    "SequentialLR": {
        "schedulers": [("OneCycleLR", {"total_steps": 40}), ("CyclicLR", {"step_size_up": 3})],
        "milestones": [20],
    },
}


@pytest.mark.parametrize("draw", range(4))
@pytest.mark.parametrize("name", sorted(DEMO_CYCLES))
def test_momentum_sequence_equals_torchs_param_group(name, draw):
    """The momentum of every step is what torch's scheduler writes into group["momentum"] / group["betas"][0]."""
    rng = np.random.default_rng([draw, *map(ord, name)])
    sched = gdviz.schedule(name, **(random_params(name, rng) if draw else DEMO_CYCLES[name]))
    steps = 60  # within every drawn OneCycleLR cycle (random_params draws cycles of at least 300 steps)
    ours = momentums(sched, 0.1, steps)
    for torch_class, own in (("SGD", 0.0), ("Adam", 0.9)):
        param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = getattr(torch.optim, torch_class)([param], lr=0.1)
        scheduler = torch_scheduler(sched, optimizer, 0.1)
        group = optimizer.param_groups[0]
        theirs = []
        for _ in range(steps):
            theirs.append(group["betas"][0] if torch_class == "Adam" else group["momentum"])
            param.grad = torch.zeros_like(param)
            optimizer.step()
            scheduler.step()
        if ours is None:  # nothing in it cycles: torch leaves the optimizer's own value
            assert set(theirs) == {own}, sched
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=repr(sched))


def test_race_with_a_schedule_per_racer_matches_torch_and_each_alone():
    surface, start = gdviz.surface("rosenbrock"), np.array((-1.5, 2.0))
    racers = [
        (optimizer_of("SGD"), gdviz.schedule("CyclicLR", step_size_up=7)),
        (optimizer_of("Adam"), gdviz.schedule("OneCycleLR", total_steps=STEPS)),
        (optimizer_of("RMSprop-momentum"), gdviz.schedule("CyclicLR", step_size_up=5, cycle_momentum=False)),
        (gdviz.optimizer("Adagrad", lr=0.3), gdviz.schedule("CyclicLR", step_size_up=5, cycle_momentum=False)),
        (optimizer_of("NAdam"), None),
        (optimizer_of("SGD-momentum"), gdviz.schedule("ExponentialLR", gamma=0.99)),
    ]
    raced = gdviz.race(surface, [o for o, _ in racers], start, STEPS, [s for _, s in racers])
    for (opt, sched), got in zip(racers, raced):
        alone = gdviz.run(surface, opt, start, STEPS, sched)
        for field in ("xs", "losses", "grads", "lrs"):
            np.testing.assert_array_equal(getattr(got, field), getattr(alone, field), err_msg=field)
        for key in alone.states:
            np.testing.assert_array_equal(got.states[key], alone.states[key], err_msg=key)
        if alone.momentums is None:
            assert got.momentums is None
        else:
            np.testing.assert_array_equal(got.momentums, alone.momentums)
        if sched is not None:
            assert_matches_torch(got, torch_reference(opt, sched, surface, start), repr(opt))
    assert raced[0].momentums is not None and raced[2].momentums is None and raced[4].momentums is None


def test_shared_cycling_schedule_and_swept_runs():
    """A shared cycling schedule cycles every racer; a swept racer is its runs one by one, bit for bit."""
    surface = gdviz.surface("rosenbrock")
    sweep = gdviz.optimizer("SGD", lr=np.array([1e-3, 2e-3, 3e-3]), momentum=np.array([0.0, 0.5, 0.9]))
    adam = gdviz.optimizer("Adam", lr=0.05)
    sched = gdviz.schedule("OneCycleLR", total_steps=80)
    swept, adam_traj = gdviz.race(surface, [sweep, adam], (-1.5, 2.0), 80, sched)
    for r, (lr, momentum) in enumerate([(1e-3, 0.0), (2e-3, 0.5), (3e-3, 0.9)]):
        single = gdviz.run(surface, gdviz.optimizer("SGD", lr=lr, momentum=momentum), (-1.5, 2.0), 80, sched)
        np.testing.assert_array_equal(swept.xs[:, r], single.xs)
        np.testing.assert_array_equal(swept.momentums[:, r], single.momentums)
    # the cycle overrides each run's own momentum, as torch overwrites group["momentum"]
    np.testing.assert_array_equal(swept.momentums[:, 0], swept.momentums[:, 2])
    np.testing.assert_array_equal(adam_traj.momentums, momentums(sched, 0.05, 80))


@pytest.mark.parametrize("record", ["all", "path", "final"])
def test_record_levels_and_a_diverging_race(record):
    """Once every run is frozen the loop fills the rest directly; lrs and momentums still follow the schedule."""
    surface = gdviz.surface("quadratic")
    sched = gdviz.schedule("CyclicLR", step_size_up=3)
    traj = gdviz.run(surface, gdviz.optimizer("SGD", lr=50.0), None, 40, sched, record=record)
    assert traj.diverged_at is not None
    if record == "final":
        assert traj.momentums.shape == (0,)
    else:
        np.testing.assert_array_equal(traj.momentums, momentums(sched, 50.0, 40))


# ----- which optimizers can be cycled: torch's condition
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_refused_exactly_where_torch_refuses(name):
    cls = OPTIMIZERS[name]
    opt = cls(**cls.demo)
    surface = gdviz.surface("quadratic")
    cycling = gdviz.schedule("CyclicLR", step_size_up=5)
    if cls.torch_class is not None:
        param = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        torch_opt = getattr(torch.optim, cls.torch_class)([param], lr=0.01)
        try:
            torch.optim.lr_scheduler.CyclicLR(torch_opt, base_lr=0.001, max_lr=0.01)
            torch_accepts = True
        except ValueError as error:
            assert "optimizer must support momentum or beta1" in str(error)
            torch_accepts = False
        assert can_cycle_momentum(opt) == torch_accepts
    if can_cycle_momentum(opt):
        assert callable(getattr(opt, "update_with_momentum", None))
        traj = gdviz.run(surface, opt, None, 20, cycling)
        assert traj.momentums is not None
    else:
        for sched in (cycling, gdviz.schedule("OneCycleLR", total_steps=20)):
            with pytest.raises(ValueError, match=rf"{name} has neither momentum nor betas.*cycle_momentum=False"):
                gdviz.run(surface, opt, None, 20, sched)
        gdviz.run(surface, opt, None, 20, gdviz.schedule("CyclicLR", step_size_up=5, cycle_momentum=False))
        # in a race, the check names the racer whose schedule cycles
        with pytest.raises(ValueError, match=name):
            gdviz.race(surface, [gdviz.optimizer("Adam"), opt], None, 5, [cycling, cycling])
        gdviz.race(surface, [gdviz.optimizer("Adam"), opt], None, 5, [cycling, None])


@pytest.mark.parametrize("name", sorted(n for n, cls in OPTIMIZERS.items() if can_cycle_momentum(cls(**cls.demo))))
@pytest.mark.parametrize("schedule_name", ["CyclicLR", "OneCycleLR"])
def test_cycling_a_constant_momentum_is_the_uncycled_run(name, schedule_name):
    """base_momentum = max_momentum = the optimizer's own momentum (β1): bit for bit the run without cycling.

    This holds every optimizer's update_with_momentum to its update, gdviz's own (Lion, Yogi, AdamThenSGD) too.
    """
    cls = OPTIMIZERS[name]
    hyper = dict(cls.demo)
    if "betas" in {spec.name for spec in cls.spec}:
        own = hyper.setdefault("betas", next(s.default for s in cls.spec if s.name == "betas"))[0]
    else:
        own = hyper.setdefault("momentum", 0.7) or 0.7
        hyper["momentum"] = own
    opt = cls(**hyper)
    extra = {"total_steps": 60} if schedule_name == "OneCycleLR" else {"step_size_up": 7}
    cycled = gdviz.schedule(schedule_name, **extra, base_momentum=own, max_momentum=own)
    plain = gdviz.schedule(schedule_name, **extra, cycle_momentum=False)
    surface = gdviz.surface("rosenbrock")
    a = gdviz.run(surface, opt, (-1.5, 2.0), 60, cycled, noise=0.2)
    b = gdviz.run(surface, opt, (-1.5, 2.0), 60, plain, noise=0.2)
    np.testing.assert_array_equal(a.xs, b.xs)
    for key in b.states:
        np.testing.assert_array_equal(a.states[key], b.states[key], err_msg=key)
    np.testing.assert_array_equal(a.momentums, own)


def test_compression_applies_to_the_cycled_update():
    """With gradient compression on, the cycled update receives the compressed gradient too."""
    surface = gdviz.surface("rosenbrock")
    sched = gdviz.schedule("CyclicLR", step_size_up=5, base_momentum=0.9, max_momentum=0.9)
    compressed = gdviz.optimizer("SGD", lr=1e-3, momentum=0.9, compress_topk=1)
    a = gdviz.run(surface, compressed, (-1.5, 2.0), 40, sched)
    b = gdviz.run(
        surface, compressed, (-1.5, 2.0), 40, gdviz.schedule("CyclicLR", step_size_up=5, cycle_momentum=False)
    )
    np.testing.assert_array_equal(a.xs, b.xs)
    assert np.count_nonzero(a.states["compressed_grad"][1:], axis=-1).max() == 1


# ----- the schedules' parameters
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_momentum_parameters_have_torchs_names_and_defaults(name):
    torch_params = inspect.signature(getattr(torch.optim.lr_scheduler, name).__init__).parameters
    spec = {s.name: s for s in schedule_class(name).spec}
    for param in ("cycle_momentum", "base_momentum", "max_momentum"):
        assert spec[param].default == torch_params[param].default, param
    names = [s.name for s in schedule_class(name).spec]
    ours_in_torch_order = [p for p in torch_params if p in names]
    assert names == ours_in_torch_order


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cycle_momentum": "yes"}, "cycle_momentum must be True or False"),
        ({"base_momentum": -0.1}, "base_momentum"),
        ({"max_momentum": 1.5}, "max_momentum"),
        ({"max_momentum": [0.9, 0.8]}, "cannot be swept"),
    ],
)
def test_bad_momentum_parameters_raise_value_error(params, message):
    for name, extra in (("CyclicLR", {}), ("OneCycleLR", {"total_steps": 10})):
        with pytest.raises(ValueError, match=message):
            gdviz.schedule(name, **extra, **params)


# ----- the Linear Regression page trains with torch's schedulers
@pytest.mark.parametrize("name", ["Lion", "Yogi", "AdamThenSGD", "Newton"])
@pytest.mark.parametrize("schedule_name", ["CyclicLR", "OneCycleLR"])
def test_engine_optimizer_is_cycled_by_torchs_scheduler(name, schedule_name):
    """An engine optimizer trained as a torch optimizer (gdviz.regression) is cycled by torch's own
    scheduler exactly as the race cycles it, or refused as torch refuses an optimizer without momentum."""
    from gdviz.regression.optim import build_scheduler, engine_torch_optimizer

    cls = OPTIMIZERS[name]
    opt = cls(**{**cls.demo, "lr": 0.01} if name != "Newton" else cls.demo)
    sched = gdviz.schedule(
        schedule_name, **({"total_steps": 40} if schedule_name == "OneCycleLR" else {"step_size_up": 6})
    )
    surface, start = gdviz.surface("quadratic"), np.array((-5.0, -2.0))
    param = torch.tensor(start.copy(), dtype=torch.float64)
    torch_opt = engine_torch_optimizer([param], opt)
    if not can_cycle_momentum(opt):
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            build_scheduler(sched, torch_opt, float(opt.lr))
        return
    scheduler = build_scheduler(sched, torch_opt, float(opt.lr))
    xs, used = [param.numpy().copy()], []
    for _ in range(40):
        group = torch_opt.param_groups[0]
        used.append(group["betas"][0] if "betas" in group else group["momentum"])
        param.grad = torch.from_numpy(surface.grad(param.numpy().copy()))
        torch_opt.step()
        scheduler.step()
        xs.append(param.numpy().copy())
    ours = gdviz.run(surface, opt, start, 40, sched)
    np.testing.assert_array_equal(np.array(xs), ours.xs)
    np.testing.assert_array_equal(used, ours.momentums)
    assert len(set(used)) > 5


# ----- the Playground's inspector replays the step with the cycled momentum
@pytest.mark.parametrize(
    "case",
    ["SGD", "SGD-nesterov", "SGD-momentum", "Adam", "NAdam", "RAdam", "Adamax", "RMSprop", "RMSprop-momentum"],
)
def test_inspector_replays_each_step_with_its_cycled_momentum(case):
    from ui.playground.inspector import inspect

    surface = gdviz.surface("six_hump_camel")
    sched = gdviz.schedule(
        "OneCycleLR", total_steps=30, three_phase=True, base_momentum=0.0 if case.startswith("SGD") else 0.7
    )
    traj = gdviz.run(surface, optimizer_of(case), (-1.2, 1.0), 30, sched, noise=0.5, seed=1)
    assert traj.diverged_at is None
    for step in range(1, 31):
        values = inspect(traj, step).values
        assert np.array_equal(values["x_rule"], traj.xs[step]), step
        assert values["cycled_momentum"] == traj.momentums[step - 1]
        for name, history in traj.states.items():
            if name in values:
                np.testing.assert_array_equal(values[name], history[step], err_msg=f"{name} {step}")
    if case == "Adam":  # the bias correction shown is the one with this step's β1
        values = inspect(traj, 5).values
        assert values["bias_correction1"] == 1 - traj.momentums[4] ** 5
