"""The Lab's pure parts of Goh's closed forms (issue 14): when the stability map gets its overlay, and the
figure of the error along the eigenvectors."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import gdviz
from gdviz import landscape as L
from ui.figures.eigen import Panel, eigen_figure
from ui.figures.maps import stability_figure
from ui.lab import eigen, stability

LRS = tuple(np.geomspace(0.01, 2, 6))


def _map(name="quadratic", x=("lr", LRS), y=("momentum", (0.0, 0.5, 0.9))):
    return L.stability_map(gdviz.surface(name), "SGD", {}, x, y, steps=50)


def test_the_overlay_holds_for_plain_heavy_ball_over_lr_and_momentum_on_a_quadratic():
    m = _map()
    theory, reason = stability.theory_of_map("quadratic", ("SGD", (("lr", 0.1),)), m)
    assert reason is None and theory.lambda_max == pytest.approx(4.0)
    lr, mu = stability.stability_bound("quadratic", ("SGD", ()), m)
    np.testing.assert_allclose(lr, 0.5 * (1 + mu))
    swapped = _map(x=("momentum", (0.0, 0.5, 0.9)), y=("lr", LRS))
    mu, lr = stability.stability_bound("quadratic", ("SGD", ()), swapped)
    np.testing.assert_allclose(lr, 0.5 * (1 + mu))
    # dampening against lr at momentum 0 changes nothing: GD's vertical line 2/λmax
    damped = _map(y=("dampening", (0.0, 0.5)))
    lr, _ = stability.stability_bound("quadratic", ("SGD", (("momentum", 0.0),)), damped)
    np.testing.assert_allclose(lr, [0.5, 0.5])


@pytest.mark.parametrize(
    "surface, optimizer, axes, says",
    [
        ("rosenbrock", ("SGD", ()), None, "not a quadratic"),
        ("saddle", ("SGD", ()), None, "no minimum"),
        ("quadratic", ("Adam", ()), None, "not Adam"),
        ("quadratic", ("SGD", (("dampening", 0.5),)), None, "dampening"),
        ("quadratic", ("SGD", (("weight_decay", 0.1),)), None, "weight decay"),
        ("quadratic", ("SGD", ()), ("lr", "weight_decay"), "sweeps lr and weight_decay"),
        ("quadratic", ("SGD", (("momentum", 0.9),)), ("lr", "dampening"), "dampening"),
    ],
)
def test_no_overlay_says_why(surface, optimizer, axes, says):
    m = _map(surface) if axes is None else _map(surface, y=(axes[1], (0.0, 0.1)))
    theory, reason = stability.theory_of_map(surface, optimizer, m)
    assert theory is None and says in reason
    assert stability.stability_bound(surface, optimizer, m) is None


def test_rates_table_compares_the_optima_and_the_best_cell():
    m = _map("ill_conditioned", x=("lr", np.geomspace(0.05, 1.5, 12)), y=("momentum", np.linspace(0, 0.9, 10)))
    theory = L.quadratic_theory(gdviz.surface("ill_conditioned"))
    settings = stability.theory_settings(theory, m, m.best(), clicked=False)
    assert [s[0] for s in settings] == ["GD optimum", "momentum optimum", "best cell"]
    measured = stability.measured_rates.__wrapped__("ill_conditioned", None, tuple(s[1:] for s in settings), 400)
    rows = stability.rates_table(theory, m, settings, measured)
    assert rows[0]["predicted rate"] == rows[0]["measured rate"] == f"{theory.gd_optimal_rate:.4f}"
    assert rows[1]["predicted rate"] == f"{theory.momentum_optimal_rate:.4f}"
    assert abs(float(rows[1]["measured rate"]) - theory.momentum_optimal_rate) < 0.01
    fig = stability_figure(m, True, False, optima=[(s[1], s[2], s[0]) for s in settings[:2]] + [(9.0, 0.5, "far")])
    go.Figure(fig)
    names = [t.name for t in fig.data]
    assert "GD optimum" in names and "momentum optimum" in names and "far" not in names  # outside: not drawn


def test_eigen_figure_draws_each_component_and_its_envelope():
    theory = L.quadratic_theory(gdviz.surface("ravine"))
    run = gdviz.run(gdviz.surface("ravine"), gdviz.optimizer("SGD", lr=0.1, momentum=0.5), steps=40)
    z = theory.components(run.xs)
    z[5, 0] = 0.0  # an exact zero is a gap, not a point on the log axis
    rates = theory.component_rates(0.1, 0.5)
    fig = eigen_figure(theory.eigenvalues, [Panel("GD", z, rates), Panel("heavy ball", z[:20], rates)])
    go.Figure(fig)
    lines = [t for t in fig.data if t.name in ("λ = 0.2", "λ = 20")]
    assert len(lines) == 4 and [t.showlegend for t in lines] == [True, True, False, False]
    np.testing.assert_allclose(np.array(lines[1].y, dtype=float), np.abs(z[:, 1]), rtol=1e-5)
    assert lines[0].y[5] is None and len(lines[2].x) == 20
    envelope = next(t for t in fig.data if t.name.startswith("λ = 20: |z(0)|"))
    np.testing.assert_allclose(np.array(envelope.y, dtype=float), abs(z[0, 1]) * rates[1] ** np.arange(41), rtol=1e-5)
    with pytest.raises(ValueError, match="one rate each"):
        eigen_figure(theory.eigenvalues, [Panel("GD", z[:, :1], rates)])


def test_the_eigen_view_offers_the_positive_definite_quadratics_only():
    assert set(eigen.QUADRATIC) == {"quadratic", "ill_conditioned", "ravine", "booth", "matyas", "parabola"}
    theory = L.quadratic_theory(gdviz.surface("ill_conditioned"))
    values = {"eg.s": "ill_conditioned", "eg.at": "optimal", "eg.lr": 0.1, "eg.mu": 0.5}
    assert eigen.settings_of(values) == (
        theory.gd_optimal_lr,
        theory.momentum_optimal_lr,
        theory.momentum_optimal_beta,
    )
    assert eigen.settings_of(values | {"eg.at": "chosen"}) == (0.1, 0.1, 0.5)
