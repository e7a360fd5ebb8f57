"""What the in-process page tests share: the app's path, opening it or one of its pages, and reading its URL."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from ui.live_chart import LIVE_CHART, figure_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120


def open_app(query: dict[str, str] | None = None) -> AppTest:
    """The app as a fresh visitor opens it (the Playground), with ``query`` as the link's parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    """The app switched to ``page`` (e.g. "pages/schedules.py"), with ``query`` as that page's link."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params.clear()  # a browser drops the Playground's query parameters on a page switch; AppTest keeps them
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def query_of(at: AppTest) -> dict[str, str]:
    """The page's URL parameters, each its last value."""
    return {key: (value[-1] if isinstance(value, list) else value) for key, value in at.query_params.items()}


def chart_specs(at: AppTest) -> list[str]:
    """The JSON of every Plotly chart on the page, in page order: ``st.plotly_chart``'s spec, or the figure a live
    chart (ui/live_chart.py: the Playground's race, panels and 3-D view) sends."""
    specs = []
    for node in at._tree:
        if node.type == "plotly_chart":
            specs.append(node.proto.spec)
        elif node.type == "bidi_component" and node.proto.component_name.endswith(LIVE_CHART):
            spec = figure_of(node.proto.bytes)
            if spec is not None:  # None: a chart put away (hidden)
                specs.append(spec)
    return specs


def plotly_array(values) -> np.ndarray:
    """A plotly array from a chart's JSON: a list, or a typed array {dtype, bdata}."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values, dtype=float)
