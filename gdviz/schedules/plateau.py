"""ReduceLROnPlateau: cut the lr when the loss stops improving, each run on its own."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdviz.params import HyperParam
from gdviz.schedules.base import Schedule, ScheduleState


class ReduceLROnPlateau(Schedule):
    r"""Multiply the lr by ``factor`` after more than ``patience`` steps without a significant improvement.

    .. math::
        \eta_{t+1} = \begin{cases} \max(f\,\eta_t,\ \eta_{\min}) & \text{more than } p
        \text{ bad steps (and the cut exceeds } \epsilon) \\ \eta_t & \text{otherwise} \end{cases}

    A step is an improvement (``mode="min"``) when the loss is below ``best·(1 − threshold)``
    (``threshold_mode="rel"``) or ``best − threshold`` (``"abs"``); ``"max"`` mirrors it. After a
    cut, ``cooldown`` steps are not counted as bad. The metric is the run's loss at the iterate the
    step started from; every run keeps its own best, counters and lr.

    References: torch.optim.lr_scheduler.ReduceLROnPlateau.
    """

    name = torch_class = "ReduceLROnPlateau"
    reference = "torch.optim.lr_scheduler.ReduceLROnPlateau"
    needs_metric = True
    spec = (
        HyperParam("mode", "min", kind="choice", choices=("min", "max"), help="minimise or maximise the metric"),
        HyperParam(
            "factor",
            0.1,
            minimum=0.0,
            maximum=1.0,
            max_inclusive=False,
            ui_min=0.05,
            ui_max=0.9,
            sweepable=False,
            help="new lr = lr * factor",
        ),
        HyperParam("patience", 10, kind="int", minimum=0, ui_min=0, ui_max=50, help="bad steps tolerated"),
        HyperParam(
            "threshold", 1e-4, minimum=0.0, ui_min=0.0, ui_max=0.1, sweepable=False, help="what counts as improving"
        ),
        HyperParam("threshold_mode", "rel", kind="choice", choices=("rel", "abs")),
        HyperParam("cooldown", 0, kind="int", minimum=0, ui_min=0, ui_max=50, help="steps ignored after a cut"),
        HyperParam("min_lr", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.01, sweepable=False, help="lower bound on the lr"),
        HyperParam(
            "eps", 1e-8, minimum=0.0, ui_min=0.0, ui_max=1e-6, sweepable=False, help="cuts smaller than eps are skipped"
        ),
    )
    formula = (
        r"\eta_{t+1} = \begin{cases}\max(f\,\eta_t,\ \eta_{\min}) & \text{after } p+1 \text{ steps}\\"
        r" & \text{without improvement}\\ \eta_t & \text{otherwise}\end{cases}"
    )

    def init(self, base_lr: np.ndarray) -> ScheduleState:
        lr = np.asarray(base_lr, dtype=np.float64)
        worse = np.inf if self.p("mode") == "min" else -np.inf
        zeros = np.zeros(lr.shape, dtype=np.int64)
        return {"lr": lr, "best": np.full(lr.shape, worse), "bad": zeros, "cooldown": zeros, "epoch": 0}

    def improved(self, metric: np.ndarray, best: np.ndarray) -> np.ndarray:
        """torch's ``_is_better`` for every run."""
        threshold = self.p("threshold")
        # best starts at ±inf, and inf * 0 (threshold 1, rel) is nan in torch too: never better
        with np.errstate(invalid="ignore"):
            if self.p("mode") == "min":
                return metric < (best * (1.0 - threshold) if self.p("threshold_mode") == "rel" else best - threshold)
            return metric > (best * (threshold + 1.0) if self.p("threshold_mode") == "rel" else best + threshold)

    def step(self, state: ScheduleState, metric: np.ndarray | None = None) -> ScheduleState:
        if metric is None:
            raise ValueError("ReduceLROnPlateau needs the metric (each run's loss) at every step")
        current = np.asarray(metric, dtype=np.float64)
        better = self.improved(current, state["best"])
        best = np.where(better, current, state["best"])
        bad = np.where(better, 0, state["bad"] + 1)
        cooling = state["cooldown"] > 0
        cooldown = np.where(cooling, state["cooldown"] - 1, state["cooldown"])
        bad = np.where(cooling, 0, bad)  # bad steps during the cooldown do not count
        cut = bad > self.p("patience")
        lr = state["lr"]
        if np.any(cut):
            new_lr = np.maximum(lr * self.p("factor"), self.p("min_lr"))
            lr = np.where(cut & (lr - new_lr > self.p("eps")), new_lr, lr)
            cooldown = np.where(cut, self.p("cooldown"), cooldown)
            bad = np.where(cut, 0, bad)
        return {"lr": lr, "best": best, "bad": bad, "cooldown": cooldown, "epoch": state["epoch"] + 1}

    def torch_kwargs(self, base_lr: float) -> dict[str, Any]:
        """Keyword arguments for torch.optim.lr_scheduler.ReduceLROnPlateau."""
        return dict(self.params)
