"""Hostile links in Chromium: what a visitor's link puts in a page's notices renders as plain text.

The issue's findings, each on the running app: ``/schedules?noise=![](http://127.0.0.1:9/x.png)`` made the
browser fetch an image, ``s=[Sign in again](//ev.il/a)`` showed a live link, ``s=$\\rule{999em}{999em}$``
covered the page, one link produced 198 warning boxes, and on the Playground ``noise=www.evil.com/x``
rendered an autolink. Streamlit's renderer is the judge here (tests/test_visitor_text.py checks the
escaped strings' structure without it).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

import pytest

from ui import limits

pytestmark = pytest.mark.browser
LOAD_MS = 120_000
NOTICE = '[data-testid="stAlert"]'
NOTICE_TEXT = f'{NOTICE} [data-testid="stMarkdownContainer"]'
# what visitor text must not become inside a notice: a link, an image, math (KaTeX), raw HTML, Streamlit's
# coloured text, a Material icon, an emoji image
MARKUP = (
    "a, img, .katex, b, strong, em, code, h1, h2, h3, ul, ol, blockquote, table, .stMarkdownColoredText, [role=img]"
)

HOSTILE_SCHEDULES = {
    "noise": "![](http://127.0.0.1:9/x.png)",
    "s": "[Sign in again](//ev.il/a)",
    "lr": "$\\rule{999em}{999em}$",
    "steps": "www.evil.com/x",
    "seeds": ":red[x]:material/home:",
    "seed": "<img src=//ev.il/y.png>",
    "n": "evil@ev.il",
}


@pytest.fixture
def tab(open_tab):
    """A fresh tab; console errors fail the test, except the 404s of Streamlit's own base-path probe: a deep
    link (/schedules?…) makes its frontend try /schedules/_stcore/health and host-config first."""
    context, page, errors = open_tab()
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    yield page
    context.close()
    probes = [url for url in missing if urlparse(url).path.endswith(("/_stcore/health", "/_stcore/host-config"))]
    assert missing == probes, missing
    not_found = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert [e for e in errors if not_found not in e] == [] and len(errors) <= len(probes), errors


def _open(page, url: str, requests: list[str]):
    from playwright.sync_api import expect

    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    notices = page.locator(NOTICE_TEXT)
    expect(notices.first).to_be_visible(timeout=LOAD_MS)
    return notices


def _assert_plain(page, requests: list[str]) -> None:
    from playwright.sync_api import expect

    expect(page.locator(NOTICE_TEXT).locator(MARKUP)).to_have_count(0)
    here = urlparse(page.url).netloc
    assert [url for url in requests if urlparse(url).netloc != here] == []  # no image, no link prefetch


def test_hostile_schedules_link_renders_as_plain_text(tab, app_url):
    from playwright.sync_api import expect

    requests: list[str] = []
    notices = _open(tab, f"{app_url}/schedules?{urlencode(HOSTILE_SCHEDULES)}", requests)
    expect(notices.filter(has_text="Gradient noise")).to_have_count(1)
    expect(notices.filter(has_text="Unknown surface")).to_have_count(1)
    text = "\n".join(notices.all_inner_texts())
    assert "[Sign in again](//ev.il/a)" in text  # quoted as typed
    assert "\\rule{999em}{999em}" in text
    assert "www\u2024evil.com/x" in text  # one dot reads the same and starts no link
    _assert_plain(tab, requests)
    # the \rule did not become a 999em box over the page
    assert tab.evaluate("document.documentElement.scrollWidth") < 5_000


def test_one_link_shows_at_most_the_capped_notices(tab, app_url):
    from playwright.sync_api import expect

    query = {"sc1": "StepLR"} | {f"sc1.p{i}": "1" for i in range(198)}
    requests: list[str] = []
    _open(tab, f"{app_url}/schedules?{urlencode(query)}", requests)
    expect(tab.get_by_text(f"… and {198 - limits.MAX_NOTICES} more.")).to_be_visible(timeout=LOAD_MS)
    expect(tab.locator(NOTICE)).to_have_count(limits.MAX_NOTICES + 1)


def test_playground_autolink_renders_as_plain_text(tab, app_url):
    from playwright.sync_api import expect

    requests: list[str] = []
    notices = _open(tab, f"{app_url}/?{urlencode({'noise': 'www.evil.com/x', 'seed': 'http://ev.il/a'})}", requests)
    expect(notices.filter(has_text="evil.com/x")).to_have_count(1)
    _assert_plain(tab, requests)
