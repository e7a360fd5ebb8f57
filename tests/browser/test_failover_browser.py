"""Failover: two app processes behind nginx (deploy/nginx.conf); the one serving an open page is killed.

The page notices (Streamlit's status says it is connecting again), reconnects through the proxy to the other
replica within seconds and keeps showing the same scenario, which the address bar holds. The new replica's
session takes the values the browser's widgets show (ui/state/fields.load), so the first change after the
failover counts like any other: the chart redraws and the link follows, and so on with the next one.
No exception in the page, no console error, no traceback in either server's log.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.app_server import CHART_SIGNATURE_JS, Replicas
from tests.browser.test_faults_browser import LOAD_MS, RACE, SCENARIO, START_S, _shown, press_lr_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COOKIE = "gdviz_replica"
RECONNECT_S = 30  # Streamlit's frontend retries with a back-off; it reconnected within 1-3 s here


@pytest.fixture
def cluster(browser, tmp_path, nginx_binary):
    replicas = Replicas(tmp_path, count=2)
    replicas.start(timeout_s=START_S)
    yield replicas
    replicas.stop()


def _serving(cluster: Replicas, visitor: str) -> set[int]:
    return {cluster.replica_of(upstream) for upstream in cluster.visitors_on_replicas().get(visitor, set())}


def _press_lr_up(page) -> None:
    press_lr_up(page)


def test_a_killed_replica_s_visitors_reconnect_to_the_other_and_keep_their_scenario(browser, cluster):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    # the killed process's requests fail while the page reconnects: those are expected, anything else is not
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    try:
        page.goto(f"{cluster.url}/?{urlencode(SCENARIO)}")
        before = _shown(page)
        assert before["lr"] == ["0.05", "0.2", "0.03"] and before["label"] == "rms"
        visitor = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
        serving = _serving(cluster, visitor)
        assert len(serving) == 1  # every request of this page so far went to one replica
        (dead,) = serving

        cluster.kill(dead)
        started = time.monotonic()
        status = page.get_by_test_id("stStatusWidget")
        expect(status).to_be_visible(timeout=RECONNECT_S * 1000)
        expect(status).to_be_hidden(timeout=RECONNECT_S * 1000)  # reconnected, through the proxy
        reconnect_s = time.monotonic() - started
        assert _shown(page) | {"link": before["link"]} == before  # the picture and the widgets stayed

        # the first change reaches the new replica's new session, which keeps what the browser's widgets show
        _press_lr_up(page)
        page.wait_for_function(
            f"before => ({CHART_SIGNATURE_JS})({RACE!r}) !== before", arg=before["chart"], timeout=LOAD_MS
        )
        expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=LOAD_MS)
        page.wait_for_function("() => location.search.includes('o1.lr=0.06')", timeout=LOAD_MS)
        first = _shown(page)
        assert first["lr"] == ["0.06", "0.2", "0.03"] and "o1.lr=0.06" in first["link"]
        assert _serving(cluster, visitor) == {0, 1}  # the page's requests now go to the living replica

        # and the next change too
        _press_lr_up(page)
        page.wait_for_function(
            f"before => ({CHART_SIGNATURE_JS})({RACE!r}) !== before", arg=first["chart"], timeout=LOAD_MS
        )
        page.wait_for_function("() => location.search.includes('o1.lr=0.07')", timeout=LOAD_MS)
        after = _shown(page)
        assert after["lr"] == ["0.07", "0.2", "0.03"] and "o1.lr=0.07" in after["link"]
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
    print(f"\n[failover] reconnected {reconnect_s:.1f} s after its replica was killed")
    assert errors == []
    assert "Traceback" not in cluster.log()
