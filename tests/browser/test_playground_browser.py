"""The Playground in a real browser: the chart appears fast, Play runs to the end smoothly, and the
surface picture is still there afterwards. Timings are printed against their targets and kept as test
properties; a missed target fails the test only with GDVIZ_ENFORCE_TARGETS=1."""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest

from benchmarks.targets import ENFORCE_TARGETS_HINT, verdict
from tests.app_server import PLOTLY_CHART

pytestmark = pytest.mark.browser

# targets from the Playground issue; the env vars loosen them on a slower or busier machine
FIRST_CHART_S = float(os.environ.get("GDVIZ_FIRST_CHART_BUDGET_S", "2.5"))
FRAME_MS = float(os.environ.get("GDVIZ_FRAME_BUDGET_MS", "50"))
# Timings are measured and reported on every run; they fail the test only on request
# (GDVIZ_ENFORCE_TARGETS=1), since a shared 2-core CI machine is too noisy for timed tests.
ENFORCE_TARGETS = os.environ.get("GDVIZ_ENFORCE_TARGETS") == "1"

# attach to plotly's own animation events on the race chart's graph div
_HOOK = """gd => {
    const log = {frames: [], done: false};
    window.__gdvizPlayback = log;
    gd.on('plotly_animatingframe', e => log.frames.push([performance.now(), e.name]));
    gd.on('plotly_animated', () => { log.done = true; });
    const steps = gd.layout.sliders[0].steps;  // one slider step per animation frame
    return {frames: steps.length, last: steps[steps.length - 1].label};
}"""


def report(record_property, capsys, name: str, value: float, text: str) -> None:
    record_property(name, round(value, 4))
    with capsys.disabled():
        print(f"\n[playground] {text}")


def race_chart(page):
    """The race figure (a page may show more charts); its Play button is the stage's, beside it."""
    return page.locator(f".st-key-pg_race {PLOTLY_CHART}").first


def open_app(page, url: str):
    from playwright.sync_api import expect

    page.goto(url)
    chart = race_chart(page)
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=60_000)
    return chart


def plot_area_pixels(page, chart) -> np.ndarray:
    """RGB pixels of the chart's plot area (the axes' drag layer marks exactly the data rectangle)."""
    from PIL import Image

    box = chart.locator(".nsewdrag").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, box
    inset = 3  # stay clear of the axis lines
    clip = {
        "x": box["x"] + inset,
        "y": box["y"] + inset,
        "width": box["width"] - 2 * inset,
        "height": box["height"] - 2 * inset,
    }
    return np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"))


def assert_surface_visible(pixels: np.ndarray) -> tuple[float, int]:
    """The picture fills the plot area: no flat background colour shows through, and many colours do.

    Without it (plotly's known bug drops a contour/heatmap on redraw-free frames) the plot background
    covers most of the area in one colour, with only lines drawn over it."""
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    flat = float(counts.max() / counts.sum())
    assert flat < 0.5, f"{flat:.0%} of the plot area is one flat colour: the surface picture is gone"
    assert len(colours) > 300, f"only {len(colours)} distinct colours in the plot area: the surface picture is gone"
    return flat, len(colours)


def test_first_chart_is_visible_quickly(page, app_url, cold_start_s, record_property, capsys):
    from playwright.sync_api import expect

    report(
        record_property,
        capsys,
        "cold_start_s",
        cold_start_s,
        f"cold start (first run of the app): {cold_start_s:.2f} s",
    )
    start = time.perf_counter()
    arrivals: list[tuple[float, int]] = []  # (seconds, bytes) of each websocket message from the server
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: arrivals.append((time.perf_counter() - start, len(data)))),
    )
    page.goto(app_url)
    expect(race_chart(page).locator(".main-svg").first).to_be_visible(timeout=60_000)
    elapsed = time.perf_counter() - start
    # the race figure is by far the largest message: when it arrived splits server time from browser time
    sent = max(arrivals, key=lambda a: a[1], default=(float("nan"), 0))
    report(
        record_property,
        capsys,
        "first_chart_s",
        elapsed,
        f"first chart visible {elapsed:.2f} s after navigation, target ≤ {FIRST_CHART_S:g} s: "
        f"{verdict(elapsed <= FIRST_CHART_S, ENFORCE_TARGETS, ENFORCE_TARGETS_HINT)}; the figure "
        f"({sent[1] / 1e3:.0f} kB) arrived after {sent[0]:.2f} s, the browser drew it {elapsed - sent[0]:.2f} s later",
    )
    assert elapsed <= FIRST_CHART_S or not ENFORCE_TARGETS


def test_play_runs_to_the_end_and_keeps_the_surface(page, app_url, cold_start_s, record_property, capsys, tmp_path):
    from playwright.sync_api import expect

    chart = open_app(page, app_url)
    expect(chart.locator(".imagelayer image")).to_have_count(1)
    before = plot_area_pixels(page, chart)
    assert_surface_visible(before)
    info = chart.locator(".js-plotly-plot").first.evaluate(_HOOK)
    assert info["frames"] >= 2, info

    page.locator(".gd-stage [data-act=play]").click()  # the page opens at step 0, ready to play
    page.wait_for_function("() => window.__gdvizPlayback.done", timeout=120_000)
    # the slider followed the animation to the last step
    expect(chart.locator(".slider-label").first).to_have_text(f"step {info['last']}")
    frames = page.evaluate("() => window.__gdvizPlayback.frames")
    assert len(frames) == info["frames"] - 1, (len(frames), info)  # every frame after step 0
    assert frames[-1][1] == info["last"]
    per_frame = (frames[-1][0] - frames[0][0]) / (len(frames) - 1)
    report(
        record_property,
        capsys,
        "ms_per_frame",
        per_frame,
        f"playback: {len(frames)} frames, {per_frame:.1f} ms per frame, target ≤ {FRAME_MS:g} ms: "
        f"{verdict(per_frame <= FRAME_MS, ENFORCE_TARGETS, ENFORCE_TARGETS_HINT)}",
    )

    # after playback the surface is still drawn: the image element and its colours
    expect(chart.locator(".imagelayer image")).to_have_count(1)
    flat, colours = assert_surface_visible(plot_area_pixels(page, chart))
    report(
        record_property,
        capsys,
        "surface_colours_after_play",
        colours,
        f"after playback: {colours} distinct colours in the plot area, the flattest one covers {flat:.0%}",
    )
    # the page renders to an image (README's picture is written by docs/screenshots.py, never by a test)
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert per_frame <= FRAME_MS or not ENFORCE_TARGETS


def test_speed_menu_plays_at_maximum_speed(page, app_url, cold_start_s, record_property, capsys):
    """The speed menu starts playback too; "max" asks for frames back to back, so the time per frame
    is what drawing one costs the browser (printed for the record; the ×1 test holds the target)."""
    chart = open_app(page, app_url)
    info = chart.locator(".js-plotly-plot").first.evaluate(_HOOK)
    page.locator(".gd-stage select[data-act=speed]").select_option(label="max")
    page.locator(".gd-stage [data-act=play]").click()
    page.wait_for_function("() => window.__gdvizPlayback.done", timeout=120_000)
    frames = page.evaluate("() => window.__gdvizPlayback.frames")
    assert len(frames) == info["frames"] - 1 and frames[-1][1] == info["last"]
    per_frame = (frames[-1][0] - frames[0][0]) / (len(frames) - 1)
    report(
        record_property,
        capsys,
        "render_ms_per_frame",
        per_frame,
        f"drawing cost at max speed: {per_frame:.1f} ms per frame",
    )
    assert_surface_visible(plot_area_pixels(page, chart))
