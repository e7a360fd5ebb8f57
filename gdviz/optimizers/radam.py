"""RAdam, Adam with its adaptive step rectified while the variance estimate is unreliable, as torch.optim.RAdam."""

from __future__ import annotations

import numpy as np

from gdviz.optimizers.adam import DECOUPLED, AdamLike, adam_moments, betas_param, power, weight_decay_step
from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY

# torch takes the adaptive step once the SMA length exceeds this (the paper says 4)
_RHO_THRESHOLD = 5.0


class RAdam(AdamLike):
    r"""RAdam: momentum SGD for the first steps, then Adam with a variance-rectification factor.

    .. math::
        \rho_\infty = \frac{2}{1-\beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t}, \quad
        \hat m_t = \frac{m_t}{1-\beta_1^t},

        x_t = x_{t-1} - \eta\,\hat m_t \cdot
        \begin{cases}
            \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}\,
            \sqrt{\dfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} & \rho_t > 5 \\
            1 & \text{otherwise}
        \end{cases}

    with m, v as in Adam, :math:`g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}` or decoupled decay
    :math:`x_{t-1} \leftarrow (1-\eta\lambda)\,x_{t-1}`. ``maximize`` negates the gradient.

    Warning: torch switches at ρ_t > 5 (the paper's Algorithm 2 says ρ_t > 4), and adds ε to √v_t
    before the bias correction. With β2 < 0.6, ρ_∞ ≤ 4 and the adaptive step is never taken. In a
    sweep over β2 each run switches on its own step.

    References: Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and Beyond";
    torch.optim.RAdam.
    """

    name = "RAdam"
    torch_class = "RAdam"
    reference = "Liu et al. 2020; torch.optim.RAdam"
    spec = (LR, betas_param(), EPS, WEIGHT_DECAY, DECOUPLED, MAXIMIZE)
    rule = (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"\rho_\infty = \frac{2}{1-\beta_2} - 1, \quad \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t}\\"
        r"r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}\\"
        r"x_t = x_{t-1} - \frac{\eta\, m_t}{1-\beta_1^t}\cdot"
        r"\begin{cases} r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5\\ 1 & \text{else}\end{cases}"
    )
    state_names = ("exp_avg", "exp_avg_sq")

    def init(self, x0, lr):
        return {"exp_avg": np.zeros_like(x0), "exp_avg_sq": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        beta1, beta2 = self.h("betas")
        if self.h("maximize"):
            g = -g
        x, g = weight_decay_step(x, g, lr, self.h("weight_decay"), self.h("decoupled_weight_decay"))
        exp_avg, exp_avg_sq = adam_moments(g, state["exp_avg"], state["exp_avg_sq"], beta1, beta2)
        new_state = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        bias_correction1 = 1 - power(beta1, t)
        bias_correction2 = 1 - power(beta2, t)
        momentum_step = exp_avg / bias_correction1 * lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * power(beta2, t) / bias_correction2
        rectify = rho_t > _RHO_THRESHOLD  # a bool, or (R, 1) in a sweep over beta2
        if not np.any(rectify):
            return x - momentum_step, new_state
        # runs not yet rectified get harmless stand-ins, so that the factor is finite everywhere
        rho_t = np.where(rectify, rho_t, 6.0)
        rho_inf = np.where(rectify, rho_inf, 7.0)
        rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        # torch's `float / tensor` is `tensor.reciprocal() * float`
        adaptive_lr = (1 / (np.sqrt(exp_avg_sq) + self.h("eps"))) * np.sqrt(bias_correction2)
        adaptive_step = momentum_step * adaptive_lr * rect
        return x - np.where(rectify, adaptive_step, momentum_step), new_state
