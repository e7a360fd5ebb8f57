"""Every surface as the body of a torch function ``f(x)``: the registry's surfaces from a table, typed
formulas printed from their expression tree.

The script differentiates ``f`` with autograd, so only f is written (the gradient and, for Newton, the
Hessian come from torch). Each body follows the NumPy definition operation for operation (same
constants, same grouping), so torch's loss is gdviz's to the last bit or two and the paths agree to
far better than the tests' 1e-9.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.formula import Expr, evaluate, parse, postorder, variables
from gdviz.surfaces.base import Surface

# name -> lines of the body of f(x), for x a tensor of shape (dim,); tests/test_torch_script.py fails
# for a registered surface without one
TORCH_BODIES: dict[str, tuple[str, ...]] = {
    # d2l ch. 12
    "quadratic": ("x1, x2 = x", "return 1.0 * x1**2 + 2.0 * x2**2"),
    "ill_conditioned": ("x1, x2 = x", "return 0.1 * x1**2 + 2.0 * x2**2"),
    "parabola": ("x1 = x[0]", "return x1 * x1"),
    "xcos": ("x1 = x[0]", "return x1 * torch.cos((0.15 * math.pi) * x1)"),
    "cosh": ("x1 = x[0]", "return torch.cosh(0.5 * x1)"),
    "x2_1_sin": ("x1 = x[0]", "return x1 * x1 * (1.0 + torch.sin(x1))"),
    # the defects of vanilla GD
    "saddle": ("x1, x2 = x", "return x1**2 - x2**2"),
    "monkey_saddle": ("x1, x2 = x", "return x1**3 - 3.0 * x1 * x2**2"),
    "cubic": ("x1 = x[0]", "return x1**3"),
    "plateau": (
        "x1, x2 = x",
        "q = x1**2 + x2**2",
        "root = torch.sqrt(1.0 + q)",
        "# 1e-3 (sqrt(1 + q) - 1) + 1 - exp(-q/2), written without cancellation near the minimum",
        "return 1e-3 * q / (root + 1.0) - torch.expm1(-0.5 * q)",
    ),
    "local_trap": ("x1, x2 = x", "return 0.25 * x1**4 - (7.0 / 6.0) * x1**3 + 0.75 * x1**2 + x2**2"),
    "cliff": (
        "x1, x2 = x",
        "t = torch.tanh(5.0 * (x1 - 1.0))  # sigmoid(z) = (1 + tanh(z/2)) / 2, z = 10 (x1 - 1)",
        "wall = 25.0 * (1.0 + t)  # 50 sigmoid(z)",
        "return x1**2 * (0.5 + wall) + 0.1 * x2**2",
    ),
    "ravine": ("x1, x2 = x", "return 0.05 * (x1 + x2) ** 2 + 5.0 * (x1 - x2) ** 2"),
    # classics
    "rosenbrock": ("x1, x2 = x", "return (1.0 - x1) ** 2 + 100.0 * (x2 - x1**2) ** 2"),
    "himmelblau": ("x1, x2 = x", "return (x1**2 + x2 - 11.0) ** 2 + (x1 + x2**2 - 7.0) ** 2"),
    "beale": (
        "x1, x2 = x",
        "return (1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2",
    ),
    "booth": ("x1, x2 = x", "return (x1 + 2.0 * x2 - 7.0) ** 2 + (2.0 * x1 + x2 - 5.0) ** 2"),
    "matyas": ("x1, x2 = x", "return 0.26 * (x1**2 + x2**2) - 0.48 * x1 * x2"),
    "goldstein_price": (
        "x1, x2 = x",
        "# the SFU formula factorised: [1 + (u+1)^2 (3u^2 - 14u + 19)] [30 + s^2 (3s^2 - 16s + 18)]",
        "u, s = x1 + x2, 2.0 * x1 - 3.0 * x2",
        "a = 3.0 * u**4 - 8.0 * u**3 - 6.0 * u**2 + 24.0 * u + 20.0",
        "b = 3.0 * s**4 - 16.0 * s**3 + 18.0 * s**2 + 30.0",
        "return a * b",
    ),
    "three_hump_camel": ("x1, x2 = x", "return 2.0 * x1**2 - 1.05 * x1**4 + x1**6 / 6.0 + x1 * x2 + x2**2"),
    "six_hump_camel": (
        "x1, x2 = x",
        "return (4.0 - 2.1 * x1**2 + x1**4 / 3.0) * x1**2 + x1 * x2 + (-4.0 + 4.0 * x2**2) * x2**2",
    ),
    "styblinski_tang": (
        "x1, x2 = x",
        "return 0.5 * (x1**4 - 16.0 * x1**2 + 5.0 * x1 + x2**4 - 16.0 * x2**2 + 5.0 * x2)",
    ),
    "mccormick": ("x1, x2 = x", "return torch.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1.0"),
    # rugged
    "rastrigin": (
        "x1, x2 = x",
        "two_pi = 2.0 * math.pi",
        "return 20.0 + x1**2 - 10.0 * torch.cos(two_pi * x1) + x2**2 - 10.0 * torch.cos(two_pi * x2)",
    ),
    "ackley": (
        "x1, x2 = x",
        "two_pi = 2.0 * math.pi",
        "# not differentiable at the origin (the cone's tip), where autograd gives nan and gdviz takes 0",
        "cone = torch.exp(-0.2 * torch.hypot(x1, x2) / math.sqrt(2.0))",
        "ripple = torch.exp(0.5 * (torch.cos(two_pi * x1) + torch.cos(two_pi * x2)))",
        "return -20.0 * cone - ripple + 20.0 + math.e",
    ),
    "bukin_n6": (
        "x1, x2 = x",
        "# kinks on the parabola x2 = 0.01 x1^2 and the line x1 = -10 (gdviz takes the gradient 0 on them)",
        "return 100.0 * torch.sqrt(torch.abs(x2 - 0.01 * x1**2)) + 0.01 * torch.abs(x1 + 10.0)",
    ),
}

# a typed formula's functions in torch; "sign" only appears in derivatives, never in f
_TORCH_FUNCTIONS = {
    name: f"torch.{name}" for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh")
}
_NAMED_CONSTANTS = {"pi": "math.pi", "e": "math.e"}
# how tightly a printed node binds, so that its parent adds parentheses where Python's grammar needs them
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)


def _leaf(node: Expr) -> tuple[str, int]:
    if node.op == "var":
        return node.name, _ATOM
    if node.name in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[node.name], _ATOM
    text = repr(float(node.value))
    return text, _UNARY if text.startswith("-") else _ATOM


def _wrap(child: tuple[str, int], at_least: int) -> str:
    text, strength = child
    return f"({text})" if strength < at_least else text


def _combine(node: Expr, children: list[tuple[str, int]]) -> tuple[str, int]:
    op = node.op
    # a right operand of the same strength keeps its parentheses: a - (b - c) and a * (b * c) round differently
    # from (a - b) - c and (a * b) * c
    if op in ("+", "-"):
        # a sum on the right needs its parentheses (a - (b - c)), a product does not; a sign gets them to read well
        right = f"({children[1][0]})" if children[1][1] in (_SUM, _UNARY) else children[1][0]
        return f"{_wrap(children[0], _SUM)} {op} {right}", _SUM
    if op in ("*", "/"):
        return f"{_wrap(children[0], _PRODUCT)} {op} {_wrap(children[1], _POWER)}", _PRODUCT
    if op == "neg":
        return f"-{_wrap(children[0], _POWER)}", _UNARY
    if op == "^":
        return f"{_wrap(children[0], _ATOM)} ** {_wrap(children[1], _POWER)}", _POWER
    if op in _TORCH_FUNCTIONS:
        return f"{_TORCH_FUNCTIONS[op]}({children[0][0]})", _ATOM
    raise ValueError(f"torch_script: no torch function for {op!r} in a formula")


def torch_expression(tree: Expr) -> str:
    """A typed formula's tree as one Python expression in torch operations, node for node.

    Every node of the tree is one operation, in the tree's order: the loss is the formula evaluated as
    gdviz evaluates it (NumPy's ufuncs there, torch's here).
    """
    printed: dict[int, tuple[str, int]] = {}
    for node in postorder([tree]):
        children = [printed[id(arg)] for arg in node.args]
        printed[id(node)] = _combine(node, children) if children else _leaf(node)
    return printed[id(tree)][0]


def surface_function(surface: Surface) -> str:
    """``def f(...)`` for the surface, in torch; ValueError for a surface that has no torch body."""
    if surface.category == "custom":
        tree = _formula_tree(surface)
        names = variables(tree)
        unpack = f"{names[0]} = point[0]" if len(names) == 1 else f"{', '.join(names)} = point"
        body = (unpack, f"return {torch_expression(tree)}")
        argument, doc = "point", f"f({', '.join(names)}) = {' '.join(surface.title.split())}, as typed"
    elif surface.name in TORCH_BODIES:
        body, argument = TORCH_BODIES[surface.name], "x"
        doc = f"{surface.title} (gdviz.surface({surface.name!r}))"
    else:
        raise ValueError(
            f"torch_script has no torch version of the surface {surface.name!r}; add its body to "
            "gdviz/export/torch_surfaces.py (TORCH_BODIES)"
        )
    lines = [f"def f({argument}):", f'    """{_docstring_safe(doc)}"""', *(f"    {line}" for line in body)]
    return "\n".join(lines)


def _formula_tree(surface: Surface) -> Expr:
    """The expression tree of a typed formula's surface (gdviz.custom_surface keeps the text as its title).

    Checked at the default start, so that a hand-made Surface that merely says "custom" is refused
    rather than exported as some other function.
    """
    try:
        tree = parse(surface.title)
    except ValueError:
        tree = None
    if tree is not None and len(variables(tree)) == surface.dim:
        point = np.asarray(surface.default_start, dtype=np.float64)
        with np.errstate(all="ignore"):
            ours, theirs = float(evaluate(tree, point)), float(np.asarray(surface.f(point)))
        if ours == theirs or (math.isnan(ours) and math.isnan(theirs)):
            return tree
    raise ValueError(
        "torch_script exports a typed formula from gdviz.custom_surface (whose title is the formula); "
        f"this surface's title {surface.title!r} does not give its f"
    )


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''")


def uses_math(source: str) -> bool:
    """Whether the source needs ``import math``."""
    return "math." in source


__all__ = ["TORCH_BODIES", "surface_function", "torch_expression", "uses_math"]
