r"""Gradient descent and heavy-ball momentum on a quadratic, in closed form (Goh, "Why Momentum Really Works",
Distill 2017).

On :math:`f(x) = \tfrac12 (x - x^*)^\top A (x - x^*) + f^*` with :math:`A = Q \Lambda Q^\top` positive definite,
the error :math:`e_t = x_t - x^*` has components :math:`z_{t,i} = q_i^\top e_t` along the eigenvectors, and
each evolves on its own, with its eigenvalue :math:`\lambda_i` alone.

**torch's SGD is the heavy ball.** ``SGD(lr=η, momentum=β)`` (dampening 0, no Nesterov) keeps
:math:`b_t = \beta b_{t-1} + g_t` (:math:`b_1 = g_1`) and steps :math:`x_t = x_{t-1} - \eta b_t`. Since
:math:`x_{t-1} - x_{t-2} = -\eta b_{t-1}`,

.. math::
    x_t = x_{t-1} - \eta \nabla f(x_{t-1}) + \beta (x_{t-1} - x_{t-2}), \qquad x_{-1} = x_0,

Polyak's heavy ball with step size η exactly (the first step, :math:`b_1 = g_1`, is the recursion with
:math:`x_{-1} = x_0`; Goh's :math:`z^{k+1} = \beta z^k + \nabla f(w^k)`, :math:`w^{k+1} = w^k - \alpha z^{k+1}`
from :math:`z^0 = 0` is the same sequence with α = η). GD is the case β = 0.

**Per component.** With :math:`h = \eta\lambda_i`,

.. math::
    \begin{pmatrix} z_{t+1} \\ z_t \end{pmatrix} = M \begin{pmatrix} z_t \\ z_{t-1} \end{pmatrix}, \qquad
    M = \begin{pmatrix} 1 + \beta - h & -\beta \\ 1 & 0 \end{pmatrix},

whose eigenvalues are the roots of :math:`\mu^2 - (1 + \beta - h)\mu + \beta = 0`. The component converges iff
both roots lie inside the unit circle; for a real quadratic :math:`\mu^2 + a_1\mu + a_0` that is (Jury's
test) :math:`|a_0| < 1` and :math:`|a_1| < 1 + a_0`, here :math:`|\beta| < 1` and
:math:`|1 + \beta - h| < 1 + \beta`, i.e. for :math:`0 \le \beta < 1`

.. math::
    0 < \eta\lambda_i < 2(1 + \beta) \quad\text{(GD: } 0 < \eta\lambda_i < 2\text{)}.

The run converges iff every component does, so the boundary is :math:`\eta = 2(1 + \beta)/\lambda_{max}`. Its
rate is the largest spectral radius :math:`\max_i \rho(M_i)`: :math:`(|a| + \sqrt{a^2 - 4\beta})/2` with
:math:`a = 1 + \beta - h` when the roots are real, :math:`\sqrt\beta` when they are complex (their product
is β).

**Optimal GD.** :math:`\rho_i = |1 - \eta\lambda_i|`; the largest is smallest when the two ends balance,
:math:`1 - \eta\lambda_{min} = \eta\lambda_{max} - 1`: :math:`\eta^* = 2/(\lambda_{min} + \lambda_{max})`,
rate :math:`(\kappa - 1)/(\kappa + 1)` with :math:`\kappa = \lambda_{max}/\lambda_{min}`.

**Optimal momentum.** No component can beat :math:`\sqrt\beta` (the product of the roots is β), and every
component reaches it when its roots are complex or double: :math:`(1 + \beta - h)^2 \le 4\beta`, i.e.
:math:`(1 - \sqrt\beta)^2 \le \eta\lambda_i \le (1 + \sqrt\beta)^2`. The smallest β that puts both ends
in that band puts them on its edges, :math:`\eta\lambda_{min} = (1 - \sqrt\beta)^2` and
:math:`\eta\lambda_{max} = (1 + \sqrt\beta)^2`; taking square roots and adding and subtracting,

.. math::
    \eta^* = \Big(\frac{2}{\sqrt{\lambda_{min}} + \sqrt{\lambda_{max}}}\Big)^2, \quad
    \beta^* = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \quad
    \text{rate } \sqrt{\beta^*} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.

At the optimum both ends sit on a double root, so those components decay like :math:`t\rho^t`, not
:math:`\rho^t`: a rate measured over a finite run reads a little above ρ (see :func:`measured_rate`).

References: Goh, "Why Momentum Really Works", Distill (2017); Polyak (1964); torch.optim.SGD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.landscape._checks import require_surface
from gdviz.surfaces.base import Surface

# the Hessian of a quadratic is the same everywhere: these points of the window (as fractions of it) check it
_PROBES = ((0.5, 0.5), (0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0), (0.2, 0.7))
# fewer usable steps than this and a rate is the plain ratio over them, not a fit
_MIN_FIT_POINTS = 8


class NoTheory(ValueError):
    """The closed forms do not apply here (not a quadratic, not positive definite); the message says why."""


@dataclass(frozen=True, eq=False)
class QuadraticTheory:
    """A positive definite quadratic's curvature and what it predicts for GD and heavy-ball momentum.

    eigenvalues: (dim,) of the Hessian, ascending; eigenvectors: (dim, dim), column i for eigenvalue i;
    minimum: (dim,) x* = -A⁻¹∇f(0).
    """

    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    minimum: np.ndarray

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def condition_number(self) -> float:
        return self.lambda_max / self.lambda_min

    @property
    def gd_optimal_lr(self) -> float:
        return 2.0 / (self.lambda_min + self.lambda_max)

    @property
    def gd_optimal_rate(self) -> float:
        kappa = self.condition_number
        return (kappa - 1.0) / (kappa + 1.0)

    @property
    def momentum_optimal_lr(self) -> float:
        return (2.0 / (np.sqrt(self.lambda_min) + np.sqrt(self.lambda_max))) ** 2

    @property
    def momentum_optimal_rate(self) -> float:
        root = np.sqrt(self.condition_number)
        return float((root - 1.0) / (root + 1.0))

    @property
    def momentum_optimal_beta(self) -> float:
        return self.momentum_optimal_rate**2

    def lr_bound(self, momentum: Any = 0.0) -> np.ndarray:
        """The largest stable step size for each momentum β: 2(1 + β)/λmax (GD: 2/λmax)."""
        return 2.0 * (1.0 + np.asarray(momentum, dtype=np.float64)) / self.lambda_max

    def stable(self, lr: Any, momentum: Any = 0.0) -> np.ndarray:
        """Whether heavy ball with (lr, momentum) converges from every start: 0 < ηλ < 2(1 + β) for every λ,
        0 ≤ β < 1. Arrays broadcast."""
        lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(momentum, dtype=np.float64))
        return (lr > 0) & (beta >= 0) & (beta < 1) & (lr * self.lambda_max < 2.0 * (1.0 + beta))

    def component_rates(self, lr: Any, momentum: Any = 0.0) -> np.ndarray:
        """(..., dim): the spectral radius of each eigen-direction's 2×2 iteration at (lr, momentum)."""
        lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(momentum, dtype=np.float64))
        return spectral_radius(lr[..., None] * self.eigenvalues, beta[..., None])

    def predicted_rate(self, lr: Any, momentum: Any = 0.0) -> np.ndarray:
        """The asymptotic factor by which ‖x_t − x*‖ shrinks per step: max over eigenvalues of the spectral
        radius (above 1: it grows). Arrays broadcast."""
        return np.max(self.component_rates(lr, momentum), axis=-1)

    def components(self, xs: Any) -> np.ndarray:
        """(..., dim): the error x − x* along each eigenvector (column i for eigenvalue i)."""
        return (np.asarray(xs, dtype=np.float64) - self.minimum) @ self.eigenvectors

    def predicted_components(self, start: Any, lr: float, momentum: float, steps: int) -> np.ndarray:
        """(steps + 1, dim): the components the heavy-ball recursion gives from ``start`` (x_{-1} = x_0),
        computed per eigen-direction with its own λ: what a run must match when the theory is right."""
        z = np.empty((steps + 1, self.eigenvalues.size))
        z[0] = self.components(start)
        previous = z[0]
        for t in range(steps):
            z[t + 1] = (1.0 + momentum - lr * self.eigenvalues) * z[t] - momentum * previous
            previous = z[t]
        return z


def spectral_radius(h: Any, momentum: Any = 0.0) -> np.ndarray:
    """The spectral radius of [[1 + β − h, −β], [1, 0]] (h = ηλ): the roots of μ² − (1 + β − h)μ + β.

    Real roots: (|a| + √(a² − 4β))/2 with a = 1 + β − h; complex ones: √β (their product is β). Arrays
    broadcast; β = 0 gives GD's |1 − h|.
    """
    h, beta = np.broadcast_arrays(np.asarray(h, dtype=np.float64), np.asarray(momentum, dtype=np.float64))
    a = 1.0 + beta - h
    discriminant = a * a - 4.0 * beta
    real = 0.5 * (np.abs(a) + np.sqrt(np.maximum(discriminant, 0.0)))
    return np.where(discriminant >= 0, real, np.sqrt(np.abs(beta)))


def quadratic_theory(surface: Surface) -> QuadraticTheory:
    """The closed-form theory of ``surface``, or :class:`NoTheory` saying why there is none.

    A surface qualifies when it is registered as a quadratic form (``surface.quadratic``; a Hessian that
    looks constant at a few points could still hide a kink such as |x|), its Hessian is indeed the same at
    a few points of its window, and it is positive definite (else there is no minimum to converge to).
    """
    require_surface(surface)
    if not surface.quadratic:
        raise NoTheory(
            f"{surface.title} is not a quadratic: its curvature changes from point to point, so the closed forms "
            "of a quadratic do not apply"
        )
    low, high = (np.array([b[k] for b in surface.bounds], dtype=np.float64) for k in (0, 1))
    probes = np.array([low + (high - low) * np.resize(fraction, surface.dim) for fraction in _PROBES])
    with np.errstate(all="ignore"):
        hessians = np.asarray(surface.hessian(probes), dtype=np.float64).reshape(len(probes), surface.dim, surface.dim)
    hessian = hessians[0]
    scale = max(float(np.max(np.abs(hessian))), 1e-300)
    if not np.all(np.isfinite(hessians)) or np.max(np.abs(hessians - hessian)) > 1e-9 * scale:
        raise NoTheory(f"{surface.title}: its Hessian is not the same everywhere, so it is not a quadratic")
    hessian = 0.5 * (hessian + hessian.T)
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    if eigenvalues[0] <= 1e-12 * max(abs(eigenvalues[-1]), 1e-300):
        raise NoTheory(
            f"{surface.title}: its Hessian has the eigenvalue {eigenvalues[0]:.4g} ≤ 0, so there is no minimum to "
            "converge to (the closed forms need a positive definite quadratic)"
        )
    with np.errstate(all="ignore"):
        minimum = -np.linalg.solve(hessian, np.asarray(surface.grad(np.zeros(surface.dim)), dtype=np.float64))
    return QuadraticTheory(hessian=hessian, eigenvalues=eigenvalues, eigenvectors=eigenvectors, minimum=minimum)


def why_not_heavy_ball(optimizer_name: str, hyper: dict[str, Any]) -> str | None:
    """None when ``optimizer_name`` with ``hyper`` is plain heavy ball (torch's SGD with dampening 0, no
    Nesterov, no weight decay, not maximizing), else what keeps the closed forms from applying."""
    if optimizer_name != "SGD":
        return f"the closed forms are for SGD with momentum (heavy ball), not {optimizer_name}"
    extras = [
        what
        for what, name in (
            ("dampening", "dampening"),
            ("Nesterov momentum", "nesterov"),
            ("weight decay", "weight_decay"),
            ("maximize", "maximize"),
        )
        if np.any(np.asarray(hyper.get(name, 0)) != 0) and not (name == "dampening" and _no_momentum(hyper))
    ]
    if extras:
        return f"the closed forms are for plain heavy ball; this SGD has {' and '.join(extras)}"
    return None


def _no_momentum(hyper: dict[str, Any]) -> bool:
    # without momentum the buffer is never used, so dampening changes nothing
    return bool(np.all(np.asarray(hyper.get("momentum", 0.0)) == 0))


def measured_rate(distances: Any, floor: float = 0.0, last: int | None = None) -> float:
    """The per-step factor of a run's ‖x_t − x*‖ (``distances``, (steps + 1,)), measured over its tail.

    Steps count from 0 to ``last`` (default: all; a diverged run's frozen steps are left out) and stop
    before the first distance at or below ``floor`` (where rounding, not the method, decides). Over the
    second half of those steps the rate is exp of the least-squares slope of log max(d_t … d_{t+w−1}): the
    running maximum over a short window w follows the envelope of a spiralling component (complex roots),
    where the plain distance dips towards zero each turn. With fewer than 8 usable steps it is
    (d_n / d_0)^(1/n). NaN when the run has no step at all or starts at x*.
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError(f"distances must be one run's (steps + 1,) array, got shape {d.shape}")
    end = d.size - 1 if last is None else min(int(last), d.size - 1)
    if end < 1 or not np.isfinite(d[0]) or d[0] <= floor:
        return float("nan")
    d = d[: end + 1]
    bad = np.flatnonzero(~np.isfinite(d) | (d <= floor))
    n = int(bad[0]) if bad.size else d.size  # usable: d[:n]
    if n < _MIN_FIT_POINTS:
        stop = min(n, d.size - 1)  # the first distance at the floor still says how fast it got there
        final = d[stop] if np.isfinite(d[stop]) else 0.0
        return float((max(final, 0.0) / d[0]) ** (1.0 / stop))
    tail = d[n // 2 : n]
    window = max(1, min(len(tail) // 4, 32))
    envelope = np.lib.stride_tricks.sliding_window_view(tail, window).max(axis=1)
    steps = np.arange(envelope.size, dtype=np.float64)
    slope = np.polyfit(steps, np.log(envelope), 1)[0] if envelope.size > 1 else np.log(tail[-1] / tail[0])
    return float(np.exp(slope))


def trajectory_rate(theory: QuadraticTheory, xs: Any, diverged_at: int | None = None) -> float:
    """:func:`measured_rate` of one run's iterates ``xs`` ((steps + 1, dim)) on the theory's quadratic.

    The floor is where float64 rounding of x* (1000 ε ‖x*‖ κ, for the cancellation in ∇f near x*) or
    underflow (1e-200 ‖x_0 − x*‖) would stop the decay.
    """
    xs = np.asarray(xs, dtype=np.float64)
    distances = np.linalg.norm(xs - theory.minimum, axis=-1)
    floor = max(
        1e3 * np.finfo(np.float64).eps * float(np.linalg.norm(theory.minimum)) * theory.condition_number,
        1e-200 * float(distances[0]),
    )
    last = None if diverged_at is None or diverged_at < 0 else int(diverged_at) - 1
    return measured_rate(distances, floor, last)
