"""The tree's NumPy semantics: one ufunc per operator, constant folding, and evaluation over a batch of points.

The parser folds constant parts with :func:`fold` and the evaluator computes the same ufuncs, so a constant
means the same float64 when it is checked at parse time as when the surface is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gdviz.formula.tree import Expr, postorder

# NumPy's ufunc for every operator; "sign" only appears in derivatives (of abs)
_UFUNCS: dict[str, Callable[..., np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
    "neg": np.negative,
    "sign": np.sign,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
}


def fold(op: str, values: Sequence[float]) -> float:
    """Constant folding with the evaluator's own float64 ufuncs: 1/0 is inf, log(-1) nan, never an error."""
    with np.errstate(all="ignore"):
        return float(_UFUNCS[op](*(np.float64(v) for v in values)))


def evaluate_many(roots: Sequence[Expr], points: np.ndarray) -> list[np.ndarray]:
    """Each tree at every point: points (..., dim) -> a list of fresh (...) arrays, sharing subtrees.

    Outside a function's domain the value is nan or inf, silently; callers decide what that means.
    """
    points = np.asarray(points, dtype=np.float64)
    order = postorder(roots)
    needed = 1 + max((node.index for node in order if node.op == "var"), default=-1)
    if points.ndim == 0 or points.shape[-1] < needed:
        raise ValueError(f"points must have shape (..., {needed}), got {points.shape}")
    values: dict[int, np.ndarray | float] = {}
    with np.errstate(all="ignore"):
        for node in order:
            if node.op == "num":
                values[id(node)] = node.value
            elif node.op == "var":
                values[id(node)] = points[..., node.index]
            else:
                values[id(node)] = _UFUNCS[node.op](*(values[id(arg)] for arg in node.args))
    results = []
    for root in roots:
        out = np.empty(points.shape[:-1])
        out[...] = values[id(root)]
        results.append(out)
    return results


def evaluate(tree: Expr, points: np.ndarray) -> np.ndarray:
    """The tree at every point: (..., dim) -> (...)."""
    return evaluate_many([tree], points)[0]
