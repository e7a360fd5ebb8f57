"""The inspector's substituted numbers are the trajectory's own numbers, for every registry optimizer and a new one."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from gdviz.optimizers.base import LR, Optimizer
from ui.playground.inspector import Inspection, display, inspect, num, vec

# settings that switch on every branch an explanation has (weight decay, momentum, Nesterov, AMSGrad, ...)
VARIANTS = {
    "SGD": [
        dict(lr=0.05),
        dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        dict(lr=0.05, momentum=0.9, nesterov=True),
    ],
    "Adagrad": [
        dict(lr=0.3),
        dict(lr=0.3, lr_decay=0.1, weight_decay=0.01, maximize=False),
        dict(lr=0.3, eps=1e-2, eps_inside_sqrt=True),
    ],
    "RMSprop": [
        dict(lr=0.01),
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01),
        dict(lr=0.01, eps=1e-2, eps_inside_sqrt=True, centered=True),
    ],
    "Adadelta": [dict(), dict(rho=0.5, weight_decay=0.1)],
    "Adam": [
        dict(lr=0.1),
        dict(lr=0.1, amsgrad=True, weight_decay=0.1),
        dict(lr=0.1, decoupled_weight_decay=True, weight_decay=0.1),
    ],
    "AdamW": [dict(lr=0.1), dict(lr=0.1, amsgrad=True)],
    "Newton": [dict(), dict(lr=0.5, damping=1.0)],
}
STEPS = 6


def _cases():
    for name in sorted(gdviz.OPTIMIZERS):
        for hyper in VARIANTS.get(name, [{}]):
            yield pytest.param(name, hyper, id=f"{name}-{'-'.join(hyper) or 'defaults'}")


def _close(a, b):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("noise", [0.0, 0.7])
@pytest.mark.parametrize("name, hyper", list(_cases()))
def test_numbers_shown_are_the_trajectory_numbers(name, hyper, noise):
    surface = gdviz.surface("six_hump_camel" if name != "Newton" else "quadratic")
    trajectory = gdviz.run(surface, gdviz.optimizer(name, **hyper), start=(-1.2, 1.0), steps=STEPS, noise=noise, seed=3)
    assert trajectory.diverged_at is None
    for step in range(1, STEPS + 1):
        report = inspect(trajectory, step)
        values = report.values
        assert _close(values["x_prev"], trajectory.xs[step - 1])
        assert _close(values["x_new"], trajectory.xs[step])
        assert _close(values["g"], trajectory.grads[step - 1])
        assert _close(values["lr"], trajectory.lrs[step - 1])
        assert _close(values["grad_exact"], surface.grad(trajectory.xs[step - 1]))
        assert _close(values["delta"], trajectory.xs[step] - trajectory.xs[step - 1])
        g = trajectory.grads[step - 1]
        moving = g != 0
        assert _close((values["effective_lr"] * g)[moving], -values["delta"][moving])
        assert np.all(np.isnan(values["effective_lr"][~moving]))
        for state_name, history in trajectory.states.items():
            if state_name in values:
                assert _close(values[state_name], history[step]), (state_name, step)
        # the step replayed through the optimizer's update lands exactly where the run went
        assert np.array_equal(values["x_rule"], trajectory.xs[step])
        if not gdviz.OPTIMIZERS[name].explanation:
            assert set(trajectory.states) <= set(values)
        assert report.lines and all(isinstance(line, str) for line in report.lines)
        assert vec(trajectory.xs[step]) in report.lines[-2]


def test_adam_bias_corrections_and_effective_lr():
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("Adam", lr=0.1), start=(-5.0, -2.0), steps=3)
    report = inspect(trajectory, 2)
    values = report.values
    assert values["bias_correction1"] == pytest.approx(1 - 0.9**2)
    assert values["bias_correction2"] == pytest.approx(1 - 0.999**2)
    assert _close(values["m_hat"], trajectory.states["exp_avg"][2] / (1 - 0.9**2))
    assert _close(values["v_hat"], trajectory.states["exp_avg_sq"][2] / (1 - 0.999**2))
    assert _close(values["effective_lr_rule"] * values["m_hat"], -values["delta"])
    assert any(r"\hat m_t" in line and num(values["m_hat"][0]) in line for line in report.lines)


def test_momentum_line_substitutes_the_previous_buffer():
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=0.1, momentum=0.9), steps=3)
    lines = inspect(trajectory, 3).lines
    previous = vec(trajectory.states["momentum_buffer"][2])
    after = vec(trajectory.states["momentum_buffer"][3])
    assert any(previous in line and after in line and r"\mu" in line for line in lines)


def test_diverged_step_is_explained_not_inspected():
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=5.0), steps=200)
    assert trajectory.diverged_at is not None
    report = inspect(trajectory, trajectory.diverged_at)
    assert isinstance(report, Inspection) and report.lines == [] and "diverged" in report.note
    assert inspect(trajectory, trajectory.diverged_at - 1).lines


def test_batched_runs_and_out_of_range_steps():
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=np.array([0.1, 0.2])), steps=4)
    second = inspect(trajectory, 99, run=1)
    assert second.step == 4 and _close(second.values["x_new"], trajectory.xs[4, 1])
    assert inspect(trajectory, 0).step == 1


def test_number_formatting():
    assert num(0) == "0" and num(0.5) == "0.5" and num(1234.5678) == "1235"
    assert num(1e-7) == r"1 \times 10^{-7}" and num(float("nan")) == r"\text{nan}"
    assert vec([1.0, -2.0]) == r"\left(1,\; -2\right)" and vec([3.0]) == "3"
    assert display(r"a \\ b").startswith(r"\begin{gathered}") and display("a") == "a"
    cases = r"\eta = \begin{cases} 1 \\ 2 \end{cases}"
    assert display(cases) == cases
    assert display(cases + r" \\ x").startswith(r"\begin{gathered}")


class _HalfStep(Optimizer):
    """A registry newcomer: no explain, no explanation."""

    name = "HalfStep"
    spec = (LR,)
    rule = r"x_t = x_{t-1} - \eta\, g_t / 2"
    state_names = ("last_step",)

    def init(self, x0, lr):
        return {"last_step": np.zeros_like(x0)}

    def update(self, x, g, state, lr, t, hess):
        step = lr * g / 2
        return x - step, {"last_step": step}


def test_a_new_optimizer_is_inspected_from_its_own_code():
    trajectory = gdviz.run(gdviz.surface("quadratic"), _HalfStep(lr=0.1), steps=3)
    report = inspect(trajectory, 2)
    assert np.array_equal(report.values["x_rule"], trajectory.xs[2])
    assert np.array_equal(report.values["last_step"], trajectory.states["last_step"][2])
    assert any(vec(trajectory.states["last_step"][1]) in line for line in report.lines)  # the state before


def test_weight_decay_line_adds_to_the_gradient_before_decay():
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=0.1, weight_decay=0.5), steps=2)
    x, g = trajectory.xs[1], trajectory.grads[1]
    line = next(line for line in inspect(trajectory, 2).lines if r"\lambda x_{t-1}" in line)
    assert line.endswith(f"= {vec(g)} + {num(0.5)} \\cdot {vec(x)} = {vec(g + 0.5 * x)}")


def test_a_swept_hyper_parameter_shows_each_runs_own_numbers():
    momentum = np.array([0.5, 0.9])
    trajectory = gdviz.run(gdviz.surface("quadratic"), gdviz.optimizer("SGD", lr=0.05, momentum=momentum), steps=3)
    for run in (0, 1):
        report = inspect(trajectory, 3, run=run)
        assert np.array_equal(report.values["x_rule"], trajectory.xs[3, run])
        assert np.array_equal(report.values["momentum_buffer"], trajectory.states["momentum_buffer"][3, run])
        assert any(rf"= {num(momentum[run])} \cdot" in line for line in report.lines)


def test_a_swept_weight_decay_shows_its_line_only_where_it_is_on():
    trajectory = gdviz.run(
        gdviz.surface("quadratic"), gdviz.optimizer("Adam", weight_decay=np.array([0.0, 0.1])), steps=2
    )
    off, on = (inspect(trajectory, 2, run=run) for run in (0, 1))
    assert not any(r"\lambda x_{t-1}" in line for line in off.lines)
    assert any(rf"+ {num(0.1)} \cdot" in line for line in on.lines)
    assert np.array_equal(on.values["x_rule"], trajectory.xs[2, 1])
