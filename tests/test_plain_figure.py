"""PlainFigure: the race reaches Streamlit as its plain dict, and serializes exactly as the go.Figure would."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest
from _plotly_utils.utils import convert_to_base64

import gdviz
from tests.app.apptest import chart_specs, open_app
from ui.figures.panels import panels_figure
from ui.figures.plain import PlainFigure, typed_arrays
from ui.figures.race import race_figure, race_spec

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
    at = open_app()
    assert not at.exception
    race_chart, panels = (json.loads(spec) for spec in chart_specs(at))
    meta = race_chart["layout"]["meta"]
    assert meta["kind"] == "race" and len(race_chart["frames"]) == meta["frames"] > 1
    assert len(race_chart["data"]) > meta["paths"][-1]
    assert panels["layout"]["meta"]["kind"] == "panels" and len(panels["data"]) >= 4


def test_typed_arrays_match_plotly_conversion():
    column = np.arange(12, dtype=np.float64).reshape(4, 3)
    figure = {
        "data": [
            {"x": np.linspace(0, 1, 7, dtype=np.float32), "y": np.linspace(-1, 1, 7), "customdata": column},
            {"x": column[:, 1], "y": np.arange(5), "z": np.arange(3, dtype=np.int64) * 10**12},
            {"x": np.array([], dtype=np.float64), "y": np.array([True, False]), "text": np.array(["a", "b"])},
            {"x": [np.arange(3.0)], "marker": {"size": np.full(3, 5, dtype=np.uint8)}},
        ],
        "layout": {"xaxis": {"range": np.array([0.0, 1.0])}, "mapbox": {"layers": [{"source": np.arange(2.0)}]}},
    }
    ours, theirs = _copy(figure), _copy(figure)
    typed_arrays(ours)
    convert_to_base64(theirs)
    assert pio.to_json(ours, validate=False) == pio.to_json(theirs, validate=False)
    assert ours["data"][0]["x"]["dtype"] == "f4" and ours["data"][0]["customdata"]["shape"] == "4, 3"


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value.copy() if isinstance(value, np.ndarray) else value
