"""Adam first, then SGD: the practitioner's trick of switching optimizers at a fixed step."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import AdamLike, adam_step, betas_param, power
from gdviz.optimizers.base import EPS, Optimizer
from gdviz.optimizers.sgd import SGD
from gdviz.params import HyperParam


class AdamThenSGD(AdamLike):
    r"""Adam for ``switch_step`` steps, then SGD with momentum from where Adam stopped.

    .. math::
        t \le T:\ \text{Adam}(\eta, \beta_1, \beta_2, \epsilon), \qquad
        t > T:\ b_t = \mu\, b_{t-1} + g_t \ (b_{T+1} = g_{T+1}), \quad x_t = x_{t-1} - \eta_{\text{SGD}}\, b_t

    Adam's fast early progress, then SGD's steadier search near the minimum. The SGD phase is
    torch.optim.SGD (no dampening, no Nesterov, no weight decay) started fresh at the switch: its
    momentum buffer begins at the first gradient after it; Adam's moments stay as they were.

    Warning: ``lr`` is Adam's lr, the one a schedule scales. After the switch the schedule's factor
    :math:`\eta_t/\eta` multiplies ``sgd_lr`` instead, so a schedule keeps its shape across the
    switch; the recorded lr of a run stays Adam's scheduled lr.

    References: the "Adam first, then SGD" tip of the notes on optimizers; Keskar & Socher (2017),
    "Improving Generalization Performance by Switching from Adam to SGD" (SWATS picks the step and
    the SGD lr itself; here both are given).
    """

    name = "AdamThenSGD"
    torch_class = None
    reference = "Keskar & Socher 2017 (SWATS), with a fixed switch step; torch.optim.Adam then torch.optim.SGD"
    demo = MappingProxyType({"lr": 0.05, "switch_step": 500, "sgd_lr": 0.001})
    spec = (
        HyperParam("lr", 0.1, minimum=0.0, ui_min=1e-5, ui_max=2.0, log=True, help="Adam's learning rate η"),
        betas_param(),
        EPS,
        HyperParam("switch_step", 50, kind="int", minimum=0, ui_min=0, ui_max=500, help="Adam steps before SGD"),
        HyperParam("sgd_lr", 1e-3, minimum=0.0, ui_min=1e-5, ui_max=2.0, log=True, help="SGD's learning rate"),
        HyperParam("momentum", 0.9, minimum=0.0, ui_min=0.0, ui_max=0.99, help="SGD's momentum factor μ"),
    )
    rule = (
        r"t \le T\ (\text{Adam}):\ m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}\\"
        r"t > T\ (\text{SGD}):\ b_t = \mu\, b_{t-1} + g_t \quad (b_{T+1} = g_{T+1})\\"
        r"x_t = x_{t-1} - \eta_{\mathrm{SGD}}\, b_t"
    )
    state_names = ("exp_avg", "exp_avg_sq", "momentum_buffer")

    def __init__(self, **hyper):
        super().__init__(**hyper)
        # validated sweeps are (R, 1) columns; a constructor takes them as a user gives them, (R,)
        sgd_lr, momentum = (
            np.ravel(v) if isinstance(v, np.ndarray) else v for v in (self.h("sgd_lr"), self.h("momentum"))
        )
        self._sgd: Optimizer = SGD(lr=sgd_lr, momentum=momentum)

    def init(self, x0, lr):
        return {name: np.zeros_like(x0) for name in self.state_names}

    def update(self, x, g, state, lr, t, hess):
        switch_step = self.h("switch_step")
        if t <= switch_step:
            exp_avg, exp_avg_sq = self.moments(g, state["exp_avg"], state["exp_avg_sq"])
            power1, power2 = self.beta_powers(t)
            x_new = adam_step(x, exp_avg, exp_avg_sq, lr, 1 - power1, 1 - power2, self._eps)
            return x_new, {**state, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        return self._sgd_step(x, g, state, lr, t)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float) from a momentum-cycling schedule.

        It has both ``betas`` and ``momentum``; torch's schedulers cycle ``betas[0]`` whenever an
        optimizer has ``betas``, so the cycle drives Adam's β1 until the switch, and the SGD phase
        keeps its own fixed ``momentum``.
        """
        if t <= self.h("switch_step"):
            exp_avg, exp_avg_sq = self.cycled_moments(g, state["exp_avg"], state["exp_avg_sq"], momentum)
            x_new = adam_step(x, exp_avg, exp_avg_sq, lr, 1 - power(momentum, t), 1 - self.beta2_power(t), self._eps)
            return x_new, {**state, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        return self._sgd_step(x, g, state, lr, t)

    def _sgd_step(self, x, g, state, lr, t):
        switch_step = self.h("switch_step")
        base_lr = np.asarray(self.lr, dtype=np.float64)
        # the schedule's factor; with no schedule lr is base_lr exactly, so the factor is exactly 1
        factor = np.divide(lr, base_lr, out=np.ones_like(lr), where=base_lr != 0)
        sgd_state = {"momentum_buffer": state["momentum_buffer"]}
        x_new, sgd_state = self._sgd.update(x, g, sgd_state, self.h("sgd_lr") * factor, t - switch_step, None)
        return x_new, {**state, **sgd_state}
