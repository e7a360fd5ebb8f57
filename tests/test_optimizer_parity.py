"""Every torch-backed optimizer in the registry matches torch.optim step for step (float64).

Hyper-parameters are drawn at random from each optimizer's own spec (the slider ranges), so a new
registry entry is covered without a new test. Where a setting is chaotic (torch's own path moves a
lot when the start is nudged by 1e-14), the tolerance is bounded by that sensitivity instead.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from tests.torch_reference import path_error, torch, torch_path

STEPS = 300
TOLERANCE = 1e-9
PARITY_SURFACES = {
    # name: start
    "quadratic": (-5.0, -2.0),
    "rosenbrock": (-1.5, 2.0),
    "himmelblau": (0.5, -0.5),
    "six_hump_camel": (1.2, 0.6),
}
TORCH_BACKED = sorted(name for name, cls in OPTIMIZERS.items() if cls.torch_class)


def random_hyper(cls, rng: np.random.Generator) -> dict:
    """Random valid hyper-parameters within each spec's slider range (lr within a decade of its default).

    Options torch lacks keep their default (torch's convention): torch is no reference for them.
    """
    for _ in range(100):
        hyper = {}
        for spec in cls.spec:
            low, high = spec.slider_range()
            if not spec.in_torch:
                continue
            if spec.name == "maximize":
                hyper[spec.name] = False
            elif spec.name == "lr":
                hyper[spec.name] = float(spec.default * 10 ** rng.uniform(-1, 0))
            elif spec.kind == "bool":
                hyper[spec.name] = bool(rng.integers(2))
            elif spec.kind == "choice":
                hyper[spec.name] = spec.choices[rng.integers(len(spec.choices))]
            elif spec.kind == "float" and np.isfinite(low) and np.isfinite(high):
                hyper[spec.name] = _draw(rng, low, high, spec.log)
            elif spec.kind == "pair" and np.isfinite(low) and np.isfinite(high):
                hyper[spec.name] = (_draw(rng, low, high, spec.log), _draw(rng, low, high, spec.log))
        try:
            cls(**hyper)
        except ValueError:
            continue
        return hyper
    raise AssertionError(f"could not draw valid hyper-parameters for {cls.name}")


def _draw(rng, low, high, log):
    if log and low > 0:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_spec_has_torchs_names_and_defaults(name):
    """Every hyper-parameter has torch's name and default, and torch has no other (its speed flags aside).

    An option of ours that torch lacks (``in_torch=False``) is really absent from torch and off by default.
    """
    cls = OPTIMIZERS[name]
    torch_params = inspect.signature(getattr(torch.optim, cls.torch_class).__init__).parameters
    ours = [spec for spec in cls.spec if not spec.in_torch]
    for spec in ours:
        assert spec.name not in torch_params and spec.kind == "bool" and spec.default is False, spec.name
    shared = [spec for spec in cls.spec if spec.in_torch]
    for spec in shared:
        assert spec.name in torch_params, spec.name
        default = torch_params[spec.name].default
        assert spec.default == (tuple(default) if isinstance(default, tuple) else default), spec.name
    left_out = {"self", "params", "foreach", "fused", "capturable", "differentiable"}
    assert {spec.name for spec in shared} == set(torch_params) - left_out


@pytest.mark.parametrize("surface_name", sorted(PARITY_SURFACES))
@pytest.mark.parametrize("name", TORCH_BACKED)
@pytest.mark.parametrize("draw", range(3))
def test_matches_torch_step_for_step(name, surface_name, draw):
    rng = np.random.default_rng([draw, len(name), ord(name[0]), len(surface_name)])
    cls = OPTIMIZERS[name]
    hyper = random_hyper(cls, rng) if draw else {}
    if "lr" in hyper or draw == 0:
        hyper.setdefault("lr", cls.spec[0].default if cls.spec[0].name == "lr" else 1e-3)
    opt = cls(**hyper)
    surface = gdviz.surface(surface_name)
    start = np.array(PARITY_SURFACES[surface_name])
    traj = gdviz.run(surface, opt, start=start, steps=STEPS)
    reference = torch_path(opt, surface, start, STEPS)
    stop = STEPS + 1 if traj.diverged_at is None else traj.diverged_at
    error = path_error(traj.xs[:stop], reference[:stop])
    if error > TOLERANCE:
        nudged = torch_path(opt, surface, start * (1 + 1e-14) + 1e-14, STEPS)
        sensitivity = path_error(nudged[:stop], reference[:stop])
        assert error <= 100 * sensitivity, (
            f"{name} {hyper} on {surface_name}: error {error:.3g} vs torch's own sensitivity {sensitivity:.3g}"
        )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_sweep_equals_separate_runs(name):
    """A batch of R runs with swept lr is exactly R separate runs."""
    cls = OPTIMIZERS[name]
    lr_spec = next((spec for spec in cls.spec if spec.name == "lr"), None)
    if lr_spec is None:
        pytest.skip(f"{name} has no lr")
    lrs = lr_spec.default * np.array([0.3, 0.6, 1.0])
    surface = gdviz.surface("rosenbrock")
    start = (-1.5, 2.0)
    batch = gdviz.run(surface, cls(lr=lrs), start=start, steps=50)
    assert batch.xs.shape == (51, 3, 2)
    for r, lr in enumerate(lrs):
        single = gdviz.run(surface, cls(lr=float(lr)), start=start, steps=50)
        np.testing.assert_array_equal(batch.xs[:, r], single.xs)
        np.testing.assert_array_equal(batch.losses[:, r], single.losses)
