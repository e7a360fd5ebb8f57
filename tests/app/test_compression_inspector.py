"""The inspector with gradient compression: it shows c_t, the residual and DGC's momentum, the trajectory's own
numbers, and the optimizer's explanation gets the gradient that was sent."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from gdviz.optimizers.compression import COMPRESSED_GRAD, RESIDUAL, VELOCITY
from ui.playground.inspector import inspect, vec


# -- the inspector ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, hyper",
    [
        ("SGD", dict(lr=0.01, compress_topk=1)),
        ("SGD", dict(lr=0.01, compress_topk=1, error_feedback=False, weight_decay=0.1)),
        ("SGD", dict(lr=0.01, compress_topk=1, momentum_correction=0.9)),
        ("Adam", dict(lr=0.1, compress_topk=1, maximize=False, weight_decay=0.05)),
        ("AdamW", dict(lr=0.1, compress_topk=1, weight_decay=0.1)),
        ("Rprop", dict(lr=0.01, compress_topk=1)),
    ],
)
def test_inspector_shows_the_compressed_gradient_and_the_residual(name, hyper):
    surface = gdviz.surface("himmelblau")
    trajectory = gdviz.run(surface, gdviz.optimizer(name, **hyper), start=(0.5, 0.5), steps=6, noise=0.3, seed=1)
    for step in range(1, 7):
        report = inspect(trajectory, step)
        values = report.values
        assert np.array_equal(values["x_rule"], trajectory.xs[step])
        for state_name in (COMPRESSED_GRAD, RESIDUAL, VELOCITY):
            if state_name in trajectory.states:
                np.testing.assert_array_equal(values[state_name], trajectory.states[state_name][step])
        sent = trajectory.states[COMPRESSED_GRAD][step]
        assert any(r"\operatorname{top}_{1}" in line and vec(sent) in line for line in report.lines)
        if RESIDUAL in trajectory.states:
            assert any(vec(trajectory.states[RESIDUAL][step]) in line and "kept" in line for line in report.lines)
        else:
            assert any("dropped" in line for line in report.lines)
        # an optimizer's own explanation gets the gradient it was sent, c_t
        if name == "SGD":
            assert any(r"\Delta x = -\eta\, g_t" in line and vec(sent) in line for line in report.lines)
