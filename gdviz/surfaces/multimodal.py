"""Classic test functions with several local minima, saddles and maxima in the plotting window.

Reference: Surjanovic & Bingham, *Virtual Library of Simulation Experiments: Test Functions and
Datasets*, Simon Fraser University, https://www.sfu.ca/~ssurjano/optimization.html (definitions,
domains and global minima). The critical points of the three-hump camel, Styblinski–Tang and McCormick
are in closed form; the six-hump camel's were found with 40-digit Newton iterations, and
tests/test_surfaces.py checks ∇f = 0 and the kind of every one of them.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.surfaces._calc import build, coords, kind_of, points, sym2, vector

SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments, https://www.sfu.ca/~ssurjano/"


def _three_hump(x):
    x1, x2 = coords(x)
    return 2.0 * x1**2 - 1.05 * x1**4 + x1**6 / 6.0 + x1 * x2 + x2**2


def _three_hump_grad(x):
    x1, x2 = coords(x)
    return vector(4.0 * x1 - 4.2 * x1**3 + x1**5 + x2, x1 + 2.0 * x2)


def _three_hump_hessian(x):
    x1, _ = coords(x)
    return sym2(4.0 - 12.6 * x1**2 + 5.0 * x1**4, 1.0, 2.0, like=x1)


# ∇f = 0 ⇔ x2 = -x1/2 and x1(x1⁴ - 4.2x1² + 3.5) = 0, so x1² = 2.1 ± √0.91: minima (+), saddles (-)
_HUMP_MIN = float(np.sqrt(2.1 + np.sqrt(0.91)))
_HUMP_SADDLE = float(np.sqrt(2.1 - np.sqrt(0.91)))

three_hump_camel = build(
    name="three_hump_camel",
    title="Three-hump camel",
    dim=2,
    f=_three_hump,
    grad=_three_hump_grad,
    hessian=_three_hump_hessian,
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(-1.9, 1.9),
    formula=r"f(x) = 2x_1^2 - 1.05x_1^4 + \tfrac{x_1^6}{6} + x_1x_2 + x_2^2",
    source=SFU + "camel3.html",
    description="A global minimum at the origin flanked by two local minima (f ≈ 0.299) behind saddles: "
    "from the default start GD stops in the local one.",
    local_minima=points([[_HUMP_MIN, -_HUMP_MIN / 2], [-_HUMP_MIN, _HUMP_MIN / 2]], 2),
    critical_points=(
        ((0.0, 0.0), "minimum"),
        ((_HUMP_MIN, -_HUMP_MIN / 2), "minimum"),
        ((-_HUMP_MIN, _HUMP_MIN / 2), "minimum"),
        ((_HUMP_SADDLE, -_HUMP_SADDLE / 2), "saddle"),
        ((-_HUMP_SADDLE, _HUMP_SADDLE / 2), "saddle"),
    ),
)


def _six_hump(x):
    x1, x2 = coords(x)
    return (4.0 - 2.1 * x1**2 + x1**4 / 3.0) * x1**2 + x1 * x2 + (-4.0 + 4.0 * x2**2) * x2**2


def _six_hump_grad(x):
    x1, x2 = coords(x)
    return vector(8.0 * x1 - 8.4 * x1**3 + 2.0 * x1**5 + x2, x1 - 8.0 * x2 + 16.0 * x2**3)


def _six_hump_hessian(x):
    x1, x2 = coords(x)
    return sym2(8.0 - 25.2 * x1**2 + 10.0 * x1**4, 1.0, -8.0 + 48.0 * x2**2, like=x1)


# f(-x) = f(x): every critical point comes with its mirror image
def _pm(*pairs):
    return tuple(p for x1, x2 in pairs for p in ((x1, x2), (-x1, -x2)))


_CAMEL_MIN = _pm((0.089842013100318062456, -0.7126564030207396334))
_CAMEL_LOCAL = _pm((1.703606714969980941, -0.79608356867262512314), (1.6071047529201973852, 0.56865145488413135073))
_CAMEL_MAX = _pm((1.2302298765166525333, 0.16233458445899495615))
_CAMEL_SADDLES = ((0.0, 0.0),) + _pm(
    (1.6380679841897786881, 0.22867406904439409259),
    (1.2960702671671090589, 0.6050843880386585098),
    (1.1092053368047863862, -0.76826809250953983877),
)

six_hump_camel = build(
    name="six_hump_camel",
    title="Six-hump camel",
    dim=2,
    f=_six_hump,
    grad=_six_hump_grad,
    hessian=_six_hump_hessian,
    bounds=((-2.0, 2.0), (-1.0, 1.0)),
    minima=points(_CAMEL_MIN, 2),
    f_min=-1.0316284534898773504,
    default_start=(-1.5, 0.9),
    formula=r"f(x) = \left(4 - 2.1x_1^2 + \tfrac{x_1^4}{3}\right)x_1^2 + x_1x_2 + (-4 + 4x_2^2)\,x_2^2",
    source=SFU + "camel6.html",
    description="Six minima, two of them global (f ≈ -1.0316), two maxima and seven saddles in the window: a "
    "start near the edges lands in one of the four local minima.",
    local_minima=points(_CAMEL_LOCAL, 2),
    critical_points=tuple((m, "minimum") for m in _CAMEL_MIN + _CAMEL_LOCAL)
    + tuple((m, "maximum") for m in _CAMEL_MAX)
    + tuple((s, "saddle") for s in _CAMEL_SADDLES),
)


# f is a sum of one cubic-derivative term per coordinate: h'(t) = 2t³ - 16t + 2.5 = 0 has three real
# roots (trigonometric form for t³ + pt + q = 0 with p = -8, q = 1.25): a low minimum, a maximum, a minimum
def _cubic_roots(p, q):
    angle = np.arccos(1.5 * q / p * np.sqrt(-3.0 / p)) / 3.0
    return tuple(sorted(float(2.0 * np.sqrt(-p / 3.0) * np.cos(angle - 2.0 * np.pi * k / 3.0)) for k in range(3)))


_ST_LOW, _ST_MAX, _ST_HIGH = _cubic_roots(-8.0, 1.25)


def _styblinski_tang(x):
    x1, x2 = coords(x)
    return 0.5 * (x1**4 - 16.0 * x1**2 + 5.0 * x1 + x2**4 - 16.0 * x2**2 + 5.0 * x2)


def _styblinski_tang_grad(x):
    x1, x2 = coords(x)
    return vector(2.0 * x1**3 - 16.0 * x1 + 2.5, 2.0 * x2**3 - 16.0 * x2 + 2.5)


def _styblinski_tang_hessian(x):
    x1, x2 = coords(x)
    return sym2(6.0 * x1**2 - 16.0, 0.0, 6.0 * x2**2 - 16.0, like=x1)


styblinski_tang = build(
    name="styblinski_tang",
    title="Styblinski–Tang",
    dim=2,
    f=_styblinski_tang,
    grad=_styblinski_tang_grad,
    hessian=_styblinski_tang_hessian,
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    minima=points([_ST_LOW, _ST_LOW], 2),
    f_min=float(_styblinski_tang(np.array([_ST_LOW, _ST_LOW]))),
    default_start=(4.5, 4.5),
    formula=r"f(x) = \tfrac{1}{2}\sum_{i=1}^{2}\left(x_i^4 - 16x_i^2 + 5x_i\right)",
    source=SFU + "stybtang.html",
    description="Separable, with one global minimum (≈ -78.33 at x_i ≈ -2.9035), three local minima, four "
    "saddles and a maximum: GD from the default start ends in the shallowest local minimum.",
    local_minima=points([[_ST_LOW, _ST_HIGH], [_ST_HIGH, _ST_LOW], [_ST_HIGH, _ST_HIGH]], 2),
    critical_points=tuple(
        ((a, b), kind_of((a == _ST_MAX) + (b == _ST_MAX)))
        for a in (_ST_LOW, _ST_MAX, _ST_HIGH)
        for b in (_ST_LOW, _ST_MAX, _ST_HIGH)
    ),
)


# ∇f = 0 ⇔ cos(x1 + x2) = -1/2 and x1 - x2 = 1; it is a minimum where sin(x1 + x2) < 0, a saddle otherwise
def _mccormick_point(u):
    return ((1.0 + u) / 2.0, (u - 1.0) / 2.0)


def _mccormick(x):
    x1, x2 = coords(x)
    return np.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1.0


def _mccormick_grad(x):
    x1, x2 = coords(x)
    c = np.cos(x1 + x2)
    return vector(c + 2.0 * (x1 - x2) - 1.5, c - 2.0 * (x1 - x2) + 2.5)


def _mccormick_hessian(x):
    x1, x2 = coords(x)
    s = np.sin(x1 + x2)
    return sym2(2.0 - s, -2.0 - s, 2.0 - s, like=x1)


mccormick = build(
    name="mccormick",
    title="McCormick",
    dim=2,
    f=_mccormick,
    grad=_mccormick_grad,
    hessian=_mccormick_hessian,
    bounds=((-1.5, 4.0), (-3.0, 4.0)),
    minima=points([_mccormick_point(-2.0 * math.pi / 3.0)], 2),
    f_min=-math.sqrt(3.0) / 2.0 - math.pi / 3.0,
    default_start=(3.5, 3.5),
    formula=r"f(x) = \sin(x_1 + x_2) + (x_1 - x_2)^2 - 1.5x_1 + 2.5x_2 + 1",
    source=SFU + "mccorm.html",
    description="A tilted trough (f is unbounded below outside the window): the global minimum in the window "
    "at (1/2 - π/3, -1/2 - π/3), a local minimum and a saddle up the trough.",
    local_minima=points([_mccormick_point(4.0 * math.pi / 3.0)], 2),
    critical_points=(
        (_mccormick_point(-2.0 * math.pi / 3.0), "minimum"),
        (_mccormick_point(2.0 * math.pi / 3.0), "saddle"),
        (_mccormick_point(4.0 * math.pi / 3.0), "minimum"),
    ),
)

SURFACES = [three_hump_camel, six_hump_camel, styblinski_tang, mccormick]
