"""Visitor text on a page: shown literally, never as Markdown, LaTeX, HTML, a link or an icon.

Streamlit renders the body of ``st.markdown``, ``st.caption``, ``st.warning``, ``st.error`` … as GitHub
Markdown with math (``$…$``) and its own directives (``:red[…]``, ``:material/home:``, ``:smile:``).
Backslash escapes stop the Markdown and the math, but three things act on the text *after* the escapes
are resolved, so an escape cannot stop them; the text itself has to change, as little as the eye sees:

- GFM autolinks: ``www.`` and ``http://``/``https://`` become links, ``a@b.co`` a mailto link. The dot
  after ``www`` becomes ``․`` (ONE DOT LEADER) and ``@`` becomes ``＠`` (FULLWIDTH COMMERCIAL AT).
- Streamlit's directives, and URL schemes: a ``:`` followed by anything but a space becomes ``∶`` (RATIO).
- Format characters (bidi overrides and isolates, zero-width spaces and joiners, the BOM …): invisible,
  yet they reorder or hide what is shown, so they are dropped; line breaks become one space, so that
  no line of visitor text can start a heading, a list, a quote or a code block.

Pure functions, no Streamlit: the page modules draw what these return (see :mod:`ui.state.notices`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ui import limits

# every ASCII punctuation character that means something to Markdown, math or HTML, escaped by a backslash
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~&])")
# Unicode's format characters (category Cf: bidi controls U+202A–U+202E and U+2066–U+2069, zero-width
# U+200B–U+200F, U+2060–U+2064, the BOM U+FEFF, tags …) and the C0/C1 controls but line breaks and tabs;
# tests/test_visitor_text.py checks this class against unicodedata
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# a line break with the blanks around it (and leading blanks): one space, or nothing at the start
_LINE_BREAK = re.compile(r"[ \t]*[\n\r\x0b\x0c\x85\u2028\u2029][\s]*")
_AUTOLINK_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_DIRECTIVE_COLON = re.compile(r":(?=\S)")
_LABEL_DROP = re.compile(r"[\x00-\x1f\x7f<>&\"'`\\$]")

DOT_LEADER = "\u2024"  # ․ looks like the dot of www. but no autolink starts with it
FULLWIDTH_AT = "\uff20"  # ＠
RATIO = "\u2236"  # ∶ looks like a colon but starts no URL scheme and no Streamlit directive


def drop_invisible(text: object) -> str:
    """``text`` without the characters that are invisible yet change what is shown around them (bidi and
    zero-width controls, other format and control characters); line breaks and tabs stay."""
    return _INVISIBLE.sub("", str(text))


def visible(text: object) -> str:
    """:func:`drop_invisible`, on one line: line breaks become a space (none at the start). Nothing else changes."""
    return _LINE_BREAK.sub(" ", drop_invisible(text)).lstrip(" \t")


def escape_markdown(text: object) -> str:
    """``text`` shown literally where Streamlit renders Markdown: no Markdown, LaTeX, HTML, link,
    autolink, icon, emoji or colour, on one line, without bidi or zero-width controls."""
    text = visible(text)
    text = _AUTOLINK_WWW.sub(r"\1" + DOT_LEADER, text).replace("@", FULLWIDTH_AT)
    text = _DIRECTIVE_COLON.sub(RATIO, text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def clean_label(text: object) -> str:
    """A legend label safe to show anywhere: no markup, no control or format characters, bounded length."""
    return _LABEL_DROP.sub("", visible(text)).strip()[: limits.MAX_LABEL_CHARS].strip()


def capped(messages: Sequence[str], limit: int = limits.MAX_NOTICES) -> list[str]:
    """At most ``limit`` messages, then one line saying how many more there were (all of them when only
    one would be left out: a line about one more message is no shorter than the message)."""
    messages = list(messages)
    if len(messages) <= limit + 1:
        return messages
    return messages[:limit] + [f"… and {len(messages) - limit} more."]
