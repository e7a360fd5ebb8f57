"""One hyper-parameter value at a time: its range, canonical form, clamping and text form.

Shared by the sidebar (widget ranges) and the link codec (parsing and clamping), so that a value a link
can carry is exactly a value a widget can show. Ranges are those of :class:`gdviz.params.HyperParam`
(the UI range within the valid one) capped by :mod:`ui.limits`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from gdviz.params import HyperParam
from ui import limits

Params = tuple[tuple[str, Any], ...]


def bounds(spec: HyperParam) -> tuple[float, float]:
    """The range a widget offers and a link may carry: the UI range within the valid one, capped.

    Always contains the default, so a default is never 'out of range'.
    """
    low, high = spec.slider_range()
    low, high = max(low, spec.minimum), min(high, spec.maximum)
    cap = limits.MAX_INT_PARAM if spec.kind in ("int", "list") else limits.MAX_ABS_FLOAT_PARAM
    low, high = max(low, -cap), min(high, cap)
    step = 1 if spec.kind in ("int", "list") else None
    if low == spec.minimum and not spec.min_inclusive:
        low = low + 1 if step else float(np.nextafter(low, math.inf))
    if high == spec.maximum and not spec.max_inclusive:
        high = high - 1 if step else float(np.nextafter(high, -math.inf))
    defaults = spec.default if isinstance(spec.default, (tuple, list)) else (spec.default,)
    for value in defaults:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high = min(low, value), max(high, value)
    return low, high


def canonical_value(spec: HyperParam, value: Any) -> Any:
    """A validated value as a plain, hashable Python value."""
    if value is None:
        return None
    if spec.kind == "float":
        return float(value)
    if spec.kind == "int":
        return int(value)
    if spec.kind == "bool":
        return bool(value)
    if spec.kind == "pair":
        return tuple(float(v) for v in value)
    if spec.kind == "list":
        return tuple(int(v) for v in value)
    return value


def clamp_value(spec: HyperParam, value: Any) -> Any:
    """``value`` (already of the right kind) limited to :func:`bounds`; lists also to MAX_LIST_ITEMS."""
    if value is None or spec.kind in ("bool", "choice"):
        return value
    low, high = bounds(spec)
    if spec.kind == "float":
        return limits.clamp(float(value), low, high)
    if spec.kind == "int":
        return int(limits.clamp(int(value), low, high))
    if spec.kind == "pair":
        return tuple(limits.clamp(float(v), low, high) for v in value)
    return tuple(int(limits.clamp(int(v), low, high)) for v in value[: limits.MAX_LIST_ITEMS])


def full_params(specs: tuple[HyperParam, ...], given: Mapping[str, Any]) -> Params:
    """Every spec'd parameter in spec order, given ones (unvalidated) over the defaults."""
    return tuple((spec.name, canonical_value(spec, given.get(spec.name, spec.default))) for spec in specs)


def format_number(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (``100`` rather than ``100.0``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def encode_value(spec: HyperParam, value: Any) -> str:
    if value is None:
        return "none"
    if spec.kind == "bool":
        return "1" if value else "0"
    if spec.kind in ("pair", "list"):
        return ",".join(format_number(v) if spec.kind == "pair" else str(int(v)) for v in value)
    if spec.kind == "float":
        return format_number(value)
    return str(value)


def parse_number(text: str, integer: bool) -> float | int:
    """A finite number from text, or ValueError. Integers may be written as 1e3 but not 2.5."""
    if len(text) > limits.MAX_QUERY_VALUE_CHARS:
        raise ValueError("too long")
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError("not finite")
    if integer:
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    return value


def parse_value(spec: HyperParam, text: str) -> Any:
    """The value of ``spec`` written as ``text`` (see :func:`encode_value`), or ValueError."""
    text = text.strip()
    if spec.optional and text.lower() == "none":
        return None
    if spec.kind == "bool":
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected 1 or 0")
    if spec.kind == "choice":
        matches = [c for c in spec.choices if str(c).lower() == text.lower()]
        if not matches:
            raise ValueError(f"expected one of {', '.join(map(str, spec.choices))}")
        return matches[0]
    if spec.kind == "pair":
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError("expected two numbers separated by a comma")
        return tuple(parse_number(part, False) for part in parts)
    if spec.kind == "list":
        if not text:
            return ()
        return tuple(parse_number(part, True) for part in text.split(",")[: limits.MAX_LIST_ITEMS + 1])
    return parse_number(text, spec.kind == "int")


def widget_number(value: float) -> float:
    """A float a widget reported, as a link should say it: a slider dragged in the browser can report
    0.30000000000000004, which is 0.3 to 12 significant digits."""
    return float(f"{float(value):.12g}")


# the one spelling of "no schedule, a constant learning rate": in links, widgets and scenarios
NO_SCHEDULE = "constant"
