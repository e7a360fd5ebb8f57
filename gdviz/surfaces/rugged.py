"""Classic test functions that are rugged (many local minima) or not smooth everywhere.

Reference: Surjanovic & Bingham, *Virtual Library of Simulation Experiments: Test Functions and
Datasets*, Simon Fraser University, https://www.sfu.ca/~ssurjano/optimization.html (definitions,
domains and global minima).

Where a function has a kink (Ackley's cone tip at the origin, Bukin N.6 along a parabola and a line)
the gradient and Hessian are set by a stated convention, so that every value stays finite.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.surfaces._calc import build, coords, points, sym2, vector

SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments, https://www.sfu.ca/~ssurjano/"
TWO_PI = 2.0 * math.pi
# closer than this to a kink counts as on it: 1/distance stays far from overflowing
KINK = 1e-150


def _rastrigin(x):
    x1, x2 = coords(x)
    return 20.0 + x1**2 - 10.0 * np.cos(TWO_PI * x1) + x2**2 - 10.0 * np.cos(TWO_PI * x2)


def _rastrigin_grad(x):
    x1, x2 = coords(x)
    return vector(2.0 * x1 + 20.0 * math.pi * np.sin(TWO_PI * x1), 2.0 * x2 + 20.0 * math.pi * np.sin(TWO_PI * x2))


def _rastrigin_hessian(x):
    x1, x2 = coords(x)
    k = 40.0 * math.pi**2
    return sym2(2.0 + k * np.cos(TWO_PI * x1), 0.0, 2.0 + k * np.cos(TWO_PI * x2), like=x1)


rastrigin = build(
    name="rastrigin",
    title="Rastrigin",
    dim=2,
    f=_rastrigin,
    grad=_rastrigin_grad,
    hessian=_rastrigin_hessian,
    bounds=((-5.12, 5.12), (-5.12, 5.12)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(-4.5, 3.7),
    formula=r"f(x) = 20 + \sum_{i=1}^{2}\left(x_i^2 - 10\cos(2\pi x_i)\right)",
    source=SFU + "rastr.html",
    description="A bowl covered in an egg-crate of about a hundred local minima near the integer points "
    "(not listed: they have no closed form); GD stops in the first one it meets.",
    local_minima=points([], 2),
    critical_points=(((0.0, 0.0), "minimum"),),
)

_A, _B = 20.0, 0.2  # Ackley's depth and radial decay; its ripple frequency is c = 2π


def _ackley_parts(x):
    x1, x2 = coords(x)
    rho = np.hypot(x1, x2)  # no underflow for tiny x
    tip = rho <= KINK
    safe = np.where(tip, 1.0, rho)
    n1, n2 = np.where(tip, 0.0, x1 / safe), np.where(tip, 0.0, x2 / safe)
    cone = np.exp(-_B * rho / math.sqrt(2.0))
    ripple = np.exp(0.5 * (np.cos(TWO_PI * x1) + np.cos(TWO_PI * x2)))
    return x1, x2, tip, safe, n1, n2, cone, ripple


def _ackley(x):
    *_, cone, ripple = _ackley_parts(x)
    return -_A * cone - ripple + _A + math.e


def _ackley_grad(x):
    x1, x2, _, _, n1, n2, cone, ripple = _ackley_parts(x)
    radial = _A * _B / math.sqrt(2.0) * cone  # |∇ of the cone term|; direction n = x/|x|, 0 at the tip
    return vector(
        radial * n1 + math.pi * ripple * np.sin(TWO_PI * x1), radial * n2 + math.pi * ripple * np.sin(TWO_PI * x2)
    )


def _ackley_hessian(x):
    x1, x2, tip, safe, n1, n2, cone, ripple = _ackley_parts(x)
    # cone term: (ab/√2)·e^{-b|x|/√2}·[(I - nnᵀ)/|x| - (b/√2)·nnᵀ]; taken as 0 at the tip
    scale = np.where(tip, 0.0, _A * _B / math.sqrt(2.0) * cone)
    inv = np.where(tip, 0.0, 1.0 / safe)
    bend = _B / math.sqrt(2.0)
    s1, s2 = np.sin(TWO_PI * x1), np.sin(TWO_PI * x2)
    c2 = TWO_PI**2 / 4.0  # ripple term: e^C·[-(c²/4)·sin·sinᵀ + diag((c²/2)·cos)]
    hxx = scale * ((1.0 - n1 * n1) * inv - bend * n1 * n1) + ripple * (-c2 * s1 * s1 + 2.0 * c2 * np.cos(TWO_PI * x1))
    hxy = scale * (-n1 * n2 * inv - bend * n1 * n2) - ripple * c2 * s1 * s2
    hyy = scale * ((1.0 - n2 * n2) * inv - bend * n2 * n2) + ripple * (-c2 * s2 * s2 + 2.0 * c2 * np.cos(TWO_PI * x2))
    return sym2(hxx, hxy, hyy, like=x1)


ackley = build(
    name="ackley",
    title="Ackley",
    dim=2,
    f=_ackley,
    grad=_ackley_grad,
    hessian=_ackley_hessian,
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(-3.3, 4.1),
    formula=r"f(x) = -20\,e^{-0.2\sqrt{\frac{1}{2}(x_1^2 + x_2^2)}} - e^{\frac{1}{2}(\cos 2\pi x_1 + \cos 2\pi x_2)} "
    r"+ 20 + e",
    source=SFU + "ackley.html (a = 20, b = 0.2, c = 2π; plotted on [-5, 5]² of the domain [-32.768, 32.768]²)",
    description="A nearly flat outer region full of ripples around a deep funnel: local minima everywhere. "
    "The funnel's tip at the origin is a cone point where f is not differentiable; there the gradient is taken "
    "as 0 (the limit along the ripple term, the minimum-norm subgradient of the cone) and the cone term adds "
    "nothing to the Hessian.",
    local_minima=points([], 2),
    critical_points=(((0.0, 0.0), "minimum"),),
)


def _bukin_parts(x):
    x1, x2 = coords(x)
    d = x2 - 0.01 * x1**2
    off = np.abs(d) > KINK  # on the parabola x2 = 0.01x1² the square-root term has a kink
    root = np.sqrt(np.where(off, np.abs(d), 1.0))
    return x1, d, off, root


def _bukin(x):
    x1, d, _, _ = _bukin_parts(x)
    return 100.0 * np.sqrt(np.abs(d)) + 0.01 * np.abs(x1 + 10.0)


def _bukin_grad(x):
    x1, d, off, root = _bukin_parts(x)
    slope = np.where(off, 50.0 * np.sign(d) / root, 0.0)  # d/dd of 100√|d|, 0 on the kink
    return vector(-0.02 * x1 * slope + 0.01 * np.sign(x1 + 10.0), slope)


def _bukin_hessian(x):
    x1, d, off, root = _bukin_parts(x)
    slope = np.where(off, 50.0 * np.sign(d) / root, 0.0)
    bend = np.where(off, -25.0 / (root * root * root), 0.0)  # d²/dd² of 100√|d|; ∇d = (-0.02x1, 1)
    return sym2(bend * 0.0004 * x1**2 - 0.02 * slope, -0.02 * x1 * bend, bend, like=x1)


bukin_n6 = build(
    name="bukin_n6",
    title="Bukin N.6",
    dim=2,
    f=_bukin,
    grad=_bukin_grad,
    hessian=_bukin_hessian,
    bounds=((-15.0, -5.0), (-3.0, 3.0)),
    minima=points([-10.0, 1.0], 2),
    f_min=0.0,
    default_start=(-12.5, 2.5),
    formula=r"f(x) = 100\sqrt{\left|x_2 - 0.01x_1^2\right|} + 0.01\left|x_1 + 10\right|",
    source=SFU + "bukin6.html",
    description="A razor-thin curved ridge: f is not differentiable along the parabola x2 = 0.01x1² (where the "
    "gradient blows up like 1/√distance) nor on the line x1 = -10. On those kinks the gradient uses the "
    "minimum-norm one-sided convention: the square-root term contributes 0 to the gradient and the Hessian, "
    "and |x1 + 10| contributes sign(0) = 0. The minimizer (-10, 1) lies on both kinks, so its Hessian is 0.",
    local_minima=points([], 2),
)


SURFACES = [rastrigin, ackley, bukin_n6]
