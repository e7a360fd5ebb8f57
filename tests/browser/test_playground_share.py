"""The Playground's controls in a real browser: a shared link, a story, a knob, a click, the 3-D view, downloads.

The link test opens the link in a fresh browser context, as a visitor who was sent it would. The other
tests share one tab (a page load costs seconds on the 2-core CI machine); each reads the state it starts
from rather than relying on what an earlier test left, and a console error fails the test it happened in.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pytest

from benchmarks.targets import ENFORCE_TARGETS_HINT, verdict
from tests.browser.test_faults_browser import in_settings
from ui.playground.controls import surface_title
from ui.playground.presets import PRESETS
from ui.playground.scenario import Scenario, auto_labels, to_query
from ui.state.entries import entry

pytestmark = pytest.mark.browser

# the target for a changed knob; the env var loosens it on a slower or busier machine
REDRAW_S = float(os.environ.get("GDVIZ_REDRAW_BUDGET_S", "1.0"))
# reported on every run, enforced only on request (a shared 2-core CI machine is too noisy for timed tests)
ENFORCE_TARGETS = os.environ.get("GDVIZ_ENFORCE_TARGETS") == "1"
LOAD_MS = 60_000
RACE = ".st-key-pg_race"
# the race figure's own description of what it shows (ui.figures.race.race_spec writes layout.meta)
META_JS = """() => {
    const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
    return gd && gd.layout && gd.layout.meta ? gd.layout.meta : null;
}"""
LINKED = Scenario(
    surface="himmelblau",
    start=(1.5, -0.5),
    steps=60,
    noise=0.5,
    seed=9,
    optimizers=(entry("Adam", lr=0.05, betas=(0.8, 0.99)), entry("SGD", lr=0.01, momentum=0.9, label="heavy ball")),
)
STORY = "ravine"


def query_of(page) -> dict[str, str]:
    # read in the page: Playwright's page.url can lag behind the history updates Streamlit makes as it reruns
    return dict(parse_qsl(urlsplit(page.evaluate("() => location.href")).query))


def slider_value(page, key: str):
    return page.locator(f".st-key-{key} [data-testid='stSliderThumbValue']")


def settled(page) -> None:
    """Wait until the last rerun is over (no status widget, no stale element): the chart is sent before
    the sidebar, so a visible chart does not mean that every widget shows its value yet."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=LOAD_MS)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=LOAD_MS)


def legend(page):
    return page.locator(f"{RACE} .legendtext")


def expect_legend(page, labels: list[str]) -> None:
    """Every label in the race chart's legend, exactly (SVG text: no innerText, so text content)."""
    from playwright.sync_api import expect

    for label in labels:
        expect(page.locator(f"{RACE} .legendtext", has_text=label)).to_have_count(1)
    texts = legend(page).all_text_contents()
    assert all(label in texts for label in labels), (labels, texts)


@pytest.fixture(scope="module")
def tab(open_tab, app_url):
    """One Playground tab for the interaction tests, and a log of the server's websocket messages."""
    from playwright.sync_api import expect

    context, page, errors = open_tab()
    messages: list[tuple[float, int]] = []  # (perf_counter, bytes) of every message from the server
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: messages.append((time.perf_counter(), len(data)))),
    )
    page.goto(app_url)
    expect(page.locator(f"{RACE} .main-svg").first).to_be_visible(timeout=LOAD_MS)
    yield SimpleNamespace(page=page, errors=errors, messages=messages)
    context.close()


@pytest.fixture
def pg(tab):
    """The shared tab; fails the test if the browser console reported an error during it."""
    seen = len(tab.errors)
    yield tab
    if len(tab.errors) > seen:
        pytest.fail("errors in the browser console:\n" + "\n".join(tab.errors[seen:]))


def test_a_shared_link_restores_the_scenario(page, app_url):
    from playwright.sync_api import expect

    query = to_query(LINKED)
    page.goto(f"{app_url}/?{urlencode(query)}")
    expect(page.locator(f"{RACE} .main-svg").first).to_be_visible(timeout=LOAD_MS)
    # the chart: the surface, the run length, the start and every optimizer of the link
    meta = page.evaluate(META_JS)
    assert meta["surface"] == "himmelblau" and meta["steps"] == LINKED.steps, meta
    expect_legend(page, auto_labels(LINKED.optimizers))
    starts = page.evaluate(
        "() => document.querySelector('.st-key-pg_race .js-plotly-plot').data.find(t => t.name === 'start').customdata"
    )
    assert starts == [list(LINKED.start)], starts
    # the sidebar shows the same scenario
    expect(page.locator(".st-key-pg_surface input")).to_have_value(surface_title("himmelblau"))
    expect(page.locator(".st-key-pg_x0_0 input")).to_have_value("1.5")
    expect(page.locator(".st-key-pg_x0_1 input")).to_have_value("-0.5")
    expect(slider_value(page, "pg_steps")).to_have_text("60")
    # the settings behind the first screen sit in popovers: each opened, read and closed
    in_settings(page, "noise", lambda: expect(slider_value(page, "pg_noise")).to_have_text("0.5"))
    in_settings(page, "noise", lambda: expect(page.locator(".st-key-pg_seed input")).to_have_value("9"))
    in_settings(page, "o0", lambda: expect(page.locator(".st-key-pg_o0_name input")).to_have_value("Adam"))
    in_settings(page, "o0", lambda: expect(slider_value(page, "pg_o0_Adam_betas_0")).to_have_text("0.8"))
    in_settings(page, "o1", lambda: expect(page.locator(".st-key-pg_o1_label input")).to_have_value("heavy ball"))
    # nothing was refused or clamped, and the address bar still holds the very same link
    settled(page)
    expect(page.locator("[data-testid='stAlertContentWarning']")).to_have_count(0)
    assert query_of(page) == query
    link = urlsplit(page.get_by_role("textbox", name="Link to this scenario").input_value())
    assert f"{link.scheme}://{link.netloc}" == app_url and dict(parse_qsl(link.query)) == query


def test_picking_a_story_changes_the_chart(pg):
    from playwright.sync_api import expect

    page, preset = pg.page, PRESETS[STORY]
    settled(page)
    assert page.evaluate(META_JS)["surface"] != preset.scenario.surface  # so that the chart has to change
    page.locator(".st-key-pg_preset input").click()
    page.get_by_role("option", name=preset.title, exact=True).click()
    page.wait_for_function(
        "surface => { const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');"
        " return !!(gd && gd.layout && gd.layout.meta && gd.layout.meta.surface === surface); }",
        arg=preset.scenario.surface,
        timeout=LOAD_MS,
    )
    expect_legend(page, auto_labels(preset.scenario.optimizers))
    expect(page.locator("[data-testid='stAlertContentInfo']").first).to_contain_text(preset.title)
    settled(page)
    first = page.locator(".st-key-pg_o0_name input")
    in_settings(page, "o0", lambda: expect(first).to_have_value(preset.scenario.optimizers[0].name))
    assert page.evaluate(META_JS)["steps"] == preset.scenario.steps
    assert query_of(page) == to_query(preset.scenario)


def test_a_changed_hyperparameter_is_redrawn_within_a_second(pg, record_property, capsys):
    """One step of slot 1's lr slider (keyboard), timed in the browser from the key press to the frame in
    which the chart shows the new run; the figure's arrival splits the time into server and browser."""
    from playwright.sync_api import expect

    page = pg.page
    settled(page)
    # the race at its last step (the page opens at step 0, where every run is still at its start)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("End")
    page.wait_for_function("() => window.__gdvizStage && window.__gdvizStage.step > 0", timeout=LOAD_MS)
    last = page.evaluate("() => window.__gdvizStage.step")
    page.locator(".st-key-pg_box_o0 button").first.click()  # racer 1's settings popover stays open from here on
    expect(page.locator(".st-key-pg_o0_name input")).not_to_have_value("")
    name = page.locator(".st-key-pg_o0_name input").input_value()
    before = query_of(page)
    old_label = _path_names(page)[0]
    old_path = _path_points(page)
    page.evaluate(
        """() => { window.__gdvizPressed = null; window.__gdvizRedrawn = null;
        document.addEventListener('keydown', () => { window.__gdvizPressed = performance.now(); },
                                  {capture: true, once: true}); }"""
    )
    page.locator(f".st-key-pg_o0_{name}_lr input[type=range]").focus()
    pressed = time.perf_counter()
    page.keyboard.press("ArrowRight")
    # polled at every animation frame, so the time is the frame that first shows the new label
    page.wait_for_function(
        """old => { const texts = [...document.querySelectorAll('.st-key-pg_race .legendtext')].map(t => t.textContent);
            if (texts.length === 0 || texts.includes(old)) return false;
            window.__gdvizRedrawn = window.__gdvizRedrawn || performance.now(); return true; }""",
        arg=old_label,
        polling="raf",
        timeout=LOAD_MS,
    )
    elapsed = page.evaluate("() => (window.__gdvizRedrawn - window.__gdvizPressed) / 1000")
    settled(page)
    after = query_of(page)
    assert float(after["o1.lr"]) > float(before["o1.lr"])  # one notch up the log grid
    assert {k: v for k, v in after.items() if k != "o1.lr"} == {k: v for k, v in before.items() if k != "o1.lr"}
    assert _path_points(page) != old_path  # the path itself was redrawn, not only its label
    assert page.evaluate("() => window.__gdvizStage.step") == last  # at the step it was at: the change kept it
    biggest = max((m for m in pg.messages if m[0] > pressed), key=lambda m: m[1], default=None)
    split = f"; the figure ({biggest[1] / 1e3:.0f} kB) arrived after {biggest[0] - pressed:.2f} s" if biggest else ""
    record_property("redraw_s", round(elapsed, 4))
    with capsys.disabled():
        print(
            f"\n[playground] lr {before['o1.lr']} → {after['o1.lr']}: chart redrawn {elapsed:.2f} s after the key "
            f"press{split}; target ≤ {REDRAW_S:g} s: {verdict(elapsed <= REDRAW_S, ENFORCE_TARGETS, ENFORCE_TARGETS_HINT)}"
        )
    assert elapsed <= REDRAW_S or not ENFORCE_TARGETS


def _path_points(page) -> str:
    """The first optimizer's drawn path (coordinates, with the gaps between runs), as text."""
    return page.evaluate(
        """() => { const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
            const t = gd._fullData[gd.layout.meta.paths[0]];  // decoded: gd.data may hold base64 arrays
            return JSON.stringify([Array.from(t.x), Array.from(t.y)]); }"""
    )


def test_a_click_on_the_map_sets_the_start_point(pg):
    from playwright.sync_api import expect

    page = pg.page
    settled(page)
    chart = page.locator(RACE)
    old = [page.locator(f".st-key-pg_x0_{k} input").input_value() for k in (0, 1)]
    assert all(old), old
    box = chart.locator(".nsewdrag").first.bounding_box()
    # a point in the upper right of the map, away from the start (where the click would land on a marker)
    px, py = 0.8 * box["width"], 0.25 * box["height"]
    target, per_pixel = chart.locator(".js-plotly-plot").first.evaluate(
        """(gd, p) => { const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [[xa.p2d(p[0]), ya.p2d(p[1])], [Math.abs(xa.p2d(1) - xa.p2d(0)), Math.abs(ya.p2d(1) - ya.p2d(0))]]; }""",
        [px, py],
    )
    page.mouse.click(box["x"] + px, box["y"] + py)
    expect(page.locator(".st-key-pg_x0_0 input")).not_to_have_value(old[0], timeout=LOAD_MS)
    settled(page)
    new = [float(page.locator(f".st-key-pg_x0_{k} input").input_value()) for k in (0, 1)]
    # the start is the invisible grid point under the cursor: plotly picks the nearest within 20 px
    for k in (0, 1):
        assert abs(new[k] - target[k]) <= 20 * per_pixel[k], (new, target, per_pixel)
    assert query_of(page)["x0"].split(";")[0] == f"{new[0]:g},{new[1]:g}"
    page.wait_for_function(
        """start => { const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
            const t = gd && gd.data.find(t => t.name === 'start');
            return !!t && t.customdata.some(p => p[0] === start[0] && p[1] === start[1]); }""",
        arg=new,
        timeout=LOAD_MS,
    )


def test_the_3d_toggle_draws_a_3d_chart(pg):
    from playwright.sync_api import expect

    page = pg.page
    settled(page)
    toggle = page.locator(".st-key-pg_3d").get_by_text("3-D view")
    chart = page.locator(".st-key-pg_race3d")
    # before its first toggle, the idle page has built the hidden chart's WebGL scene (ui/live_chart.py's prewarm)
    page.wait_for_function(
        """() => { const gd = document.querySelector('.st-key-pg_race3d .gd-live-chart');
                   return gd && gd.__gdvizPrewarmMs > 0 && gd.querySelector('.gl-container canvas') !== null; }""",
        timeout=LOAD_MS,
    )
    expect(chart).to_be_hidden()
    page.evaluate("() => { window.__prewarmed3d = document.querySelector('.st-key-pg_race3d .gd-live-chart'); }")
    toggle.click()
    expect(chart.locator(".gl-container canvas").first).to_be_visible(timeout=LOAD_MS)
    # the figure is drawn into that chart, scene and all
    assert chart.locator(".js-plotly-plot").first.evaluate("gd => gd === window.__prewarmed3d")
    # the mesh, and every optimizer's path on it under the same name as in the map
    traces = chart.locator(".js-plotly-plot").first.evaluate("gd => gd.data.map(t => [t.type, t.name])")
    assert traces[0][0] == "mesh3d", traces
    assert set(_path_names(page)) <= {name for kind, name in traces if kind == "scatter3d"}, traces
    assert chart.locator(".js-plotly-plot").first.evaluate("gd => gd.layout.meta.kind") == "surface3d"
    gd = chart.locator(".js-plotly-plot").first
    gd.evaluate("gd => { window.__scene3d = gd; }")
    toggle.click()  # off: put away, not removed, so that it comes back without building its WebGL scene again
    expect(chart).to_be_hidden(timeout=LOAD_MS)
    toggle.click()
    expect(chart.locator(".gl-container canvas").first).to_be_visible(timeout=LOAD_MS)
    assert gd.evaluate("gd => gd === window.__scene3d && gd.layout.meta.kind === 'surface3d'")
    toggle.click()  # off again for the next test in this tab
    expect(chart).to_be_hidden(timeout=LOAD_MS)


def test_the_download_buttons_give_the_race(pg):
    from playwright.sync_api import expect

    page = pg.page
    settled(page)
    for key in ("pg_dl_csv", "pg_dl_json", "pg_dl_html"):
        expect(page.locator(f".st-key-{key} button")).to_be_enabled()
    query = query_of(page)
    labels = _path_names(page)
    with page.expect_download() as csv_download:
        page.locator(".st-key-pg_dl_csv button").click()
    lines = Path(csv_download.value.path()).read_text().splitlines()
    assert lines[0].startswith("optimizer,run,step,x1,x2,loss,grad_norm,lr")
    rows_per_path = int(query["steps"]) + 1
    assert len(lines) - 1 == rows_per_path * len(labels) * len(query["x0"].split(";"))
    with page.expect_download() as json_download:
        page.locator(".st-key-pg_dl_json button").click()
    doc = json.loads(Path(json_download.value.path()).read_text())
    assert doc["scenario"] == query
    assert [item["label"] for item in doc["optimizers"]] == labels
    assert csv_download.value.suggested_filename.endswith(".csv")
    assert json_download.value.suggested_filename.endswith(".json")


def test_copy_as_pytorch_gives_a_script_that_draws_the_same_paths(pg, tmp_path):
    """The "Copy as PyTorch" download: race.py runs in a bare interpreter (no gdviz on its path) and prints the
    iterates of the race on the page, to 1e-9 of the engine's."""
    import subprocess
    import sys

    from playwright.sync_api import expect

    from ui.playground.scenario import from_query
    from ui.playground.simulate import simulate

    page = pg.page
    settled(page)
    # a button with a help tooltip is drawn twice (Streamlit measures a hidden copy): the visible one
    button = page.locator(".st-key-pg_dl_torch button:visible").first
    expect(button).to_be_enabled()
    query = query_of(page)
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "race.py"
    script = tmp_path / "race.py"
    script.write_bytes(Path(download.value.path()).read_bytes())
    done = subprocess.run(
        [sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True
    )
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    race, error = simulate(from_query(query)[0])
    assert error is None, error
    # racer by racer, and within a racer start by start
    wanted = (
        [t.xs[:, k] for t in race.trajectories for k in range(t.xs.shape[1])]
        if race.trajectories[0].batched
        else [t.xs for t in race.trajectories]
    )
    assert len(printed["xs"]) == len(wanted)
    for got, want in zip(printed["xs"], wanted):
        assert abs(np.asarray(got) - want).max() <= 1e-9


# every option of an open dropdown: its text and whether the list cuts it (its text wider than its row)
OPTIONS_JS = """() => [...document.querySelectorAll('[data-testid=stSelectboxVirtualDropdown] [role=option]')].map(
    o => [o.innerText.trim(), o.scrollWidth > o.clientWidth + 1 || [...o.querySelectorAll('*')].some(
        e => e.scrollWidth > e.clientWidth + 1)])"""


def open_dropdown(page, key: str) -> None:
    """Open a selectbox's list (a click right after another widget's rerun can land before it listens: again)."""
    from playwright.sync_api import expect

    options = page.locator("[data-testid=stSelectboxVirtualDropdown] [role=option]").first
    for _ in range(3):
        page.keyboard.press("Escape")
        page.locator(f".st-key-{key} input[role='combobox']").click()
        try:
            expect(options).to_be_visible(timeout=3000)
            return
        except AssertionError:
            settled(page)
    expect(options).to_be_visible()


def test_the_sidebar_dropdowns_show_whole_titles_and_the_formula_first(pg):
    """The Story picker's titles are not cut off in the sidebar, and the Surface picker opens on "Custom
    formula…" first, then the defects, d2l's examples and the classics, each named with its group."""
    from playwright.sync_api import expect

    page = pg.page
    settled(page)
    open_dropdown(page, "pg_preset")
    shown = page.evaluate(OPTIONS_JS)
    assert shown and not [text for text, cut in shown if cut], shown
    assert [text for text, _ in shown] == [p.title for p in PRESETS.values()][: len(shown)]
    page.keyboard.press("Escape")
    open_dropdown(page, "pg_surface")
    # the list opens scrolled to the chosen surface; its top is what a visitor sees first on scrolling up
    page.evaluate(
        "() => document.querySelectorAll('[data-testid=stSelectboxVirtualDropdown] *').forEach(e => e.scrollTop = 0)"
    )
    expect(page.locator("[data-testid=stSelectboxVirtualDropdown] [role=option]").first).to_contain_text(
        "Custom formula"
    )
    shown = page.evaluate(OPTIONS_JS)
    page.keyboard.press("Escape")
    texts = [text for text, _ in shown]
    assert texts[0].startswith("Custom formula") and texts[1].startswith("Defect · ")
    assert not [text for text, cut in shown if cut], shown


def _path_names(page) -> list[str]:
    return page.evaluate(
        """() => { const gd = document.querySelector('.st-key-pg_race .js-plotly-plot');
            return gd.layout.meta.paths.map(i => gd.data[i].name); }"""
    )
