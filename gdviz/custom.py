r"""The custom surface: a typed formula with its exact (symbolic) gradient and Hessian.

:func:`derivative` applies the textbook rules node by node, children first, and builds the result with
constructors that fold constants and drop trivial terms (0 + u, 1·u, u^1, -(-u)), so derivative trees
stay a small multiple of the formula. Subtrees are shared rather than copied, and the evaluator computes
each shared node once per call.

.. math::
    (uv)' = u'v + uv', \quad (u/v)' = \frac{u'v - uv'}{v^2}, \quad
    (u^c)' = c\,u^{c-1}u', \quad (a^v)' = a^v \ln a\, v', \quad (u^v)' = u^v\left(v' \ln u + \frac{v u'}{u}\right)

Warning: :math:`|u|' = \operatorname{sign}(u)\,u'` with sign(0) = 0 (torch's convention for ``abs``);
its second derivative is taken as 0 everywhere, the delta at the kink being invisible to the Hessian.

References: Griewank & Walther (2008), "Evaluating Derivatives", ch. 1 (symbolic vs algorithmic
differentiation); d2l 12.3 for the 1-D example ``x*cos(0.15*pi*x)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdviz.formula import (
    ONE,
    ZERO,
    Expr,
    FormulaError,
    evaluate,
    evaluate_many,
    fold,
    num,
    parse,
    postorder,
    to_latex,
    to_text,
    variables,
)
from gdviz.surfaces.base import Surface

DEFAULT_BOUNDS = (-5.0, 5.0)
# distinct nodes of the gradient and Hessian trees together: every step evaluates each once per batch. The
# parser's caps bound the formula, not what the chain rule makes of it: each level of tan(x/tan(y/…)) adds
# about 100 Hessian nodes, so 38 levels in 277 characters made 4,090 (21 ms a Newton step for 64 runs).
# Hand-written surfaces need far fewer (Ackley 121; a 63-part mix of exp, log, tanh, sqrt and a quotient 394).
MAX_DERIVED_NODES = 1000
# where, as fractions of each axis, to look for a default start at which f and its gradient are finite
_START_FRACTIONS = (0.8, 0.2, 0.65, 0.35, 0.9, 0.1, 0.55, 0.45)


def _is(node: Expr, value: float) -> bool:
    return node.op == "num" and node.value == value


def _both_numbers(op: str, a: Expr, b: Expr) -> Expr | None:
    return num(fold(op, (a.value, b.value))) if a.op == "num" and b.op == "num" else None


def _negative_lead(node: Expr) -> bool:
    """A product or quotient whose first factor is a negative number, e.g. -2*y."""
    while node.op in ("*", "/"):
        node = node.args[0]
    return node.op == "num" and node.value < 0


def _has_offset(node: Expr) -> bool:
    return node.op in ("+", "-") and node.args[1].op == "num"


def _offset(node: Expr) -> float:
    """c in u + c or -c in u - c."""
    return node.args[1].value if node.op == "+" else -node.args[1].value


def add(a: Expr, b: Expr) -> Expr:
    if (folded := _both_numbers("+", a, b)) is not None:
        return folded
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    if b.op == "neg":
        return sub(a, b.args[0])
    if _negative_lead(b):  # x + -2*y reads better as x - 2*y
        return sub(a, neg(b))
    if b.op == "num" and _has_offset(a):  # (u + 1) + 2 = u + 3
        return add(a.args[0], num(fold("+", (_offset(a), b.value))))
    return Expr("+", (a, b))


def sub(a: Expr, b: Expr) -> Expr:
    if (folded := _both_numbers("-", a, b)) is not None:
        return folded
    if _is(b, 0):
        return a
    if _is(a, 0):
        return neg(b)
    if a is b:
        return ZERO
    if b.op == "neg" or _negative_lead(b):
        return add(a, neg(b))
    if b.op == "num" and _has_offset(a):  # (u - 1) - 1 = u - 2
        return add(a.args[0], num(fold("-", (_offset(a), b.value))))
    return Expr("-", (a, b))


def neg(a: Expr) -> Expr:
    if a.op == "num":
        return num(-a.value)
    if a.op == "neg":
        return a.args[0]
    if a.op == "-":
        return Expr("-", (a.args[1], a.args[0]))
    if a.op in ("*", "/"):  # the sign goes to the first factor, exactly: -(u*v) = (-u)*v
        return _BUILDERS[a.op](neg(a.args[0]), a.args[1])
    return Expr("neg", (a,))


def mul(a: Expr, b: Expr) -> Expr:
    if (folded := _both_numbers("*", a, b)) is not None:
        return folded
    if _is(a, 0) or _is(b, 0):
        return ZERO
    if b.op == "num":  # constants lead, so they can merge: 2*(3*u) = 6*u
        a, b = b, a
    if _is(a, 1):
        return b
    if _is(a, -1):
        return neg(b)
    if b.op == "neg":
        return mul(neg(a), b.args[0])
    if b.op == "*" and b.args[0].op == "num":  # u*(2*v) = 2*(u*v), and 3*(2*v) = 6*v
        return mul(mul(b.args[0], a), b.args[1]) if a.op == "num" else mul(b.args[0], mul(a, b.args[1]))
    return Expr("*", (a, b))


def div(a: Expr, b: Expr) -> Expr:
    if (folded := _both_numbers("/", a, b)) is not None:
        return folded
    if _is(a, 0):
        return ZERO
    if _is(b, 1):
        return a
    if _is(b, -1):
        return neg(a)
    if b.op == "neg":
        return div(neg(a), b.args[0])
    return Expr("/", (a, b))


def power(a: Expr, b: Expr) -> Expr:
    if (folded := _both_numbers("^", a, b)) is not None:
        return folded
    if _is(b, 1):
        return a
    if _is(b, 0) or _is(a, 1):
        return ONE
    return Expr("^", (a, b))


def call(name: str, a: Expr) -> Expr:
    return num(fold(name, (a.value,))) if a.op == "num" else Expr(name, (a,))


_BUILDERS: dict[str, Callable[..., Expr]] = {"+": add, "-": sub, "*": mul, "/": div, "^": power, "neg": neg}


def simplify(tree: Expr) -> Expr:
    """The same function with constants folded and trivial terms dropped (e.g. 0.15*pi*x -> 0.471...*x)."""
    built: dict[int, Expr] = {}
    for node in postorder([tree]):
        args = [built[id(arg)] for arg in node.args]
        if not args:
            built[id(node)] = node
        elif node.op in _BUILDERS:
            built[id(node)] = _BUILDERS[node.op](*args)
        else:
            built[id(node)] = call(node.op, args[0])
    return built[id(tree)]


def _outer_derivative(node: Expr) -> Expr:
    """f'(u) for a function node f(u), reusing the node itself where the rule allows (exp, sqrt, tanh)."""
    u, op = node.args[0], node.op
    if op == "sin":
        return call("cos", u)
    if op == "cos":
        return neg(call("sin", u))
    if op == "tan":
        return div(ONE, power(call("cos", u), num(2.0)))
    if op == "exp":
        return node
    if op == "log":
        return div(ONE, u)
    if op == "sqrt":
        return div(ONE, mul(num(2.0), node))
    if op == "abs":
        return call("sign", u)
    if op == "tanh":
        return sub(ONE, power(node, num(2.0)))
    if op == "sinh":
        return call("cosh", u)
    if op == "cosh":
        return call("sinh", u)
    if op == "sign":
        return ZERO
    raise ValueError(f"no derivative rule for {op!r}")


def _rule(node: Expr, d: list[Expr], index: int) -> Expr:
    """The derivative of ``node`` with respect to coordinate ``index``, given its arguments' derivatives."""
    op, args = node.op, node.args
    if op == "var":
        return ONE if node.index == index else ZERO
    if all(_is(darg, 0) for darg in d):
        return ZERO
    if op == "+":
        return add(d[0], d[1])
    if op == "-":
        return sub(d[0], d[1])
    if op == "neg":
        return neg(d[0])
    if op == "*":
        return add(mul(d[0], args[1]), mul(args[0], d[1]))
    if op == "/":
        if _is(d[1], 0):
            return div(d[0], args[1])
        return div(sub(mul(d[0], args[1]), mul(args[0], d[1])), power(args[1], num(2.0)))
    if op == "^":
        u, v = args
        if _is(d[1], 0):  # exponent constant in this coordinate: v u^(v-1) u'
            return mul(mul(v, power(u, sub(v, ONE))), d[0])
        if _is(d[0], 0):  # base constant in this coordinate: u^v ln(u) v'
            return mul(mul(node, call("log", u)), d[1])
        return mul(node, add(mul(d[1], call("log", u)), div(mul(v, d[0]), u)))
    return mul(_outer_derivative(node), d[0])


def derivatives(roots: list[Expr], index: int) -> list[Expr]:
    """∂/∂x_index of each tree, sharing the work on common subtrees."""
    done: dict[int, Expr] = {}
    for node in postorder(roots):
        done[id(node)] = _rule(node, [done[id(arg)] for arg in node.args], index)
    return [done[id(root)] for root in roots]


def derivative(tree: Expr, index: int = 0) -> Expr:
    """∂tree/∂x_index as a tree (index 0 is x or x1, 1 is y or x2)."""
    return derivatives([simplify(tree)], index)[0]


def gradient(tree: Expr, dim: int) -> tuple[Expr, ...]:
    """The gradient's ``dim`` trees."""
    simple = simplify(tree)
    return tuple(derivatives([simple], i)[0] for i in range(dim))


def hessian(gradient_trees: tuple[Expr, ...]) -> tuple[tuple[Expr, ...], ...]:
    """The Hessian's trees from the gradient's; entry (i, j) and (j, i) are one tree, so H is exactly symmetric."""
    dim = len(gradient_trees)
    rows: list[list[Any]] = [[None] * dim for _ in range(dim)]
    for j in range(dim):
        for i, entry in enumerate(derivatives(list(gradient_trees[: j + 1]), j)):
            rows[i][j] = rows[j][i] = entry
    return tuple(tuple(row) for row in rows)


def _points(x: Any, dim: int) -> np.ndarray:
    points = np.asarray(x, dtype=np.float64)
    if points.ndim == 0 or points.shape[-1] != dim:
        raise ValueError(f"custom surface: points must have shape (..., {dim}), got {points.shape}")
    return points


def _check_bounds(bounds: Any, dim: int) -> tuple[tuple[float, float], ...]:
    if bounds is None:
        return (DEFAULT_BOUNDS,) * dim
    try:
        box = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be numbers: one (low, high) pair per coordinate, got {bounds!r}") from None
    if box.shape == (2,):  # one pair for every axis
        box = np.broadcast_to(box, (dim, 2))
    if box.shape != (dim, 2):
        raise ValueError(f"bounds must be one (low, high) pair per coordinate, shape ({dim}, 2); got {box.shape}")
    if not np.all(np.isfinite(box)) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"bounds must be finite with low < high, got {bounds!r}")
    return tuple((float(low), float(high)) for low, high in box)


def _check_start(start: Any, box: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    dim = len(box)
    try:
        point = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"start must be numbers: a point of dimension {dim}, got {start!r}") from None
    if point.ndim == 0 and dim == 1:
        point = point.reshape(1)
    if point.shape != (dim,):
        raise ValueError(f"start must have shape ({dim},); got {point.shape}")
    if not np.all(np.isfinite(point)):
        raise ValueError("start must be finite")
    low, high = np.array(box).T
    if np.any(point < low) or np.any(point > high):
        raise ValueError(f"start {tuple(point.tolist())} lies outside the bounds {box}")
    return tuple(float(v) for v in point)


def _default_start(f: Callable, grad: Callable, box: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    """The first candidate inside the bounds where f and its gradient are finite (log(x) must not start at x < 0)."""
    low, high = np.array(box).T
    candidates = low + np.array(list(itertools.product(_START_FRACTIONS, repeat=len(box)))) * (high - low)
    finite = np.isfinite(f(candidates)) & np.all(np.isfinite(grad(candidates)), axis=-1)
    if not finite.any():
        raise ValueError(
            f"the formula or its gradient is not finite at any of {len(candidates)} points tried inside the bounds "
            f"{box}; check its domain (log and sqrt need positive arguments) or pass start"
        )
    return tuple(float(v) for v in candidates[int(np.argmax(finite))])


def custom_surface(formula: str, bounds: Any = None, start: Any = None) -> Surface:
    """A Surface from a typed formula, e.g. ``custom_surface("x^2 + 2*y^2")`` or ``custom_surface("x*cos(0.15*pi*x)")``.

    The dimension follows the variables: x (or x1) alone is 1-D, y (or x2) makes it 2-D. ``bounds`` is one
    (low, high) pair per coordinate, or one pair for all (default (-5, 5)); ``start`` must lie inside them
    (default: a point where f and its gradient are finite). f evaluates the formula as typed; the gradient
    and Hessian are exact. Minima are unknown (an empty array, f_min nan). ValueError for a formula outside
    the grammar (see gdviz.formula), one whose gradient and Hessian together exceed MAX_DERIVED_NODES
    distinct parts, or bad bounds/start.
    """
    tree = parse(formula)
    names = variables(tree)
    dim = len(names)
    box = _check_bounds(bounds, dim)
    grad_trees = gradient(tree, dim)
    hess_trees = hessian(grad_trees)
    flat_hess = [entry for row in hess_trees for entry in row]
    derived = len(postorder([*grad_trees, *flat_hess]))
    if derived > MAX_DERIVED_NODES:
        raise FormulaError(
            f"the formula's gradient and Hessian are too large ({derived} parts; the limit is {MAX_DERIVED_NODES}): "
            "deeply nested functions such as tan(x/tan(y/…)) make them grow fast; nest less"
        )

    def f(x):
        return evaluate(tree, _points(x, dim))

    def grad(x):
        return np.stack(evaluate_many(grad_trees, _points(x, dim)), axis=-1)

    def hess(x):
        points = _points(x, dim)
        return np.stack(evaluate_many(flat_hess, points), axis=-1).reshape(points.shape[:-1] + (dim, dim))

    # a constant Hessian (and no abs, whose kink it cannot see) means f is quadratic: GD is stable below 2/λmax
    quadratic = all(h.op == "num" and math.isfinite(h.value) for h in flat_hess) and not any(
        node.op == "sign" for node in postorder(list(grad_trees))
    )
    return Surface(
        name="custom",
        title=formula.strip(),
        dim=dim,
        f=f,
        grad=grad,
        hessian=hess,
        bounds=box,
        minima=np.zeros((0, dim)),
        f_min=math.nan,
        default_start=_default_start(f, grad, box) if start is None else _check_start(start, box),
        formula=to_latex(tree),
        source="typed by the user",
        description=f"f({', '.join(names)}) = {to_text(tree)}; the gradient and Hessian are exact (symbolic).",
        category="custom",
        local_minima=np.zeros((0, dim)),
        quadratic=quadratic,
    )
