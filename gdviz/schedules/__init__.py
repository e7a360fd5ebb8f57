"""The learning-rate schedule registry: torch.optim.lr_scheduler's per-step schedules and d2l's."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from gdviz.schedules.base import Schedule
from gdviz.schedules.cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from gdviz.schedules.cyclic import CyclicLR, OneCycleLR
from gdviz.schedules.d2l import ExponentialDecay, PolynomialDecay
from gdviz.schedules.plateau import ReduceLROnPlateau
from gdviz.schedules.sequential import SequentialLR
from gdviz.schedules.step import ConstantLR, ExponentialLR, LinearLR, MultiStepLR, PolynomialLR, StepLR

# read-only: the registry is shared by every session of the app, so nothing may add to it at run time
SCHEDULES: Mapping[str, type[Schedule]] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            # torch.optim.lr_scheduler, in its documentation's order
            StepLR,
            MultiStepLR,
            ConstantLR,
            LinearLR,
            ExponentialLR,
            PolynomialLR,
            CosineAnnealingLR,
            CosineAnnealingWarmRestarts,
            CyclicLR,
            OneCycleLR,
            SequentialLR,
            ReduceLROnPlateau,
            # d2l 12.4, not in torch
            ExponentialDecay,
            PolynomialDecay,
        )
    }
)
_BY_LOWER = MappingProxyType({name.lower(): cls for name, cls in SCHEDULES.items()})


def schedule_class(name: str) -> type[Schedule]:
    """The schedule class registered under ``name`` (case-insensitive)."""
    if not isinstance(name, str) or name.strip().lower() not in _BY_LOWER:
        raise ValueError(f"Unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return _BY_LOWER[name.strip().lower()]


def schedule(name: str, **params: Any) -> Schedule:
    """Build a schedule by torch.optim.lr_scheduler class name, e.g. ``schedule("StepLR", step_size=10)``."""
    return schedule_class(name)(**params)


__all__ = ["SCHEDULES", "Schedule", "schedule", "schedule_class"]
