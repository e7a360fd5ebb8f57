"""The Lab's, Schedules' and Linear Regression's figures laid out for a phone (ui/figures/style.py: fit_to_phone).

Screenshots at 390 px showed a map squeezed to ~150 px beside its colour bar, plotly's mode bar lying over
the legend, a legend one entry per row, and optima's labels running off the map's edge."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import gdviz
from gdviz import landscape as L
from ui.figures.maps import stability_figure
from ui.figures.schedules import lr_figure
from ui.figures.style import PHONE_COLORBAR_ROOM, PHONE_COLORBAR_TICKS, fit_to_phone


@pytest.fixture(scope="module")
def stability():
    m = L.stability_map(
        gdviz.surface("quadratic"),
        "SGD",
        {},
        ("lr", tuple(np.geomspace(1e-3, 2, 12))),
        ("momentum", tuple(np.linspace(0, 0.99, 10))),
        steps=300,
    )
    optima = [(0.333, 0.0, "GD optimum"), (0.343, 0.029, "momentum optimum")]
    return stability_figure(m, True, False, selected=(0, 3), optima=optima)


def test_a_maps_colour_bar_lies_across_the_bottom_with_room_for_it(stability):
    phone = fit_to_phone(go.Figure(stability))  # in place: the fixture's figure stays as it was built
    heat, diverged = phone.data[0], phone.data[1]
    assert diverged.showscale is False and diverged.colorbar.orientation is None  # no bar: left alone
    bar = heat.colorbar
    assert (bar.orientation, bar.yref, bar.y, bar.yanchor, bar.len) == ("h", "container", 0.0, "bottom", 1.0)
    assert bar.title.text == "final f − f*" and bar.title.side == "bottom"
    # nine decades' labels would stand on end across a phone: every other one, the value under each label kept
    assert len(stability.data[0].colorbar.tickvals) > PHONE_COLORBAR_TICKS >= len(bar.tickvals)
    assert (
        dict(zip(bar.tickvals, bar.ticktext)).items()
        <= dict(zip(stability.data[0].colorbar.tickvals, stability.data[0].colorbar.ticktext)).items()
    )
    assert phone.layout.height == stability.layout.height + PHONE_COLORBAR_ROOM
    assert phone.layout.margin.b == stability.layout.margin.b + PHONE_COLORBAR_ROOM


def test_a_finger_scrolls_the_page_and_the_traces_stay_as_they_were(stability):
    names = [trace.name for trace in stability.data]
    phone = fit_to_phone(go.Figure(stability))
    assert phone.layout.dragmode is False and phone.layout.legend.itemsizing == "constant"
    assert [trace.name for trace in phone.data] == names  # a click maps to the same trace


def test_short_legend_names_go_two_to_a_row_long_ones_one():
    short = fit_to_phone(lr_figure([("constant η", np.full(10, 0.1)), ("step", np.full(10, 0.05))]))
    assert (short.layout.legend.entrywidth, short.layout.legend.entrywidthmode) == (0.5, "fraction")
    long = fit_to_phone(lr_figure([("PolynomialDecay(alpha=0.5, beta=0.1)", np.full(10, 0.1))]))
    assert long.layout.legend.entrywidth is None
    # no colour bar: no room added under the plot
    assert long.layout.height == lr_figure([("x", np.full(10, 0.1))]).layout.height


def test_the_optima_are_named_in_the_legend_not_written_over_the_map(stability):
    optima = [trace for trace in stability.data if trace.name in ("GD optimum", "momentum optimum")]
    assert len(optima) == 2
    assert all(trace.mode == "markers" and trace.text is None and trace.showlegend is not False for trace in optima)
