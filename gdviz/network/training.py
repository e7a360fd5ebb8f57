"""Train one network from one set of initial weights with several optimizers, in lockstep, recording every iterate.

Each racer is what a plain torch loop would be — ``loss_fn(model(X), y).backward(); opt.step()`` with
the optimizer (and lr scheduler) that :mod:`gdviz.regression.optim` builds from the engine registry's
name and hyper-parameters — and the tests hold every recorded weight vector to such a loop bit for bit
on the CPU. The racers take their steps in turn, so a deadline stops all of them at the same step; each
has its own model, optimizer, scheduler and minibatch generator (seeded alike: every racer sees the
same batches), so running them together changes none of their numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdviz.network.data import Dataset
from gdviz.network.model import MLP, build, initial_weights, loss_function
from gdviz.regression.device import DeviceMemoryError, free_memory, resolve_device, synchronize
from gdviz.regression.optim import (
    as_schedule,
    build_scheduler,
    check_horizon,
    engine_optimizer,
    torch_optimizer,
    with_horizon,
)

# a full-data loss this many times the start's (at least 1) counts as diverged: past it a path would stretch
# the shared plane and the grid's window until the other racers' paths are a dot
DIVERGENCE_FACTOR = 1e3


@dataclass(frozen=True)
class Racer:
    """One optimizer of the race: a registry name, its hyper-parameters, optional clipping and a label."""

    name: str
    hyper: Mapping[str, Any] = field(default_factory=dict)
    max_grad_norm: float | None = None
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass
class Paths:
    """What the race recorded. Index ``t`` is the iterate after ``t`` optimizer steps (0: the shared start).

    weights[r]: (k_r + 1, P) float32, racer r's weights at every step it took (up to its last finite one);
    losses[r]: (k_r + 1,) the full-data loss at each of them; lrs[r]: (k_r,) the lr of each step;
    diverged_at[r]: the step whose loss was non-finite or over the divergence limit (its weights are not
    kept), else None. ``steps``: the steps asked for; ``done``: the steps taken before a deadline stopped
    the race (``done == steps`` when it was not stopped).
    """

    racers: list[Racer]
    spec: MLP
    task: str
    init: np.ndarray
    weights: list[np.ndarray]
    losses: list[np.ndarray]
    lrs: list[np.ndarray]
    diverged_at: list[int | None]
    steps: int
    done: int
    batch_size: int
    seconds: float
    device: str

    @property
    def complete(self) -> bool:
        return self.done == self.steps

    @property
    def loss_limit(self) -> float:
        return DIVERGENCE_FACTOR * max(float(self.losses[0][0]), 1.0)


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= {low})")
    return int(value)


def as_racer(item: Any) -> Racer:
    """A :class:`Racer`, a name, or a ``(name, hyper)`` pair as a Racer."""
    if isinstance(item, Racer):
        return item
    if isinstance(item, str):
        return Racer(item)
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], Mapping):
        return Racer(item[0], dict(item[1]))
    raise ValueError(f"a racer is a name, a (name, hyper-parameters) pair or a Racer, got {item!r}")


class _Lane:
    """One racer's model, optimizer, scheduler, minibatch generator and recorded path, on the device."""

    def __init__(self, racer, spec, init, steps, schedule, seed, dev):
        import torch

        engine = engine_optimizer(racer.name, **dict(racer.hyper))
        if engine.needs_hessian:
            raise ValueError(
                f"{engine.name} solves a P × P Hessian system every step (P = {spec.parameters:,} weights here): "
                "it is offered on the 2-D surfaces, not on a network"
            )
        clip = racer.max_grad_norm
        if clip is not None and not (isinstance(clip, (int, float)) and 0 < clip < math.inf):
            raise ValueError(f"{racer.title}: invalid max_grad_norm {clip!r} (must be a positive number)")
        self.racer, self.clip = racer, clip
        self.model = build(spec, device=dev)
        self.params = list(self.model.parameters())
        start, offset = torch.as_tensor(init, device=dev), 0
        with torch.no_grad():  # copied into each lane's own tensors (vector_to_parameters would make them views)
            for p in self.params:
                p.copy_(start[offset : offset + p.numel()].view_as(p))
                offset += p.numel()
        self.opt = torch_optimizer(engine, self.params)
        self.scheduler = build_scheduler(schedule, self.opt, float(engine.lr))
        self.plateau = schedule is not None and schedule.needs_metric
        self.generator = torch.Generator(device=dev).manual_seed(seed)
        self.path = torch.empty(steps + 1, spec.parameters, device=dev)
        self.losses = torch.empty(steps + 1, device=dev)
        self.lrs: list[float] = []
        self.recorded = 0  # iterates in ``path``
        self.diverged_at: int | None = None
        self.limit = math.inf  # the divergence limit, set from the start's loss
        self.order = None


def train_racers(
    data: Dataset,
    spec: MLP,
    racers: Sequence[Any],
    steps: int = 200,
    *,
    schedule: Any = None,
    batch_size: int | None = None,
    seed: int = 0,
    init: np.ndarray | None = None,
    device: Any = "cpu",
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Paths:
    """Train ``spec`` on ``data`` with every racer for ``steps`` updates from the same initial weights.

    ``racers``: registry names, ``(name, hyper)`` pairs or :class:`Racer` (torch.optim does the training;
    the engine's own algorithms run through :func:`gdviz.regression.optim.engine_torch_optimizer`).
    ``schedule``: a gdviz schedule, a name or a ``(name, params)`` pair, stepped after every update (its
    horizon — T_max, total_steps — set to ``steps``). ``batch_size``: None (or >= n) for full batch, else
    minibatches drawn each epoch as ``DataLoader(shuffle=True)`` would, by a generator seeded with ``seed``
    (the same batches for every racer). ``init``: (P,) the start, default :func:`initial_weights` of ``seed``.
    ``should_stop()`` is asked after every round of steps; True ends the race there (``Paths.done``).
    """
    import torch

    dev = resolve_device(device)
    try:
        return _train(data, spec, racers, steps, schedule, batch_size, seed, init, dev, should_stop, progress)
    except torch.OutOfMemoryError as error:
        free_memory(dev)
        raise DeviceMemoryError(
            f"The {dev.type.upper()} device ran out of memory recording {len(racers)} paths of {steps + 1} × "
            f"{spec.parameters:,} weights: try fewer steps, a smaller network or the CPU."
        ) from error


def _train(data, spec, racers, steps, schedule, batch_size, seed, init, dev, should_stop, progress) -> Paths:
    import torch

    if not isinstance(data, Dataset):
        raise ValueError("data must be a gdviz.network Dataset (make_dataset)")
    if spec.inputs != data.inputs:
        raise ValueError(f"the network takes {spec.inputs} input(s) but the data have {data.inputs}")
    steps, seed = _check_int(steps, "steps", 1), _check_int(seed, "seed", 0)
    racers = [as_racer(item) for item in racers]
    if not racers:
        raise ValueError("at least one optimizer is needed")
    n = data.n
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch size", 1)
    full = batch_size is None or batch_size >= n
    batch = n if full else batch_size
    sched = with_horizon(as_schedule(schedule), steps)
    check_horizon(sched, steps, "update")
    start = initial_weights(spec, seed) if init is None else np.asarray(init, dtype=np.float32).reshape(-1)
    if start.shape != (spec.parameters,) or not np.isfinite(start).all():
        raise ValueError(f"init must be {spec.parameters} finite numbers")
    loss_fn = loss_function(data.task)
    X = torch.as_tensor(data.X, device=dev)
    y = torch.as_tensor(data.y, device=dev)
    lanes = [_Lane(racer, spec, start, steps, sched, seed, dev) for racer in racers]
    per_epoch = math.ceil(n / batch)

    def record(lane: _Lane, t: int, loss) -> None:
        """Keep iterate t and its loss, unless it diverged (then the lane stops at t - 1)."""
        torch.cat([p.detach().reshape(-1) for p in lane.params], out=lane.path[t])
        lane.losses[t] = loss.detach()
        value = float(loss)
        if t == 0:
            lane.limit = DIVERGENCE_FACTOR * max(value, 1.0)
        if not (math.isfinite(value) and value <= lane.limit and bool(torch.isfinite(lane.path[t]).all())):
            lane.diverged_at = t
        else:
            lane.recorded = t + 1

    def full_loss(lane: _Lane):
        with torch.no_grad():
            return loss_fn(lane.model(X), y)

    started = time.perf_counter()
    for lane in lanes:
        record(lane, 0, full_loss(lane))
        if lane.diverged_at == 0:
            raise ValueError("the initial weights give a non-finite loss: the data or the network overflow")
    done = 0
    for t in range(1, steps + 1):
        k = (t - 1) % per_epoch
        for lane in lanes:
            if lane.diverged_at is not None:
                continue
            if full:
                xb, yb = X, y
            else:
                if k == 0:
                    lane.order = torch.randperm(n, generator=lane.generator, device=dev)
                rows = lane.order[k * batch : (k + 1) * batch]
                xb, yb = X[rows], y[rows]
            lane.lrs.append(float(lane.opt.param_groups[0]["lr"]))
            lane.opt.zero_grad()
            loss = loss_fn(lane.model(xb), yb)
            loss.backward()
            if lane.clip is not None:
                torch.nn.utils.clip_grad_norm_(lane.params, lane.clip)
            lane.opt.step()
            if lane.scheduler is not None:
                if lane.plateau:
                    lane.scheduler.step(loss.item())  # float(loss) warns on a tensor that needs grad
                else:
                    lane.scheduler.step()
            record(lane, t, full_loss(lane))
        done = t
        if progress is not None and (t % max(1, steps // 50) == 0 or t == steps):
            progress(t / steps, f"step {t}/{steps}")
        if all(lane.diverged_at is not None for lane in lanes):
            break
        if should_stop is not None and t < steps and should_stop():
            break
    synchronize(dev)
    seconds = time.perf_counter() - started
    return Paths(
        racers=racers,
        spec=spec,
        task=data.task,
        init=start,
        weights=[lane.path[: lane.recorded].cpu().numpy() for lane in lanes],
        losses=[lane.losses[: lane.recorded].double().cpu().numpy() for lane in lanes],
        lrs=[np.array(lane.lrs[: max(lane.recorded - 1, 0)]) for lane in lanes],
        diverged_at=[lane.diverged_at for lane in lanes],
        steps=steps,
        done=done,
        batch_size=batch,
        seconds=seconds,
        device=str(dev),
    )
