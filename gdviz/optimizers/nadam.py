"""NAdam, Adam with Nesterov momentum and Dozat's momentum schedule, as torch.optim.NAdam."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import DECOUPLED, AdamLike, betas_param, power
from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY
from gdviz.params import HyperParam

_LR = dataclasses.replace(LR, default=2e-3)
MOMENTUM_DECAY = HyperParam(
    "momentum_decay", 4e-3, minimum=0.0, ui_min=1e-4, ui_max=1e-1, log=True, help="ψ in μ_t = β1(1 - ½·0.96^(tψ))"
)


class NAdam(AdamLike):
    r"""NAdam: Adam whose momentum term looks one step ahead, with a warming-up momentum schedule.

    .. math::
        \mu_t = \beta_1\bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr), \quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        x_t = x_{t-1} - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{d_t}
              - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{d_t}, \quad
        d_t = \sqrt{v_t/(1-\beta_2^t)} + \epsilon

    with :math:`g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}`, or decoupled decay
    :math:`x_{t-1} \leftarrow (1-\eta\lambda)\,x_{t-1}` (NAdamW). ``maximize`` negates the gradient.

    Warning: torch keeps the running product :math:`\prod \mu_i` (``mu_product``) in a scalar tensor
    of torch's default dtype, float32 unless ``torch.set_default_dtype(torch.float64)``; it is
    rounded to float32 after every multiplication here too, so that the paths agree to float64
    precision rather than float32's.

    References: Dozat (2016), "Incorporating Nesterov Momentum into Adam"; torch.optim.NAdam.
    """

    name = "NAdam"
    torch_class = "NAdam"
    reference = "Dozat 2016; torch.optim.NAdam"
    demo = MappingProxyType({"lr": 0.05})
    spec = (_LR, betas_param(), EPS, WEIGHT_DECAY, MOMENTUM_DECAY, DECOUPLED, MAXIMIZE)
    rule = (
        r"\mu_t = \beta_1\bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr)\\"
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"d_t = \sqrt{v_t/(1-\beta_2^t)} + \epsilon\\"
        r"x_t = x_{t-1} - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{d_t}"
        r" - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{d_t}"
    )
    state_names = ("exp_avg", "exp_avg_sq", "mu_product")

    def prepare(self):
        super().prepare()
        self._momentum_decay = self.h("momentum_decay")
        self._scalar_powers = self._scalar_betas and not isinstance(self._momentum_decay, np.ndarray)

    def init(self, x0, lr):
        return {
            "exp_avg": np.zeros_like(x0),
            "exp_avg_sq": np.zeros_like(x0),
            "mu_product": np.ones((x0.shape[0], 1)),
        }

    def update(self, x, g, state, lr, t, hess):
        return self._step(x, g, state, lr, t, self._beta1, cycled=False)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float), set by a momentum-cycling schedule (torch's ``betas[0]``).

        torch's μ_t and μ_{t+1} both use this step's β1; the running product keeps the μ of past steps.
        """
        return self._step(x, g, state, lr, t, momentum, cycled=True)

    def _step(self, x, g, state, lr, t, beta1, cycled):
        momentum_decay = self._momentum_decay
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        if self._scalar_powers:
            power2, decay_now, decay_next = (
                self._beta2**t,
                0.96 ** (t * momentum_decay),
                0.96 ** ((t + 1) * momentum_decay),
            )
        else:
            power2 = power(self._beta2, t)
            decay_now, decay_next = power(0.96, t * momentum_decay), power(0.96, (t + 1) * momentum_decay)
        bias_correction2 = 1 - power2
        mu = beta1 * (1.0 - 0.5 * decay_now)
        mu_next = beta1 * (1.0 - 0.5 * decay_next)
        if cycled:
            exp_avg, exp_avg_sq = self.cycled_moments(g, state["exp_avg"], state["exp_avg_sq"], beta1)
        else:
            exp_avg, exp_avg_sq = self.moments(g, state["exp_avg"], state["exp_avg_sq"])
        denom = np.sqrt(exp_avg_sq / bias_correction2) + self._eps
        # torch's float32 scalar tensor times a Python float: both rounded to float32, product in float32
        if x.shape[0] == 1 and isinstance(mu, float):
            # a single run: mu_product and the step's coefficients are numbers, cheaper than (1, 1) arrays
            mu_product = float(np.float32(state["mu_product"].item()) * np.float32(mu))
            new_mu_product = np.array([[mu_product]])
        else:
            mu_product = new_mu_product = (
                state["mu_product"].astype(np.float32) * np.asarray(mu, dtype=np.float32)
            ).astype(np.float64)
        mu_product_next = mu_product * mu_next
        x = x + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
        x = x + (((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg) / denom
        return x, {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "mu_product": new_mu_product}
