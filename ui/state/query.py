"""Reading untrusted query parameters: one plain form, one notice for unknown keys, one way to quote.

Every page's link reader (its fields in :mod:`ui.state.fields`) goes through these, so a link is bounded, quoted and
reported the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ui import limits
from ui.state.text import drop_invisible
from ui.state.values import parse_number

# keys Streamlit itself puts in app URLs: never reported as unknown
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})


def shown(text: Any, limit: int = 30) -> str:
    """Untrusted text shortened, for a notice: control characters become '?', bidi and zero-width
    controls are dropped (they would reorder the notice around them). The page escapes it when drawn."""
    text = re.sub(r"[\x00-\x1f\x7f]", "?", str(text))
    text = drop_invisible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_query(params: Mapping[str, Any], notices: list[str], value_chars: int | None = None) -> dict[str, str]:
    """Query parameters as str -> str (the last of repeated values), at most MAX_QUERY_KEYS of them,
    each value cut to ``value_chars`` when given; a notice when keys were dropped."""
    out: dict[str, str] = {}
    for index, (key, value) in enumerate(params.items()):
        if index >= limits.MAX_QUERY_KEYS:
            notices.append(f"The link has more than {limits.MAX_QUERY_KEYS} parameters; the rest were ignored.")
            break
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        text = str(value)
        out[str(key)] = text if value_chars is None else text[:value_chars]
    return out


def unknown_keys_notice(raw: Iterable[str], used: set[str]) -> list[str]:
    """The one notice naming the link parameters nobody read (none if all were read)."""
    unknown = [key for key in raw if key not in used and key not in STREAMLIT_KEYS]
    if not unknown:
        return []
    names = ", ".join(f"'{shown(k, 20)}'" for k in unknown[: limits.MAX_NOTICE_NAMES])
    more = f" and {len(unknown) - limits.MAX_NOTICE_NAMES} more" if len(unknown) > limits.MAX_NOTICE_NAMES else ""
    return [f"Ignored unknown link parameter(s) {names}{more}."]


def parse_point(text: str, dim: int | None) -> tuple[tuple[float, ...], bool]:
    """One point written ``x,y`` (``x`` in 1-D), clamped to ±MAX_ABS_START, and whether it was clamped.

    Raises ValueError when it is not 1 or 2 numbers, or not ``dim`` of them when ``dim`` is given.
    """
    values = tuple(float(parse_number(v, False)) for v in text.split(","))
    if (dim is not None and len(values) != dim) or len(values) not in (1, 2):
        raise ValueError(f"expected {dim or '1 or 2'} number(s)")
    cap = limits.MAX_ABS_START
    clamped = tuple(limits.clamp(v, -cap, cap) for v in values)
    return clamped, clamped != values
