"""The whole Playground state as one frozen value, and its URL query-parameter codec.

A :class:`Scenario` is what a link restores: surface (or typed formula), start, steps, gradient noise,
schedule and up to 8 optimizers. Scenarios are kept *canonical* — every hyper-parameter present, in
the registry spec's order, as plain Python values — so two scenarios that draw the same picture
compare equal, hash equal (the simulation cache key) and encode to the same link.

Query keys (``v`` is the codec version; absent keys take the default)::

    v=1  s=quadratic | f=<formula>  x0=-5,-2  steps=100  noise=1  batch=4  seed=7
    sched=ExponentialLR  sched.gamma=0.99
    o1=SGD  o1.lr=0.1  o1.momentum=0.9  o1.clip=1  o1.label=heavy ball   (o1 … o8)

Only hyper-parameters that differ from the registry default are written. ``from_query`` treats its
input as hostile: unknown keys are ignored (and named in a notice), malformed values fall back to the
default and out-of-range ones are clamped to :mod:`ui.limits`, each with a notice; it never raises.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.params import HyperParam
from gdviz.schedules import schedule_class
from ui import limits
from ui.state.values import (
    NO_SCHEDULE,
    Params,
    canonical_value,
    encode_value,
    format_number,
    full_params,
)

QUERY_VERSION = "1"
CUSTOM = "custom"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~])")
_LABEL_DROP = re.compile(r"[\x00-\x1f\x7f<>&\"'`\\$]")


@dataclass(frozen=True)
class OptimizerEntry:
    """One racer: a registry optimizer, all its hyper-parameters, optional clipping and a label."""

    name: str
    hyper: Params = ()
    max_grad_norm: float | None = None
    label: str = ""

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.hyper)


def _default_optimizers() -> tuple[OptimizerEntry, ...]:
    wanted = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.5}), ("Adam", {"lr": 0.3})]
    return tuple(entry(name, **hyper) for name, hyper in wanted if name.lower() in _lower(gdviz.OPTIMIZERS))


def _default_surface() -> str:
    return "quadratic" if "quadratic" in gdviz.SURFACES or not gdviz.SURFACES else sorted(gdviz.SURFACES)[0]


@dataclass(frozen=True)
class Scenario:
    """Everything the Playground computes from. ``start=None``: the surface's default start.

    ``more_starts`` restarts every optimizer from further points (only with an explicit ``start``):
    each optimizer then runs once per start, as one batch.

    ``schedule=NO_SCHEDULE`` means a constant learning rate; ``formula`` non-empty means a custom surface
    (``surface`` is then :data:`CUSTOM`).
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

    @property
    def has_schedule(self) -> bool:
        return self.schedule != NO_SCHEDULE

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


# -- canonical entries -----------------------------------------------------------------------------
def _lower(registry: Mapping[str, Any]) -> dict[str, str]:
    return {name.lower(): name for name in registry}


def entry(name: str, *, label: str = "", max_grad_norm: float | None = None, **hyper: Any) -> OptimizerEntry:
    """A canonical optimizer entry, e.g. ``entry("SGD", lr=0.1, momentum=0.9)``; raises on unknown names."""
    cls = optimizer_class(name)
    unknown = sorted(set(hyper) - {spec.name for spec in cls.spec})
    if unknown:
        raise ValueError(f"{cls.name} has no hyper-parameter(s) {unknown}")
    clip = None if max_grad_norm is None else float(max_grad_norm)
    return OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, clean_label(label))


def schedule_params(name: str, **params: Any) -> Params:
    """Canonical parameters of the schedule ``name`` (its defaults, overridden by ``params``)."""
    cls = schedule_class(name)
    unknown = sorted(set(params) - {spec.name for spec in cls.spec})
    if unknown:
        raise ValueError(f"{cls.name} has no parameter(s) {unknown}")
    return full_params(cls.spec, params)


def escape_markdown(text: str) -> str:
    """``text`` shown literally where Streamlit renders Markdown (no links, no LaTeX, no HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def clean_label(text: str) -> str:
    """A legend label safe to show anywhere: no markup or control characters, bounded length."""
    return _LABEL_DROP.sub("", str(text)).strip()[: limits.MAX_LABEL_CHARS].strip()


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


# -- encoding ---------------------------------------------------------------------------------------
def _encode_params(prefix: str, specs: tuple[HyperParam, ...], params: Params, out: dict[str, str]) -> None:
    for spec, (name, value) in zip(specs, params, strict=True):
        # lr is written even at its default: it is what a reader of the link looks for first
        if name == "lr" or value != canonical_value(spec, spec.default):
            out[f"{prefix}.{name}"] = encode_value(spec, value)


def to_query(scenario: Scenario) -> dict[str, str]:
    """The scenario as URL query parameters (string values); only non-defaults beyond the basics."""
    out = {"v": QUERY_VERSION}
    if scenario.is_custom:
        out["f"] = scenario.formula
    else:
        out["s"] = scenario.surface
    if scenario.start is not None:
        points = (scenario.start, *scenario.more_starts)
        out["x0"] = ";".join(",".join(format_number(v) for v in point) for point in points)
    out["steps"] = str(scenario.steps)
    if scenario.noise:
        out["noise"] = format_number(scenario.noise)
    if scenario.batch_size != 1:
        out["batch"] = str(scenario.batch_size)
    if scenario.seed:
        out["seed"] = str(scenario.seed)
    if scenario.has_schedule:
        out["sched"] = scenario.schedule
        _encode_params("sched", schedule_class(scenario.schedule).spec, scenario.schedule_params, out)
    for number, item in enumerate(scenario.optimizers, start=1):
        key = f"o{number}"
        out[key] = item.name
        _encode_params(key, optimizer_class(item.name).spec, item.hyper, out)
        if item.max_grad_norm is not None:
            out[f"{key}.clip"] = format_number(item.max_grad_norm)
        if item.label:
            out[f"{key}.label"] = item.label
    return out


# -- decoding ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=limits.OPTIMIZER_CACHE_MAX_ENTRIES)
def _built(name: str, hyper: Params, max_grad_norm: float | None) -> Optimizer:
    return gdviz.optimizer(name, max_grad_norm=max_grad_norm, **dict(hyper))


def build_optimizer(item: OptimizerEntry) -> Optimizer:
    """The engine's optimizer for ``item``, built once per distinct setting in this process (raises
    ValueError if the engine refuses it). Checking a scenario and running it then share one build: an
    optimizer is never changed after construction (the engine's updates are pure), so one instance can
    serve every rerun and every session."""
    return _built(item.name, item.hyper, item.max_grad_norm)


def checked_entry(item: OptimizerEntry) -> tuple[OptimizerEntry, str | None]:
    """The entry if the engine accepts it, else its defaults (lr kept when that is accepted) and why."""
    try:
        build_optimizer(item)
        return item, None
    except ValueError as error:
        message = str(error)
    fallback = entry(item.name, label=item.label, max_grad_norm=item.max_grad_norm)
    if "lr" in item.params:
        with_lr = replace(fallback, hyper=tuple((k, item.params["lr"] if k == "lr" else v) for k, v in fallback.hyper))
        try:
            build_optimizer(with_lr)
            fallback = with_lr
        except ValueError:
            pass
    return fallback, message


def checked_schedule(name: str, params: Params) -> tuple[str, Params, str | None]:
    """The schedule if the engine accepts it, else its defaults, else no schedule, and why."""
    if name == NO_SCHEDULE:
        return NO_SCHEDULE, (), None
    try:
        gdviz.schedule(name, **dict(params))
        return name, params, None
    except ValueError as error:
        message = str(error)
    defaults = schedule_params(name)
    try:
        gdviz.schedule(name, **dict(defaults))
        return name, defaults, message
    except ValueError:
        return NO_SCHEDULE, (), message


def from_query(params: Mapping[str, Any]) -> tuple[Scenario, list[str]]:
    """A scenario from untrusted query parameters, and a notice for everything not taken as is (never raises).

    The reader lives in :mod:`ui.query_reader`; it builds Scenarios, so it is imported here, on use.
    """
    from ui.playground.query_reader import read_query

    return read_query(params)
