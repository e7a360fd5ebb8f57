"""The network: a small MLP ``Linear → act → … → Linear`` described by a spec, and its weights as one flat vector.

The flat vector is ``torch.nn.utils.parameters_to_vector(model.parameters())``: every layer's weight
(out, in) row by row, then its bias, layer after layer. The plane, the paths and the grid all live in
that one coordinate system. torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True)
class MLP:
    """``inputs`` → ``depth`` hidden layers of ``width`` units (``activation`` after each) → ``outputs``."""

    inputs: int
    width: int = 32
    depth: int = 2
    outputs: int = 1
    activation: str = "tanh"

    def __post_init__(self):
        for name, value in (
            ("inputs", self.inputs),
            ("width", self.width),
            ("depth", self.depth),
            ("outputs", self.outputs),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= 1)")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {self.activation!r}; choose one of {list(ACTIVATIONS)}")

    @property
    def sizes(self) -> list[int]:
        return [self.inputs] + [self.width] * self.depth + [self.outputs]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The parameters' shapes in ``model.parameters()`` order: (out, in) then (out,) per layer."""
        out: list[tuple[int, ...]] = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            out += [(fan_out, fan_in), (fan_out,)]
        return out

    @property
    def parameters(self) -> int:
        return int(sum(np.prod(shape) for shape in self.shapes))

    @property
    def widest(self) -> int:
        return max(self.sizes)

    def describe(self) -> str:
        hidden = " → ".join([f"{self.width}"] * self.depth)
        return f"{self.inputs} → {hidden} → {self.outputs} ({self.activation}), {self.parameters:,} parameters"


def build(spec: MLP, dtype=None, device=None) -> torch.nn.Sequential:
    """The ``nn.Sequential`` of ``spec`` (torch's default initialisation, from torch's global generator)."""
    import torch

    layers: list[torch.nn.Module] = []
    act = torch.nn.Tanh if spec.activation == "tanh" else torch.nn.ReLU
    sizes = spec.sizes
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=dtype, device=device))
        if k < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def initial_weights(spec: MLP, seed: int) -> np.ndarray:
    """(P,) float32: the weights ``torch.manual_seed(seed); build(spec)`` starts from, drawn without touching
    torch's global generator (every racer starts here)."""
    import torch

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Invalid seed: {seed!r} (must be an integer >= 0)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = build(spec)
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()


def loss_function(task: str):
    """``(prediction, target) -> loss``: binary cross-entropy on logits ("classify") or the MSE ("regress")."""
    import torch

    if task == "classify":
        return torch.nn.functional.binary_cross_entropy_with_logits
    if task == "regress":
        return torch.nn.functional.mse_loss
    raise ValueError(f"Unknown task {task!r}; choose 'classify' or 'regress'")
