"""The Playground on a projector and on a phone (issue 13).

Projector: a 1280x720 window at 150 % browser zoom, sidebar open, is an 853x480 CSS-pixel viewport drawn
at a device scale factor of 1.5 (as docs/screenshots.py emulates it). With "Projector view" on, the race
chart and its Play button are on the first screen and the chart's text is at least 16 px.
Without "Projector view", in that 853-pixel window the stage and the inspector go under the map, which keeps
the main area's width (beside it, the map would get ~300 px). Phone: 390x844 with a phone's User-Agent: the legend stays above the plot area, not over it, and the
Play button is not under the step slider.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.browser.screens import FIGURE_TEXTS_JS, PHONE, PROJECTOR, boxes_overlap, text_collisions
from ui.lab import views

pytestmark = pytest.mark.browser

READY = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stSkeleton"]');
}"""


def race_chart(page):
    """The race figure. On a projector and a phone its own Play button stays in it (the stage is below it)."""
    return page.locator(".st-key-pg_race").first


def open_playground(browser, url: str, options: dict):
    from playwright.sync_api import expect

    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(url)
    chart = race_chart(page)
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=120_000)
    page.wait_for_function(READY, timeout=120_000)
    return context, page, chart


def test_projector_view_fits_the_chart_and_play_on_the_first_screen(browser, app_url):
    from playwright.sync_api import expect

    context, page, chart = open_playground(browser, app_url, PROJECTOR)
    try:
        toggle = page.locator(".st-key-pg_present")
        toggle.get_by_text("Projector view").click()
        expect(page.locator('[data-testid="stMainBlockContainer"] h1').first).to_be_hidden(timeout=60_000)
        page.wait_for_function(READY, timeout=120_000)
        chart = race_chart(page)
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=60_000)
        page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 0)")
        expect(page.locator('[data-testid="stSidebar"]')).to_be_visible()  # the sidebar is open
        view = page.viewport_size
        box = chart.bounding_box()
        play = chart.locator(".updatemenu-button").filter(has_text="Play").first.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= view["height"], (box, view)
        assert play["y"] + play["height"] <= view["height"], (play, view)
        sizes = chart.locator(".main-svg").first.evaluate(
            """svg => [...svg.ownerDocument.querySelectorAll('.js-plotly-plot text')]
                .filter(t => svg.closest('.gd-live').contains(t) && t.textContent.trim())
                .map(t => parseFloat(getComputedStyle(t).fontSize))"""
        )
        assert sizes and min(sizes) >= 16, sorted(set(sizes))
    finally:
        context.close()


def test_a_narrow_window_puts_the_stage_and_inspector_under_the_map(browser, app_url):
    from playwright.sync_api import expect

    context, page, chart = open_playground(browser, app_url, PROJECTOR)
    try:
        stage = page.locator(".gd-stage").first
        expect(stage).to_be_visible(timeout=60_000)
        main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        box, controls = chart.bounding_box(), stage.bounding_box()
        assert controls["y"] >= box["y"] + box["height"], (controls, box)  # under the map, not beside it
        assert box["width"] >= 0.8 * main["width"], (box, main)
        inspector = page.locator(".st-key-pg_readout").bounding_box()
        assert inspector["y"] >= box["y"] + box["height"], (inspector, box)
    finally:
        context.close()


def test_phone_legend_and_controls_do_not_overlap(browser, app_url):
    context, page, chart = open_playground(browser, app_url, PHONE)
    try:
        plot = chart.locator(".nsewdrag").first.bounding_box()
        legend = chart.locator(".legend").first.bounding_box()
        assert not boxes_overlap(legend, plot), (legend, plot)
        assert legend["x"] + legend["width"] <= page.viewport_size["width"] + 1
        play = chart.locator(".updatemenu-button").filter(has_text="Play").first.bounding_box()
        slider = chart.locator(".slider-container").first.bounding_box()
        assert play["y"] >= slider["y"] + slider["height"] - 30 or not boxes_overlap(play, slider), (play, slider)
        rail = chart.locator(".slider-rail-rect").first.bounding_box()
        assert not boxes_overlap(play, rail), (play, rail)
        # the panels' titles over the half-width panels do not run into each other
        panels = page.locator(".st-key-pg_panels")
        titles = panels.locator(".annotation-text").all()[:4]
        boxes = [t.bounding_box() for t in titles]
        assert len(boxes) == 4
        for i in range(4):
            for j in range(i + 1, 4):
                assert not boxes_overlap(boxes[i], boxes[j]), (titles[i].text_content(), titles[j].text_content())
    finally:
        context.close()


# every page's charts (the Lab one view at a time), on the two small screens
SMALL_SCREEN_PAGES = [
    "",
    *(f"landscape?view={view}" for view in views.VIEWS),
    "schedules",
    "regression",
    "network?n=80&steps=60&grid=21",  # a smaller network than the default: the same figure, sooner
]


# the texts (headings, paragraphs, captions: their line boxes) a dataframe's toolbar lies over; on a touch screen
# Streamlit shows it without hover, above the table
TOOLBARS_ON_TEXT_JS = """() => {
    const lines = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [data-testid="stMarkdownContainer"] p, '
        + '[data-testid="stCaptionContainer"]')].flatMap(e => {
            const range = document.createRange();
            range.selectNodeContents(e);
            return [...range.getClientRects()].filter(r => r.width > 1).map(r => ({text: e.textContent, r}));
        });
    const over = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return [...document.querySelectorAll('[data-testid="stElementToolbar"]')]
        .filter(t => getComputedStyle(t).opacity !== '0')
        .flatMap(t => lines.filter(line => over(t.getBoundingClientRect(), line.r)).map(line => line.text));
}"""


# the main area's width and every chart's in it that is shown (a tab not chosen holds charts 0 px wide), CSS px
CHART_WIDTHS_JS = """() => ({
    main: document.querySelector('[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]')
        .getBoundingClientRect().width,
    charts: [...document.querySelectorAll('[data-testid="stMainBlockContainer"] .js-plotly-plot')]
        .map(e => e.getBoundingClientRect().width).filter(w => w > 0),
})"""


@contextlib.contextmanager
def page_on_screen(browser, screen: str, app_url: str, path: str):
    """The app's page ``path`` opened in a fresh context on a phone or a projector (torch's pages skipped
    without torch); the context is closed afterwards."""
    if path.startswith(("regression", "network")):
        pytest.importorskip("torch")
    context = browser.new_context(**(PHONE if screen == "phone" else PROJECTOR))
    try:
        page = context.new_page()
        page.goto(f"{app_url}/{path}")
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("path", SMALL_SCREEN_PAGES)
@pytest.mark.parametrize("screen", ["phone", "projector"])
def test_no_chart_text_runs_into_another_and_a_phone_has_no_mode_bar(browser, app_url, screen, path):
    """Every chart of every page on a phone and at a projector's zoom: no axis title or annotation (a panel's
    title) cut at the figure's edge or on another, no tick label on another panel's plot — screenshots showed
    the Playground's panels' and the restarts summary's right-hand ticks on their left panels, and the eigen
    view's panel titles run together and off the figure. On a phone, plotly's mode bar (it lay over the
    legends) is gone from every chart, and no table's toolbar lies over a heading (Networks' "How faithful is the
    picture?"); at a projector's zoom every chart is as wide as the main area (the Lab's maps and side charts
    were 305 and 200 px beside each other, the basins' two maps 253); no page is wider than the screen."""
    from playwright.sync_api import expect

    with page_on_screen(browser, screen, app_url, path) as page:
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=120_000)
        page.wait_for_function(READY, timeout=120_000)
        plots = page.locator(".js-plotly-plot")
        for k in range(plots.count()):
            found = plots.nth(k).evaluate(FIGURE_TEXTS_JS)
            assert text_collisions(found) == [], (k, found["figure"])
        if screen == "phone":
            assert page.locator(".modebar-container .modebar").count() == 0
            assert page.evaluate(TOOLBARS_ON_TEXT_JS) == []
        else:  # charts side by side go one under another: each as wide as the main area
            widths = page.evaluate(CHART_WIDTHS_JS)
            assert all(w >= widths["main"] - 2 for w in widths["charts"]), widths
        # nothing wider than the screen: the Playground's results table made the whole page scroll sideways
        main = page.locator('[data-testid="stMain"]')
        assert main.evaluate("m => m.scrollWidth - m.clientWidth") <= 1
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)


# the page title's lines (its text's line boxes), and the top of the page's first chart, in CSS pixels
FIRST_SCREEN_JS = """() => {
    const h1 = document.querySelector('[data-testid="stMainBlockContainer"] h1');
    const range = document.createRange();  // its text's, not the link icon's after it
    range.selectNodeContents(h1.querySelector('[data-heading-text]') || h1);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 1).map(r => Math.round(r.top)));
    const chart = [...document.querySelectorAll('.js-plotly-plot')].map(e => e.getBoundingClientRect())
        .find(r => r.height > 50);
    return {title: h1.textContent, lines: tops.size, chartTop: chart ? chart.top : null, height: innerHeight};
}"""
# where the page's picture is what it is for, the share of the first screen above the first chart at most: the rest
# shows the chart (Linear Regression's first screen is its run's numbers; About has no chart)
CHART_PAGES = ("", "schedules", "landscape", "network?n=80&steps=60&grid=21")
MOST_ABOVE_THE_CHART = 0.8


@pytest.mark.parametrize("path", [*CHART_PAGES, "regression", "about"])
@pytest.mark.parametrize("screen", ["phone", "projector"])
def test_the_title_takes_two_lines_at_most_and_the_first_chart_starts_on_the_first_screen(
    browser, app_url, screen, path
):
    """At a projector's zoom the Networks page's title took four lines and its map started at the first screen's
    bottom edge (478 of 480 px), the Schedules page's and the Lab's 70 px above it; on a phone Linear Regression's
    title took five lines. In a small window (ui/screen.py) the titles are smaller, with less room above them."""
    from playwright.sync_api import expect

    with page_on_screen(browser, screen, app_url, path) as page:
        expect(page.locator('[data-testid="stMainBlockContainer"] h1').first).to_be_visible(timeout=120_000)
        if path != "about":
            expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=120_000)
        page.wait_for_function(READY, timeout=120_000)
        found = page.evaluate(FIRST_SCREEN_JS)
        assert 1 <= found["lines"] <= 2, found
        if path in CHART_PAGES:
            assert found["chartTop"] <= MOST_ABOVE_THE_CHART * found["height"], found
        if path == "regression":  # its numbers, "trained w" first, on the first screen
            label = page.get_by_text("trained w", exact=True).bounding_box()
            assert label["y"] + label["height"] <= found["height"], (label, found)
