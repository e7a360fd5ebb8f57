"""The Schedules and Landscape Lab pages in a real browser: they draw, clicks on maps select cells,
starts and points, and the links out go to the Playground. No console error is tolerated (fixture)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.app_server import PLOTLY_CHART, SCRIPT_DONE_JS
from tests.browser.screens import PHONE
from ui.playground.scenario import from_query

pytestmark = pytest.mark.browser
LOAD_MS = 90_000


def open_page(page, app_url: str, title: str):
    """Start at the app's root (as a visitor does) and follow the sidebar's link to a page."""
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.locator(f"{PLOTLY_CHART} .main-svg").first).to_be_visible(timeout=LOAD_MS)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    expect(
        page.get_by_role("heading", name=title if title != "Schedules" else "Learning-rate schedules")
    ).to_be_visible(timeout=LOAD_MS)


def chart(page, key: str):
    from playwright.sync_api import expect

    element = page.locator(f".st-key-{key}")
    expect(element.locator(".main-svg").first).to_be_visible(timeout=LOAD_MS)
    return element


def click_in(page, element, fx: float, fy: float) -> None:
    """Click at a fraction (fx, fy) of a chart's plot area."""
    box = element.locator(".nsewdrag").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, box
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def playground_links(page) -> list:
    scenarios = []
    for anchor in page.locator('[data-testid="stLinkButton"] a').all():
        # the link as the browser resolves it: the app's root, where the Playground is served
        # ("/playground" answers "Page not found")
        url = urlsplit(anchor.evaluate("a => a.href"))
        assert url.path == urlsplit(page.url).path.rsplit("/", 1)[0] + "/", (url, page.url)
        scenario, notices = from_query(dict(parse_qsl(url.query)))
        assert notices == []
        scenarios.append(scenario)
    return scenarios


def test_schedules_page_draws_formulas_and_links(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url, "Schedules")
    for key in ("sc_lr_chart", "sc_band_chart", "sc_paths_chart"):
        chart(page, key)
    expect(page.locator(".katex")).to_have_count(3, timeout=LOAD_MS)
    expect(page.locator('[data-testid="stLinkButton"]')).to_have_count(3)
    assert [s.schedule for s in playground_links(page)] == ["constant", "ExponentialDecay", "PolynomialDecay"]


def test_a_click_on_the_stability_map_selects_a_cell_and_links_it(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url, "Landscape Lab")
    expect(page.get_by_text("Best cell (click another)")).to_be_visible(timeout=LOAD_MS)
    click_in(page, chart(page, "lab_stability_chart"), 0.3, 0.5)
    # exact: the theory table under the map has a row "clicked cell" too
    expect(page.get_by_text("Clicked cell", exact=True)).to_be_visible(timeout=LOAD_MS)
    (scenario,) = playground_links(page)
    hyper = dict(scenario.optimizers[0].hyper)
    # 30% across a log axis from 1e-3 to 2 and half-way up momentum 0..0.99
    assert 0.003 < hyper["lr"] < 0.03 and 0.3 < hyper["momentum"] < 0.7


def test_basins_and_critical_points_answer_clicks(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url, "Landscape Lab")
    page.get_by_text("Basins of attraction", exact=True).click()
    left = chart(page, "lab_basins_chart_0")
    chart(page, "lab_basins_chart_1")
    click_in(page, left, 0.75, 0.3)
    expect(page.get_by_text("Paths from the clicked start")).to_be_visible(timeout=LOAD_MS)
    assert "view=basins" in page.url
    (scenario,) = playground_links(page)
    assert scenario.surface == "himmelblau" and scenario.start is not None and len(scenario.optimizers) == 2

    page.get_by_text("Critical points", exact=True).click()
    expect(page.get_by_text("Hessian at the lowest critical point")).to_be_visible(timeout=LOAD_MS)
    click_in(page, chart(page, "lab_critical_chart"), 0.5, 0.5)
    expect(page.get_by_text("Hessian at the clicked point")).to_be_visible(timeout=LOAD_MS)
    expect(page.locator(".katex").first).to_be_visible()


def test_on_a_phone_the_stability_map_has_the_width_and_a_tap_selects_a_cell(browser, app_url):
    """Screenshots at 390 px showed the map ~150 px wide beside its colour bar and plotly's mode bar over the
    legend: the bar now lies under the map, the mode bar is gone, and a tap (no mouse) still picks a cell."""
    from playwright.sync_api import expect

    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{app_url}/landscape?st.n=12")
        element = chart(page, "lab_stability_chart")
        expect(page.get_by_text("Best cell (click another)")).to_be_visible(timeout=LOAD_MS)
        figure = element.locator(".js-plotly-plot").bounding_box()
        plot = element.locator(".nsewdrag").first.bounding_box()
        bar = element.locator(".colorbar").first.bounding_box()
        assert plot["width"] >= 0.7 * figure["width"], (plot, figure)
        assert bar["y"] >= plot["y"] + plot["height"] and bar["width"] >= 0.7 * plot["width"], (bar, plot)
        assert element.locator(".modebar").count() == 0 or not element.locator(".modebar").first.is_visible()
        element.locator(".nsewdrag").first.scroll_into_view_if_needed()
        plot = element.locator(".nsewdrag").first.bounding_box()
        page.touchscreen.tap(plot["x"] + 0.2 * plot["width"], plot["y"] + 0.5 * plot["height"])
        expect(page.get_by_text("Clicked cell", exact=True)).to_be_visible(timeout=LOAD_MS)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("view", "key", "answer"),
    [
        ("basins", "lab_basins_chart_0", "Paths from the clicked start"),
        ("critical", "lab_critical_chart", "Hessian at the clicked point"),
    ],
)
def test_on_a_phone_one_tap_on_a_basins_or_critical_points_map_picks_the_point(browser, app_url, view, key, answer):
    """plotly.js selects from the hover a mouse leaves on its way and a finger does not: one tap, not two."""
    from playwright.sync_api import expect

    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{app_url}/landscape?view={view}")
        element = chart(page, key)
        element.locator(".nsewdrag").first.scroll_into_view_if_needed()
        page.wait_for_function(SCRIPT_DONE_JS, timeout=LOAD_MS)
        plot = element.locator(".nsewdrag").first.bounding_box()
        page.touchscreen.tap(plot["x"] + 0.7 * plot["width"], plot["y"] + 0.35 * plot["height"])
        expect(page.get_by_text(answer)).to_be_visible(timeout=LOAD_MS)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        context.close()
