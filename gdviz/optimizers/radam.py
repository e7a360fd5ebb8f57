"""RAdam, Adam with its adaptive step rectified while the variance estimate is unreliable, as torch.optim.RAdam."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adam import DECOUPLED, AdamLike, betas_param, power, root
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
    demo = MappingProxyType({"lr": 0.05})
    spec = (LR, betas_param(), EPS, WEIGHT_DECAY, DECOUPLED, MAXIMIZE)
    rule = (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"\rho_\infty = \frac{2}{1-\beta_2} - 1, \quad \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t}\\"
        r"r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}\\"
        r"x_t = x_{t-1} - \frac{\eta\, m_t}{1-\beta_1^t}\cdot"
        r"\begin{cases} r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5\\ 1 & \text{else}\end{cases}"
    )
    state_names = ("exp_avg", "exp_avg_sq")

    def prepare(self):
        super().prepare()
        # the maximum length of the approximated SMA
        self._rho_inf = 2 / (1 - self._beta2) - 1

    def init(self, x0, lr):
        return {"exp_avg": np.zeros_like(x0), "exp_avg_sq": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        exp_avg, exp_avg_sq = self.moments(g, state["exp_avg"], state["exp_avg_sq"])
        power1, power2 = self.beta_powers(t)
        return self._step(x, lr, t, exp_avg, exp_avg_sq, power1, power2)

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float), set by a momentum-cycling schedule (torch's ``betas[0]``)."""
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        exp_avg, exp_avg_sq = self.cycled_moments(g, state["exp_avg"], state["exp_avg_sq"], momentum)
        return self._step(x, lr, t, exp_avg, exp_avg_sq, power(momentum, t), self.beta2_power(t))

    def _step(self, x, lr, t, exp_avg, exp_avg_sq, power1, power2):
        """The step from the new moments and (β1^t, β2^t)."""
        new_state = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        bias_correction1 = 1 - power1
        bias_correction2 = 1 - power2
        momentum_step = exp_avg / bias_correction1 * lr
        rho_inf = self._rho_inf
        rho_t = rho_inf - 2 * t * power2 / bias_correction2
        rectify = rho_t > _RHO_THRESHOLD  # a bool, or (R, 1) in a sweep over beta2
        per_run = isinstance(rectify, np.ndarray)
        if not (np.any(rectify) if per_run else rectify):
            return x - momentum_step, new_state
        if per_run:
            # runs not yet rectified get harmless stand-ins, so that the factor is finite everywhere
            rho_t = np.where(rectify, rho_t, 6.0)
            rho_inf = np.where(rectify, rho_inf, 7.0)
        rect = root((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        # torch's `float / tensor` is `tensor.reciprocal() * float`
        adaptive_lr = np.reciprocal(np.sqrt(exp_avg_sq) + self._eps) * root(bias_correction2)
        adaptive_step = momentum_step * adaptive_lr * rect
        return x - (np.where(rectify, adaptive_step, momentum_step) if per_run else adaptive_step), new_state
