"""Browser harness: a real Streamlit server, a real Chromium driven by Playwright, no console errors.

Environment:
    GDVIZ_CHROMIUM  path to the Chromium binary (default: ``chromium`` / ``chromium-browser`` on PATH).
    CI              when true, a missing Chromium or Playwright fails the run instead of skipping it.
    GDVIZ_APP       the Streamlit script to serve, relative to the repository root (default ``app.py``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90.0
VIEWPORT = {"width": 1400, "height": 1000}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium_path() -> str | None:
    explicit = os.environ.get("GDVIZ_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing(reason: str):
    """Skip on a developer's machine without a browser; under CI a missing browser is a failure."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


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
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            try:
                server.wait(timeout=0.25)  # doubles as the pause between health checks
            except subprocess.TimeoutExpired:
                pass
            else:
                pytest.fail(f"streamlit exited with code {server.returncode}:\n{log_path.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT_S:.0f} s:\n"
                    f"{log_path.read_text()[-4000:]}"
                )
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def cold_start_s(browser, app_url) -> float:
    """Load the app once so that the measured loads see a warm server (imports done, caches filled),
    as a visitor to a running demo does; returns how long that very first chart took."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(app_url)
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(state="visible", timeout=120_000)
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
