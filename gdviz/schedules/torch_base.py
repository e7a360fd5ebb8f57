"""torch's LRScheduler protocol replayed on NumPy arrays, one array entry per run.

A torch scheduler does not only compute a number: it reads and writes its optimizer's param group.
``group["lr"]`` is what the chainable schedulers multiply (torch's ``get_lr`` is recursive, and its
rounding differs from the closed form's in the last bits), ``group["initial_lr"]`` is set once by the
first scheduler built on the optimizer and becomes every later scheduler's ``base_lrs``, and
OneCycleLR overwrites ``initial_lr`` and adds ``max_lr``/``min_lr``. SequentialLR builds several
schedulers on one optimizer, so one constructor's writes show up in the next one's numbers. Replaying
that protocol, rather than closed forms, is what makes these schedules agree with torch to the bit.

State of a schedule: ``{"lr": (R,), "group": {...}, "own": {...}}``: the param group as torch's
optimizer holds it (arrays of shape (R,)) and the scheduler's own fields (``epoch`` is torch's
``last_epoch``, ``base`` its ``base_lrs``). Every epoch-dependent factor is a Python float computed
with ``math`` in torch's order of operations; only the multiplication by per-run lrs is NumPy.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from gdviz.params import HyperParam
from gdviz.schedules.base import Schedule, ScheduleState

Group = dict[str, np.ndarray]
Own = dict[str, Any]


def total_iters(default: int, what: str) -> HyperParam:
    return HyperParam("total_iters", default, kind="int", minimum=1, ui_min=1, ui_max=200, help=what)


def eta_min() -> HyperParam:
    return HyperParam(
        "eta_min", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.01, sweepable=False, help="minimum learning rate (absolute)"
    )


class TorchSchedule(Schedule):
    """A schedule written as torch writes an ``LRScheduler``: ``get_lr`` plus, optionally, a closed form.

    Subclasses implement :meth:`get_lr` (torch's ``get_lr`` at ``own["epoch"]``) and, where torch has
    ``_get_closed_form_lr``, :meth:`closed_lr` (SequentialLR restarts a scheduler through it).
    """

    # torch's class defines _get_closed_form_lr
    has_closed_form: ClassVar[bool] = True

    # ----- what a subclass writes
    def prepare(self, group: Group, eta0: np.ndarray) -> tuple[Own, Group]:
        """What torch's constructor does before ``LRScheduler.__init__``: (own fields, group)."""
        return {}, group

    def get_lr(self, own: Own, group: Group, initial: bool) -> np.ndarray:
        """torch's ``get_lr()`` at ``own["epoch"]``; ``initial`` is torch's ``_is_initial``."""
        raise NotImplementedError

    def closed_lr(self, own: Own, group: Group) -> np.ndarray:
        """torch's ``_get_closed_form_lr()`` at ``own["epoch"]``."""
        raise NotImplementedError

    def torch_kwargs(self, base_lr: float) -> dict[str, Any]:
        """Keyword arguments for the torch scheduler that this schedule reproduces (one run, lr ``base_lr``)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()}

    # ----- torch's LRScheduler
    def construct(self, group: Group, eta0: np.ndarray) -> tuple[Own, Group]:
        """``__init__(optimizer, last_epoch=-1)``: the group's ``initial_lr`` and the initial step."""
        own, group = self.prepare(dict(group), eta0)
        group.setdefault("initial_lr", group["lr"])
        return self.initial_step({**own, "base": group["initial_lr"], "epoch": -1}, group)

    def initial_step(self, own: Own, group: Group) -> tuple[Own, Group]:
        """``_initial_step()``: one step with ``_is_initial`` set."""
        own = {**own, "epoch": own["epoch"] + 1}
        return own, {**group, "lr": self.get_lr(own, group, initial=True)}

    def advance(self, own: Own, group: Group) -> tuple[Own, Group]:
        """``step()``."""
        own = {**own, "epoch": own["epoch"] + 1}
        return own, {**group, "lr": self.get_lr(own, group, initial=False)}

    def restart(self, own: Own, group: Group) -> tuple[Own, Group]:
        """``_update_lr(0)``, what SequentialLR calls at a milestone: the closed form at epoch 0 if torch has one."""
        own = {**own, "epoch": 0}
        lr = self.closed_lr(own, group) if self.has_closed_form else self.get_lr(own, group, initial=False)
        return own, {**group, "lr": lr}

    # ----- the Schedule contract
    def init(self, base_lr: np.ndarray) -> ScheduleState:
        eta0 = np.asarray(base_lr, dtype=np.float64)
        own, group = self.construct({"lr": eta0}, eta0)
        return {"lr": group["lr"], "group": group, "own": own}

    def step(self, state: ScheduleState, metric: np.ndarray | None = None) -> ScheduleState:
        own, group = self.advance(state["own"], state["group"])
        return {"lr": group["lr"], "group": group, "own": own}


def as_runs(value: Any, like: np.ndarray) -> np.ndarray:
    """A scalar parameter (or a per-run array) as a float array shaped like the runs' lrs."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), like.shape)
