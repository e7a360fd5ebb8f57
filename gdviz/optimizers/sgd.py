"""Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import LR, MAXIMIZE, WEIGHT_DECAY, Optimizer, operand
from gdviz.params import HyperParam


class SGD(Optimizer):
    r"""Gradient descent; with momentum, the heavy-ball method as torch implements it.

    .. math::
        g_t \leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1}, \quad
        b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t \;(b_1 = g_1), \quad
        x_t \leftarrow x_{t-1} - \eta\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    Warning: torch's convention starts the momentum buffer at the first gradient (not at zero) and
    does not dampen that first step; the textbook EWMA form (d2l 12.6) differs by a factor (1-τ).

    References: Polyak (1964); Sutskever et al. (2013), "On the importance of initialization and
    momentum in deep learning"; torch.optim.SGD.
    """

    name = "SGD"
    torch_class = "SGD"
    reference = "Polyak 1964; Sutskever et al. 2013; torch.optim.SGD"
    demo = MappingProxyType({"lr": 0.01, "momentum": 0.9})
    spec = (
        LR,
        HyperParam("momentum", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.99, help="momentum factor μ"),
        HyperParam("dampening", 0.0, minimum=0.0, maximum=1.0, ui_max=0.99, help="dampening τ for momentum"),
        WEIGHT_DECAY,
        HyperParam("nesterov", False, kind="bool", help="Nesterov momentum"),
        MAXIMIZE,
    )
    rule = (
        r"g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}\\"
        r"b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (b_1 = g_1)\\"
        r"x_t = x_{t-1} - \eta\, b_t\\\text{(Nesterov: } x_t = x_{t-1} - \eta\,(g_t + \mu b_t)\text{)}"
    )
    state_names = ("momentum_buffer",)
    explanation = (
        r"\Delta x = -\eta\, g_t = -$lr \cdot $_gradient_step",
        r"b_1 = g_1 = $_first_buffer",
        r"b_t = \mu\, b_{t-1} + (1-\tau)\, g_t = $_mu \cdot $prev_momentum_buffer + $_keep \cdot $g = $momentum_buffer",
        r"\Delta x = -\eta\,(g_t + \mu b_t) = -$lr \cdot $_nesterov_direction",
        r"\Delta x = -\eta\, b_t = -$lr \cdot $_buffer_step",
    )

    def check(self, hyper):
        momentum, dampening = hyper["momentum"], hyper["dampening"]
        if hyper["nesterov"] and (np.any(np.asarray(momentum) <= 0) or np.any(np.asarray(dampening) != 0)):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def prepare(self):
        # what update needs, worked out once: None switches a term off in every run
        self._nesterov = self.h("nesterov")
        self._momentum = None if self.all_zero("momentum") else operand(self.h("momentum"))
        self._mixed_momentum = self.some_zero("momentum") and self._momentum is not None
        # torch adds the gradient with alpha = 1 - dampening; times 1.0 is exact, so skip it then
        self._keep = None if self.all_zero("dampening") else operand(1 - self.h("dampening"))

    def init(self, x0, lr):
        return {"momentum_buffer": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        momentum = self._momentum
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        if momentum is None:
            return x - lr * g, state
        if t == 1:
            buf = g.copy()
        else:
            buf = state["momentum_buffer"] * momentum + (g if self._keep is None else self._keep * g)
        direction = g + momentum * buf if self._nesterov else buf
        if self._mixed_momentum:
            # a swept momentum that includes 0: torch keeps no buffer for those runs
            direction = np.where(momentum == 0, g, direction)
            buf = np.where(momentum == 0, 0.0, buf)
        return x - lr * direction, {"momentum_buffer": buf}

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's momentum μ (a float), set by a momentum-cycling schedule.

        As torch's SGD reads ``group["momentum"]`` at every step: the buffer starts at the gradient of
        the first step whose μ is not 0 (so SGD built with momentum 0 becomes momentum SGD), and a step
        whose μ is exactly 0 (OneCycleLR with ``base_momentum=0`` at its peak) is a plain gradient step
        that leaves the buffer as it was.
        """
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        if momentum == 0:
            return x - lr * g, state
        previous = state["momentum_buffer"]
        if t == 1:
            buf = g.copy()
        elif self._keep is None:
            # an all-zero buffer (μ was 0 until now) gives 0·μ + g = g, torch's first buffer, exactly
            buf = previous * momentum + g
        else:
            # dampening: a run whose μ was 0 at every step so far has no buffer yet in torch (zeros here)
            unstarted = ~np.any(previous != 0, axis=1, keepdims=True)
            buf = np.where(unstarted, g, previous * momentum + self._keep * g)
        direction = g + momentum * buf if self._nesterov else buf
        return x - lr * direction, {"momentum_buffer": buf}

    def explain(self, x, g, before, after, lr, t, hess):
        if self._momentum is None:
            return {"_gradient_step": g}
        buf = after["momentum_buffer"]
        shown = {"momentum_buffer": buf}
        if t == 1:
            shown["_first_buffer"] = buf
        else:
            shown.update(_mu=self._momentum, _keep=1.0 if self._keep is None else self._keep)
        if self._nesterov:
            shown["_nesterov_direction"] = g + self._momentum * buf
        else:
            shown["_buffer_step"] = buf
        return shown
