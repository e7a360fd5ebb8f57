"""The Linear Regression page's cached computations (Streamlit's cache, a progress bar while training).

They wrap ``gdviz.regression`` in ``st.cache_data`` keyed by every input (data described by a short
key, the arrays passed unhashed), bounded by :mod:`ui.limits`. A training or a comparison plans its work from
an estimate and is stopped by a deadline of at most what is left of the page run's CPU allowance
(:class:`ui.regression.budget.PageBudget`): one allowance per run of the page, not one per computation.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from gdviz import regression as reg
from gdviz.optimizers import optimizer_class
from gdviz.regression.cost import lstsq_seconds, noise_seconds
from ui import limits, work
from ui.regression.budget import PageBudget, numpy_on_one_thread
from ui.work import Budget
from ui.workers import offloaded


# -- coordinates -------------------------------------------------------------------------------------
def to_original(params: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Training-coordinate rows (k, d + 1) as (weight, bias) rows in the units of the raw features."""
    params = np.atleast_2d(params)
    weights = params[:, :-1] / std
    bias = params[:, -1] - weights @ mean
    return np.column_stack([weights, bias])


# -- cached computations (Streamlit) --------------------------------------------------------------------
CACHE = dict(max_entries=limits.REGRESSION_CACHE_MAX_ENTRIES, show_spinner=False)


def one_visitor_one_core() -> None:
    """torch computes on REGRESSION_TORCH_THREADS threads in this process. By default it takes every core, so
    one visitor's training starved the others, and the time budgets (this thread's CPU, ui/work.py) saw half
    of what a run cost: the heaviest links took 9 s of CPU against 4 s of budget."""
    import torch  # lazily: the other pages never load it

    # every time, on every script thread: OpenMP keeps a thread count per thread, and it costs microseconds
    torch.set_num_threads(limits.REGRESSION_TORCH_THREADS)


@functools.lru_cache(maxsize=1)
def warm_up() -> None:
    """Once per process, before a page run's CPU allowance starts: the first torch optimizer imports the rest of
    torch (torch._dynamo: 1.0-1.7 s of CPU here), which the first visitor's training paid within its own budget
    (1.6 s), so a fresh server's default page could stop after one update."""
    one_visitor_one_core()
    reg.warm_up()


PROGRESS_UPDATES = 25


def _bar(text: str):
    """A progress callback that moves a bar at most PROGRESS_UPDATES times (each move is replayed from the cache)."""
    bar = st.progress(0.0, text=text)
    last = [-1.0]

    def report(fraction: float, message: str) -> None:
        if fraction - last[0] >= 1.0 / PROGRESS_UPDATES or fraction >= 1.0:
            last[0] = fraction
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"{text} {message}")

    return bar, report


# a resource, not data: st.cache_data pickles what it stores and unpickles it for every visitor, and at the caps
# (2M x 5) that is 48 MB copied twice while holding the interpreter (~1 s of every other visitor's time under
# benchmarks/load.py --attackers 10). The arrays are shared by every session that asks for the same data, so
# nothing may write into them (nothing does: training, the closed form and the comparison read X and y, and
# tests/test_regression_page.py checks they are unchanged after a run)
@st.cache_resource(max_entries=limits.REGRESSION_DATA_CACHE_MAX_ENTRIES, show_spinner=False)
def synthetic(
    n: int, d: int, w: float, b: float, noise: float, x_scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The notes' data as NumPy float32 arrays X (n, d), y (n,), shared: read them, never write into them."""
    one_visitor_one_core()
    return _made(n, d, w, b, noise, x_scale, seed)


def synthetic_arrays(recipe: tuple) -> Arrays:
    """:func:`synthetic` of ``recipe`` (its arguments) as Arrays that know it."""
    return Arrays(*synthetic(*recipe), recipe)


def _made(n: int, d: int, w: float, b: float, noise: float, x_scale: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = reg.make_data(n, d, w=[w] * d, b=b, noise=noise, seed=seed, x_scale=x_scale)
    return X.numpy(), y.numpy()[:, 0]


@dataclass(frozen=True, eq=False)
class Arrays:
    """The data a computation reads: X (n, d) and y (n,); for synthetic data, also ``recipe``, the arguments of
    :func:`synthetic` that made them.

    A computation that moves to a worker process (ui/workers.py) takes its arguments through a pipe, pickled.
    Synthetic data goes as its recipe, and the worker makes the same arrays again (the generator is seeded: bit
    for bit; tests/test_workers.py checks it): at the caps, 48 MB pickled and written for each of the closed
    form, the training and the comparison held the server's interpreter ~0.4 s per link (py-spy, under
    benchmarks/load.py --attackers 10). An upload goes as its arrays (its size is capped at a few MB)."""

    X: np.ndarray
    y: np.ndarray
    recipe: tuple | None = None

    def __reduce__(self):
        if self.recipe is None:
            return Arrays, (self.X, self.y)
        return _remade, (self.recipe,)


@functools.lru_cache(maxsize=1)  # in a worker: the last data made, for the next computation on it (it often is)
def _remade(recipe: tuple) -> Arrays:
    one_visitor_one_core()
    return Arrays(*_made(*recipe), recipe)


@st.cache_data(max_entries=limits.REGRESSION_DATA_CACHE_MAX_ENTRIES, show_spinner=False)
def parsed(data: bytes) -> reg.Table:
    """The uploaded bytes as a validated table (a :class:`gdviz.regression.CSVError` is not cached)."""
    return reg.parse_csv(
        data,
        max_bytes=limits.MAX_UPLOAD_BYTES,
        max_rows=limits.MAX_UPLOAD_ROWS,
        max_columns=limits.REGRESSION_MAX_UPLOAD_COLUMNS,
    )


@st.cache_data(**CACHE)
def closed_form(data_key: str, _data: Arrays, _page: PageBudget | None = None) -> reg.ClosedForm:
    """lstsq and the normal equation in float64 (``solve`` writes [X, 1] in float64 itself: no float64 copy of
    X here, 0.16 s and 80 MB at 2M × 5); lstsq is skipped where its estimate is over REGRESSION_MAX_LSTSQ_SECONDS
    (1.0-1.6 s at 10,000 × 1,000), and the normal equation's solution is the reference.

    Its cost is bounded by the data's caps, not by a time budget: the budget here never stops it, it lets the
    closed form of a run that is heavy by now (it made 10M values) move to a worker process (ui/workers.py);
    what it cost there counts against the page run's allowance (``_page``), as it does here."""
    # its estimate lets a costly closed form go to a worker at once (torch's solve asks no budget question, so
    # it could not move once started: at 50,000 × 200, 0.5 s of the server's CPU)
    budget = Budget(math.inf, expected=lstsq_seconds(*_data.X.shape))
    if _page is not None:
        _page.track(budget)
    return offloaded(solve_run, _data, should_stop=budget)


def solve_run(data: Arrays, should_stop=None) -> reg.ClosedForm:
    one_visitor_one_core()
    return reg.solve(
        data.X, data.y.astype(np.float64, copy=False), max_lstsq_seconds=limits.REGRESSION_MAX_LSTSQ_SECONDS
    )


@st.cache_data(**CACHE)
def landscape_moments(data_key: str, standardize: bool, _data: Arrays) -> dict[str, float]:
    x = _data.X[:, :1].astype(np.float64)
    if standardize:
        std = x.std()
        x = (x - x.mean()) / (std if std > 0 else 1.0)
    return reg.mse_moments(x, _data.y.astype(np.float64))


# -- budgets: a run the server cannot afford is refused (memory) or shortened (CPU) before it starts ----------
def check_memory(X: np.ndarray, settings: dict[str, Any]) -> None:
    """Refuse (ValueError, shown by the page) a run whose buffers exceed REGRESSION_MAX_TRAINING_BYTES."""
    n, d = X.shape
    schedule = settings.get("schedule")
    plateau = schedule is not None and schedule[0] == "ReduceLROnPlateau" and settings.get("schedule_step") == "update"
    needed = reg.training_bytes(
        n,
        d,
        settings.get("dtype") or "float32",
        settings.get("epochs", 10),
        settings.get("batch_size"),
        replacement=bool(settings.get("replacement")),
        standardize=bool(settings.get("standardize")),
        data_dtype=X.dtype,
        hessian=optimizer_class(settings.get("optimizer", "SGD")).needs_hessian,
        plateau_per_update=plateau,
    )
    budget = limits.REGRESSION_MAX_TRAINING_BYTES
    if needed > budget:
        raise ValueError(
            f"Training on {n:,} × {d} values this way needs about {needed / 2**20:,.0f} MB of server memory "
            f"(copies of the data in {settings.get('dtype')}, an epoch's shuffled copy for minibatches), more than "
            f"this server's {budget / 2**20:,.0f} MB per run: choose float32, full-batch GD, raw features or fewer "
            "samples."
        )


def trained(
    data_key: str,
    settings: tuple[tuple[str, Any], ...],
    data: Arrays,
    page: PageBudget | None = None,
) -> reg.TrainResult:
    """``gdviz.regression.train`` with ``dict(settings)`` within the server's budgets (cached): the updates
    REGRESSION_MAX_TRAIN_SECONDS affords by estimate, stopped at DEADLINE_FACTOR times it or when the page run's
    allowance (``page``; a fresh one if None) is spent: "training" is then in ``page.cut`` and nothing is cached."""
    one_visitor_one_core()
    check_memory(data.X, _unfrozen(settings))
    page = page if page is not None else PageBudget()
    # the page plans the schedule for the run as it will go: its horizon is the run's epochs, or updates
    budgeted = (("fit_horizon", True), ("max_seconds", limits.REGRESSION_MAX_TRAIN_SECONDS))
    most = limits.REGRESSION_MAX_TRAIN_SECONDS * limits.REGRESSION_DEADLINE_FACTOR
    budget = page.budget(most)
    result = work.partial(lambda: _trained(data_key, settings + budgeted, data, budget), [], budget.seconds)
    if budget.reason is not None:
        page.stopped("training", budget, most)
    return result


@st.cache_data(**CACHE)
def _trained(data_key: str, settings: tuple[tuple[str, Any], ...], _data: Arrays, _budget: Budget) -> reg.TrainResult:
    bar, report = _bar("Training …")
    result = offloaded(train_run, _data, settings, should_stop=_budget, progress=report)
    bar.empty()
    return _uncached_if_stopped(result, _budget)


def train_run(data: Arrays, settings: tuple, should_stop=None, progress=None) -> reg.TrainResult:
    """One training, on one core (here, or in a worker process once the page's run is heavy: ui/workers.py)."""
    one_visitor_one_core()
    with numpy_on_one_thread():
        return reg.train(data.X, data.y, progress=progress, should_stop=should_stop, **_unfrozen(settings))


def _uncached_if_stopped(result: Any, budget: Budget) -> Any:
    """The estimate of :mod:`gdviz.regression.cost` keeps a run within its budget; on a server busier than
    the estimate assumed the deadline stops it instead, and that partial result is not cached (it raises
    :class:`ui.work.Stopped` out of the cached call, and :func:`ui.work.partial` shows it)."""
    if budget.reason is None:
        return result
    raise work.Stopped(result, 0, 1)


def compared(
    data_key: str,
    settings: tuple[tuple[str, Any], ...],
    modes: tuple[reg.Mode, ...],
    data: Arrays,
    page: PageBudget | None = None,
) -> list[reg.ComparisonRow]:
    """``gdviz.regression.compare`` over ``modes`` within the server's budgets (cached): the estimated
    REGRESSION_MAX_COMPARE_SECONDS is shared by the modes, and the deadline is DEADLINE_FACTOR times it or what
    is left of the page run's allowance (``page``; a fresh one if None). A stopped comparison ("comparison" in
    ``page.cut``; not cached) has the rows of the modes that ran, the last one cut short."""
    one_visitor_one_core()
    plain = _unfrozen(settings)
    for mode in modes:
        check_memory(data.X, {**plain, "batch_size": mode.batch_size, "epochs": mode.epochs or plain.get("epochs", 2)})
    page = page if page is not None else PageBudget()
    # the modes share the estimate, less what measuring their gradient noise costs (at least half is left)
    total = limits.REGRESSION_MAX_COMPARE_SECONDS
    share = max(total - len(modes) * noise_seconds(*data.X.shape), total / 2) / max(len(modes), 1)
    most = total * limits.REGRESSION_DEADLINE_FACTOR
    budget = page.budget(most)
    call = lambda: _compared(data_key, settings + (("max_seconds", share),), modes, data, budget)  # noqa: E731
    rows = work.partial(call, [], budget.seconds)
    if budget.reason is not None:
        page.stopped("comparison", budget, most)
    return rows


@st.cache_data(**CACHE)
def _compared(
    data_key: str,
    settings: tuple[tuple[str, Any], ...],
    modes: tuple[reg.Mode, ...],
    _data: Arrays,
    _budget: Budget,
) -> list[reg.ComparisonRow]:
    bar, report = _bar("Measuring GD / SGD / minibatch …")
    closed = closed_form(data_key, _data)
    rows = offloaded(compare_run, _data, modes, closed, settings, should_stop=_budget, progress=report)
    bar.empty()
    return _uncached_if_stopped(rows, _budget)


def compare_run(data: Arrays, modes, closed, settings, should_stop=None, progress=None) -> list[reg.ComparisonRow]:
    """The comparison, on one core (here, or in a worker process: ui/workers.py)."""
    one_visitor_one_core()
    with numpy_on_one_thread():
        return reg.compare(
            data.X,
            data.y,
            list(modes),
            closed=closed,
            progress=progress,
            should_stop=should_stop,
            **_unfrozen(settings),
        )


def frozen(settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Settings as a hashable, ordered cache key (nested dicts and lists become tuples)."""

    def freeze(value: Any) -> Any:
        if isinstance(value, dict):
            return ("__dict__", tuple(sorted((k, freeze(v)) for k, v in value.items())))
        if isinstance(value, (list, tuple)):
            return tuple(freeze(v) for v in value)
        return value

    return tuple(sorted((k, freeze(v)) for k, v in settings.items()))


def _unfrozen(settings: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    def thaw(value: Any) -> Any:
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "__dict__":
            return {k: thaw(v) for k, v in value[1]}
        if isinstance(value, tuple):
            return tuple(thaw(v) for v in value)
        return value

    return {k: thaw(v) for k, v in settings}
