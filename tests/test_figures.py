"""Figure builders and downloads: structure, animation frames, payload, hover data, glyphs, exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

import gdviz
from gdviz.surfaces.base import Surface
from ui.figures.panels import panels_figure, results_rows
from ui.figures.race import race_figure
from ui.figures.race_traces import FRAME_POINT_BUDGET
from ui.figures.style import DIVERGED_COLOR, PALETTE
from ui.figures.surface_3d import surface_3d_figure
from ui.figures.surface_picture import (
    CONTOUR_MAX_POINTS,
    IMAGE_PIXELS,
    cell_grid,
    contour_lines,
    iso_levels,
    iso_line_arrays,
    png_bytes,
    surface_values,
)
from ui.playground.export import figure_html, trajectories_csv, trajectories_json

LABELS = ["GD", "momentum", "Adam", "RMSprop"]


# -- helpers ----------------------------------------------------------------------------------------
def decode(value):
    """Plotly's JSON form of an array: a list, or {"dtype", "bdata"} for a binary-packed NumPy array."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return value


def as_list(value) -> list:
    return list(decode(value)) if not isinstance(value, (list, tuple)) else list(value)


def walk_numbers(node, path="$"):
    """Yield (path, number) for every number in parsed figure JSON, typed arrays included."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            for i, v in enumerate(decode(node)):
                yield f"{path}[{i}]", v
            return
        for key, value in node.items():
            yield from walk_numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_numbers(value, f"{path}[{i}]")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def parse_strict(text: str):
    def refuse(constant):
        raise AssertionError(f"non-finite constant {constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def _without_gaps(trace: dict) -> dict:
    """The trace with its gaps taken out: an index where x and y are both NaN in typed arrays is a break in
    the line (what None is in a list), not a non-finite number."""
    if not all(isinstance(trace.get(axis), dict) and "bdata" in trace[axis] for axis in ("x", "y")):
        return trace
    x, y = (np.asarray(decode(trace[axis]), dtype=float) for axis in ("x", "y"))
    if x.shape != y.shape:
        return trace
    keep = ~(np.isnan(x) & np.isnan(y))
    return trace | {"x": x[keep].tolist(), "y": y[keep].tolist()}


def assert_all_finite(fig: go.Figure):
    doc = parse_strict(fig.to_json())
    doc["data"] = [_without_gaps(trace) for trace in doc.get("data", [])]
    bad = [(p, v) for p, v in walk_numbers(doc) if not math.isfinite(v)]
    assert not bad, bad[:5]


def no_minimum_surface() -> Surface:
    """A tilted valley with no minimum at all: f = x1 + x2²."""
    return Surface(
        name="tilted_valley",
        title="x1 + x2²",
        dim=2,
        f=lambda x: x[..., 0] + x[..., 1] ** 2,
        grad=lambda x: np.stack([np.ones_like(x[..., 0]), 2 * x[..., 1]], axis=-1),
        hessian=lambda x: np.broadcast_to(np.diag([0.0, 2.0]), x.shape[:-1] + (2, 2)),
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        minima=np.zeros((0, 2)),
        f_min=float("nan"),
        default_start=(2.0, 1.5),
    )


@pytest.fixture(scope="module")
def quadratic():
    return gdviz.surface("quadratic")


@pytest.fixture(scope="module")
def default_race(quadratic):
    """The default scenario's shape: four optimizers × 100 steps on a 2-D surface."""
    opts = [
        gdviz.optimizer("SGD", lr=0.1),
        gdviz.optimizer("SGD", lr=0.1, momentum=0.5),
        gdviz.optimizer("Adam", lr=0.3),
        gdviz.optimizer("RMSprop", lr=0.05),
    ]
    return gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=100)


@pytest.fixture(scope="module")
def default_fig(quadratic, default_race):
    return race_figure(quadratic, default_race, LABELS)


@pytest.fixture(scope="module")
def diverging(quadratic):
    """GD beyond the stable lr 2/λmax = 0.5 of x1² + 2x2² blows up; momentum survives."""
    opts = [gdviz.optimizer("SGD", lr=0.6), gdviz.optimizer("SGD", lr=0.05, momentum=0.9)]
    race = gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=150)
    assert race[0].diverged_at is not None and race[1].diverged_at is None
    return race


# -- the race figure (2-D) -----------------------------------------------------------------------------
def test_race_trace_layout(default_fig, default_race):
    meta = default_fig.layout.meta
    data = default_fig.data
    assert meta["kind"] == "race" and meta["surface"] == "quadratic" and meta["dim"] == 2
    assert [data[i].name for i in meta["paths"]] == LABELS
    assert all(data[i].type == "scatter" and data[i].mode == "lines+markers" for i in meta["paths"])
    assert data[meta["heads"]].mode == "markers"
    assert set(meta["glyphs"]) == {"update", "gradient", "momentum"}
    names = [t.name for t in data]
    assert {"contours", "surface", "global minimum", "start"} <= set(names)
    # no trace is a contour or heatmap: the picture lives in the layout so frames can skip redraws
    assert all(t.type in ("scatter",) for t in data)
    # every optimizer keeps its palette colour
    for k, i in enumerate(meta["paths"]):
        assert data[i].line.color == PALETTE[k]


def test_surface_is_a_layout_image_that_frames_never_touch(default_fig, quadratic):
    from PIL import Image

    images = default_fig.layout.images
    assert len(images) == 1
    image = images[0]
    assert image.layer == "below" and image.xref == "x" and image.yref == "y"
    assert image.source.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(image.source.split(",", 1)[1])))
    pixels = np.asarray(png.convert("RGB"))
    assert pixels.shape == (IMAGE_PIXELS, IMAGE_PIXELS, 3)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100  # a real picture, not a flat fill
    # the image covers exactly the axis ranges
    x_range, y_range = default_fig.layout.xaxis.range, default_fig.layout.yaxis.range
    assert image.x == x_range[0] and image.y == y_range[1]
    assert math.isclose(image.sizex, x_range[1] - x_range[0]) and math.isclose(image.sizey, y_range[1] - y_range[0])
    # the lowest colour lies at the minimum (0, 0): the pixel nearest to it is the darkest
    col = int((0 - x_range[0]) / (x_range[1] - x_range[0]) * pixels.shape[1])
    row = int((y_range[1] - 0) / (y_range[1] - y_range[0]) * pixels.shape[0])
    brightness = pixels.sum(axis=2)
    assert brightness[row, col] <= np.percentile(brightness, 2)
    doc = default_fig.to_dict()
    assert all("layout" not in frame for frame in doc["frames"])
    assert doc["layout"]["images"][0]["source"] == image.source


def test_animation_controls_never_redraw(default_fig):
    layout = default_fig.layout
    commands = [b.args for menu in layout.updatemenus for b in menu.buttons]
    commands += [s.args for s in layout.sliders[0].steps]
    assert commands and all(args[1]["frame"]["redraw"] is False for args in commands)
    labels = [b.label for b in layout.updatemenus[0].buttons]
    assert any("Play" in label for label in labels) and any("Pause" in label for label in labels)
    assert len(layout.updatemenus[1].buttons) >= 3  # speed choices
    frame_names = [f.name for f in default_fig.frames]
    assert [s.args[0][0] for s in layout.sliders[0].steps] == frame_names


@pytest.mark.parametrize("max_frames", [1, 7, 40, 120])
def test_frame_count_is_bounded(quadratic, default_race, max_frames):
    fig = race_figure(quadratic, default_race, LABELS, max_frames=max_frames)
    steps = [int(f.name) for f in fig.frames]
    assert len(steps) <= max_frames + 1
    assert steps[0] == 0 and steps[-1] == 100 and steps == sorted(set(steps))
    assert fig.layout.meta["frames"] == len(steps)


def test_frames_grow_paths_as_prefixes(default_fig, default_race):
    meta = default_fig.layout.meta
    for frame in default_fig.frames:
        step = int(frame.name)
        assert list(frame.traces) == list(range(meta["paths"][0], meta["paths"][0] + len(frame.data)))
        for k, traj in enumerate(default_race):
            path = frame.data[k]
            assert len(path.x) == step + 1
            np.testing.assert_allclose(np.asarray(path.x, dtype=float), traj.xs[: step + 1, 0], atol=1e-4)


def test_last_frame_path_is_the_trajectory(default_fig, default_race):
    last = default_fig.frames[-1]
    for k, traj in enumerate(default_race):
        path = last.data[k]
        drawn = np.stack([np.asarray(path.x, dtype=float), np.asarray(path.y, dtype=float)], axis=1)
        np.testing.assert_allclose(drawn, traj.xs, atol=1e-4)
        # the base figure (at the last step) shows the same path
        base = default_fig.data[default_fig.layout.meta["paths"][k]]
        np.testing.assert_allclose(np.asarray(base.x, dtype=float), traj.xs[:, 0], atol=1e-4)


def test_long_runs_are_subsampled_within_budget(quadratic):
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.01), gdviz.optimizer("Adam", lr=0.01)], steps=3000)
    fig = race_figure(quadratic, race, ["GD", "Adam"])
    meta = fig.layout.meta
    assert meta["path_points"] < 3001 and len(fig.frames) <= 121
    for k, traj in enumerate(race):
        base = fig.data[meta["paths"][k]]
        steps = np.array([row[0] for row in base.customdata])
        assert steps[0] == 0 and steps[-1] == 3000 and np.all(np.diff(steps) > 0)
        path = fig.frames[-1].data[k]
        np.testing.assert_allclose(np.asarray(path.x, dtype=float), traj.xs[steps, 0], atol=1e-4)
        np.testing.assert_allclose(np.asarray(path.y, dtype=float), traj.xs[steps, 1], atol=1e-4)
    prefix_points = sum(len(f.data[k].x) for f in fig.frames for k in range(2))
    assert prefix_points <= FRAME_POINT_BUDGET * 1.1
    assert len(fig.to_json()) < 2_000_000


def test_default_scenario_payload(default_fig):
    text = default_fig.to_json()
    assert len(text) < 2_000_000, len(text)
    doc = parse_strict(text)
    per_frame = len(json.dumps(doc["frames"])) / len(doc["frames"])
    assert per_frame < 12_000, per_frame


def test_figure_is_valid_plotly(default_fig):
    # race_figure skips plotly.py's validation for speed; this proves the dicts are valid anyway
    go.Figure(default_fig.to_dict())


def test_no_nan_or_inf_anywhere(quadratic, default_fig, diverging):
    assert_all_finite(default_fig)
    assert_all_finite(race_figure(quadratic, diverging, ["too fast", "momentum"]))
    assert_all_finite(panels_figure(diverging, ["too fast", "momentum"], current_step=10, tolerance=1e-3))
    assert_all_finite(surface_3d_figure(quadratic, diverging, ["too fast", "momentum"]))


def test_hover_customdata_matches_the_trajectory(default_fig, default_race):
    meta = default_fig.layout.meta
    for k, traj in enumerate(default_race):
        trace = default_fig.data[meta["paths"][k]]
        assert "f(x)" in trace.hovertemplate and "‖∇f‖" in trace.hovertemplate and "lr" in trace.hovertemplate
        assert LABELS[k] in trace.hovertemplate
        rows = trace.customdata
        assert len(rows) == len(trace.x) == traj.steps + 1
        norms = traj.grad_norms()
        for t in (0, 1, 37, 100):
            step, x1, x2, f, g, lr, run, note = rows[t]
            assert step == t and run == 0 and note == ""
            np.testing.assert_allclose([x1, x2], traj.xs[t], rtol=1e-5, atol=1e-12)
            np.testing.assert_allclose([f, g], [traj.losses[t], norms[t]], rtol=1e-5, atol=1e-300)
            assert lr == pytest.approx(traj.lrs[max(t - 1, 0)], rel=1e-5)


def test_hover_rows_made_on_demand_are_every_row_formatted_at_once():
    """The rows are made when a figure asks for them (a figure shows a few of a run's steps); each is what
    formatting the whole run at once gives: a batched race with a diverged run and a schedule."""
    from ui.figures.style import hover_rows, runs_of, sig

    race = gdviz.race(
        gdviz.surface("rosenbrock"),
        [gdviz.optimizer("SGD", lr=2e-3), gdviz.optimizer("Adam", lr=0.05)],
        start=np.array([[-1.5, 2.0], [3.0, 3.0]]),
        steps=60,
        schedule=gdviz.schedule("StepLR", step_size=10, gamma=0.5),
    )
    runs = runs_of(race, ["SGD", "Adam"])
    assert (runs[0].diverged >= 0).any()  # SGD from (3, 3) blows up
    for r in runs:
        for run in range(r.n_runs):
            steps = np.arange(r.steps + 1)
            lr = r.lrs[np.maximum(steps - 1, 0), run]
            xs, d = sig(r.xs[:, run]), int(r.diverged[run])
            values = zip(sig(r.losses[:, run]), sig(r.grad_norms[:, run]), sig(lr))
            eager = [
                [
                    t,
                    *xs[t * 2 : t * 2 + 2],
                    f,
                    g,
                    eta,
                    run,
                    f"<br><b>diverged at step {d}</b>" if 0 <= d <= t + 1 else "",
                ]
                for t, (f, g, eta) in enumerate(values)
            ]
            rows = hover_rows(r, run)
            assert len(rows) == len(eager)
            assert [rows[t] for t in (37, 0, -1, 5)] == [eager[t] for t in (37, 0, -1, 5)]  # any order
            assert list(rows) == eager and rows[10:20] == eager[10:20]
            with pytest.raises(IndexError):
                rows[r.steps + 1]


def test_glyph_arrows_at_the_current_step(quadratic, default_race):
    step = 3
    fig = race_figure(quadratic, default_race, LABELS, current_step=step)
    meta = fig.layout.meta
    assert meta["current_step"] == step and fig.layout.sliders[0].active == meta["frame_steps"].index(step)
    update, gradient, momentum = (fig.data[meta["glyphs"][key]] for key in ("update", "gradient", "momentum"))
    assert list(update.marker.symbol[:3]) == ["circle", "arrow", "circle"]
    assert update.marker.angleref == "previous"
    for k, traj in enumerate(default_race):
        tail = np.array([update.x[3 * k], update.y[3 * k]], dtype=float)
        tip = np.array([update.x[3 * k + 1], update.y[3 * k + 1]], dtype=float)
        np.testing.assert_allclose(tail, traj.xs[step - 1], atol=1e-4)
        direction = traj.xs[step] - traj.xs[step - 1]
        drawn = tip - tail
        cross = drawn[0] * direction[1] - drawn[1] * direction[0]
        assert np.dot(drawn, direction) > 0 and abs(cross) < 1e-3 * np.linalg.norm(drawn) * np.linalg.norm(direction)
        np.testing.assert_allclose(update.customdata[3 * k][:2], direction, rtol=1e-3)
        np.testing.assert_allclose(
            gradient.customdata[3 * k][:2], -traj.lrs[step - 1] * traj.grads[step - 1], rtol=1e-3
        )
    # plain GD has no momentum: its momentum arrow is empty; heavy ball and Adam have one
    assert momentum.x[0] is None and momentum.x[3] is not None and momentum.x[6] is not None
    np.testing.assert_allclose(
        momentum.customdata[3][:2], -0.1 * default_race[1].states["momentum_buffer"][step], rtol=1e-3
    )
    # the arrows animate with the frames
    # (at step 10, before GD reaches the star, where its tiny arrows are no longer drawn: tests/test_race_boxes.py)
    frame = fig.frames[meta["frame_steps"].index(10)]
    assert frame.data[len(LABELS) + 1].x[0] == pytest.approx(default_race[0].xs[9, 0], abs=1e-4)


def test_no_momentum_glyph_without_momentum(quadratic):
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=10)
    fig = race_figure(quadratic, race, ["GD"])
    assert set(fig.layout.meta["glyphs"]) == {"update", "gradient"}
    bare = race_figure(quadratic, race, ["GD"], show_glyphs=False)
    assert bare.layout.meta["glyphs"] == {} and len(bare.data) == len(fig.data) - 2


def test_divergence_is_marked(quadratic, diverging):
    fig = race_figure(quadratic, diverging, ["too fast", "momentum"])
    meta = fig.layout.meta
    dead_at = diverging[0].diverged_at
    path = fig.data[meta["paths"][0]]
    # drawn until it first leaves the window (then an X on the edge), not to its last good iterate: its ever
    # wider swings would paint a block over the map
    window = np.array([fig.layout.xaxis.range, fig.layout.yaxis.range])
    xs = diverging[0].xs
    left_at = int(np.flatnonzero(np.any((xs < window[:, 0]) | (xs > window[:, 1]), axis=1))[0])
    assert 0 < left_at < dead_at and len(path.x) == left_at + 1
    heads = fig.data[meta["heads"]]
    assert heads.marker.symbol[0] == "x" and heads.marker.color[0] == DIVERGED_COLOR
    assert heads.marker.symbol[1] == "circle" and heads.marker.color[1] == PALETTE[1]
    assert f"diverged at step {dead_at}" in heads.customdata[0][-1]
    head = np.array([heads.x[0], heads.y[0]], dtype=float)
    assert np.all(head >= window[:, 0]) and np.all(head <= window[:, 1])  # the X stays in sight
    # before it leaves the window the head is still an ordinary point, and an X from then on
    frames = meta["frame_steps"]
    assert fig.frames[frames.index(0)].data[2].marker.symbol[0] == "circle"
    assert all(fig.frames[i].data[2].marker.symbol[0] == "x" for i, t in enumerate(frames) if t >= left_at)
    # the far-flung path does not squash the picture: at most twice the surface's bounds
    for axis, (lo, hi) in zip((fig.layout.xaxis, fig.layout.yaxis), quadratic.bounds):
        assert axis.range[1] - axis.range[0] <= 2 * (hi - lo) + 1e-9
    # hover still reports the true iterate, however far outside the window it is
    np.testing.assert_allclose(path.customdata[-1][1:3], xs[left_at], rtol=1e-5)


def test_batched_runs_share_one_trace(quadratic):
    starts = np.array([[-5.0, -2.0], [1.0, 2.5], [-1.0, 1.0]])
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], start=starts, steps=20)
    fig = race_figure(quadratic, race, ["restarts"])
    meta = fig.layout.meta
    path = fig.data[meta["paths"][0]]
    assert len(path.x) == 3 * 21 + 2 and path.x[21] is None and path.x[43] is None
    for x, row in zip(path.x, path.customdata):
        if x is not None:
            assert x == pytest.approx(row[1], abs=1e-4)
    assert len(fig.data[meta["heads"]].x) == 3
    assert len(fig.data[[t.name for t in fig.data].index("start")].x) == 3
    # mid-animation the runs keep their positions in the trace, so hover rows stay aligned
    frame = fig.frames[5]
    assert len(frame.data[0].x) == len(path.x) - 20 + 5
    assert frame.data[0].x[22] == pytest.approx(1.0)


def test_current_step_is_shown(quadratic, default_race):
    fig = race_figure(quadratic, default_race, LABELS, current_step=13, max_frames=10)
    meta = fig.layout.meta
    assert 13 in meta["frame_steps"] and len(meta["frame_steps"]) <= 11
    assert len(fig.data[meta["paths"][0]].x) == 14
    assert fig.layout.sliders[0].steps[fig.layout.sliders[0].active].label == "13"


def test_race_on_a_curve():
    curve = gdviz.surface("x2_1_sin")
    race = gdviz.race(curve, [gdviz.optimizer("SGD", lr=0.05), gdviz.optimizer("Adam", lr=0.5)], steps=40)
    fig = race_figure(curve, race, ["GD", "Adam"], current_step=40)
    meta = fig.layout.meta
    assert meta["dim"] == 1 and not fig.layout.images
    assert fig.data[0].name == "f(x)" and fig.data[0].mode == "lines"
    path = fig.data[meta["paths"][0]]
    np.testing.assert_allclose(np.asarray(path.x, dtype=float), race[0].xs[:, 0], atol=1e-4)
    np.testing.assert_allclose(np.asarray(path.y, dtype=float), race[0].losses, rtol=1e-4, atol=1e-3)
    assert len(fig.frames) == 41 and "update" in meta["glyphs"]
    update = fig.data[meta["glyphs"]["update"]]
    assert update.y[0] == update.y[1]  # arrows lie along x
    assert_all_finite(fig)


def test_surface_without_known_minimum():
    valley = no_minimum_surface()
    race = gdviz.race(valley, [gdviz.optimizer("SGD", lr=0.1)], steps=40)
    assert race[0].losses.min() < 0
    fig = race_figure(valley, race, ["GD"])
    assert "global minimum" not in [t.name for t in fig.data]
    panels = panels_figure(race, ["GD"])
    assert any(a.text == "no known minimum" for a in panels.layout.annotations)
    # f* unknown and f < 0 reached: the log axis shows the distance to the lowest loss any run reached
    assert panels.layout.yaxis.title.text.startswith("f(x) − lowest f reached")
    loss = np.asarray(panels.data[0].y, dtype=float)
    np.testing.assert_allclose(loss, np.maximum(race[0].losses - race[0].losses.min(), 1e-16), rtol=1e-5)
    assert panels_figure(race, ["GD"], log_loss=False).layout.yaxis.title.text == "f(x)"
    assert results_rows(race, ["GD"], 1e-3)[0]["steps to f* + tol"] == "—"
    assert_all_finite(panels)


def test_degenerate_races(quadratic):
    still = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=0)
    fig = race_figure(quadratic, still, ["GD"])
    assert len(fig.frames) == 1 and fig.layout.meta["frame_steps"] == [0]
    assert_all_finite(fig)
    nobody = race_figure(quadratic, [], [])
    assert not nobody.frames and len(nobody.layout.images) == 1 and not nobody.layout.updatemenus
    assert panels_figure([], []).data == () and results_rows([], [], 1.0) == []
    assert trajectories_csv([], []).splitlines() == ["optimizer,run,step,loss,grad_norm,lr,diverged"]


def test_bad_inputs_are_refused(quadratic, default_race):
    with pytest.raises(ValueError, match="labels"):
        race_figure(quadratic, default_race, ["only one"])
    with pytest.raises(ValueError, match="max_frames"):
        race_figure(quadratic, default_race, LABELS, max_frames=0)
    with pytest.raises(ValueError, match="Trajectory"):
        race_figure(quadratic, [object()], ["x"])
    with pytest.raises(ValueError, match="2-D"):
        surface_3d_figure(gdviz.surface("x2_1_sin"), [], [])
    with pytest.raises(ValueError, match="tolerance"):
        results_rows(default_race, LABELS, -1.0)
    with pytest.raises(ValueError, match="current_step"):
        race_figure(quadratic, default_race, LABELS, current_step="7")
    with pytest.raises(ValueError, match="current_step"):
        panels_figure(default_race, LABELS, current_step=2.5)


def test_labels_are_shown_as_text_not_markup(quadratic):
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=5)
    label = "<b>bold</b> %{customdata[0]}"
    fig = race_figure(quadratic, race, [label])
    path = fig.data[fig.layout.meta["paths"][0]]
    assert "<b>bold" not in path.name and "&lt;b&gt;bold&lt;/b&gt;" in path.name
    assert "%{customdata[0]}" not in path.hovertemplate.split("<br>")[0]
    assert results_rows(race, [label], 1e-3)[0]["optimizer"] == label  # the table shows it verbatim


@pytest.mark.parametrize("name", sorted(gdviz.SURFACES))
def test_every_registered_surface_draws(name):
    surface = gdviz.surface(name)
    if surface.dim > 2:
        pytest.skip("race figures are for 1-D and 2-D surfaces")
    race = gdviz.race(surface, [gdviz.optimizer("SGD", lr=0.05), gdviz.optimizer("Adam", lr=0.1)], steps=12)
    fig = race_figure(surface, race, ["GD", "Adam"], max_frames=6)
    assert len(fig.frames) <= 7
    assert_all_finite(fig)


# -- building blocks ------------------------------------------------------------------------------
def test_png_encoder_round_trips():
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(rgb))).convert("RGB"))
    np.testing.assert_array_equal(decoded, rgb)


def test_marching_squares_traces_a_circle():
    g = np.linspace(-2, 2, 81)
    z = g[None, :] ** 2 + g[:, None] ** 2
    lines = contour_lines(g, g, z, 1.0)
    assert len(lines) == 1  # one closed chain, not a heap of segments
    ring = lines[0]
    np.testing.assert_allclose(np.hypot(ring[:, 0], ring[:, 1]), 1.0, atol=2e-3)
    np.testing.assert_allclose(ring[0], ring[-1])
    # a saddle level crosses the cells where the two branches meet without losing a branch
    z = g[None, :] ** 2 - g[:, None] ** 2
    branches = contour_lines(g, g, z, 0.5)
    assert len(branches) == 2
    assert contour_lines(g, g, np.full((81, 81), np.nan), 0.0) == []


def test_iso_lines_past_their_point_cap_drop_every_other_level_as_if_all_were_drawn_first():
    """The levels that fit are chosen from segment counts before any line is joined; the result is the same as
    joining every level first and dropping every other level until the lines fit (a chaotic formula)."""
    from gdviz.custom import custom_surface

    surface = custom_surface("tan(x/tan(y/tan(x/tan(y/tan(x/tan(y/x))))))")
    gx, gy = cell_grid(np.array([-3.0, -3.0]), np.array([3.0, 3.0]), 90)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))
    levels = iso_levels(z)
    every = {level: contour_lines(gx, gy, z, level) for level in levels}
    kept = list(levels)
    while len(kept) > 1 and sum(len(line) + 1 for level in kept for line in every[level]) > CONTOUR_MAX_POINTS:
        kept = kept[::2]
    assert len(kept) < len(levels)  # the cap is what this test is about
    expected = np.concatenate([part for level in kept for line in every[level] for part in (line, [[np.nan] * 2])][:-1])
    xs, ys = iso_line_arrays(gx, gy, z, levels)
    assert xs.size <= CONTOUR_MAX_POINTS
    np.testing.assert_array_equal(np.column_stack([xs, ys]), expected.astype(np.float32))


# -- the 3-D view and the linked panels ----------------------------------------------------------------
def test_surface_3d(quadratic, default_race):
    fig = surface_3d_figure(quadratic, default_race, LABELS)
    assert fig.data[0].type == "mesh3d"  # not "surface": plotly.js refines a surface to ~120² vertices
    paths = [t for t in fig.data if t.type == "scatter3d" and t.name in LABELS]
    assert [t.name for t in paths] == LABELS
    # rounded to what a screen shows: 10⁻⁵ of the window's span
    np.testing.assert_allclose(np.asarray(paths[0].x, dtype=float), default_race[0].xs[:, 0], rtol=0, atol=1e-4)
    assert np.all(np.asarray(paths[0].z, dtype=float) >= default_race[0].losses - 1e-9)
    assert_all_finite(fig)


def test_panels(default_race):
    fig = panels_figure(default_race, LABELS, current_step=42, tolerance=1e-4)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:4] == [
        "loss",
        "distance to nearest minimum",
        "learning rate η<sub>t</sub>",
        "gradient norm ‖∇f(x)‖",
    ]
    cursors = [s for s in fig.layout.shapes if s.name == "cursor"]
    assert (
        len(cursors) == 4 and {s.x0 for s in cursors} == {42} and {s.xref for s in cursors} == {"x", "x2", "x3", "x4"}
    )
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis4.type == "log"
    assert fig.layout.hovermode == "x unified"
    losses = [t for t in fig.data if t.xaxis == "x" and t.name in LABELS]
    np.testing.assert_allclose(
        np.asarray(losses[0].y, dtype=float), np.maximum(default_race[0].losses, 1e-16), rtol=1e-5
    )
    lrs = [t for t in fig.data if t.xaxis == "x3"]
    assert lrs[0].x[0] == 1 and lrs[0].y[0] == pytest.approx(0.1)
    assert [t.line.color for t in losses] == list(PALETTE[:4])
    assert panels_figure(default_race, LABELS).layout.shapes == ()


def test_panels_clip_log_floor_and_say_so(quadratic):
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.25)], steps=30)  # exact on x1 after one step
    assert np.any(race[0].losses == 0.0) or np.any(race[0].losses < 1e-16)
    fig = panels_figure(race, ["GD"])
    assert "shown at 1e-16" in fig.layout.yaxis.title.text
    linear = panels_figure(race, ["GD"], log_loss=False)
    assert linear.layout.yaxis.type == "linear" and "shown at" not in linear.layout.yaxis.title.text
    assert_all_finite(fig)


def test_results_rows(default_race, diverging):
    rows = results_rows(default_race, LABELS, 1e-4)
    assert [r["optimizer"] for r in rows] == LABELS
    for row, traj in zip(rows, default_race):
        assert row["final loss"] == pytest.approx(traj.losses[-1], rel=1e-5, abs=1e-300)
        assert row["distance to minimum"] == pytest.approx(traj.distance_to_minimum()[-1], rel=1e-5, abs=1e-300)
        hit = traj.steps_to(1e-4)
        assert row["steps to f* + tol"] == (str(hit) if hit is not None else "—")
        assert row["diverged at"] == "—" and row["wall time (ms)"] >= 0
    dead = results_rows(diverging, ["too fast", "momentum"], 1e-4)
    assert dead[0]["diverged at"] == str(diverging[0].diverged_at) and dead[0]["steps to f* + tol"] == "—"
    assert len({tuple(r) for r in rows}) == 1  # one set of columns for st.dataframe


# -- downloads -------------------------------------------------------------------------------------
def test_csv_round_trip(default_race):
    text = trajectories_csv(default_race, LABELS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(t.steps + 1 for t in default_race)
    header = text.splitlines()[0].split(",")
    assert header[:8] == ["optimizer", "run", "step", "x1", "x2", "loss", "grad_norm", "lr"]
    assert {"momentum_buffer_1", "exp_avg_2", "exp_avg_sq_1", "square_avg_2"} <= set(header)
    for k, traj in enumerate(default_race):
        mine = [r for r in rows if r["optimizer"] == LABELS[k]]
        xs = np.array([[float(r["x1"]), float(r["x2"])] for r in mine])
        np.testing.assert_array_equal(xs, traj.xs)  # written exactly
        np.testing.assert_array_equal([float(r["loss"]) for r in mine], traj.losses)
        np.testing.assert_array_equal([float(r["lr"]) for r in mine[1:]], traj.lrs)
        np.testing.assert_array_equal([[float(r["g1"]), float(r["g2"])] for r in mine[1:]], traj.grads)
        assert mine[0]["lr"] == ""
        for name, values in traj.states.items():
            flat = values.reshape(values.shape[0], -1)
            got = [[float(r[f"{name}_{j + 1}"]) for j in range(flat.shape[1])] for r in mine]
            np.testing.assert_array_equal(got, flat)
    adam_rows = [r for r in rows if r["optimizer"] == "GD"]
    assert adam_rows[0]["exp_avg_1"] == ""  # a column another optimizer owns stays empty


def test_csv_labels_cannot_run_as_spreadsheet_formulas(quadratic):
    """Issue 17: labels such as =1+1 were written verbatim; text cells starting with = + - @ tab CR get a '."""
    hostile = ["=1+1", "+2+3", "@SUM(1+9)", "-2+3", "\tx", "\r=1", "plain", "a=1"]
    opts = [gdviz.optimizer("SGD", lr=-0.0 + 0.1 * (k + 1) / 8) for k in range(len(hostile))]
    race = gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=2)
    rows = list(csv.reader(io.StringIO(trajectories_csv(race, hostile), newline="")))
    labels = list(dict.fromkeys(row[0] for row in rows[1:]))
    assert labels == ["'=1+1", "'+2+3", "'@SUM(1+9)", "'-2+3", "'\tx", "'\r=1", "plain", "a=1"]
    # numbers are not text: negative ones keep their sign, unquoted
    header = rows[0]
    x1 = [row[header.index("x1")] for row in rows[1:]]
    assert x1[0] == "-5.0" and all(not cell.startswith("'") for row in rows[1:] for cell in row[1:])


def test_csv_marks_divergence_and_batches(quadratic, diverging):
    rows = list(csv.DictReader(io.StringIO(trajectories_csv(diverging, ["too fast", "momentum"]))))
    dead_at = diverging[0].diverged_at
    flags = [int(r["diverged"]) for r in rows if r["optimizer"] == "too fast"]
    assert flags.index(1) == dead_at and all(flags[dead_at:])
    sweep = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=np.array([0.1, 0.2]))], steps=5)
    rows = list(csv.DictReader(io.StringIO(trajectories_csv(sweep, ["sweep"]))))
    assert [r["run"] for r in rows] == ["0"] * 6 + ["1"] * 6
    assert float(rows[7]["lr"]) == 0.2


def test_json_round_trip(default_race, diverging):
    scenario = {"surface": "quadratic", "steps": 100, "optimizers": LABELS}
    doc = parse_strict(trajectories_json(default_race, LABELS, scenario))
    assert doc["scenario"] == scenario and doc["surface"]["name"] == "quadratic"
    for entry, traj, label in zip(doc["optimizers"], default_race, LABELS):
        assert entry["label"] == label and entry["name"] == traj.optimizer.name
        np.testing.assert_array_equal(np.array(entry["xs"]), traj.xs)
        np.testing.assert_array_equal(np.array(entry["losses"]), traj.losses)
        np.testing.assert_array_equal(np.array(entry["lrs"]), traj.lrs)
        for name, values in traj.states.items():
            np.testing.assert_array_equal(np.array(entry["states"][name]), values)
        assert entry["hyper"]["lr"] == traj.optimizer.hyper["lr"]
    dead = parse_strict(trajectories_json(diverging, ["too fast", "momentum"]))
    assert dead["optimizers"][0]["diverged_at"] == diverging[0].diverged_at
    assert dead["scenario"] == {}


def test_json_has_no_nan_even_for_unknown_minimum():
    valley = no_minimum_surface()
    race = gdviz.race(valley, [gdviz.optimizer("SGD", lr=0.1)], steps=5)
    doc = parse_strict(trajectories_json(race, ["GD"], {"note": float("nan")}))
    assert doc["surface"]["f_min"] is None and doc["scenario"]["note"] is None


def test_html_is_standalone(default_fig):
    html = figure_html(default_fig)
    assert html.lstrip().lower().startswith("<html") or "<!doctype" in html[:200].lower()
    assert "plotly.js v" in html and len(html) > 3_000_000  # the bundle itself, inline
    assert "cdn.plot.ly" not in html.split("<body>", 1)[-1][:2000]
    assert "addFrames" in html and '"momentum"' in html
    # the surface picture travels inside the page (plotly escapes "/" in inline JSON)
    assert default_fig.layout.images[0].source[:300].replace("/", "\\u002f") in html
    with pytest.raises(ValueError):
        figure_html({"data": []})


def test_panels_send_a_bounded_number_of_points_however_many_runs(quadratic):
    # 64 runs of 3000 steps: each panel's curves together stay near PANEL_TOTAL_POINTS, as NumPy arrays (sent
    # as typed arrays), and every run keeps at least PANEL_MIN_POINTS points, its first and last step included
    from ui.figures import panels as panels_module

    starts = np.stack([np.linspace(-2, 2, 64), np.linspace(2, -2, 64)], axis=-1)
    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.001)], start=starts, steps=3000)
    fig = panels_figure(race, ["GD"])
    for trace in fig.data:
        assert isinstance(trace.y, np.ndarray)
        runs = np.split(np.asarray(trace.y), np.flatnonzero(np.isnan(trace.y)))
        assert len(runs) == 64
        points = int(np.sum(np.isfinite(trace.y)))
        assert (
            64 * panels_module.PANEL_MIN_POINTS
            <= points
            <= max(panels_module.PANEL_TOTAL_POINTS, 64 * panels_module.PANEL_MIN_POINTS)
        )
    loss = next(t for t in fig.data if t.xaxis == "x")
    xs = np.asarray(loss.x)
    assert xs[0] == 0 and xs[-1] == 3000 and np.nanmax(xs) == 3000
    assert_all_finite(fig)


def labelled_levels(fig: go.Figure) -> list[tuple[str, float, float]]:
    """(label, the line's height, the label's height) of each horizontal line whose label sits at its right end,
    both in data units: a label's y on a log axis is in log10 units (plotly's annotations), a line's is not."""
    found = []
    for note in fig.layout.annotations:
        if note.xref is None or not note.xref.endswith("domain") or note.x != 1 or not note.text:
            continue
        axis = fig.layout["yaxis" + note.yref[1:]]
        height = 10**note.y if axis.type == "log" else note.y
        lines = [s.y0 for s in fig.layout.shapes if s.yref == note.yref and s.y0 == s.y1]
        found += [(note.text, line, height) for line in lines]
    return found


@pytest.mark.parametrize("log_loss", [True, False])
def test_a_tolerance_line_is_labelled_at_its_height_on_a_log_axis_too(quadratic, log_loss):
    """plotly's add_hline gives its label the line's y, which a log axis reads as log10: the Playground's
    "f* + 0.0001" sat at 10^0.0001 ≈ 1, four decades above its line, the Fair comparison's "tolerance 0.001" at 1."""
    from gdviz import landscape
    from ui.figures import fair

    race = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=30)
    tuned = landscape.tune_lr(quadratic, ["SGD"], landscape.log_grid(1e-3, 0.5, 4), steps=30)
    figures = {
        "f* + 0.0001": panels_figure(race, ["SGD"], log_loss=log_loss, tolerance=1e-4),
        "tolerance 0.001": fair.fair_lr_figure(tuned, 1e-3),
    }
    for text, fig in figures.items():
        levels = [level for level in labelled_levels(fig) if level[0] == text]
        assert len(levels) == 1, (text, labelled_levels(fig))
        _, line, label = levels[0]
        assert label == pytest.approx(line, rel=1e-9), text
