"""Rprop: sign-based steps whose per-coordinate sizes grow or shrink with sign agreement, as torch.optim.Rprop."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import LR, MAXIMIZE, Optimizer
from gdviz.params import HyperParam


class Rprop(Optimizer):
    r"""Resilient backpropagation: only the gradient's sign is used; each coordinate adapts its own step size.

    .. math::
        s^i_t \leftarrow \operatorname{clip}\big(s^i_{t-1} \cdot
            \{\eta_+ \text{ if } g^i_{t-1} g^i_t > 0;\ \eta_- \text{ if } g^i_{t-1} g^i_t < 0;\ 1 \text{ else}\},
            \Gamma_{\min}, \Gamma_{\max}\big), \\
        g^i_t \leftarrow 0 \text{ where the sign flipped}, \quad
        x_t \leftarrow x_{t-1} - s_t \odot \operatorname{sign}(g_t), \quad (s_0 = \eta,\ g_0 = 0)

    Conventions (torch's: the iRprop⁻ variant of Igel & Hüsken, without weight-backtracking): after
    a sign flip the coordinate does not move and its stored gradient is zeroed, so its next step
    size neither grows nor shrinks; every step size is clipped to [Γmin, Γmax] on every step, so
    an lr above Γmax is cut at the first step. ``lr`` only sets the initial step sizes (from the
    first step's lr): a schedule changing lr afterwards has no effect, as in torch.

    References: Riedmiller & Braun (1993), "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm"; Igel & Hüsken (2000), "Improving the Rprop learning algorithm";
    torch.optim.Rprop.
    """

    name = "Rprop"
    torch_class = "Rprop"
    reference = "Riedmiller & Braun 1993; Igel & Hüsken 2000; torch.optim.Rprop"
    demo = MappingProxyType({"lr": 0.01})
    spec = (
        replace(LR, default=1e-2, help="initial step size η of every coordinate"),
        # no range here: check() reports a bad pair with torch's wording
        HyperParam("etas", (0.5, 1.2), kind="pair", ui_min=0.1, ui_max=2.0, help="(η-, η+): shrink and grow factors"),
        HyperParam(
            "step_sizes",
            (1e-6, 50.0),
            kind="pair",
            minimum=0.0,
            ui_min=1e-6,
            ui_max=50.0,
            log=True,
            help="(Γmin, Γmax): bounds of the step sizes",
        ),
        MAXIMIZE,
    )
    rule = (
        r"s_t = \mathrm{clip}(s_{t-1} \cdot \eta_\pm, \Gamma_{\min}, \Gamma_{\max})\\"
        r"(\eta_+ \text{ if } g_{t-1} g_t > 0,\ \eta_- \text{ if } < 0,\ 1 \text{ else})\\"
        r"g_t = 0 \text{ where } g_{t-1} g_t < 0\\"
        r"x_t = x_{t-1} - s_t \odot \mathrm{sign}(g_t) \quad (s_0 = \eta)"
    )
    state_names = ("prev", "step_size")

    def check(self, hyper):
        etaminus, etaplus = (np.asarray(v) for v in hyper["etas"])
        if not (np.all(etaminus > 0) and np.all(etaminus < 1) and np.all(etaplus > 1)):
            raise ValueError(f"Invalid eta values: {_shown(hyper['etas'][0])}, {_shown(hyper['etas'][1])}")
        # torch does not check step_sizes; a minimum above the maximum is surely a slip
        low, high = hyper["step_sizes"]
        if np.any(np.asarray(low) > np.asarray(high)):
            raise ValueError(
                f"Invalid step_sizes values: {_shown(low)}, {_shown(high)} (Rprop needs step_sizes[0] <= step_sizes[1])"
            )

    def init(self, x0, lr):
        # torch creates the step sizes at the first step, from that step's lr
        return {"prev": np.zeros_like(x0), "step_size": np.zeros_like(x0) + lr}

    def update(self, x, g, state, lr, t, hess):
        (etaminus, etaplus), (step_min, step_max) = self.h("etas"), self.h("step_sizes")
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        sign = np.sign(g * state["prev"])
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
        step_size = np.minimum(np.maximum(state["step_size"] * factor, step_min), step_max)
        g = np.where(sign < 0, 0.0, g)
        return x - np.sign(g) * step_size, {"prev": g, "step_size": step_size}


def _shown(value: float | np.ndarray) -> float | list[float]:
    return value.ravel().tolist() if isinstance(value, np.ndarray) else value
