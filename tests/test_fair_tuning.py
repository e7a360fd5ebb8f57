"""Tuning every hyper-parameter with an equal budget (issue 14): the engine (gdviz.landscape.fair_tuning) and the
figures and rows of its Lab view (ui/figures/fair.py)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import gdviz
from gdviz.landscape import fair_tuning as F
from gdviz.landscape.stability import axis_spec
from gdviz.optimizers import optimizer_class
from ui import limits
from ui.figures import fair as fair_figures

ROSENBROCK = gdviz.surface("rosenbrock")
SOME = ["SGD", "Adam", "RMSprop", "Rprop", "Newton", "AdamThenSGD"]


def _tune(names=("SGD", "Adam"), **kw):
    args = dict(trials=5, steps=40, starts=2, seeds=3, noise=1.0, rng_seed=3) | kw
    return F.tune_all(ROSENBROCK, list(names), **args)


# -- what is sampled ----------------------------------------------------------------------------------------
def test_the_knobs_are_every_float_and_pair_half_but_weight_decay():
    assert F.tunable_axes("SGD") == ["lr", "momentum", "dampening"]
    assert F.tunable_axes("Adam") == ["lr", "betas[0]", "betas[1]", "eps"]
    assert F.tunable_axes("Newton") == ["lr", "damping"]
    assert "switch_step" not in F.tunable_axes("AdamThenSGD")  # an integer: the engine sweeps floats only
    for name in gdviz.OPTIMIZERS:
        kinds = {spec.name: spec.kind for spec in optimizer_class(name).spec}
        for axis in F.tunable_axes(name):
            assert kinds[axis.split("[")[0]] in ("float", "pair") and not axis.startswith("weight_decay")


@pytest.mark.parametrize("name", sorted(gdviz.OPTIMIZERS))
def test_every_trial_lies_in_the_slider_range_and_the_optimizer_accepts_it(name):
    settings = F.sample_settings(name, 64, rng_seed=11)
    assert list(settings) == F.tunable_axes(name)
    cls = optimizer_class(name)
    for axis, values in settings.items():
        low, high = axis_spec(name, axis).slider_range()
        assert values.shape == (64,) and np.all((values >= low) & (values <= high)), axis
    tuned = F.TunedAll(name, settings, *([None] * 8), seconds=0.0)
    for trial in range(64):
        cls(**tuned.setting(trial))  # raises on a setting the optimizer refuses (Rprop's etas, step_sizes)


def test_log_axes_are_log_uniform_and_the_others_uniform():
    drawn = F.sample_settings("Adam", 4000, rng_seed=5)
    # lr over [1e-5, 2]: log-uniform puts half below the geometric middle and ~94% below the arithmetic one
    lr_low, lr_high = axis_spec("Adam", "lr").slider_range()
    assert abs(np.mean(drawn["lr"] < math.sqrt(lr_low * lr_high)) - 0.5) < 0.03
    assert abs(np.mean(drawn["lr"] < (lr_low + lr_high) / 2) - math.log(1e5) / math.log(2e5)) < 0.02
    assert abs(np.mean(drawn["betas[1]"] < 0.9999 / 2) - 0.5) < 0.03  # linear: half below the middle


def test_rprop_draws_that_torch_refuses_are_drawn_again():
    drawn = F.sample_settings("Rprop", 200, rng_seed=0)
    assert np.all(drawn["etas[0]"] < 1) and np.all(drawn["etas[1]"] > 1)
    assert np.all(drawn["step_sizes[0]"] <= drawn["step_sizes[1]"])


def test_lr_only_is_a_log_grid_over_the_lr_slider_range():
    for name in ("SGD", "Adadelta", "Newton"):
        grid = F.sample_settings(name, 9, rng_seed=4, knobs="lr")
        np.testing.assert_array_equal(grid["lr"], np.geomspace(*axis_spec(name, "lr").slider_range(), 9))
        assert list(grid) == ["lr"]


# -- reproducible, equal, vectorized ------------------------------------------------------------------------
def test_everything_is_reproducible_from_the_rng_seed():
    a, b, c = _tune(rng_seed=3), _tune(rng_seed=3), _tune(rng_seed=4)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x.final_gap, y.final_gap)
        np.testing.assert_array_equal(x.starts, y.starts)
        assert all(np.array_equal(x.settings[k], y.settings[k]) for k in x.settings)
        assert not np.array_equal(x.settings["lr"], z.settings["lr"]) and not np.array_equal(x.starts, z.starts)


def test_an_optimizers_trials_do_not_depend_on_the_others_compared():
    alone = F.sample_settings("Adam", 6, rng_seed=9)
    (adam,) = [t for t in _tune(["SGD", "Adam", "Lion"], rng_seed=9, trials=6) if t.name == "Adam"]
    assert all(np.array_equal(alone[k], adam.settings[k]) for k in alone)


def test_every_optimizer_gets_the_same_budget_whatever_its_number_of_knobs():
    tuned = _tune(["Newton", "Adam", "Rprop", "AdamThenSGD"], trials=7, starts=3, seeds=2)
    assert len({len(t.knobs) for t in tuned}) > 1
    for t in tuned:
        assert t.budget == tuned[0].budget and t.budget.runs_per_optimizer == 7 * 3 * 2
        assert t.final_gap.shape == t.diverged.shape == (7, 3, 2) and t.mean.shape == t.sd.shape == (7,)
        assert all(values.shape == (7,) for values in t.settings.values())


@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_the_one_vectorized_call_equals_one_run_per_trial_bit_for_bit(noise):
    tuned = F.tune_all(ROSENBROCK, SOME, trials=4, steps=60, starts=3, seeds=2, noise=noise, rng_seed=1)
    for t in tuned:
        runs = np.repeat(t.starts, t.budget.seeds, axis=0)  # start i, seed j is run i·E + j of a trial
        # with noise only trial 0 holds the run indices a lone call draws (0 … S·E-1): the engine draws per index
        for trial in range(4) if noise == 0 else [0]:
            alone = gdviz.run(
                ROSENBROCK, gdviz.optimizer(t.name, **t.setting(trial)), runs, 60, noise=noise, seed=1, record="final"
            )
            shape = (t.budget.starts, t.budget.seeds)
            np.testing.assert_array_equal(alone.losses[-1].reshape(shape) - t.f_ref, t.final_gap[trial])
            np.testing.assert_array_equal(alone.diverged_step.reshape(shape) >= 0, t.diverged[trial])


def test_the_seeds_of_a_start_are_distinct_noise_draws_and_the_starts_the_rows():
    (t,) = _tune(["Adam"], seeds=4, noise=3.0)
    assert len(np.unique(t.final_gap[0, 0])) == 4  # one start, four noise streams
    np.testing.assert_array_equal(t.starts[0], ROSENBROCK.default_start)
    box = np.asarray(ROSENBROCK.bounds)
    assert np.all((t.starts[1:] >= box[:, 0]) & (t.starts[1:] <= box[:, 1]))


def test_without_noise_one_seed_is_run_and_the_budget_says_so():
    (t,) = _tune(["Adam"], seeds=5, noise=0.0)
    assert t.budget.seeds == 1 and t.final_gap.shape == (5, 2, 1)


# -- scoring ------------------------------------------------------------------------------------------------
def test_mean_and_sd_are_numpys_over_each_trials_starts_and_seeds():
    for t in _tune(["Adam", "RMSprop"], trials=6, starts=3, seeds=4):
        ok = ~t.diverged.any(axis=(1, 2))
        np.testing.assert_array_equal(t.mean[ok], np.mean(t.final_gap, axis=(1, 2))[ok])
        np.testing.assert_array_equal(t.sd[ok], np.std(t.final_gap, axis=(1, 2))[ok])
        assert t.best == int(np.argmin(t.mean)) and t.best_mean == t.mean.min()


def test_a_trial_with_a_diverged_run_scores_infinity_and_cannot_win():
    gap = np.arange(12.0).reshape(3, 2, 2)
    diverged = np.zeros((3, 2, 2), bool)
    diverged[1, 1, 0] = True
    mean, sd = F.trial_scores(gap, diverged)
    assert mean[1] == np.inf and np.isnan(sd[1])
    np.testing.assert_array_equal(mean[[0, 2]], [1.5, 9.5])
    # SGD's lr grid reaches 2: on x1² + 2x2² every lr above 1/2 diverges
    (sgd,) = F.tune_all(gdviz.surface("quadratic"), ["SGD"], trials=12, steps=100, starts=2, knobs="lr")
    lost = sgd.diverged.any(axis=(1, 2))
    assert lost[sgd.settings["lr"] > 0.6].all() and np.all(sgd.mean[lost] == np.inf)
    assert not lost[sgd.best] and sgd.diverged_trials == int(lost.sum())


def test_the_ranking_puts_an_optimizer_whose_every_setting_diverged_last():
    # a made-up optimizer result whose every setting diverged, ranked with two real ones
    tuned = F.tune_all(gdviz.surface("quadratic"), ["SGD", "Adam"], trials=4, steps=80, starts=1, rng_seed=2)
    lost = F.TunedAll(
        "Newton",
        {"lr": np.ones(4)},
        np.ones((4, 1, 1)),
        np.ones((4, 1, 1), bool),
        np.full(4, np.inf),
        np.full(4, np.nan),
        0,
        tuned[0].budget,
        tuned[0].starts,
        0.0,
        0.0,
    )
    order = F.ranking([lost, *tuned])
    assert order[-1] == "Newton" and order[:2] == sorted(["SGD", "Adam"], key=lambda n: F.ranking(tuned).index(n))


def test_a_stop_ends_every_optimizer_at_the_same_step():
    asked = iter(range(10**6))
    tuned = _tune(["SGD", "Adam", "Lion"], steps=200, should_stop=lambda: next(asked) >= 3)
    # a small batch is asked before steps 8, 16, 24 and 32 (gdviz.run.STOP_CHECK_EVERY): the fourth says stop
    assert {t.budget.steps for t in tuned} == {31}


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(trials=0), "trials"),
        (dict(starts=0), "starts"),
        (dict(seeds=0), "seeds"),
        (dict(noise=-1.0), "noise"),
        (dict(noise=float("nan")), "noise"),
        (dict(rng_seed=-1), "rng_seed"),
        (dict(knobs="some"), "knobs"),
        (dict(start=(1.0, 2.0, 3.0)), "start"),
        (dict(names=["Adam", "adam"]), "each optimizer once"),
        (dict(names=[]), "at least one"),
        (dict(names=["Nope"]), "Unknown optimizer"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(kw, message):
    names = kw.pop("names", ["Adam"])
    with pytest.raises(ValueError, match=message):
        _tune(names, **kw)


# -- the view's figures and rows ------------------------------------------------------------------------------
def test_the_ranking_figure_orders_best_first_with_sd_error_bars_and_marks_moves():
    short = _tune(["SGD", "Adam", "RMSprop"], knobs="lr", steps=20)
    full = _tune(["SGD", "Adam", "RMSprop"], steps=80)
    before = F.ranking(short)
    colors = {"SGD": "#000001", "Adam": "#000002", "RMSprop": "#000003"}
    fig = fair_figures.ranking_figure(full, "all knobs", colors, before=before)
    (bar,) = fig.data
    order = F.ranking(full)
    by_name = {t.name: t for t in full}
    assert [label.split(" ")[1] for label in bar.y] == order
    assert list(bar.x) == pytest.approx([by_name[n].best_mean for n in order], rel=1e-5)
    assert list(bar.error_x.array) == pytest.approx([by_name[n].best_sd for n in order], rel=1e-5)
    assert list(bar.marker.color) == [colors[n] for n in order] and bar.marker.line.width[0] > 0
    for place, (label, name) in enumerate(zip(bar.y, order)):
        assert ("was #" in label) == (before[place] != name)
    assert fig.layout.xaxis.type == "log"


def test_the_rows_and_the_trial_figure_show_both_tunings():
    short = _tune(["SGD", "Adam"], knobs="lr", steps=20)
    full = _tune(["SGD", "Adam"], steps=60)
    rows = fair_figures.tuned_all_rows(short, full)
    assert [r["optimizer"] for r in rows] == ["SGD", "Adam"]
    for row, s, t in zip(rows, short, full):
        assert row["rank, lr only (20 steps)"] == F.ranking(short).index(s.name) + 1
        assert row["rank, all knobs (60 steps)"] == F.ranking(full).index(t.name) + 1
        assert row["all knobs: best setting"].startswith(f"lr={t.best_setting['lr']:.3g}")
    fig = fair_figures.trial_scores_figure(full, {})
    points = [trace for trace in fig.data if trace.name in ("SGD", "Adam")]
    assert [len(p.y) for p in points] == [int(np.isfinite(t.mean).sum()) for t in full]


def test_the_heaviest_result_fits_the_lab_cache_budget():
    """At the caps (8 optimizers × MAX_TUNE_TRIALS × MAX_STARTS × MAX_SEEDS runs) one cached result is small:
    the view keeps the final gaps and flags, not the paths."""
    names = sorted(gdviz.OPTIMIZERS)[: limits.MAX_OPTIMIZERS]
    caps = dict(trials=limits.MAX_TUNE_TRIALS, starts=limits.MAX_STARTS, seeds=limits.MAX_SEEDS)
    tuned = F.tune_all(ROSENBROCK, names, steps=1, noise=1.0, **caps)
    size = len(pickle.dumps(tuned))
    assert limits.LAB_CACHE_MAX_ENTRIES * size <= limits.LAB_CACHE_MAX_BYTES, f"{size / 2**20:.1f} MiB"
