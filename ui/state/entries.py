"""Optimizer and schedule settings as canonical values, and the engine's word on them.

An :class:`OptimizerEntry` is one racer (a registry optimizer with every hyper-parameter, optional
clipping, optional gradient compression, a label, optionally its own lr schedule); a schedule is ``(name, params)``. Both are kept *canonical*: every parameter present,
in the registry spec's order, as plain Python values, so equal settings compare and hash equal. Every
page reads its optimizers and schedules through these, and the engine has the last word on rules that
span parameters (:func:`checked_entry`, :func:`checked_schedule`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.optimizers.base import Optimizer
from gdviz.schedules import schedule_class
from ui import limits
from ui.state.text import clean_label
from ui.state.values import NO_SCHEDULE, Params, full_params


@dataclass(frozen=True)
class OptimizerEntry:
    """One racer: a registry optimizer, all its hyper-parameters, optional clipping, a label and optional
    top-k gradient compression (``compress_topk``, with ``error_feedback`` and DGC's ``momentum_correction``
    m; see gdviz.optimizers.compression). Build it with :func:`entry` or :func:`compression` so that the
    compression fields are canonical: with ``compress_topk=None`` the other two are at their defaults."""

    name: str
    hyper: Params = ()
    max_grad_norm: float | None = None
    label: str = ""
    compress_topk: int | None = None
    error_feedback: bool = True
    momentum_correction: float | None = None
    schedule: OwnSchedule | None = None  # this racer's own lr schedule; None: the race's (shared) one

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.hyper)

    @property
    def compression(self) -> Compressed:
        return self.compress_topk, self.error_feedback, self.momentum_correction


# a racer's own schedule: (name, canonical params); the name NO_SCHEDULE is a constant lr whatever the race's is
OwnSchedule = tuple[str, Params]


# (compress_topk, error_feedback, momentum_correction) of an entry
Compressed = tuple[int | None, bool, float | None]
NO_COMPRESSION: Compressed = (None, True, None)


def compression(topk: Any = None, error_feedback: Any = True, momentum_correction: Any = None) -> Compressed:
    """Canonical compression fields: plain Python values, and the defaults of the other two without top-k
    (unchecked: the engine has the last word, through :func:`checked_entry`)."""
    if topk is None:
        return NO_COMPRESSION
    momentum = None if momentum_correction is None else float(momentum_correction)
    return int(topk), bool(error_feedback), momentum


def registry_name(registry: Mapping[str, Any], name: str) -> str | None:
    """``name`` as the registry spells it (case-insensitive), or None."""
    return {key.lower(): key for key in registry}.get(name.lower())


def entry(
    name: str,
    *,
    label: str = "",
    max_grad_norm: float | None = None,
    compress_topk: int | None = None,
    error_feedback: bool = True,
    momentum_correction: float | None = None,
    schedule: str | tuple[str, Any] | None = None,
    **hyper: Any,
) -> OptimizerEntry:
    """A canonical optimizer entry, e.g. ``entry("SGD", lr=0.1, momentum=0.9)``,
    ``entry("SGD", lr=0.01, compress_topk=1)`` or, with its own schedule,
    ``entry("SGD", lr=0.1, schedule=("ExponentialDecay", {"lam": 0.1}))``; raises on unknown names."""
    cls = optimizer_class(name)
    unknown = sorted(set(hyper) - {spec.name for spec in cls.spec})
    if unknown:
        raise ValueError(f"{cls.name} has no hyper-parameter(s) {unknown}")
    clip = None if max_grad_norm is None else float(max_grad_norm)
    squeezed = compression(compress_topk, error_feedback, momentum_correction)
    own = own_schedule(*((schedule, {}) if isinstance(schedule, str) else schedule)) if schedule is not None else None
    return OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, clean_label(label), *squeezed, own)


def own_schedule(name: str, params: Mapping[str, Any] | Params = ()) -> OwnSchedule:
    """A racer's own schedule, canonical: ``("constant", ())`` or a registry schedule with all its parameters."""
    if name == NO_SCHEDULE:
        return NO_SCHEDULE, ()
    cls = schedule_class(name)
    return cls.name, schedule_params(cls.name, **dict(params))


def schedule_params(name: str, **params: Any) -> Params:
    """Canonical parameters of the schedule ``name`` (its defaults, overridden by ``params``)."""
    cls = schedule_class(name)
    unknown = sorted(set(params) - {spec.name for spec in cls.spec})
    if unknown:
        raise ValueError(f"{cls.name} has no parameter(s) {unknown}")
    return full_params(cls.spec, params)


@functools.lru_cache(maxsize=limits.OPTIMIZER_CACHE_MAX_ENTRIES)
def _built(name: str, hyper: Params, max_grad_norm: float | None, squeezed: Compressed) -> Optimizer:
    topk, feedback, momentum = squeezed
    extra = {} if topk is None else {"compress_topk": topk, "error_feedback": feedback, "momentum_correction": momentum}
    return gdviz.optimizer(name, max_grad_norm=max_grad_norm, **extra, **dict(hyper))


def build_optimizer(item: OptimizerEntry) -> Optimizer:
    """The engine's optimizer for ``item``, built once per distinct setting in this process (raises
    ValueError if the engine refuses it). Checking a scenario and running it then share one build: an
    optimizer is never changed after construction (the engine's updates are pure), so one instance can
    serve every rerun and every session."""
    return _built(item.name, item.hyper, item.max_grad_norm, item.compression)


def checked_entry(item: OptimizerEntry) -> tuple[OptimizerEntry, str | None]:
    """The entry if the engine accepts it, else its defaults (lr kept when that is accepted) and why.

    Compression the engine refuses (Newton's, a bad m) is dropped alone when that is the whole problem;
    the defaults keep the entry's compression where the engine accepts it with them.
    """
    try:
        build_optimizer(item)
        return item, None
    except ValueError as error:
        message = str(error)
    if item.compression != NO_COMPRESSION:
        plain = replace(item, compress_topk=None, error_feedback=True, momentum_correction=None)
        try:
            build_optimizer(plain)
            return plain, message
        except ValueError:
            pass
    fallback = replace(entry(item.name, label=item.label, max_grad_norm=item.max_grad_norm), schedule=item.schedule)
    if "lr" in item.params:
        with_lr = replace(fallback, hyper=tuple((k, item.params["lr"] if k == "lr" else v) for k, v in fallback.hyper))
        try:
            build_optimizer(with_lr)
            fallback = with_lr
        except ValueError:
            pass
    if item.compression != NO_COMPRESSION:
        compressed = replace(fallback, compress_topk=item.compress_topk, error_feedback=item.error_feedback)
        compressed = replace(compressed, momentum_correction=item.momentum_correction)
        try:
            build_optimizer(compressed)
            fallback = compressed
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


def checked_own_schedule(own: OwnSchedule | None) -> tuple[OwnSchedule | None, str | None]:
    """A racer's own schedule if the engine accepts it, else its defaults, else the race's schedule (None),
    and why."""
    if own is None or own[0] == NO_SCHEDULE:
        return own, None
    name, params, problem = checked_schedule(*own)
    return (None if name == NO_SCHEDULE else (name, params)), problem
