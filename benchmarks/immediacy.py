"""Immediacy of the Playground in headless Chromium (issue 12): scrubbing, and a released change.

1. Scrubbing: the stage swaps a racer's path for the precomputed one of each η position. Timed in the page
   per position: from the slider's input event until the browser has drawn the new path (plotly's restyle
   done, then the next animation frame). Target <= 50 ms per position (stretch: one frame, 16.7 ms).
2. A released change: a key press on the sidebar's lr slider -> the server reruns the race -> the new race
   chart drawn: the first animation frame after plotly drew the figure (whose meta changed), as the chart
   notes it (ui/live_chart.py). Target <= 0.3 s on a quiet machine. The peer,
   in the same run: the lightest Streamlit page where a key press on a slider redraws one small chart, the
   floor of any Streamlit round trip on this machine.

    python benchmarks/immediacy.py [--positions 36] [--presses 8] [--check]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from tests.app_server import CHROMIUM_ARGS, SCRIPT_DONE_JS, AppServer, chromium_or_exit  # noqa: E402

SCRUB_TARGET_MS = 50.0
FRAME_MS = 1000 / 60
RELEASE_TARGET_S = 0.3
VIEWPORT = {"width": 1440, "height": 900}
PEER_SCRIPT = """
import plotly.graph_objects as go
import streamlit as st

lr = st.sidebar.select_slider("lr", options=[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], value=0.01,
                              key="lr")
xs = [0.0]
for _ in range(50):
    xs.append(xs[-1] - lr * 2 * (xs[-1] - 3))
st.plotly_chart(go.Figure(go.Scatter(y=xs), layout=dict(meta=dict(lr=lr))), key="pg_race")
"""
# a scrub position: set the slider, fire its input event, resolve with the stage's own timing of the redraw
SCRUB_ONE = """async index => {
    const s = window.__gdvizStage;
    const input = document.querySelector('.gd-stage [data-act=lr]');
    const before = s.drawMs.length;
    input.value = String(index);
    input.dispatchEvent(new Event('input'));
    const deadline = performance.now() + 20000;
    while (s.drawMs.length === before) {
        if (performance.now() > deadline) throw new Error(`position ${index}: no redraw within 20 s`);
        await new Promise(r => setTimeout(r, 1));
    }
    return s.drawMs[s.drawMs.length - 1];
}"""
# resolves, once the race chart shows a figure other than the remembered one (its meta object), with the time of
# the first animation frame after that figure was drawn. The Playground's chart (ui/live_chart.py) notes that
# frame itself: a polling loop like this one is a task that waits behind the page's other work, and saw
# the new figure up to ~100 ms after the frame that showed it. The peer's chart is polled (a small page: its
# poll does not wait)
NEW_FIGURE = """() => new Promise((resolve, reject) => {
    const deadline = performance.now() + 60000;
    const look = () => {
        const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
        const fresh = gd && gd.layout && gd.layout.meta !== window.__oldMeta;
        if (fresh && !('__gdvizDrawMs' in gd)) requestAnimationFrame(() => resolve(performance.now()));
        else if (fresh && gd.__gdvizShown && gd.__gdvizShown.meta === gd.layout.meta) resolve(gd.__gdvizShown.at);
        else if (performance.now() > deadline) reject(new Error('no new chart within 60 s'));
        else setTimeout(look, 2);
    };
    look();
})"""
REMEMBER_META = "() => { window.__oldMeta = document.querySelector('.st-key-pg_race .js-plotly-plot').layout.meta; }"


def ready(page) -> None:
    page.locator(".st-key-pg_race .main-svg").first.wait_for(state="visible", timeout=120_000)
    page.wait_for_function(SCRIPT_DONE_JS, timeout=120_000)


def scrub_timings(browser, url: str, positions: int) -> list[float]:
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(url)
        ready(page)
        page.wait_for_function("() => window.__gdvizStage && window.__gdvizStage.meta", timeout=60_000)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("End")  # the whole path: the most points to draw
        page.wait_for_timeout(1500)
        top = int(page.locator(".gd-stage [data-act=lr]").get_attribute("max"))
        order = [round(i * top / max(positions - 1, 1)) for i in range(positions)]
        page.evaluate(SCRUB_ONE, order[-1])  # warm-up
        return [page.evaluate(SCRUB_ONE, index) for index in order]
    finally:
        page.close()


def release_timings(browser, url: str, presses: int, slider_key: str, popover: str | None = None) -> list[float]:
    """Seconds from a key press on the sidebar slider to the new race chart drawn, per press. ``popover``: the
    key of the sidebar popover that holds the slider (opened first; it stays open across reruns)."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(url)
        ready(page)
        if popover:
            page.locator(f".st-key-{popover} button").first.click()
        thumb = page.locator(f".st-key-{slider_key} input[type='range']").first
        found = []
        for k in range(presses + 1):
            page.evaluate(REMEMBER_META)
            thumb.focus()
            start = page.evaluate("() => performance.now()")
            page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
            drawn = page.evaluate(NEW_FIGURE)
            ready(page)
            if k:  # the first press is a warm-up
                found.append((drawn - start) / 1000)
        return found
    finally:
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=36, help="scrub positions timed")
    parser.add_argument("--presses", type=int, default=8, help="released changes timed per page")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    executable = chromium_or_exit()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        peer_script = Path(tmp) / "peer.py"
        peer_script.write_text(PEER_SCRIPT)
        app = AppServer(Path(tmp) / "app.log")
        peer = AppServer(Path(tmp) / "peer.log", script=str(peer_script))
        try:
            app.start()
            peer.start()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                print("scrubbing ...", file=sys.stderr, flush=True)
                scrub = scrub_timings(browser, app.url, args.positions)
                print("released changes on the Playground, then on the peer ...", file=sys.stderr, flush=True)
                ours = release_timings(browser, app.url, args.presses, "pg_o0_SGD_lr", "pg_box_o0")
                floor = release_timings(browser, peer.url, args.presses, "lr")
                browser.close()
        finally:
            app.stop()
            peer.stop()

    median, worst = statistics.median(scrub), max(scrub)
    print(f"scrubbing η, {len(scrub)} positions, path drawn after each input event (page time):")
    print(
        f"  median {median:5.1f} ms   p90 {sorted(scrub)[int(0.9 * (len(scrub) - 1))]:5.1f} ms   worst {worst:5.1f} ms"
    )
    print(f"  per position: {', '.join(f'{v:.0f}' for v in scrub)}")
    print(
        f"  target <= {SCRUB_TARGET_MS:g} ms (median): {targets.verdict('scrub <= 50 ms', median <= SCRUB_TARGET_MS)}"
    )
    print(f"  stretch, one frame ({FRAME_MS:.1f} ms): {'met' if median <= FRAME_MS else 'not met'}")
    mine, base = statistics.median(ours), statistics.median(floor)
    print(f"released change (key press on the lr slider -> new race chart drawn), {len(ours)} presses:")
    print(f"  playground median {mine:.3f} s (best {min(ours):.3f} s); peer (one small chart) {base:.3f} s")
    print(f"  playground / peer: {mine / base:.2f}x")
    verdict = targets.verdict("released change <= 0.3 s", mine <= RELEASE_TARGET_S)
    print(f"  target <= {RELEASE_TARGET_S:g} s: {verdict}")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
