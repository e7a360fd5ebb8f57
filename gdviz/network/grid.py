"""The network's loss (or output) at many weight vectors in one batched pass: every layer a ``baddbmm`` over
the weight vectors, chunked so that no pass holds more than :data:`CHUNK_BYTES` of activations.

:meth:`Evaluator.loop_losses` is the same numbers from a Python loop over the weight vectors — one
``vector_to_parameters`` and one forward each — the baseline that benchmarks/network.py times against.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdviz.network.data import Dataset
from gdviz.network.model import MLP, build, loss_function
from gdviz.network.plane import Plane
from gdviz.regression.device import resolve_device

# activations and weight copies of one batched pass, at most (float32): a 61 × 61 grid of a 64-wide network
# on 1,000 samples would otherwise hold ~1 GB at once
CHUNK_BYTES = 32 * 2**20


class Evaluator:
    """The loss of ``spec`` on ``data`` (and its output on any inputs) at weight vectors, on ``device``."""

    def __init__(self, spec: MLP, data: Dataset, device: Any = "cpu"):
        import torch

        self.spec, self.dev = spec, resolve_device(device)
        self.model = build(spec, device=self.dev)
        self.named = [(name, tuple(p.shape), p.numel()) for name, p in self.model.named_parameters()]
        self.X = torch.as_tensor(data.X, device=self.dev)
        self.y = torch.as_tensor(data.y, device=self.dev)
        self.loss_fn = loss_function(data.task)

    def _forward(self, weights, inputs):
        """(G, m, outputs): the network at each row of ``weights`` (G, P) on ``inputs`` (m, d_in), all at once.

        ``nn.Linear``'s ``x Wᵀ + b`` as one ``baddbmm`` per layer over the G weight vectors (views of the rows,
        no copies), the activation in place. The same numbers as ``functional_call`` under ``vmap``, which
        spent half as long again on this small network (benchmarks/network.py)."""
        import torch

        G = len(weights)
        h = inputs.expand(G, *inputs.shape)
        offset, sizes = 0, self.spec.sizes
        act = torch.tanh_ if self.spec.activation == "tanh" else torch.relu_
        for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = weights[:, offset : offset + fan_out * fan_in].view(G, fan_out, fan_in)
            offset += fan_out * fan_in
            b = weights[:, offset : offset + fan_out]
            offset += fan_out
            h = torch.baddbmm(b[:, None, :], h, W.transpose(1, 2))
            if k < len(sizes) - 2:
                act(h)
        return h

    def _loss(self, weights):
        """(G,) the full-data loss at each row of ``weights`` (G, P), in the loss function's mean."""
        out = self._forward(weights, self.X)
        return self.loss_fn(out, self.y.expand(len(weights), *self.y.shape), reduction="none").mean(dim=(1, 2))

    def _chunk(self, rows: int) -> int:
        """Weight vectors per pass: their copies and the activations of ``rows`` inputs fit CHUNK_BYTES."""
        per_vector = 4 * (self.spec.parameters + 3 * rows * self.spec.widest)
        return max(1, CHUNK_BYTES // per_vector)

    def losses(self, weights) -> np.ndarray:
        """(G,) the full-data loss at each row of ``weights`` (G, P): one batched pass (per chunk)."""
        import torch

        W = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.dev)
        step = self._chunk(len(self.X))
        with torch.no_grad():
            parts = [self._loss(W[lo : lo + step]) for lo in range(0, len(W), step)]
        return torch.cat(parts).double().cpu().numpy()

    def plane_losses(self, plane: Plane, alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """(len(betas), len(alphas)) the loss at ``origin + α b₁ + β b₂`` over the grid (row j: β = betas[j]);
        the grid's weight vectors are made on the device, a chunk at a time."""
        import torch

        dev = self.dev
        origin = torch.as_tensor(plane.origin, dtype=torch.float64, device=dev)
        basis = torch.as_tensor(plane.basis, dtype=torch.float64, device=dev)
        a, b = np.meshgrid(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64))
        coords = torch.as_tensor(np.column_stack([a.ravel(), b.ravel()]), device=dev)
        step = self._chunk(len(self.X))
        with torch.no_grad():  # each point in float64, as Plane.points, then in the model's dtype
            parts = [
                self._loss((origin + coords[lo : lo + step] @ basis).float()) for lo in range(0, len(coords), step)
            ]
        return torch.cat(parts).double().cpu().numpy().reshape(a.shape)

    def loop_losses(self, weights) -> np.ndarray:
        """:meth:`losses` one weight vector at a time (the loop a script would write): the baseline."""
        import torch

        params = list(self.model.parameters())
        out = []
        with torch.no_grad():
            for row in np.asarray(weights, dtype=np.float32):
                torch.nn.utils.vector_to_parameters(torch.as_tensor(row, device=self.dev), params)
                out.append(float(self.loss_fn(self.model(self.X), self.y)))
        return np.array(out)

    def outputs(self, weights, inputs: np.ndarray) -> np.ndarray:
        """(G, m) the network's output (a logit, or the fitted value) on ``inputs`` (m, d_in) at each row of
        ``weights`` (G, P), batched."""
        import torch

        W = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.dev)
        points = torch.as_tensor(np.asarray(inputs, dtype=np.float32), device=self.dev)
        step = self._chunk(len(points))
        with torch.no_grad():
            parts = [self._forward(W[lo : lo + step], points)[:, :, 0] for lo in range(0, len(W), step)]
        return torch.cat(parts).double().cpu().numpy()
