"""The whole Playground state as one frozen value, and its URL query-parameter codec.

A :class:`Scenario` is what a link restores: surface (or typed formula), start, steps, gradient noise,
schedule and up to 8 optimizers. Scenarios are kept *canonical* — every hyper-parameter present, in
the registry spec's order, as plain Python values — so two scenarios that draw the same picture
compare equal, hash equal (the simulation cache key) and encode to the same link.

Query keys (``v`` is the codec version; absent keys take the default)::

    v=1  s=quadratic | f=<formula>  x0=-5,-2  steps=100  noise=1  batch=4  seed=7
    sched=ExponentialLR  sched.gamma=0.99
    o1=SGD  o1.lr=0.1  o1.momentum=0.9  o1.clip=1  o1.label=heavy ball   (o1 … o8)
    o2.sched=ExponentialDecay  o2.sched.lam=0.1   (optimizer 2's own schedule; "constant": its fixed lr)
    story=d2l-schedules   (the story it was loaded from: the page says whether it is still as told)

The codec is the Playground's tuple of fields (:data:`FIELDS`, see ui/state/fields.py), the same
layer every page uses. Only hyper-parameters that differ from the registry default are written (and
lr). ``from_query`` treats its input as hostile: unknown keys are ignored (and named in a notice),
malformed values fall back to the default and out-of-range ones are clamped to :mod:`ui.limits`, each
with a notice; it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.params import HyperParam
from ui import limits
from ui.state import fields
from ui.state.entries import OptimizerEntry, entry, registry_name
from ui.state.fields import Entry, Field, Number, Racers, Starts, Story, Surface, Version
from ui.state.values import NO_SCHEDULE, Params, canonical_value

QUERY_VERSION = "1"
CUSTOM = "custom"


def _default_optimizers() -> tuple[OptimizerEntry, ...]:
    wanted = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.5}), ("Adam", {"lr": 0.3})]
    return tuple(entry(name, **hyper) for name, hyper in wanted if registry_name(gdviz.OPTIMIZERS, name))


def _default_surface() -> str:
    return "quadratic" if "quadratic" in gdviz.SURFACES or not gdviz.SURFACES else sorted(gdviz.SURFACES)[0]


@dataclass(frozen=True)
class Scenario:
    """Everything the Playground computes from. ``start=None``: the surface's default start.

    ``more_starts`` restarts every optimizer from further points (only with an explicit ``start``):
    each optimizer then runs once per start, as one batch.

    ``schedule=NO_SCHEDULE`` means a constant learning rate; an optimizer may carry its own schedule, which
    then replaces this one for it. ``formula`` non-empty means a custom surface (``surface`` is then
    :data:`CUSTOM`). ``story``: the key of the story (ui/playground/presets.py) the scenario was loaded from,
    kept when the visitor changes something ("" for none).
    """

    surface: str = field(default_factory=_default_surface)
    formula: str = ""
    start: tuple[float, ...] | None = None
    more_starts: tuple[tuple[float, ...], ...] = ()
    steps: int = limits.DEFAULT_STEPS
    noise: float = 0.0
    batch_size: int = 1
    seed: int = 0
    schedule: str = NO_SCHEDULE
    schedule_params: Params = ()
    optimizers: tuple[OptimizerEntry, ...] = field(default_factory=_default_optimizers)
    story: str = ""

    @property
    def has_schedule(self) -> bool:
        return self.schedule != NO_SCHEDULE

    @property
    def has_own_schedules(self) -> bool:
        """Whether some optimizer races under a schedule of its own."""
        return any(item.schedule is not None for item in self.optimizers)

    @property
    def is_custom(self) -> bool:
        return bool(self.formula)


def fit_budget(scenario: Scenario) -> tuple[Scenario, str | None]:
    """``scenario`` with at most MAX_RUN_STEPS run-steps (fewer steps if needed), and a notice if cut."""
    runs = len(scenario.optimizers) * (1 + len(scenario.more_starts))
    most = max(limits.MIN_STEPS, limits.MAX_RUN_STEPS // max(runs, 1))
    if scenario.steps <= most:
        return scenario, None
    notice = f"{runs} runs × {scenario.steps} steps is beyond the server's budget; steps limited to {most}."
    return replace(scenario, steps=most), notice


# short symbols for a legend label; other parameters are shown by name
_SYMBOLS = {"lr": "η", "momentum": "μ", "betas": "β", "alpha": "α", "rho": "ρ", "weight_decay": "λ", "eps": "ε"}


def auto_labels(optimizers: tuple[OptimizerEntry, ...]) -> list[str]:
    """Legend labels: the given label, else the name and up to three changed hyper-parameters; unique."""
    labels = []
    for item in optimizers:
        text = item.label
        if not text:
            specs = optimizer_class(item.name).spec
            changed = [
                f"{_SYMBOLS.get(spec.name, spec.name)}={_short(spec, value)}"
                for spec, (_, value) in zip(specs, item.hyper, strict=True)
                if spec.name == "lr" or value != canonical_value(spec, spec.default)
            ]
            text = " ".join([item.name, ", ".join(changed[:3])]).strip()
            if item.max_grad_norm is not None:
                text += f" clip {item.max_grad_norm:g}"
            if item.schedule is not None:  # its own schedule, not the race's: the legend says so
                text += " · constant lr" if item.schedule[0] == NO_SCHEDULE else f" · {item.schedule[0]}"
        labels.append(text)
    seen: dict[str, int] = {}
    for index, text in enumerate(labels):
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            labels[index] = f"{text} #{seen[text]}"
    return labels


def _short(spec: HyperParam, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- the link: the Playground's fields in ui/state ----------------------------------------------------
def _fields() -> tuple[Field, ...]:
    base = Scenario()
    low, high = limits.MIN_BATCH_SIZE, limits.MAX_BATCH_SIZE
    return (
        Version("v", QUERY_VERSION),
        Surface("s", "Surface", (base.surface, ""), widget="surface", custom=CUSTOM),
        Starts("x0", "Start point", "s", more_widget="more_starts", dim_widget="dim"),
        Number("steps", "Steps", base.steps, limits.MIN_STEPS, limits.MAX_STEPS, integer=True, always=True),
        Number("noise", "Noise σ", 0.0, limits.MIN_NOISE, limits.MAX_NOISE),
        Number("batch", "Batch size", 1, low, high, integer=True),
        Number("seed", "Seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
        Entry("sched", "Schedule", "schedule", NO_SCHEDULE, constant=True, horizon=0),
        Racers("o", "Optimizers", base.optimizers),
        Story("story", "Story", widget="preset"),
    )


FIELDS = _fields()
RACERS: Racers = FIELDS[-2]
STARTS: Starts = FIELDS[2]


def values_of(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the fields' values."""
    return {
        "v": QUERY_VERSION,
        "s": (scenario.surface, scenario.formula),
        "x0": (scenario.start, scenario.more_starts),
        "steps": scenario.steps,
        "noise": scenario.noise,
        "batch": scenario.batch_size,
        "seed": scenario.seed,
        "sched": (scenario.schedule, scenario.schedule_params),
        "o": scenario.optimizers,
        "story": scenario.story,
    }


def scenario_of(values: Mapping[str, Any]) -> tuple[Scenario, str | None]:
    """The fields' values as a scenario within the server's budget, and a notice if it was cut."""
    (surface, formula), (start, more_starts) = values["s"], values["x0"]
    schedule, schedule_params = values["sched"]
    scenario = Scenario(
        surface=surface,
        formula=formula,
        start=start,
        more_starts=more_starts,
        steps=int(values["steps"]),
        noise=float(values["noise"]),
        batch_size=int(values["batch"]),
        seed=int(values["seed"]),
        schedule=schedule,
        schedule_params=schedule_params,
        optimizers=values["o"],
        story=values.get("story", ""),
    )
    return fit_budget(scenario)


def to_query(scenario: Scenario) -> dict[str, str]:
    """The scenario as URL query parameters (string values); only non-defaults beyond the basics."""
    return fields.to_query(FIELDS, values_of(scenario))


def from_query(params: Mapping[str, Any]) -> tuple[Scenario, list[str]]:
    """A scenario from untrusted query parameters, and a notice for everything not taken as is (never raises)."""
    values, notices = fields.read_query(FIELDS, params, value_chars=None)
    try:
        scenario, notice = scenario_of(values)
    except Exception as error:  # noqa: BLE001 -- a last line of defence: a link must never break the page
        return Scenario(), [
            *notices,
            f"The link could not be read ({type(error).__name__}); showing the default scenario.",
        ]
    return scenario, [*notices, *([notice] if notice else [])]
