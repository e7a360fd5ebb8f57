"""One surface per defect of vanilla gradient descent, each with a start that shows it.

GD moves by -lr·∇f, so it stalls where ∇f is small (saddles, degenerate points, plateaus), stops in the
first basin it meets (local traps), is flung away where ∇f is huge (cliffs) and zig-zags where the
curvature differs by orders of magnitude between directions (ravines). References: Goodfellow, Bengio
& Courville, *Deep Learning*, MIT Press 2016, section 8.2 (ill-conditioning, local minima, plateaus,
saddle points, cliffs); Dauphin et al., "Identifying and attacking the saddle point problem", NeurIPS 2014.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.surfaces._calc import build, coords, points, sym2, vector

BOOK = "Goodfellow, Bengio & Courville, Deep Learning (2016), section 8.2"
NONE = points([], 2)


def _surface(name, title, f, grad, hessian, **fields):
    return build(name=name, title=title, dim=2, f=f, grad=grad, hessian=hessian, category="defect", **fields)


def _saddle(x):
    x1, x2 = coords(x)
    return x1**2 - x2**2


saddle = _surface(
    "saddle",
    "Saddle x² - y²",
    _saddle,
    lambda x: np.asarray(x, dtype=np.float64) * np.array([2.0, -2.0]),
    lambda x: sym2(2.0, 0.0, -2.0, like=coords(x)[0]),
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    minima=NONE,
    f_min=math.nan,
    default_start=(-1.8, 0.001),
    formula=r"f(x) = x_1^2 - x_2^2",
    source=BOOK + "; Dauphin et al. (2014).",
    description="A saddle point (f is unbounded below, so there is no minimum): started almost on the "
    "x1-axis, GD slides into the saddle and lingers there, since the escape direction x2 grows only "
    "by a factor (1 + 2lr) per step.",
    local_minima=NONE,
    critical_points=(((0.0, 0.0), "saddle"),),
    quadratic=True,
)


def _monkey(x):
    x1, x2 = coords(x)
    return x1**3 - 3.0 * x1 * x2**2


def _monkey_grad(x):
    x1, x2 = coords(x)
    return vector(3.0 * x1**2 - 3.0 * x2**2, -6.0 * x1 * x2)


def _monkey_hessian(x):
    x1, x2 = coords(x)
    return sym2(6.0 * x1, -6.0 * x2, -6.0 * x1, like=x1)


monkey_saddle = _surface(
    "monkey_saddle",
    "Monkey saddle x³ - 3xy²",
    _monkey,
    _monkey_grad,
    _monkey_hessian,
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    minima=NONE,
    f_min=math.nan,
    default_start=(1.5, 1e-4),
    formula=r"f(x) = x_1^3 - 3x_1x_2^2",
    source="Standard example of a degenerate saddle; " + BOOK + ".",
    description="A degenerate saddle with three valleys down and three ridges up: gradient and Hessian both "
    "vanish at the origin, so the Hessian cannot tell the way out. Along the x1-axis the gradient shrinks "
    "like the distance squared and GD slows like 1/t; the small x2 offset grows only slowly, until GD "
    "escapes down a valley where f is unbounded below.",
    local_minima=NONE,
    critical_points=(((0.0, 0.0), "degenerate"),),
)


cubic = build(
    name="cubic",
    title="Cubic x³",
    dim=1,
    f=lambda x: coords(x)[0] ** 3,
    grad=lambda x: 3.0 * np.asarray(x, dtype=np.float64) ** 2,
    hessian=lambda x: 6.0 * np.asarray(x, dtype=np.float64)[..., None],
    bounds=((-2.0, 2.0),),
    minima=points([], 1),
    f_min=math.nan,
    default_start=(1.5,),
    formula=r"f(x) = x^3",
    source="Standard example of an inflection point; " + BOOK + ".",
    description="An inflection point at 0 where f' = f'' = 0: GD from the right creeps towards it and never "
    "passes it, although f decreases without bound on the other side.",
    category="defect",
    local_minima=points([], 1),
    critical_points=(((0.0,), "degenerate"),),
)

PLATEAU_SLOPE = 1e-3


# radial f = F(q), q = |x|²: ∇f = 2F'(q)x and ∇²f = 2F'(q)I + 4F''(q)xxᵀ
def _plateau_parts(x):
    x1, x2 = coords(x)
    q = x1**2 + x2**2
    root = np.sqrt(1.0 + q)
    well = np.exp(-0.5 * q)
    d1 = 0.5 * PLATEAU_SLOPE / root + 0.5 * well
    d2 = -0.25 * PLATEAU_SLOPE / (root * root * root) - 0.25 * well
    return x1, x2, q, root, d1, d2


def _plateau(x):
    _, _, q, root, _, _ = _plateau_parts(x)
    # ε(√(1+q) - 1) and 1 - e^{-q/2}, written without cancellation near the minimum
    return PLATEAU_SLOPE * q / (root + 1.0) - np.expm1(-0.5 * q)


def _plateau_grad(x):
    x1, x2, _, _, d1, _ = _plateau_parts(x)
    return vector(2.0 * d1 * x1, 2.0 * d1 * x2)


def _plateau_hessian(x):
    x1, x2, _, _, d1, d2 = _plateau_parts(x)
    return sym2(2.0 * d1 + 4.0 * d2 * x1 * x1, 4.0 * d2 * x1 * x2, 2.0 * d1 + 4.0 * d2 * x2 * x2, like=x1)


plateau = _surface(
    "plateau",
    "Plateau with a well",
    _plateau,
    _plateau_grad,
    _plateau_hessian,
    bounds=((-10.0, 10.0), (-10.0, 10.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(-6.0, 5.0),
    formula=r"f(x) = \varepsilon\left(\sqrt{1 + |x|^2} - 1\right) + 1 - e^{-|x|^2/2},\quad \varepsilon = 10^{-3}",
    source="gdviz (a smooth plateau for the defect described in " + BOOK + ").",
    description="A wide plain sloping gently (|∇f| ≈ 10⁻³) towards a unit-deep well at the origin: GD crawls "
    "for thousands of steps, while methods that normalise the step (Adam, RMSprop, sign-based) cross it fast.",
    local_minima=NONE,
    critical_points=(((0.0, 0.0), "minimum"),),
)


# f' = x(x - 1/2)(x - 3) in x1: a shallow minimum at 0 (barrier ≈ 0.057) before the deep one at 3
def _trap(x):
    x1, x2 = coords(x)
    return 0.25 * x1**4 - (7.0 / 6.0) * x1**3 + 0.75 * x1**2 + x2**2


def _trap_grad(x):
    x1, x2 = coords(x)
    return vector(x1 * (x1 - 0.5) * (x1 - 3.0), 2.0 * x2)


def _trap_hessian(x):
    x1, _ = coords(x)
    return sym2(3.0 * x1**2 - 7.0 * x1 + 1.5, 0.0, 2.0, like=x1)


local_trap = _surface(
    "local_trap",
    "Local trap",
    _trap,
    _trap_grad,
    _trap_hessian,
    bounds=((-2.0, 4.5), (-2.0, 2.0)),
    minima=points([3.0, 0.0], 2),
    f_min=-4.5,
    default_start=(-1.5, 1.0),
    formula=r"f(x) = \tfrac{1}{4}x_1^4 - \tfrac{7}{6}x_1^3 + \tfrac{3}{4}x_1^2 + x_2^2",
    source="gdviz (a tilted double well for the local-minimum defect of " + BOOK + ").",
    description="A shallow local minimum at the origin (f = 0, barrier 0.057) between the start and the deep "
    "global minimum at (3, 0) (f = -4.5): GD stops in the first; momentum can carry over the low barrier.",
    local_minima=points([0.0, 0.0], 2),
    critical_points=(((0.0, 0.0), "minimum"), ((0.5, 0.0), "saddle"), ((3.0, 0.0), "minimum")),
)

CLIFF_HEIGHT, CLIFF_SHARPNESS, CLIFF_AT = 50.0, 10.0, 1.0


# f = x1²·(1/2 + H·σ(k(x1 - w))) + 0.1x2²: positive except at the origin, so the minimum is exact
def _cliff_parts(x):
    x1, x2 = coords(x)
    t = np.tanh(0.5 * CLIFF_SHARPNESS * (x1 - CLIFF_AT))  # σ(z) = (1 + tanh(z/2))/2 never overflows
    wall = CLIFF_HEIGHT * 0.5 * (1.0 + t)
    dwall = CLIFF_HEIGHT * CLIFF_SHARPNESS * 0.25 * (1.0 - t * t)
    ddwall = -CLIFF_SHARPNESS * t * dwall
    return x1, x2, wall, dwall, ddwall


def _cliff(x):
    x1, x2, wall, _, _ = _cliff_parts(x)
    return x1**2 * (0.5 + wall) + 0.1 * x2**2


def _cliff_grad(x):
    x1, x2, wall, dwall, _ = _cliff_parts(x)
    return vector(2.0 * x1 * (0.5 + wall) + x1**2 * dwall, 0.2 * x2)


def _cliff_hessian(x):
    x1, _, wall, dwall, ddwall = _cliff_parts(x)
    return sym2(2.0 * (0.5 + wall) + 4.0 * x1 * dwall + x1**2 * ddwall, 0.0, 0.2, like=x1)


cliff = _surface(
    "cliff",
    "Cliff",
    _cliff,
    _cliff_grad,
    _cliff_hessian,
    bounds=((-3.0, 1.5), (-4.0, 4.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(0.8, 3.0),
    formula=r"f(x) = x_1^2\left(\tfrac{1}{2} + 50\,\sigma(10(x_1 - 1))\right) + 0.1\,x_2^2,\quad "
    r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    source="gdviz (a smooth cliff for the exploding-gradient defect of " + BOOK + "; Pascanu et al., "
    "On the difficulty of training recurrent neural networks, ICML 2013).",
    description="A gentle valley along x2 beside a steep wall at x1 ≈ 1: at the foot of the wall the gradient "
    "is ~40 times the valley's, so one GD step flings the iterate far across the valley; gradient clipping "
    "tames it.",
    local_minima=NONE,
    critical_points=(((0.0, 0.0), "minimum"),),
)


# curvature 0.2 along the diagonal u = x1 + x2 and 20 across it (v = x1 - x2)
def _ravine(x):
    x1, x2 = coords(x)
    return 0.05 * (x1 + x2) ** 2 + 5.0 * (x1 - x2) ** 2


def _ravine_grad(x):
    x1, x2 = coords(x)
    along, across = 0.1 * (x1 + x2), 10.0 * (x1 - x2)
    return vector(along + across, along - across)


ravine = _surface(
    "ravine",
    "Ravine (condition number 100)",
    _ravine,
    _ravine_grad,
    lambda x: sym2(10.1, -9.9, 10.1, like=coords(x)[0]),
    bounds=((-4.0, 4.0), (-4.0, 4.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(-3.5, -2.0),
    formula=r"f(x) = 0.05\,(x_1 + x_2)^2 + 5\,(x_1 - x_2)^2",
    source=BOOK + " (ill-conditioning).",
    description="A narrow diagonal valley with curvatures 0.2 along and 20 across (condition number 100): GD "
    "is stable only for lr < 0.1 and, near that, zig-zags across the valley while crawling along it.",
    local_minima=NONE,
    critical_points=(((0.0, 0.0), "minimum"),),
    quadratic=True,
)

SURFACES = [saddle, monkey_saddle, cubic, plateau, local_trap, cliff, ravine]
