"""Adamax, Adam with the infinity norm in place of the squared-gradient average, as torch.optim.Adamax."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import AdamLike, betas_param, lerp, power
from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY

_LR = dataclasses.replace(LR, default=2e-3)


class Adamax(AdamLike):
    r"""Adamax: Adam's denominator replaced by an exponentially weighted infinity norm.

    .. math::
        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}, \quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}

    Warning: torch adds ε inside the maximum (so u never reaches 0); the paper has no ε at all.
    ``maximize`` negates the gradient.

    References: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", Section 7.1;
    torch.optim.Adamax.
    """

    name = "Adamax"
    torch_class = "Adamax"
    reference = "Kingma & Ba 2015, Section 7.1; torch.optim.Adamax"
    demo = MappingProxyType({"lr": 0.05})
    spec = (_LR, betas_param(), EPS, WEIGHT_DECAY, MAXIMIZE)
    rule = (
        r"g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}\\"
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon)\\"
        r"x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}"
    )
    state_names = ("exp_avg", "exp_inf")

    def init(self, x0, lr):
        return {"exp_avg": np.zeros_like(x0), "exp_inf": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        return self._step(x, g, state, lr, t, self._beta1)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float), set by a momentum-cycling schedule (torch's ``betas[0]``)."""
        return self._step(x, g, state, lr, t, momentum)

    def _step(self, x, g, state, lr, t, beta1):
        beta2 = self._beta2
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        exp_avg = lerp(state["exp_avg"], g, 1 - beta1)
        exp_inf = np.maximum(state["exp_inf"] * beta2, np.abs(g) + self.h("eps"))
        clr = lr / (1 - power(beta1, t))
        return x + (-clr * exp_avg) / exp_inf, {"exp_avg": exp_avg, "exp_inf": exp_inf}
