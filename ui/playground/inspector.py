"""The per-step inspector: one optimizer's update rule at one step, with the actual numbers in it.

Everything is read from the Trajectory (``xs``, ``grads``, ``lrs``, ``states``) and, per optimizer
family, re-derived with the textbook formula: the moments, bias corrections, effective per-coordinate
learning rate and the step. A small table maps optimizer names to a formatter; an optimizer without
one is shown generically (its rule, every state before and after, the step and the effective lr),
so a new registry entry is inspectable at once. ``Inspection.values`` holds every number shown, so
tests can hold the substituted numbers against the trajectory's arrays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gdviz.run import Trajectory


@dataclass
class Inspection:
    step: int
    lines: list[str] = field(default_factory=list)  # LaTeX, one equation each
    values: dict[str, np.ndarray] = field(default_factory=dict)  # every number shown, by name
    note: str = ""


@dataclass
class _Step:
    """One step's raw numbers. ``g`` is the gradient the optimizer received (noise, clipping included)."""

    t: int
    x: np.ndarray
    g: np.ndarray
    lr: float
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    hyper: dict
    hessian: Callable[[np.ndarray], np.ndarray]


# -- LaTeX numbers --------------------------------------------------------------------------------
def num(value: float) -> str:
    """A number for LaTeX: 4 significant digits, powers of ten written out."""
    value = float(value)
    if math.isnan(value):
        return r"\text{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def vec(values) -> str:
    """A vector as a row ``(a,\\; b)``; a 1-D problem's single coordinate as a plain number."""
    flat = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if flat.size == 1:
        return num(flat[0])
    return r"\left(" + r",\; ".join(num(v) for v in flat) + r"\right)"


def display(tex: str) -> str:
    """A multi-line rule wrapped so that KaTeX's display mode breaks its lines.

    Display math ignores a top-level ``\\\\`` (with a console warning); inside ``gathered`` it breaks
    the line. Line breaks inside an environment of the rule (``cases``) are left alone.
    """
    outside = _ENVIRONMENT.sub("", tex)
    return rf"\begin{{gathered}}{tex}\end{{gathered}}" if r"\\" in outside else tex


_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL)


# what each number in Inspection.values is called on screen
LABELS = {
    "x_prev": "x_{t-1}",
    "grad_exact": "∇f(x_{t-1})",
    "g": "g_t (gradient used)",
    "lr": "η_t (scheduled lr)",
    "x_new": "x_t",
    "x_rule": "x_t from the rule",
    "delta": "Δx = x_t − x_{t-1}",
    "effective_lr": "−Δx / g_t (effective lr)",
    "effective_lr_rule": "η_eff from the rule",
    "momentum_buffer": "b_t (momentum buffer)",
    "exp_avg": "m_t (first moment)",
    "exp_avg_sq": "v_t (second moment)",
    "max_exp_avg_sq": "v_t^max (AMSGrad)",
    "bias_correction1": "1 − β1^t",
    "bias_correction2": "1 − β2^t",
    "m_hat": "m̂_t",
    "v_hat": "v̂_t",
    "sum": "s_t (sum of g²)",
    "square_avg": "v_t (average of g²)",
    "grad_avg": "ḡ_t (average of g)",
    "acc_delta": "u_t (average of δ²)",
    "eigenvalues": "eigenvalues of H + λI",
    "newton_direction": "(H + λI)⁻¹ g_t",
}


# -- shared pieces --------------------------------------------------------------------------------
def _prepare(s: _Step, lines: list[str], decoupled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """torch's common preamble: maximize negates g; weight decay adds λx to g (or shrinks x, AdamW)."""
    x, g = s.x, s.g
    if s.hyper.get("maximize"):
        g = -g
        lines.append(rf"\text{{maximize: }} g_t \leftarrow -g_t = {vec(g)}")
    decay = float(s.hyper.get("weight_decay", 0.0))
    if decay:
        if decoupled:
            x = x * (1 - s.lr * decay)
            lines.append(rf"x_{{t-1}} \leftarrow (1-\eta\lambda)\,x_{{t-1}} = {vec(x)}")
        else:
            g = g + decay * x
            lines.append(rf"g_t \leftarrow g_t + \lambda x_{{t-1}} = {vec(g)} + {num(decay)} \cdot {vec(x)} = {vec(g)}")
    return x, g


# -- families -------------------------------------------------------------------------------------
def _sgd(s: _Step, lines: list[str], values: dict) -> np.ndarray:
    x, g = _prepare(s, lines)
    mu, tau = float(s.hyper["momentum"]), float(s.hyper["dampening"])
    if mu == 0:
        lines.append(rf"\Delta x = -\eta\, g_t = -{num(s.lr)} \cdot {vec(g)}")
        return x - s.lr * g
    if s.t == 1:
        buf = g.copy()
        lines.append(rf"b_1 = g_1 = {vec(buf)}")
    else:
        buf = s.before["momentum_buffer"] * mu + (1 - tau) * g
        previous = vec(s.before["momentum_buffer"])
        lines.append(
            rf"b_t = \mu\, b_{{t-1}} + (1-\tau)\, g_t = {num(mu)} \cdot {previous} + {num(1 - tau)} \cdot {vec(g)}"
            rf" = {vec(buf)}"
        )
    values["momentum_buffer"] = buf
    if s.hyper["nesterov"]:
        direction = g + mu * buf
        lines.append(rf"\Delta x = -\eta\,(g_t + \mu b_t) = -{num(s.lr)} \cdot {vec(direction)}")
    else:
        direction = buf
        lines.append(rf"\Delta x = -\eta\, b_t = -{num(s.lr)} \cdot {vec(buf)}")
    return x - s.lr * direction


def _adagrad(s: _Step, lines: list[str], values: dict) -> np.ndarray:
    x, g = _prepare(s, lines)
    lr_decay, eps = float(s.hyper["lr_decay"]), float(s.hyper["eps"])
    clr = s.lr / (1 + (s.t - 1) * lr_decay)
    if lr_decay:
        lines.append(rf"\eta_t = \frac{{\eta}}{{1 + (t-1)\,\text{{lr\_decay}}}} = {num(clr)}")
    total = s.before["sum"] + g * g
    lines.append(rf"s_t = s_{{t-1}} + g_t^2 = {vec(s.before['sum'])} + {vec(g * g)} = {vec(total)}")
    std = np.sqrt(total) + eps
    values.update(sum=total, effective_lr_rule=clr / std)
    lines.append(rf"\eta_{{\text{{eff}}}} = \frac{{\eta_t}}{{\sqrt{{s_t}} + \epsilon}} = {vec(clr / std)}")
    lines.append(rf"\Delta x = -\eta_{{\text{{eff}}}} \odot g_t = -{vec(clr / std)} \odot {vec(g)}")
    return x + (-clr * g) / std


def _rmsprop(s: _Step, lines: list[str], values: dict) -> np.ndarray:
    x, g = _prepare(s, lines)
    alpha, eps, mu = float(s.hyper["alpha"]), float(s.hyper["eps"]), float(s.hyper["momentum"])
    square_avg = s.before["square_avg"] * alpha + (1 - alpha) * g * g
    lines.append(
        rf"v_t = \alpha v_{{t-1}} + (1-\alpha)\, g_t^2 = {num(alpha)} \cdot {vec(s.before['square_avg'])}"
        rf" + {num(1 - alpha)} \cdot {vec(g * g)} = {vec(square_avg)}"
    )
    values["square_avg"] = square_avg
    if s.hyper["centered"]:
        grad_avg = s.before["grad_avg"] + (1 - alpha) * (g - s.before["grad_avg"])
        values["grad_avg"] = grad_avg
        lines.append(rf"\bar g_t = \alpha \bar g_{{t-1}} + (1-\alpha)\, g_t = {vec(grad_avg)}")
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        lines.append(rf"\sqrt{{v_t - \bar g_t^2}} + \epsilon = {vec(avg)}")
    else:
        avg = np.sqrt(square_avg) + eps
        lines.append(rf"\sqrt{{v_t}} + \epsilon = {vec(avg)}")
    values["effective_lr_rule"] = s.lr / avg
    lines.append(rf"\eta_{{\text{{eff}}}} = \eta / (\sqrt{{v_t}} + \epsilon) = {vec(s.lr / avg)}")
    if mu == 0:
        lines.append(rf"\Delta x = -\eta_{{\text{{eff}}}} \odot g_t = -{vec(s.lr / avg)} \odot {vec(g)}")
        return x + (-s.lr * g) / avg
    buf = s.before["momentum_buffer"] * mu + g / avg
    values["momentum_buffer"] = buf
    lines.append(rf"b_t = \mu b_{{t-1}} + g_t / (\sqrt{{v_t}} + \epsilon) = {vec(buf)}, \quad \Delta x = -\eta\, b_t")
    return x - s.lr * buf


def _adadelta(s: _Step, lines: list[str], values: dict) -> np.ndarray:
    x, g = _prepare(s, lines)
    rho, eps = float(s.hyper["rho"]), float(s.hyper["eps"])
    square_avg = s.before["square_avg"] * rho + (1 - rho) * g * g
    lines.append(rf"v_t = \rho v_{{t-1}} + (1-\rho)\, g_t^2 = {vec(square_avg)}")
    ratio = np.sqrt(s.before["acc_delta"] + eps) / np.sqrt(square_avg + eps)
    delta = ratio * g
    lines.append(
        rf"\frac{{\sqrt{{u_{{t-1}} + \epsilon}}}}{{\sqrt{{v_t + \epsilon}}}} = {vec(ratio)}, \quad"
        rf" \delta_t = {vec(ratio)} \odot {vec(g)} = {vec(delta)}"
    )
    acc_delta = s.before["acc_delta"] * rho + (1 - rho) * delta * delta
    lines.append(rf"u_t = \rho u_{{t-1}} + (1-\rho)\, \delta_t^2 = {vec(acc_delta)}")
    values.update(square_avg=square_avg, acc_delta=acc_delta, effective_lr_rule=s.lr * ratio)
    lines.append(rf"\Delta x = -\eta\, \delta_t = -{num(s.lr)} \cdot {vec(delta)}")
    return x - s.lr * delta


def _adam(s: _Step, lines: list[str], values: dict, decoupled: bool) -> np.ndarray:
    x, g = _prepare(s, lines, decoupled=decoupled)
    beta1, beta2 = (float(b) for b in s.hyper["betas"])
    eps = float(s.hyper["eps"])
    m = s.before["exp_avg"] + (1 - beta1) * (g - s.before["exp_avg"])
    v = s.before["exp_avg_sq"] * beta2 + (1 - beta2) * g * g
    lines.append(
        rf"m_t = \beta_1 m_{{t-1}} + (1-\beta_1)\, g_t = {num(beta1)} \cdot {vec(s.before['exp_avg'])}"
        rf" + {num(1 - beta1)} \cdot {vec(g)} = {vec(m)}"
    )
    lines.append(
        rf"v_t = \beta_2 v_{{t-1}} + (1-\beta_2)\, g_t^2 = {num(beta2)} \cdot {vec(s.before['exp_avg_sq'])}"
        rf" + {num(1 - beta2)} \cdot {vec(g * g)} = {vec(v)}"
    )
    values.update(exp_avg=m, exp_avg_sq=v)
    second = v
    if s.hyper.get("amsgrad"):
        second = np.maximum(s.before["max_exp_avg_sq"], v)
        values["max_exp_avg_sq"] = second
        lines.append(rf"v_t^{{\max}} = \max(v_{{t-1}}^{{\max}}, v_t) = {vec(second)}")
    bc1, bc2 = 1 - beta1**s.t, 1 - beta2**s.t
    m_hat, v_hat = m / bc1, second / bc2
    values.update(bias_correction1=np.float64(bc1), bias_correction2=np.float64(bc2), m_hat=m_hat, v_hat=v_hat)
    lines.append(
        rf"\hat m_t = \frac{{m_t}}{{1-\beta_1^{{{s.t}}}}} = \frac{{{vec(m)}}}{{{num(bc1)}}} = {vec(m_hat)}, \quad"
        rf" \hat v_t = \frac{{v_t}}{{1-\beta_2^{{{s.t}}}}} = \frac{{{vec(second)}}}{{{num(bc2)}}} = {vec(v_hat)}"
    )
    denom = np.sqrt(second) / math.sqrt(bc2) + eps
    values["effective_lr_rule"] = s.lr / (np.sqrt(v_hat) + eps)
    lines.append(
        rf"\eta_{{\text{{eff}}}} = \frac{{\eta}}{{\sqrt{{\hat v_t}} + \epsilon}} = {vec(s.lr / (np.sqrt(v_hat) + eps))}"
    )
    lines.append(
        rf"\Delta x = -\eta_{{\text{{eff}}}} \odot \hat m_t = -{vec(s.lr / (np.sqrt(v_hat) + eps))} \odot {vec(m_hat)}"
    )
    return x + (-(s.lr / bc1) * m) / denom


def _newton(s: _Step, lines: list[str], values: dict) -> np.ndarray:
    damping = float(s.hyper["damping"])
    with np.errstate(all="ignore"):
        matrix = np.atleast_2d(s.hessian(s.x)) + damping * np.eye(s.x.size)
        eigenvalues = np.linalg.eigvalsh(matrix)
        direction = np.linalg.solve(matrix, s.g)
    kind = (
        "positive definite" if eigenvalues.min() > 0 else "negative definite" if eigenvalues.max() < 0 else "indefinite"
    )
    rows = r" \\ ".join(" & ".join(num(v) for v in row) for row in matrix)
    lines.append(
        rf"H + \lambda I = \begin{{pmatrix}} {rows} \end{{pmatrix}}, \quad \text{{eigenvalues }} {vec(eigenvalues)}: \text{{ {kind}}}"
    )
    lines.append(
        rf"(H + \lambda I)^{{-1}} g_t = {vec(direction)}, \quad \Delta x = -\eta\,(H + \lambda I)^{{-1}} g_t = -{num(s.lr)} \cdot {vec(direction)}"
    )
    values.update(hessian=matrix, eigenvalues=eigenvalues, newton_direction=direction)
    return s.x - s.lr * direction


FORMATTERS: dict[str, Callable[[_Step, list[str], dict], np.ndarray]] = {
    "SGD": _sgd,
    "Adagrad": _adagrad,
    "RMSprop": _rmsprop,
    "Adadelta": _adadelta,
    "Adam": lambda s, lines, values: _adam(s, lines, values, bool(s.hyper.get("decoupled_weight_decay"))),
    "AdamW": lambda s, lines, values: _adam(s, lines, values, True),
    "Newton": _newton,
}


def _generic(s: _Step, lines: list[str], values: dict) -> None:
    for name, after in s.after.items():
        lines.append(rf"\text{{{name.replace('_', ' ')}}}_t = {vec(after)} \quad (\text{{was }} {vec(s.before[name])})")
        values[name] = after


# -- entry point ----------------------------------------------------------------------------------
def inspect(trajectory: Trajectory, step: int, run: int = 0) -> Inspection:
    """The update of ``step`` (1-based: from x_{step-1} to x_step) of one run of ``trajectory``."""
    steps = trajectory.steps
    step = int(min(max(step, 1), max(steps, 1)))
    pick = (lambda a: a[:, run]) if trajectory.batched else (lambda a: a)
    xs, grads, lrs = pick(trajectory.xs), pick(trajectory.grads), pick(trajectory.lrs)
    out = Inspection(step)
    if steps == 0:
        out.note = "No steps were taken."
        return out
    diverged = trajectory.diverged_step[run]
    if 0 <= diverged <= step:
        out.note = f"This run diverged at step {diverged}: that update blew up and was not kept, so there is nothing to inspect from there on."
        return out
    opt = trajectory.optimizer
    s = _Step(
        t=step,
        x=xs[step - 1],
        g=grads[step - 1],
        lr=float(lrs[step - 1]),
        before={name: pick(a)[step - 1] for name, a in trajectory.states.items()},
        after={name: pick(a)[step] for name, a in trajectory.states.items()},
        hyper=opt.hyper,
        hessian=trajectory.surface.hessian,
    )
    exact = trajectory.surface.grad(s.x)
    values = out.values
    values.update(x_prev=s.x, grad_exact=exact, g=s.g, lr=np.float64(s.lr), x_new=xs[step])
    lines = out.lines
    lines.append(rf"t = {step}, \quad \eta_t = {num(s.lr)}, \quad x_{{t-1}} = {vec(s.x)}")
    if trajectory.noise > 0 or opt.max_grad_norm is not None:
        what = "noise" if opt.max_grad_norm is None else "noise, clipping" if trajectory.noise > 0 else "clipping"
        lines.append(rf"\nabla f(x_{{t-1}}) = {vec(exact)}, \quad g_t = {vec(s.g)} \;(\text{{with {what}}})")
    else:
        lines.append(rf"g_t = \nabla f(x_{{t-1}}) = {vec(s.g)}")
    formatter = FORMATTERS.get(opt.name)
    with np.errstate(all="ignore"):  # a nan shown as nan beats a RuntimeWarning in the server log
        if formatter is not None:
            values["x_rule"] = formatter(s, lines, values)
        else:
            _generic(s, lines, values)
    delta = xs[step] - s.x
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = np.where(s.g != 0, -delta / np.where(s.g != 0, s.g, 1.0), np.nan)
    values.update(delta=delta, effective_lr=effective)
    lines.append(rf"x_t = x_{{t-1}} + \Delta x = {vec(s.x)} + {vec(delta)} = {vec(xs[step])}")
    lines.append(rf"-\Delta x \oslash g_t = {vec(effective)} \quad (\text{{the lr each coordinate effectively got}})")
    return out
