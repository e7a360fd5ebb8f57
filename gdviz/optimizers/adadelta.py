"""Adadelta: RMSprop whose step size is the root mean square of its own past steps, as torch.optim.Adadelta."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY, Optimizer, operand
from gdviz.params import HyperParam


class Adadelta(Optimizer):
    r"""Adadelta: the units of the step come from a moving average of past squared steps, not from a global lr.

    .. math::
        g_t \leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1}, \quad
        v_t \leftarrow \rho v_{t-1} + (1-\rho) g_t^2, \quad
        \Delta_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \\
        u_t \leftarrow \rho u_{t-1} + (1-\rho) \Delta_t^2, \quad
        x_t \leftarrow x_{t-1} - \eta\, \Delta_t

    Conventions (torch's): ε sits *inside* both square roots, as in Zeiler's paper (unlike Adagrad
    and RMSprop), so with :math:`u_0 = 0` the first steps have size of order :math:`\sqrt{\epsilon}`:
    ε, not η, sets how fast Adadelta starts. The paper has no lr; torch's ``lr`` (default 1, which
    recovers the paper) scales the step after :math:`u_t` is updated, so it does not feed back into
    the average of squared steps.

    References: Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701;
    d2l 12.9; torch.optim.Adadelta.
    """

    name = "Adadelta"
    torch_class = "Adadelta"
    reference = "Zeiler 2012; d2l 12.9; torch.optim.Adadelta"
    demo = MappingProxyType({"lr": 0.5})
    demo_steps = 10000  # its first steps have size ~√ε (see above), so it takes longer to get going
    spec = (
        replace(LR, default=1.0, ui_min=1e-3, ui_max=10.0),
        HyperParam("rho", 0.9, minimum=0.0, maximum=1.0, ui_min=0.5, ui_max=0.999, help="decay ρ of both averages"),
        replace(EPS, default=1e-6, ui_min=1e-10, ui_max=1.0),
        WEIGHT_DECAY,
        MAXIMIZE,
    )
    rule = (
        r"v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2\\"
        r"\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t,\quad"
        r" u_t = \rho\, u_{t-1} + (1-\rho)\, \Delta_t^2\\"
        r"x_t = x_{t-1} - \eta\, \Delta_t"
    )
    state_names = ("square_avg", "acc_delta")
    explanation = (
        r"v_t = \rho v_{t-1} + (1-\rho)\, g_t^2 = $square_avg",
        r"\frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} = $_ratio, \quad \delta_t = $_ratio \odot $g = $_delta",
        r"u_t = \rho u_{t-1} + (1-\rho)\, \delta_t^2 = $acc_delta",
        r"\Delta x = -\eta\, \delta_t = -$lr \cdot $_delta",
    )

    def prepare(self):
        rho = self.h("rho")
        self._rho, self._decay, self._eps = operand(rho), operand(1 - rho), operand(self.h("eps"))

    def init(self, x0, lr):
        return {"square_avg": np.zeros_like(x0), "acc_delta": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        rho, decay, eps = self._rho, self._decay, self._eps
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        square_avg = state["square_avg"] * rho + decay * g * g
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(state["acc_delta"] + eps) / std * g
        acc_delta = state["acc_delta"] * rho + decay * delta * delta
        # torch adds -lr times delta; with the paper's lr = 1 that product is delta exactly
        step = delta if isinstance(lr, float) and lr == 1.0 else lr * delta
        return x - step, {"square_avg": square_avg, "acc_delta": acc_delta}

    def explain(self, x, g, before, after, lr, t, hess):
        square_avg = after["square_avg"]
        # the same operations as update's delta, in its order: sqrt(u + ε) / sqrt(v + ε), then times g
        ratio = np.sqrt(before["acc_delta"] + self._eps) / np.sqrt(square_avg + self._eps)
        return {
            "square_avg": square_avg,
            "acc_delta": after["acc_delta"],
            "effective_lr_rule": lr * ratio,
            "_ratio": ratio,
            "_delta": ratio * g,
        }
