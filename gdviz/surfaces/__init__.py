"""The surface registry: d2l's functions, one surface per defect of vanilla GD, and the classics."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gdviz.surfaces import classics, d2l, defects, multimodal, rugged
from gdviz.surfaces.base import Surface


def _register(*modules) -> dict[str, Surface]:
    registry: dict[str, Surface] = {}
    for module in modules:
        for entry in module.SURFACES:
            if entry.name != entry.name.lower() or entry.name in registry:
                raise ValueError(f"surface names must be lower-case and unique: {entry.name!r}")
            registry[entry.name] = entry
    return registry


# read-only: the registry is shared by every session of the app, so nothing may add to it at run time
SURFACES: Mapping[str, Surface] = MappingProxyType(_register(d2l, defects, classics, multimodal, rugged))


def surface(name: str) -> Surface:
    """The registered surface called ``name`` (case-insensitive), e.g. ``surface("rosenbrock")``."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in SURFACES:
        raise ValueError(f"Unknown surface {name!r}; choose one of {sorted(SURFACES)}")
    return SURFACES[key]


__all__ = ["SURFACES", "Surface", "surface"]
