"""The tokenizer: the grammar's vocabulary, FormulaError, and the character-by-character checks.

Every character of a formula passes through here, and only the whitelist gets through: a name must be a
variable, a named constant or a function; a number is scanned by hand (digits, '.', an exponent) before
float() sees it; anything else is a :class:`FormulaError` naming the character and its 1-based position,
with a hint for the look-alikes people paste from papers and phones. gdviz.formula.parser reads the tokens.
"""

from __future__ import annotations

import math
import unicodedata

# largest numeric literal: every integer up to it is exact in float64, and 1e999 is not a number
MAX_NUMBER = 1e15

VARIABLES = {"x": 0, "y": 1, "x1": 0, "x2": 1}
CONSTANTS = {"pi": math.pi, "e": math.e}
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh")

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
