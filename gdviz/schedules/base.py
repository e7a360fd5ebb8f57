"""The schedule contract: a validated set of parameters and two pure functions over a batch of runs.

A schedule maps each run's base learning rate to the lr of every step. It is stateful in the way
torch's schedulers are (ReduceLROnPlateau reacts to the loss; torch computes most others
recursively from the previous lr), so it is written as ``init`` and ``step`` on an explicit state,
vectorized over R runs, and reproduces ``get_last_lr()`` of the torch scheduler step for step.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from gdviz.params import HyperParam, validate_all

ScheduleState = dict[str, Any]


class Schedule:
    """Base class of every learning-rate schedule.

    Class attributes:
        name: registry name (torch.optim.lr_scheduler's class name where torch has it).
        spec: the parameters with torch's defaults.
        formula: lr as a function of the step in LaTeX (η0 is the optimizer's lr).
        torch_class: the torch scheduler it must match, or None (d2l's schedules).
        needs_metric: ``step`` uses the run's loss (ReduceLROnPlateau).
        reference: where the schedule comes from.
        demo: the arguments the schedule needs to be built (a read-only mapping, ``cls(**cls.demo)``),
            for the generic tests: empty unless a parameter is required (OneCycleLR's ``total_steps``,
            SequentialLR's ``schedulers``); the rest keep their defaults.
        horizon: the int parameters that are the length of the run the schedule is planned for
            (CosineAnnealingLR's ``T_max``, OneCycleLR's ``total_steps``, PolynomialLR's ``total_iters``),
            in scheduler steps: a trainer that knows its length sets them to it.
    """

    name: ClassVar[str]
    spec: ClassVar[tuple[HyperParam, ...]]
    formula: ClassVar[str]
    torch_class: ClassVar[str | None] = None
    needs_metric: ClassVar[bool] = False
    reference: ClassVar[str] = ""
    demo: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    horizon: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any):
        self.params: dict[str, Any] = validate_all(self.spec, params, self.name)
        self.check(self.params)

    def check(self, params: dict[str, Any]) -> None:
        """Cross-parameter validation; raise ``ValueError``."""

    def p(self, name: str) -> Any:
        return self.params[name]

    def init(self, base_lr: np.ndarray) -> ScheduleState:
        """State before any step; ``state["lr"]`` (R,) is the lr of the first optimizer step."""
        raise NotImplementedError

    def step(self, state: ScheduleState, metric: np.ndarray | None = None) -> ScheduleState:
        """One ``scheduler.step()`` (``metric``: (R,) loss, for ReduceLROnPlateau). Returns a new state."""
        raise NotImplementedError

    def lrs(self, base_lr: float | np.ndarray, steps: int, metrics: np.ndarray | None = None) -> np.ndarray:
        """The lr used at each of ``steps`` optimizer steps: (steps,) for a scalar base lr, else (steps, R).

        ``metrics`` (steps,) or (steps, R) feeds ReduceLROnPlateau; other schedules ignore it.
        """
        base = np.atleast_1d(np.asarray(base_lr, dtype=np.float64)).ravel()
        out = np.empty((steps, base.size))
        state = self.init(base)
        for t in range(steps):
            out[t] = state["lr"]
            metric = None if metrics is None else np.broadcast_to(np.asarray(metrics)[t], base.shape)
            state = self.step(state, metric)
        return out[:, 0] if np.ndim(base_lr) == 0 else out

    def settings(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.settings().items())
        return f"{type(self).__name__}({shown})"
