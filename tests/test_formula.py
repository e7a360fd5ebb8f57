"""Typed formulas: values against NumPy, derivatives against finite differences, precedence, printing."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdviz
from gdviz.custom import custom_surface, derivative
from gdviz.formula import evaluate, parse, to_latex, to_text, variables

PI, E = np.pi, np.e

# (formula, dim, NumPy reference, sampling box per axis): the box keeps away from poles and kinks,
# so the same rows also check the derivatives against finite differences
REFERENCE = [
    ("x^2 + 2*y^2", 2, lambda x, y: x**2 + 2 * y**2, (-3, 3)),
    ("x*cos(0.15*pi*x)", 1, lambda x: x * np.cos(0.15 * PI * x), (-10, 10)),
    ("sin(x1)*cos(x2)", 2, lambda x, y: np.sin(x) * np.cos(y), (-3, 3)),
    ("-x^2", 1, lambda x: -(x**2), (-3, 3)),
    ("x^3^2", 1, lambda x: x**9, (-1.5, 1.5)),
    ("-x**2 + y**-2", 2, lambda x, y: -(x**2) + y**-2.0, (0.5, 2)),
    ("2^-x", 1, lambda x: 2.0 ** (-x), (-3, 3)),
    ("exp(-x^2 - y^2)", 2, lambda x, y: np.exp(-(x**2) - y**2), (-2, 2)),
    ("log(x)", 1, np.log, (0.1, 5)),
    ("sqrt(x^2 + y^2 + 1)", 2, lambda x, y: np.sqrt(x**2 + y**2 + 1), (-3, 3)),
    ("abs(x) + abs(y)", 2, lambda x, y: np.abs(x) + np.abs(y), (0.2, 3)),
    ("abs(x - 4)*y", 2, lambda x, y: np.abs(x - 4) * y, (-3, 3)),
    ("tan(x)", 1, np.tan, (-1.2, 1.2)),
    ("tanh(x*y)", 2, lambda x, y: np.tanh(x * y), (-2, 2)),
    ("sinh(x) - cosh(y)", 2, lambda x, y: np.sinh(x) - np.cosh(y), (-2, 2)),
    ("x/y", 2, lambda x, y: x / y, (0.5, 2)),
    ("x^y", 2, lambda x, y: x**y, (0.5, 2)),
    ("e^x", 1, np.exp, (-2, 2)),
    ("pi*x + e", 1, lambda x: PI * x + E, (-2, 2)),
    ("(x - 1)^2 + 100*(y - x^2)^2", 2, lambda x, y: (x - 1) ** 2 + 100 * (y - x**2) ** 2, (-2, 2)),
    (
        "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        2,
        lambda x, y: 20 + x**2 - 10 * np.cos(2 * PI * x) + y**2 - 10 * np.cos(2 * PI * y),
        (-5, 5),
    ),
    ("1.5e-1*x + 2E3*y - 4e+0", 2, lambda x, y: 0.15 * x + 2000 * y - 4, (-2, 2)),
    (".5*x1 - 3.*x2", 2, lambda x, y: 0.5 * x - 3 * y, (-2, 2)),
    ("+x1 - +x1^3", 1, lambda x: x - x**3, (-2, 2)),
    ("sin(x)^2 + cos(x)^2", 1, lambda x: np.sin(x) ** 2 + np.cos(x) ** 2, (-3, 3)),
    ("x*y*(x + y)", 2, lambda x, y: x * y * (x + y), (-2, 2)),
    ("log(1 + exp(x))", 1, lambda x: np.log(1 + np.exp(x)), (-5, 5)),
    ("sqrt(x)", 1, np.sqrt, (0.1, 4)),
    ("exp(sin(x1) + cos(x2))", 2, lambda x, y: np.exp(np.sin(x) + np.cos(y)), (-3, 3)),
    ("1/(1 + exp(-x))", 1, lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    ("x - y - 1", 2, lambda x, y: x - y - 1, (-2, 2)),
    ("x/y/2", 2, lambda x, y: x / y / 2, (0.5, 2)),
    ("x ** -1.5", 1, lambda x: x**-1.5, (0.3, 3)),
    ("-(x - y)^3", 2, lambda x, y: -((x - y) ** 3), (-2, 2)),
    ("y", 2, lambda x, y: y + 0 * x, (-2, 2)),
    ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", 2, lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, (-5, 5)),
    ("x^x", 1, lambda x: x**x, (0.2, 2)),
    ("(1 + x^2)^(y/2)", 2, lambda x, y: (1 + x**2) ** (y / 2), (-2, 2)),
    ("cosh(x)/(2 + sin(y))", 2, lambda x, y: np.cosh(x) / (2 + np.sin(y)), (-2, 2)),
]
IDS = [row[0] for row in REFERENCE]


def sample(dim: int, box: tuple[float, float], n: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(box[0], box[1], size=(n, dim))


def five_point(fun, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """∂fun/∂x_i at each row by the 5-point stencil (error O(h^4)): (..., dim) -> (..., dim, *fun's trailing shape)."""
    columns = []
    for i in range(x.shape[-1]):
        step = np.zeros(x.shape[-1])
        step[i] = h
        columns.append((-fun(x + 2 * step) + 8 * fun(x + step) - 8 * fun(x - step) + fun(x - 2 * step)) / (12 * h))
    return np.stack(columns, axis=1)


def assert_derivatives_match(surface, points: np.ndarray, tol: float = 2e-6) -> None:
    """The exact gradient against differences of f, the exact Hessian against differences of the gradient."""
    values, grads, hess = surface.f(points), surface.grad(points), surface.hessian(points)
    assert grads.shape == points.shape and hess.shape == points.shape + (points.shape[-1],)
    scale = 1 + np.abs(values)[:, None]
    np.testing.assert_allclose(grads / scale, five_point(surface.f, points) / scale, atol=tol, rtol=tol)
    scale = 1 + np.max(np.abs(grads), axis=1)[:, None, None]
    # five_point stacks d(grad)/dx_i along axis 1: entry [n, i, j] = ∂²f/∂x_i∂x_j, symmetric anyway
    np.testing.assert_allclose(hess / scale, five_point(surface.grad, points) / scale, atol=tol, rtol=tol)
    np.testing.assert_array_equal(hess, np.swapaxes(hess, -1, -2))


def test_reference_table_is_large_and_distinct():
    assert len(set(IDS)) == len(IDS) >= 25


@pytest.mark.parametrize(("formula", "dim", "reference", "box"), REFERENCE, ids=IDS)
def test_values_match_numpy(formula, dim, reference, box):
    surface = custom_surface(formula)
    assert surface.dim == dim
    points = sample(dim, box)
    expected = reference(*np.moveaxis(points, -1, 0))
    np.testing.assert_allclose(surface.f(points), expected, rtol=1e-13, atol=1e-13)
    # any leading shape, as the run loop's (steps+1, R, dim) arrays
    grid = points.reshape(4, 10, dim)
    np.testing.assert_allclose(surface.f(grid), expected.reshape(4, 10), rtol=1e-13, atol=1e-13)
    assert surface.grad(grid).shape == (4, 10, dim) and surface.hessian(grid).shape == (4, 10, dim, dim)


@pytest.mark.parametrize(("formula", "dim", "reference", "box"), REFERENCE, ids=IDS)
def test_derivatives_match_finite_differences(formula, dim, reference, box):
    # points a little inside the box, so the stencil stays within it
    inner = (box[0] + 0.01, box[1] - 0.01)
    assert_derivatives_match(custom_surface(formula), sample(dim, inner, seed=1))


def test_d2l_example_has_the_closed_form_derivatives():
    """d2l 12.3.1: f(x) = x cos(cx), c = 0.15π; f' = cos(cx) - cx sin(cx), f'' = -2c sin(cx) - c²x cos(cx)."""
    surface = custom_surface("x*cos(0.15*pi*x)")
    c = 0.15 * np.pi
    x = np.linspace(-10, 10, 41)[:, None]
    np.testing.assert_allclose(surface.f(x), x[:, 0] * np.cos(c * x[:, 0]), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(surface.grad(x), np.cos(c * x) - c * x * np.sin(c * x), rtol=1e-12, atol=1e-12)
    expected = -2 * c * np.sin(c * x) - c * c * x * np.cos(c * x)
    np.testing.assert_allclose(surface.hessian(x)[:, :, 0], expected, rtol=1e-12, atol=1e-12)
    assert surface.dim == 1 and surface.bounds == ((-5.0, 5.0),)
    assert surface.formula == r"x \cos\left(0.15 \pi x\right)"


@pytest.mark.parametrize(
    ("formula", "same_as"),
    [
        ("-x^2", "-(x^2)"),
        ("-x**2", "-(x^2)"),
        ("x^3^2", "x^(3^2)"),
        ("x**3**2", "x^(3^2)"),
        ("x^3**2", "x**(3^2)"),
        ("2^-x", "2^(-x)"),
        ("2^-x^2", "2^(-(x^2))"),
        ("-2^x", "-(2^x)"),
        ("x^-2^2", "x^(-(2^2))"),
        ("2*x^2", "2*(x^2)"),
        ("x/2*y", "(x/2)*y"),
        ("x-y-1", "(x-y)-1"),
        ("x/y/2", "(x/y)/2"),
        ("-x*y", "(-x)*y"),
        ("--x", "-(-x)"),
        ("+-+x", "-x"),
        ("x*-y", "x*(-y)"),
        ("x - -y^2", "x - (-(y^2))"),
    ],
)
def test_precedence_and_associativity(formula, same_as):
    points = np.array([[1.7, 0.6], [0.3, 1.9], [1.1, 1.3]])
    a, b = parse(formula), parse(same_as)
    assert to_text(a) == to_text(b)
    np.testing.assert_array_equal(evaluate(a, points), evaluate(b, points))


def test_power_is_right_associative_in_values():
    x = np.array([[2.0]])
    assert evaluate(parse("x^3^2"), x)[0] == 512.0  # 2^9, not (2^3)^2 = 64
    assert evaluate(parse("-x^2"), x)[0] == -4.0
    assert evaluate(parse("(-x)^2"), x)[0] == 4.0
    assert evaluate(parse("2^-1*x"), x)[0] == 1.0


@pytest.mark.parametrize(
    ("formula", "latex"),
    [
        ("x^2 + 2*y^2", "x^{2} + 2 y^{2}"),
        ("sin(x1)*cos(x2)", r"\sin\left(x_{1}\right) \cos\left(x_{2}\right)"),
        ("exp(-x^2)/sqrt(abs(x))", r"\frac{e^{-x^{2}}}{\sqrt{\left|x\right|}}"),
        ("-(x + y)^2*3", r"-\left(x + y\right)^{2} \cdot 3"),
        ("log(x) - tanh(y)", r"\ln\left(x\right) - \tanh\left(y\right)"),
        ("1e-5*x", r"1 \cdot 10^{-5} x"),
        ("(x^y)^2 + e^pi*x", r"\left(x^{y}\right)^{2} + e^{\pi} x"),
    ],
)
def test_latex(formula, latex):
    assert to_latex(parse(formula)) == latex


@pytest.mark.parametrize(
    ("formula", "text"),
    [
        ("x  ^  2+2 * y**2", "x^2 + 2*y^2"),
        ("((x))", "x"),
        ("x - (y - 1)", "x - (y - 1)"),
        ("(x - y) - 1", "x - y - 1"),
        ("-(x*y)", "-(x*y)"),
        ("2^-x", "2^(-x)"),
        ("(x^2)^3", "(x^2)^3"),
        ("x1 + 0.50*x2", "x1 + 0.5*x2"),
        ("+x", "x"),
        ("pi*x", "pi*x"),
    ],
)
def test_text_printing(formula, text):
    assert to_text(parse(formula)) == text


def test_variables_and_dimension():
    assert variables(parse("x^2")) == ("x",)
    assert variables(parse("x*y")) == ("x", "y")
    assert variables(parse("y^2")) == ("x", "y")  # y alone is still a 2-D surface, flat in x
    assert variables(parse("x1")) == ("x1",)
    assert variables(parse("x2 + 1")) == ("x1", "x2")
    assert custom_surface("y^2").dim == 2
    assert custom_surface("x1*3").dim == 1


def test_abs_derivative_is_sign_with_zero_at_the_kink():
    surface = custom_surface("abs(x)")
    np.testing.assert_array_equal(surface.grad(np.array([[-2.0], [0.0], [3.0]]))[:, 0], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(surface.hessian(np.array([[0.0], [1.0]])), np.zeros((2, 1, 1)))
    assert to_text(derivative(parse("abs(x^2 - 1)"))) == "2*(sign(x^2 - 1)*x)"


def test_derivative_trees_stay_small():
    assert to_text(derivative(parse("x^2 + 2*y^2"), 0)) == "2*x"
    assert to_text(derivative(parse("x^2 + 2*y^2"), 1)) == "4*y"
    assert to_text(derivative(parse("3*x*y - y"), 1)) == "3*x - 1"
    assert to_text(derivative(parse("sin(x1)*cos(x2)"), 1)) == "-sin(x1)*sin(x2)"
    assert to_text(derivative(parse("exp(2*x)"), 0)) == "2*exp(2*x)"
    assert to_text(derivative(parse("0.15*pi*x"), 0)) == repr(0.15 * math.pi)


def test_values_outside_the_domain_are_nan_without_warnings():
    surface = custom_surface("log(x) + sqrt(x) + x^0.5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = surface.f(np.array([[-1.0], [0.0], [4.0]]))
        grads = surface.grad(np.array([[-1.0], [0.0]]))
        surface.hessian(np.array([[0.0]]))
    assert np.isnan(values[0]) and values[1] == -np.inf and np.isclose(values[2], math.log(4) + 4)
    assert np.isnan(grads[0, 0]) and np.isinf(grads[1, 0])


def test_log_diverges_in_the_run_loop_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = gdviz.run(custom_surface("log(x)"), gdviz.optimizer("SGD", lr=1.0), start=(0.5,), steps=50)
    # x1 = 0.5 - 1/0.5 = -1.5, where log is nan: frozen at the last good iterate
    assert traj.diverged_at == 1
    assert np.all(np.isfinite(traj.xs)) and np.all(np.isfinite(traj.losses)) and np.all(np.isfinite(traj.grads))
    np.testing.assert_array_equal(traj.xs[:, 0], np.full(51, 0.5))


def test_descent_on_a_custom_quadratic_matches_d2l():
    """The same numbers d2l 12.3.2 prints for x1² + 2x2², now typed as a formula."""
    surface = custom_surface("x1^2 + 2*x2^2")
    assert surface.quadratic and surface.stable_lr() == pytest.approx(0.5)
    traj = gdviz.run(surface, gdviz.optimizer("SGD", lr=0.1), start=(-5.0, -2.0), steps=20)
    np.testing.assert_allclose(traj.xs[-1], [-0.057646, -0.000073], atol=5e-7)


def test_surface_fields():
    surface = custom_surface("  x^2 + 2*y^2 ")
    assert surface.name == "custom" and surface.title == "x^2 + 2*y^2" and surface.category == "custom"
    assert surface.dim == 2 and surface.bounds == ((-5.0, 5.0), (-5.0, 5.0))
    assert surface.minima.shape == (0, 2) and math.isnan(surface.f_min)
    assert surface.formula == "x^{2} + 2 y^{2}"
    low, high = np.array(surface.bounds).T
    assert np.all(low <= surface.default_start) and np.all(np.array(surface.default_start) <= high)
    assert not custom_surface("x^4").quadratic and not custom_surface("x^2 + abs(y)").quadratic
    assert custom_surface("(x - y)^2 + x").quadratic


def test_default_start_is_where_f_is_finite():
    for formula in ("log(x)", "log(-x)", "sqrt(y - 3) + x", "log(x - 3.5)"):
        surface = custom_surface(formula)
        start = np.array(surface.default_start)
        assert np.isfinite(surface.f(start)) and np.all(np.isfinite(surface.grad(start)))
    with pytest.raises(ValueError, match="not finite at any"):
        custom_surface("log(-1 - x^2)")


def test_bounds_and_start():
    surface = custom_surface("x*y", bounds=[(-1, 2), (0, 3)], start=(1.5, 0.5))
    assert surface.bounds == ((-1.0, 2.0), (0.0, 3.0)) and surface.default_start == (1.5, 0.5)
    assert custom_surface("x", bounds=(-2, 2)).bounds == ((-2.0, 2.0),)
    assert custom_surface("x*y", bounds=(-2, 2)).bounds == ((-2.0, 2.0), (-2.0, 2.0))
    assert custom_surface("x", start=1.0).default_start == (1.0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": [(-1, 1)]}, "one .low, high. pair per coordinate"),
        ({"bounds": [(1, -1), (0, 1)]}, "low < high"),
        ({"bounds": [(0, math.inf), (0, 1)]}, "finite"),
        ({"bounds": "wide"}, "bounds must be numbers"),
        ({"bounds": [(0, 1, 2)]}, "pair per coordinate"),
        ({"start": (1.0,)}, r"shape \(2,\)"),
        ({"start": (9.0, 0.0)}, "outside the bounds"),
        ({"start": (math.nan, 0.0)}, "finite"),
        ({"start": ("a", "b")}, "start must be numbers"),
    ],
)
def test_bad_bounds_and_start(kwargs, message):
    with pytest.raises(ValueError, match=message):
        custom_surface("x*y", **kwargs)


def test_points_of_the_wrong_dimension_are_rejected():
    surface = custom_surface("x*y")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        surface.f(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        surface.grad(np.float64(1.0))


def test_results_are_fresh_arrays():
    surface = custom_surface("x + 0*y")
    points = np.array([[1.0, 2.0]])
    out = surface.f(points)
    out[0] = 99.0
    assert points[0, 0] == 1.0
    constant_hessian = surface.hessian(points)
    constant_hessian[...] = 5.0
    np.testing.assert_array_equal(surface.hessian(points), np.zeros((1, 2, 2)))


# ---------------------------------------------------------------- random valid formulas

# subexpressions whose values stay moderate on [-2, 2]^2 and that are smooth there, so differences are accurate
_LEAVES = st.sampled_from(["x", "y", "pi", "e", "0.5", "2", "1.5e-1", "3.", "x", "y"])


def _grow(children):
    unary = st.sampled_from(
        [
            "sin({})",
            "cos({})",
            "tanh({})",
            "exp(sin({}))",
            "sqrt(2 + cos({}))",
            "log(1 + ({})^2)",
            "tan(0.5*tanh({}))",
            "sinh(tanh({}))",
            "cosh(sin({}))",
            "-({})",
            "+({})",
            "({})^2",
            "({})**3",
            "(1.5 + cos({}))^(-0.5)",
        ]
    )
    binary = st.sampled_from(
        [
            "({}) + ({})",
            "({}) - ({})",
            "({})*({})",
            "({}) / (2 + sin({}))",
            "(2 + cos({}))^tanh({})",
            "(1.5 + sin({}))**(0.5*cos({}))",
        ]
    )
    return st.one_of(
        st.builds(lambda t, a: t.format(a), unary, children),
        st.builds(lambda t, a, b: t.format(a, b), binary, children, children),
    )


# a formula must use a variable ("exp" does not count)
VALID = st.recursive(_LEAVES, _grow, max_leaves=8).filter(lambda text: re.search(r"(?<![a-z])[xy](?![a-z])", text))
POINTS = st.lists(st.floats(-2, 2, allow_nan=False), min_size=2, max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(formula=VALID, point=POINTS)
def test_random_formulas_have_exact_derivatives(formula, point):
    surface = custom_surface(formula, bounds=(-3, 3), start=(0.0,) * len(variables(parse(formula))))
    points = np.array([point[: surface.dim]])
    assert_derivatives_match(surface, points, tol=1e-5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(formula=VALID)
def test_printing_round_trips(formula):
    tree = parse(formula)
    text = to_text(tree)
    again = parse(text)
    assert to_text(again) == text
    points = np.random.default_rng(0).uniform(-2, 2, size=(7, 2))
    np.testing.assert_array_equal(evaluate(again, points), evaluate(tree, points))
    latex = to_latex(tree)
    assert latex.count("{") == latex.count("}") and latex.count(r"\left") == latex.count(r"\right")
