"""Formulas in a real browser: every update rule and schedule formula fits its box on a laptop, a projector and a
phone. Before, a formula wider than its box scrolled sideways with no cue: on a projector the About page read
"(AMSGrad: v_t^max = max(v_{t-1}^max, v", and the Schedules page's column of formulas was 200 px wide there.
The rules are now written in lines short enough for a projector, and a formula that is still too wide (a phone,
a popover) is drawn smaller until it fits (ui/screen.py's FIT_FORMULAS_JS)."""

from __future__ import annotations

import pytest

from tests.app_server import SCRIPT_DONE_JS
from tests.browser.screens import PHONE, PROJECTOR

pytestmark = pytest.mark.browser

LOAD_MS = 90_000
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
# the smallest a formula may be drawn on a phone: ~70 % of KaTeX's display size is a little under body text
PHONE_SMALLEST_SCALE = 0.65

# every formula shown: its room (the width of its Streamlit element: the formula's own box is only as wide as
# its content), how wide it is drawn, and the scale the page drew it at
FORMULAS_JS = """() => [...document.querySelectorAll('.katex-display')].filter(box => box.clientWidth > 0).map(box => {
    const formula = box.querySelector('.katex');
    const element = box.closest('[data-testid="stElementContainer"]') || box.parentElement;
    return {text: box.textContent.slice(0, 40), room: element.clientWidth, drawn: box.scrollWidth,
            scale: parseFloat(formula.dataset.gdvizScale || '1'), font: parseFloat(getComputedStyle(formula).fontSize)};
})"""
OPEN_EXPANDERS_JS = """() => document.querySelectorAll('[data-testid="stExpander"] details:not([open]) > summary')
    .forEach(summary => summary.click())"""


def open_page(browser, url: str, screen: dict, shown: str = ".katex-display"):
    """A new tab at ``url`` once the element ``shown`` is there and the script has run."""
    context = browser.new_context(**screen)
    page = context.new_page()
    page.goto(url)
    page.locator(shown).first.wait_for(state="attached", timeout=LOAD_MS)
    page.wait_for_function(SCRIPT_DONE_JS, timeout=LOAD_MS)
    return context, page


def formulas(page, count_at_least: int) -> list[dict]:
    """The formulas on the page once the fitting has settled (fonts loaded, every resize answered)."""
    page.wait_for_function(f"() => document.querySelectorAll('.katex-display').length >= {count_at_least}")
    page.wait_for_function(
        "() => window.__gdvizFitFormulas === true"
    )  # (its module arrives after the page's first paint)
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(500)
    return page.evaluate(FORMULAS_JS)


def cut_off(found: list[dict]) -> list[dict]:
    return [f for f in found if f["drawn"] > f["room"] + 1]


@pytest.mark.parametrize("screen", ["laptop", "projector", "phone"])
def test_every_rule_and_schedule_on_the_about_page_fits_its_box(browser, app_url, screen):
    import gdviz

    context, page = open_page(
        browser, f"{app_url}/about", {"laptop": LAPTOP, "projector": PROJECTOR, "phone": PHONE}[screen]
    )
    try:
        page.evaluate(OPEN_EXPANDERS_JS)
        found = formulas(page, len(gdviz.OPTIMIZERS) + len(gdviz.SCHEDULES))
        assert len(found) == len(gdviz.OPTIMIZERS) + len(gdviz.SCHEDULES)
        assert not cut_off(found), cut_off(found)
        scales = {f["text"]: f["scale"] for f in found}
        # the element that runs the fitting takes no room on the page (it pushed the title down by a gap)
        assert page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stElementContainer"]:has(.gd-hidden)')]
                .map(e => e.getBoundingClientRect().height + e.offsetHeight)"""
        ) == [0]
        if screen == "phone":
            assert min(scales.values()) >= PHONE_SMALLEST_SCALE, scales
            assert min(scales.values()) < 1  # (the widest rules are drawn smaller there)
        else:
            # written in lines that fit a projector's column: nothing drawn smaller than the size KaTeX gives it
            assert set(scales.values()) == {1.0}, {text: s for text, s in scales.items() if s != 1}
    finally:
        context.close()


def test_a_formula_is_drawn_smaller_in_a_narrow_window_and_back_at_its_size_in_a_wide_one(browser, app_url):
    """The fitting follows the box: the same window made narrow, then wide again (a phone turned, a window
    resized); the Adam rule is open on the About page."""
    context, page = open_page(browser, f"{app_url}/about", LAPTOP)
    try:
        wide = next(f for f in formulas(page, 2) if f["text"].startswith("gt=∇f(xt−1)+λxt−1mt"))
        assert wide["scale"] == 1
        page.set_viewport_size({"width": 300, "height": 800})
        narrow = next(f for f in formulas(page, 2) if f["text"] == wide["text"])
        assert narrow["scale"] < 1 and narrow["drawn"] <= narrow["room"] + 1, narrow
        assert narrow["font"] == pytest.approx(wide["font"] * narrow["scale"], rel=0.02)
        page.set_viewport_size({"width": 1440, "height": 900})
        again = next(f for f in formulas(page, 2) if f["text"] == wide["text"])
        assert again["scale"] == 1 and again["font"] == pytest.approx(wide["font"]), again
    finally:
        context.close()


def test_on_a_projector_the_schedules_formulas_go_under_the_chart_and_fit(browser, app_url):
    """Beside η(t) the formulas' column was 200 px at a projector's zoom: CyclicLR's and ReduceLROnPlateau's were
    cut off. In a narrow window they now go under the chart, at their own size; on a laptop they stay beside it."""
    query = "n=4&sc1=CosineAnnealingWarmRestarts&sc2=CyclicLR&sc3=ReduceLROnPlateau&sc4=OneCycleLR"
    for screen, beside in ((PROJECTOR, False), (LAPTOP, True)):
        context, page = open_page(browser, f"{app_url}/schedules?{query}", screen)
        try:
            found = formulas(page, 4)
            assert len(found) == 4 and not cut_off(found), found
            chart = page.locator(".st-key-sc_lr_chart").bounding_box()
            column = page.locator(".st-key-sc_formulas").bounding_box()
            if beside:
                assert column["x"] >= chart["x"] + chart["width"], (column, chart)
            else:
                assert column["y"] >= chart["y"] + chart["height"], (column, chart)
                assert all(f["scale"] == 1 for f in found), found
        finally:
            context.close()


def test_on_a_phone_the_playgrounds_schedule_formula_fits_its_popover(browser, app_url):
    # (the popover's widgets are drawn only when it is opened)
    context, page = open_page(browser, f"{app_url}/?sched=CyclicLR", PHONE, shown=".st-key-pg_box_sched button")
    try:
        page.locator(".st-key-pg_box_sched button").first.evaluate(
            "button => { button.scrollIntoView(); button.click(); }"
        )
        page.wait_for_function("() => [...document.querySelectorAll('.katex-display')].some(b => b.clientWidth > 0)")
        found = formulas(page, 1)
        assert len(found) == 1 and not cut_off(found), found
        assert PHONE_SMALLEST_SCALE <= found[0]["scale"] < 1, found
    finally:
        context.close()


def test_a_playing_race_costs_no_formula_measurements(browser, app_url):
    """The fitting watches the page's changes for new formulas; a playing chart changes its SVG at every frame.
    Those changes are passed over (unfiltered, a 6 s play measured the page's formulas ~70 times: a forced
    layout per frame)."""
    context, page = open_page(browser, f"{app_url}/", LAPTOP, shown=".gd-stage button.gd-play")
    try:
        from playwright.sync_api import expect

        page.wait_for_function(
            "() => window.__gdvizFitFormulas === true && window.__gdvizStage && window.__gdvizStage.gd"
        )
        page.locator(".gd-stage [data-act=next]").first.click()  # the step inspector's formulas come in
        expect(page.locator(".st-key-pg_readout").get_by_text("step t = 1")).to_be_visible(timeout=LOAD_MS)
        page.wait_for_function("() => document.querySelectorAll('.katex-display').length >= 3", timeout=LOAD_MS)
        page.wait_for_timeout(1_000)
        before = page.evaluate("() => window.__gdvizFormulaScans")
        page.locator(".gd-stage button.gd-play").first.click()
        page.wait_for_timeout(4_000)
        assert page.evaluate("() => window.__gdvizFormulaScans") - before <= 3
    finally:
        context.close()
