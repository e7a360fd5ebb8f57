"""The stage in a real browser (issue 12): one step cursor for the map, the panels and the inspector, keys,
and scrubbing η that redraws the path with no message to the server until the visitor lets go."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# counts what the page sends to the server: a scrub must send nothing until it is released
COUNT_SENDS = """
window.__sends = 0;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...args) { window.__sends += 1; return send.apply(this, args); };
"""
RACE_DIV = ".st-key-pg_race .js-plotly-plot"
STAGE = "() => { const s = window.__gdvizStage; return s && s.gd ? {step: s.step, playing: s.playing} : null; }"
PANEL_CURSOR = """() => {
    const gd = document.querySelector('.st-key-pg_panels .js-plotly-plot');
    return gd.layout.shapes.filter(s => s.name === 'cursor').map(s => s.x0);
}"""
PATH = """racer => {
    const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
    const trace = gd._fullData[gd.layout.meta.paths[racer]];  // decoded (gd.data may hold base64 arrays)
    return Array.from(trace.x).map((x, i) => [x, trace.y[i]]);
}"""


def unfocus(page) -> None:
    """Keys to the page itself, not to whatever control has the focus."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def stage_step(page) -> int:
    page.wait_for_function(STAGE, timeout=60_000)
    return page.evaluate(STAGE)["step"]


def inspector_step(page, step: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".st-key-pg_readout").get_by_text(f"step t = {step}", exact=True)).to_be_visible(timeout=60_000)


def all_at(page, step: int) -> None:
    """The map's slider, the stage, the panels' cursor and the inspector all show ``step``."""
    from playwright.sync_api import expect

    expect(page.locator(".st-key-pg_race .slider-label").first).to_have_text(f"step {step}")
    assert stage_step(page) == step
    page.wait_for_function(f"() => ({PANEL_CURSOR})().every(x => x === {step})", timeout=30_000)
    inspector_step(page, step)


def open_playground(page, app_url):
    from playwright.sync_api import expect

    page.add_init_script(COUNT_SENDS)
    page.goto(app_url)
    expect(page.locator(".st-key-pg_race .main-svg").first).to_be_visible(timeout=120_000)
    page.wait_for_function(STAGE, timeout=60_000)
    page.locator(".st-key-pg_panels .main-svg").first.wait_for(timeout=60_000)


def test_one_cursor_keys_buttons_and_the_maps_own_slider(page, app_url):
    from playwright.sync_api import expect

    open_playground(page, app_url)
    assert stage_step(page) == 0  # a first visit opens ready to play, and says how
    expect(page.locator(".st-key-pg_readout").get_by_text("Step 0 is the start")).to_be_visible()
    unfocus(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    all_at(page, 2)
    page.locator(".gd-stage [data-act=next]").click()
    all_at(page, 3)
    page.locator(".gd-stage [data-act=prev]").click()
    all_at(page, 2)
    # the map's own step slider moves the rest too
    rail = page.locator(".st-key-pg_race .slider-rail-rect").first.bounding_box()
    page.mouse.click(rail["x"] + rail["width"] * 0.5, rail["y"] + rail["height"] / 2)
    page.wait_for_function("() => window.__gdvizStage.step > 30", timeout=30_000)
    all_at(page, stage_step(page))
    # keys typed into a field stay there
    start = page.locator(".st-key-pg_x0_0 input").first
    start.focus()
    before = stage_step(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert stage_step(page) == before
    # space plays to the end; Home goes back to 0
    unfocus(page)
    page.keyboard.press("Home")
    page.wait_for_function("() => window.__gdvizStage.step === 0", timeout=30_000)
    expect(page.locator(".st-key-pg_race .slider-label").first).to_have_text("step 0")
    page.keyboard.press(" ")
    page.wait_for_function("() => window.__gdvizStage.playing", timeout=30_000)
    page.wait_for_function("() => !window.__gdvizStage.playing", timeout=120_000)
    last = page.evaluate("() => { const f = window.__gdvizStage.gd.layout.meta.frame_steps; return f[f.length-1]; }")
    all_at(page, last)
    # the buttons are labelled for a screen reader and reachable with the keyboard
    for act in ("first", "prev", "play", "next"):
        button = page.locator(f".gd-stage [data-act={act}]")
        assert button.get_attribute("aria-label")
        assert button.evaluate("b => b.tabIndex >= 0")


def test_scrubbing_redraws_in_the_browser_and_release_commits(page, app_url):
    from playwright.sync_api import expect

    open_playground(page, app_url)
    unfocus(page)
    for _ in range(40):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.__gdvizStage.step === 40", timeout=30_000)
    inspector_step(page, 40)
    page.wait_for_timeout(500)
    own = page.evaluate(PATH, 0)
    sends = page.evaluate("() => window.__sends")
    slider = page.locator(".gd-stage [data-act=lr]")
    at = int(slider.input_value())
    drawn = []
    for offset in (1, 3, 5, -4):  # dragging: input events, no release
        slider.evaluate(f"(i) => {{ i.value = String({at + offset}); i.dispatchEvent(new Event('input')); }}")
        page.wait_for_timeout(150)
        drawn.append(page.evaluate(PATH, 0))
    assert page.evaluate("() => window.__sends") == sends, "a drag must not talk to the server"
    assert all(path != own for path in drawn) and len({str(p) for p in drawn}) == len(drawn)
    assert all(len(path) == 41 for path in drawn)  # the path up to the cursor's step, as the race draws it
    # letting go makes it the scenario's: the link and the sidebar follow, the step stays
    value = page.locator(".gd-stage .gd-eta output").inner_text()
    page.evaluate(
        f"() => {{ window.__raceDiv = document.querySelector('{RACE_DIV}'); window.__raceMeta = window.__raceDiv.layout.meta; }}"
    )
    slider.evaluate("(i) => i.dispatchEvent(new Event('change'))")
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('o1.lr') === '{value}'", timeout=60_000)
    page.locator(".st-key-pg_box_o0 button").first.click()  # racer 1's settings: its lr slider shows the value
    expect(page.locator(".st-key-pg_o0_SGD_lr input[type='range']").first).to_have_attribute(
        "aria-valuetext", value, timeout=60_000
    )
    page.keyboard.press("Escape")
    page.wait_for_function("() => window.__gdvizStage.meta && !window.__gdvizStage.preview", timeout=60_000)
    assert stage_step(page) == 40
    committed = page.evaluate(PATH, 0)
    assert committed[-1] == pytest.approx(drawn[-1][-1], abs=1e-3)  # the committed run is the path shown
    # the new figure went into the chart on screen (ui/live_chart.py), not into a new chart that replaced it
    assert page.evaluate(
        f"() => document.querySelector('{RACE_DIV}') === window.__raceDiv && window.__raceDiv.layout.meta !== window.__raceMeta"
    )


HEAD_3D = """() => {
    const gd = document.querySelector('.st-key-pg_race3d .js-plotly-plot');
    const heads = gd.data[gd.layout.meta.heads];
    return [Array.from(heads.x)[0], Array.from(heads.y)[0]];
}"""
HEAD_MAP = """step => {
    const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
    const trace = gd._fullData[gd.layout.meta.paths[0]];
    return [trace.x[step], trace.y[step]];
}"""


def test_the_3d_view_follows_the_cursor_and_plays(page, app_url):
    from playwright.sync_api import expect

    open_playground(page, app_url)
    unfocus(page)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.__gdvizStage.step === 5", timeout=30_000)
    inspector_step(page, 5)
    page.locator(".st-key-pg_3d").get_by_text("3-D view").click()
    chart = page.locator(".st-key-pg_race3d")
    expect(chart.locator(".gl-container canvas").first).to_be_visible(timeout=120_000)
    # it opens at the cursor's step: racer 1's head where the map's path has its point 5
    assert page.evaluate(HEAD_3D) == pytest.approx(page.evaluate(HEAD_MAP, 5), abs=1e-4)
    unfocus(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.__gdvizStage.step === 7", timeout=30_000)
    page.wait_for_function(
        f"() => {{ const h = ({HEAD_3D})(), m = ({HEAD_MAP})(7); return Math.abs(h[0] - m[0]) < 1e-4; }}",
        timeout=30_000,
    )
    # Play moves it with the race, and it rests where the race ends
    page.keyboard.press(" ")
    page.wait_for_function("() => window.__gdvizStage.playing", timeout=30_000)
    page.wait_for_function("() => !window.__gdvizStage.playing", timeout=120_000)
    last = page.evaluate("() => window.__gdvizStage.step")
    page.wait_for_timeout(300)
    assert page.evaluate(HEAD_3D) == pytest.approx(page.evaluate(HEAD_MAP, last), abs=1e-4)
    page.locator(".st-key-pg_3d").get_by_text("3-D view").click()  # put away: the stage no longer moves it
    expect(chart).to_be_hidden(timeout=60_000)
