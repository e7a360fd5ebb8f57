"""One colour meaning for loss and readable log axes on every page (issue 13).

Low loss is the same colour (the dark violet end of ui/figures/style.py's LOSS_COLORSCALE) on the
Playground's map and 3-D view, the Lab's stability map and surface pictures, the regression landscape and
the Networks page; every log axis labels its decades as powers of ten (10⁻², 10⁻¹), never with plotly's
bare digits between them.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest

import gdviz
from gdviz import landscape as L
from gdviz import regression as reg
from ui.figures import regression as regression_figures
from ui.figures.maps import stability_figure
from ui.figures.network import landscape_image
from ui.figures.panels import panels_figure
from ui.figures.schedules import band_figure
from ui.figures.style import LOSS_ANCHORS, LOSS_COLORSCALE, log_axis
from ui.figures.surface_3d import surface_3d_figure
from ui.figures.surface_picture import surface_image

FIGURES = Path(__file__).resolve().parents[1] / "ui" / "figures"


def png_pixels(uri: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"), dtype=int)


def assert_readable_log(axis) -> None:
    assert axis.type == "log" and axis.exponentformat == "power" and axis.minorloglabels == "none"


def test_the_loss_scale_runs_from_dark_to_pale():
    brightness = LOSS_ANCHORS.sum(axis=1)
    assert brightness[0] < brightness[-1]  # low loss dark violet, high loss pale yellow
    assert LOSS_COLORSCALE[0][0] == 0 and LOSS_COLORSCALE[-1][0] == 1 and len(LOSS_COLORSCALE) == len(LOSS_ANCHORS)


def test_no_figure_names_another_loss_scale_or_a_bare_log_axis():
    for path in FIGURES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"colorscale=\"|reversescale", text), path.name
        if path.name != "style.py":
            assert not re.search(r"type=\"log\"|_type=\"log", text), path.name


def test_every_loss_coloured_trace_uses_the_one_scale():
    quadratic = gdviz.surface("quadratic")
    race = gdviz.race(quadratic, [gdviz.optimizer("Adam", lr=0.3)], steps=20)
    mesh = surface_3d_figure(quadratic, race, ["Adam"]).data[0]
    assert [list(c) for c in mesh.colorscale] == LOSS_COLORSCALE and not mesh.reversescale
    m = L.stability_map(
        quadratic, "SGD", {}, ("lr", tuple(np.geomspace(0.01, 2, 5))), ("momentum", (0.0, 0.9)), steps=30
    )
    heat = stability_figure(m, True, False).data[0]
    assert [list(c) for c in heat.colorscale] == LOSS_COLORSCALE and not heat.reversescale
    X, y = reg.make_data(100, seed=0, dtype="float64")
    closed = reg.solve(X, y)
    result = reg.train(X, y, lr=1e-3, epochs=3)
    contour = regression_figures.landscape_figure(
        reg.mse_moments(X, y), result.trace, np.append(closed.weight, closed.bias)
    ).data[0]
    assert [list(c) for c in contour.colorscale] == LOSS_COLORSCALE and not contour.reversescale
    # the pictures: the lowest loss is painted with the scale's first colour on the Playground/Lab map
    # and on the Networks page's plane
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    picture = png_pixels(surface_image(quadratic, lo, hi)[0])
    centre = picture[picture.shape[0] // 2, picture.shape[1] // 2]
    np.testing.assert_allclose(centre, LOSS_ANCHORS[0], atol=8)
    bowl = np.add.outer(np.linspace(-1, 1, 21) ** 2, np.linspace(-1, 1, 21) ** 2)
    plane = png_pixels(landscape_image(bowl))
    np.testing.assert_allclose(plane[plane.shape[0] // 2, plane.shape[1] // 2], LOSS_ANCHORS[0], atol=8)


def test_log_axes_have_readable_ticks():
    quadratic = gdviz.surface("quadratic")
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=30)
    fig = panels_figure(race, ["GD"], log_loss=True)
    for axis in (fig.layout.yaxis, fig.layout.yaxis2, fig.layout.yaxis4):
        assert_readable_log(axis)
    assert panels_figure(race, ["GD"], log_loss=False).layout.yaxis.type == "linear"
    steps = np.arange(10)
    band = band_figure([("constant", steps, np.geomspace(1, 1e-3, 10), np.geomspace(2, 2e-3, 10))], "f", log=True)
    assert_readable_log(band.layout.yaxis)
    series = [dict(label="GD", epochs=np.arange(3.0), samples=np.array([1.0, 10, 100]), seconds=np.ones(3),
                   loss=np.array([3.0, 2.0, 1.5]))]  # fmt: skip
    loss = regression_figures.loss_figure(series, "samples", 1.0)
    assert_readable_log(loss.layout.xaxis)
    assert_readable_log(loss.layout.yaxis)
    assert log_axis(range=[-3, 0])["range"] == [-3, 0]


@pytest.mark.parametrize("name", ["eigen.py", "fair.py", "network.py", "schedules.py", "panels.py", "regression.py"])
def test_the_log_axes_of_each_figure_module_come_from_the_style(name):
    text = (FIGURES / name).read_text(encoding="utf-8")
    assert "log_axis(" in text


# -- the race chart on a projector and on a phone ---------------------------------------------------------
def test_race_views_for_a_projector_and_a_phone():
    from ui.figures.race import race_spec

    quadratic = gdviz.surface("quadratic")
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1), gdviz.optimizer("Adam", lr=0.3)], steps=30)
    labels = ["GD", "Adam"]
    projector = race_spec(quadratic, race, labels, view="projector")["layout"]
    texts = [projector["font"]["size"], projector["legend"]["font"]["size"], projector["hoverlabel"]["font"]["size"]]
    texts += [menu["font"]["size"] for menu in projector["updatemenus"]]
    texts += [projector["sliders"][0]["font"]["size"], projector["sliders"][0]["currentvalue"]["font"]["size"]]
    texts += [projector[a]["tickfont"]["size"] for a in ("xaxis", "yaxis")]
    texts += [projector[a]["title"]["font"]["size"] for a in ("xaxis", "yaxis")]
    assert min(texts) >= 16 and projector["height"] <= 480  # 1280x720 at 150 %: 480 CSS pixels high
    standard = race_spec(quadratic, race, labels)
    assert standard["layout"]["height"] == 620 and standard["layout"]["font"]["size"] == 14
    phone_spec = race_spec(quadratic, race, labels, view="phone")
    phone = phone_spec["layout"]
    slider = phone["sliders"][0]
    assert slider["x"] == 0.0 and slider["len"] == 1.0  # the slider on its own row ...
    assert all(menu["pad"]["t"] > slider["pad"]["t"] + 60 for menu in phone["updatemenus"])  # ... Play below it
    assert phone["legend"]["font"]["size"] < standard["layout"]["legend"]["font"]["size"]
    # the arrows keep their legend entries off a short legend (the caption explains them)
    arrows = [phone_spec["data"][i] for i in phone["meta"]["glyphs"].values()]
    assert arrows and all(t.get("showlegend") is False for t in arrows)
    with pytest.raises(ValueError, match="view must be one of"):
        race_spec(quadratic, race, labels, view="cinema")


def test_compact_panels_have_short_titles():
    quadratic = gdviz.surface("quadratic")
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=30)
    titles = [a.text for a in panels_figure(race, ["GD"], compact=True).layout.annotations[:4]]
    assert max(len(re.sub("<[^>]+>", "", t)) for t in titles) <= 9


def test_on_a_phone_the_four_panels_stand_one_under_another_with_the_same_axes():
    """Side by side at ~170 px the right panels' axis titles and ticks lay on the left ones (a phone's
    screenshot): one under another, each at full width; the same axis names, which the stage's cursor uses."""
    quadratic = gdviz.surface("quadratic")
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=30)
    standard, phone = (
        panels_figure(race, ["GD"], current_step=3),
        panels_figure(race, ["GD"], current_step=3, compact=True),
    )
    layout = phone.layout
    domains = [layout[f"yaxis{k}"].domain for k in ("", "2", "3", "4")]
    assert all(tuple(layout[f"xaxis{k}"].domain) == (0.0, 1.0) for k in ("", "2", "3", "4"))
    assert all(upper[0] > lower[1] for upper, lower in zip(domains, domains[1:]))  # loss on top, ‖∇f‖ at the bottom
    assert sorted({t.yaxis for t in phone.data}) == sorted({t.yaxis for t in standard.data})
    assert [s.xref for s in layout.shapes] == [s.xref for s in standard.layout.shapes] == ["x", "x2", "x3", "x4"]
    assert layout.dragmode is False and standard.layout.dragmode is None
