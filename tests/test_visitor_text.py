"""Visitor text is shown literally: ui/state/text.py's escaping, label cleaning and notice cap.

Streamlit renders Markdown with remark (GFM, math) and its own directives; its renderer runs in the
browser, so these tests check the escaped string's structure instead: what remark's inline parser
would make of it (every character that could open markup is backslash-escaped), and what is left for
the plugins that act on the text after the escapes are resolved (GFM autolink literals, Streamlit's
``:red[…]``/``:material/…:``/``:emoji:`` directives). tests/browser/test_hostile_text_browser.py checks
the same in Chromium on the running app.
"""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui import limits
from ui.state.query import shown
from ui.state.text import (
    DOT_LEADER,
    FULLWIDTH_AT,
    RATIO,
    capped,
    clean_label,
    drop_invisible,
    escape_markdown,
    visible,
)

# what opens Markdown, math or HTML when it is not escaped (CommonMark inlines and blocks, GFM tables and
# strikethrough, remark-math's $, entities)
OPENERS = set("\\`*_{}[]()<>#+-.!|$~&")
# mdast-util-gfm-autolink-literal's patterns (what remark-gfm links in text after escapes are resolved)
AUTOLINK = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)
AUTOLINK_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")
# Streamlit's directives (:red[…], :material/home:, :smile:) and URL schemes start with a colon before a non-space
DIRECTIVE = re.compile(r":\S")
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
HOSTILE = [
    "![](http://127.0.0.1:9/x.png)",
    "[Sign in again](//ev.il/a)",
    "$\\rule{999em}{999em}$",
    "www.evil.com/x",
    "WWW.EVIL.COM",
    "(www.evil.com)",
    "http://127.0.0.1:9/x.png",
    "HTTPS://EV.IL",
    "evil@ev.il",
    "mailto:a@b.co",
    ":red[colored] :material/home: :smile: x:blue-background[y]",
    "<img src=x onerror=alert(1)>",
    "<http://ev.il>",
    "&lt;b&gt; &#x5b;x&#x5d;(//ev.il)",
    "[x]\n\n[x]: http://ev.il",
    "    code\n# heading\n> quote\n- item\n1. item\na\n===",
    "**bold** _it_ ~~gone~~ `code` | a | b |",
    "\u202eevil\u202c \u2066x\u2069 z\u200bw\u200d\ufeff",
    "\\$x\\$ \\[y\\](//ev.il)",
]


def rendered(escaped: str) -> tuple[str, list[str]]:
    """The text remark's inline parser leaves of ``escaped`` (backslash escapes resolved), and what in
    ``escaped`` could still open markup: an unescaped opener or a line break."""
    out, problems, i = [], [], 0
    while i < len(escaped):
        char = escaped[i]
        if char == "\\" and i + 1 < len(escaped) and escaped[i + 1] in string.punctuation:
            out.append(escaped[i + 1])
            i += 2
            continue
        if char in OPENERS:
            problems.append(f"unescaped {char!r} at {i}")
        if char in LINE_BREAKS:
            problems.append(f"line break at {i}")
        out.append(char)
        i += 1
    return "".join(out), problems


def markup_in(escaped: str) -> list[str]:
    """Why ``escaped`` would not render as plain text in Streamlit (empty: it would)."""
    text, problems = rendered(escaped)
    for name, pattern in (("autolink", AUTOLINK), ("email autolink", AUTOLINK_EMAIL), ("directive", DIRECTIVE)):
        problems += [f"{name} {match.group(0)!r}" for match in pattern.finditer(text)]
    problems += [
        f"format or control character U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) in ("Cf", "Cc") and c != "\t"
    ]
    if text[:1] in (" ", "\t"):  # CommonMark indents with these only
        problems.append("leading blank (an indented code block)")
    return problems


def _as_typed(text: str) -> str:
    """The look-alikes mapped back to what the visitor typed."""
    return text.replace(RATIO, ":").replace(DOT_LEADER, ".").replace(FULLWIDTH_AT, "@")


# -- escape_markdown -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", HOSTILE, ids=[ascii(t)[:40] for t in HOSTILE])
def test_hostile_text_escapes_to_plain_text(text):
    escaped = escape_markdown(text)
    assert markup_in(escaped) == [], escaped
    assert _as_typed(rendered(escaped)[0]) == _as_typed(visible(text))


def test_autolinks_are_broken_by_look_alikes_that_read_the_same():
    assert rendered(escape_markdown("www.evil.com/x"))[0] == f"www{DOT_LEADER}evil.com/x"
    assert rendered(escape_markdown("http://127.0.0.1:9/x.png"))[0] == f"http{RATIO}//127.0.0.1{RATIO}9/x.png"
    assert rendered(escape_markdown("evil@ev.il"))[0] == f"evil{FULLWIDTH_AT}ev.il"
    assert escape_markdown("noise: 0.5 (a note: ok)") == r"noise: 0\.5 \(a note: ok\)"  # a colon before a space stays


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80) | st.text(alphabet="wW.:/@htps[]()!$<>\\`*_~&#|-+ \n:abc", max_size=60))
def test_any_text_escapes_to_plain_text_that_reads_the_same(text):
    escaped = escape_markdown(text)
    assert markup_in(escaped) == [], escaped
    assert _as_typed(rendered(escaped)[0]) == _as_typed(visible(text))


def test_every_format_character_is_dropped():
    """Bidi overrides and isolates, zero-width spaces and joiners, the BOM, tags: all of Unicode's Cf."""
    kept = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cf", "Cc") and chr(code) not in LINE_BREAKS + "\t"
        if drop_invisible(chr(code)) != ""
    ]
    assert kept == []
    assert drop_invisible("a\tb\nc") == "a\tb\nc"


def test_line_breaks_become_one_space_and_no_line_starts_markup():
    assert visible("  a \n\n  b\r\nc\u2028d") == "a b c d"
    assert escape_markdown("\n    code") == "code"


# -- labels and quoted values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u200b", "\u200d", "\u2066", "\u2069", "\ufeff", "\u2060"])
def test_labels_and_quoted_values_drop_bidi_and_zero_width_controls(control):
    assert clean_label(f"Ad{control}am") == "Adam"
    assert shown(f"1{control}e5") == "1e5"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_a_label_is_plain_bounded_text(text):
    label = clean_label(text)
    assert len(label) <= limits.MAX_LABEL_CHARS
    assert not set(label) & set("<>&\"'`\\$")
    assert not any(unicodedata.category(c) in ("Cf", "Cc") for c in label)


# -- the notice cap ------------------------------------------------------------------------------------------------
def test_notices_are_capped_with_one_line_for_the_rest():
    many = [f"notice {i}" for i in range(200)]
    shown_notices = capped(many)
    assert shown_notices[: limits.MAX_NOTICES] == many[: limits.MAX_NOTICES]
    assert shown_notices[limits.MAX_NOTICES :] == [f"… and {200 - limits.MAX_NOTICES} more."]
    # one more than the cap is shown whole: a line about one more notice saves nothing
    assert capped(many[: limits.MAX_NOTICES + 1]) == many[: limits.MAX_NOTICES + 1]
    assert capped(many[:3]) == many[:3] and capped([]) == []
