"""gdviz: optimizers, learning-rate schedules and test surfaces, NumPy-only and vectorized over runs.

>>> import gdviz
>>> s = gdviz.surface("rosenbrock")
>>> traj = gdviz.run(s, gdviz.optimizer("Adam", lr=0.01), start=(-1.5, 2.0), steps=500)
"""

from gdviz.critical import CriticalPoint, critical_point, find_critical_points
from gdviz.custom import custom_surface
from gdviz.export import torch_script
from gdviz.optimizers import OPTIMIZERS, Optimizer, optimizer
from gdviz.run import Trajectory, race, run
from gdviz.schedules import SCHEDULES, Schedule, schedule
from gdviz.surfaces import SURFACES, Surface, surface

__version__ = "0.1.0"

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SURFACES",
    "CriticalPoint",
    "Optimizer",
    "Schedule",
    "Surface",
    "Trajectory",
    "critical_point",
    "custom_surface",
    "find_critical_points",
    "optimizer",
    "race",
    "run",
    "schedule",
    "surface",
    "torch_script",
]


def __getattr__(name: str):
    """``gdviz.regression`` on first use, so that ``import gdviz`` never pays for importing torch."""
    if name == "regression":
        import importlib

        return importlib.import_module("gdviz.regression")
    raise AttributeError(f"module 'gdviz' has no attribute {name!r}")
