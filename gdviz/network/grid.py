"""The network's loss (or output) at many weight vectors in one batched pass, chunked to stay in cache.

Two batched passes, both ``nn.Linear``'s ``x Wᵀ + b`` over a chunk of weight vectors at once:

- :meth:`Evaluator.losses_on_plane`, points of a plane (:meth:`Evaluator.plane_losses`: the grid over it;
  the landscape's projected iterates too). The weights there are affine in the plane's
  coordinates, W(α, β) = W₀ + α W_u + β W_v, so the first layer's pre-activation over the whole grid is
  ``X W₀ᵀ + α (X W_uᵀ) + β (X W_vᵀ)``: three small products made once (in float64), then one product of
  [1, α, β] with them per chunk, never a weight vector; every deeper layer's weights for the chunk are one
  product of [1, α, β] with the plane's origin and directions, then one ``bmm`` (the bias inside it,
  through a unit fixed at 1); the loss once at the end.
- :meth:`Evaluator.losses`, any weight vectors: one ``baddbmm`` per layer over views of the rows.

On the CPU a chunk's activations are kept to :data:`CPU_CHUNK_BYTES`, about a core's L2 cache: the
activation and the bias then read and write cached memory instead of streaming tens of MB per layer, and
the chunks reuse the same buffers and views. With the fused first layer and the last layer's one-row
product the 41 × 41 grid of the default network took 25-27 ms of one core against 57-107 ms for one
``baddbmm`` per layer over 32 MB chunks (benchmarks/network.py, a busy 2-core machine). Elsewhere a chunk
holds up to :data:`CHUNK_BYTES`, so a GPU gets few, large launches.

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

# activations and weight copies of one batched pass, at most (float32), on a GPU: a 61 × 61 grid of a 64-wide
# network on 1,000 samples would otherwise hold ~1 GB at once
CHUNK_BYTES = 32 * 2**20
# ... and on the CPU: about one core's L2 cache (1.25 MiB here; 1 to 4 MiB took the same time, 0.5 MiB 15% more,
# 32 MiB twice as long: the estimate counts three activations where two are live at once)
CPU_CHUNK_BYTES = 2 * 2**20
# a pre-activation the activation maps to exactly 1 (tanh(20) = 1 - 8.5e-18, 1 in float32 and float64): the
# constant unit through which plane_losses adds a hidden layer's bias inside its product
ONE_AFTER = {"tanh": 20.0, "relu": 1.0}


class Evaluator:
    """The loss of ``spec`` on ``data`` (and its output on any inputs) at weight vectors, on ``device``."""

    def __init__(self, spec: MLP, data: Dataset, device: Any = "cpu"):
        import torch

        self.spec, self.dev = spec, resolve_device(device)
        self.model = build(spec, device=self.dev)
        self.X = torch.as_tensor(data.X, device=self.dev)
        self.y = torch.as_tensor(data.y, device=self.dev)
        self.loss_fn = loss_function(data.task)
        # (fan_in, fan_out, offset of the weight, offset of the bias) per layer, in the flat vector
        self.layers, offset = [], 0
        for fan_in, fan_out in zip(spec.sizes[:-1], spec.sizes[1:]):
            self.layers.append((fan_in, fan_out, offset, offset + fan_out * fan_in))
            offset += fan_out * (fan_in + 1)

    def _act(self):
        import torch

        return torch.tanh_ if self.spec.activation == "tanh" else torch.relu_

    def _forward(self, weights, inputs):
        """(G, m, outputs): the network at each row of ``weights`` (G, P) on ``inputs`` (m, d_in), all at once.

        One ``baddbmm`` per layer over views of the rows (no copies of the weights), the activation in place.
        The same numbers as ``functional_call`` under ``vmap``, which spent half as long again."""
        import torch

        G, act = len(weights), self._act()
        h = inputs.expand(G, *inputs.shape)
        for k, (fan_in, fan_out, w, b) in enumerate(self.layers):
            W = weights[:, w:b].view(G, fan_out, fan_in)
            h = torch.baddbmm(weights[:, b : b + fan_out][:, None, :], h, W.transpose(1, 2))
            if k < len(self.layers) - 1:
                act(h)
        return h

    def _mean_loss(self, out):
        """(G,) the loss of the outputs (G, n, 1) against the targets, each row's mean."""
        return self.loss_fn(out, self.y.expand(len(out), *self.y.shape), reduction="none").mean(dim=(1, 2))

    def _chunk(self, rows: int) -> int:
        """Weight vectors per pass: their copies and the activations of ``rows`` inputs fit the chunk's bytes."""
        per_vector = 4 * (self.spec.parameters + 3 * rows * self.spec.widest)
        limit = CPU_CHUNK_BYTES if self.dev.type == "cpu" else CHUNK_BYTES
        return max(1, limit // per_vector)

    def losses(self, weights) -> np.ndarray:
        """(G,) the full-data loss at each row of ``weights`` (G, P): one batched pass (per chunk)."""
        import torch

        W = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.dev)
        step = self._chunk(len(self.X))
        with torch.inference_mode():
            parts = [self._mean_loss(self._forward(W[lo : lo + step], self.X)) for lo in range(0, len(W), step)]
        return torch.cat(parts).double().cpu().numpy()

    def plane_losses(self, plane: Plane, alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """(len(betas), len(alphas)) the loss at ``origin + α b₁ + β b₂`` over the grid (row j: β = betas[j])."""
        a, b = np.meshgrid(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64))
        return self.losses_on_plane(plane, np.column_stack([a.ravel(), b.ravel()])).reshape(a.shape)

    def losses_on_plane(self, plane: Plane, coords: np.ndarray) -> np.ndarray:
        """(G,) the loss at the plane's points ``origin + α b₁ + β b₂`` of ``coords`` (G, 2) rows (α, β).

        The first layer at every point from three products with the data (float64, then the model's
        float32); the deeper layers' weights per chunk from the coordinates (float64, then float32), as
        :meth:`Plane.points` would give them. A layer whose output feeds a hidden layer carries one more unit,
        fixed at 1 (its pre-activation :data:`ONE_AFTER`, which the activation maps to exactly 1), so that
        the hidden layer's bias is one more row of its weight and its ``bmm`` adds it, instead of a pass of
        its own over the activations. A hidden layer's weight is laid out (in + 1, out [+ 1]) for ``bmm``
        without a transpose; the last layer's as (outputs, in) @ hᵀ, whose one output row is a fast product
        where (n, in) @ (in, 1) is not."""
        import torch

        dev, f64 = self.dev, torch.float64
        coords = torch.as_tensor(np.asarray(coords, dtype=np.float64).reshape(-1, 2), device=dev)  # (G, 2)
        if len(coords) == 0:
            return np.zeros(0)
        origin = torch.as_tensor(plane.origin, dtype=f64, device=dev)
        basis = torch.as_tensor(plane.basis, dtype=f64, device=dev)  # (2, P)
        fan_in, width, w, bias = self.layers[0]
        X, n = self.X.to(f64), len(self.X)
        last = len(self.layers) - 1
        one = ONE_AFTER[self.spec.activation]
        columns = width + (1 < last)  # the first layer's outputs, with the constant unit where a hidden layer follows

        def first_layer(vector, constant):  # (n * columns,) the pre-activation X Wᵀ + b of ``vector``'s weights
            pre = torch.addmm(vector[bias : bias + width], X, vector[w:bias].view(width, fan_in).T)
            if columns > width:
                pre = torch.cat([pre, torch.full((n, 1), constant, dtype=f64, device=dev)], dim=1)
            return pre.reshape(-1)

        # [1, α, β] @ [X W₀ᵀ + b₀; X W_uᵀ + b_u; X W_vᵀ + b_v]: one product per chunk, no bias to copy in (the
        # constant unit's pre-activation is 1 · one + α · 0 + β · 0: exactly ``one``)
        first = torch.stack([first_layer(origin, one), first_layer(basis[0], 0.0), first_layer(basis[1], 0.0)])
        first = first.float()
        coefficients = torch.cat([torch.ones(len(coords), 1, dtype=f64, device=dev), coords], dim=1)  # (G, 3)
        coefficients32 = coefficients.float()
        deep = torch.stack([self._deep(origin, one), self._deep(basis[0], 0.0), self._deep(basis[1], 0.0)])
        act = self._act()
        targets = self.y.T  # (outputs, n)
        step = min(self._chunk(n), len(coords))
        with torch.inference_mode():
            out = torch.empty(len(coords), self.spec.outputs, n, device=dev)  # every grid point's outputs
            # the chunks' activations and weights are written into the same buffers every time: a fresh
            # tensor of this size is a fresh mapping of memory, page faults and all
            buffers = [torch.empty(step * n * (self.spec.widest + 1), device=dev) for _ in range(2)]
            rest64 = torch.empty(step, deep.shape[1], dtype=f64, device=dev)
            rest = torch.empty(step, deep.shape[1], device=dev)

            def views(g: int) -> tuple:
                """The buffers' views for a chunk of g points, made once per chunk size: slicing them anew
                every chunk cost as much as a layer's arithmetic."""
                first_out = buffers[0][: g * n * columns].view(g, n * columns)
                h = h_first = first_out.view(g, n, columns)
                hidden, at, turn = [], 0, 1
                for k in range(1, last + 1):
                    fan_in_k, fan_out, _, _ = self.layers[k]
                    if k < last:
                        rows, cols = fan_in_k + 1, fan_out + (k + 1 < last)
                        into = buffers[turn][: g * n * cols].view(g, n, cols)
                        hidden.append((h, rest[:g, at : at + rows * cols].view(g, rows, cols), into))
                        h, turn, at = into, 1 - turn, at + rows * cols
                    else:  # (g, outputs, n) = (outputs, in) @ hᵀ + b
                        W = rest[:g, at : at + fan_out * fan_in_k].view(g, fan_out, fan_in_k)
                        b_k = rest[:g, at + fan_out * fan_in_k : at + fan_out * (fan_in_k + 1)]
                        final = (b_k[:, :, None], W, h.transpose(1, 2))
                return first_out, h_first, rest64[:g], rest[:g], hidden, final

            full = views(step)
            for lo in range(0, len(coords), step):
                g = min(step, len(coords) - lo)
                first_out, h, weights64, weights, hidden, (b_last, W_last, h_last) = full if g == step else views(g)
                torch.mm(coefficients32[lo : lo + g], first, out=first_out)
                act(h)
                # every deeper weight at the chunk's points, in float64 as Plane.points, then the model's float32
                torch.mm(coefficients[lo : lo + g], deep, out=weights64)
                weights.copy_(weights64)
                for h_in, W, h_out in hidden:
                    act(torch.bmm(h_in, W, out=h_out))
                torch.baddbmm(b_last, W_last, h_last, out=out[lo : lo + g])
            # the loss once over the whole grid: its few element-wise ops per chunk cost as much as a layer
            losses = self.loss_fn(out, targets.expand(len(out), *targets.shape), reduction="none").mean(dim=(1, 2))
        return losses.double().cpu().numpy()

    def _deep(self, vector, constant: float):
        """(L,) the layers after the first of the weights ``vector`` (P,), laid out for :meth:`plane_losses`: a
        hidden layer as (in + 1, out), [[Wᵀ], [b]] (its input's last unit is the constant 1), with one more
        column (0, …, 0, ``constant``) where another hidden layer follows, making that layer's constant unit;
        the last layer as its W (outputs, in) then its b."""
        import torch

        parts, last = [], len(self.layers) - 1
        for k in range(1, last + 1):
            fan_in, fan_out, w, b = self.layers[k]
            W, bias = vector[w:b].view(fan_out, fan_in), vector[b : b + fan_out]
            if k < last:
                block = torch.zeros(fan_in + 1, fan_out + (k + 1 < last), dtype=vector.dtype, device=vector.device)
                block[:fan_in, :fan_out] = W.T
                block[fan_in, :fan_out] = bias
                if k + 1 < last:
                    block[fan_in, fan_out] = constant
                parts.append(block.reshape(-1))
            else:
                parts += [W.reshape(-1), bias]
        return torch.cat(parts)

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
        with torch.inference_mode():
            parts = [self._forward(W[lo : lo + step], points)[:, :, 0] for lo in range(0, len(W), step)]
        return torch.cat(parts).double().cpu().numpy()
