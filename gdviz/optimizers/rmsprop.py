"""RMSprop: steps scaled by a moving average of squared gradients, as torch.optim.RMSprop."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.adagrad import EPS_INSIDE_SQRT
from gdviz.optimizers.adam import lerp
from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY, Optimizer, operand
from gdviz.params import HyperParam


class RMSprop(Optimizer):
    r"""Adagrad with a leaky accumulator: an exponential moving average of squared gradients.

    .. math::
        g_t \leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1}, \quad
        v_t \leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        \bar g_t \leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t, \\
        d_t \leftarrow \frac{g_t}{\sqrt{v_t - \bar g_t^2} + \epsilon} \text{ if centered else }
        \frac{g_t}{\sqrt{v_t} + \epsilon}, \quad
        b_t \leftarrow \mu b_{t-1} + d_t, \quad
        x_t \leftarrow x_{t-1} - \eta\, b_t \;(\text{or } x_{t-1} - \eta\, d_t \text{ when } \mu = 0)

    with ``eps_inside_sqrt``, :math:`\sqrt{v_t} + \epsilon` becomes :math:`\sqrt{v_t + \epsilon}` (and
    :math:`\sqrt{v_t - \bar g_t^2} + \epsilon` becomes :math:`\sqrt{v_t - \bar g_t^2 + \epsilon}`).

    Conventions (torch's): ε sits outside the square root; ``alpha`` is the decay of the average
    (d2l's γ); all averages start at 0 without bias correction, so the first steps are larger than η
    by about :math:`1/\sqrt{1-\alpha}`; the momentum buffer starts at 0 and is only kept when μ > 0.
    The centered variant (Graves 2013) divides by an estimate of the gradient's standard deviation
    instead of its root mean square.

    .. warning:: d2l 12.8 puts ε inside the square root (with ε = 1e-6). ``eps_inside_sqrt=True``
        follows the book: ``RMSprop(lr=0.4, alpha=0.9, eps=1e-6, eps_inside_sqrt=True)`` from (-5, -2)
        on d2l's 0.1 x1² + 2 x2² ends its 20 steps at the digits the book prints (ε outside, x1 is
        off by one in the sixth decimal). torch has no such argument; off (the default), the update
        is torch's.

    References: Tieleman & Hinton (2012), COURSERA Neural Networks lecture 6.5; Graves (2013),
    "Generating Sequences With Recurrent Neural Networks"; d2l 12.8; torch.optim.RMSprop.
    """

    name = "RMSprop"
    torch_class = "RMSprop"
    reference = "Tieleman & Hinton 2012; Graves 2013; d2l 12.8; torch.optim.RMSprop"
    demo = MappingProxyType({"lr": 0.01})
    spec = (
        replace(LR, default=1e-2),
        # torch accepts any alpha >= 0, but alpha > 1 makes the average of squares negative; below
        # about 0.5 the average forgets within a step or two and the steps bounce chaotically
        HyperParam("alpha", 0.99, minimum=0.0, maximum=1.0, ui_min=0.5, ui_max=0.999, help="decay α of the average"),
        EPS,
        WEIGHT_DECAY,
        HyperParam("momentum", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.99, help="momentum factor μ"),
        HyperParam("centered", False, kind="bool", help="normalize by the gradient's estimated variance"),
        MAXIMIZE,
        EPS_INSIDE_SQRT,
    )
    rule = (
        r"v_t = \alpha v_{t-1} + (1-\alpha)\, g_t^2\\"
        r"\bar g_t = \alpha \bar g_{t-1} + (1-\alpha)\, g_t\\"
        r"d_t = g_t / (\sqrt{v_t\ (- \bar g_t^2 \text{ if centered})} + \epsilon)\\"
        r"(\text{or } \sqrt{\cdots + \epsilon} \text{ if eps\_inside\_sqrt})\\"
        r"b_t = \mu\, b_{t-1} + d_t,\quad x_t = x_{t-1} - \eta\, b_t"
    )
    state_names = ("square_avg", "grad_avg", "momentum_buffer")
    explanation = (
        r"v_t = \alpha v_{t-1} + (1-\alpha)\, g_t^2 = $_alpha \cdot $prev_square_avg + $_decay \cdot $_g_squared"
        r" = $square_avg",
        r"\bar g_t = \alpha \bar g_{t-1} + (1-\alpha)\, g_t = $grad_avg",
        r"$_denominator_tex = $_denominator",
        r"\eta_{\text{eff}} = \eta / ($_denominator_tex) = $effective_lr_rule",
        r"\Delta x = -\eta_{\text{eff}} \odot g_t = -$effective_lr_rule \odot $_gradient_step",
        r"b_t = \mu b_{t-1} + g_t / ($_denominator_tex) = $momentum_buffer, \quad \Delta x = -\eta\, b_t",
    )

    def prepare(self):
        alpha = self.h("alpha")
        self._alpha, self._decay = operand(alpha), operand(1 - alpha)
        self._centered, self._eps = self.h("centered"), operand(self.h("eps"))
        self._eps_inside_sqrt = self.h("eps_inside_sqrt")
        # the denominator as the inspector writes it: what sits under the root, then where ε goes
        under_root = r"v_t - \bar g_t^2" if self._centered else "v_t"
        self._denominator_tex = (
            rf"\sqrt{{{under_root} + \epsilon}}" if self._eps_inside_sqrt else rf"\sqrt{{{under_root}}} + \epsilon"
        )
        self._momentum = None if self.all_zero("momentum") else operand(self.h("momentum"))
        self._mixed_momentum = self.some_zero("momentum") and self._momentum is not None

    def init(self, x0, lr):
        return {name: np.zeros_like(x0) for name in self.state_names}

    def update(self, x, g, state, lr, t, hess):
        momentum = self._momentum
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        square_avg, grad_avg, avg = self._averages(g, state)
        new_state = {"square_avg": square_avg, "grad_avg": grad_avg, "momentum_buffer": state["momentum_buffer"]}
        if momentum is None:
            return x + (-lr * g) / avg, new_state
        buf = state["momentum_buffer"] * momentum + g / avg
        x_new = x - lr * buf
        if self._mixed_momentum:
            # a swept momentum that includes 0: torch takes the plain step and keeps no buffer for those runs
            x_new = np.where(momentum == 0, x + (-lr * g) / avg, x_new)
            buf = np.where(momentum == 0, 0.0, buf)
        new_state["momentum_buffer"] = buf
        return x_new, new_state

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's momentum μ (a float), set by a momentum-cycling schedule.

        torch's RMSprop reads ``group["momentum"]`` at every step: a step whose μ is 0 is the plain
        step and leaves the buffer as it was. (torch makes the buffer, zeros, at its first step and
        only if μ > 0 then; a cycle whose μ starts at 0 and later rises, max_momentum = 0, fails
        there on the missing buffer, while here the buffer simply starts from zeros.)
        """
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        square_avg, grad_avg, avg = self._averages(g, state)
        new_state = {"square_avg": square_avg, "grad_avg": grad_avg, "momentum_buffer": state["momentum_buffer"]}
        if momentum == 0:
            return x + (-lr * g) / avg, new_state
        new_state["momentum_buffer"] = buf = state["momentum_buffer"] * momentum + g / avg
        return x - lr * buf, new_state

    def _averages(self, g: np.ndarray, state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The new square_avg and grad_avg, and the denominator of the step."""
        square_avg = state["square_avg"] * self._alpha + self._decay * g * g
        grad_avg = state["grad_avg"]
        if self._centered:
            grad_avg = lerp(grad_avg, g, 1 - self.h("alpha"))
            variance = square_avg - grad_avg * grad_avg
        else:
            variance = square_avg
        avg = np.sqrt(variance + self._eps) if self._eps_inside_sqrt else np.sqrt(variance) + self._eps
        return square_avg, grad_avg, avg

    def explain(self, x, g, before, after, lr, t, hess):
        square_avg, grad_avg = after["square_avg"], after["grad_avg"]
        # update's denominator, from the state it returned (inline in update: a call per step would slow races)
        variance = square_avg - grad_avg * grad_avg if self._centered else square_avg
        avg = np.sqrt(variance + self._eps) if self._eps_inside_sqrt else np.sqrt(variance) + self._eps
        shown = {
            "square_avg": square_avg,
            "_alpha": self._alpha,
            "_decay": self._decay,
            "_g_squared": g * g,
            "_denominator": avg,
            "_denominator_tex": self._denominator_tex,
        }
        if self._centered:
            shown["grad_avg"] = grad_avg
        shown["effective_lr_rule"] = lr / avg
        if self._momentum is None:
            shown["_gradient_step"] = g
        else:
            shown["momentum_buffer"] = after["momentum_buffer"]
        return shown
