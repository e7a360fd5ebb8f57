"""The Linear Regression page's numbers, tables and claims as text (pure, no Streamlit)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gdviz import regression as reg


def fmt_seconds(seconds: float) -> str:
    """A duration with a readable unit: 37 µs, 4.2 ms, 1.3 s."""
    if not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt(value: float, digits: int = 4) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


# -- the measured comparison --------------------------------------------------------------------------
def comparison_table(rows: Sequence[reg.ComparisonRow]) -> list[dict[str, str]]:
    """The comparison table of the notes on linear regression, measured: one row per quantity, one column per mode."""
    quantities: list[tuple[str, Any]] = [
        ("samples per update", lambda r: f"{r.samples_per_update:,}"),
        ("updates per epoch", lambda r: f"{r.updates_per_epoch:,}"),
        ("learning rate", lambda r: fmt(r.mode.lr, 3)),
        (
            "gradient noise (rel. std at start)",
            lambda r: "exact" if r.gradient_noise == 0 else fmt(r.gradient_noise, 3),
        ),
        ("time per update", lambda r: fmt_seconds(r.seconds_per_update)),
        ("time per epoch", lambda r: fmt_seconds(r.seconds_per_epoch) + (" (est.)" if r.epoch_estimated else "")),
        (
            "samples per second",
            lambda r: f"{r.samples_per_second:,.0f}" if math.isfinite(r.samples_per_second) else "–",
        ),
        ("memory per update (batch)", lambda r: _bytes(r.samples_per_update * (r.result.d + 1) * _itemsize(r))),
        ("epochs run", lambda r: _epochs_run(r)),
        ("final loss", lambda r: "diverged" if r.diverged else fmt(r.final_loss, 5)),
        ("loss − closed-form loss", lambda r: "–" if r.diverged else fmt(r.loss_gap, 3)),
        ("distance to closed form", lambda r: "–" if r.diverged else fmt(r.distance, 3)),
    ]
    return [{"": name} | {row.mode.label: get(row) for row in rows} for name, get in quantities]


def _itemsize(row: reg.ComparisonRow) -> int:
    return 8 if row.result.dtype == "float64" else 4


def _bytes(count: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def _epochs_run(row: reg.ComparisonRow) -> str:
    result = row.result
    if result.complete:
        return str(result.epochs_done)
    return f"{result.samples / result.n:.3g} (stopped: {'diverged' if row.diverged else 'update cap'})"


def closed_table(closed: reg.ClosedForm, result: reg.TrainResult, label: str, shown: int = 5) -> list[dict[str, str]]:
    """lstsq, the normal equation and the trained model side by side: time, b and the first ``shown`` weights."""

    def row(method: str, seconds: float, weight: np.ndarray | None, bias: float | None) -> dict[str, str]:
        out = {"method": method, "time": fmt_seconds(seconds), "b": "–" if bias is None else fmt(bias, 8)}
        for i in range(min(result.d, shown)):
            out[f"w{i + 1}"] = "–" if weight is None else fmt(float(weight[i]), 8)
        return out

    lstsq = row("torch.linalg.lstsq (QR / SVD)", closed.seconds, closed.weight, closed.bias)
    if closed.lstsq_skipped:  # the reference is the normal equation's (or the pseudo-inverse's) solution
        lstsq = {key: "–" for key in lstsq} | {"method": lstsq["method"], "time": "not run (too costly here)"}
    return [
        lstsq,
        row("normal equation (solve XᵀX θ = Xᵀy)", closed.normal_seconds, closed.normal_weight, closed.normal_bias),
        row(label, result.seconds, result.weight, result.bias),
    ]


def claim_lines(claims: Sequence[reg.Claim]) -> list[str]:
    """One markdown line per d2l 12.5 claim, marked: holds here, does not, not measured."""
    mark = {True: ":green[:material/check_circle:]", False: ":red[:material/cancel:]", None: ":gray[:material/remove:]"}
    return [f"{mark[c.holds]} **{c.text}** — {c.detail}" for c in claims]


def device_label(info: reg.DeviceInfo) -> str:
    return info.name if info.available else f"{info.name} (unavailable)"
