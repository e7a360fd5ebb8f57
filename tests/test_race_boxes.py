"""The race map's effective-lr boxes (issue 13).

The boxes' numbers are held against the engine's recorded state with the textbook formulas (Adam:
η/(√(v/(1 − β2^t)) + ε), RMSprop: η/(√v + ε), Adagrad: η/(√s + ε)), not against the code that drew them.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from ui.figures.race import race_figure, race_spec
from ui.figures.race_boxes import BOX_LEGEND
from ui.playground.inspector import effective_lrs, inspect

LABELS = ["GD", "Adam", "RMSprop", "Adagrad"]


@pytest.fixture(scope="module")
def quadratic():
    return gdviz.surface("quadratic")


@pytest.fixture(scope="module")
def race(quadratic):
    opts = [
        gdviz.optimizer("SGD", lr=0.1),
        gdviz.optimizer("Adam", lr=0.3),
        gdviz.optimizer("RMSprop", lr=0.05),
        gdviz.optimizer("Adagrad", lr=0.8),
    ]
    return gdviz.race(quadratic, opts, start=(-5.0, -2.0), steps=60)


def textbook_effective_lr(trajectory, step: int) -> np.ndarray:
    lr = float(trajectory.lrs[step - 1])
    name = type(trajectory.optimizer).__name__
    if name == "Adam":
        v_hat = trajectory.states["exp_avg_sq"][step] / (1 - 0.999**step)
        return lr / (np.sqrt(v_hat) + 1e-8)
    if name == "RMSprop":
        return lr / (np.sqrt(trajectory.states["square_avg"][step]) + 1e-8)
    if name == "Adagrad":
        return lr / (np.sqrt(trajectory.states["sum"][step]) + 1e-10)
    raise AssertionError(name)


@pytest.mark.parametrize("step", [1, 7, 30, 60])
def test_box_numbers_are_the_engines_state_at_that_step(quadratic, race, step):
    fig = race_figure(quadratic, race, LABELS, current_step=step, effective_lr=effective_lrs)
    boxes = fig.layout.meta["boxes"]
    assert sorted(boxes) == ["1", "2", "3"]  # plain GD keeps no second moment: no box
    for racer, (index, scale) in boxes.items():
        trajectory = race[int(racer)]
        trace = fig.data[index]
        expected = textbook_effective_lr(trajectory, step)
        np.testing.assert_allclose(trace.customdata[0][:2], expected, rtol=1e-5)
        # the inspector shows the same numbers for that step
        np.testing.assert_allclose(inspect(trajectory, step).values["effective_lr_rule"], expected, rtol=1e-12)
        # the box is centred on x_t with half-sides scale × η_eff (as drawn, rounded to the screen)
        xs, ys = np.array(trace.x[:5], dtype=float), np.array(trace.y[:5], dtype=float)
        assert trace.x[5] is None and xs[0] == xs[-1] and ys[0] == ys[-1]
        centre = [(xs.max() + xs.min()) / 2, (ys.max() + ys.min()) / 2]
        np.testing.assert_allclose(centre, trajectory.xs[step], atol=1e-4)
        half = np.array([xs.max() - xs.min(), ys.max() - ys.min()]) / 2
        span = np.diff(np.array(fig.layout.meta["view"]), axis=1)[:, 0]
        np.testing.assert_allclose(half, np.minimum(scale * expected, 0.3 * span), rtol=1e-3, atol=2e-5)
        assert f"{scale:.3g} × η_eff" in trace.hovertemplate  # the scale is stated


def test_boxes_animate_with_the_frames_without_growing(quadratic, race):
    fig = race_figure(quadratic, race, LABELS, effective_lr=effective_lrs)
    meta = fig.layout.meta
    index, _ = meta["boxes"]["3"]  # Adagrad
    position = meta["frames"] and list(fig.frames[0].traces).index(index)
    widths = []
    for frame in fig.frames:
        step = int(frame.name)
        data = frame.data[position]
        assert len(data.x) == 6  # one box of one run, whatever the step
        if step == 0:
            assert data.x[0] is None  # no step taken yet
            continue
        expected = textbook_effective_lr(race[3], step)
        np.testing.assert_allclose(data.customdata[0][:2], expected, rtol=1e-5)
        widths.append(max(data.x[:5]) - min(data.x[:5]))
    # Adagrad's sum only grows, so its box only shrinks
    assert all(b <= a + 1e-9 for a, b in zip(widths, widths[1:]))
    # one legend entry for all boxes
    legend = [t for t in fig.data if t.name == BOX_LEGEND and t.showlegend]
    assert len(legend) == 1


def test_no_boxes_without_the_provider_or_for_plain_methods(quadratic, race):
    assert race_spec(quadratic, race, LABELS)["layout"]["meta"]["boxes"] == {}
    sgd = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1, momentum=0.9)], steps=10)
    assert race_spec(quadratic, sgd, ["heavy ball"], effective_lr=effective_lrs)["layout"]["meta"]["boxes"] == {}
    assert effective_lrs(sgd[0], [1, 2]) is None


def test_boxes_for_a_batch_and_on_a_curve(quadratic):
    starts = np.array([[-5.0, -2.0], [4.0, 3.0]])
    batch = gdviz.race(quadratic, [gdviz.optimizer("Adam", lr=0.3)], start=starts, steps=20)
    fig = race_figure(quadratic, batch, ["Adam"], current_step=5, effective_lr=effective_lrs)
    index, _ = fig.layout.meta["boxes"]["0"]
    trace = fig.data[index]
    assert len(trace.x) == 12
    for k in range(2):
        v_hat = batch[0].states["exp_avg_sq"][5, k] / (1 - 0.999**5)
        np.testing.assert_allclose(trace.customdata[6 * k][:2], 0.3 / (np.sqrt(v_hat) + 1e-8), rtol=1e-5)
    curve = gdviz.surface("x2_1_sin")
    run = gdviz.race(curve, [gdviz.optimizer("RMSprop", lr=0.1)], steps=30)
    fig = race_figure(curve, run, ["RMSprop"], current_step=10, effective_lr=effective_lrs)
    trace = fig.data[fig.layout.meta["boxes"]["0"][0]]
    expected = 0.1 / (np.sqrt(run[0].states["square_avg"][10]) + 1e-8)
    np.testing.assert_allclose(trace.customdata[0][:1], expected, rtol=1e-5)
    assert (max(trace.x[:5]) + min(trace.x[:5])) / 2 == pytest.approx(run[0].xs[10, 0], abs=1e-4)


def test_the_legend_terms_get_a_plain_caption(quadratic, race):
    from ui.playground.view import legend_caption

    meta = race_spec(quadratic, race, LABELS, effective_lr=effective_lrs)["layout"]["meta"]
    caption = legend_caption(meta)
    for term in ("Δx update", "−η·g", "−η·m", "η_eff"):
        assert term in caption, term
    plain = gdviz.race(quadratic, [gdviz.optimizer("SGD", lr=0.1)], steps=5)
    caption = legend_caption(race_spec(quadratic, plain, ["GD"], effective_lr=effective_lrs)["layout"]["meta"])
    assert "−η·m" not in caption and "η_eff" not in caption and "Δx update" in caption
    assert legend_caption(race_spec(quadratic, plain, ["GD"], show_glyphs=False)["layout"]["meta"]) == ""
