"""The Linear Regression page in a real browser: it trains on load, the fit animates, the comparison
measures, a preset reruns it, and a CSV uploaded through the real file input trains."""

from __future__ import annotations

import pytest

from tests.app_server import PLOTLY_CHART

pytestmark = pytest.mark.browser

LOAD_TIMEOUT_MS = 90_000

# attach to plotly's animation events on the fit chart, then press its Play button
_PLAY = """gd => new Promise(resolve => {
    const frames = [];
    gd.on('plotly_animatingframe', e => frames.push(e.name));
    gd.on('plotly_animated', () => resolve({frames: frames, line: Array.from(gd._fullData[1].y)}));
    gd.querySelector('.updatemenu-button').dispatchEvent(new MouseEvent('click', {bubbles: true}));
})"""


def open_page(page, app_url: str):
    """Start at the app's root, as a visitor does (a deep link makes Streamlit probe for its base path and log
    404s), follow the sidebar's link, and wait for the fit chart."""
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.locator(f"{PLOTLY_CHART} .main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Linear Regression").click()
    chart = page.locator(".st-key-rg_fit")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("trained w", exact=True)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    return chart


def test_the_page_trains_on_load_and_the_fit_animates(page, app_url):
    from playwright.sync_api import expect

    chart = open_page(page, app_url)
    expect(page.get_by_role("heading", name="Linear regression")).to_be_visible()
    for tab in ("Fit", "Loss landscape", "GD vs SGD vs minibatch", "Closed form"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    played = chart.locator(".js-plotly-plot").evaluate(_PLAY)
    assert played["frames"] == [str(e) for e in range(61)]  # the start and the default 60 epochs
    assert len(played["line"]) == 2 and played["line"][0] < played["line"][1]  # y = w x + b with w > 0


def test_the_comparison_and_the_landscape_show(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url)
    page.get_by_role("tab", name="Loss landscape").click()
    expect(page.locator(".st-key-rg_landscape .main-svg").first).to_be_visible()
    expect(page.locator(".st-key-rg_landscape .contour").first).to_be_attached()
    page.get_by_role("tab", name="GD vs SGD vs minibatch").click()
    expect(page.get_by_text("samples per update")).to_be_visible()
    expect(page.get_by_text("d2l 12.5, checked on cpu")).to_be_visible()
    page.get_by_role("tab", name="Closed form").click()
    expect(page.get_by_text("torch.linalg.lstsq (QR / SVD)")).to_be_visible()


def test_the_d2l_preset_reruns_the_comparison(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url)
    page.get_by_role("button", name="d2l 12.5: GD vs SGD vs minibatch").click()
    expect(page.locator(".st-key-rg_n input")).to_have_value("1500", timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("tab", name="GD vs SGD vs minibatch").click()
    expect(page.get_by_text("minibatch b = 100").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("A minibatch of 100 beats GD in wall time")).to_be_visible()
    assert "n=1500" in page.url


def test_an_uploaded_csv_trains(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url)
    page.locator(".st-key-rg_src").get_by_text("upload a CSV").click()
    rows = "".join(f"{x},{3 * x - 1}\n" for x in range(50))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "line.csv", "mimeType": "text/csv", "buffer": f"size,price\n{rows}".encode()}]
    )
    expect(page.get_by_text("line.csv", exact=False).first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    # the fit is drawn against the file's own columns: x = size (the feature), y = price (the target)
    fit = page.locator(".st-key-rg_fit")
    expect(fit.locator(".xtitle")).to_have_text("size", timeout=LOAD_TIMEOUT_MS)
    expect(fit.locator(".ytitle")).to_have_text("price")
    page.locator(".st-key-rg_src").get_by_text("upload a CSV").click()  # a no-op click: still the upload
    bad = b"\xff\xfe not text"
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    expect(page.get_by_text("not UTF-8").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)


# every metric's label, value and delta the page shows, and whether any of its boxes cuts its text off ("3.3…")
_METRICS = """() => [...document.querySelectorAll(
        '[data-testid="stMetricLabel"], [data-testid="stMetricValue"], [data-testid="stMetricDelta"]')].map(e => ({
    text: e.textContent,
    cut: [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1 && getComputedStyle(x).overflow !== 'visible'),
}))"""


@pytest.mark.parametrize("screen", ["laptop", "projector", "phone"])
def test_the_runs_numbers_are_not_cut_off_on_any_screen(browser, app_url, screen):
    """Five metrics in a row cut their values to "3.3…" at a projector's zoom; in a narrow window they now go two
    to a row. Three features: the first weight (all of them on hover), not three numbers cut to "2.003, 2.0…"."""
    from playwright.sync_api import expect

    from tests.app_server import SCRIPT_DONE_JS
    from tests.browser.screens import PHONE, PROJECTOR

    sizes = {"laptop": {"viewport": {"width": 1440, "height": 900}}, "projector": PROJECTOR, "phone": PHONE}
    context = browser.new_context(**sizes[screen])
    try:
        page = context.new_page()
        for features in (1, 3):
            page.goto(f"{app_url}/regression?d={features}")
            expect(page.get_by_text("trained b", exact=True)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
            page.wait_for_function(SCRIPT_DONE_JS, timeout=LOAD_TIMEOUT_MS)
            metrics = page.evaluate(_METRICS)
            assert len(metrics) >= 10 and not [m for m in metrics if m["cut"]], (features, metrics)
            label = "trained w" if features == 1 else "trained w₁ (of 3)"
            assert label in [m["text"] for m in metrics]
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        context.close()
