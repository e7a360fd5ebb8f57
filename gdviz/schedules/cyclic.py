"""Cyclical schedules: CyclicLR (Smith's triangular policies) and OneCycleLR (1cycle).

torch requires their absolute learning rates (CyclicLR ``base_lr``/``max_lr``, OneCycleLR
``max_lr``). Here they are optional: ``None`` derives them from each run's optimizer lr η0
(``max_lr = η0``; CyclicLR ``base_lr = max_lr / 10``), so a sweep over lr sweeps the whole cycle.

Both cycle the optimizer's momentum inversely to the lr by default, as torch does (``cycle_momentum=True``):
torch writes it into the optimizer's param group (``group["momentum"]`` for SGD and RMSprop, the
first of ``group["betas"]`` for the Adam family), where the next ``optimizer.step()`` reads it. Here
the schedule's state holds that param group too, so ``momentum_of(state)`` is the momentum (or β1)
of the coming step, (R,), and the run loop hands it to the optimizer's ``update_with_momentum``.
The optimizer decides nothing: which optimizers can be cycled, and what happens to one that cannot
(torch's ValueError), is the run loop's check, made when a race starts.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.params import HyperParam
from gdviz.schedules.base import Schedule, ScheduleState
from gdviz.schedules.torch_base import Group, Own, TorchSchedule, as_runs


def _lr(name: str, what: str, ui_min: float) -> HyperParam:
    return HyperParam(
        name, None, minimum=0.0, ui_min=ui_min, ui_max=1.0, log=True, optional=True, sweepable=False, help=what
    )


def _momentum(name: str, default: float, what: str) -> HyperParam:
    # torch accepts any number; a momentum or β1 outside [0, 1] is no momentum the optimizers define
    return HyperParam(name, default, minimum=0.0, maximum=1.0, ui_min=0.0, ui_max=0.99, sweepable=False, help=what)


CYCLE_MOMENTUM = HyperParam(
    "cycle_momentum",
    True,
    kind="bool",
    help="cycle the optimizer's momentum (β1 for the Adam family) inversely to the lr, between base_momentum "
    "and max_momentum; needs an optimizer with momentum or betas",
)


def momentum_of(state: ScheduleState) -> np.ndarray | None:
    """(R,) the momentum (or β1) of the coming step that a momentum-cycling schedule set, else None.

    It is read from the param group the state replays, where torch's schedulers write it, so a
    SequentialLR that holds a cycling schedule cycles too, and keeps the last momentum set after it.
    """
    group = state.get("group")
    return None if group is None else group.get("momentum")


def can_cycle_momentum(optimizer: Any) -> bool:
    """torch's condition for ``cycle_momentum``: the optimizer has ``momentum`` or ``betas`` (β1 is cycled then).

    gdviz's specs carry torch's defaults, so this names the same optimizers as torch's check of
    ``optimizer.defaults``; each of them takes the cycled value through ``update_with_momentum``.
    """
    names = {spec.name for spec in optimizer.spec}
    return "momentum" in names or "betas" in names


def momentums(schedule: Schedule, base_lr: float | np.ndarray, steps: int) -> np.ndarray | None:
    """The momentum (β1) of each of ``steps`` optimizer steps, shaped as :meth:`Schedule.lrs`; None if not cycled."""
    base = np.atleast_1d(np.asarray(base_lr, dtype=np.float64)).ravel()
    state = schedule.init(base)
    if momentum_of(state) is None:
        return None
    out = np.empty((steps, base.size))
    for t in range(steps):
        out[t] = momentum_of(state)
        state = schedule.step(state)
    return out[:, 0] if np.ndim(base_lr) == 0 else out


class _MomentumCycle(TorchSchedule):
    """torch's ``cycle_momentum``: each ``get_lr`` also writes the param group's momentum (or β1).

    Subclasses implement :meth:`momentum` and write the group's ``max_momentum``/``base_momentum``
    (and the first ``momentum``) in their constructor, as torch's do.
    """

    def momentum(self, own: Own, group: Group) -> np.ndarray:
        """The momentum torch's ``get_lr`` writes at ``own["epoch"]``, (R,)."""
        raise NotImplementedError

    def momentum_bounds(self, group: Group) -> Group:
        """What torch's constructor writes when cycling: momentum = max_momentum, and both bounds."""
        if not self.p("cycle_momentum"):
            return group
        high, low = (np.full(group["lr"].shape, self.p(name)) for name in ("max_momentum", "base_momentum"))
        return {**group, "momentum": high, "max_momentum": high, "base_momentum": low}

    def _with_momentum(self, own: Own, group: Group) -> tuple[Own, Group]:
        if not self.p("cycle_momentum"):
            return own, group
        return own, {**group, "momentum": self.momentum(own, group)}

    # every way torch reaches get_lr (the first step, a step, SequentialLR's restart) sets the momentum
    def initial_step(self, own, group):
        return self._with_momentum(*super().initial_step(own, group))

    def advance(self, own, group):
        return self._with_momentum(*super().advance(own, group))

    def restart(self, own, group):
        return self._with_momentum(*super().restart(own, group))


class CyclicLR(_MomentumCycle):
    r"""Cyclical learning rate: from ``base_lr`` up to ``max_lr`` and back, over and over.

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\,\mathrm{tri}(t)\,s(t)

    with :math:`\mathrm{tri}` the triangle wave in [0, 1] and the amplitude scale :math:`s` = 1
    (``triangular``), :math:`2^{1-c}` in cycle c (``triangular2``) or :math:`\gamma^t` (``exp_range``).
    ``base_lr=None`` means ``max_lr / 10``, ``max_lr=None`` the optimizer's lr. torch's ``scale_fn``
    and ``scale_mode`` (custom policies) are not supported.

    With ``cycle_momentum`` (torch's default) the momentum goes the other way, from ``max_momentum``
    down to ``base_momentum`` at the lr's peak and back:
    :math:`\mu_t = \mu_{hi} - (\mu_{hi} - \mu_{lo})\,\mathrm{tri}(t)\,s(t)`. It is SGD's and
    RMSprop's ``momentum``, β1 of the Adam family (torch's rule: β1 whenever the optimizer has
    ``betas``), and it replaces the optimizer's own value from the first step on: SGD with
    momentum 0 becomes momentum SGD, as in torch. An optimizer with neither (Adagrad, Adadelta,
    Rprop, ASGD, Newton) is refused when the race starts; pass ``cycle_momentum=False`` for it.

    References: Smith (2017), "Cyclical Learning Rates for Training Neural Networks";
    torch.optim.lr_scheduler.CyclicLR.
    """

    name = torch_class = "CyclicLR"
    reference = "Smith 2017; torch.optim.lr_scheduler.CyclicLR"
    has_closed_form = False
    spec = (
        _lr("base_lr", "lower lr of the cycle (absolute); None: max_lr / 10", 1e-4),
        _lr("max_lr", "upper lr of the cycle (absolute); None: the optimizer's lr", 1e-3),
        HyperParam("step_size_up", 2000, kind="int", minimum=1, ui_min=1, ui_max=500, help="steps going up"),
        HyperParam(
            "step_size_down",
            None,
            kind="int",
            minimum=0,
            ui_min=0,
            ui_max=500,
            optional=True,
            help="steps going down; None: step_size_up",
        ),
        HyperParam("mode", "triangular", kind="choice", choices=("triangular", "triangular2", "exp_range")),
        HyperParam(
            "gamma",
            1.0,
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            ui_min=0.99,
            sweepable=False,
            help="exp_range amplitude decay γ per step",
        ),
        CYCLE_MOMENTUM,
        _momentum("base_momentum", 0.8, "momentum (β1) at the lr's peak"),
        _momentum("max_momentum", 0.9, "momentum (β1) at the cycle's start, where the lr is lowest"),
    )
    formula = r"\eta_t = \eta_{lo} + (\eta_{hi}-\eta_{lo})\,\max(0,\,1-|t/s - 2c + 1|)\,\text{scale}(t)"

    def bounds(self, eta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base_lrs, max_lrs) of the runs: explicit values, else derived from the optimizer's lr."""
        high = eta0 if self.p("max_lr") is None else as_runs(self.p("max_lr"), eta0)
        low = high / 10 if self.p("base_lr") is None else as_runs(self.p("base_lr"), eta0)
        return low, high

    def construct(self, group, eta0):
        # torch sets the group's lr to base_lr, then LRScheduler.__init__ takes base_lrs from the
        # group's initial_lr for the initial step, and only afterwards replaces them by base_lr
        low, high = self.bounds(eta0)
        group = self.momentum_bounds({**group, "lr": low})
        group.setdefault("initial_lr", low)
        own, group = self.initial_step({"base": group["initial_lr"], "max": high, "epoch": -1}, group)
        return {**own, "base": low}, group

    def wave(self, epoch: int) -> tuple[float, float]:
        """(triangle in [0, 1], amplitude scale) at ``epoch``, as torch's ``get_lr`` computes them."""
        up = float(self.p("step_size_up"))
        down = up if self.p("step_size_down") is None else float(self.p("step_size_down"))
        total = up + down
        ratio = up / total
        cycle = math.floor(1 + epoch / total)
        x = 1.0 + epoch / total - cycle
        scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        if self.p("mode") == "triangular":
            amplitude = 1.0
        elif self.p("mode") == "triangular2":
            # torch's 1 / 2.0 ** (cycle - 1), which overflows after 1024 cycles; ldexp is the same number
            amplitude = math.ldexp(1.0, 1 - cycle)
        else:
            amplitude = self.p("gamma") ** epoch
        return scale, amplitude

    def get_lr(self, own, group, initial):
        scale, amplitude = self.wave(own["epoch"])
        return own["base"] + (own["max"] - own["base"]) * scale * amplitude

    def momentum(self, own, group):
        # torch uses its own base_momentums/max_momentums here, not the group's (which a later
        # scheduler in a SequentialLR may overwrite)
        scale, amplitude = self.wave(own["epoch"])
        high, low = self.p("max_momentum"), self.p("base_momentum")
        return np.full(group["lr"].shape, high - (high - low) * scale * amplitude)

    def torch_kwargs(self, base_lr):
        low, high = self.bounds(np.array([base_lr], dtype=np.float64))
        return {**super().torch_kwargs(base_lr), "base_lr": float(low[0]), "max_lr": float(high[0])}


class OneCycleLR(_MomentumCycle):
    r"""The 1cycle policy: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal far below.

    .. math::
        \eta_t = \mathrm{anneal}(\eta_{start}, \eta_{end}, \text{pct}), \quad
        \eta_{init} = \frac{\eta_{\max}}{d}, \;\; \eta_{\min} = \frac{\eta_{init}}{d_f}

    two phases (η_init → η_max over ``pct_start`` of the steps, then η_max → η_min) or, with
    ``three_phase``, η_init → η_max → η_init → η_min; ``anneal`` is a half cosine or a straight line.
    ``max_lr=None`` means the optimizer's lr. ``total_steps`` is required (or ``epochs`` and
    ``steps_per_epoch``, as in torch).

    With ``cycle_momentum`` (torch's default) the momentum anneals the other way, from
    ``max_momentum`` down to ``base_momentum`` while the lr warms up, then back up (three phases: down,
    up, and held at ``max_momentum``). It is SGD's and RMSprop's ``momentum``, β1 of the Adam family,
    and replaces the optimizer's own value from the first step on, as in torch; an optimizer with
    neither (Adagrad, Adadelta, Rprop, ASGD, Newton) is refused when the race starts.

    Warning: torch extrapolates one step past ``total_steps`` and raises on the next; here the
    cycle's last lr (and momentum) is held from step ``total_steps`` on, so a longer run continues
    at η_min.

    References: Smith & Topin (2019), "Super-Convergence: Very Fast Training of Neural Networks
    Using Large Learning Rates"; torch.optim.lr_scheduler.OneCycleLR.
    """

    name = torch_class = "OneCycleLR"
    reference = "Smith & Topin 2019; torch.optim.lr_scheduler.OneCycleLR"
    demo = MappingProxyType({"total_steps": 100})
    horizon = ("total_steps",)
    has_closed_form = False
    spec = (
        _lr("max_lr", "peak lr (absolute); None: the optimizer's lr", 1e-3),
        HyperParam(
            "total_steps",
            None,
            kind="int",
            minimum=1,
            ui_min=10,
            ui_max=1000,
            optional=True,
            help="length of the cycle",
        ),
        HyperParam(
            "epochs", None, kind="int", minimum=1, ui_min=1, ui_max=100, optional=True, help="with steps_per_epoch"
        ),
        HyperParam(
            "steps_per_epoch", None, kind="int", minimum=1, ui_min=1, ui_max=100, optional=True, help="with epochs"
        ),
        HyperParam("pct_start", 0.3, minimum=0.0, maximum=1.0, sweepable=False, help="fraction of the cycle going up"),
        HyperParam("anneal_strategy", "cos", kind="choice", choices=("cos", "linear")),
        CYCLE_MOMENTUM,
        _momentum("base_momentum", 0.85, "momentum (β1) at the lr's peak"),
        _momentum("max_momentum", 0.95, "momentum (β1) at the start and end, where the lr is lowest"),
        HyperParam(
            "div_factor",
            25.0,
            minimum=0.0,
            min_inclusive=False,
            ui_min=1.0,
            ui_max=100.0,
            log=True,
            sweepable=False,
            help="initial lr = max_lr / div_factor",
        ),
        HyperParam(
            "final_div_factor",
            1e4,
            minimum=0.0,
            min_inclusive=False,
            ui_min=1.0,
            ui_max=1e5,
            log=True,
            sweepable=False,
            help="min lr = initial lr / final_div_factor",
        ),
        HyperParam("three_phase", False, kind="bool", help="go back down to the initial lr before annealing"),
    )
    formula = (
        r"\eta_t:\ \tfrac{\eta_{\max}}{d} \nearrow \eta_{\max} \text{ for } t < p\,T,\\"
        r"\text{then} \searrow \tfrac{\eta_{\max}}{d\,d_f} \text{ at } t = T-1"
    )

    def check(self, params):
        if params["total_steps"] is None and (params["epochs"] is None or params["steps_per_epoch"] is None):
            raise ValueError("OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)")
        total = self.total_steps(params)
        if float(params["pct_start"] * total) - 1 == 0:
            # torch divides 0 by 0 at the first step here
            raise ValueError(
                f"OneCycleLR: pct_start * total_steps = 1 ({params['pct_start']} * {total}) leaves a warm-up of zero "
                "steps; choose another pct_start"
            )

    @staticmethod
    def total_steps(params) -> int:
        if params["total_steps"] is not None:
            return params["total_steps"]
        return params["epochs"] * params["steps_per_epoch"]

    def phases(self) -> list[tuple[float, str, str, str, str]]:
        """(end_step, start lr, end lr, start momentum, end momentum) of each phase, the last four keys
        into the param group, as torch builds them."""
        total, pct = self.total_steps(self.params), self.p("pct_start")
        if self.p("three_phase"):
            return [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct * total) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [
            (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]

    def prepare(self, group, eta0):
        peak = eta0 if self.p("max_lr") is None else as_runs(self.p("max_lr"), eta0)
        initial = peak / self.p("div_factor")
        group = {**group, "initial_lr": initial, "max_lr": peak, "min_lr": initial / self.p("final_div_factor")}
        return {}, self.momentum_bounds(group)

    def _anneal(self, own: Own, group: Group, keys: slice) -> np.ndarray:
        """torch's ``get_lr`` interpolation at ``own["epoch"]`` between the group entries the phase names."""
        step_num = min(own["epoch"], self.total_steps(self.params) - 1)
        phases = self.phases()
        start_step = 0.0
        for i, (end_step, *names) in enumerate(phases):
            if step_num <= end_step or i == len(phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                start_key, end_key = names[keys]
                start, end = group[start_key], group[end_key]
                if self.p("anneal_strategy") == "cos":
                    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
                return (end - start) * pct + start
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    def get_lr(self, own, group, initial):
        return self._anneal(own, group, slice(0, 2))

    def momentum(self, own, group):
        # from the group's bounds, as torch does (a later scheduler of a SequentialLR may rewrite them)
        return self._anneal(own, group, slice(2, 4))

    def torch_kwargs(self, base_lr):
        peak = base_lr if self.p("max_lr") is None else self.p("max_lr")
        return {**super().torch_kwargs(base_lr), "max_lr": float(peak)}
