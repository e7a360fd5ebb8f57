"""The expression tree: the immutable node, its traversal, and the tree printed as text or as LaTeX.

The parser builds trees and gdviz.custom's derivative rules build more from them, reusing subtrees rather
than copying them; :func:`postorder` visits each distinct node once, iteratively, and every walk over a tree
(printing here, evaluation, differentiation) goes through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, eq=False, repr=False, slots=True)
class Expr:
    """An immutable expression node; trees share subtrees, so every traversal here is iterative.

    op: "num", "var", "+", "-", "*", "/", "^", "neg", a function name, or "sign" (derivatives only).
    value: a number's value; index: a variable's coordinate; name: a variable's or named constant's name.
    """

    op: str
    args: tuple[Expr, ...] = ()
    value: float = 0.0
    index: int = 0
    name: str = ""

    def __repr__(self) -> str:
        return f"Expr({to_text(self)!r})"


def num(value: float, name: str = "") -> Expr:
    return Expr("num", value=float(value), name=name)


ZERO, ONE = num(0.0), num(1.0)


def postorder(roots: Sequence[Expr]) -> list[Expr]:
    """Every distinct node under ``roots`` once, children before parents, without recursion."""
    seen: set[int] = set()
    order: list[Expr] = []
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.args) if id(child) not in seen)
    return order


# ---------------------------------------------------------------- printing

# binding strength of what a printed node is, so its parent knows when to add parentheses
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)
_LATEX_FUNCTIONS = {"log": r"\ln", "sign": r"\operatorname{sign}"}


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _render(tree: Expr, leaf: Callable, combine: Callable) -> str:
    """Print bottom-up: ``leaf(node)`` and ``combine(node, children)`` give (text, binding strength)."""
    printed: dict[int, tuple[str, int]] = {}
    for node in postorder([tree]):
        children = [printed[id(arg)] for arg in node.args]
        printed[id(node)] = combine(node, children) if children else leaf(node)
    return printed[id(tree)][0]


def _wrap(child: tuple[str, int], at_least: int, left: str = "(", right: str = ")") -> str:
    text, strength = child
    return f"{left}{text}{right}" if strength < at_least else text


def _text_leaf(node: Expr) -> tuple[str, int]:
    text = node.name or _number_text(node.value)
    return text, _UNARY if text.startswith("-") else _ATOM


def _text_combine(node: Expr, children: list[tuple[str, int]]) -> tuple[str, int]:
    op = node.op
    if op in ("+", "-"):
        return (
            f"{_wrap(children[0], _SUM)} {op} {_wrap(children[1], _POWER if children[1][1] == _UNARY else _PRODUCT)}",
            _SUM,
        )
    if op in ("*", "/"):
        return f"{_wrap(children[0], _PRODUCT)}{op}{_wrap(children[1], _POWER)}", _PRODUCT
    if op == "neg":
        return f"-{_wrap(children[0], _POWER)}", _UNARY
    if op == "^":
        return f"{_wrap(children[0], _ATOM)}^{_wrap(children[1], _POWER)}", _POWER
    return f"{op}({children[0][0]})", _ATOM


def to_text(tree: Expr) -> str:
    """The tree as a formula again, spaced around + and -, parenthesized where needed and around a sign
    after an operator (x - (-y), x^(-2)); parse(to_text(t)) rebuilds t while the text stays within the limits."""
    return _render(tree, _text_leaf, _text_combine)


def _latex_leaf(node: Expr) -> tuple[str, int]:
    if node.op == "var":
        return (node.name if len(node.name) == 1 else f"{node.name[0]}_{{{node.name[1:]}}}"), _ATOM
    if node.name:
        return (r"\pi" if node.name == "pi" else node.name), _ATOM
    if not math.isfinite(node.value):
        return (r"\mathrm{nan}" if math.isnan(node.value) else ("-" if node.value < 0 else "") + r"\infty"), _ATOM
    text = _number_text(node.value)
    if "e" in text:  # 1e-05 -> 1 \cdot 10^{-5}
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}", _UNARY if text.startswith("-") else _PRODUCT
    return text, _UNARY if text.startswith("-") else _ATOM


def _latex_combine(node: Expr, children: list[tuple[str, int]]) -> tuple[str, int]:
    op, lp, rp = node.op, r"\left(", r"\right)"
    if op in ("+", "-"):
        right = _wrap(children[1], _POWER if children[1][1] == _UNARY else _PRODUCT, lp, rp)
        return f"{_wrap(children[0], _SUM, lp, rp)} {op} {right}", _SUM
    if op == "*":
        left, right = _wrap(children[0], _PRODUCT, lp, rp), _wrap(children[1], _POWER, lp, rp)
        # 2 x, 3 \sin(x), (x+1)(x-1) read as products; 2 \cdot 3 and x \cdot \frac{1}{2} need the dot
        dot = right[0] in "0123456789.-" or right.startswith(r"\frac")
        return f"{left} \\cdot {right}" if dot else f"{left} {right}", _PRODUCT
    if op == "/":
        return rf"\frac{{{children[0][0]}}}{{{children[1][0]}}}", _POWER
    if op == "neg":
        return f"-{_wrap(children[0], _POWER, lp, rp)}", _UNARY
    if op == "^":
        return f"{_wrap(children[0], _ATOM, lp, rp)}^{{{children[1][0]}}}", _POWER
    inner = children[0][0]
    if op == "sqrt":
        return rf"\sqrt{{{inner}}}", _ATOM
    if op == "abs":
        return rf"\left|{inner}\right|", _ATOM
    if op == "exp":
        return f"e^{{{inner}}}", _POWER
    return f"{_LATEX_FUNCTIONS.get(op, chr(92) + op)}{lp}{inner}{rp}", _ATOM


def to_latex(tree: Expr) -> str:
    r"""The tree as LaTeX (without $...$): ``x*cos(0.15*pi*x)`` -> ``x \cos\left(0.15 \pi x\right)``."""
    return _render(tree, _latex_leaf, _latex_combine)
