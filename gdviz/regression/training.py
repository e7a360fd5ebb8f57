"""Train ``nn.Linear(d, 1)`` with MSE: full-batch GD, SGD or minibatches, on the device the data lives on.

The hot loop is what a DataLoader loop would be without the DataLoader: the data are moved to the
device once, each epoch gathers them in a random order with one indexing kernel (a permutation, or
indices drawn with replacement), and every update slices a contiguous batch out of that copy — no
per-sample Python, no per-batch collation, no host-to-device copies. The gradient of the MSE is
written out (the forward is ``torch.addmm`` as ``nn.Linear``'s, the backward the kernels autograd
runs), which is bit for bit what ``loss.backward()`` gives on the CPU and saves the autograd graph.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gdviz.regression.cost import EVALUATION_SHARE, affordable_updates, pass_seconds
from gdviz.regression.data import as_2d, torch_dtype
from gdviz.regression.device import DeviceMemoryError, free_memory, resolve_device, synchronize
from gdviz.regression.optim import (
    NEWTON_MAX_FEATURES,
    as_schedule,
    build_scheduler,
    check_horizon,
    engine_optimizer,
    torch_optimizer,
    with_horizon,
)
from gdviz.regression.result import TrainResult

# a full-data loss above this counts as diverged (float32 overflows at 3e38)
LOSS_LIMIT = 1e30
# rows of the full-data loss evaluated at once: a (chunk, 1) buffer instead of an (n, 1) temporary
LOSS_CHUNK_ROWS = 1 << 16
# rows of a batch turned into float64 at once for Newton's Hessian (a (chunk, d) buffer, ≤ 16 MB at d = 1000)
HESSIAN_CHUNK_ROWS = 1 << 11

Progress = Callable[[float, str], None]


def epoch_order(n: int, batch: int, replacement: bool, generator, device, out=None) -> tuple[Any, int]:
    """The sample indices of one epoch, in the order the batches take them, and the number of batches.

    Without replacement: a random permutation of range(n), cut into ceil(n / b) batches (the last
    one shorter), as ``DataLoader(shuffle=True)``. With replacement: ceil(n / b) batches of exactly b
    indices drawn uniformly (d2l 12.4.4). Full batch (b >= n, no replacement): None, the data as is.
    ``out``: an int64 tensor of :func:`shuffled_rows` entries to draw into (the same numbers, no allocation).
    """
    import torch

    if not replacement and batch >= n:
        return None, 1
    batches = math.ceil(n / batch)
    if replacement:
        return torch.randint(n, (batches * batch,), generator=generator, device=device, out=out), batches
    return torch.randperm(n, generator=generator, device=device, out=out), batches


def shuffled_rows(n: int, batch: int, replacement: bool) -> int:
    """Rows of one epoch's shuffled copy of the data: 0 for full batch, n for a shuffle, ceil(n/b)·b drawn."""
    if not replacement and batch >= n:
        return 0
    return math.ceil(n / batch) * batch if replacement else n


def training_bytes(
    n: int,
    d: int,
    dtype: Any = "float32",
    epochs: int = 10,
    batch_size: int | None = None,
    *,
    replacement: bool = False,
    standardize: bool = False,
    data_dtype: Any = "float32",
    hessian: bool = False,
    plateau_per_update: bool = False,
    trace_points: int = 400,
    curve_points: int = 200,
) -> int:
    """Bytes :func:`train` allocates at most on the CPU beyond the caller's X and y, for the budget of a page.

    Every term is a buffer the loop allocates once (nothing grows with the epochs but the recorded
    parameters, one (d + 1) row per epoch): X and y converted to ``dtype`` when the data are another
    dtype, the standardized copy, an epoch's shuffled copy with its order, the batch residual, a
    chunk of the full-data loss, Newton's float64 chunk, and the recorded rows (8 bytes each, plus
    Python's ~200 bytes per recorded epoch and curve point).
    """
    item = torch_dtype(dtype).itemsize
    batch = n if batch_size is None or (not replacement and batch_size >= n) else batch_size
    converted = n * (d + 1) * item if torch_dtype(dtype) != torch_dtype(data_dtype) else 0
    standardized = n * d * item if standardize else 0
    rows = shuffled_rows(n, batch, replacement)
    shuffled = rows * (d + 1) * item + rows * 8
    per_batch = batch * item * (2 if plateau_per_update else 1) + min(n, LOSS_CHUNK_ROWS) * item
    newton = (min(batch, HESSIAN_CHUNK_ROWS) * d + 2 * (d + 1) ** 2) * 8 if hessian else 0
    recorded = (2 * (epochs + 1) + trace_points + 1) * (d + 1) * 8 + (epochs + curve_points + 2) * 200
    return converted + standardized + shuffled + per_batch + newton + recorded


def initial_params(d: int, init: Any, seed: int, dtype, device) -> tuple[Any, Any]:
    """``nn.Linear(d, 1)``'s weight (1, d) and bias (1,): its default init seeded by ``seed`` ("torch"),
    "zeros", or a given ``(weight, bias)`` in training coordinates."""
    import torch

    if isinstance(init, str) and init == "torch":
        # nn.Linear.reset_parameters, drawn in float32 like `torch.manual_seed(seed); nn.Linear(d, 1)`
        generator = torch.Generator().manual_seed(seed)
        weight, bias = torch.empty(1, d), torch.empty(1)
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(d)
        torch.nn.init.uniform_(bias, -bound, bound, generator=generator)
    elif isinstance(init, str) and init == "zeros":
        weight, bias = torch.zeros(1, d), torch.zeros(1)
    elif isinstance(init, (tuple, list)) and len(init) == 2:
        weight = torch.as_tensor(np.asarray(init[0], dtype=np.float64)).reshape(1, -1)
        bias = torch.as_tensor(np.asarray(init[1], dtype=np.float64)).reshape(1)
        if weight.shape[1] != d or not bool(torch.isfinite(weight).all() and torch.isfinite(bias).all()):
            raise ValueError(f"init weight must be {d} finite number(s) and bias one, got {init!r}")
    else:
        raise ValueError(f"init must be 'torch', 'zeros' or a (weight, bias) pair, got {init!r}")
    return weight.to(device, dtype).clone(), bias.to(device, dtype).clone()


def _batch_hessian(xb, buffer) -> np.ndarray:
    """Hessian of the batch MSE in (w, b): (2/m) [X 1]ᵀ[X 1], (d + 1, d + 1) float64 on the host.

    Summed over chunks copied into ``buffer`` (a (rows, d) float64 tensor on the data's device), so a
    batch of any size costs no float64 copy of itself."""
    import torch

    m, d = xb.shape
    gram = torch.zeros(d + 1, d + 1, dtype=torch.float64, device=buffer.device)
    rows = buffer.shape[0]
    for lo in range(0, m, rows):
        chunk = buffer[: min(rows, m - lo)]
        chunk.copy_(xb[lo : lo + rows])
        gram[:d, :d].addmm_(chunk.t(), chunk)
        gram[d, :d] += chunk.sum(0)
    gram[:d, d] = gram[d, :d]
    gram[d, d] = m
    return gram.mul_(2.0 / m).cpu().numpy()


def _all_finite(values) -> bool:
    """No NaN or inf: min and max propagate NaN, so two reductions check everything without an (n, d) mask."""
    import torch

    low, high = torch.aminmax(values)
    return bool(torch.isfinite(low) and torch.isfinite(high))


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Invalid {name} value: {value!r} (must be an integer >= {low})")
    return int(value)


def train(
    X: Any,
    y: Any,
    optimizer: str = "SGD",
    lr: float | None = None,
    batch_size: int | None = None,
    epochs: int = 10,
    device: Any = "cpu",
    seed: int = 0,
    schedule: Any = None,
    *,
    replacement: bool = False,
    standardize: bool = False,
    schedule_step: str = "epoch",
    dtype: Any = None,
    init: Any = "torch",
    max_grad_norm: float | None = None,
    max_updates: int | None = None,
    max_seconds: float | None = None,
    fit_horizon: bool = False,
    curve_points: int = 200,
    trace_points: int = 400,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    **hyper: Any,
) -> TrainResult:
    r"""Fit ``y ≈ X w + b`` by minimising the MSE with a torch optimizer, as the notes' loop does.

    .. math::
        \theta_{t+1} = \mathrm{opt}\Bigl(\theta_t,\ \tfrac{2}{|B_t|} \textstyle\sum_{i \in B_t} (x_i^\top w + b - y_i)\,(x_i, 1)\Bigr)

    with :math:`B_t` the whole data (``batch_size=None``: GD), one sample (``1``: SGD) or b samples
    (minibatch), drawn each epoch without replacement (a shuffle) or with it. ``optimizer`` and
    ``**hyper`` are the engine registry's names and torch's hyper-parameters (``lr`` may also be
    given positionally); ``schedule`` is a gdviz schedule, a name or a ``(name, params)`` pair,
    stepped as its torch scheduler after every epoch (``schedule_step="epoch"``, torch's habit) or
    every update; ReduceLROnPlateau watches the full-data loss (per epoch) or the batch loss.

    ``device``: "cpu", "cuda", "mps" or "auto"; ``dtype``: "float32" / "float64" (default: X's
    floating dtype, else float64). ``init``: "torch" (``nn.Linear``'s init, seeded by ``seed``),
    "zeros" or ``(weight, bias)``. ``standardize`` trains on ``(x - mean) / std`` (a constant column
    is only centred) and reports ``weight``/``bias`` back in X's units. ``max_updates`` stops early;
    so does ``max_seconds``, a budget of estimated CPU seconds (:mod:`gdviz.regression.cost`): the run
    takes the updates it affords, the same for the same inputs on any machine. ``fit_horizon``: the
    schedule's horizon (``Schedule.horizon``: T_max, total_steps, total_iters) becomes the run's
    number of scheduler steps — its updates when it steps per update, else its epochs.
    ``progress(fraction, text)`` is called a few hundred times at most; an exception it raises
    (e.g. Streamlit stopping a rerun) stops training. ``should_stop()``, asked after every update,
    ends the run there when it returns True (a deadline, a visitor who left): the result holds the
    updates done, exactly as far as they went, and is not ``complete``. A CUDA / MPS out-of-memory error is raised as
    :class:`~gdviz.regression.device.DeviceMemoryError` with advice.

    References: the notes on gradient descent (the loop; GD vs SGD vs minibatch); d2l 12.4-12.5.
    """
    import torch

    target = resolve_device(device)
    try:
        return _train(
            X, y, optimizer, lr, batch_size, epochs, target, seed, schedule, replacement, standardize,
            schedule_step, dtype, init, max_grad_norm, max_updates, max_seconds, fit_horizon, curve_points,
            trace_points, progress, should_stop, hyper,
        )  # fmt: skip
    except torch.OutOfMemoryError as error:  # torch.cuda.OutOfMemoryError is this class
        free_memory(target)
        raise DeviceMemoryError(_oom_message(target, X, error)) from error
    except RuntimeError as error:
        if "out of memory" not in str(error).lower():
            raise
        free_memory(target)
        raise DeviceMemoryError(_oom_message(target, X, error)) from error


def _oom_message(device, X: Any, error: Exception) -> str:
    shape = tuple(getattr(X, "shape", ()))
    size = ""
    if len(shape) >= 1:
        values = int(np.prod(shape)) if len(shape) > 1 else int(shape[0])
        size = f" The data alone are {values:,} values ({values * 4 / 2**20:,.0f} MiB in float32), and an epoch of minibatches holds a shuffled copy."
    return (
        f"The {device.type.upper()} device ran out of memory.{size} Try fewer samples, float32 instead of "
        f"float64, full-batch GD (no shuffled copy), or the CPU. ({str(error).splitlines()[0][:160]})"
    )


def _train(
    X, y, optimizer, lr, batch_size, epochs, dev, seed, schedule, replacement, standardize,
    schedule_step, dtype, init, max_grad_norm, max_updates, max_seconds, fit_horizon, curve_points, trace_points,
    progress, should_stop, hyper,
) -> TrainResult:  # fmt: skip
    import torch

    X, y = as_2d(X, y)
    n, d = X.shape
    kind = torch_dtype(dtype if dtype is not None else (X.dtype if X.is_floating_point() else "float64"))
    if dev.type == "mps" and kind == torch.float64:
        raise ValueError("MPS has no float64: use dtype='float32' or another device")
    epochs, seed = _check_int(epochs, "epochs", 1), _check_int(seed, "seed", 0)
    curve_points, trace_points = (
        _check_int(curve_points, "curve_points", 1),
        _check_int(trace_points, "trace_points", 1),
    )
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch_size", 1)
    if max_updates is not None:
        max_updates = _check_int(max_updates, "max_updates", 1)
    if max_seconds is not None and not (isinstance(max_seconds, (int, float)) and 0 < max_seconds < math.inf):
        raise ValueError(f"Invalid max_seconds value: {max_seconds} (must be a positive number)")
    if schedule_step not in ("epoch", "update"):
        raise ValueError(f"schedule_step must be 'epoch' or 'update', got {schedule_step!r}")
    if max_grad_norm is not None and not (isinstance(max_grad_norm, (int, float)) and 0 < max_grad_norm < math.inf):
        raise ValueError(f"Invalid max_grad_norm value: {max_grad_norm} (must be a positive number)")
    if lr is not None:
        hyper = {**hyper, "lr": lr}
    engine = engine_optimizer(optimizer, **hyper)
    if engine.needs_hessian and d > NEWTON_MAX_FEATURES:
        raise ValueError(f"{engine.name} solves a (d+1)² system every step; use it with d <= {NEWTON_MAX_FEATURES}")
    sched = as_schedule(schedule)

    # -- the plan: batches and updates (within the budgets)
    full = batch_size is None or (not replacement and batch_size >= n)
    batch = n if full else batch_size
    updates_per_epoch = 1 if full else math.ceil(n / batch)
    total = epochs * updates_per_epoch if max_updates is None else min(max_updates, epochs * updates_per_epoch)
    if max_seconds is not None:
        # the loss curve's full-data evaluations get at most half the budget, the updates the rest
        curve_points = max(2, min(curve_points, int(EVALUATION_SHARE * max_seconds / pass_seconds(n, d))))
        total = affordable_updates(
            n, d, batch, total, updates_per_epoch, max_seconds, engine.needs_hessian, curve_points
        )  # fmt: skip
    # the schedule's own steps: one lr per update, or per epoch (the run may stop before its last epoch)
    scheduler_steps = total if schedule_step == "update" else math.ceil(total / updates_per_epoch)
    if fit_horizon:
        sched = with_horizon(sched, scheduler_steps)
    check_horizon(sched, scheduler_steps, schedule_step)

    # -- data on the device, once
    started = time.perf_counter()
    Xd, yd = X.to(dev, kind), y.to(dev, kind)
    if not (_all_finite(Xd) and _all_finite(yd)):
        if _all_finite(X) and _all_finite(y):
            largest = max(float(v.abs()) for t in (X, y) for v in torch.aminmax(t))
            raise ValueError(
                f"Values as large as {largest:.3g} overflow {str(kind).removeprefix('torch.')} (largest "
                f"{torch.finfo(kind).max:.3g}): rescale those columns (e.g. other units) or train in float64"
            )
        raise ValueError("X and y must be finite: remove the rows with NaN or inf first")
    mean = torch.zeros(d, dtype=kind, device=dev)
    std = torch.ones(d, dtype=kind, device=dev)
    if standardize:
        mean, std = Xd.mean(0), Xd.std(0, correction=0)
        std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column: centre it, do not divide by 0
        Xd = Xd.sub(mean).div_(std)  # one standardized copy; the caller's X is left as it is
    W, B = initial_params(d, init, seed, kind, dev)
    Wt = W.t()  # a view: it follows the optimizer's in-place updates of W
    opt = torch_optimizer(engine, [W, B])
    scheduler = build_scheduler(sched, opt, float(engine.lr))
    plateau = sched is not None and sched.needs_metric
    generator = torch.Generator(device=dev).manual_seed(seed)
    synchronize(dev)
    transfer_seconds = time.perf_counter() - started

    # -- evaluation points, trace points
    eval_every = max(1, math.ceil(total / curve_points))
    trace_every = max(1, math.ceil(total / trace_points))
    trace = torch.empty(total // trace_every + 1, d + 1, dtype=torch.float64, device=dev)
    trace_updates, trace_lrs = [0], [float(opt.param_groups[0]["lr"])]
    trace[0, :d], trace[0, d] = W[0], B[0]

    # -- every full-size buffer, allocated once: an epoch allocates nothing in proportion to n, so the
    # heap does not creep from epoch to epoch (per-epoch temporaries grew a float64 run by ~8 MB an epoch)
    plateau_per_update = plateau and scheduler is not None and schedule_step == "update"
    shuffled = shuffled_rows(n, batch, replacement)
    order_buffer = torch.empty(shuffled, dtype=torch.int64, device=dev)
    Xs_buffer = torch.empty(shuffled, d, dtype=kind, device=dev)
    ys_buffer = torch.empty(shuffled, 1, dtype=kind, device=dev)
    residual_buffer = torch.empty(batch, 1, dtype=kind, device=dev)
    squares_buffer = torch.empty(batch if plateau_per_update else 0, 1, dtype=kind, device=dev)
    loss_rows = min(n, LOSS_CHUNK_ROWS)
    loss_buffer = torch.empty(loss_rows, 1, dtype=kind, device=dev)
    hessian = engine.needs_hessian
    hessian_buffer = torch.empty(min(batch, HESSIAN_CHUNK_ROWS) if hessian else 0, d, dtype=torch.float64, device=dev)
    full_hessian = _batch_hessian(Xd, hessian_buffer) if hessian and full else None  # constant: computed once

    def full_loss() -> float:
        if n <= loss_rows:  # one chunk: nn.MSELoss's forward, on the training coordinates, exactly
            return float(torch.addmm(B, Xd, Wt, out=loss_buffer).sub_(yd).square_().mean())
        # chunk by chunk, summed in float64: the MSE within rounding of nn.MSELoss's one-kernel mean
        total = 0.0
        for lo in range(0, n, loss_rows):
            hi = min(lo + loss_rows, n)
            part = torch.addmm(B, Xd[lo:hi], Wt, out=loss_buffer[: hi - lo]).sub_(yd[lo:hi]).square_()
            total += float(part.sum(dtype=torch.float64))
        return total / n

    initial_loss = full_loss()
    losses, lrs, epoch_seconds = [], [], []
    params = [torch.cat([W[0], B]).double().cpu().numpy()]
    curve = [(0, 0, 0.0, initial_loss)]
    last_good = params[0]
    u = samples = 0
    clock = 0.0
    diverged_at = None
    clip = torch.nn.utils.clip_grad_norm_ if max_grad_norm is not None else None
    per_update = scheduler is not None and schedule_step == "update"
    scales = {}  # 2 / m for each batch size m that occurs (the MSE's gradient factor, in nn.MSELoss's order)

    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            lrs.append(float(opt.param_groups[0]["lr"]))
            synchronize(dev)
            started, epoch_start_clock = time.perf_counter(), clock
            order, batches = epoch_order(n, batch, replacement, generator, dev, out=order_buffer if shuffled else None)
            if order is None:
                Xs, ys = Xd, yd
            else:  # Xd[order], gathered into the epoch buffers
                Xs = torch.index_select(Xd, 0, order, out=Xs_buffer)
                ys = torch.index_select(yd, 0, order, out=ys_buffer)
            rows = Xs.shape[0]
            for k in range(batches):
                lo = k * batch
                hi = min(lo + batch, rows)
                xb, yb = Xs[lo:hi], ys[lo:hi]
                m = hi - lo
                scale = scales.get(m)
                if scale is None:
                    scale = scales[m] = 2.0 / m
                residual = torch.addmm(B, xb, Wt, out=residual_buffer[:m]).sub_(yb)
                batch_loss = torch.square(residual, out=squares_buffer[:m]).mean() if plateau_per_update else None
                residual.mul_(scale)
                W.grad = torch.mm(xb.t(), residual).t()
                B.grad = residual.sum(0)
                if clip is not None:
                    clip([W, B], max_grad_norm)
                if hessian:
                    opt.step(hess=full_hessian if full else _batch_hessian(xb, hessian_buffer))
                else:
                    opt.step()
                u += 1
                samples += m
                if should_stop is not None and u < total and should_stop():
                    total = u  # the run ends here: this update is evaluated and recorded as the last
                if per_update and u < total:
                    if plateau:
                        scheduler.step(float(batch_loss))
                    else:
                        scheduler.step()
                if u % trace_every == 0:
                    row = u // trace_every
                    trace[row, :d], trace[row, d] = W[0], B[0]
                    trace_updates.append(u)
                    trace_lrs.append(float(opt.param_groups[0]["lr"]))
                end_of_epoch = k == batches - 1
                if u % eval_every == 0 or end_of_epoch or u >= total:
                    synchronize(dev)
                    clock += time.perf_counter() - started
                    loss = full_loss()
                    if not (math.isfinite(loss) and loss < LOSS_LIMIT):
                        diverged_at = epoch
                        break
                    curve.append((u, samples, clock, loss))
                    if end_of_epoch:
                        losses.append(loss)
                        epoch_seconds.append(clock - epoch_start_clock)
                        params.append(torch.cat([W[0], B]).double().cpu().numpy())
                    last_good = torch.cat([W[0], B]).double().cpu().numpy()
                    if progress is not None:
                        progress(u / total, f"epoch {epoch}/{epochs}, update {u:,}/{total:,}, loss {loss:.4g}")
                    started = time.perf_counter()
                if u >= total:
                    break
            if diverged_at is not None or u >= total:
                break
            if scheduler is not None and not per_update and epoch < epochs:
                if plateau:
                    scheduler.step(losses[-1])
                else:
                    scheduler.step()

    kept = [i for i, step in enumerate(trace_updates) if step <= curve[-1][0]]
    trace_host = trace[: len(trace_updates)].cpu().numpy()[kept]
    mean_host, std_host = mean.double().cpu().numpy(), std.double().cpu().numpy()
    weight = last_good[:d] / std_host
    bias = float(last_good[d] - (last_good[:d] * mean_host / std_host).sum()) if standardize else float(last_good[d])
    curve_array = np.array(curve, dtype=np.float64)
    return TrainResult(
        weight=weight,
        bias=bias,
        losses=np.array(losses),
        initial_loss=initial_loss,
        params=np.array(params),
        seconds=clock,
        epoch_seconds=np.array(epoch_seconds),
        updates=int(curve[-1][0]),
        samples=int(curve[-1][1]),
        updates_per_epoch=updates_per_epoch,
        batch_size=batch,
        curve_updates=curve_array[:, 0].astype(np.int64),
        curve_samples=curve_array[:, 1].astype(np.int64),
        curve_seconds=curve_array[:, 2],
        curve_losses=curve_array[:, 3],
        trace=trace_host,
        trace_updates=np.array(trace_updates, dtype=np.int64)[kept],
        trace_lrs=np.array(trace_lrs)[kept],
        lrs=np.array(lrs[: len(losses)]),
        diverged_at=diverged_at,
        complete=diverged_at is None and len(losses) == epochs,
        mean=mean_host,
        std=std_host,
        n=n,
        d=d,
        device=str(dev),
        dtype=str(kind).removeprefix("torch."),
        optimizer=engine.name,
        hyper=engine.settings(),
        schedule="" if sched is None else sched.name,
        transfer_seconds=transfer_seconds,
    )


def warm_up() -> None:
    """Import torch and what its first optimizer step imports (torch._dynamo: 1.0-1.7 s of CPU on a small
    machine) now, with a training of one epoch on eight zeros, rather than inside a later training's time."""
    train(np.zeros((8, 1), np.float32), np.zeros(8, np.float32), "SGD", lr=0.1, epochs=1)
