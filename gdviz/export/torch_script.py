"""A race as a standalone PyTorch script: the textbook training loop a student can read, run and edit.

``torch_script(surface, optimizers, ...)`` takes :func:`gdviz.race`'s arguments and returns the text
of a Python script that needs only torch and numpy. The script writes f in torch operations, builds
each racer with ``torch.optim`` (and ``torch.optim.lr_scheduler``), and runs

    optimizer.zero_grad(); loss = f(x); loss.backward(); <noise>; <clip_grad_norm_>; optimizer.step(); scheduler.step()

from every start, adding the same gradient noise gdviz adds (the same ``numpy`` generator and draws:
run r of every racer gets row r, as in the race). Its last line of output is one JSON object,
``{"labels": [...], "xs": [...]}``: every run's iterates, start included, one run per entry (a racer
raced from several starts gives one entry per start).

Its paths are gdviz's: tests/test_torch_script.py runs the scripts and compares them with the race to
1e-9 (chaotic paths: to torch's own sensitivity). Where a run diverges, gdviz freezes it and the
script simply stops that run once its iterate is no longer finite; the two agree up to ``diverged_at``.
A setting torch cannot express (a swept hyper-parameter, an option torch lacks and the script has no
class for) is a ValueError, never a wrong script.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from gdviz.export.torch_optimizers import TOP_K, compression_line, optimizer_line, python_literal
from gdviz.export.torch_surfaces import surface_function
from gdviz.optimizers.base import Optimizer
from gdviz.run import _as_start, _check_int, _check_noise
from gdviz.schedules.base import Schedule
from gdviz.schedules.sequential import SequentialLR

# d2l's schedules, which torch lacks, as the factor of a torch LambdaLR (t: the scheduler's step count)
LAMBDA_SCHEDULES = {
    "ExponentialDecay": lambda s: f"lambda t: math.exp(-{python_literal(s.p('lam'))} * t)",
    "PolynomialDecay": lambda s: (
        f"lambda t: ({python_literal(s.p('beta'))} * t + 1) ** (-{python_literal(s.p('alpha'))})"
    ),
}


def torch_script(
    surface,
    optimizers: Sequence[Optimizer],
    start: Any = None,
    steps: int = 100,
    schedule: Schedule | Sequence[Schedule | None] | None = None,
    noise: float | Sequence[float] | np.ndarray = 0.0,
    seed: int = 0,
    batch_size: int = 1,
    *,
    labels: Sequence[str] | None = None,
) -> str:
    """The race ``gdviz.race(surface, optimizers, start, steps, schedule, noise, seed, batch_size)`` as a
    standalone PyTorch script (text); ``labels`` name the racers in its output (default: from the settings).

    ``schedule`` is one schedule for every racer or a list with one per optimizer (None: constant lr),
    as in :func:`gdviz.race`. ValueError for anything the script could not reproduce.
    """
    from gdviz.surfaces.base import Surface

    if not isinstance(surface, Surface):
        raise ValueError("surface must be a gdviz Surface (see gdviz.surface or gdviz.custom_surface)")
    if isinstance(optimizers, Optimizer) or not optimizers or not all(isinstance(o, Optimizer) for o in optimizers):
        raise ValueError("optimizers must be a list of gdviz optimizers (see gdviz.optimizer)")
    optimizers = list(optimizers)
    steps = _check_int(steps, "steps", 0)
    seed = _check_int(seed, "seed", 0)
    batch_size = _check_int(batch_size, "batch_size", 1)
    sigma = _check_noise(noise, steps)
    x0 = _as_start(surface.default_start if start is None else start, surface.dim)
    starts = x0.reshape(-1, surface.dim)
    schedules = _per_racer(schedule, len(optimizers))
    labels = _labels(labels, optimizers, schedules)

    classes: dict[str, str] = {}
    compressions = [compression_line(opt) for opt in optimizers]
    compresses = any(c is not None for c in compressions)
    if compresses:
        classes["TopKCompression"] = TOP_K
    racers = []
    for i, (opt, sched, label) in enumerate(zip(optimizers, schedules, labels)):
        line, custom = optimizer_line(opt)
        if custom is not None:
            classes[custom.class_name] = custom.source
        compression = compressions[i] if compresses else ""
        racers.append(_racer_function(i + 1, label, line, sched, float(opt.lr), compression))
    clipping = [opt.max_grad_norm for opt in optimizers]
    noisy = bool(np.any(sigma > 0))
    plateau = any(s is not None and s.needs_metric for s in schedules)
    scheduled = any(s is not None for s in schedules)

    parts = [
        _header(surface, optimizers, starts, steps, sigma, batch_size, seed),
        _imports(noisy),
        _constants(starts, steps, sigma, seed, batch_size, noisy),
        surface_function(surface),
        *(source.strip("\n") for source in classes.values()),
        *racers,
        _racer_table(labels, clipping),
    ]
    if noisy:
        parts.append(_noise_function(isinstance(sigma, np.ndarray)))
    parts.append(_train_function(noisy, any(c is not None for c in clipping), scheduled, plateau, compresses))
    parts.append(_main(noisy, any(c is not None for c in clipping)))
    script = parts[0] + "\n\n" + "\n\n\n".join(parts[1:]) + "\n"
    if "math." not in script:
        script = script.replace("import math\n", "", 1)
    return script


# ---------------------------------------------------------------- checks


def _per_racer(schedule, count: int) -> list[Schedule | None]:
    if schedule is None or isinstance(schedule, Schedule):
        return [schedule] * count
    if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence):
        raise ValueError("schedule must be a gdviz schedule, None, or a list with one (or None) per optimizer")
    schedules = list(schedule)
    if len(schedules) != count or not all(s is None or isinstance(s, Schedule) for s in schedules):
        raise ValueError(f"a list of schedules needs one gdviz schedule (or None) per optimizer: {count} entries")
    return schedules


def _labels(labels, optimizers: list[Optimizer], schedules) -> list[str]:
    if labels is None:
        labels = [_auto_label(opt, sched) for opt, sched in zip(optimizers, schedules)]
    # a lone surrogate (which no file can hold) becomes visible text; every other character is kept
    labels = [str(label).encode("utf-8", "backslashreplace").decode("utf-8") for label in labels]
    if len(labels) != len(optimizers):
        raise ValueError(f"labels needs one label per optimizer: {len(optimizers)}, got {len(labels)}")
    return labels


def _auto_label(opt: Optimizer, sched: Schedule | None) -> str:
    changed = [
        f"{spec.name}={opt.hyper[spec.name]!r}"
        for spec in opt.spec
        if spec.name == "lr" or not np.array_equal(np.asarray(opt.hyper[spec.name]), np.asarray(spec.default))
    ]
    text = f"{opt.name}({', '.join(changed)})"
    if opt.max_grad_norm is not None:
        text += f" clip {opt.max_grad_norm:g}"
    if getattr(opt, "compression", None) is not None:
        text += f" top-{opt.compression.k}"
    return text if sched is None else f"{text} + {sched.name}"


# ---------------------------------------------------------------- the script's parts


def _header(surface, optimizers, starts, steps, sigma, batch_size, seed) -> str:
    noise = "no gradient noise"
    if np.any(sigma > 0):
        shown = f"sigma = {float(sigma):g}" if not isinstance(sigma, np.ndarray) else "a sigma per step"
        noise = f"gradient noise N(0, sigma^2 / batch_size), {shown}, batch_size {batch_size}, seed {seed}"
    title = " ".join(str(surface.title).split()).replace('"""', "'''").replace("\\", "/")
    runs = f"{len(starts)} starts" if len(starts) > 1 else "one start"
    return (
        f'"""{len(optimizers)} optimizer(s) racing on {title}: {steps} steps from {runs}, {noise}.\n\n'
        "Written by gdviz.torch_script; needs only torch and numpy. Run it with `python race.py`: the last\n"
        'line it prints is {"labels": [...], "xs": [...]}, every run\'s iterates (start included), which are\n'
        "the paths gdviz drew.\n"
        '"""'
    )


def _imports(noisy: bool) -> str:
    lines = ["import json", "import math", ""]
    if noisy:
        lines.append("import numpy as np")
    lines.append("import torch")
    return "\n".join(lines)


def _constants(starts, steps, sigma, seed, batch_size, noisy) -> str:
    lines = [f"STEPS = {steps}", f"STARTS = {python_literal(starts.tolist())}  # one run per start"]
    if noisy:
        if isinstance(sigma, np.ndarray):
            lines.append(f"NOISE_SIGMAS = {python_literal(sigma.tolist())}  # sigma of step t is entry t-1")
        else:
            lines.append(f"NOISE = {python_literal(float(sigma))}  # sigma of the gradient noise")
        lines += [f"BATCH_SIZE = {batch_size}", f"SEED = {seed}"]
    return "\n".join(lines)


def _racer_function(
    number: int, label: str, optimizer: str, sched: Schedule | None, base_lr: float, compression: str | None
) -> str:
    """``racer_<number>(params)``: the optimizer and its scheduler (or None), and with ``compression`` (a
    TopKCompression expression, None for none, "" when no racer compresses) the gradient compression."""
    doc = json.dumps(label, ensure_ascii=False)[1:-1]  # quotes, backslashes and control characters escaped
    lines = [f"def racer_{number}(params):", f'    """{doc}"""', f"    optimizer = {optimizer}"]
    scheduler = "None"
    if sched is not None:
        lines.append(f"    scheduler = {_scheduler(sched, base_lr, '    ')}")
        scheduler = "scheduler"
    extra = "" if compression == "" else f", {compression}"
    lines.append(f"    return optimizer, {scheduler}{extra}")
    return "\n".join(lines)


def _scheduler(sched: Schedule, base_lr: float, indent: str) -> str:
    """The expression building ``sched`` on ``optimizer``."""
    if isinstance(sched, SequentialLR):
        inner = indent + "    "
        subs = "".join(f"{inner}    {_scheduler(s, base_lr, inner + '    ')},\n" for s in sched.schedulers)
        milestones = python_literal(list(sched.p("milestones")))
        return (
            f"torch.optim.lr_scheduler.SequentialLR(\n{inner}optimizer,\n{inner}[\n{subs}{inner}],\n"
            f"{inner}milestones={milestones},\n{indent})"
        )
    if sched.name in LAMBDA_SCHEDULES:
        factor = LAMBDA_SCHEDULES[sched.name](sched)
        return f"torch.optim.lr_scheduler.LambdaLR(optimizer, {factor})  # d2l 12.4: {sched.formula}"
    if sched.torch_class is None:
        raise ValueError(f"torch_script has no torch version of the schedule {sched.name!r}")
    kwargs = sched.torch_kwargs(base_lr)
    args = "".join(f", {name}={python_literal(value)}" for name, value in kwargs.items())
    return f"torch.optim.lr_scheduler.{sched.torch_class}(optimizer{args})"


def _racer_table(labels: list[str], clipping: list[float | None]) -> str:
    clips = any(c is not None for c in clipping)
    head = "# (label, builder, max_grad_norm or None)" if clips else "# (label, builder)"
    rows = [
        f"    ({python_literal(label)}, racer_{i + 1}" + (f", {python_literal(clip)})," if clips else "),")
        for i, (label, clip) in enumerate(zip(labels, clipping))
    ]
    return "\n".join([head, "RACERS = [", *rows, "]"])


def _noise_function(per_step: bool) -> str:
    scale = (
        "np.array(NOISE_SIGMAS) / math.sqrt(BATCH_SIZE)\n    noise = draws * scale[:, None]"
        if per_step
        else "NOISE / math.sqrt(BATCH_SIZE)\n    noise = draws * scale"
    )
    return (
        "def gradient_noise(runs, dim):\n"
        '    """(runs, STEPS, dim) noise for the gradients: run r of every racer gets row r (d2l 12.4).\n\n'
        "    A minibatch of size b averages b per-example gradients, so the noise's sigma shrinks by sqrt(b).\n"
        '    """\n'
        "    draws = np.random.default_rng(SEED).standard_normal((runs, STEPS, dim))\n"
        f"    scale = {scale}\n"
        "    return torch.from_numpy(noise)"
    )


def _train_function(noisy: bool, clips: bool, scheduled: bool, plateau: bool, compresses: bool) -> str:
    params = ["build", "start"] + (["max_grad_norm"] if clips else []) + (["noise"] if noisy else [])
    lines = [
        f"def train({', '.join(params)}):",
        '    """One run: the iterates of the optimizer that build() makes, from start, for STEPS steps."""',
        "    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)",
        "    optimizer, scheduler, compress = build([x])" if compresses else "    optimizer, scheduler = build([x])",
        "    path = [x.tolist()]",
        "    for t in range(STEPS):",
        "        optimizer.zero_grad()",
        "        loss = f(x)",
        "        loss.backward()",
    ]
    if noisy:
        lines += ["        with torch.no_grad():", "            x.grad += noise[t]  # a stochastic gradient"]
    if clips:
        lines += [
            "        if max_grad_norm is not None:",
            "            torch.nn.utils.clip_grad_norm_([x], max_grad_norm)",
        ]
    if compresses:
        lines += [
            "        if compress is not None:",
            "            with torch.no_grad():",
            "                x.grad = compress(x.grad, x)  # what the worker sends",
        ]
    lines.append("        optimizer.step()")
    if plateau:
        lines += [
            "        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):",
            "            scheduler.step(loss.item())  # the loss before the step",
            "        elif scheduler is not None:",
            "            scheduler.step()",
        ]
    elif scheduled:
        lines += ["        if scheduler is not None:", "            scheduler.step()"]
    lines += [
        "        if not torch.isfinite(x).all():",
        "            break  # diverged: the rest of this run would be nan",
        "        path.append(x.tolist())",
        "    return path",
    ]
    return "\n".join(lines)


def _main(noisy: bool, clips: bool) -> str:
    clip = ", max_grad_norm" if clips else ""
    lines = ['if __name__ == "__main__":', "    labels, paths = [], []"]
    if noisy:
        lines.append("    noise = gradient_noise(len(STARTS), len(STARTS[0]))")
    lines += [
        f"    for label, build{clip} in RACERS:",
        "        for run, start in enumerate(STARTS):",
        '            labels.append(label if len(STARTS) == 1 else f"{label} from {tuple(start)}")',
        f"            paths.append(train(build, start{clip}" + (", noise[run]))" if noisy else "))"),
        '    print(json.dumps({"labels": labels, "xs": paths}))',
    ]
    return "\n".join(lines)


__all__ = ["torch_script"]
