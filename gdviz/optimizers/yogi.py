"""Yogi: Adam whose second moment moves additively, so it cannot forget large gradients too fast."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import AdamLike, betas_param
from gdviz.optimizers.base import EPS, LR
from gdviz.params import HyperParam


class Yogi(AdamLike):
    r"""Yogi: the second moment changes by at most (1-β2)g² per step, in the direction of g².

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = v_{t-1} - (1-\beta_2)\,\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2, \quad
        x_t = x_{t-1} - \eta\,\frac{m_t}{\sqrt{v_t} + \epsilon}

    with :math:`m_0 = 0` and :math:`v_0` = ``initial_accumulator_value``. Adam's
    :math:`v_t - v_{t-1} = (1-\beta_2)(g_t^2 - v_{t-1})` can shrink v by a large fraction in one
    step when gradients suddenly get small, which inflates the effective lr; Yogi's change is
    bounded by :math:`(1-\beta_2)g_t^2`, so v stays at least as large for longer.

    No bias correction, as in the paper's Algorithm 2: Adam's 1/(1-β^t) factors undo the bias of
    *averages* that start at zero, whereas Yogi's v is not an average (it moves additively and
    starts at v_0 = ``initial_accumulator_value``), so that correction has no basis for it, and the
    paper's defaults (ε = 1e-3, v_0 = 1e-6) were tuned for the uncorrected rule. d2l 12.10.4 and
    some libraries do apply Adam's factors; their paths differ from this one, most in the early steps.

    References: Zaheer et al. (2018), "Adaptive Methods for Nonconvex Optimization", NeurIPS,
    Algorithm 2.
    """

    name = "Yogi"
    torch_class = None
    reference = "Zaheer et al. 2018, Adaptive Methods for Nonconvex Optimization (NeurIPS), Algorithm 2"
    demo = MappingProxyType({"lr": 0.05})
    spec = (
        dataclasses.replace(LR, default=1e-2),
        betas_param(),
        dataclasses.replace(EPS, default=1e-3, ui_max=1.0),
        HyperParam(
            "initial_accumulator_value",
            1e-6,
            minimum=0.0,
            ui_min=1e-8,
            ui_max=1.0,
            log=True,
            help="v_0, the starting second moment",
        ),
    )
    rule = (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t = v_{t-1} - (1-\beta_2)\,\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2\\"
        r"x_t = x_{t-1} - \eta\,\frac{m_t}{\sqrt{v_t} + \epsilon}"
    )
    state_names = ("exp_avg", "exp_avg_sq")

    def init(self, x0, lr):
        v0 = np.broadcast_to(self.h("initial_accumulator_value"), x0.shape)
        return {"exp_avg": np.zeros_like(x0), "exp_avg_sq": np.array(v0, dtype=np.float64)}

    def update(self, x, g, state, lr, t, hess):
        return self._step(x, g, state, lr, self._beta1)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float) from a momentum-cycling schedule (torch's ``betas[0]``)."""
        return self._step(x, g, state, lr, momentum)

    def _step(self, x, g, state, lr, beta1):
        beta2 = self._beta2
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        g2 = g * g
        exp_avg = beta1 * exp_avg + (1 - beta1) * g
        exp_avg_sq = exp_avg_sq - (1 - beta2) * np.sign(exp_avg_sq - g2) * g2
        return x - lr * exp_avg / (np.sqrt(exp_avg_sq) + self.h("eps")), {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
