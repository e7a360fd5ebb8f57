"""Newton's method with an optional step size and Levenberg-style damping (d2l 12.3)."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from gdviz.optimizers.base import Optimizer
from gdviz.params import HyperParam


def solve_or_nan(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Solve ``matrices[r] @ d[r] = vectors[r]`` for every run r: (R, n, n), (R, n) -> (R, n).

    A singular (or non-finite) system gives a row of NaN instead of raising, so that the run loop
    stops that run as diverged while the other runs of the batch go on.
    """
    with np.errstate(all="ignore"):
        sign, logabsdet = np.linalg.slogdet(matrices)
        solvable = (sign != 0) & np.isfinite(logabsdet)
        # stand in the identity for the unsolvable systems: one batched LAPACK call for all runs
        safe = np.where(solvable[:, None, None], matrices, np.eye(matrices.shape[-1]))
        try:
            solution = np.linalg.solve(safe, vectors[..., None])[..., 0]
        except np.linalg.LinAlgError:
            # elimination overflowed in some system that looked regular: isolate it
            solution = np.stack([_solve_one(a, b) for a, b in zip(safe, vectors, strict=True)])
    return np.where(solvable[:, None], solution, np.nan)


def _solve_one(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(matrix, vector)
    except np.linalg.LinAlgError:
        return np.full_like(vector, np.nan)


class Newton(Optimizer):
    r"""Newton's method: a step to the stationary point of the local quadratic model.

    .. math::
        x_t = x_{t-1} - \eta\,\bigl(\nabla^2 f(x_{t-1}) + \lambda I\bigr)^{-1} \nabla f(x_{t-1})

    With η = 1 and λ = 0 it lands on the minimum of a convex quadratic in one step, whatever its
    conditioning. It seeks *stationary points*, not minima: where the Hessian is indefinite it
    jumps to the saddle, where it is negative definite to the maximum (d2l 12.3.1's
    f(x) = x cos(cx)). Damping λ > 0 shifts the eigenvalues up (Levenberg), shortening the step
    and, once λ exceeds the most negative eigenvalue's size, pointing it downhill again; a small
    η is d2l's other fix. A singular H + λI gives a non-finite step: the run loop records that
    run as diverged.

    References: d2l 12.3 "Gradient Descent" (Multivariate Gradient Descent, Newton's Method);
    Nocedal & Wright (2006), "Numerical Optimization", Section 3.4; Levenberg (1944).
    """

    name = "Newton"
    torch_class = None
    needs_hessian = True
    reference = "d2l 12.3; Nocedal & Wright 2006, Section 3.4; Levenberg 1944"
    demo = MappingProxyType({"lr": 1.0})
    spec = (
        HyperParam("lr", 1.0, minimum=0.0, ui_min=1e-3, ui_max=2.0, log=True, help="step size η (1: full Newton step)"),
        HyperParam("damping", 0.0, minimum=0.0, ui_min=0.0, ui_max=10.0, help="λ added to the Hessian's diagonal"),
    )
    rule = r"x_t = x_{t-1} - \eta\,\bigl(\nabla^2 f(x_{t-1}) + \lambda I\bigr)^{-1} \nabla f(x_{t-1})"
    state_names = ()
    explanation = (
        r"H + \lambda I = $hessian, \quad \text{eigenvalues } $eigenvalues: \text{ $_definiteness}",
        r"(H + \lambda I)^{-1} g_t = $newton_direction, \quad"
        r" \Delta x = -\eta\,(H + \lambda I)^{-1} g_t = -$lr \cdot $newton_direction",
    )

    def init(self, x0, lr):
        return {}

    def update(self, x, g, state, lr, t, hess):
        if hess is None:
            raise ValueError("Newton needs the Hessian: pass hess, an (R, dim, dim) array")
        step = solve_or_nan(self._system(hess), g)
        with np.errstate(all="ignore"):  # a near-singular system may overflow; the run loop catches it
            return x - lr * step, state

    def _system(self, hess: np.ndarray) -> np.ndarray:
        """H + λI for every run: (R, dim, dim)."""
        if self.all_zero("damping"):
            return hess
        return hess + np.reshape(self.h("damping"), (-1, 1, 1)) * np.eye(hess.shape[-1])

    def explain(self, x, g, before, after, lr, t, hess):
        system = self._system(hess)
        with np.errstate(all="ignore"):
            eigenvalues = np.linalg.eigvalsh(system)
            direction = solve_or_nan(system, g)
        low, high = eigenvalues.min(axis=-1), eigenvalues.max(axis=-1)  # (R,)
        kind = np.where(low > 0, "positive definite", np.where(high < 0, "negative definite", "indefinite"))
        return {"hessian": system, "eigenvalues": eigenvalues, "newton_direction": direction, "_definiteness": kind}
