"""d2l 12.4's two decaying schedules that torch lacks, in closed form."""

from __future__ import annotations

import math

from gdviz.params import HyperParam
from gdviz.schedules.torch_base import TorchSchedule


class ExponentialDecay(TorchSchedule):
    r"""Exponential decay in continuous form: :math:`\eta_t = \eta_0 e^{-\lambda t}`.

    t counts the steps taken, so the first step uses η0 (d2l's code advances its counter before the
    first step). Decays fast: SGD's noise ball shrinks, but the iterate may stop short of a minimum.
    In a SequentialLR it restarts from the base lr at its milestone, like torch's closed forms.

    References: d2l 12.4 (Stochastic Gradient Descent, dynamic learning rate).
    """

    name = "ExponentialDecay"
    reference = "d2l 12.4"
    spec = (HyperParam("lam", 0.1, minimum=0.0, ui_min=0.0, ui_max=0.2, sweepable=False, help="decay rate λ"),)
    formula = r"\eta_t = \eta_0\, e^{-\lambda t}"

    def get_lr(self, own, group, initial):
        return self.closed_lr(own, group)

    def closed_lr(self, own, group):
        return own["base"] * math.exp(-self.p("lam") * own["epoch"])

    def torch_kwargs(self, base_lr):
        raise ValueError(f"{self.name} has no torch counterpart")


class PolynomialDecay(TorchSchedule):
    r"""Polynomial decay: :math:`\eta_t = \eta_0 (\beta t + 1)^{-\alpha}`.

    With α = 0.5 this is the classic :math:`1/\sqrt{t}` rate of convex SGD analysis: it decays slowly
    enough to keep making progress. t counts the steps taken, so the first step uses η0.

    References: d2l 12.4 (Stochastic Gradient Descent, dynamic learning rate).
    """

    name = "PolynomialDecay"
    reference = "d2l 12.4"
    spec = (
        HyperParam("alpha", 0.5, minimum=0.0, ui_min=0.0, ui_max=2.0, sweepable=False, help="exponent α"),
        HyperParam("beta", 0.1, minimum=0.0, ui_min=0.0, ui_max=1.0, sweepable=False, help="time scale β"),
    )
    formula = r"\eta_t = \eta_0\,(\beta t + 1)^{-\alpha}"

    def get_lr(self, own, group, initial):
        return self.closed_lr(own, group)

    def closed_lr(self, own, group):
        return own["base"] * (self.p("beta") * own["epoch"] + 1) ** (-self.p("alpha"))

    def torch_kwargs(self, base_lr):
        raise ValueError(f"{self.name} has no torch counterpart")
