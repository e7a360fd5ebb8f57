"""Linear-regression training speed, measured against the seed-style loop in the same process.

Targets (issue: the Linear Regression page):
  1. CPU: one epoch of minibatch SGD (b = 64) on 1M samples with ``gdviz.regression.train`` at least
     5x faster than the seed-style loop (torch DataLoader + nn.Linear + nn.MSELoss + optim.SGD).
  2. GPU (when CUDA exists): full-batch GD on >= 100M samples; the achieved GB/s next to the device's
     measured copy bandwidth. Skipped, with a line saying so, where there is no CUDA.

The seed-style epoch is long (a DataLoader collates every batch sample by sample), so by default it
is timed on a prefix of the epoch's batches and scaled to the full epoch; ``--full`` times it whole.

With ``--cost`` it measures instead what the page's budgets rest on (issue 17): the CPU seconds per
update of representative runs against :mod:`gdviz.regression.cost`'s estimate (the coefficients there
come from these lines), and with ``--links`` the CPU seconds and peak memory growth of opening the
heaviest Linear Regression links (each in a fresh process, through AppTest, after a warm-up page).

Run: python benchmarks/regression.py [--quick] [--full] [--gpu-samples N] [--cost] [--links] [--check]
(--check: exit status 1 when the CPU target is missed; --cost and --links have no target)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from gdviz import regression as reg  # noqa: E402
from gdviz.regression.device import copy_bandwidth, synchronize  # noqa: E402

BATCH = 64


def seed_style_epoch(X, y, batch: int, max_batches: int | None) -> tuple[float, int]:
    """Seconds and batches of the seed's loop over a shuffled DataLoader (``max_batches`` of them at most)."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch, shuffle=True)
    model = nn.Linear(X.shape[1], 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    loss_fn = nn.MSELoss()
    done = 0
    start = time.perf_counter()
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        done += 1
        if max_batches is not None and done >= max_batches:
            break
    return time.perf_counter() - start, done


def cpu_target(n: int, repeats: int, full: bool, targets: Targets) -> float:
    X, y = reg.make_data(n, seed=0)
    batches = math.ceil(n / BATCH)
    reg.train(X[:10_000], y[:10_000], "SGD", lr=1e-4, batch_size=BATCH, epochs=1)  # warm-up
    ours = min(
        reg.train(X, y, "SGD", lr=1e-4, batch_size=BATCH, epochs=1, seed=r, curve_points=1).seconds
        for r in range(repeats)
    )
    sample = None if full else min(batches, 2000)
    seed_times = []
    for _ in range(repeats):
        seconds, done = seed_style_epoch(X, y, BATCH, sample)
        seed_times.append(seconds * batches / done)
    seed = min(seed_times)
    scope = "timed whole" if full else f"timed on {sample:,} of {batches:,} batches, scaled"
    print(f"CPU, {n:,} samples, b = {BATCH}, one epoch ({batches:,} updates), {torch.get_num_threads()} threads")
    print(f"  seed-style DataLoader loop : {seed:8.3f} s/epoch  ({seed / batches * 1e6:6.1f} µs/update; {scope})")
    print(f"  gdviz.regression.train     : {ours:8.3f} s/epoch  ({ours / batches * 1e6:6.1f} µs/update)")
    ratio = seed / ours
    met = targets.verdict("CPU epoch >= 5x the DataLoader loop", ratio >= 5)
    print(f"  speed-up                   : {ratio:8.1f}x   (target >= 5x)  {met}")
    return ratio


def gpu_target(n: int, epochs: int) -> None:
    if not torch.cuda.is_available():
        print("GPU: no CUDA device here; the full-batch bandwidth test is skipped.")
        return
    device = torch.device("cuda")
    generator = torch.Generator(device=device).manual_seed(0)
    # generated on the device: 100M samples would take the host longer than the benchmark
    X = torch.randn(n, 1, device=device, generator=generator) * 10
    y = 2 * X + 1 + torch.randn(n, 1, device=device, generator=generator) * 2
    synchronize(device)
    reg.train(X, y, "SGD", lr=1e-3, epochs=2, device=device, curve_points=1)  # warm-up
    result = reg.train(X, y, "SGD", lr=1e-3, epochs=epochs, device=device, curve_points=1)
    per_epoch = float(result.epoch_seconds.min())
    item = X.element_size()
    d = X.shape[1]
    # what the five kernels of one full-batch step move: addmm reads X, writes p; sub reads p, y, writes r;
    # mul reads and writes r; mm reads X and r; sum reads r
    kernel_bytes = n * item * (2 * d + 8)
    essential = n * item * (d + 1)  # X and y read once: the least any implementation must move
    bandwidth = copy_bandwidth(device)
    name = torch.cuda.get_device_name(device)
    print(
        f"GPU ({name}), full-batch GD, {n:,} samples, float32, best of {epochs} epochs: {per_epoch * 1e3:.2f} ms/epoch"
    )
    print(f"  kernel traffic   : {kernel_bytes / per_epoch / 1e9:8.1f} GB/s  ({kernel_bytes / 1e9:.2f} GB per epoch)")
    print(f"  X and y once     : {essential / per_epoch / 1e9:8.1f} GB/s  ({essential / 1e9:.2f} GB per epoch)")
    print(f"  measured copy bandwidth (device to device, read + write): {bandwidth:8.1f} GB/s")
    print(f"  kernel traffic / copy bandwidth: {kernel_bytes / per_epoch / 1e9 / bandwidth:.0%}")


# (n, d, optimizer, batch or None, updates timed): fixed cost, passes over the data, Newton's Gram and solve
COST_CASES = [
    (1_000, 1, "SGD", 1, 20_000),
    (1_000, 1, "Adam", 1, 20_000),
    (1_000, 1, "Lion", 1, 5_000),
    (100_000, 1, "SGD", None, 300),
    (1_000_000, 10, "SGD", None, 30),
    (10_000, 1_000, "Adam", None, 50),
    (100_000, 100, "SGD", 100, 3_000),
    (50_000, 50, "Newton", 100, 1_000),
    (50_000, 200, "Newton", 400, 100),
    (50_000, 200, "Newton", None, 20),
]
# the heaviest links of the page: the issue's, in float64, SGD on the most samples, Newton at d = 200, the
# widest data, and one the memory budget refuses
HEAVY_LINKS = [
    "n=2000000&d=5&epochs=500",
    "n=2000000&d=5&epochs=500&dtype=float64",
    "n=2000000&d=5&epochs=500&mode=SGD",
    "n=50000&d=200&opt=Newton&opt.lr=1&epochs=500",
    "n=50000&d=200&opt=Newton&opt.lr=1&mode=minibatch&bs=400&epochs=500",
    "n=10000&d=1000&epochs=500&dtype=float64&std=standardized",
    "n=2000000&d=5&mode=minibatch&bs=10&std=standardized&dtype=float64",
]
LINK_PROBE = """
import resource, sys, time
from urllib.parse import parse_qsl
from tests.app.apptest import open_page
open_page("pages/regression.py", {"n": "1000", "d": "2", "epochs": "3"})
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before, start = peak(), time.process_time()
at = open_page("pages/regression.py", dict(parse_qsl(sys.argv[1])))
said = [str(e.value)[:90] for e in list(at.error) + list(at.warning)]
print(f"{time.process_time() - start:6.1f} s CPU  {peak() - before:6.0f} MiB  {said}")
"""


def cost_table() -> None:
    import numpy as np

    from gdviz.regression import cost

    rng = np.random.default_rng(0)
    print("CPU seconds per update (all threads), measured and as gdviz.regression.cost estimates them")
    for n, d, name, batch, updates in COST_CASES:
        X = rng.standard_normal((n, d), dtype=np.float32)
        y = X.sum(1).astype(np.float32)
        lr = 1.0 if name == "Newton" else 1e-6
        reg.train(X[:500], y[:500], name, lr=lr, epochs=1, batch_size=None if batch is None else min(batch, 100))
        per_epoch = 1 if batch is None else math.ceil(n / batch)
        start = time.process_time()
        result = reg.train(
            X, y, name, lr=lr, epochs=math.ceil(updates / per_epoch), batch_size=batch, max_updates=updates,
            curve_points=1, trace_points=1,
        )  # fmt: skip
        measured = (time.process_time() - start) / max(result.updates, 1)
        rows = n if batch is None else batch
        estimate = cost.run_seconds(n, d, rows, result.updates, per_epoch, name == "Newton", 1) / max(result.updates, 1)
        print(
            f"  {name:7s} n={n:>9,} d={d:>5} b={rows:>9,}: {measured * 1e6:10.1f} µs measured, "
            f"{estimate * 1e6:10.1f} µs estimated ({estimate / measured:4.1f}x)"
        )


def heavy_links() -> None:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    print("Opening the heaviest Linear Regression links (CPU seconds of the page run, peak memory growth)")
    for link in HEAVY_LINKS:
        out = subprocess.run(
            [sys.executable, "-c", LINK_PROBE, link], cwd=root, capture_output=True, text=True, timeout=900
        )
        print(f"  /regression?{link}\n    {(out.stdout.strip().splitlines() or [out.stderr[-300:]])[-1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k samples, one repeat (a smoke test)")
    parser.add_argument("--full", action="store_true", help="time the seed-style epoch whole")
    parser.add_argument("--gpu-samples", type=int, default=100_000_000)
    parser.add_argument("--cost", action="store_true", help="CPU seconds per update against the cost model")
    parser.add_argument("--links", action="store_true", help="CPU and memory of the heaviest page links")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    if args.cost or args.links:
        if args.cost:
            cost_table()
        if args.links:
            heavy_links()
        return 0  # measurements for the cost model and the page's budgets, with no target of their own
    n = 200_000 if args.quick else 1_000_000
    cpu_target(n, repeats=1 if args.quick else 3, full=args.full, targets=targets)
    gpu_target(args.gpu_samples // (10 if args.quick else 1), epochs=3 if args.quick else 10)
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
