"""Each gdviz optimizer as the line that builds it in torch, and the few classes torch lacks.

torch.optim's own algorithms are built with their keyword arguments (gdviz uses torch's names and
defaults, so a setting left at its default is left out). Newton, Lion, Yogi and Adam-then-SGD are not
in torch: the script carries a small ``torch.optim.Optimizer`` subclass for each, written from the
paper's rule in the order gdviz computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.optimizers.base import Optimizer

# torch.optim's keyword arguments per class, its speed flags (foreach, fused, capturable, differentiable)
# left out; tests/test_torch_script.py holds this table to torch's signatures
TORCH_OPTIMIZER_ARGS: dict[str, tuple[str, ...]] = {
    "SGD": ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    "Adagrad": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"),
    "RMSprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
    "Adadelta": ("lr", "rho", "eps", "weight_decay", "maximize"),
    "Rprop": ("lr", "etas", "step_sizes", "maximize"),
    "ASGD": ("lr", "lambd", "alpha", "t0", "weight_decay", "maximize"),
    "Adam": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay"),
    "AdamW": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"),
    "Adamax": ("lr", "betas", "eps", "weight_decay", "maximize"),
    "NAdam": ("lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "maximize"),
    "RAdam": ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"),
}

NEWTON = '''
class Newton(torch.optim.Optimizer):
    """Newton's method with a step size and damping (d2l 12.3; Nocedal & Wright, Numerical Optimization, 3.4).

    x <- x - lr * (H + damping * I)^-1 g, with H the Hessian of f at x (autograd) and g the gradient.
    A singular H + damping * I has no Newton step: the run diverges (its iterate becomes nan).
    """

    def __init__(self, params, f, lr=1.0, damping=0.0):
        super().__init__(params, dict(lr=lr, damping=damping))
        self.f = f

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                with torch.enable_grad():
                    hessian = torch.autograd.functional.hessian(self.f, p.detach())
                system = hessian.reshape(p.numel(), p.numel())
                if group["damping"] != 0:
                    system = system + group["damping"] * torch.eye(p.numel(), dtype=p.dtype)
                direction, info = torch.linalg.solve_ex(system, p.grad.reshape(-1))
                if info != 0:
                    direction = torch.full_like(direction, float("nan"))
                p.sub_(group["lr"] * direction.reshape(p.shape))
'''

LION = '''
class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2).

    c = beta1 m + (1 - beta1) g;  x <- x - lr (sign(c) + weight_decay x);  m <- beta2 m + (1 - beta2) g
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m, g = state["exp_avg"], p.grad
                update = torch.sign(beta1 * m + (1 - beta1) * g)
                if group["weight_decay"] != 0:
                    update = update + group["weight_decay"] * p
                p.sub_(group["lr"] * update)
                state["exp_avg"] = beta2 * m + (1 - beta2) * g
'''

YOGI = '''
class Yogi(torch.optim.Optimizer):
    """Yogi (Zaheer et al. 2018, "Adaptive Methods for Nonconvex Optimization", Algorithm 2): no bias correction.

    m <- beta1 m + (1 - beta1) g;  v <- v - (1 - beta2) sign(v - g^2) g^2;  x <- x - lr m / (sqrt(v) + eps)
    """

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, initial_accumulator_value=1e-6):
        defaults = dict(lr=lr, betas=betas, eps=eps, initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.full_like(p, group["initial_accumulator_value"])
                g = p.grad
                g2 = g * g
                m = beta1 * state["exp_avg"] + (1 - beta1) * g
                v = state["exp_avg_sq"] - (1 - beta2) * torch.sign(state["exp_avg_sq"] - g2) * g2
                p.sub_(group["lr"] * m / (torch.sqrt(v) + group["eps"]))
                state["exp_avg"], state["exp_avg_sq"] = m, v
'''

ADAM_THEN_SGD = '''
class AdamThenSGD(torch.optim.Optimizer):
    """torch.optim.Adam for the first switch_step steps, then a fresh torch.optim.SGD with momentum.

    The practitioner's switch (Keskar & Socher 2017, "Improving Generalization Performance by Switching
    from Adam to SGD", with a fixed switch step). A scheduler sets lr (Adam's) and may cycle betas[0];
    after the switch the factor lr / (the base lr) scales sgd_lr, so the schedule keeps its shape.
    """

    def __init__(self, params, lr=0.1, betas=(0.9, 0.999), eps=1e-8, switch_step=50, sgd_lr=1e-3, momentum=0.9):
        params = list(params)
        defaults = dict(lr=lr, betas=betas, eps=eps, switch_step=switch_step, sgd_lr=sgd_lr, momentum=momentum)
        super().__init__(params, defaults)
        self.adam = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
        self.sgd = torch.optim.SGD(params, lr=sgd_lr, momentum=momentum)
        self.base_lr = lr
        self.steps_done = 0

    @torch.no_grad()
    def step(self):
        self.steps_done += 1
        group = self.param_groups[0]
        if self.steps_done <= group["switch_step"]:
            self.adam.param_groups[0].update(lr=group["lr"], betas=group["betas"])
            self.adam.step()
        else:
            factor = group["lr"] / self.base_lr if self.base_lr != 0 else 1.0
            self.sgd.param_groups[0]["lr"] = group["sgd_lr"] * factor
            self.sgd.step()
'''

TOP_K = '''
class TopKCompression:
    """Top-k gradient compression on the worker: only the k largest coordinates are sent (ties: lowest index).

    With error feedback (Stich et al. 2018, "Sparsified SGD with memory") the rest is kept and added to
    the next gradient; with momentum correction m (Lin et al. 2018, "Deep Gradient Compression", Algorithm 1)
    the worker keeps the momentum u = m u + g, accumulates v += u and sends top-k(v), then clears the sent
    coordinates of v and u. maximize and a coupled weight decay act here, on the local gradient.
    """

    def __init__(self, k, error_feedback=True, momentum_correction=None, maximize=False, weight_decay=0.0):
        self.k, self.error_feedback, self.momentum = k, error_feedback, momentum_correction
        self.maximize, self.weight_decay = maximize, weight_decay
        self.residual = self.velocity = None

    def __call__(self, g, x):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        if self.residual is None:
            self.residual, self.velocity = torch.zeros_like(g), torch.zeros_like(g)
        if self.momentum is None and g.numel() <= self.k:
            return g  # everything is sent
        if self.momentum is not None:
            self.velocity = self.momentum * self.velocity + g
            accumulated = self.residual + self.velocity
        else:
            accumulated = self.residual + g if self.error_feedback else g
        mask = torch.zeros_like(g, dtype=torch.bool)
        mask[torch.argsort(-accumulated.abs(), stable=True)[: self.k]] = True
        if self.error_feedback:
            self.residual = torch.where(mask, 0.0, accumulated)
        if self.momentum is not None:
            self.velocity = torch.where(mask, 0.0, self.velocity)
        return torch.where(mask, accumulated, 0.0)
'''

ADAGRAD_EPS_INSIDE = '''
class AdagradEpsInsideSqrt(torch.optim.Optimizer):
    """Adagrad as d2l 12.7 writes it: eps inside the square root, x <- x - lr g / sqrt(s + eps).

    torch.optim.Adagrad computes sqrt(s) + eps; this is its loop with the one line changed.
    """

    def __init__(
        self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False
    ):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, maximize=maximize)
        defaults["initial_accumulator_value"] = initial_accumulator_value
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                g = -p.grad if group["maximize"] else p.grad
                state["step"] += 1
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * p
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"] = state["sum"] + g * g
                p.add_((-clr * g) / torch.sqrt(state["sum"] + group["eps"]))
'''

RMSPROP_EPS_INSIDE = '''
class RMSpropEpsInsideSqrt(torch.optim.Optimizer):
    """RMSProp as d2l 12.8 writes it: eps inside the square root, d = g / sqrt(v + eps).

    torch.optim.RMSprop computes sqrt(v) + eps; this is its loop with that one line changed.
    """

    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
    ):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults.update(centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            alpha = group["alpha"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["square_avg"] = torch.zeros_like(p)
                    state["grad_avg"] = torch.zeros_like(p)
                    state["momentum_buffer"] = torch.zeros_like(p)
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * p
                square_avg = state["square_avg"] * alpha + (1 - alpha) * g * g
                state["square_avg"] = square_avg
                if group["centered"]:
                    state["grad_avg"] = torch.lerp(state["grad_avg"], g, 1 - alpha)
                    square_avg = square_avg - state["grad_avg"] * state["grad_avg"]
                avg = torch.sqrt(square_avg + group["eps"])
                if group["momentum"] > 0:
                    state["momentum_buffer"] = state["momentum_buffer"] * group["momentum"] + g / avg
                    p.add_(-group["lr"] * state["momentum_buffer"])
                else:
                    p.add_((-group["lr"] * g) / avg)
'''


@dataclass(frozen=True)
class CustomOptimizer:
    """A class the script defines: its source, its name there, and whether it takes f (for the Hessian)."""

    class_name: str
    source: str
    takes_f: bool = False


# gdviz optimizers torch lacks, by registry name
CUSTOM: dict[str, CustomOptimizer] = {
    "Newton": CustomOptimizer("Newton", NEWTON, takes_f=True),
    "Lion": CustomOptimizer("Lion", LION),
    "Yogi": CustomOptimizer("Yogi", YOGI),
    "AdamThenSGD": CustomOptimizer("AdamThenSGD", ADAM_THEN_SGD),
}

# torch classes with a gdviz-only option: when the option is on, the script uses this subclass instead
VARIANTS: dict[tuple[str, str], CustomOptimizer] = {
    ("Adagrad", "eps_inside_sqrt"): CustomOptimizer("AdagradEpsInsideSqrt", ADAGRAD_EPS_INSIDE),
    ("RMSprop", "eps_inside_sqrt"): CustomOptimizer("RMSpropEpsInsideSqrt", RMSPROP_EPS_INSIDE),
}


def python_literal(value: Any) -> str:
    """A value as Python source that gives it back exactly (floats by repr)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return repr(value) if np.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, str) or value is None:
        return repr(value)
    if isinstance(value, tuple):
        items = ", ".join(python_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    raise ValueError(f"torch_script cannot write {value!r} as Python")


def _default(opt: Optimizer, name: str) -> Any:
    return next(spec.default for spec in opt.spec if spec.name == name)


def _is_default(opt: Optimizer, name: str, hyper: dict[str, Any]) -> bool:
    value, default = hyper[name], _default(opt, name)
    if isinstance(default, tuple):
        return tuple(float(v) for v in value) == tuple(float(v) for v in default)
    return value == default


# settings an Optimizer carries beside its hyper-parameters that the script reproduces (clipping in the
# loop, compression through TopKCompression); any other is refused until the script learns it
_LOOP_SETTINGS = frozenset({"max_grad_norm", "compress_topk", "error_feedback", "momentum_correction"})


def _check_exportable(opt: Optimizer) -> None:
    unknown = sorted(set(opt.settings()) - set(opt.hyper) - _LOOP_SETTINGS)
    if unknown:
        raise ValueError(f"torch_script cannot export {opt.name} with {', '.join(unknown)} yet")
    for name, value in opt.hyper.items():
        parts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(part, np.ndarray) for part in parts):
            raise ValueError(
                f"torch_script writes one torch optimizer per racer: {opt.name}'s {name} is swept over several "
                "values; race each value as its own optimizer instead"
            )


def compression_line(opt: Optimizer) -> str | None:
    """The expression building the script's TopKCompression for ``opt``, or None without compression.

    The local gradient's maximize and coupled weight decay move into it, as gdviz moves them onto the worker.
    """
    compression = getattr(opt, "compression", None)
    if compression is None:
        return None
    args = [f"k={compression.k}"]
    if not compression.error_feedback:
        args.append("error_feedback=False")
    if compression.momentum is not None:
        args.append(f"momentum_correction={python_literal(compression.momentum)}")
    if opt.hyper.get("maximize", False):
        args.append("maximize=True")
    decay = opt.hyper.get("weight_decay", 0.0)
    if not opt.decoupled() and decay != 0:
        args.append(f"weight_decay={python_literal(decay)}")
    return f"TopKCompression({', '.join(args)})"


def _hyper_for_torch(opt: Optimizer) -> dict[str, Any]:
    """The optimizer's hyper-parameters as its torch optimizer takes them: with compression, maximize and a
    coupled weight decay have already acted on the worker (:func:`compression_line`)."""
    hyper = dict(opt.hyper)
    if getattr(opt, "compression", None) is not None:
        if "maximize" in hyper:
            hyper["maximize"] = False
        if "weight_decay" in hyper and not opt.decoupled():
            hyper["weight_decay"] = 0.0
    return hyper


def optimizer_line(opt: Optimizer) -> tuple[str, CustomOptimizer | None]:
    """The expression that builds ``opt`` on ``params`` in the script, and the class it needs defined (or None).

    ValueError for a setting the script cannot reproduce.
    """
    _check_exportable(opt)
    hyper = _hyper_for_torch(opt)
    custom = CUSTOM.get(opt.name)
    if custom is None and opt.torch_class in TORCH_OPTIMIZER_ARGS:
        torch_args = TORCH_OPTIMIZER_ARGS[opt.torch_class]
        extra = [name for name in hyper if name not in torch_args and not _is_default(opt, name, hyper)]
        for name in extra:
            custom = VARIANTS.get((opt.name, name))
            if custom is None or len(extra) > 1:
                raise ValueError(
                    f"torch_script cannot export {opt.name} with {name}={hyper[name]!r}: "
                    f"torch.optim.{opt.torch_class} has no such option"
                )
        if custom is None:
            shown = [name for name in hyper if name == "lr" or not _is_default(opt, name, hyper)]
            args = ", ".join(f"{name}={python_literal(hyper[name])}" for name in shown)
            return f"torch.optim.{opt.torch_class}(params, {args})", None
        shown = [name for name in hyper if name in torch_args]
    elif custom is not None:
        shown = list(hyper)
    else:
        raise ValueError(f"torch_script has no torch version of the optimizer {opt.name!r}")
    args = ", ".join(f"{name}={python_literal(hyper[name])}" for name in shown)
    f_arg = "f, " if custom.takes_f else ""
    return f"{custom.class_name}(params, {f_arg}{args})", custom
