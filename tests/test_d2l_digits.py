"""The book's digits: d2l 12.7 (Adagrad) and 12.8 (RMSProp) as the book runs and prints them.

d2l's ``adagrad_2d`` and ``rmsprop_2d`` divide by √(s + ε) with ε = 1e-6, where torch divides by
√s + ε. With ``eps_inside_sqrt=True`` the engine follows the book and prints its lines to the last
digit; off (the default) it stays torch's update to the bit. The book's printed lines are copied
from d2l 12.7 and 12.8 (``train_2d``: 20 steps from (-5, -2) on f = 0.1 x1² + 2 x2², printed with
``f'{x:f}'``); the plain-Python loops below are written from the book's formulas, not from the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdviz
from tests.torch_reference import path_error, torch, torch_hyper, torch_path
from ui.playground.inspector import inspect
from ui.playground.presets import PRESETS
from ui.playground.scenario import from_query, to_query
from ui.playground.simulate import simulate

BOOK_START = (-5.0, -2.0)
BOOK_STEPS = 20  # d2l.train_2d's default
BOOK_EPS = 1e-6
D2L = {"eps": BOOK_EPS, "eps_inside_sqrt": True}

# (optimizer, the book's hyper-parameters, the line the book prints after train_2d)
BOOK_RUNS = [
    ("Adagrad", dict(lr=0.4), "epoch 20, x1: -2.382563, x2: -0.158591"),  # d2l 12.7, eta = 0.4
    ("Adagrad", dict(lr=2.0), "epoch 20, x1: -0.002295, x2: -0.000000"),  # d2l 12.7, eta = 2
    ("RMSprop", dict(lr=0.4, alpha=0.9), "epoch 20, x1: -0.010599, x2: 0.000000"),  # d2l 12.8, eta, gamma = 0.4, 0.9
]


def book_line(xs: np.ndarray, steps: int = BOOK_STEPS) -> str:
    """What d2l.train_2d prints after its loop."""
    x1, x2 = xs
    return f"epoch {steps}, x1: {float(x1):f}, x2: {float(x2):f}"


# -- d2l's loops, in plain Python (scalars, math.sqrt), as the book writes them ----------------------
def book_gradient(surface_name: str):
    """The gradient as the book writes it for its f = 0.1 x1² + 2 x2², and for d2l 12.3's x1² + 2 x2²."""
    return {"ill_conditioned": lambda x1, x2: (0.2 * x1, 4 * x2), "quadratic": lambda x1, x2: (2 * x1, 4 * x2)}[
        surface_name
    ]


def d2l_adagrad(surface_name, eta, eps, steps, start=BOOK_START):
    gradient = book_gradient(surface_name)
    x1, x2 = start
    s1 = s2 = 0.0
    path = [(x1, x2)]
    for _ in range(steps):
        g1, g2 = gradient(x1, x2)
        s1 += g1**2
        s2 += g2**2
        x1 -= eta / math.sqrt(s1 + eps) * g1
        x2 -= eta / math.sqrt(s2 + eps) * g2
        path.append((x1, x2))
    return np.array(path)


def d2l_rmsprop(surface_name, eta, gamma, eps, steps, start=BOOK_START):
    gradient = book_gradient(surface_name)
    x1, x2 = start
    s1 = s2 = 0.0
    path = [(x1, x2)]
    for _ in range(steps):
        g1, g2 = gradient(x1, x2)
        s1 = gamma * s1 + (1 - gamma) * g1**2
        s2 = gamma * s2 + (1 - gamma) * g2**2
        x1 -= eta / math.sqrt(s1 + eps) * g1
        x2 -= eta / math.sqrt(s2 + eps) * g2
        path.append((x1, x2))
    return np.array(path)


def assert_same_path(ours: np.ndarray, book: np.ndarray) -> None:
    """Equal to 1e-12, relative to the size of the coordinate (the two loops round differently)."""
    np.testing.assert_allclose(ours, book, rtol=1e-12, atol=1e-12 * np.max(np.abs(book)))


# -- the book's printed digits ---------------------------------------------------------------------
def test_the_surface_is_the_books():
    surface = gdviz.surface("ill_conditioned")
    points = np.array([[-5.0, -2.0], [1.5, 0.3], [-0.7, 2.2]])
    np.testing.assert_allclose(surface.f(points), 0.1 * points[:, 0] ** 2 + 2 * points[:, 1] ** 2, rtol=1e-15)
    for point in points:
        np.testing.assert_array_equal(surface.grad(point), book_gradient("ill_conditioned")(*point))


@pytest.mark.parametrize(("name", "hyper", "printed"), BOOK_RUNS)
def test_the_engine_prints_the_books_line(name, hyper, printed):
    opt = gdviz.optimizer(name, **hyper, **D2L)
    traj = gdviz.run(gdviz.surface("ill_conditioned"), opt, start=BOOK_START, steps=BOOK_STEPS)
    assert book_line(traj.xs[-1]) == printed


@pytest.mark.parametrize(("name", "hyper", "printed"), BOOK_RUNS)
def test_the_plain_loop_prints_the_books_line_too(name, hyper, printed):
    """The test's own loops are the book's: they print its lines (so comparing with them below means something)."""
    if name == "Adagrad":
        path = d2l_adagrad("ill_conditioned", hyper["lr"], BOOK_EPS, BOOK_STEPS)
    else:
        path = d2l_rmsprop("ill_conditioned", hyper["lr"], hyper["alpha"], BOOK_EPS, BOOK_STEPS)
    assert book_line(path[-1]) == printed


@pytest.mark.parametrize(
    ("name", "hyper", "torch_line"),
    [
        ("Adagrad", dict(lr=0.4), "epoch 20, x1: -2.382564, x2: -0.158591"),
        ("RMSprop", dict(lr=0.4, alpha=0.9), "epoch 20, x1: -0.010598, x2: 0.000000"),
    ],
)
def test_torchs_convention_misses_the_books_last_digit(name, hyper, torch_line):
    """Why the option exists: with ε outside the root the same run prints another sixth decimal."""
    opt = gdviz.optimizer(name, **hyper, eps=BOOK_EPS)
    traj = gdviz.run(gdviz.surface("ill_conditioned"), opt, start=BOOK_START, steps=BOOK_STEPS)
    assert book_line(traj.xs[-1]) == torch_line
    assert torch_line not in [printed for *_, printed in BOOK_RUNS]


# -- the engine against the book's loops, beyond the printed settings -------------------------------
@pytest.mark.parametrize("surface_name", ["ill_conditioned", "quadratic"])
@pytest.mark.parametrize(("eta", "eps"), [(0.4, 1e-6), (2.0, 1e-6), (0.1, 1e-2), (1.0, 0.5), (0.7, 0.0)])
def test_adagrad_follows_the_books_loop(surface_name, eta, eps):
    opt = gdviz.optimizer("Adagrad", lr=eta, eps=eps, eps_inside_sqrt=True)
    traj = gdviz.run(gdviz.surface(surface_name), opt, start=BOOK_START, steps=60)
    assert_same_path(traj.xs, d2l_adagrad(surface_name, eta, eps, 60))


@pytest.mark.parametrize("surface_name", ["ill_conditioned", "quadratic"])
@pytest.mark.parametrize(
    ("eta", "gamma", "eps"), [(0.4, 0.9, 1e-6), (0.1, 0.99, 1e-6), (0.05, 0.5, 1e-2), (0.3, 0.9, 0.5), (0.2, 0.8, 0.0)]
)
def test_rmsprop_follows_the_books_loop(surface_name, eta, gamma, eps):
    opt = gdviz.optimizer("RMSprop", lr=eta, alpha=gamma, eps=eps, eps_inside_sqrt=True)
    traj = gdviz.run(gdviz.surface(surface_name), opt, start=BOOK_START, steps=60)
    assert_same_path(traj.xs, d2l_rmsprop(surface_name, eta, gamma, eps, 60))


def test_a_sweep_follows_the_books_loop_run_by_run():
    """The option is one switch for the whole batch; each swept column is the book's loop with its own values."""
    etas, gammas, epss = np.array([0.4, 0.1, 1.0]), np.array([0.9, 0.99, 0.6]), np.array([1e-6, 1e-2, 0.3])
    starts = np.tile(BOOK_START, (3, 1))
    surface = gdviz.surface("ill_conditioned")
    adagrad = gdviz.run(
        surface, gdviz.optimizer("Adagrad", lr=etas, eps=epss, eps_inside_sqrt=True), start=starts, steps=40
    )
    rmsprop = gdviz.run(
        surface,
        gdviz.optimizer("RMSprop", lr=etas, alpha=gammas, eps=epss, eps_inside_sqrt=True),
        start=starts,
        steps=40,
    )
    for r in range(3):
        assert_same_path(adagrad.xs[:, r], d2l_adagrad("ill_conditioned", etas[r], epss[r], 40))
        assert_same_path(rmsprop.xs[:, r], d2l_rmsprop("ill_conditioned", etas[r], gammas[r], epss[r], 40))


# -- off, nothing changed ---------------------------------------------------------------------------
SETTINGS_OFF = [
    ("Adagrad", dict(lr=0.5)),
    ("Adagrad", dict(lr=0.5, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, momentum=0.5, centered=True, weight_decay=0.01)),
]


@pytest.mark.parametrize(("name", "hyper"), SETTINGS_OFF)
def test_off_is_the_default(name, hyper):
    surface = gdviz.surface("himmelblau")
    default = gdviz.run(surface, gdviz.optimizer(name, **hyper), start=(0.5, -0.5), steps=80)
    off = gdviz.run(surface, gdviz.optimizer(name, **hyper, eps_inside_sqrt=False), start=(0.5, -0.5), steps=80)
    np.testing.assert_array_equal(default.xs, off.xs)
    for state_name, history in default.states.items():
        np.testing.assert_array_equal(off.states[state_name], history)


@pytest.mark.parametrize("lr", [0.3, np.array([[0.3], [0.05]])])  # the run loop's scalar fast path, and a column
def test_off_steps_with_torchs_formula_to_the_bit(lr):
    """Off, each step is torch's (-η g) / (√s + ε), the expression the update computed before the option."""
    x = np.array([[0.5, -0.5], [2.0, 1.0]])
    g = gdviz.surface("himmelblau").grad(x)
    sum_before = np.array([[0.2, 1.0], [3.0, 0.0]])
    adagrad = gdviz.optimizer("Adagrad", eps=1e-3)
    x_new, after = adagrad.update(x, g, {"sum": sum_before}, lr, 1, None)
    np.testing.assert_array_equal(after["sum"], sum_before + g * g)
    np.testing.assert_array_equal(x_new, x + (-lr * g) / (np.sqrt(sum_before + g * g) + 1e-3))
    rmsprop = gdviz.optimizer("RMSprop", alpha=0.9, eps=1e-3)
    before = {name: np.zeros_like(x) for name in rmsprop.state_names} | {"square_avg": sum_before}
    x_new, after = rmsprop.update(x, g, before, lr, 1, None)
    square_avg = sum_before * np.float64(0.9) + np.float64(1 - 0.9) * g * g
    np.testing.assert_array_equal(after["square_avg"], square_avg)
    np.testing.assert_array_equal(x_new, x + (-lr * g) / (np.sqrt(square_avg) + 1e-3))


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop"])
def test_with_eps_zero_both_conventions_agree_to_the_bit(name):
    surface = gdviz.surface("rosenbrock")
    runs = [
        gdviz.run(surface, gdviz.optimizer(name, lr=0.01, eps=0.0, eps_inside_sqrt=inside), start=(-1.5, 2.0), steps=50)
        for inside in (False, True)
    ]
    np.testing.assert_array_equal(runs[0].xs, runs[1].xs)


@pytest.mark.parametrize(("name", "hyper"), SETTINGS_OFF)
def test_off_still_matches_torch(name, hyper):
    opt = gdviz.optimizer(name, **hyper, eps_inside_sqrt=False)
    surface = gdviz.surface("himmelblau")
    traj = gdviz.run(surface, opt, start=(0.5, -0.5), steps=100)
    assert "eps_inside_sqrt" not in torch_hyper(opt)
    assert path_error(traj.xs, torch_path(opt, surface, (0.5, -0.5), 100)) <= 1e-9


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop"])
def test_torch_is_never_asked_to_check_the_books_convention(name):
    opt = gdviz.optimizer(name, **D2L)
    with pytest.raises(ValueError, match="has no eps_inside_sqrt"):
        torch_hyper(opt)


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop"])
def test_the_option_is_a_plain_switch(name):
    cls = gdviz.OPTIMIZERS[name]
    (spec,) = [spec for spec in cls.spec if spec.name == "eps_inside_sqrt"]
    assert spec.kind == "bool" and spec.default is False and not spec.in_torch and "d2l" in spec.help
    with pytest.raises(ValueError, match="eps_inside_sqrt must be True or False"):
        cls(eps_inside_sqrt="yes")
    with pytest.raises(ValueError, match="eps_inside_sqrt must be True or False"):
        cls(eps_inside_sqrt=np.array([True, False]))


# -- the inspector writes the formula the step used -------------------------------------------------
OUTSIDE, INSIDE = r"} + \epsilon", r" + \epsilon}"  # how a denominator ends: torch's √s + ε, d2l's √(s + ε)


@pytest.mark.parametrize(
    ("name", "hyper", "root"),
    [
        ("Adagrad", dict(lr=0.4), "s_t"),
        ("Adagrad", dict(lr=0.4, **D2L), "s_t"),
        ("RMSprop", dict(lr=0.4, alpha=0.9), "v_t"),
        ("RMSprop", dict(lr=0.4, alpha=0.9, **D2L), "v_t"),
        ("RMSprop", dict(lr=0.1, alpha=0.9, centered=True), r"v_t - \bar g_t^2"),
        ("RMSprop", dict(lr=0.1, alpha=0.9, centered=True, **D2L), r"v_t - \bar g_t^2"),
        ("RMSprop", dict(lr=0.1, momentum=0.5, **D2L), "v_t"),
    ],
)
def test_the_inspector_shows_where_eps_sits(name, hyper, root):
    surface = gdviz.surface("ill_conditioned")
    traj = gdviz.run(surface, gdviz.optimizer(name, **hyper), start=BOOK_START, steps=5)
    report = inspect(traj, 3)
    inside = hyper.get("eps_inside_sqrt", False)
    used, other = (r"\sqrt{" + root + end for end in ((INSIDE, OUTSIDE) if inside else (OUTSIDE, INSIDE)))
    effective = [line for line in report.lines if line.startswith(r"\eta_{\text{eff}}")]
    assert len(effective) == 1 and used in effective[0]
    assert not any(other in line for line in report.lines)
    # the number shown is the step's: η_eff · g is the move the run made
    g = traj.grads[2]
    if not hyper.get("momentum"):
        np.testing.assert_allclose(report.values["effective_lr_rule"] * g, -(traj.xs[3] - traj.xs[2]), rtol=1e-12)


# -- the d2l story: the book's settings, the book's digits, a link that keeps them ------------------
def test_the_d2l_story_uses_the_books_convention_and_prints_the_books_lines():
    preset = PRESETS["adagrad-rmsprop"]
    scenario = preset.scenario
    assert scenario.surface == "ill_conditioned" and scenario.start == BOOK_START and scenario.steps == BOOK_STEPS
    assert [(item.name, item.params["eps"], item.params["eps_inside_sqrt"]) for item in scenario.optimizers] == [
        ("Adagrad", BOOK_EPS, True),
        ("Adagrad", BOOK_EPS, True),
        ("RMSprop", BOOK_EPS, True),
    ]
    race, error = simulate(scenario)
    assert error is None, error
    lines = [book_line(trajectory.xs[-1]) for trajectory in race.trajectories]
    assert lines == [printed for *_, printed in BOOK_RUNS]
    for printed in lines:  # the story quotes the printed x1 of each
        assert printed.split("x1: ")[1].split(",")[0].replace("-", "−") in preset.story


def test_every_d2l_story_with_adagrad_or_rmsprop_uses_the_books_convention():
    checked = 0
    for preset in PRESETS.values():
        if not preset.title.startswith("d2l"):
            continue
        for item in preset.scenario.optimizers:
            if item.name in ("Adagrad", "RMSprop"):
                assert item.params["eps_inside_sqrt"] is True and item.params["eps"] == BOOK_EPS, preset.key
                checked += 1
    assert checked >= 3


def test_the_link_keeps_the_switch_and_a_link_without_it_means_off():
    scenario = PRESETS["adagrad-rmsprop"].scenario
    query = to_query(scenario)
    assert query["o1.eps_inside_sqrt"] == "1" and query["o3.eps_inside_sqrt"] == "1"
    assert from_query(query) == (scenario, [])
    older = {key: value for key, value in query.items() if not key.endswith(".eps_inside_sqrt")}
    restored, notices = from_query(older)
    assert notices == [] and [item.params["eps_inside_sqrt"] for item in restored.optimizers] == [False] * 3
    assert not any(key.endswith("eps_inside_sqrt") for key in to_query(restored))  # off is the default: not written
    restored, notices = from_query({**query, "o2.eps_inside_sqrt": "maybe"})
    assert restored.optimizers[1].params["eps_inside_sqrt"] is False
    assert notices and "eps_inside_sqrt" in notices[0]


# -- the Linear Regression page trains with it: torch's class when off, the engine's update when on --
@pytest.mark.parametrize("name", ["Adagrad", "RMSprop"])
def test_regression_trains_the_books_convention_with_the_engines_update(name):
    pytest.importorskip("torch", reason="needs torch, which is not installed")
    from gdviz.regression.optim import build_optimizer, engine_optimizer, uses_torch_optim

    assert uses_torch_optim(name) and uses_torch_optim(name, eps_inside_sqrt=False)
    assert not uses_torch_optim(name, eps_inside_sqrt=True)
    weight = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    assert type(build_optimizer(name, [weight], lr=0.1)) is getattr(torch.optim, name)
    books = build_optimizer(name, [weight], lr=0.1, **D2L)
    assert not isinstance(books, getattr(torch.optim, name))
    # one step on a known gradient is the engine's step with ε inside the root
    weight.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    books.step()
    engine = engine_optimizer(name, lr=0.1, **D2L)
    x, g = np.zeros((1, 3)), np.array([[1.0, -2.0, 0.5]])
    expected, _ = engine.update(x, g, engine.init(x, np.array([[0.1]])), np.array([[0.1]]), 1, None)
    np.testing.assert_array_equal(weight.detach().numpy(), expected[0])
