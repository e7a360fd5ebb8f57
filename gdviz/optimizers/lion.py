"""Lion (EvoLved Sign Momentum): the sign of an interpolated momentum, found by program search."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import AdamLike, betas_param
from gdviz.optimizers.base import LR, WEIGHT_DECAY


class Lion(AdamLike):
    r"""Lion: every coordinate moves by exactly η (plus decay), in the direction of a momentum sign.

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        x_t = x_{t-1} - \eta\,\bigl(\operatorname{sign}(c_t) + \lambda x_{t-1}\bigr), \quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    with :math:`m_0 = 0` and :math:`\operatorname{sign}(0) = 0`. The update direction uses β1 and
    the stored momentum β2 (β2 > β1 keeps a longer memory than the step itself). Weight decay is
    decoupled and multiplied by η, as in AdamW. Because the step is a sign, a good η is 3-10x
    smaller than Adam's; the default is the paper's 1e-4.

    References: Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms", Algorithm 2.
    """

    name = "Lion"
    torch_class = None
    reference = "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms, Algorithm 2"
    demo = MappingProxyType({"lr": 0.01})
    spec = (dataclasses.replace(LR, default=1e-4), betas_param((0.9, 0.99)), WEIGHT_DECAY)
    rule = (
        r"c_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"x_t = x_{t-1} - \eta\,\bigl(\operatorname{sign}(c_t) + \lambda x_{t-1}\bigr)\\"
        r"m_t = \beta_2 m_{t-1} + (1-\beta_2)\, g_t"
    )
    state_names = ("exp_avg",)

    def init(self, x0, lr):
        return {"exp_avg": np.zeros_like(x0)}

    def decoupled(self):
        return True

    def update(self, x, g, state, lr, t, hess):
        return self._step(x, g, state, lr, self._beta1)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float) from a momentum-cycling schedule.

        torch's schedulers cycle ``betas[0]`` of any optimizer with ``betas``; Lion's β1 is the
        interpolation of the step's direction, and β2 (the stored momentum's decay) stays fixed.
        """
        return self._step(x, g, state, lr, momentum)

    def _step(self, x, g, state, lr, beta1):
        beta2 = self._beta2
        exp_avg = state["exp_avg"]
        direction = np.sign(beta1 * exp_avg + (1 - beta1) * g)
        # the paper's form of decoupled decay, η(sign + λx), not the shared preamble's x(1 - ηλ): the
        # same step in exact arithmetic, rounded differently
        if self._weight_decay is not None:
            direction = direction + self._weight_decay * x
        return x - lr * direction, {"exp_avg": beta2 * exp_avg + (1 - beta2) * g}
