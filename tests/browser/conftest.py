"""Browser harness: a real Streamlit server, a real Chromium driven by Playwright, no console errors.

Environment:
    GDVIZ_CHROMIUM  path to the Chromium binary (default: ``chromium`` / ``chromium-browser`` on PATH).
    CI              when true, a missing Chromium or Playwright fails the run instead of skipping it.
    GDVIZ_APP       the Streamlit script to serve, relative to the repository root (default ``app.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.app_server import CHROMIUM_ARGS, PLOTLY_CHART, ROOT, AppServer, chromium_path

SERVER_START_TIMEOUT_S = 90.0
VIEWPORT = {"width": 1400, "height": 1000}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing(reason: str):
    """Skip on a developer's machine without a browser; under CI a missing browser is a failure."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    path = chromium_path()
    if path is None or not Path(path).exists():
        _missing(f"no Chromium found (GDVIZ_CHROMIUM={os.environ.get('GDVIZ_CHROMIUM')!r}, nothing on PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_url(browser, tmp_path_factory):
    """``streamlit run`` on a free port of 127.0.0.1; yields the base URL once /_stcore/health says ok."""
    script = os.environ.get("GDVIZ_APP", "app.py")
    if not (ROOT / script).exists() and not Path(script).is_absolute():
        pytest.fail(f"{ROOT / script} does not exist")
    server = AppServer(tmp_path_factory.mktemp("streamlit") / "server.log", script=script)
    try:
        server.start(timeout_s=SERVER_START_TIMEOUT_S)
    except RuntimeError as problem:
        pytest.fail(str(problem))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def cold_start_s(browser, app_url) -> float:
    """Load the app once so that the measured loads see a warm server (imports done, caches filled),
    as a visitor to a running demo does; returns how long that very first chart took."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(app_url)
    page.locator(f"{PLOTLY_CHART} .main-svg").first.wait_for(state="visible", timeout=120_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def _watched_tab(browser):
    """A fresh browser context (empty cache) and page, and the list its console and page errors go to."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console",
        lambda message: errors.append(f"console.{message.type}: {message.text}") if message.type == "error" else None,
    )
    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    return context, tab, errors


@pytest.fixture(scope="session")
def open_tab(browser):
    """For a module that shares one tab between its tests (page loads are slow on 2 cores):
    ``context, tab, errors = open_tab()``; the caller closes the context and checks ``errors``."""
    return lambda: _watched_tab(browser)


@pytest.fixture
def page(browser, app_url):
    """A fresh browser context (empty cache) and page; any console error or page error fails the test."""
    context, tab, errors = _watched_tab(browser)
    yield tab
    context.close()
    if errors:
        pytest.fail("errors in the browser console:\n" + "\n".join(errors))
