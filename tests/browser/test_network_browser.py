"""The Networks page in a real browser: three optimizers train on load, Play moves every racer over the landscape
(the picture under them stays), and the page says how faithful the plane is."""

from __future__ import annotations

import pytest

from tests.app_server import PLOTLY_CHART
from tests.browser.screens import FIGURE_TEXTS_JS, PHONE, PROJECTOR, text_collisions

pytestmark = pytest.mark.browser

LOAD_TIMEOUT_MS = 90_000

# attach to plotly's animation events, press Play, and report the frames played and whether the landscape image
# and the iso-lines are still there at the end
_PLAY = """gd => new Promise(resolve => {
    const frames = [];
    gd.on('plotly_animatingframe', e => frames.push(e.name));
    gd.on('plotly_animated', () => resolve({
        frames: frames,
        images: gd.querySelectorAll('image').length,
        heads: Array.from(gd._fullData[gd.layout.meta.animated[0]].x),
    }));
    gd.querySelector('.updatemenu-button').dispatchEvent(new MouseEvent('click', {bubbles: true}));
})"""


def test_three_optimizers_descend_one_network_landscape_together(page, app_url):
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.locator(f"{PLOTLY_CHART} .main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Networks").click()
    chart = page.locator(".st-key-nn_chart")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("How faithful is the picture?")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    played = chart.locator(".js-plotly-plot").evaluate(_PLAY)
    assert played["frames"][-1] == "200" and len(played["frames"]) == 101
    assert played["images"] == 1  # the landscape stays under the animation
    assert len(played["heads"]) == 3 and all(x is not None for x in played["heads"])
    expect(page.get_by_text("of the paths' variance", exact=False)).to_be_visible()
    # the pointer on the map, away from the paths (its upper right corner), reads the loss on the plane there
    box = chart.locator(".draglayer .xy .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + 0.92 * box["width"], box["y"] + 0.08 * box["height"])
    expect(chart.locator(".hoverlayer")).to_contain_text("loss on the plane", timeout=5_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_a_heavy_training_runs_in_a_worker_and_its_progress_bar_moves(browser, app_url):
    """The page's heaviest accepted link trains in a worker process (ui/workers.py): its progress, reported there,
    still moves the visitor's bar, and the page ends with its chart. (A tab of its own: opened at a page's
    address, Streamlit's frontend probes <page>/_stcore/health, a 404 in the console the other tests refuse.)"""
    import sys
    from pathlib import Path

    from playwright.sync_api import expect

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from load import heaviest_links

    _, query = heaviest_links()["networks: most steps, largest grid"]
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator(f"{PLOTLY_CHART} .main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.goto(f"{app_url}/network?{query}&seed=977")  # a seed no other test uses: nothing cached answers
    bar = page.locator('[data-testid="stProgress"] [role="progressbar"]')
    bar.first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    values = set()
    while bar.count():
        try:
            values.add(int(float(bar.first.get_attribute("aria-valuenow", timeout=1_000) or 0)))
        except Exception:  # noqa: BLE001 -- the bar went between two reads
            break
        page.wait_for_timeout(50)
    assert len({v for v in values if 0 < v < 100}) >= 3, sorted(values)  # it moved, in steps
    expect(page.locator(".st-key-nn_chart .main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    context.close()


@pytest.mark.parametrize("screen", ["phone", "projector"])
def test_on_a_phone_and_a_projector_no_text_of_the_figure_runs_into_another_panel(browser, app_url, screen):
    """A phone (its panels one under another) and a projector's 150 % zoom (a ~470 px figure, two by two): no
    axis title overlaps another, none is cut at the figure's edge, no tick label lies on another panel; on the
    phone the chart starts on the first screen."""
    from playwright.sync_api import expect

    context = browser.new_context(**(PHONE if screen == "phone" else PROJECTOR))
    try:
        page = context.new_page()
        page.goto(app_url)
        expect(page.locator(f"{PLOTLY_CHART} .main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        page.goto(f"{app_url}/network?n=80&steps=60&grid=21")
        chart = page.locator(".st-key-nn_chart")
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        expect(page.get_by_text("How faithful is the picture?")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        plot = chart.locator(".js-plotly-plot")
        found = plot.evaluate(FIGURE_TEXTS_JS)
        titles, areas = found["titles"], found["areas"]
        assert len(titles) == 5 and len(areas) == 4, ([t["text"] for t in titles], list(areas))  # 4 x, the map's y
        assert found["ticks"] and text_collisions(found) == []
        if screen == "phone":
            page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 0)")
            assert chart.bounding_box()["y"] < page.viewport_size["height"] - 200
            # the map and Play on one screen: a visitor watches what Play does
            play = chart.locator(".updatemenu-button").filter(has_text="Play").first.bounding_box()
            landscape = plot.evaluate(FIGURE_TEXTS_JS)["areas"]["xy"]
            assert play["y"] + play["height"] - landscape["y"] <= page.viewport_size["height"], (play, landscape)
            # a tap on the map reads the loss there and leaves the map as it was: plotly took a tap for a double
            # click and autoranged the axes, white bands around the picture (no mode bar on a phone to undo it)
            ranges = "gd => [gd._fullLayout.xaxis.range.slice(), gd._fullLayout.yaxis.range.slice()]"
            before = plot.evaluate(ranges)
            box = chart.locator(".draglayer .xy .nsewdrag").bounding_box()
            page.touchscreen.tap(box["x"] + 0.9 * box["width"], box["y"] + 0.1 * box["height"])
            expect(chart.locator(".hoverlayer")).to_contain_text("loss on the plane", timeout=5_000)
            page.wait_for_timeout(500)
            assert plot.evaluate(ranges) == before
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        context.close()
