"""SequentialLR: hand the lr from one schedule to the next at the milestones, exactly as torch does."""

from __future__ import annotations

from bisect import bisect_right
from types import MappingProxyType
from typing import Any

from gdviz.params import HyperParam
from gdviz.schedules.base import Schedule, ScheduleState
from gdviz.schedules.torch_base import TorchSchedule


class SequentialLR(Schedule):
    r"""Run ``schedulers[i]`` from milestone :math:`m_{i-1}` to :math:`m_i` (:math:`m_0 = 0`).

    .. math:: \eta_t = \text{scheduler}_i(t - m_{i-1}), \quad m_{i-1} \le t < m_i

    ``schedulers`` (required, not a slider) are gdviz schedules, ``(name, params)`` pairs or names.
    torch's quirks are kept, since they decide the numbers: all schedulers are built on the same
    optimizer in order (so one constructor's changes to the param group, e.g. OneCycleLR's
    ``initial_lr``, show in the next); at a milestone the next scheduler restarts through its closed
    form at step 0 from the *base* lr (CosineAnnealingLR jumps back to η0, StepLR restarts its
    count), or its ``get_lr`` where torch has no closed form, and then steps on chainably from there.
    Derived lrs (``max_lr=None`` ...) come from the optimizer's lr. ReduceLROnPlateau cannot be
    part of a sequence (torch refuses it), nor can another SequentialLR.

    References: torch.optim.lr_scheduler.SequentialLR; Goyal et al. (2017) (warm-up then decay).
    """

    name = torch_class = "SequentialLR"
    reference = "torch.optim.lr_scheduler.SequentialLR; Goyal et al. 2017"
    demo = MappingProxyType({"schedulers": ("LinearLR", "ExponentialLR"), "milestones": (5,)})
    spec = (HyperParam("milestones", (), kind="list", minimum=0, help="steps at which the next scheduler takes over"),)
    formula = r"\eta_t = \text{scheduler}_i(t - m_{i-1}) \quad \text{for } m_{i-1} \le t < m_i"

    def __init__(self, schedulers: Any = None, **params: Any):
        self.schedulers = self._build(schedulers)
        super().__init__(**params)
        self.params = {"schedulers": self.schedulers, **self.params}

    def _build(self, schedulers: Any) -> tuple[TorchSchedule, ...]:
        from gdviz.schedules import schedule  # the registry imports this module

        if schedulers is None or isinstance(schedulers, (str, Schedule)) or len(schedulers) < 1:
            raise ValueError(f"{self.name} expects at least one scheduler, but got no scheduler.")
        built = []
        for i, item in enumerate(schedulers):
            if isinstance(item, str):
                item = schedule(item)
            elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], dict):
                item = schedule(item[0], **item[1])
            if not isinstance(item, Schedule):
                raise ValueError(
                    f"{self.name}: schedulers[{i}] must be a gdviz schedule or a (name, params) pair, got {item!r}"
                )
            if item.needs_metric:
                raise ValueError(
                    f"{self.name} does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to "
                    f"be specified when calling `step`, but got one at index {i} in the given schedulers sequence."
                )
            if not isinstance(item, TorchSchedule):
                raise ValueError(f"{self.name}: schedulers[{i}] is a {item.name}, which cannot be part of a sequence")
            built.append(item)
        return tuple(built)

    def check(self, params):
        milestones = params["milestones"]
        if len(milestones) != len(self.schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
                f"milestone points, but got number of schedulers {len(self.schedulers)} and the number of milestones "
                f"to be equal to {len(milestones)}"
            )
        if any(b <= a for a, b in zip(milestones, milestones[1:], strict=False)):
            raise ValueError(f"{self.name}: milestones must be strictly increasing, got {list(milestones)}")

    def init(self, base_lr):
        group = {"lr": base_lr}
        owns = []
        for sched in self.schedulers:
            own, group = sched.construct(group, base_lr)
            owns.append(own)
        # torch resets the lr to initial_lr, undoes every constructor's step and redoes the first one
        group = {**group, "lr": group["initial_lr"]}
        owns = [{**own, "epoch": own["epoch"] - 1} for own in owns]
        idx = bisect_right(self.p("milestones"), 0)
        owns[idx], group = self.schedulers[idx].initial_step(owns[idx], group)
        return {"lr": group["lr"], "group": group, "subs": tuple(owns), "epoch": 0}

    def step(self, state: ScheduleState, metric=None) -> ScheduleState:
        epoch = state["epoch"] + 1
        milestones = self.p("milestones")
        idx = bisect_right(milestones, epoch)
        sched = self.schedulers[idx]
        if idx > 0 and milestones[idx - 1] == epoch:
            own, group = sched.restart(state["subs"][idx], state["group"])
        else:
            own, group = sched.advance(state["subs"][idx], state["group"])
        subs = state["subs"][:idx] + (own,) + state["subs"][idx + 1 :]
        return {"lr": group["lr"], "group": group, "subs": subs, "epoch": epoch}

    def settings(self) -> dict[str, Any]:
        return {
            "schedulers": [[s.name, s.settings()] for s in self.schedulers],
            "milestones": list(self.p("milestones")),
        }
