"""The Networks page's race as a standalone PyTorch script ("Copy as PyTorch"): torch and numpy, nothing of gdviz.

``network_script(dataset, spec, racers, steps, ...)`` takes :func:`train_racers`'s settings and returns the text
of a script that makes the same data (the generator's NumPy source is copied in from
:mod:`gdviz.network.data`), builds the same MLP from the same initial weights (``torch.manual_seed(SEED)``
then the layers in order, as :func:`initial_weights`), and trains each racer with its ``torch.optim``
class and ``torch.optim.lr_scheduler`` in the textbook loop

    optimizer.zero_grad(); loss = loss_fn(model(xb), yb); loss.backward(); <clip_grad_norm_>; optimizer.step(); scheduler.step()

on the same minibatches (``torch.randperm`` from a generator seeded with SEED, a new shuffle each epoch).
Its last line of output is ``{"labels": [...], "losses": [...]}``: each racer's full-data loss at the
start and after every step, up to the step before it diverged. On the CPU these are train_racers's
numbers bit for bit (tests/test_network_script.py runs the scripts).

The optimizer and scheduler lines are the Playground exporter's (:mod:`gdviz.export`). An optimizer
without a torch.optim class (Lion, Yogi, AdamThenSGD, an ``eps_inside_sqrt`` variant) trains on the page
through gdviz's own float64 update, which the script could only approximate, and a schedule torch lacks
has no scheduler line: both are a ValueError, never a script that prints other numbers.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any

from gdviz.export.torch_optimizers import optimizer_line, python_literal
from gdviz.export.torch_script import _scheduler
from gdviz.network.data import DATASETS, GENERATORS, _check
from gdviz.network.model import MLP
from gdviz.network.training import DIVERGENCE_FACTOR, Racer, _check_int, as_racer
from gdviz.regression.optim import as_schedule, check_horizon, engine_optimizer, uses_torch_optim, with_horizon

LOSSES = {
    "classify": "torch.nn.functional.binary_cross_entropy_with_logits  # the labels 0/1 against the logits",
    "regress": "torch.nn.functional.mse_loss",
}


def network_script(
    dataset: str,
    spec: MLP,
    racers: Sequence[Any],
    steps: int = 200,
    *,
    n: int = 200,
    noise: float = 0.1,
    seed: int = 0,
    schedule: Any = None,
    batch_size: int | None = None,
    labels: Sequence[str] | None = None,
) -> str:
    """``train_racers(make_dataset(dataset, n, noise, seed), spec, racers, steps, schedule=schedule,
    batch_size=batch_size, seed=seed)`` as a standalone PyTorch script (text); ``labels`` name the racers
    in its output (default: each racer's title). ValueError for anything the script could not reproduce."""
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}; choose one of {list(DATASETS)}")
    n, noise, seed = _check(n, noise, seed)
    if not isinstance(spec, MLP):
        raise ValueError("spec must be a gdviz.network MLP")
    task = DATASETS[dataset][0]
    inputs = 1 if dataset == "cubic" else 2
    if spec.inputs != inputs:
        raise ValueError(f"the network takes {spec.inputs} input(s) but {dataset} has {inputs}")
    steps = _check_int(steps, "steps", 1)
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch size", 1)
    racers = [as_racer(item) for item in racers]
    if not racers:
        raise ValueError("at least one optimizer is needed")
    labels = [r.title for r in racers] if labels is None else [str(label) for label in labels]
    if len(labels) != len(racers):
        raise ValueError(f"labels needs one label per optimizer: {len(racers)}, got {len(labels)}")
    sched = with_horizon(as_schedule(schedule), steps)
    check_horizon(sched, steps, "update")

    builders = [_racer_function(k + 1, racer, label, sched) for k, (racer, label) in enumerate(zip(racers, labels))]
    clips = any(r.max_grad_norm is not None for r in racers)
    parts = [
        _header(dataset, spec, racers, steps, n, noise, seed, batch_size, sched),
        "import copy\nimport json\nimport math\n\nimport numpy as np\nimport torch",
        _constants(n, noise, seed, steps, batch_size),
        inspect.getsource(GENERATORS[dataset]).strip("\n"),
        _data_function(dataset),
        _build_function(spec),
        f"loss_fn = {LOSSES[task]}",
        *builders,
        _racer_table(racers, labels, clips),
        _train_function(clips, sched),
        _main(clips),
    ]
    return parts[0] + "\n\n" + "\n\n\n".join(parts[1:]) + "\n"


def _header(dataset, spec, racers, steps, n, noise, seed, batch_size, sched) -> str:
    batches = "full batch" if batch_size is None or batch_size >= n else f"minibatches of {batch_size}"
    schedule = "" if sched is None else f", the lr scheduled by {sched.name}"
    return (
        f'"""{len(racers)} optimizer(s) training the MLP {spec.describe()} on {n} samples of {dataset} '
        f"(noise {noise:g}, seed {seed}):\n{steps} steps, {batches}{schedule}.\n\n"
        "Written by gdviz.network.network_script (the Networks page's Copy as PyTorch); needs only torch and numpy.\n"
        'Run it with `python network.py`: the last line it prints is {"labels": [...], "losses": [...]}, each\n'
        "racer's full-data loss at the start and after every step: the numbers the page drew when it trained on\n"
        "the CPU (a GPU's differ by rounding).\n"
        '"""'
    )


def _constants(n, noise, seed, steps, batch_size) -> str:
    return "\n".join(
        [
            f"SEED = {seed}  # draws the data, the initial weights and the minibatches",
            f"N = {n}  # samples",
            f"NOISE = {python_literal(noise)}",
            f"STEPS = {steps}",
            f"BATCH_SIZE = {batch_size!r}  # None: full batch; else minibatches, a new shuffle every epoch",
            f"DIVERGED = {python_literal(DIVERGENCE_FACTOR)}  # a loss this many times the start's (at least 1) "
            "ends a racer's run",
        ]
    )


def _data_function(dataset: str) -> str:
    name = GENERATORS[dataset].__name__
    return (
        "def make_data():\n"
        '    """X (N, inputs) and y (N, 1) as float32 tensors."""\n'
        f"    X, y = {name}(np.random.default_rng(SEED), N, NOISE)\n"
        "    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(np.asarray(y, dtype=np.float32)[:, None])"
    )


def _build_function(spec: MLP) -> str:
    act = "torch.nn.Tanh()" if spec.activation == "tanh" else "torch.nn.ReLU()"
    sizes = spec.sizes
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(f"        torch.nn.Linear({fan_in}, {fan_out}),")
        if k < len(sizes) - 2:
            layers.append(f"        {act},")
    return "\n".join(
        [
            "def build():",
            f'    """The MLP {spec.describe()}, torch\'s default initialisation."""',
            "    return torch.nn.Sequential(",
            *layers,
            "    )",
        ]
    )


def _racer_function(number: int, racer: Racer, label: str, sched) -> str:
    engine = engine_optimizer(racer.name, **dict(racer.hyper))
    if engine.needs_hessian:
        raise ValueError(f"{racer.title}: {engine.name} is offered on the 2-D surfaces, not on a network")
    line, custom = optimizer_line(engine)
    if custom is not None or not uses_torch_optim(engine.name, **engine.hyper):
        raise ValueError(
            f"{racer.title}: {engine.name} has no torch.optim class here; the page trains it with gdviz's own "
            "update (float64 on the host), which a standalone script would only approximate. Copy as PyTorch "
            "covers torch.optim's optimizers."
        )
    doc = json.dumps(label, ensure_ascii=False)[1:-1]
    lines = [f"def racer_{number}(params):", f'    """{doc}"""', f"    optimizer = {line}"]
    scheduler = "None"
    if sched is not None:
        lines.append(f"    scheduler = {_scheduler(sched, float(engine.lr), '    ')}")
        scheduler = "scheduler"
    lines.append(f"    return optimizer, {scheduler}")
    return "\n".join(lines)


def _racer_table(racers: list[Racer], labels: list[str], clips: bool) -> str:
    head = "# (label, builder, max_grad_norm or None)" if clips else "# (label, builder)"
    rows = [
        f"    ({python_literal(label)}, racer_{k + 1}"
        + (f", {python_literal(racer.max_grad_norm)})," if clips else "),")
        for k, (racer, label) in enumerate(zip(racers, labels))
    ]
    return "\n".join([head, "RACERS = [", *rows, "]"])


def _train_function(clips: bool, sched) -> str:
    params = "start, build_optimizer, X, y" + (", max_grad_norm" if clips else "")
    lines = [
        f"def train({params}):",
        '    """One racer from the start model: its full-data loss at the start and after every step."""',
        "    model = copy.deepcopy(start)",
        "    params = list(model.parameters())",
        "    optimizer, scheduler = build_optimizer(params)",
        "    generator = torch.Generator().manual_seed(SEED)  # every racer sees the same minibatches",
        "    n = len(X)",
        "    batch = n if BATCH_SIZE is None or BATCH_SIZE >= n else BATCH_SIZE",
        "    per_epoch = math.ceil(n / batch)",
        "    with torch.no_grad():",
        "        losses = [loss_fn(model(X), y).item()]",
        "    limit = DIVERGED * max(losses[0], 1.0)",
        "    for t in range(STEPS):",
        "        if batch == n:",
        "            xb, yb = X, y",
        "        else:",
        "            k = t % per_epoch",
        "            if k == 0:",
        "                order = torch.randperm(n, generator=generator)  # DataLoader(shuffle=True)'s draw",
        "            rows = order[k * batch : (k + 1) * batch]",
        "            xb, yb = X[rows], y[rows]",
        "        optimizer.zero_grad()",
        "        loss = loss_fn(model(xb), yb)",
        "        loss.backward()",
    ]
    if clips:
        lines += [
            "        if max_grad_norm is not None:",
            "            torch.nn.utils.clip_grad_norm_(params, max_grad_norm)",
        ]
    lines.append("        optimizer.step()")
    if sched is not None and sched.needs_metric:
        lines.append("        scheduler.step(loss.item())  # the minibatch loss before the step")
    elif sched is not None:
        lines.append("        scheduler.step()")
    lines += [
        "        with torch.no_grad():",
        "            full = loss_fn(model(X), y).item()",
        "        if not (math.isfinite(full) and full <= limit and all(torch.isfinite(p).all() for p in params)):",
        "            break  # diverged: the page stops this racer here too",
        "        losses.append(full)",
        "    return losses",
    ]
    return "\n".join(lines)


def _main(clips: bool) -> str:
    clip = ", max_grad_norm" if clips else ""
    return "\n".join(
        [
            'if __name__ == "__main__":',
            "    X, y = make_data()",
            "    torch.manual_seed(SEED)",
            "    start = build()  # the initial weights every racer starts from",
            "    labels, losses = [], []",
            f"    for label, build_optimizer{clip} in RACERS:",
            "        labels.append(label)",
            f"        losses.append(train(start, build_optimizer, X, y{clip}))",
            '    print(json.dumps({"labels": labels, "losses": losses}))',
        ]
    )


__all__ = ["network_script"]
