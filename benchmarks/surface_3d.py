"""The Playground's 3-D view: from the "3-D view" toggle to the 3-D chart drawn on screen, in headless Chromium.

The target (issue 12, "An instrument, not a form") is the 3-D chart visible ≤ 1 s after the toggle.
The app is served as a visitor gets it; a tab opens the Playground, waits until the page has settled,
then toggles "3-D view" on and off ``--toggles`` times. Each toggle is timed from the click until the
3-D chart's WebGL canvas shows the surface: a screenshot of the canvas holds many colours (the mesh),
not just the white background and the axes. Printed per toggle and as median/best, with the phases:

    data     the largest websocket message after the click arrived (the figure: the server's rerun)
    canvas   the chart's WebGL canvas is visible (plotly has set up the scene: the browser's gl3d setup)
    drawn    a screenshot of the canvas shows the mesh (the first frame is on screen)

The first toggle is reported apart: it builds the figure on the server (later ones come from its cache
where the page caches it). The tab builds the WebGL scene (context, shaders) while the page is idle, before
the first toggle (the benchmark waits for that, at most 5 s, and a second more, as a visitor reads the page
first; its time is printed); toggled off, the chart is put away in the browser with its scene, and a later toggle draws into it.
Chromium runs with ``--disable-gpu`` (tests/app_server.py), so WebGL is SwiftShader on the CPU.

    python benchmarks/surface_3d.py [--toggles 7] [--app app.py [--app /elsewhere/app.py]] [--check]

``--app``: the Streamlit script to serve; Streamlit puts the script's folder first on ``sys.path``, so the
app of another checkout (``git worktree add /tmp/old HEAD~1``) runs its own code: given twice, both are
measured in turn in one run and their ratio printed.
``--check``: exit status 1 when the target (≤ 1 s, the median of the toggles after the first) is missed.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from tests.app_server import CHROMIUM_ARGS, AppServer, chromium_or_exit, chromium_path  # noqa: E402

TARGET_S = 1.0
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_MS = 120_000
TOGGLE = ".st-key-pg_3d"
CHART = ".st-key-pg_race3d"
CANVAS = f"{CHART} .gl-container canvas"
# the mesh is drawn when the canvas shows this many colours (white, the axes and the grid are a few dozen)
DRAWN_COLOURS = 400


def canvas_colours(page) -> int:
    """Distinct colours in a screenshot of the 3-D chart's canvas (0 while it has no size)."""
    import numpy as np
    from PIL import Image

    box = page.locator(CANVAS).first.bounding_box()
    if not box or box["width"] < 50 or box["height"] < 50:
        return 0
    png = page.screenshot(clip=box, animations="allow", caret="initial")
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))


def settled(page) -> None:
    """No rerun in flight: no status widget, no stale element."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=LOAD_MS)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=LOAD_MS)


def toggle_once(page, arrivals: list[tuple[float, int]]) -> dict:
    """Toggle the 3-D view on and time it to the drawn canvas; toggle it off again."""
    from playwright.sync_api import expect

    switch = page.locator(TOGGLE).get_by_text("3-D view")
    seen = len(arrivals)
    tick = time.perf_counter()
    switch.click()
    page.locator(CANVAS).first.wait_for(state="visible", timeout=LOAD_MS)
    canvas = time.perf_counter() - tick
    page.locator(CHART).first.scroll_into_view_if_needed()  # as the visitor scrolls to it; a screenshot needs it
    colours, shots = 0, 0
    while colours < DRAWN_COLOURS:
        colours = canvas_colours(page)
        shots += 1
        if time.perf_counter() - tick > LOAD_MS / 1000:
            raise RuntimeError(f"the 3-D chart was not drawn within {LOAD_MS / 1000:.0f} s ({colours} colours)")
    drawn = time.perf_counter() - tick
    # the figure's message: the largest after the click (Streamlit sends a figure it sent before as a reference)
    after = [(t, n) for t, n in arrivals[seen:] if t < tick + canvas]
    data, size = (max(after, key=lambda item: item[1])[0] - tick, max(n for _, n in after)) if after else (0.0, 0)
    settled(page)
    switch.click()
    expect(page.locator(CHART)).to_be_hidden(timeout=LOAD_MS)  # put away in the browser (ui/live_chart.py)
    settled(page)
    return {"s": drawn, "canvas_s": canvas, "data_s": data, "bytes": size, "shots": shots}


def line(name: str, rows: list[dict]) -> str:
    times = [row["s"] for row in rows]
    phases = {key: statistics.median(row[key] for row in rows) for key in ("data_s", "canvas_s")}
    return (
        f"{name:10s} median {statistics.median(times):5.2f} s   best {min(times):5.2f} s   "
        f"(data {phases['data_s']:4.2f} s, canvas {phases['canvas_s']:4.2f} s; "
        f"figure message {statistics.median(row['bytes'] for row in rows) / 1000:.0f} kB)"
    )


def open_playground(browser, url: str) -> tuple:
    """A tab on the Playground, settled, and the list its websocket arrivals go to."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    arrivals: list[tuple[float, int]] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: arrivals.append((time.perf_counter(), len(data)))),
    )
    page.goto(url)
    page.locator(".st-key-pg_race .main-svg").first.wait_for(state="visible", timeout=LOAD_MS)
    settled(page)
    # as a visitor reads the page before toggling: the browser builds the 3-D chart's scene while the page is idle
    # (ui/live_chart.py's prewarm; absent in an app without it, which then waits PREWARM_WAIT_MS for nothing)
    try:
        page.wait_for_function(PREWARMED, timeout=PREWARM_WAIT_MS)
    except Exception:  # noqa: BLE001 -- no prewarm in this app
        pass
    page.wait_for_timeout(REST_MS)
    return page, arrivals


REST_MS = 1_000  # the visitor reads on a second before the first toggle


PREWARM_WAIT_MS = 5_000
PREWARMED = f"() => {{ const g = document.querySelector('{CHART} .gd-live-chart'); return g && g.__gdvizPrewarmMs; }}"


def prewarm_ms(page) -> float | None:
    return page.evaluate(PREWARMED) or None


def measure(urls: list[str], toggles: int) -> list[list[dict]]:
    """Each app in its own tab, toggled in turn (so that all see the same machine): rows per app."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        tabs = [open_playground(browser, url) for url in urls]
        rows: list[list[dict]] = [[] for _ in urls]
        for turn in range(toggles + 1):
            for out, (page, arrivals) in zip(rows, tabs):
                prewarmed = prewarm_ms(page) if turn == 0 else None
                out.append(toggle_once(page, arrivals) | {"prewarm_ms": prewarmed})
        browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toggles", type=int, default=7, help="measured toggles after the first one")
    parser.add_argument(
        "--app",
        action="append",
        help="the Streamlit script to serve (default app.py); given twice or more, the apps are measured in "
        "turn in the same run (the first one is held to the target)",
    )
    add_check_option(parser)
    args = parser.parse_args(argv)
    apps = args.app or ["app.py"]
    targets = Targets(enforced=args.check)
    chromium_or_exit()
    with tempfile.TemporaryDirectory() as tmp:
        servers = [AppServer(Path(tmp) / f"app{k}.log", script=app) for k, app in enumerate(apps)]
        try:
            for server in servers:
                server.start()
            results = measure([server.url for server in servers], args.toggles)
        finally:
            for server in servers:
                server.stop()

    print(f"3-D view: toggle -> canvas drawn, {args.toggles} toggles after a first one, one tab per app")
    medians = []
    for app, rows in zip(apps, results):
        print(f"{app}:")
        for k, row in enumerate(rows):
            print(
                f"  toggle {k}: {row['s']:5.2f} s (data {row['data_s']:4.2f} s, canvas {row['canvas_s']:4.2f} s, "
                f"{row['shots']} screenshots)"
            )
        prewarm = rows[0]["prewarm_ms"]
        print(line("  first", rows[:1]) + (f"   (scene built at idle before it: {prewarm:.0f} ms)" if prewarm else ""))
        print(line("  later", rows[1:]))
        medians.append(statistics.median(row["s"] for row in rows[1:]))
    for app, median in zip(apps[1:], medians[1:]):
        print(f"{apps[0]} / {app}: {medians[0] / median:.2f}x (medians of the later toggles)")
    verdict = targets.verdict(f"3-D view drawn <= {TARGET_S} s after the toggle", medians[0] <= TARGET_S)
    print(f"target ≤ {TARGET_S} s ({apps[0]}, median of the later toggles): {verdict} ({medians[0]:.2f} s)")
    first = results[0][0]["s"]
    verdict = targets.verdict(f"the first 3-D view drawn <= {TARGET_S} s after its toggle", first <= TARGET_S)
    print(f"target ≤ {TARGET_S} s ({apps[0]}, the first toggle in a tab): {verdict} ({first:.2f} s)")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
