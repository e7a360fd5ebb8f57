"""Screenshots of the running app: README's picture of the Playground, and every page at three sizes for review.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 (the browser tests' launcher, tests/app_server.py),
drives headless Chromium with Playwright, and waits for each page's script to finish and its charts to be
drawn before taking a picture.

- ``docs/playground.png``: the Playground at 1400x1000 after its race has played to the end; README shows it,
  and README_EXTRAS: a story at 1440x900 and on a phone, and the Networks page.
- ``--all``: every page of the sidebar, each at
  - ``1440x900``: a laptop;
  - ``1280x720-zoom150``: a 1280x720 window at 150 % browser zoom. Chromium's zoom is emulated as the
    browser does it: the page is laid out in an 853x480 CSS-pixel viewport and drawn with a device scale
    factor of 1.5, so the picture is 1280x720 pixels;
  - ``390x844-phone``: a phone (mobile viewport, touch, device scale factor 3);
  each as ``<page>-<size>.png`` (the page named by its sidebar link) (what the window shows) and ``<page>-<size>-full.png`` (the whole page);
  a page with the Playground's "Projector view" toggle also as ``<page>-<size>-projector.png`` with it on.

Usage (from the repository root)::

    python3 docs/screenshots.py                      # rewrites README's pictures in docs/
    python3 docs/screenshots.py --out /tmp/shots --all
    python3 docs/screenshots.py --out /tmp/shots --all --pages playground --sizes 390x844-phone
    python3 docs/screenshots.py --out /tmp/shots --all --pages none --stories   # every story at every size

Needs Playwright (requirements-dev.txt) and Chromium (Debian: ``apt-get install chromium``; another binary
through GDVIZ_CHROMIUM). Exit status 0 when every page ran without an exception, 1 otherwise, 2 when the
server or the browser could not be started.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app_server import CHROMIUM_ARGS, PLOTLY_CHART, AppServer, chromium_path  # noqa: E402
from tests.browser.screens import PHONE, PROJECTOR  # noqa: E402

README_VIEWPORT = {"width": 1400, "height": 1000}
# name: browser context options
SIZES = {
    "1440x900": {"viewport": {"width": 1440, "height": 900}},
    "1280x720-zoom150": PROJECTOR,
    # a phone's own User-Agent: the pages lay their charts out for a phone when the browser says "Mobi"
    "390x844-phone": PHONE,
}
PROJECTOR_TOGGLE = ".st-key-pg_present"  # the Playground's "Projector view"
LOAD_TIMEOUT_MS = 180_000
SETTLE_MS = 1_000  # a page may rerun once after its first run (e.g. to correct its link): look twice
FULL_PAGE_MAX_PX = 10_000  # CSS pixels: the longest page picture

# the script has finished, every element is drawn (Streamlit shows a skeleton while one loads its code) and
# so is every chart
READY_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stStatusWidgetRunningIcon"]')) return false;
    return [...document.querySelectorAll('PLOTLY_CHART')].every(c => c.querySelector('.main-svg'));
}""".replace("PLOTLY_CHART", PLOTLY_CHART)
# Streamlit scrolls the page inside its main container, not the document: the height of what it holds
CONTENT_HEIGHT_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
    return Math.max(main.scrollHeight, document.scrollingElement.scrollHeight);
}"""
# press Play (the stage's beside the chart, or the chart's own on a projector or a phone) and resolve when
# plotly's animation has finished
PLAY_JS = """gd => new Promise(resolve => {
    gd.on('plotly_animated', () => resolve(true));
    const stage = document.querySelector('.gd-stage [data-act=play]');
    (stage || [...gd.querySelectorAll('.updatemenu-button')].find(b => b.textContent.includes('Play')))
        .dispatchEvent(new MouseEvent('click', {bubbles: true}));
})"""


def wait_until_ready(page) -> None:
    page.wait_for_function(READY_JS, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(SETTLE_MS)
    page.wait_for_function(READY_JS, timeout=LOAD_TIMEOUT_MS)


def exceptions(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def readme_picture(browser, url: str, path: Path) -> list[str]:
    """The Playground at README's size after the race has played to the end."""
    context = browser.new_context(viewport=README_VIEWPORT)
    page = context.new_page()
    page.goto(url)
    wait_until_ready(page)
    race = page.locator(".st-key-pg_race").first
    race.locator(".js-plotly-plot").first.evaluate(PLAY_JS)
    page.screenshot(path=str(path), full_page=True)
    found = exceptions(page)
    context.close()
    return found


# README's other pictures: (file, page path or story key, size), what the window shows
README_EXTRAS = (
    ("story-d2l-schedules.png", "story:d2l-schedules", "1440x900"),
    ("story-d2l-schedules-phone.png", "story:d2l-schedules", "390x844-phone"),
    ("networks.png", "network", "1440x900"),
)


def readme_extras(browser, url: str, out: Path) -> list[str]:
    """README's pictures of a story (laptop and phone) and of the Networks page."""
    stories = dict(story_links(url))
    found = []
    for name, where, size in README_EXTRAS:
        context = browser.new_context(**SIZES[size])
        page = context.new_page()
        page.goto(stories[f"story-{where[6:]}"] if where.startswith("story:") else f"{url}/{where}")
        wait_until_ready(page)
        page.screenshot(path=str(out / name))
        found += [f"{name}: {text}" for text in exceptions(page)]
        context.close()
    return found


def page_links(browser, url: str) -> list[tuple[str, str]]:
    """(name, address) of every page in the sidebar, in its order: a new page is picked up by itself."""
    context = browser.new_context(viewport=SIZES["1440x900"]["viewport"])
    page = context.new_page()
    page.goto(url)
    wait_until_ready(page)
    links = page.locator('[data-testid="stSidebarNav"] a').evaluate_all(
        """links => links.map(a => {
            const label = a.cloneNode(true);  // the link's text without its icon's name
            label.querySelectorAll('[data-testid="stIconMaterial"]').forEach(icon => icon.remove());
            return [label.innerText, a.href];
        })"""
    )
    context.close()
    return [("-".join(re.findall(r"[a-z0-9]+", text.lower())), link) for text, link in links]


def story_links(url: str) -> list[tuple[str, str]]:
    """(story-<key>, its link) of every Playground story: the link a visitor shares, which opens the story."""
    from urllib.parse import urlencode

    from ui.playground.presets import PRESETS
    from ui.playground.scenario import to_query

    return [(f"story-{key}", f"{url}/?{urlencode(to_query(preset.scenario))}") for key, preset in PRESETS.items()]


def review_pictures(browser, links: list[tuple[str, str]], out: Path, sizes=tuple(SIZES)) -> list[str]:
    """Every page at every size (of ``sizes``): what the window shows, and the whole page."""
    problems = []
    for size in sizes:
        options = SIZES[size]
        context = browser.new_context(**options)
        page = context.new_page()
        for name, link in links:
            page.set_viewport_size(options["viewport"])
            page.goto(link)
            wait_until_ready(page)
            page.screenshot(path=str(out / f"{name}-{size}.png"))
            height = min(int(page.evaluate(CONTENT_HEIGHT_JS)), FULL_PAGE_MAX_PX)
            page.set_viewport_size({"width": options["viewport"]["width"], "height": height})
            wait_until_ready(page)
            page.screenshot(path=str(out / f"{name}-{size}-full.png"))
            problems += [f"{name} at {size}: {text}" for text in exceptions(page)]
            toggle = page.locator(PROJECTOR_TOGGLE)
            if size.startswith("1280x720") and toggle.count():
                page.set_viewport_size(options["viewport"])
                toggle.get_by_text("Projector view").click()
                wait_until_ready(page)
                page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 0)")
                page.screenshot(path=str(out / f"{name}-{size}-projector.png"))
                toggle.get_by_text("Projector view").click()  # off again for the next page
                wait_until_ready(page)
            print(f"{name} at {size}: written", flush=True)
        context.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the pictures (default: docs/)")
    parser.add_argument("--all", action="store_true", help="also every page at 1440x900, 150 %% zoom and phone width")
    parser.add_argument(
        "--pages", nargs="*", default=None, help="with --all: only the pages whose sidebar name contains one of these"
    )
    parser.add_argument("--sizes", nargs="*", choices=list(SIZES), default=list(SIZES), help="with --all: these sizes")
    parser.add_argument(
        "--stories", action="store_true", help="with --all: also every Playground story, as story-<key>-<size>.png"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    chromium = chromium_path()
    if chromium is None or not Path(chromium).exists():
        print("no Chromium found: apt-get install chromium, or set GDVIZ_CHROMIUM", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright is not installed: python3 -m pip install -r requirements-dev.txt", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as scratch:
        server = AppServer(Path(scratch) / "server.log")
        try:
            server.start()
        except RuntimeError as problem:
            print(problem, file=sys.stderr)
            return 2
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                problems = readme_picture(browser, server.url, args.out / "playground.png")
                problems += readme_extras(browser, server.url, args.out)
                print(
                    f"playground.png and {', '.join(n for n, _, _ in README_EXTRAS)} written to {args.out}", flush=True
                )
                if args.all:
                    links = page_links(browser, server.url)
                    if args.pages is not None:
                        links = [(name, link) for name, link in links if any(p in name for p in args.pages)]
                    if args.stories:
                        links += story_links(server.url)
                    problems += review_pictures(browser, links, args.out, args.sizes)
                browser.close()
        finally:
            server.stop()
    for problem in problems:
        print(f"exception shown: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
