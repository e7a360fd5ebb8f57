"""Every page echoes visitor text (link values, uploaded file and column names) as plain text, and one
link cannot fill a page with notices (AppTest). What plain text means is tests/test_visitor_text.py's
``markup_in``; the same links in Chromium are tests/browser/test_hostile_text_browser.py.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.apptest import ok, open_app, open_page
from tests.test_visitor_text import HOSTILE, markup_in, rendered
from tests.torch_reference import SKIP_REASON
from ui import limits
from ui.lab import schedules, views

# the findings, one link value each, plus the autolink and directive forms
HOSTILE_VALUES = {
    "image": "![](http://127.0.0.1:9/x.png)",
    "link": "[Sign in again](//ev.il/a)",
    "math": "$\\rule{999em}{999em}$",
    "autolink": "www.evil.com/x",
    "directive": ":red[x]:material/home:",
    "html": "<img src=x onerror=alert(1)>",
    "bidi": "\u202e1e5\u200b",
}
# one page per link: where each field quotes its value in a notice
LINKS = {
    "pages/schedules.py": {"noise": "image", "s": "link", "lr": "math", "steps": "autolink", "seeds": "directive"},
    "pages/landscape.py": {"view": "link", "st.n": "image", "st.steps": "math", "st.xlo": "autolink"},
    "pages/regression.py": {"n": "image", "opt": "link", "epochs": "math", "d": "autolink", "seed": "html"},
}


# what only the visitor's text holds: an alert that contains one of these quotes the visitor
MARKERS = ("ev.il", "evil", "\\rule", "127.0.0.1", "onerror", "material", "smile", "1e5")


def _alerts(at) -> list[str]:
    """The warnings, errors and infos that quote the visitor (the page's own may use Markdown)."""
    values = [str(element.value) for element in [*at.warning, *at.error, *at.info]]
    return [value for value in values if any(marker in rendered(value)[0] for marker in MARKERS)]


def _assert_plain(values: list[str]) -> None:
    problems = {value: markup_in(value) for value in values}
    assert {value: found for value, found in problems.items() if found} == {}


@pytest.mark.parametrize("page", LINKS)
def test_link_notices_show_hostile_values_as_plain_text(page):
    if page == "pages/regression.py":
        pytest.importorskip("torch", reason=SKIP_REASON)
    at = open_page(page, {key: HOSTILE_VALUES[kind] for key, kind in LINKS[page].items()})
    ok(at)
    notices = [str(w.value) for w in at.warning]
    assert len(notices) >= len(LINKS[page]) - 1, notices  # each bad value is named (view may fall back silently)
    _assert_plain(_alerts(at))
    assert any("www\u2024evil.com" in rendered(n)[0] for n in notices), notices  # quoted, readable, not a link


_PAGE_FIELDS = {"pages/schedules.py": schedules.FIELDS, "pages/landscape.py": views.FIELDS}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_PAGE_FIELDS)), st.data())
def test_any_hostile_value_in_any_field_is_quoted_as_plain_text(page, data):
    """The page itself, not only its link reader: any field, hostile text, every notice plain."""
    keys = data.draw(st.lists(st.sampled_from([f.key for f in _PAGE_FIELDS[page]]), min_size=1, max_size=4))
    text = st.sampled_from(HOSTILE) | st.text(alphabet="wW.:/@htps[]()!$<>\\`*_~&#|-+ \n\u202e\u200b", max_size=30)
    at = open_page(page, {key: data.draw(text) for key in keys})
    ok(at)
    _assert_plain([str(w.value) for w in at.warning])
    assert len(at.warning) <= limits.MAX_NOTICES + 1


def test_playground_notices_show_hostile_values_as_plain_text():
    at = open_app({"noise": "www.evil.com/x", "steps": "http://ev.il", "seed": "a@ev.il", "s": ":smile:", "o1": "SGD"})
    ok(at)
    notices = [str(w.value) for w in at.warning]
    assert len(notices) >= 4, notices
    _assert_plain(_alerts(at))


@pytest.mark.parametrize(
    "page, query",
    [
        # 198 unknown parameters of one schedule: one notice each before the cap
        ("pages/schedules.py", {"sc1": "StepLR"} | {f"sc1.p{i}": "1" for i in range(198)}),
        ("pages/landscape.py", {"view": "stability", "st.o": "SGD"} | {f"st.o.p{i}": "1" for i in range(150)}),
    ],
    ids=["schedules", "landscape"],
)
def test_one_link_shows_at_most_the_capped_number_of_notices(page, query):
    at = open_page(page, query)
    ok(at)
    notices = [str(w.value) for w in at.warning]
    assert len(notices) == limits.MAX_NOTICES + 1, len(notices)
    assert rendered(notices[-1])[0].startswith("… and ") and rendered(notices[-1])[0].endswith(" more.")


def test_playground_notices_are_capped():
    query = {"o1": "SGD"} | {f"o1.p{i}": "1" for i in range(60)}
    at = open_app(query)
    ok(at)
    assert len(at.warning) == limits.MAX_NOTICES + 1


# -- uploads: the file name and the column names are the visitor's ------------------------------------------------
HOSTILE_NAME = "[Sign in again](//ev.il/a) $\\rule{9em}{9em}$ www.evil.com.csv"
HOSTILE_COLUMNS = ['<a href="https://ev.il">x</a>', "$\\rule{9em}{9em}$", "[y](//ev.il)"]


def _upload(name: str, data: bytes):
    pytest.importorskip("torch", reason=SKIP_REASON)
    at = open_page("pages/regression.py")
    at.session_state["rg_upload"] = (name, data)
    return at.radio(key="rg_src").set_value("upload").run()


def test_an_upload_with_hostile_file_and_column_names_shows_them_as_plain_text():
    header = ",".join(f'"{c}"' if "," in c or '"' in c else c for c in (*HOSTILE_COLUMNS, "www.evil.com/note"))
    header = header.replace('"https://ev.il"', '""https://ev.il""')
    rows = "\n".join(f"{i},{2 * i + 1},{3 - i},text{i}" for i in range(20))
    at = _upload(HOSTILE_NAME, f"{header}\n{rows}\n".encode())
    ok(at)
    captions = [str(c.value) for c in at.caption]
    described = next(c for c in captions if "rows" in c and "columns" in c)
    file_name, rest = described.removeprefix("**").split("**: ", 1)
    _assert_plain([file_name, rest.split("(cannot be chosen): ", 1)[1], *_alerts(at)])
    assert "www\u2024evil" in rendered(described)[0]  # the non-numeric column and the file name, quoted
    titles = [
        axis.get("title", {}).get("text", "")
        for chart in at.get("plotly_chart")
        for name, axis in json.loads(chart.proto.spec)["layout"].items()
        if name.startswith(("xaxis", "yaxis"))
    ]
    assert titles and not any(set(t) & set("<>$&") for t in titles), titles  # Plotly renders <a href> and <b>


def test_an_unusable_upload_quotes_its_name_and_columns_as_plain_text():
    at = _upload(HOSTILE_NAME, b"[y](//ev.il),[y](//ev.il)\n1,2\n")  # a repeated column name: refused, quoted
    ok(at)
    errors = [str(e.value) for e in at.error]
    assert errors and "appears more than once" in rendered(errors[0])[0]
    _assert_plain([errors[0].removeprefix("**").replace("**", "", 1)])
