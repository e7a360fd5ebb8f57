"""Every preset builds and runs with the registries, is its own link and names its story; what each story
says is checked on its race in tests/app/test_story_claims.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import gdviz
from ui.playground.presets import PRESETS, RENAMED, known_story, loaded_story, matching_preset
from ui.playground.scenario import from_query, to_query
from ui.playground.simulate import key_of, simulate
from ui.state.entries import entry


def _race(key):
    race, error = simulate(PRESETS[key].scenario)
    assert error is None, error
    return race


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_preset_runs_with_the_registries_and_is_its_own_link(key):
    preset = PRESETS[key]
    scenario = preset.scenario
    assert scenario.surface in gdviz.SURFACES
    assert not scenario.has_schedule or scenario.schedule in gdviz.SCHEDULES
    assert all(item.name in gdviz.OPTIMIZERS for item in scenario.optimizers)
    dim = gdviz.SURFACES[scenario.surface].dim
    assert scenario.start is not None and all(len(p) == dim for p in (scenario.start, *scenario.more_starts))
    assert from_query(to_query(scenario)) == (scenario, [])
    assert matching_preset(scenario) is preset and scenario.story == key
    assert to_query(scenario)["story"] == key
    assert len(preset.story) > 100 and preset.title
    race = _race(key)
    assert len(race.trajectories) == len(scenario.optimizers)
    for trajectory in race.trajectories:
        assert trajectory.steps == scenario.steps
        assert np.all(np.isfinite(trajectory.xs)) and np.all(np.isfinite(trajectory.losses))


def test_a_story_stays_loaded_after_a_tweak_and_says_so():
    preset = PRESETS["ravine"]
    assert loaded_story(preset.scenario) == (preset, False)
    tweaked = replace(preset.scenario, steps=50)
    assert loaded_story(tweaked) == (preset, True)
    assert from_query(to_query(tweaked))[0].story == "ravine"  # the link keeps the story
    # a link from before links named their story: the exact scenario still tells it
    assert loaded_story(replace(preset.scenario, story="")) == (preset, False)
    assert loaded_story(replace(tweaked, story="")) == (None, False)
    # the story does not change the race: the same cache entry
    assert key_of(tweaked) == key_of(replace(tweaked, story=""))


def test_old_story_keys_lead_to_the_story_that_replaced_them_and_unknown_ones_are_dropped():
    for old, new in RENAMED.items():
        scenario, notice = known_story(from_query({"story": old.upper()})[0])
        assert scenario.story == new and notice is None
    scenario, notice = known_story(from_query({"story": "no-such-story"})[0])
    assert scenario.story == "" and "no-such-story" in notice
    scenario, notices = from_query({"story": "<script>alert(1)</script>"})
    assert scenario.story == "" and any("Unknown story" in n for n in notices)


def test_d2l_schedules_is_one_map_with_a_schedule_per_racer():
    scenario = PRESETS["d2l-schedules"].scenario
    assert not scenario.has_schedule and [item.schedule for item in scenario.optimizers] == [
        None,
        ("ExponentialDecay", (("lam", 0.1),)),
        ("PolynomialDecay", (("alpha", 0.5), ("beta", 0.1))),
    ]
    assert {item for item in scenario.optimizers if item.schedule is None} == {entry("SGD", lr=0.1)}
