"""Cosine annealing, as torch computes it: CosineAnnealingLR (recursive) and CosineAnnealingWarmRestarts (SGDR)."""

from __future__ import annotations

import math

from gdviz.params import HyperParam
from gdviz.schedules.torch_base import TorchSchedule, eta_min


class CosineAnnealingLR(TorchSchedule):
    r"""Cosine annealing from η0 to η_min over ``T_max`` steps, continued as a cosine (no restarts).

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    computed as torch does, recursively: :math:`\eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
    \frac{1 + \cos(\pi t / T)}{1 + \cos(\pi (t-1) / T)}`, with an additive step where the denominator
    vanishes (t - 1 = T, 3T, ...). Past ``T_max`` the lr climbs back up along the cosine.

    References: Loshchilov & Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts";
    torch.optim.lr_scheduler.CosineAnnealingLR; d2l 12.11.
    """

    name = torch_class = "CosineAnnealingLR"
    horizon = ("T_max",)
    reference = "Loshchilov & Hutter 2017; torch.optim.lr_scheduler.CosineAnnealingLR; d2l 12.11"
    spec = (
        HyperParam("T_max", 100, kind="int", minimum=1, ui_min=1, ui_max=500, help="half period T (torch requires it)"),
        eta_min(),
    )
    formula = r"\eta_t = \eta_{\min} + \tfrac12(\eta_0-\eta_{\min})\left(1+\cos\frac{\pi t}{T_{\max}}\right)"

    def get_lr(self, own, group, initial):
        # torch's branch for `_step_count == 1 and last_epoch > 0` is reached only when resuming a checkpoint
        if initial:
            return group["lr"]
        epoch, period, floor = own["epoch"], self.p("T_max"), self.p("eta_min")
        if (epoch - 1 - period) % (2 * period) == 0:
            return group["lr"] + (own["base"] - floor) * (1 - math.cos(math.pi / period)) / 2
        ratio = (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period))
        return ratio * (group["lr"] - floor) + floor

    def closed_lr(self, own, group):
        floor = self.p("eta_min")
        return floor + (own["base"] - floor) * (1 + math.cos(math.pi * own["epoch"] / self.p("T_max"))) / 2


class CosineAnnealingWarmRestarts(TorchSchedule):
    r"""SGDR: cosine annealing restarted every :math:`T_i` steps, with :math:`T_{i+1} = T_{\text{mult}}\,T_i`.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    where :math:`T_{cur}` counts the steps since the last restart.

    References: Loshchilov & Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts";
    torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.
    """

    name = torch_class = "CosineAnnealingWarmRestarts"
    reference = "Loshchilov & Hutter 2017; torch.optim.lr_scheduler.CosineAnnealingWarmRestarts"
    has_closed_form = False
    spec = (
        HyperParam("T_0", 20, kind="int", minimum=1, ui_min=1, ui_max=200, help="steps to the first restart"),
        HyperParam("T_mult", 1, kind="int", minimum=1, ui_min=1, ui_max=4, help="growth of the period after a restart"),
        eta_min(),
    )
    formula = (
        r"\eta_t = \eta_{\min} + \tfrac12(\eta_0-\eta_{\min})\left(1+\cos\frac{\pi T_{cur}}{T_i}\right)\\"
        r"T_{i+1} = T_{\text{mult}}\,T_i"
    )

    def prepare(self, group, eta0):
        return {"T_i": self.p("T_0"), "T_cur": -1}, group

    def initial_step(self, own, group):
        # torch overrides step(), and its _initial_step goes through it
        return self.advance(own, group)

    def advance(self, own, group):
        if own["epoch"] < 0:
            own = {**own, "epoch": 0, "T_i": self.p("T_0"), "T_cur": 0}
        else:
            t_cur, t_i = own["T_cur"] + 1, own["T_i"]
            if t_cur >= t_i:
                t_cur, t_i = t_cur % t_i, t_i * self.p("T_mult")
            own = {**own, "epoch": own["epoch"] + 1, "T_i": t_i, "T_cur": t_cur}
        return own, {**group, "lr": self.get_lr(own, group, initial=False)}

    def get_lr(self, own, group, initial):
        floor = self.p("eta_min")
        return floor + (own["base"] - floor) * (1 + math.cos(math.pi * own["T_cur"] / own["T_i"])) / 2
