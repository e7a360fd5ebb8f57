"""Landscape experiments: thousands of runs as one vectorized engine call, summarised as a picture.

- :mod:`~gdviz.landscape.stability`: :func:`stability_map`, the final loss over a grid of two
  hyper-parameters (lr against momentum, say), from one start.
- :mod:`~gdviz.landscape.basins`: :func:`basins` / :func:`compare_basins`, which minimum each start
  point of a grid ends in.
- :mod:`~gdviz.landscape.escape`: :func:`random_restarts` and :func:`annealed_noise_run`, two ways
  out of a local minimum.
- :mod:`~gdviz.landscape.quadratic_theory`: :func:`quadratic_theory`, GD and heavy-ball momentum on a
  quadratic in closed form (stability boundary, optimal η and β, predicted rates), and
  :func:`trajectory_rate`, the rate a run measures.
- :mod:`~gdviz.landscape.tuning`: :func:`tune_lr`, a comparison where every optimizer gets the same
  grid of learning rates.
- :mod:`~gdviz.landscape.fair_tuning`: :func:`tune_all`, the same number of trials per optimizer over all
  its hyper-parameters (random search), from several starts and noise draws, scored by final loss.

Every function validates loudly and returns a small frozen dataclass of arrays; nothing here draws.
"""

from gdviz.landscape.basins import DIVERGED, NOT_CONVERGED, Basins, attractors, basins, compare_basins, grid_starts
from gdviz.landscape.escape import Annealing, Restarts, annealed_noise_run, random_restarts
from gdviz.landscape.fair_tuning import TunedAll, TuningBudget, ranking, tunable_axes, tune_all
from gdviz.landscape.quadratic_theory import (
    NoTheory,
    QuadraticTheory,
    measured_rate,
    quadratic_theory,
    spectral_radius,
    trajectory_rate,
    why_not_heavy_ball,
)
from gdviz.landscape.stability import StabilityMap, axis_spec, stability_map, sweep_axes
from gdviz.landscape.tuning import Tuned, log_grid, tune_lr

__all__ = [
    "DIVERGED",
    "NOT_CONVERGED",
    "Annealing",
    "Basins",
    "NoTheory",
    "QuadraticTheory",
    "Restarts",
    "StabilityMap",
    "Tuned",
    "TunedAll",
    "TuningBudget",
    "annealed_noise_run",
    "attractors",
    "axis_spec",
    "basins",
    "compare_basins",
    "grid_starts",
    "log_grid",
    "measured_rate",
    "quadratic_theory",
    "ranking",
    "random_restarts",
    "spectral_radius",
    "stability_map",
    "sweep_axes",
    "trajectory_rate",
    "tunable_axes",
    "tune_all",
    "tune_lr",
    "why_not_heavy_ball",
]
