"""The network's loss (or output) at many weight vectors in one batched pass, chunked to stay in cache.

Two batched passes, both ``nn.Linear``'s ``x Wᵀ + b`` over a chunk of weight vectors at once:

- :meth:`Evaluator.losses_on_plane`, points of a plane (:meth:`Evaluator.plane_losses`: the grid over it;
  the landscape's projected iterates too). The weights there are affine in the plane's
  coordinates, W(α, β) = W₀ + α W_u + β W_v, so the first layer's pre-activation over the whole grid is
  ``X W₀ᵀ + α (X W_uᵀ) + β (X W_vᵀ)``: three small products made once (in float64), then one product of
  [1, α, β] with them per chunk, never a weight vector; every deeper layer's weights for the chunk are one
  product of [1, α, β] with the plane's origin and directions, then one ``bmm`` (the bias inside it,
  through a unit fixed at 1) on activations laid out unit by unit (g, units, n); the loss once at the end.
  The per-chunk products are float32, the model's precision: a point's weights are then within a few
  float32 roundings of the model's own (Plane.points in float64, rounded once), and its loss agrees with
  the model's loss there to about 1e-6 relative (1.5e-6 at most over the default network's 41 × 41 grid;
  tests/test_network.py holds it to 1e-5 across depths, activations and tasks, and the plane's origin to
  1e-6).
- :meth:`Evaluator.losses`, any weight vectors: one ``baddbmm`` per layer over views of the rows.

On the CPU a chunk's activations are kept to :data:`CPU_CHUNK_BYTES`, about a core's L2 cache: the
activation and the bias then read and write cached memory instead of streaming tens of MB per layer, and
the chunks reuse the same buffers and views. With the fused first layer and the last layer's one-row
product the 41 × 41 grid of the default network took 25-27 ms of one core against 57-107 ms for one
``baddbmm`` per layer over 32 MB chunks; the deeper weights made in float32 and the activations laid out
unit by unit took it to 22 ms (0.3 ns a tanh there). On a later machine of this project (an AMD EPYC, one
thread) torch's CPU tanh took 2.0 ns an element and the same grid 57 ms, 46 of them in tanh: on the CPU the
chunk loop runs on NumPy arrays over the tensors' memory (:func:`numpy_kernels`: its SIMD tanh, 0.15 ns, and
its matmul over a stack of small products, 104 GFLOP/s against bmm's 91), 13-14 ms there: the hidden
layer's product 6.8, the two tanh passes 4, the first layer 1.2, the last layer and the loss 0.5 each, the
deeper weights 0.2. Elsewhere (a GPU) the loop runs on torch's tensors (:func:`torch_kernels`), a chunk up
to :data:`CHUNK_BYTES`, so that a GPU gets few, large launches.

:meth:`Evaluator.loop_losses` is the same numbers from a Python loop over the weight vectors — one
``vector_to_parameters`` and one forward each — the baseline that benchmarks/network.py times against.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

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


class _Kernels(NamedTuple):
    """The chunk loop's products and in-place activations, on arrays of one library: ``native`` turns the loop's
    tensors (nested in tuples and lists) into that library's arrays over the same memory."""

    matmul: Callable
    act: dict[str, Callable]
    native: Callable


def _kernels(device) -> _Kernels:
    """NumPy's on the CPU (:func:`numpy_kernels`), torch's elsewhere (:func:`torch_kernels`)."""
    return numpy_kernels() if device.type == "cpu" else torch_kernels()


@functools.lru_cache(maxsize=1)
def numpy_kernels() -> _Kernels:
    """NumPy's products and in-place activations, on the memory of CPU tensors: on the CPU, several times
    faster than torch's (the module's docstring)."""
    acts = {"tanh": lambda a: np.tanh(a, out=a), "relu": lambda a: np.maximum(a, 0, out=a)}
    return _Kernels(np.matmul, acts, _as_numpy)


@functools.lru_cache(maxsize=1)
def torch_kernels() -> _Kernels:
    """torch's: on a GPU, the chunk loop's tensors stay there."""
    import torch

    return _Kernels(torch.matmul, {"tanh": torch.tanh_, "relu": torch.relu_}, lambda tensors: tensors)


def _as_numpy(tree):
    """The tensors of ``tree`` (tuples and lists of CPU tensors) as NumPy arrays over the same memory."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(_as_numpy(item) for item in tree)
    return tree.numpy()


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

    def _forward(self, weights, inputs):
        """(G, m, outputs): the network at each row of ``weights`` (G, P) on ``inputs`` (m, d_in), all at once.

        One ``baddbmm`` per layer over views of the rows (no copies of the weights), the activation in place.
        The same numbers as ``functional_call`` under ``vmap``, which spent half as long again."""
        import torch

        G, kernels = len(weights), _kernels(self.dev)
        act = kernels.act[self.spec.activation]
        h = inputs.expand(G, *inputs.shape)
        for k, (fan_in, fan_out, w, b) in enumerate(self.layers):
            W = weights[:, w:b].view(G, fan_out, fan_in)
            h = torch.baddbmm(weights[:, b : b + fan_out][:, None, :], h, W.transpose(1, 2))
            if k < len(self.layers) - 1:
                act(kernels.native(h))
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

        Every weight is affine in (α, β), so each chunk's first-layer pre-activation and deeper weights are
        one product of its rows [1, α, β] (float32) with three rows made once per call from the origin and
        the directions (:meth:`_first_products` in float64, then float32; :meth:`_deep`). A layer whose output
        feeds a hidden layer carries one more unit, fixed at 1 (its pre-activation :data:`ONE_AFTER`, which
        the activation maps to exactly 1), so that the hidden layer's bias is one more row of its weight and
        its ``bmm`` adds it, instead of a pass of its own over the activations. The activations are laid out
        unit by unit, (g, units, n): a hidden layer is [W | b] (out [+ 1], in + 1) @ h, and the last layer
        (outputs, in) @ h + b writes the chunk's outputs (g, outputs, n) with h untransposed — half the time
        of (outputs, in) @ hᵀ on activations laid out sample by sample (g, n, units), whose hidden ``bmm``
        was a little faster: 4-6% less in all on the default grid."""
        import torch

        dev = self.dev
        coords = torch.as_tensor(np.asarray(coords, dtype=np.float64).reshape(-1, 2), device=dev)  # (G, 2)
        if len(coords) == 0:
            return np.zeros(0)
        frame = torch.as_tensor(np.vstack([plane.origin, plane.basis]), dtype=torch.float64, device=dev)  # (3, P)
        # [1, α, β] @ [X W₀ᵀ + b₀; X W_uᵀ + b_u; X W_vᵀ + b_v]: no bias to copy in (the constant unit's
        # pre-activation is 1 · one + α · 0 + β · 0: exactly ``one``)
        first = self._first_products(frame).float()  # (3, columns * n)
        deep = self._deep(frame).float()  # (3, L)
        coefficients = torch.cat([torch.ones(len(coords), 1, dtype=coords.dtype, device=dev), coords], dim=1).float()
        n, kernels = len(self.X), _kernels(dev)
        act = kernels.act[self.spec.activation]
        step = min(self._chunk(n), len(coords))
        # NumPy's products warn of an overflow or an inf times 0 where torch's said nothing: far out on a plane
        # the loss is huge, inf or NaN, and the page reports that itself
        with torch.inference_mode(), np.errstate(all="ignore"):
            out = torch.empty(len(coords), self.spec.outputs, n, device=dev)  # every grid point's outputs
            # the chunks' activations and weights are written into the same buffers every time: a fresh
            # tensor of this size is a fresh mapping of memory, page faults and all
            buffers = [torch.empty(step * n * (self.spec.widest + 1), device=dev) for _ in range(2)]
            weights = torch.empty(step, deep.shape[1], device=dev)
            full = kernels.native(self._chunk_views(buffers, weights, step))
            first, deep = kernels.native((first, deep))
            # split once: slicing the coordinates and the outputs anew every chunk is a few ops more per chunk
            for rows, outputs in zip(*kernels.native((coefficients.split(step), out.split(step)))):
                g = len(rows)
                first_out, h, deep_weights, hidden, (b_last, W_last, h_last) = (
                    full if g == step else kernels.native(self._chunk_views(buffers, weights, g))
                )
                kernels.matmul(rows, first, out=first_out)
                act(h)
                kernels.matmul(rows, deep, out=deep_weights)
                for W, h_in, h_out in hidden:
                    act(kernels.matmul(W, h_in, out=h_out))
                kernels.matmul(W_last, h_last, out=outputs)
                outputs += b_last
            # the loss once over the whole grid: its few element-wise ops per chunk cost as much as a layer
            losses = self._mean_loss(out.transpose(1, 2))
        return losses.double().cpu().numpy()

    def _columns(self) -> int:
        """The first layer's outputs in :meth:`losses_on_plane`, with the constant unit where a hidden layer follows."""
        return self.spec.sizes[1] + (len(self.layers) > 2)

    def _first_products(self, frame):
        """(3, columns * n) float64: X Wᵀ + b of each row of ``frame`` (3, P) (the origin, then the directions),
        with the constant unit's pre-activation (:data:`ONE_AFTER` for the origin, 0 for the directions), each
        unit's n samples together."""
        import torch

        fan_in, width, w, bias = self.layers[0]
        X, n = self.X.to(frame.dtype), len(self.X)
        W = frame[:, w:bias].view(3, width, fan_in)
        pre = torch.baddbmm(frame[:, None, bias : bias + width], X.expand(3, n, fan_in), W.transpose(1, 2))
        if self._columns() > width:
            constant = self._constants(frame)[:, None, None].expand(3, n, 1)
            pre = torch.cat([pre, constant], dim=2)
        return pre.transpose(1, 2).reshape(3, -1)

    def _constants(self, frame):
        """(3,) the constant unit's pre-activation in the origin's and the directions' products: (one, 0, 0)."""
        import torch

        return torch.tensor([ONE_AFTER[self.spec.activation], 0.0, 0.0], dtype=frame.dtype, device=frame.device)

    def _chunk_views(self, buffers, weights, g: int) -> tuple:
        """The buffers' views for a chunk of g points, made once per chunk size: slicing them anew every chunk
        cost as much as a layer's arithmetic. (first layer's output (g, columns * n) and the same as (g,
        columns, n), the deeper weights (g, L), per hidden layer (weight, input, output), the last layer's
        (bias, weight, input))."""
        n, last, columns = len(self.X), len(self.layers) - 1, self._columns()
        first_out = buffers[0][: g * n * columns].view(g, n * columns)
        h = h_first = first_out.view(g, columns, n)
        chunk_weights = weights[:g]
        hidden, at, turn = [], 0, 1
        for k in range(1, last + 1):
            fan_in, fan_out, _, _ = self.layers[k]
            if k < last:
                rows, cols = fan_out + (k + 1 < last), fan_in + 1
                into = buffers[turn][: g * n * rows].view(g, rows, n)
                hidden.append((chunk_weights[:, at : at + rows * cols].view(g, rows, cols), h, into))
                h, turn, at = into, 1 - turn, at + rows * cols
            else:
                W = chunk_weights[:, at : at + fan_out * fan_in].view(g, fan_out, fan_in)
                b = chunk_weights[:, at + fan_out * fan_in : at + fan_out * (fan_in + 1)]
                final = (b[:, :, None], W, h)
        return first_out, h_first, chunk_weights, hidden, final

    def _deep(self, frame):
        """(3, L) the layers after the first of each row of ``frame`` (3, P) (the origin, then the directions),
        laid out for :meth:`losses_on_plane`: a hidden layer as (out, in + 1), [W | b] (its input's last unit
        is the constant 1), with one more row (0, …, 0, constant) where another hidden layer follows, making
        that layer's constant unit (:meth:`_constants`); the last layer as its W (outputs, in) then its b."""
        import torch

        parts, last, rows = [], len(self.layers) - 1, len(frame)
        for k in range(1, last + 1):
            fan_in, fan_out, w, b = self.layers[k]
            W, bias = frame[:, w:b].view(rows, fan_out, fan_in), frame[:, b : b + fan_out]
            if k < last:
                block = torch.zeros(rows, fan_out + (k + 1 < last), fan_in + 1, dtype=frame.dtype, device=frame.device)
                block[:, :fan_out, :fan_in] = W
                block[:, :fan_out, fan_in] = bias
                if k + 1 < last:
                    block[:, fan_out, fan_in] = self._constants(frame)
                parts.append(block.reshape(rows, -1))
            else:
                parts += [W.reshape(rows, -1), bias]
        return torch.cat(parts, dim=1)

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
