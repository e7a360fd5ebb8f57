"""The first visit's one line (ui/playground/headline.py): every number in it is the default race's own."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ui.playground.headline import TOLERANCE, first_visit_line
from ui.playground.scenario import Scenario
from ui.playground.simulate import simulate


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("**", "")


def test_the_default_race_says_who_arrives_first_and_where_the_rest_are():
    race, _ = simulate(Scenario())
    line = plain(first_visit_line(race))
    assert line.startswith(f"Three optimizers race from one start on the {race.surface.title[0].lower()}")
    assert "press ▶ Play" in line
    # the steps each racer needs to come within TOLERANCE of f*, straight from its trajectory
    needed = {}
    for label, trajectory in zip(race.labels, race.trajectories, strict=True):
        losses = np.asarray(trajectory.losses, dtype=np.float64).ravel()
        hits = np.flatnonzero(losses - race.surface.f_min <= TOLERANCE)
        needed[label] = int(hits[0]) if hits.size else None
    arrived = sorted((steps, label) for label, steps in needed.items() if steps is not None)
    assert arrived, "the default race should show someone arriving"
    first_steps, first = arrived[0]
    assert f"{first} reaches the minimum first ({first_steps} steps)" in line
    for steps, label in arrived[1:]:
        assert f"{label} in {steps}" in line
    for label, steps in needed.items():
        if steps is None:
            index = race.labels.index(label)
            distance = float(np.ravel(race.trajectories[index].distance_to_minimum())[-1])
            assert f"{label} is still {distance:.2g} away after {race.scenario.steps} steps" in line


def test_only_the_default_scenario_has_the_line():
    race, _ = simulate(replace(Scenario(), start=(-5.0, -2.0)))  # as the sidebar reads it: the default start
    assert first_visit_line(race) is not None
    changed = replace(Scenario(), steps=50)
    race, _ = simulate(changed)
    assert first_visit_line(race) is None
