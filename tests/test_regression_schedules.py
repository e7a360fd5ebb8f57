"""A schedule torch lacks still trains the regression: the engine's own init/step drive torch's optimizer,
so adding a schedule to the registry needs no change in gdviz/regression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.params import HyperParam
from gdviz.schedules.torch_base import TorchSchedule
from tests.torch_reference import torch


class InverseTimeDecay(TorchSchedule):
    """A schedule no registry holds and torch lacks: η_t = η0 / (1 + k t)."""

    name = "InverseTimeDecay"
    spec = (HyperParam("k", 0.3, minimum=0.0, ui_min=0.0, ui_max=1.0, sweepable=False, help="decay rate"),)
    formula = r"\eta_t = \eta_0 / (1 + k t)"

    def get_lr(self, own, group, initial):
        return own["base"] / (1 + self.p("k") * own["epoch"])


@pytest.mark.parametrize("schedule", [InverseTimeDecay(), InverseTimeDecay(k=0.0)])
def test_a_schedule_torch_lacks_drives_torch_with_the_engines_lrs(schedule):
    from gdviz.regression.optim import build_scheduler

    weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([weight], lr=0.5)
    scheduler = build_scheduler(schedule, optimizer, 0.5)
    seen = []
    for _ in range(25):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert np.array_equal(seen, schedule.lrs(0.5, 25))
    assert math.isclose(seen[-1], 0.5 / (1 + schedule.p("k") * 24))


# ----- a schedule's horizon is the run's length in the schedule's own steps -----------------------------
# the real torch scheduler for each schedule that declares a horizon, planned for ``steps`` steps
TORCH_WITH_HORIZON = {
    "CosineAnnealingLR": lambda opt, steps: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps),
    "OneCycleLR": lambda opt, steps: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=steps),
    "PolynomialLR": lambda opt, steps: torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=steps),
}
SHORT_HORIZON = {"CosineAnnealingLR": {"T_max": 3}, "OneCycleLR": {"total_steps": 7, "max_lr": 0.05}}


def torch_lrs(name: str, steps: int, lr: float) -> list[float]:
    weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([weight], lr=lr)
    scheduler = TORCH_WITH_HORIZON[name](optimizer, steps)
    seen = []
    for step in range(steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if step < steps - 1:  # the run's last lr is used, never stepped past (OneCycleLR would refuse)
            scheduler.step()
    return seen


def test_every_schedule_with_a_horizon_has_a_torch_reference():
    import gdviz

    assert {name for name, cls in gdviz.SCHEDULES.items() if cls.horizon} == set(TORCH_WITH_HORIZON)


@pytest.mark.parametrize("every", ["update", "epoch"])
@pytest.mark.parametrize("name", sorted(TORCH_WITH_HORIZON))
def test_the_horizon_follows_the_run_and_the_lrs_are_torchs(name, every):
    """The link /regression?sched=OneCycleLR&every=update&mode=SGD&epochs=5 failed: total_steps was the
    epochs (10) while the schedule stepped once per update ("Tried to step 11 times")."""
    from gdviz import regression as reg

    X, y = reg.make_data(100, seed=0)
    schedule = (name, SHORT_HORIZON.get(name, {}))  # a horizon shorter than the run: fit_horizon replaces it
    result = reg.train(
        X, y, "SGD", lr=0.01, batch_size=10, epochs=5, schedule=schedule, schedule_step=every,
        fit_horizon=True, trace_points=1000, standardize=True,
    )  # fmt: skip
    assert result.complete
    steps = result.updates if every == "update" else len(result.losses)
    assert steps == (50 if every == "update" else 5)
    seen = result.trace_lrs[:steps] if every == "update" else result.lrs
    np.testing.assert_allclose(seen, torch_lrs(name, steps, 0.01), rtol=1e-12, atol=0)


def test_the_horizon_of_a_run_cut_by_the_cpu_budget_is_the_updates_it_runs():
    from gdviz import regression as reg

    X, y = reg.make_data(2000, seed=0)
    schedule = ("OneCycleLR", {"total_steps": 10, "max_lr": 0.05})
    result = reg.train(
        X, y, "SGD", lr=0.01, batch_size=1, epochs=50, schedule=schedule, schedule_step="update",
        fit_horizon=True, max_seconds=0.5, trace_points=100_000, standardize=True,
    )  # fmt: skip
    assert 1 < result.updates < 100_000 and result.diverged_at is None and not result.complete
    np.testing.assert_allclose(result.trace_lrs[: result.updates], torch_lrs("OneCycleLR", result.updates, 0.01))


@pytest.mark.parametrize("every, unit", [("update", "update"), ("epoch", "epoch")])
def test_a_cycle_shorter_than_the_run_is_refused_before_training(every, unit):
    """Not torch's "Tried to step 4 times" halfway through: the run is refused before it starts."""
    from gdviz import regression as reg

    X, y = reg.make_data(100, seed=0)
    schedule = ("OneCycleLR", {"total_steps": 3, "max_lr": 0.05})
    with pytest.raises(ValueError, match=rf"OneCycleLR's cycle is 3 steps .* 5 times \(once per {unit}\).*at least 5"):
        epochs = 1 if every == "update" else 5  # 5 scheduler steps either way (batches of 20)
        reg.train(X, y, "SGD", lr=0.01, batch_size=20, epochs=epochs, schedule=schedule, schedule_step=every)
