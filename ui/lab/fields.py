"""What the Schedules and Landscape Lab pages compute: their URL fields, cached engine calls, links.

Every computation is a ``st.cache_data`` function of plain, hashable inputs (names, numbers, tuples of
canonical parameters), so two visitors with the same settings share one result and the cache is
bounded (:data:`ui.limits.LAB_CACHE_MAX_ENTRIES`). Long work is split into pieces (rows of a map, one
optimizer's basins) that are cached one by one, so that the page can move a progress bar between them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from gdviz.optimizers import optimizer_class
from ui import limits
from ui.playground.controls import playable_schedules
from ui.playground.scenario import Scenario, auto_labels, entry, to_query
from ui.state.fields import Choice, Entry, Names, Number, Point
from ui.state.values import Params, bounds

CACHE = dict(max_entries=limits.LAB_CACHE_MAX_ENTRIES, show_spinner=False)
PLANAR = tuple(sorted(name for name, s in gdviz.SURFACES.items() if s.dim in (1, 2)))
TWO_D = tuple(name for name in PLANAR if gdviz.SURFACES[name].dim == 2)


def _pick(options: tuple[str, ...], wanted: str) -> str:
    return wanted if wanted in options else options[0]


# -- Schedules page -------------------------------------------------------------------------------------
SCHEDULE_DEFAULT_STEPS = 200
_SCHEDULE_CHOICES = tuple(playable_schedules())
_SLOT_DEFAULTS = ("constant", "ExponentialDecay", "PolynomialDecay", "CosineAnnealingLR", "StepLR", "OneCycleLR")


def _schedule_slot(i: int) -> Entry:
    wanted = _SLOT_DEFAULTS[i] if i < len(_SLOT_DEFAULTS) else "constant"
    name = wanted if wanted in _SCHEDULE_CHOICES or wanted == "constant" else "constant"
    probe = Entry("probe", "", "schedule", "constant", constant=True, horizon=SCHEDULE_DEFAULT_STEPS)
    params = tuple(probe.horizon_params(name).items()) if name != "constant" else ()
    if name == "StepLR":
        params = (("step_size", 50), ("gamma", 0.5))
    return Entry(
        f"sc{i + 1}",
        f"Schedule {i + 1}",
        "schedule",
        name,
        params,
        constant=True,
        horizon=SCHEDULE_DEFAULT_STEPS,
        choices=_SCHEDULE_CHOICES,
    )


SCHEDULE_SLOTS = tuple(_schedule_slot(i) for i in range(limits.MAX_SCHEDULES_COMPARED))
SCHEDULE_FIELDS = (
    Number("n", "Number of schedules", 3, 1, limits.MAX_SCHEDULES_COMPARED, integer=True),
    *SCHEDULE_SLOTS,
    Choice("s", "Surface", _pick(PLANAR, "quadratic"), PLANAR),
    Point("x0", "Start point", "s"),
    Number("lr", "Base learning rate η0", 0.1, 1e-5, 2.0),
    Number("noise", "Gradient noise σ", 1.0, limits.MIN_NOISE, limits.MAX_NOISE),
    Number("steps", "Steps", SCHEDULE_DEFAULT_STEPS, 1, limits.MAX_SCHEDULE_STEPS, integer=True),
    Number("seeds", "Seeds", 16, 1, limits.MAX_SEEDS, integer=True),
    Number("seed", "First seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
)


def schedule_label(name: str, params: Params) -> str:
    if name == "constant":
        return "constant η"
    specs = gdviz.SCHEDULES[name].spec
    shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for (k, v), s in zip(params, specs) if v is not None]
    return f"{name}({', '.join(shown[:3])})"


@st.cache_data(**CACHE)
def schedule_runs(
    surface_name: str,
    start: tuple[float, ...] | None,
    lr: float,
    noise: float,
    steps: int,
    seeds: int,
    seed: int,
    schedule: tuple[str, Params],
) -> dict[str, np.ndarray]:
    """Noisy SGD with one schedule, ``seeds`` runs in one call (each its own noise stream).

    Returns lrs (steps,), distance (or f when the surface has no known minimum) as mean / 10% / 90%
    quantiles over the runs (steps+1,), and run 0's path (steps+1, dim).
    """
    surface = gdviz.surface(surface_name)
    name, params = schedule
    sched = None if name == "constant" else gdviz.schedule(name, **dict(params))
    x0 = np.asarray(surface.default_start if start is None else start, dtype=np.float64)
    traj = gdviz.run(
        surface,
        gdviz.optimizer("SGD", lr=lr),
        np.tile(x0, (seeds, 1)),
        steps,
        sched,
        noise=noise,
        seed=seed,
        record="path",
    )
    metric = traj.distance_to_minimum() if np.size(surface.minima) else traj.losses  # (steps+1, R)
    return {
        "lrs": traj.lrs.mean(axis=1),
        "mean": metric.mean(axis=1),
        "low": np.quantile(metric, 0.1, axis=1),
        "high": np.quantile(metric, 0.9, axis=1),
        "path": traj.xs[:, 0],
        "diverged": (traj.diverged_step >= 0).sum(),
    }


def schedule_scenario(values: dict[str, Any], schedule: tuple[str, Params]) -> Scenario:
    """The Playground scenario of one schedule's noisy-SGD run (seed = the first seed)."""
    name, params = schedule
    return Scenario(
        surface=values["s"],
        start=values["x0"],
        steps=int(min(values["steps"], limits.MAX_STEPS)),
        noise=float(values["noise"]),
        seed=int(values["seed"]),
        schedule="" if name == "constant" else name,
        schedule_params=() if name == "constant" else params,
        optimizers=(entry("SGD", lr=values["lr"], label=schedule_label(name, params)[: limits.MAX_LABEL_CHARS]),),
    )


# -- Landscape Lab page ------------------------------------------------------------------------------------
VIEWS = ("stability", "basins", "escape", "critical", "fair")
VIEW_TITLES = {
    "stability": "Stability map",
    "basins": "Basins of attraction",
    "escape": "Escaping local minima",
    "critical": "Critical points",
    "fair": "Fair comparison",
}
ALL_AXES = tuple(sorted({axis for name in gdviz.OPTIMIZERS for axis in landscape.sweep_axes(name)}))
_OPTIMIZERS = tuple(sorted(gdviz.OPTIMIZERS))
_FAIR_DEFAULT = tuple(n for n in ("SGD", "Adam", "RMSprop", "Adagrad") if n in gdviz.OPTIMIZERS)

LAB_FIELDS = (
    Choice("view", "View", "stability", VIEWS),
    # stability map
    Choice("st.s", "Surface", _pick(PLANAR, "quadratic"), PLANAR),
    Point("st.x0", "Start point", "st.s"),
    Entry("st.o", "Optimizer", "optimizer", "SGD", (("lr", 0.1),)),
    Choice("st.ax", "x axis", "lr", ALL_AXES),
    Number("st.xlo", "x from", 1e-3, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.xhi", "x to", 2.0, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Choice("st.ay", "y axis", "momentum", ALL_AXES),
    Number("st.ylo", "y from", 0.0, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.yhi", "y to", 0.99, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.n", "Cells per axis", 64, 4, limits.MAX_MAP_GRID, integer=True),
    Number("st.steps", "Steps", 300, 1, limits.MAX_LAB_STEPS, integer=True),
    # basins
    Choice("ba.s", "Surface", _pick(PLANAR, "himmelblau"), PLANAR),
    Entry("ba.o1", "Optimizer A", "optimizer", "SGD", (("lr", 0.01),)),
    Entry("ba.o2", "Optimizer B", "optimizer", "SGD", (("lr", 0.01), ("momentum", 0.9))),
    Number("ba.n", "Starts per axis", 100, 8, limits.MAX_BASIN_GRID, integer=True),
    Number("ba.steps", "Steps", 500, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("ba.tol", "Tolerance (share of the window's diagonal)", 0.01, 1e-4, 0.2),
    # escaping local minima
    Choice("es.s", "Surface", _pick(PLANAR, "local_trap"), PLANAR),
    Point("es.x0", "Start point (annealing)", "es.s"),
    Entry("es.o", "Optimizer", "optimizer", "SGD", (("lr", 0.05),)),
    Number("es.steps", "Steps", 600, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("es.n", "Random restarts", 30, 1, limits.MAX_RESTARTS, integer=True),
    Number("es.sigma", "Initial noise σ0", 3.0, 0.0, limits.MAX_NOISE),
    Number("es.decay", "Cooling factor γ per step", 0.99, 0.9, 1.0),
    Number("es.runs", "Noisy runs", 16, 1, limits.MAX_ANNEAL_RUNS, integer=True),
    Number("es.seed", "Seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
    # critical points
    Choice("cp.s", "Surface", _pick(PLANAR, "himmelblau"), PLANAR),
    # fair comparison
    Choice("fc.s", "Surface", _pick(PLANAR, "rosenbrock"), PLANAR),
    Point("fc.x0", "Start point", "fc.s"),
    Names("fc.o", "Optimizers", _FAIR_DEFAULT, _OPTIMIZERS, limits.MAX_OPTIMIZERS),
    Number("fc.lo", "Smallest lr", 1e-4, 1e-6, 10.0),
    Number("fc.hi", "Largest lr", 1.0, 1e-6, 10.0),
    Number("fc.n", "Learning rates tried", 25, 3, limits.MAX_TUNE_POINTS, integer=True),
    Number("fc.steps", "Steps", 500, 1, limits.MAX_LAB_STEPS, integer=True),
    Number("fc.tol", "Tolerance on f − f*", 1e-3, 1e-12, 1e3),
)


def axis_range(optimizer_name: str, axis: str) -> tuple[float, float, bool]:
    """(low, high, log) a sweep axis offers: the widget range of its spec (bounds())."""
    spec = landscape.axis_spec(optimizer_name, axis)
    low, high = bounds(spec)
    if spec.log and low <= 0:
        low = high * 1e-5
    return float(low), float(high), bool(spec.log)


def axis_values(optimizer_name: str, axis: str, low: float, high: float, n: int) -> tuple[np.ndarray, bool, str | None]:
    """``n`` values of an axis from low to high (log-spaced where the spec says so), clamped to what
    the optimizer accepts; and a message when the range had to change."""
    valid_low, valid_high, log = axis_range(optimizer_name, axis)
    message = None
    lo, hi = min(low, high), max(low, high)
    c_lo, c_hi = limits.clamp(lo, valid_low, valid_high), limits.clamp(hi, valid_low, valid_high)
    if (c_lo, c_hi) != (lo, hi) or low > high:
        message = f"{axis}: range [{low:g}, {high:g}] changed to [{c_lo:g}, {c_hi:g}] (what {optimizer_name} accepts)."
    if c_lo == c_hi:
        return np.array([c_lo]), log, message
    values = np.geomspace(c_lo, c_hi, n) if log and c_lo > 0 else np.linspace(c_lo, c_hi, n)
    return values, log and c_lo > 0, message


def lab_steps(runs: int, steps: int) -> tuple[int, str | None]:
    """Steps limited so that runs × steps stays within the work budget."""
    cap = max(1, limits.MAX_LAB_RUN_STEPS // max(runs, 1))
    if steps <= cap:
        return steps, None
    return cap, f"{runs} runs × {steps} steps is more work than the server allows; using {cap} steps."


def _opt(entry_value: tuple[str, Params], **override) -> Any:
    name, params = entry_value
    return gdviz.optimizer(name, **{**dict(params), **override})


@st.cache_data(**CACHE)
def stability_rows(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    x_axis: tuple[str, tuple[float, ...]],
    y_axis: tuple[str, tuple[float, ...]],
    steps: int,
) -> landscape.StabilityMap:
    """One block of rows of a stability map (the page stacks the blocks)."""
    name, params = optimizer
    fixed = {k: v for k, v in params if k not in (x_axis[0], y_axis[0])}
    return landscape.stability_map(gdviz.surface(surface_name), name, fixed, x_axis, y_axis, start=start, steps=steps)


def stack_rows(blocks: list[landscape.StabilityMap]) -> landscape.StabilityMap:
    """Blocks of rows (consecutive y values) as one map."""
    first = blocks[0]
    return replace(
        first,
        y_values=np.concatenate([b.y_values for b in blocks]),
        final_loss=np.concatenate([b.final_loss for b in blocks]),
        final_x=np.concatenate([b.final_x for b in blocks]),
        diverged_at=np.concatenate([b.diverged_at for b in blocks]),
        f_ref=min(b.f_ref for b in blocks),
        seconds=sum(b.seconds for b in blocks),
    )


def stability_bound(surface_name: str, optimizer: tuple[str, Params], m: landscape.StabilityMap):
    """GD / heavy ball on a quadratic is stable iff lr < 2(1 + μ)/λmax: that line, when it applies."""
    surface = gdviz.surface(surface_name)
    name, params = optimizer
    params = dict(params)
    plain = name == "SGD" and not params.get("nesterov") and not params.get("dampening") and not params.get("maximize")
    top = surface.stable_lr()
    if not plain or top is None or "lr" not in (m.x_name, m.y_name) or params.get("weight_decay"):
        return None
    other_values = m.y_values if m.x_name == "lr" else m.x_values
    if (m.y_name if m.x_name == "lr" else m.x_name) == "momentum":
        other, lr = other_values, top * (1 + other_values)
    else:  # momentum is fixed: a straight line across the other axis
        other = np.array([other_values[0], other_values[-1]])
        lr = np.full(2, top * (1 + float(params.get("momentum", 0.0))))
    return (lr, other) if m.x_name == "lr" else (other, lr)


@st.cache_data(**CACHE)
def basins_of(
    surface_name: str, optimizer: tuple[str, Params], grid: int, steps: int, tol_share: float
) -> landscape.Basins:
    surface = gdviz.surface(surface_name)
    lo, hi = np.asarray(surface.bounds, dtype=np.float64).T
    tol = tol_share * float(np.linalg.norm(hi - lo))
    return landscape.basins(
        surface, _opt(optimizer), grid=grid, steps=steps, tol=tol, minima=attractors_of(surface_name)
    )


@st.cache_data(**CACHE)
def attractors_of(surface_name: str) -> np.ndarray:
    return landscape.attractors(gdviz.surface(surface_name))


@st.cache_data(**CACHE)
def single_path(surface_name: str, optimizer: tuple[str, Params], start: tuple[float, ...], steps: int) -> np.ndarray:
    return gdviz.run(gdviz.surface(surface_name), _opt(optimizer), start, steps, record="path").xs


@st.cache_data(**CACHE)
def restarts_of(surface_name: str, optimizer: tuple[str, Params], n: int, steps: int, seed: int) -> landscape.Restarts:
    return landscape.random_restarts(gdviz.surface(surface_name), _opt(optimizer), n=n, steps=steps, seed=seed)


@st.cache_data(**CACHE)
def annealing_of(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    steps: int,
    sigma: float,
    decay: float,
    runs: int,
    seed: int,
) -> landscape.Annealing:
    return landscape.annealed_noise_run(
        gdviz.surface(surface_name), _opt(optimizer), start, steps, sigma, decay, runs, seed
    )


@st.cache_data(**CACHE)
def critical_of(surface_name: str) -> list:
    return gdviz.find_critical_points(gdviz.surface(surface_name))


@st.cache_data(**CACHE)
def tuned_of(
    surface_name: str,
    start: tuple[float, ...] | None,
    names: tuple[str, ...],
    lrs: tuple[float, ...],
    steps: int,
    tol: float,
) -> list[landscape.Tuned]:
    return landscape.tune_lr(gdviz.surface(surface_name), list(names), np.array(lrs), steps, tol, start=start)


# -- links to the Playground --------------------------------------------------------------------------
def link(surface_name: str, start, steps: int, optimizers, **more) -> dict[str, str]:
    """The Playground link (query parameters) of a scenario built from (name, params) optimizers."""
    items = []
    for name, params, label in optimizers:
        clean = {k: v for k, v in dict(params).items() if k in {s.name for s in optimizer_class(name).spec}}
        items.append(entry(name, label=label, **clean))
    scenario = Scenario(
        surface=surface_name,
        start=None if start is None else tuple(float(v) for v in start),
        steps=int(min(max(steps, limits.MIN_STEPS), limits.MAX_STEPS)),
        optimizers=tuple(items[: limits.MAX_OPTIMIZERS]),
        **more,
    )
    return to_query(scenario)


def fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def link_label(name: str, params: Params) -> str:
    """The Playground's legend label for one optimizer entry (e.g. "SGD η=0.01, μ=0.9")."""
    return auto_labels((entry(name, **dict(params)),))[0]


def latex_matrix(matrix: np.ndarray) -> str:
    rows = r" \\ ".join(" & ".join(f"{v:.5g}" for v in row) for row in np.atleast_2d(matrix))
    return r"\nabla^2 f = \begin{pmatrix}" + rows + r"\end{pmatrix}"


def new_click(event: Any, fig: Any, trace_name: str, chart_key: str) -> list | None:
    """The customdata of a point of the trace ``trace_name`` clicked since the last run, or None.

    A chart keeps its selection across reruns; only a change of it is a new click, so that two charts
    on one page do not hand an old click back and forth.
    """
    names = [trace.name for trace in fig.data]
    points = []
    try:
        points = list(event["selection"]["points"])
    except (KeyError, TypeError):
        points = []
    data = None
    for point in points:
        curve = point.get("curve_number")
        if (
            curve is not None
            and curve < len(names)
            and names[curve] == trace_name
            and point.get("customdata") is not None
        ):
            data = list(point["customdata"])
            break
    seen_key = f"{chart_key}__seen"
    if data is None or st.session_state.get(seen_key) == data:
        return None
    st.session_state[seen_key] = data
    return data
