"""One session keeps at most one uploaded file on the server (issue 17: 40 direct uploads of 4.9 MB to
Streamlit's upload endpoint in one session all stayed, +200 MB after the tab closed).

A real tab uploads a CSV through the page's file input; its request gives the session id and the XSRF
header the endpoint wants. The test then posts more files straight to
``PUT /_stcore/upload_file/<session_id>/<file_id>``, as an attacker would, and reads how many bytes the
server's uploaded-file manager holds from Streamlit's own metrics (``/_stcore/metrics``). Finally the
page, given a newer file through its widget, trains on that one.
"""

from __future__ import annotations

import re
import time
import urllib.request
import uuid

import pytest

from tests.browser.test_regression_browser import LOAD_TIMEOUT_MS, open_page

pytestmark = pytest.mark.browser

FILE_BYTES = 400_000  # one direct upload; five of them would be 2 MB held
UPLOADS = 5
# Streamlit caches the cache_memory_bytes metric family for 5 s
METRICS_WAIT_S = 30.0
_UPLOADED = re.compile(r'^cache_memory_bytes\{cache_type="UploadedFileManager"[^}]*\}\s+([0-9.e+]+)', re.M)


def held_upload_bytes(app_url: str) -> int:
    with urllib.request.urlopen(f"{app_url}/_stcore/metrics?families=cache_memory_bytes", timeout=10) as response:
        text = response.read().decode()
    return int(sum(float(m) for m in _UPLOADED.findall(text)))


def wait_for_held_bytes(app_url: str, predicate) -> int:
    """The manager's bytes once ``predicate`` holds for them (the metric refreshes every 5 s)."""
    deadline = time.monotonic() + METRICS_WAIT_S
    held = held_upload_bytes(app_url)
    while not predicate(held) and time.monotonic() < deadline:
        time.sleep(1.0)
        held = held_upload_bytes(app_url)
    return held


def csv(rows: int, slope: int) -> bytes:
    return ("size,price\n" + "".join(f"{x},{slope * x - 1}\n" for x in range(rows))).encode()


def test_one_session_keeps_one_upload_and_the_page_uses_the_newest(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url)
    page.locator(".st-key-rg_src").get_by_text("upload a CSV").click()
    first = csv(30, 3)
    with page.expect_request(lambda r: r.method == "PUT" and "/_stcore/upload_file/" in r.url) as sent:
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            files=[{"name": "first.csv", "mimeType": "text/csv", "buffer": first}]
        )
    expect(page.get_by_text("30 rows").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    session_id = sent.value.url.rstrip("/").split("/")[-2]
    xsrf = {k: v for k, v in sent.value.all_headers().items() if k.lower() == "x-xsrftoken"}

    # the attacker's part: more files, straight to the endpoint, with the same session and cookie
    junk = b"x" * FILE_BYTES
    for _ in range(UPLOADS):
        answer = page.request.put(
            f"{app_url}/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
            multipart={"file": {"name": "junk.csv", "mimeType": "text/csv", "buffer": junk}},
            headers=xsrf,
        )
        assert answer.status == 204, (answer.status, answer.text())
    held = wait_for_held_bytes(app_url, lambda b: b <= FILE_BYTES)
    assert held <= FILE_BYTES, f"the server holds {held:,} bytes of uploads after {UPLOADS} of {FILE_BYTES:,}"

    # the page, given a newer file through its widget, trains on it (not on a dropped one)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "second.csv", "mimeType": "text/csv", "buffer": csv(45, 5)}]
    )
    expect(page.get_by_text("45 rows").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.locator(".st-key-rg_fit .xtitle")).to_have_text("size", timeout=LOAD_TIMEOUT_MS)
    held = wait_for_held_bytes(app_url, lambda b: b <= len(csv(45, 5)))
    assert held <= len(csv(45, 5))


def test_a_closed_tabs_uploads_are_dropped(browser, app_url):
    """A session that is gone keeps none: its file is dropped at the next page run of any session."""
    from tests.browser.conftest import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    open_page(tab, app_url)
    tab.locator(".st-key-rg_src").get_by_text("upload a CSV").click()
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "gone.csv", "mimeType": "text/csv", "buffer": csv(20_000, 7)}]  # ~200 kB
    )
    from playwright.sync_api import expect

    expect(tab.get_by_text("20,000 rows").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    assert wait_for_held_bytes(app_url, lambda b: b >= 100_000) >= 100_000
    context.close()
    other = browser.new_context(viewport=VIEWPORT)
    visitor = other.new_page()
    open_page(visitor, app_url)  # another session's runs sweep the departed one's files
    held = wait_for_held_bytes(app_url, lambda b: b < 100_000)
    other.close()
    assert held < 100_000, f"{held:,} bytes of a closed tab's upload are still held"
