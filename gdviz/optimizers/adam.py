"""Adam and AdamW as torch.optim implements them, and the pieces the rest of the Adam family shares.

A momentum-cycling schedule (CyclicLR, OneCycleLR) sets β1 anew before every step, as torch's write
``group["betas"]``; the run loop then calls ``update_with_momentum`` with that β1 (a float, the same
for every run) instead of ``update``, which keeps the constants ``prepare`` worked out for the
optimizer's own β1.
torch reads the current β1 everywhere, so the bias correction is ``1 - β1_t^t`` with this step's β1
(not a product of the past ones), as in torch's ``_single_tensor_adam``.
"""

from __future__ import annotations

import dataclasses
import math
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.optimizers.base import EPS, LR, MAXIMIZE, WEIGHT_DECAY, Optimizer, State, operand
from gdviz.params import HyperParam

AMSGRAD = HyperParam("amsgrad", False, kind="bool", help="AMSGrad: normalize by the running maximum of v")
DECOUPLED = HyperParam(
    "decoupled_weight_decay", False, kind="bool", help="shrink x by (1 - ηλ) instead of adding λx to the gradient"
)


def betas_param(default: tuple[float, float] = (0.9, 0.999)) -> HyperParam:
    """torch's ``betas``: decay rates (β1, β2) of the two moment averages, each in [0, 1)."""
    return HyperParam(
        "betas",
        default,
        kind="pair",
        minimum=0.0,
        maximum=1.0,
        max_inclusive=False,
        ui_min=0.0,
        ui_max=0.9999,
        help="decay rates (β1, β2) of the gradient and squared-gradient averages",
    )


def _as_pair(betas: Any) -> tuple[Any, Any] | None:
    """The two elements of a betas pair, or None when it is no pair (left to the generic validation)."""
    if isinstance(betas, np.ndarray):
        return (betas[0], betas[1]) if betas.ndim >= 1 and len(betas) == 2 else None
    if isinstance(betas, (tuple, list)) and len(betas) == 2:
        return betas[0], betas[1]
    return None


def check_betas(betas: Any) -> None:
    """Reject a beta outside [0, 1) in torch's words; malformed input is left to the generic validation."""
    pair = _as_pair(betas)
    if pair is None:
        return
    for index, beta in enumerate(pair):
        if isinstance(beta, (bool, np.bool_, str, bytes)):
            return
        try:
            values = np.asarray(beta, dtype=np.float64)
        except (TypeError, ValueError):
            return
        if values.ndim > 1:
            return
        bad = ~((values >= 0.0) & (values < 1.0))  # NaN is bad too, as in torch's `not 0.0 <= b < 1.0`
        if np.any(bad):
            shown = beta if values.ndim == 0 else values[bad].tolist()[:3]
            raise ValueError(f"Invalid beta parameter at index {index}: {shown}")


class AdamLike(Optimizer):
    """An optimizer with a ``betas`` pair, checked first with torch's wording.

    It also holds the steps the Adam family shares (moments, bias corrections, weight decay), with
    their constants worked out once in ``prepare``.
    """

    def __init__(self, **hyper: Any):
        check_betas(hyper.get("betas"))
        super().__init__(**hyper)

    def prepare(self):
        beta1, beta2 = self.h("betas")
        self._beta1, self._beta2 = beta1, beta2
        self._scalar_betas = not isinstance(beta1, np.ndarray) and not isinstance(beta2, np.ndarray)
        self._beta2_operand, self._decay2 = operand(beta2), operand(1 - beta2)
        # torch's lerp takes the branch that loses no precision; for a scalar weight it is known now
        weight = 1 - beta1
        self._near = operand(weight) if isinstance(weight, float) and abs(weight) < 0.5 else None
        self._far = operand(1 - weight) if isinstance(weight, float) and abs(weight) >= 0.5 else None
        self._eps = operand(self.hyper.get("eps", 0.0))

    def beta_powers(self, t: int) -> tuple[float | np.ndarray, float | np.ndarray]:
        """(β1^t, β2^t): Python floats, or (R, 1) columns when a beta is swept."""
        if self._scalar_betas:
            return self._beta1**t, self._beta2**t
        return power(self._beta1, t), power(self._beta2, t)

    def beta2_power(self, t: int) -> float | np.ndarray:
        """β2^t: a Python float, or an (R, 1) column when β2 is swept."""
        return self._beta2**t if isinstance(self._beta2, float) else power(self._beta2, t)

    def moments(self, g: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """m ← lerp(m, g, 1 - β1), v ← β2 v + (1 - β2) g², in torch's order."""
        if self._near is not None:
            exp_avg = exp_avg + self._near * (g - exp_avg)
        elif self._far is not None:
            exp_avg = g - (g - exp_avg) * self._far
        else:
            exp_avg = lerp(exp_avg, g, 1 - self._beta1)
        return exp_avg, exp_avg_sq * self._beta2_operand + self._decay2 * g * g

    def cycled_moments(
        self, g: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, beta1: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`moments` with this step's β1 (a float) from a momentum-cycling schedule."""
        return lerp(exp_avg, g, 1 - beta1), exp_avg_sq * self._beta2_operand + self._decay2 * g * g


def power(base: float | np.ndarray, exponent: float | np.ndarray) -> float | np.ndarray:
    """``base ** exponent`` with C's ``pow``, as torch's Python-float arithmetic computes it.

    Python's ``**`` for numbers; ``np.float_power`` for (R, 1) sweeps, which also calls C's ``pow``
    (``np.power``'s SIMD loop can differ from it in the last bit). So a swept run is bit-identical
    to the same run on its own, and both to torch's bias corrections.
    """
    if isinstance(base, np.ndarray) or isinstance(exponent, np.ndarray):
        return np.float_power(base, exponent)
    return base**exponent


def root(value: float | np.ndarray) -> float | np.ndarray:
    """The square root of a Python float (math, no NumPy call) or of an array; both correctly rounded."""
    return math.sqrt(value) if isinstance(value, float) else np.sqrt(value)


def lerp(start: np.ndarray, end: np.ndarray, weight: float | np.ndarray) -> np.ndarray:
    """torch.lerp: ``start + w (end - start)`` for |w| < 0.5, else ``end - (end - start)(1 - w)``."""
    if not isinstance(weight, np.ndarray):
        if abs(weight) < 0.5:
            return start + weight * (end - start)
        return end - (end - start) * (1 - weight)
    return np.where(np.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))


def adam_step(
    x: np.ndarray,
    exp_avg: np.ndarray,
    second: np.ndarray,
    lr: float | np.ndarray,
    bias_correction1: float | np.ndarray,
    bias_correction2: float | np.ndarray,
    eps: float | np.ndarray,
) -> np.ndarray:
    """x - η/(1-β1^t) · m / (√v / √(1-β2^t) + ε): eps outside the square root, as torch does."""
    step_size = lr / bias_correction1
    denom = np.sqrt(second) / root(bias_correction2) + eps
    return x + (-step_size * exp_avg) / denom


class Adam(AdamLike):
    r"""Adam: momentum on the gradient, RMSProp on its square, both bias-corrected.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}`; with ``decoupled_weight_decay`` the
    penalty becomes :math:`x_{t-1} \leftarrow (1-\eta\lambda)\,x_{t-1}` instead (AdamW). AMSGrad
    divides by :math:`\sqrt{\max_{s \le t} v_s}`. ``maximize`` negates the gradient.

    Warning: ε sits outside the square root and is added *after* the bias correction, which is the
    paper's Algorithm 1 (:math:`\hat m_t / (\sqrt{\hat v_t} + \epsilon)`); the "efficient" form at the
    end of the paper's Section 2, used by TF1/Keras, adds ε̂ to the uncorrected √v and so differs early on.

    References: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization"; Reddi et al. (2018),
    "On the Convergence of Adam and Beyond" (AMSGrad); d2l 12.10; torch.optim.Adam.
    """

    name = "Adam"
    torch_class = "Adam"
    reference = "Kingma & Ba 2015; Reddi et al. 2018 (AMSGrad); torch.optim.Adam"
    demo = MappingProxyType({"lr": 0.05})
    spec = (LR, betas_param(), EPS, WEIGHT_DECAY, AMSGRAD, MAXIMIZE, DECOUPLED)
    rule = (
        r"g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}\\"
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"(\text{AMSGrad: } v_t^{\max} = \max(v_{t-1}^{\max}, v_t))\\"
        r"x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}"
    )
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    explanation = (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t = $_beta1 \cdot $prev_exp_avg + $_decay1 \cdot $g = $exp_avg",
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 = $_beta2 \cdot $prev_exp_avg_sq + $_decay2 \cdot $_g_squared"
        r" = $exp_avg_sq",
        r"v_t^{\max} = \max(v_{t-1}^{\max}, v_t) = $max_exp_avg_sq",
        r"\hat m_t = \frac{m_t}{1-\beta_1^{$t}} = \frac{$exp_avg}{$bias_correction1} = $m_hat, \quad"
        r" \hat v_t = \frac{v_t}{1-\beta_2^{$t}} = \frac{$_second}{$bias_correction2} = $v_hat",
        r"\eta_{\text{eff}} = \frac{\eta}{\sqrt{\hat v_t} + \epsilon} = $effective_lr_rule",
        r"\Delta x = -\eta_{\text{eff}} \odot \hat m_t = -$effective_lr_rule \odot $m_hat",
    )

    def prepare(self):
        super().prepare()
        self._amsgrad = self.h("amsgrad")

    def init(self, x0, lr):
        # max_exp_avg_sq stays zero unless amsgrad, so that every run has the same state names
        return {name: np.zeros_like(x0) for name in self.state_names}

    def update(self, x, g, state, lr, t, hess):
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        exp_avg, exp_avg_sq = self.moments(g, state["exp_avg"], state["exp_avg_sq"])
        max_exp_avg_sq = state["max_exp_avg_sq"]
        second = exp_avg_sq
        if self._amsgrad:
            max_exp_avg_sq = second = np.maximum(max_exp_avg_sq, exp_avg_sq)
        power1, power2 = self.beta_powers(t)
        x_new = adam_step(x, exp_avg, second, lr, 1 - power1, 1 - power2, self._eps)
        new_state: State = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "max_exp_avg_sq": max_exp_avg_sq}
        return x_new, new_state

    def update_with_momentum(self, x, g, state, lr, t, hess, momentum):
        """:meth:`update` with this step's β1 (a float), set by a momentum-cycling schedule."""
        if self.needs_preamble:
            x, g = self.preamble(x, g, lr)
        exp_avg, exp_avg_sq = self.cycled_moments(g, state["exp_avg"], state["exp_avg_sq"], momentum)
        max_exp_avg_sq = state["max_exp_avg_sq"]
        second = exp_avg_sq
        if self._amsgrad:
            max_exp_avg_sq = second = np.maximum(max_exp_avg_sq, exp_avg_sq)
        x_new = adam_step(x, exp_avg, second, lr, 1 - power(momentum, t), 1 - self.beta2_power(t), self._eps)
        new_state: State = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "max_exp_avg_sq": max_exp_avg_sq}
        return x_new, new_state

    def explain(self, x, g, before, after, lr, t, hess):
        exp_avg, exp_avg_sq = after["exp_avg"], after["exp_avg_sq"]
        shown = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        second = exp_avg_sq
        if self._amsgrad:
            shown["max_exp_avg_sq"] = second = after["max_exp_avg_sq"]
        power1, power2 = self.beta_powers(t)
        bias_correction1, bias_correction2 = np.float64(1 - power1), np.float64(1 - power2)
        m_hat, v_hat = exp_avg / bias_correction1, second / bias_correction2
        shown.update(
            bias_correction1=bias_correction1,
            bias_correction2=bias_correction2,
            m_hat=m_hat,
            v_hat=v_hat,
            # the lr each coordinate of m̂ gets: η / (√v̂ + ε), the paper's form of adam_step's division
            effective_lr_rule=lr / (np.sqrt(v_hat) + self._eps),
            _beta1=self._beta1,
            _decay1=1 - self._beta1,
            _beta2=self._beta2,
            _decay2=1 - self._beta2,
            _g_squared=g * g,
            _second=second,
        )
        return shown


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay shrinks the iterate instead of entering the moments.

    .. math::
        x_{t-1} \leftarrow (1-\eta\lambda)\, x_{t-1}, \quad \text{then the Adam step with } g_t = \nabla f(x_{t-1})

    Warning: torch multiplies λ by the (scheduled) lr η; the paper's Algorithm 2 multiplies it by the
    schedule multiplier only, not by the base step size α, so torch's λ is the paper's λ/α.

    References: Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization"; torch.optim.AdamW.
    """

    name = "AdamW"
    torch_class = "AdamW"
    reference = "Loshchilov & Hutter 2019; torch.optim.AdamW"
    demo = MappingProxyType({"lr": 0.05, "weight_decay": 0.0})
    spec = (LR, betas_param(), EPS, dataclasses.replace(WEIGHT_DECAY, default=1e-2), AMSGRAD, MAXIMIZE)
    rule = (
        r"x_{t-1} \leftarrow (1-\eta\lambda)\, x_{t-1}\\"
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\, \nabla f(x_{t-1})\\"
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, \nabla f(x_{t-1})^2\\"
        r"x_t = x_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}"
    )

    def decoupled(self) -> bool:
        return True
