"""The run loop's fast paths give exactly the bits of the general ones.

A race with a constant lr hands each optimizer its lr as a Python float instead of an (R, 1) column,
evaluates f and its gradient in one fused call where a surface has one, and tests the runs' health
with a cheap check whose false alarms fall back to the exact per-run test. None of that may change
a single bit of what a run returns.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.run import LOSS_LIMIT, _stack_small
from gdviz.surfaces import SURFACES
from gdviz.surfaces.base import Surface

FUSED = sorted(name for name, surface in SURFACES.items() if surface.f_and_grad is not None)


def test_the_race_surface_is_fused():
    assert "rosenbrock" in FUSED


@pytest.mark.parametrize("name", FUSED)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fused_value_and_grad_is_f_and_grad_bit_for_bit(name, seed):
    s = SURFACES[name]
    rng = np.random.default_rng(seed)
    box = np.array(s.bounds)
    # far outside the window too, where large terms cancel
    points = box[:, 0] + rng.uniform(-3, 4, size=(5, 3, s.dim)) * (box[:, 1] - box[:, 0])
    for x in (points, points[0], points[0, 0]):  # (S, R, dim), (R, dim), (dim,)
        value, gradient = s.value_and_grad(x)
        np.testing.assert_array_equal(value, s.f(x))
        np.testing.assert_array_equal(gradient, s.grad(x))
        assert np.shape(value) == x.shape[:-1] and gradient.shape == x.shape


@pytest.mark.parametrize("name", FUSED)
def test_fused_value_and_grad_takes_integers_and_lists(name):
    s = SURFACES[name]
    start = np.round(np.array(s.default_start)).astype(np.int64)
    value, gradient = s.value_and_grad(start)
    assert gradient.dtype == np.float64
    np.testing.assert_array_equal(value, s.f(start.astype(np.float64)))
    np.testing.assert_array_equal(gradient, s.grad(list(start)))


def test_a_surface_without_a_fused_call_still_has_value_and_grad():
    plain = Surface(
        name="bowl",
        title="bowl",
        dim=2,
        f=lambda x: np.sum(np.asarray(x) ** 2, axis=-1),
        grad=lambda x: 2.0 * np.asarray(x),
        hessian=lambda x: np.broadcast_to(2.0 * np.eye(2), np.shape(x) + (2,)),
        bounds=((-1.0, 1.0), (-1.0, 1.0)),
        minima=np.zeros((1, 2)),
        f_min=0.0,
        default_start=(0.5, 0.5),
    )
    assert plain.f_and_grad is None
    value, gradient = plain.value_and_grad(np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(value, [5.0])
    np.testing.assert_array_equal(gradient, [[2.0, 4.0]])
    traj = gdviz.run(plain, gdviz.optimizer("SGD", lr=0.25), steps=3)
    np.testing.assert_array_equal(traj.xs[-1], [0.0625, 0.0625])


def _lr_of(cls) -> float | None:
    return next((spec.default for spec in cls.spec if spec.name == "lr"), None)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_gives_the_same_bits_for_a_float_lr_and_a_column(name):
    cls = OPTIMIZERS[name]
    lr = _lr_of(cls) or 1.0
    opt = cls()
    surface = gdviz.surface("himmelblau")
    x_float = x_column = np.array([[0.5, -0.5], [1.0, 2.0], [-3.0, 1.5]])
    state_float = opt.init(x_float, lr)
    state_column = opt.init(x_column, np.full((3, 1), lr))
    for t in range(1, 25):
        hess = surface.hessian(x_float) if opt.needs_hessian else None
        x_float, state_float = opt.update(x_float, surface.grad(x_float), state_float, lr, t, hess)
        hess = surface.hessian(x_column) if opt.needs_hessian else None
        x_column, state_column = opt.update(
            x_column, surface.grad(x_column), state_column, np.full((3, 1), lr), t, hess
        )
        np.testing.assert_array_equal(x_float, x_column)
        assert tuple(state_float) == tuple(state_column) == opt.state_names
        for key in opt.state_names:
            assert state_float[key].shape == state_column[key].shape, key
            np.testing.assert_array_equal(state_float[key], state_column[key], err_msg=key)


def test_a_race_with_a_constant_lr_equals_one_driven_by_an_identity_schedule():
    """No schedule: each optimizer gets a float lr. ConstantLR(factor=1) keeps the lr exactly: (R, 1) columns."""
    surface = gdviz.surface("rosenbrock")
    optimizers = [
        gdviz.optimizer(name, lr=lr, **extra)
        for name, lr, extra in [
            ("SGD", 1e-3, {"momentum": 0.9}),
            ("Adagrad", 0.1, {}),
            ("RMSprop", 1e-3, {"momentum": 0.5, "centered": True}),
            ("Adadelta", 1.0, {}),
            ("Adam", 1e-2, {"amsgrad": True}),
            ("AdamW", 1e-2, {}),
            ("NAdam", 1e-2, {"decoupled_weight_decay": True, "weight_decay": 0.01}),
            ("RAdam", 1e-2, {"weight_decay": 0.01}),
            ("Adamax", 1e-2, {}),
            ("ASGD", 1e-3, {"t0": 20.0}),
            ("Rprop", 1e-3, {}),
        ]
    ]
    identity = gdviz.schedule("ConstantLR", factor=1.0)
    plain = gdviz.race(surface, optimizers, start=(-1.5, 2.0), steps=120)
    scheduled = gdviz.race(surface, optimizers, start=(-1.5, 2.0), steps=120, schedule=identity)
    for a, b in zip(plain, scheduled):
        name = a.optimizer.name
        np.testing.assert_array_equal(a.xs, b.xs, err_msg=name)
        np.testing.assert_array_equal(a.losses, b.losses, err_msg=name)
        np.testing.assert_array_equal(a.grads, b.grads, err_msg=name)
        np.testing.assert_array_equal(a.lrs, b.lrs, err_msg=name)
        for key in a.states:
            np.testing.assert_array_equal(a.states[key], b.states[key], err_msg=f"{name} {key}")
        assert a.seconds > 0


def test_a_huge_but_finite_gradient_is_no_divergence():
    """|g| ~ 1e160 overflows the quick check's sum of squares; the exact per-run test must clear it."""
    steep = Surface(
        name="steep",
        title="steep",
        dim=2,
        f=lambda x: 1e-20 * np.asarray(x)[..., 0],
        grad=lambda x: np.broadcast_to([1e160, 0.0], np.shape(x)).copy(),
        hessian=lambda x: np.zeros(np.shape(x) + (2,)),
        bounds=((-1.0, 1.0), (-1.0, 1.0)),
        minima=np.zeros((0, 2)),
        f_min=float("nan"),
        default_start=(0.5, 0.5),
    )
    traj = gdviz.run(steep, gdviz.optimizer("SGD", lr=1e-170), steps=5)
    assert traj.diverged_at is None
    np.testing.assert_array_equal(traj.grads, np.tile([1e160, 0.0], (5, 1)))
    np.testing.assert_allclose(np.diff(traj.xs[:, 0]), np.full(5, -1e-10), rtol=1e-5)


def test_many_large_losses_are_no_divergence():
    """Each loss is below LOSS_LIMIT but their sum of squares is not: a false alarm, nothing frozen."""
    quadratic = gdviz.surface("quadratic")
    starts = np.tile([4e74, 0.0], (64, 1))  # f = 1.6e149 in every run
    assert np.all(quadratic.f(starts) <= LOSS_LIMIT) and np.sum(quadratic.f(starts) ** 2) > LOSS_LIMIT**2
    traj = gdviz.run(quadratic, gdviz.optimizer("SGD", lr=0.0), start=starts, steps=3)
    assert traj.diverged_at == [None] * 64
    np.testing.assert_array_equal(traj.xs[-1], starts)


def test_stacking_the_states_equals_np_stack():
    rng = np.random.default_rng(0)
    runs = [rng.standard_normal((3, 2)) for _ in range(50)]
    np.testing.assert_array_equal(_stack_small(runs), np.stack(runs))
    stacked = _stack_small(runs)
    assert stacked.flags.writeable
    stacked[0, 0, 0] = 123.0  # an array of its own, sharing nothing with the inputs
    assert runs[0][0, 0] != 123.0
    strided = [rng.standard_normal((3, 4))[:, ::2] for _ in range(5)]  # not contiguous
    np.testing.assert_array_equal(_stack_small(strided), np.stack(strided))
    mixed = [np.zeros((1, 2), dtype=np.float32)] + [np.ones((1, 2)) for _ in range(3)]  # float32 then float64
    np.testing.assert_array_equal(_stack_small(mixed), np.stack(mixed))
    with pytest.raises(ValueError):
        _stack_small([np.zeros((1, 2)), np.zeros((1, 3))])
