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
