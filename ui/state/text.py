"""Visitor text on a page: shown literally, never as Markdown, LaTeX, HTML or a link."""

from __future__ import annotations

import re

from ui import limits

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~])")
_LABEL_DROP = re.compile(r"[\x00-\x1f\x7f<>&\"'`\\$]")


def escape_markdown(text: str) -> str:
    """``text`` shown literally where Streamlit renders Markdown (no links, no LaTeX, no HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def clean_label(text: str) -> str:
    """A legend label safe to show anywhere: no markup or control characters, bounded length."""
    return _LABEL_DROP.sub("", str(text)).strip()[: limits.MAX_LABEL_CHARS].strip()
