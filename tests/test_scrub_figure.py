"""What the scrubbers show: every shipped path is the drawn run of ``gdviz.run`` for its value (float32 of it).

The stage (ui/playground/stage_js.py) swaps a racer's path for one of ``layout.meta["scrub"]``'s while the
visitor drags η or β; here each of those, for every racer of several scenarios, is held against a lone run.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import numpy as np
import pytest

import gdviz
from ui.figures.plain import PlainFigure
from ui.figures.race import MAX_FRAMES, race_spec
from ui.figures.style import clip_drawing
from ui.playground import scrub
from ui.playground.scenario import Scenario, from_query
from ui.playground.simulate import simulate
from ui.state.entries import entry

SCENARIOS = {
    "default": Scenario(),
    "two starts, a schedule": from_query(
        {"s": "himmelblau", "x": "0,0", "more": "-3,3.5", "o1": "Adam", "o1.lr": "0.2", "sched": "StepLR"}
    )[0],
    "1-D, clipping": from_query({"s": "xcos", "x": "3", "o1": "SGD", "o1.lr": "0.3", "o1.clip": "2"})[0],
    "diverging": from_query({"s": "ill_conditioned", "o1": "SGD", "o1.lr": "0.5", "o2": "Newton"})[0],
}


def scrub_of(scenario: Scenario):
    race, error = simulate(scenario)
    assert race is not None, error
    inputs, note = scrub.scrub_inputs(race, min(race.scenario.steps, MAX_FRAMES) + 1)
    spec = race_spec(race.surface, race.trajectories, race.labels, current_step=0, buttons=False, scrub=inputs)
    return race, spec, note


def lone_drawn(race, racer: int, settings: dict, frame_steps, lo, hi):
    """What the race chart would draw for this racer at ``settings``: its own run, then the race's drawing rules."""
    trajectory = race.trajectories[racer]
    opt = gdviz.optimizer(trajectory.optimizer.name, **settings)
    steps = trajectory.xs.shape[0] - 1
    alone = gdviz.run(race.surface, opt, trajectory.xs[0], steps, trajectory.schedule, record="path")
    xs = alone.xs.reshape(steps + 1, -1, race.surface.dim)
    if race.surface.dim == 1:
        xs = np.concatenate([xs, alone.losses.reshape(steps + 1, -1, 1)], axis=-1)
    drawn = clip_drawing(xs[frame_steps], lo, hi)  # (P, R, 2)
    return np.moveaxis(drawn, 0, 1), np.ravel(alone.diverged_step)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_shipped_path_is_the_lone_run_of_its_value(name):
    race, spec, note = scrub_of(SCENARIOS[name])
    meta = spec["layout"]["meta"]
    shipped = meta["scrub"]
    assert note is None and len(shipped["racers"]) == len(race.trajectories)
    lo, hi = np.array(shipped["lo"]), np.array(shipped["hi"])
    frame_steps = meta["frame_steps"]
    points = len(frame_steps)
    for item in shipped["racers"]:
        sweep = next(i.sweep for i in scrub.scrub_inputs(race, points)[0] if i.racer == item["racer"])
        lrs, betas = item["lrs"], item["betas"]
        rows = max(len(betas), 1)
        values = np.frombuffer(base64.b64decode(item["xy"]), dtype=np.float32)
        values = values.reshape(rows, len(lrs), item["runs"], points, 2)
        counts = np.reshape(item["count"], (rows, len(lrs), item["runs"]))
        diverged = np.reshape(item["diverged"], (rows, len(lrs), item["runs"]))
        # the racer's own setting is where its sliders start, and its cell is the race's own path
        own = race.trajectories[item["racer"]].optimizer
        assert lrs[item["lr"]] == own.hyper["lr"]
        for row in range(rows):
            for col in range(len(lrs)):
                drawn, diverged_at = lone_drawn(race, item["racer"], sweep.cell_settings(row, col), frame_steps, lo, hi)
                np.testing.assert_array_equal(values[row, col], drawn.astype(np.float32), err_msg=f"{row, col}")
                np.testing.assert_array_equal(diverged[row, col], diverged_at)
                assert np.all((counts[row, col] == points) | (diverged_at >= 0))


def test_the_default_figure_stays_within_two_megabytes_and_diverging_values_show_as_diverging():
    _, spec, _ = scrub_of(SCENARIOS["default"])
    assert len(json.dumps(PlainFigure(spec).to_dict())) <= 2_000_000  # what Streamlit sends
    race, spec, _ = scrub_of(SCENARIOS["diverging"])
    sgd = spec["layout"]["meta"]["scrub"]["racers"][0]
    diverged = np.reshape(sgd["diverged"], (len(sgd["betas"]), len(sgd["lrs"])))
    assert (diverged[:, -1] >= 0).all() and (diverged[:, 0] < 0).all()  # the largest lrs blow up, the smallest not
    counts = np.reshape(sgd["count"], diverged.shape)
    assert (counts[:, -1] < len(spec["layout"]["meta"]["frame_steps"])).all()  # drawn until they leave the map


def test_a_noisy_race_is_not_scrubbed_and_says_why():
    race, spec, note = scrub_of(replace(Scenario(), noise=0.5))
    assert "scrub" not in spec["layout"]["meta"] and "noise" in note


def test_a_released_value_becomes_the_scenarios_and_foreign_values_are_ignored():
    race, _, _ = scrub_of(SCENARIOS["default"])
    state: dict = {}
    lrs, _ = scrub.lr_grid("SGD", 0.1)
    assert scrub.commit(state, race, 1, lrs[0], 0.9)
    assert state == {"pg_o1_SGD_lr": lrs[0], "pg_o1_SGD_momentum": 0.9}
    state.clear()
    assert scrub.commit(state, race, 2, lrs[-1], 0.5)  # Adam's β1 is the first of its pair
    assert state == {"pg_o2_Adam_lr": lrs[-1], "pg_o2_Adam_betas_0": 0.5}
    for bad in [(7, 0.1, None), (0, 0.1234, None), (1, 0.1, 0.42), ("0", 0.1, None), (True, 0.1, None), (0, "x", None)]:
        state.clear()
        assert not scrub.commit(state, race, *bad) and state == {}


def test_scrub_grids_are_the_sidebar_sliders_values():
    lrs, at = scrub.lr_grid("SGD", 0.1)
    assert len(lrs) == scrub.MAX_LRS and lrs[at] == 0.1 and lrs == sorted(lrs)
    betas, at = scrub.beta_grid("SGD", "momentum", 0.37)
    assert betas[at] == 0.37 and len(betas) <= len(scrub.BETAS) + 1
    racers = [entry("SGD", lr=0.1) for _ in range(8)]
    race, _ = simulate(replace(Scenario(), optimizers=tuple(racers), more_starts=((1.0, 1.0),) * 7, start=(-5.0, -2.0)))
    inputs, note = scrub.scrub_inputs(race, 101)
    floats = sum(i.sweep.xs[..., 0, 0, 0].size * i.sweep.xs.shape[3] * 101 * 2 for i in inputs)
    assert floats <= scrub.MAX_FLOATS
