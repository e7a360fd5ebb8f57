"""First chart on screen: the Playground against the lightest Streamlit page with a Plotly chart, same run.

The target is a ratio, measured in the same run (issue 12's decision on issue 3's "≤ 2.5 s", which a bare
Streamlit chart alone misses on a busy 2-core machine): the Playground's first chart ≤ 1.25x the peer's.
What a visitor waits for is mostly the browser's: Streamlit's page shell, its
~4.7 MB Plotly bundle (loaded on the first chart of a page, then parsed and run), and drawing. So the
peer is a page that has nothing but one small Plotly chart, served by the same Streamlit to the same
Chromium, alternating with ours: its time is the floor for any Streamlit page that shows a chart, and
ours / peer is what this app adds on top of it.

Each load is a fresh browser context (empty cache), as for a first-time visitor, timed from
``page.goto`` until the chart's SVG is visible. Printed per page: median and best time, when the
chart's data arrived over the websocket and when the Plotly bundle had loaded (both in page time).

    python benchmarks/first_chart.py [--loads 7] [--check] [--breakdown]

``--check``: exit status 1 when the target (medians: playground ≤ 1.25x peer) is missed. ``--breakdown``: also, per page,
what the browser had to do by the time the chart showed: the elements Streamlit had drawn (in the sidebar and
in total), the JavaScript files it fetched (count and size), the main thread's long tasks, and when the Plotly
element appeared; with the names of the script chunks only one of the two pages fetched.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from tests.app_server import CHROMIUM_ARGS, AppServer, chromium_or_exit  # noqa: E402

TARGET_RATIO = 1.25
VIEWPORT = {"width": 1400, "height": 1000}
# the peer: one small animated chart (a Play button and a slider, as the race has) in a keyed container
PEER_SCRIPT = """
import plotly.graph_objects as go
import streamlit as st

st.title("Optimizer playground")
with st.container(key="pg_race"):
    play = dict(type="buttons", buttons=[dict(label="Play", method="animate", args=[None])])
    slider = dict(steps=[dict(label=str(t), method="animate", args=[[str(t)]]) for t in range(3)])
    frames = [go.Frame(name=str(t), data=[go.Scatter(x=[1, 2, 3][: t + 1], y=[1, 3, 2][: t + 1])]) for t in range(3)]
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2]), frames=frames, layout=dict(updatemenus=[play], sliders=[slider])))
"""
CHART = ".st-key-pg_race .main-svg"
# page-time marks: the largest websocket message (the chart's data) and the end of the Plotly bundle's load
WATCH = """
window.__arrivals = [];
const Native = window.WebSocket;
window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', e => window.__arrivals.push([performance.now(), e.data.byteLength || e.data.size || 0]));
    return ws;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, Native);
"""
MARKS = """() => {
    const biggest = window.__arrivals.reduce((a, b) => (b[1] > a[1] ? b : a), [NaN, 0]);
    const bundle = performance.getEntriesByType('resource').find(e => /PlotlyChart[^/]*\\.js$/.test(e.name));
    return {data_s: biggest[0] / 1000, bundle_s: bundle ? bundle.responseEnd / 1000 : NaN};
}"""
# --breakdown: the main thread's long tasks (> 50 ms) and when the Plotly element first appeared, watched from
# the first script on; read when the chart shows, with the elements drawn and the scripts fetched by then
WATCH_BREAKDOWN = """
window.__busy = 0;
new PerformanceObserver(list => list.getEntries().forEach(e => { window.__busy += e.duration; }))
    .observe({type: 'longtask', buffered: true});
window.__plot_at = NaN;
new MutationObserver((_, observer) => {
    if (document.querySelector('.js-plotly-plot')) { window.__plot_at = performance.now(); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""
BREAKDOWN = """() => {
    const scripts = performance.getEntriesByType('resource').filter(e => /\\.js(\\?|$)/.test(e.name));
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    return {
        visible_s: performance.now() / 1000,
        plot_s: window.__plot_at / 1000,
        busy_s: window.__busy / 1000,
        elements: document.querySelectorAll('[data-testid="stElementContainer"]').length,
        sidebar_elements: sidebar ? sidebar.querySelectorAll('[data-testid="stElementContainer"]').length : 0,
        scripts: scripts.map(e => e.name.split('/').pop()),
        script_kb: scripts.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0) / 1024,
    };
}"""


def load_once(browser, url: str, breakdown: bool = False) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WATCH + (WATCH_BREAKDOWN if breakdown else ""))
    page = context.new_page()
    try:
        tick = time.perf_counter()
        page.goto(url)
        page.locator(CHART).first.wait_for(state="visible", timeout=60_000)
        seconds = time.perf_counter() - tick
        return {"s": seconds, **page.evaluate(MARKS), **(page.evaluate(BREAKDOWN) if breakdown else {})}
    finally:
        context.close()


def summary(name: str, loads: list[dict]) -> float:
    times = [load["s"] for load in loads]
    median = statistics.median(times)
    data = statistics.median(load["data_s"] for load in loads)
    bundle = statistics.median(load["bundle_s"] for load in loads)
    print(
        f"{name:12s} median {median:5.2f} s   best {min(times):5.2f} s   "
        f"(page time: chart data {data:4.2f} s, Plotly bundle loaded {bundle:4.2f} s)"
    )
    return median


def breakdown(name: str, loads: list[dict]) -> None:
    """Medians of what the browser had done by the time the chart showed (page time, from navigation)."""

    def median(field: str) -> float:
        return statistics.median(load[field] for load in loads)

    print(
        f"{name:12s} elements {median('elements'):4.0f} (sidebar {median('sidebar_elements'):3.0f})   "
        f"scripts {median('script_kb') / 1024:4.1f} MB in {statistics.median(len(x['scripts']) for x in loads):3.0f} "
        f"files   long tasks {median('busy_s'):4.2f} s   plot element at {median('plot_s'):4.2f} s, "
        f"visible at {median('visible_s'):4.2f} s"
    )


def only_in(loads: list[dict], others: list[dict]) -> list[str]:
    """The script chunks every load of one page fetched and no load of the other (hashes dropped)."""
    ours = set.intersection(*({name.split(".")[0] for name in load["scripts"]} for load in loads))
    theirs = set.union(*({name.split(".")[0] for name in load["scripts"]} for load in others))
    return sorted(ours - theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7, help="measured loads per page (after one warm-up each)")
    parser.add_argument("--breakdown", action="store_true", help="also: elements, scripts and long tasks per page")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    executable = chromium_or_exit()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        peer_script = Path(tmp) / "peer.py"
        peer_script.write_text(PEER_SCRIPT)
        servers = {
            "playground": AppServer(Path(tmp) / "app.log"),
            "peer": AppServer(Path(tmp) / "peer.log", script=str(peer_script)),
        }
        try:
            for server in servers.values():
                server.start()
            results: dict[str, list[dict]] = {name: [] for name in servers}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                for server in servers.values():
                    load_once(browser, server.url)  # the server's first run: imports and caches
                for _ in range(args.loads):  # alternating, so both see the same machine
                    for name, server in servers.items():
                        results[name].append(load_once(browser, server.url, args.breakdown))
                browser.close()
        finally:
            for server in servers.values():
                server.stop()

    print(f"first chart visible after navigation, {args.loads} fresh-context loads each")
    ours = summary("playground", results["playground"])
    peer = summary("peer", results["peer"])
    print(f"playground / peer: {ours / peer:.2f}x   (the peer is one small chart and nothing else)")
    if args.breakdown:
        for name, loads in results.items():
            breakdown(name, loads)
        print("script chunks only the playground fetched:", ", ".join(only_in(results["playground"], results["peer"])))
        print("script chunks only the peer fetched:", ", ".join(only_in(results["peer"], results["playground"])) or "-")
    verdict = targets.verdict(f"first chart <= {TARGET_RATIO}x the peer", ours <= TARGET_RATIO * peer)
    print(f"target ≤ {TARGET_RATIO}x the peer: {verdict} ({ours / peer:.2f}x; {ours:.2f} s against {peer:.2f} s)")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
