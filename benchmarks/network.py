"""Benchmark of the Networks page's engine (issue 16): training every racer plus the loss grid, and the grid
evaluated in one batched pass (Evaluator.plane_losses: the first layer fused over the whole grid, the deeper
layers one batched product per cache-sized chunk) against a Python loop over the grid points.

Targets, the page's default (moons, 200 samples, MLP 2 → 32 → 32 → 1 tanh: 1,185 weights; SGD, SGD with
momentum and Adam, 200 full-batch steps; a 41 × 41 PCA grid), on one torch thread as the server computes:
  - training all racers plus the grid (and the loss under every projected iterate) <= 3 s on the CPU;
  - the batched grid at least 10× faster than the loop, both measured in this run, on the same points.
With a GPU (--device cuda, or auto where there is one) the same is measured there and the CPU's numbers are
printed beside it with the speed-up.

Run: python benchmarks/network.py [--device auto|cpu|cuda] [--grid 41] [--no-model] [--fit] [--check]
(--check: exit status 1 when a target is missed). On a machine shared with other work the seconds are the
busy machine's; the batched/loop ratio is measured in one run and holds better.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from gdviz import network  # noqa: E402

RACERS = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})]
TOTAL_TARGET_S = 3.0
SPEEDUP_TARGET = 10.0


def measure(device: str, grid: int, steps: int) -> dict[str, float]:
    data = network.make_dataset("moons", 200, noise=0.1, seed=0)
    spec = network.MLP(inputs=2, width=32, depth=2)
    network.train_racers(data, spec, ["SGD"], steps=2, device=device)  # warm-up: torch's lazy imports, kernels
    started = time.perf_counter()
    paths = network.train_racers(data, spec, RACERS, steps=steps, device=device)
    trained = time.perf_counter()
    view = network.landscape(paths, data, grid=grid, device=device)
    total = time.perf_counter() - started
    a, b = np.meshgrid(view.alphas, view.betas)
    points = view.plane.points(np.column_stack([a.ravel(), b.ravel()]))
    evaluator = network.Evaluator(spec, data, device)
    evaluator.plane_losses(view.plane, view.alphas[:3], view.betas[:3])  # warm-up of the batched passes
    evaluator.losses(points[:8])
    best_batched = best_rows = best_loop = float("inf")
    cpu_batched = cpu_loop = float("inf")  # the thread's CPU time: what a busy machine's preemption leaves out
    for _ in range(4):  # interleaved, best of each: a shared machine's load then weighs on both alike
        t0, c0 = time.perf_counter(), time.thread_time()
        batched = evaluator.plane_losses(view.plane, view.alphas, view.betas).ravel()
        best_batched = min(best_batched, time.perf_counter() - t0)
        cpu_batched = min(cpu_batched, time.thread_time() - c0)
        t0 = time.perf_counter()
        rows = evaluator.losses(points)
        best_rows = min(best_rows, time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.thread_time()
        loop = evaluator.loop_losses(points)
        best_loop = min(best_loop, time.perf_counter() - t0)
        cpu_loop = min(cpu_loop, time.thread_time() - c0)
    for found in (batched, rows):
        if not np.allclose(found, loop, rtol=1e-5, atol=1e-7):
            raise SystemExit("the batched grid and the loop disagree: the benchmark compares different numbers")
    return dict(
        train=trained - started,
        grid_in_landscape=view.seconds,
        total=total,
        batched=best_batched,
        rows=best_rows,
        loop=best_loop,
        cpu_batched=cpu_batched,
        cpu_loop=cpu_loop,
        weights=spec.parameters,
        captured=view.captured,
    )


def has_avx512() -> bool:
    """Whether this processor runs AVX-512 (Skylake-X's set: F, CD, BW, DQ, VL), as NumPy detected it."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        return False
    return bool(features.get("AVX512_SKX"))


def blas_report() -> str:
    """Which kernels NumPy's OpenBLAS runs (the grid's products are NumPy's on the CPU), who chose them, and
    whether they leave the processor's AVX-512 unused. This project's machines have set OPENBLAS_CORETYPE=Haswell
    (AVX2) in the environment; on the AMD EPYC of one of them, unset (OpenBLAS's own choice) or SkylakeX doubled
    its sgemm (122 -> 236 GFLOP/s) and took the grid from 14 to 10.7 ms (8.5x -> 11.5x the loop)."""
    from ui.regression.budget import blas_core

    core, forced = blas_core(), os.environ.get("OPENBLAS_CORETYPE")
    line = f"NumPy's OpenBLAS kernels: {core or 'unknown'}"
    line += f" (OPENBLAS_CORETYPE={forced} in the environment)" if forced else " (OpenBLAS's choice for this processor)"
    if core in ("Haswell", "Zen") and has_avx512():
        line += "; they are AVX2, and this processor has AVX-512 (OPENBLAS_CORETYPE=SkylakeX runs those kernels)"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--grid", type=int, default=41)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument(
        "--no-model", dest="model", action="store_false", help="leave out the page's cost model against the measured"
    )
    parser.add_argument(
        "--fit", action="store_true", help="only fit the cost model's rates (ui/limits.py) to this machine (~40 s)"
    )
    add_check_option(parser)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # the server's setting: one visitor, one core (ui/regression/compute.py)
    from ui.regression.budget import numpy_on_one_thread

    # NumPy's BLAS on one thread, as the page computes the landscape (ui/network/compute.py): with two on this
    # busy machine one run's landscape (its PCA is an eigh) took 4.6 s instead of about 0.1 s
    with numpy_on_one_thread():
        if args.fit:
            fit_cost_model()
            return 0
        return _run(args)


def _run(args) -> int:
    targets = Targets(enforced=args.check)
    from gdviz.regression import resolve_device

    devices = ["cpu", str(resolve_device(args.device))]
    results = {}
    for device in dict.fromkeys(devices):
        found = measure(device, args.grid, args.steps)
        results[device] = found
        speedup = found["loop"] / found["batched"]
        print(
            f"[{device}] {len(RACERS)} racers × {args.steps} steps, MLP of {found['weights']:,} weights, {args.grid}² grid"
        )
        print(f"  training                  {found['train']:7.3f} s")
        print(
            f"  grid + projected iterates {found['total'] - found['train']:7.3f} s (grid alone {found['grid_in_landscape']:.3f} s)"
        )
        verdict = targets.verdict(
            f"{device}: training + grid <= {TOTAL_TARGET_S:g} s", found["total"] <= TOTAL_TARGET_S
        )
        print(f"  training + grid           {found['total']:7.3f} s   target <= {TOTAL_TARGET_S:g} s: {verdict}")
        print(f"  grid batched (plane)      {found['batched'] * 1e3:7.1f} ms")
        print(f"  same points as weight rows {found['rows'] * 1e3:6.1f} ms (a baddbmm per layer over weight vectors)")
        print(f"  grid Python loop          {found['loop'] * 1e3:7.1f} ms")
        verdict = targets.verdict(f"{device}: batched >= {SPEEDUP_TARGET:g}x the loop", speedup >= SPEEDUP_TARGET)
        print(f"  batched / loop speed-up   {speedup:7.1f} x   target >= {SPEEDUP_TARGET:g}x: {verdict}")
        if device == "cpu":  # a GPU's work is not the thread's
            print(
                f"  (on the thread's CPU time: batched {found['cpu_batched'] * 1e3:.1f} ms, loop {found['cpu_loop'] * 1e3:.1f} ms,"
                f" {found['cpu_loop'] / found['cpu_batched']:.1f}x)"
            )
        print(f"  the plane holds {found['captured']:.1%} of the paths' variance")
    print(blas_report())
    if args.model:
        cost_model_report()
    if len(results) == 2:
        (cpu, gpu) = results.values()
        print(
            f"GPU vs CPU: training {cpu['train'] / gpu['train']:.2f}x, batched grid {cpu['batched'] / gpu['batched']:.2f}x"
        )
    return targets.finish()


# the page's settings the cost model is compared on: (data, samples, width, depth, steps, grid, racers, batch)
MODEL_CASES = [
    ("moons", 200, 32, 2, 200, 41, 3, None),  # the default
    ("spirals", 200, 48, 2, 300, 41, 3, None),
    ("moons", 1000, 32, 2, 300, 41, 3, 32),
    ("spirals", 1000, 64, 2, 150, 61, 4, None),
    ("moons", 500, 64, 4, 50, 41, 4, None),
]


def cost_model_report() -> None:
    """The Networks page's cost model (ui/limits.py, ui/network/compute.estimated_cost) beside the thread's CPU
    seconds the page's own calls take here (compute.train_race, compute.picture_of), for a few settings: the
    model's constants are this project's 2-core machine's; on another, the ratios tell how far they are off."""
    from gdviz.network.training import as_racer

    try:
        compute = _page_compute()
    except ImportError as error:  # a GPU machine with torch and NumPy alone (benchmarks/cuda_check.sh)
        print(f"cost model: not compared ({error}: the page's modules need the app's requirements)")
        return

    racers = tuple(as_racer(r) for r in RACERS + [("RMSprop", {"lr": 1e-3})])
    print("cost model (estimate / measured, CPU seconds of this thread):")
    for data, n, width, depth, steps, grid, count, batch in MODEL_CASES:
        setting = compute.Setting(
            data=data, n=n, noise=0.1, seed=0, width=width, depth=depth, activation="tanh",
            racers=racers[:count], schedule=None, steps=steps, batch_size=batch, plane="pca", centre="start",
            grid=grid, device="cpu",
        )  # fmt: skip
        cost = compute.estimated_cost(setting)
        started = time.thread_time()
        paths = compute.train_race(setting)
        trained = time.thread_time()
        compute.picture_of(setting, paths.done, paths)
        pictured = time.thread_time()
        train, picture = trained - started, pictured - trained
        print(
            f"  {data} n={n} {width}×{depth} ({setting.spec.parameters:,} weights), {count} racers × {steps} steps"
            f"{f', batches of {batch}' if batch else ''}, {grid}² grid: training {cost.training:.2f} / {train:.2f} s"
            f" ({cost.training / train:.2f}), picture {cost.picture:.2f} / {picture:.2f} s ({cost.picture / picture:.2f})"
        )


def _page_compute():
    """ui.network.compute, with Streamlit's warnings (its caches, at every call, say no app is running) off."""
    import logging

    logging.disable(logging.WARNING)
    from ui.network import compute

    return compute


# the pictures the rates are fitted to: the smaller ones cost mostly a few fixed passes the model leaves out, and
# the caps are about the large ones
MIN_FITTED_PICTURE_SECONDS = 0.1


def fit_cost_model() -> None:
    """Fit the cost model's rates (ui/limits.py) to races and pictures measured here: the seconds of each of a
    setting's counted work (ui.network.compute.Work) by least squares on the relative error, the training from
    40 races of three racers and the picture from 33 pictures; with the ratios the constants in use give."""
    from gdviz.network.training import as_racer

    compute = _page_compute()
    from ui import limits

    trios = [("SGD", "SGD", "Adam"), ("RMSprop", "Yogi", "Lion"), ("Adagrad", "NAdam", "AdamW")]
    races = [(n, w, d, None, 150) for n in (50, 200, 1000) for w in (4, 16, 32, 64) for d in (1, 2, 4)]
    races += [(1000, 32, 2, 32, 150), (1000, 64, 2, 1, 150), (500, 64, 3, 64, 150), (200, 32, 2, 16, 150)]
    pictures = [
        (n, w, d, grid, steps)
        for n in (50, 300, 1000)
        for w, d in ((8, 1), (32, 2), (64, 2), (64, 4))
        for grid, steps in ((21, 40), (41, 150), (61, 60))
    ]

    def setting(k, n, width, depth, batch, steps, grid=11):
        racers = tuple(as_racer((name, {"lr": 1e-3})) for name in trios[k % len(trios)])
        return compute.Setting(
            data="spirals", n=n, noise=0.1, seed=0, width=width, depth=depth, activation="tanh", racers=racers,
            schedule=None, steps=steps, batch_size=batch, plane="pca", centre="start", grid=grid, device="cpu",
        )  # fmt: skip

    def fit(rows, seconds, in_use, names):
        A, y = np.array(rows, dtype=float), np.array(seconds)
        coefficients, *_ = np.linalg.lstsq(A / y[:, None], np.ones_like(y), rcond=None)
        print("  fitted: " + ", ".join(name(c) for name, c in zip(names, coefficients)))
        print(f"  fitted / measured {np.min(A @ coefficients / y):.2f}-{np.max(A @ coefficients / y):.2f}")
        print(f"  in use / measured {np.min(A @ in_use / y):.2f}-{np.max(A @ in_use / y):.2f}")

    compute.train_race(setting(0, 20, 2, 1, None, 3))  # torch's first kernels
    rows, seconds = [], []
    for k, (n, width, depth, batch, steps) in enumerate(races):
        race = setting(k, n, width, depth, batch, steps)
        started = time.thread_time()
        compute.train_race(race)
        seconds.append(time.thread_time() - started)
        rows.append(compute.work_of(race).training)
    print(f"training, {len(races)} races of three racers:")
    in_use = [
        limits.NETWORK_LAYER_STEP_SECONDS,
        1 / limits.NETWORK_TRAIN_MACS_PER_SECOND,
        limits.NETWORK_ACTIVATION_SECONDS,
    ]
    names = [
        lambda c: f"{c * 1e3:.3f} ms a layer-step",
        lambda c: f"{1 / c:.3g} multiply-adds/s",
        lambda c: f"{c * 1e9:.2f} ns an activation",
    ]
    fit(rows, seconds, in_use, names)
    rows, seconds = [], []
    for k, (n, width, depth, grid, steps) in enumerate(pictures):
        shown = setting(k, n, width, depth, None, steps, grid)
        if len(shown.racers) * (steps + 1) * shown.spec.parameters > limits.NETWORK_MAX_RECORDED:
            continue
        paths = compute.train_race(shown)
        started = time.thread_time()
        compute.picture_of(shown, paths.done, paths)
        took = time.thread_time() - started
        if took >= MIN_FITTED_PICTURE_SECONDS:
            seconds.append(took)
            rows.append(compute.work_of(shown).picture)
    print(f"picture, the {len(rows)} of {len(pictures)} pictures that took {MIN_FITTED_PICTURE_SECONDS} s or more:")
    in_use = [
        1 / limits.NETWORK_GRID_MACS_PER_SECOND,
        1 / limits.NETWORK_FUNCTION_MACS_PER_SECOND,
        1 / limits.NETWORK_PCA_MACS_PER_SECOND,
    ]
    rate = lambda what: lambda c: f"{what} {1 / c:.3g} multiply-adds/s"  # noqa: E731
    fit(rows, seconds, in_use, [rate("grid"), rate("function"), rate("PCA")])


if __name__ == "__main__":
    sys.exit(main())
