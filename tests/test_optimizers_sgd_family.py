"""Adagrad, RMSprop, Adadelta, Rprop and ASGD against torch.optim: every branch, lr schedules, sweeps, validation.

The generic parity test samples random settings; these pin down what it may miss: each boolean
branch, a learning rate that changes every step (ASGD's step size lags it by one step, Rprop
ignores it after the first), sweeps whose columns hold the special values that switch a branch
off (momentum 0, weight_decay 0), torch's error messages, and chaotic settings where only
torch's own sensitivity bounds the comparison.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from tests.torch_reference import path_error, torch, torch_hyper, torch_path

TOLERANCE = 1e-9
QUADRATIC_START = (-5.0, -2.0)
HIMMELBLAU_START = (0.5, -0.5)


def torch_run(opt, surface, start, lrs):
    """torch's iterates (steps+1, dim) and final state, with the group lr set to ``lrs[k]`` before step k."""
    param = torch.tensor(np.asarray(start, dtype=np.float64), dtype=torch.float64, requires_grad=True)
    torch_opt = getattr(torch.optim, opt.torch_class)([param], **torch_hyper(opt))
    xs = [param.detach().numpy().copy()]
    for lr in lrs:
        # what a scheduler does between steps
        torch_opt.param_groups[0]["lr"] = float(lr)
        param.grad = torch.from_numpy(np.asarray(surface.grad(param.detach().numpy().copy()), dtype=np.float64))
        torch_opt.step()
        xs.append(param.detach().numpy().copy())
    state = {k: v.detach().numpy().astype(np.float64) for k, v in torch_opt.state[param].items() if k != "step"}
    return np.array(xs), state


def our_run(opt, surface, start, lrs):
    """Our iterates (steps+1, dim) and final state, calling ``update`` with lr ``lrs[k]`` at step k+1."""
    x = np.asarray(start, dtype=np.float64)[None, :]
    state = opt.init(x, np.full((1, 1), lrs[0]))
    xs = [x[0]]
    for t, lr in enumerate(lrs, start=1):
        x, state = opt.update(x, surface.grad(x), state, np.full((1, 1), lr), t, None)
        xs.append(x[0])
    return np.array(xs), {name: value[0] for name, value in state.items()}


def wavy_lrs(base: float, steps: int) -> np.ndarray:
    """An lr that changes every step, up and down: base · (1 + ½ sin k)."""
    return np.array([base * (1 + 0.5 * math.sin(k)) for k in range(steps)])


# one non-chaotic setting per optimizer, every option switched on
BUSY = {
    "Adagrad": dict(lr=0.5, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-10),
    "RMSprop": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01, momentum=0.5, centered=True),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-4, weight_decay=0.01),
    "Rprop": dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.5)),
    "ASGD": dict(lr=0.01, lambd=0.05, alpha=0.75, t0=20.0, weight_decay=0.01),
}
FAMILY = sorted(BUSY)


@pytest.fixture(scope="module")
def quadratic():
    return gdviz.surface("quadratic")


@pytest.fixture(scope="module")
def himmelblau():
    return gdviz.surface("himmelblau")


def test_registered_with_torch_names():
    for name in FAMILY:
        cls = OPTIMIZERS[name]
        assert cls.name == cls.torch_class == name
        assert cls.state_names and cls.rule and cls.reference


@pytest.mark.parametrize("name", FAMILY)
def test_sliders_offer_the_default_inside_the_valid_range(name):
    for spec in OPTIMIZERS[name].spec:
        if spec.kind not in ("float", "pair"):
            continue
        low, high = spec.slider_range()
        assert spec.minimum <= low < high <= spec.maximum, spec.name
        assert not spec.log or low > 0, spec.name
        for value in spec.default if spec.kind == "pair" else (spec.default,):
            assert low <= value <= high, spec.name


@pytest.mark.parametrize("name", FAMILY)
def test_every_option_on_with_an_lr_that_changes_every_step(name, himmelblau):
    opt = OPTIMIZERS[name](**BUSY[name])
    lrs = wavy_lrs(BUSY[name]["lr"], 150)
    ours, our_state = our_run(opt, himmelblau, HIMMELBLAU_START, lrs)
    theirs, their_state = torch_run(opt, himmelblau, HIMMELBLAU_START, lrs)
    assert path_error(ours, theirs) <= TOLERANCE
    for key, value in their_state.items():
        np.testing.assert_allclose(our_state[key].ravel(), value.ravel(), rtol=1e-9, atol=1e-12, err_msg=key)
    constant, _ = our_run(opt, himmelblau, HIMMELBLAU_START, np.full(150, BUSY[name]["lr"]))
    if name == "Rprop":
        # lr only sets the initial step sizes
        np.testing.assert_array_equal(ours, constant)
    else:
        assert path_error(ours, constant) > 1e-6


def test_asgd_step_size_lags_the_lr_by_one_step(himmelblau):
    """ASGD moves with the eta computed at the end of the previous step, from that step's lr."""
    opt = OPTIMIZERS["ASGD"](**BUSY["ASGD"])
    lrs = np.array([0.01, 0.02, 0.005])
    xs, state = our_run(opt, himmelblau, HIMMELBLAU_START, lrs)
    eta_after_2 = np.float32(0.02 / (1 + 0.05 * 0.02 * 2) ** 0.75)
    g = himmelblau.grad(xs[2]) + 0.01 * xs[2]
    np.testing.assert_allclose(xs[3], xs[2] * (1 - 0.05 * float(eta_after_2)) - float(eta_after_2) * g, rtol=1e-15)
    assert state["eta"][0] == np.float32(0.005 / (1 + 0.05 * 0.005 * 3) ** 0.75)


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Rprop", "ASGD"])
def test_through_run_with_a_cyclic_schedule(name, quadratic):
    """gdviz.run with CyclicLR against torch's CyclicLR stepped after every optimizer step.

    These optimizers have no momentum to cycle: torch refuses its default cycle_momentum=True for them.
    """
    hyper = {**BUSY[name], "lr": 0.02}
    opt = OPTIMIZERS[name](**hyper)
    schedule = gdviz.schedule("CyclicLR", base_lr=0.005, max_lr=0.05, step_size_up=7, cycle_momentum=False)
    traj = gdviz.run(quadratic, opt, start=QUADRATIC_START, steps=100, schedule=schedule)
    assert len(set(traj.lrs.tolist())) > 10

    def cyclic(torch_opt):
        return torch.optim.lr_scheduler.CyclicLR(
            torch_opt, base_lr=0.005, max_lr=0.05, step_size_up=7, cycle_momentum=False
        )

    reference = torch_path(opt, quadratic, QUADRATIC_START, 100, scheduler_factory=cyclic)
    assert path_error(traj.xs, reference) <= TOLERANCE


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_branches(centered, momentum, himmelblau):
    opt = OPTIMIZERS["RMSprop"](lr=0.01, alpha=0.95, centered=centered, momentum=momentum, weight_decay=0.02)
    traj = gdviz.run(himmelblau, opt, start=HIMMELBLAU_START, steps=200)
    assert path_error(traj.xs, torch_path(opt, himmelblau, HIMMELBLAU_START, 200)) <= TOLERANCE
    # torch keeps grad_avg / momentum_buffer only when the branch is on; ours stay at zero otherwise
    assert np.any(traj.states["grad_avg"][-1] != 0) == centered
    assert np.any(traj.states["momentum_buffer"][-1] != 0) == (momentum > 0)


@pytest.mark.parametrize("lr_decay", [0.0, 0.05])
@pytest.mark.parametrize("initial_accumulator_value", [0.0, 2.0])
def test_adagrad_branches(lr_decay, initial_accumulator_value, quadratic):
    opt = OPTIMIZERS["Adagrad"](lr=0.8, lr_decay=lr_decay, initial_accumulator_value=initial_accumulator_value)
    traj = gdviz.run(quadratic, opt, start=QUADRATIC_START, steps=200)
    assert path_error(traj.xs, torch_path(opt, quadratic, QUADRATIC_START, 200)) <= TOLERANCE
    np.testing.assert_array_equal(traj.states["sum"][0], [initial_accumulator_value] * 2)


def test_rprop_step_sizes_are_clipped_at_both_ends(quadratic):
    """An lr above the maximum is cut at the first step; shrinking stops at the minimum."""
    opt = OPTIMIZERS["Rprop"](lr=3.0, etas=(0.2, 1.9), step_sizes=(0.01, 0.7))
    traj = gdviz.run(quadratic, opt, start=QUADRATIC_START, steps=120)
    assert path_error(traj.xs, torch_path(opt, quadratic, QUADRATIC_START, 120)) <= TOLERANCE
    sizes = traj.states["step_size"][1:]
    np.testing.assert_array_equal(sizes[0], [0.7, 0.7])
    assert np.any(sizes == 0.01) and sizes.min() == 0.01 and sizes.max() == 0.7


def test_rprop_freezes_a_coordinate_after_a_sign_flip(quadratic):
    opt = OPTIMIZERS["Rprop"](lr=4.0, step_sizes=(1e-6, 50.0))
    traj = gdviz.run(quadratic, opt, start=QUADRATIC_START, steps=30)
    flips = np.sign(traj.grads[1:]) * np.sign(traj.grads[:-1]) < 0  # (steps-1, dim)
    assert flips.any()
    stay = traj.xs[2:][flips] == traj.xs[1:-1][flips]
    assert stay.all()
    assert path_error(traj.xs, torch_path(opt, quadratic, QUADRATIC_START, 30)) <= TOLERANCE


@pytest.mark.parametrize("t0", [0.0, 25.0, 25.5, 1e6])
def test_asgd_averaging_matches_torch_ax(t0, himmelblau):
    opt = OPTIMIZERS["ASGD"](lr=0.01, lambd=1e-3, t0=t0)
    steps = 150
    ours, our_state = our_run(opt, himmelblau, HIMMELBLAU_START, np.full(steps, 0.01))
    theirs, their_state = torch_run(opt, himmelblau, HIMMELBLAU_START, np.full(steps, 0.01))
    assert path_error(ours, theirs) <= TOLERANCE
    np.testing.assert_allclose(our_state["ax"], their_state["ax"], rtol=1e-12)
    assert our_state["mu"][0] == their_state["mu"] and our_state["eta"][0] == their_state["eta"]
    if t0 >= steps:
        np.testing.assert_array_equal(our_state["ax"], ours[-1])  # not averaging yet: ax is the iterate
        return
    assert np.max(np.abs(our_state["ax"] - ours[-1])) > 1e-3
    if t0.is_integer():
        # mu = 1 / (t - 1 - t0) once that is below 1: ax is the mean of the iterates from x_{t0+2}
        # (up to mu's float32 rounding)
        np.testing.assert_allclose(our_state["ax"], ours[int(t0) + 2 :].mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("name", FAMILY)
def test_maximize(name, quadratic):
    """maximize on f is minimize on -f: the same path as ascent, checked against torch."""
    opt = OPTIMIZERS[name](**{**BUSY[name], "lr": BUSY[name]["lr"] / 10}, maximize=True)
    traj = gdviz.run(quadratic, opt, start=QUADRATIC_START, steps=40)
    assert traj.losses[-1] > traj.losses[0]
    assert path_error(traj.xs, torch_path(opt, quadratic, QUADRATIC_START, 40)) <= TOLERANCE


# sweeps whose columns include the values that switch a branch off
SWEEPS = {
    "Adagrad": dict(
        lr=[0.5, 0.3, 0.8], lr_decay=[0.0, 0.1, 0.01], initial_accumulator_value=[0.0, 0.3, 1.0],
        weight_decay=[0.0, 0.0, 0.05], eps=[1e-10, 1e-3, 0.0],
    ),
    "RMSprop": dict(
        lr=[0.01, 0.02, 0.005], alpha=[0.99, 0.9, 0.95], momentum=[0.0, 0.5, 0.9], weight_decay=[0.0, 0.01, 0.0],
    ),
    "RMSprop_centered": dict(
        lr=[0.01, 0.02, 0.005], alpha=[0.99, 0.9, 0.6], momentum=[0.9, 0.0, 0.3], centered=True,
    ),
    "Adadelta": dict(lr=[1.0, 0.5, 2.0], rho=[0.5, 0.9, 0.99], eps=[1e-6, 1e-3, 1e-8], weight_decay=[0.0, 0.1, 0.0]),
    "Rprop": dict(lr=[0.01, 0.1, 1.0], etas=([0.5, 0.3, 0.9], [1.2, 1.5, 1.05]), step_sizes=([1e-6, 1e-3, 0.01], [50.0, 0.1, 1.0])),
    "ASGD": dict(
        lr=[0.01, 0.005, 0.02], lambd=[0.0, 1e-2, 1e-4], alpha=[0.75, 0.5, 1.0], t0=[10.0, 1e6, 0.0],
        weight_decay=[0.0, 0.01, 0.0],
    ),
}  # fmt: skip


def _column(values, r):
    if isinstance(values, tuple):
        return tuple(_column(v, r) for v in values)
    return values[r] if isinstance(values, list) else values


@pytest.mark.parametrize("key", sorted(SWEEPS))
def test_sweep_rows_are_separate_runs_and_match_torch(key, himmelblau):
    name = key.split("_")[0]
    cls = OPTIMIZERS[name]
    hyper = {k: (tuple(np.array(p) for p in v) if isinstance(v, tuple) else v) for k, v in SWEEPS[key].items()}
    batch = gdviz.run(himmelblau, cls(**hyper), start=HIMMELBLAU_START, steps=120)
    assert batch.xs.shape == (121, 3, 2)
    for r in range(3):
        single_opt = cls(**{k: _column(v, r) for k, v in SWEEPS[key].items()})
        single = gdviz.run(himmelblau, single_opt, start=HIMMELBLAU_START, steps=120)
        np.testing.assert_array_equal(batch.xs[:, r], single.xs)
        for state_name, values in single.states.items():
            np.testing.assert_array_equal(batch.states[state_name][:, r], values, err_msg=state_name)
        assert path_error(single.xs, torch_path(single_opt, himmelblau, HIMMELBLAU_START, 120)) <= TOLERANCE


# (optimizer, bad settings, message) that torch rejects with the same words
TORCH_REJECTS = [
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(rho=-0.1), "Invalid rho value: -0.1"),
    ("Adadelta", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Adagrad", dict(lr_decay=-0.5), "Invalid lr_decay value: -0.5"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(momentum=-0.9), "Invalid momentum value: -0.9"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    ("Rprop", dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
]


@pytest.mark.parametrize(("name", "bad", "message"), TORCH_REJECTS)
def test_rejects_what_torch_rejects_in_its_words(name, bad, message):
    with pytest.raises(ValueError, match=message):
        OPTIMIZERS[name](**bad)
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **bad)


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        # torch accepts these, then goes wrong: a negative average of squares, an upside-down clip, a growing step
        ("RMSprop", dict(alpha=1.5), "Invalid alpha value: 1.5"),
        ("Rprop", dict(step_sizes=(1.0, 0.1)), r"Invalid step_sizes values: 1.0, 0.1"),
        ("Rprop", dict(step_sizes=(-1.0, 1.0)), r"Invalid step_sizes\[0\] value: -1.0"),
        ("ASGD", dict(lambd=-1e-4), "Invalid lambd value: -0.0001"),
        ("ASGD", dict(alpha=-0.75), "Invalid alpha value: -0.75"),
        ("ASGD", dict(t0=-5.0), "Invalid t0 value: -5.0"),
        # a sweep is checked value by value
        (
            "Rprop",
            dict(etas=(np.array([0.5, 1.1]), np.array([1.2, 1.3]))),
            r"Invalid eta values: \[0.5, 1.1\], \[1.2, 1.3\]",
        ),
        ("RMSprop", dict(momentum=np.array([0.0, -0.5])), "Invalid momentum value"),
        ("Adagrad", dict(centered=True), "unexpected hyper-parameter"),
    ],
)
def test_rejects_settings_that_make_no_sense(name, bad, message):
    with pytest.raises(ValueError, match=message):
        OPTIMIZERS[name](**bad)


@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("RMSprop", dict(lr=0.01, centered=True)),
        ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True)),
        ("Adadelta", dict(lr=1.0)),
        ("Adadelta", dict(lr=2.0, rho=0.9, eps=1e-3)),
    ],
)
def test_chaotic_settings_on_rosenbrock(name, hyper):
    """Where torch's own path on Rosenbrock is chaotic, rounding-level differences may grow, but no more than that.

    (torch's CPU kernels fuse multiply-adds and its float64 sqrt is not always correctly rounded,
    so the paths differ at the last bit.) The first steps, before anything can grow, agree to
    1e-12; the whole path agrees to 1e-9 or within 100× the deviation that a 1e-14 nudge of the
    start causes in torch's own path.
    """
    surface, start, steps = gdviz.surface("rosenbrock"), np.array([-1.5, 2.0]), 300
    opt = OPTIMIZERS[name](**hyper)
    traj = gdviz.run(surface, opt, start=start, steps=steps)
    assert traj.diverged_at is None
    reference = torch_path(opt, surface, start, steps)
    nudged = torch_path(opt, surface, start * (1 + 1e-14) + 1e-14, steps)
    sensitivity = path_error(nudged, reference)
    assert sensitivity > TOLERANCE  # the setting is chaotic indeed
    assert path_error(traj.xs[:20], reference[:20]) <= 1e-12
    assert path_error(traj.xs, reference) <= max(TOLERANCE, 100 * sensitivity)


@pytest.mark.parametrize("name", FAMILY)
def test_update_is_pure_and_state_has_the_declared_arrays(name, himmelblau):
    opt = OPTIMIZERS[name](**BUSY[name])
    x = np.array([[0.5, -0.5], [1.0, 2.0]])
    state = opt.init(x, np.full((2, 1), 0.01))
    assert tuple(state) == opt.state_names
    assert all(value.shape in {(2, 2), (2, 1)} for value in state.values())
    g = himmelblau.grad(x)
    before = (x.copy(), g.copy(), {k: v.copy() for k, v in state.items()})
    for t in (1, 2, 3):
        x_new, new_state = opt.update(x, g, state, np.full((2, 1), 0.01), t, None)
        np.testing.assert_array_equal(x, before[0])
        np.testing.assert_array_equal(g, before[1])
        for key, value in state.items():
            np.testing.assert_array_equal(value, before[2][key])
        assert tuple(new_state) == opt.state_names and x_new.shape == x.shape
