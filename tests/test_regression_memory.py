"""Regression training holds its memory bound: a training call at the page's caps grows the process by
no more than ``gdviz.regression.training_bytes`` says (the page refuses settings above its budget),
and the growth does not creep with the epochs (no per-epoch full-size temporaries).

Peak growth is the process's maximum resident set (``getrusage``) in a fresh subprocess, since torch's
CPU allocations are invisible to tracemalloc."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="regression training needs torch")

from gdviz.regression.optim import NEWTON_MAX_FEATURES  # noqa: E402
from ui import limits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MiB = 2**20
# page-granular allocation, torch's small per-call tensors and Python objects not worth modelling
SLACK = 6 * MiB

PEAK = """
import json, resource, sys
import numpy as np, torch
torch.set_num_threads(1)
from gdviz import regression as reg
n, d, settings = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d), dtype=np.float32)
y = (X.sum(1) + rng.standard_normal(n, dtype=np.float32)).astype(np.float32)
small = {**settings, "epochs": 2, "max_updates": 3}
reg.train(X[:5000], y[:5000], **small)  # torch's one-time allocations (threads, kernels) happen here
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = rss()
reg.train(X, y, **settings)
print(json.dumps(rss() - before))
"""


def peak_growth(n: int, d: int, **settings) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PEAK, json.dumps([n, d, settings])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def estimate(n: int, d: int, settings: dict) -> int:
    from gdviz import regression as reg

    return reg.training_bytes(
        n,
        d,
        settings.get("dtype", "float32"),
        settings.get("epochs", 10),
        settings.get("batch_size"),
        replacement=settings.get("replacement", False),
        standardize=settings.get("standardize", False),
        hessian=settings.get("optimizer") == "Newton",
    )


N = limits.REGRESSION_MAX_SAMPLES
D = limits.REGRESSION_MAX_VALUES // N  # n·d at its cap with n at its cap
CASES = [
    # full-batch GD in float64: the link (it grew the server by 5 GB); epochs kept short, see below
    dict(n=N, d=D, optimizer="SGD", lr=1e-4, epochs=20, dtype="float64"),
    dict(n=N, d=D, optimizer="SGD", lr=1e-4, epochs=20, dtype="float32", standardize=True),
    # minibatches: the epoch's shuffled copy, preallocated (float32, standardized: the largest a page allows)
    dict(n=N, d=D, optimizer="Adam", lr=1e-3, epochs=2, batch_size=1000, standardize=True, max_updates=4000),
    dict(n=N, d=D, optimizer="SGD", lr=1e-4, epochs=2, batch_size=999, replacement=True, max_updates=4000),
    # the widest data at the values cap, for all of the epochs a page allows (recorded parameters grow with them)
    dict(n=10_000, d=1_000, optimizer="SGD", lr=1e-6, epochs=limits.MAX_EPOCHS, dtype="float64"),
    dict(n=20_000, d=NEWTON_MAX_FEATURES, optimizer="Newton", lr=1.0, epochs=3, batch_size=5000),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['n']}x{c['d']}-{c['optimizer']}-{c.get('dtype', 'float32')}")
def test_a_training_call_stays_within_its_stated_bound(case):
    case = dict(case)
    n, d = case.pop("n"), case.pop("d")
    bound = estimate(n, d, case)
    grown = peak_growth(n, d, **case)
    print(f"n={n} d={d} {case}: grew {grown / MiB:.1f} MiB, bound {bound / MiB:.1f} MiB")
    assert grown <= bound + SLACK, f"grew {grown / MiB:.1f} MiB, bound {bound / MiB:.1f} MiB"
    assert bound <= limits.REGRESSION_MAX_TRAINING_BYTES


def test_memory_does_not_creep_with_the_epochs():
    """Before the buffers, a float64 GD run grew ~8 MB an epoch (551 MB after 50 epochs on 2M × 5)."""
    settings = dict(optimizer="SGD", lr=1e-4, dtype="float64")
    short = peak_growth(N, D, epochs=3, **settings)
    long = peak_growth(N, D, epochs=40, **settings)
    assert long - short < 4 * MiB, (short / MiB, long / MiB)
