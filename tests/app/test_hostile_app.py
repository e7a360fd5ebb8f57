"""The running app (AppTest) against hostile visitors: typed formulas, links, uploads, numbers that go wrong,
several sessions at once, and memory over many reruns.

Every case asks the same of the page: a message the visitor can read, no exception, and charts whose JSON
holds no NaN or infinity. The scripts run with warnings as errors, so a RuntimeWarning from NumPy would
surface as an exception here. The engine-level versions of these checks are in tests/test_formula_hostile.py
and tests/test_hardening.py.
"""

from __future__ import annotations

import gc
import json
import re
import warnings
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import gdviz
from gdviz import critical
from tests.app.apptest import APP, TIMEOUT, chart_specs, ok, query_of
from tests.test_formula_hostile import HOSTILE
from tests.test_hardening import NUMERIC_CASES, shared_state
from ui import limits
from ui.playground.presets import PRESETS
from ui.playground.scenario import from_query

ROOT = Path(__file__).resolve().parents[2]

# one of each kind of the engine's corpus (tests/test_formula_hostile.py), picked by content so that the
# corpus may grow: attribute and dunder access, imports, lambdas, comprehensions, huge powers, deep nesting,
# very long input, unicode look-alikes, null bytes, plus the corpus' first and last entries
_WANTED = (
    r"__class__",
    r"^__import__\('os'\)\.system",
    r"^import os$",
    r"^lambda",
    r"^\[x for",
    r"9\*\*9\*\*9|9\^9\^9",
    r"^\({50,}",
    r"\x00",
    r"[\u0400-\u04ff\uff00-\uffef]",
)
HOSTILE_SAMPLE = list(
    dict.fromkeys(
        [next(text for text in HOSTILE if re.search(pattern, text)) for pattern in _WANTED]
        + [HOSTILE[0], HOSTILE[-1], "x + " * 100 + "x"]  # the last: longer than the app's cap, cut, then refused
    )
)


def _texts(elements) -> str:
    """The elements' text as the visitor reads it (the page escapes Markdown in untrusted text)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in elements))


def _strict(text: str):
    def refuse(token):
        raise AssertionError(f"{token} in a chart's JSON")

    return json.loads(text, parse_constant=refuse)


def _charts(at: AppTest) -> list[dict]:
    """Every plotly chart's spec as sent to the browser, read as strict JSON (no NaN, no Infinity)."""
    return [_strict(spec) for spec in chart_specs(at)]


def _run(at: AppTest) -> AppTest:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return at.run()


def playground(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return _run(at)


def other_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    _run(at)
    at.query_params.clear()  # a browser drops the Playground's parameters on a page switch
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return _run(at)


# -- typed formulas ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula", HOSTILE_SAMPLE, ids=[ascii(t)[:30] for t in HOSTILE_SAMPLE])
def test_a_hostile_formula_in_a_link_is_refused_with_a_message(formula):
    at = playground({"f": formula})
    ok(at)
    assert "The formula is not accepted" in _texts(at.error)
    assert "Traceback" not in _texts(at.error)
    assert _charts(at) == []  # nothing ran


def test_hostile_formulas_typed_into_the_box_and_then_a_good_one():
    """The same session takes one hostile formula after another, says why each time, and still works."""
    at = playground()
    at.selectbox(key="pg_surface").set_value("custom")
    _run(at)
    for formula in HOSTILE_SAMPLE[:6]:
        at.text_input(key="pg_formula").input(formula[: limits.MAX_FORMULA_CHARS])
        _run(at)
        ok(at)
        assert "The formula is not accepted" in _texts(at.error), formula
    at.text_input(key="pg_formula").input("x^2 + 3*y^2")
    _run(at)
    ok(at)
    assert not at.error and len(_charts(at)) == 2
    assert query_of(at)["f"] == "x^2 + 3*y^2"


# -- hostile links ----------------------------------------------------------------------------------------------
PLAYGROUND_LINKS = {
    "numbers out of range": {
        "steps": "1e999",
        "noise": "nan",
        "seed": "-1",
        "batch": "99999999999999999999999",
        "x0": "inf,-inf",
        "o1": "SGD",
        "o1.lr": "-1",
        "o1.momentum": "NaN",
        "o1.clip": "0",
        "o1.label": "<script>alert(1)</script>$\\frac{1}{0}$",
    },
    "names that are paths and code": {
        "s": "../../etc/passwd",
        "sched": "__import__('os')",
        "o1": "Quantum",
        "o2": "SGD",
        "o2.__class__": "1",
        "o2.lr": "0.1",
    },
    "control characters and huge values": {"\x00": "\x00", "é" * 300: "x" * 20_000, "o1": "A" * 5_000, "v": "9"},
    "too many parameters": {f"k{i}": str(i) for i in range(limits.MAX_QUERY_KEYS + 50)},
    "too many optimizers": {f"o{i}": "Adam" for i in range(1, 21)} | {"steps": "5000", "x0": "1,1;2,2;3,3;4,4;5,5"},
    "repeated keys": {"steps": ["10", "20", "30"], "o1": ["SGD", "Adam"], "o1.lr": ["0.1", "bad"]},
    "a schedule with bad values": {"sched": "StepLR", "sched.step_size": "-5", "sched.gamma": "1e308", "o1": "SGD"},
}


@pytest.mark.parametrize("name", PLAYGROUND_LINKS, ids=list(PLAYGROUND_LINKS))
def test_a_hostile_playground_link_gives_notices_and_a_valid_page(name):
    at = playground(PLAYGROUND_LINKS[name])
    ok(at)
    assert at.warning, "every refused or clamped value is named in a notice"
    assert len(_charts(at)) == 2  # the race and the panels, drawn from a valid scenario
    scenario, notices = from_query(query_of(at))
    assert notices == []  # the address bar now holds a clean link
    assert limits.MIN_STEPS <= scenario.steps <= limits.MAX_STEPS
    assert len(scenario.optimizers) <= limits.MAX_OPTIMIZERS
    runs = len(scenario.optimizers) * (1 + len(scenario.more_starts))
    assert runs * scenario.steps <= limits.MAX_RUN_STEPS
    assert all("<" not in item.label and "$" not in item.label for item in scenario.optimizers)


def test_hostile_links_to_schedules_are_clamped_with_notices():
    query = {
        "n": "1e9",
        "steps": "1e12",
        "seeds": "-4",
        "seed": "nan",
        "sc1": "__import__",
        "sc2": "StepLR",
        "sc2.gamma": "inf",
        "sc2.step_size": "0",
        "x0": "1e400,2",
        "lr": "1e-300",
        "\x00": "1",
    }
    at = other_page("pages/schedules.py", query)
    ok(at)
    # η(t), μ(t) (the sixth slot's default, OneCycleLR, cycles the momentum), the band and the paths
    assert at.warning and len(_charts(at)) == 4
    assert at.number_input(key="sc_steps").value == limits.MAX_SCHEDULE_STEPS
    assert at.number_input(key="sc_n").value == limits.MAX_SCHEDULES_COMPARED
    assert at.slider(key="sc_seeds").value == 1


def test_hostile_links_to_the_landscape_lab_are_clamped_with_notices():
    query = {
        "view": "stability",
        "st.n": "-5",
        "st.steps": "1e9",
        "st.xlo": "-inf",
        "st.xhi": "1e300",
        "st.ax": "__class__",
        "st.o": "SGD",
        "st.o.lr": "nan",
        "st.s": "custom",
        "st.x0": "1,2,3,4",
    }
    at = other_page("pages/landscape.py", query)
    ok(at)
    assert at.warning and len(_charts(at)) == 1
    assert at.slider(key="lab_st_n").value == 4
    assert at.number_input(key="lab_st_steps").value == limits.MAX_LAB_STEPS


def test_hostile_links_to_the_regression_page_are_clamped_with_notices():
    query = {
        "n": "-3",
        "d": "1e9",
        "epochs": "1e9",
        "bs": "0",
        "device": "cuda;rm -rf /",
        "dtype": "float16",
        "opt": "eval",
        "opt.lr": "nan",
        "src": "../../etc/passwd",
        "seed": "1e400",
    }
    at = other_page("pages/regression.py", query)
    ok(at)
    text = _texts(at.warning)
    assert "out of range" in text and "unknown" in text.lower()
    assert at.number_input(key="rg_n").value == 2
    assert at.number_input(key="rg_d").value == limits.MAX_FEATURES
    assert at.number_input(key="rg_epochs").value == limits.MAX_EPOCHS
    assert at.radio(key="rg_device").value == "auto" and at.radio(key="rg_dtype").value == "float32"
    _charts(at)


# -- uploads that cannot be used -----------------------------------------------------------------------------
def _upload(name: str, data: bytes) -> AppTest:
    """The Linear Regression page with an upload (AppTest cannot drive the file widget: see test_regression_page)."""
    at = other_page("pages/regression.py")
    at.session_state["rg_upload"] = (name, data)
    at.radio(key="rg_src").set_value("upload")
    return _run(at)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("big.csv", b"x,y\n" + b"1.5,2.5\n" * (limits.MAX_UPLOAD_BYTES // 8 + 1), "the limit is"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "cannot be used"),
        ("header-only.csv", b"x,y\n", "no data rows"),
        (
            "wide.csv",
            (",".join(f"c{i}" for i in range(limits.REGRESSION_MAX_UPLOAD_COLUMNS + 1)) + "\n").encode(),
            "columns",
        ),
        ("formula.csv", b"x,y\n=cmd|' /C calc'!A0,1\n2,3\n", "two numeric columns"),
    ],
)
def test_an_unusable_upload_is_a_message_and_the_page_goes_on(name, data, message):
    at = _upload(name, data)
    ok(at)
    assert message in _texts(at.error)
    at.radio(key="rg_src").set_value("synthetic")
    _run(at)
    ok(at)
    assert not at.error and _charts(at)


# -- numbers that go wrong, through the Playground --------------------------------------------------------------
@pytest.mark.parametrize("case", NUMERIC_CASES, ids=list(NUMERIC_CASES))
def test_the_playground_says_what_went_wrong_and_draws_finite_charts(case):
    query, expected = NUMERIC_CASES[case]
    at = playground(query)
    ok(at)
    charts = _charts(at)
    assert len(charts) == 2
    if expected is not None:
        assert expected in _texts(at.error), _texts(at.error)
    at.toggle(key="pg_log").set_value(False)
    _run(at)
    ok(at)
    _charts(at)
    if len(query.get("x0", "0,0").split(";")[0].split(",")) == 2:
        at.toggle(key="pg_3d").set_value(True)
        _run(at)
        ok(at)
        assert len(_charts(at)) == 3


def test_a_formula_undefined_at_the_start_says_so():
    at = playground({"f": "log(x) + sqrt(y)", "x0": "-1,-1"})
    ok(at)
    assert "not finite at the start point" in _texts(at.error)


# -- sessions ---------------------------------------------------------------------------------------------------
def test_sessions_are_isolated():
    """What one visitor sets never shows in another's session, though they share the caches."""
    first = playground({"f": "x^2 + 3*y^2", "x0": "2,1", "steps": "300"})
    second = playground()
    ok(first)
    ok(second)
    assert second.selectbox(key="pg_surface").value != "custom"
    assert second.select_slider(key="pg_steps").value == limits.DEFAULT_STEPS
    second.select_slider(key="pg_steps").set_value(50)
    _run(second)
    second.text_input(key="pg_o0_label").input("mine")
    _run(second)
    _run(first)  # the first visitor's next rerun
    ok(first)
    assert first.text_input(key="pg_formula").value == "x^2 + 3*y^2"
    assert first.select_slider(key="pg_steps").value == 300
    assert first.text_input(key="pg_o0_label").value == ""
    assert query_of(first)["steps"] == "300" and query_of(second)["steps"] == "50"
    third = playground({"f": "x^2 + 3*y^2", "x0": "2,1", "steps": "300"})  # the same link: the same picture
    assert chart_specs(third)[0] == chart_specs(first)[0]


def test_visits_leave_shared_state_unchanged():
    """Module globals, the registries (their surfaces and classes too) and the constant tables are the same
    after visitors went through every page; the memo tables hold only values that are their keys' functions."""
    before = shared_state()
    at = playground({"o1": "Newton", "f": "x + y"})
    at = playground()
    at.selectbox(key="pg_preset").set_value(next(iter(PRESETS)))
    _run(at)
    at.selectbox(key="pg_o0_name").set_value("Adam")
    _run(at)
    ok(at)
    for query in (
        {"view": "stability", "st.n": "8", "st.steps": "40"},
        {"view": "basins", "ba.n": "8", "ba.steps": "40"},
        {"view": "escape", "es.n": "4", "es.steps": "40", "es.runs": "4"},
        {"view": "critical", "cp.s": "himmelblau"},
        {"view": "fair", "fc.n": "3", "fc.steps": "40"},
    ):
        ok(other_page("pages/landscape.py", query))
    ok(other_page("pages/schedules.py", {"steps": "50", "seeds": "2"}))
    ok(other_page("pages/regression.py", {"opt": "Newton", "epochs": "2", "n": "20"}))
    after = shared_state()
    changed = sorted(name for name in before if before[name] != after.get(name))
    assert changed == []
    assert set(after) == set(before)
    for surface, value in list(critical._CURVATURE.items()):
        del critical._CURVATURE[surface]
        assert critical.curvature_scale(surface) == value


# -- memory -----------------------------------------------------------------------------------------------------
def _rss_mb() -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, flags=re.MULTILINE).group(1)) / 1024


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_memory_stays_bounded_over_100_reruns_with_new_inputs():
    """100 reruns, each a new scenario (a new start point and step count: never a cache hit), in one process.

    AppTest runs the same script, the same caches (process-wide, as on the server) and the same session
    state as the server does; what it leaves out is the websocket and the browser. benchmarks/load.py
    measures the real server over 500 reruns.
    """
    at = playground()
    for warm in range(5):  # imports and first allocations are not growth
        at.number_input(key="pg_x0_0").set_value(-4.0 + 0.1 * warm)
        _run(at)
    gc.collect()
    start = _rss_mb()
    steps = [100, 200, 300, 500, 1000]
    for k in range(100):
        at.number_input(key="pg_x0_0").set_value(round(-4.9 + 0.0937 * k, 4))
        if k % 10 == 0:
            at.select_slider(key="pg_steps").set_value(steps[(k // 10) % len(steps)])
        _run(at)
        assert not at.exception
    gc.collect()
    growth = _rss_mb() - start
    assert growth < 100, f"RSS grew by {growth:.0f} MB over 100 reruns"
    assert gdviz.OPTIMIZERS  # the registries are intact
