"""Cyclical schedules: CyclicLR (Smith's triangular policies) and OneCycleLR (1cycle).

torch requires their absolute learning rates (CyclicLR ``base_lr``/``max_lr``, OneCycleLR
``max_lr``). Here they are optional: ``None`` derives them from each run's optimizer lr η0
(``max_lr = η0``; CyclicLR ``base_lr = max_lr / 10``), so a sweep over lr sweeps the whole cycle.
Momentum cycling (torch's ``cycle_momentum=True`` default) is not done: a schedule drives the lr
only, as if ``cycle_momentum=False``.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from gdviz.params import HyperParam
from gdviz.schedules.torch_base import TorchSchedule, as_runs


def _lr(name: str, what: str, ui_min: float) -> HyperParam:
    return HyperParam(
        name, None, minimum=0.0, ui_min=ui_min, ui_max=1.0, log=True, optional=True, sweepable=False, help=what
    )


class CyclicLR(TorchSchedule):
    r"""Cyclical learning rate: from ``base_lr`` up to ``max_lr`` and back, over and over.

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\,\mathrm{tri}(t)\,s(t)

    with :math:`\mathrm{tri}` the triangle wave in [0, 1] and the amplitude scale :math:`s` = 1
    (``triangular``), :math:`2^{1-c}` in cycle c (``triangular2``) or :math:`\gamma^t` (``exp_range``).
    ``base_lr=None`` means ``max_lr / 10``, ``max_lr=None`` the optimizer's lr. torch's ``scale_fn``
    and ``scale_mode`` (custom policies) are not supported, and momentum is never cycled
    (``cycle_momentum`` is always False here).

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
    )
    formula = r"\eta_t = \eta_{lo} + (\eta_{hi}-\eta_{lo})\,\max(0,\,1-|t/s - 2c + 1|)\,\cdot\,\text{scale}(t)"

    def bounds(self, eta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base_lrs, max_lrs) of the runs: explicit values, else derived from the optimizer's lr."""
        high = eta0 if self.p("max_lr") is None else as_runs(self.p("max_lr"), eta0)
        low = high / 10 if self.p("base_lr") is None else as_runs(self.p("base_lr"), eta0)
        return low, high

    def construct(self, group, eta0):
        # torch sets the group's lr to base_lr, then LRScheduler.__init__ takes base_lrs from the
        # group's initial_lr for the initial step, and only afterwards replaces them by base_lr
        low, high = self.bounds(eta0)
        group = {**group, "lr": low}
        group.setdefault("initial_lr", low)
        own, group = self.initial_step({"base": group["initial_lr"], "max": high, "epoch": -1}, group)
        return {**own, "base": low}, group

    def get_lr(self, own, group, initial):
        epoch = own["epoch"]
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
        return own["base"] + (own["max"] - own["base"]) * scale * amplitude

    def torch_kwargs(self, base_lr):
        low, high = self.bounds(np.array([base_lr], dtype=np.float64))
        return {
            **super().torch_kwargs(base_lr),
            "base_lr": float(low[0]),
            "max_lr": float(high[0]),
            "cycle_momentum": False,
        }


class OneCycleLR(TorchSchedule):
    r"""The 1cycle policy: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal far below.

    .. math::
        \eta_t = \mathrm{anneal}(\eta_{start}, \eta_{end}, \text{pct}), \quad
        \eta_{init} = \frac{\eta_{\max}}{d}, \;\; \eta_{\min} = \frac{\eta_{init}}{d_f}

    two phases (η_init → η_max over ``pct_start`` of the steps, then η_max → η_min) or, with
    ``three_phase``, η_init → η_max → η_init → η_min; ``anneal`` is a half cosine or a straight line.
    ``max_lr=None`` means the optimizer's lr. ``total_steps`` is required (or ``epochs`` and
    ``steps_per_epoch``, as in torch).

    Warning: torch extrapolates one step past ``total_steps`` and raises on the next; here the
    cycle's last lr is held from step ``total_steps`` on, so a longer run continues at η_min.
    Momentum is never cycled (``cycle_momentum`` is always False here).

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
        r"\eta_t:\ \tfrac{\eta_{\max}}{d} \nearrow \eta_{\max} \text{ for } t < p\,T,"
        r"\ \text{then} \searrow \tfrac{\eta_{\max}}{d\,d_f} \text{ at } t = T-1"
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

    def phases(self) -> list[tuple[float, str, str]]:
        """(end_step, start key, end key) of each phase, keys into the param group, as torch builds them."""
        total, pct = self.total_steps(self.params), self.p("pct_start")
        if self.p("three_phase"):
            return [
                (float(pct * total) - 1, "initial_lr", "max_lr"),
                (float(2 * pct * total) - 2, "max_lr", "initial_lr"),
                (total - 1, "initial_lr", "min_lr"),
            ]
        return [(float(pct * total) - 1, "initial_lr", "max_lr"), (total - 1, "max_lr", "min_lr")]

    def prepare(self, group, eta0):
        peak = eta0 if self.p("max_lr") is None else as_runs(self.p("max_lr"), eta0)
        initial = peak / self.p("div_factor")
        return {}, {**group, "initial_lr": initial, "max_lr": peak, "min_lr": initial / self.p("final_div_factor")}

    def get_lr(self, own, group, initial):
        step_num = min(own["epoch"], self.total_steps(self.params) - 1)
        phases = self.phases()
        start_step = 0.0
        for i, (end_step, start_key, end_key) in enumerate(phases):
            if step_num <= end_step or i == len(phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                start, end = group[start_key], group[end_key]
                if self.p("anneal_strategy") == "cos":
                    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
                return (end - start) * pct + start
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    def torch_kwargs(self, base_lr):
        peak = base_lr if self.p("max_lr") is None else self.p("max_lr")
        return {**super().torch_kwargs(base_lr), "max_lr": float(peak), "cycle_momentum": False}
