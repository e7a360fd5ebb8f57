"""The Playground's sidebar state: a Scenario written into ``st.session_state`` widget keys and read back.

Widgets never get a ``value=``; their state lives under ``pg_`` keys that :func:`write_scenario` fills
from a Scenario (a link, a preset, a removed optimizer) and :func:`read_scenario` turns back into one,
validating and clamping as it goes. Parameter keys carry the optimizer's or schedule's name, so
switching an optimizer never feeds one algorithm's value to another's widget. Nothing here draws.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.schedules import schedule_class
from ui import limits
from ui.playground.query_reader import parse_points
from ui.playground.scenario import (
    CUSTOM,
    OptimizerEntry,
    Scenario,
    checked_entry,
    checked_schedule,
    clean_label,
    fit_budget,
    from_query,
    to_query,
)
from ui.state.values import NO_SCHEDULE, format_number, full_params, widget_number
from ui.state.widgets import read_params, write_params

State = MutableMapping[str, Any]

K_SCENARIO = "pg_scenario"  # the last canonical scenario (not a widget: survives page switches)
K_PRESET = "pg_preset"
K_SURFACE = "pg_surface"
K_FORMULA = "pg_formula"
K_START = ("pg_x0_0", "pg_x0_1")
K_MORE = "pg_more_starts"
K_STEPS = "pg_steps"
K_NOISE = "pg_noise"
K_BATCH = "pg_batch"
K_SEED = "pg_seed"
K_SCHEDULE = "pg_sched"
K_COUNT = "pg_n_opt"
K_NOTICES = "pg_link_notices"
_SLOT_KEY = re.compile(r"pg_o[0-9]+_|pg_sched_")
_SIDEBAR_KEYS = frozenset(
    {K_SURFACE, K_FORMULA, *K_START, K_MORE, K_STEPS, K_NOISE, K_BATCH, K_SEED, K_SCHEDULE, K_COUNT}
)


def sidebar_snapshot(state: State) -> dict[str, Any]:
    """The sidebar's widget values as they stand: equal before and after drawing the widgets unless a
    widget changed its own state (then the scenario must be read again)."""
    return {key: state[key] for key in list(state) if key in _SIDEBAR_KEYS or _SLOT_KEY.match(key)}


def opt_key(slot: int, field: str) -> str:
    return f"pg_o{slot}_{field}"


def opt_prefix(slot: int) -> str:
    return f"pg_o{slot}"


# -- scenario <-> widget state ----------------------------------------------------------------------
def default_start(surface_name: str, dim: int = 2) -> tuple[float, ...]:
    found = gdviz.SURFACES.get(surface_name)
    return tuple(float(v) for v in found.default_start) if found is not None else (1.0,) * dim


def write_scenario(state: State, scenario: Scenario) -> None:
    """Put every widget of the sidebar in the state that shows ``scenario`` (callbacks / top of run)."""
    for key in [k for k in state if _SLOT_KEY.match(k)]:
        del state[key]
    state[K_SURFACE] = CUSTOM if scenario.is_custom else scenario.surface
    state[K_FORMULA] = scenario.formula
    start = scenario.start if scenario.start is not None else default_start(scenario.surface)
    for key, value in zip(K_START, start, strict=False):
        state[key] = float(value)
    state[K_MORE] = points_text(scenario.more_starts)
    state[K_STEPS], state[K_NOISE] = scenario.steps, scenario.noise
    state[K_BATCH], state[K_SEED] = scenario.batch_size, scenario.seed
    state[K_SCHEDULE] = scenario.schedule
    if scenario.has_schedule:
        cls = schedule_class(scenario.schedule)
        write_params(state, "pg_sched", cls.name, cls.spec, scenario.schedule_params)
    state[K_COUNT] = len(scenario.optimizers)
    for slot, item in enumerate(scenario.optimizers):
        _write_entry(state, slot, item)
    state[K_SCENARIO] = scenario


def _write_entry(state: State, slot: int, item: OptimizerEntry) -> None:
    state[opt_key(slot, "name")] = item.name
    write_params(state, opt_prefix(slot), item.name, optimizer_class(item.name).spec, item.hyper)
    state[opt_key(slot, "clip_on")] = item.max_grad_norm is not None
    state[opt_key(slot, "clip")] = item.max_grad_norm if item.max_grad_norm is not None else 1.0
    state[opt_key(slot, "label")] = item.label


def points_text(points) -> str:
    return "; ".join(", ".join(format_number(v) for v in point) for point in points)


def read_entry(state: State, slot: int, problems: list[str]) -> OptimizerEntry:
    name = state.get(opt_key(slot, "name"), "SGD")
    cls = optimizer_class(name)
    hyper = read_params(state, opt_prefix(slot), cls.name, cls.spec, problems)
    clip = None
    if state.get(opt_key(slot, "clip_on")):
        clip = limits.clamp(widget_number(state.get(opt_key(slot, "clip"), 1.0)), limits.MIN_CLIP, limits.MAX_CLIP)
    label = clean_label(state.get(opt_key(slot, "label"), ""))
    item, problem = checked_entry(OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, label))
    if problem:
        problems.append(f"Optimizer {slot + 1} ({cls.name}): {problem} — using its defaults.")
    return item


def read_scenario(state: State) -> tuple[Scenario, list[str]]:
    """The scenario the sidebar shows, and a message for each value that had to be replaced."""
    problems: list[str] = []
    surface = state.get(K_SURFACE, Scenario().surface)
    formula = str(state.get(K_FORMULA, ""))[: limits.MAX_FORMULA_CHARS] if surface == CUSTOM else ""
    if surface == CUSTOM and not formula.strip():
        surface, formula = Scenario().surface, ""
        problems.append("Type a formula for the custom surface; showing the default surface meanwhile.")
    dim = gdviz.SURFACES[surface].dim if surface in gdviz.SURFACES else int(state.get("pg_dim", 2))
    cap = limits.MAX_ABS_START
    start = tuple(limits.clamp(widget_number(state.get(key, 0.0)), -cap, cap) for key in K_START[:dim])
    steps = int(limits.clamp(int(state.get(K_STEPS, limits.DEFAULT_STEPS)), limits.MIN_STEPS, limits.MAX_STEPS))
    noise = limits.clamp(widget_number(state.get(K_NOISE, 0.0)), limits.MIN_NOISE, limits.MAX_NOISE)
    batch = int(limits.clamp(int(state.get(K_BATCH, 1)), limits.MIN_BATCH_SIZE, limits.MAX_BATCH_SIZE))
    seed = int(limits.clamp(int(state.get(K_SEED, 0)), limits.MIN_SEED, limits.MAX_SEED))
    sched_name, sched_params = state.get(K_SCHEDULE, NO_SCHEDULE), ()
    if sched_name in gdviz.SCHEDULES:
        cls = schedule_class(sched_name)
        given = read_params(state, "pg_sched", cls.name, cls.spec, problems)
        sched_name, sched_params, problem = checked_schedule(cls.name, full_params(cls.spec, given))
        if problem:
            problems.append(
                f"{cls.name}: {problem} — using {'its defaults' if sched_name != NO_SCHEDULE else 'a constant lr'}."
            )
    else:
        sched_name = NO_SCHEDULE
    count = int(limits.clamp(int(state.get(K_COUNT, 1)), 1, limits.MAX_OPTIMIZERS))
    optimizers = tuple(read_entry(state, slot, problems) for slot in range(count))
    more_starts = tuple(parse_points(state.get(K_MORE, ""), dim, problems)) if state.get(K_MORE, "").strip() else ()
    scenario = Scenario(
        surface=surface,
        formula=formula,
        start=start,
        more_starts=more_starts[: limits.MAX_STARTS - 1],
        steps=steps,
        noise=noise,
        batch_size=batch,
        seed=seed,
        schedule=sched_name,
        schedule_params=sched_params,
        optimizers=optimizers,
    )
    scenario, notice = fit_budget(scenario)
    problems.extend([notice] if notice else [])
    return scenario, problems


def restore(state: State, query: Mapping[str, Any]) -> None:
    """Before any widget, on a session's first run: the link is the truth. Back from another page the
    widgets still hold the scenario (they persist for the session, see ui/state/widgets.py)."""
    if K_SCENARIO not in state:
        scenario, notes = from_query(query)
        write_scenario(state, scenario)
        state[K_NOTICES] = (None, notes)


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
