"""The 3-D view's figure: a mesh, every path up to ``current_step``, a head per run there, and the
``layout.meta`` a browser steps it with (tests/browser/test_surface_3d_browser.py runs the JS half)."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

import gdviz
from ui.figures import surface_3d as s3d
from ui.figures.plain import PlainFigure
from ui.figures.style import DIVERGED_COLOR, PALETTE
from ui.figures.surface_3d import kept_steps, surface_3d_figure, surface_3d_spec

LABELS = ["GD", "from two starts", "too fast"]
STARTS = np.array([[-4.0, -2.0], [3.0, 2.5]])


@pytest.fixture(scope="module")
def quadratic():
    return gdviz.surface("quadratic")


@pytest.fixture(scope="module")
def race(quadratic):
    """One single-run racer, one racer from two starts, and one that diverges (GD far beyond lr 0.5)."""
    single = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], start=(-4.0, -2.0), steps=40)
    batched = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.05, momentum=0.9)], start=STARTS, steps=40)
    diverging = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=1.2)], start=(-4.0, -2.0), steps=40)
    assert diverging[0].diverged_at is not None
    return single + batched + diverging


def drawn_points(values: list) -> int:
    return sum(v is not None for v in values)


def test_the_default_is_the_last_step(quadratic, race):
    fig = surface_3d_figure(quadratic, race, LABELS)
    meta = fig.layout.meta
    assert meta["kind"] == "surface3d" and meta["steps"] == 40 and meta["current_step"] == 40
    assert fig.data[0].type == "mesh3d" and fig.data[0].hoverinfo == "skip"
    assert [fig.data[i].name for i in meta["paths"]] == LABELS
    assert all(fig.data[i].type == "scatter3d" and fig.data[i].mode == "lines" for i in meta["paths"])
    # the single run drawn to its end, exactly its iterates (rounded to a screen's resolution)
    path = fig.data[meta["paths"][0]]
    np.testing.assert_allclose(np.asarray(path.x, dtype=float), race[0].xs[:, 0], atol=1e-4)
    np.testing.assert_allclose(np.asarray(path.y, dtype=float), race[0].xs[:, 1], atol=1e-4)


def test_a_step_draws_each_run_up_to_it_and_its_head_there(quadratic, race):
    step = 7
    fig = surface_3d_figure(quadratic, race, LABELS, current_step=step)
    meta = fig.layout.meta
    assert meta["current_step"] == step
    single, batched, diverging = (fig.data[i] for i in meta["paths"])
    assert len(single.x) == step + 1
    np.testing.assert_allclose(np.asarray(single.x, dtype=float), race[0].xs[: step + 1, 0], atol=1e-4)
    # two runs in one trace: the first padded with gaps to its full length (point j is hover row j), the
    # second cut after its prefix
    assert drawn_points(batched.x) == 2 * (step + 1)
    assert len(batched.x) == 41 + 1 + step + 1
    np.testing.assert_allclose(np.asarray(batched.x[42:], dtype=float), race[1].xs[: step + 1, 1, 0], atol=1e-4)
    assert batched.customdata[42 + step][0] == step  # the hover row of the last point drawn is step t's
    heads = fig.data[meta["heads"]]
    expected = [race[0].xs[step], race[1].xs[step, 0], race[1].xs[step, 1]]
    np.testing.assert_allclose(np.c_[heads.x, heads.y][:3], np.array(expected), atol=1e-4)
    # the diverging run is drawn clipped to a few windows around the view (its hover row has the true point)
    assert (heads.x[3], heads.y[3], heads.z[3]) == (diverging.x[-1], diverging.y[-1], diverging.z[-1])
    assert diverging.customdata[step][1] == pytest.approx(race[2].xs[step, 0], rel=1e-5)
    assert list(heads.marker.color) == [PALETTE[0], PALETTE[1], PALETTE[1], PALETTE[2]]
    assert list(heads.marker.symbol) == ["circle"] * 4


def test_a_diverged_run_stops_at_its_last_good_point_and_its_head_turns_to_an_x(quadratic, race):
    diverged = int(race[2].diverged_at)
    fig = surface_3d_figure(quadratic, race, LABELS, current_step=40)
    path = fig.data[fig.layout.meta["paths"][2]]
    assert len(path.x) == diverged  # steps 0 .. diverged - 1
    heads = fig.data[fig.layout.meta["heads"]]
    assert heads.marker.symbol[3] == "x" and heads.marker.color[3] == DIVERGED_COLOR
    assert heads.x[3] == path.x[-1]
    before = surface_3d_figure(quadratic, race, LABELS, current_step=diverged - 1)
    assert before.data[before.layout.meta["heads"]].marker.symbol[3] == "circle"
    assert fig.layout.meta["heads_style"]["diverged"] == [None, None, None, diverged]


def test_meta_holds_every_path_to_its_end(quadratic, race):
    meta = surface_3d_figure(quadratic, race, LABELS, current_step=3).layout.meta
    single, batched, _ = meta["full"]
    assert single["step"] == list(range(41))
    np.testing.assert_allclose(single["x"], race[0].xs[:, 0], atol=1e-4)
    assert batched["step"] == [*range(41), None, *range(41)]  # the gap between the two runs
    assert batched["x"][41] is None
    assert {"x", "y", "z", "step"} == set(single)
    assert meta["heads_style"]["color"] == [PALETTE[0], PALETTE[1], PALETTE[1], PALETTE[2]]


def test_steps_out_of_range_are_clamped_and_non_integers_refused(quadratic, race):
    assert surface_3d_figure(quadratic, race, LABELS, current_step=-5).layout.meta["current_step"] == 0
    assert surface_3d_figure(quadratic, race, LABELS, current_step=10**6).layout.meta["current_step"] == 40
    for bad in (1.5, "3", True):
        with pytest.raises(ValueError, match="current_step"):
            surface_3d_figure(quadratic, race, LABELS, current_step=bad)


def test_long_races_are_subsampled_to_the_point_budget(quadratic):
    steps = 5000
    long = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=1e-4)], start=(-4.0, -2.0), steps=steps)
    meta = surface_3d_figure(quadratic, long, ["slow"], current_step=1234).layout.meta
    full = meta["full"][0]
    assert len(full["step"]) <= s3d.POINTS_PER_RACER + 1 and full["step"][0] == 0 and full["step"][-1] == steps
    kept = kept_steps(steps, 4, [steps, 17, 4000, 4999])
    assert {17, 4000, 4999, steps} <= set(kept.tolist()) and len(kept) <= s3d.POINTS_PER_RACER // 4 + 4


def test_the_spec_goes_to_streamlit_as_it_is(quadratic, race):
    spec = surface_3d_spec(quadratic, race, LABELS, current_step=5)
    plain = PlainFigure(spec)
    mesh = plain.to_dict()["data"][0]
    assert mesh["type"] == "mesh3d" and isinstance(mesh["i"], dict)  # indices as a compact typed array
    payload = json.loads(pio.to_json(plain))
    assert payload["layout"]["meta"]["current_step"] == 5
    assert len(pio.to_json(plain)) < 400_000


def test_an_undefined_part_of_the_surface_leaves_holes_not_nans(race):
    surface = gdviz.custom_surface("log(x) + y^2")
    fig = surface_3d_figure(surface, [], [])
    mesh = fig.data[0]
    n = len(mesh.x)
    assert 0 < n < s3d.MESH_POINTS**2 and all(v is not None and np.isfinite(v) for v in mesh.z)
    assert max(np.max(mesh.i), np.max(mesh.j), np.max(mesh.k)) < n
    assert fig.layout.meta["heads"] is None and fig.layout.meta["paths"] == []
