"""Averaged SGD: SGD with a decaying step and a running average of the iterates, as torch.optim.ASGD."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import LR, MAXIMIZE, WEIGHT_DECAY, Optimizer
from gdviz.params import HyperParam

# torch keeps eta and mu as scalar tensors of its default dtype (float32 unless set otherwise),
# so their values are rounded to float32 even when the parameters are float64
_SCALAR_DTYPE = np.float32


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (Polyak–Ruppert averaging) with torch's step-size decay.

    .. math::
        g_t \leftarrow \nabla f(x_{t-1}) + \lambda_{wd} x_{t-1}, \quad
        x_t \leftarrow x_{t-1}(1 - \lambda \eta_{t-1}) - \eta_{t-1} g_t, \quad
        a_t \leftarrow a_{t-1} + \mu_{t-1}(x_t - a_{t-1}), \\
        \eta_t \leftarrow \frac{\eta}{(1 + \lambda \eta\, t)^{\alpha}}, \quad
        \mu_t \leftarrow \frac{1}{\max(1, t - t_0)}, \quad (\eta_0 = \eta,\ \mu_0 = 1)

    The iterate :math:`x_t` is what moves (and what is plotted); the average :math:`a_t` (state
    ``ax``) just tracks it until step :math:`t_0 + 2`, then becomes the mean of the iterates from
    there on: the point Polyak & Juditsky prove converges at the optimal rate.

    Conventions (torch's): each step uses the :math:`\eta_{t-1}, \mu_{t-1}` computed at the end of
    the previous step, with that step's lr, so a schedule acts one step late; λ (``lambd``) both
    decays the step and shrinks x toward 0 like weight decay; torch stores η and μ as scalars of
    its default dtype, float32 unless changed, and so does this. The default t0 = 10⁶ means no
    averaging.

    References: Polyak & Juditsky (1992), "Acceleration of Stochastic Approximation by Averaging",
    SIAM J. Control Optim. 30(4); Bottou (2012), "Stochastic Gradient Descent Tricks";
    torch.optim.ASGD.
    """

    name = "ASGD"
    torch_class = "ASGD"
    reference = "Polyak & Juditsky 1992; Bottou 2012; torch.optim.ASGD"
    demo = MappingProxyType({"lr": 0.01})
    # torch does not check lambd, alpha or t0; negative values make the step grow (or turn complex)
    spec = (
        replace(LR, default=1e-2),
        HyperParam("lambd", 1e-4, minimum=0.0, ui_min=1e-6, ui_max=1.0, log=True, help="decay term λ"),
        HyperParam("alpha", 0.75, minimum=0.0, ui_min=0.0, ui_max=1.0, help="power α of the step decay"),
        HyperParam("t0", 1e6, minimum=0.0, ui_min=1.0, ui_max=1e6, log=True, help="step t0 where averaging starts"),
        WEIGHT_DECAY,
        MAXIMIZE,
    )
    rule = (
        r"x_t = x_{t-1}\,(1 - \lambda \eta_{t-1}) - \eta_{t-1}\, g_t\\"
        r"a_t = a_{t-1} + \mu_{t-1}\,(x_t - a_{t-1})\\"
        r"\eta_t = \eta\, /\, (1 + \lambda \eta\, t)^{\alpha},\quad \mu_t = 1 / \max(1, t - t_0)"
    )
    state_names = ("eta", "mu", "ax")

    def init(self, x0, lr):
        # torch creates eta at the first step, from that step's lr
        rows = x0.shape[0]
        eta = _as_scalar_dtype(np.broadcast_to(lr, (rows, 1)))
        return {"eta": eta, "mu": np.ones((rows, 1)), "ax": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        lambd, alpha, t0 = self.h("lambd"), self.h("alpha"), self.h("t0")
        eta, mu, ax = state["eta"], state["mu"], state["ax"]
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        x_new = x * (1 - lambd * eta) - eta * g
        # torch copies the iterate while mu == 1 rather than averaging with weight 1
        ax = np.where(mu != 1, ax + (x_new - ax) * mu, x_new)
        # a float lr as a column too: the same NumPy power for every run, so a sweep equals separate runs
        lr = np.broadcast_to(lr, eta.shape)
        new_eta = _as_scalar_dtype(lr / (1 + lambd * lr * t) ** alpha)
        new_mu = _as_scalar_dtype(np.broadcast_to(1 / np.maximum(1, t - t0), eta.shape))
        return x_new, {"eta": new_eta, "mu": new_mu, "ax": ax}


def _as_scalar_dtype(value: np.ndarray) -> np.ndarray:
    return np.asarray(value, dtype=np.float64).astype(_SCALAR_DTYPE).astype(np.float64)
