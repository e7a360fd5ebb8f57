"""PlainFigure: the race reaches Streamlit as its plain dict, and serializes exactly as the go.Figure would."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

import gdviz
from ui.figures import panels_figure, race_figure, race_spec
from ui.plain_figure import PlainFigure

APP = str(Path(__file__).resolve().parents[1] / "app.py")
LABELS = ["GD", "momentum", "Adam"]


@pytest.fixture(scope="module")
def race():
    surface = gdviz.surface("quadratic")
    optimizers = [
        gdviz.optimizer("SGD", lr=0.1),
        gdviz.optimizer("SGD", lr=0.1, momentum=0.5),
        gdviz.optimizer("Adam", lr=0.3),
    ]
    return surface, gdviz.race(surface, optimizers, start=(-5.0, -2.0), steps=100)


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def test_plain_figure_serializes_as_the_go_figure_built_from_the_same_dict(race):
    surface, trajectories = race
    spec = race_spec(surface, trajectories, LABELS)
    plain = _json(PlainFigure(spec))
    expected = _json(race_figure(surface, trajectories, LABELS))
    assert plain == expected
    assert len(plain["frames"]) == len(spec["frames"]) > 1


def test_serializing_a_plain_figure_does_not_change_it(race):
    """Cached figures serve every rerun and session: Streamlit and the HTML export only read them."""
    surface, trajectories = race
    fig = PlainFigure(race_spec(surface, trajectories, LABELS))
    first = pio.to_json(fig)
    fig.to_html(include_plotlyjs=False)
    assert pio.to_json(fig) == first
    # the paths travel as base64 typed arrays, as plotly.py sends NumPy arrays
    path = json.loads(first)["frames"][-1]["data"][0]
    assert set(path["x"]) == {"dtype", "bdata"}


def test_panels_as_plain_figure_match(race):
    _, trajectories = race
    fig = panels_figure(trajectories, LABELS, current_step=10, tolerance=1e-4)
    assert _json(PlainFigure(fig.to_dict())) == _json(fig)


def test_streamlit_sends_the_whole_race_figure():
    """If Streamlit stopped reading to_dict() the chart would arrive empty: the element must carry every frame."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    race_chart, panels = (json.loads(element.proto.spec) for element in at.get("plotly_chart"))
    meta = race_chart["layout"]["meta"]
    assert meta["kind"] == "race" and len(race_chart["frames"]) == meta["frames"] > 1
    assert len(race_chart["data"]) > meta["paths"][-1]
    assert panels["layout"]["meta"]["kind"] == "panels" and len(panels["data"]) >= 4
