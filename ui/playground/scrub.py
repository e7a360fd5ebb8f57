"""The scrubbers' grids and sweeps for a race, and what releasing a scrubber does to the scenario.

A racer's η scrubber offers the values of its sidebar lr slider (:func:`ui.state.widgets.log_grid`), a window
of at most :data:`MAX_LRS` of them around its own lr; its β scrubber (momentum, or Adam-style β1) a few
values a visitor compares (:data:`BETAS`) and its own. Every cell of that grid is one row of one engine call
(:func:`gdviz.landscape.scrub.sweep_paths`), so releasing a scrubber commits a value whose run is exactly
the path that was shown. The sweeps share the race figure's cache (ui/playground/view.py) and are budgeted:
their CPU time, and the bytes they add to the figure.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import numpy as np

from gdviz.landscape.scrub import Sweep, accepted_values, momentum_axis, sweep_paths
from gdviz.optimizers import optimizer_class
from ui.figures.scrub import ScrubInput
from ui.playground.scenario import Scenario
from ui.playground.sidebar_state import opt_prefix
from ui.playground.simulate import Race, per_racer, race_schedule, resolve_surface
from ui.state.entries import build_optimizer
from ui.state.values import bounds
from ui.state.widgets import log_grid, param_key
from ui.work import Budget
from ui.workers import offloaded

MAX_LRS = 36
MIN_LRS = 12  # fewer lrs than this is not a scrubber
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
# float32 numbers all racers' scrub paths may add to the race figure (~1.3 MB as base64): with the race itself
# (~0.5 MB) the default figure stays well under 2 MB
MAX_FLOATS = 240_000
# CPU seconds all of a race's sweeps may take; past it the remaining racers get no scrubber (the stage says so)
CPU_SECONDS = 0.5
BETA_LABELS = {"momentum": "momentum", "betas[0]": "β1"}


def lr_grid(optimizer_name: str, lr: float, count: int = MAX_LRS) -> tuple[list[float], int]:
    """At most ``count`` of the sidebar lr slider's values around ``lr`` (always included), and lr's index."""
    spec = {s.name: s for s in optimizer_class(optimizer_name).spec}["lr"]
    options = sorted(set(log_grid(*bounds(spec))) | {float(lr)})
    at = options.index(float(lr))
    first = int(np.clip(at - count // 2, 0, max(len(options) - count, 0)))
    window = options[first : first + count]
    return window, window.index(float(lr))


def beta_grid(optimizer_name: str, axis: str, value: float, count: int = len(BETAS) + 1) -> tuple[list[float], int]:
    """The β scrubber's values within the slider's range: :data:`BETAS` and ``value``, at most ``count``."""
    name = axis.split("[")[0]
    low, high = bounds({s.name: s for s in optimizer_class(optimizer_name).spec}[name])
    candidates = sorted({v for v in BETAS if low <= v <= high} | {float(value)})
    while len(candidates) > count:  # drop the candidate farthest from the racer's own value, never its own
        candidates.remove(max((v for v in candidates if v != value), key=lambda v: abs(v - value)))
    return candidates, candidates.index(float(value))


def _accepted_betas(opt, axis: str, betas: list[float], at: int) -> tuple[list[float], int]:
    kept = accepted_values(opt, axis, betas)
    return kept, kept.index(betas[at])


def _current_beta(hyper: dict[str, Any], axis: str) -> float:
    return float(hyper[axis.split("[")[0]][0]) if axis.endswith("]") else float(hyper[axis])


def _grids(opt, points_each: int, share: int) -> tuple[list[float], int, str | None, list[float], int] | None:
    """A racer's lr and β grids within its share of :data:`MAX_FLOATS` (None: not even a short scrubber fits)."""
    axis = momentum_axis(opt.name)
    lr = float(opt.hyper["lr"])
    betas, beta_at = [], 0
    if axis is not None:
        beta = _current_beta(opt.hyper, axis)
        betas, beta_at = _accepted_betas(opt, axis, *beta_grid(opt.name, axis, beta))
        while len(betas) > 1 and len(betas) * MIN_LRS * points_each > share:
            betas, beta_at = _accepted_betas(opt, axis, *beta_grid(opt.name, axis, beta, len(betas) - 1))
    fit = share // (max(len(betas), 1) * points_each)
    if fit < MIN_LRS:
        return None
    lrs, lr_at = lr_grid(opt.name, lr, min(fit, MAX_LRS))
    return lrs, lr_at, axis, betas, beta_at


def sweep_of(scenario: Scenario, index: int, lrs, betas, start, steps: int, should_stop=None) -> Sweep | None:
    """Racer ``index``'s sweep, from the scenario alone (so that a worker process can compute it: ui/workers.py);
    its engine objects are built as :func:`ui.playground.simulate.simulate` builds the race's."""
    surface, error = resolve_surface(scenario)
    if surface is None:
        raise ValueError(error)
    optimizer = build_optimizer(scenario.optimizers[index])
    schedule = per_racer(race_schedule(scenario), len(scenario.optimizers))[index]
    return sweep_paths(surface, optimizer, lrs, betas or None, start, steps, schedule, should_stop)


def scrub_inputs(race: Race, points: int) -> tuple[list[ScrubInput], str | None]:
    """The sweeps of every racer that can be scrubbed, sized to :data:`MAX_FLOATS` for ``points`` frame points,
    and why some or all cannot (None when all can)."""
    if race.scenario.noise > 0:
        return [], "Scrubbing needs a noise-free race: with gradient noise every η would need its own noise draws."
    budget = Budget(CPU_SECONDS)
    share = MAX_FLOATS // max(len(race.trajectories), 1)
    inputs: list[ScrubInput] = []
    for index, trajectory in enumerate(race.trajectories):
        opt = trajectory.optimizer
        start = trajectory.xs[0]  # (dim,) or (R, dim): the racer's start(s)
        grids = _grids(opt, start.size // race.surface.dim * points * 2, share)
        if grids is None:
            continue
        lrs, lr_at, axis, betas, beta_at = grids
        steps = trajectory.xs.shape[0] - 1
        try:
            sweep = offloaded(sweep_of, race.scenario, index, lrs, betas, start, steps, should_stop=budget)
        except ValueError:  # a setting of the grid the optimizer or its schedule refuses: no scrubber for it
            continue
        if sweep is None:
            return inputs, "Some racers cannot be scrubbed here: their paths would take too long to compute."
        inputs.append(ScrubInput(index, sweep, lr_at, beta_at, BETA_LABELS.get(axis or "", "")))
    if len(inputs) < len(race.trajectories):
        return inputs, "Some racers cannot be scrubbed here: their paths would not fit the page."
    return inputs, None


def commit(state: MutableMapping[str, Any], race: Race, racer: Any, lr: Any, beta: Any = None) -> bool:
    """Make a scrubbed value the scenario's: the racer's sidebar widgets take it (the link follows on the
    rerun). The values come from the browser: one that its scrubber does not offer is ignored (False)."""
    if isinstance(racer, bool) or not isinstance(racer, int) or not 0 <= racer < len(race.trajectories):
        return False
    opt = race.trajectories[racer].optimizer
    lrs, _ = lr_grid(opt.name, float(opt.hyper["lr"]), 10**6)
    if lr not in lrs:
        return False
    prefix = opt_prefix(racer)
    changes = {param_key(prefix, opt.name, "lr"): float(lr)}
    axis = momentum_axis(opt.name)
    if axis is not None and beta is not None:
        betas, _ = _accepted_betas(opt, axis, *beta_grid(opt.name, axis, _current_beta(opt.hyper, axis)))
        if beta not in betas:
            return False
        key = param_key(prefix, opt.name, axis.split("[")[0])
        changes[key + "_0" if axis.endswith("]") else key] = float(beta)
    state.update(changes)
    return True
