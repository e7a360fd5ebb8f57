"""The functions Dive into Deep Learning (ch. 12 "Optimization Algorithms") runs its optimizers on.

References: Zhang, Lipton, Li, Smola, *Dive into Deep Learning*, https://d2l.ai, sections 12.3
(gradient descent: x², x·cos(cx), cosh(cx), x1² + 2x2²) and 12.6 (momentum: 0.1x1² + 2x2²).
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.surfaces._calc import build, coords, matrix, points, sym2, vector

D2L = "Zhang, Lipton, Li & Smola, Dive into Deep Learning, "
XCOS_C = 0.15 * math.pi
COSH_C = 0.5


def _quadratic_surface(name, title, a, b, description, source):
    """f = a·x1² + b·x2²: constant Hessian diag(2a, 2b), so GD is stable for lr < 2/max(2a, 2b)."""

    def f(x):
        x1, x2 = coords(x)
        return a * x1**2 + b * x2**2

    def grad(x):
        x1, x2 = coords(x)
        return vector(2.0 * a * x1, 2.0 * b * x2)

    def hessian(x):
        x1, _ = coords(x)
        return sym2(2.0 * a, 0.0, 2.0 * b, like=x1)

    return build(
        name=name,
        title=title,
        dim=2,
        f=f,
        grad=grad,
        hessian=hessian,
        bounds=((-6.0, 2.0), (-3.0, 3.0)),
        minima=points([0.0, 0.0], 2),
        f_min=0.0,
        default_start=(-5.0, -2.0),
        formula=rf"f(x) = {a:g}\,x_1^2 + {b:g}\,x_2^2",
        source=source,
        description=description,
        category="d2l",
        local_minima=points([], 2),
        critical_points=(((0.0, 0.0), "minimum"),),
        quadratic=True,
    )


def _one_d(name, title, f1, d1, d2, **fields):
    """A 1-D surface from the scalar function and its first two derivatives (elementwise on (...))."""
    return build(
        name=name,
        title=title,
        dim=1,
        f=lambda x: f1(coords(x)[0]),
        grad=lambda x: vector(d1(coords(x)[0])),
        hessian=lambda x: matrix([[d2(coords(x)[0])]], like=coords(x)[0]),
        category="d2l",
        **fields,
    )


quadratic = _quadratic_surface(
    "quadratic",
    "Quadratic bowl x1² + 2x2²",
    1.0,
    2.0,
    "A convex quadratic with Hessian diag(2, 4): GD converges for lr < 2/4 = 0.5 and oscillates along x2 "
    "as lr approaches it (d2l's 2-D gradient descent example).",
    D2L + "section 12.3.2 (multivariate gradient descent).",
)

ill_conditioned = _quadratic_surface(
    "ill_conditioned",
    "Ill-conditioned bowl 0.1x1² + 2x2²",
    0.1,
    2.0,
    "Curvatures 0.2 and 4 (condition number 20): a learning rate small enough for x2 crawls along x1; "
    "d2l's motivating example for momentum.",
    D2L + "section 12.6.1 (an ill-conditioned problem).",
)

parabola = _one_d(
    "parabola",
    "Parabola x²",
    lambda x: x * x,
    lambda x: 2.0 * x,
    lambda x: np.full_like(x, 2.0),
    bounds=((-11.0, 11.0),),
    minima=points([0.0], 1),
    f_min=0.0,
    default_start=(10.0,),
    formula=r"f(x) = x^2",
    source=D2L + "section 12.3.1 (one-dimensional gradient descent).",
    description="The simplest convex function: GD from 10 converges for lr < 1, oscillates for 0.5 < lr < 1 "
    "and diverges for lr > 1.",
    local_minima=points([], 1),
    critical_points=(((0.0,), "minimum"),),
    quadratic=True,
)

# x·cos(cx) has no closed-form critical points: they solve cos(cx) = c·x·sin(cx). These are its roots in
# the window, found with 40-digit Newton iterations (tests/test_surfaces.py checks ∇f = 0 and the kind).
_XCOS_MIN = (-1.8256845786723394813, 7.2693881463114750856)
_XCOS_MAX = (-7.2693881463114750856, 1.8256845786723394813)

xcos = _one_d(
    "xcos",
    "x·cos(cx)",
    lambda x: x * np.cos(XCOS_C * x),
    lambda x: np.cos(XCOS_C * x) - XCOS_C * x * np.sin(XCOS_C * x),
    lambda x: -2.0 * XCOS_C * np.sin(XCOS_C * x) - XCOS_C**2 * x * np.cos(XCOS_C * x),
    bounds=((-13.0, 13.0),),
    minima=points([], 1),
    f_min=math.nan,
    default_start=(10.0,),
    formula=r"f(x) = x\cos(c x),\quad c = 0.15\pi",
    source=D2L + "section 12.3.1.2 (local minima).",
    description="A nonconvex function whose oscillations grow with |x| (so it has no global minimum): from "
    "10 with lr = 2, GD overshoots into the poor local minimum near -1.83 instead of the deeper one near 7.27.",
    local_minima=points(_XCOS_MIN, 1),
    critical_points=tuple(((m,), "minimum") for m in _XCOS_MIN) + tuple(((m,), "maximum") for m in _XCOS_MAX),
)

cosh = _one_d(
    "cosh",
    "cosh(cx)",
    lambda x: np.cosh(COSH_C * x),
    lambda x: COSH_C * np.sinh(COSH_C * x),
    lambda x: COSH_C**2 * np.cosh(COSH_C * x),
    bounds=((-11.0, 11.0),),
    minima=points([0.0], 1),
    f_min=1.0,
    default_start=(10.0,),
    formula=r"f(x) = \cosh(c x),\quad c = 0.5",
    source=D2L + "section 12.3.3 (adaptive methods: Newton's method).",
    description="Convex, with curvature growing exponentially away from 0: Newton's method converges in a "
    "few steps where GD with one fixed learning rate is either slow near 0 or unstable far away.",
    local_minima=points([], 1),
    critical_points=(((0.0,), "minimum"),),
)

# f = x²(1 + sin x) vanishes at 0 and wherever sin x = -1, so each of those is a global minimizer; the
# maxima between them solve 2(1 + sin x) + x·cos x = 0 (40-digit Newton roots).
_SIN_ZEROS = (0.0, -0.5 * math.pi, 1.5 * math.pi, -2.5 * math.pi)
_SIN_MAX = (-5.4194602628790466779, -0.80525634837622321964, 2.8084472047839392355, 8.3254986736251941872)

x2_1_sin = _one_d(
    "x2_1_sin",
    "x²(1 + sin x)",
    lambda x: x * x * (1.0 + np.sin(x)),
    lambda x: 2.0 * x * (1.0 + np.sin(x)) + x * x * np.cos(x),
    lambda x: 2.0 * (1.0 + np.sin(x)) + 4.0 * x * np.cos(x) - x * x * np.sin(x),
    bounds=((-10.0, 10.0),),
    minima=points(_SIN_ZEROS, 1),
    f_min=0.0,
    default_start=(3.5,),
    formula=r"f(x) = x^2\,(1 + \sin x)",
    source="gdviz: a 1-D nonconvex toy in the style of " + D2L + "section 12.3.",
    description="A wavy bowl with many minima: f = 0 at x = 0 and at every x with sin x = -1 (-π/2, 3π/2, ...), "
    "separated by ever higher humps; GD settles in whichever basin it starts in.",
    local_minima=points([], 1),
    critical_points=tuple(((m,), "minimum") for m in _SIN_ZEROS) + tuple(((m,), "maximum") for m in _SIN_MAX),
)

SURFACES = [quadratic, ill_conditioned, parabola, xcos, cosh, x2_1_sin]
