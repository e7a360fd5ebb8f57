"""The surface registry: d2l's functions, one surface per defect of vanilla GD, and the classics."""

from __future__ import annotations

from gdviz.surfaces.base import Surface

SURFACES: dict[str, Surface] = {}


def surface(name: str) -> Surface:
    """The registered surface called ``name`` (case-insensitive), e.g. ``surface("rosenbrock")``."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in SURFACES:
        raise ValueError(f"Unknown surface {name!r}; choose one of {sorted(SURFACES)}")
    return SURFACES[key]


__all__ = ["SURFACES", "Surface", "surface"]
