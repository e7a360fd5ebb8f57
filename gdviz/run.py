"""Run optimizers on a surface: the one loop every page, test and benchmark goes through.

``run`` is the torch loop ``for t in range(steps): opt.zero_grad(); loss.backward(); opt.step();
sched.step()`` with the exact gradient, vectorized over a batch of runs. ``race`` runs several
optimizers side by side in the same loop: they share one gradient evaluation per step over all
their runs and, with the same seed, the same noise (common random numbers).

Stochastic gradients follow d2l 12.4: g = ∇f(x) + ε with ε ~ N(0, σ²/b) per coordinate, where σ is
``noise`` and b the effective ``batch_size``. ``noise`` is one σ for every step, or a schedule: one
σ_t per step (entry t-1 for step t), e.g. noise that cools down as in simulated annealing. Noise is
drawn per run index, so run r sees the same standard normals whatever else is in the batch and
whatever the σ_t; a schedule only scales them.

A run that diverges (an iterate, its loss or its gradient non-finite, or the iterate flung
beyond ``EXPLODE_FACTOR`` times the plot window) is frozen at its last good iterate: its arrays
keep the finite prefix and repeat the last value, its gradients are padded with zeros, and
``diverged_at`` records the step. No NaN or inf ever leaves this module, and no RuntimeWarning.
"""

from __future__ import annotations

import math
import reprlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.optimizers.base import Optimizer, State
from gdviz.schedules.base import Schedule
from gdviz.schedules.cyclic import can_cycle_momentum, momentum_of
from gdviz.surfaces.base import Surface

# an iterate farther than this many plot-window radii from the origin counts as diverged
EXPLODE_FACTOR = 1e6
# a loss larger than this in magnitude counts as diverged (well before float64 overflows)
LOSS_LIMIT = 1e150
# a race asks ``should_stop`` before every this many steps: a step of a few runs costs microseconds, so
# asking every step would be felt; a batch of STOP_CHECK_EVERY_RUNS or more runs asks before every step,
# whose own cost then dwarfs the question
STOP_CHECK_EVERY = 8
STOP_CHECK_EVERY_RUNS = 1024


@dataclass
class Trajectory:
    """What one optimizer did. Shapes: single run / batch of R runs.

    xs: (steps+1, dim) / (steps+1, R, dim) iterates, xs[0] the start.
    losses: (steps+1,) / (steps+1, R) f at each iterate.
    grads: (steps, dim) / (steps, R, dim) the gradient the optimizer used at each step (noise and
        clipping included; zeros after a divergence).
    lrs: (steps,) / (steps, R) the learning rate of each step (after the schedule).
    momentums: None, or, when the schedule cycles the momentum (CyclicLR and OneCycleLR do by
        default, as torch's), (steps,) / (steps, R) the momentum of each step: SGD's and RMSprop's
        μ, β1 of the Adam family. Like ``lrs``, empty with ``record="final"``.
    states: name -> (steps+1, dim) / (steps+1, R, ...) the optimizer's state after each step.
    diverged_at: None or the first bad step; for a batch a list with one entry per run.
    seconds: wall time spent in this optimizer's updates (gradient evaluations shared in a race
        are split evenly).
    noise: the gradient-noise σ; for a schedule its largest σ_t, so ``noise > 0`` still says
        whether any step was noisy.
    noise_sigmas: None when ``noise`` was one number (σ_t = noise at every step), else the schedule
        as given: (steps,) read-only, entry t-1 the σ of step t.
    stopped_after: None when every requested step ran; else the steps done before ``should_stop`` said
        stop (the arrays then hold those steps only, bit for bit the start of the whole run).
    """

    surface: Surface
    optimizer: Optimizer
    schedule: Schedule | None
    xs: np.ndarray
    losses: np.ndarray
    grads: np.ndarray
    lrs: np.ndarray
    states: dict[str, np.ndarray]
    diverged_at: Any
    seconds: float
    batched: bool
    noise: float = 0.0
    noise_sigmas: np.ndarray | None = None
    batch_size: int = 1
    seed: int = 0
    stopped_after: int | None = None
    momentums: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return self.grads.shape[0]

    @property
    def diverged_step(self) -> np.ndarray:
        """(R,) int array: the step each run diverged at, -1 where it did not."""
        entries = self.diverged_at if self.batched else [self.diverged_at]
        return np.array([-1 if d is None else d for d in entries], dtype=np.int64)

    def grad_norms(self) -> np.ndarray:
        """‖∇f(x_t)‖ of the exact gradient at every iterate: (steps+1,) / (steps+1, R)."""
        with np.errstate(all="ignore"):
            norms = np.linalg.norm(self.surface.grad(self.xs), axis=-1)
        return np.nan_to_num(norms, nan=0.0, posinf=np.finfo(np.float64).max)

    def distance_to_minimum(self) -> np.ndarray:
        """Distance of every iterate to the nearest known global minimum: (steps+1,) / (steps+1, R)."""
        minima = np.asarray(self.surface.minima, dtype=np.float64)
        if minima.size == 0:
            return np.full(self.losses.shape, np.nan)
        gaps = self.xs[..., None, :] - minima  # (..., k, dim)
        return np.sqrt(np.min(np.sum(gaps * gaps, axis=-1), axis=-1))

    def steps_to(self, tolerance: float) -> Any:
        """First step whose loss is within ``tolerance`` of f_min (None / -1 where never)."""
        gap = self.losses - self.surface.f_min
        hit = gap <= tolerance
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), -1)
        if not self.batched:
            return None if first == -1 else int(first)
        return first


def _as_start(start: Any, dim: int) -> np.ndarray:
    try:
        x0 = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"start must be numbers: a point of dimension {dim} or an (R, {dim}) array") from None
    if x0.ndim == 0 and dim == 1:
        x0 = x0.reshape(1)
    if x0.ndim not in (1, 2) or x0.shape[-1] != dim:
        raise ValueError(f"start must have shape ({dim},) or (R, {dim}); got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("start must be finite")
    return x0


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _clip_rows(g: np.ndarray, max_norm: float) -> np.ndarray:
    """torch.nn.utils.clip_grad_norm_ applied to each run: g * min(1, max_norm / (‖g‖ + 1e-6))."""
    norms = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
    coef = np.minimum(max_norm / (norms + 1e-6), 1.0)
    return g * coef


RECORD_LEVELS = ("all", "path", "final")


def run(
    surface: Surface,
    optimizer: Optimizer,
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | None = None,
    noise: float | Sequence[float] | np.ndarray = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    record: str = "all",
    should_stop: Callable[[], bool] | None = None,
) -> Trajectory:
    """Run one optimizer (possibly a batch of R runs) for ``steps`` steps from ``start``.

    ``start`` is a point (dim,) or a batch (R, dim); with swept hyper-parameters of length R a single
    point is shared by all runs. ``None`` uses the surface's default start. ``record`` says what to
    keep: ``"all"`` (every array), ``"path"`` (iterates, losses and lrs; no grads or states) or
    ``"final"`` (only the start and the final iterate and loss, for large sweeps; ``diverged_at``
    is still exact). ``noise`` is a σ >= 0, or a schedule of ``steps`` of them (step t uses entry t-1).
    ``should_stop``: see :func:`race`.
    """
    return race(surface, [optimizer], start, steps, schedule, noise, seed, batch_size, record, should_stop)[0]


def race(
    surface: Surface,
    optimizers: Sequence[Optimizer],
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | Sequence[Schedule | None] | None = None,
    noise: float | Sequence[float] | np.ndarray = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    record: str = "all",
    should_stop: Callable[[], bool] | None = None,
) -> list[Trajectory]:
    """Run several optimizers from the same start in one loop; one Trajectory each.

    Every optimizer gets the same noise sequence for the same run index (common random numbers),
    so differences between them are not luck of the draw.

    ``schedule`` is one schedule for every racer (None: constant lrs), or a list with one entry per
    optimizer, each a schedule or None for that racer's constant lr: a fixed lr and a decaying one
    raced in one picture. A schedule then sees only its racer's runs (and, for ReduceLROnPlateau,
    only their losses), exactly as a torch scheduler bound to that racer's optimizer would.

    A schedule that cycles the momentum (CyclicLR, OneCycleLR: ``cycle_momentum=True``, torch's
    default) sets the momentum of its racers' every step, as torch's write the optimizer's param
    group: SGD's and RMSprop's ``momentum``, β1 of an optimizer with ``betas``. A racer with neither
    is refused with torch's ValueError when the race starts.

    ``should_stop``, a function of no arguments, is asked between steps (every few steps; see
    STOP_CHECK_EVERY); once it returns True the race ends there and each Trajectory holds the steps
    done, bit for bit the first steps of the whole race, with ``stopped_after`` saying how many.
    A caller passes a deadline or "is the visitor still there" this way; None asks nothing.
    """
    steps, seed, batch_size, noise, schedules = _check_arguments(
        surface, optimizers, schedule, steps, seed, batch_size, noise, record
    )
    x0 = _as_start(surface.default_start if start is None else start, surface.dim)
    layout = _Layout.of(optimizers, x0)
    eps = _noise_draws(noise, batch_size, seed, layout.sizes, steps, surface.dim)
    tape = _Tape.empty(record, steps, layout.total, surface.dim)
    lr_plan = _LrPlan.of(schedule if isinstance(schedule, Schedule) else None, schedules, layout)
    with np.errstate(all="ignore"):
        loop = _Loop(surface, optimizers, lr_plan, layout, eps, tape, _explode_limit(surface, x0))
        done = loop.run(steps, should_stop)
    if done < steps:
        tape.keep_first(done)
        if isinstance(noise, np.ndarray):
            noise = noise[:done]  # the σ of the steps that ran, still read-only
    stopped_after = done if done < steps else None
    return [
        _trajectory(
            surface,
            opt,
            opt_schedule,
            tape,
            loop,
            i,
            sl,
            x0.ndim == 2 or opt.batch > 1,
            noise,
            batch_size,
            seed,
            stopped_after,
        )
        for i, (opt, sl, opt_schedule) in enumerate(zip(optimizers, layout.slices, schedules))
    ]


@dataclass(frozen=True)
class _Layout:
    """Every optimizer's runs laid out in one (N, dim) batch, so one gradient call serves them all."""

    sizes: list[int]  # runs per optimizer
    slices: list[slice]  # each optimizer's rows of the batch
    x: np.ndarray  # (N, dim) the start of every run
    base_lr: np.ndarray  # (N,) every run's lr before any schedule

    @property
    def total(self) -> int:
        return self.x.shape[0]

    @classmethod
    def of(cls, optimizers: Sequence[Optimizer], x0: np.ndarray) -> _Layout:
        sizes = [_rows_of(opt, x0) for opt in optimizers]
        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        slices = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        total = int(edges[-1])
        x = np.concatenate([x0] * len(optimizers)) if x0.ndim == 2 else np.tile(x0, (total, 1))
        base_lr = np.concatenate(
            [np.broadcast_to(np.ravel(np.asarray(o.lr, float)), (n,)) for o, n in zip(optimizers, sizes)]
        )
        return cls(sizes, slices, x, base_lr)


def _explode_limit(surface: Surface, x0: np.ndarray) -> float:
    """How far from the origin an iterate may go before its run counts as diverged."""
    window = max(1.0, float(np.max(np.abs(surface.bounds))), float(np.max(np.abs(x0))))
    return EXPLODE_FACTOR * window


def _noise_draws(
    noise: float | np.ndarray, batch_size: int, seed: int, sizes: list[int], steps: int, dim: int
) -> np.ndarray | None:
    """(N, steps, dim) the noise added to each run's gradient at each step, or None without noise.

    Run r of every optimizer draws the same stream, whatever the batch holds; a schedule scales it
    here, once, so the loop does the same work for both kinds of noise.
    """
    # a float, or (steps,) for a schedule: the same IEEE division either way, so a constant schedule is
    # bit for bit the float
    noise_std = noise / math.sqrt(batch_size)
    if not np.any(noise_std > 0):
        return None
    draws = np.random.default_rng(seed).standard_normal((max(sizes), steps, dim))
    scale = noise_std if isinstance(noise_std, float) else noise_std[:, None]  # (steps, 1)
    return np.concatenate([draws[:n] for n in sizes]) * scale


@dataclass
class _Tape:
    """The arrays a race fills, as many as ``record`` keeps: shapes (steps+1 or 2, N, dim) and so on."""

    keep_all: bool  # grads and states too
    keep_path: bool  # every iterate, loss and lr; else only the start and the last
    xs: np.ndarray
    losses: np.ndarray
    grads: np.ndarray
    lrs: np.ndarray
    momentums: np.ndarray | None = None  # (steps or 0, N) once the loop finds a schedule cycling the momentum

    @classmethod
    def empty(cls, record: str, steps: int, total: int, dim: int) -> _Tape:
        keep_all, keep_path = record == "all", record in ("all", "path")
        kept = steps + 1 if keep_path else 2
        return cls(
            keep_all,
            keep_path,
            xs=np.empty((kept, total, dim)),
            losses=np.empty((kept, total)),
            grads=np.zeros((steps if keep_all else 0, total, dim)),
            lrs=np.empty((steps if keep_path else 0, total)),
        )

    def start(self, x: np.ndarray, loss: np.ndarray, base_lr: np.ndarray, scheduled: bool) -> None:
        self.xs[0], self.losses[0] = x, loss
        if self.keep_path and not scheduled:
            self.lrs[:] = base_lr

    def iterate_buffer(self, t: int, x: np.ndarray) -> np.ndarray:
        """Where step t's updates write the new iterate: its row of the record, or scratch space."""
        return self.xs[t] if self.keep_path else np.empty_like(x)

    def write(self, t: int, x_new: np.ndarray, loss: np.ndarray, g_used: np.ndarray, lr: np.ndarray | None) -> None:
        """Step t's results (``lr``: the scheduled lr, None when ``start`` wrote the constant ones)."""
        if self.keep_all:
            self.grads[t - 1] = g_used
        if self.keep_path:
            self.losses[t] = loss
            if lr is not None:
                self.lrs[t - 1] = lr
        else:
            self.losses[1] = loss
            self.xs[1] = x_new

    def write_momentums(self, t: int, momentums: list[float | None], slices: list[slice]) -> None:
        """Step t's cycled momentum of each optimizer's runs (None: not cycled, its rows are never read)."""
        for sl, momentum in zip(slices, momentums):
            if momentum is not None:
                self.momentums[t - 1, sl] = momentum

    def keep_first(self, steps: int) -> None:
        """Only the first ``steps`` steps, for a race stopped there (views, no copies)."""
        if self.keep_path:
            self.xs, self.losses, self.lrs = self.xs[: steps + 1], self.losses[: steps + 1], self.lrs[:steps]
            if self.momentums is not None:
                self.momentums = self.momentums[:steps]
        self.grads = self.grads[:steps]

    def finish(self, steps: int) -> None:
        if not self.keep_path and steps == 0:
            self.xs[1], self.losses[1] = self.xs[0], self.losses[0]


@dataclass(frozen=True)
class _LrPlan:
    """Every run's lr at every step: one schedule over the whole batch, or one per racer.

    Its state is a list with one schedule state per group of runs (None for a racer on its constant
    lr). A shared schedule is one group over every run, so it steps exactly as a single schedule did.
    """

    groups: tuple[tuple[Schedule | None, slice], ...]
    base_lr: np.ndarray  # (N,) every run's lr before any schedule

    @classmethod
    def of(cls, shared: Schedule | None, schedules: list[Schedule | None], layout: _Layout) -> _LrPlan | None:
        """The plan for a race, or None when no racer has a schedule (the loop's constant-lr fast path)."""
        if shared is not None:
            return cls(((shared, slice(0, layout.total)),), layout.base_lr)
        if all(s is None for s in schedules):
            return None
        return cls(tuple(zip(schedules, layout.slices)), layout.base_lr)

    def init(self) -> list[dict | None]:
        return [None if s is None else s.init(self.base_lr[sl]) for s, sl in self.groups]

    def lr(self, states: list[dict | None]) -> np.ndarray:
        """(N,) the lr of the coming step for every run."""
        if len(states) == 1:
            return states[0]["lr"]
        return np.concatenate(
            [self.base_lr[sl] if state is None else state["lr"] for (_, sl), state in zip(self.groups, states)]
        )

    def cycled(self, states: list[dict | None], optimizers: Sequence[Optimizer]) -> list[bool] | None:
        """Which optimizers a schedule cycles the momentum of (None: none), refusing those torch refuses.

        Decided once from the initial states: a cycling schedule writes the momentum when built.
        """
        cycling = [state is not None and momentum_of(state) is not None for state in states]
        if not any(cycling):
            return None
        # a shared schedule is one group over every racer; otherwise group i is racer i
        cycled = cycling * len(optimizers) if len(self.groups) == 1 else cycling
        groups = self.groups * len(optimizers) if len(self.groups) == 1 else self.groups
        for opt, on, (sched, _) in zip(optimizers, cycled, groups):
            if on and not can_cycle_momentum(opt):
                raise ValueError(
                    f"{sched.name} cycles the momentum (cycle_momentum=True, torch's default), but {opt.name} has "
                    "neither momentum nor betas, and torch refuses it too: optimizer must support momentum or beta1 "
                    f"with `cycle_momentum` option enabled. Give {sched.name} cycle_momentum=False for {opt.name}"
                )
        return cycled

    def momentums(self, states: list[dict | None], count: int) -> list[float | None]:
        """Each of the ``count`` optimizers' momentum (β1) of the coming step, None where it is not cycled.

        One number per racer: a cycle's bounds are numbers (not swept) and the cycle does not depend
        on the lr, so every run of a racer steps with the same momentum, and the update gets a float.
        """
        values = []
        for state in states:
            momentum = None if state is None else momentum_of(state)
            values.append(None if momentum is None else float(momentum[0]))
        return values * count if len(self.groups) == 1 else values

    def step(self, states: list[dict | None], loss: np.ndarray) -> list[dict | None]:
        """One ``scheduler.step()`` of every schedule; a plateau schedule sees its own runs' losses only."""
        return [
            None if s is None else s.step(state, loss[sl] if s.needs_metric else None)
            for (s, sl), state in zip(self.groups, states)
        ]


class _Loop:
    """The loop of a race: one gradient per step for every run, each optimizer updating its own rows.

    Its state after ``run``: ``history`` (every optimizer's state after each step, when the tape keeps
    all), ``diverged`` (N,) the step each run diverged at or -1, ``seconds`` per optimizer.
    """

    def __init__(self, surface, optimizers, lr_plan, layout, eps, tape, x_limit):
        self.surface, self.optimizers, self.lr_plan = surface, optimizers, lr_plan
        self.layout, self.eps, self.tape, self.x_limit = layout, eps, tape, x_limit
        self.diverged = np.full(layout.total, -1, dtype=np.int64)
        self.history: list[list[State]] = []
        self.seconds: list[float] = []
        self.cycled: list[bool] | None = None  # per optimizer: a schedule cycles its momentum

    def run(self, steps: int, should_stop: Callable[[], bool] | None = None) -> int:
        """Steps 1..steps, or fewer once ``should_stop`` says stop; returns the steps done."""
        surface, lr_plan, tape, eps, slices = self.surface, self.lr_plan, self.tape, self.eps, self.layout.slices
        plan = [(i, opt.update, sl) for i, (opt, sl) in enumerate(zip(self.optimizers, slices))]
        clipping = [
            (sl, opt.max_grad_norm) for opt, sl in zip(self.optimizers, slices) if opt.max_grad_norm is not None
        ]
        needs_hessian = any(opt.needs_hessian for opt in self.optimizers)
        x = self.layout.x
        loss, g = _start_gradient(surface, x)
        sched_state = lr_plan.init() if lr_plan is not None else None
        self.cycled = cycled = lr_plan.cycled(sched_state, self.optimizers) if lr_plan is not None else None
        if cycled is not None:
            tape.momentums = np.zeros_like(tape.lrs)
            cycled_updates = [momentum_update(opt) if on else None for opt, on in zip(self.optimizers, cycled)]
        step_momentums = None
        states, step_lrs = self._init_states(sched_state)
        history = self.history
        history.append(states[:])
        tape.start(x, loss, self.layout.base_lr, scheduled=sched_state is not None)
        lr_now = None
        dead = None  # (N,) bool once some run has diverged
        # the clock before each step's first update and after every update, turned into seconds at the end
        marks: list[float] = []
        clock, mark = time.perf_counter, marks.append
        started = clock()
        check_every = 1 if self.layout.total >= STOP_CHECK_EVERY_RUNS else STOP_CHECK_EVERY
        done = steps
        for t in range(1, steps + 1):
            if should_stop is not None and t % check_every == 0 and should_stop():
                done = t - 1
                break
            if sched_state is not None:
                lr_now = lr_plan.lr(sched_state)
                lr_col = lr_now[:, None]
                step_lrs = [lr_col[sl] for sl in slices]
                if cycled is not None:
                    step_momentums = lr_plan.momentums(sched_state, len(plan))
                    if tape.keep_path:
                        tape.write_momentums(t, step_momentums, slices)
            g_used = g + eps[:, t - 1] if eps is not None else g
            if clipping:
                g_used = _clip_gradients(g_used, clipping)
            hess = surface.hessian(x) if needs_hessian else None
            x_new = tape.iterate_buffer(t, x)
            previous_states = history[-1] if tape.keep_all else states[:]
            mark(clock())
            if step_momentums is None:
                for i, update, sl in plan:
                    x_new[sl], states[i] = update(
                        x[sl], g_used[sl], states[i], step_lrs[i], t, None if hess is None else hess[sl]
                    )
                    mark(clock())
            else:
                for i, update, sl in plan:
                    hess_rows, momentum = None if hess is None else hess[sl], step_momentums[i]
                    if momentum is None:
                        x_new[sl], states[i] = update(x[sl], g_used[sl], states[i], step_lrs[i], t, hess_rows)
                    else:
                        x_new[sl], states[i] = cycled_updates[i](
                            x[sl], g_used[sl], states[i], step_lrs[i], t, hess_rows, momentum
                        )
                    mark(clock())
            loss_before = loss
            loss, g_next = surface.value_and_grad(x_new)
            if dead is not None or not _all_healthy(x_new, loss, g_next, self.x_limit):
                frozen = self._frozen(t, x_new, loss, g_next, dead)
                if frozen is not None:
                    dead = frozen
                    # runs that went bad now or earlier stay at their last good iterate, loss and state
                    np.copyto(x_new, x, where=frozen[:, None])
                    loss = np.where(frozen, loss_before, loss)
                    g_next = np.where(frozen[:, None], g, g_next)
                    g_used = np.where(frozen[:, None], 0.0, g_used)
                    _restore_runs(states, previous_states, frozen, slices)
            tape.write(t, x_new, loss, g_used, lr_now)
            if tape.keep_all:
                history.append(states[:])
            if sched_state is not None:
                sched_state = lr_plan.step(sched_state, loss_before)
            x, g = x_new, g_next
            if dead is not None and dead.all():
                # every run is frozen: the remaining steps would only repeat this one, so record them directly
                self._fill_frozen(t, steps, x, loss, states, sched_state)
                break
        self.seconds = _split_seconds(marks, clock() - started, len(plan))
        tape.finish(done)
        return done

    def _fill_frozen(self, t: int, steps: int, x: np.ndarray, loss: np.ndarray, states: list[State], sched_state):
        """Steps t+1..steps once every run is frozen after step t, as the loop would record them.

        A frozen run keeps its iterate, loss and state, its gradient is zero (the tape's grads start
        as zeros) and its lr still follows the schedule, stepped with the frozen loss as its metric.
        """
        tape, lr_plan, rest = self.tape, self.lr_plan, steps - t
        if rest <= 0:
            return
        if tape.keep_all:
            self.history.extend([states[:] for _ in range(rest)])
        if not tape.keep_path:
            return  # the tape's last row already holds x and loss, and lrs are not kept
        tape.xs[t + 1 :] = x
        tape.losses[t + 1 :] = loss
        if sched_state is not None:
            for u in range(t + 1, steps + 1):
                tape.lrs[u - 1] = lr_plan.lr(sched_state)
                if tape.momentums is not None:
                    tape.write_momentums(u, lr_plan.momentums(sched_state, len(self.optimizers)), self.layout.slices)
                sched_state = lr_plan.step(sched_state, loss)

    def _init_states(self, sched_state) -> tuple[list[State], list[float | np.ndarray]]:
        """Every optimizer's initial state and first lr: a Python float where its runs share one constant lr.

        Without a schedule, an optimizer whose runs share one lr gets it as a Python float: every use
        of it is then plain float arithmetic instead of a NumPy call on an (R, 1) column.
        """
        # the first step's lr, which torch's Rprop and ASGD read when they build their state
        lr_now = self.layout.base_lr if sched_state is None else self.lr_plan.lr(sched_state)
        step_lrs = [
            float(opt.lr) if sched_state is None and not isinstance(opt.lr, np.ndarray) else lr_now[sl, None]
            for opt, sl in zip(self.optimizers, self.layout.slices)
        ]
        x = self.layout.x
        states = [opt.init(x[sl], lr) for opt, sl, lr in zip(self.optimizers, self.layout.slices, step_lrs)]
        return states, step_lrs

    def _frozen(self, t, x_new, loss, g_next, dead) -> np.ndarray | None:
        """(N,) the runs to freeze at step t (bad now or earlier), recording new ones; None on a false alarm."""
        ok = _healthy_rows(x_new, loss, g_next, self.x_limit)
        frozen = ~ok if dead is None else (~ok | dead)
        if not frozen.any():
            return None
        self.diverged[frozen & (self.diverged < 0)] = t
        return frozen


def momentum_update(opt: Optimizer) -> Callable[..., tuple[np.ndarray, State]]:
    """``opt.update_with_momentum`` (its last argument the momentum or β1 a cycling schedule set for this step,
    a float: the same for every run), behind the gradient compression that wraps ``opt.update`` when it is on."""
    return opt.update_with_momentum if opt.compression is None else opt.compressed(opt.update_with_momentum)


def _start_gradient(surface: Surface, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    loss, g = (np.asarray(a, dtype=np.float64) for a in surface.value_and_grad(x))
    if not np.all(np.isfinite(loss)) or not np.all(np.isfinite(g)):
        raise ValueError("f or its gradient is not finite at the start point; pick another start")
    return loss, g


def _clip_gradients(g: np.ndarray, clipping: list[tuple[slice, float]]) -> np.ndarray:
    """A copy of g with each clipping optimizer's rows clipped to its max_grad_norm."""
    g = g.copy()
    for sl, max_norm in clipping:
        g[sl] = _clip_rows(g[sl], max_norm)
    return g


def _restore_runs(states: list[State], previous: list[State], frozen: np.ndarray, slices: list[slice]) -> None:
    """Put the frozen runs of every optimizer's state back to their previous values, in ``states``."""
    for i, sl in enumerate(slices):
        rows = frozen[sl]
        if rows.any():
            states[i] = _restore_rows(states[i], previous[i], rows)


def _trajectory(surface, opt, schedule, tape, loop, i, sl, batched, noise, batch_size, seed, stopped_after):
    """Optimizer i's Trajectory: its rows of the tape (the run axis dropped for a single run)."""

    def pick(a):
        return a[:, sl] if batched else a[:, sl.start]

    runs = [None if d < 0 else int(d) for d in loop.diverged[sl]]
    noise_schedule = isinstance(noise, np.ndarray)
    return Trajectory(
        surface=surface,
        optimizer=opt,
        schedule=schedule,
        xs=pick(tape.xs),
        losses=pick(tape.losses),
        grads=pick(tape.grads),
        lrs=pick(tape.lrs),
        momentums=None if loop.cycled is None or not loop.cycled[i] else pick(tape.momentums),
        states=_stack_states([step[i] for step in loop.history], batched) if tape.keep_all else {},
        diverged_at=runs if batched else runs[0],
        seconds=loop.seconds[i],
        batched=batched,
        noise=float(noise.max(initial=0.0)) if noise_schedule else noise,
        noise_sigmas=noise if noise_schedule else None,
        batch_size=batch_size,
        seed=seed,
        stopped_after=stopped_after,
    )


def _split_seconds(marks: list[float], total: float, count: int) -> list[float]:
    """Each optimizer's update time, plus an even share of the rest of the loop (gradients, bookkeeping)."""
    if not marks:
        return [total / count] * count
    spans = np.diff(np.reshape(marks, (-1, count + 1)), axis=1).sum(axis=0)  # (count,)
    shared = total - float(spans.sum())
    return [float(span) + shared / count for span in spans]


def _check_arguments(surface, optimizers, schedule, steps, seed, batch_size, noise, record):
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface or gdviz.custom_surface)")
    if isinstance(optimizers, Optimizer) or not optimizers or not all(isinstance(o, Optimizer) for o in optimizers):
        raise ValueError("optimizers must be a list of gdviz optimizers (see gdviz.optimizer)")
    schedules = _check_schedules(schedule, len(optimizers))
    if record not in RECORD_LEVELS:
        raise ValueError(f"record must be one of {RECORD_LEVELS}, got {record!r}")
    steps = _check_int(steps, "steps", 0)
    seed = _check_int(seed, "seed", 0)
    batch_size = _check_int(batch_size, "batch_size", 1)
    return steps, seed, batch_size, _check_noise(noise, steps), schedules


def _check_schedules(schedule: Any, count: int) -> list[Schedule | None]:
    """One schedule (or None) per optimizer, from a shared schedule, None, or a list of them."""
    if schedule is None or isinstance(schedule, Schedule):
        return [schedule] * count
    if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence):
        raise ValueError(
            "schedule must be a gdviz schedule (see gdviz.schedule), None, or a list with one of them per optimizer"
        )
    if len(schedule) != count:
        raise ValueError(
            f"a schedule per optimizer needs {count} entries (None for a constant lr), got {len(schedule)}"
        )
    for i, item in enumerate(schedule):
        if item is not None and not isinstance(item, Schedule):
            raise ValueError(f"schedule {i + 1} must be a gdviz schedule (see gdviz.schedule) or None, got {item!r}")
    return list(schedule)


def _check_noise(noise: Any, steps: int) -> float | np.ndarray:
    """A constant σ as a float, or a schedule as a read-only (steps,) float64 copy."""
    if isinstance(noise, (bool, np.bool_)):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    if isinstance(noise, (int, float, np.integer, np.floating)):
        if not (math.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        return float(noise)
    try:
        sigmas = np.array(noise)  # a copy, so later edits of the caller's array change nothing here
    except (TypeError, ValueError):
        sigmas = None  # ragged nesting
    if sigmas is None or sigmas.dtype.kind not in "iuf" or sigmas.ndim != 1:
        raise ValueError(
            f"noise must be a number >= 0 or a schedule of {steps} of them (one σ per step), got {reprlib.repr(noise)}"
        )
    if sigmas.shape[0] != steps:
        raise ValueError(f"a noise schedule needs one σ per step: {steps} values, got {sigmas.shape[0]}")
    sigmas = sigmas.astype(np.float64, copy=False)
    bad = np.flatnonzero(~(np.isfinite(sigmas) & (sigmas >= 0)))
    if bad.size:
        first = int(bad[0])
        raise ValueError(
            f"noise schedule values must be finite and >= 0; step {first + 1} has {float(sigmas[first])!r}"
        )
    sigmas.flags.writeable = False
    return sigmas


def _rows_of(opt: Optimizer, x0: np.ndarray) -> int:
    """How many runs an optimizer contributes: its sweep length, or the number of start points."""
    if x0.ndim == 1:
        return opt.batch
    if opt.batch not in (1, x0.shape[0]):
        raise ValueError(f"{opt.name}: {opt.batch} swept values but start has {x0.shape[0]} rows")
    return x0.shape[0]


def _all_healthy(x: np.ndarray, loss: np.ndarray, g: np.ndarray, x_limit: float) -> bool:
    """A quick test that every run is healthy; False may be a false alarm, which ``_healthy_rows`` settles.

    Three dot products instead of max/abs/sum reductions (a third of the cost on a race's few
    numbers): a sum of squares within the limits bounds every entry, and NaN or overflow fails it.
    """
    return bool(
        np.vdot(x, x) <= x_limit * x_limit
        and np.vdot(loss, loss) <= LOSS_LIMIT * LOSS_LIMIT
        and np.vdot(g, g) < math.inf
    )


def _healthy_rows(x: np.ndarray, loss: np.ndarray, g: np.ndarray, x_limit: float) -> np.ndarray:
    """(N,) True where the iterate is within the limit and loss and gradient are finite.

    Column by column: a reduction over a short last axis is several times slower in NumPy.
    """
    ok = np.abs(loss) <= LOSS_LIMIT
    for j in range(x.shape[1]):
        ok &= np.abs(x[:, j]) <= x_limit
        ok &= np.isfinite(g[:, j])
    return ok


def _restore_rows(state: dict[str, np.ndarray], previous: dict[str, np.ndarray], rows: np.ndarray):
    """The state with the given runs put back to their previous values (which are finite)."""
    restored = {}
    for name, value in state.items():
        mask = rows.reshape((-1,) + (1,) * (value.ndim - 1))
        restored[name] = np.where(mask, previous[name], value)
    return restored


def _stack_states(history: list[dict[str, np.ndarray]], batched: bool) -> dict[str, np.ndarray]:
    """Per-step state dicts as name -> (steps+1, R, ...) arrays (the R axis dropped for a single run)."""
    stacked = {}
    for name, first in history[0].items():
        values = [state[name] for state in history]
        if all(value is first for value in values):
            # an array the optimizer passes on untouched (a branch that is off): no need to copy it per step
            stacked[name] = np.repeat(first[None], len(values), axis=0)
        else:
            stacked[name] = _stack_small(values)
    return stacked if batched else {name: value[:, 0] for name, value in stacked.items()}


def _stack_small(values: list[np.ndarray]) -> np.ndarray:
    """np.stack for many small arrays of one shape and dtype (a long race's per-step states).

    Joining their buffers copies them in one C loop, four times faster than np.concatenate, whose
    cost per array dominates here (np.stack's is three times that again). Arrays that are not
    contiguous, or whose sizes or dtypes differ, take np.concatenate (which also checks the shapes).
    """
    first, shape = values[0], (len(values),) + values[0].shape
    if values[-1].dtype == first.dtype:
        try:
            return np.frombuffer(bytearray().join(values), dtype=first.dtype).reshape(shape)
        except (TypeError, ValueError, BufferError):
            pass
    return np.concatenate(values).reshape(shape)
