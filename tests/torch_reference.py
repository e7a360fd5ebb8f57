"""Reference runs with torch.optim, fed the surface's exact gradient, for the parity tests.

Feeding torch the same analytic gradient (instead of autograd of a torch re-implementation of the
surface) makes the comparison about the optimizers alone.

torch is optional for the test suite: test modules take ``torch`` from here, a stand-in that imports
it on first use, so a module with torch-free tests is collected without torch, and only the tests
that touch torch are skipped (with a reason) where it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.optimizers.base import Optimizer
from gdviz.surfaces.base import Surface

SKIP_REASON = "needs torch, which is not installed"


class _Torch:
    """``torch`` imported on first attribute access; the test that asks is skipped if torch is missing."""

    def __getattr__(self, name: str):
        if name.startswith("_"):  # tools probing any object (pytest's fixture scan) must not import torch
            raise AttributeError(name)
        return getattr(pytest.importorskip("torch", reason=SKIP_REASON), name)

    def __repr__(self) -> str:
        return "<torch, imported on first use>"


torch = _Torch()


def torch_hyper(opt: Optimizer) -> dict:
    """Our validated hyper-parameters as torch keyword arguments (single run only).

    An option torch lacks (``in_torch=False``, e.g. d2l's ε inside the square root) is left out at its
    default, where our update is torch's; switched on, torch is no reference for it (the book is:
    tests/test_d2l_digits.py), so asking for a torch run is an error rather than a silent mismatch.
    """
    out = {}
    for spec in opt.spec:
        if not spec.in_torch and opt.hyper[spec.name] != spec.default:
            value = opt.hyper[spec.name]
            raise ValueError(f"torch.optim.{opt.torch_class} has no {spec.name}: it cannot check {spec.name}={value!r}")
    torch_names = {spec.name for spec in opt.spec if spec.in_torch}
    for key, value in opt.hyper.items():
        if key not in torch_names:
            continue
        if isinstance(value, np.ndarray):
            raise ValueError("torch reference runs take scalar hyper-parameters")
        out[key] = tuple(float(v) for v in value) if isinstance(value, tuple) and key != "milestones" else value
    return out


def torch_path(
    opt: Optimizer,
    surface: Surface,
    start,
    steps: int,
    scheduler_factory=None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Iterates (steps+1, dim) of torch.optim.<opt.torch_class> with the same hyper-parameters.

    ``noise`` (steps, dim) is added to the gradient at each step; ``scheduler_factory(torch_opt)``
    builds a torch scheduler stepped after every optimizer step.
    """
    param = torch.tensor(np.asarray(start, dtype=np.float64), dtype=torch.float64, requires_grad=True)
    torch_opt = getattr(torch.optim, opt.torch_class)([param], **torch_hyper(opt))
    scheduler = scheduler_factory(torch_opt) if scheduler_factory else None
    out = np.empty((steps + 1, param.numel()))
    out[0] = param.detach().numpy()
    for t in range(steps):
        torch_opt.zero_grad()
        with np.errstate(all="ignore"):  # torch's own path may blow up; that is compared, not an error
            grad = surface.grad(param.detach().numpy().copy())
        if noise is not None:
            grad = grad + noise[t]
        param.grad = torch.from_numpy(np.asarray(grad, dtype=np.float64).copy())
        torch_opt.step()
        if scheduler is not None:
            scheduler.step()
        out[t + 1] = param.detach().numpy()
        if not np.all(np.isfinite(out[t + 1])):
            out[t + 1 :] = np.nan
            break
    return out


def path_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest relative deviation along a path, with an absolute floor near zero."""
    scale = np.maximum(np.abs(reference), 1e-3)
    return float(np.nanmax(np.abs(ours - reference) / scale))
