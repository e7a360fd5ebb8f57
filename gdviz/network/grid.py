"""The network's loss (or output) at many weight vectors in one batched pass: ``torch.func.functional_call``
under ``torch.func.vmap``, chunked so that no pass holds more than :data:`CHUNK_BYTES` of activations.

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

    def _params(self, flat) -> dict[str, Any]:
        out, offset = {}, 0
        for name, shape, size in self.named:
            out[name] = flat[offset : offset + size].view(shape)
            offset += size
        return out

    def _chunk(self, rows: int) -> int:
        """Weight vectors per pass: their copies and the activations of ``rows`` inputs fit CHUNK_BYTES."""
        per_vector = 4 * (self.spec.parameters + 3 * rows * self.spec.widest)
        return max(1, CHUNK_BYTES // per_vector)

    def _batched(self, weights, fn, rows: int):
        """``fn`` of every row of ``weights`` ((G, P) on the device), chunk by chunk, stacked."""
        import torch

        step = self._chunk(rows)
        with torch.no_grad():
            return torch.cat([torch.func.vmap(fn)(weights[lo : lo + step]) for lo in range(0, len(weights), step)])

    def losses(self, weights) -> np.ndarray:
        """(G,) the full-data loss at each row of ``weights`` (G, P): one batched pass (per chunk)."""
        import torch
        from torch.func import functional_call

        W = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.dev)

        def loss_of(flat):
            return self.loss_fn(functional_call(self.model, self._params(flat), (self.X,)), self.y)

        return self._batched(W, loss_of, len(self.X)).double().cpu().numpy()

    def plane_losses(self, plane: Plane, alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """(len(betas), len(alphas)) the loss at ``origin + α b₁ + β b₂`` over the grid (row j: β = betas[j]);
        the grid's weight vectors are made on the device, a chunk at a time."""
        import torch
        from torch.func import functional_call

        dev = self.dev
        origin = torch.as_tensor(plane.origin, dtype=torch.float64, device=dev)
        basis = torch.as_tensor(plane.basis, dtype=torch.float64, device=dev)
        a, b = np.meshgrid(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64))
        coords = torch.as_tensor(np.column_stack([a.ravel(), b.ravel()]), device=dev)

        def loss_at(c):
            flat = (origin + c @ basis).float()  # the point in float64, as Plane.points, then the model's dtype
            return self.loss_fn(functional_call(self.model, self._params(flat), (self.X,)), self.y)

        return self._batched(coords, loss_at, len(self.X)).double().cpu().numpy().reshape(a.shape)

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
        from torch.func import functional_call

        W = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.dev)
        points = torch.as_tensor(np.asarray(inputs, dtype=np.float32), device=self.dev)

        def output_of(flat):
            return functional_call(self.model, self._params(flat), (points,))[:, 0]

        return self._batched(W, output_of, len(points)).double().cpu().numpy()
