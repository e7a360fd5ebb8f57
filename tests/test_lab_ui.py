"""The Lab pages' pure parts: the URL codec under hostile input, the figure builders, the page helpers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdviz
from gdviz import landscape as L
from ui import limits
from ui.figures import escape as escape_figures
from ui.figures import fair as fair_figures
from ui.figures import lab_canvas
from ui.figures import maps as map_figures
from ui.figures import schedules as schedule_figures
from ui.lab import schedules, stability, views
from ui.lab.page import lab_steps
from ui.state import fields as ps

FIELDS = views.FIELDS + schedules.FIELDS[1:]  # every kind of field, keys unique
KEYS = sorted({f.key for f in FIELDS} | {"st.o.lr", "ba.o1.betas", "sc2.lam", "sc1.milestones", "x0"})


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), st.text(max_size=40), max_size=12))
def test_hostile_links_never_raise_and_always_give_a_valid_state(raw):
    values, notices = ps.read_query(FIELDS, raw)
    assert set(values) == {f.key for f in FIELDS}
    for f in FIELDS:
        value = values[f.key]
        if isinstance(f, ps.Number):
            assert f.low <= value <= f.high
        elif isinstance(f, ps.Choice):
            assert value in f.options
        elif isinstance(f, ps.Entry):
            name, params = value
            if name != ps.CONSTANT:
                kind = gdviz.optimizer if f.kind == "optimizer" else gdviz.schedule
                kind(name, **dict(params))  # the engine accepts it
    # what a link becomes reads back to the same state, without complaint
    again, second = ps.read_query(FIELDS, ps.to_query(FIELDS, values))
    assert again == values and second == []
    assert all(isinstance(n, str) and len(n) < 400 for n in notices)


def test_pairs_lists_and_optional_parameters_round_trip():
    fields = (
        ps.Entry("o", "Optimizer", "optimizer", "SGD"),
        ps.Entry("s", "Schedule", "schedule", ps.CONSTANT, constant=True),
    )
    raw = {"o": "adam", "o.betas": "0.8,0.95", "o.amsgrad": "1", "s": "MultiStepLR", "s.milestones": "10,20"}
    values, notices = ps.read_query(fields, raw)
    assert notices == []
    assert values["o"][0] == "Adam" and dict(values["o"][1])["betas"] == (0.8, 0.95)
    assert dict(values["s"][1])["milestones"] == (10, 20)
    assert ps.to_query(fields, values) == {
        "o": "Adam",
        "o.betas": "0.8,0.95",
        "o.amsgrad": "1",
        "s": "MultiStepLR",
        "s.milestones": "10,20",
    }
    assert ps.to_query(fields, ps.defaults(fields)) == {}


def test_a_start_point_must_fit_the_surface():
    fields = schedules.FIELDS
    values, notices = ps.read_query(fields, {"s": "himmelblau", "x0": "1"})
    assert values["x0"] is None and any("coordinate" in n for n in notices)
    values, notices = ps.read_query(fields, {"s": "x2_1_sin", "x0": "1"})
    assert values["x0"] == (1.0,) and notices == []


def test_an_engine_rejection_falls_back_with_a_notice():
    fields = (ps.Entry("o", "Optimizer", "optimizer", "SGD"),)
    values, notices = ps.read_query(fields, {"o": "SGD", "o.nesterov": "1"})  # Nesterov needs momentum
    assert values["o"][0] == "SGD" and dict(values["o"][1])["nesterov"] is False
    assert any("Nesterov" in n for n in notices)


def test_axis_values_follow_the_spec_and_say_when_clamped():
    values, log, message = stability.axis_values("SGD", "lr", 1e-3, 1.0, 4)
    np.testing.assert_allclose(values, [1e-3, 1e-2, 1e-1, 1.0])
    assert log and message is None
    values, log, message = stability.axis_values("SGD", "momentum", -1.0, 5.0, 3)
    assert not log and values[0] == 0.0 and values[-1] <= 0.99 and "changed" in message
    assert lab_steps(100, 300) == (300, None)
    steps, message = lab_steps(limits.MAX_BASIN_GRID**2, 10_000)
    assert steps * limits.MAX_BASIN_GRID**2 <= limits.MAX_LAB_RUN_STEPS and message


def _map(name="quadratic", optimizer="SGD", ys=(0.0, 0.5, 0.9)):
    return L.stability_map(
        gdviz.surface(name), optimizer, {}, ("lr", np.geomspace(0.01, 2, 10)), ("momentum", ys), steps=100
    )


def test_blocks_of_rows_stack_into_the_whole_map():
    whole = _map()
    parts = [_map(ys=(0.0,)), _map(ys=(0.5, 0.9))]
    stacked = stability.stack_rows(parts)
    np.testing.assert_array_equal(stacked.final_loss, whole.final_loss)
    np.testing.assert_array_equal(stacked.diverged_at, whole.diverged_at)
    np.testing.assert_array_equal(stacked.y_values, whole.y_values)


def test_stability_figure_cells_and_bound():
    m = _map()
    bound = stability.stability_bound("quadratic", ("SGD", (("lr", 0.1),)), m)
    lr, mu = bound
    np.testing.assert_allclose(lr, 0.5 * (1 + mu))
    assert stability.stability_bound("rosenbrock", ("SGD", ()), m) is None  # not a quadratic
    fig = map_figures.stability_figure(m, True, False, selected=m.best(), bound=bound)
    go.Figure(fig)  # validates
    names = [t.name for t in fig.data]
    cells = fig.data[names.index("cells")]
    rows, cols = zip(*cells.customdata)
    assert max(rows) < 3 and max(cols) < 10 and len(cells.x) == 30
    heat = fig.data[names.index("final loss")]
    assert np.isnan(np.array(heat.z, dtype=float)[m.diverged]).all()


def test_click_grid_is_thinned_on_a_large_map():
    assert len(lab_canvas.picks(128)) == 43 and lab_canvas.picks(128)[0] == 1
    assert list(lab_canvas.picks(10)) == list(range(10))


@pytest.mark.parametrize("name", ["himmelblau", "x2_1_sin"])
def test_basins_figure_in_two_and_one_dimensions(name):
    s = gdviz.surface(name)
    b = L.basins(s, gdviz.optimizer("SGD", lr=0.005), grid=30, steps=300)
    path = gdviz.run(s, gdviz.optimizer("SGD", lr=0.005), steps=50).xs
    fig = map_figures.basins_figure(s, b, paths=[path])
    go.Figure(fig)
    assert (len(fig.layout.images) == 1) == (s.dim == 2)
    legend = [t.name for t in fig.data if t.name and t.name.startswith("min ")]
    assert len(legend) == len([k for k in b.counts() if k >= 0])
    starts = next(t for t in fig.data if t.name == "starts" and t.customdata is not None)
    assert len(starts.customdata) == (30 * 30 if s.dim == 2 else 30)


def test_critical_figure_draws_two_eigenvectors_per_point():
    s = gdviz.surface("himmelblau")
    points = gdviz.find_critical_points(s)
    fig = map_figures.critical_figure(s, points, clicked=gdviz.critical_point(s, (0.0, 0.0)))
    go.Figure(fig)
    segments = sum(t.x.count(None) for t in fig.data if t.name and t.name.startswith("eigenvector"))
    assert segments == 2 * (len(points) + 1)
    kinds = {t.name for t in fig.data if t.name and "(" in t.name and t.name.split(" ")[0] in map_figures.KIND_STYLE}
    assert kinds == {"minimum (4)", "saddle (4)", "maximum (1)"}


def test_label_colours_are_distinct():
    colors = map_figures.label_colors(24)
    assert len(set(colors)) == 24 and all(c.startswith("#") and len(c) == 7 for c in colors)


def test_other_figures_build():
    s = gdviz.surface("local_trap")
    opt = gdviz.optimizer("SGD", lr=0.05)
    r = L.random_restarts(s, opt, n=6, steps=50)
    a = L.annealed_noise_run(s, opt, steps=50, noise=1.0, decay=0.95, runs=3)
    tuned = L.tune_lr(s, ["SGD", "Adam"], L.log_grid(1e-3, 1.0, 5), steps=40)
    figures = [
        escape_figures.restarts_figure(s, r),
        escape_figures.restarts_summary_figure(r),
        escape_figures.annealing_figure(s, [("a", a)]),
        escape_figures.annealing_curves([("a", a)], s.f_min),
        fair_figures.fair_paths_figure(s, tuned),
        fair_figures.fair_lr_figure(tuned, 1e-3),
        fair_figures.fair_curves_figure(tuned),
        schedule_figures.lr_figure([("c", np.full(10, 0.1))]),
        schedule_figures.band_figure([("c", np.ones(11), np.zeros(11), np.full(11, 2.0))], "d"),
        schedule_figures.paths_figure(s, [("p", r.xs[:, 0])]),
    ]
    for fig in figures:
        go.Figure(fig)
    rows = fair_figures.fair_rows(tuned, 1e-3)
    assert [row["optimizer"] for row in rows] == ["SGD", "Adam"]


@pytest.mark.parametrize("surface_name", ["goldstein_price", "x2_1_sin"])
def test_many_restarts_are_one_trace_with_a_bounded_number_of_points(surface_name):
    # 200 restarts were 200 traces of up to 600 points as Python lists: seconds of the heaviest link (issue 17)
    surface = gdviz.surface(surface_name)
    r = L.random_restarts(surface, gdviz.optimizer("SGD", lr=1e-4), n=200, steps=1500, seed=3)
    fig = escape_figures.restarts_figure(surface, r)
    grey = [t for t in fig.data if t.name == "restart"]
    assert len(grey) == 1 and isinstance(grey[0].x, np.ndarray)
    x, y = np.asarray(grey[0].x), np.asarray(grey[0].y)
    assert np.sum(np.isnan(x) & np.isnan(y)) == 198  # 199 paths, a gap between each two
    assert np.sum(np.isfinite(x)) <= max(escape_figures.RESTART_POINTS, 199 * escape_figures.RESTART_MIN_POINTS)
    best = [t for t in fig.data if t.name == "best restart"]
    assert len(best) == 1 and fig.layout.meta["best"] == r.best
    first = 0 if r.best != 0 else 1
    assert x[0] == pytest.approx(r.xs[0, first, 0])  # the grey paths begin at their starts
