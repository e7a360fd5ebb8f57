"""The Adam family against torch.optim branch by branch, and Newton, Lion, Yogi and AdamThenSGD against
their papers' update rules written out again here, one run at a time, in plain Python floats.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.optimizers.adam import Adam, AdamW
from gdviz.optimizers.adam_then_sgd import AdamThenSGD
from gdviz.optimizers.adamax import Adamax
from gdviz.optimizers.lion import Lion
from gdviz.optimizers.nadam import NAdam
from gdviz.optimizers.newton import Newton
from gdviz.optimizers.radam import RAdam
from gdviz.optimizers.yogi import Yogi
from gdviz.surfaces.base import Surface
from tests.torch_reference import path_error, torch, torch_path

TOLERANCE = 1e-9
# every registered optimizer with Adam's (β1, β2), and those of them that torch.optim has
WITH_BETAS = tuple(cls for cls in OPTIMIZERS.values() if any(spec.name == "betas" for spec in cls.spec))
TORCH_FAMILY = tuple(cls for cls in WITH_BETAS if cls.torch_class)


def quadratic_surface(A, b=(0.0, 0.0), name="test_quadratic") -> Surface:
    """f(x) = ½ xᵀAx − bᵀx with constant Hessian A: a bowl, saddle, dome or flat valley as A says."""
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return Surface(
        name=name,
        title=name,
        dim=2,
        f=lambda x: 0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b,
        grad=lambda x: x @ A.T - b,
        hessian=lambda x: np.broadcast_to(A, (*np.shape(x)[:-1], 2, 2)).copy(),
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=np.zeros((0, 2)),
        f_min=math.nan,
        default_start=(1.0, 1.0),
    )


def scaled_surface(surface: Surface, factor: float) -> Surface:
    return Surface(
        name=f"{surface.name}_x{factor:g}",
        title="scaled",
        dim=surface.dim,
        f=lambda x: factor * surface.f(x),
        grad=lambda x: factor * surface.grad(x),
        hessian=lambda x: factor * surface.hessian(x),
        bounds=surface.bounds,
        minima=surface.minima,
        f_min=factor * surface.f_min,
        default_start=surface.default_start,
    )


def assert_matches_torch(opt, surface_name, start, steps):
    surface = gdviz.surface(surface_name)
    traj = gdviz.run(surface, opt, start=start, steps=steps)
    assert traj.diverged_at is None
    reference = torch_path(opt, surface, np.asarray(start, dtype=np.float64), steps)
    error = path_error(traj.xs, reference)
    assert error <= TOLERANCE, f"{opt} on {surface_name}: {error:.3g}"
    return traj


def row(hyper: dict, r: int) -> dict:
    """The scalar hyper-parameters of run r of a sweep."""

    def pick(value):
        if isinstance(value, tuple):
            return tuple(pick(v) for v in value)
        if isinstance(value, np.ndarray):
            return float(value[r])
        return value

    return {key: pick(value) for key, value in hyper.items()}


# -- torch parity, branch by branch ------------------------------------------------------------

PARITY_CASES = [
    (Adam, {"lr": 0.02}),
    (Adam, {"lr": 0.02, "amsgrad": True}),
    (Adam, {"lr": 0.02, "weight_decay": 0.05}),
    (Adam, {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    (Adam, {"lr": 0.02, "betas": (0.3, 0.6), "eps": 1e-3, "amsgrad": True}),  # lerp's large-weight form
    (AdamW, {"lr": 0.02}),
    (AdamW, {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
    (Adamax, {"lr": 0.02}),
    (Adamax, {"lr": 0.02, "weight_decay": 0.05, "betas": (0.4, 0.9)}),
    (NAdam, {"lr": 0.02}),
    (NAdam, {"lr": 0.02, "weight_decay": 0.05}),
    (NAdam, {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    (NAdam, {"lr": 0.02, "momentum_decay": 0.0}),
    (NAdam, {"lr": 0.02, "momentum_decay": 0.1, "betas": (0.95, 0.99)}),
    (RAdam, {"lr": 0.02}),
    (RAdam, {"lr": 0.02, "weight_decay": 0.05}),
    (RAdam, {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    (RAdam, {"lr": 0.01, "betas": (0.9, 0.5)}),  # ρ_∞ < 5: never rectified
    (RAdam, {"lr": 0.02, "betas": (0.8, 0.9)}),  # rectified from step 6
]


@pytest.mark.parametrize("surface_name, start", [("quadratic", (-5.0, -2.0)), ("himmelblau", (0.5, -0.5))])
@pytest.mark.parametrize("cls, hyper", PARITY_CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_each_branch_matches_torch(cls, hyper, surface_name, start):
    # 100 steps of at most ~lr each: short of the minimum, where sign-like steps turn chaotic
    assert_matches_torch(cls(**hyper), surface_name, start, 100)


@pytest.mark.parametrize("cls", TORCH_FAMILY)
def test_maximize_matches_torch_and_climbs(cls):
    # f = −(x1² + 2 x2²) has its maximum at 0: maximizing converges there
    dome = quadratic_surface([[-2.0, 0.0], [0.0, -4.0]])
    opt = cls(lr=0.05, maximize=True)
    start = np.array([-2.0, 1.5])
    traj = gdviz.run(dome, opt, start=start, steps=300)
    assert path_error(traj.xs, torch_path(opt, dome, start, 300)) <= TOLERANCE
    assert traj.losses[-1] > traj.losses[0]
    assert np.max(np.abs(traj.xs[-1])) < 0.1


def test_radam_takes_plain_momentum_steps_until_rho_exceeds_5():
    beta1, beta2, lr = 0.9, 0.999, 0.01
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, 11)]
    first_rectified = next(t for t, r in enumerate(rho, start=1) if r > 5)
    assert first_rectified == 6  # ρ_t ≈ t early on for β2 near 1
    traj = assert_matches_torch(RAdam(lr=lr, betas=(beta1, beta2)), "quadratic", (-5.0, -2.0), 10)
    for t in range(1, 11):
        plain = traj.xs[t - 1] - lr * traj.states["exp_avg"][t] / (1 - beta1**t)
        if t < first_rectified:
            np.testing.assert_allclose(traj.xs[t], plain, rtol=1e-14)
        else:
            assert not np.allclose(traj.xs[t], plain, rtol=1e-6)


def test_adam_state_holds_the_moments_and_amsgrad_their_running_maximum():
    traj = gdviz.run(gdviz.surface("himmelblau"), Adam(lr=0.1, amsgrad=True), start=(0.5, -0.5), steps=60)
    m, v, vmax = (traj.states[k] for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
    np.testing.assert_allclose(m[1:], 0.9 * m[:-1] + 0.1 * traj.grads, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v[1:], 0.999 * v[:-1] + 0.001 * traj.grads**2, rtol=1e-12)
    np.testing.assert_array_equal(vmax, np.maximum.accumulate(v, axis=0))
    plain = gdviz.run(gdviz.surface("himmelblau"), Adam(lr=0.1), start=(0.5, -0.5), steps=60)
    assert not np.any(plain.states["max_exp_avg_sq"])


def test_nadam_mu_product_is_torchs_float32_running_product():
    traj = gdviz.run(gdviz.surface("quadratic"), NAdam(), start=(-5.0, -2.0), steps=20)
    expected = np.float32(1.0)
    for t in range(1, 21):
        mu = 0.9 * (1.0 - 0.5 * 0.96 ** (t * 4e-3))
        expected = np.float32(expected * np.float32(mu))
        assert traj.states["mu_product"][t, 0] == pytest.approx(float(expected), rel=1e-7)
        assert traj.states["mu_product"][t, 0] == np.float32(traj.states["mu_product"][t, 0])


# -- torch's names, defaults and messages ------------------------------------------------------


@pytest.mark.parametrize("cls", TORCH_FAMILY)
@pytest.mark.parametrize("betas", [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, -1e-3), (float("nan"), 0.9)])
def test_bad_betas_raise_torchs_message(cls, betas):
    with pytest.raises(ValueError) as torch_error:
        getattr(torch.optim, cls.torch_class)([torch.zeros(2, requires_grad=True)], betas=betas)
    with pytest.raises(ValueError) as ours:
        cls(betas=betas)
    assert str(ours.value) == str(torch_error.value)


@pytest.mark.parametrize("cls", WITH_BETAS)
def test_bad_swept_beta_names_its_index(cls):
    with pytest.raises(ValueError, match=r"Invalid beta parameter at index 1: \[1\.0\]"):
        cls(betas=(0.9, np.array([0.5, 1.0])))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0"):
        cls(betas=(np.array([0.5, -0.5]), 0.9))


@pytest.mark.parametrize(
    "cls, hyper, message",
    [
        (Adam, {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        (Adam, {"lr": -1.0}, "Invalid lr value: -1.0"),
        (Adam, {"eps": -1e-8}, "Invalid eps value"),
        (NAdam, {"momentum_decay": -1.0}, "Invalid momentum_decay value: -1.0"),
        (Adam, {"betas": 0.9}, "betas must be a pair"),
        (Adam, {"betas": (0.9, 0.99, 0.999)}, "betas must be a pair"),
        (Adam, {"momentum": 0.9}, "unexpected hyper-parameter"),
        (AdamW, {"decoupled_weight_decay": False}, "unexpected hyper-parameter"),
        (Adamax, {"amsgrad": True}, "unexpected hyper-parameter"),
        (Newton, {"damping": -1.0}, "Invalid damping value"),
        (Yogi, {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value"),
        (AdamThenSGD, {"switch_step": -1}, "Invalid switch_step value"),
        (AdamThenSGD, {"switch_step": 2.5}, "switch_step must be an integer"),
        (AdamThenSGD, {"momentum": -0.5}, "Invalid momentum value"),
    ],
)
def test_invalid_hyper_parameters_are_rejected(cls, hyper, message):
    with pytest.raises(ValueError, match=message):
        cls(**hyper)


# -- sweeps --------------------------------------------------------------------------------------

SWEEPS = [
    (Adam, {"lr": 0.05, "betas": (0.9, np.array([0.5, 0.9, 0.99, 0.999]))}),
    (Adam, {"lr": 0.05, "betas": (np.array([0.0, 0.3, 0.6, 0.9]), 0.999), "amsgrad": True}),
    (AdamW, {"lr": 0.05, "betas": (np.array([0.2, 0.9]), np.array([0.6, 0.99])), "weight_decay": np.array([0.0, 0.1])}),
    (Adamax, {"lr": 0.05, "betas": (np.array([0.3, 0.9]), np.array([0.5, 0.999]))}),
    (NAdam, {"lr": 0.05, "betas": (np.array([0.3, 0.9, 0.99]), 0.999), "momentum_decay": np.array([0.0, 4e-3, 0.1])}),
    # β2 = 1/3 makes ρ_∞ = 2, a zero in the rectification's denominator if it were evaluated
    (RAdam, {"lr": 0.05, "betas": (0.9, np.array([0.0, 1 / 3, 0.5, 0.8, 0.9, 0.999]))}),
    (RAdam, {"lr": 0.05, "betas": (np.array([0.1, 0.9]), 0.9), "weight_decay": np.array([0.1, 0.0])}),
]


@pytest.mark.parametrize("cls, hyper", SWEEPS, ids=lambda v: getattr(v, "name", ""))
def test_swept_betas_match_torch_run_by_run(cls, hyper):
    surface, start, steps = gdviz.surface("himmelblau"), np.array([0.5, -0.5]), 150
    batch = gdviz.run(surface, cls(**hyper), start=start, steps=steps)
    runs = batch.xs.shape[1]
    for r in range(runs):
        single = cls(**row(hyper, r))
        alone = gdviz.run(surface, single, start=start, steps=steps)
        np.testing.assert_array_equal(batch.xs[:, r], alone.xs)
        for name in cls.state_names:
            np.testing.assert_array_equal(batch.states[name][:, r], alone.states[name])
        assert path_error(batch.xs[:, r], torch_path(single, surface, start, steps)) <= TOLERANCE


def test_a_64_run_beta2_sweep_in_one_call():
    beta2 = np.linspace(0.9, 0.999, 64)
    traj = gdviz.run(
        gdviz.surface("rosenbrock"), gdviz.optimizer("Adam", lr=0.01, betas=(0.9, beta2)), start=(-1.5, 2.0), steps=100
    )
    assert traj.xs.shape == (101, 64, 2)
    for r in (0, 31, 63):
        alone = gdviz.run(
            gdviz.surface("rosenbrock"), Adam(lr=0.01, betas=(0.9, beta2[r])), start=(-1.5, 2.0), steps=100
        )
        np.testing.assert_array_equal(traj.xs[:, r], alone.xs)


@pytest.mark.parametrize("cls, hyper", SWEEPS, ids=lambda v: getattr(v, "name", ""))
def test_update_called_directly_raises_no_warning(cls, hyper):
    opt = cls(**hyper)
    rows = opt.batch
    x = np.tile([[0.5, -0.5]], (rows, 1))
    g = np.tile([[0.0, 3.0]], (rows, 1))  # a zero coordinate too
    lr = np.full((rows, 1), 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = opt.init(x, lr)
        for t in range(1, 12):
            x, state = opt.update(x, g, state, lr, t, None)
    assert np.all(np.isfinite(x))


# -- Newton --------------------------------------------------------------------------------------


def newton_reference(surface, start, steps, lr, damping):
    """d2l 12.3's x ← x − η (H + λI)⁻¹ ∇f, with the 2×2 inverse written out."""
    x1, x2 = map(float, start)
    path = [(x1, x2)]
    for _ in range(steps):
        g1, g2 = surface.grad(np.array([x1, x2])).tolist()
        (a, b), (c, d) = surface.hessian(np.array([x1, x2])).tolist()
        a, d = a + damping, d + damping
        det = a * d - b * c
        x1, x2 = x1 - lr * (d * g1 - b * g2) / det, x2 - lr * (a * g2 - c * g1) / det
        path.append((x1, x2))
    return np.array(path)


@pytest.mark.parametrize("lr, damping", [(1.0, 0.0), (0.5, 0.0), (1.0, 2.0), (0.3, 10.0)])
@pytest.mark.parametrize("surface_name, start", [("rosenbrock", (-1.2, 1.0)), ("himmelblau", (0.5, -0.5))])
def test_newton_follows_its_formula(surface_name, start, lr, damping):
    surface = gdviz.surface(surface_name)
    traj = gdviz.run(surface, Newton(lr=lr, damping=damping), start=start, steps=30)
    np.testing.assert_allclose(traj.xs, newton_reference(surface, start, 30, lr, damping), rtol=1e-9, atol=1e-12)


def test_newton_solves_a_quadratic_in_one_step_whatever_its_conditioning():
    A, b = [[1000.0, 3.0], [3.0, 0.01]], [1.0, -2.0]
    bowl = quadratic_surface(A, b)
    traj = gdviz.run(bowl, Newton(), start=(4.0, -3.0), steps=3)
    np.testing.assert_allclose(traj.xs[1], np.linalg.solve(A, b), rtol=1e-10)
    np.testing.assert_allclose(traj.xs[3], traj.xs[1], rtol=1e-10)
    d2l = gdviz.run(gdviz.surface("quadratic"), Newton(), start=(-5.0, -2.0), steps=1)
    np.testing.assert_allclose(d2l.xs[1], [0.0, 0.0], atol=1e-15)


@pytest.mark.parametrize("A", [[[2.0, 0.0], [0.0, -2.0]], [[-2.0, 0.5], [0.5, -1.0]]], ids=["saddle", "maximum"])
def test_newton_jumps_to_the_saddle_or_maximum_where_the_hessian_is_not_positive(A):
    surface = quadratic_surface(A)
    start = np.array([1.0, 2.0])
    traj = gdviz.run(surface, Newton(), start=start, steps=5)
    np.testing.assert_allclose(traj.xs[1:], 0.0, atol=1e-14)  # the stationary point, not a minimum
    if np.all(np.linalg.eigvalsh(A) < 0):
        assert traj.losses[1] > traj.losses[0]  # it climbed to the top


def test_damping_shortens_the_step_and_past_the_negative_curvature_escapes_the_saddle():
    bowl = quadratic_surface([[2.0, 0.0], [0.0, 4.0]])
    start = np.array([-5.0, -2.0])
    damped = gdviz.run(bowl, Newton(damping=np.array([1.0, 4.0, 1e6])), start=start, steps=1)
    for r, lam in enumerate([1.0, 4.0, 1e6]):
        # (H + λI)⁻¹ H x leaves λ/(h + λ) of each coordinate
        np.testing.assert_allclose(damped.xs[1, r], start * lam / (np.array([2.0, 4.0]) + lam), rtol=1e-12)
    # very strong damping is gradient descent with lr η/λ
    np.testing.assert_allclose(damped.xs[1, 2] - start, -1e-6 * bowl.grad(start), rtol=1e-5)
    saddle = quadratic_surface([[2.0, 0.0], [0.0, -2.0]])
    escaped = gdviz.run(saddle, Newton(damping=3.0), start=(1.0, 0.5), steps=3)
    # x: 1 - 2/(2+3) = 0.6 per step; y: 1 + 2/(3-2) = 3 per step, away from the saddle and downhill
    np.testing.assert_allclose(escaped.xs[:, 0], 0.6 ** np.arange(4), rtol=1e-12)
    np.testing.assert_allclose(escaped.xs[:, 1], 0.5 * 3.0 ** np.arange(4), rtol=1e-12)
    assert np.all(np.diff(escaped.losses) < 0)


@pytest.mark.parametrize("A", [[[2.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
def test_singular_hessian_stops_the_run_cleanly(A):
    surface = quadratic_surface(A, b=(1.0, 1.0))
    traj = gdviz.run(surface, Newton(), start=(1.0, 2.0), steps=10)
    assert traj.diverged_at == 1
    assert np.all(np.isfinite(traj.xs)) and np.all(np.isfinite(traj.losses))
    np.testing.assert_array_equal(traj.xs[-1], [1.0, 2.0])
    # damping makes the same system regular: only the undamped run of a batch stops
    batch = gdviz.run(surface, Newton(damping=np.array([0.0, 1.0])), start=(1.0, 2.0), steps=10)
    assert batch.diverged_at == [1, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.array([[1.0, 2.0]])
        step, _ = Newton().update(x, surface.grad(x), {}, np.ones((1, 1)), 1, surface.hessian(x))
    assert not np.any(np.isfinite(step))


def test_newton_without_a_hessian_is_an_error():
    with pytest.raises(ValueError, match="Hessian"):
        Newton().update(np.zeros((1, 2)), np.ones((1, 2)), {}, np.ones((1, 1)), 1, None)


# -- Lion ----------------------------------------------------------------------------------------


def lion_reference(surface, start, steps, lr, beta1, beta2, weight_decay):
    """Chen et al. 2023, Algorithm 2, one coordinate at a time."""
    x, m = [float(v) for v in start], [0.0] * len(start)
    path = [list(x)]
    for _ in range(steps):
        g = surface.grad(np.array(x)).tolist()
        for i in range(len(x)):
            c = beta1 * m[i] + (1 - beta1) * g[i]
            sign = float((c > 0) - (c < 0))
            x[i] = x[i] - lr * (sign + weight_decay * x[i])
            m[i] = beta2 * m[i] + (1 - beta2) * g[i]
        path.append(list(x))
    return np.array(path)


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.01, "betas": (0.5, 0.9)}, {"lr": 3e-3, "weight_decay": 0.5}])
@pytest.mark.parametrize("surface_name, start", [("rosenbrock", (-1.5, 2.0)), ("himmelblau", (0.5, -0.5))])
def test_lion_follows_algorithm_2(surface_name, start, hyper):
    opt = Lion(**hyper)
    beta1, beta2 = opt.h("betas")
    surface = gdviz.surface(surface_name)
    traj = gdviz.run(surface, opt, start=start, steps=300)
    reference = lion_reference(surface, start, 300, opt.h("lr"), beta1, beta2, opt.h("weight_decay"))
    assert path_error(traj.xs, reference) <= 1e-12


def test_lion_moves_every_coordinate_by_exactly_lr():
    traj = gdviz.run(gdviz.surface("himmelblau"), Lion(lr=0.01), start=(0.5, -0.5), steps=200)
    np.testing.assert_allclose(np.abs(np.diff(traj.xs, axis=0)), 0.01, rtol=1e-12)


def test_lion_ignores_the_gradients_scale():
    rosenbrock = gdviz.surface("rosenbrock")
    steep = gdviz.run(scaled_surface(rosenbrock, 1000.0), Lion(lr=1e-3), start=(-1.5, 2.0), steps=300)
    flat = gdviz.run(scaled_surface(rosenbrock, 1e-3), Lion(lr=1e-3), start=(-1.5, 2.0), steps=300)
    np.testing.assert_array_equal(steep.xs, flat.xs)


# -- Yogi ----------------------------------------------------------------------------------------


def yogi_reference(surface, start, steps, lr, beta1, beta2, eps, v0):
    """Zaheer et al. 2018, Algorithm 2 (no bias correction), one coordinate at a time."""
    x, m, v = [float(c) for c in start], [0.0] * len(start), [v0] * len(start)
    path = [list(x)]
    for _ in range(steps):
        g = surface.grad(np.array(x)).tolist()
        for i in range(len(x)):
            g2 = g[i] * g[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            gap = v[i] - g2
            v[i] = v[i] - (1 - beta2) * float((gap > 0) - (gap < 0)) * g2
            x[i] = x[i] - lr * m[i] / (math.sqrt(v[i]) + eps)
        path.append(list(x))
    return np.array(path)


@pytest.mark.parametrize(
    "hyper", [{}, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6}, {"initial_accumulator_value": 1.0}]
)
@pytest.mark.parametrize("surface_name, start", [("rosenbrock", (-1.5, 2.0)), ("himmelblau", (0.5, -0.5))])
def test_yogi_follows_algorithm_2(surface_name, start, hyper):
    opt = Yogi(**hyper)
    beta1, beta2 = opt.h("betas")
    surface = gdviz.surface(surface_name)
    traj = gdviz.run(surface, opt, start=start, steps=300)
    reference = yogi_reference(
        surface, start, 300, opt.h("lr"), beta1, beta2, opt.h("eps"), opt.h("initial_accumulator_value")
    )
    assert path_error(traj.xs, reference) <= 1e-12


def test_yogi_second_moment_moves_by_one_minus_beta2_times_g_squared():
    traj = gdviz.run(gdviz.surface("himmelblau"), Yogi(lr=0.1), start=(0.5, -0.5), steps=100)
    v, g2 = traj.states["exp_avg_sq"], traj.grads**2
    np.testing.assert_allclose(v[0], 1e-6)
    change = np.diff(v, axis=0)
    # by (1-β2)g² up to the rounding of v itself, towards g²
    assert np.all(np.abs(np.abs(change) - (1 - 0.999) * g2) <= 4 * np.spacing(np.maximum(v[1:], v[:-1])))
    np.testing.assert_array_equal(np.sign(change), np.sign(g2 - v[:-1]))
    first = traj.xs[0] - 0.1 * (0.1 * traj.grads[0]) / (np.sqrt(v[1]) + 1e-3)
    np.testing.assert_allclose(traj.xs[1], first, rtol=1e-12)  # no 1/(1-β^t) anywhere


# -- Adam, then SGD ------------------------------------------------------------------------------


def adam_then_sgd_torch(opt, surface, start, steps, lr_factors=None):
    """torch.optim.Adam for switch_step steps, then a fresh torch.optim.SGD on the same parameter."""
    param = torch.tensor(np.asarray(start, dtype=np.float64), requires_grad=True)
    beta1, beta2 = opt.h("betas")
    adam = torch.optim.Adam([param], lr=opt.h("lr"), betas=(beta1, beta2), eps=opt.h("eps"))
    sgd = torch.optim.SGD([param], lr=opt.h("sgd_lr"), momentum=opt.h("momentum"))
    path = [param.detach().numpy().copy()]
    for t in range(1, steps + 1):
        active = adam if t <= opt.h("switch_step") else sgd
        factor = 1.0 if lr_factors is None else lr_factors[t - 1]
        base = opt.h("lr") if active is adam else opt.h("sgd_lr")
        active.param_groups[0]["lr"] = base * factor
        active.zero_grad()
        param.grad = torch.from_numpy(surface.grad(param.detach().numpy().copy()))
        active.step()
        path.append(param.detach().numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("switch_step, momentum", [(40, 0.9), (40, 0.0), (0, 0.5), (500, 0.9)])
def test_adam_then_sgd_is_adam_then_a_fresh_torch_sgd(switch_step, momentum):
    surface, start, steps = gdviz.surface("rosenbrock"), (-1.5, 2.0), 200
    opt = AdamThenSGD(lr=0.05, switch_step=switch_step, sgd_lr=1e-3, momentum=momentum)
    traj = gdviz.run(surface, opt, start=start, steps=steps)
    assert path_error(traj.xs, adam_then_sgd_torch(opt, surface, start, steps)) <= TOLERANCE
    adam = gdviz.run(surface, Adam(lr=0.05), start=start, steps=min(switch_step, steps))
    np.testing.assert_array_equal(traj.xs[: switch_step + 1], adam.xs)
    if switch_step < steps:
        after = traj.xs[switch_step]
        sgd = gdviz.run(
            surface, gdviz.optimizer("SGD", lr=1e-3, momentum=momentum), start=after, steps=steps - switch_step
        )
        np.testing.assert_array_equal(traj.xs[switch_step:], sgd.xs)


def test_adam_then_sgd_applies_the_schedules_factor_to_whichever_lr_is_active():
    surface, start, steps = gdviz.surface("rosenbrock"), (-1.5, 2.0), 120
    opt = AdamThenSGD(lr=0.05, switch_step=30, sgd_lr=1e-3, momentum=0.9)
    schedule = gdviz.schedule("StepLR", step_size=20, gamma=0.5)
    traj = gdviz.run(surface, opt, start=start, steps=steps, schedule=schedule)
    factors = schedule.lrs(1.0, steps)
    assert path_error(traj.xs, adam_then_sgd_torch(opt, surface, start, steps, factors)) <= TOLERANCE
    # the first SGD step is sgd_lr · factor · g (torch's buffer starts at the gradient)
    x = np.array([[0.5, 0.5]])
    g = surface.grad(x)
    state = opt.init(x, np.full((1, 1), 0.05))
    x_new, state = opt.update(x, g, state, np.full((1, 1), 0.05 * 0.25), 31, None)
    np.testing.assert_allclose(x_new, x - 1e-3 * 0.25 * g, rtol=1e-15)
    np.testing.assert_array_equal(state["momentum_buffer"], g)


def test_adam_then_sgd_sweeps_are_separate_runs():
    surface, start = gdviz.surface("himmelblau"), (0.5, -0.5)
    hyper = {"lr": 0.05, "switch_step": 25, "sgd_lr": np.array([1e-3, 1e-2]), "momentum": np.array([0.0, 0.9])}
    batch = gdviz.run(surface, AdamThenSGD(**hyper), start=start, steps=80)
    for r in range(2):
        alone = gdviz.run(surface, AdamThenSGD(**row(hyper, r)), start=start, steps=80)
        np.testing.assert_array_equal(batch.xs[:, r], alone.xs)
