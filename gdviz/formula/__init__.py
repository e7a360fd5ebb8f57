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

The package, one stage a module: :mod:`~gdviz.formula.tokenizer` (the vocabulary, FormulaError and the
character-level checks), :mod:`~gdviz.formula.parser` (recursive descent within the limits),
:mod:`~gdviz.formula.tree` (the immutable Expr node, its traversal, and printing as text or LaTeX) and
:mod:`~gdviz.formula.evaluation` (one NumPy ufunc per operator: constant folding and evaluation).
"""

from gdviz.formula.evaluation import evaluate, evaluate_many, fold
from gdviz.formula.parser import MAX_ABS_EXPONENT, MAX_DEPTH, MAX_FORMULA_LENGTH, MAX_NODES, parse, variables
from gdviz.formula.tokenizer import CONSTANTS, FUNCTIONS, MAX_NUMBER, VARIABLES, FormulaError
from gdviz.formula.tree import ONE, ZERO, Expr, num, postorder, to_latex, to_text

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_ABS_EXPONENT",
    "MAX_DEPTH",
    "MAX_FORMULA_LENGTH",
    "MAX_NODES",
    "MAX_NUMBER",
    "ONE",
    "VARIABLES",
    "ZERO",
    "Expr",
    "FormulaError",
    "evaluate",
    "evaluate_many",
    "fold",
    "num",
    "parse",
    "postorder",
    "to_latex",
    "to_text",
    "variables",
]
