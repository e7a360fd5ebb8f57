"""Every registered surface: its minima, its derivatives, its shapes and its plotting window.

All tests run over the whole registry, so a new surface is covered without a new test. The values
printed by the sources (SFU library, Wikipedia, d2l) are checked separately, to their printed precision.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdviz
from gdviz.critical import KINDS
from gdviz.surfaces import SURFACES

NAMES = sorted(SURFACES)
# the surfaces the product brief asks for, each under its category (a new surface needs no entry here)
REQUIRED = {
    "d2l": ["quadratic", "ill_conditioned", "parabola", "xcos", "cosh", "x2_1_sin"],
    "defect": ["saddle", "monkey_saddle", "cubic", "plateau", "local_trap", "cliff", "ravine"],
    "classic": [
        "rosenbrock",
        "himmelblau",
        "beale",
        "booth",
        "matyas",
        "three_hump_camel",
        "six_hump_camel",
        "rastrigin",
        "ackley",
        "goldstein_price",
        "styblinski_tang",
        "bukin_n6",
        "mccormick",
    ],
}
unit = st.floats(0.0, 1.0)


def kink_distance(name: str, x: np.ndarray) -> float:
    """How far x is from where the surface is not differentiable (inf where it is smooth everywhere)."""
    if name == "ackley":
        return float(np.hypot(x[0], x[1]))
    if name == "bukin_n6":
        return min(abs(x[1] - 0.01 * x[0] ** 2), abs(x[0] + 10.0))
    return math.inf


def point_in(surface, u) -> np.ndarray:
    """Map unit-cube coordinates u to a point of the surface's window."""
    box = np.array(surface.bounds)
    return box[:, 0] + np.asarray(u[: surface.dim]) * (box[:, 1] - box[:, 0])


def test_registry_has_every_required_surface_under_its_category():
    for category, names in REQUIRED.items():
        for name in names:
            assert name in SURFACES, name
            assert SURFACES[name].category == category, name
    for name, surface in SURFACES.items():
        assert surface.name == name == name.lower()
        assert gdviz.surface(name.upper()) is surface


def test_unknown_surface_is_an_error():
    with pytest.raises(ValueError, match="Unknown surface"):
        gdviz.surface("no_such_surface")


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete_and_consistent(name):
    s = SURFACES[name]
    assert s.title and s.formula and s.source and s.description
    assert s.dim in (1, 2) and len(s.default_start) == s.dim
    for part in (s.minima, s.local_minima):
        assert part.ndim == 2 and part.shape[1] == s.dim and part.dtype == np.float64
    assert (len(s.minima) == 0) == math.isnan(s.f_min)
    if s.category == "classic":  # the SFU library's definition, or a word on why not
        assert "sfu.ca/~ssurjano" in s.source or "not in the SFU library" in s.source, s.source
    box = np.array(s.bounds)
    inside = [np.array(s.default_start), *s.minima, *s.local_minima, *(np.array(p) for p, _ in s.critical_points)]
    for x in inside:
        assert np.all(box[:, 0] <= x) and np.all(x <= box[:, 1]), (name, x)
    kinds = {kind for _, kind in s.critical_points}
    assert kinds <= set(KINDS)
    if s.critical_points:  # a list of critical points includes every listed minimum
        listed = [np.array(p) for p, kind in s.critical_points if kind == "minimum"]
        for m in [*s.minima, *s.local_minima]:
            assert min(np.linalg.norm(p - m) for p in listed) < 1e-12, (name, m)


@pytest.mark.parametrize("name", NAMES)
def test_global_minima_attain_f_min_with_zero_gradient(name):
    s = SURFACES[name]
    for m in s.minima:
        assert abs(float(s.f(m)) - s.f_min) <= 1e-8 * max(1.0, abs(s.f_min)), m
        assert np.linalg.norm(s.grad(m)) <= 1e-8, m  # also at kinks, where the convention gives 0


@pytest.mark.parametrize("name", [n for n in NAMES if len(SURFACES[n].minima)])
def test_nothing_in_the_window_is_below_f_min(name):
    s = SURFACES[name]
    values = s.f(grid(s, 200))
    assert np.min(values) >= s.f_min - 1e-9 * max(1.0, abs(s.f_min))


@pytest.mark.parametrize("name", NAMES)
def test_local_minima_are_stationary_with_positive_definite_hessian_and_not_global(name):
    s = SURFACES[name]
    for m in s.local_minima:
        assert np.linalg.norm(s.grad(m)) <= 1e-8, m
        assert np.all(np.linalg.eigvalsh(s.hessian(m)) > 0), m
        if not math.isnan(s.f_min):
            assert float(s.f(m)) > s.f_min + 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_listed_critical_points_are_stationary(name):
    s = SURFACES[name]
    for point, _ in s.critical_points:
        g = s.grad(np.array(point))
        assert np.linalg.norm(g) <= 1e-10 * max(1.0, np.linalg.norm(s.hessian(np.array(point)))), point


@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, max_examples=25)
@given(u=st.tuples(unit, unit))
def test_gradient_matches_central_differences(name, u):
    s = SURFACES[name]
    x = point_in(s, u)
    widths = np.diff(np.array(s.bounds), axis=1)[:, 0]
    h = 1e-6 * widths
    if kink_distance(name, x) < 1e3 * np.max(h):
        return
    g = s.grad(x)
    steps = np.diag(h)
    differences = np.array([(s.f(x + e) - s.f(x - e)) / (2.0 * e[i]) for i, e in enumerate(steps)])
    scale = 1.0 + np.max(np.abs(g)) + abs(float(s.f(x))) / np.min(widths)
    np.testing.assert_allclose(g, differences, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, max_examples=25)
@given(u=st.tuples(unit, unit))
def test_hessian_matches_differences_of_the_gradient(name, u):
    s = SURFACES[name]
    x = point_in(s, u)
    widths = np.diff(np.array(s.bounds), axis=1)[:, 0]
    h = 1e-6 * widths
    if kink_distance(name, x) < 1e3 * np.max(h):
        return
    hess = s.hessian(x)
    np.testing.assert_array_equal(hess, hess.T)
    steps = np.diag(h)
    columns = [(s.grad(x + e) - s.grad(x - e)) / (2.0 * e[i]) for i, e in enumerate(steps)]
    differences = np.stack(columns, axis=-1)
    scale = 1.0 + np.max(np.abs(hess)) + np.max(np.abs(s.grad(x))) / np.min(widths)
    np.testing.assert_allclose(hess, differences, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_every_batch_shape_gives_the_pointwise_values(name):
    s = SURFACES[name]
    rng = np.random.default_rng(len(name))
    box = np.array(s.bounds)
    xs = box[:, 0] + rng.random((3, 4, s.dim)) * (box[:, 1] - box[:, 0])  # (S, R, dim)
    f, g, h = s.f(xs), s.grad(xs), s.hessian(xs)
    assert f.shape == (3, 4) and g.shape == (3, 4, s.dim) and h.shape == (3, 4, s.dim, s.dim)
    runs = xs[1]  # (R, dim)
    assert s.f(runs).shape == (4,) and s.grad(runs).shape == (4, s.dim) and s.hessian(runs).shape == (4, s.dim, s.dim)
    np.testing.assert_array_equal(s.f(runs), f[1])
    np.testing.assert_array_equal(s.grad(runs), g[1])
    np.testing.assert_array_equal(s.hessian(runs), h[1])
    point = xs[2, 3]
    assert np.shape(s.f(point)) == () and s.grad(point).shape == (s.dim,) and s.hessian(point).shape == (s.dim, s.dim)
    np.testing.assert_array_equal(s.f(point), f[2, 3])
    np.testing.assert_array_equal(s.grad(point), g[2, 3])
    np.testing.assert_array_equal(s.hessian(point), h[2, 3])
    value, gradient = s.value_and_grad(runs)
    np.testing.assert_array_equal(value, f[1])
    np.testing.assert_array_equal(gradient, g[1])


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_is_computed_in_floating_point(name):
    s = SURFACES[name]
    x = np.round(np.array(s.default_start)).astype(np.int64)
    for fn in (s.f, s.grad, s.hessian):
        assert fn(x).dtype == np.float64
        np.testing.assert_array_equal(fn(x), fn(x.astype(np.float64)))


def test_large_integer_input_does_not_overflow():
    s = gdviz.surface("six_hump_camel")
    x = np.array([10**4, 10**4], dtype=np.int64)  # x1**6 = 1e24 overflows int64, not float64
    assert float(s.f(x)) == pytest.approx(1e24 / 3.0, rel=1e-6)


def grid(s, n: int) -> np.ndarray:
    """An n×n grid of the window (n² points for a 1-D surface): (n, n, dim) or (n², 1)."""
    if s.dim == 1:
        return np.linspace(*s.bounds[0], n * n)[:, None]
    (a, b), (c, d) = s.bounds
    x1, x2 = np.meshgrid(np.linspace(a, b, n), np.linspace(c, d, n))
    return np.stack([x1, x2], axis=-1)


@pytest.mark.parametrize("name", NAMES)
def test_values_and_derivatives_are_finite_over_the_window(name):
    s = SURFACES[name]
    xs = grid(s, 200)
    with np.errstate(all="raise"):
        f, g, h = s.f(xs), s.grad(xs), s.hessian(xs)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))


@pytest.mark.parametrize("name", NAMES)
def test_quadratic_flag_marks_exactly_the_quadratics(name):
    """``quadratic`` is set exactly where the Hessian is the same at 50 random points of the window."""
    s = SURFACES[name]
    rng = np.random.default_rng(7)
    box = np.array(s.bounds)
    xs = box[:, 0] + rng.random((50, s.dim)) * (box[:, 1] - box[:, 0])
    hessians = s.hessian(xs)
    constant = np.allclose(hessians, hessians[0], rtol=1e-12, atol=1e-12)
    assert constant == s.quadratic
    if s.quadratic:  # f is its own second-order Taylor expansion around 0
        zero = np.zeros(s.dim)
        taylor = s.f(zero) + xs @ s.grad(zero) + 0.5 * np.einsum("ni,ij,nj->n", xs, hessians[0], xs)
        np.testing.assert_allclose(s.f(xs), taylor, rtol=1e-12, atol=1e-12)
        assert s.stable_lr() == pytest.approx(2.0 / np.max(np.abs(np.linalg.eigvalsh(hessians[0]))), rel=1e-12)
    else:
        assert s.stable_lr() is None


def test_stable_learning_rates_of_the_d2l_quadratics():
    # GD on a·x1² + b·x2² is stable for lr < 2/max(2a, 2b)
    assert gdviz.surface("quadratic").stable_lr() == pytest.approx(0.5, rel=1e-15)
    assert gdviz.surface("ill_conditioned").stable_lr() == pytest.approx(0.5, rel=1e-15)
    assert gdviz.surface("ravine").stable_lr() == pytest.approx(0.1, rel=1e-12)


# What the sources print: name -> (f_min, tolerance, minimizers, tolerance).
PRINTED = {
    "rosenbrock": (0.0, 0.0, [(1.0, 1.0)], 0.0),  # SFU
    "beale": (0.0, 0.0, [(3.0, 0.5)], 0.0),
    "booth": (0.0, 0.0, [(1.0, 3.0)], 0.0),
    "matyas": (0.0, 0.0, [(0.0, 0.0)], 0.0),
    "three_hump_camel": (0.0, 0.0, [(0.0, 0.0)], 0.0),
    "six_hump_camel": (-1.0316, 5e-5, [(0.0898, -0.7126), (-0.0898, 0.7126)], 1e-4),  # x* truncated
    "rastrigin": (0.0, 0.0, [(0.0, 0.0)], 0.0),
    "ackley": (0.0, 1e-15, [(0.0, 0.0)], 0.0),
    "goldstein_price": (3.0, 0.0, [(0.0, -1.0)], 0.0),
    # SFU prints x* = -2.903534 and -39.16599·d; the value at that x* is -39.166166·d (Wikipedia brackets
    # it in (-39.16617, -39.16616)·d), so the value is checked against the point, to SFU's 6 decimals
    "styblinski_tang": (2 * -39.166166, 2e-6, [(-2.903534, -2.903534)], 5e-7),
    "bukin_n6": (0.0, 0.0, [(-10.0, 1.0)], 0.0),
    # SFU prints -1.9133 for the exact -√3/2 - π/3 = -1.913223 (and truncates x*)
    "mccormick": (-1.9133, 1e-4, [(-0.54719, -1.54719)], 1e-5),
    # Wikipedia, "Test functions for optimization" (and Himmelblau 1972), 6 decimals truncated
    "himmelblau": (0.0, 0.0, [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)], 1e-6),
    "quadratic": (0.0, 0.0, [(0.0, 0.0)], 0.0),
    "ill_conditioned": (0.0, 0.0, [(0.0, 0.0)], 0.0),
    "parabola": (0.0, 0.0, [(0.0,)], 0.0),
    "cosh": (1.0, 0.0, [(0.0,)], 0.0),
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_minima_match_the_values_the_sources_print(name):
    s = SURFACES[name]
    value, value_tol, where, where_tol = PRINTED[name]
    assert abs(s.f_min - value) <= value_tol + 1e-15
    found = sorted(map(tuple, s.minima))
    assert len(found) == len(where)
    for printed in where:
        assert min(np.max(np.abs(np.array(printed) - m)) for m in s.minima) <= where_tol + 1e-15, printed


def test_himmelblau_maximum_matches_the_printed_one():
    point, kind = [(p, k) for p, k in gdviz.surface("himmelblau").critical_points if k == "maximum"][0]
    assert np.max(np.abs(np.array(point) - (-0.270845, -0.923039))) <= 1e-6
    assert float(gdviz.surface("himmelblau").f(np.array(point))) == pytest.approx(181.617, abs=5e-4)


def descend(name, lr, steps, start=None):
    """Plain gradient descent, x ← x - lr·∇f(x): (steps+1, dim) iterates."""
    s = SURFACES[name]
    x = np.array(s.default_start if start is None else start, dtype=np.float64)
    path = [x]
    for _ in range(steps):
        x = x - lr * s.grad(x)
        path.append(x)
    return np.array(path)


def test_each_defect_shows_from_its_default_start():
    # saddle: slides to within 0.05 of the saddle, then leaves along x2
    path = descend("saddle", 0.1, 60)
    assert np.min(np.linalg.norm(path, axis=1)) < 0.05 and abs(path[-1, 1]) > 10
    # monkey saddle: creeps along x1 (1/t) for a long time before escaping
    path = descend("monkey_saddle", 0.05, 100)
    assert 0 < path[-1, 0] < 0.2 and np.all(np.abs(path[:, 1]) < 0.1)
    # cubic: approaches the inflection point from the right, never passes it
    path = descend("cubic", 0.1, 500)
    assert np.all(path[:, 0] > 0) and path[-1, 0] < 0.01
    # plateau: 1000 steps at lr 0.1 move less than 0.2 across the plain
    path = descend("plateau", 0.1, 1000)
    assert np.linalg.norm(path[-1] - path[0]) < 0.2
    # local trap: GD stops in the shallow minimum, not the deep one
    path = descend("local_trap", 0.05, 500)
    np.testing.assert_allclose(path[-1], SURFACES["local_trap"].local_minima[0], atol=1e-6)
    # cliff: at the foot of the wall the gradient is tens of times the valley's and one step flings x far
    s = SURFACES["cliff"]
    assert np.linalg.norm(s.grad(np.array(s.default_start))) > 30 * np.linalg.norm(s.grad(np.array([-1.0, 3.0])))
    path = descend("cliff", 0.1, 1)
    assert path[1, 0] < s.bounds[0][0]
    # ravine: just below the stable lr 0.1 GD zig-zags across the valley floor x1 = x2
    path = descend("ravine", 0.095, 20)
    across = path[:, 0] - path[:, 1]
    assert np.all(across[1:] * across[:-1] < 0)


def test_d2l_examples_behave_as_the_book_shows():
    # d2l 12.3: from 10 with lr 2, x·cos(cx) ends in the poor local minimum near -1.83
    path = descend("xcos", 2.0, 300)
    assert path[-1, 0] == pytest.approx(SURFACES["xcos"].local_minima[0, 0], abs=1e-3)
    # x²: lr 0.2 converges, lr 1.1 diverges
    assert abs(descend("parabola", 0.2, 50)[-1, 0]) < 1e-6
    assert abs(descend("parabola", 1.1, 50)[-1, 0]) > 10


@pytest.mark.parametrize(
    "name, lr, steps",
    [("three_hump_camel", 0.01, 2000), ("styblinski_tang", 0.01, 2000), ("mccormick", 0.01, 2000)],
)
def test_gd_from_the_default_start_ends_in_a_local_minimum_as_described(name, lr, steps):
    s = SURFACES[name]
    end = descend(name, lr, steps)[-1]
    assert min(np.linalg.norm(end - m) for m in s.local_minima) < 1e-6
