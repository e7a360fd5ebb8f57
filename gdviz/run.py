"""Run optimizers on a surface: the one loop every page, test and benchmark goes through.

``run`` is the torch loop ``for t in range(steps): opt.zero_grad(); loss.backward(); opt.step();
sched.step()`` with the exact gradient, vectorized over a batch of runs. ``race`` runs several
optimizers side by side in the same loop: they share one gradient evaluation per step over all
their runs and, with the same seed, the same noise (common random numbers).

Stochastic gradients follow d2l 12.4: g = ∇f(x) + ε with ε ~ N(0, σ²/b) per coordinate, where σ is
``noise`` and b the effective ``batch_size``. Noise is drawn per run index, so run r sees the
same noise sequence whatever else is in the batch.

A run that diverges (an iterate, its loss or its gradient non-finite, or the iterate flung
beyond ``EXPLODE_FACTOR`` times the plot window) is frozen at its last good iterate: its arrays
keep the finite prefix and repeat the last value, its gradients are padded with zeros, and
``diverged_at`` records the step. No NaN or inf ever leaves this module, and no RuntimeWarning.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from gdviz.optimizers.base import Optimizer
from gdviz.schedules.base import Schedule
from gdviz.surfaces.base import Surface

# an iterate farther than this many plot-window radii from the origin counts as diverged
EXPLODE_FACTOR = 1e6
# a loss larger than this in magnitude counts as diverged (well before float64 overflows)
LOSS_LIMIT = 1e150


@dataclass
class Trajectory:
    """What one optimizer did. Shapes: single run / batch of R runs.

    xs: (steps+1, dim) / (steps+1, R, dim) iterates, xs[0] the start.
    losses: (steps+1,) / (steps+1, R) f at each iterate.
    grads: (steps, dim) / (steps, R, dim) the gradient the optimizer used at each step (noise and
        clipping included; zeros after a divergence).
    lrs: (steps,) / (steps, R) the learning rate of each step (after the schedule).
    states: name -> (steps+1, dim) / (steps+1, R, ...) the optimizer's state after each step.
    diverged_at: None or the first bad step; for a batch a list with one entry per run.
    seconds: wall time spent in this optimizer's updates (gradient evaluations shared in a race
        are split evenly).
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
    batch_size: int = 1
    seed: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

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


def run(
    surface: Surface,
    optimizer: Optimizer,
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    record_states: bool = True,
) -> Trajectory:
    """Run one optimizer (possibly a batch of R runs) for ``steps`` steps from ``start``.

    ``start`` is a point (dim,) or a batch (R, dim); with swept hyper-parameters of length R a single
    point is shared by all runs. ``None`` uses the surface's default start.
    """
    return race(surface, [optimizer], start, steps, schedule, noise, seed, batch_size, record_states)[0]


def race(
    surface: Surface,
    optimizers: Sequence[Optimizer],
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    record_states: bool = True,
) -> list[Trajectory]:
    """Run several optimizers from the same start in one loop; one Trajectory each.

    Every optimizer gets the same noise sequence for the same run index (common random numbers),
    so differences between them are not luck of the draw.
    """
    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface or gdviz.custom_surface)")
    if not optimizers or not all(isinstance(opt, Optimizer) for opt in optimizers):
        raise ValueError("optimizers must be gdviz optimizers (see gdviz.optimizer)")
    if schedule is not None and not isinstance(schedule, Schedule):
        raise ValueError("schedule must be a gdviz schedule (see gdviz.schedule) or None")
    steps = _check_int(steps, "steps", 0)
    seed = _check_int(seed, "seed", 0)
    batch_size = _check_int(batch_size, "batch_size", 1)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    dim = surface.dim
    x0 = _as_start(surface.default_start if start is None else start, dim)

    # lay every optimizer's runs out in one (N, dim) batch
    blocks: list[np.ndarray] = []
    for opt in optimizers:
        rows = opt.batch
        if x0.ndim == 2:
            if rows not in (1, x0.shape[0]):
                raise ValueError(f"{opt.name}: {rows} swept values but start has {x0.shape[0]} rows")
            rows = x0.shape[0]
        blocks.append(np.broadcast_to(x0 if x0.ndim == 2 else x0[None, :], (rows, dim)))
    sizes = [block.shape[0] for block in blocks]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    slices = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
    total = int(edges[-1])
    x = np.concatenate(blocks).astype(np.float64)
    base_lr = np.concatenate([np.broadcast_to(np.asarray(opt.lr, dtype=np.float64).reshape(-1), (n,)) for opt, n in zip(optimizers, sizes)])

    window = max(1.0, float(np.max(np.abs(surface.bounds))), float(np.max(np.abs(x0))))
    x_limit = EXPLODE_FACTOR * window
    noise_std = float(noise) / math.sqrt(batch_size)
    if noise_std > 0:
        # (N, steps, dim): run r of every optimizer draws the same stream, independent of the batch
        draws = np.random.default_rng(seed).standard_normal((max(sizes), steps, dim))
        eps = np.concatenate([draws[:n] for n in sizes]) * noise_std
    needs_hessian = any(opt.needs_hessian for opt in optimizers)

    xs = np.empty((steps + 1, total, dim))
    losses = np.empty((steps + 1, total))
    grads = np.zeros((steps, total, dim))
    lrs = np.empty((steps, total))
    seconds = [0.0] * len(optimizers)
    diverged = np.full(total, -1, dtype=np.int64)

    with np.errstate(all="ignore"):
        loss = np.asarray(surface.f(x), dtype=np.float64)
        g = np.asarray(surface.grad(x), dtype=np.float64)
        bad0 = ~(np.isfinite(loss) & np.all(np.isfinite(g), axis=1))
        if np.any(bad0):
            raise ValueError("f or its gradient is not finite at the start point; pick another start")
        lr_now = base_lr
        sched_state = schedule.init(base_lr) if schedule is not None else None
        states = [opt.init(x[sl], lr_now[sl, None]) for opt, sl in zip(optimizers, slices)]
        history = [
            {name: np.empty((steps + 1, *value.shape)) for name, value in state.items()} if record_states else {}
            for state in states
        ]
        for hist, state in zip(history, states):
            for name, value in state.items():
                hist[name][0] = value
        xs[0], losses[0] = x, loss
        any_dead = False
        for t in range(1, steps + 1):
            if sched_state is not None:
                lr_now = sched_state["lr"]
            lr_col = lr_now[:, None]
            lrs[t - 1] = lr_now
            g_used = g + eps[:, t - 1] if noise_std > 0 else g
            hess = surface.hessian(x) if needs_hessian else None
            x_new = xs[t]
            for i, (opt, sl) in enumerate(zip(optimizers, slices)):
                tick = time.perf_counter()
                gi = g_used[sl]
                if opt.max_grad_norm is not None:
                    gi = _clip_rows(gi, opt.max_grad_norm)
                    if gi is not g_used[sl]:
                        grads[t - 1, sl] = gi
                x_new[sl], states[i] = opt.update(x[sl], gi, states[i], lr_col[sl], t, None if hess is None else hess[sl])
                seconds[i] += time.perf_counter() - tick
            if not any(opt.max_grad_norm is not None for opt in optimizers):
                grads[t - 1] = g_used
            else:
                for opt, sl in zip(optimizers, slices):
                    if opt.max_grad_norm is None:
                        grads[t - 1, sl] = g_used[sl]
            tick = time.perf_counter()
            loss = surface.f(x_new)
            g_next = surface.grad(x_new)
            peak = np.max(np.abs(x_new))
            loss_total = loss.sum()
            grad_total = g_next.sum()
            healthy = peak <= x_limit and abs(loss_total) <= LOSS_LIMIT and math.isfinite(grad_total)
            if any_dead or not healthy:
                loss, g_next = _freeze_bad_rows(
                    t, x, x_new, loss, g, g_next, losses[t - 1], grads[t - 1], states, history, slices, diverged, x_limit
                )
                any_dead = bool(np.any(diverged >= 0))
            losses[t] = loss
            x, g = x_new, g_next
            if record_states:
                for hist, state in zip(history, states):
                    for name, value in state.items():
                        hist[name][t] = value
            if sched_state is not None:
                sched_state = schedule.step(sched_state, losses[t - 1] if schedule.needs_metric else None)
            share = (time.perf_counter() - tick) / len(optimizers)
            for i in range(len(optimizers)):
                seconds[i] += share

    results = []
    for i, (opt, sl) in enumerate(zip(optimizers, slices)):
        batched = x0.ndim == 2 or opt.batch > 1
        pick = (lambda a, _sl=sl: a[:, _sl]) if batched else (lambda a, _sl=sl: a[:, _sl.start])
        dead = [None if d < 0 else int(d) for d in diverged[sl]]
        results.append(
            Trajectory(
                surface=surface,
                optimizer=opt,
                schedule=schedule,
                xs=pick(xs),
                losses=pick(losses),
                grads=pick(grads),
                lrs=pick(lrs),
                states={name: (arr if batched else arr[:, 0]) for name, arr in history[i].items()},
                diverged_at=dead if batched else dead[0],
                seconds=seconds[i],
                batched=batched,
                noise=float(noise),
                batch_size=batch_size,
                seed=seed,
            )
        )
    return results


def _freeze_bad_rows(t, x, x_new, loss, g, g_next, prev_loss, grads_t, states, history, slices, diverged, x_limit):
    """Rows that went bad at step t, or earlier, keep their previous iterate, loss and state."""
    finite = np.isfinite(loss) & np.all(np.isfinite(g_next), axis=1) & np.all(np.isfinite(x_new), axis=1)
    ok = finite & (np.max(np.abs(x_new), axis=1) <= x_limit) & (np.abs(loss) <= LOSS_LIMIT)
    newly = ~ok & (diverged < 0)
    diverged[newly] = t
    frozen = diverged >= 0
    x_new[frozen] = x[frozen]
    loss = np.where(frozen, prev_loss, loss)
    g_next = np.where(frozen[:, None], g, g_next)
    grads_t[frozen] = 0.0
    for i, sl in enumerate(slices):
        rows = frozen[sl]
        if not rows.any():
            continue
        previous = {name: hist[t - 1] for name, hist in history[i].items()} if history[i] else None
        new_state = {}
        for name, value in states[i].items():
            if previous is not None and name in previous:
                mask = rows.reshape((-1,) + (1,) * (value.ndim - 1))
                value = np.where(mask, previous[name], value)
            elif not np.all(np.isfinite(value)):
                value = np.nan_to_num(value, nan=0.0, posinf=0.0, neginf=0.0)
            new_state[name] = value
        states[i] = new_state
    return loss, g_next
