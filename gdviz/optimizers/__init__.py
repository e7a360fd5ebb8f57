"""The optimizer registry: torch.optim's algorithms, and a few beyond it, vectorized over runs.

Adding an optimizer touches two places: its module here (with its class attributes, ``demo`` among
them) and one entry in a family tuple below; the generic tests read everything else from the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from gdviz.optimizers.adadelta import Adadelta
from gdviz.optimizers.adagrad import Adagrad
from gdviz.optimizers.adam import Adam, AdamW
from gdviz.optimizers.adam_then_sgd import AdamThenSGD
from gdviz.optimizers.adamax import Adamax
from gdviz.optimizers.asgd import ASGD
from gdviz.optimizers.base import Optimizer
from gdviz.optimizers.lion import Lion
from gdviz.optimizers.nadam import NAdam
from gdviz.optimizers.newton import Newton
from gdviz.optimizers.radam import RAdam
from gdviz.optimizers.rmsprop import RMSprop
from gdviz.optimizers.rprop import Rprop
from gdviz.optimizers.sgd import SGD
from gdviz.optimizers.yogi import Yogi

# torch.optim's SGD-style and accumulator methods
_SGD_FAMILY: tuple[type[Optimizer], ...] = (SGD, Adagrad, RMSprop, Adadelta, Rprop, ASGD)
# torch.optim's Adam family
_ADAM_FAMILY: tuple[type[Optimizer], ...] = (Adam, AdamW, Adamax, NAdam, RAdam)
# checked against their papers' formulas, not torch
_BEYOND_TORCH: tuple[type[Optimizer], ...] = (Newton, Lion, Yogi, AdamThenSGD)

# read-only: the registry is shared by every session of the app, so nothing may add to it at run time
OPTIMIZERS: Mapping[str, type[Optimizer]] = MappingProxyType(
    {cls.name: cls for cls in _SGD_FAMILY + _ADAM_FAMILY + _BEYOND_TORCH}
)
_BY_LOWER = MappingProxyType({name.lower(): cls for name, cls in OPTIMIZERS.items()})
# names a student may type for plain gradient descent
_ALIASES = MappingProxyType({"gd": "sgd"})


def optimizer_class(name: str) -> type[Optimizer]:
    """The optimizer class registered under ``name`` (case-insensitive)."""
    if not isinstance(name, str):
        raise ValueError(f"optimizer name must be a string, got {name!r}")
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in _BY_LOWER:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return _BY_LOWER[key]


def optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build an optimizer by torch.optim class name, e.g. ``optimizer("Adam", lr=0.01)``.

    Hyper-parameters follow torch's names and defaults; any float one may be an array of shape (R,)
    to sweep R runs in one call. ``max_grad_norm`` clips each run's gradient norm (as
    torch.nn.utils.clip_grad_norm_) before the update, for any optimizer.
    """
    return optimizer_class(name)(**hyper)


__all__ = ["OPTIMIZERS", "Optimizer", "optimizer", "optimizer_class"]
