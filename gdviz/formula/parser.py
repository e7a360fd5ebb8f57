"""The parser: recursive descent from tokens to an expression tree, within the size and depth limits.

:func:`parse` checks the whole text's length and characters first, then descends the grammar (see
gdviz.formula) one token at a time, recursing only where nesting deepens. Constant parts are folded as they
are built, with the evaluator's own ufuncs, so a constant exponent beyond ±MAX_ABS_EXPONENT (9**9**9) or a
constant that is not finite (1/0) fails here, naming the part and its position, instead of turning into inf
or nan when the surface is evaluated.
"""

from __future__ import annotations

import math

from gdviz.formula.evaluation import fold
from gdviz.formula.tokenizer import CONSTANTS, FUNCTIONS, VARIABLES, FormulaError, _bad_character, _show, _tokenize
from gdviz.formula.tree import Expr, _number_text, postorder

# the formula box holds one line; anything longer is rejected before a single character is scanned
MAX_FORMULA_LENGTH = 300
# nesting of parentheses, calls, unary signs and exponents; bounds the parser's recursion (a few frames a level)
MAX_DEPTH = 40
# tree nodes (Rastrigin in 2-D has 23); the gradient and Hessian trees grow linearly with it, to about
# 15 nodes per node at worst, and are evaluated at every step
MAX_NODES = 150
# constant exponents beyond this overflow or underflow anything worth plotting (9**9**9, 2**-9999)
MAX_ABS_EXPONENT = 64


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
