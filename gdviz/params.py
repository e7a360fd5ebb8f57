"""Hyper-parameter specifications shared by optimizers and schedules.

A :class:`HyperParam` says everything the engine, the sidebar and the generic tests need to know
about one hyper-parameter: its default, the values torch accepts (validated loudly, with torch's
own wording where torch has the parameter) and the range a slider should offer.

Float parameters may be given as arrays of shape ``(R,)`` to sweep ``R`` runs in one call; they are
stored as column arrays ``(R, 1)`` so that they broadcast against iterates of shape ``(R, dim)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HyperParam:
    """One hyper-parameter.

    kind: ``"float"``, ``"int"``, ``"bool"``, ``"pair"`` (two floats, e.g. Adam's ``betas``),
    ``"choice"`` (one of ``choices``) or ``"list"`` (a list of ints, e.g. milestones).
    ``minimum``/``maximum`` bound what is *valid* (``ValueError`` outside); ``ui_min``/``ui_max``
    and ``log`` say what a slider offers. ``None`` as a default means "off / derived" and is
    allowed only when ``optional`` is set. ``in_torch=False`` marks an option of gdviz's own that the
    torch.optim class lacks (d2l's ε inside the square root): at its default the update is torch's,
    so the parity tests leave it out of torch's arguments, and they cannot check it switched on.
    """

    name: str
    default: Any
    kind: str = "float"
    minimum: float = -math.inf
    maximum: float = math.inf
    min_inclusive: bool = True
    max_inclusive: bool = True
    ui_min: float | None = None
    ui_max: float | None = None
    log: bool = False
    choices: tuple = ()
    optional: bool = False
    help: str = ""
    sweepable: bool = True
    in_torch: bool = True

    def slider_range(self) -> tuple[float, float]:
        """The (low, high) a slider offers: the UI range, else the valid range."""
        low = self.ui_min if self.ui_min is not None else self.minimum
        high = self.ui_max if self.ui_max is not None else self.maximum
        return float(low), float(high)

    def _in_range(self, values: np.ndarray) -> bool:
        low_ok = values >= self.minimum if self.min_inclusive else values > self.minimum
        high_ok = values <= self.maximum if self.max_inclusive else values < self.maximum
        return bool(np.all(low_ok & high_ok))

    def validate(self, value: Any, owner: str) -> Any:
        """Return the value in canonical form, or raise ``ValueError`` naming the parameter.

        Floats: a Python float, or a float array of shape (R, 1) for a sweep. Pairs: a tuple of two
        such values. Ints and bools: Python scalars. Choices: the given string.
        """
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"{owner}: {self.name} is required")
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise ValueError(f"{owner}: {self.name} must be True or False, got {value!r}")
        if self.kind == "choice":
            if value in self.choices:
                return value
            raise ValueError(f"{owner}: {self.name} must be one of {list(self.choices)}, got {value!r}")
        if self.kind == "int":
            return self._validate_int(value, owner)
        if self.kind == "list":
            try:
                items = [self._validate_int(v, owner) for v in value]
            except TypeError:
                raise ValueError(f"{owner}: {self.name} must be a list of integers, got {value!r}") from None
            return tuple(items)
        if self.kind == "pair":
            if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
                raise ValueError(f"{owner}: {self.name} must be a pair of numbers, got {value!r}")
            return tuple(self._validate_float(v, owner, f"{self.name}[{i}]") for i, v in enumerate(value))
        return self._validate_float(value, owner, self.name)

    def _validate_int(self, value: Any, owner: str) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
            raise ValueError(f"{owner}: {self.name} must be an integer, got {value!r}")
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise ValueError(f"{owner}: {self.name} must be an integer, got {value!r}")
        value = int(value)
        if not self._in_range(np.asarray(float(value))):
            raise ValueError(f"Invalid {self.name} value: {value} ({owner} accepts {self._range_text()})")
        return value

    def _validate_float(self, value: Any, owner: str, label: str) -> float | np.ndarray:
        if isinstance(value, (bool, np.bool_, str, bytes)):
            raise ValueError(f"{owner}: {label} must be a number, got {value!r}")
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{owner}: {label} must be a number or a 1-D array, got {value!r}") from None
        if array.ndim > 1 or (array.ndim == 1 and array.size == 0):
            raise ValueError(f"{owner}: {label} must be a number or a non-empty 1-D array (one value per run)")
        if array.ndim == 1 and not self.sweepable:
            raise ValueError(f"{owner}: {label} cannot be swept; give a single number")
        if not np.all(np.isfinite(array)) or not self._in_range(array):
            shown = float(array) if array.ndim == 0 else array.tolist()[:3]
            raise ValueError(f"Invalid {label} value: {shown} ({owner} accepts {self._range_text()})")
        if array.ndim == 0:
            return float(array)
        return array.reshape(-1, 1)

    def _range_text(self) -> str:
        left = "[" if self.min_inclusive else "("
        right = "]" if self.max_inclusive else ")"
        return f"{self.name} in {left}{self.minimum:g}, {self.maximum:g}{right}"


def validate_all(specs: tuple[HyperParam, ...], given: dict[str, Any], owner: str) -> dict[str, Any]:
    """Validate ``given`` against ``specs``: unknown names are an error, missing ones get defaults."""
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"{owner} got unexpected hyper-parameter(s) {unknown}; it accepts {sorted(known)}")
    return {name: spec.validate(given.get(name, spec.default), owner) for name, spec in known.items()}


def batch_size_of(values: dict[str, Any], owner: str) -> int:
    """The number of runs R implied by swept (array) values; 1 when every value is a scalar."""
    sizes = set()
    for value in values.values():
        parts = value if isinstance(value, tuple) else (value,)
        sizes.update(part.shape[0] for part in parts if isinstance(part, np.ndarray))
    if len(sizes) > 1:
        raise ValueError(f"{owner}: swept hyper-parameters have different lengths {sorted(sizes)}")
    return sizes.pop() if sizes else 1
