"""The engine's optimizers and schedules as torch objects, for training real parameters.

Optimizers with a torch.optim class (``torch_class``) are that class, built with the hyper-parameters
the engine's spec validated — same names, same defaults, same checks. The engine's own algorithms
(Newton, Lion, Yogi, AdamThenSGD: no torch.optim class), and a torch-backed one with an option torch
lacks switched on (d2l's ``eps_inside_sqrt``), run through :func:`engine_torch_optimizer`, a
``torch.optim.Optimizer`` that applies the engine's NumPy update (float64, on the host) to the
flattened parameters, so every name the Playground offers trains here too, and torch's lr
schedulers drive it like any optimizer. The price is a host round trip of d + 1 numbers per step.

Schedules become their ``torch.optim.lr_scheduler`` class with ``torch_kwargs``; d2l's
ExponentialDecay and PolynomialDecay (not in torch) become ``LambdaLR`` with the same closed form.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.run import momentum_update
from gdviz.schedules.base import Schedule

if TYPE_CHECKING:
    import torch

# Newton solves a (d+1)² system on the host every step: beyond this many features it is the closed form's cost per step
NEWTON_MAX_FEATURES = 200


def uses_torch_optim(name: str, **hyper: Any) -> bool:
    """The optimizer with these hyper-parameters trains as its torch.optim class (else the engine's NumPy
    update runs on the parameters): it has one, and no option torch lacks is switched on."""
    cls = optimizer_class(name)
    return cls.torch_class is not None and all(
        hyper.get(spec.name, spec.default) == spec.default for spec in cls.spec if not spec.in_torch
    )


def engine_optimizer(name: str, **hyper: Any) -> Optimizer:
    """The engine's optimizer, validated, refusing sweeps (a torch model trains one setting at a time)."""
    opt = gdviz.optimizer(name, **hyper)
    if opt.batch != 1:
        raise ValueError(f"{opt.name}: training takes one value per hyper-parameter; call train() once per setting")
    return opt


def build_optimizer(name: str, params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    """``torch.optim.<name>(params, **hyper)`` with the engine's validation, or :func:`engine_torch_optimizer`."""
    return torch_optimizer(engine_optimizer(name, **hyper), params)


def torch_optimizer(opt: Optimizer, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The torch optimizer for an already validated engine optimizer."""
    import torch

    if not uses_torch_optim(opt.name, **opt.hyper):
        return engine_torch_optimizer(params, opt)
    # an option torch lacks is at its default here, where the update is torch's: torch is not given it
    torch_names = {spec.name for spec in opt.spec if spec.in_torch}
    return getattr(torch.optim, opt.torch_class)(params, **{k: v for k, v in opt.hyper.items() if k in torch_names})


# built once, on first use (torch is imported lazily); a cached function rather than a module-level dict,
# so that no shared mutable state is written while the app serves visitors
@functools.lru_cache(maxsize=1)
def _engine_optimizer_class():
    import torch

    class _EngineOptimizer(torch.optim.Optimizer):
        """A torch optimizer whose step is the engine's NumPy ``update`` on the flattened parameters.

        ``step(hess=H)`` passes the Hessian (dim, dim) to optimizers that need it (Newton). Its defaults
        hold the engine's ``betas`` or ``momentum`` as torch's optimizers do, so that a scheduler with
        ``cycle_momentum`` cycles it (β1 where there are betas, torch's rule) or refuses the engine as it
        would refuse its torch class; a cycled value reaches the engine's ``update_with_momentum``.
        """

        def __init__(self, params, engine: Optimizer):
            defaults: dict[str, Any] = {"lr": float(engine.lr)}
            self._cycled_key = next((key for key in ("betas", "momentum") if key in engine.hyper), None)
            if self._cycled_key is not None:
                defaults[self._cycled_key] = engine.hyper[self._cycled_key]
            super().__init__(params, defaults)
            self.engine = engine
            self.needs_hessian = engine.needs_hessian
            self._t = 0
            self._engine_state: dict[str, np.ndarray] | None = None

        @torch.no_grad()
        def step(self, closure=None, hess: np.ndarray | None = None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            params = [p for group in self.param_groups for p in group["params"]]
            x = torch.cat([p.reshape(-1) for p in params]).to("cpu", torch.float64).numpy()[None]
            g = torch.cat([p.grad.reshape(-1) for p in params]).to("cpu", torch.float64).numpy()[None]
            lr = np.array([[float(self.param_groups[0]["lr"])]])
            if self._engine_state is None:
                self._engine_state = self.engine.init(x, lr)
            self._t += 1
            momentum = self._scheduled_momentum()
            with np.errstate(all="ignore"):  # a diverging run shows up as a non-finite loss, checked by train()
                if momentum is None:
                    x_new, self._engine_state = self.engine.update(
                        x, g, self._engine_state, lr, self._t, None if hess is None else hess[None]
                    )
                else:
                    x_new, self._engine_state = momentum_update(self.engine)(
                        x,
                        g,
                        self._engine_state,
                        lr,
                        self._t,
                        None if hess is None else hess[None],
                        momentum,
                    )
            flat = torch.from_numpy(np.ascontiguousarray(x_new[0]))
            offset = 0
            for p in params:
                p.copy_(flat[offset : offset + p.numel()].reshape(p.shape))
                offset += p.numel()
            return loss

        def _scheduled_momentum(self) -> float | None:
            """The momentum (β1) a cycling scheduler wrote into the group, None while it is the engine's own."""
            if self._cycled_key is None:
                return None
            value = self.param_groups[0][self._cycled_key]
            value, own = (
                (value[0], self.engine.hyper["betas"][0])
                if self._cycled_key == "betas"
                else (value, self.engine.hyper["momentum"])
            )
            # the engine's own value gives the same step either way (tests/test_momentum_cycling.py), so keep update
            return None if value == own else float(value)

    return _EngineOptimizer


def engine_torch_optimizer(params: list[torch.Tensor], engine: Optimizer) -> torch.optim.Optimizer:
    """A ``torch.optim.Optimizer`` running ``engine``'s update (defined lazily: torch is imported on first use)."""
    return _engine_optimizer_class()(params, engine)


def as_schedule(schedule: Any) -> Schedule | None:
    """None, a name, a ``(name, params)`` pair or a gdviz Schedule, as a gdviz Schedule (or None)."""
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        return gdviz.schedule(schedule)
    if isinstance(schedule, (tuple, list)) and len(schedule) == 2 and isinstance(schedule[1], dict):
        return gdviz.schedule(schedule[0], **schedule[1])
    raise ValueError(f"schedule must be None, a name, a (name, params) pair or a gdviz schedule, got {schedule!r}")


def with_horizon(schedule: Schedule | None, steps: int) -> Schedule | None:
    """``schedule`` planned for a run of ``steps`` scheduler steps: its horizon parameters (``Schedule.horizon``)
    set to ``steps``; a schedule without one is returned as it is."""
    if schedule is None or not schedule.horizon:
        return schedule
    return type(schedule)(**{**schedule.params, **dict.fromkeys(schedule.horizon, steps)})


def check_horizon(schedule: Schedule | None, steps: int, unit: str) -> None:
    """Refuse, before training, a OneCycleLR cycle shorter than the run: torch raises mid-run when stepped past it."""
    if schedule is None or schedule.name != "OneCycleLR":
        return
    total = schedule.total_steps(schedule.params)
    if total < steps:
        raise ValueError(
            f"OneCycleLR's cycle is {total} steps but this run steps it {steps} times (once per {unit}), and torch "
            f"cannot step past the cycle: set total_steps to at least {steps}, or "
            + ("step it once per epoch" if unit == "update" else "train fewer epochs")
        )


def build_scheduler(schedule: Any, optimizer: torch.optim.Optimizer, base_lr: float):
    """The torch scheduler that reproduces the gdviz schedule on ``optimizer`` (None for no schedule)."""
    import torch

    sched = as_schedule(schedule)
    if sched is None:
        return None
    lr_scheduler = torch.optim.lr_scheduler
    if sched.name == "ExponentialDecay":
        lam = sched.p("lam")
        return lr_scheduler.LambdaLR(optimizer, lambda epoch: math.exp(-lam * epoch))
    if sched.name == "PolynomialDecay":
        alpha, beta = sched.p("alpha"), sched.p("beta")
        return lr_scheduler.LambdaLR(optimizer, lambda epoch: (beta * epoch + 1) ** (-alpha))
    if sched.torch_class is None:
        return _engine_scheduler(sched, optimizer, base_lr)
    cls = getattr(lr_scheduler, sched.torch_class)
    if sched.name == "SequentialLR":
        subs = [build_scheduler(sub, optimizer, base_lr) for sub in sched.schedulers]
        return cls(optimizer, subs, milestones=list(sched.p("milestones")))
    return cls(optimizer, **sched.torch_kwargs(base_lr))


def _engine_scheduler(sched: Any, optimizer: torch.optim.Optimizer, base_lr: float):
    """A torch scheduler for a schedule torch lacks: the engine's own ``init``/``step`` give each lr,
    so any schedule added to the registry trains the regression with the very lrs the Playground shows."""
    import torch

    class EngineSchedule(torch.optim.lr_scheduler.LRScheduler):
        def __init__(self) -> None:
            self._state = sched.init(np.array([float(base_lr)]))
            self._stepped = False
            super().__init__(optimizer)  # takes its first step: get_lr() gives the first lr

        def get_lr(self) -> list[float]:
            if self._stepped:
                self._state = sched.step(self._state)
            self._stepped = True
            return [float(self._state["lr"][0]) for _ in self.optimizer.param_groups]

    return EngineSchedule()
