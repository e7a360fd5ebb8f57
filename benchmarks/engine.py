"""Engine speed against torch.optim, measured in the same process (machines here are noisy).

Targets (issue: the gdviz engine):
  1. a race of 8 different optimizers x 1000 steps on Rosenbrock: >= 30x faster than the
     equivalent torch.optim loops with autograd (which, like the race, record every step's iterate,
     loss, gradient, lr and optimizer state);
  2. a 128 x 128 grid of (lr, momentum) x 300 steps of SGD-momentum on Rosenbrock as one vectorized
     call: < 1 s, and >= 2000x faster than torch.optim loops (extrapolated from a measured sample).

Run: python benchmarks/engine.py [--quick] [--check]   (--check: exit status 1 when a target is missed)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gdviz  # noqa: E402
from benchmarks.targets import Targets, add_check_option  # noqa: E402

RACE = [
    ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("Adagrad", {"lr": 0.1}),
    ("RMSprop", {"lr": 1e-3}),
    ("Adadelta", {"lr": 1.0}),
    ("Adam", {"lr": 1e-2}),
    ("AdamW", {"lr": 1e-2}),
    ("NAdam", {"lr": 1e-2}),
    ("RAdam", {"lr": 1e-2}),
]
START = (-1.5, 2.0)


def best_of(repeats: int, fn) -> float:
    """The fastest of several timings: the least disturbed by other work on the machine."""
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tick)
    return min(times)


def torch_loop(name: str, hyper: dict, steps: int, start=START, record: bool = True) -> dict:
    """The torch.optim loop a user writes to get what ``gdviz.race`` returns, or (record=False) just the run.

    Recording keeps, per step, the iterate, the loss, the gradient, the lr and a copy of the
    optimizer's state tensors (plus the final loss), as our race does; without it only the final
    iterate is left, as with ``record="final"``.
    """
    import torch

    def rosenbrock(p):
        x, y = p[0], p[1]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([param], **hyper)
    xs, losses, grads, lrs, states = [param.detach().clone()], [], [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(param)
        loss.backward()
        if record:
            losses.append(loss.item())
            grads.append(param.grad.clone())
            lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if record:
            xs.append(param.detach().clone())
            states.append({key: value.clone() for key, value in opt.state[param].items()})
    if record:
        with torch.no_grad():
            losses.append(rosenbrock(param).item())
    return {"xs": xs, "losses": losses, "grads": grads, "lrs": lrs, "states": states}


def bench_race(steps: int, repeats: int, targets: Targets) -> float:
    surface = gdviz.surface("rosenbrock")
    optimizers = [gdviz.optimizer(name, **hyper) for name, hyper in RACE]
    ours = best_of(repeats, lambda: gdviz.race(surface, optimizers, start=START, steps=steps))
    torch_repeats = max(1, repeats // 2)
    theirs = best_of(torch_repeats, lambda: [torch_loop(name, hyper, steps) for name, hyper in RACE])
    bare = best_of(torch_repeats, lambda: [torch_loop(name, hyper, steps, record=False) for name, hyper in RACE])
    ratio = theirs / ours
    print(f"race   8 optimizers x {steps} steps on rosenbrock (best of {repeats} / {torch_repeats})")
    print(f"       gdviz.race       {ours * 1e3:9.1f} ms   (every iterate, loss, gradient, lr and state array)")
    print(f"       torch.optim loop {theirs * 1e3:9.1f} ms   (autograd, recording the same per step)")
    met = targets.verdict("race >= 30x torch.optim", ratio >= 30)
    print(f"       speed-up         {ratio:9.1f}x   (target >= 30x)  {met}")
    print(f"       (torch without recording {bare * 1e3:.1f} ms: {bare / ours:.1f}x)")
    return ratio


def bench_sweep(side: int, steps: int, sample: int, repeats: int, targets: Targets) -> tuple[float, float]:
    surface = gdviz.surface("rosenbrock")
    lr_axis = np.geomspace(1e-5, 2e-3, side)
    momentum_axis = np.linspace(0.0, 0.99, side)
    lr, momentum = (a.ravel() for a in np.meshgrid(lr_axis, momentum_axis))
    starts = np.tile(START, (lr.size, 1))

    def sweep(record):
        opt = gdviz.optimizer("SGD", lr=lr, momentum=momentum)
        return gdviz.run(surface, opt, start=starts, steps=steps, record=record)

    # the stability map keeps only each run's final loss; "all" also keeps every iterate, gradient and
    # momentum buffer (~300 MB here, whose first touch costs more than the arithmetic)
    ours = best_of(repeats, lambda: sweep("final"))
    ours_all = best_of(1, lambda: sweep("all"))
    picks = np.random.default_rng(0).choice(lr.size, size=sample, replace=False)
    tick = time.perf_counter()
    for i in picks:
        torch_loop("SGD", {"lr": float(lr[i]), "momentum": float(momentum[i])}, steps, record=False)
    per_run = (time.perf_counter() - tick) / sample
    theirs = per_run * lr.size
    ratio = theirs / ours
    print(f"sweep  {side}x{side} (lr, momentum) x {steps} steps of SGD-momentum on rosenbrock, one call")
    print(
        f"       gdviz.run        {ours * 1e3:9.1f} ms   (target < 1000 ms)  {targets.verdict('sweep < 1 s', ours < 1)}"
    )
    print(f"       (record='all'    {ours_all * 1e3:9.1f} ms: every iterate, gradient and state kept)")
    print(f"       torch.optim      {theirs:9.1f} s    ({sample} loops measured, {per_run * 1e3:.1f} ms each)")
    met = targets.verdict("sweep >= 2000x torch.optim", ratio >= 2000)
    print(f"       speed-up         {ratio:9.0f}x   (target >= 2000x)  {met}")
    return ours, ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller samples (a smoke test)")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    repeats = 1 if args.quick else 5
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead to the torch side
    bench_race(steps=1000, repeats=repeats, targets=targets)
    bench_sweep(side=128, steps=300, sample=4 if args.quick else 20, repeats=1 if args.quick else 3, targets=targets)
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
