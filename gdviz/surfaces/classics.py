"""Classic test functions with one global minimum (Himmelblau: four equal ones), as defined in the SFU Virtual Library of Simulation Experiments.

Reference: Surjanovic & Bingham, *Virtual Library of Simulation Experiments: Test Functions and
Datasets*, Simon Fraser University, https://www.sfu.ca/~ssurjano/optimization.html (definitions,
domains and global minima). Critical points that are not in closed form were found with 40-digit
Newton iterations; tests/test_surfaces.py checks ∇f = 0 and the kind of every one of them.
"""

from __future__ import annotations

import numpy as np

from gdviz.surfaces._calc import build, coords, kind_of, points, sym2, vector

SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments, https://www.sfu.ca/~ssurjano/"


def _rosenbrock(x):
    x1, x2 = coords(x)
    return (1.0 - x1) ** 2 + 100.0 * (x2 - x1**2) ** 2


def _rosenbrock_grad(x):
    x1, x2 = coords(x)
    return vector(-2.0 * (1.0 - x1) - 400.0 * x1 * (x2 - x1**2), 200.0 * (x2 - x1**2))


def _constant(value: float) -> np.ndarray:
    """A read-only 0-d array: NumPy converts a Python float at every use, a 0-d array it takes as it is."""
    array = np.array(value)
    array.flags.writeable = False
    return array


_ONE, _MINUS_TWO, _HUNDRED, _TWO_HUNDRED, _FOUR_HUNDRED = map(_constant, (1.0, -2.0, 100.0, 200.0, 400.0))


def _rosenbrock_f_and_grad(x):
    # the run loop's call, once per step on a race's few points, where NumPy's per-call cost is all
    # there is: f and grad above term for term (same bits), the shared parts computed once, the
    # constants as 0-d arrays and the gradient filled in place
    x1, x2 = x[..., 0], x[..., 1]
    a = _ONE - x1
    b = x2 - x1**2
    grad = np.empty(x.shape)
    grad[..., 0] = _MINUS_TWO * a - _FOUR_HUNDRED * x1 * b
    grad[..., 1] = _TWO_HUNDRED * b
    return a**2 + _HUNDRED * b**2, grad


def _rosenbrock_hessian(x):
    x1, x2 = coords(x)
    return sym2(2.0 - 400.0 * x2 + 1200.0 * x1**2, -400.0 * x1, 200.0, like=x1)


rosenbrock = build(
    name="rosenbrock",
    title="Rosenbrock",
    dim=2,
    f=_rosenbrock,
    grad=_rosenbrock_grad,
    hessian=_rosenbrock_hessian,
    f_and_grad=_rosenbrock_f_and_grad,
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    minima=points([1.0, 1.0], 2),
    f_min=0.0,
    default_start=(-1.5, 2.0),
    formula=r"f(x) = (1 - x_1)^2 + 100\,(x_2 - x_1^2)^2",
    source=SFU + "rosen.html",
    description="A curved, narrow banana valley: the valley is easy to reach and slow to follow, and the "
    "curvature across it (~1000) against along it (~0.4) makes GD zig-zag.",
    local_minima=points([], 2),
    critical_points=(((1.0, 1.0), "minimum"),),
)


def _himmelblau(x):
    x1, x2 = coords(x)
    return (x1**2 + x2 - 11.0) ** 2 + (x1 + x2**2 - 7.0) ** 2


def _himmelblau_grad(x):
    x1, x2 = coords(x)
    a = x1**2 + x2 - 11.0
    b = x1 + x2**2 - 7.0
    return vector(4.0 * x1 * a + 2.0 * b, 2.0 * a + 4.0 * x2 * b)


def _himmelblau_hessian(x):
    x1, x2 = coords(x)
    return sym2(12.0 * x1**2 + 4.0 * x2 - 42.0, 4.0 * (x1 + x2), 12.0 * x2**2 + 4.0 * x1 - 26.0, like=x1)


_HIMMELBLAU_MIN = (
    (3.0, 2.0),
    (-2.8051180869527448531, 3.1313125182505729658),
    (-3.7793102533777468919, -3.2831859912861694123),
    (3.5844283403304917449, -1.8481265269644035535),
)
_HIMMELBLAU_SADDLES = (
    (-3.0730257507643896105, -0.081353044287967511553),
    (-0.12796134673068006631, -1.9537149802445764261),
    (0.086677504555396351823, 2.8842547011747761131),
    (3.385154183607020938, 0.073851879837749287719),
)

himmelblau = build(
    name="himmelblau",
    title="Himmelblau",
    dim=2,
    f=_himmelblau,
    grad=_himmelblau_grad,
    hessian=_himmelblau_hessian,
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    minima=points(_HIMMELBLAU_MIN, 2),
    f_min=0.0,
    default_start=(0.0, 0.0),
    formula=r"f(x) = (x_1^2 + x_2 - 11)^2 + (x_1 + x_2^2 - 7)^2",
    source="Himmelblau, Applied Nonlinear Programming, McGraw-Hill, 1972 (not in the SFU library).",
    description="Four global minima (f = 0), one maximum and four saddles: which minimum an optimizer "
    "reaches depends on where it starts.",
    local_minima=points([], 2),
    critical_points=tuple((m, "minimum") for m in _HIMMELBLAU_MIN)
    + (((-0.27084459066734761304, -0.92303855647998146313), "maximum"),)
    + tuple((s, "saddle") for s in _HIMMELBLAU_SADDLES),
)


def _beale(x):
    x1, x2 = coords(x)
    return sum((c - x1 + x1 * x2**i) ** 2 for i, c in _BEALE_TERMS)


def _beale_grad(x):
    x1, x2 = coords(x)
    gx = gy = 0.0
    for i, c in _BEALE_TERMS:  # f = Σ r_i², r_i = c_i - x1 + x1·x2^i
        r = c - x1 + x1 * x2**i
        gx = gx + 2.0 * r * (x2**i - 1.0)
        gy = gy + 2.0 * r * i * x1 * x2 ** (i - 1)
    return vector(gx, gy)


def _beale_hessian(x):
    x1, x2 = coords(x)
    hxx = hxy = hyy = 0.0
    for i, c in _BEALE_TERMS:  # H = 2 Σ (∇r_i ∇r_iᵀ + r_i ∇²r_i)
        r = c - x1 + x1 * x2**i
        rx, ry = x2**i - 1.0, i * x1 * x2 ** (i - 1)
        hxx = hxx + 2.0 * rx * rx
        hxy = hxy + 2.0 * (rx * ry + r * i * x2 ** (i - 1))
        hyy = hyy + 2.0 * (ry * ry + (r * i * (i - 1) * x1 * x2 ** (i - 2) if i > 1 else 0.0))
    return sym2(hxx, hxy, hyy, like=x1)


_BEALE_TERMS = ((1.0, 1.5), (2.0, 2.25), (3.0, 2.625))

beale = build(
    name="beale",
    title="Beale",
    dim=2,
    f=_beale,
    grad=_beale_grad,
    hessian=_beale_hessian,
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    minima=points([3.0, 0.5], 2),
    f_min=0.0,
    default_start=(1.0, 1.5),
    formula=r"f(x) = (1.5 - x_1 + x_1x_2)^2 + (2.25 - x_1 + x_1x_2^2)^2 + (2.625 - x_1 + x_1x_2^3)^2",
    source=SFU + "beale.html",
    description="Flat plateaus and sharp ridges near the corners: the gradient spans many orders of magnitude, "
    "which favours adaptive methods.",
    local_minima=points([], 2),
    critical_points=(
        ((3.0, 0.5), "minimum"),
        ((0.0, 1.0), "saddle"),
        ((0.100537937324158359273, -2.64451358502312496886), "saddle"),
    ),
)


def _booth(x):
    x1, x2 = coords(x)
    return (x1 + 2.0 * x2 - 7.0) ** 2 + (2.0 * x1 + x2 - 5.0) ** 2


def _booth_grad(x):
    x1, x2 = coords(x)
    a, b = x1 + 2.0 * x2 - 7.0, 2.0 * x1 + x2 - 5.0
    return vector(2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b)


booth = build(
    name="booth",
    title="Booth",
    dim=2,
    f=_booth,
    grad=_booth_grad,
    hessian=lambda x: sym2(10.0, 8.0, 10.0, like=coords(x)[0]),
    bounds=((-10.0, 10.0), (-10.0, 10.0)),
    minima=points([1.0, 3.0], 2),
    f_min=0.0,
    default_start=(-8.0, -8.0),
    formula=r"f(x) = (x_1 + 2x_2 - 7)^2 + (2x_1 + x_2 - 5)^2",
    source=SFU + "booth.html",
    description="A tilted quadratic bowl (Hessian eigenvalues 2 and 18): GD is stable for lr < 2/18.",
    local_minima=points([], 2),
    critical_points=(((1.0, 3.0), "minimum"),),
    quadratic=True,
)


def _matyas(x):
    x1, x2 = coords(x)
    return 0.26 * (x1**2 + x2**2) - 0.48 * x1 * x2


def _matyas_grad(x):
    x1, x2 = coords(x)
    return vector(0.52 * x1 - 0.48 * x2, 0.52 * x2 - 0.48 * x1)


matyas = build(
    name="matyas",
    title="Matyas",
    dim=2,
    f=_matyas,
    grad=_matyas_grad,
    hessian=lambda x: sym2(0.52, -0.48, 0.52, like=coords(x)[0]),
    bounds=((-10.0, 10.0), (-10.0, 10.0)),
    minima=points([0.0, 0.0], 2),
    f_min=0.0,
    default_start=(8.0, -6.0),
    formula=r"f(x) = 0.26\,(x_1^2 + x_2^2) - 0.48\,x_1x_2",
    source=SFU + "matya.html",
    description="A nearly flat diagonal valley (Hessian eigenvalues 0.04 and 1, condition number 25): the "
    "descent along the diagonal is slow.",
    local_minima=points([], 2),
    critical_points=(((0.0, 0.0), "minimum"),),
    quadratic=True,
)


# Goldstein–Price factorises as f = A(u)·B(s) with u = x1 + x2 and s = 2x1 - 3x2, where
# A(u) = 1 + (u+1)²(3u² - 14u + 19) and B(s) = 30 + s²(3s² - 16s + 18); A and B stay positive, so
# ∇f = 0 ⇔ A'(u) = 12(u+1)(u-1)(u-2) = 0 and B'(s) = 12s(s-1)(s-3) = 0: nine critical points.
def _gp_parts(x):
    x1, x2 = coords(x)
    u, s = x1 + x2, 2.0 * x1 - 3.0 * x2
    a = 3.0 * u**4 - 8.0 * u**3 - 6.0 * u**2 + 24.0 * u + 20.0
    b = 3.0 * s**4 - 16.0 * s**3 + 18.0 * s**2 + 30.0
    da = 12.0 * u**3 - 24.0 * u**2 - 12.0 * u + 24.0
    db = 12.0 * s**3 - 48.0 * s**2 + 36.0 * s
    dda = 36.0 * u**2 - 48.0 * u - 12.0
    ddb = 36.0 * s**2 - 96.0 * s + 36.0
    return x1, a, b, da, db, dda, ddb


def _goldstein_price(x):
    _, a, b, *_ = _gp_parts(x)
    return a * b


def _goldstein_price_grad(x):
    _, a, b, da, db, _, _ = _gp_parts(x)
    return vector(da * b + 2.0 * a * db, da * b - 3.0 * a * db)  # ∇u = (1, 1), ∇s = (2, -3)


def _goldstein_price_hessian(x):
    x1, a, b, da, db, dda, ddb = _gp_parts(x)
    uu, us, ss = dda * b, da * db, a * ddb  # H = uu ∇u∇uᵀ + us (∇u∇sᵀ + ∇s∇uᵀ) + ss ∇s∇sᵀ
    return sym2(uu + 4.0 * us + 4.0 * ss, uu - us - 6.0 * ss, uu - 6.0 * us + 9.0 * ss, like=x1)


def _gp_point(u, s):
    return ((3.0 * u + s) / 5.0, (2.0 * u - s) / 5.0)


goldstein_price = build(
    name="goldstein_price",
    title="Goldstein–Price",
    dim=2,
    f=_goldstein_price,
    grad=_goldstein_price_grad,
    hessian=_goldstein_price_hessian,
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    minima=points([0.0, -1.0], 2),
    f_min=3.0,
    default_start=(1.5, 1.5),
    formula=r"f(x) = \left[1 + (x_1 + x_2 + 1)^2(19 - 14x_1 + 3x_1^2 - 14x_2 + 6x_1x_2 + 3x_2^2)\right]"
    r"\left[30 + (2x_1 - 3x_2)^2(18 - 32x_1 + 12x_1^2 + 48x_2 - 36x_1x_2 + 27x_2^2)\right]",
    source=SFU + "goldpr.html",
    description="Values spanning 3 to 10⁶ with four minima (f = 3, 30, 84, 840), four saddles and a maximum: "
    "the scale defeats a fixed learning rate.",
    local_minima=points([_gp_point(-1.0, 0.0), _gp_point(2.0, 3.0), _gp_point(2.0, 0.0)], 2),
    critical_points=tuple(
        (_gp_point(u, s), kind_of((u == 1.0) + (s == 1.0)))  # A''(u) < 0 only at u = 1, B''(s) only at s = 1
        for u in (-1.0, 1.0, 2.0)
        for s in (0.0, 1.0, 3.0)
    ),
)


SURFACES = [rosenbrock, himmelblau, beale, booth, matyas, goldstein_price]
