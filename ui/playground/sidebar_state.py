"""The Playground's sidebar state: a Scenario written into ``st.session_state`` widget keys and read back.

Widgets never get a ``value=``; their state lives under ``pg_`` keys that :func:`write_scenario` fills
from a Scenario (a link, a preset, a removed optimizer) and :func:`read_scenario` turns back into one,
validating and clamping as it goes. Parameter keys carry the optimizer's or schedule's name, so
switching an optimizer never feeds one algorithm's value to another's widget. Nothing here draws.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from ui.playground.presets import known_story
from ui.playground.scenario import FIELDS, RACERS, STARTS, Scenario, from_query, scenario_of, to_query, values_of
from ui.state.fields import (
    apply_browser_values,
    note_browser_values,
    read_widgets,
    widget_key,
    write_widgets,
)

State = MutableMapping[str, Any]

PAGE = "pg"  # the Playground's widget keys are pg_<field>
K_SCENARIO = "pg_scenario"  # the last canonical scenario (not a widget: survives page switches)
K_PRESET = "pg_preset"
K_SURFACE = widget_key(PAGE, "surface")
K_FORMULA = widget_key(PAGE, "formula")
K_START = STARTS.coordinate_keys(PAGE)
K_MORE = widget_key(PAGE, STARTS.more_widget)
K_STEPS = widget_key(PAGE, "steps")
K_NOISE = widget_key(PAGE, "noise")
K_BATCH = widget_key(PAGE, "batch")
K_SEED = widget_key(PAGE, "seed")
K_SCHEDULE = widget_key(PAGE, "sched")
K_COUNT = RACERS.count_key(PAGE)
K_NOTICES = "pg_link_notices"
_SIDEBAR_KEYS = frozenset(
    {K_SURFACE, K_FORMULA, *K_START, K_MORE, K_STEPS, K_NOISE, K_BATCH, K_SEED, K_SCHEDULE, K_COUNT}
)


def sidebar_snapshot(state: State) -> dict[str, Any]:
    """The sidebar's widget values as they stand: equal before and after drawing the widgets unless a
    widget changed its own state (then the scenario must be read again)."""
    return {key: state[key] for key in list(state) if key in _SIDEBAR_KEYS or _is_parameter_widget(key)}


def _is_parameter_widget(key: str) -> bool:
    return RACERS.is_slot_widget(PAGE, key) or key.startswith(K_SCHEDULE + "_")


def opt_key(slot: int, field: str) -> str:
    return RACERS.slot_key(PAGE, slot, field)


def opt_prefix(slot: int) -> str:
    return RACERS.slot_key(PAGE, slot)


# -- scenario <-> widget state: the Playground's fields (ui/playground/scenario.py) ----------------------
def write_scenario(state: State, scenario: Scenario) -> None:
    """Put every widget of the sidebar in the state that shows ``scenario`` (callbacks / top of run)."""
    write_widgets(PAGE, FIELDS, values_of(scenario), state)
    state[K_SCENARIO] = scenario


def read_scenario(state: State) -> tuple[Scenario, list[str]]:
    """The scenario the sidebar shows, and a message for each value that had to be replaced."""
    fallback = values_of(state.get(K_SCENARIO) or Scenario())
    values, problems = read_widgets(PAGE, FIELDS, state, fallback)
    scenario, notice = scenario_of(values)
    return scenario, problems + ([notice] if notice else [])


def restore(state: State, query: Mapping[str, Any]) -> None:
    """Before any widget, on a session's first run: the link is the truth (a reconnecting browser's own values
    follow in the next run: ui.state.fields.adopt_browser_values). Back from another page the widgets still
    hold the scenario (they persist for the session, see ui/state/widgets.py)."""
    if K_SCENARIO not in state:
        note_browser_values(state)
        scenario, notes = from_query(query)
        scenario, story_note = known_story(scenario)
        write_scenario(state, scenario)
        notes = notes + ([story_note] if story_note else [])
        state[K_NOTICES] = (None, notes)
    else:
        apply_browser_values(state)


def link_notices(state: State, scenario: Scenario) -> list[str]:
    """What the link reader had to change, for as long as the scenario is still the one it read."""
    shown_with, notes = state.get(K_NOTICES, (None, []))
    if shown_with is None:  # the first run after reading the link: bind the notices to what the sidebar shows
        state[K_NOTICES] = (scenario, notes)
        return list(notes)
    return list(notes) if shown_with == scenario else []


def remember(state: State, scenario: Scenario, query_params: MutableMapping[str, Any]) -> None:
    """Keep the scenario for the next page switch and the address bar equal to its link."""
    state[K_SCENARIO] = scenario
    wanted = to_query(scenario)
    if {key: query_params[key] for key in query_params} != wanted:
        query_params.from_dict(wanted)
