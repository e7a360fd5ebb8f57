"""The race map's step arrows at the minimum (issue 13): they do not knot over the star of a converged run."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from ui.figures.race import race_figure


@pytest.fixture(scope="module")
def quadratic():
    return gdviz.surface("quadratic")


def test_arrows_do_not_knot_over_the_star_of_a_converged_run(quadratic):
    race = gdviz.race(
        quadratic, [gdviz.optimizer("SGD", lr=0.1), gdviz.optimizer("Adam", lr=0.3)], start=(-5.0, -2.0), steps=200
    )
    assert np.linalg.norm(race[0].xs[-1]) < 1e-6  # converged onto the star at the origin
    fig = race_figure(quadratic, race, ["GD", "Adam"])
    glyphs = fig.layout.meta["glyphs"]
    update = fig.data[glyphs["update"]]
    assert update.x[0] is None and update.x[1] is None  # GD's tiny last step is not drawn at all
    # early on, far from the star, the same run's arrows are drawn
    early = race_figure(quadratic, race, ["GD", "Adam"], current_step=2)
    assert early.data[glyphs["update"]].x[0] is not None
    # a small step away from any minimum is still drawn, magnified to a readable length
    plateau = gdviz.surface("rosenbrock")
    slow = gdviz.race(plateau, [gdviz.optimizer("SGD", lr=5e-4)], start=(-1.5, 2.0), steps=3)
    fig = race_figure(plateau, slow, ["slow GD"], current_step=1)
    arrow = fig.data[fig.layout.meta["glyphs"]["update"]]
    assert arrow.x[0] is not None and "drawn ×" in arrow.customdata[0][-1]
