"""Goh's closed forms in the Landscape Lab in a real browser (issue 14): the stability map draws its analytic
bound and optima, and the view of the error along the eigenvectors draws, switches to chosen settings and
puts them in the address bar. No console error is tolerated (fixture)."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_lab_browser import LOAD_MS, chart, open_page, playground_links

pytestmark = pytest.mark.browser


def test_the_map_draws_the_theory_and_the_eigen_view_follows_its_settings(page, app_url):
    from playwright.sync_api import expect

    open_page(page, app_url, "Landscape Lab")
    stability = chart(page, "lab_stability_chart")
    for name in ("analytic bound", "GD optimum", "momentum optimum"):
        expect(stability.locator(".legendtext", has_text=name)).to_have_count(1, timeout=LOAD_MS)
    expect(page.locator("strong", has_text="Theory")).to_be_visible(timeout=LOAD_MS)
    expect(page.get_by_text("a rate measured over a finite run reads a little above ρ")).to_be_visible()

    page.get_by_text("Error along eigenvectors", exact=True).click()
    figure = chart(page, "lab_eigen_chart")
    expect(figure.locator(".legendtext", has_text="λ = 0.2")).to_have_count(1, timeout=LOAD_MS)
    assert "view=eigen" in page.url
    page.get_by_text("one η for both, and μ", exact=True).click()
    expect(page.get_by_label("learning rate η (both)")).to_be_visible(timeout=LOAD_MS)
    page.wait_for_url("**eg.at=chosen**", timeout=LOAD_MS)
    # one η for both, from momentum's optimum on the ill-conditioned bowl: (2/(√0.2 + √4))² = 0.6679
    anchor = page.locator('[data-testid="stLinkButton"] a')
    expect(anchor).to_have_attribute("href", re.compile(r"lr=0\.6679.*lr=0\.6679"), timeout=LOAD_MS)
    gd, momentum = playground_links(page)[0].optimizers
    assert dict(gd.hyper)["lr"] == dict(momentum.hyper)["lr"] == 0.6679 and dict(momentum.hyper)["momentum"] > 0
