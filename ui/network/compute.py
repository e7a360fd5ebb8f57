"""The Networks page's computations, cached (Streamlit's cache) and bounded by :mod:`ui.limits`.

Before anything runs, :func:`check_work` refuses a setting the server cannot afford (too many recorded
weights, or a race or picture its cost model, :func:`estimated_cost`, puts beyond the budgets) with what to
lower; the race itself is stopped by a :class:`ui.work.Budget` of NETWORK_TRAIN_SECONDS of CPU, and a stopped
race is shown, not cached.
torch computes on one thread per visitor, as on the Linear Regression page.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from gdviz import network
from gdviz.network.plane import PCA_MAX_ROWS
from ui import limits, work
from ui.regression.budget import numpy_on_one_thread
from ui.regression.compute import one_visitor_one_core, warm_up
from ui.work import Budget
from ui.workers import offloaded

CACHE = dict(max_entries=limits.NETWORK_CACHE_MAX_ENTRIES, show_spinner=False)
FUNCTION_GRID = 48  # inputs per axis where the decision regions are evaluated
CURVE_POINTS = 160  # inputs where a fitted curve is evaluated


@dataclass(frozen=True)
class Setting:
    """Everything one race and its picture depend on (hashable: the caches' key)."""

    data: str
    n: int
    noise: float
    seed: int
    width: int
    depth: int
    activation: str
    racers: tuple[network.Racer, ...]
    schedule: Any  # None or (name, params)
    steps: int
    batch_size: int | None
    plane: str
    centre: str
    grid: int
    device: str

    @property
    def spec(self) -> network.MLP:
        inputs = 1 if network.DATASETS[self.data][0] == "regress" else 2
        return network.MLP(inputs, self.width, self.depth, activation=self.activation)


@dataclass(frozen=True)
class Cost:
    """A setting's cost as the page's model puts it (ui/limits.py), in seconds of one core: its race and its
    picture (the landscape, the network's function at every frame, the PCA)."""

    training: float
    picture: float


@dataclass(frozen=True)
class Work:
    """What a setting asks of the server, counted, before the rates of ui/limits.py turn it into seconds
    (:func:`estimated_cost`; benchmarks/network.py --fit fits those rates to measured races and pictures)."""

    layer_steps: int  # racers × steps × layers: torch's fixed cost per layer and step
    train_multiply_adds: int  # forward and backward on each batch (about 3 passes), the recorded loss on all (1)
    activations: int  # hidden units × samples, of each batch and of each recorded loss
    grid_multiply_adds: int  # the loss over the grid and under every projected iterate
    function_multiply_adds: int  # the network's function at every frame
    pca_multiply_adds: int  # the smaller Gram matrix of the (thinned) iterates, then its eigh

    @property
    def training(self) -> tuple[int, int, int]:
        return self.layer_steps, self.train_multiply_adds, self.activations

    @property
    def picture(self) -> tuple[int, int, int]:
        return self.grid_multiply_adds, self.function_multiply_adds, self.pca_multiply_adds


def work_of(setting: Setting) -> Work:
    spec, racers, n, steps = setting.spec, len(setting.racers), setting.n, setting.steps
    weights, layers = spec.parameters, len(spec.sizes) - 1
    batch = n if setting.batch_size is None else min(setting.batch_size, n)
    iterates = racers * (steps + 1)
    inputs = FUNCTION_GRID**2 if network.DATASETS[setting.data][0] == "classify" else CURVE_POINTS
    frames = min(steps, limits.NETWORK_MAX_FRAMES) + 1
    small, large = sorted((min(iterates, PCA_MAX_ROWS), weights))
    return Work(
        layer_steps=racers * steps * layers,
        train_multiply_adds=racers * steps * weights * (3 * batch + n),
        activations=racers * steps * setting.width * setting.depth * (batch + n),
        grid_multiply_adds=(setting.grid**2 + iterates) * n * weights,
        function_multiply_adds=racers * frames * inputs * weights,
        pca_multiply_adds=small**2 * (large + small),
    )


def estimated_cost(setting: Setting) -> Cost:
    """The cost model of ui/limits.py for ``setting`` (no work done)."""
    work = work_of(setting)
    training = (
        work.layer_steps * limits.NETWORK_LAYER_STEP_SECONDS
        + work.train_multiply_adds / limits.NETWORK_TRAIN_MACS_PER_SECOND
        + work.activations * limits.NETWORK_ACTIVATION_SECONDS
    )
    picture = (
        work.grid_multiply_adds / limits.NETWORK_GRID_MACS_PER_SECOND
        + work.function_multiply_adds / limits.NETWORK_FUNCTION_MACS_PER_SECOND
        + work.pca_multiply_adds / limits.NETWORK_PCA_MACS_PER_SECOND
    )
    return Cost(training=training, picture=picture)


def _refusal(setting: Setting) -> str | None:
    """Why the server refuses ``setting`` (the first cap it passes), or None."""
    racers, weights = len(setting.racers), setting.spec.parameters
    recorded = racers * (setting.steps + 1) * weights
    if recorded > limits.NETWORK_MAX_RECORDED:
        return (
            f"{racers} paths of {setting.steps + 1:,} iterates × {weights:,} weights are {recorded:,} numbers to "
            f"record, more than this server's {limits.NETWORK_MAX_RECORDED:,}"
        )
    cost, budget = estimated_cost(setting), limits.NETWORK_TRAIN_SECONDS
    if cost.training > limits.NETWORK_MAX_TRAIN_OVER_BUDGET * budget:
        on = f"{setting.n:,} samples"
        if setting.batch_size is not None and setting.batch_size < setting.n:
            on = f"minibatches of {setting.batch_size:,} of {on}"
        return (
            f"Training {racers} optimizer(s) for {setting.steps:,} steps on {on} with {weights:,} weights would take "
            f"about {cost.training:.0f} s of this server's CPU, more than it gives a page: it stops a race after "
            f"{budget:g} s, which would show about {budget / cost.training:.0%} of the steps"
        )
    if cost.picture > limits.NETWORK_MAX_PICTURE_SECONDS:
        return (
            f"The landscape ({setting.grid}² grid points and every iterate, each on {setting.n:,} samples with "
            f"{weights:,} weights) and the network's function at every frame would take about {cost.picture:.1f} s "
            f"of this server's CPU, more than its {limits.NETWORK_MAX_PICTURE_SECONDS:g} s per picture"
        )
    return None


def _most(with_count: Callable[[int], Setting], low: int, high: int) -> int | None:
    """The largest count from ``low`` to ``high`` at which ``with_count(count)`` (the setting with that count,
    one the cost grows with) is accepted; None where none is."""
    if _refusal(with_count(low)) is not None:
        return None
    while low < high:  # bisection: every cap grows with the count
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _refusal(with_count(middle)) is None else (low, middle - 1)
    return low


class TooHeavy(ValueError):
    """A setting beyond the server's caps: the message says why and what to lower; ``steps`` and ``grid`` are
    the most steps and the finest grid that fit with the rest unchanged (None where none does, or, for the
    grid, where it is not the grid that is too heavy), which the page offers to apply."""

    def __init__(self, message: str, steps: int | None, grid: int | None):
        super().__init__(message)
        self.steps, self.grid = steps, grid


def check_work(setting: Setting) -> None:
    """Refuse (ValueError, shown by the page) a setting beyond the server's caps, saying what to lower: the
    most steps that fit, and for a picture the finest grid, with the rest of the setting unchanged."""
    problem = _refusal(setting)
    if problem is None:
        return
    lower, grid = [], None
    if problem.startswith("The landscape"):
        grid = _most(lambda grid: dataclasses.replace(setting, grid=grid), limits.NETWORK_MIN_GRID, setting.grid - 1)
        if grid is not None:
            lower.append(f"a grid of {grid} points per axis fits")
    steps = _most(lambda steps: dataclasses.replace(setting, steps=steps), 1, setting.steps - 1)
    lower.append("fewer steps" if steps is None else f"at most {steps:,} steps fit")
    raise TooHeavy(
        f"{problem}: {'; or '.join(lower)}; or fewer optimizers or samples, or a narrower or shallower network.",
        steps,
        grid,
    )


@st.cache_data(max_entries=4, show_spinner=False)
def dataset(name: str, n: int, noise: float, seed: int) -> network.Dataset:
    return network.make_dataset(name, n, noise, seed)


def race(setting: Setting) -> tuple[network.Paths, list[str]]:
    """The race within the server's budget: its paths, and a notice when the deadline cut it short.

    The budget starts after torch's one-off warm-up (the imports of its first optimizer step, ~0.9 s of CPU
    here), as on the Linear Regression page: a fresh server's first race spent it from its own 3.5 s (the
    heaviest link stopped at 759 of its 1,000 steps, and after the warm-up took 1,000 in 3.1 s)."""
    one_visitor_one_core()
    check_work(setting)
    warm_up()
    budget = Budget(limits.NETWORK_TRAIN_SECONDS)
    notices: list[str] = []
    paths = work.partial(
        lambda: _race(setting, budget), notices, budget.seconds, "Fewer steps, racers or weights fit in the budget."
    )
    return paths, notices


@st.cache_data(**CACHE)
def _race(setting: Setting, _budget: Budget) -> network.Paths:
    bar = st.progress(0.0, text="Training …")
    last = [-1.0]

    def report(fraction: float, text: str) -> None:
        if fraction - last[0] >= 0.04 or fraction >= 1.0:
            last[0] = fraction
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"Training … {text}")

    paths = offloaded(train_race, setting, should_stop=_budget, progress=report)
    bar.empty()
    finished = paths.done == paths.steps or all(d is not None for d in paths.diverged_at)
    return paths if finished else work.complete(paths, paths.done, paths.steps)


def train_race(setting: Setting, should_stop=None, progress=None) -> network.Paths:
    """Every racer's training, on one core (here, or in a worker process once the page's run is heavy:
    ui/workers.py)."""
    one_visitor_one_core()
    data = dataset(setting.data, setting.n, setting.noise, setting.seed)
    return network.train_racers(
        data,
        setting.spec,
        list(setting.racers),
        setting.steps,
        schedule=setting.schedule,
        batch_size=setting.batch_size,
        seed=setting.seed,
        device=setting.device,
        should_stop=should_stop,
        progress=progress,
    )


def frame_steps(done: int, most: int = limits.NETWORK_MAX_FRAMES) -> list[int]:
    """At most ``most + 1`` steps from 0 to ``done``, evenly spaced, both ends kept."""
    return [int(s) for s in np.unique(np.round(np.linspace(0, done, min(done, most) + 1)).astype(int))]


@dataclass(frozen=True)
class Picture:
    """The landscape, the animation's steps, and the network's function at each of them, per racer:
    ``outputs[r]`` (frames, points) at ``inputs`` (points, d_in) — a logit on a FUNCTION_GRID² lattice
    (classification) or the fitted value along x (regression)."""

    view: network.Landscape
    steps: list[int]
    inputs: np.ndarray
    grid_axes: tuple[np.ndarray, np.ndarray] | None
    outputs: list[np.ndarray]


def picture(setting: Setting, paths: network.Paths) -> Picture:
    one_visitor_one_core()
    return _picture(setting, paths.done, paths)


@st.cache_data(**CACHE)
def _picture(setting: Setting, done: int, _paths: network.Paths) -> Picture:
    with st.spinner("Evaluating the loss over the plane …"):
        # the work caps (check_work) bound the picture, not a time budget: this one never stops it, it lets the
        # picture of a run that is heavy by now (it trained) move to a worker process (ui/workers.py)
        return offloaded(picture_of, setting, done, _paths, should_stop=Budget(math.inf))


def picture_of(setting: Setting, done: int, paths: network.Paths, should_stop=None) -> Picture:
    one_visitor_one_core()
    data = dataset(setting.data, setting.n, setting.noise, setting.seed)
    # the PCA's eigh on one BLAS thread: two threads spinning on a shared machine took seconds (as on the
    # Linear Regression page, ui/regression/budget.py)
    with numpy_on_one_thread():
        view = network.landscape(
            paths, data, plane=setting.plane, grid=setting.grid, centre=setting.centre,
            direction_seed=setting.seed, device=setting.device,
        )  # fmt: skip
    steps = frame_steps(done)
    if data.task == "classify":
        lo, hi = data.X.min(axis=0), data.X.max(axis=0)
        pad = 0.1 * (hi - lo)
        gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], FUNCTION_GRID)
        gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], FUNCTION_GRID)
        inputs = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        axes = (gx, gy)
    else:
        lo, hi = float(data.X.min()), float(data.X.max())
        inputs = np.linspace(lo, hi, CURVE_POINTS)[:, None]
        axes = None
    evaluator = network.Evaluator(setting.spec, data, setting.device)
    outputs = []
    for weights in paths.weights:
        rows = np.minimum(steps, len(weights) - 1)  # a diverged path stays at its last good iterate
        outputs.append(evaluator.outputs(weights[rows], inputs) if len(weights) else np.zeros((len(steps), 0)))
    return Picture(view, steps, inputs, axes, outputs)


def relative(distance: float, spread: float) -> float:
    return distance / spread if spread > 0 else math.nan
