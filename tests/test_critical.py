"""Critical points: the second-order classification and the Newton search, over the whole registry."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import gdviz
from gdviz.critical import DEGENERATE_RTOL, STATIONARY_TOL, CriticalPoint, critical_point, find_critical_points
from gdviz.surfaces import SURFACES

NAMES = sorted(SURFACES)
# surfaces whose critical_points list every critical point in the window; the others list only some:
# Rastrigin's and Ackley's hundreds of ripples have no closed form, Bukin N.6's minimum is a kink
COMPLETE = [name for name in NAMES if name not in ("rastrigin", "ackley", "bukin_n6")]
LISTED = [(name, point, kind) for name in NAMES for point, kind in SURFACES[name].critical_points]


@pytest.mark.parametrize("name, point, kind", LISTED, ids=[f"{n}-{k}-{i}" for i, (n, _, k) in enumerate(LISTED)])
def test_listed_critical_points_are_classified_as_listed(name, point, kind):
    cp = critical_point(SURFACES[name], point)
    assert cp.kind == kind
    assert cp.is_stationary and cp.grad_norm <= STATIONARY_TOL


def test_the_result_describes_the_hessian():
    s = gdviz.surface("rosenbrock")
    cp = critical_point(s, (1.0, 1.0))
    hessian = s.hessian(np.array([1.0, 1.0]))
    assert isinstance(cp, CriticalPoint) and cp.kind == "minimum"
    assert np.all(np.diff(cp.eigenvalues) >= 0)
    np.testing.assert_allclose(cp.eigenvectors.T @ cp.eigenvectors, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(hessian @ cp.eigenvectors, cp.eigenvectors * cp.eigenvalues, atol=1e-9)
    assert cp.condition_number == pytest.approx(cp.eigenvalues[1] / cp.eigenvalues[0])
    assert cp.condition_number > 2000  # the banana valley is badly conditioned at its minimum
    assert cp.value == 0.0 and cp.grad_norm == 0.0
    with pytest.raises(AttributeError):
        cp.kind = "saddle"  # frozen


def test_exported_from_the_package():
    assert gdviz.critical_point is critical_point and gdviz.find_critical_points is find_critical_points
    assert gdviz.CriticalPoint is CriticalPoint


def test_kind_follows_the_eigenvalue_signs_at_any_point():
    quadratic, saddle = gdviz.surface("quadratic"), gdviz.surface("saddle")
    cp = critical_point(quadratic, (-5.0, -2.0))  # curvature is classified wherever x is
    assert cp.kind == "minimum" and not cp.is_stationary
    assert cp.grad_norm == pytest.approx(np.hypot(10.0, 8.0))
    np.testing.assert_array_equal(cp.eigenvalues, [2.0, 4.0])
    assert cp.condition_number == 2.0
    assert critical_point(saddle, (0.0, 0.0)).kind == "saddle"
    himmelblau = gdviz.surface("himmelblau")
    top = [p for p, kind in himmelblau.critical_points if kind == "maximum"][0]
    cp = critical_point(himmelblau, top)
    assert cp.kind == "maximum" and np.all(cp.eigenvalues < 0)


def test_a_vanishing_hessian_is_degenerate_even_next_to_the_point():
    # f'' = 6x near x³'s inflection point: tiny, with a sign; it must not read as a minimum
    cubic, monkey = gdviz.surface("cubic"), gdviz.surface("monkey_saddle")
    assert critical_point(cubic, (0.0,)).kind == "degenerate"
    assert critical_point(cubic, (1e-12,)).kind == "degenerate"
    assert critical_point(cubic, (0.5,)).kind == "minimum"
    cp = critical_point(monkey, (0.0, 0.0))
    assert cp.kind == "degenerate" and cp.condition_number == np.inf
    assert critical_point(monkey, (1e-12, -1e-12)).kind == "degenerate"


def test_one_small_eigenvalue_among_large_ones_is_degenerate():
    # ravine-like quadratic with eigenvalues 1 and 1e-10 (relative 1e-10 < DEGENERATE_RTOL)
    base = gdviz.surface("quadratic")
    flat = type(base)(
        name="flat",
        title="flat",
        dim=2,
        f=lambda x: 0.5 * np.asarray(x)[..., 0] ** 2 + 0.5e-10 * np.asarray(x)[..., 1] ** 2,
        grad=lambda x: np.asarray(x) * np.array([1.0, 1e-10]),
        hessian=lambda x: np.broadcast_to(np.diag([1.0, 1e-10]), np.shape(x)[:-1] + (2, 2)),
        bounds=((-1.0, 1.0), (-1.0, 1.0)),
        minima=np.zeros((1, 2)),
        f_min=0.0,
        default_start=(0.5, 0.5),
    )
    assert 1e-10 < DEGENERATE_RTOL
    assert critical_point(flat, (0.0, 0.0)).kind == "degenerate"


@pytest.mark.parametrize("bad", [(1.0,), (1.0, 2.0, 3.0), (np.nan, 0.0), "xy"])
def test_critical_point_rejects_bad_points(bad):
    with pytest.raises(ValueError):
        critical_point(gdviz.surface("himmelblau"), bad)


def test_critical_point_rejects_a_non_surface():
    with pytest.raises(ValueError, match="Surface"):
        critical_point("himmelblau", (0.0, 0.0))


def test_himmelblau_has_four_minima_one_maximum_four_saddles():
    s = gdviz.surface("himmelblau")
    found = find_critical_points(s)
    assert Counter(cp.kind for cp in found) == {"minimum": 4, "maximum": 1, "saddle": 4}
    minima = [cp.point for cp in found if cp.kind == "minimum"]
    for m in s.minima:
        assert min(np.linalg.norm(m - p) for p in minima) < 1e-10
    assert [cp.value for cp in found] == sorted(cp.value for cp in found)
    assert found[-1].kind == "maximum" and found[-1].value == pytest.approx(181.6165215, abs=1e-6)


def test_a_plain_saddle_is_found_once():
    found = find_critical_points(gdviz.surface("saddle"))
    assert len(found) == 1 and found[0].kind == "saddle"
    np.testing.assert_allclose(found[0].point, [0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("name", ["cubic", "monkey_saddle"])
def test_degenerate_points_are_found_once_and_called_degenerate(name):
    found = find_critical_points(gdviz.surface(name))
    assert len(found) == 1 and found[0].kind == "degenerate"
    assert np.max(np.abs(found[0].point)) < 1e-12


@pytest.mark.parametrize("name", COMPLETE)
def test_newton_finds_exactly_the_listed_critical_points(name):
    s = SURFACES[name]
    found = find_critical_points(s)
    listed = [(np.array(p), kind) for p, kind in s.critical_points]
    assert len(found) == len(listed), [(cp.kind, cp.point) for cp in found]
    for cp in found:
        distance, kind = min((np.linalg.norm(cp.point - p), kind) for p, kind in listed)
        assert distance < 1e-6 and cp.kind == kind, (cp, kind)


@pytest.mark.parametrize("name", NAMES)
def test_everything_found_is_stationary_distinct_and_inside_the_window(name):
    s = SURFACES[name]
    found = find_critical_points(s, grid=12)
    box = np.array(s.bounds)
    points = np.array([cp.point for cp in found]).reshape(-1, s.dim)
    assert np.all((box[:, 0] <= points) & (points <= box[:, 1]))
    assert all(cp.is_stationary for cp in found)
    if len(points) > 1:
        gaps = np.linalg.norm(points[:, None] - points[None], axis=-1) + np.eye(len(points))
        assert np.min(gaps) > 1e-6 * np.linalg.norm(box[:, 1] - box[:, 0])


def test_custom_bounds_restrict_the_search():
    s = gdviz.surface("himmelblau")
    found = find_critical_points(s, bounds=((0.0, 5.0), (0.0, 5.0)))
    assert Counter(cp.kind for cp in found) == {"minimum": 1, "saddle": 2}
    np.testing.assert_allclose(found[0].point, [3.0, 2.0], atol=1e-10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"grid": 0},
        {"grid": 2.5},
        {"grid": True},
        {"iterations": 0},
        {"tol": 0.0},
        {"bounds": ((0.0, 1.0),)},
        {"bounds": ((1.0, 0.0), (0.0, 1.0))},
        {"bounds": ((0.0, np.inf), (0.0, 1.0))},
    ],
)
def test_find_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        find_critical_points(gdviz.surface("himmelblau"), **kwargs)
