r"""Typed formulas: a small whitelisted expression language, parsed without Python's parser.

A visitor of the public demo types ``x*cos(0.15*pi*x)`` or ``x^2 + 2*y^2``. :func:`parse` turns the
text into an immutable expression tree, :func:`evaluate` computes trees with NumPy over a batch of
points, :func:`to_text` and :func:`to_latex` print them (gdviz.custom differentiates them and builds the
Surface). The text never reaches Python's own parser (no eval, exec, compile or ast): a hand-written
tokenizer and recursive-descent parser accept exactly this grammar, and anything else is a
:class:`FormulaError` (a ValueError) naming the offending part and its 1-based position::

    expr     := term (('+' | '-') term)*
    term     := unary (('*' | '/') unary)*
    unary    := ('-' | '+') unary | power
    power    := atom [('^' | '**') unary]        # right-associative; -x^2 = -(x^2), as in Python
    atom     := number | variable | 'pi' | 'e' | function '(' expr ')' | '(' expr ')'
    number   := digits ['.' [digits]] [exponent] | '.' digits [exponent];  exponent := ('e'|'E') ['+'|'-'] digits
    variable := 'x' | 'y' (2-D: x, y) or 'x1' | 'x2' (never mixed)
    function := sin cos tan exp log sqrt abs tanh sinh cosh   (log is the natural logarithm)

Only ASCII is accepted; look-alikes (Cyrillic 'х', full-width digits, the minus sign U+2212) are
rejected with a hint rather than normalized silently. Evaluation runs under ``np.errstate``: a value
outside a function's domain (log of a negative number) is nan, never a RuntimeWarning, and the run
loop treats it as divergence.

Decisions: the minus sign U+2212 is rejected too (with "type '-' instead"), since accepting one
look-alike invites the rest; a formula without a variable is rejected (a constant has nothing to
descend); ``log`` is the natural logarithm; a constant exponent must lie within ±MAX_ABS_EXPONENT and
every constant part must fold to a finite float, so 9**9**9, 10**400 and 1/0 fail at parse time.
Derivatives (gdviz.custom) take |u|' = sign(u) u' with sign(0) = 0, as torch's abs backward does.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# the formula box holds one line; anything longer is rejected before a single character is scanned
MAX_FORMULA_LENGTH = 300
# nesting of parentheses, calls, unary signs and exponents; bounds the parser's recursion (a few frames a level)
MAX_DEPTH = 40
# tree nodes (Rastrigin in 2-D has 23); the gradient and Hessian trees grow linearly with it, to about
# 15 nodes per node at worst, and are evaluated at every step
MAX_NODES = 150
# constant exponents beyond this overflow or underflow anything worth plotting (9**9**9, 2**-9999)
MAX_ABS_EXPONENT = 64
# largest numeric literal: every integer up to it is exact in float64, and 1e999 is not a number
MAX_NUMBER = 1e15

VARIABLES = {"x": 0, "y": 1, "x1": 0, "x2": 1}
CONSTANTS = {"pi": math.pi, "e": math.e}
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh")

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
_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | _DIGITS
_OPERATORS = frozenset("+-*/^(),")
# typographic characters people paste from papers or phones, and what to type instead
_ASCII_HINTS = {
    "\u2212": "-",
    "\u2013": "-",
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00b7": "*",
    "\u00f7": "/",
    "\u03c0": "pi",
}
_CONTROL_NAMES = {"\n": "line break", "\r": "carriage return", "\t": "tab", "\0": "null byte"}


class FormulaError(ValueError):
    """A formula the grammar does not accept; ``position`` is 1-based (None when it is the whole text)."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position


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


def fold(op: str, values: Sequence[float]) -> float:
    """Constant folding with the evaluator's own float64 ufuncs: 1/0 is inf, log(-1) nan, never an error."""
    with np.errstate(all="ignore"):
        return float(_UFUNCS[op](*(np.float64(v) for v in values)))


# ---------------------------------------------------------------- tokenizer and parser


def _show(text: str, limit: int = 30) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _bad_character(ch: str, position: int) -> FormulaError:
    if ch in _CONTROL_NAMES or ord(ch) < 32 or ord(ch) == 127:
        label = _CONTROL_NAMES.get(ch, "control character")
        hint = "; use spaces" if ch == "\t" else "; a formula is one line" if ch in "\r\n" else ""
        return FormulaError(f"{label} (U+{ord(ch):04X}) at position {position} is not allowed{hint}", position)
    if ord(ch) < 128:
        return FormulaError(f"unexpected character {ch!r} at position {position}", position)
    name = unicodedata.name(ch, "unnamed")
    visible = unicodedata.category(ch)[0] not in "CZ"  # never echo bidi controls or invisible spaces
    shown = f"{ch!r} (U+{ord(ch):04X} {name})" if visible else f"U+{ord(ch):04X} ({name})"
    hint = f"; type {_ASCII_HINTS[ch]!r} instead" if ch in _ASCII_HINTS else "; formulas use plain ASCII"
    return FormulaError(f"non-ASCII character {shown} at position {position} is not allowed{hint}", position)


def _check_name(name: str, position: int) -> None:
    if name in VARIABLES or name in CONSTANTS or name in FUNCTIONS:
        return
    if name.startswith("_") or "__" in name:
        raise FormulaError(f"{_show(name)} at position {position} is not allowed", position)
    lower = name.lower()
    if lower in VARIABLES or lower in CONSTANTS or lower in FUNCTIONS:
        raise FormulaError(
            f"unknown name {_show(name)} at position {position}; names are lower-case ({lower!r})", position
        )
    known = "x, y (or x1, x2), pi, e, " + ", ".join(FUNCTIONS)
    raise FormulaError(f"unknown name {_show(name)} at position {position}; use {known}", position)


def _scan_number(text: str, i: int) -> tuple[float, int]:
    """The numeric literal starting at index i: its value and the index after it."""
    n, start = len(text), i
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1 + (i + 1 < n and text[i + 1] in "+-")
        if j < n and text[j] in _DIGITS:
            i = j
            while i < n and text[i] in _DIGITS:
                i += 1
    if i < n and (text[i] in _NAME_CHARS or text[i] == "."):
        end = i
        while end < n and (text[end] in _NAME_CHARS or text[end] == "."):
            end += 1
        hint = "; write '*' for a product, as in 2*x" if text[i] in _NAME_START else ""
        raise FormulaError(f"malformed number {_show(text[start:end])} at position {start + 1}{hint}", start + 1)
    literal = text[start:i]
    value = float(literal)  # only digits, '.', 'e' and a sign reach here: a numeral, never code
    if not value <= MAX_NUMBER:
        raise FormulaError(
            f"number {_show(literal)} at position {start + 1} is too large; the limit is {MAX_NUMBER:g}", start + 1
        )
    return value, i


def _tokenize(text: str) -> list[tuple[str, str, int, float]]:
    """(kind, text, 1-based position, value) tokens; kind is "num", "name", an operator, or "end"."""
    tokens = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            value, end = _scan_number(text, i)
            tokens.append(("num", text[i:end], i + 1, value))
            i = end
        elif ch in _NAME_START:
            end = i
            while end < n and text[end] in _NAME_CHARS:
                end += 1
            _check_name(text[i:end], i + 1)
            tokens.append(("name", text[i:end], i + 1, 0.0))
            i = end
        elif text.startswith("**", i):
            tokens.append(("^", "**", i + 1, 0.0))
            i += 2
        elif ch in _OPERATORS:
            tokens.append((ch, ch, i + 1, 0.0))
            i += 1
        else:
            raise _bad_character(ch, i + 1)
    tokens.append(("end", "", n + 1, 0.0))
    return tokens


class _Parser:
    """Recursive descent over the token list; recursion only where nesting deepens, capped at MAX_DEPTH."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.at = 0
        self.nodes = 0
        self.family = ""  # "xy" or "x12", fixed by the first variable
        self.constant: dict[int, float] = {}  # id(node) -> value, for nodes without a variable
        self.start: dict[int, int] = {}  # id(node) -> 0-based start in the text, for messages

    def peek(self) -> tuple[str, str, int, float]:
        return self.tokens[self.at]

    def take(self) -> tuple[str, str, int, float]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def snippet(self, node: Expr) -> str:
        end = self.tokens[self.at - 1][2] - 1 + len(self.tokens[self.at - 1][1])
        return self.text[self.start[id(node)] : end]

    def make(self, op: str, args: tuple[Expr, ...], start: int, **fields) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            position = self.tokens[self.at - 1][2]
            raise FormulaError(
                f"the formula is too large (more than {MAX_NODES} parts at position {position})", position
            )
        node = Expr(op, args, **fields)
        self.start[id(node)] = start
        if op == "num":
            self.constant[id(node)] = node.value
        elif op != "var" and all(id(arg) in self.constant for arg in args):
            value = fold(op, [self.constant[id(arg)] for arg in args])
            if not math.isfinite(value):
                raise FormulaError(
                    f"{_show(self.snippet(node))} at position {start + 1} is not a finite number ({value})", start + 1
                )
            self.constant[id(node)] = value
        return node

    def unexpected(self, token: tuple[str, str, int, float], expected: str) -> FormulaError:
        kind, text, position, _ = token
        if kind == "end":
            return FormulaError(f"the formula ends too early; expected {expected} at position {position}", position)
        return FormulaError(f"unexpected {_show(text)} at position {position}; expected {expected}", position)

    def parse(self) -> Expr:
        if self.peek()[0] == "end":
            raise FormulaError("the formula is empty; type one such as x^2 + 2*y^2")
        tree = self.expr(0)
        kind, text, position, _ = self.peek()
        if kind == ")":
            raise FormulaError(f"unexpected ')' at position {position} (no matching '(')", position)
        if kind == ",":
            raise FormulaError(f"unexpected ',' at position {position}; functions take one argument", position)
        if kind != "end":
            raise FormulaError(
                f"unexpected {_show(text)} at position {position}; is an operator such as '*' missing?", position
            )
        if not self.family:
            raise FormulaError("the formula must use x (1-D) or x and y (2-D)")
        return tree

    def expr(self, depth: int) -> Expr:
        left = self.term(depth)
        while self.peek()[0] in ("+", "-"):
            op = self.take()[0]
            left = self.make(op, (left, self.term(depth)), self.start[id(left)])
        return left

    def term(self, depth: int) -> Expr:
        left = self.unary(depth)
        while self.peek()[0] in ("*", "/"):
            op = self.take()[0]
            left = self.make(op, (left, self.unary(depth)), self.start[id(left)])
        return left

    def deeper(self, depth: int, position: int) -> int:
        if depth >= MAX_DEPTH:
            raise FormulaError(f"nesting is too deep (more than {MAX_DEPTH} levels at position {position})", position)
        return depth + 1

    def unary(self, depth: int) -> Expr:
        kind, _, position, _ = self.peek()
        if kind not in ("+", "-"):
            return self.power(depth)
        self.take()
        operand = self.unary(self.deeper(depth, position))
        if kind == "+":
            return operand
        return self.make("neg", (operand,), position - 1)

    def power(self, depth: int) -> Expr:
        base = self.atom(depth)
        if self.peek()[0] != "^":
            return base
        position = self.take()[2] + len(self.tokens[self.at - 1][1])
        exponent = self.unary(self.deeper(depth, position))
        value = self.constant.get(id(exponent))
        if value is not None and abs(value) > MAX_ABS_EXPONENT:
            start, snippet = self.start[id(exponent)] + 1, self.snippet(exponent)
            shown = _show(snippet) + ("" if snippet.strip("()") == _number_text(value) else f" (= {value:g})")
            raise FormulaError(
                f"exponent {shown} at position {start} is too large; "
                f"constant exponents must lie within [-{MAX_ABS_EXPONENT}, {MAX_ABS_EXPONENT}]",
                start,
            )
        return self.make("^", (base, exponent), self.start[id(base)])

    def atom(self, depth: int) -> Expr:
        token = self.take()
        kind, text, position, value = token
        if kind == "num":
            return self.make("num", (), position - 1, value=value)
        if kind == "(":
            inner = self.expr(self.deeper(depth, position))
            self.close(position)
            self.start[id(inner)] = position - 1  # messages quote "(...)" with its parentheses
            return inner
        if kind != "name":
            self.at -= 1
            raise self.unexpected(token, "a number, a variable, a function or '('")
        if text in FUNCTIONS:
            if self.peek()[0] != "(":
                raise FormulaError(
                    f"function '{text}' at position {position} needs its argument in parentheses, e.g. {text}(x)",
                    position,
                )
            self.take()
            argument = self.expr(self.deeper(depth, position))
            if self.peek()[0] == ",":
                where = self.peek()[2]
                raise FormulaError(f"{text} takes exactly one argument; a second one starts at position {where}", where)
            self.close(position + len(text))
            return self.make(text, (argument,), position - 1)
        if text in CONSTANTS:
            return self.make("num", (), position - 1, value=CONSTANTS[text], name=text)
        family = "x12" if text in ("x1", "x2") else "xy"
        if self.family and family != self.family:
            raise FormulaError(
                f"cannot mix x, y with x1, x2 ('{text}' at position {position}); use x and y, or x1 and x2", position
            )
        self.family = family
        return self.make("var", (), position - 1, index=VARIABLES[text], name=text)

    def close(self, opened_at: int) -> None:
        token = self.peek()
        if token[0] != ")":
            if token[0] == "end":
                raise FormulaError(f"'(' at position {opened_at} is never closed", opened_at)
            raise self.unexpected(token, "')'")
        self.take()


def parse(text: str) -> Expr:
    """The expression tree of ``text``; FormulaError (a ValueError) for anything outside the grammar."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_FORMULA_LENGTH:  # before anything else looks at the text
        raise FormulaError(f"formula is too long ({len(text)} characters; the limit is {MAX_FORMULA_LENGTH})")
    for i, ch in enumerate(text):  # a look-alike is named as such, before its letters read as an unknown name
        if not " " <= ch <= "~":
            raise _bad_character(ch, i + 1)
    return _Parser(text).parse()


def variables(tree: Expr) -> tuple[str, ...]:
    """The coordinate names of the surface ``tree`` defines: ("x",), ("x", "y"), ("x1",) or ("x1", "x2")."""
    used = [node for node in postorder([tree]) if node.op == "var"]
    dim = 1 + max((node.index for node in used), default=0)
    names = ("x1", "x2") if any(node.name in ("x1", "x2") for node in used) else ("x", "y")
    return names[:dim]


# ---------------------------------------------------------------- printing and evaluation

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
