"""Landscape Lab speed: the two grid computations the issue sets targets for, as the page runs them.

Targets (issue: Schedules and Landscape Lab pages), server compute on a 2-core machine:
  1. a 128 x 128 stability map x 300 steps (SGD, lr x momentum, on Rosenbrock): <= 1 s;
  2. a 200 x 200 basin map x 500 steps (SGD on Himmelblau, attractor search included): <= 2 s.
The page draws basins for two optimizers side by side in one call; that time is printed too.

Shared machines are noisy, so every timing is the best of several rounds, and each round also times a
plain NumPy reference kernel (elementwise arithmetic on arrays of the same size) right before the
case: the ratio of the two moves much less with the machine's load than the seconds do.

Run: python benchmarks/landscape.py [--quick] [--check]   (--check: exit status 1 when a target is missed)
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
from gdviz import landscape  # noqa: E402


def numpy_reference() -> float:
    """One timing of a fixed NumPy workload: 100 steps of a few elementwise operations on (16384, 2)
    arrays, the shape and kind of work of a stability map, without any gdviz code (~40 ms idle)."""
    x = np.random.default_rng(0).standard_normal((128 * 128, 2))
    lr = np.linspace(1e-4, 1e-2, 128 * 128)[:, None]
    tick = time.perf_counter()
    y, v = x.copy(), np.zeros_like(x)
    for _ in range(100):
        g = 2.0 * y + np.sin(y)
        v = 0.9 * v + g
        y = y - lr * v
        np.isfinite(y).all()
    return time.perf_counter() - tick


def measure(repeats: int, fn) -> tuple[float, float, float]:
    """(fastest time, smallest time / reference, fastest reference) over ``repeats`` rounds, each
    timing the reference right before the case, so that both see the same load."""
    times, ratios, references = [], [], []
    for _ in range(repeats):
        reference = min(numpy_reference() for _ in range(2))
        tick = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - tick
        times.append(elapsed)
        references.append(reference)
        ratios.append(elapsed / reference)
    return min(times), min(ratios), min(references)


def stability_case() -> None:
    surface = gdviz.surface("rosenbrock")
    landscape.stability_map(
        surface,
        "SGD",
        {},
        ("lr", np.geomspace(1e-5, 2e-3, 128)),
        ("momentum", np.linspace(0.0, 0.99, 128)),
        start=(-1.5, 2.0),
        steps=300,
    )


def basin_case(names: list[tuple[str, dict]]) -> None:
    surface = gdviz.surface("himmelblau")
    optimizers = [gdviz.optimizer(name, **hyper) for name, hyper in names]
    landscape.compare_basins(surface, optimizers, grid=200, steps=500)


def line(
    label: str, measured: tuple[float, float, float], target: float | None, quiet_reference: float, targets: Targets
) -> None:
    """Raw best time, the time in reference units, and that ratio times the quietest reference of
    the run: the time the case would take at the least loaded moment seen (what the target is held to)."""
    seconds, ratio, _ = measured
    adjusted = ratio * quiet_reference
    verdict = ""
    if target is not None:
        verdict = f"target <= {target:g} s: raw {seconds / target:4.2f}, adjusted {adjusted / target:4.2f} of it"
        verdict += "  " + targets.verdict(f"{label} <= {target:g} s", adjusted <= target)
    print(f"  {label:<52} {seconds * 1e3:8.1f} ms  {ratio:6.1f} x ref  adjusted {adjusted * 1e3:7.1f} ms  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one repeat each (a smoke test)")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    repeats = 1 if args.quick else 5
    stability_case()  # warm-up: imports, first touch of memory, the attractor search's code paths
    basin_case([("SGD", {"lr": 0.01})])
    stability = measure(repeats, stability_case)
    one = measure(repeats, lambda: basin_case([("SGD", {"lr": 0.01})]))
    two = measure(repeats, lambda: basin_case([("SGD", {"lr": 0.01}), ("Adam", {"lr": 0.1})]))
    quiet = min(m[2] for m in (stability, one, two))
    print(f"NumPy reference kernel: quietest {quiet * 1e3:.1f} ms (best of {repeats} rounds; each case is")
    print("timed right after a reference, and 'adjusted' = (case / its reference) x quietest reference)")
    line("stability map 128x128 x 300 steps (SGD, rosenbrock)", stability, 1.0, quiet, targets)
    line("basin map 200x200 x 500 steps (SGD, himmelblau)", one, 2.0, quiet, targets)
    line("basin maps 2 x 200x200 x 500 steps (SGD + Adam)", two, None, quiet, targets)
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
