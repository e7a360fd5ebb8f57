"""A fairer comparison: every optimizer gets the same number of trials over all its hyper-parameters.

Tuning only the learning rate and judging after 100 steps favours whatever torch's defaults suit ("On
Empirical Comparisons of Optimizers for Deep Learning", Choi et al. 2019; "Optimizer Benchmarking Needs
to Account for Hyperparameter Tuning", Sivaprasad et al. 2020). :func:`tune_all` gives each optimizer
the same budget: ``trials`` settings drawn by random search ("Random Search for Hyper-Parameter
Optimization", Bergstra & Bengio 2012) over each knob's slider range (log-uniform where the spec says
``log``), each run from ``starts`` start points with ``seeds`` gradient-noise draws, all in one
:func:`gdviz.race` (every optimizer's trials a swept batch of runs). A trial is scored by its final
f − f* over those runs, mean ± sd; the lowest mean wins. ``knobs="lr"`` searches the learning rate alone
over a log grid of the same size, the others at their defaults: the lr-only tuning, scored the same way.

What is a knob: every float hyper-parameter and each half of a pair (Adam's betas), as a stability map
sweeps them, except ``weight_decay``, which changes the objective (it pulls towards 0, away from f*) rather
than the way to its minimum, so it keeps its default. Booleans (amsgrad, nesterov, centered, maximize) pick
another algorithm and keep their defaults, and so do the few integers (AdamThenSGD's switch_step): the
engine sweeps only floats, and a knob that needs a call per value would break the one-call budget.

Runs, in the order of the race's batch: trial k, start i, seed j is run k·S·E + i·E + j (S starts, E
seeds). The engine draws gradient noise per run index from one seed (``rng_seed``), so the E "seeds" of a
(trial, start) are E distinct noise streams; run r of every optimizer sees the same stream (common random
numbers). Without noise every seed would repeat the same run, so one is run (the budget says so).
Everything, the settings, the starts and the noise, is reproducible from ``rng_seed``.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import finite_vector, int_at_least, require_surface, window_box
from gdviz.landscape.stability import _swept_hyper, axis_spec, sweep_axes
from gdviz.landscape.tuning import log_grid
from gdviz.optimizers import optimizer_class
from gdviz.run import race
from gdviz.surfaces.base import Surface

KNOB_MODES = ("all", "lr")
# knobs that change what is minimised, not how: they keep their defaults (see the module docstring)
NOT_KNOBS = ("weight_decay",)
# a draw the optimizer refuses (Rprop needs η− < 1 < η+, Γmin <= Γmax) is drawn again, at most this often
MAX_REDRAWS = 1000
# the random streams drawn from rng_seed: the starts, then one per optimizer (by its name)
_STARTS_STREAM = 0


def tunable_axes(optimizer_name: str) -> list[str]:
    """The knobs :func:`tune_all` samples: the float axes of a stability map, less ``weight_decay``."""
    return [axis for axis in sweep_axes(optimizer_name) if axis.split("[")[0] not in NOT_KNOBS]


@dataclass(frozen=True)
class TuningBudget:
    """What every optimizer got: ``trials`` settings × ``starts`` × ``seeds`` runs of ``steps`` steps."""

    trials: int
    steps: int
    starts: int
    seeds: int
    noise: float
    batch_size: int
    knobs: str  # "all" or "lr"
    rng_seed: int

    @property
    def runs(self) -> int:
        """Runs per trial, over which its mean ± sd is taken."""
        return self.starts * self.seeds

    @property
    def runs_per_optimizer(self) -> int:
        return self.trials * self.runs


@dataclass(frozen=True, eq=False)
class TunedAll:
    """One optimizer's search. Arrays over trials are (T,); over its runs (T, S, E).

    settings: knob -> (T,) the value each trial drew (for ``knobs="lr"`` only ``"lr"``); the other
    hyper-parameters are the registry defaults. final_gap: final loss − f_ref of every run; diverged: runs
    the engine froze. mean, sd: numpy's mean and (population) std of final_gap over a trial's S·E runs;
    a trial with a diverged run scores mean = +inf and sd = nan (it cannot win while any trial survives).
    best: the trial with the lowest mean. steps in ``budget`` are the steps done (fewer when stopped).
    """

    name: str
    settings: dict[str, np.ndarray]
    final_gap: np.ndarray
    diverged: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    best: int
    budget: TuningBudget
    starts: np.ndarray  # (S, dim)
    f_ref: float
    seconds: float

    @property
    def knobs(self) -> tuple[str, ...]:
        return tuple(self.settings)

    @property
    def best_mean(self) -> float:
        return float(self.mean[self.best])

    @property
    def best_sd(self) -> float:
        return float(self.sd[self.best])

    @property
    def diverged_trials(self) -> int:
        """Trials with at least one diverged run."""
        return int(self.diverged.any(axis=(1, 2)).sum())

    def setting(self, trial: int) -> dict[str, Any]:
        """Every hyper-parameter of one trial as plain Python values (pairs as tuples)."""
        cls = optimizer_class(self.name)
        defaults = {spec.name: spec.default for spec in cls.spec}
        axes = {axis: float(values[trial]) for axis, values in self.settings.items()}
        hyper = _swept_hyper(cls, defaults, axes)
        return {
            k: (tuple(float(v) for v in value) if isinstance(value, tuple) else value) for k, value in hyper.items()
        }

    @property
    def best_setting(self) -> dict[str, Any]:
        return self.setting(self.best)


def _stream(rng_seed: int, key: int) -> np.random.Generator:
    return np.random.default_rng([rng_seed, key])


def _optimizer_stream(rng_seed: int, name: str) -> np.random.Generator:
    """An optimizer's own stream: its trials do not change with the other optimizers compared."""
    return _stream(rng_seed, 1 + zlib.crc32(name.encode()))


def _draw(axis_specs: dict, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``rows`` values of each knob: uniform over its slider range, log-uniform where the spec says ``log``."""
    out = {}
    for axis, spec in axis_specs.items():
        low, high = spec.slider_range()
        if spec.log:
            if not 0 < low <= high:
                raise ValueError(f"{axis}: a log range needs 0 < low <= high, got {low:g}, {high:g}")
            out[axis] = np.exp(rng.uniform(math.log(low), math.log(high), rows))
        else:
            out[axis] = rng.uniform(low, high, rows)
    return out


def sample_settings(optimizer_name: str, trials: int, rng_seed: int, knobs: str = "all") -> dict[str, np.ndarray]:
    """knob -> (trials,) values: random search for ``knobs="all"``, a log grid of lr for ``knobs="lr"``.

    Reproducible from ``rng_seed`` and the optimizer's name. A draw the optimizer refuses is drawn again
    (up to MAX_REDRAWS rounds), so every trial is a setting the optimizer accepts.
    """
    cls = optimizer_class(optimizer_name)
    trials = int_at_least(trials, "trials")
    if knobs not in KNOB_MODES:
        raise ValueError(f"knobs must be one of {KNOB_MODES}, got {knobs!r}")
    if knobs == "lr":
        low, high = axis_spec(cls.name, "lr").slider_range()
        return {"lr": log_grid(low, high, trials)}
    axis_specs = {axis: axis_spec(cls.name, axis) for axis in tunable_axes(cls.name)}
    rng = _optimizer_stream(int_at_least(rng_seed, "rng_seed", 0), cls.name)
    settings = _draw(axis_specs, trials, rng)
    defaults = {spec.name: spec.default for spec in cls.spec}
    for _ in range(MAX_REDRAWS):
        refused = [k for k in range(trials) if not _accepted(cls, defaults, settings, k)]
        if not refused:
            return settings
        again = _draw(axis_specs, len(refused), rng)
        for axis in settings:
            settings[axis][refused] = again[axis]
    raise ValueError(f"{cls.name}: no valid setting found in {MAX_REDRAWS} draws")


def _accepted(cls, defaults: dict[str, Any], settings: dict[str, np.ndarray], trial: int) -> bool:
    try:
        cls(**_swept_hyper(cls, defaults, {axis: float(v[trial]) for axis, v in settings.items()}))
    except ValueError:
        return False
    return True


def draw_starts(surface: Surface, starts: int, rng_seed: int, start: Any = None) -> np.ndarray:
    """(starts, dim): ``start`` (the surface's default when None), then uniform draws over the plot window."""
    first = finite_vector(np.ravel(surface.default_start if start is None else start), "start")
    if first.shape != (surface.dim,):
        raise ValueError(f"start must be one point of dimension {surface.dim}, got {first.size} numbers")
    starts = int_at_least(starts, "starts")
    box = window_box(surface, None)
    rest = _stream(rng_seed, _STARTS_STREAM).uniform(box[:, 0], box[:, 1], (starts - 1, surface.dim))
    return np.concatenate([first[None], rest])


def tune_all(
    surface: Surface,
    optimizer_names: Sequence[str],
    trials: int = 24,
    steps: int = 500,
    starts: int = 3,
    seeds: int = 3,
    noise: float = 0.0,
    batch_size: int = 1,
    rng_seed: int = 0,
    start: Any = None,
    knobs: str = "all",
    should_stop: Callable[[], bool] | None = None,
) -> list[TunedAll]:
    """Tune every optimizer with the same budget in one :func:`gdviz.race`; one :class:`TunedAll` each.

    ``trials`` settings per optimizer (see :func:`sample_settings`), each run from the ``starts`` points
    of :func:`draw_starts` with ``seeds`` noise draws (one when ``noise`` is 0), ``steps`` steps, gradient
    noise σ = ``noise`` at ``batch_size``. f_ref is the surface's f_min, or the lowest loss any run reached
    when it has none. ``should_stop`` (see :func:`gdviz.race`) ends every optimizer's runs at the same step.
    """
    require_surface(surface)
    names = [optimizer_class(name).name for name in optimizer_names]
    if not names:
        raise ValueError("give at least one optimizer name")
    if len(set(names)) != len(names):
        raise ValueError(f"each optimizer once, got {names}")
    trials, steps = int_at_least(trials, "trials"), int_at_least(steps, "steps", 0)
    starts, seeds = int_at_least(starts, "starts"), int_at_least(seeds, "seeds")
    rng_seed = int_at_least(rng_seed, "rng_seed", 0)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if noise == 0:
        seeds = 1  # every seed would repeat the same run
    budget = TuningBudget(trials, steps, starts, seeds, float(noise), batch_size, knobs, rng_seed)
    points = draw_starts(surface, starts, rng_seed, start)  # (S, dim)
    batch_starts = np.tile(np.repeat(points, seeds, axis=0), (trials, 1))  # (T·S·E, dim), run k·S·E + i·E + j
    settings = [sample_settings(name, trials, rng_seed, knobs) for name in names]
    optimizers = []
    for name, drawn in zip(names, settings):
        cls = optimizer_class(name)
        per_run = {axis: np.repeat(values, starts * seeds) for axis, values in drawn.items()}  # (T·S·E,)
        optimizers.append(cls(**_swept_hyper(cls, {}, per_run)))
    tick = time.perf_counter()
    trajectories = race(
        surface, optimizers, batch_starts, steps, None, noise, rng_seed, batch_size, "final", should_stop
    )
    seconds = time.perf_counter() - tick
    shape = (trials, starts, seeds)
    finals = [t.losses[-1].reshape(shape) for t in trajectories]
    lowest = min(min(float(np.min(f)) for f in finals), float(np.min(trajectories[0].losses[0])))
    f_ref = float(surface.f_min) if math.isfinite(surface.f_min) else lowest
    done = steps if trajectories[0].stopped_after is None else trajectories[0].stopped_after
    budget = TuningBudget(trials, done, starts, seeds, float(noise), batch_size, knobs, rng_seed)
    return [
        _scored(name, drawn, final - f_ref, traj.diverged_step.reshape(shape) >= 0, budget, points, f_ref, seconds)
        for name, drawn, final, traj in zip(names, settings, finals, trajectories)
    ]


def trial_scores(final_gap: np.ndarray, diverged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T,) mean and population sd of each trial's final gaps over its (S, E) runs; +inf and nan where one diverged."""
    runs = final_gap.reshape(final_gap.shape[0], -1)
    lost = diverged.reshape(diverged.shape[0], -1).any(axis=1)
    mean = np.where(lost, np.inf, runs.mean(axis=1))
    sd = np.where(lost, np.nan, runs.std(axis=1))
    return mean, sd


def _scored(name, settings, final_gap, diverged, budget, points, f_ref, seconds) -> TunedAll:
    mean, sd = trial_scores(final_gap, diverged)
    return TunedAll(
        name=name,
        settings=settings,
        final_gap=final_gap,
        diverged=diverged,
        mean=mean,
        sd=sd,
        best=int(np.argmin(mean)),
        budget=budget,
        starts=points,
        f_ref=f_ref,
        seconds=seconds,
    )


def ranking(tuned: Sequence[TunedAll]) -> list[str]:
    """Optimizer names from best to worst: lowest best mean, then lowest sd, then name."""
    return [t.name for t in sorted(tuned, key=lambda t: (t.best_mean, np.nan_to_num(t.best_sd, nan=np.inf), t.name))]
