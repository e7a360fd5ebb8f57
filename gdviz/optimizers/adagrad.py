"""Adagrad: per-coordinate steps scaled by the root of all squared gradients so far, as torch.optim.Adagrad."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY, Optimizer, operand
from gdviz.params import HyperParam

# d2l's convention, shared with RMSprop; off, the update is torch's to the bit
EPS_INSIDE_SQRT = HyperParam(
    "eps_inside_sqrt",
    False,
    kind="bool",
    in_torch=False,
    help="d2l's convention (d2l 12.7, 12.8): divide by √(s + ε) instead of torch's √s + ε",
)


class Adagrad(Optimizer):
    r"""Adaptive subgradient method: each coordinate's step shrinks with its accumulated squared gradients.

    .. math::
        g_t \leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1}, \quad
        \tilde\eta_t \leftarrow \frac{\eta}{1 + (t-1)\,\delta}, \quad
        s_t \leftarrow s_{t-1} + g_t^2 \;(s_0 = \tau), \quad
        x_t \leftarrow x_{t-1} - \tilde\eta_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}
        \;\left(\text{or } \frac{g_t}{\sqrt{s_t + \epsilon}} \text{ with } \texttt{eps\_inside\_sqrt}\right)

    Conventions (torch's): ε sits outside the square root, like Duchi et al.'s δ; the accumulator
    starts at ``initial_accumulator_value`` τ, not 0; the optional ``lr_decay`` δ is torch's, not the
    paper's. With a schedule, ``η`` is that step's lr. Because :math:`s_t` only grows, the effective
    lr shrinks forever: the defect RMSprop fixes.

    .. warning:: d2l 12.7 puts ε inside the square root (with ε = 1e-6 and the sum starting at 0).
        ``eps_inside_sqrt=True`` follows the book: ``Adagrad(lr=0.4, eps=1e-6, eps_inside_sqrt=True)``
        from (-5, -2) on d2l's 0.1 x1² + 2 x2² ends its 20 steps at the digits the book prints. torch
        has no such argument; off (the default), the update is torch's.

    References: Duchi, Hazan & Singer (2011), "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 12; d2l 12.7; torch.optim.Adagrad.
    """

    name = "Adagrad"
    torch_class = "Adagrad"
    reference = "Duchi, Hazan & Singer 2011; d2l 12.7; torch.optim.Adagrad"
    demo = MappingProxyType({"lr": 0.5})
    spec = (
        replace(LR, default=1e-2),
        HyperParam("lr_decay", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.1, help="lr decay δ: η / (1 + (t-1)δ)"),
        WEIGHT_DECAY,
        HyperParam(
            "initial_accumulator_value", 0.0, minimum=0.0, ui_min=0.0, ui_max=1.0, help="starting value τ of the sum"
        ),
        replace(EPS, default=1e-10),
        MAXIMIZE,
        EPS_INSIDE_SQRT,
    )
    rule = (
        r"g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}\\"
        r"s_t = s_{t-1} + g_t^2 \quad (s_0 = \tau)\\"
        r"x_t = x_{t-1} - \frac{\eta}{1 + (t-1)\,\delta}\,\frac{g_t}{\sqrt{s_t} + \epsilon}"
        r"\\\left(\frac{g_t}{\sqrt{s_t + \epsilon}} \text{ if eps\_inside\_sqrt}\right)"
    )
    state_names = ("sum",)
    explanation = (
        r"\eta_t = \frac{\eta}{1 + (t-1)\,\text{lr\_decay}} = $_decayed_lr",
        r"s_t = s_{t-1} + g_t^2 = $prev_sum + $_g_squared = $sum",
        r"\eta_{\text{eff}} = \frac{\eta_t}{$_denominator_tex} = $effective_lr_rule",
        r"\Delta x = -\eta_{\text{eff}} \odot g_t = -$effective_lr_rule \odot $g",
    )

    def prepare(self):
        self._eps = operand(self.h("eps"))
        self._lr_decay = None if self.all_zero("lr_decay") else self.h("lr_decay")
        self._eps_inside_sqrt = self.h("eps_inside_sqrt")
        self._denominator_tex = r"\sqrt{s_t + \epsilon}" if self._eps_inside_sqrt else r"\sqrt{s_t} + \epsilon"

    def init(self, x0, lr):
        return {"sum": np.zeros_like(x0) + self.h("initial_accumulator_value")}

    def update(self, x, g, state, lr, t, hess):
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        # without lr_decay clr is lr exactly (a division by 1), so skip the division (and the call)
        clr = lr if self._lr_decay is None else self._decayed_lr(lr, t)
        total = state["sum"] + g * g
        std = np.sqrt(total + self._eps) if self._eps_inside_sqrt else np.sqrt(total) + self._eps
        # torch's addcdiv multiplies by the step before dividing: (-clr * g) / std
        return x + (-clr * g) / std, {"sum": total}

    def _decayed_lr(self, lr, t):
        return lr / (1 + (t - 1) * self._lr_decay)

    def explain(self, x, g, before, after, lr, t, hess):
        clr = lr if self._lr_decay is None else self._decayed_lr(lr, t)
        total = after["sum"]
        std = np.sqrt(total + self._eps) if self._eps_inside_sqrt else np.sqrt(total) + self._eps
        shown = {
            "sum": total,
            "effective_lr_rule": clr / std,
            "_g_squared": g * g,
            "_denominator_tex": self._denominator_tex,  # where ε sits, as the step computed it
        }
        if self._lr_decay is not None:
            shown["_decayed_lr"] = clr
        return shown
