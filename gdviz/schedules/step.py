"""torch's multiplicative schedules: StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR.

All are chainable in torch: each step multiplies the current lr by a factor rather than recomputing
it from the base lr, so they are written that way here too (the closed forms differ in the last bits).
"""

from __future__ import annotations

from bisect import bisect_right

from gdviz.params import HyperParam
from gdviz.schedules.torch_base import TorchSchedule, total_iters


def _gamma(default: float, ui_min: float, what: str) -> HyperParam:
    return HyperParam(
        "gamma", default, minimum=0.0, min_inclusive=False, ui_min=ui_min, ui_max=1.0, sweepable=False, help=what
    )


def _milestones(owner: str, milestones: tuple[int, ...]) -> None:
    if any(b <= a for a, b in zip(milestones, milestones[1:], strict=False)):
        raise ValueError(f"{owner}: milestones must be strictly increasing, got {list(milestones)}")


class StepLR(TorchSchedule):
    r"""Step decay: multiply the lr by γ every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    References: torch.optim.lr_scheduler.StepLR; d2l 12.11 (piecewise constant schedules).
    """

    name = torch_class = "StepLR"
    reference = "torch.optim.lr_scheduler.StepLR; d2l 12.11"
    spec = (
        HyperParam("step_size", 30, kind="int", minimum=1, ui_min=1, ui_max=200, help="period s of the decay (steps)"),
        _gamma(0.1, 0.05, "multiplicative decay γ"),
    )
    formula = r"\eta_t = \eta_0\,\gamma^{\lfloor t/s \rfloor}"

    def get_lr(self, own, group, initial):
        epoch = own["epoch"]
        if epoch == 0 or epoch % self.p("step_size") != 0:
            return group["lr"]
        return group["lr"] * self.p("gamma")

    def closed_lr(self, own, group):
        return own["base"] * self.p("gamma") ** (own["epoch"] // self.p("step_size"))


class MultiStepLR(TorchSchedule):
    r"""Multiply the lr by γ at each milestone.

    .. math:: \eta_t = \eta_0\, \gamma^{\#\{m_i \le t\}}

    Milestones must be strictly increasing (torch counts repeats; they are refused here).

    References: torch.optim.lr_scheduler.MultiStepLR; d2l 12.11.
    """

    name = torch_class = "MultiStepLR"
    reference = "torch.optim.lr_scheduler.MultiStepLR; d2l 12.11"
    spec = (
        HyperParam("milestones", (30, 80), kind="list", minimum=0, help="steps at which the lr is multiplied by γ"),
        _gamma(0.1, 0.05, "multiplicative decay γ"),
    )
    formula = r"\eta_t = \eta_0\,\gamma^{\#\{i:\ m_i \le t\}}"

    def check(self, params):
        _milestones(self.name, params["milestones"])

    def get_lr(self, own, group, initial):
        if own["epoch"] not in self.p("milestones"):
            return group["lr"]
        return group["lr"] * self.p("gamma")

    def closed_lr(self, own, group):
        return own["base"] * self.p("gamma") ** bisect_right(self.p("milestones"), own["epoch"])


class ConstantLR(TorchSchedule):
    r"""Multiply the lr by a constant factor for the first ``total_iters`` steps (a crude warm-up).

    .. math:: \eta_t = \eta_0 \cdot (f \text{ if } t < T \text{ else } 1)

    References: torch.optim.lr_scheduler.ConstantLR.
    """

    name = torch_class = "ConstantLR"
    reference = "torch.optim.lr_scheduler.ConstantLR"
    spec = (
        HyperParam(
            "factor",
            1.0 / 3,
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            ui_min=0.05,
            sweepable=False,
            help="factor f applied until total_iters",
        ),
        total_iters(5, "number of steps T at the reduced lr"),
    )
    formula = r"\eta_t = \eta_0 \cdot \begin{cases} f & t < T \\ 1 & t \ge T \end{cases}"

    def get_lr(self, own, group, initial):
        epoch = own["epoch"]
        if epoch == 0:
            return group["lr"] * self.p("factor")
        if epoch != self.p("total_iters"):
            return group["lr"]
        return group["lr"] * (1.0 / self.p("factor"))

    def closed_lr(self, own, group):
        factor = self.p("factor")
        return own["base"] * (factor + (own["epoch"] >= self.p("total_iters")) * (1 - factor))


class LinearLR(TorchSchedule):
    r"""Linear warm-up (or decay) of the multiplicative factor from ``start_factor`` to ``end_factor``.

    .. math:: \eta_t = \eta_0 \left(f_s + (f_e - f_s) \frac{\min(t, T)}{T}\right)

    References: torch.optim.lr_scheduler.LinearLR; Goyal et al. (2017), "Accurate, Large Minibatch
    SGD" (gradual warm-up); d2l 12.11.
    """

    name = torch_class = "LinearLR"
    reference = "torch.optim.lr_scheduler.LinearLR; Goyal et al. 2017; d2l 12.11"
    spec = (
        HyperParam(
            "start_factor",
            1.0 / 3,
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            ui_min=0.01,
            sweepable=False,
            help="factor f_s of the first step",
        ),
        HyperParam(
            "end_factor", 1.0, minimum=0.0, maximum=1.0, ui_min=0.0, sweepable=False, help="factor f_e from step T on"
        ),
        total_iters(5, "length T of the linear ramp (steps)"),
    )
    formula = r"\eta_t = \eta_0\left(f_s + (f_e - f_s)\,\frac{\min(t,\,T)}{T}\right)"

    def get_lr(self, own, group, initial):
        epoch, start, end, total = own["epoch"], self.p("start_factor"), self.p("end_factor"), self.p("total_iters")
        if epoch == 0:
            return group["lr"] * start
        if initial or epoch > total:
            return group["lr"]
        return group["lr"] * (1.0 + (end - start) / (total * start + (epoch - 1) * (end - start)))

    def closed_lr(self, own, group):
        start, end, total = self.p("start_factor"), self.p("end_factor"), self.p("total_iters")
        return own["base"] * (start + (end - start) * min(total, own["epoch"]) / total)


class ExponentialLR(TorchSchedule):
    r"""Multiply the lr by γ every step.

    .. math:: \eta_t = \eta_0\, \gamma^t

    References: torch.optim.lr_scheduler.ExponentialLR.
    """

    name = torch_class = "ExponentialLR"
    reference = "torch.optim.lr_scheduler.ExponentialLR"
    spec = (_gamma(0.95, 0.9, "multiplicative decay γ per step (torch requires it; 0.95 here)"),)
    formula = r"\eta_t = \eta_0\,\gamma^{t}"

    def get_lr(self, own, group, initial):
        if initial:
            return group["lr"]
        return group["lr"] * self.p("gamma")

    def closed_lr(self, own, group):
        return own["base"] * self.p("gamma") ** own["epoch"]


class PolynomialLR(TorchSchedule):
    r"""Polynomial decay to zero over ``total_iters`` steps, then constant.

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^p

    References: torch.optim.lr_scheduler.PolynomialLR.
    """

    name = torch_class = "PolynomialLR"
    horizon = ("total_iters",)
    reference = "torch.optim.lr_scheduler.PolynomialLR"
    spec = (
        HyperParam("total_iters", 5, kind="int", minimum=1, ui_min=1, ui_max=300, help="steps T to decay to 0"),
        HyperParam(
            "power", 1.0, minimum=0.0, ui_min=0.1, ui_max=3.0, sweepable=False, help="power p of the polynomial"
        ),
    )
    formula = r"\eta_t = \eta_0\left(1 - \frac{\min(t,\,T)}{T}\right)^{p}"

    def get_lr(self, own, group, initial):
        epoch, total = own["epoch"], self.p("total_iters")
        if initial or epoch > total:
            return group["lr"]
        decay = ((1.0 - epoch / total) / (1.0 - (epoch - 1) / total)) ** self.p("power")
        return group["lr"] * decay

    def closed_lr(self, own, group):
        total = self.p("total_iters")
        return own["base"] * (1.0 - min(total, own["epoch"]) / total) ** self.p("power")
