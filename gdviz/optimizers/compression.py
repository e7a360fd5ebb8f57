r"""Top-k gradient compression with error feedback, and Deep Gradient Compression's momentum correction.

The notes on vanilla and momentum SGD (towards deep gradient compression) start from federated and
distributed training, where sending the gradient from a worker to the server is the bottleneck:
deep gradient compression sends only a few of its coordinates. This module is that worker side,
vectorized over a batch of runs; any first-order optimizer then updates with the sparse gradient it
receives (``compress_topk`` on :class:`gdviz.optimizers.base.Optimizer`).

Top-k with error feedback (Seide et al. 2014, "1-bit SGD"; Stich et al. 2018, "Sparsified SGD with
memory"), per run, with residual :math:`e_0 = 0`:

.. math::
    a_t = e_{t-1} + g_t, \quad c_t = \operatorname{top}_k(a_t), \quad e_t = a_t - c_t

:math:`\operatorname{top}_k` keeps the k entries of largest magnitude and zeroes the rest (ties go to
the lowest index, so it is deterministic). The residual e remembers what was not sent and adds it to
the next gradient, so every part of every gradient is sent eventually: the sum of everything sent plus
the residual equals the sum of the gradients. Without error feedback, :math:`c_t = \operatorname{top}_k(g_t)`
and the rest is dropped for good.

Momentum correction (Lin et al. 2018, "Deep Gradient Compression", Section 3.2 and Algorithm 1): the
worker keeps the momentum, so that the momentum of the coordinates it holds back keeps building,

.. math::
    u_t = m\,u_{t-1} + g_t, \quad v_t = v_{t-1} + u_t, \quad c_t = \operatorname{top}_k(v_t), \quad
    v_t \leftarrow v_t - c_t, \quad u_t \leftarrow u_t \odot \lnot\mathrm{mask}_t

with :math:`u_0 = v_0 = 0`. The last step is the paper's momentum factor masking: a coordinate that was
sent starts its momentum afresh, which keeps stale momentum from pushing it on. v plays the role of the
residual e (it is stored under the same name). With m = 0 it is error feedback exactly. The server then
takes plain SGD steps with :math:`c_t`, as in the paper; a wrapped optimizer with momentum of its own
adds that momentum on top. The paper's other tricks (local gradient clipping, warm-up of the sparsity)
are not modelled. When every coordinate is sent (k >= dim) masking zeroes u every step, so the
momentum is gone: DGC sends the momentum it keeps back, never the momentum of what it sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

State = dict[str, np.ndarray]

# the state arrays compression adds to an optimizer's state; no optimizer may use these names itself
COMPRESSED_GRAD = "compressed_grad"  # c_t, the sparse gradient the optimizer received
RESIDUAL = "ef_residual"  # e_t (error feedback) or v_t (momentum correction): what is still to send
VELOCITY = "dgc_velocity"  # u_t, the worker's momentum (momentum correction only)
STATE_NAMES = (COMPRESSED_GRAD, RESIDUAL, VELOCITY)


def top_k_mask(values: np.ndarray, k: int) -> np.ndarray:
    """(R, dim) bool: each row's k entries of largest magnitude, ties to the lowest index; all for k >= dim."""
    runs, dim = values.shape
    if k >= dim:
        return np.ones(values.shape, dtype=bool)
    mask = np.zeros(values.shape, dtype=bool)
    magnitude = np.abs(values)
    if k == 1:
        # argmax returns the first of equal maxima: the lowest index, as the stable sort below
        mask[np.arange(runs), np.argmax(magnitude, axis=1)] = True
        return mask
    # a stable sort of -|a| puts equal magnitudes in index order
    largest = np.argsort(-magnitude, axis=1, kind="stable")[:, :k]
    np.put_along_axis(mask, largest, True, axis=1)
    return mask


@dataclass(frozen=True)
class Compression:
    """Validated compression settings of one optimizer: k, error feedback, DGC's momentum m (or None)."""

    k: int
    error_feedback: bool = True
    momentum: float | None = None

    @classmethod
    def of(cls, owner: str, k: Any, error_feedback: Any, momentum_correction: Any) -> Compression | None:
        """The settings, or None without ``k``; ValueError with a clear message for anything else."""
        if not isinstance(error_feedback, (bool, np.bool_)):
            raise ValueError(f"{owner}: error_feedback must be True or False, got {error_feedback!r}")
        if k is None:
            if not error_feedback or momentum_correction is not None:
                raise ValueError(
                    f"{owner}: error_feedback and momentum_correction only apply with compress_topk (top-k compression)"
                )
            return None
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(
                f"{owner}: compress_topk must be a whole number >= 1 (coordinates sent per step), got {k!r}"
            )
        momentum = None
        if momentum_correction is not None:
            valid = isinstance(momentum_correction, (int, float, np.integer, np.floating)) and not isinstance(
                momentum_correction, (bool, np.bool_)
            )
            if not valid or not (math.isfinite(momentum_correction) and 0 <= momentum_correction < 1):
                raise ValueError(
                    f"{owner}: momentum_correction must be DGC's momentum m, a number in [0, 1), or None; "
                    f"got {momentum_correction!r}"
                )
            if not error_feedback:
                raise ValueError(
                    f"{owner}: momentum correction keeps what it did not send by construction; "
                    "it needs error_feedback=True"
                )
            momentum = float(momentum_correction)
        return cls(int(k), bool(error_feedback), momentum)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The state arrays compression keeps (the residual only with error feedback, u only with DGC)."""
        if self.momentum is not None:
            return STATE_NAMES
        return (COMPRESSED_GRAD, RESIDUAL) if self.error_feedback else (COMPRESSED_GRAD,)

    def settings(self) -> dict[str, Any]:
        """The constructor keywords that rebuild these settings."""
        out: dict[str, Any] = {"compress_topk": self.k, "error_feedback": self.error_feedback}
        if self.momentum is not None:
            out["momentum_correction"] = self.momentum
        return out

    def init(self, x0: np.ndarray) -> State:
        return {name: np.zeros_like(x0) for name in self.state_names}

    def accumulated(self, g: np.ndarray, state: State) -> tuple[np.ndarray, np.ndarray | None]:
        """What top-k picks from, a_t (e_{t-1} + g_t, v_{t-1} + u_t with DGC, g_t without feedback), and
        DGC's u_t before masking (None without momentum correction)."""
        if self.momentum is not None:
            velocity = self.momentum * state[VELOCITY] + g
            return state[RESIDUAL] + velocity, velocity
        return (state[RESIDUAL] + g if self.error_feedback else g), None

    def compress(self, g: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """c_t from the gradient g (R, dim) and the previous compression state; and the new state."""
        if self.momentum is None and g.shape[1] <= self.k:
            # everything is sent every step, so the residual stays zero: c_t = g_t, bit for bit
            rest = {RESIDUAL: state[RESIDUAL]} if self.error_feedback else {}
            return g, {COMPRESSED_GRAD: g, **rest}
        accumulated, velocity = self.accumulated(g, state)
        mask = top_k_mask(accumulated, self.k)
        sent = np.where(mask, accumulated, 0.0)
        if not self.error_feedback:
            return sent, {COMPRESSED_GRAD: sent}
        # np.where, not a - c: the part kept back is exactly a, with no rounding and no inf - inf
        memory = {COMPRESSED_GRAD: sent, RESIDUAL: np.where(mask, 0.0, accumulated)}
        if velocity is not None:
            memory[VELOCITY] = np.where(mask, 0.0, velocity)  # momentum factor masking
        return sent, memory
