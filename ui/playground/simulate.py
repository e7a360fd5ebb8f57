"""From a Scenario to trajectories: engine objects, one cached ``gdviz.race`` call, divergence advice.

The race is cached with ``st.cache_data`` keyed by the scenario's canonical link (the whole state, so
two visitors with the same link share the result and nothing else). Trajectories hold surfaces and
optimizers, which are not picklable; the cache therefore stores the arrays only and
:func:`simulate` rebuilds the Trajectory objects around them, which costs microseconds.

Its work is budgeted by cost, measured: a few steps of the race are timed once (CPU of this thread), and
a race whose steps would cost more than :data:`ui.limits.RACE_CPU_SECONDS` gets fewer steps, with a
notice (cached like any race). Behind that, the race runs under a wall-clock deadline
(:data:`ui.limits.RACE_SECONDS`) and stops when its visitor leaves (:class:`ui.work.Budget`): a stopped
race is shown as far as it got, with a notice, and is not cached.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

import gdviz
from gdviz.run import Trajectory
from gdviz.schedules import Schedule
from gdviz.surfaces.base import Surface
from ui import limits
from ui.playground.scenario import Scenario, auto_labels, to_query
from ui.state.entries import build_optimizer
from ui.state.values import NO_SCHEDULE
from ui.work import Budget, Stopped, affordable_steps, stopped_notice
from ui.workers import offloaded

_ARRAYS = ("xs", "losses", "grads", "lrs", "momentums", "diverged_at", "seconds")


@dataclass(frozen=True)
class Race:
    scenario: Scenario
    key: str  # the scenario's cache key (key_of), worked out once per rerun
    surface: Surface
    trajectories: list[Trajectory]
    labels: list[str]
    notice: str | None = None  # why the race shows fewer steps than asked (its time budget ran out)


@st.cache_resource(max_entries=limits.FORMULA_CACHE_MAX_ENTRIES, show_spinner=False)
def _custom_surface(formula: str) -> Surface:
    # a parsed Surface is immutable, so one instance may serve every session that typed the same text
    return gdviz.custom_surface(formula)


def resolve_surface(scenario: Scenario) -> tuple[Surface | None, str | None]:
    """The scenario's surface, or None and a message saying why not (never an exception)."""
    if not scenario.is_custom:
        try:
            return gdviz.surface(scenario.surface), None
        except ValueError as error:
            return None, str(error)
    if len(scenario.formula) > limits.MAX_FORMULA_CHARS:
        return None, f"The formula is longer than {limits.MAX_FORMULA_CHARS} characters."
    try:
        return _custom_surface(scenario.formula), None
    except ValueError as error:  # the parser's FormulaError is a ValueError with a readable message
        return None, str(error)


def formula_dim(formula: str) -> tuple[int, str | None]:
    """Dimension of a typed formula (2 while it does not parse) and the parser's message."""
    if not formula.strip():
        return 2, None
    found, error = resolve_surface(Scenario(surface="custom", formula=formula))
    return (found.dim, None) if found is not None else (2, error)


def key_of(scenario: Scenario) -> str:
    """The cache key: the canonical link, which encodes the whole scenario (but for the story it was
    loaded from, which does not change the race)."""
    return json.dumps(to_query(replace(scenario, story="")), sort_keys=True)


def race_schedule(scenario: Scenario) -> Schedule | list[Schedule | None] | None:
    """What ``gdviz.race`` takes as ``schedule``: the race's schedule (None: constant lrs), or, where some
    optimizer has its own, one per optimizer (its own, else the race's)."""
    shared = gdviz.schedule(scenario.schedule, **dict(scenario.schedule_params)) if scenario.has_schedule else None
    if not scenario.has_own_schedules:
        return shared
    built = []
    for item in scenario.optimizers:
        if item.schedule is None:
            built.append(shared)
        else:
            name, params = item.schedule
            built.append(None if name == NO_SCHEDULE else gdviz.schedule(name, **dict(params)))
    return built


def per_racer(schedule: Schedule | list[Schedule | None] | None, count: int) -> list[Schedule | None]:
    return list(schedule) if isinstance(schedule, list) else [schedule] * count


def _start(scenario: Scenario, surface: Surface):
    start = surface.default_start if scenario.start is None else scenario.start
    if scenario.more_starts:
        start = np.array([start, *scenario.more_starts], dtype=np.float64)  # (R, dim): one run per start
    return start


def _race(scenario: Scenario, surface: Surface, optimizers: list, schedule, steps: int, should_stop=None):
    """The scenario's race, ``steps`` long (the engine objects built once per rerun by simulate())."""
    return gdviz.race(
        surface,
        optimizers,
        start=_start(scenario, surface),
        steps=steps,
        schedule=schedule,
        noise=scenario.noise,
        seed=scenario.seed,
        batch_size=scenario.batch_size,
        should_stop=should_stop,
    )


@st.cache_data(max_entries=limits.CACHE_MAX_ENTRIES, show_spinner=False)
def _step_cpu_seconds(probe_key: str, _scenario: Scenario, _surface: Surface, _optimizers: list, _schedule) -> float:
    """CPU seconds one step of this race costs here: PROBE_STEPS of it timed once (f, ∇f, the Hessian where an
    optimizer needs it, every update and the recording), keyed by the race with its steps set to the probe's."""
    cpu = time.thread_time()
    _race(_scenario, _surface, _optimizers, _schedule, limits.PROBE_STEPS)
    return (time.thread_time() - cpu) / limits.PROBE_STEPS


@st.cache_data(max_entries=limits.CACHE_MAX_ENTRIES, show_spinner=False)
def _race_arrays(key: str, _scenario: Scenario, _should_stop=None) -> list[dict]:
    # ``key`` alone identifies the result; a heavy race is computed in a worker process (ui/workers.py)
    return offloaded(race_arrays_of, _scenario, should_stop=_should_stop)


def race_arrays_of(scenario: Scenario, should_stop=None) -> list[dict]:
    """The race's arrays, from the scenario alone: the engine objects are not picklable, so a worker process
    builds its own (the parsed formula comes from its cache; optimizers and schedules cost microseconds)."""
    surface, error = resolve_surface(scenario)
    if surface is None:
        raise ValueError(error)
    optimizers = [build_optimizer(item) for item in scenario.optimizers]
    trajectories = _race(scenario, surface, optimizers, race_schedule(scenario), scenario.steps, should_stop)
    arrays = [{"states": t.states, **{name: getattr(t, name) for name in _ARRAYS}} for t in trajectories]
    done = trajectories[0].stopped_after
    if done is not None:
        raise Stopped(arrays, done, scenario.steps)  # a partial race is not the answer to its key: not cached
    return arrays


def simulate(scenario: Scenario) -> tuple[Race | None, str | None]:
    """Run (or fetch) the race; returns the Race, or None and a message for the page."""
    surface, error = resolve_surface(scenario)
    if surface is None:
        return None, error
    if scenario.start is not None and len(scenario.start) != surface.dim:
        scenario = replace(scenario, start=None, more_starts=())
    if scenario.start is None or any(len(p) != surface.dim for p in scenario.more_starts):
        scenario = replace(scenario, more_starts=())
    try:
        schedule = race_schedule(scenario)
        optimizers = [build_optimizer(item) for item in scenario.optimizers]
        notice, per_step = None, 0.0
        if scenario.steps > limits.PROBE_STEPS:
            probe = replace(scenario, steps=limits.PROBE_STEPS)
            per_step = _step_cpu_seconds(key_of(probe), probe, surface, optimizers, schedule)
            steps, notice = affordable_steps(scenario.steps, per_step, limits.RACE_CPU_SECONDS)
            scenario = replace(scenario, steps=steps)
        key = key_of(scenario)
        try:
            arrays = _race_arrays(key, scenario, Budget(limits.RACE_SECONDS, expected=per_step * scenario.steps))
        except Stopped as stopped:
            arrays, notice = (
                stopped.result,
                stopped_notice(
                    stopped.done,
                    stopped.wanted,
                    limits.RACE_SECONDS,
                    "Fewer steps, racers or starts, or a cheaper formula fit in the budget.",
                ),
            )
            # (a measured cut before it is moot: the notice says what the chart shows)
            scenario = replace(scenario, steps=stopped.done)
            # the first steps of the whole race (its noise draws), not a race of that many steps: a key of its own
            key = f"{key}#stopped after {stopped.done}"
    except ValueError as error:  # e.g. f not finite at the start point
        return None, str(error)
    trajectories = [
        Trajectory(
            surface=surface,
            optimizer=opt,
            schedule=schedule,  # (this racer's)
            batched=bool(scenario.more_starts),
            noise=scenario.noise,
            batch_size=scenario.batch_size,
            seed=scenario.seed,
            **data,
        )
        for opt, schedule, data in zip(optimizers, per_racer(schedule, len(optimizers)), arrays, strict=True)
    ]
    return Race(scenario, key, surface, trajectories, auto_labels(scenario.optimizers), notice), None


# -- divergence -----------------------------------------------------------------------------------
def _stable_factor(trajectory: Trajectory) -> tuple[float, str]:
    """GD's bound is η < 2/λ; heavy-ball momentum (torch's SGD) widens it by a known factor.

    On a quadratic, torch's SGD with momentum μ and dampening τ is the heavy-ball recursion
    x⁺ = x − η(1−τ)λx + μ(x − x⁻), stable iff η(1−τ)λ < 2(1+μ); with Nesterov (τ = 0) the Jury
    conditions give ηλ < 2(1+μ)/(1+2μ). Returns (factor f, formula) with the bound η < f·2/λ.
    """
    opt = trajectory.optimizer
    if opt.name != "SGD":
        return 1.0, "2/λmax"
    momentum, dampening = float(opt.hyper["momentum"]), float(opt.hyper["dampening"])
    if momentum == 0:
        return 1.0, "2/λmax"
    if opt.hyper["nesterov"]:
        return (1 + momentum) / (1 + 2 * momentum), "2(1+μ)/((1+2μ)λmax)"
    return (1 + momentum) / (1 - dampening), "2(1+μ)/((1−τ)λmax)" if dampening else "2(1+μ)/λmax"


def _curvature(surface: Surface, points: np.ndarray) -> tuple[float, float]:
    """(largest, smallest) Hessian eigenvalue over ``points`` (k, dim)."""
    with np.errstate(all="ignore"):
        eigenvalues = np.linalg.eigvalsh(surface.hessian(points).reshape(-1, surface.dim, surface.dim))
    eigenvalues = eigenvalues[np.all(np.isfinite(eigenvalues), axis=-1)]
    if eigenvalues.size == 0:
        return float("nan"), float("nan")
    return float(eigenvalues.max()), float(eigenvalues.min())


def divergence_messages(race: Race) -> list[tuple[str, str]]:
    """(who, what happened) per diverged run: from where, when, and what lr would have been stable."""
    messages = []
    starts = [race.scenario.start, *race.scenario.more_starts]
    for trajectory, label in zip(race.trajectories, race.labels, strict=True):
        for run, step in enumerate(trajectory.diverged_step.tolist()):
            if step < 0:
                continue
            who = label if not trajectory.batched else f"{label} (from {_point(starts[run])})"
            text = f"diverged at step {step}: the iterate, f or ∇f blew up, and the path stops there."
            pick = (lambda a, r=run: a[:, r]) if trajectory.batched else (lambda a: a)
            messages.append((who, text + " " + _hint(race.surface, trajectory, step, pick)))
    return messages


def _point(point) -> str:
    return "(" + ", ".join(f"{v:g}" for v in point) + ")"


def _singular_newton(surface: Surface, trajectory: Trajectory, x_last: np.ndarray) -> str | None:
    """Why a Hessian-based step failed where ∇²f + λI is singular (a plane, a ridge, an inflection)."""
    if not trajectory.optimizer.needs_hessian:
        return None
    damping = float(np.max(trajectory.optimizer.hyper.get("damping", 0.0)))
    with np.errstate(all="ignore"):
        system = np.asarray(surface.hessian(x_last[None]), dtype=np.float64)[0] + damping * np.eye(surface.dim)
        eigenvalues = np.abs(np.linalg.eigvalsh(system)) if np.all(np.isfinite(system)) else None
    if eigenvalues is not None and eigenvalues.min() > 1e-12 * max(1.0, float(eigenvalues.max())):
        return None
    return (
        f"The Hessian (+ λI) is singular at {_point(x_last)}: f has no curvature along some direction there, so "
        "the step (∇²f + λI)⁻¹∇f is undefined and no learning rate helps. Add damping λ > 0 or start elsewhere."
    )


def _outside_domain(surface: Surface, x_last: np.ndarray) -> str | None:
    """A NaN of f in the window (log or sqrt of a negative, 0/0): the step most likely landed there."""
    lows, highs = np.asarray(surface.bounds, dtype=np.float64).T
    lows, highs = np.minimum(lows, x_last), np.maximum(highs, x_last)
    axes = np.meshgrid(*[np.linspace(lo, hi, 41) for lo, hi in zip(lows, highs, strict=True)], indexing="ij")
    with np.errstate(all="ignore"):
        values = np.asarray(surface.f(np.stack([a.ravel() for a in axes], axis=-1)), dtype=np.float64)
    if not np.isnan(values).any():
        return None
    return (
        f"f is not defined everywhere: it is NaN in part of the window (a log or square root of a negative "
        f"number, or 0/0), and the step from {_point(x_last)} landed there. Use a smaller learning rate or "
        "start farther from the edge of f's domain."
    )


def _hint(surface: Surface, trajectory: Trajectory, step: int, pick) -> str:
    lrs, xs, losses = pick(trajectory.lrs), pick(trajectory.xs), pick(trajectory.losses)
    used = float(np.max(lrs[:step])) if step > 0 else float("nan")
    # a frozen run repeats its last good iterate: xs[step - 1] is where the failing step started
    cause = _singular_newton(surface, trajectory, xs[step - 1]) or _outside_domain(surface, xs[step - 1])
    if cause:
        return cause
    visited = xs[:step]
    top, bottom = _curvature(surface, visited if not surface.quadratic else visited[:1])
    if bottom < 0 and losses[step - 1] < losses[0]:
        return (
            "f has negative curvature here and decreases without bound along it: "
            "the run went downhill off the map, which no learning rate prevents."
        )
    if not np.isfinite(top) or top <= 0:
        return f"Try a smaller learning rate (it was up to {used:.3g}) or clip the gradient norm."
    factor, formula = _stable_factor(trajectory)
    weight_decay = float(np.max(trajectory.optimizer.hyper.get("weight_decay", 0.0)))
    bound = factor * 2.0 / (top + weight_decay)
    where = "this quadratic has λmax =" if surface.quadratic else "the largest curvature along its path was λmax ≈"
    if trajectory.optimizer.name != "SGD":
        return (
            f"For plain GD, {where} {top:.4g}, so η < 2/λmax = {2 / (top + weight_decay):.4g}; "
            f"{trajectory.optimizer.name} rescales its steps, so try a smaller lr than {used:.3g} or clip the gradient norm."
        )
    return (
        f"{where[0].upper()}{where[1:]} {top:.4g}: stable for η < {formula} = {bound:.4g}; it used η up to {used:.4g}."
    )
