"""The 3-D view steps in the browser: STEP_3D_JS's ``step3d(Plotly, gd, t)`` on the chart Streamlit drew
draws every path to step t and moves each run's head to its step-t iterate, with one Plotly.restyle.

A small Streamlit script of its own (written to a temporary folder) shows the 3-D figure of a race with
a single run, a run from two starts and a diverging run; the test injects STEP_3D_JS with Playwright, as
the Playground's controller would bring it, and compares what the chart holds with the trajectories and
with the figure the server builds for the same step.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.app_server import AppServer
from ui.figures.surface_3d import surface_3d_spec
from ui.figures.surface_3d_js import STEP_3D_JS

pytestmark = pytest.mark.browser

LOAD_MS = 60_000
CHART = ".st-key-pg_race3d"
STEPS = 40
LABELS = ["GD", "from two starts", "too fast"]
# the race, the same in the script and in the test (gdviz is deterministic for a seed)
RACE_CODE = """
import numpy as np
import gdviz

def make_race():
    surface = gdviz.surface("quadratic")
    single = gdviz.race(surface, [gdviz.optimizer("SGD", lr=0.1)], start=(-4.0, -2.0), steps=40)
    starts = np.array([[-4.0, -2.0], [3.0, 2.5]])
    batched = gdviz.race(surface, [gdviz.optimizer("SGD", lr=0.05, momentum=0.9)], start=starts, steps=40)
    diverging = gdviz.race(surface, [gdviz.optimizer("SGD", lr=1.2)], start=(-4.0, -2.0), steps=40)
    return surface, single + batched + diverging
"""
SCRIPT = (
    RACE_CODE
    + """
import streamlit as st
from ui.figures.surface_3d import surface_3d_figure

surface, race = make_race()
st.plotly_chart(
    surface_3d_figure(surface, race, ["GD", "from two starts", "too fast"]),
    key="pg_race3d",
    config={"plotGlPixelRatio": 1},
)
"""
)
# step the chart and read back what it holds, and how long the restyle took
STEP_JS = """t => {
    const gd = document.querySelector('.st-key-pg_race3d .js-plotly-plot');
    const start = performance.now();
    const ok = step3d(window.Plotly, gd, t);
    const ms = performance.now() - start;
    const meta = gd.layout.meta;
    const read = tr => ({x: Array.from(tr.x), y: Array.from(tr.y), z: Array.from(tr.z), marker: tr.marker || null});
    return {ok, ms, paths: meta.paths.map(i => read(gd.data[i])), heads: read(gd.data[meta.heads])};
}"""


def make_race():
    scope: dict = {}
    exec(RACE_CODE, scope)  # the very code the script runs
    return scope["make_race"]()


@pytest.fixture(scope="module")
def chart(browser, tmp_path_factory):
    """A tab showing the 3-D figure (drawn at the last step), with STEP_3D_JS loaded; its console errors."""
    from playwright.sync_api import expect

    folder = tmp_path_factory.mktemp("surface3d")
    script = folder / "surface_3d_page.py"
    script.write_text(SCRIPT)
    server = AppServer(folder / "server.log", script=str(script))
    server.start(timeout_s=120)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    try:
        page.goto(server.url)
        expect(page.locator(f"{CHART} .gl-container canvas").first).to_be_visible(timeout=LOAD_MS)
        assert page.evaluate("() => typeof window.Plotly === 'object' && typeof window.Plotly.restyle"), (
            "Streamlit's Plotly bundle no longer puts Plotly on window"
        )
        page.add_script_tag(content=STEP_3D_JS)
        yield page, errors
    finally:
        context.close()
        server.stop()


@pytest.fixture(scope="module")
def race():
    return make_race()


def _drawn(values: list) -> int:
    return sum(v is not None for v in values)


@pytest.mark.parametrize("step", [0, 5, 11, 17, STEPS])
def test_step3d_draws_each_path_to_the_step_and_moves_the_heads(chart, race, step):
    page, errors = chart
    surface, trajectories = race
    got = page.evaluate(STEP_JS, step)
    assert got["ok"] is True
    single, batched, diverging = got["paths"]
    # the single run: exactly its prefix, point for point its iterates
    assert len(single["x"]) == step + 1
    np.testing.assert_allclose(single["x"], trajectories[0].xs[: step + 1, 0], atol=1e-4)
    np.testing.assert_allclose(single["y"], trajectories[0].xs[: step + 1, 1], atol=1e-4)
    # two runs in one trace: both drawn to the step, the first padded with gaps (point j stays hover row j)
    assert _drawn(batched["x"]) == 2 * (step + 1) and len(batched["x"]) == STEPS + 2 + step + 1
    np.testing.assert_allclose(batched["x"][STEPS + 2 :], trajectories[1].xs[: step + 1, 1, 0], atol=1e-4)
    # the diverging run stops at its last good point
    diverged = int(trajectories[2].diverged_at)
    assert len(diverging["x"]) == min(step, diverged - 1) + 1
    # the heads: the step-t iterates, an X once the run has diverged
    heads = got["heads"]
    expected = [trajectories[0].xs[step], trajectories[1].xs[step, 0], trajectories[1].xs[step, 1]]
    np.testing.assert_allclose(np.c_[heads["x"][:3], heads["y"][:3]], np.array(expected), atol=1e-4)
    assert (heads["x"][3], heads["y"][3]) == (diverging["x"][-1], diverging["y"][-1])
    assert heads["marker"]["symbol"] == ["circle"] * 3 + ["x" if step >= diverged else "circle"]
    # the browser's prefix is the one the server draws for that step
    spec = surface_3d_spec(surface, trajectories, LABELS, current_step=step)
    for index, path in zip(spec["layout"]["meta"]["paths"], got["paths"]):
        assert path["x"] == spec["data"][index]["x"] and path["z"] == spec["data"][index]["z"]
    head_spec = spec["data"][spec["layout"]["meta"]["heads"]]
    assert heads["x"] == head_spec["x"] and heads["marker"]["color"] == head_spec["marker"]["color"]
    # the path traces' markers were left alone (restyle's undefined)
    assert all(path["marker"] is None or "symbol" not in path["marker"] for path in got["paths"])
    assert errors == []


def test_step3d_clamps_odd_steps_and_refuses_other_charts(chart):
    page, errors = chart
    assert len(page.evaluate(STEP_JS, -3)["paths"][0]["x"]) == 1
    assert len(page.evaluate(STEP_JS, 10**6)["paths"][0]["x"]) == STEPS + 1
    assert len(page.evaluate(STEP_JS, 2.6)["paths"][0]["x"]) == 4
    refused = page.evaluate(
        """() => {
            const gd = document.createElement('div');
            return [step3d(window.Plotly, gd, 3), step3d(window.Plotly, null, 3), step3d(undefined, gd, 3)];
        }"""
    )
    assert refused == [False, False, False]
    assert errors == []


def test_a_step_is_one_cheap_restyle_and_the_canvas_stays(chart, record_property, capsys):
    page, errors = chart
    calls = page.evaluate(
        """() => {
            const gd = document.querySelector('.st-key-pg_race3d .js-plotly-plot');
            const restyle = window.Plotly.restyle;
            let count = 0;
            const counting = Object.assign({}, window.Plotly, {restyle: (...args) => { count += 1; return restyle(...args); }});
            for (let t = 0; t <= 40; t++) step3d(counting, gd, t);
            return count;
        }"""
    )
    assert calls == 41  # one restyle per step, for every trace at once
    times = [page.evaluate(STEP_JS, t)["ms"] for t in range(0, STEPS + 1, 4)]
    median = float(np.median(times))
    record_property("step3d_ms", round(median, 1))
    with capsys.disabled():
        print(
            f"\n[surface 3d] step3d: median {median:.1f} ms per step (restyle call, JS side), max {max(times):.1f} ms"
        )
    from playwright.sync_api import expect

    expect(page.locator(f"{CHART} .gl-container canvas").first).to_be_visible()
    assert errors == []
