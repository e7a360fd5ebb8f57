"""Faults in a real browser: the server restarts mid-session, a hostile link arrives, many visitors come at once.

The restart test runs its own server (the shared one of conftest.py must stay up for the other tests): it
loads a scenario from a link, stops the server, starts a new one on the same port and checks that the
open tab reconnects and that the link gives the same picture and the same widgets on the new server.
Nothing the visitor set is lost: the address bar holds the whole scenario. (A tab left open across the
restart reconnects without rerunning; its next interaction starts a new session, which reads the
scenario from the address bar, so that one interaction is undone and the rest is kept.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.app_server import CHART_SIGNATURE_JS, SCRIPT_DONE_JS, AppServer

pytestmark = pytest.mark.browser
RACE = ".st-key-pg_race"

ROOT = Path(__file__).resolve().parents[2]
LOAD_MS = 120_000
START_S = 120.0
# a scenario far from the default: a typed formula, a start, three optimizers with changed settings
SCENARIO = {
    "v": "1",
    "f": "x^2 + 3*y^2 + sin(3*x)",
    "x0": "2.5,-1.5",
    "steps": "60",
    "o1": "SGD",
    "o1.lr": "0.05",
    "o1.momentum": "0.8",
    "o2": "Adam",
    "o2.lr": "0.2",
    "o3": "RMSprop",
    "o3.lr": "0.03",
    "o3.label": "rms",
}


@pytest.fixture
def own_server(browser, tmp_path):
    server = AppServer(tmp_path / "server.log")
    server.start(timeout_s=START_S)
    yield server
    server.stop()


def in_settings(page, box: str, act):
    """``act()`` with the sidebar popover ``pg_box_<box>`` open (its widgets are drawn only then); closed after."""
    page.locator(f".st-key-pg_box_{box} button").first.click()
    try:
        return act()
    finally:
        page.keyboard.press("Escape")
        page.locator("[data-testid='stPopoverBody']").first.wait_for(state="hidden")


def press_lr_up(page) -> None:
    """One keyboard step up of racer 1's (SGD's) learning-rate slider, in its settings popover."""

    def press() -> None:
        slider = page.locator(".st-key-pg_o0_SGD_lr input[type='range']").first
        slider.focus()
        slider.press("ArrowRight")

    in_settings(page, "o0", press)


def _shown(page) -> dict:
    """What the visitor sees of the scenario: the chart, the widgets that hold it and the share link."""
    from playwright.sync_api import expect

    chart = page.locator(".st-key-pg_race .main-svg").first
    expect(chart).to_be_visible(timeout=LOAD_MS)
    page.wait_for_function(f"sel => ({CHART_SIGNATURE_JS})(sel) !== null", arg=RACE, timeout=LOAD_MS)
    # the chart is sent before the sidebar: wait for the rerun to finish before reading the widgets
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=LOAD_MS)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=LOAD_MS)
    expect(page.locator(".st-key-pg_formula input")).not_to_have_value("", timeout=LOAD_MS)
    # the status widget shows only for runs that last, and a first visit's sidebar comes in a second run: wait
    # until that run is over too. A number input's first render shows its default (the minimum, -10000) until
    # an effect applies the session's value: read the widgets once two reads agree
    page.wait_for_function(SCRIPT_DONE_JS, timeout=LOAD_MS)
    starts = [page.locator(f".st-key-pg_x0_{i} input") for i in range(2)]
    x0 = [box.input_value() for box in starts]
    for _ in range(50):
        page.wait_for_timeout(100)
        again = [box.input_value() for box in starts]
        if again == x0:
            break
        x0 = again

    def slider(key: str) -> str | None:
        return page.locator(f".st-key-{key} input[type='range']").first.get_attribute("aria-valuetext")

    def racer(slot: int, read):  # each racer's settings sit in a popover: opened, read, closed
        return in_settings(page, f"o{slot}", read)

    return {
        "chart": page.evaluate(CHART_SIGNATURE_JS, RACE),
        "formula": page.locator(".st-key-pg_formula input").input_value(),
        "x0": x0,
        "steps": slider("pg_steps"),
        "lr": [
            racer(0, lambda: slider("pg_o0_SGD_lr")),
            racer(1, lambda: slider("pg_o1_Adam_lr")),
            racer(2, lambda: slider("pg_o2_RMSprop_lr")),
        ],
        "momentum": racer(0, lambda: slider("pg_o0_SGD_momentum")),
        "label": racer(2, lambda: page.locator(".st-key-pg_o2_label input").input_value()),
        # the address bar holds the whole scenario (the page's share box shows the same); read in the page:
        # Playwright's page.url can lag behind the history updates Streamlit makes as it reruns
        "link": page.evaluate("() => location.href"),
    }


def test_a_server_restart_loses_nothing(browser, own_server):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    url = f"{own_server.url}/?{urlencode(SCENARIO)}"
    try:
        page.goto(url)
        before = _shown(page)
        assert before["formula"] == SCENARIO["f"] and before["steps"] == "60" and before["label"] == "rms"
        assert before["lr"] == ["0.05", "0.2", "0.03"] and before["momentum"] == "0.8"

        own_server.stop()
        # the open tab notices (Streamlit's status says it is connecting again) and keeps what it shows
        expect(page.locator('[data-testid="stStatusWidget"]')).to_be_visible(timeout=LOAD_MS)
        assert page.locator(".st-key-pg_race .main-svg").first.is_visible()
        own_server.start()  # a new process on the same port: no session of the old one survives
        expect(page.locator('[data-testid="stStatusWidget"]')).to_be_hidden(timeout=LOAD_MS)  # reconnected

        # the link, opened again on the new server, gives the same picture and the same widgets
        page.goto(url)
        assert _shown(page) == before
        # the new session is live: a change reruns it and moves the address bar along
        press_lr_up(page)
        page.wait_for_function(
            f"before => ({CHART_SIGNATURE_JS})({RACE!r}) !== before", arg=before["chart"], timeout=LOAD_MS
        )
        expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=LOAD_MS)
        after = _shown(page)
        assert after["lr"][0] != before["lr"][0] and after["link"] != before["link"]
        assert page.locator('[data-testid="stException"]').count() == 0
        # and that link in a fresh browser (no cookies, no cache) draws the changed scenario
        other = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            fresh = other.new_page()
            fresh.goto(after["link"])
            assert _shown(fresh) == after
        finally:
            other.close()
    finally:
        context.close()
    assert page_errors == []
    assert "Traceback" not in own_server.log()


def test_a_hostile_link_runs_no_script_and_shows_notices(page, app_url):
    """Markup in a label, a formula and unknown keys: shown as text (or dropped), never run; the page works.
    The ``page`` fixture fails the test on any console error."""
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    query = {
        "o1": "SGD",
        "o1.lr": "0.1",
        "o1.label": "<img src=x onerror=alert(1)>",
        "o2": "Adam",
        "o2.label": "[click](javascript:alert(2))",
        "steps": "1e999",
        "<script>alert(3)</script>": "1",
        "s": "<svg onload=alert(4)>",
    }
    page.goto(f"{app_url}/?{urlencode(query)}")
    expect(page.locator(".st-key-pg_race .main-svg").first).to_be_visible(timeout=LOAD_MS)
    expect(page.locator('[data-testid="stAlertContentWarning"]').first).to_be_visible(timeout=LOAD_MS)
    warnings = " ".join(page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts())
    assert "Steps" in warnings and "Unknown surface" in warnings
    assert page.locator('a[href^="javascript"]').count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
    assert page.locator('[data-testid="stException"]').count() == 0


def _load(tmp_path, *options: str) -> dict:
    """Run benchmarks/load.py with ``options``; its JSON report."""
    out = tmp_path / "load.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "load.py"), *options, "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    result["stdout"] = done.stdout
    return result


@pytest.mark.slow
def test_five_visitors_in_browsers_without_an_error(tmp_path, browser, capsys):
    """benchmarks/load.py, shortened: 5 browser sessions through the whole sequence (open, preset, lr, shared
    link, Schedules, Landscape Lab, back): no console error, no stException, nothing in the server log, and
    every action done by every visitor. Times are printed; they are asserted only when GDVIZ_LOAD_TEST_P95_S
    is set, since the browsers share this machine's cores with the server and with whatever else runs."""
    result = _load(tmp_path, "--client", "browser", "--sessions", "5", "--reruns", "0", "--ramp-s", "3")
    with capsys.disabled():
        print(result["stdout"])
        if not os.environ.get("GDVIZ_LOAD_TEST_P95_S"):
            print("[load] the p95 above is reported, not enforced by this test: GDVIZ_LOAD_TEST_P95_S=<s> enforces it")
    problems = result["errors"] + result["server_log_problems"]
    assert problems == [], "\n".join(problems)  # in full: pytest's diff cuts a long line to its ends
    actions = [a for a in result["timings"] if not a.startswith("memory")]
    assert len(actions) == 7 and all(result["timings"][a]["n"] == 5 for a in actions)
    if os.environ.get("GDVIZ_LOAD_TEST_P95_S"):
        assert result["all_actions"]["p95"] <= float(os.environ["GDVIZ_LOAD_TEST_P95_S"])


@pytest.mark.slow
def test_server_memory_over_100_reruns_with_new_inputs(tmp_path, capsys):
    """The real server, 100 reruns (5 websocket sessions × 20, each rerun a new start point, so a new simulation
    and a new figure every time): its RSS grows by less than 100 MB, and nothing goes wrong."""
    result = _load(tmp_path, "--client", "ws", "--sessions", "0", "--reruns", "100", "--memory-sessions", "5")
    with capsys.disabled():
        print(result["stdout"])
    assert result["errors"] == [] and result["server_log_problems"] == []
    assert result["memory"]["reruns"] == 100
    assert result["memory"]["growth_mb"] < 100, result["memory"]
